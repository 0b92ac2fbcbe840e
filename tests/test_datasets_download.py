"""Installing CIFAR-10: HTTP download (checksum, resume, retry), local archives and
folders, and the guarantee that a failed run leaves nothing a later load would trust."""
import errno
import hashlib
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib.datasets import (ChecksumError, CorruptDatasetError, DatasetError,
                                 DatasetNotFoundError, DownloadError, NoSpaceError,
                                 download_cifar10, load_cifar10)
from course_lib.datasets import archive as archive_module
from course_lib.datasets import fetch as fetch_module
from course_lib.datasets.cli import main as cli_main
from tests.support.cifar_files import (http_server, pack_archive, tiny_archive,  # noqa: F401
                                       write_tiny_cifar)

FAST = dict(backoff=0.01, progress=False, log=lambda message: None)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "default-data-dir"))
    monkeypatch.delenv("COURSE_DATASET", raising=False)
    monkeypatch.delenv("CIFAR10_SOURCE", raising=False)


def _part(tmp_path):
    """The .part file a killed download into tmp_path/data would have left."""
    (tmp_path / "data").mkdir(exist_ok=True)
    return tmp_path / "data" / "cifar-10-python.tar.gz.part"


def assert_installed(root, arrays):
    for got, want in zip(load_cifar10(root), arrays):
        np.testing.assert_array_equal(got, want)
    assert_no_leftovers(root, allow_installed=True)


def assert_no_leftovers(root, allow_installed=False):
    """Only a complete install may remain: no .part, staging folder or archive."""
    names = sorted(p.name for p in Path(root).iterdir()) if Path(root).exists() else []
    assert names == (["cifar-10-batches-py"] if allow_installed else []), names


# --- over HTTP ---------------------------------------------------------------------------

def test_download_with_matching_md5_installs_and_cleans_up(tmp_path, http_server, tiny_archive):
    archive, data, md5, arrays = tiny_archive
    http_server.files["/c.tar.gz"] = data
    root = tmp_path / "data"
    folder = download_cifar10(root, source=http_server.url("/c.tar.gz"), md5=md5, **FAST)
    assert folder == root / "cifar-10-batches-py"
    assert (folder / "cifar10_cache.json").exists()  # the cache is built before the move
    assert_installed(root, arrays)


def test_wrong_md5_leaves_nothing_behind(tmp_path, http_server, tiny_archive):
    http_server.files["/c.tar.gz"] = tiny_archive[1]
    root = tmp_path / "data"
    with pytest.raises(ChecksumError, match="cifar-10-python.tar.gz.part has MD5") as info:
        download_cifar10(root, source=http_server.url("/c.tar.gz"), md5="0" * 32, **FAST)
    assert tiny_archive[2] in str(info.value) and "deleted" in str(info.value)
    assert_no_leftovers(root)


def test_truncated_archive_without_md5_is_rejected(tmp_path, http_server, tiny_archive):
    http_server.files["/c.tar.gz"] = tiny_archive[1][: len(tiny_archive[1]) // 2]
    root = tmp_path / "data"
    with pytest.raises(CorruptDatasetError, match="not a complete CIFAR-10 archive"):
        download_cifar10(root, source=http_server.url("/c.tar.gz"), **FAST)
    assert_no_leftovers(root)


def test_dropped_connection_is_resumed_with_a_range_request(tmp_path, http_server, tiny_archive):
    _, data, md5, arrays = tiny_archive
    http_server.files["/c.tar.gz"] = data
    http_server.cut_after = [1000]
    download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), md5=md5, **FAST)
    assert [r for _, r in http_server.requests] == [None, "bytes=1000-"]
    assert_installed(tmp_path / "data", arrays)


def test_part_file_of_a_killed_run_is_resumed(tmp_path, http_server, tiny_archive):
    _, data, md5, arrays = tiny_archive
    http_server.files["/c.tar.gz"] = data
    _part(tmp_path).write_bytes(data[:777])
    download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), md5=md5, **FAST)
    assert http_server.requests == [("/c.tar.gz", "bytes=777-")]
    assert_installed(tmp_path / "data", arrays)


def test_stale_part_file_from_another_download_is_replaced(tmp_path, http_server, tiny_archive):
    _, data, md5, arrays = tiny_archive
    http_server.files["/c.tar.gz"] = data
    _part(tmp_path).write_bytes(b"x" * 500)
    download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), md5=md5, **FAST)
    assert [r for _, r in http_server.requests] == ["bytes=500-", None]
    assert_installed(tmp_path / "data", arrays)


def test_server_ignoring_range_restarts_from_zero(tmp_path, http_server, tiny_archive):
    _, data, md5, arrays = tiny_archive
    http_server.files["/c.tar.gz"] = data
    http_server.honour_range = False
    _part(tmp_path).write_bytes(data[:300])
    download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), md5=md5, **FAST)
    assert_installed(tmp_path / "data", arrays)


def test_transient_server_errors_are_retried(tmp_path, http_server, tiny_archive):
    _, data, md5, arrays = tiny_archive
    http_server.files["/c.tar.gz"] = data
    http_server.statuses = [500, 503]
    messages = []
    download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), md5=md5,
                     **{**FAST, "log": messages.append})
    assert len(http_server.requests) == 3
    assert any("HTTP 500" in m and "retrying" in m for m in messages)
    assert_installed(tmp_path / "data", arrays)


def test_permanent_http_error_is_not_retried(tmp_path, http_server):
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        download_cifar10(tmp_path / "data", source=http_server.url("/missing.tar.gz"), **FAST)
    assert http_server.url("/missing.tar.gz") in str(info.value)
    assert len(http_server.requests) == 1
    assert_no_leftovers(tmp_path / "data")


def test_retries_run_out_with_a_clear_error(tmp_path, http_server, tiny_archive):
    http_server.files["/c.tar.gz"] = tiny_archive[1]
    http_server.statuses = [503] * 10
    with pytest.raises(DownloadError, match="failed after 3 attempts"):
        download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), retries=2, **FAST)
    assert len(http_server.requests) == 3


def test_full_disk_during_download_removes_the_part_file(tmp_path, http_server, tiny_archive,
                                                         monkeypatch):
    http_server.files["/c.tar.gz"] = tiny_archive[1]

    class FullDisk:
        def __init__(self, path, mode):
            self.file = open(path, mode)

        def write(self, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.file.close()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()
    monkeypatch.setattr(fetch_module, "open", FullDisk, raising=False)
    with pytest.raises(NoSpaceError, match="no space left.*cifar-10-python.tar.gz.part"):
        download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), **FAST)
    assert_no_leftovers(tmp_path / "data")


# --- local archives and folders ----------------------------------------------------------

def test_local_archive_with_md5(tmp_path, tiny_archive):
    archive, _, md5, arrays = tiny_archive
    download_cifar10(tmp_path / "data", source=archive, md5=md5, **FAST)
    assert_installed(tmp_path / "data", arrays)
    assert archive.exists()  # the user's own archive is never deleted


def test_local_archive_with_wrong_md5_is_kept_and_nothing_installed(tmp_path, tiny_archive):
    archive = tiny_archive[0]
    with pytest.raises(ChecksumError, match="left untouched"):
        download_cifar10(tmp_path / "data", source=archive, md5="f" * 32, **FAST)
    assert archive.exists()
    assert_no_leftovers(tmp_path / "data")


def test_file_url_and_cifar10_source_variable(tmp_path, tiny_archive, monkeypatch):
    archive, _, _, arrays = tiny_archive
    monkeypatch.setenv("CIFAR10_SOURCE", archive.as_uri())
    messages = []
    download_cifar10(tmp_path / "data", **{**FAST, "log": messages.append})
    assert any("no MD5 given" in m and "structure" in m for m in messages)
    assert_installed(tmp_path / "data", arrays)


@pytest.mark.parametrize("point_at", ["parent", "batches"])
def test_local_folder_source(tmp_path, point_at):
    folder, arrays = write_tiny_cifar(tmp_path / "src")
    source = folder.parent if point_at == "parent" else folder
    download_cifar10(tmp_path / "data", source=source, **FAST)
    assert_installed(tmp_path / "data", arrays)


def test_folder_without_batches_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorruptDatasetError, match="lacks data_batch_1"):
        download_cifar10(tmp_path / "data", source=tmp_path / "empty", **FAST)
    assert_no_leftovers(tmp_path / "data")


def test_malformed_md5_is_refused_before_anything_happens(tmp_path, tiny_archive):
    with pytest.raises(DatasetError, match="not an MD5 checksum"):
        download_cifar10(tmp_path / "data", source=tiny_archive[0], md5="abc", **FAST)
    assert_no_leftovers(tmp_path / "data")


def test_missing_source_is_explained(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        download_cifar10(tmp_path / "data", source=tmp_path / "nope.tar.gz", **FAST)


def test_archive_without_a_batch_is_rejected(tmp_path):
    folder, _ = write_tiny_cifar(tmp_path / "src")
    (folder / "data_batch_5").unlink()
    archive = pack_archive(folder, tmp_path / "partial.tar.gz")
    with pytest.raises(CorruptDatasetError, match="lacks data_batch_5"):
        download_cifar10(tmp_path / "data", source=archive, **FAST)
    assert_no_leftovers(tmp_path / "data")


def test_corrupted_byte_in_archive_is_caught(tmp_path, tiny_archive):
    data = bytearray(tiny_archive[1])
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    with pytest.raises(CorruptDatasetError):
        download_cifar10(tmp_path / "data", source=damaged, **FAST)
    assert_no_leftovers(tmp_path / "data")


def test_archive_members_cannot_escape_the_data_folder(tmp_path):
    folder, arrays = write_tiny_cifar(tmp_path / "src")
    archive = pack_archive(folder, tmp_path / "evil.tar.gz",
                           extra_members=[("../../escaped.txt", b"gotcha")])
    download_cifar10(tmp_path / "a" / "b" / "data", source=archive, **FAST)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert_installed(tmp_path / "a" / "b" / "data", arrays)


def test_foreign_pickle_in_archive_is_refused(tmp_path):
    folder, _ = write_tiny_cifar(tmp_path / "src")
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": print}, protocol=2))
    archive = pack_archive(folder, tmp_path / "foreign.tar.gz")
    with pytest.raises(DatasetError) as info:
        download_cifar10(tmp_path / "data", source=archive, **FAST)
    assert str(info.value).startswith(f"{archive} is not a usable CIFAR-10 copy")
    assert "batches.meta is not a CIFAR-10 batch" in str(info.value)
    assert "print" in str(info.value) and "incomplete" not in str(info.value)
    assert_no_leftovers(tmp_path / "data")


def test_full_disk_while_unpacking_removes_the_staging_folder(tmp_path, tiny_archive,
                                                              monkeypatch):
    real_open = open

    def open_on_full_disk(path, mode="r", *args, **kwargs):
        if "w" in mode and "incomplete" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *args, **kwargs)
    monkeypatch.setattr(archive_module, "open", open_on_full_disk, raising=False)
    with pytest.raises(NoSpaceError, match="Free some disk space"):
        download_cifar10(tmp_path / "data", source=tiny_archive[0], **FAST)
    assert_no_leftovers(tmp_path / "data")


def test_leftovers_of_a_killed_install_are_removed_next_time(tmp_path, tiny_archive):
    root = tmp_path / "data"
    dead = root / ".cifar-10-batches-py.incomplete-999999999-abc"
    dead.mkdir(parents=True)
    (dead / "data_batch_1").write_bytes(b"half")
    download_cifar10(root, source=tiny_archive[0], **FAST)
    assert_installed(root, tiny_archive[3])


def test_existing_install_is_kept_unless_forced(tmp_path, tiny_archive):
    root = tmp_path / "data"
    download_cifar10(root, source=tiny_archive[0], **FAST)
    messages = []
    download_cifar10(root, source=tmp_path / "does-not-matter", log=messages.append)
    assert "already installed" in messages[0]
    other, other_arrays = write_tiny_cifar(tmp_path / "other-src", seed=1)
    download_cifar10(root, source=other, force=True, **FAST)
    assert_installed(root, other_arrays)


def test_keep_archive(tmp_path, http_server, tiny_archive):
    http_server.files["/c.tar.gz"] = tiny_archive[1]
    download_cifar10(tmp_path / "data", source=http_server.url("/c.tar.gz"), keep_archive=True,
                     **FAST)
    kept = tmp_path / "data" / "cifar-10-python.tar.gz"
    assert hashlib.md5(kept.read_bytes()).hexdigest() == tiny_archive[2]


# --- the command line --------------------------------------------------------------------

def test_cli_download_and_info(tmp_path, tiny_archive, capsys):
    root = tmp_path / "data"
    assert cli_main(["download", "cifar10", "--dir", str(root), "--source",
                     str(tiny_archive[0]), "--md5", tiny_archive[2], "--quiet"]) == 0
    assert "installed at" in capsys.readouterr().out
    assert cli_main(["info", "--dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "cache up to date" in out and f"CIFAR-10 from {root / 'cifar-10-batches-py'}" in out


def test_cli_reports_errors_with_exit_status_1(tmp_path, capsys):
    assert cli_main(["download", "cifar10", "--dir", str(tmp_path),
                     "--source", str(tmp_path / "absent.tar.gz")]) == 1
    assert capsys.readouterr().err.startswith("error: the CIFAR-10 source")


def test_get_datasets_script_honours_the_environment(tmp_path, tiny_archive, repo_root):
    env = dict(os.environ, COURSE_DATA_DIR=str(tmp_path / "data"),
               CIFAR10_SOURCE=str(tiny_archive[0]), PYTHON=sys.executable)
    result = subprocess.run(["bash", str(repo_root / "datasets" / "get_datasets.sh"), "--quiet"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert_installed(tmp_path / "data", tiny_archive[3])

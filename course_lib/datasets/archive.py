"""Check and unpack a CIFAR-10 archive (or copy a batches folder) into a staging folder."""
from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, cast

from .errors import DOWNLOAD_COMMAND, ChecksumError, CorruptDatasetError, DatasetError
from .fetch import is_no_space, no_space_error
from .layout import META_FILE, OPTIONAL_FILES, REQUIRED_FILES
from .paths import StrPath
from .safe_pickle import load_array_pickle

_WANTED = set(REQUIRED_FILES) | set(OPTIONAL_FILES)


def md5_of_file(path: StrPath, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex MD5 of the file at ``path``."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path: StrPath, expected: str, delete_on_mismatch: bool) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has MD5 ``expected``.

    Parameters
    ----------
    delete_on_mismatch : bool
        Delete the file before raising (True for files this package downloaded; never for
        a user's own archive).
    """
    actual = md5_of_file(path)
    if actual == expected.lower():
        return
    if delete_on_mismatch:
        Path(path).unlink(missing_ok=True)
        fate = "it was deleted. Run the command again to download it afresh; if this repeats, " \
               "the server (or a proxy) serves a different file: get the archive by other " \
               "means and pass it with --source PATH"
    else:
        fate = "it was left untouched. Get an intact copy (or pass the right --md5)"
    raise ChecksumError(f"{path} has MD5 {actual}, expected {expected}: {fate}.")


def _copy_stream(source: IO[bytes], target_path: Path) -> None:
    """Copy the binary stream ``source`` to ``target_path``; a full disk -> NoSpaceError."""
    try:
        with open(target_path, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    except OSError as exc:
        if is_no_space(exc):
            raise no_space_error(target_path, exc, "unpacking CIFAR-10") from exc
        raise


def _member_file_name(member: tarfile.TarInfo) -> str | None:
    """The batch file a tar member holds, or None for members to skip.

    Only regular files named like a CIFAR-10 file are taken, and only by their base name,
    so that no member (``../x``, ``/etc/x``, links) can write outside the staging folder.
    """
    if not member.isfile():
        return None
    name = PurePosixPath(member.name).name
    return name if name in _WANTED else None


def _corrupt_archive(archive: StrPath, problem: str) -> CorruptDatasetError:
    return CorruptDatasetError(
        f"{archive} is not a complete CIFAR-10 archive ({problem}). If it was downloaded, "
        f"delete it and download it again (`{DOWNLOAD_COMMAND} --force`); if it is your own "
        "copy, get an intact one.")


def extract_archive(archive: StrPath, staging: StrPath) -> None:
    """Unpack the CIFAR-10 files of the ``.tar.gz`` at ``archive`` into the folder ``staging``.

    The whole gzip stream is read, so its CRC catches corruption anywhere in the file.

    Raises
    ------
    CorruptDatasetError
        Truncated or damaged archive, or one that lacks a CIFAR-10 file.
    NoSpaceError
        The disk filled up while unpacking (the caller removes ``staging``).
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = _member_file_name(member)
                if name is not None:
                    # a regular file (see _member_file_name) always has a stream
                    _copy_stream(cast(IO[bytes], tar.extractfile(member)), Path(staging) / name)
            # Reading to the end of the gzip stream makes gzip check its CRC and length.
            while tar.fileobj.read(1 << 20):
                pass
    except DatasetError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _corrupt_archive(archive, f"{type(exc).__name__}: {exc}") from exc
    missing = [name for name in REQUIRED_FILES if not (Path(staging) / name).is_file()]
    if missing:
        raise _corrupt_archive(archive, "it lacks " + ", ".join(missing))


def copy_folder(folder: StrPath, staging: StrPath) -> None:
    """Copy the CIFAR-10 files of the batches folder ``folder`` into ``staging``.

    Raises
    ------
    CorruptDatasetError
        A required file is missing from ``folder``.
    NoSpaceError
        The disk filled up while copying.
    """
    folder = Path(folder)
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise CorruptDatasetError(
            f"{folder} is not a CIFAR-10 batches folder: it lacks {', '.join(missing)}. Point "
            "--source (or CIFAR10_SOURCE) at the folder holding data_batch_1..5, test_batch "
            "and batches.meta, or at the official .tar.gz.")
    for name in REQUIRED_FILES + tuple(n for n in OPTIONAL_FILES if (folder / n).is_file()):
        with open(folder / name, "rb") as source:
            _copy_stream(source, Path(staging) / name)


def check_meta(staging: StrPath) -> None:
    """Check that ``batches.meta`` in ``staging`` is a safe pickle naming the 10 classes."""
    path = Path(staging) / META_FILE
    try:
        meta = load_array_pickle(path)
    except DatasetError:
        raise
    except Exception as exc:
        raise CorruptDatasetError(
            f"{path} could not be unpickled ({type(exc).__name__}: {exc}): get an intact "
            f"copy of CIFAR-10 (`{DOWNLOAD_COMMAND} --force`).") from exc
    if isinstance(meta, dict):
        meta = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in meta.items()}
    names = meta.get("label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or len(names) != 10:
        raise CorruptDatasetError(
            f"{path} does not list 10 label_names: this is not CIFAR-10 (CIFAR-100 has a "
            f"different layout). Get CIFAR-10 (`{DOWNLOAD_COMMAND} --force`).")

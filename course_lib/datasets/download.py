"""Install CIFAR-10: fetch or locate the archive, verify it, unpack it, move it into place.

Nothing a later load would trust appears until everything has been verified: the download
goes to ``cifar-10-python.tar.gz.part``, unpacking goes to a hidden staging folder next to
the destination, every batch is decoded and checked there (and the ``.npy`` cache built),
and only then is the staging folder renamed to ``cifar-10-batches-py`` (an atomic rename on
one file system). A failed, corrupt or killed run leaves at most a ``.part`` file (which the
next run resumes) or a staging folder (which the next run deletes).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .archive import check_meta, copy_folder, extract_archive, verify_md5
from .cache import ArrayCache, source_signature
from .cifar10 import _CACHE_PREFIX, decode_batches
from .errors import (DOWNLOAD_COMMAND, ChecksumError, CorruptDatasetError, DatasetError,
                     DatasetNotFoundError, NoSpaceError)
from .fetch import fetch_url, is_no_space, no_space_error
from .layout import (ARCHIVE_NAME, FOLDER_NAME, OFFICIAL_MD5, OFFICIAL_SIZE, OFFICIAL_URL,
                     TEST_BATCH, TRAIN_BATCHES)
from .paths import StrPath, batches_dir, data_dir, missing_batches

_STAGING_PREFIX = f".{FOLDER_NAME}.incomplete-"
_TRASH_PREFIX = f".{FOLDER_NAME}.old-"
#: Unpacked batches plus their .npy cache take about this many times the archive's size.
_SPACE_FACTOR = 3.2


def resolve_source(source: StrPath | None = None) -> tuple[str, str | Path]:
    """Say what kind of source to install from.

    Parameters
    ----------
    source : str or Path, optional
        An ``http(s)://`` URL, a ``file://`` URL, a local ``.tar.gz`` archive, or a folder in
        the official layout (the batches folder itself or its parent). Default:
        ``$CIFAR10_SOURCE``, else the official URL.

    Returns
    -------
    kind : {"url", "archive", "folder"}
    location : str or Path
        The URL, the archive file, or the batches folder.
    """
    if source is None:
        source = os.environ.get("CIFAR10_SOURCE", "").strip() or OFFICIAL_URL
    source = str(source)
    scheme = urllib.parse.urlparse(source).scheme.lower()
    if scheme in ("http", "https"):
        return "url", source
    if scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(source).path))
    elif len(scheme) > 1:  # (a one-letter "scheme" is a Windows drive)
        raise DatasetError(f"cannot download from {source}: only http(s)://, file:// URLs and "
                           "local paths are supported as --source (or CIFAR10_SOURCE).")
    else:
        path = Path(source).expanduser()
    if path.is_file():
        return "archive", path
    if path.is_dir():
        return "folder", path / FOLDER_NAME if (path / FOLDER_NAME).is_dir() else path
    raise DatasetNotFoundError(
        f"the CIFAR-10 source {path} does not exist. Pass --source (or set CIFAR10_SOURCE "
        f"to) an existing {ARCHIVE_NAME}, a cifar-10-batches-py folder or a URL; unset it to "
        "download from the official site.")


def _remove_leftovers(root: Path) -> None:
    """Delete staging folders of runs that died, and trash of earlier ``--force`` runs."""
    for path in root.glob(f".{FOLDER_NAME}.*-*"):
        if not path.name.startswith((_STAGING_PREFIX, _TRASH_PREFIX)):
            continue
        pid = path.name.split("-")[-2] if path.name.startswith(_STAGING_PREFIX) else ""
        if pid.isdigit() and int(pid) != os.getpid() and _process_alive(int(pid)):
            continue  # another install is running right now
        shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _check_free_space(root: Path, needed_bytes: int) -> None:
    free = shutil.disk_usage(root).free
    if free < needed_bytes:
        raise NoSpaceError(
            f"not enough free space in {root}: installing CIFAR-10 needs about "
            f"{needed_bytes / 2**20:.0f} MiB, {free / 2**20:.0f} MiB are free. Free some space "
            "or choose another disk with --dir DIR (or COURSE_DATA_DIR).")


def _download(url: str, root: Path, md5: str | None, retries: int, backoff: float, timeout: float,
              progress: bool, log: Callable[[str], object]) -> Path:
    """Fetch ``url`` into ``root/<archive>.part``, verify it, return its path."""
    part = root / (ARCHIVE_NAME + ".part")
    log(f"downloading {url} to {part}" + (" (resuming)" if part.exists() else ""))
    resumed = fetch_url(url, part, retries=retries, backoff=backoff, timeout=timeout,
                        progress=progress, log=log)
    if md5 is None:
        return part
    try:
        verify_md5(part, md5, delete_on_mismatch=True)
    except ChecksumError:
        if not resumed:
            raise
        # The bytes kept from an earlier run may belong to another file: start afresh once.
        log(f"{part} failed its checksum after resuming; downloading it afresh")
        fetch_url(url, part, retries=retries, backoff=backoff, timeout=timeout,
                  progress=progress, log=log)
        verify_md5(part, md5, delete_on_mismatch=True)
    log(f"MD5 {md5} verified")
    return part


def _stage(kind: str, location: StrPath, staging: Path, md5: str | None,
           log: Callable[[str], object]) -> tuple[int, int]:
    """Fill ``staging`` with verified batches and their cache."""
    if kind == "folder":
        copy_folder(location, staging)
    else:
        if md5 is not None and kind == "archive":
            verify_md5(location, md5, delete_on_mismatch=False)
            log(f"MD5 {md5} verified")
        extract_archive(location, staging)
    if md5 is None:
        log(f"no MD5 given for {location}: checked its structure instead (every batch is "
            "decoded and validated); pass --md5 to verify a checksum")
    try:
        check_meta(staging)
        arrays = decode_batches(staging)
    except CorruptDatasetError as exc:
        # Name the file as it is in the source: the staging copy is about to be deleted.
        problem = str(exc).replace(f"{staging}{os.sep}", "")
        raise type(exc)(f"{location} is not a usable CIFAR-10 copy, so nothing was "
                        f"installed: {problem}") from exc
    try:
        ArrayCache(staging, _CACHE_PREFIX).store(
            arrays, source_signature(staging, TRAIN_BATCHES + (TEST_BATCH,)))
    except OSError as exc:
        if is_no_space(exc):
            raise no_space_error(staging, exc, "writing the .npy cache") from exc
        raise
    return len(arrays["y_train"]), len(arrays["y_test"])


def _move_into_place(staging: Path, dest: Path) -> None:
    """Rename ``staging`` to ``dest``; an existing ``dest`` is swapped out and deleted."""
    if dest.exists():
        trash = dest.with_name(f"{_TRASH_PREFIX}{os.getpid()}-{os.urandom(4).hex()}")
        os.rename(dest, trash)
        os.rename(staging, dest)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(staging, dest)


def download_cifar10(root: StrPath | None = None, source: StrPath | None = None, md5: str | None = None,
                     force: bool = False, keep_archive: bool = False, retries: int = 5,
                     backoff: float = 1.0, timeout: float = 60.0, progress: bool = True,
                     log: Callable[[str], object] = print) -> Path:
    """Download (or copy) CIFAR-10, verify it and install it under ``root``.

    Parameters
    ----------
    root : str or Path, optional
        The data directory; the batches go to ``root/cifar-10-batches-py``. Default:
        ``$COURSE_DATA_DIR``, else ``~/.cache/nnfs-course``.
    source : str or Path, optional
        See :func:`resolve_source`; default ``$CIFAR10_SOURCE``, else the official URL.
    md5 : str, optional
        Expected MD5 of the archive; default for the official URL: the official MD5.
        Other sources without ``md5`` get a structure check instead (every batch decoded
        and validated), and the log says so.
    force : bool
        Reinstall even when a copy is already there (the old copy is replaced atomically).
    keep_archive : bool
        Keep the downloaded archive as ``root/cifar-10-python.tar.gz``.
    retries, backoff, timeout, progress
        See :func:`course_lib.datasets.fetch.fetch_url`.
    log : callable
        Receives one-line progress messages (default ``print``).

    Returns
    -------
    Path
        The installed batches folder.

    Raises
    ------
    DatasetError
        Any failure; the subclass says which (:class:`DownloadError`, :class:`ChecksumError`,
        :class:`CorruptDatasetError`, :class:`NoSpaceError`, :class:`DatasetNotFoundError`)
        and the message names the file and the fix.
    """
    root = data_dir(root)
    dest = batches_dir(root)
    root = dest.parent
    if dest.is_dir() and not force:
        missing = missing_batches(dest)
        if not missing:
            log(f"CIFAR-10 is already installed at {dest} (use --force to reinstall)")
            return dest
        raise DatasetError(f"{dest} exists but lacks {', '.join(missing)}: run "
                           f"`{DOWNLOAD_COMMAND} --force` to replace it.")
    if md5 is not None and not re.fullmatch(r"[0-9a-fA-F]{32}", md5):
        raise DatasetError(f"--md5 {md5!r} is not an MD5 checksum (32 hexadecimal digits).")
    kind, location = resolve_source(source)
    if md5 is None and kind == "url" and location == OFFICIAL_URL:
        md5 = OFFICIAL_MD5
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the data folder {root} ({exc.strerror or exc}): "
                           "choose another with --dir DIR (or COURSE_DATA_DIR).") from exc
    _remove_leftovers(root)
    if kind == "url" and location == OFFICIAL_URL:
        _check_free_space(root, int(OFFICIAL_SIZE * _SPACE_FACTOR))
    elif kind == "archive":
        _check_free_space(root, int(Path(location).stat().st_size * (_SPACE_FACTOR - 1)))

    archive = None
    if kind == "url":
        archive = _download(str(location), root, md5, retries, backoff, timeout, progress, log)
    staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=root))
    os.chmod(staging, 0o755)  # mkdtemp makes it private; the installed data is readable by all
    installed = False
    try:
        log(f"unpacking into {staging}")
        num_train, num_test = _stage("archive" if archive else kind, archive or location,
                                     staging, None if archive else md5, log)
        _move_into_place(staging, dest)
        installed = True
    finally:
        if not installed:
            shutil.rmtree(staging, ignore_errors=True)
        if archive is not None:
            if installed and keep_archive:
                os.replace(archive, root / ARCHIVE_NAME)
            elif installed or md5 is None:
                # A verified download is kept after a failed unpack so that a rerun (after
                # freeing space, say) need not download again; an unverified one is not.
                archive.unlink(missing_ok=True)
    log(f"CIFAR-10 installed at {dest}: {num_train} training and {num_test} test images")
    return dest

"""Read files a student controls: regular files only, bounded size, bounded time.

Everything the grader reads from a submission before the sandbox takes over (unpacking,
the notebook checks, the fingerprint) goes through here, in the trusted grading process
and, for the fingerprint, in the batch's main process. A submission may hold a symlink to
``/proc/kmsg`` or to the hidden tests, a FIFO that blocks any reader forever, a device, a
file of many gigabytes or a folder of a million entries. So:

- :func:`read_regular_file` opens with ``O_NOFOLLOW | O_NONBLOCK`` (a symlink as the last
  component fails, a FIFO or device does not block), then ``fstat``-checks that what was
  opened is a regular file, and reads at most ``max_bytes``;
- :func:`walk_regular_files` walks a folder without following symlinks, yields regular
  files only, with caps on entries and depth;
- a :class:`Deadline` is checked between files and chunks, so the total time is bounded
  even when each step is legal.

Errors are :class:`UnsafeFile` (with a message a student can act on); callers turn them
into a per-submission error or finding.
"""
import errno
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

DEFAULT_MAX_BYTES = 64 * 2**20
MAX_WALK_ENTRIES = 20000
MAX_WALK_DEPTH = 32
CHUNK = 1 << 20


class UnsafeFile(Exception):
    """A file the grader refuses to read (link, device, FIFO, too large, too slow)."""


class TimeLimitExceeded(UnsafeFile):
    """A :class:`Deadline` passed (the whole step stops, not just one file)."""


class Deadline:
    """A point in (monotonic) time after which :meth:`check` raises :class:`TimeLimitExceeded`.

    Parameters
    ----------
    seconds : float or None
        Time from now; None never expires.
    what : str
        Words for the message, e.g. ``"checking the notebooks"``.
    """

    def __init__(self, seconds: float | None, what: str = "reading the submission") -> None:
        self.seconds = seconds
        self.what = what
        self.expires = None if seconds is None else time.monotonic() + seconds

    def check(self) -> None:
        if self.expires is not None and time.monotonic() > self.expires:
            raise TimeLimitExceeded(f"{self.what} took longer than {self.seconds:g} s and was "
                                    "stopped; remove large or unusual files (datasets, outputs, "
                                    "links) from the submission")


NO_DEADLINE = Deadline(None)


def open_regular_file(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading if it is a regular file that is not a symlink.

    Returns
    -------
    (int, os.stat_result)
        A file descriptor (the caller closes it) and its ``fstat``.

    Raises
    ------
    UnsafeFile
        A symlink, FIFO, device, socket or folder.
    FileNotFoundError
        No such file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(f"{Path(path).name} is a symbolic link; submit the file itself") \
                from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise UnsafeFile(f"{Path(path).name} is not a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{Path(path).name} is not a regular file (a device, pipe, socket "
                             "or folder); submit ordinary files only")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _chunks(path: str | os.PathLike[str], max_bytes: int, deadline: Deadline) -> Iterator[bytes]:
    """The bytes of a regular, non-symlink file, chunk by chunk, checking the deadline
    before each read and refusing (:class:`UnsafeFile`) past ``max_bytes``."""
    fd, info = open_regular_file(path)
    try:
        if info.st_size > max_bytes:
            raise UnsafeFile(_too_large(path, max_bytes))
        total = 0
        while True:
            deadline.check()
            chunk = os.read(fd, min(CHUNK, max_bytes + 1 - total))
            if not chunk:
                return
            total += len(chunk)
            if total > max_bytes:                     # grew while we read it
                raise UnsafeFile(_too_large(path, max_bytes))
            yield chunk
    finally:
        os.close(fd)


def read_regular_file(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES,
                      deadline: Deadline = NO_DEADLINE) -> bytes:
    """The bytes of a regular, non-symlink file of at most ``max_bytes``.

    Raises
    ------
    UnsafeFile
        Not a regular file, larger than ``max_bytes``, or the deadline passed.
    OSError
        Missing or unreadable.
    """
    return b"".join(_chunks(path, max_bytes, deadline))


def hash_regular_file(hasher: "hashlib._Hash", path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES,
                      deadline: Deadline = NO_DEADLINE) -> int:
    """Feed a regular file's size and bytes to ``hasher`` chunk by chunk; return its size."""
    size = 0
    for chunk in _chunks(path, max_bytes, deadline):
        hasher.update(chunk)
        size += len(chunk)
    return size


def _too_large(path: str | os.PathLike[str], max_bytes: int) -> str:
    return (f"{Path(path).name} is larger than {max_bytes / 2**20:.3g} MiB; leave datasets and "
            "outputs out of the submission")


def walk_regular_files(root: str | os.PathLike[str], ignore: Callable[[str, list[str]], Iterable[str]] | None = None,
                       deadline: Deadline = NO_DEADLINE, max_entries: int = MAX_WALK_ENTRIES,
                       max_depth: int = MAX_WALK_DEPTH) -> list[tuple[str, Path | None]]:
    """The regular files under ``root``, as ``(relative posix path, Path)``, sorted by path.

    Symlinks (to files or folders) are never followed nor yielded; FIFOs, devices and
    sockets are yielded as ``(relative, None)`` so that callers can account for them
    (the fingerprint marks them; nothing reads them).

    Parameters
    ----------
    root : str or Path
        A real folder (not a symlink).
    ignore : callable, optional
        ``ignore(folder, names) -> set of names`` as for :func:`shutil.copytree`; ignored
        names are not descended into nor yielded.
    deadline : Deadline
    max_entries, max_depth : int
        More entries or deeper nesting raise :class:`UnsafeFile`.
    """
    root = Path(root)
    if not stat.S_ISDIR(os.lstat(root).st_mode):
        raise UnsafeFile(f"{root.name} is not a folder")
    found: list[tuple[str, Path | None]] = []
    seen = 0
    stack = [(root, "", 0)]
    while stack:
        folder, prefix, depth = stack.pop()
        deadline.check()
        if depth > max_depth:
            raise UnsafeFile(f"the submission nests folders more than {max_depth} deep")
        try:
            with os.scandir(folder) as entries:
                listed = []
                for entry in entries:
                    seen += 1
                    if seen > max_entries:
                        raise UnsafeFile(f"the submission holds more than {max_entries} files "
                                         "and folders; leave datasets and outputs out of it")
                    listed.append(entry)
        except PermissionError:
            continue
        skipped = set(ignore(str(folder), [entry.name for entry in listed])) if ignore else set()
        for entry in listed:
            if entry.name in skipped:
                continue
            relative = prefix + entry.name
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                stack.append((Path(entry.path), relative + "/", depth + 1))
            elif stat.S_ISREG(mode):
                found.append((relative, Path(entry.path)))
            elif not stat.S_ISLNK(mode):      # FIFOs, devices, sockets: listed, never read
                found.append((relative, None))
    return sorted(found, key=lambda item: item[0])

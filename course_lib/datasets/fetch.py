"""Fetch a URL into a ``.part`` file: progress bar, retry with backoff, resume via HTTP Range."""
from __future__ import annotations

import errno
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .errors import DatasetError, DownloadError, NoSpaceError
from .paths import StrPath

CHUNK_BYTES = 1 << 20
#: HTTP statuses worth retrying: the server may answer differently a moment later.
TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
_USER_AGENT = "nnfs-course-datasets/1.0 (+python urllib)"


class _Interrupted(Exception):
    """The transfer stopped early; the ``.part`` file keeps what arrived."""


def no_space_error(path: StrPath, exc: OSError, what: str) -> NoSpaceError:
    """The :class:`NoSpaceError` for a failed write of ``path``; its message says what to do."""
    return NoSpaceError(
        f"no space left on the device while writing {path} ({what}); the partial file was "
        "removed. Free some disk space, or choose a disk with room with --dir DIR (or "
        "COURSE_DATA_DIR), then run the command again.")


def is_no_space(exc: BaseException) -> bool:
    """True when ``exc`` is the OS reporting a full disk (or quota)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _progress_bar(total: int | None, initial: int, description: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=description, dynamic_ncols=True)


def _write_failure(part: Path, exc: OSError) -> DatasetError:
    """Remove ``part`` and return the error to raise for a failed local write."""
    try:
        part.unlink(missing_ok=True)
    except OSError:
        pass
    if is_no_space(exc):
        return no_space_error(part, exc, "downloading")
    return DatasetError(f"could not write {part} ({exc.strerror or exc}). Make the folder "
                        "writable or choose another with --dir DIR (or COURSE_DATA_DIR).")


def _open_part(part: Path, append: bool) -> IO[bytes]:
    try:
        return open(part, "ab" if append else "wb")
    except OSError as exc:
        raise _write_failure(part, exc) from exc


def _open_response(url: str, offset: int, timeout: float) -> tuple[Any, bool]:
    """Send the GET (with ``Range`` when resuming); return (response, resumed)."""
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                      timeout=timeout)
    resumed = False
    if offset and response.status == 206:
        content_range = response.headers.get("Content-Range", "")
        resumed = content_range.startswith(f"bytes {offset}-")
        if not resumed:  # a range we did not ask for: start over rather than splice wrongly
            response.close()
            response = urllib.request.urlopen(
                urllib.request.Request(url, headers={"User-Agent": _USER_AGENT}), timeout=timeout)
    return response, resumed


def _transfer(url: str, part: Path, timeout: float, progress: bool) -> bool:
    """One attempt: append the rest of ``url`` to ``part``; raise _Interrupted if cut short."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response, resumed = _open_response(url, offset, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # Nothing lies past `offset`: the part is already complete (a rerun after a
            # failed unpack, say). The checksum or the structure check decides.
            return True
        raise
    with response:
        if not resumed:
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        received = offset
        bar = _progress_bar(total, offset, part.name.removesuffix(".part"), progress)
        try:
            out = _open_part(part, resumed)
            with out:
                while True:
                    try:
                        chunk = response.read(CHUNK_BYTES)
                    except (http.client.HTTPException, OSError) as exc:
                        raise _Interrupted(
                            f"connection lost after {received} bytes: {exc}") from exc
                    if not chunk:
                        break
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        out.close()
                        raise _write_failure(part, exc) from exc
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if total is not None and received != total:
        raise _Interrupted(f"got {received} of {total} bytes")
    return resumed


def fetch_url(url: str, part: StrPath, retries: int = 5, backoff: float = 1.0, timeout: float = 60.0,
              progress: bool = True, log: Callable[[str], object] = print) -> bool:
    """Download ``url`` into ``part``, resuming from whatever ``part`` already holds.

    Parameters
    ----------
    url : str
        An ``http(s)://`` (or ``file://``) URL.
    part : str or Path
        The file that receives the bytes; an existing one is resumed with a ``Range``
        request (when the server answers 200 instead of 206, the download starts over).
    retries : int
        How many times a failed attempt (connection error, truncated body, HTTP 5xx, 408,
        429) is retried; the wait doubles each time, starting at ``backoff`` seconds.
    timeout : float
        Socket timeout per request, seconds.
    progress : bool
        Show a tqdm progress bar on stderr.
    log : callable
        Receives one-line status messages (retries).

    Returns
    -------
    bool
        True when the finished file was resumed (it splices bytes from an earlier attempt
        or run), so a checksum mismatch may come from a stale ``.part`` file.

    Raises
    ------
    DownloadError
        A permanent HTTP error (e.g. 404) or all retries failed; the ``.part`` file is kept
        so that running the command again resumes.
    NoSpaceError
        The disk filled up; the ``.part`` file was removed.
    """
    part_path = Path(part)
    failures = 0
    while True:
        try:
            return _transfer(url, part_path, timeout, progress)
        except urllib.error.HTTPError as exc:
            if exc.code not in TRANSIENT_STATUSES:
                raise DownloadError(
                    f"downloading {url} failed: HTTP {exc.code} {exc.reason}. Check the URL, "
                    "or download the archive by other means and pass it with --source PATH "
                    "(or CIFAR10_SOURCE).") from None
            problem = f"HTTP {exc.code} {exc.reason}"
        except _Interrupted as exc:
            problem = str(exc)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            problem = str(getattr(exc, "reason", exc))
        failures += 1
        if failures > retries:
            kept = (f"; the {part_path.stat().st_size} bytes received are kept in {part_path} and the "
                    "next run resumes from there" if part_path.exists() else "")
            raise DownloadError(
                f"downloading {url} failed after {failures} attempts (last: {problem}){kept}. "
                "Check your connection and run the command again, or download the archive "
                "by other means and pass it with --source PATH (or CIFAR10_SOURCE).")
        wait = backoff * 2 ** (failures - 1)
        log(f"download attempt failed ({problem}); retrying in {wait:.1f} s "
            f"(attempt {failures + 1} of {retries + 1})")
        time.sleep(wait)


"""Stored results are trusted only when the grader wrote them: an HMAC tag in each result.

Student code can run with a TA's rights outside the sandbox (``nbgrader autograde`` runs the
notebooks as whoever calls it) and write ``OUT/<submission>.json`` itself. So every result
``autograder grade`` writes carries ``"signature": "hmac-sha256:<hex>"``, an HMAC-SHA256
of the rest of the result (canonical JSON) under a key only the grader's user can read.
``autograder grade`` regrades (and reports) a stored result whose tag is missing or wrong
instead of keeping it, and the exporters skip it with a message.

The key
-------
``$AUTOGRADER_KEY_FILE`` if set, else ``$XDG_CONFIG_HOME/nnfs-autograder/results.key``
(``~/.config/...``): 32 random bytes (hex), created on first use by ``autograder grade``,
mode 0600, in a 0700 folder, owned by the grader's user; a key file that is a symlink, not
a regular file, owned by another user or readable by group or others is refused. It is
outside the course checkout, so it is never committed nor shipped in a Gradescope zip.

Only the machine that runs ``autograder grade`` (and the exporters) signs and verifies:
Dask workers return result dicts to it and never touch the key. To grade into one results
folder from several machines, copy the key (mode 0600) to each and point
``AUTOGRADER_KEY_FILE`` at it.

What this does not stop: code running as the grader's own user (root) can read the key.
Run ``nbgrader autograde`` (which executes student notebooks unsandboxed) as another,
unprivileged user, never as the user that grades.
"""
import errno
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from autograder.errors import UserError

KEY_ENV = "AUTOGRADER_KEY_FILE"
SIGNATURE_FIELD = "signature"
SCHEME = "hmac-sha256:"
KEY_BYTES = 32


class KeyUnavailable(UserError):
    """No usable results key (missing, or unsafe to trust); the message says what to do."""


def key_path() -> Path:
    """Where the results key lives (see the module docstring)."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return Path(configured).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"),
                                                                    ".config")
    return Path(config_home) / "nnfs-autograder" / "results.key"


def _read_key(path: Path) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyUnavailable(f"the results key {path} is not a regular file; remove it "
                                 "(a new one is made by the next `autograder grade`)")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise KeyUnavailable(f"the results key {path} belongs to another user; run as the "
                                 f"user who graded, or remove it and regrade with --force")
        if info.st_mode & 0o077:
            raise KeyUnavailable(f"the results key {path} is readable by other users, so "
                                 f"anyone could have forged results with it; remove it and "
                                 "regrade with --force")
        data = os.read(fd, 4 * KEY_BYTES + 2)
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise KeyUnavailable(f"the results key {path} is damaged; remove it and regrade "
                             "with --force")
    return key


def load_key(create: bool = False) -> bytes:
    """The results key.

    Parameters
    ----------
    create : bool
        Make a new key when there is none (``autograder grade`` does; readers don't).

    Raises
    ------
    KeyUnavailable
        No key (and ``create`` is false), or the key file is unsafe to trust.
    """
    path = key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        if not create:
            raise KeyUnavailable(
                f"there is no results key at {path}, so no stored result can be checked; "
                f"results are signed by `autograder grade` running as this user (set "
                f"{KEY_ENV} if the key is elsewhere)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise KeyUnavailable(f"the results key {path} is a symbolic link; remove it") \
                from None
        raise KeyUnavailable(f"cannot read the results key {path}: {exc.strerror}") from None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read_key(path)          # another grader made it at the same moment
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return _read_key(path)


def _digest(result: dict[str, Any], key: bytes) -> str:
    body = {name: value for name, value in result.items() if name != SIGNATURE_FIELD}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


def sign_result(result: dict[str, Any], key: bytes) -> dict[str, Any]:
    """A copy of ``result`` with its ``signature`` (any old one replaced)."""
    unsigned = {name: value for name, value in result.items() if name != SIGNATURE_FIELD}
    return {**unsigned, SIGNATURE_FIELD: SCHEME + _digest(unsigned, key)}


def verify_result(result: object, key: bytes) -> bool:
    """True when ``result`` is a dict whose ``signature`` matches its content under ``key``."""
    if not isinstance(result, dict):
        return False
    tag = result.get(SIGNATURE_FIELD)
    if not isinstance(tag, str) or not tag.startswith(SCHEME):
        return False
    try:
        expected = _digest(result, key)
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(tag[len(SCHEME):], expected)

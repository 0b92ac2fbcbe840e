"""Small helpers shared by the grader's stages: atomic writes, junk names, scripts on PATH."""
import os
import shutil
import sys
from pathlib import Path


def write_atomically(path: str | os.PathLike, data: str | bytes, mode: int | None = None) -> None:
    """Replace ``path`` by ``data`` in one rename: readers see the old file or the new one.

    The data goes to a hidden temporary file in the same folder (``.<name>.<pid>.tmp``,
    which readers of result folders skip), is flushed to disk and renamed over ``path``;
    on any failure the temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist.
    data : str or bytes
        The whole content; text is written as UTF-8.
    mode : int, optional
        Permission bits of the new file (default: what the umask gives).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


JUNK_NAMES = frozenset({"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache",
                        ".ruff_cache", ".git", "__MACOSX", ".DS_Store"})
"""Caches, version control and macOS leftovers: never part of a submission or a course copy."""


def is_junk(name: str) -> bool:
    """Whether a file or folder called ``name`` is junk (:data:`JUNK_NAMES` or bytecode)."""
    return name in JUNK_NAMES or name.endswith(".pyc")


def ignore_junk(folder: str, names: list[str]) -> set[str]:
    """The junk among ``names``: an ``ignore`` for :func:`shutil.copytree` and tree walks."""
    return {name for name in names if is_junk(name)}


def scripts_first_on_path(path: str | None) -> str:
    """``path`` (a PATH value) with this interpreter's scripts folder put first.

    Commands such as nbgrader's ``alembic`` live next to the interpreter, which is not on
    PATH when a virtual environment is used without activation (``.venv/bin/autograder``).

    Parameters
    ----------
    path : str or None
        The PATH to extend; empty or None gives the scripts folder alone.

    Returns
    -------
    str
    """
    scripts = os.path.dirname(sys.executable)
    return f"{scripts}{os.pathsep}{path}" if path else scripts


def make_alembic_findable() -> None:
    """Put this interpreter's scripts first on ``os.environ["PATH"]`` when nbgrader's
    ``alembic`` is only there (nbgrader's Gradebook runs it by name to open a database)."""
    if shutil.which("alembic") is None and (Path(sys.executable).parent / "alembic").exists():
        os.environ["PATH"] = scripts_first_on_path(os.environ.get("PATH"))

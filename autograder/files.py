"""Small helpers shared by the grader's stages: atomic writes, junk names, scripts on PATH."""
import os
import shutil
import sys
from pathlib import Path

JUNK_NAMES = frozenset({"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache",
                        ".ruff_cache", ".git", "__MACOSX", ".DS_Store"})
"""Caches, version control and macOS leftovers that course copies, the Gradescope zip and its
upload search skip (what a student's files give the child: ``sandbox.workdir.COPY_IGNORE``)."""


def write_atomically(path: str | os.PathLike, data: str | bytes, mode: int | None = None) -> None:
    """Replace ``path`` by ``data`` (text as UTF-8) so that readers see the old or new file whole:
    ``.<name>.<pid>.tmp`` in the same folder, synced, renamed over ``path`` (removed on failure).
    ``mode``: permission bits of the new file (default: the umask's)."""
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


def is_junk(name: str) -> bool:
    """Whether a file or folder called ``name`` is junk (:data:`JUNK_NAMES` or bytecode)."""
    return name in JUNK_NAMES or name.endswith(".pyc")


def ignore_junk(folder: str, names: list[str]) -> set[str]:
    """The junk among ``names``: an ``ignore`` for :func:`shutil.copytree` and tree walks."""
    return {name for name in names if is_junk(name)}


def scripts_first_on_path(path: str | None) -> str:
    """``path`` (a PATH value, maybe empty) with this interpreter's scripts folder first: an
    unactivated virtual environment (``.venv/bin/autograder``) has ``alembic`` only there."""
    scripts = os.path.dirname(sys.executable)
    return f"{scripts}{os.pathsep}{path}" if path else scripts


def make_alembic_findable() -> None:
    """Put the scripts folder first on ``os.environ["PATH"]`` when nbgrader's ``alembic`` is
    only there (nbgrader's Gradebook runs it by name to open a database)."""
    if shutil.which("alembic") is None and (Path(sys.executable).parent / "alembic").exists():
        os.environ["PATH"] = scripts_first_on_path(os.environ.get("PATH"))

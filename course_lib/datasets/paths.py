"""Where datasets live on disk."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import DOWNLOAD_COMMAND, DatasetNotFoundError
from .layout import FOLDER_NAME, TEST_BATCH, TRAIN_BATCHES

#: What the functions here accept as a path.
StrPath = str | os.PathLike[str]


def default_data_dir() -> Path:
    """Return the data directory: ``$COURSE_DATA_DIR``, else ``~/.cache/nnfs-course``.

    Returns
    -------
    Path
        The folder under which ``cifar-10-batches-py/`` is installed (it may not exist yet).
    """
    configured = os.environ.get("COURSE_DATA_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "nnfs-course"


def data_dir(root: StrPath | None = None) -> Path:
    """Return ``root`` as a Path, or :func:`default_data_dir` when it is None."""
    return default_data_dir() if root is None else Path(root).expanduser()


def batches_dir(root: StrPath | None = None) -> Path:
    """Return the folder that holds (or will hold) the CIFAR-10 batches under ``root``.

    ``root`` may be the data directory (the batches are then in ``root/cifar-10-batches-py``)
    or the batches folder itself (it then contains ``data_batch_1``).
    """
    folder = data_dir(root)
    if folder.name == FOLDER_NAME or (folder / TRAIN_BATCHES[0]).is_file():
        return folder
    return folder / FOLDER_NAME


def missing_batches(folder: StrPath) -> list[str]:
    """Return the names of the batch files that ``folder`` lacks (empty when complete)."""
    folder = Path(folder)
    return [name for name in TRAIN_BATCHES + (TEST_BATCH,) if not (folder / name).is_file()]


def cifar10_present(root: StrPath | None = None) -> bool:
    """Return True when a batches folder exists under ``root`` (complete or not)."""
    return batches_dir(root).is_dir()


def require_batches_dir(root: StrPath | None = None) -> Path:
    """Return the batches folder under ``root``; raise when it is absent or incomplete.

    Raises
    ------
    DatasetNotFoundError
        The folder is missing, or lacks some batch files; the message says how to install.
    """
    folder = batches_dir(root)
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"CIFAR-10 not found: {folder} does not exist. Install it with "
            f"`{DOWNLOAD_COMMAND}` (add --dir DIR or set COURSE_DATA_DIR to use another "
            "folder; set CIFAR10_SOURCE or pass --source for a local copy).")
    missing = missing_batches(folder)
    if missing:
        raise DatasetNotFoundError(
            f"CIFAR-10 at {folder} is incomplete: {', '.join(missing)} missing. Reinstall it "
            f"with `{DOWNLOAD_COMMAND} --force`.")
    return folder

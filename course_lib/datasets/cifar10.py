"""Load CIFAR-10 from the official python batches, with a ``.npy`` cache for warm loads."""
from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np

from .cache import ArrayCache, Signature, source_signature
from .errors import DOWNLOAD_COMMAND, CorruptDatasetError, DatasetError, DatasetNotFoundError
from .layout import IMAGE_SHAPE, NUM_CLASSES, ROW_LENGTH, TEST_BATCH, TRAIN_BATCHES
from .paths import StrPath, default_data_dir, require_batches_dir
from .safe_pickle import load_array_pickle

ARRAY_NAMES = ("X_train", "y_train", "X_test", "y_test")
_CACHE_PREFIX = "cifar10"
#: (X_train, y_train, X_test, y_test), see :func:`load_cifar10`
CifarArrays = tuple[np.ndarray, ...]


def _corrupt(path: StrPath, problem: str) -> CorruptDatasetError:
    return CorruptDatasetError(
        f"{path} {problem}. This CIFAR-10 copy is damaged: reinstall it from an intact "
        f"copy with `{DOWNLOAD_COMMAND} --force`.")


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one official batch file (e.g. ``data_batch_1``).

    Parameters
    ----------
    path : Path
        A pickled dict with ``'data'``, uint8 (N, 3072) rows holding each image as
        3 x 32 x 32 (channel, row, column), and ``'labels'``, N ints in [0, 10).

    Returns
    -------
    X : ndarray of uint8, shape (N, 32, 32, 3)
        The images, height x width x channel (NHWC).
    y : ndarray of int64, shape (N,)
        The labels.

    Raises
    ------
    ForeignPickleError
        The file is a pickle of something other than arrays and builtin values.
    CorruptDatasetError
        The file is truncated, damaged or does not hold a CIFAR-10 batch.
    """
    try:
        batch = load_array_pickle(path)
    except DatasetError:
        raise
    except FileNotFoundError:
        raise DatasetNotFoundError(
            f"{path} is missing: reinstall CIFAR-10 with `{DOWNLOAD_COMMAND} --force`.") from None
    except Exception as exc:  # a damaged pickle can fail in many ways (EOFError, ValueError, ...)
        raise _corrupt(path, f"could not be unpickled ({type(exc).__name__}: {exc}); "
                             "it is probably truncated") from exc
    if not isinstance(batch, dict):
        raise _corrupt(path, f"holds a {type(batch).__name__}, not a batch dict")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != ROW_LENGTH:
        described = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                     else type(data).__name__)
        raise _corrupt(path, f"has 'data' = {described}; expected a uint8 array (N, {ROW_LENGTH})")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise _corrupt(path, "has 'labels' that are not integers") from None
    if labels.shape != (data.shape[0],):
        raise _corrupt(path, f"has {labels.size} labels for {data.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise _corrupt(path, f"has labels outside [0, {NUM_CLASSES})")
    height, width, channels = IMAGE_SHAPE
    images = data.reshape(-1, channels, height, width).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def decode_batches(folder: Path) -> dict[str, np.ndarray]:
    """Decode all batches in ``folder``.

    Returns
    -------
    dict
        ``X_train`` uint8 (N_train, 32, 32, 3), ``y_train`` int64 (N_train,),
        ``X_test`` uint8 (N_test, 32, 32, 3), ``y_test`` int64 (N_test,); for the official
        data N_train = 50000 and N_test = 10000.
    """
    train = [read_batch(folder / name) for name in TRAIN_BATCHES]
    X_test, y_test = read_batch(folder / TEST_BATCH)
    return {"X_train": np.concatenate([X for X, _ in train]),
            "y_train": np.concatenate([y for _, y in train]),
            "X_test": X_test, "y_test": y_test}


def _caches(folder: Path) -> list[ArrayCache]:
    """Where the cache may live: beside the batches, else (read-only folder) in the data dir."""
    key = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    return [ArrayCache(folder, _CACHE_PREFIX),
            ArrayCache(default_data_dir() / "cache" / key, _CACHE_PREFIX)]


def write_cache(folder: Path, arrays: dict[str, np.ndarray], signature: Signature) -> ArrayCache | None:
    """Cache ``arrays`` for the batches in ``folder``; warn (do not fail) when impossible."""
    failures = []
    for cache in _caches(folder):
        try:
            cache.store(arrays, signature)
            return cache
        except OSError as exc:
            failures.append(f"{cache.folder}: {exc.strerror or exc}")
    warnings.warn("could not write the CIFAR-10 .npy cache (" + "; ".join(failures) + "), so "
                  "every load decodes the batches again (a few seconds). Free some disk space "
                  "or make the folder writable to get fast loads.", stacklevel=3)
    return None


def load_cifar10(root: StrPath | None = None, cache: bool = True) -> CifarArrays:
    """Load CIFAR-10 from the official python batches.

    Parameters
    ----------
    root : str or Path, optional
        The data directory (holding ``cifar-10-batches-py/``) or the batches folder itself.
        Default: ``$COURSE_DATA_DIR``, else ``~/.cache/nnfs-course``.
    cache : bool
        Use and maintain the ``.npy`` cache beside the batches (default True). The cache
        is rebuilt whenever a batch file changes.

    Returns
    -------
    X_train : ndarray of uint8, shape (50000, 32, 32, 3)
    y_train : ndarray of int64, shape (50000,)
    X_test : ndarray of uint8, shape (10000, 32, 32, 3)
    y_test : ndarray of int64, shape (10000,)

    Raises
    ------
    DatasetNotFoundError
        No (complete) copy under ``root``; the message says how to install one.
    CorruptDatasetError
        A batch file is truncated, damaged or foreign (:class:`ForeignPickleError`).
    """
    folder = require_batches_dir(root)
    signature = source_signature(folder, TRAIN_BATCHES + (TEST_BATCH,))
    if cache:
        for candidate in _caches(folder):
            arrays = candidate.load(ARRAY_NAMES, signature)
            if arrays is not None:
                return tuple(arrays[name] for name in ARRAY_NAMES)
    arrays = decode_batches(folder)
    if cache:
        write_cache(folder, arrays, signature)
    return tuple(arrays[name] for name in ARRAY_NAMES)

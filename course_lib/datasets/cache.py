"""A ``.npy`` cache of decoded arrays that is trusted only while its sources are unchanged.

Decoding the CIFAR-10 pickles takes seconds; ``np.load`` of the decoded arrays takes a
fraction of one. The cache is a folder holding ``<prefix>_<name>.npy`` files plus a small
JSON manifest that records the source files' names, sizes, inodes and modification times.
The manifest is written last and removed first, and every file is written to a temporary
name and renamed into place, so a crash mid-write leaves a cache that is simply rebuilt.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .paths import StrPath

#: ``{file name: [size, inode, mtime_ns]}``, see :func:`source_signature`
Signature = dict[str, list[int]]

CACHE_VERSION = 1


def source_signature(folder: StrPath, names: Iterable[str]) -> Signature:
    """Describe the source files so that any change to them is noticed.

    Parameters
    ----------
    folder : Path
        Where the source files are.
    names : sequence of str
        Their file names.

    Returns
    -------
    dict
        ``{name: [size, inode, mtime_ns]}``.
    """
    signature: Signature = {}
    for name in names:
        stat = (Path(folder) / name).stat()
        signature[name] = [stat.st_size, stat.st_ino, stat.st_mtime_ns]
    return signature


def save_npy_atomically(path: StrPath, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (``.npy``) via a temporary file and ``os.replace``.

    A reader sees the old file or the complete new one, never a partial one; on failure the
    temporary file is removed and the exception propagates.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_text_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ArrayCache:
    """The cache files ``<folder>/<prefix>_<name>.npy`` and ``<folder>/<prefix>_cache.json``.

    Parameters
    ----------
    folder : str or Path
        Where the cache files live.
    prefix : str
        Common prefix of the cache file names (e.g. ``"cifar10"``).
    """

    def __init__(self, folder: StrPath, prefix: str) -> None:
        self.folder = Path(folder)
        self.prefix = prefix
        self.manifest_path = self.folder / f"{prefix}_cache.json"

    def array_path(self, name: str) -> Path:
        """The ``.npy`` file of array ``name``."""
        return self.folder / f"{self.prefix}_{name}.npy"

    def load(self, names: Iterable[str], signature: Signature) -> dict[str, np.ndarray] | None:
        """Return ``{name: array}`` when the cache matches ``signature``, else None.

        Parameters
        ----------
        names : sequence of str
            The arrays wanted.
        signature : dict
            The current :func:`source_signature` of the sources.
        """
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if manifest.get("version") != CACHE_VERSION or manifest.get("sources") != signature:
            return None
        arrays: dict[str, np.ndarray] = {}
        for name in names:
            entry = manifest.get("arrays", {}).get(name)
            path = self.array_path(name)
            try:
                if entry is None or path.stat().st_size != entry["bytes"]:
                    return None
                array = np.load(path, allow_pickle=False)
            except (OSError, ValueError, KeyError):
                return None
            if list(array.shape) != entry["shape"] or array.dtype.str != entry["dtype"]:
                return None
            arrays[name] = array
        return arrays

    def store(self, arrays: Mapping[str, np.ndarray], signature: Signature) -> None:
        """Write ``arrays`` (``{name: ndarray}``) and a manifest recording ``signature``.

        Raises
        ------
        OSError
            Writing failed (no space, read-only folder, ...); the manifest is then absent,
            so nothing half-written is ever trusted.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        self.manifest_path.unlink(missing_ok=True)
        entries: dict[str, dict[str, object]] = {}
        for name, array in arrays.items():
            path = self.array_path(name)
            save_npy_atomically(path, array)
            entries[name] = {"shape": list(array.shape), "dtype": array.dtype.str,
                             "bytes": path.stat().st_size}
        manifest = {"version": CACHE_VERSION, "sources": signature, "arrays": entries}
        _write_text_atomically(self.manifest_path, json.dumps(manifest, indent=1))

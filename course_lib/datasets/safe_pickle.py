"""Unpickling that can build NumPy arrays and nothing else.

The CIFAR-10 batches are pickles, and ``pickle.load`` runs whatever callable a pickle
names. :class:`ArrayOnlyUnpickler` resolves only the globals NumPy needs to rebuild an
array, so a file that names anything else (``os.system``, ``builtins.eval``, ...) is
refused before it can run.
"""
from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from .errors import ForeignPickleError
from .paths import StrPath


def _numpy_reconstruct() -> Callable[..., Any]:
    """Return NumPy's array-rebuilding function (it moved to ``numpy._core`` in NumPy 2)."""
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # NumPy 1.x
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    return _reconstruct


# Pickles written by Python 2 / NumPy 1 name ``numpy.core``; NumPy 2 writes ``numpy._core``.
# Resolving both to the objects directly avoids importing the deprecated ``numpy.core``.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ArrayOnlyUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` whose ``find_class`` allows only NumPy's array globals.

    Parameters
    ----------
    file : binary file
        The open pickle.
    path : str or Path
        The file's name, used in error messages.
    **kwargs
        Passed to ``pickle.Unpickler`` (e.g. ``encoding='latin1'``).
    """

    def __init__(self, file: IO[bytes], path: StrPath, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ForeignPickleError(
                f"{self.path} is not a CIFAR-10 batch: it asks to load `{module}.{name}`, and "
                "only NumPy arrays are allowed (a foreign pickle can run arbitrary code, so it "
                "was not loaded). Reinstall CIFAR-10 from an intact copy with "
                "`python -m course_lib.datasets download cifar10 --force`.") from None


def load_array_pickle(path: StrPath) -> Any:
    """Load a pickle that may contain only builtin values and NumPy arrays.

    Parameters
    ----------
    path : str or Path
        A pickle written by Python 2 or 3; Python 2 byte strings are decoded as latin-1,
        as the official CIFAR-10 instructions do.

    Returns
    -------
    object
        The unpickled value.

    Raises
    ------
    ForeignPickleError
        The pickle names a global other than NumPy's array machinery.
    EOFError, pickle.UnpicklingError, ValueError, ...
        The file is truncated or damaged (callers turn these into a clear error).
    """
    with open(path, "rb") as f:
        return ArrayOnlyUnpickler(f, path, encoding="latin1").load()

"""Choose the data: CIFAR-10 when installed, else the embedded synthetic set, and say which."""
from __future__ import annotations

import os

from .cifar10 import CifarArrays, load_cifar10
from .errors import DOWNLOAD_COMMAND
from .paths import StrPath, batches_dir, cifar10_present
from .synthetic import load_synthetic_cifar

PREFERENCES = ("auto", "cifar10", "synthetic")


def _preference(prefer: str) -> str:
    """The effective preference: ``prefer``, or ``$COURSE_DATASET`` when ``prefer`` is auto."""
    if prefer not in PREFERENCES:
        raise ValueError(f"prefer={prefer!r}: use one of {', '.join(PREFERENCES)}")
    if prefer == "auto":
        configured = os.environ.get("COURSE_DATASET", "").strip().lower() or "auto"
        if configured not in PREFERENCES:
            raise ValueError(f"COURSE_DATASET={configured!r}: set it to cifar10 or synthetic "
                             "(or unset it to use CIFAR-10 when installed)")
        return configured
    return prefer


def choose_dataset(root: StrPath | None = None, prefer: str = "auto") -> tuple[str, str]:
    """Decide which data :func:`load_dataset` returns, without loading anything.

    Returns
    -------
    kind : {"cifar10", "synthetic"}
    description : str
        The one-line explanation :func:`load_dataset` prints.
    """
    prefer = _preference(prefer)
    folder = batches_dir(root)
    if prefer == "cifar10" or (prefer == "auto" and cifar10_present(root)):
        return "cifar10", f"CIFAR-10 from {folder}"
    if prefer == "synthetic":
        return "synthetic", ("using the embedded SYNTHETIC dataset (requested"
                             f"{' by COURSE_DATASET' if os.environ.get('COURSE_DATASET') else ''})")
    return "synthetic", (f"CIFAR-10 not found at {folder}: using the embedded SYNTHETIC dataset; "
                         f"to use the real data run `{DOWNLOAD_COMMAND}`")


def load_dataset(root: StrPath | None = None, prefer: str = "auto", num_train: int = 50000,
                 num_test: int = 10000, seed: int = 0, verbose: bool = True) -> CifarArrays:
    """Return CIFAR-10 if it is installed, else the embedded synthetic data; print which.

    Parameters
    ----------
    root : str or Path, optional
        Where to look for CIFAR-10 (see :func:`load_cifar10`).
    prefer : {"auto", "cifar10", "synthetic"}
        ``"auto"`` follows ``$COURSE_DATASET`` when it is set (``synthetic`` forces the
        embedded data, ``cifar10`` requires CIFAR-10), otherwise uses CIFAR-10 when its
        folder exists and the synthetic data when it does not. ``"cifar10"`` raises when
        CIFAR-10 is missing or damaged. A damaged installed copy is reported, never
        silently replaced by synthetic data.
    num_train, num_test, seed : int
        Sizes and seed of the synthetic data (ignored for CIFAR-10).
    verbose : bool
        Print the one line that says which data is returned.

    Returns
    -------
    X_train : ndarray of uint8, shape (N_train, 32, 32, 3)
    y_train : ndarray of int64, shape (N_train,)
    X_test : ndarray of uint8, shape (N_test, 32, 32, 3)
    y_test : ndarray of int64, shape (N_test,)
    """
    kind, description = choose_dataset(root, prefer)
    if kind == "cifar10":
        data = load_cifar10(root)
    else:
        data = load_synthetic_cifar(num_train, num_test, seed)
        description += f" ({num_train} train / {num_test} test images, seed {seed})"
    if verbose:
        print(description, flush=True)
    return data

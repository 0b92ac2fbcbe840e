"""Numerical gradients by centred differences, and the relative error used to compare them.

The checkers probe ``x`` in place: they add and subtract ``h`` to one entry at a time, call
``f`` and put the entry back. That is what lets the usual notebook idiom work, where ``f``
ignores its argument and reads the same array through a model::

    f = lambda _: net.loss(X, y)[0]
    dW1_num = eval_numerical_gradient(f, net.params["W1"], verbose=False)

Every probed entry is restored, also when ``f`` raises.

Precision. A centred difference ``(f(x + h) - f(x - h)) / 2h`` with ``h = 1e-5`` has a
truncation error of order ``h**2`` but also a rounding error of order ``eps * |f| / h``.
In float64 (``eps ~ 1e-16``) that is about ``1e-11``, far below what a gradient check
looks for. In float32 (``eps ~ 1e-7``) it is about ``1e-2``: the check becomes noise.
Because the array must be probed in place (see above), it cannot be upcast silently, so a
float32 ``x`` is accepted with a :class:`LowPrecisionWarning` telling you to convert the
model's parameters to float64 first; the returned gradient is float64 in every case.
Integer arrays cannot hold ``x + h`` at all and are rejected with a ``TypeError``.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LowPrecisionWarning",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "rel_error",
]


class LowPrecisionWarning(UserWarning):
    """A gradient check was asked to probe an array narrower than float64."""


def _check_probe_target(x: object, caller: str) -> None:
    """Reject arrays that cannot be probed in place; warn about narrow float types."""
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{caller}: x must be a NumPy array (it is probed in place), got "
            f"{type(x).__name__}. Wrap it with np.asarray(x, dtype=np.float64) first.")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{caller}: x has dtype {x.dtype}, which cannot hold x + h. Convert it with "
            f"x = x.astype(np.float64) (and pass that array to the model too).")
    if not x.flags.writeable:
        raise ValueError(f"{caller}: x is read-only; pass a writeable copy (x.copy()).")
    if x.dtype.itemsize < 8:
        warnings.warn(
            f"{caller}: x has dtype {x.dtype}; centred differences with h=1e-5 lose about "
            f"five significant digits to rounding at this precision, so the numeric "
            f"gradient is unreliable. Convert the inputs and parameters to np.float64 "
            f"for gradient checks.", LowPrecisionWarning, stacklevel=3)


def _scalar_output(value: Any, caller: str) -> float:
    """Return ``value`` as a Python float, or explain why it is not a scalar."""
    if np.ndim(value) != 0:
        raise ValueError(
            f"{caller}: f must return a scalar, got an array of shape {np.shape(value)}. "
            f"For functions that return arrays use eval_numerical_gradient_array(f, x, df).")
    return float(value)


def _centred_difference(f: Callable[[np.ndarray], Any], x: np.ndarray, index: tuple[int, ...],
                        h: float) -> tuple[Any, Any]:
    """Evaluate ``f`` at ``x`` with ``x[index]`` moved by +h and -h; restore ``x[index]``.

    Returns
    -------
    (f_plus, f_minus) : whatever ``f`` returned at the two probes. Array outputs are
        copied, because ``f`` may return a view of a buffer it overwrites on the next call.
    """
    original = x[index]
    try:
        x[index] = original + h
        f_plus = f(x)
        if isinstance(f_plus, np.ndarray):
            f_plus = f_plus.copy()
        x[index] = original - h
        f_minus = f(x)
    finally:
        x[index] = original
    return f_plus, f_minus


def eval_numerical_gradient(f: Callable[[np.ndarray], Any], x: NDArray[np.floating],
                            verbose: bool = True, h: float = 1e-5) -> NDArray[np.float64]:
    """Numerical gradient of a scalar function by centred differences.

    ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)`` for every index ``i`` of ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``. It may ignore its argument and read ``x`` through a model.
    x : np.ndarray of float, any shape
        The point at which to differentiate. Probed in place and restored entry by entry.
    verbose : bool
        Print every index and its numeric partial derivative (as CS231n does).
    h : float
        Step of the centred difference.

    Returns
    -------
    grad : np.ndarray of float64, shape ``x.shape``
    """
    _check_probe_target(x, "eval_numerical_gradient")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _centred_difference(f, x, index, h)
        f_plus = _scalar_output(f_plus, "eval_numerical_gradient")
        f_minus = _scalar_output(f_minus, "eval_numerical_gradient")
        grad[index] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f: Callable[[np.ndarray], ArrayLike], x: NDArray[np.floating],
                                  df: ArrayLike, h: float = 1e-5) -> NDArray[np.float64]:
    """Numerical gradient of ``sum(f(x) * df)`` for an array-valued ``f``.

    This is what a layer's backward pass computes: given the upstream gradient ``df`` of
    the loss with respect to the layer's output, the gradient with respect to ``x`` is
    ``sum_j df[j] * d f(x)[j] / d x[i]``.

    Parameters
    ----------
    f : callable
        ``f(x) -> np.ndarray`` of the same shape as ``df``.
    x : np.ndarray of float, any shape
        Probed in place and restored entry by entry.
    df : np.ndarray, shape of ``f(x)``
        Upstream gradient.
    h : float
        Step of the centred difference.

    Returns
    -------
    grad : np.ndarray of float64, shape ``x.shape``
    """
    _check_probe_target(x, "eval_numerical_gradient_array")
    df = np.asarray(df, dtype=np.float64)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _centred_difference(f, x, index, h)
        if np.shape(f_plus) != df.shape:
            raise ValueError(
                f"eval_numerical_gradient_array: f(x) has shape {np.shape(f_plus)} but df "
                f"has shape {df.shape}; df must be the upstream gradient of f's output.")
        difference = np.asarray(f_plus, dtype=np.float64) - np.asarray(f_minus, dtype=np.float64)
        grad[index] = np.sum(difference * df) / (2 * h)
    return grad


def rel_error(x: ArrayLike, y: ArrayLike) -> float:
    """Largest elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    Around 1e-7 or less means the two agree to float64 gradient-check precision; 1e-2 or
    more almost always means a bug.

    Parameters
    ----------
    x, y : array_like of the same shape (or either one a scalar)

    Returns
    -------
    float (NaN if either input holds NaN)
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape and x.ndim and y.ndim:
        raise ValueError(
            f"rel_error: shapes {x.shape} and {y.shape} differ; comparing them would "
            f"broadcast and hide a bug. Reshape one of them explicitly.")
    if x.size == 0 and y.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def grad_check_sparse(f: Callable[[np.ndarray], Any], x: NDArray[np.floating],
                      analytic_grad: ArrayLike, num_checks: int = 10, h: float = 1e-5,
                      seed: int | None = None) -> list[float]:
    """Compare an analytic gradient with centred differences at a few random entries.

    Cheaper than :func:`eval_numerical_gradient` for large ``x`` (a weight matrix of a
    linear classifier, say). Prints one line per check, as CS231n does.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    x : np.ndarray of float, any shape
        Probed in place and restored.
    analytic_grad : np.ndarray, shape ``x.shape``
        The gradient to check.
    num_checks : int
        How many random entries to probe (drawn with replacement).
    h : float
        Step of the centred difference.
    seed : int or None
        Seed for choosing the entries; None draws fresh ones.

    Returns
    -------
    rel_errors : list of float, length ``num_checks``
        The relative error ``|num - ana| / max(1e-8, |num| + |ana|)`` of each check.
    """
    _check_probe_target(x, "grad_check_sparse")
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"grad_check_sparse: analytic_grad has shape {analytic_grad.shape} but x has "
            f"shape {x.shape}; pass the gradient with respect to x itself.")
    if x.size == 0:
        raise ValueError("grad_check_sparse: x is empty; there is nothing to check.")
    rng = np.random.default_rng(seed)
    rel_errors = []
    for _ in range(num_checks):
        index = tuple(int(rng.integers(n)) for n in x.shape)
        f_plus, f_minus = _centred_difference(f, x, index, h)
        numeric = (_scalar_output(f_plus, "grad_check_sparse")
                   - _scalar_output(f_minus, "grad_check_sparse")) / (2 * h)
        analytic = float(analytic_grad[index])
        error = rel_error(numeric, analytic)
        rel_errors.append(error)
        print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {error:e}")
    return rel_errors

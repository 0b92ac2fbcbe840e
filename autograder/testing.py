"""Helpers for writing hidden tests whose failures teach without giving answers away.

A failed hidden test shows the student the first line of the test's docstring and the
message of a :class:`Feedback` exception, nothing else: no test code, no expected values.
"""
import numpy as np
import numpy.typing as npt


class Feedback(AssertionError):
    """A test failure whose message is safe to show to the student."""


def expect(condition: object, message: str) -> None:
    """Raise :class:`Feedback` with ``message`` unless ``condition`` is true."""
    if not condition:
        raise Feedback(message)


def expect_close(actual: npt.ArrayLike, expected: npt.ArrayLike, what: str, rtol: float = 1e-6,
                 atol: float = 1e-8) -> None:
    """Check that ``actual`` matches ``expected`` in shape and value.

    Parameters
    ----------
    actual, expected : array_like
        The student's value and the reference value.
    what : str
        Names the quantity for the student, e.g. ``"dW of svm_loss_vectorized"``.
    rtol, atol : float
        Tolerances as in :func:`numpy.allclose`.

    The message names ``what`` and whether the shape, finiteness or values are off; it
    never contains the expected numbers, nor the student's shape: a student picks that
    freely and could spell a hidden input in it (``np.zeros(int(x[0, 0] * 1000))``), so
    only the number of dimensions is shown.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        if actual.ndim != expected.ndim:
            raise Feedback(f"{what} has the wrong shape: {min(actual.ndim, 33)} dimensions "
                           f"where {expected.ndim} are expected")
        raise Feedback(f"{what} has the wrong shape (the right number of dimensions, "
                       f"{expected.ndim}, but not the expected sizes)")
    if actual.dtype.kind not in "biufc":
        raise Feedback(f"{what} is not numeric (a NumPy array of numbers is expected)")
    if not np.all(np.isfinite(actual)):
        raise Feedback(f"{what} contains NaN or inf")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        raise Feedback(f"{what} has the right shape but wrong values")

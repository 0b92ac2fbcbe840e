"""NumPy warm-up: distances, softmax and its loss, and feature standardisation.

Every function here works on whole arrays at once: no Python loops over samples or
classes. Fill in the code between the ``# YOUR CODE HERE`` lines; the notebook
``warmup.ipynb`` explains the maths and ``pytest`` runs the public tests.
"""
import numpy as np


def _require_matrix(name, array):
    """Return ``array`` as a NumPy array, or raise if it is not 2-D."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows are samples); "
                         f"got shape {array.shape}")
    return array


def l2_distances(X, Y):
    """Euclidean distance between every row of ``X`` and every row of ``Y``.

    Uses ``||x - y||^2 = ||x||^2 - 2 x.y + ||y||^2`` and broadcasting: no loops, no
    ``np.linalg.norm``, no scipy.

    Parameters
    ----------
    X : ndarray of shape (N, D), float
        N points.
    Y : ndarray of shape (M, D), float
        M points with the same number of features.

    Returns
    -------
    dists : ndarray of shape (N, M), float
        ``dists[i, j]`` is the distance between ``X[i]`` and ``Y[j]``; never negative,
        even where rounding makes the squared distance slightly negative.
    """
    X = _require_matrix("X", X)
    Y = _require_matrix("Y", Y)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must have the same number of columns; "
                         f"got X {X.shape} and Y {Y.shape}")
    ### BEGIN SOLUTION
    squared_norms_X = np.sum(X * X, axis=1)
    squared_norms_Y = np.sum(Y * Y, axis=1)
    squared = squared_norms_X[:, np.newaxis] - 2.0 * (X @ Y.T) + squared_norms_Y[np.newaxis, :]
    # Cancellation can leave -1e-15 where the true distance is 0; sqrt would give NaN.
    dists = np.sqrt(np.maximum(squared, 0.0))
    ### END SOLUTION
    return dists


def softmax(scores):
    """Row-wise softmax, stable for large scores.

    Subtracting each row's maximum before ``np.exp`` does not change the result
    (the factor ``exp(-max)`` cancels) but keeps ``exp`` from overflowing.

    Parameters
    ----------
    scores : ndarray of shape (N, C), float
        Unnormalised class scores of N samples.

    Returns
    -------
    probs : ndarray of shape (N, C), float
        Non-negative; every row sums to 1.
    """
    scores = _require_matrix("scores", scores)
    ### BEGIN SOLUTION
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    ### END SOLUTION
    return probs


def softmax_loss(scores, y):
    """Cross-entropy loss of the softmax classifier and its gradient.

    ``loss = -1/N * sum_i log softmax(scores)[i, y[i]]``

    Parameters
    ----------
    scores : ndarray of shape (N, C), float
        Class scores.
    y : ndarray of shape (N,), int
        Correct class of each sample, ``0 <= y[i] < C``.

    Returns
    -------
    loss : float
        The loss averaged over the N samples.
    dscores : ndarray of shape (N, C), float
        Gradient of ``loss`` with respect to ``scores``.
    """
    scores = _require_matrix("scores", scores)
    y = np.asarray(y)
    if y.shape != (scores.shape[0],):
        raise ValueError(f"y must have shape ({scores.shape[0]},), one label per row of "
                         f"scores; got {y.shape}")
    num_samples = scores.shape[0]
    ### BEGIN SOLUTION
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    rows = np.arange(num_samples)
    loss = float(-np.mean(log_probs[rows, y]))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    dscores /= num_samples
    ### END SOLUTION
    return loss, dscores


class Standardizer:
    """Rescale every feature to zero mean and unit standard deviation.

    ``fit`` learns the mean and standard deviation of each column of the training data;
    ``transform`` applies ``(X - mean) / std`` to any data with the same columns.

    A column that never changes has standard deviation 0; dividing by it would give
    NaN. ``std`` is therefore floored at ``eps``: such a column becomes all zeros.

    Parameters
    ----------
    eps : float, default 1e-8
        Smallest standard deviation used for dividing.

    Attributes
    ----------
    mean : ndarray of shape (D,), float
        Column means of the data given to :meth:`fit` (None before).
    std : ndarray of shape (D,), float
        Column standard deviations of that data, at least ``eps`` (None before).
    """

    def __init__(self, eps=1e-8):
        self.eps = eps
        self.mean = None
        self.std = None

    def fit(self, X):
        """Learn ``mean`` and ``std`` from ``X`` of shape (N, D); return ``self``."""
        X = _require_matrix("X", X)
        ### BEGIN SOLUTION
        self.mean = np.mean(X, axis=0)
        self.std = np.maximum(np.std(X, axis=0), self.eps)
        ### END SOLUTION
        return self

    def transform(self, X):
        """Return ``(X - mean) / std``, shape (N, D), for ``X`` of shape (N, D)."""
        if self.mean is None or self.std is None:
            raise RuntimeError("call fit(X_train) before transform(X)")
        X = _require_matrix("X", X)
        ### BEGIN SOLUTION
        standardized = (X - self.mean) / self.std
        ### END SOLUTION
        return standardized

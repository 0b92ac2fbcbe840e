"""The softmax (cross-entropy) loss of a linear classifier and its gradient.

For one example with scores ``s = x W`` and correct class ``y``:

    L_i = -log( exp(s_y) / sum_j exp(s_j) )

The full loss averages ``L_i`` over the N examples and adds ``reg * sum(W * W)``.
Subtracting ``max_j s_j`` from every score leaves the loss unchanged and keeps
``exp`` from overflowing: do it.
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss and gradient, with explicit loops.

    Parameters
    ----------
    W : ndarray, shape (D, C)
        Weights; column ``c`` scores class ``c``.
    X : ndarray, shape (N, D)
        A minibatch, one example per row.
    y : ndarray of int, shape (N,)
        ``y[i]`` in ``0 .. C-1`` is the label of ``X[i]``.
    reg : float
        Regularisation strength.

    Returns
    -------
    loss : float
        Mean cross-entropy loss plus ``reg * np.sum(W * W)``.
    dW : ndarray, shape (D, C)
        Gradient of ``loss`` with respect to ``W``.
    """
    loss = 0.0
    dW = np.zeros_like(W, dtype=np.result_type(W, np.float64))

    # Loop over the examples (and classes where it helps); stay numerically stable.
    ### BEGIN SOLUTION
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)
        exp_scores = np.exp(scores)
        total = np.sum(exp_scores)
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            probability = exp_scores[j] / total
            dW[:, j] += (probability - (j == y[i])) * X[i]
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2.0 * reg * W
    ### END SOLUTION
    return float(loss), dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss and gradient, vectorised (no loops).

    Inputs and outputs as :func:`softmax_loss_naive`.

    Parameters
    ----------
    W : ndarray, shape (D, C)
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)
    reg : float

    Returns
    -------
    loss : float
    dW : ndarray, shape (D, C)
    """
    loss = 0.0
    dW = np.zeros_like(W, dtype=np.result_type(W, np.float64))

    # Loss and gradient without loops; stay numerically stable.
    ### BEGIN SOLUTION
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_sum_exp = np.log(np.sum(np.exp(shifted), axis=1))
    loss = np.mean(log_sum_exp - shifted[rows, y]) + reg * np.sum(W * W)

    probabilities = np.exp(shifted - log_sum_exp[:, np.newaxis])
    probabilities[rows, y] -= 1.0
    dW = X.T @ (probabilities / num_train) + 2.0 * reg * W
    ### END SOLUTION
    return float(loss), dW

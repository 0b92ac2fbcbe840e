"""The multiclass SVM (hinge) loss of a linear classifier and its gradient.

For one example with scores ``s = x W`` and correct class ``y``:

    L_i = sum over j != y of max(0, s_j - s_y + 1)

The full loss averages ``L_i`` over the N examples and adds ``reg * sum(W * W)``.
"""
import numpy as np


def svm_loss_naive(W, X, y, reg):
    """Multiclass SVM loss and gradient, with loops.

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
        Mean hinge loss (margin 1) plus ``reg * np.sum(W * W)``.
    dW : ndarray, shape (D, C)
        Gradient of ``loss`` with respect to ``W``.
    """
    dW = np.zeros(W.shape)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
                # This margin pushes class j up and the correct class down: add its
                # contribution to the gradient.
                ### BEGIN SOLUTION
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
                ### END SOLUTION

    loss /= num_train
    loss += reg * np.sum(W * W)
    # The loss is an average plus a regulariser: make the gradient match it.
    ### BEGIN SOLUTION
    dW /= num_train
    dW += 2.0 * reg * W
    ### END SOLUTION
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    """Multiclass SVM loss and gradient, vectorised (no loops).

    Inputs and outputs as :func:`svm_loss_naive`.

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
    dW = np.zeros(W.shape)
    num_train = X.shape[0]
    rows = np.arange(num_train)

    # The loss, without loops: store it in `loss`.
    ### BEGIN SOLUTION
    scores = X @ W
    correct_scores = scores[rows, y][:, np.newaxis]
    margins = np.maximum(0.0, scores - correct_scores + 1.0)
    margins[rows, y] = 0.0
    loss = np.sum(margins) / num_train + reg * np.sum(W * W)
    ### END SOLUTION

    # The gradient, without loops: store it in `dW`. Reusing intermediate values from
    # the loss computation helps.
    ### BEGIN SOLUTION
    # dL/dscores: +1 for every positive margin, minus their count at the correct class.
    dscores = (margins > 0).astype(scores.dtype)
    dscores[rows, y] = -np.sum(dscores, axis=1)
    dscores /= num_train
    dW = X.T @ dscores + 2.0 * reg * W
    ### END SOLUTION
    return float(loss), dW

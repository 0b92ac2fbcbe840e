"""Layers as forward/backward pairs, and the two classification losses.

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward(dout, cache)``
takes the upstream gradient ``dout`` (same shape as ``out``) and returns the gradient
with respect to each input, in the order the forward pass took them.
"""
import numpy as np


def affine_forward(x, w, b):
    """Fully connected (affine) layer: ``out = x w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        A minibatch of N examples; each is flattened to a vector of
        ``D = d_1 * ... * d_k`` values.
    w : ndarray, shape (D, M)
        Weights.
    b : ndarray, shape (M,)
        Biases.

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
        ``(x, w, b)``.
    """
    out = None
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b
    ### END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of :func:`affine_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
        Upstream gradient.
    cache : tuple
        ``(x, w, b)`` from the forward pass; x has shape (N, d_1, ..., d_k).

    Returns
    -------
    dx : ndarray, shape (N, d_1, ..., d_k)
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    ### BEGIN SOLUTION
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = np.sum(dout, axis=0)
    ### END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit: ``out = max(0, x)`` elementwise.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape as x
    cache : ndarray
        ``x``.
    """
    out = None
    ### BEGIN SOLUTION
    out = np.maximum(0, x)
    ### END SOLUTION
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of :func:`relu_forward`.

    The gradient passes where ``x > 0`` and is 0 elsewhere, including at ``x == 0``
    exactly (the usual convention for the kink).

    Parameters
    ----------
    dout : ndarray, same shape as x
        Upstream gradient.
    cache : ndarray
        ``x`` from the forward pass.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    x = cache
    dx = None
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


def sigmoid_forward(x):
    """Logistic sigmoid ``out = 1 / (1 + exp(-x))`` elementwise.

    Must not overflow or warn for large ``|x|`` (e.g. ``x = -1000``).

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape as x, values in [0, 1]
    cache : ndarray
        ``out``: the backward pass only needs the output.
    """
    out = None
    ### BEGIN SOLUTION
    # exp(-|x|) never overflows; pick the algebraically equal form for each sign.
    exp_neg_abs = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + exp_neg_abs), exp_neg_abs / (1.0 + exp_neg_abs))
    ### END SOLUTION
    cache = out
    return out, cache


def sigmoid_backward(dout, cache):
    """Backward pass of :func:`sigmoid_forward`: ``sigma'(x) = sigma(x) (1 - sigma(x))``.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : ndarray
        ``out`` of the forward pass.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    out = cache
    dx = None
    ### BEGIN SOLUTION
    dx = dout * out * (1.0 - out)
    ### END SOLUTION
    return dx


def tanh_forward(x):
    """Hyperbolic tangent elementwise.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape as x, values in [-1, 1]
    cache : ndarray
        ``out``.
    """
    out = None
    ### BEGIN SOLUTION
    out = np.tanh(x)
    ### END SOLUTION
    cache = out
    return out, cache


def tanh_backward(dout, cache):
    """Backward pass of :func:`tanh_forward`: ``tanh'(x) = 1 - tanh(x)^2``.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : ndarray
        ``out`` of the forward pass.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    out = cache
    dx = None
    ### BEGIN SOLUTION
    dx = dout * (1.0 - out * out)
    ### END SOLUTION
    return dx


def leaky_relu_forward(x, alpha=0.01):
    """Leaky ReLU: ``out = x`` where ``x > 0``, else ``alpha * x``.

    Parameters
    ----------
    x : ndarray, any shape
    alpha : float
        Slope for negative inputs.

    Returns
    -------
    out : ndarray, same shape as x
    cache : tuple
        ``(x, alpha)``.
    """
    out = None
    ### BEGIN SOLUTION
    out = np.where(x > 0, x, alpha * x)
    ### END SOLUTION
    cache = (x, alpha)
    return out, cache


def leaky_relu_backward(dout, cache):
    """Backward pass of :func:`leaky_relu_forward` (slope ``alpha`` at ``x <= 0``).

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : tuple
        ``(x, alpha)``.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    x, alpha = cache
    dx = None
    ### BEGIN SOLUTION
    dx = np.where(x > 0, dout, alpha * dout)
    ### END SOLUTION
    return dx


def elu_forward(x, alpha=1.0):
    """Exponential linear unit: ``out = x`` where ``x > 0``, else ``alpha (exp(x) - 1)``.

    Must not overflow or warn for large positive ``x``.

    Parameters
    ----------
    x : ndarray, any shape
    alpha : float
        Value the output approaches as ``x -> -inf`` is ``-alpha``.

    Returns
    -------
    out : ndarray, same shape as x
    cache : tuple
        ``(x, alpha)``.
    """
    out = None
    ### BEGIN SOLUTION
    # exp is only evaluated where it is used, so large positive x cannot overflow.
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    ### END SOLUTION
    cache = (x, alpha)
    return out, cache


def elu_backward(dout, cache):
    """Backward pass of :func:`elu_forward` (slope ``alpha exp(x)`` at ``x <= 0``).

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : tuple
        ``(x, alpha)``.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    x, alpha = cache
    dx = None
    ### BEGIN SOLUTION
    dx = np.where(x > 0, dout, dout * alpha * np.exp(np.minimum(x, 0)))
    ### END SOLUTION
    return dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss on class scores, margin 1, averaged over N.

    Parameters
    ----------
    x : ndarray, shape (N, C)
        ``x[i, j]`` is the score of class ``j`` for example ``i``.
    y : ndarray of int, shape (N,)
        Labels, ``0 <= y[i] < C``.

    Returns
    -------
    loss : float
    dx : ndarray, shape (N, C)
        Gradient of ``loss`` with respect to ``x``.
    """
    loss, dx = None, None
    ### BEGIN SOLUTION
    num_examples = x.shape[0]
    rows = np.arange(num_examples)
    margins = np.maximum(0.0, x - x[rows, y][:, np.newaxis] + 1.0)
    margins[rows, y] = 0.0
    loss = np.sum(margins) / num_examples
    dx = (margins > 0).astype(np.result_type(x, np.float64))
    dx[rows, y] = -np.sum(dx, axis=1)
    dx /= num_examples
    ### END SOLUTION
    return float(loss), dx


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss on class scores, averaged over N.

    Must stay finite for large scores (shift by the row maximum).

    Parameters
    ----------
    x : ndarray, shape (N, C)
        ``x[i, j]`` is the score of class ``j`` for example ``i``.
    y : ndarray of int, shape (N,)
        Labels, ``0 <= y[i] < C``.

    Returns
    -------
    loss : float
    dx : ndarray, shape (N, C)
        Gradient of ``loss`` with respect to ``x``.
    """
    loss, dx = None, None
    ### BEGIN SOLUTION
    num_examples = x.shape[0]
    rows = np.arange(num_examples)
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_sum_exp = np.log(np.sum(np.exp(shifted), axis=1))
    loss = np.mean(log_sum_exp - shifted[rows, y])
    dx = np.exp(shifted - log_sum_exp[:, np.newaxis])
    dx[rows, y] -= 1.0
    dx /= num_examples
    ### END SOLUTION
    return float(loss), dx

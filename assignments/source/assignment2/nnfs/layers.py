"""Layers as forward/backward pairs, the softmax loss, and inverted dropout.

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward(dout, cache)``
takes the upstream gradient ``dout`` (same shape as ``out``) and returns the gradient
with respect to each input, in the order the forward pass took them.

The affine, ReLU and softmax layers are the ones you wrote in assignment 1: write them
again (or paste your assignment-1 code) before you start.
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


def dropout_forward(x, dropout_param):
    """Inverted dropout.

    At training time every unit is kept with probability ``p`` and dropped (set to 0)
    otherwise; kept units are divided by ``p`` so that the expected output equals ``x``.
    At test time the layer is the identity: no mask and no scaling.

    Parameters
    ----------
    x : ndarray, any shape
    dropout_param : dict
        ``p`` : float in (0, 1], the probability of KEEPING a unit;
        ``mode`` : ``'train'`` or ``'test'``;
        ``seed`` : int, optional; if given, call ``np.random.seed(seed)`` first, so that
        the same seed gives the same mask (for gradient checks).

    Returns
    -------
    out : ndarray, same shape as x
    cache : tuple
        ``(dropout_param, mask)``; ``mask`` is the array x was multiplied by in training
        (zeros and ``1 / p``), None in test mode.
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask, out = None, None
    if mode == "train":
        # Draw the mask (already divided by p) and apply it.
        ### BEGIN SOLUTION
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
        ### END SOLUTION
    elif mode == "test":
        # The identity.
        ### BEGIN SOLUTION
        out = x
        ### END SOLUTION
    else:
        raise ValueError(f"dropout mode must be 'train' or 'test', not {mode!r}")
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of :func:`dropout_forward`.

    Parameters
    ----------
    dout : ndarray, same shape as x
        Upstream gradient.
    cache : tuple
        ``(dropout_param, mask)`` from the forward pass.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    dx = None
    if mode == "train":
        ### BEGIN SOLUTION
        dx = dout * mask
        ### END SOLUTION
    elif mode == "test":
        dx = dout
    return dx


# ---------------------------------------------------------------------------------------
# Layers of part 2 (convolution, pooling, batch normalisation), re-exported here so that
# ``from nnfs.layers import *`` finds every layer. Part 2 adds its imports below this line.
# ---------------------------------------------------------------------------------------
from nnfs.conv_layers import (conv_backward_naive, conv_forward_naive,  # noqa: E402,F401
                              max_pool_backward_naive, max_pool_forward_naive)
from nnfs.normalization import (batchnorm_backward, batchnorm_backward_alt,  # noqa: E402,F401
                                batchnorm_forward, spatial_batchnorm_backward,
                                spatial_batchnorm_forward)

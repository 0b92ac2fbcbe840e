"""Convenience layers that chain the basic ones of :mod:`nnfs.layers` (staff code).

The conv sandwiches run on ``course_lib``'s fast conv and pool layers (im2col), so that
ConvNets train in minutes; ``convolutional_networks.ipynb`` checks those against your
naive layers.
"""
from course_lib.fast_layers import (conv_backward_fast, conv_forward_fast,
                                    max_pool_backward_fast, max_pool_forward_fast)
from nnfs.layers import affine_backward, affine_forward, relu_backward, relu_forward


def affine_relu_forward(x, w, b):
    """An affine layer followed by a ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
    w : ndarray, shape (D, M)
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
        ``(affine_cache, relu_cache)`` for :func:`affine_relu_backward`.
    """
    scores, affine_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(scores)
    return out, (affine_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward pass of :func:`affine_relu_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
    cache : tuple
        From :func:`affine_relu_forward`.

    Returns
    -------
    dx : ndarray, shape (N, d_1, ..., d_k)
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    affine_cache, relu_cache = cache
    dscores = relu_backward(dout, relu_cache)
    return affine_backward(dscores, affine_cache)


def conv_relu_forward(x, w, b, conv_param):
    """A convolution followed by a ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        ``stride`` and ``pad``, as for ``conv_forward_naive``.

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
    cache : tuple
        ``(conv_cache, relu_cache)`` for :func:`conv_relu_backward`.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache, input_grad=True):
    """Backward pass of :func:`conv_relu_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : tuple
        From :func:`conv_relu_forward`.
    input_grad : bool, default True
        False skips dx (returned as None), which saves time in a network's first layer.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache, input_grad=input_grad)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """A convolution, a ReLU and a max pool.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        ``stride`` and ``pad`` of the convolution.
    pool_param : dict
        ``pool_height``, ``pool_width`` and ``stride`` of the max pool.

    Returns
    -------
    out : ndarray, shape (N, F, H_pool, W_pool)
    cache : tuple
        ``(conv_cache, relu_cache, pool_cache)`` for :func:`conv_relu_pool_backward`.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache, input_grad=True):
    """Backward pass of :func:`conv_relu_pool_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_pool, W_pool)
    cache : tuple
        From :func:`conv_relu_pool_forward`.
    input_grad : bool, default True
        False skips dx (returned as None): a network's first layer needs no gradient for
        the images, and computing it costs about a third of the layer's backward pass.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache, input_grad=input_grad)

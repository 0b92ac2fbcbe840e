"""Convolution and max-pooling layers, written with loops (the "naive" versions).

All arrays use the NCHW layout: ``x[n, c, i, j]`` is pixel (i, j) of channel c of image n.
The convolution is a cross-correlation, as in every deep-learning library: filter tap
(0, 0) meets the top-left pixel of its window; the filter is not flipped.

Output size along one dimension, for an input of size W, a filter (or pool window) of
size F, padding P and stride S:

    out = (W - F + 2 P) / S + 1

``course_lib.fast_layers`` holds fast versions of both layers, for training; the
notebook ``convolutional_networks.ipynb`` checks them against yours.
"""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    """Convolution layer forward pass, with loops.

    Every filter slides over the zero-padded input with the given stride; at each
    position the output is the dot product of the filter with the window under it,
    plus the filter's bias.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        A minibatch of N images with C channels.
    w : ndarray, shape (F, C, HH, WW)
        F filters, each spanning all C channels; HH and WW may differ.
    b : ndarray, shape (F,)
        One bias per filter.
    conv_param : dict
        ``stride`` : int, pixels between neighbouring windows (same in both directions);
        ``pad`` : int, zeros added on every side of every image (same in both directions).

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
        ``H_out = 1 + (H + 2 * pad - HH) // stride``,
        ``W_out = 1 + (W + 2 * pad - WW) // stride``.
    cache : tuple
        ``(x, w, b, conv_param)``, for :func:`conv_backward_naive`.
    """
    out = None
    ### BEGIN SOLUTION
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                top, left = i * stride, j * stride
                window = x_pad[n, :, top:top + HH, left:left + WW]      # (C, HH, WW)
                # one dot product per filter: sum over channels and filter taps
                out[n, :, i, j] = np.sum(w * window, axis=(1, 2, 3)) + b
    ### END SOLUTION
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Convolution layer backward pass, with loops.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
        Upstream gradient.
    cache : tuple
        ``(x, w, b, conv_param)`` from :func:`conv_forward_naive`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Gradient with respect to x (the padding's gradient is dropped).
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    dx, dw, db = None, None, None
    x, w, b, conv_param = cache
    ### BEGIN SOLUTION
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, w, dout))
    dw = np.zeros_like(w, dtype=dx_pad.dtype)
    # every output pixel adds its bias once: sum over images and positions
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                top, left = i * stride, j * stride
                window = x_pad[n, :, top:top + HH, left:left + WW]      # (C, HH, WW)
                upstream = dout[n, :, i, j]                             # (F,)
                # out[n, f, i, j] = sum(w[f] * window) + b[f]
                dw += upstream[:, None, None, None] * window
                dx_pad[n, :, top:top + HH, left:left + WW] += np.tensordot(upstream, w, axes=1)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    ### END SOLUTION
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max-pooling forward pass, with loops.

    Each channel of each image is pooled on its own: the output is the largest value in
    every window. Windows may overlap (stride < window size).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``pool_height``, ``pool_width`` : int, the window's size;
        ``stride`` : int, pixels between neighbouring windows.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
        ``H_out = 1 + (H - pool_height) // stride``,
        ``W_out = 1 + (W - pool_width) // stride``.
    cache : tuple
        ``(x, pool_param)``, for :func:`max_pool_backward_naive`.
    """
    out = None
    ### BEGIN SOLUTION
    pool_h, pool_w = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - pool_h) // stride
    W_out = 1 + (W - pool_w) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            window = x[:, :, top:top + pool_h, left:left + pool_w]      # (N, C, ph, pw)
            out[:, :, i, j] = np.max(window, axis=(2, 3))
    ### END SOLUTION
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Max-pooling backward pass, with loops.

    The gradient of a window's output goes to the one input that was its maximum; when
    several inputs tie for the maximum, to the FIRST of them in row-major order (the one
    ``np.argmax`` of the flattened window picks). Overlapping windows add up.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
        Upstream gradient.
    cache : tuple
        ``(x, pool_param)`` from :func:`max_pool_forward_naive`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    dx = None
    x, pool_param = cache
    ### BEGIN SOLUTION
    pool_h, pool_w = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + pool_h, left:left + pool_w]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, top + r, left + s] += dout[n, c, i, j]
    ### END SOLUTION
    return dx

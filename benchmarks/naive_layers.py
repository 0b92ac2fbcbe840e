"""Loop-by-loop convolution and max pooling: the reference the fast layers are checked against.

These are written the way the assignment-2 notebook asks students to write them (explicit
loops over images, filters and output pixels), so they are obviously right and very slow.
They live here, not in ``course_lib``, because writing them is a student task.

All arrays are NCHW. Max-pool ties: the gradient goes to the first maximum of the window in
row-major order (``np.argmax`` of the window), the same rule as ``course_lib.fast_layers``.
"""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    """Convolution (cross-correlation) with zero padding.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict with int ``stride`` and ``pad``

    Returns
    -------
    out : ndarray, shape (N, F, out_h, out_w), x.dtype
        ``out_h = 1 + (H + 2*pad - HH) // stride``, likewise out_w.
    cache : tuple (x, w, b, conv_param)
    """
    stride, pad = conv_param["stride"], conv_param["pad"]
    num_images, _, height, width = x.shape
    num_filters, _, filter_h, filter_w = w.shape
    out_h = 1 + (height + 2 * pad - filter_h) // stride
    out_w = 1 + (width + 2 * pad - filter_w) // stride
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((num_images, num_filters, out_h, out_w), dtype=x.dtype)
    for n in range(num_images):
        for f in range(num_filters):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    window = x_padded[n, :, top:top + filter_h, left:left + filter_w]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """Gradients of :func:`conv_forward_naive`.

    Parameters
    ----------
    dout : ndarray, shape (N, F, out_h, out_w)
    cache : tuple from conv_forward_naive

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    x, w, _, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    num_images, num_filters, out_h, out_w = dout.shape
    _, _, filter_h, filter_w = w.shape
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_padded = np.zeros_like(x_padded)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(num_images):
        for f in range(num_filters):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    window = x_padded[n, :, top:top + filter_h, left:left + filter_w]
                    dw[f] += dout[n, f, i, j] * window
                    dx_padded[n, :, top:top + filter_h, left:left + filter_w] += \
                        dout[n, f, i, j] * w[f]
    dx = dx_padded[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max pooling.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict with int ``pool_height``, ``pool_width`` and ``stride``

    Returns
    -------
    out : ndarray, shape (N, C, out_h, out_w), x.dtype
        ``out_h = 1 + (H - pool_height) // stride``, likewise out_w.
    cache : tuple (x, pool_param)
    """
    pool_h, pool_w = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    num_images, channels, height, width = x.shape
    out_h = 1 + (height - pool_h) // stride
    out_w = 1 + (width - pool_w) // stride
    out = np.zeros((num_images, channels, out_h, out_w), dtype=x.dtype)
    for n in range(num_images):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = np.max(x[n, c, top:top + pool_h, left:left + pool_w])
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Gradient of :func:`max_pool_forward_naive`: each window's dout goes to its first max.

    Parameters
    ----------
    dout : ndarray, shape (N, C, out_h, out_w)
    cache : tuple from max_pool_forward_naive

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Overlapping windows add their contributions.
    """
    x, pool_param = cache
    pool_h, pool_w = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    num_images, channels, out_h, out_w = dout.shape
    dx = np.zeros_like(x)
    for n in range(num_images):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + pool_h, left:left + pool_w]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, top + di, left + dj] += dout[n, c, i, j]
    return dx

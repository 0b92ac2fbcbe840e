"""Batch normalisation, for fully connected layers and (spatially) for conv layers.

At training time each feature is normalised with the mean and variance of the
minibatch, then scaled and shifted by learned parameters:

    mu = mean(x)    var = mean((x - mu)**2)    (the biased estimator, divides by N)
    x_hat = (x - mu) / sqrt(var + eps)
    out = gamma * x_hat + beta

and exponentially decaying running averages of mu and var are kept:

    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var  = momentum * running_var  + (1 - momentum) * var

At test time there may be one example, or a batch that is not representative, so the
running averages replace the batch statistics.

``bn_param`` is a dict: ``mode`` ('train' or 'test', required), ``eps`` (default 1e-5),
``momentum`` (default 0.9), ``running_mean`` and ``running_var`` (arrays of shape (D,),
zeros when absent). The forward pass stores the updated running averages back into
``bn_param``.
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation forward pass.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma : ndarray, shape (D,)
        Scale.
    beta : ndarray, shape (D,)
        Shift.
    bn_param : dict
        See the module docstring. In 'train' mode the running averages in it are
        updated (and created as zeros if absent).

    Returns
    -------
    out : ndarray, shape (N, D)
    cache : tuple
        What the backward passes need (train mode); None in test mode.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        ### BEGIN SOLUTION
        mu = np.mean(x, axis=0)
        xc = x - mu
        var = np.mean(xc ** 2, axis=0)
        std = np.sqrt(var + eps)
        x_hat = xc / std
        out = gamma * x_hat + beta
        cache = (x_hat, xc, std, gamma)

        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        ### END SOLUTION
    elif mode == "test":
        ### BEGIN SOLUTION
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
        ### END SOLUTION
    else:
        raise ValueError(f"batchnorm_forward: invalid mode {mode!r} (use 'train' or 'test')")

    # Store the updated running averages back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Batch normalisation backward pass, one node of the computational graph at a time.

    Work backwards through the graph of the forward pass (mean, centring, square,
    variance, square root, division, scale, shift), applying the chain rule at each node.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
        Upstream gradient.
    cache : tuple
        From :func:`batchnorm_forward` in train mode.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma : ndarray, shape (D,)
    dbeta : ndarray, shape (D,)
    """
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    # out = gamma * x_hat + beta
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    # x_hat = xc * inv_std, with inv_std = 1 / std
    dxc = dx_hat / std
    dinv_std = np.sum(dx_hat * xc, axis=0)
    # inv_std = 1 / std,  std = sqrt(var + eps)
    dstd = -dinv_std / std ** 2
    dvar = 0.5 * dstd / std
    # var = mean(xc ** 2): each of the N squares gets 1/N of dvar
    dxc += 2.0 * xc * dvar / N
    # xc = x - mu,  mu = mean(x): mu takes minus the sum, then spreads it back over N rows
    dmu = -np.sum(dxc, axis=0)
    dx = dxc + dmu / N
    ### END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Batch normalisation backward pass, simplified on paper to a single expression.

    The gradient with respect to x_hat is ``gamma * dout``; the chain rule through the
    mean and the variance collapses to (means over the batch axis)

        dx = gamma / sqrt(var + eps) * (dout - mean(dout) - x_hat * mean(dout * x_hat))

    where ``sum(dout)`` is dbeta and ``sum(dout * x_hat)`` is dgamma, already computed.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        From :func:`batchnorm_forward` in train mode.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma : ndarray, shape (D,)
    dbeta : ndarray, shape (D,)
    """
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    x_hat, _, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx = (gamma / std) * (dout - (dbeta + x_hat * dgamma) / N)
    ### END SOLUTION
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Spatial batch normalisation: batch normalisation for conv layers.

    Each channel is one feature: its mean and variance are taken over the batch AND over
    every pixel, so all positions of a channel share gamma and beta (as the filter that
    made the channel is shared by all positions). Reuse :func:`batchnorm_forward`.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    bn_param : dict
        As for :func:`batchnorm_forward`; running averages have shape (C,).

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : tuple
        For :func:`spatial_batchnorm_backward`.
    """
    out, cache = None, None
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    # (N, C, H, W) -> (N*H*W, C): one row per pixel, one column per channel
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Spatial batch normalisation backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        From :func:`spatial_batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)
    """
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    N, C, H, W = dout.shape
    drows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(drows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return dx, dgamma, dbeta

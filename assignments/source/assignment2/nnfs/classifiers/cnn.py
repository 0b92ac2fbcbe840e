"""A three-layer convolutional network, built from the sandwich layers of
:mod:`nnfs.layer_utils` (which run on ``course_lib``'s fast conv and pool layers)."""
import numpy as np

from nnfs.layer_utils import (affine_relu_backward, affine_relu_forward,
                              conv_relu_pool_backward, conv_relu_pool_forward)
from nnfs.layers import affine_backward, affine_forward, softmax_loss


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The convolution has stride 1 and padding ``(filter_size - 1) // 2``, so an odd filter
    keeps the image's height and width; the pool (2x2, stride 2) halves them (rounding
    down).

    Parameters
    ----------
    input_dim : tuple (C, H, W)
        Shape of one input image.
    num_filters : int
        F, the number of filters of the conv layer.
    filter_size : int
        Height and width of each filter.
    hidden_dim : int
        Units of the hidden affine layer.
    num_classes : int
    weight_scale : float
        Standard deviation of the Gaussian the weights are drawn from (biases are 0).
    reg : float
        L2 regularisation strength; the loss adds ``0.5 * reg * sum(W * W)`` for W1, W2
        and W3.
    dtype : numpy dtype
        float32 to train, float64 to check gradients.

    Attributes
    ----------
    params : dict of str -> ndarray
        ``W1`` (F, C, filter_size, filter_size), ``b1`` (F,),
        ``W2`` (F * H_pool * W_pool, hidden_dim), ``b2`` (hidden_dim,),
        ``W3`` (hidden_dim, num_classes), ``b3`` (num_classes,).
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        self.filter_size = filter_size

        # Fill self.params with weights drawn from a Gaussian of mean 0 and standard
        # deviation weight_scale, and zero biases. W2's number of rows is the size of the
        # pooled conv output: work out its height and width from the layer arithmetic.
        ### BEGIN SOLUTION
        C, H, W = input_dim
        pad = (filter_size - 1) // 2
        conv_h = H + 2 * pad - filter_size + 1
        conv_w = W + 2 * pad - filter_size + 1
        pool_h, pool_w = (conv_h - 2) // 2 + 1, (conv_w - 2) // 2 + 1
        self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params["b1"] = np.zeros(num_filters)
        self.params["W2"] = weight_scale * np.random.randn(num_filters * pool_h * pool_w, hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)
        ### END SOLUTION

        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        Parameters
        ----------
        X : ndarray, shape (N, C, H, W)
        y : ndarray of int, shape (N,), optional

        Returns
        -------
        scores : ndarray, shape (N, num_classes)
            If ``y`` is None.
        loss : float
            Otherwise: softmax loss plus regularisation, and
        grads : dict of str -> ndarray
            the gradient of ``loss`` for every key of ``self.params``, same shapes.
        """
        X = X.astype(self.dtype, copy=False)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]

        # for conv_relu_pool_forward
        conv_param = {"stride": 1, "pad": (self.filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        scores = None
        # The forward pass: compute the class scores (use the sandwich layers).
        ### BEGIN SOLUTION
        pooled, conv_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
        scores, scores_cache = affine_forward(hidden, W3, b3)
        ### END SOLUTION

        if y is None:
            return scores

        loss, grads = 0, {}
        # The backward pass: the loss (with 0.5 * reg * sum(W * W) for W1, W2, W3) and the
        # gradient of every parameter in grads.
        ### BEGIN SOLUTION
        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        # the images need no gradient: skip dx of the first layer
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, conv_cache, input_grad=False)
        grads["W3"] += self.reg * W3
        grads["W2"] += self.reg * W2
        grads["W1"] += self.reg * W1
        ### END SOLUTION

        return loss, grads

"""A fully connected network of any depth, built from the layers in :mod:`nnfs.layers`."""
import numpy as np

from nnfs.layers import (affine_backward, affine_forward, dropout_backward, dropout_forward,
                         relu_backward, relu_forward, softmax_loss)
from nnfs.normalization import batchnorm_backward_alt, batchnorm_forward


class FullyConnectedNet:
    """{affine - [batchnorm] - ReLU - [dropout]} x (L - 1) - affine - softmax.

    Parameters
    ----------
    hidden_dims : list of int
        The sizes of the L - 1 hidden layers.
    input_dim : int
        D, the size of one (flattened) input.
    num_classes : int
        C, the number of classes.
    dropout_keep_ratio : float in (0, 1]
        The probability of keeping a hidden unit; 1 means no dropout layers.
    normalization : None or "batchnorm"
        Whether a batch normalisation layer follows every hidden affine layer.
    reg : float
        L2 regularisation strength; the loss adds ``0.5 * reg * sum(W * W)`` for every
        weight matrix (not the biases, not gamma or beta).
    weight_scale : float
        Standard deviation of the Gaussian the weights are drawn from (biases are 0).
    dtype : numpy dtype or its name
        Every parameter has this dtype (float32 to train, float64 to check gradients);
        ``np.float64`` and ``"float64"`` mean the same.
    seed : int or None
        If given, the dropout layers use this seed (the same mask on every call), which
        makes gradient checks with dropout possible.

    Attributes
    ----------
    params : dict of str -> ndarray
        ``W1`` (D, H1), ``b1`` (H1,), ..., ``WL`` (H_{L-1}, C), ``bL`` (C,); with batch
        normalisation also ``gamma1``, ``beta1`` (H1,) ... ``gamma{L-1}``, ``beta{L-1}``
        (ones and zeros at the start).
    num_layers : int
        L, the number of affine layers (``len(hidden_dims) + 1``).
    use_dropout : bool
        ``dropout_keep_ratio != 1``.
    dropout_param : dict
        Passed to every dropout layer: ``mode``, ``p`` and, with a seed, ``seed``.
    bn_params : list of dict
        One per batch normalisation layer (``mode``, then running averages); empty
        without batch normalisation.
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        # Fill self.params: layer i (1 to L) has weights "W{i}" from a Gaussian with mean
        # 0 and standard deviation weight_scale and biases "b{i}" of zeros; with batch
        # normalisation the hidden layers also have "gamma{i}" (ones) and "beta{i}"
        # (zeros).
        ### BEGIN SOLUTION
        dims = [input_dim, *hidden_dims, num_classes]
        for i in range(1, self.num_layers + 1):
            fan_in, fan_out = dims[i - 1], dims[i]
            self.params[f"W{i}"] = weight_scale * np.random.randn(fan_in, fan_out)
            self.params[f"b{i}"] = np.zeros(fan_out)
            if self.normalization == "batchnorm" and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        ### END SOLUTION

        # The dropout layers share one parameter dict (the mode is set in loss()).
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

        # Each batch normalisation layer keeps its own running mean and variance.
        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]

        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        Parameters
        ----------
        X : ndarray, shape (N, d_1, ..., d_k)
            A minibatch; each example is flattened to ``input_dim`` values.
        y : ndarray of int, shape (N,), optional
            Labels. Without them the network runs in test mode (dropout off, batch
            normalisation with its running averages) and returns the scores.

        Returns
        -------
        scores : ndarray, shape (N, C)
            If ``y`` is None.
        loss : float
            Otherwise: the softmax loss plus the regularisation, and
        grads : dict of str -> ndarray
            the gradient of ``loss`` for every key of ``self.params``, same shapes.
        """
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

        scores = None
        # The forward pass: compute the class scores, keeping every layer's cache for the
        # backward pass.
        ### BEGIN SOLUTION
        L = self.num_layers
        caches = {}
        hidden = X
        for i in range(1, L):
            hidden, caches[f"affine{i}"] = affine_forward(hidden, self.params[f"W{i}"],
                                                          self.params[f"b{i}"])
            if self.normalization == "batchnorm":
                hidden, caches[f"bn{i}"] = batchnorm_forward(
                    hidden, self.params[f"gamma{i}"], self.params[f"beta{i}"],
                    self.bn_params[i - 1])
            hidden, caches[f"relu{i}"] = relu_forward(hidden)
            if self.use_dropout:
                hidden, caches[f"dropout{i}"] = dropout_forward(hidden, self.dropout_param)
        scores, scores_cache = affine_forward(hidden, self.params[f"W{L}"], self.params[f"b{L}"])
        ### END SOLUTION

        if y is None:
            return scores

        loss, grads = 0.0, {}
        # The backward pass: the data loss from softmax_loss plus 0.5 * reg * sum(W * W)
        # for every weight matrix, and every gradient in `grads`.
        ### BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        dhidden, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, scores_cache)
        for i in range(L - 1, 0, -1):
            if self.use_dropout:
                dhidden = dropout_backward(dhidden, caches[f"dropout{i}"])
            dhidden = relu_backward(dhidden, caches[f"relu{i}"])
            if self.normalization == "batchnorm":
                dhidden, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_alt(
                    dhidden, caches[f"bn{i}"])
            dhidden, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(
                dhidden, caches[f"affine{i}"])
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        ### END SOLUTION
        return loss, grads

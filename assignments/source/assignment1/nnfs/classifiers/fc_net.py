"""A two-layer fully connected network built from the layers in :mod:`nnfs.layers`."""
import numpy as np

from nnfs.layer_utils import affine_relu_backward, affine_relu_forward
from nnfs.layers import affine_backward, affine_forward, softmax_loss


class TwoLayerNet:
    """affine - ReLU - affine - softmax.

    Parameters
    ----------
    input_dim : int
        D, the size of one (flattened) input.
    hidden_dim : int
        H, the size of the hidden layer.
    num_classes : int
        C, the number of classes.
    weight_scale : float
        Standard deviation of the Gaussian the weights are drawn from.
    reg : float
        L2 regularisation strength; the loss adds ``0.5 * reg * sum(W * W)`` for each of
        the weight matrices W1 and W2 (not the biases).

    Attributes
    ----------
    params : dict of str -> ndarray
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
    reg : float
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        self.params = {}
        self.reg = reg
        # Weights from a Gaussian with mean 0 and standard deviation weight_scale,
        # biases zero: fill self.params['W1'], ['b1'], ['W2'], ['b2'].
        ### BEGIN SOLUTION
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)
        ### END SOLUTION

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        Parameters
        ----------
        X : ndarray, shape (N, d_1, ..., d_k)
            A minibatch; each example is flattened to ``input_dim`` values.
        y : ndarray of int, shape (N,), optional
            Labels. Without them the method only runs the forward pass.

        Returns
        -------
        scores : ndarray, shape (N, C)
            If ``y`` is None: ``scores[i, c]`` is the score of class ``c`` for ``X[i]``.
        loss : float
            Otherwise: the softmax loss plus the regularisation, and
        grads : dict of str -> ndarray
            the gradient of ``loss`` for every key of ``self.params``, same shapes.
        """
        scores = None
        # The forward pass: compute the class scores.
        ### BEGIN SOLUTION
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        hidden, hidden_cache = affine_relu_forward(X, W1, b1)
        scores, scores_cache = affine_forward(hidden, W2, b2)
        ### END SOLUTION

        if y is None:
            return scores

        loss, grads = 0, {}
        # The backward pass: the data loss from softmax_loss plus
        # 0.5 * self.reg * sum(W * W) for W1 and W2, and every gradient in `grads`.
        ### BEGIN SOLUTION
        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        grads["W2"] += self.reg * W2
        grads["W1"] += self.reg * W1
        ### END SOLUTION
        return loss, grads

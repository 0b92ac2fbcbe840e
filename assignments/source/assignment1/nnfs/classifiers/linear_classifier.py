"""Linear classifiers trained with minibatch stochastic gradient descent."""
import numpy as np

from nnfs.classifiers.linear_svm import svm_loss_vectorized
from nnfs.classifiers.softmax import softmax_loss_vectorized


class LinearClassifier:
    """A linear classifier ``scores = X W`` trained by minibatch SGD.

    Subclasses choose the loss by implementing :meth:`loss`.

    Attributes
    ----------
    W : ndarray, shape (D, C) or None
        The weights, created by the first call of :meth:`train`.
    """

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100,
              batch_size=200, verbose=False):
        """Train with minibatch stochastic gradient descent.

        Parameters
        ----------
        X : ndarray, shape (N, D)
            Training examples, one per row.
        y : ndarray of int, shape (N,)
            ``y[i]`` in ``0 .. C-1`` is the label of ``X[i]``.
        learning_rate : float
            Step size of each update.
        reg : float
            Regularisation strength.
        num_iters : int
            Number of SGD steps.
        batch_size : int
            Examples per step, sampled from ``X`` with replacement.
        verbose : bool
            Print the loss every 100 iterations.

        Returns
        -------
        loss_history : list of float, length num_iters
            The minibatch loss before each update.
        """
        if np.ndim(X) != 2 or np.ndim(y) != 1 or len(X) != len(y):
            raise ValueError(f"expected X of shape (N, D) and y of shape (N,); got "
                             f"{np.shape(X)} and {np.shape(y)}")
        num_train, dim = X.shape
        num_classes = int(np.max(y)) + 1  # y takes values 0 .. C-1
        if self.W is None:
            self.W = 0.001 * np.random.randn(dim, num_classes)

        loss_history = []
        for it in range(num_iters):
            X_batch = None
            y_batch = None
            # Sample batch_size examples and their labels into X_batch (batch_size, D)
            # and y_batch (batch_size,). Sampling with replacement is faster.
            ### BEGIN SOLUTION
            batch = np.random.choice(num_train, batch_size, replace=True)
            X_batch = X[batch]
            y_batch = y[batch]
            ### END SOLUTION

            loss, grad = self.loss(X_batch, y_batch, reg)
            loss_history.append(float(loss))

            # Update the weights with the gradient and the learning rate.
            ### BEGIN SOLUTION
            self.W -= learning_rate * grad
            ### END SOLUTION

            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")

        return loss_history

    def predict(self, X):
        """Predict labels with the trained weights.

        Parameters
        ----------
        X : ndarray, shape (N, D)

        Returns
        -------
        y_pred : ndarray of int, shape (N,)
            The class with the highest score for each row of ``X``.
        """
        if self.W is None:
            raise RuntimeError("call train(X, y) before predict")
        y_pred = np.zeros(X.shape[0], dtype=np.int64)
        ### BEGIN SOLUTION
        y_pred = np.argmax(X @ self.W, axis=1)
        ### END SOLUTION
        return y_pred

    def loss(self, X_batch, y_batch, reg):
        """Loss and gradient on a minibatch; subclasses implement it.

        Parameters
        ----------
        X_batch : ndarray, shape (N, D)
        y_batch : ndarray of int, shape (N,)
        reg : float

        Returns
        -------
        loss : float
        dW : ndarray, shape (D, C)
            Gradient with respect to ``self.W``.
        """
        raise NotImplementedError("use a subclass: LinearSVM or Softmax")


class LinearSVM(LinearClassifier):
    """Linear classifier with the multiclass SVM (hinge) loss."""

    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """Linear classifier with the softmax (cross-entropy) loss."""

    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)

"""A k-nearest-neighbour classifier with Euclidean (L2) distances."""
import numpy as np


def _check_rows(X, name):
    """Raise a ValueError unless ``X`` is a 2-D array of examples (one row each)."""
    if np.ndim(X) != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (num_examples, D), one "
                         f"flattened example per row; got shape {np.shape(X)}. Reshape "
                         f"images first, e.g. X.reshape(X.shape[0], -1).")


class KNearestNeighbor:
    """kNN classifier with L2 distance.

    Training only memorises the data; prediction finds, for every test example, the ``k``
    training examples closest to it and takes a majority vote over their labels.

    Attributes
    ----------
    X_train : ndarray, shape (num_train, D)
        The training examples, one per row (set by :meth:`train`).
    y_train : ndarray of int, shape (num_train,)
        Their labels in ``0 .. C-1``.
    """

    def __init__(self):
        self.X_train = None
        self.y_train = None

    def train(self, X, y):
        """Memorise the training data.

        Parameters
        ----------
        X : ndarray, shape (num_train, D)
            Training examples, one per row.
        y : ndarray of int, shape (num_train,)
            ``y[i]`` is the label of ``X[i]``, an integer in ``0 .. C-1``.
        """
        _check_rows(X, "X")
        if np.ndim(y) != 1 or len(y) != len(X):
            raise ValueError(f"y must be a 1-D array with one label per row of X "
                             f"({len(X)} rows); got shape {np.shape(y)}")
        self.X_train = np.asarray(X)
        self.y_train = np.asarray(y)

    def predict(self, X, k=1, num_loops=0):
        """Predict labels for test data.

        Parameters
        ----------
        X : ndarray, shape (num_test, D)
            Test examples, one per row.
        k : int
            Number of nearest neighbours that vote.
        num_loops : {0, 1, 2}
            Which implementation computes the distances.

        Returns
        -------
        y_pred : ndarray of int, shape (num_test,)
            ``y_pred[i]`` is the predicted label of ``X[i]``.
        """
        if self.X_train is None:
            raise RuntimeError("call train(X, y) before predict")
        if num_loops == 0:
            dists = self.compute_distances_no_loops(X)
        elif num_loops == 1:
            dists = self.compute_distances_one_loop(X)
        elif num_loops == 2:
            dists = self.compute_distances_two_loops(X)
        else:
            raise ValueError(f"num_loops must be 0, 1 or 2, not {num_loops!r}")
        return self.predict_labels(dists, k=k)

    def compute_distances_two_loops(self, X):
        """L2 distance between every test and every training example, with a nested loop.

        Parameters
        ----------
        X : ndarray, shape (num_test, D)
            Test examples, one per row.

        Returns
        -------
        dists : ndarray, shape (num_test, num_train)
            ``dists[i, j]`` is the Euclidean distance between ``X[i]`` and
            ``self.X_train[j]``.
        """
        _check_rows(X, "X")
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        for i in range(num_test):
            for j in range(num_train):
                # Distance between the i-th test point and the j-th training point,
                # without a loop over the D dimensions and without np.linalg.norm().
                ### BEGIN SOLUTION
                difference = X[i] - self.X_train[j]
                dists[i, j] = np.sqrt(np.sum(difference * difference))
                ### END SOLUTION
        return dists

    def compute_distances_one_loop(self, X):
        """L2 distances as in :meth:`compute_distances_two_loops`, with one loop over the
        test examples.

        Parameters
        ----------
        X : ndarray, shape (num_test, D)

        Returns
        -------
        dists : ndarray, shape (num_test, num_train)
        """
        _check_rows(X, "X")
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        for i in range(num_test):
            # Distances from the i-th test point to all training points at once
            # (fill the row dists[i, :]); no np.linalg.norm().
            ### BEGIN SOLUTION
            differences = self.X_train - X[i]
            dists[i, :] = np.sqrt(np.sum(differences * differences, axis=1))
            ### END SOLUTION
        return dists

    def compute_distances_no_loops(self, X):
        """L2 distances as in :meth:`compute_distances_two_loops`, with no explicit loop.

        Only basic array operations: no Python loop, no ``np.linalg.norm``, no scipy.
        Hint: expand ``||x - t||^2`` into ``||x||^2 - 2 x.t + ||t||^2``, which is one
        matrix product plus two broadcast sums.

        Parameters
        ----------
        X : ndarray, shape (num_test, D)

        Returns
        -------
        dists : ndarray, shape (num_test, num_train)
        """
        _check_rows(X, "X")
        ### BEGIN SOLUTION
        # Row-wise squared norms; einsum avoids a temporary as large as the data.
        test_sq_norms = np.einsum("ij,ij->i", X, X)[:, np.newaxis]
        train_sq_norms = np.einsum("ij,ij->i", self.X_train, self.X_train)[np.newaxis, :]
        sq_dists = test_sq_norms - 2.0 * (X @ self.X_train.T) + train_sq_norms
        # Rounding can make a tiny true square distance slightly negative.
        dists = np.sqrt(np.maximum(sq_dists, 0.0))
        ### END SOLUTION
        return dists

    def predict_labels(self, dists, k=1):
        """Majority vote among the ``k`` nearest training examples.

        Parameters
        ----------
        dists : ndarray, shape (num_test, num_train)
            ``dists[i, j]`` is the distance between test example ``i`` and training
            example ``j``.
        k : int
            Number of nearest neighbours that vote.

        Returns
        -------
        y_pred : ndarray of int, shape (num_test,)
            The most common label among the ``k`` nearest neighbours of each test
            example. A tie between labels is broken in favour of the smaller label.
        """
        num_test = dists.shape[0]
        y_pred = np.zeros(num_test, dtype=np.int64)
        for i in range(num_test):
            # closest_y: the labels of the k nearest neighbours of the i-th test point
            # (np.argsort helps); then store the most common of them in y_pred[i].
            ### BEGIN SOLUTION
            nearest = np.argsort(dists[i], kind="stable")[:k]
            closest_y = self.y_train[nearest]
            # argmax returns the first maximum, so ties go to the smaller label.
            y_pred[i] = np.argmax(np.bincount(closest_y))
            ### END SOLUTION
        return y_pred

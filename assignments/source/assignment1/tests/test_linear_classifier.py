"""Public tests for nnfs/classifiers/linear_classifier.py: SGD training and prediction."""
import numpy as np
import pytest


def separable_blobs(seed, num_per_class=40, dim=5, num_classes=3):
    """Well-separated Gaussian clusters, with a constant 1 column as bias trick."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * rng.normal(size=(num_classes, dim))
    y = np.repeat(np.arange(num_classes), num_per_class)
    X = centres[y] + rng.normal(size=(len(y), dim))
    return np.hstack([X, np.ones((len(y), 1))]), y


@pytest.mark.points(2)
@pytest.mark.parametrize("classifier", ["LinearSVM", "Softmax"])
def test_training_lowers_the_loss_and_fits_blobs(student, classifier):
    """train returns one loss per iteration, the loss falls, and predict fits the blobs"""
    classifiers = student.import_module("nnfs.classifiers")
    X, y = separable_blobs(seed=0)
    clf = getattr(classifiers, classifier)()
    history = clf.train(X, y, learning_rate=1e-2, reg=1e-4, num_iters=150, batch_size=30)
    assert len(history) == 150, "one loss per iteration"
    assert np.mean(history[-10:]) < 0.5 * np.mean(history[:10]), "the loss should fall"
    y_pred = clf.predict(X)
    assert y_pred.shape == y.shape
    assert np.mean(y_pred == y) > 0.9


@pytest.mark.points(1)
def test_predict_takes_the_highest_score(student):
    """predict returns the argmax of X W"""
    classifiers = student.import_module("nnfs.classifiers")
    clf = classifiers.LinearSVM()
    clf.W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    X = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(clf.predict(X), [1, 1, 1, 2])

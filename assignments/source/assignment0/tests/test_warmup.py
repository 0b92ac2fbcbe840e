"""Public tests for nnfs/warmup.py: run them with `pytest` in the assignment folder.

The grader runs these same tests (its own copy) plus hidden ones with more shapes,
seeds, dtypes and edge cases. Passing these is necessary, not sufficient.
"""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient, rel_error


@pytest.fixture
def warmup(student):
    return student.import_module("nnfs.warmup")


def loop_distances(X, Y):
    """The definition, one pair at a time (slow; only for checking)."""
    return np.array([[np.sqrt(np.sum((x - y) ** 2)) for y in Y] for x in X])


@pytest.mark.points(2)
def test_l2_distances_right_triangles(warmup):
    """l2_distances on points whose distances are whole numbers (3-4-5 triangles)"""
    X = np.array([[0.0, 0.0], [3.0, 4.0]])
    Y = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    dists = warmup.l2_distances(X, Y)
    assert dists.shape == (2, 3), "one row per point of X, one column per point of Y"
    np.testing.assert_allclose(dists, [[0.0, 3.0, 4.0], [5.0, 4.0, 3.0]], atol=1e-12)


@pytest.mark.points(2)
def test_l2_distances_match_the_definition(warmup):
    """l2_distances agrees with the one-pair-at-a-time definition on random points"""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(7, 3))
    np.testing.assert_allclose(warmup.l2_distances(X, Y), loop_distances(X, Y), rtol=1e-7)
    np.testing.assert_allclose(warmup.l2_distances(X, X).diagonal(), 0.0, atol=1e-6)


@pytest.mark.points(1)
def test_softmax_of_equal_scores_is_uniform(warmup):
    """softmax gives every class the same probability when the scores are equal"""
    probs = warmup.softmax(np.full((2, 4), 3.0))
    np.testing.assert_allclose(probs, 0.25)


@pytest.mark.points(2)
def test_softmax_survives_large_scores(warmup):
    """softmax stays finite for scores around 1000 (shift by the row maximum)"""
    probs = warmup.softmax(np.array([[1000.0, 1000.0], [1000.0, 0.0]]))
    assert np.all(np.isfinite(probs)), "exp overflowed: subtract each row's maximum first"
    np.testing.assert_allclose(probs, [[0.5, 0.5], [1.0, 0.0]], atol=1e-12)


@pytest.mark.points(2)
def test_softmax_loss_of_zero_scores(warmup):
    """softmax_loss with all-zero scores: loss log(C), gradient (1/C - one_hot) / N"""
    num_samples, num_classes = 3, 4
    y = np.array([0, 3, 1])
    loss, dscores = warmup.softmax_loss(np.zeros((num_samples, num_classes)), y)
    assert np.isclose(loss, np.log(num_classes))
    expected = np.full((num_samples, num_classes), 1.0 / num_classes)
    expected[np.arange(num_samples), y] -= 1.0
    np.testing.assert_allclose(dscores, expected / num_samples, atol=1e-12)


@pytest.mark.points(2)
def test_softmax_loss_gradient_matches_numeric_gradient(warmup):
    """dscores of softmax_loss agrees with a centred-difference gradient"""
    rng = np.random.default_rng(1)
    scores, y = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    _, dscores = warmup.softmax_loss(scores, y)
    numeric = eval_numerical_gradient(lambda s: warmup.softmax_loss(s, y)[0], scores,
                                      verbose=False)
    assert rel_error(dscores, numeric) < 1e-7


@pytest.mark.points(2)
def test_standardizer_gives_zero_mean_unit_std(warmup):
    """Standardizer: fit learns column means and stds; transform centres and scales"""
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    scaler = warmup.Standardizer().fit(X)
    np.testing.assert_allclose(scaler.mean, [3.0, 10.0])
    assert scaler.std[0] == pytest.approx(np.sqrt(8.0 / 3.0))
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z[:, 0].mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:, 0].std(), 1.0)
    assert np.all(np.isfinite(Z[:, 1])), "a constant column must not divide by zero"

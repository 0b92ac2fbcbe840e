"""Hidden tests for assignment 0 (NumPy warm-up).

Run by the grader with ``--hidden``; never released. Expected values come from the
instructor's solution through the ``reference`` fixture (loaded in the trusted process);
student code is reached through ``student``. Failures raise
:class:`autograder.testing.Feedback` with words that say what is wrong, never the expected
numbers. Every check here must pass any correct implementation, looped or vectorised.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient, rel_error

SEEDS = (11, 23, 47)


@pytest.fixture
def warmup(student):
    return student.import_module("nnfs.warmup")


@pytest.fixture
def solution(reference):
    return reference.import_module("nnfs.warmup")


def random_scores(rng, num_samples, num_classes, scale=3.0):
    return scale * rng.normal(size=(num_samples, num_classes))


# ---------------------------------------------------------------- l2_distances

@pytest.mark.points(2)
@pytest.mark.parametrize("seed", SEEDS)
def test_l2_distances_random_nonsquare(warmup, solution, seed):
    """l2_distances on random non-square inputs (N != M, several feature counts)"""
    rng = np.random.default_rng(seed)
    num_x, num_y, dim = rng.integers(1, 40, size=3)
    X, Y = rng.normal(size=(num_x, dim)), rng.normal(size=(num_y, dim))
    expect_close(warmup.l2_distances(X, Y), solution.l2_distances(X, Y),
                 f"l2_distances of a ({num_x}, {dim}) and a ({num_y}, {dim}) array")


@pytest.mark.points(1)
def test_l2_distances_single_rows(warmup, solution):
    """l2_distances with a single point on either side (shapes (1, D) and (M, D))"""
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(1, 6)), rng.normal(size=(9, 6))
    expect_close(warmup.l2_distances(X, Y), solution.l2_distances(X, Y),
                 "l2_distances of one point against nine")
    expect_close(warmup.l2_distances(Y, X), solution.l2_distances(Y, X),
                 "l2_distances of nine points against one")


@pytest.mark.points(2)
def test_l2_distances_never_nan_for_identical_points(warmup):
    """l2_distances of far-from-origin points to themselves: zero diagonal, no NaN"""
    rng = np.random.default_rng(3)
    X = 1e3 + rng.normal(size=(30, 8))
    dists = np.asarray(warmup.l2_distances(X, X))
    expect(dists.shape == (30, 30), "l2_distances(X, X) should have shape (N, N)")
    expect(not np.any(np.isnan(dists)),
           "l2_distances returns NaN: rounding can make a squared distance slightly "
           "negative; clip it at 0 before the square root")
    expect(np.all(dists >= 0), "l2_distances returns negative distances")
    expect(np.allclose(np.diagonal(dists), 0.0, atol=1e-3),
           "the distance of a point to itself should be (close to) 0")
    # ... and the right distance to every other point (all zeros has a zero diagonal too)
    exact = np.sqrt(np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=2))
    expect_close(dists, exact, "l2_distances(X, X) for points far from the origin",
                 rtol=1e-6, atol=1e-3)


@pytest.mark.points(1)
def test_l2_distances_float32(warmup, solution):
    """l2_distances on float32 inputs gives the float64 answer to float32 precision"""
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(12, 5)), rng.normal(size=(7, 5))
    actual = warmup.l2_distances(X.astype(np.float32), Y.astype(np.float32))
    expect_close(actual, solution.l2_distances(X, Y), "l2_distances of float32 arrays",
                 rtol=1e-3, atol=1e-3)


# ---------------------------------------------------------------- softmax

@pytest.mark.points(1)
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_random(warmup, solution, seed):
    """softmax on random scores of several shapes"""
    rng = np.random.default_rng(seed)
    num_samples, num_classes = rng.integers(1, 30, size=2)
    scores = random_scores(rng, num_samples, num_classes)
    expect_close(warmup.softmax(scores), solution.softmax(scores),
                 f"softmax of a ({num_samples}, {num_classes}) score array")


@pytest.mark.points(2)
@pytest.mark.parametrize("offset", [1e4, -1e4])
def test_softmax_extreme_scores(warmup, solution, offset):
    """softmax of scores around +-10000 stays finite and correct (overflow/underflow)"""
    rng = np.random.default_rng(2)
    scores = offset + random_scores(rng, 6, 5)
    probs = np.asarray(warmup.softmax(scores))
    expect(np.all(np.isfinite(probs)),
           "softmax returns inf or NaN for very large or very small scores; subtract "
           "each row's maximum before np.exp")
    expect_close(probs, solution.softmax(scores), "softmax of large-magnitude scores")


@pytest.mark.points(1)
def test_softmax_rows_are_distributions(warmup):
    """softmax rows are non-negative and sum to 1, also with a single class"""
    rng = np.random.default_rng(4)
    probs = np.asarray(warmup.softmax(random_scores(rng, 10, 7)))
    expect(np.all(probs >= 0), "softmax returns negative probabilities")
    expect_close(probs.sum(axis=1), np.ones(10), "the row sums of softmax")
    expect_close(warmup.softmax(rng.normal(size=(4, 1))), np.ones((4, 1)),
                 "softmax with a single class")


@pytest.mark.points(1)
def test_softmax_float32(warmup, solution):
    """softmax on float32 scores gives the float64 answer to float32 precision"""
    scores = random_scores(np.random.default_rng(9), 8, 6)
    expect_close(warmup.softmax(scores.astype(np.float32)), solution.softmax(scores),
                 "softmax of float32 scores", rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- softmax_loss

@pytest.mark.points(2)
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_loss_random(warmup, solution, seed):
    """softmax_loss value and gradient on random batches"""
    rng = np.random.default_rng(seed)
    num_samples, num_classes = rng.integers(2, 25, size=2)
    scores = random_scores(rng, num_samples, num_classes)
    y = rng.integers(0, num_classes, size=num_samples)
    loss, dscores = warmup.softmax_loss(scores, y)
    expected_loss, expected_dscores = solution.softmax_loss(scores, y)
    expect(np.ndim(loss) == 0, "softmax_loss should return the loss as a single number")
    expect_close(loss, expected_loss, "the loss of softmax_loss (averaged over N?)")
    expect_close(dscores, expected_dscores, "dscores of softmax_loss (divided by N?)")


@pytest.mark.points(3)
def test_softmax_loss_gradient_check(warmup, solution):
    """softmax_loss: the loss is right and dscores matches a numeric gradient of it"""
    rng = np.random.default_rng(17)
    scores = random_scores(rng, 7, 4, scale=1.0)
    y = rng.integers(0, 4, size=7)
    loss, dscores = warmup.softmax_loss(scores, y)
    # Anchored to the reference: a constant loss would match its own zero gradient.
    expect_close(loss, solution.softmax_loss(scores, y)[0], "the loss of softmax_loss")
    numeric = eval_numerical_gradient(lambda s: float(warmup.softmax_loss(s, y)[0]),
                                      scores, verbose=False)
    expect(np.shape(dscores) == scores.shape, "dscores should have the shape of scores")
    expect(rel_error(np.asarray(dscores, dtype=np.float64), numeric) < 1e-6,
           "dscores does not match the numeric gradient of the loss")


@pytest.mark.points(2)
def test_softmax_loss_extreme_scores(warmup, solution):
    """softmax_loss stays finite and correct for scores around 10000"""
    rng = np.random.default_rng(6)
    scores = 1e4 * rng.normal(size=(5, 3))
    y = rng.integers(0, 3, size=5)
    loss, dscores = warmup.softmax_loss(scores, y)
    expected_loss, expected_dscores = solution.softmax_loss(scores, y)
    expect(np.isfinite(loss), "the loss is inf or NaN for large scores: compute log "
                              "probabilities from max-shifted scores")
    expect_close(loss, expected_loss, "the loss for large scores", rtol=1e-6)
    expect_close(dscores, expected_dscores, "dscores for large scores")


# ---------------------------------------------------------------- Standardizer

@pytest.mark.points(2)
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_standardizer_statistics_and_transform(warmup, solution, seed):
    """Standardizer: mean and std from fit, transform of new data with those statistics"""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.1, 50.0, size=6)
    X_train = 5.0 + scale * rng.normal(size=(40, 6))
    X_test = 5.0 + scale * rng.normal(size=(9, 6))
    scaler = warmup.Standardizer()
    scaler.fit(X_train)
    expected = solution.Standardizer().fit(X_train)
    expect_close(scaler.mean, expected.mean, "Standardizer.mean")
    expect_close(scaler.std, expected.std, "Standardizer.std")
    expect_close(scaler.transform(X_test), expected.transform(X_test),
                 "transform of data other than the training data (use the training "
                 "statistics)")


@pytest.mark.points(2)
def test_standardizer_constant_column(warmup):
    """Standardizer with a zero-variance column gives zeros there, not NaN or inf"""
    rng = np.random.default_rng(12)
    X = rng.normal(size=(15, 4))
    X[:, 2] = 7.0
    scaler = warmup.Standardizer()
    scaler.fit(X)
    Z = np.asarray(scaler.transform(X))
    expect(np.all(np.isfinite(Z)), "a constant column gives NaN or inf: floor std at eps")
    expect_close(Z[:, 2], np.zeros(15), "the transformed constant column", atol=1e-6)
    expect_close(Z[:, [0, 1, 3]].mean(axis=0), np.zeros(3),
                 "the column means after transform", atol=1e-10)
    expect_close(Z[:, [0, 1, 3]].std(axis=0), np.ones(3), "the column stds after transform")


@pytest.mark.points(1)
def test_standardizer_fit_returns_itself(warmup):
    """Standardizer.fit returns the fitted standardizer, so fit(X).transform(X) works"""
    X = np.random.default_rng(13).normal(size=(10, 3))
    Z = np.asarray(warmup.Standardizer().fit(X).transform(X))
    expect(Z.shape == (10, 3), "fit(X).transform(X) should give an array shaped like X")

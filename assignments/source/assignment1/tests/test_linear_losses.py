"""Public tests for the SVM and softmax losses (linear_svm.py and softmax.py).

The lecture's example: three images (cat, car, frog) with class scores, one image per
row here, columns cat / car / frog. With ``W`` the identity and ``X`` these scores, a
loss of ``(W, X, y)`` is the loss of the scores.
"""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient, rel_error

LECTURE_SCORES = np.array([[3.2, 5.1, -1.7],    # the cat image (label 0)
                           [1.3, 4.9, 2.0],     # the car image (label 1)
                           [2.2, 2.5, -3.1]])   # the frog image (label 2)
LECTURE_LABELS = np.array([0, 1, 2])
IDENTITY = np.eye(3)

LOSS_FUNCTIONS = [("nnfs.classifiers.linear_svm", "svm_loss_naive"),
                  ("nnfs.classifiers.linear_svm", "svm_loss_vectorized"),
                  ("nnfs.classifiers.softmax", "softmax_loss_naive"),
                  ("nnfs.classifiers.softmax", "softmax_loss_vectorized")]


def loss_function(student, module_and_name):
    module, name = module_and_name
    return getattr(student.import_module(module), name)


def random_problem(seed, num_examples=8, dim=6, num_classes=4):
    rng = np.random.default_rng(seed)
    W = 0.1 * rng.normal(size=(dim, num_classes))
    X = rng.normal(size=(num_examples, dim))
    y = rng.integers(0, num_classes, size=num_examples)
    return W, X, y


@pytest.mark.points(2)
@pytest.mark.parametrize("name", ["svm_loss_naive", "svm_loss_vectorized"])
def test_svm_loss_on_the_lecture_scores(student, name):
    """the SVM loss of the lecture's cat/car/frog scores is (2.9 + 0 + 12.9) / 3"""
    svm_loss = getattr(student.import_module("nnfs.classifiers.linear_svm"), name)
    for image, expected in zip(range(3), [2.9, 0.0, 12.9]):
        one = slice(image, image + 1)
        loss, _ = svm_loss(IDENTITY, LECTURE_SCORES[one], LECTURE_LABELS[one], 0.0)
        assert np.isclose(loss, expected, atol=1e-9), f"the loss of image {image}"
    loss, dW = svm_loss(IDENTITY, LECTURE_SCORES, LECTURE_LABELS, 0.0)
    assert np.isclose(loss, 15.8 / 3, atol=1e-9), "the mean over the three images (about 5.27)"
    assert dW.shape == (3, 3)


@pytest.mark.points(2)
@pytest.mark.parametrize("name", ["softmax_loss_naive", "softmax_loss_vectorized"])
def test_softmax_loss_on_the_lecture_cat(student, name):
    """the softmax loss of the lecture's cat scores is about 2.04"""
    softmax_loss = getattr(student.import_module("nnfs.classifiers.softmax"), name)
    loss, dW = softmax_loss(IDENTITY, LECTURE_SCORES[:1], LECTURE_LABELS[:1], 0.0)
    expected = -np.log(np.exp(3.2) / np.sum(np.exp([3.2, 5.1, -1.7])))
    assert np.isclose(loss, expected, rtol=1e-9) and np.isclose(loss, 2.04, atol=5e-3)
    assert dW.shape == (3, 3)


@pytest.mark.points(1)
@pytest.mark.parametrize("module_and_name", LOSS_FUNCTIONS, ids=lambda m: m[1])
def test_regularisation_adds_reg_times_sum_of_squares(student, module_and_name):
    """the loss grows by exactly reg * sum(W * W) (no factor 1/2)"""
    loss_fn = loss_function(student, module_and_name)
    W, X, y = random_problem(seed=3)
    plain, _ = loss_fn(W, X, y, 0.0)
    regularised, _ = loss_fn(W, X, y, 0.7)
    assert np.isclose(regularised - plain, 0.7 * np.sum(W * W), rtol=1e-8)


@pytest.mark.points(1)
@pytest.mark.parametrize("module_and_name", LOSS_FUNCTIONS, ids=lambda m: m[1])
def test_initial_loss_sanity_check(student, module_and_name):
    """with tiny weights the SVM loss is about C - 1 and the softmax loss about log C"""
    loss_fn = loss_function(student, module_and_name)
    W, X, y = random_problem(seed=4, num_examples=20, dim=15, num_classes=10)
    loss, _ = loss_fn(1e-4 * W, X, y, 0.0)
    expected = 9.0 if "svm" in module_and_name[1] else np.log(10.0)
    assert np.isclose(loss, expected, rtol=1e-2)


@pytest.mark.points(3)
@pytest.mark.parametrize("module_and_name", LOSS_FUNCTIONS, ids=lambda m: m[1])
def test_gradient_matches_numeric_gradient(student, module_and_name):
    """dW matches a centred-difference gradient, with and without regularisation"""
    loss_fn = loss_function(student, module_and_name)
    W, X, y = random_problem(seed=5, dim=5, num_classes=3)
    for reg in (0.0, 0.5):
        loss, dW = loss_fn(W, X, y, reg)
        assert dW.shape == W.shape, "dW has the shape of W"
        numeric = eval_numerical_gradient(lambda w: loss_fn(w, X, y, reg)[0], W.copy(),
                                          verbose=False)
        assert rel_error(dW, numeric) < 1e-6, f"dW disagrees with the numeric gradient (reg={reg})"


@pytest.mark.points(2)
@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_vectorized_agrees_with_naive(student, kind):
    """the vectorised loss and gradient equal the naive ones"""
    module = student.import_module(
        "nnfs.classifiers.linear_svm" if kind == "svm" else "nnfs.classifiers.softmax")
    naive = getattr(module, f"{kind}_loss_naive")
    vectorized = getattr(module, f"{kind}_loss_vectorized")
    W, X, y = random_problem(seed=6, num_examples=30, dim=10, num_classes=5)
    loss_naive, dW_naive = naive(W, X, y, 0.1)
    loss_vec, dW_vec = vectorized(W, X, y, 0.1)
    assert np.isclose(loss_naive, loss_vec, rtol=1e-10)
    np.testing.assert_allclose(dW_vec, dW_naive, rtol=1e-7, atol=1e-10)


@pytest.mark.points(1)
def test_softmax_survives_large_scores(student):
    """softmax_loss_vectorized stays finite for scores in the thousands (max shift)"""
    softmax = student.import_module("nnfs.classifiers.softmax")
    scores = 1000.0 * LECTURE_SCORES
    loss, dW = softmax.softmax_loss_vectorized(IDENTITY, scores, LECTURE_LABELS, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))

"""Hidden tests: SVM and softmax losses, LinearSVM / Softmax training and prediction.

Expected values come from the instructor's solution (the ``reference`` fixture), run in
this trusted process on float64 copies of the inputs.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient, rel_error

LOSSES = [("nnfs.classifiers.linear_svm", "svm_loss_naive"),
          ("nnfs.classifiers.linear_svm", "svm_loss_vectorized"),
          ("nnfs.classifiers.softmax", "softmax_loss_naive"),
          ("nnfs.classifiers.softmax", "softmax_loss_vectorized")]
LOSS_IDS = [name for _, name in LOSSES]


def function(side, module_and_name):
    module, name = module_and_name
    return getattr(side.import_module(module), name)


def random_problem(seed, num_examples, dim, num_classes, weight_scale=0.1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    W = (weight_scale * rng.normal(size=(dim, num_classes))).astype(dtype)
    X = rng.normal(size=(num_examples, dim)).astype(dtype)
    y = rng.integers(0, num_classes, size=num_examples)
    return W, X, y


SHAPES = [(1, 1, 2), (5, 7, 3), (33, 20, 10), (64, 3, 7)]


@pytest.mark.points(3)
@pytest.mark.parametrize("module_and_name", LOSSES, ids=LOSS_IDS)
def test_loss_and_gradient_on_random_shapes(student, reference, module_and_name):
    """loss and dW are right for several shapes and regularisation strengths"""
    mine, theirs = function(student, module_and_name), function(reference, module_and_name)
    name = module_and_name[1]
    for seed, (num_examples, dim, num_classes) in enumerate(SHAPES):
        W, X, y = random_problem(200 + seed, num_examples, dim, num_classes, weight_scale=1.0)
        for reg in (0.0, 0.37):
            shape = f"N={num_examples}, D={dim}, C={num_classes}, reg={reg}"
            expected_loss, expected_dW = theirs(W, X, y, reg)
            loss, dW = mine(W, X, y, reg)
            expect_close(loss, expected_loss, f"the loss of {name} ({shape})", rtol=1e-7)
            expect_close(dW, expected_dW, f"dW of {name} ({shape})", rtol=1e-6, atol=1e-9)


@pytest.mark.points(2)
@pytest.mark.parametrize("module_and_name", LOSSES, ids=LOSS_IDS)
def test_float32_inputs(student, reference, module_and_name):
    """loss and dW are right (to float32 precision) when W and X are float32"""
    mine, theirs = function(student, module_and_name), function(reference, module_and_name)
    name = module_and_name[1]
    W, X, y = random_problem(210, 50, 30, 10, weight_scale=0.5, dtype=np.float32)
    expected_loss, expected_dW = theirs(W.astype(np.float64), X.astype(np.float64), y, 0.1)
    loss, dW = mine(W, X, y, 0.1)
    expect_close(loss, expected_loss, f"the loss of {name} on float32 data", rtol=1e-4)
    expect_close(dW, expected_dW, f"dW of {name} on float32 data", rtol=1e-3,
                 atol=1e-4 * np.max(np.abs(expected_dW)))


@pytest.mark.points(2)
@pytest.mark.parametrize("module_and_name", LOSSES, ids=LOSS_IDS)
def test_gradient_matches_numeric_gradient(student, reference, module_and_name):
    """the loss is right and dW matches a centred-difference gradient of it (with regularisation)"""
    mine = function(student, module_and_name)
    name = module_and_name[1]
    W, X, y = random_problem(220, 9, 4, 5, weight_scale=1.0)
    loss, dW = mine(W, X, y, 0.9)
    # Anchored to the reference: a constant loss would match its own zero gradient.
    expect_close(loss, function(reference, module_and_name)(W, X, y, 0.9)[0],
                 f"the loss of {name} (N=9, D=4, C=5, reg=0.9)", rtol=1e-7)
    numeric = eval_numerical_gradient(lambda w: mine(w, X, y, 0.9)[0], W.copy(), verbose=False)
    expect(np.shape(dW) == W.shape, f"dW of {name} should have the shape of W (D, C)")
    expect(rel_error(np.asarray(dW), numeric) < 1e-6,
           f"dW of {name} does not match the numeric gradient of its own loss")


@pytest.mark.points(1)
@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_vectorized_agrees_with_naive(student, reference, kind):
    """the naive loss is right on a larger batch and the vectorised one equals it"""
    module = "nnfs.classifiers.linear_svm" if kind == "svm" else "nnfs.classifiers.softmax"
    naive = function(student, (module, f"{kind}_loss_naive"))
    vectorized = function(student, (module, f"{kind}_loss_vectorized"))
    W, X, y = random_problem(230, 100, 25, 10, weight_scale=0.3)
    loss_naive, dW_naive = naive(W, X, y, 0.2)
    loss_vec, dW_vec = vectorized(W, X, y, 0.2)
    # Agreement alone would let two equally wrong (say, all-zero) versions through.
    expected_loss, expected_dW = function(reference, (module, f"{kind}_loss_vectorized"))(W, X, y, 0.2)
    expect_close(loss_naive, expected_loss, f"the loss of {kind}_loss_naive (N=100)", rtol=1e-7)
    expect_close(dW_naive, expected_dW, f"dW of {kind}_loss_naive (N=100)", rtol=1e-6,
                 atol=1e-9)
    expect_close(loss_vec, loss_naive, f"{kind}_loss_vectorized compared with {kind}_loss_naive",
                 rtol=1e-8)
    expect_close(dW_vec, dW_naive, f"dW of {kind}_loss_vectorized compared with {kind}_loss_naive",
                 rtol=1e-6, atol=1e-10)


@pytest.mark.points(1)
@pytest.mark.parametrize("module_and_name", LOSSES[:2], ids=LOSS_IDS[:2])
def test_svm_margins_exactly_at_the_boundary(student, reference, module_and_name):
    """the SVM loss counts a margin of exactly 1 as satisfied (it adds nothing)"""
    mine, theirs = function(student, module_and_name), function(reference, module_and_name)
    # Every wrong class exactly 1 below, or far below, the correct one. Only the loss is
    # compared: at the kink any subgradient is acceptable.
    # The last row also has a violated margin, so the expected loss is not 0.
    X = np.array([[2.0, 1.0, 1.0], [0.0, 1.0, -5.0], [3.0, 3.0, 4.0], [1.0, 1.5, 0.0]])
    y = np.array([0, 1, 2, 0])
    loss, _ = mine(np.eye(3), X, y, 0.0)
    expect_close(loss, theirs(np.eye(3), X, y, 0.0)[0],
                 f"the loss of {module_and_name[1]} when every margin is exactly met")


@pytest.mark.points(2)
@pytest.mark.parametrize("module_and_name", LOSSES[2:], ids=LOSS_IDS[2:])
def test_softmax_with_huge_scores(student, reference, module_and_name):
    """the softmax loss stays finite and right for scores in the thousands"""
    mine, theirs = function(student, module_and_name), function(reference, module_and_name)
    name = module_and_name[1]
    W, X, y = random_problem(240, 12, 6, 4, weight_scale=1.0)
    W = 800.0 * W  # scores of several thousand: exp() overflows without the max shift
    expected_loss, expected_dW = theirs(W, X, y, 0.0)
    loss, dW = mine(W, X, y, 0.0)
    expect_close(loss, expected_loss, f"the loss of {name} with very large scores "
                                      "(shift the scores by their maximum)", rtol=1e-7)
    expect_close(dW, expected_dW, f"dW of {name} with very large scores", rtol=1e-6, atol=1e-9)


def embedded_blobs(seed, num_classes=4, dim=24, num_per_class=60):
    """Gaussian clusters in a few directions of a larger space, plus a bias column.

    Returns train and held-out splits ``(X_train, y_train, X_val, y_val)``.
    """
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.normal(size=(num_classes, dim))
    y = rng.permutation(np.repeat(np.arange(num_classes), num_per_class))
    X = centres[y] + 1.5 * rng.normal(size=(len(y), dim))
    X = np.hstack([X, np.ones((len(y), 1))]).astype(np.float32)
    split = len(y) * 3 // 4
    return X[:split], y[:split], X[split:], y[split:]


@pytest.mark.points(3)
@pytest.mark.parametrize("classifier", ["LinearSVM", "Softmax"])
def test_training_lowers_the_loss_and_generalises(student, classifier):
    """train() lowers the minibatch loss; predict() reaches high held-out accuracy"""
    classifiers = student.import_module("nnfs.classifiers")
    X_train, y_train, X_val, y_val = embedded_blobs(seed=250)
    clf = getattr(classifiers, classifier)()
    history = clf.train(X_train, y_train, learning_rate=5e-3, reg=1e-3, num_iters=200,
                        batch_size=50)
    expect(len(history) == 200, f"{classifier}.train should return one loss per iteration")
    history = np.asarray(history, dtype=np.float64)
    expect(np.all(np.isfinite(history)), f"{classifier}.train produced a NaN or inf loss")
    expect(np.mean(history[-20:]) < 0.5 * np.mean(history[:20]),
           f"{classifier}.train does not lower the loss on easy data (check the minibatch "
           "sampling and the sign and size of the update)")
    y_pred = np.asarray(clf.predict(X_val))
    expect(y_pred.shape == y_val.shape, f"{classifier}.predict should return one label per row")
    expect(np.mean(y_pred == y_val) >= 0.9,
           f"{classifier} reaches a low held-out accuracy on easy data after training")


@pytest.mark.points(1)
def test_train_with_extreme_batch_sizes(student):
    """train() works with batches of one example and of the whole training set"""
    classifiers = student.import_module("nnfs.classifiers")
    X_train, y_train, _, _ = embedded_blobs(seed=260, num_per_class=5)
    num_classes = int(np.max(y_train)) + 1
    for batch_size in (1, len(y_train)):
        history = classifiers.Softmax().train(X_train, y_train, num_iters=3, batch_size=batch_size)
        expect(len(history) == 3 and np.all(np.isfinite(history)),
               f"Softmax.train with batch_size={batch_size} should give 3 finite losses")
        # The weights start near 0 (scale 0.001), so the first minibatch loss is close
        # to log(C) whichever examples were sampled (within 0.07 in 4000 runs).
        expect(abs(float(history[0]) - np.log(num_classes)) < 0.25,
               f"Softmax.train with batch_size={batch_size}: the first loss is far from the "
               "softmax loss of small initial weights (log of the number of classes)")


@pytest.mark.points(1)
@pytest.mark.parametrize("classifier", ["LinearSVM", "Softmax"])
def test_predict_is_the_argmax_of_the_scores(student, classifier):
    """predict() returns the class with the highest score X W"""
    classifiers = student.import_module("nnfs.classifiers")
    rng = np.random.default_rng(270)
    W, X = rng.normal(size=(8, 6)), rng.normal(size=(40, 8))
    clf = getattr(classifiers, classifier)()
    clf.W = W
    expect(np.array_equal(np.asarray(clf.predict(X)), np.argmax(X @ W, axis=1)),
           f"{classifier}.predict does not pick the highest-scoring class")

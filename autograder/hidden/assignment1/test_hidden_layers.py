"""Hidden tests: affine and activation layers, svm_loss and softmax_loss.

Expected values come from the instructor's solution (the ``reference`` fixture), run in
this trusted process. The numeric-gradient tests also check the student's forward pass
(or loss) against the reference, so a pass that returns constants cannot "match" its
own constant gradient.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error

# (forward, backward, keyword arguments of the forward pass)
ACTIVATIONS = [("relu_forward", "relu_backward", {}),
               ("sigmoid_forward", "sigmoid_backward", {}),
               ("tanh_forward", "tanh_backward", {}),
               ("leaky_relu_forward", "leaky_relu_backward", {}),
               ("leaky_relu_forward", "leaky_relu_backward", {"alpha": 0.3}),
               ("elu_forward", "elu_backward", {}),
               ("elu_forward", "elu_backward", {"alpha": 0.4})]
ACTIVATION_IDS = [f"{f}{'-' + str(kw['alpha']) if kw else ''}" for f, _, kw in ACTIVATIONS]


def described(name, kwargs):
    return f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})" if kwargs else name


def away_from_zero(x, gap=0.05):
    """Move entries with |x| < gap to +-gap, so a centred difference never straddles a kink."""
    return np.where(np.abs(x) < gap, np.where(x < 0, -gap, gap), x)


@pytest.mark.points(2)
def test_affine_on_random_shapes(student, reference):
    """affine_forward / affine_backward are right for inputs of several shapes"""
    mine, theirs = student.import_module("nnfs.layers"), reference.import_module("nnfs.layers")
    for seed, (x_shape, M) in enumerate([((1, 1), 1), ((3, 7), 2), ((4, 2, 3, 5), 6)]):
        rng = np.random.default_rng(300 + seed)
        D = int(np.prod(x_shape[1:]))
        x, w, b = rng.normal(size=x_shape), rng.normal(size=(D, M)), rng.normal(size=M)
        dout = rng.normal(size=(x_shape[0], M))
        out, cache = mine.affine_forward(x, w, b)
        expect_close(out, theirs.affine_forward(x, w, b)[0], f"affine_forward output for x of "
                                                            f"shape {x_shape}")
        expected = theirs.affine_backward(dout, theirs.affine_forward(x, w, b)[1])
        for name, actual, wanted in zip(("dx", "dw", "db"), mine.affine_backward(dout, cache), expected):
            expect_close(actual, wanted, f"{name} of affine_backward for x of shape {x_shape} "
                                         f"and w of shape {(D, M)}")


@pytest.mark.points(1)
def test_affine_float32(student, reference):
    """affine_forward / affine_backward are right (to float32 precision) on float32 arrays"""
    mine, theirs = student.import_module("nnfs.layers"), reference.import_module("nnfs.layers")
    rng = np.random.default_rng(310)
    x, w, b = (rng.normal(size=s).astype(np.float32) for s in [(10, 3, 4), (12, 9), (9,)])
    dout = rng.normal(size=(10, 9)).astype(np.float32)
    out, cache = mine.affine_forward(x, w, b)
    wanted_out, wanted_cache = theirs.affine_forward(*(a.astype(np.float64) for a in (x, w, b)))
    expect_close(out, wanted_out, "affine_forward output on float32 arrays", rtol=1e-4, atol=1e-5)
    wanted = theirs.affine_backward(dout.astype(np.float64), wanted_cache)
    for name, actual, expected in zip(("dx", "dw", "db"), mine.affine_backward(dout, cache), wanted):
        expect_close(actual, expected, f"{name} of affine_backward on float32 arrays",
                     rtol=1e-4, atol=1e-4)


@pytest.mark.points(2)
def test_affine_backward_numeric(student, reference):
    """affine_forward is right and affine_backward matches its numeric gradients"""
    layers = student.import_module("nnfs.layers")
    rng = np.random.default_rng(320)
    x, w, b = rng.normal(size=(3, 2, 2)), rng.normal(size=(4, 3)), rng.normal(size=3)
    dout = rng.normal(size=(3, 3))
    # Anchored to the reference first: a forward pass that returns a constant (zeros)
    # would otherwise have a "matching" zero gradient.
    out, cache = layers.affine_forward(x, w, b)
    expect_close(out, reference.import_module("nnfs.layers").affine_forward(x, w, b)[0],
                 "affine_forward output for x of shape (3, 2, 2)")
    dx, dw, db = layers.affine_backward(dout, cache)
    numeric = {"dx": eval_numerical_gradient_array(lambda v: layers.affine_forward(v, w, b)[0], x.copy(), dout),
               "dw": eval_numerical_gradient_array(lambda v: layers.affine_forward(x, v, b)[0], w.copy(), dout),
               "db": eval_numerical_gradient_array(lambda v: layers.affine_forward(x, w, v)[0], b.copy(), dout)}
    for name, analytic in (("dx", dx), ("dw", dw), ("db", db)):
        expect(np.shape(analytic) == numeric[name].shape,
               f"{name} of affine_backward should have the shape of the input it belongs to")
        expect(rel_error(np.asarray(analytic), numeric[name]) < 1e-7,
               f"{name} of affine_backward does not match the numeric gradient")


@pytest.mark.points(2)
@pytest.mark.parametrize("forward,backward,kwargs", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_values_including_extremes(student, reference, forward, backward, kwargs):
    """forward and backward are right on random inputs, exact zeros and |x| up to 1000"""
    mine, theirs = student.import_module("nnfs.layers"), reference.import_module("nnfs.layers")
    rng = np.random.default_rng(330)
    x = np.concatenate([rng.normal(scale=3.0, size=30), [0.0, -1000.0, 1000.0, -40.0, 40.0, 1e-9]])
    x = x.reshape(3, 2, 6)
    dout = rng.normal(size=x.shape)
    what = described(forward, kwargs)
    out, cache = getattr(mine, forward)(x, **kwargs)
    expected_out, expected_cache = getattr(theirs, forward)(x, **kwargs)
    expect_close(out, expected_out, f"the output of {what} (inputs include 0 and +-1000)",
                 rtol=1e-7, atol=1e-12)
    # At x == 0 exactly the slope is a convention; relu's has its own test.
    off_the_kink = x != 0
    dx = np.asarray(getattr(mine, backward)(dout, cache))
    expect(dx.shape == x.shape, f"dx of {backward} should have the shape of x")
    expect_close(dx[off_the_kink], getattr(theirs, backward)(dout, expected_cache)[off_the_kink],
                 f"dx of {backward} after {what} (inputs include +-1000)", rtol=1e-7, atol=1e-12)


@pytest.mark.points(1)
@pytest.mark.parametrize("forward,backward,kwargs", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_float32(student, reference, forward, backward, kwargs):
    """forward and backward are right (to float32 precision) on float32 inputs"""
    mine, theirs = student.import_module("nnfs.layers"), reference.import_module("nnfs.layers")
    rng = np.random.default_rng(340)
    x = away_from_zero(rng.normal(scale=2.0, size=(5, 7))).astype(np.float32)
    dout = rng.normal(size=(5, 7)).astype(np.float32)
    what = described(forward, kwargs)
    out, cache = getattr(mine, forward)(x, **kwargs)
    expected_out, expected_cache = getattr(theirs, forward)(x.astype(np.float64), **kwargs)
    expect_close(out, expected_out, f"the output of {what} on float32 input", rtol=1e-5, atol=1e-6)
    expected_dx = getattr(theirs, backward)(dout.astype(np.float64), expected_cache)
    expect_close(getattr(mine, backward)(dout, cache), expected_dx,
                 f"dx of {backward} on float32 input", rtol=1e-4, atol=1e-6)


@pytest.mark.points(2)
@pytest.mark.parametrize("forward,backward,kwargs", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_backward_numeric(student, reference, forward, backward, kwargs):
    """the forward pass is right and the backward pass matches its numeric gradient"""
    layers = student.import_module("nnfs.layers")
    rng = np.random.default_rng(350)
    x = away_from_zero(rng.normal(size=(4, 5)))
    dout = rng.normal(size=(4, 5))
    forward_fn = getattr(layers, forward)
    out, cache = forward_fn(x, **kwargs)
    expected_out = getattr(reference.import_module("nnfs.layers"), forward)(x, **kwargs)[0]
    expect_close(out, expected_out, f"the output of {described(forward, kwargs)}",
                 rtol=1e-7, atol=1e-12)
    dx = getattr(layers, backward)(dout, cache)
    numeric = eval_numerical_gradient_array(lambda v: forward_fn(v, **kwargs)[0], x.copy(), dout)
    expect(np.shape(dx) == x.shape, f"dx of {backward} should have the shape of x")
    expect(rel_error(np.asarray(dx), numeric) < 1e-7,
           f"dx of {backward} does not match the numeric gradient of {described(forward, kwargs)}")


@pytest.mark.points(1)
def test_relu_backward_at_exactly_zero(student):
    """relu_backward passes no gradient where x == 0 (the convention in the docstring)"""
    layers = student.import_module("nnfs.layers")
    x = np.array([[0.0, 0.0, 2.0, -3.0], [0.0, 1e-12, -1e-12, 0.0]])
    dout = np.array([[1.0, -2.0, 3.0, 4.0], [5.0, 6.0, 7.0, -8.0]])
    dx = layers.relu_backward(dout, layers.relu_forward(x)[1])
    expect_close(dx, dout * (x > 0), "dx of relu_backward where x is 0 or tiny")


LOSS_LAYERS = ["svm_loss", "softmax_loss"]


@pytest.mark.points(2)
@pytest.mark.parametrize("name", LOSS_LAYERS)
def test_loss_layer_on_random_shapes(student, reference, name):
    """loss and dx are right for several batch sizes, class counts and scales"""
    mine = getattr(student.import_module("nnfs.layers"), name)
    theirs = getattr(reference.import_module("nnfs.layers"), name)
    for seed, (N, C, scale) in enumerate([(1, 2, 1.0), (7, 3, 0.3), (50, 10, 5.0)]):
        rng = np.random.default_rng(360 + seed)
        x, y = scale * rng.normal(size=(N, C)), rng.integers(0, C, size=N)
        expected_loss, expected_dx = theirs(x, y)
        loss, dx = mine(x, y)
        expect_close(loss, expected_loss, f"the loss of {name} for N={N}, C={C}")
        expect_close(dx, expected_dx, f"dx of {name} for N={N}, C={C}")


@pytest.mark.points(1)
@pytest.mark.parametrize("name", LOSS_LAYERS)
def test_loss_layer_float32(student, reference, name):
    """loss and dx are right (to float32 precision) on float32 scores"""
    mine = getattr(student.import_module("nnfs.layers"), name)
    theirs = getattr(reference.import_module("nnfs.layers"), name)
    rng = np.random.default_rng(370)
    x, y = rng.normal(size=(20, 6)).astype(np.float32), rng.integers(0, 6, size=20)
    expected_loss, expected_dx = theirs(x.astype(np.float64), y)
    loss, dx = mine(x, y)
    expect_close(loss, expected_loss, f"the loss of {name} on float32 scores", rtol=1e-5)
    expect_close(dx, expected_dx, f"dx of {name} on float32 scores", rtol=1e-4, atol=1e-7)


@pytest.mark.points(2)
@pytest.mark.parametrize("name", LOSS_LAYERS)
def test_loss_layer_gradient_numeric(student, reference, name):
    """the loss is right and dx matches the numeric gradient of the student's own loss"""
    loss_fn = getattr(student.import_module("nnfs.layers"), name)
    rng = np.random.default_rng(380)
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    loss, dx = loss_fn(x, y)
    expected_loss = getattr(reference.import_module("nnfs.layers"), name)(x, y)[0]
    expect_close(loss, expected_loss, f"the loss of {name} for N=5, C=4")
    numeric = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x.copy(), verbose=False)
    expect(np.shape(dx) == x.shape, f"dx of {name} should have the shape of the scores (N, C)")
    expect(rel_error(np.asarray(dx), numeric) < 1e-7,
           f"dx of {name} does not match the numeric gradient of its own loss")


@pytest.mark.points(1)
def test_softmax_loss_with_huge_scores(student, reference):
    """softmax_loss stays finite and right for scores in the thousands"""
    mine, theirs = student.import_module("nnfs.layers"), reference.import_module("nnfs.layers")
    rng = np.random.default_rng(390)
    x, y = 3000.0 * rng.normal(size=(6, 5)), rng.integers(0, 5, size=6)
    x[0] = 1000.0  # a row of equal huge scores
    expected_loss, expected_dx = theirs.softmax_loss(x, y)
    loss, dx = mine.softmax_loss(x, y)
    expect_close(loss, expected_loss, "the loss of softmax_loss with very large scores "
                                      "(shift the scores by their maximum)")
    expect_close(dx, expected_dx, "dx of softmax_loss with very large scores")


@pytest.mark.points(1)
def test_svm_loss_margin_exactly_one(student, reference):
    """svm_loss counts a margin of exactly 1 as satisfied and ignores the correct class"""
    mine, theirs = student.import_module("nnfs.layers"), reference.import_module("nnfs.layers")
    # Only the loss is compared: at the kink any subgradient is acceptable.
    # The last two rows also violate margins, so the expected loss is not 0.
    x = np.array([[2.0, 1.0, 1.0], [0.0, 1.0, -5.0], [3.0, 3.0, 4.0], [0.0, 0.0, 0.0],
                  [1.0, 1.5, 0.0]])
    y = np.array([0, 1, 2, 1, 0])
    expect_close(mine.svm_loss(x, y)[0], theirs.svm_loss(x, y)[0],
                 "the loss of svm_loss when margins are exactly met")

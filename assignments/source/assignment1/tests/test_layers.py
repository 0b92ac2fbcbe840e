"""Public tests for nnfs/layers.py: forward values on small cases, numeric gradient checks."""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


@pytest.fixture
def layers(student):
    return student.import_module("nnfs.layers")


# (forward name, backward name, keyword arguments of the forward pass)
ACTIVATIONS = [("relu_forward", "relu_backward", {}),
               ("sigmoid_forward", "sigmoid_backward", {}),
               ("tanh_forward", "tanh_backward", {}),
               ("leaky_relu_forward", "leaky_relu_backward", {"alpha": 0.1}),
               ("elu_forward", "elu_backward", {"alpha": 1.5})]


def inputs_away_from_zero(rng, shape):
    """Random values with |x| >= 0.05, so that a centred difference never straddles a kink."""
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < 0.05, 0.05 + np.abs(x), x)


@pytest.mark.points(1)
def test_affine_forward_small(layers):
    """affine_forward computes x w + b"""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    b = np.array([1.0, 2.0, 3.0])
    out, _ = layers.affine_forward(x, w, b)
    np.testing.assert_allclose(out, [[2.0, 4.0, 6.0], [4.0, 6.0, 10.0]])


@pytest.mark.points(1)
def test_affine_forward_flattens_each_example(layers):
    """affine_forward flattens an input of shape (N, d1, d2) to (N, d1*d2)"""
    x = np.arange(12.0).reshape(2, 2, 3)
    w = np.ones((6, 1))
    out, _ = layers.affine_forward(x, w, np.zeros(1))
    np.testing.assert_allclose(out, [[15.0], [51.0]])


@pytest.mark.points(2)
def test_affine_backward_numeric(layers):
    """affine_backward matches numeric gradients for x (N, 2, 3), w and b"""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    dx_num = eval_numerical_gradient_array(lambda v: layers.affine_forward(v, w, b)[0], x.copy(), dout)
    dw_num = eval_numerical_gradient_array(lambda v: layers.affine_forward(x, v, b)[0], w.copy(), dout)
    db_num = eval_numerical_gradient_array(lambda v: layers.affine_forward(x, w, v)[0], b.copy(), dout)
    assert rel_error(dx, dx_num) < 1e-7, "dx"
    assert rel_error(dw, dw_num) < 1e-7, "dw"
    assert rel_error(db, db_num) < 1e-7, "db"


@pytest.mark.points(1)
def test_activation_forward_values(layers):
    """each activation's forward pass on a few hand-checkable inputs"""
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.relu_forward(x)[0], [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.sigmoid_forward(x)[0],
                               [[1 / (1 + np.exp(2.0)), 0.5, 1 / (1 + np.exp(-3.0))]])
    np.testing.assert_allclose(layers.tanh_forward(x)[0], np.tanh(x))
    np.testing.assert_allclose(layers.leaky_relu_forward(x)[0], [[-0.02, 0.0, 3.0]])
    np.testing.assert_allclose(layers.leaky_relu_forward(x, alpha=0.5)[0], [[-1.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.elu_forward(x)[0], [[np.exp(-2.0) - 1, 0.0, 3.0]])
    np.testing.assert_allclose(layers.elu_forward(x, alpha=2.0)[0], [[2 * (np.exp(-2.0) - 1), 0.0, 3.0]])


@pytest.mark.points(2)
@pytest.mark.parametrize("forward,backward,kwargs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_backward_numeric(layers, forward, backward, kwargs):
    """an activation's backward pass matches the numeric gradient"""
    rng = np.random.default_rng(1)
    x = inputs_away_from_zero(rng, (3, 4))
    dout = rng.normal(size=(3, 4))
    forward_fn = getattr(layers, forward)
    _, cache = forward_fn(x, **kwargs)
    dx = getattr(layers, backward)(dout, cache)
    assert dx.shape == x.shape
    dx_num = eval_numerical_gradient_array(lambda v: forward_fn(v, **kwargs)[0], x.copy(), dout)
    assert rel_error(dx, dx_num) < 1e-7


@pytest.mark.points(1)
def test_relu_backward_at_zero_is_zero(layers):
    """relu_backward passes no gradient where x == 0"""
    x = np.array([-1.0, 0.0, 2.0])
    _, cache = layers.relu_forward(x)
    np.testing.assert_allclose(layers.relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


@pytest.mark.points(1)
def test_svm_loss_on_the_lecture_scores(layers):
    """svm_loss of the lecture's cat/car/frog scores is about 5.27"""
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    loss, dx = layers.svm_loss(scores, np.array([0, 1, 2]))
    assert np.isclose(loss, 15.8 / 3)
    assert dx.shape == scores.shape


@pytest.mark.points(1)
def test_softmax_loss_on_the_lecture_cat(layers):
    """softmax_loss of the lecture's cat scores is about 2.04"""
    loss, dx = layers.softmax_loss(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
    assert np.isclose(loss, np.log(np.sum(np.exp([3.2, 5.1, -1.7]))) - 3.2)
    assert dx.shape == (1, 3)


@pytest.mark.points(2)
@pytest.mark.parametrize("name", ["svm_loss", "softmax_loss"])
def test_loss_gradient_numeric(layers, name):
    """svm_loss / softmax_loss: dx matches the numeric gradient"""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    loss_fn = getattr(layers, name)
    _, dx = loss_fn(x, y)
    dx_num = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x.copy(), verbose=False)
    assert rel_error(dx, dx_num) < 1e-7

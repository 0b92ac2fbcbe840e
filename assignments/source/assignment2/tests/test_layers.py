"""Public tests for nnfs/layers.py: the assignment-1 layers again, and inverted dropout."""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient_array, rel_error


@pytest.fixture
def layers(student):
    return student.import_module("nnfs.layers")


@pytest.mark.points(1)
def test_affine_forward_and_backward(layers):
    """affine_forward computes x w + b (x flattened); affine_backward matches numeric gradients"""
    x = np.arange(12.0).reshape(2, 2, 3)
    out, _ = layers.affine_forward(x, np.ones((6, 1)), np.array([1.0]))
    np.testing.assert_allclose(out, [[16.0], [52.0]])
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(
        lambda v: layers.affine_forward(v, w, b)[0], x.copy(), dout)) < 1e-7
    assert rel_error(dw, eval_numerical_gradient_array(
        lambda v: layers.affine_forward(x, v, b)[0], w.copy(), dout)) < 1e-7
    assert rel_error(db, eval_numerical_gradient_array(
        lambda v: layers.affine_forward(x, w, v)[0], b.copy(), dout)) < 1e-7


@pytest.mark.points(1)
def test_relu(layers):
    """relu_forward is max(0, x); relu_backward passes the gradient where x > 0"""
    x = np.array([[-1.0, 0.0, 2.0]])
    out, cache = layers.relu_forward(x)
    np.testing.assert_allclose(out, [[0.0, 0.0, 2.0]])
    np.testing.assert_allclose(layers.relu_backward(np.array([[3.0, 4.0, 5.0]]), cache),
                               [[0.0, 0.0, 5.0]])


@pytest.mark.points(1)
def test_softmax_loss(layers):
    """softmax_loss of equal scores is log C; its gradient matches numeric gradients"""
    loss, dx = layers.softmax_loss(np.zeros((4, 10)), np.arange(4))
    assert loss == pytest.approx(np.log(10))
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 4)), rng.integers(4, size=5)
    _, dx = layers.softmax_loss(x, y)
    numeric = eval_numerical_gradient_array(lambda v: np.array(layers.softmax_loss(v, y)[0]),
                                            x.copy(), np.array(1.0))
    assert rel_error(dx, numeric) < 1e-7


@pytest.mark.points(2)
@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_dropout_forward_keeps_the_mean(layers, p):
    """inverted dropout keeps a fraction p of the units and the output mean in training;
    it is the identity at test time"""
    x = np.random.default_rng(2).normal(loc=10.0, size=(500, 500))
    out, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    assert abs(np.mean(out == 0) - (1 - p)) < 0.01, "the fraction of zeros should be 1 - p"
    assert abs(out.mean() - x.mean()) < 0.05, "kept units must be scaled by 1 / p"
    test_out, _ = layers.dropout_forward(x, {"mode": "test", "p": p})
    np.testing.assert_array_equal(test_out, x)


@pytest.mark.points(1)
def test_dropout_backward(layers):
    """dropout_backward matches numeric gradients (the seed fixes the mask)"""
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(10, 10)) + 10, rng.normal(size=(10, 10))
    param = {"mode": "train", "p": 0.2, "seed": 123}
    _, cache = layers.dropout_forward(x, param)
    dx = layers.dropout_backward(dout, cache)
    numeric = eval_numerical_gradient_array(lambda v: layers.dropout_forward(v, param)[0],
                                            x.copy(), dout)
    assert rel_error(dx, numeric) < 1e-9

"""Public tests for nnfs/classifiers/cnn.py: shapes, sanity checks of the loss, gradients."""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient, rel_error


@pytest.fixture
def cnn(student):
    return student.import_module("nnfs.classifiers.cnn")


@pytest.mark.points(1)
def test_parameter_shapes(cnn):
    """ThreeLayerConvNet: W1..W3, b1..b3 have the shapes of conv - pool - affine - affine"""
    net = cnn.ThreeLayerConvNet(input_dim=(3, 16, 12), num_filters=6, filter_size=5,
                                hidden_dim=20, num_classes=7)
    shapes = {name: np.shape(value) for name, value in net.params.items()}
    # the conv keeps 16x12 (pad 2), the 2x2 pool halves it to 8x6
    assert shapes == {"W1": (6, 3, 5, 5), "b1": (6,), "W2": (6 * 8 * 6, 20), "b2": (20,),
                      "W3": (20, 7), "b3": (7,)}


@pytest.mark.points(1)
def test_initial_loss_is_log_of_the_number_of_classes(cnn):
    """with tiny weights and no regularisation the loss starts near log(10)"""
    np.random.seed(0)
    net = cnn.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3,
                                hidden_dim=10, weight_scale=1e-3)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3, 8, 8)), rng.integers(0, 10, size=10)
    loss, grads = net.loss(X, y)
    assert abs(loss - np.log(10)) < 0.01
    assert sorted(grads) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    scores = net.loss(X)
    assert np.shape(scores) == (10, 10)


@pytest.mark.points(1)
def test_regularisation_raises_the_loss(cnn):
    """the loss grows by 0.5 * reg * sum(W * W) over W1, W2, W3"""
    np.random.seed(1)
    net = cnn.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3,
                                hidden_dim=10, weight_scale=1e-1, dtype="float64")
    params = net.params
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(4, 3, 8, 8)), rng.integers(0, 10, size=4)
    without = net.loss(X, y)[0]
    net.reg = 0.5
    with_reg = net.loss(X, y)[0]
    penalty = 0.25 * sum(np.sum(params[name] ** 2) for name in ("W1", "W2", "W3"))
    assert np.isclose(with_reg - without, penalty)


@pytest.mark.points(3)
def test_gradients_numeric(cnn):
    """every gradient of a small float64 ThreeLayerConvNet matches a numeric gradient"""
    np.random.seed(2)
    net = cnn.ThreeLayerConvNet(input_dim=(2, 6, 6), num_filters=3, filter_size=3,
                                hidden_dim=5, num_classes=4, weight_scale=0.5, reg=0.1,
                                dtype="float64")
    params = net.params
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(2, 2, 6, 6)), rng.integers(0, 4, size=2)
    _, grads = net.loss(X, y)

    def loss_with(name, value):
        net.params = {**params, name: value}
        return net.loss(X, y)[0]

    for name in ("b1", "W2", "b2", "W3", "b3", "W1"):
        numeric = eval_numerical_gradient(lambda v: loss_with(name, v), params[name].copy(),
                                          verbose=False)
        assert rel_error(grads[name], numeric) < 1e-5, f"grads['{name}']"

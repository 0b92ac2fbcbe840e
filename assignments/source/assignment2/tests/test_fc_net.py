"""Public tests for nnfs/classifiers/fc_net.py: FullyConnectedNet."""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient, rel_error


@pytest.fixture
def classifiers(student):
    return student.import_module("nnfs.classifiers")


@pytest.mark.points(1)
def test_parameters(classifiers):
    """__init__ creates W1..WL (small Gaussian) and b1..bL (zeros) of the right shapes and dtype"""
    net = classifiers.FullyConnectedNet([20, 30], input_dim=15, num_classes=7,
                                        weight_scale=1e-2, dtype="float64")
    assert net.num_layers == 3
    params = net.params
    assert sorted(params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    shapes = {"W1": (15, 20), "b1": (20,), "W2": (20, 30), "b2": (30,), "W3": (30, 7), "b3": (7,)}
    for name, shape in shapes.items():
        assert params[name].shape == shape, name
        assert params[name].dtype == np.float64, name
    for name in ("b1", "b2", "b3"):
        assert np.all(params[name] == 0), name
    assert 0.5e-2 < params["W2"].std() < 2e-2


@pytest.mark.points(1)
def test_initial_loss_is_about_log_10(classifiers):
    """with small weights and no regularisation the loss is close to log(10)"""
    np.random.seed(0)
    net = classifiers.FullyConnectedNet([50, 50], input_dim=30, weight_scale=1e-3,
                                        dtype="float64")
    X, y = np.random.randn(40, 30), np.random.randint(10, size=40)
    loss, _ = net.loss(X, y)
    assert loss == pytest.approx(np.log(10), abs=0.05)


@pytest.mark.points(2)
@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_gradients_match_numeric_gradients(classifiers, reg):
    """every gradient of a 3-layer net matches the numeric gradient (float64)"""
    np.random.seed(231)
    N, D, C = 3, 15, 10
    X, y = np.random.randn(N, D), np.random.randint(C, size=N)
    net = classifiers.FullyConnectedNet([20, 30], input_dim=D, num_classes=C, reg=reg,
                                        weight_scale=0.2, dtype="float64")
    params = net.params
    loss, grads = net.loss(X, y)
    for name in sorted(params):
        def f(value, name=name):
            net.params = {**params, name: value}
            return net.loss(X, y)[0]
        numeric = eval_numerical_gradient(f, params[name].copy(), verbose=False, h=1e-5)
        net.params = params
        assert rel_error(grads[name], numeric) < 1e-5, name


@pytest.mark.points(1)
def test_scores_without_labels(classifiers):
    """loss(X) without labels returns scores of shape (N, C)"""
    net = classifiers.FullyConnectedNet([4], input_dim=3, num_classes=2, dtype="float64")
    net.params = {"W1": np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0],
                                  [0.0, 0.0, 0.0, 1.0]]), "b1": np.zeros(4),
                  "W2": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]]),
                  "b2": np.array([0.0, 0.5])}
    scores = net.loss(np.array([[1.0, 2.0, 3.0]]))
    # hidden = relu([1, 1, 2, 3]) ; scores = [1 + 2 - 3, 1 + 2 + 0.5]
    np.testing.assert_allclose(scores, [[0.0, 3.5]])


@pytest.mark.points(1)
def test_dropout_attributes(classifiers):
    """dropout_keep_ratio < 1 turns dropout on, with p the keep ratio"""
    net = classifiers.FullyConnectedNet([5], input_dim=4, dropout_keep_ratio=0.5, seed=1)
    assert net.use_dropout and net.dropout_param["p"] == 0.5
    assert not classifiers.FullyConnectedNet([5], input_dim=4).use_dropout

"""Public tests for nnfs/classifiers/fc_net.py: TwoLayerNet."""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient, rel_error


@pytest.fixture
def classifiers(student):
    return student.import_module("nnfs.classifiers")


def small_params(rng, input_dim=5, hidden_dim=4, num_classes=3):
    return {"W1": 0.5 * rng.normal(size=(input_dim, hidden_dim)), "b1": 0.1 * rng.normal(size=hidden_dim),
            "W2": 0.5 * rng.normal(size=(hidden_dim, num_classes)), "b2": 0.1 * rng.normal(size=num_classes)}


@pytest.mark.points(1)
def test_initialisation(classifiers):
    """__init__ creates W1 (D, H), b1 (H,), W2 (H, C), b2 (C,): small Gaussian weights, zero biases"""
    net = classifiers.TwoLayerNet(input_dim=30, hidden_dim=40, num_classes=10, weight_scale=1e-2)
    params = net.params
    assert sorted(params) == ["W1", "W2", "b1", "b2"]
    assert params["W1"].shape == (30, 40) and params["b1"].shape == (40,)
    assert params["W2"].shape == (40, 10) and params["b2"].shape == (10,)
    assert np.all(params["b1"] == 0) and np.all(params["b2"] == 0)
    assert 0.5e-2 < params["W1"].std() < 2e-2 and abs(params["W1"].mean()) < 3e-3


@pytest.mark.points(1)
def test_scores(classifiers):
    """loss(X) without labels returns the scores relu(X W1 + b1) W2 + b2"""
    net = classifiers.TwoLayerNet(input_dim=2, hidden_dim=2, num_classes=2)
    net.params = {"W1": np.array([[1.0, -1.0], [2.0, 0.0]]), "b1": np.array([0.0, 1.0]),
                  "W2": np.array([[1.0, 0.0], [0.0, 1.0]]), "b2": np.array([0.5, -0.5])}
    scores = net.loss(np.array([[1.0, 1.0], [-1.0, 0.0]]))
    # hidden = relu([[3, 0], [-1, 2]]) = [[3, 0], [0, 2]]
    np.testing.assert_allclose(scores, [[3.5, -0.5], [0.5, 1.5]])


@pytest.mark.points(1)
def test_initial_loss_is_about_log_c(classifiers):
    """with tiny weights and no regularisation the loss is about log(10)"""
    net = classifiers.TwoLayerNet(input_dim=20, hidden_dim=15, num_classes=10, weight_scale=1e-4)
    X = np.random.default_rng(1).normal(size=(16, 20))
    loss, _ = net.loss(X, np.arange(16) % 10)
    assert np.isclose(loss, np.log(10.0), rtol=1e-3)


@pytest.mark.points(1)
def test_regularisation_term(classifiers):
    """the loss grows by 0.5 * reg * (sum(W1**2) + sum(W2**2))"""
    rng = np.random.default_rng(2)
    params = small_params(rng)
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    losses = {}
    for reg in (0.0, 0.8):
        net = classifiers.TwoLayerNet(input_dim=5, hidden_dim=4, num_classes=3, reg=reg)
        net.params = params
        losses[reg], _ = net.loss(X, y)
    penalty = 0.5 * 0.8 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert np.isclose(losses[0.8] - losses[0.0], penalty)


@pytest.mark.points(3)
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_gradients_numeric(classifiers, reg):
    """every gradient of loss(X, y) matches a numeric gradient"""
    rng = np.random.default_rng(3)
    params = small_params(rng)
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    net = classifiers.TwoLayerNet(input_dim=5, hidden_dim=4, num_classes=3, reg=reg)
    net.params = params
    _, grads = net.loss(X, y)
    assert sorted(grads) == ["W1", "W2", "b1", "b2"]

    def loss_with(name, value):
        net.params = {**params, name: value}
        return net.loss(X, y)[0]

    for name in params:
        numeric = eval_numerical_gradient(lambda v: loss_with(name, v), params[name].copy(),
                                          verbose=False)
        assert rel_error(grads[name], numeric) < 1e-6, f"grads['{name}']"

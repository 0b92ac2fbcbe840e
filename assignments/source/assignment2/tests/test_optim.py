"""Public tests for nnfs/optim.py: three steps of every update rule, and the schedules."""
import math

import numpy as np
import pytest


@pytest.fixture
def optim(student):
    return student.import_module("nnfs.optim")


W0 = np.array([1.0, -2.0, 0.5, 0.0])
DIRECTION = np.array([0.5, -1.0, 2.0, 0.1])
# three gradients: DIRECTION, 1.5 * DIRECTION, 2 * DIRECTION
GRADIENTS = [DIRECTION * (1 + 0.5 * i) for i in range(3)]

# w after three steps from W0 (learning_rate 0.1, other settings at their defaults;
# sgd with its default learning rate 1e-2)
AFTER_THREE_STEPS = {
    "sgd": [0.9775, -1.955, 0.41, -0.0045],
    "sgd_momentum": [0.622, -1.244, -1.012, -0.0756],
    "nesterov_momentum": [0.4348, -0.8696, -1.7608, -0.11304],
    "adagrad": [0.74251684, -1.74251684, 0.24251684, -0.25748315],
    "rmsprop": [-1.57829591, 0.57829608, -2.07829617, -2.57829451],
    "adam": [0.70219459, -1.70219459, 0.20219458, -0.29780539],
}


@pytest.mark.points(1)
@pytest.mark.parametrize("rule", sorted(AFTER_THREE_STEPS))
def test_three_steps(optim, rule):
    """three updates of each rule, passing its config from one call to the next"""
    config = None if rule == "sgd" else {"learning_rate": 0.1}
    w = W0.copy()
    for dw in GRADIENTS:
        w, config = getattr(optim, rule)(w, dw, config)
    np.testing.assert_allclose(w, AFTER_THREE_STEPS[rule], rtol=1e-6, atol=1e-7,
                               err_msg=f"{rule}: w after three steps")


@pytest.mark.points(1)
def test_momentum_keeps_its_velocity(optim):
    """sgd_momentum stores v = momentum * v - learning_rate * dw in config['velocity']"""
    _, config = optim.sgd_momentum(W0, DIRECTION, {"learning_rate": 0.1})
    np.testing.assert_allclose(config["velocity"], -0.1 * DIRECTION)
    _, config = optim.sgd_momentum(W0, DIRECTION, config)
    np.testing.assert_allclose(config["velocity"], -0.19 * DIRECTION)


@pytest.mark.points(1)
def test_adam_counts_steps_from_one(optim):
    """adam increments t before using it: the first step has length learning_rate"""
    w, config = optim.adam(W0, DIRECTION, {"learning_rate": 0.1})
    assert config["t"] == 1
    # with bias correction m_hat = dw and v_hat = dw**2, so the step is lr * sign(dw)
    np.testing.assert_allclose(w, W0 - 0.1 * np.sign(DIRECTION), rtol=1e-6)
    for key in ("m", "v"):
        assert config[key].shape == W0.shape


@pytest.mark.points(1)
def test_rmsprop_and_adagrad_caches(optim):
    """adagrad sums squared gradients; rmsprop keeps a leaky average of them"""
    _, config = optim.adagrad(W0, DIRECTION, None)
    _, config = optim.adagrad(W0, 2 * DIRECTION, config)
    np.testing.assert_allclose(config["cache"], 5 * DIRECTION ** 2)
    _, config = optim.rmsprop(W0, DIRECTION, None)
    np.testing.assert_allclose(config["cache"], 0.01 * DIRECTION ** 2)


@pytest.mark.points(1)
def test_step_decay(optim):
    """step_decay keeps lr0 for the first step_size iterations, then multiplies by gamma"""
    lrs = [optim.step_decay(0.1, t, step_size=3, gamma=0.5) for t in range(7)]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


@pytest.mark.points(1)
def test_exponential_and_inverse_time_decay(optim):
    """exponential_decay is lr0 exp(-k t) and inverse_time_decay lr0 / (1 + k t)"""
    assert optim.exponential_decay(0.1, 0, k=0.5) == pytest.approx(0.1)
    assert optim.exponential_decay(0.1, 4, k=0.5) == pytest.approx(0.1 * math.exp(-2))
    assert optim.inverse_time_decay(0.1, 0, k=0.5) == pytest.approx(0.1)
    assert optim.inverse_time_decay(0.1, 4, k=0.5) == pytest.approx(0.1 / 3)


@pytest.mark.points(1)
def test_cosine_decay(optim):
    """cosine_decay goes from lr0 at t=0 through the midpoint at T/2 to lr_min at T"""
    assert optim.cosine_decay(0.1, 0, 100) == pytest.approx(0.1)
    assert optim.cosine_decay(0.1, 50, 100) == pytest.approx(0.05)
    assert optim.cosine_decay(0.1, 100, 100, lr_min=0.01) == pytest.approx(0.01)
    assert optim.cosine_decay(0.1, 25, 100, lr_min=0.01) == pytest.approx(
        0.01 + 0.09 * (1 + math.cos(math.pi / 4)) / 2)

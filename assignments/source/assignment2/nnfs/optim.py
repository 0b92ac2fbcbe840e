"""First-order update rules and learning-rate schedules.

Every update rule has the signature ``rule(w, dw, config=None) -> (next_w, config)``:

w : ndarray
    The current value of one parameter.
dw : ndarray, same shape as w
    The gradient of the loss with respect to w.
config : dict or None
    The rule's hyperparameters (``learning_rate``, ``momentum``, ...) and its state
    (``velocity``, ``cache``, ``m``, ``v``, ``t``). Missing hyperparameters get their
    defaults with ``config.setdefault``; missing state starts at zero. The same dict comes
    back, updated, and is passed to the next call for the same parameter. The Solver keeps
    one config per parameter.

The schedules give the learning rate at iteration ``t`` (counted from 0); the Solver can
use one through its ``lr_schedule`` argument.
"""
import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: ``w -= learning_rate * dw``.

    config keys: ``learning_rate`` (default 1e-2).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = None
    ### BEGIN SOLUTION
    next_w = w - config["learning_rate"] * dw
    ### END SOLUTION
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum.

    ``v = momentum * v - learning_rate * dw``, then ``w += v``: the velocity v is a
    running (decaying) sum of past steps, so consistent directions build up speed.

    config keys: ``learning_rate`` (1e-2), ``momentum`` (0.9); state ``velocity``
    (zeros like w at the start).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    next_w = None
    ### BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    ### END SOLUTION
    config["velocity"] = v
    return next_w, config


def nesterov_momentum(w, dw, config=None):
    """Nesterov momentum, in the form that only needs the gradient at w.

    The plain form takes the gradient at the look-ahead point ``w + momentum * v``. With
    the variable change ``w_ahead = w + momentum * v`` it becomes (dw now taken at the
    stored point)::

        v_prev = v
        v = momentum * v - learning_rate * dw
        w += -momentum * v_prev + (1 + momentum) * v

    config keys: ``learning_rate`` (1e-2), ``momentum`` (0.9); state ``velocity``.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    next_w = None
    ### BEGIN SOLUTION
    mu = config["momentum"]
    v_prev = v
    v = mu * v - config["learning_rate"] * dw
    next_w = w - mu * v_prev + (1 + mu) * v
    ### END SOLUTION
    config["velocity"] = v
    return next_w, config


def adagrad(w, dw, config=None):
    """AdaGrad: a per-coordinate step that shrinks with the sum of all squared gradients.

    ``cache += dw ** 2``, then ``w -= learning_rate * dw / (sqrt(cache) + epsilon)``.

    config keys: ``learning_rate`` (1e-2), ``epsilon`` (1e-8); state ``cache``.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    next_w = None
    ### BEGIN SOLUTION
    config["cache"] = config["cache"] + dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    ### END SOLUTION
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: AdaGrad with a leaky (exponentially decaying) sum of squared gradients.

    ``cache = decay_rate * cache + (1 - decay_rate) * dw ** 2``, then
    ``w -= learning_rate * dw / (sqrt(cache) + epsilon)``.

    config keys: ``learning_rate`` (1e-2), ``decay_rate`` (0.99), ``epsilon`` (1e-8);
    state ``cache``.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    next_w = None
    ### BEGIN SOLUTION
    decay = config["decay_rate"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    ### END SOLUTION
    return next_w, config


def adam(w, dw, config=None):
    """Adam: momentum (first moment m) and RMSProp (second moment v), bias-corrected.

    With t counted from 1 (increment t BEFORE using it)::

        t += 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        w -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    config keys: ``learning_rate`` (1e-3), ``beta1`` (0.9), ``beta2`` (0.999),
    ``epsilon`` (1e-8); state ``m``, ``v`` (zeros like w) and ``t`` (0).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    next_w = None
    ### BEGIN SOLUTION
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * dw * dw
    m_hat = config["m"] / (1 - beta1 ** t)
    v_hat = config["v"] / (1 - beta2 ** t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    ### END SOLUTION
    return next_w, config


def step_decay(lr0, t, step_size, gamma=0.1):
    """Step decay: ``lr0 * gamma ** (t // step_size)`` (lr0 for t = 0 .. step_size - 1,
    then lr0 * gamma, ...).

    Parameters
    ----------
    lr0 : float
        The learning rate at t = 0.
    t : int
        The iteration, counted from 0.
    step_size : int
        Iterations between two drops.
    gamma : float
        The factor of each drop.

    Returns
    -------
    float
    """
    lr = None
    ### BEGIN SOLUTION
    lr = lr0 * gamma ** (t // step_size)
    ### END SOLUTION
    return float(lr)


def exponential_decay(lr0, t, k):
    """Exponential decay: ``lr0 * exp(-k t)``.

    Parameters
    ----------
    lr0 : float
    t : int or float
        The iteration, counted from 0.
    k : float
        The decay rate per iteration.

    Returns
    -------
    float
    """
    lr = None
    ### BEGIN SOLUTION
    lr = lr0 * np.exp(-k * t)
    ### END SOLUTION
    return float(lr)


def inverse_time_decay(lr0, t, k):
    """1/t decay: ``lr0 / (1 + k t)``.

    Parameters
    ----------
    lr0 : float
    t : int or float
        The iteration, counted from 0.
    k : float

    Returns
    -------
    float
    """
    lr = None
    ### BEGIN SOLUTION
    lr = lr0 / (1.0 + k * t)
    ### END SOLUTION
    return float(lr)


def cosine_decay(lr0, t, T, lr_min=0.0):
    """Cosine decay from lr0 (t = 0) down to lr_min (t = T):
    ``lr_min + (lr0 - lr_min) * (1 + cos(pi t / T)) / 2``.

    Parameters
    ----------
    lr0 : float
    t : int or float
        The iteration, counted from 0.
    T : int
        The total number of iterations.
    lr_min : float

    Returns
    -------
    float
    """
    lr = None
    ### BEGIN SOLUTION
    lr = lr_min + (lr0 - lr_min) * (1.0 + np.cos(np.pi * t / T)) / 2.0
    ### END SOLUTION
    return float(lr)

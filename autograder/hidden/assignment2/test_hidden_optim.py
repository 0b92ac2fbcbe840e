"""Hidden tests: the update rules (trajectories and state over several steps) and the
learning-rate schedules, compared with the instructor's solution run in this process."""
import numpy as np
import pytest

from autograder.testing import expect, expect_close

RULES = ["sgd", "sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam"]
# the state each rule keeps in its config
STATE = {"sgd": [], "sgd_momentum": ["velocity"], "nesterov_momentum": ["velocity"],
         "adagrad": ["cache"], "rmsprop": ["cache"], "adam": ["m", "v", "t"]}
# non-default hyperparameters, to catch a rule that ignores its config
CUSTOM = {"sgd": {"learning_rate": 0.05},
          "sgd_momentum": {"learning_rate": 0.03, "momentum": 0.7},
          "nesterov_momentum": {"learning_rate": 0.03, "momentum": 0.8},
          "adagrad": {"learning_rate": 0.2, "epsilon": 1e-6},
          "rmsprop": {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-6},
          "adam": {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6}}


def modules(student, reference):
    return student.import_module("nnfs.optim"), reference.import_module("nnfs.optim")


def gradient_sequence(rng, shape, steps):
    """Gradients that change over the steps (sign flips and growing/shrinking scale)."""
    return [rng.normal(size=shape) * rng.uniform(0.2, 3.0) for _ in range(steps)]


def run_rule(rule, w, grads, config):
    """Apply ``rule`` for every gradient, passing the returned config on; returns the list of
    (w, config) after each step."""
    history = []
    for dw in grads:
        w, config = rule(w, dw, config)
        # copies: a rule may update its arrays in place on the next call
        history.append((np.array(w, copy=True),
                        {key: np.array(value, copy=True) for key, value in config.items()}))
    return history


def compare_runs(mine, theirs, name, shape, steps, config, seed, what):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=shape)
    grads = gradient_sequence(rng, shape, steps)
    got = run_rule(getattr(mine, name), w0.copy(), grads,
                   None if config is None else dict(config))
    wanted = run_rule(getattr(theirs, name), w0.copy(), grads,
                      None if config is None else dict(config))
    for step, ((w, state), (w_ref, state_ref)) in enumerate(zip(got, wanted), start=1):
        expect_close(w, w_ref, f"{name}: the weights after step {step} {what}",
                     rtol=1e-6, atol=1e-9)
        for key in STATE[name]:
            expect(key in state, f"{name} must keep its state in config['{key}']")
            expect_close(state[key], state_ref[key],
                         f"{name}: config['{key}'] after step {step} {what}",
                         rtol=1e-6, atol=1e-12)


@pytest.mark.points(2)
@pytest.mark.parametrize("name", RULES)
def test_rule_with_default_settings_over_several_steps(student, reference, name):
    """an update rule with its default settings (config None) over several steps"""
    mine, theirs = modules(student, reference)
    compare_runs(mine, theirs, name, (4, 3), 6, None, 2000, "with the default settings")
    compare_runs(mine, theirs, name, (7,), 6, {}, 2001, "with the default settings")


@pytest.mark.points(2)
@pytest.mark.parametrize("name", RULES)
def test_rule_with_given_settings_over_many_steps(student, reference, name):
    """an update rule with non-default settings over many steps and several shapes"""
    mine, theirs = modules(student, reference)
    for seed, shape in enumerate([(5,), (3, 2, 2), (1, 1)]):
        compare_runs(mine, theirs, name, shape, 25, CUSTOM[name], 2100 + seed,
                     "with non-default settings")


@pytest.mark.points(1)
@pytest.mark.parametrize("name", RULES)
def test_rule_fills_in_the_default_settings(student, reference, name):
    """the config returned by a rule holds every setting with the documented default"""
    mine, theirs = modules(student, reference)
    w, dw = np.ones(3), np.full(3, 0.5)
    _, config = getattr(mine, name)(w, dw, None)
    _, wanted = getattr(theirs, name)(w, dw, None)
    for key, value in wanted.items():
        if key in STATE[name]:
            continue
        expect(key in config, f"{name} should set config['{key}'] to its default value")
        expect_close(config[key], value, f"the default of config['{key}'] in {name}")


@pytest.mark.points(1)
@pytest.mark.parametrize("name", RULES)
def test_rule_on_float32_weights(student, reference, name):
    """an update rule on float32 weights and gradients (to float32 precision)"""
    mine, theirs = modules(student, reference)
    rng = np.random.default_rng(2200)
    w0 = rng.normal(size=(6, 4)).astype(np.float32)
    grads = [g.astype(np.float32) for g in gradient_sequence(rng, (6, 4), 5)]
    got = run_rule(getattr(mine, name), w0.copy(), grads, dict(CUSTOM[name]))
    wanted = run_rule(getattr(theirs, name), w0.astype(np.float64), grads, dict(CUSTOM[name]))
    for step, ((w, _), (w_ref, _)) in enumerate(zip(got, wanted), start=1):
        expect_close(w, w_ref, f"{name}: the float32 weights after step {step}",
                     rtol=1e-4, atol=1e-5)


@pytest.mark.points(1)
def test_adam_first_step_is_bias_corrected(student, reference):
    """Adam's first steps: t counts from 1 and both moments are bias-corrected"""
    mine, theirs = modules(student, reference)
    rng = np.random.default_rng(2300)
    w, dw = rng.normal(size=10), rng.normal(size=10) * 1e-3
    for beta1, beta2 in [(0.9, 0.999), (0.5, 0.9)]:
        config = {"learning_rate": 0.1, "beta1": beta1, "beta2": beta2}
        next_w, state = mine.adam(w.copy(), dw, dict(config))
        wanted_w, wanted = theirs.adam(w.copy(), dw, dict(config))
        expect(int(state["t"]) == 1, "after the first step config['t'] should be 1")
        expect_close(next_w, wanted_w, "Adam's first step", rtol=1e-6)
        next_w, state = mine.adam(next_w, dw, state)
        wanted_w, wanted = theirs.adam(wanted_w, dw, wanted)
        expect_close(next_w, wanted_w, "Adam's second step", rtol=1e-6)


# -- schedules ---------------------------------------------------------------------------

SCHEDULES = [("step_decay", {"lr0": 0.1, "step_size": 7, "gamma": 0.5}),
             ("step_decay", {"lr0": 3e-3, "step_size": 1}),
             ("step_decay", {"lr0": 1e-2, "step_size": 10}),
             ("exponential_decay", {"lr0": 0.05, "k": 0.03}),
             ("inverse_time_decay", {"lr0": 0.2, "k": 0.1}),
             ("cosine_decay", {"lr0": 0.1, "T": 40}),
             ("cosine_decay", {"lr0": 0.1, "T": 25, "lr_min": 1e-3})]


@pytest.mark.points(1)
@pytest.mark.parametrize("name, kwargs", SCHEDULES,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(SCHEDULES)])
def test_schedule_over_iterations(student, reference, name, kwargs):
    """a learning-rate schedule at every iteration from t = 0 (boundaries included)"""
    mine, theirs = modules(student, reference)
    T = kwargs.get("T", 40)
    for t in range(T + 1):
        expect_close(getattr(mine, name)(t=t, **kwargs), getattr(theirs, name)(t=t, **kwargs),
                     f"{name} at one of the iterations", rtol=1e-9, atol=1e-15)


@pytest.mark.points(1)
def test_schedules_positional_arguments(student, reference):
    """the schedules take their arguments in the documented order"""
    mine, theirs = modules(student, reference)
    calls = [("step_decay", (0.1, 12, 5, 0.3)), ("exponential_decay", (0.1, 12, 0.05)),
             ("inverse_time_decay", (0.1, 12, 0.5)), ("cosine_decay", (0.1, 12, 30, 0.01))]
    for name, args in calls:
        expect_close(getattr(mine, name)(*args), getattr(theirs, name)(*args),
                     f"{name} called with positional arguments")

"""Solver on a tiny softmax classifier over three separable Gaussian blobs."""
import os
import pickle
import sys
import types

import numpy as np
import pytest

from course_lib.solver import Solver, sgd

NUM_CLASSES = 3
DIM = 5


class TinySoftmax:
    """Linear softmax classifier with the CS231n model interface."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 1e-3 * rng.standard_normal((DIM, NUM_CLASSES)),
                       "b": np.zeros(NUM_CLASSES)}

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        with np.errstate(all="ignore"):  # the divergence test drives this to inf
            shifted = scores - scores.max(axis=1, keepdims=True)
            probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            loss = -np.mean(np.log(probs[np.arange(len(y)), y]))
        dscores = probs.copy()
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    centres = 3.0 * np.eye(NUM_CLASSES, DIM)
    y = rng.integers(NUM_CLASSES, size=n)
    return centres[y] + rng.standard_normal((n, DIM)), y


@pytest.fixture
def data():
    X_train, y_train = blobs(300, seed=1)
    X_val, y_val = blobs(60, seed=2)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def quiet_solver(model, data, **kwargs):
    kwargs.setdefault("optim_config", {"learning_rate": 0.5})
    kwargs.setdefault("batch_size", 50)
    kwargs.setdefault("num_epochs", 3)
    kwargs.setdefault("verbose", False)
    kwargs.setdefault("seed", 0)
    return Solver(model, data, **kwargs)


def test_training_lowers_the_loss_and_beats_chance(data):
    model = TinySoftmax()
    solver = quiet_solver(model, data, num_epochs=5)
    solver.train()
    assert np.mean(solver.loss_history[-5:]) < 0.5 * np.mean(solver.loss_history[:5])
    assert solver.best_val_acc > 0.8
    assert not solver.diverged


def test_history_lengths_follow_epochs_and_iterations(data):
    solver = quiet_solver(TinySoftmax(), data, num_epochs=3, batch_size=50)
    solver.train()
    iterations_per_epoch = 300 // 50
    assert len(solver.loss_history) == 3 * iterations_per_epoch
    # one check after the first iteration, then one per epoch
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 1 + 3
    assert solver.epoch == 3
    assert solver.best_val_acc == max(solver.val_acc_history)


def test_best_parameters_are_restored_after_a_late_collapse(data):
    """A rule that wrecks the weights in the last epoch must not leave them wrecked."""
    calls = {"n": 0}

    def sgd_then_scramble(w, dw, config):
        calls["n"] += 1
        # two parameters per iteration; iterations 13..18 form the last epoch
        if calls["n"] > 2 * 12:
            return -w, config
        return sgd(w, dw, config)

    model = TinySoftmax()
    solver = quiet_solver(model, data, update_rule=sgd_then_scramble, num_epochs=3)
    solver.train()
    assert solver.val_acc_history[-1] < solver.best_val_acc
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], value)
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc
    # the model holds copies, so later in-place updates cannot corrupt best_params
    assert all(model.params[k] is not v for k, v in solver.best_params.items())


def test_checkpoints_are_written_every_epoch_and_load(data, tmp_path):
    name = str(tmp_path / "run")
    solver = quiet_solver(TinySoftmax(), data, num_epochs=2, checkpoint_name=name,
                          lr_decay=0.9)
    solver.train()
    assert sorted(os.listdir(tmp_path)) == ["run_epoch_1.pkl", "run_epoch_2.pkl"]
    with open(f"{name}_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 2
    assert checkpoint["update_rule"] == "sgd"
    assert checkpoint["lr_decay"] == 0.9
    assert checkpoint["batch_size"] == 50
    assert checkpoint["num_train_samples"] == 1000 and checkpoint["num_val_samples"] is None
    assert checkpoint["optim_config"] == {"learning_rate": 0.5}
    assert checkpoint["loss_history"] == solver.loss_history
    assert checkpoint["val_acc_history"] == solver.val_acc_history
    assert len(checkpoint["train_acc_history"]) == 3
    restored = checkpoint["model"]
    assert isinstance(restored, TinySoftmax)
    assert restored.params["W"].shape == (DIM, NUM_CLASSES)
    with open(f"{name}_epoch_1.pkl", "rb") as f:
        assert len(pickle.load(f)["loss_history"]) == 6


def test_checkpoint_directory_must_exist(data, tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint directory"):
        quiet_solver(TinySoftmax(), data, checkpoint_name=str(tmp_path / "nope" / "run"))


def test_unpicklable_model_leaves_no_partial_checkpoint(data, tmp_path):
    model = TinySoftmax()
    model.callback = lambda: None  # lambdas cannot be pickled
    solver = quiet_solver(model, data, num_epochs=1, checkpoint_name=str(tmp_path / "run"))
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        solver.train()
    assert os.listdir(tmp_path) == []


def test_update_rule_by_name_from_a_given_module(data):
    used = []

    def halved_sgd(w, dw, config=None):
        used.append(True)
        return w - 0.5 * config.get("learning_rate", 1e-2) * dw, config

    rules = types.SimpleNamespace(__name__="my_rules", halved_sgd=halved_sgd)
    solver = quiet_solver(TinySoftmax(), data, update_rule="halved_sgd", optim_module=rules,
                          num_epochs=1)
    solver.train()
    assert used and solver.update_rule_name == "halved_sgd"


def test_update_rule_as_callable_receives_each_parameters_own_config(data):
    seen = []

    def recording_rule(w, dw, config):
        seen.append(id(config))
        config["steps"] = config.get("steps", 0) + 1
        return w - 0.1 * dw, config

    solver = quiet_solver(TinySoftmax(), data, update_rule=recording_rule, num_epochs=1)
    solver.train()
    assert len(set(seen)) == 2  # W and b keep separate state
    assert {c["steps"] for c in solver.optim_configs.values()} == {6}
    assert solver.update_rule_name == "recording_rule"


def test_optim_module_may_be_given_by_import_name(data):
    solver = quiet_solver(TinySoftmax(), data, optim_module="course_lib.solver")
    assert solver._rule is sgd


def test_unknown_rule_lists_the_available_ones(data):
    rules = types.SimpleNamespace(__name__="my_rules", sgd=sgd, adam=lambda w, dw, c: (w, c))
    with pytest.raises(ValueError, match="unknown update_rule 'rmsprop'.*available"):
        quiet_solver(TinySoftmax(), data, update_rule="rmsprop", optim_module=rules)


def test_without_a_student_module_only_builtin_sgd_exists(data, monkeypatch):
    monkeypatch.setitem(sys.modules, "nnfs", None)  # makes `import nnfs` fail
    solver = quiet_solver(TinySoftmax(), data)
    assert solver._rule is sgd
    with pytest.raises(ValueError, match="available: sgd"):
        quiet_solver(TinySoftmax(), data, update_rule="adam")


def write_student_optim(root, body):
    package = root / "nnfs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "optim.py").write_text(body)


@pytest.fixture
def fresh_nnfs(monkeypatch, tmp_path):
    """Put a throwaway `nnfs` package first on sys.path; undo everything afterwards."""
    for module in [m for m in sys.modules if m == "nnfs" or m.startswith("nnfs.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in [m for m in sys.modules if m == "nnfs" or m.startswith("nnfs.")]:
        del sys.modules[module]


def test_default_module_is_the_students_nnfs_optim(data, fresh_nnfs):
    write_student_optim(fresh_nnfs, "def sgd_momentum(w, dw, config=None):\n"
                                    "    config = config or {}\n"
                                    "    config['used'] = True\n"
                                    "    return w - 0.1 * dw, config\n")
    solver = quiet_solver(TinySoftmax(), data, update_rule="sgd_momentum", num_epochs=1)
    solver.train()
    assert all(config["used"] for config in solver.optim_configs.values())


def test_a_broken_student_module_is_reported_not_hidden(data, fresh_nnfs):
    write_student_optim(fresh_nnfs, "import a_module_that_does_not_exist_anywhere\n")
    with pytest.raises(ModuleNotFoundError, match="a_module_that_does_not_exist_anywhere"):
        quiet_solver(TinySoftmax(), data)


def test_divergence_stops_the_run_and_keeps_the_history(data, capsys):
    model = TinySoftmax()
    solver = quiet_solver(model, data, optim_config={"learning_rate": 1e200}, num_epochs=3)
    solver.train()
    assert solver.diverged
    assert solver.diverged_at == len(solver.loss_history) - 1
    assert 0 < solver.diverged_at < 18
    assert not np.isfinite(solver.loss_history[-1])
    assert np.all(np.isfinite(solver.loss_history[:-1]))
    assert all(np.all(np.isfinite(v)) for v in model.params.values())
    assert "diverged" in capsys.readouterr().out


def test_same_seed_same_run_different_seed_different_run(data):
    def losses(seed):
        solver = quiet_solver(TinySoftmax(), data, seed=seed, num_epochs=1,
                              num_train_samples=100)
        solver.train()
        return solver.loss_history, solver.train_acc_history

    assert losses(7) == losses(7)
    assert losses(7)[0] != losses(8)[0]


def test_lr_decay_is_applied_once_per_epoch(data):
    solver = quiet_solver(TinySoftmax(), data, lr_decay=0.5, num_epochs=3)
    solver.train()
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.5 * 0.5 ** 3)


def test_verbose_output_matches_cs231n(data, capsys):
    solver = quiet_solver(TinySoftmax(), data, verbose=True, print_every=5, num_epochs=1)
    solver.train()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("(Iteration 1 / 6) loss: ")
    assert any(line.startswith("(Iteration 6 / 6) loss: ") for line in out)
    assert any(line.startswith("(Epoch 0 / 1) train acc: ") for line in out)
    assert any(line.startswith("(Epoch 1 / 1) train acc: ") for line in out)


def test_progress_bar_replaces_the_loss_lines(data, capsys):
    solver = quiet_solver(TinySoftmax(), data, verbose=True, progress=True, num_epochs=1)
    solver.train()
    captured = capsys.readouterr()
    assert "(Iteration" not in captured.out
    assert "training" in captured.err  # tqdm draws on stderr
    assert len(solver.loss_history) == 6


def test_check_accuracy_in_batches_and_on_a_subsample(data):
    model = TinySoftmax()
    rows_seen = []
    scores = model.loss
    model.loss = lambda X, y=None: rows_seen.append(len(X)) or scores(X, y)
    X = np.repeat(np.eye(DIM)[:NUM_CLASSES], 90, axis=0)  # 270 rows
    model.params["W"] = np.eye(DIM, NUM_CLASSES)
    y = np.repeat(np.arange(NUM_CLASSES), 90)
    y[:27] = 1  # 27 of 270 wrong
    solver = quiet_solver(model, data)
    assert solver.check_accuracy(X, y, batch_size=100) == pytest.approx(0.9)
    assert rows_seen == [100, 100, 70]
    rows_seen.clear()
    subsample_accuracy = solver.check_accuracy(X, y, num_samples=50)
    assert rows_seen == [50]
    assert 0.7 < subsample_accuracy <= 1.0


def test_lr_schedule_sets_every_iterations_rate_and_is_recorded(data):
    """the schedule's rate for iteration t (from 0) reaches the update rule at iteration t"""
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    schedule = lambda t: 0.5 * 0.1 ** (t // 4)  # noqa: E731 (step decay, 4 iterations)
    solver = quiet_solver(TinySoftmax(), data, update_rule=recording_sgd,
                          lr_schedule=schedule, num_epochs=2)  # 6 iterations per epoch
    solver.train()
    expected = [schedule(t) for t in range(12)]
    assert solver.lr_history == pytest.approx(expected)
    # two parameters (W, b) per iteration, each with the iteration's rate
    assert seen == pytest.approx([lr for lr in expected for _ in range(2)])


def test_lr_schedule_from_a_partial_of_a_schedule_function(data):
    """a functools.partial of a schedule with the iteration as its free argument works"""
    import functools
    import math

    def cosine(lr0, t, T):
        return lr0 * (1 + math.cos(math.pi * t / T)) / 2

    solver = quiet_solver(TinySoftmax(), data, lr_schedule=functools.partial(cosine, 0.5, T=18))
    solver.train()
    assert solver.lr_history[0] == pytest.approx(0.5)
    assert solver.lr_history[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 17 / 18)) / 2)
    assert solver.train_acc_history[-1] > 0.6


def test_lr_schedule_excludes_lr_decay_and_must_be_callable(data):
    with pytest.raises(ValueError, match="Solver: give either lr_decay or lr_schedule"):
        Solver(TinySoftmax(), data, lr_decay=0.9, lr_schedule=lambda t: 0.1)
    with pytest.raises(TypeError, match="Solver: lr_schedule must be a callable"):
        Solver(TinySoftmax(), data, lr_schedule=0.1)


def test_lr_schedule_with_a_bad_value_is_explained(data):
    solver = quiet_solver(TinySoftmax(), data, lr_schedule=lambda t: float("nan"))
    with pytest.raises(ValueError, match="lr_schedule"):
        solver.train()


def test_without_a_schedule_lr_history_stays_empty(data):
    solver = quiet_solver(TinySoftmax(), data, num_epochs=1)
    solver.train()
    assert solver.lr_history == []


@pytest.mark.parametrize("bad, error", [
    ({"data": {"X_train": np.zeros((3, 2))}}, KeyError),
    ({"kwargs": {"learning_rate": 1e-3}}, TypeError),
    ({"kwargs": {"batch_size": 0}}, ValueError),
    ({"kwargs": {"update_rule": 3}}, TypeError),
])
def test_bad_arguments_are_explained(data, bad, error):
    with pytest.raises(error, match="Solver"):
        Solver(TinySoftmax(), bad.get("data", data), **bad.get("kwargs", {}))

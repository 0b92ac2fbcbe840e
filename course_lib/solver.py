"""Minibatch training of a classification model, with the constructor CS231n students know.

A model is any object with

- ``model.params``: dict mapping parameter names to NumPy arrays;
- ``model.loss(X, y=None)``: with ``y=None`` returns class scores of shape (N, C); with
  labels returns ``(loss, grads)`` where ``grads`` has the same keys as ``params``.

Usage::

    solver = Solver(model, data, update_rule="sgd",
                    optim_config={"learning_rate": 1e-3}, lr_decay=0.95,
                    num_epochs=10, batch_size=100, print_every=100)
    solver.train()
    plot_training_history(solver)        # from course_lib.plotting

``data`` holds ``X_train`` (N_train, ...), ``y_train`` (N_train,) int, ``X_val`` and
``y_val``. After ``train()``, ``model.params`` holds the parameters that reached the best
validation accuracy, and ``loss_history``, ``train_acc_history``, ``val_acc_history`` tell
the story. A learning-rate schedule can replace ``lr_decay``::

    from functools import partial
    from nnfs.optim import cosine_decay
    solver = Solver(model, data, update_rule="adam", num_epochs=10,
                    lr_schedule=partial(cosine_decay, 1e-3, T=4900))

``lr_schedule(t)`` gives the learning rate of iteration ``t`` (from 0); the Solver writes
it into every parameter's ``optim_config["learning_rate"]`` before that iteration's
update and records it in ``lr_history``. If the loss becomes NaN or infinite the run stops early, ``solver.diverged`` is
True and the histories so far are kept (a learning rate that is too large shows up this way).

Update rules are looked up by name in ``optim_module``; by default that is the student's
``nnfs.optim`` (assignment 2) if it can be imported, otherwise a built-in ``sgd``. A callable
``rule(w, dw, config) -> (next_w, config)`` can be passed instead of a name.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pickle
import tempfile
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Solver", "sgd", "DEFAULT_OPTIM_MODULE"]

DEFAULT_OPTIM_MODULE = "nnfs.optim"

# rule(w, dw, config) -> (next_w, config)
UpdateRule = Callable[[np.ndarray, np.ndarray, dict[str, Any]], tuple[np.ndarray, dict[str, Any]]]


def sgd(w: NDArray[np.floating], dw: NDArray[np.floating], config: dict[str, Any] | None = None
        ) -> tuple[NDArray[np.floating], dict[str, Any]]:
    """Vanilla stochastic gradient descent: ``w -= learning_rate * dw``.

    Parameters
    ----------
    w, dw : np.ndarray of the same shape
    config : dict or None
        ``learning_rate`` (default 1e-2).

    Returns
    -------
    (next_w, config)
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


_BUILTIN_RULES = types.SimpleNamespace(__name__="course_lib.solver (built-in)", sgd=sgd)


def _default_optim_module() -> types.ModuleType | types.SimpleNamespace:
    """The student's ``nnfs.optim`` if it exists on sys.path, else the built-in ``sgd``.

    A student module that exists but fails to import (a syntax error, say) is not hidden
    behind the fallback: that error is raised.
    """
    try:
        return importlib.import_module(DEFAULT_OPTIM_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in ("nnfs", DEFAULT_OPTIM_MODULE):
            return _BUILTIN_RULES
        raise


def _available_rules(module: object) -> list[str]:
    """Names of the public functions in ``module`` that could be update rules."""
    return sorted(name for name, value in vars(module).items()
                  if not name.startswith("_") and inspect.isfunction(value))


def _resolve_update_rule(update_rule: str | UpdateRule,
                         optim_module: object) -> tuple[UpdateRule, str]:
    """Return ``(rule_callable, rule_name)`` for a name or a callable."""
    if callable(update_rule):
        return update_rule, getattr(update_rule, "__name__", repr(update_rule))
    if not isinstance(update_rule, str):
        raise TypeError(f"Solver: update_rule must be a name or a callable "
                        f"rule(w, dw, config) -> (next_w, config), got {update_rule!r}")
    if optim_module is None:
        optim_module = _default_optim_module()
    elif isinstance(optim_module, str):
        optim_module = importlib.import_module(optim_module)
    rule = getattr(optim_module, update_rule, None)
    if not callable(rule):
        where = getattr(optim_module, "__name__", repr(optim_module))
        available = ", ".join(_available_rules(optim_module)) or "none"
        raise ValueError(f"Solver: unknown update_rule {update_rule!r} in {where}; "
                         f"available: {available}. Pass one of those names, or a callable "
                         f"rule(w, dw, config) -> (next_w, config).")
    return rule, update_rule


class Solver:
    """Train a classification model with minibatch gradient descent.

    Parameters
    ----------
    model : object
        ``model.params`` (dict of arrays) and ``model.loss(X, y=None)`` as described in the
        module docstring.
    data : dict
        ``X_train`` (N_train, ...), ``y_train`` (N_train,) int, ``X_val`` (N_val, ...),
        ``y_val`` (N_val,) int.
    update_rule : str or callable, default "sgd"
        Name of a rule in ``optim_module``, or ``rule(w, dw, config) -> (next_w, config)``.
    optim_config : dict, default {}
        Hyperparameters given to the update rule (``learning_rate`` etc.). Each parameter
        gets its own copy, in which the rule keeps its state (velocity, moments, ...).
    lr_decay : float, default 1.0
        After every epoch the learning rate is multiplied by this.
    lr_schedule : callable or None, default None
        ``lr_schedule(t) -> learning rate`` for iteration ``t`` (counted from 0), e.g.
        ``functools.partial(nnfs.optim.step_decay, 1e-3, step_size=500)``. It sets
        ``learning_rate`` in every parameter's config before each update; it cannot be
        combined with an ``lr_decay`` other than 1.
    batch_size : int, default 100
        Minibatch size; minibatches are drawn with replacement, as in CS231n.
    num_epochs : int, default 10
    num_train_samples : int or None, default 1000
        Training points used to measure the training accuracy (None: all).
    num_val_samples : int or None, default None
        Validation points used to measure the validation accuracy (None: all).
    checkpoint_name : str or None
        If given, ``{checkpoint_name}_epoch_{epoch}.pkl`` is written after every epoch.
    print_every : int, default 10
        Print the loss every this many iterations (when verbose and not progress).
    verbose : bool, default True
    progress : bool, default False
        Show a tqdm progress bar (with the current loss) instead of the loss lines.
    optim_module : module, str or None
        Where update-rule names are looked up (a module or an importable module name).
        None: ``nnfs.optim`` if importable, otherwise the built-in ``sgd`` only.
    seed : int or None
        Seed of the minibatch and accuracy-subsample draws; equal seeds give equal runs.

    Attributes
    ----------
    loss_history : list of float, one per iteration
    train_acc_history, val_acc_history : list of float, one per accuracy check (after the
        first iteration and after every epoch)
    best_val_acc : float
    best_params : dict of np.ndarray
    epoch : int
    diverged : bool
        True when training stopped because the loss was NaN or infinite.
    diverged_at : int or None
        The (0-based) iteration whose loss was not finite.
    lr_history : list of float
        With ``lr_schedule``: the learning rate of every iteration (else empty).
    """

    def __init__(self, model: Any, data: Mapping[str, ArrayLike], **kwargs: Any) -> None:
        self.model = model
        missing = [key for key in ("X_train", "y_train", "X_val", "y_val") if key not in data]
        if missing:
            raise KeyError(f"Solver: data is missing {', '.join(missing)}; it needs the keys "
                           f"X_train, y_train, X_val, y_val.")
        self.X_train, self.y_train = np.asarray(data["X_train"]), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"]), np.asarray(data["y_val"])
        for split in ("train", "val"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if len(X) != len(y):
                raise ValueError(f"Solver: X_{split} has {len(X)} rows but y_{split} has "
                                 f"{len(y)} labels.")
        if len(self.X_train) == 0:
            raise ValueError("Solver: X_train is empty.")
        if not isinstance(getattr(model, "params", None), dict) or not hasattr(model, "loss"):
            raise TypeError("Solver: model needs a dict model.params and a method "
                            "model.loss(X, y=None).")

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.lr_schedule = kwargs.pop("lr_schedule", None)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        self.progress = kwargs.pop("progress", False)
        self.optim_module = kwargs.pop("optim_module", None)
        self.seed = kwargs.pop("seed", None)
        if kwargs:
            raise TypeError(f"Solver: unrecognised arguments {', '.join(sorted(kwargs))}.")
        if self.lr_schedule is not None:
            if not callable(self.lr_schedule):
                raise TypeError(f"Solver: lr_schedule must be a callable t -> learning rate, "
                                f"got {self.lr_schedule!r}.")
            if self.lr_decay != 1.0:
                raise ValueError("Solver: give either lr_decay or lr_schedule, not both "
                                 "(a schedule already decides every iteration's rate).")
        if int(self.batch_size) < 1:
            raise ValueError(f"Solver: batch_size must be at least 1, got {self.batch_size}.")
        if self.checkpoint_name is not None:
            directory = os.path.dirname(os.path.abspath(self.checkpoint_name))
            if not os.path.isdir(directory):
                raise FileNotFoundError(f"Solver: the checkpoint directory {directory} does "
                                        f"not exist; create it or change checkpoint_name.")

        self._rule, self.update_rule_name = _resolve_update_rule(self.update_rule,
                                                                 self.optim_module)
        self._reset()

    def _reset(self) -> None:
        """Clear the bookkeeping; called by the constructor."""
        self._bar: Any = None
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.lr_history: list[float] = []
        self.diverged = False
        self.diverged_at: int | None = None
        self.optim_configs: dict[str, dict[str, Any]] = {name: dict(self.optim_config) for name in self.model.params}
        # separate streams, so that changing num_train_samples does not change the minibatches
        batch_seed, sample_seed = np.random.SeedSequence(self.seed).spawn(2)
        self._batch_rng = np.random.default_rng(batch_seed)
        self._sample_rng = np.random.default_rng(sample_seed)

    def _step(self) -> float:
        """One minibatch update. Returns the loss (float); a non-finite loss is not applied."""
        batch = self._batch_rng.integers(len(self.X_train), size=self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        loss = float(loss)
        self.loss_history.append(loss)
        if not np.isfinite(loss):
            return loss
        for name, value in self.model.params.items():
            if name not in grads:
                raise KeyError(f"Solver: model.loss returned no gradient for parameter "
                               f"{name!r}; grads must have the same keys as model.params.")
            next_value, self.optim_configs[name] = self._rule(value, grads[name],
                                                              self.optim_configs[name])
            self.model.params[name] = next_value
        return loss

    def _apply_schedule(self, t: int) -> None:
        """Set every parameter's learning rate to ``lr_schedule(t)``."""
        lr = float(self.lr_schedule(t))
        if not np.isfinite(lr) or lr < 0:
            raise ValueError(f"Solver: lr_schedule({t}) gave {lr}; a learning rate must be "
                             f"a finite number >= 0.")
        for config in self.optim_configs.values():
            config["learning_rate"] = lr
        self.lr_history.append(lr)

    def _save_checkpoint(self) -> None:
        """Write ``{checkpoint_name}_epoch_{epoch}.pkl`` atomically (temp file + rename)."""
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "update_rule": self.update_rule_name,
            "lr_decay": self.lr_decay,
            "lr_history": self.lr_history,
            "optim_config": self.optim_config,
            "optim_configs": self.optim_configs,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
            "best_val_acc": self.best_val_acc,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        directory = os.path.dirname(os.path.abspath(filename))
        handle, tmp_path = tempfile.mkstemp(dir=directory, prefix=".checkpoint-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as tmp:
                pickle.dump(checkpoint, tmp)
            os.replace(tmp_path, filename)
        except BaseException:
            os.unlink(tmp_path)
            raise
        if self.verbose:
            self._say(f'Saved checkpoint "{filename}"')

    def check_accuracy(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """Fraction of ``X`` that the model classifies as ``y``.

        Parameters
        ----------
        X : np.ndarray, shape (N, ...)
        y : np.ndarray of int, shape (N,)
        num_samples : int or None
            If given and smaller than N, measure on that many points drawn at random.
        batch_size : int
            Points per call to ``model.loss`` (bounds the memory used).

        Returns
        -------
        float in [0, 1]
        """
        N = len(X)
        if N == 0:
            raise ValueError("check_accuracy: X is empty.")
        if num_samples is not None and N > num_samples:
            chosen = self._sample_rng.choice(N, num_samples, replace=False)
            X, y = X[chosen], y[chosen]
            N = num_samples
        predictions = np.concatenate([
            np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
            for start in range(0, N, batch_size)])
        return float(np.mean(predictions == np.asarray(y)))

    def _say(self, message: str) -> None:
        """Print ``message`` without breaking a tqdm bar."""
        if self._bar is not None:
            self._bar.write(message)
        else:
            print(message, flush=True)

    def _record_accuracies(self) -> None:
        """Measure train/val accuracy, update histories and the best parameters."""
        train_acc = self.check_accuracy(self.X_train, self.y_train,
                                        num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.verbose:
            self._say(f"(Epoch {self.epoch} / {self.num_epochs}) "
                      f"train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: np.array(value, copy=True)
                                for name, value in self.model.params.items()}

    def train(self) -> None:
        """Run ``num_epochs`` epochs of minibatch updates (or until the loss diverges).

        At the end ``model.params`` is set to the parameters with the best validation
        accuracy seen at an accuracy check. A divergence message is printed even when
        ``verbose`` is False, because the run did not do what was asked.
        """
        iterations_per_epoch = max(len(self.X_train) // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        self._bar = None
        if self.progress:
            from tqdm.auto import tqdm
            self._bar = tqdm(total=num_iterations, desc="training", unit="it")
        try:
            for t in range(num_iterations):
                if self.lr_schedule is not None:
                    self._apply_schedule(t)
                loss = self._step()
                if not np.isfinite(loss):
                    self.diverged, self.diverged_at = True, t
                    self._say(f"(Iteration {t + 1} / {num_iterations}) loss is {loss}: "
                              f"training diverged, stopping. The learning rate is probably "
                              f"too large (or the weight scale); the histories so far are "
                              f"kept in the solver.")
                    break
                if self._bar is not None:
                    self._bar.update(1)
                    self._bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                elif self.verbose and t % self.print_every == 0:
                    print(f"(Iteration {t + 1} / {num_iterations}) loss: {loss:f}", flush=True)

                epoch_end = (t + 1) % iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay
                if t == 0 or epoch_end:
                    self._record_accuracies()
                if epoch_end:
                    self._save_checkpoint()
        finally:
            if self._bar is not None:
                self._bar.close()
            self._bar = None
        if self.best_params:
            for name, value in self.best_params.items():
                self.model.params[name] = value.copy()

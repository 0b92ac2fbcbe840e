"""Pictures for the notebooks: example images, weight templates and filters, training curves.

Every ``show_*`` / ``plot_*`` function draws a new pyplot figure and returns it (so that a
notebook shows it and a script can ``fig.savefig("curves.png")``); none of them calls
``plt.show()``. They work headless with the Agg backend.

Images are rows of CIFAR-10 in the layout ``course_lib.datasets`` returns: (N, 32, 32, 3),
channels last; a flat row of 3072 values is the same image flattened in that order.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike, NDArray
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, Formatter, FuncFormatter, LogLocator, NullFormatter

__all__ = ["visualize_grid", "show_examples", "show_weight_grid", "show_class_templates",
           "plot_training_history", "plot_cross_validation", "plot_learning_rate_curves",
           "plot_timings"]

CIFAR_IMAGE_SHAPE = (32, 32, 3)


def visualize_grid(Xs: ArrayLike, ubound: float = 255.0, padding: int = 1) -> NDArray[np.float64]:
    """Tile images into one picture, each image rescaled to [0, ubound] on its own.

    Parameters
    ----------
    Xs : array_like, shape (N, H, W, C) (or (N, H, W) for grey images)
    ubound : float
        Each image is mapped linearly from its [min, max] to [0, ubound]; a constant image
        becomes 0.
    padding : int
        Pixels of 0 between neighbouring tiles.

    Returns
    -------
    grid : np.ndarray of float64, shape (G * H + (G - 1) * padding, G * W + (G - 1) * padding, C)
        with ``G = ceil(sqrt(N))`` tiles per side, filled row by row; 2-D for grey input.
    """
    Xs = np.asarray(Xs, dtype=np.float64)
    grey = Xs.ndim == 3
    if grey:
        Xs = Xs[..., None]
    if Xs.ndim != 4 or len(Xs) == 0:
        raise ValueError(f"visualize_grid: expected images of shape (N, H, W, C) with N > 0, "
                         f"got {Xs.shape}.")
    N, H, W, C = Xs.shape
    low = Xs.min(axis=(1, 2, 3), keepdims=True)
    span = Xs.max(axis=(1, 2, 3), keepdims=True) - low
    tiles = ubound * (Xs - low) / np.where(span > 0, span, 1.0)

    side = math.ceil(math.sqrt(N))
    # pad the batch to side*side tiles and every tile by `padding` below and to the right,
    # lay the tiles out with one reshape, then trim the padding after the last row/column
    padded = np.zeros((side * side, H + padding, W + padding, C))
    padded[:N, :H, :W] = tiles
    grid = (padded.reshape(side, side, H + padding, W + padding, C)
            .transpose(0, 2, 1, 3, 4)
            .reshape(side * (H + padding), side * (W + padding), C))
    grid = grid[:side * (H + padding) - padding, :side * (W + padding) - padding]
    return grid[..., 0] if grey else grid


def _as_images(X: ArrayLike, image_shape: Sequence[int], caller: str) -> np.ndarray:
    """(N, H, W, C) images, or flat rows (N, prod(image_shape)) reshaped to them."""
    X = np.asarray(X)
    if X.ndim == 2:
        if X.shape[1] != math.prod(image_shape):
            raise ValueError(f"{caller}: rows of {X.shape[1]} values cannot be shown as images "
                             f"of shape {image_shape}; pass image_shape.")
        X = X.reshape((len(X),) + tuple(image_shape))
    if X.ndim not in (3, 4):
        raise ValueError(f"{caller}: expected images (N, H, W, C) or flat rows (N, D), "
                         f"got shape {X.shape}.")
    return X


def _show_image(ax: Axes, image: np.ndarray, title: str | None = None) -> None:
    """Draw one image (values 0..255, or any range for a grey image) without axes."""
    if image.ndim == 3 and image.shape[-1] == 3:
        ax.imshow(np.clip(image, 0, 255).astype(np.uint8))
    else:
        ax.imshow(np.squeeze(image), cmap="gray")
    ax.axis("off")
    if title is not None:
        ax.set_title(title)


def show_examples(X: ArrayLike, y: ArrayLike, classes: Sequence[str], samples_per_class: int = 7,
                  seed: int | None = 0, image_shape: Sequence[int] = CIFAR_IMAGE_SHAPE) -> Figure:
    """A few random training images of every class, one column per class.

    Parameters
    ----------
    X : array_like, shape (N, 32, 32, 3) with values in 0..255 (or flat rows (N, 3072))
    y : array_like of int, shape (N,)
    classes : sequence of str, one name per class
    samples_per_class : int
        Rows of the figure; a class with fewer images shows all it has.
    seed : int or None
        Which images are drawn.
    image_shape : tuple
        Shape of one image, used when ``X`` holds flat rows.

    Returns
    -------
    matplotlib.figure.Figure with one axes per image shown
    """
    X = _as_images(X, image_shape, "show_examples")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    num_classes = len(classes)
    fig = plt.figure(figsize=(1.2 * num_classes, 1.2 * samples_per_class))
    for label, name in enumerate(classes):
        members = np.flatnonzero(y == label)
        chosen = rng.choice(members, min(samples_per_class, len(members)), replace=False)
        for row, index in enumerate(chosen):
            ax = fig.add_subplot(samples_per_class, num_classes, row * num_classes + label + 1)
            _show_image(ax, X[index], title=name if row == 0 else None)
    return fig


def show_weight_grid(W: ArrayLike, image_shape: Sequence[int] = CIFAR_IMAGE_SHAPE, padding: int = 3,
                     title: str | None = None) -> Figure:
    """First-layer weights as a grid of small images, one per hidden unit or filter.

    Parameters
    ----------
    W : array_like, either
        shape (D, H): a fully connected first layer (``TwoLayerNet``'s ``W1``), one column
        of D = prod(image_shape) values per hidden unit; or
        shape (F, C, HH, WW): convolution filters (NCHW), shown in colour when C == 3 and as
        one grey tile per (filter, channel) otherwise.
    image_shape : tuple
        (H, W, C) of one input image, for the (D, H) form.
    padding : int
        Pixels between tiles.
    title : str or None

    Returns
    -------
    matplotlib.figure.Figure with one axes
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim == 2:
        if W.shape[0] != math.prod(image_shape):
            raise ValueError(f"show_weight_grid: W has {W.shape[0]} rows but an image of shape "
                             f"{image_shape} has {math.prod(image_shape)} values; pass the "
                             f"first layer's weights (D, hidden) or set image_shape.")
        tiles = W.T.reshape((W.shape[1],) + tuple(image_shape))
    elif W.ndim == 4:
        tiles = W.transpose(0, 2, 3, 1)  # (F, HH, WW, C)
        if tiles.shape[-1] != 3:
            tiles = tiles.transpose(0, 3, 1, 2).reshape(-1, *tiles.shape[1:3])
    else:
        raise ValueError(f"show_weight_grid: expected weights of shape (D, H) or "
                         f"(F, C, HH, WW), got {W.shape}.")
    grid = visualize_grid(tiles, padding=padding)
    side = 6 if len(tiles) > 16 else 4
    fig, ax = plt.subplots(figsize=(side, side))
    _show_image(ax, grid, title=title)
    return fig


def show_class_templates(W: ArrayLike, classes: Sequence[str],
                         image_shape: Sequence[int] = CIFAR_IMAGE_SHAPE) -> Figure:
    """The weights of a linear classifier, one image ("template") per class.

    All templates share one colour scale, so that stronger weights look stronger.

    Parameters
    ----------
    W : array_like, shape (D, C) or (D + 1, C)
        D = prod(image_shape); an extra last row (the bias of the bias trick) is dropped.
    classes : sequence of str, length C

    Returns
    -------
    matplotlib.figure.Figure with one axes per class
    """
    W = np.asarray(W, dtype=np.float64)
    D = math.prod(image_shape)
    if W.ndim != 2 or W.shape[0] not in (D, D + 1):
        raise ValueError(f"show_class_templates: expected W of shape ({D}, C) or ({D + 1}, C) "
                         f"(with the bias row), got {W.shape}.")
    if W.shape[1] != len(classes):
        raise ValueError(f"show_class_templates: W has {W.shape[1]} columns but "
                         f"{len(classes)} class names were given.")
    templates = W[:D].T.reshape((W.shape[1],) + tuple(image_shape))
    low, high = templates.min(), templates.max()
    templates = 255.0 * (templates - low) / (high - low if high > low else 1.0)
    columns = min(5, len(classes))
    rows = math.ceil(len(classes) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.ravel()[len(classes):]:
        fig.delaxes(ax)
    for ax, template, name in zip(axes.ravel(), templates, classes):
        _show_image(ax, template, title=name)
    return fig


def _histories(run: Any) -> tuple[list[float], ...]:
    """(loss_history, train_acc_history, val_acc_history) of a Solver or a dict, as lists."""
    if isinstance(run, dict):
        if "loss_history" not in run:
            raise ValueError("plot_training_history: a history dict needs the key "
                             "'loss_history' (and optionally 'train_acc_history', "
                             "'val_acc_history').")
        read: Callable[[str], Any] = run.get
    elif hasattr(run, "loss_history"):
        def read_attribute(name: str) -> Any:
            return getattr(run, name, None)
        read = read_attribute
    else:
        raise TypeError(f"plot_training_history: expected a Solver or a dict of histories, "
                        f"got {type(run).__name__}.")
    names = ("loss_history", "train_acc_history", "val_acc_history")
    return tuple(list(read(name) or []) for name in names)


def plot_training_history(solver_or_histories: Any) -> Figure:
    """Loss per iteration, and train / validation accuracy per epoch.

    Parameters
    ----------
    solver_or_histories : Solver, dict, or dict of name -> (Solver or dict)
        A single run (a :class:`~course_lib.solver.Solver` after ``train()``, or a dict with
        ``loss_history``, ``train_acc_history``, ``val_acc_history``), or several runs by name
        (``{"sgd": solver1, "adam": solver2}``), drawn in one colour each.

    Returns
    -------
    matplotlib.figure.Figure with two axes: loss, accuracy
    """
    single = (not isinstance(solver_or_histories, dict)) or "loss_history" in solver_or_histories
    runs = {None: solver_or_histories} if single else dict(solver_or_histories)
    fig, (loss_ax, acc_ax) = plt.subplots(2, 1, figsize=(10, 8))
    for index, (name, run) in enumerate(runs.items()):
        losses, train_acc, val_acc = _histories(run)
        colour = f"C{index}"
        prefix = "" if name is None else f"{name}: "
        loss_ax.plot(losses, "o", markersize=2, alpha=0.6, color=colour, label=name)
        # the first accuracy check comes after one iteration, the others after each epoch
        acc_ax.plot(train_acc, "-o", color=colour, label=f"{prefix}train")
        acc_ax.plot(val_acc, "--s", color=colour, label=f"{prefix}val")
    loss_ax.set_title("Training loss")
    loss_ax.set_xlabel("Iteration")
    loss_ax.set_ylabel("Loss")
    if not single:
        loss_ax.legend()
    acc_ax.set_title("Accuracy")
    acc_ax.set_xlabel("Epoch")
    acc_ax.set_ylabel("Accuracy")
    acc_ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_cross_validation(k_to_accuracies: Mapping[Any, Sequence[float]], xlabel: str = "k") -> Figure:
    """Cross-validation accuracies: every fold as a dot, the mean with a std error bar.

    Parameters
    ----------
    k_to_accuracies : dict
        hyperparameter value (e.g. k of kNN) -> list of accuracies, one per fold.
    xlabel : str

    Returns
    -------
    matplotlib.figure.Figure with one axes
    """
    if not k_to_accuracies:
        raise ValueError("plot_cross_validation: k_to_accuracies is empty.")
    ks = sorted(k_to_accuracies)
    fig, ax = plt.subplots(figsize=(8, 5))
    for k in ks:
        accuracies = np.asarray(k_to_accuracies[k], dtype=np.float64)
        ax.scatter([k] * len(accuracies), accuracies, color="C0", alpha=0.6)
    means = [np.mean(k_to_accuracies[k]) for k in ks]
    stds = [np.std(k_to_accuracies[k]) for k in ks]
    ax.errorbar(ks, means, yerr=stds, color="C1", capsize=4, label="mean ± std")
    ax.set_title(f"Cross-validation on {xlabel}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Cross-validation accuracy")
    ax.legend()
    return fig


class _PlainMinorLogFormatter(Formatter):
    """Labels for the minor ticks of a log axis, as plain numbers ("2", "0.5", "30"): at 2, 3
    and 5 times a power of ten when the axis spans at most about a decade and a half, at 2
    and 5 up to two and a half decades, none beyond (the major ticks suffice and more
    labels would overlap)."""

    def __call__(self, value: float, pos: int | None = None) -> str:
        assert self.axis is not None, "the formatter is set on an axis"
        low, high = sorted(self.axis.get_view_interval())
        if value <= 0 or low <= 0:
            return ""
        decades = math.log10(high / low)
        mantissa = round(value / 10.0 ** math.floor(math.log10(value) + 1e-9), 6)
        shown = (2, 3, 5) if decades <= 1.5 else (2, 5) if decades <= 2.5 else ()
        return f"{value:g}" if mantissa in shown else ""


def plot_learning_rate_curves(lr_to_loss_history: Mapping[float, Sequence[float]], smooth: int = 1,
                              clip: float = 10.0) -> Figure:
    """Loss curves for several learning rates on a log scale, divergence marked.

    A loss that explodes would squash every other curve into the bottom of the picture (or,
    with the y-limits set by hand, leave the picture). So losses are drawn clipped at
    ``clip`` times the largest initial loss (a dotted line): a run that climbs above it runs
    along that line while it is above, with a cross where it first got there. A run whose
    loss became NaN or infinite (see ``Solver.diverged``) is drawn up to its last finite
    value (a cross, unless it was above the line already); legend entries say both.

    Parameters
    ----------
    lr_to_loss_history : dict
        learning rate -> list of losses per iteration.
    smooth : int
        Width of a moving average applied to the finite part (1: none).
    clip : float
        The highest loss drawn, as a multiple of the largest first finite loss of the runs.

    Returns
    -------
    matplotlib.figure.Figure with one axes (log y)
    """
    if not lr_to_loss_history:
        raise ValueError("plot_learning_rate_curves: no loss histories given.")
    runs = {lr: np.asarray(losses, dtype=np.float64) for lr, losses in lr_to_loss_history.items()}
    initial = np.concatenate([losses[np.isfinite(losses) & (losses > 0)][:1]
                              for losses in runs.values()])
    ceiling = clip * initial.max() if len(initial) else None
    fig, ax = plt.subplots(figsize=(9, 5))
    lowest = np.inf
    for index, lr in enumerate(sorted(runs)):
        losses = runs[lr]
        bad = np.flatnonzero(~np.isfinite(losses))
        stop = bad[0] if len(bad) else len(losses)
        finite = losses[:stop]
        clipped = finite > ceiling if ceiling is not None else np.zeros(len(finite), bool)
        above = np.flatnonzero(clipped)
        if ceiling is not None:
            finite = np.minimum(finite, ceiling)
        drawn = finite
        if smooth > 1 and len(finite) > 1:
            # each average is drawn at its window's last point; the first few average fewer
            # losses, so that a short (diverging) run keeps every point
            sums = np.cumsum(finite)
            sums[smooth:] = sums[smooth:] - sums[:-smooth]
            drawn = sums / np.minimum(np.arange(1, len(finite) + 1), smooth)
            drawn[clipped] = ceiling  # a clipped loss stays on the line
        notes = []
        if len(above):
            notes.append(f"above {ceiling:.3g} from iteration {above[0] + 1}")
        if len(bad):
            notes.append(f"diverged at iteration {stop + 1}")
        label = f"lr = {lr:g}" + (f" ({', '.join(notes)})" if notes else "")
        colour = f"C{index}"
        positive = np.where(drawn > 0, drawn, np.nan)
        ax.plot(np.arange(len(drawn)), positive, color=colour, label=label)
        if np.any(positive > 0):
            lowest = min(lowest, np.nanmin(positive))
        if len(above) and ceiling is not None:   # where it first leaves the picture
            ax.plot(above[0], ceiling, "x", color=colour, markersize=12, mew=3)
        elif len(bad) and stop > 0:
            ax.plot(stop - 1, finite[-1], "x", color=colour, markersize=12, mew=3)
    ax.set_yscale("log")
    if ceiling is not None:
        ax.axhline(ceiling, color="gray", linestyle=":", linewidth=1)
        bottom = min(lowest, initial.min()) if np.isfinite(lowest) else initial.min()
        ax.set_ylim(bottom / 1.3, ceiling * 1.6)
    # plain numbers ("2", "0.5"), not "2 x 10^0": losses often span less than a decade,
    # where only minor ticks get labels (a few of them when the range is wider)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(_PlainMinorLogFormatter())
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Loss" + (f" (clipped at {ceiling:.3g})" if ceiling is not None else ""))
    ax.set_title("Loss for different learning rates")
    # below the axes: a diverging run fills the top of the plot, where "best" would put it
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def _timing_ticks(low: float, high: float, max_ticks: int = 5) -> list[float]:
    """Tick positions for a log axis from ``low`` to ``high``: powers of ten, every second or
    third one when there are many, or 1-2-5 steps when the range spans less than two decades."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    decades = [10.0 ** e for e in range(first, last + 1)]
    inside = [t for t in decades if low <= t <= high]
    if len(inside) < 2:
        steps = [m * d for d in decades for m in (1, 2, 5)]
        inside = [t for t in steps if low <= t <= high]
    stride = max(1, math.ceil(len(inside) / max_ticks))
    return inside[::stride]


def _seconds_label(value: float, _: object = None) -> str:
    """A duration in plain words: '2 s', '50 ms', '300 µs'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if value >= scale or unit == "ns":
            return f"{value / scale:.3g} {unit}"
    raise AssertionError("unreachable: the last unit takes every value")


def plot_timings(seconds_by_name: Mapping[str, float], title: str | None = None,
                 reference: str | None = None) -> Figure:
    """Horizontal bars of running times on a log axis, each labelled with its time and speed-up.

    Parameters
    ----------
    seconds_by_name : dict
        name -> seconds, drawn top to bottom in the dict's order.
    title : str or None
    reference : str or None
        The name whose time the speed-ups are relative to (default: the first).

    Returns
    -------
    matplotlib.figure.Figure with one axes (log x), a few plainly labelled ticks
    """
    if not seconds_by_name:
        raise ValueError("plot_timings: no timings given.")
    names = list(seconds_by_name)
    seconds = np.array([float(seconds_by_name[name]) for name in names])
    if not np.all(np.isfinite(seconds) & (seconds > 0)):
        raise ValueError(f"plot_timings: every time must be a positive number of seconds, "
                         f"got {dict(zip(names, seconds))}.")
    base = seconds_by_name[names[0] if reference is None else reference]
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(names) + 1.6))
    positions = np.arange(len(names))[::-1]
    ax.barh(positions, seconds, color="C0")
    ax.set_yticks(positions, names)
    ax.set_xscale("log")
    low, high = seconds.min() / 3, seconds.max() * 3
    ax.set_xlim(low, high * 10)  # room on the right for the labels of the bars
    for position, value in zip(positions, seconds):
        ax.text(value * 1.15, position, f"{_seconds_label(value)}  ({base / value:.3g}x)",
                va="center", fontsize=9)
    ax.xaxis.set_major_locator(FixedLocator(_timing_ticks(low, high * 10)))
    ax.xaxis.set_major_formatter(FuncFormatter(_seconds_label))
    ax.xaxis.set_minor_locator(LogLocator(base=10, subs=list(range(2, 10)), numticks=100))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("time (log scale); in brackets: speed-up over " + (reference or names[0]))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

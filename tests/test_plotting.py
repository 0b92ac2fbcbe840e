"""Plotting helpers draw the right number of things and save PNGs headless (Agg); after
drawing, tick labels do not overlap and every curve stays inside its own plot."""
import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.plotting import (  # noqa: E402
    plot_cross_validation,
    plot_learning_rate_curves,
    plot_timings,
    plot_training_history,
    show_class_templates,
    show_examples,
    show_weight_grid,
    visualize_grid,
)

CLASSES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def saves_png(fig, tmp_path, name="figure.png"):
    path = tmp_path / name
    fig.savefig(path, dpi=50)
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_visualize_grid_layout_and_rescaling(rng):
    images = rng.standard_normal((5, 4, 3, 2))
    grid = visualize_grid(images, ubound=1.0, padding=2)
    # ceil(sqrt(5)) = 3 tiles per side
    assert grid.shape == (3 * 4 + 2 * 2, 3 * 3 + 2 * 2, 2)
    for index, image in enumerate(images):
        row, col = divmod(index, 3)
        tile = grid[row * 6:row * 6 + 4, col * 5:col * 5 + 3]
        expected = (image - image.min()) / (image.max() - image.min())
        np.testing.assert_allclose(tile, expected)
    # padding and the unused tiles are zero
    assert np.all(grid[4:6] == 0) and np.all(grid[:, 3:5] == 0)
    assert np.all(grid[12:, 5:] == 0)


def test_visualize_grid_constant_and_grey_images():
    grid = visualize_grid(np.full((4, 2, 2), 7.0), padding=0)
    assert grid.shape == (4, 4)
    assert np.all(grid == 0)
    with pytest.raises(ValueError, match="\\(N, H, W, C\\)"):
        visualize_grid(np.zeros((2, 3)))


def test_show_examples_one_axes_per_image(rng, tmp_path):
    X = rng.integers(0, 256, size=(200, 32, 32, 3)).astype(np.float64)
    y = np.arange(200) % 10
    fig = show_examples(X, y, CLASSES, samples_per_class=3)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 30
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == CLASSES
    assert saves_png(fig, tmp_path)


def test_show_examples_accepts_flat_rows_and_small_classes(rng):
    X = rng.integers(0, 256, size=(12, 3072))
    y = np.array([0] * 10 + [1] * 2)
    fig = show_examples(X, y, ["a", "b"], samples_per_class=4)
    assert len(fig.axes) == 4 + 2
    with pytest.raises(ValueError, match="image_shape"):
        show_examples(np.zeros((3, 100)), np.zeros(3, int), ["a"])


def test_weight_grid_of_a_fully_connected_layer(rng, tmp_path):
    W1 = rng.standard_normal((3072, 25))
    fig = show_weight_grid(W1, title="W1")
    assert len(fig.axes) == 1
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape == (5 * 32 + 4 * 3, 5 * 32 + 4 * 3, 3)
    assert saves_png(fig, tmp_path)
    with pytest.raises(ValueError, match="first layer"):
        show_weight_grid(rng.standard_normal((100, 10)))


@pytest.mark.parametrize("channels, tiles", [(3, 8), (1, 8), (2, 16)])
def test_weight_grid_of_conv_filters(rng, channels, tiles):
    filters = rng.standard_normal((8, channels, 5, 5))
    fig = show_weight_grid(filters, padding=1)
    side = int(np.ceil(np.sqrt(tiles)))
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape[:2] == (side * 5 + side - 1, side * 5 + side - 1)


@pytest.mark.parametrize("rows", [3072, 3073])
def test_class_templates_one_axes_per_class(rng, rows, tmp_path):
    W = rng.standard_normal((rows, 10))
    fig = show_class_templates(W, CLASSES)
    assert len(fig.axes) == 10
    assert [ax.get_title() for ax in fig.axes] == CLASSES
    assert all(len(ax.get_images()) == 1 for ax in fig.axes)
    if rows == 3073:  # one PNG is enough to show the figure renders
        assert saves_png(fig, tmp_path)


def test_class_templates_share_one_colour_scale():
    W = np.zeros((3072, 2))
    W[:, 1] = 1.0  # class 1 is uniformly stronger: it must look brighter, not the same
    fig = show_class_templates(W, ["weak", "strong"])
    weak, strong = (ax.get_images()[0].get_array() for ax in fig.axes)
    assert weak.max() == 0 and strong.min() == 255
    assert len(fig.axes) == 2


def test_class_templates_check_the_class_count(rng):
    with pytest.raises(ValueError, match="3 class names"):
        show_class_templates(rng.standard_normal((3072, 10)), CLASSES[:3])


def history(rng, epochs=5):
    return {"loss_history": list(2.3 * np.exp(-np.arange(50) / 20) + 0.1 * rng.random(50)),
            "train_acc_history": list(np.linspace(0.1, 0.6, epochs + 1)),
            "val_acc_history": list(np.linspace(0.1, 0.5, epochs + 1))}


def test_training_history_of_one_run(rng, tmp_path):
    fig = plot_training_history(history(rng))
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.get_lines()) == 1 and len(loss_ax.get_lines()[0].get_xdata()) == 50
    assert len(acc_ax.get_lines()) == 2
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["train", "val"]
    assert saves_png(fig, tmp_path)


def test_training_history_of_a_solver_and_of_several_runs(rng):
    class FakeSolver:
        loss_history = [2.0, 1.5, 1.0]
        train_acc_history = [0.1, 0.3]
        val_acc_history = [0.1, 0.2]

    fig = plot_training_history(FakeSolver())
    assert len(fig.axes[1].get_lines()) == 2
    fig = plot_training_history({"sgd": history(rng), "adam": FakeSolver()})
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.get_lines()) == 2 and len(acc_ax.get_lines()) == 4
    assert "adam: val" in [t.get_text() for t in acc_ax.get_legend().get_texts()]
    with pytest.raises(TypeError, match="Solver or a dict"):
        plot_training_history({"run": [1, 2, 3]})


def test_cross_validation_scatter_and_error_bars(tmp_path):
    k_to_accuracies = {1: [0.2, 0.25, 0.3], 5: [0.3, 0.28, 0.26], 10: [0.27, 0.27, 0.29]}
    fig = plot_cross_validation(k_to_accuracies)
    ax = fig.axes[0]
    assert len(ax.collections) >= 3  # one scatter per k (+ the error bar collection)
    scattered = sum(len(c.get_offsets()) for c in ax.collections[:3])
    assert scattered == 9
    mean_line = ax.get_lines()[0]
    np.testing.assert_allclose(np.asarray(mean_line.get_ydata(), dtype=float), [0.25, 0.28, 0.2766666], rtol=1e-5)
    assert saves_png(fig, tmp_path)


def test_learning_rate_curves_mark_divergence(tmp_path):
    stable = list(np.linspace(2.3, 1.0, 40))
    diverging = [2.3, 3.0, 8.0, 15.0, float("nan"), float("nan")]
    fig = plot_learning_rate_curves({1e-3: stable, 1e1: diverging})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["lr = 0.001", "lr = 10 (diverged at iteration 5)"]
    curves = [line for line in ax.get_lines() if line.get_label().startswith("lr")]
    assert len(curves[1].get_xdata()) == 4  # drawn up to the last finite loss
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and crosses[0].get_ydata()[0] == 15.0
    assert saves_png(fig, tmp_path, "lr.png")


def test_learning_rate_curves_clip_an_exploding_loss_at_the_top_of_the_plot():
    stable = list(np.linspace(2.3, 1.0, 40))
    exploding = [2.3, 3.0, 8.0, 50.0, 1e5, float("nan")]
    fig = plot_learning_rate_curves({1e-3: stable, 1e1: exploding}, clip=10)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1] == "lr = 10 (above 23 from iteration 4, diverged at iteration 6)"
    curve = [line for line in ax.get_lines() if line.get_label().startswith("lr = 10")][0]
    np.testing.assert_allclose(curve.get_ydata(), [2.3, 3.0, 8.0, 23.0, 23.0])
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and crosses[0].get_xdata()[0] == 3 and crosses[0].get_ydata()[0] == 23.0


def test_learning_rate_curves_smoothing_keeps_iterations_aligned():
    fig = plot_learning_rate_curves({0.1: list(np.arange(1.0, 11.0))}, smooth=3)
    line = fig.axes[0].get_lines()[0]
    # each average at its window's last iteration; the first two average fewer losses
    np.testing.assert_array_equal(line.get_xdata(), np.arange(10))
    np.testing.assert_allclose(line.get_ydata(), [1.0, 1.5] + list(np.arange(2.0, 10.0)))


def test_learning_rate_curves_smoothing_survives_huge_losses():
    diverging = [2.3, 1e200, 1e300, 1.7e308, float("inf")]
    fig = plot_learning_rate_curves({10.0: diverging}, smooth=2)
    line = fig.axes[0].get_lines()[0]
    assert np.all(np.isfinite(line.get_ydata())) and max(line.get_ydata()) <= 23.0 + 1e-9
    assert len(line.get_xdata()) == 4 and line.get_ydata()[-1] == 23.0


def test_a_run_that_climbs_above_the_line_and_comes_back_is_drawn_whole():
    bumpy = [2.3, 2.0, 30.0, 60.0, 5.0, 2.0]
    fig = plot_learning_rate_curves({0.1: bumpy}, smooth=1)
    ax = fig.axes[0]
    assert ax.get_legend().get_texts()[0].get_text() == "lr = 0.1 (above 23 from iteration 3)"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [2.3, 2.0, 23.0, 23.0, 5.0, 2.0])


# --- what the eye sees: after drawing, inside the axes, labels apart ---------------------

def visible_tick_labels(fig, axis):
    """Window extents of the tick labels of ``axis`` ("x" or "y") that show text."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    ticks = ax.xaxis if axis == "x" else ax.yaxis
    low, high = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    labels = []
    for tick in ticks.get_major_ticks() + ticks.get_minor_ticks():
        text = tick.label1
        if text.get_visible() and text.get_text() and low <= tick.get_loc() <= high:
            labels.append((text.get_text(), text.get_window_extent(renderer)))
    return labels


def assert_apart(labels):
    assert len(labels) >= 2, f"fewer than two labelled ticks: {labels}"
    for index, (text, box) in enumerate(labels):
        assert "$" not in text and "^" not in text, f"tick label {text!r} is not plain"
        for other_text, other in labels[index + 1:]:
            assert not box.overlaps(other), f"tick labels {text!r} and {other_text!r} overlap"


def notebook_learning_rate_runs():
    """Like the two-layer-net notebook's runs: too low, good, high, and one that explodes."""
    iterations = np.arange(80)
    rng = np.random.default_rng(3)
    return {1e-5: list(2.3026 + 1e-4 * rng.standard_normal(80)),
            2e-3: list(0.6 + 1.7 * np.exp(-iterations / 40) + 0.05 * rng.standard_normal(80)),
            4e-3: list(0.5 + 1.8 * np.exp(-iterations / 20) + 0.05 * rng.standard_normal(80)),
            1e0: [2.3, 2.9, 14.0, 410.0, 3e6, 1e40, 1e300, float("inf")]}


def test_the_diverging_curve_is_drawn_inside_its_own_plot():
    with np.errstate(over="ignore"):
        fig = plot_learning_rate_curves(notebook_learning_rate_runs(), smooth=3)
    fig.canvas.draw()
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    curves = {line.get_label(): line for line in ax.get_lines() if line.get_label().startswith("lr")}
    diverging = [line for label, line in curves.items() if label.startswith("lr = 1 ")][0]
    y = np.asarray(diverging.get_ydata(), dtype=float)
    inside = (y >= low) & (y <= high)
    assert inside.sum() >= 3, f"only {inside.sum()} points of the diverging curve lie in {low, high}"
    assert y[inside].max() >= 5 * 2.3, "the diverging curve does not visibly rise"
    for label, line in curves.items():  # the other curves are inside too, and not squashed
        values = np.asarray(line.get_ydata(), dtype=float)
        assert np.all((values >= low) & (values <= high)), f"{label} leaves the plot"
    assert high / low < 1e3, "the y-range is so wide that the useful curves are squashed"
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and low <= crosses[0].get_ydata()[0] <= high


@pytest.mark.parametrize("runs", [
    notebook_learning_rate_runs(),
    {0.1: list(np.linspace(2.3, 1.9, 30))},                  # less than a decade
    {0.1: list(np.geomspace(2.3, 1e-4, 30)), 1.0: [2.3] * 5},  # many decades
])
def test_learning_rate_tick_labels_do_not_overlap(runs):
    with np.errstate(over="ignore"):
        fig = plot_learning_rate_curves(runs, smooth=3)
    assert_apart(visible_tick_labels(fig, "y"))


@pytest.mark.parametrize("timings", [
    {"two loops": 25.0, "one loop": 31.0, "no loops": 0.04},  # the kNN notebook
    {"naive": 0.2, "vectorised": 0.012},
    {"naive": 0.5, "vectorised": 0.45},                       # less than a decade apart
    {"slow": 300.0, "fast": 2e-6},                            # eight decades
])
def test_timing_chart_tick_labels_do_not_overlap(timings, tmp_path):
    fig = plot_timings(timings, title="timings")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(timings)
    bars = ax.patches
    assert sorted(bar.get_width() for bar in bars) == sorted(timings.values())
    labels = visible_tick_labels(fig, "x")
    assert_apart(labels)
    assert len(labels) <= 6
    low, high = ax.get_xlim()
    assert low < min(timings.values()) and max(timings.values()) < high
    assert saves_png(fig, tmp_path, "timings.png")


def test_timing_chart_labels_each_bar_with_time_and_speed_up():
    fig = plot_timings({"two loops": 20.0, "no loops": 0.05})
    texts = [text.get_text() for text in fig.axes[0].texts]
    assert texts == ["20 s  (1x)", "50 ms  (400x)"]
    with pytest.raises(ValueError, match="positive"):
        plot_timings({"broken": 0.0})

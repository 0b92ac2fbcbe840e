"""Plotting helpers draw the right number of things and save PNGs headless (Agg)."""
import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.plotting import (  # noqa: E402
    plot_cross_validation,
    plot_learning_rate_curves,
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
    diverging = [2.3, 3.0, 8.0, 50.0, float("nan"), float("nan")]
    fig = plot_learning_rate_curves({1e-3: stable, 1e1: diverging})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["lr = 0.001", "lr = 10 (diverged at iteration 5)"]
    curves = [line for line in ax.get_lines() if line.get_label().startswith("lr")]
    assert len(curves[1].get_xdata()) == 4  # drawn up to the last finite loss
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and crosses[0].get_ydata()[0] == 50.0
    assert saves_png(fig, tmp_path, "lr.png")


def test_learning_rate_curves_smoothing_keeps_iterations_aligned():
    fig = plot_learning_rate_curves({0.1: list(np.arange(1.0, 11.0))}, smooth=3)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(2, 10))
    np.testing.assert_allclose(line.get_ydata(), np.arange(2.0, 10.0))


def test_learning_rate_curves_smoothing_survives_huge_losses():
    diverging = [2.3, 1e200, 1e300, 1.7e308, float("inf")]
    fig = plot_learning_rate_curves({10.0: diverging}, smooth=2)
    line = fig.axes[0].get_lines()[0]
    assert np.all(np.isfinite(line.get_ydata()))
    assert len(line.get_xdata()) == 3

"""HOG and hue-histogram features on images whose gradients and colours are known."""
import math
from functools import partial

import matplotlib.colors
import numpy as np
import pytest

from course_lib.features import (
    color_histogram_hsv,
    color_histograms_hsv,
    extract_features,
    hog_feature,
    hog_features,
    rgb_to_grey,
)


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(12, 32, 32, 3)).astype(np.float64)


def cell_histograms(features, cell_rows=4, cell_cols=4):
    return features.reshape(cell_rows, cell_cols, 9)


def loop_hog(grey):
    """Pixel-by-pixel reference of the documented HOG definition."""
    H, W = grey.shape
    hist = np.zeros((H // 8, W // 8, 9))
    for i in range(H // 8 * 8):
        for j in range(W // 8 * 8):
            gx = grey[i, j + 1] - grey[i, j] if j + 1 < W else 0.0
            gy = grey[i + 1, j] - grey[i, j] if i + 1 < H else 0.0
            angle = (math.degrees(math.atan2(gy, gx)) + 90.0) % 180.0
            hist[i // 8, j // 8, min(int(angle // 20), 8)] += math.hypot(gx, gy) / 64
    return hist.ravel()


def test_grey_uses_bt601_luma_weights():
    pixels = np.array([[[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 1.0]]])
    np.testing.assert_allclose(rgb_to_grey(pixels), [[0.299, 0.587, 0.114, 1.0]])


def test_hog_of_colour_image_is_hog_of_its_luma(images):
    colour = images[0]
    grey = 0.299 * colour[..., 0] + 0.587 * colour[..., 1] + 0.114 * colour[..., 2]
    np.testing.assert_allclose(hog_feature(colour), hog_feature(grey))


def test_hog_matches_a_pixel_loop_reference(images):
    grey = rgb_to_grey(images[1])[:27, :]  # a partial cell row is ignored
    np.testing.assert_allclose(hog_feature(grey), loop_hog(grey), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, length", [((32, 32, 3), 144), ((32, 32), 144),
                                           ((40, 24, 3), 5 * 3 * 9), ((15, 17), 9 * 2)])
def test_hog_shapes(shape, length):
    assert hog_feature(np.ones(shape)).shape == (length,)


def test_hog_accepts_uint8(images):
    np.testing.assert_allclose(hog_feature(images[2].astype(np.uint8)), hog_feature(images[2]))


@pytest.mark.parametrize("dark_left", [True, False])
def test_vertical_edge_votes_in_the_90_degree_bin(dark_left):
    image = np.zeros((32, 32))
    image[:, 16:] = 255.0
    if not dark_left:
        image = 255.0 - image
    hist = cell_histograms(hog_feature(image))
    # the step sits between columns 15 and 16: 8 pixels of each cell in cell column 1
    expected = np.zeros((4, 4, 9))
    expected[:, 1, 4] = 8 * 255.0 / 64
    np.testing.assert_allclose(hist, expected)


def test_horizontal_edge_votes_in_the_zero_degree_bin():
    image = np.zeros((32, 32, 3))
    image[20:] = 100.0  # step between rows 19 and 20: cell row 2
    hist = cell_histograms(hog_feature(image))
    expected = np.zeros((4, 4, 9))
    expected[2, :, 0] = 8 * 100.0 / 64
    np.testing.assert_allclose(hist, expected, atol=1e-12)


def test_ramps_vote_by_their_direction():
    rows, cols = np.mgrid[0:32, 0:32].astype(np.float64)
    along_columns = cell_histograms(hog_feature(cols))  # gx = 1: vertical iso-lines
    assert np.all(along_columns[:, :3, 4] == 1.0)  # 64 pixels * magnitude 1 / 64
    np.testing.assert_allclose(along_columns[:, 3, 4], 56 / 64)  # last column has gx = 0
    assert along_columns.sum() == pytest.approx(along_columns[..., 4].sum())
    diagonal = cell_histograms(hog_feature(rows + cols))  # gx = gy = 1: 45 deg -> edge 135
    interior = diagonal[:3, :3]
    np.testing.assert_allclose(interior[..., 6], math.sqrt(2))
    assert interior.sum() == pytest.approx(interior[..., 6].sum())


def test_hog_rejects_a_batch_or_a_flat_row():
    with pytest.raises(ValueError, match="hog_features"):
        hog_feature(np.zeros((2, 32, 32, 3)))
    with pytest.raises(ValueError, match="smaller than one"):
        hog_feature(np.zeros((4, 32)))


def test_hog_rejects_nan_pixels():
    image = np.zeros((16, 16))
    image[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        hog_feature(image)


def test_batched_hog_equals_one_by_one(images):
    batch = hog_features(images)
    assert batch.shape == (len(images), 144)
    for image, row in zip(images, batch):
        np.testing.assert_array_equal(row, hog_feature(image))


def test_hue_histogram_matches_matplotlib_hsv_and_np_histogram(images):
    for image in images[:4]:
        hue = matplotlib.colors.rgb_to_hsv(image / 255.0)[..., 0] * 255.0
        counts, _ = np.histogram(hue, bins=np.linspace(0, 255, 11))
        np.testing.assert_array_equal(color_histogram_hsv(image, normalized=False), counts)
        np.testing.assert_allclose(color_histogram_hsv(image), counts / counts.sum())


def test_hue_histogram_with_ties_and_grey_pixels_matches_matplotlib():
    """Small integer channels make ties and exact bin edges common."""
    image = np.random.default_rng(1).integers(0, 6, size=(40, 40, 3)).astype(np.float64)
    hue = matplotlib.colors.rgb_to_hsv(image / 5.0)[..., 0] * 5.0
    counts, _ = np.histogram(hue, bins=np.linspace(0, 5, 7))
    np.testing.assert_array_equal(
        color_histogram_hsv(image, nbin=6, xmax=5, normalized=False), counts)


@pytest.mark.parametrize("rgb, hot_bin", [((255, 0, 0), 0), ((0, 255, 0), 3), ((0, 0, 255), 6),
                                          ((255, 255, 0), 1), ((90, 90, 90), 0)])
def test_pure_colours_land_in_their_hue_bin(rgb, hot_bin):
    image = np.broadcast_to(np.array(rgb, dtype=np.float64), (8, 8, 3))
    hist = color_histogram_hsv(image)
    assert hist[hot_bin] == 1.0 and hist.sum() == 1.0


def test_histogram_sums(images):
    assert color_histogram_hsv(images[0], nbin=25).sum() == pytest.approx(1.0)
    assert color_histogram_hsv(images[0], nbin=7, normalized=False).sum() == 32 * 32
    # only the hues inside [xmin, xmax] are counted
    assert color_histogram_hsv(images[0], xmin=128, normalized=False).sum() < 32 * 32


def test_hue_histogram_refuses_mean_subtracted_images(images):
    with pytest.raises(ValueError, match="before subtracting the mean"):
        color_histogram_hsv(images[0] - images.mean(axis=0))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        color_histogram_hsv(images[0, ..., 0])


def test_batched_hue_histograms_equal_one_by_one(images):
    batch = color_histograms_hsv(images, nbin=12)
    for image, row in zip(images, batch):
        np.testing.assert_array_equal(row, color_histogram_hsv(image, nbin=12))


def test_extract_features_concatenates_in_the_given_order(images):
    def mean_feature(im):
        return np.array([im.mean()])

    def extremes(im):
        return np.array([im.max(), im.min()])

    features = extract_features(images, [mean_feature, extremes])
    expected = np.stack([[im.mean(), im.max(), im.min()] for im in images])
    assert features.dtype == np.float64
    np.testing.assert_array_equal(features, expected)
    swapped = extract_features(images, [extremes, mean_feature])
    np.testing.assert_array_equal(swapped, expected[:, [1, 2, 0]])


def test_extract_features_fast_path_equals_the_image_by_image_path(images):
    fast = extract_features(images, [hog_feature, partial(color_histogram_hsv, nbin=7)])
    slow = extract_features(images, [lambda im: hog_feature(im),
                                     lambda im: color_histogram_hsv(im, nbin=7)])
    assert fast.shape == (len(images), 144 + 7)
    np.testing.assert_array_equal(fast, slow)


def test_extract_features_progress_bar(images, capsys):
    extract_features(images, [hog_feature, lambda im: np.array([im.sum()])], verbose=True)
    assert "features" in capsys.readouterr().err


def test_extract_features_explains_bad_feature_functions(images):
    with pytest.raises(ValueError, match="must return a 1-D array"):
        extract_features(images, [lambda im: im[:2, :2, 0]])
    lengths = iter(range(1, 100))
    with pytest.raises(ValueError, match="same length for every image"):
        extract_features(images, [lambda im: np.zeros(next(lengths))])
    with pytest.raises(ValueError, match="feature_fns is empty"):
        extract_features(images, [])

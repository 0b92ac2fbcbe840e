"""Hand-made image features: histograms of oriented gradients and of hue.

Each feature function takes ONE image and returns a 1-D vector; :func:`extract_features`
applies a list of them to every image and concatenates the results::

    feature_fns = [hog_feature, partial(color_histogram_hsv, nbin=25)]
    X_train_feats = extract_features(X_train, feature_fns, verbose=True)   # (N, 144 + 25)

``hog_feature`` and ``color_histogram_hsv`` (also wrapped in ``functools.partial``) are
recognised by ``extract_features`` and run on many images at once, which is several times
faster than calling them image by image; a ``lambda`` wrapper hides them and gets the
image-by-image path (same numbers, slower).

HOG here follows the CS231n variant, with the luma weights corrected:

1. grey = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601);
2. forward differences ``gx[i, j] = grey[i, j+1] - grey[i, j]`` and
   ``gy[i, j] = grey[i+1, j] - grey[i, j]`` (zero in the last column / row);
3. each pixel votes with its gradient magnitude for one of 9 orientation bins of 20
   degrees. The orientation is that of the EDGE, ``(atan2(gy, gx) + 90) mod 180`` in image
   coordinates (rows grow downwards): a vertical edge votes in bin 4 (80-100 degrees), a
   horizontal edge in bin 0. CS231n's code skips the gradients that point leftwards
   (gx < 0, about half of them); here opposite gradients fold onto the same edge
   orientation, as in Dalal and Triggs' unsigned HOG;
4. votes are averaged over 8x8-pixel cells (sum / 64); rows and columns that do not fill a
   whole cell are ignored. The result is ordered (cell row, cell column, bin): a 32x32
   image gives 4 * 4 * 9 = 144 features.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["rgb_to_grey", "hog_feature", "hog_features", "color_histogram_hsv",
           "color_histograms_hsv", "extract_features"]

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
HOG_ORIENTATIONS = 9
HOG_CELL = 8
_BATCH_CHUNK = 1024  # images per vectorised chunk: bounded memory, still few Python calls


def rgb_to_grey(images: ArrayLike) -> NDArray[np.float64]:
    """Luma of RGB images.

    Parameters
    ----------
    images : array_like, shape (..., H, W, 3)

    Returns
    -------
    np.ndarray of float64, shape (..., H, W)
    """
    images = np.asarray(images)
    if images.shape[-1] != 3:
        raise ValueError(f"rgb_to_grey: expected RGB images with 3 channels in the last axis, "
                         f"got shape {images.shape}.")
    return images @ LUMA_WEIGHTS


def _edge_orientation_bin(gx: np.ndarray, gy: np.ndarray) -> NDArray[np.intp]:
    """Bin (0..8, 20 degrees each) of the edge angle ``(atan2(gy, gx) + 90 deg) mod 180 deg``.

    Parameters
    ----------
    gx, gy : np.ndarray of float64, same shape

    Returns
    -------
    np.ndarray of intp, same shape
    """
    bins_per_radian = HOG_ORIENTATIONS / np.pi
    # atan2 in (-pi, pi] -> position in bins, shifted by 90 degrees plus one full turn of
    # 9 bins so that it is positive; the tiny nudge keeps exact multiples of 20 degrees
    # (axis-aligned gradients) from rounding down into the previous bin
    position = np.arctan2(gy, gx) * bins_per_radian + (1.5 * HOG_ORIENTATIONS + 1e-9)
    return _WRAP_BINS[position.astype(np.intp)]


# position lies in [4.5, 22.5]; wrapping it modulo 9 by table look-up is cheaper than np.mod
_WRAP_BINS = np.arange(3 * HOG_ORIENTATIONS) % HOG_ORIENTATIONS


def _oriented_gradient_histograms(grey: np.ndarray) -> NDArray[np.float64]:
    """Cell-averaged, magnitude-weighted orientation histograms.

    Parameters
    ----------
    grey : np.ndarray of float64, shape (N, H, W)

    Returns
    -------
    np.ndarray of float64, shape (N, H // 8, W // 8, 9)
    """
    N, H, W = grey.shape
    cell_rows, cell_cols = H // HOG_CELL, W // HOG_CELL
    if cell_rows == 0 or cell_cols == 0:
        raise ValueError(f"hog_feature: the image is {H}x{W} pixels, smaller than one "
                         f"{HOG_CELL}x{HOG_CELL} cell.")
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, :, :-1] = np.diff(grey, axis=2)
    gy[:, :-1, :] = np.diff(grey, axis=1)
    # only whole cells take part
    gx = gx[:, :cell_rows * HOG_CELL, :cell_cols * HOG_CELL]
    gy = gy[:, :cell_rows * HOG_CELL, :cell_cols * HOG_CELL]
    magnitude = np.sqrt(gx * gx + gy * gy)  # np.hypot is five times slower here
    if not np.isfinite(magnitude.sum()):
        raise ValueError("hog_feature: the image holds NaN or infinite values.")
    orientation_bin = _edge_orientation_bin(gx, gy)
    # one histogram slot per (image, cell row, cell column, bin), filled by a single bincount
    rows = np.arange(cell_rows * HOG_CELL) // HOG_CELL
    cols = np.arange(cell_cols * HOG_CELL) // HOG_CELL
    cell_of_pixel = rows[:, None] * cell_cols + cols[None, :]
    num_cells = cell_rows * cell_cols
    image_offset = np.arange(N)[:, None, None] * num_cells
    slot = ((image_offset + cell_of_pixel) * HOG_ORIENTATIONS + orientation_bin).ravel()
    sums = np.bincount(slot, weights=magnitude.ravel(),
                       minlength=N * num_cells * HOG_ORIENTATIONS)
    return sums.reshape(N, cell_rows, cell_cols, HOG_ORIENTATIONS) / HOG_CELL ** 2


def _as_grey_batch(images: ArrayLike, caller: str) -> NDArray[np.float64]:
    """(N, H, W, 3) colour or (N, H, W) grey images -> (N, H, W) float64 grey."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 3:
        return rgb_to_grey(images)
    if images.ndim == 3:
        return images.astype(np.float64, copy=False)
    raise ValueError(f"{caller}: expected images of shape (N, H, W, 3) or (N, H, W), "
                     f"got {images.shape}.")


def hog_features(images: ArrayLike) -> NDArray[np.float64]:
    """HOG features of many images at once (vectorised :func:`hog_feature`).

    Parameters
    ----------
    images : array_like, shape (N, H, W, 3) RGB or (N, H, W) grey

    Returns
    -------
    np.ndarray of float64, shape (N, (H // 8) * (W // 8) * 9)
    """
    grey = _as_grey_batch(images, "hog_features")
    return _oriented_gradient_histograms(grey).reshape(len(grey), -1)


def hog_feature(im: ArrayLike) -> NDArray[np.float64]:
    """Histogram-of-oriented-gradients features of one image (see the module docstring).

    Parameters
    ----------
    im : array_like, shape (H, W, 3) RGB or (H, W) grey; any real dtype, any value scale

    Returns
    -------
    np.ndarray of float64, shape ((H // 8) * (W // 8) * 9,); 144 for a 32x32 image
    """
    im = np.asarray(im)
    if im.ndim == 3 and im.shape[-1] == 3:
        grey = rgb_to_grey(im)
    elif im.ndim == 2:
        grey = im.astype(np.float64, copy=False)
    else:
        raise ValueError(f"hog_feature: expected one image of shape (H, W, 3) or (H, W), "
                         f"got {im.shape}. For a batch use extract_features or hog_features.")
    return _oriented_gradient_histograms(grey[None]).ravel()


def _hue(rgb: np.ndarray, scale: float = 1.0) -> NDArray[np.float64]:
    """Hue in [0, 1) of RGB values (the H of HSV, as matplotlib.colors.rgb_to_hsv).

    Parameters
    ----------
    rgb : np.ndarray, shape (..., 3)
    scale : float
        The values are divided by it first. Hue does not depend on it mathematically, but
        dividing as matplotlib does (``rgb_to_hsv(im / xmax)``) makes the result identical to
        the last bit, so that pixels on a bin edge land in the same bin.

    Returns
    -------
    np.ndarray of float64, shape (...); 0 where the colour is grey (max == min)
    """
    # channel planes first: reductions over a trailing axis of length 3 are slow
    planes = np.empty((3,) + rgb.shape[:-1])
    np.divide(np.moveaxis(rgb, -1, 0), scale, out=planes)
    r, g, b = planes
    brightest = planes.max(axis=0)
    chroma = brightest - planes.min(axis=0)
    is_grey = chroma == 0
    chroma[is_grey] = 1.0  # any non-zero value; grey pixels get hue 0 below
    # the sextant formula of the brightest channel; later channels win ties, as in
    # matplotlib (ties give equal values anyway)
    sextant = np.where(b == brightest, 4.0 + (r - g) / chroma,
                       np.where(g == brightest, 2.0 + (b - r) / chroma, (g - b) / chroma))
    hue = sextant / 6.0
    hue[hue < 0] += 1.0  # (x mod 1) for x in (-1, 0), as np.mod computes it
    hue[is_grey] = 0.0
    return hue


def _uniform_bin_index(values: np.ndarray, low: float, high: float, nbin: int) -> NDArray[np.intp]:
    """Bin of each value among ``nbin`` equal bins over [low, high], as np.histogram assigns.

    Bins are [edge_k, edge_k+1), the last one also holds ``high``. The index is computed
    arithmetically and then corrected against the float edges, which is what np.histogram
    does and several times faster than np.searchsorted. Values outside [low, high] get
    meaningless indices; mask them out.

    Parameters
    ----------
    values : np.ndarray of float64, any shape

    Returns
    -------
    np.ndarray of intp, shape ``values.shape``, in [0, nbin - 1]
    """
    edges = np.linspace(low, high, nbin + 1)
    index = ((values - low) * (nbin / (high - low))).astype(np.intp)
    np.clip(index, 0, nbin - 1, out=index)
    index -= values < edges[index]
    index += (values >= edges[index + 1]) & (index != nbin - 1)
    return index


def _check_rgb_range(images: np.ndarray, xmax: float, caller: str) -> None:
    low, high = float(np.min(images)), float(np.max(images))
    if low < 0 or high > xmax:
        raise ValueError(f"{caller}: RGB values must lie in [0, {xmax}] (xmax), got "
                         f"[{low:g}, {high:g}]. Compute colour features on the raw images, "
                         f"before subtracting the mean image.")


def color_histograms_hsv(images: ArrayLike, nbin: int = 10, xmin: float = 0, xmax: float = 255,
                         normalized: bool = True) -> NDArray[np.float64]:
    """Hue histograms of many images at once (vectorised :func:`color_histogram_hsv`).

    Parameters
    ----------
    images : array_like, shape (N, H, W, 3), RGB values in [0, xmax]
    nbin, xmin, xmax, normalized : see :func:`color_histogram_hsv`

    Returns
    -------
    np.ndarray of float64, shape (N, nbin)
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"color_histograms_hsv: expected RGB images of shape (N, H, W, 3), "
                         f"got {images.shape}.")
    _check_rgb_range(images, xmax, "color_histogram_hsv")
    hue = _hue(images, scale=xmax).reshape(len(images), -1) * xmax
    inside = (hue >= xmin) & (hue <= xmax)
    bins = _uniform_bin_index(hue, xmin, xmax, nbin)
    slot = (np.arange(len(images))[:, None] * nbin + bins)[inside]
    counts = np.bincount(slot, minlength=len(images) * nbin).reshape(len(images), nbin) \
        .astype(np.float64)
    if normalized:
        totals = counts.sum(axis=1, keepdims=True)
        counts /= np.where(totals > 0, totals, 1.0)
    return counts


def color_histogram_hsv(im: ArrayLike, nbin: int = 10, xmin: float = 0, xmax: float = 255,
                        normalized: bool = True) -> NDArray[np.float64]:
    """Histogram of the hue of one RGB image.

    Hue runs over [0, 1) and is scaled to [0, xmax) before binning into ``nbin`` equal bins
    over [xmin, xmax], as in CS231n.

    Parameters
    ----------
    im : array_like, shape (H, W, 3), RGB values in [0, xmax] (raw pixels, not mean-subtracted)
    nbin : int
        Number of bins.
    xmin, xmax : float
        Range of the bins; ``xmax`` is also the largest RGB value.
    normalized : bool
        True: fractions of the pixels that fall in range (they sum to 1). False: pixel counts
        (they sum to H * W when xmin <= 0). CS231n's code returned counts multiplied by the
        bin width here; plain counts are what the name promises.

    Returns
    -------
    np.ndarray of float64, shape (nbin,)
    """
    im = np.asarray(im)
    if im.ndim != 3 or im.shape[-1] != 3:
        raise ValueError(f"color_histogram_hsv: expected one RGB image of shape (H, W, 3), "
                         f"got {im.shape}.")
    return color_histograms_hsv(im[None], nbin, xmin, xmax, normalized)[0]


# extract_features looks these up to run the known features on whole chunks of images
hog_feature.batch = hog_features  # type: ignore[attr-defined]
color_histogram_hsv.batch = color_histograms_hsv  # type: ignore[attr-defined]


def _batch_version(feature_fn: Callable[..., Any]) -> Callable[..., Any] | None:
    """The vectorised twin of ``feature_fn`` (also through functools.partial), or None."""
    if isinstance(feature_fn, functools.partial):
        inner = _batch_version(feature_fn.func)
        if inner is None:
            return None
        return functools.partial(inner, *feature_fn.args, **feature_fn.keywords)
    return getattr(feature_fn, "batch", None)


def _feature_name(feature_fn: Callable[..., Any]) -> str:
    if isinstance(feature_fn, functools.partial):
        return _feature_name(feature_fn.func)
    return getattr(feature_fn, "__name__", repr(feature_fn))


def extract_features(imgs: ArrayLike, feature_fns: Sequence[Callable[[np.ndarray], ArrayLike]],
                     verbose: bool = False) -> NDArray[np.float64]:
    """Apply every feature function to every image and concatenate the results.

    Parameters
    ----------
    imgs : array_like, shape (N, H, W, C) (or (N, H, W))
    feature_fns : list of callables
        Each takes one image ``imgs[i]`` and returns a 1-D array; its length must be the
        same for all images.
    verbose : bool
        Show a tqdm progress bar.

    Returns
    -------
    np.ndarray of float64, shape (N, F_1 + ... + F_k)
        Columns in the order of ``feature_fns``.
    """
    imgs = np.asarray(imgs)
    if len(imgs) == 0:
        raise ValueError("extract_features: no images given.")
    if not feature_fns:
        raise ValueError("extract_features: feature_fns is empty; pass e.g. [hog_feature].")
    num_images = len(imgs)

    first_features = []
    for fn in feature_fns:
        values = np.asarray(fn(imgs[0]))
        if values.ndim != 1:
            raise ValueError(f"extract_features: {_feature_name(fn)} returned shape "
                             f"{values.shape}; a feature function must return a 1-D array.")
        first_features.append(values)
    widths = [len(values) for values in first_features]
    boundaries = np.cumsum([0] + widths)
    features = np.empty((num_images, boundaries[-1]), dtype=np.float64)

    bar = None
    if verbose:
        from tqdm.auto import tqdm
        bar = tqdm(total=num_images * len(feature_fns), desc="features", unit="img")
    try:
        for k, (fn, start, stop) in enumerate(zip(feature_fns, boundaries[:-1], boundaries[1:])):
            batch_fn = _batch_version(fn)
            if batch_fn is not None:
                for first in range(0, num_images, _BATCH_CHUNK):
                    chunk = imgs[first:first + _BATCH_CHUNK]
                    features[first:first + len(chunk), start:stop] = batch_fn(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                continue
            features[0, start:stop] = first_features[k]
            for i in range(1, num_images):
                values = np.asarray(fn(imgs[i]))
                if values.shape != (stop - start,):
                    raise ValueError(
                        f"extract_features: {_feature_name(fn)} returned shape {values.shape} "
                        f"for image {i} but ({stop - start},) for image 0; features must "
                        f"have the same length for every image.")
                features[i, start:stop] = values
                if bar is not None and i % 100 == 0:
                    bar.update(100)
            if bar is not None:
                bar.update((num_images - 1) % 100 + 1)
    finally:
        if bar is not None:
            bar.close()
    return features

"""An embedded synthetic stand-in for CIFAR-10: same shapes, same classes, no download.

Every class has a scene: a background palette (sky over ground, sea, road, forest, a room),
an object of its own silhouette, two colour variants for the object (a red or a blue car, a
brown or a white horse) and a stripe texture of its own orientation. Each image jitters all of
that: the object moves, turns, scales and may be mirrored, colours drift, two backgrounds in
five have random colours instead of the class's, a disk of random colour sits somewhere, the
lighting is uneven (an offset and a gradient, slightly tinted) and every pixel gets sensor
noise. So the mean image of a class shows its scene, its colours and its shape, and a linear
classifier's templates show them too. Nearest neighbours on raw pixels are misled by the
nuisances (well above chance, but lowest: about 28-33% in the kNN notebook); a linear
classifier does better (about 35-48%), and a tuned two-layer net, which can keep the two colour
variants of a class apart, better still (46-72%; the lower ends in fast mode); features that
see shape (HOG) and colour help, as on CIFAR-10.

Images are generated in fixed blocks of :data:`BLOCK` images, each from its own seed, so
the first ``n`` images of a larger set equal the images of a smaller one, and the test set
does not depend on the size of the training set.
"""
from __future__ import annotations

import concurrent.futures
import functools
import os

import numpy as np
from numpy.typing import ArrayLike

from .layout import CLASSES, IMAGE_SHAPE, NUM_CLASSES

BLOCK = 250
_TRAIN, _TEST = 0, 1
_SIDE = IMAGE_SHAPE[0]
# Pixel-centre coordinates in [-1, 1]; row index is y (down), column index is x.
_Y, _X = np.meshgrid(np.linspace(-1, 1, _SIDE, dtype=np.float32),
                     np.linspace(-1, 1, _SIDE, dtype=np.float32), indexing="ij")

_LIGHT_MAPS = np.stack([np.ones_like(_X), _X, _Y]).reshape(3, _SIDE * _SIDE)

# Per class, the scene's palette (RGB in [0, 1]): the colour above and below the horizon,
# then the object's two colour variants. Classes share some colours (sky behind planes,
# birds and ships; grey behind cars and trucks), as on CIFAR-10.
_PALETTE = np.array([
    # sky/top           ground/bottom       object, variant A    object, variant B
    [[0.52, 0.68, 0.90], [0.72, 0.80, 0.90], [0.92, 0.92, 0.95], [0.35, 0.40, 0.50]],  # airplane
    [[0.62, 0.62, 0.64], [0.28, 0.28, 0.30], [0.85, 0.10, 0.10], [0.12, 0.25, 0.80]],  # automobile
    [[0.60, 0.76, 0.88], [0.40, 0.58, 0.28], [0.50, 0.32, 0.16], [0.92, 0.80, 0.15]],  # bird
    [[0.78, 0.68, 0.52], [0.45, 0.34, 0.24], [0.90, 0.52, 0.12], [0.48, 0.48, 0.50]],  # cat
    [[0.22, 0.45, 0.18], [0.45, 0.36, 0.18], [0.62, 0.40, 0.18], [0.80, 0.68, 0.45]],  # deer
    [[0.45, 0.62, 0.30], [0.62, 0.56, 0.44], [0.72, 0.50, 0.28], [0.12, 0.10, 0.10]],  # dog
    [[0.18, 0.32, 0.14], [0.36, 0.30, 0.14], [0.35, 0.80, 0.20], [0.60, 0.52, 0.18]],  # frog
    [[0.70, 0.76, 0.82], [0.35, 0.55, 0.24], [0.38, 0.22, 0.10], [0.88, 0.85, 0.80]],  # horse
    [[0.66, 0.76, 0.86], [0.08, 0.28, 0.55], [0.94, 0.94, 0.94], [0.60, 0.12, 0.08]],  # ship
    [[0.72, 0.72, 0.74], [0.40, 0.40, 0.42], [0.95, 0.78, 0.08], [0.20, 0.55, 0.30]],  # truck
], np.float32)
# Per class: stripe angle (radians, in the object's frame) and frequency of its texture.
_STRIPE_ANGLE = np.deg2rad(np.array([0, 90, 45, 135, 90, 0, 30, 150, 0, 60], np.float32))
_STRIPE_FREQ = np.array([6, 9, 5, 7, 11, 4, 8, 6, 10, 5], np.float32)

# The nuisances, tuned so that kNN < linear < two-layer net, all well above chance.
_FOREIGN_BACKGROUND = 0.40  # share of images with a background of random colours
_COLOUR_JITTER = 0.10       # standard deviation of every palette colour, per image
_SHIFT = 0.45               # the object's centre moves up to this (in half-images) each way
_HORIZON = 0.60             # the horizon's height varies up to this (in half-images) each way
_NOISE = 12.0               # standard deviation of the per-pixel sensor noise (grey levels)
_CAST = 40.0                # standard deviation of the lighting's offset (grey levels)
_SHADE = 40.0               # standard deviation of the lighting's gradient, per axis
_TINT = 0.3                 # the lighting's colour: per-channel deviations relative to grey
_CONTRAST = 0.8             # scales every image's deviations from mid-grey


def _inside(distance_px: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Anti-aliased inside-indicator from a signed distance in pixels (negative inside):
    1 inside, 0 outside, a linear ramp two pixels wide across the edge."""
    out = np.multiply(distance_px, -0.5, out=out)
    out += 0.5
    return np.clip(out, 0, 1, out=out)


def _silhouette(label: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) of class ``label``'s shape at object coordinates.

    Parameters
    ----------
    label : int
        The class.
    u, v : ndarray of float32, shape (B, 32, 32)
        Pixel coordinates in each object's frame (unit = object radius).

    Returns
    -------
    ndarray of float32, shape (B, 32, 32)
    """
    def box(half_u: float, half_v: float) -> np.ndarray:
        return np.maximum(np.abs(u) - half_u, np.abs(v) - half_v)

    def radius() -> np.ndarray:
        return np.sqrt(u * u + v * v)

    if label == 0:  # airplane: fuselage and wings
        return np.minimum(box(1.0, 0.15), box(0.2, 0.75))
    if label == 1:  # automobile: body and two wheels
        return np.minimum(box(0.95, 0.35), np.abs(np.abs(u) - 0.5) + np.abs(v - 0.45) - 0.3)
    if label == 2:  # bird: a triangle
        return np.maximum(-v - 0.6, np.abs(u) * 1.6 + v - 0.6)
    if label == 3:  # cat: a head with ears
        ears = np.maximum(np.abs(np.abs(u) - 0.45) + v + 0.55, -v - 1.0)
        return np.minimum(radius() - 0.7, ears)
    if label == 4:  # deer: a tall cross
        return np.minimum(box(0.15, 0.9), box(0.8, 0.12))
    if label == 5:  # dog: a ring
        return np.abs(radius() - 0.65) - 0.2
    if label == 6:  # frog: a flat ellipse
        return np.sqrt(u * u + (v / 0.55) ** 2) - 0.9
    if label == 7:  # horse: a diagonal band
        return np.abs(u - v) / 1.4 - 0.25
    if label == 8:  # ship: hull and mast
        return np.minimum(np.maximum(box(0.9, 0.25), v - 0.5), box(0.08, 0.8))
    return box(0.75, 0.75)  # truck: a square


def _column(values: ArrayLike) -> np.ndarray:
    """Per-image parameters (B,) as float32 (B, 1, 1), to broadcast over the pixel grid."""
    return np.asarray(values, np.float32)[:, None, None]


def _block(split: int, index: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Generate block ``index`` of ``split``: uint8 (BLOCK, 32, 32, 3) and int64 (BLOCK,)."""
    rng = np.random.default_rng([seed, split, index])
    n = BLOCK
    labels = rng.permutation(np.arange(n) % NUM_CLASSES)

    def uniform(low: float, high: float, *shape: int) -> np.ndarray:
        return low + (high - low) * rng.random(shape or (n,), np.float32)

    pixels_per_unit = _SIDE / 2

    # The scene: the palette of the image's class, or of a random class for a few images,
    # split by a tilted horizon at a random height (a ramp four pixels wide).
    horizon = _column(uniform(-_HORIZON, _HORIZON)) + _column(uniform(-0.3, 0.3)) * _X
    horizon -= _Y
    horizon *= pixels_per_unit / 2
    below = _inside(horizon, out=horizon)

    # A distractor: a disk of random colour, size and place.
    blob = np.hypot(_X - _column(uniform(-0.8, 0.8)), _Y - _column(uniform(-0.8, 0.8)))
    blob -= _column(uniform(0.1, 0.3))
    blob *= pixels_per_unit
    blob = _inside(blob, out=blob)

    # The object's frame: shifted centre, size (radius, in half-images), rotation, and a
    # mirror image for half of the objects.
    dx = _X - _column(uniform(-_SHIFT, _SHIFT))
    dy = _Y - _column(uniform(-_SHIFT, _SHIFT))
    size = uniform(0.5, 0.8)
    theta = uniform(-np.deg2rad(15), np.deg2rad(15))
    mirror = np.where(rng.random(n) < 0.5, -1, 1).astype(np.float32)
    cos, sin = _column(np.cos(theta) / size), _column(np.sin(theta) / size)
    u = cos * dx + sin * dy
    u *= _column(mirror)
    v = cos * dy - sin * dx
    distance = np.empty_like(u)
    for label in range(NUM_CLASSES):
        members = labels == label
        distance[members] = _silhouette(label, u[members], v[members])
    distance *= _column(size * pixels_per_unit)
    mask = _inside(distance, out=distance)

    # The object's shading: stripes whose orientation and frequency belong to the class.
    freq, angle = _STRIPE_FREQ[labels], _STRIPE_ANGLE[labels]
    stripes = _column(freq * np.cos(angle)) * u
    stripes += _column(freq * np.sin(angle)) * v
    stripes += _column(uniform(0, 2 * np.pi))
    np.sin(stripes, out=stripes)
    stripes *= 0.3
    stripes += 1

    # Colours: the palette's, each drifting a little; the object in one of its two variants.
    variant = rng.integers(0, 2, n)
    top, bottom = _PALETTE[labels, 0], _PALETTE[labels, 1]
    foreign = rng.random(n) < _FOREIGN_BACKGROUND
    top[foreign], bottom[foreign] = uniform(0, 1, n, 3)[foreign], uniform(0, 1, n, 3)[foreign]
    colours = np.stack([top, bottom - top, uniform(0, 1, n, 3), _PALETTE[labels, 2 + variant]],
                       axis=2)  # (B, 3, 4)
    colours[:, :, [0, 2, 3]] += _COLOUR_JITTER * rng.standard_normal((n, 3, 3), np.float32)
    colours[:, :, 1] += _COLOUR_JITTER * rng.standard_normal((n, 3), np.float32)

    # Composite: object over distractor over background. Each pixel of channel c is
    #   bg_weight * (top + (bottom - top) below) + blob_weight * blob_colour
    #   + mask * stripes * object_colour,
    # i.e. per image a (3 x 4) colour matrix times four (4 x 1024) weight maps.
    maps = np.empty((n, 4, _SIDE, _SIDE), np.float32)
    bg_weight, bg_gradient, blob_weight, object_weight = maps.transpose(1, 0, 2, 3)
    np.subtract(1, mask, out=bg_weight)                  # not covered by the object
    np.multiply(blob, bg_weight, out=blob_weight)
    bg_weight -= blob_weight
    np.multiply(bg_weight, below, out=bg_gradient)
    np.multiply(mask, stripes, out=object_weight)
    colours *= uniform(0.75 * 255, 1.25 * 255)[:, None, None]  # lighting
    image = np.matmul(colours, maps.reshape(n, 4, _SIDE * _SIDE))  # (B, 3, 1024)

    # Uneven lighting: an offset and a gradient across the image, mostly grey, a little tinted.
    light = rng.standard_normal((n, 1, 3), np.float32)
    light = light + _TINT * rng.standard_normal((n, 3, 3), np.float32)
    light *= np.array([_CAST, _SHADE, _SHADE], np.float32)
    image += np.matmul(light, _LIGHT_MAPS)

    # Contrast around mid-grey, so that pixels spread about as much as CIFAR-10's (a standard
    # deviation of about 64 around the mean image: the notebooks' learning rates fit both).
    image -= 127.5
    image *= _CONTRAST
    image += 127.5

    # Sensor noise (luminance only), and rounding to uint8.
    noise = rng.standard_normal((n, 1, _SIDE * _SIDE), np.float32)
    noise *= _NOISE
    noise += 0.5
    image += noise
    pixels = np.clip(image, 0, 255, out=image).astype(np.uint8)
    pixels = pixels.reshape(n, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(pixels), labels.astype(np.int64)


@functools.lru_cache(maxsize=256)  # 256 blocks: 64000 images, 189 MB
def _cached_block(split: int, index: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    pixels, labels = _block(split, index, seed)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def _generate(split: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` images of ``split``, assembled from cached blocks (a fresh copy).

    Blocks are generated in threads: NumPy releases the GIL in its array loops, and each
    block has its own seed, so the result does not depend on the number of threads.
    """
    if count < 0:
        raise ValueError(f"cannot generate {count} images: sizes must be >= 0")
    X = np.empty((count,) + IMAGE_SHAPE, np.uint8)
    y = np.empty(count, np.int64)
    num_blocks = -(-count // BLOCK)

    def fill(index: int) -> None:
        pixels, labels = _cached_block(split, index, seed)
        start = index * BLOCK
        stop = min(start + BLOCK, count)
        X[start:stop] = pixels[:stop - start]
        y[start:stop] = labels[:stop - start]

    workers = min(num_blocks, os.cpu_count() or 1)
    if workers > 1:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(fill, range(num_blocks)))
    else:
        for index in range(num_blocks):
            fill(index)
    return X, y


def load_synthetic_cifar(num_train: int = 50000, num_test: int = 10000,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the embedded synthetic dataset in CIFAR-10's format.

    Parameters
    ----------
    num_train, num_test : int
        How many training and test images (the defaults are CIFAR-10's sizes; generating
        them takes a few seconds the first time, then comes from memory).
    seed : int
        Different seeds give different, equally hard datasets.

    Returns
    -------
    X_train : ndarray of uint8, shape (num_train, 32, 32, 3)
    y_train : ndarray of int64, shape (num_train,)
    X_test : ndarray of uint8, shape (num_test, 32, 32, 3)
    y_test : ndarray of int64, shape (num_test,)
        Labels index :data:`CLASSES`; every class has (nearly) the same number of images.
        The arrays are fresh copies: changing them does not change later calls.
    """
    X_train, y_train = _generate(_TRAIN, int(num_train), int(seed))
    X_test, y_test = _generate(_TEST, int(num_test), int(seed))
    return X_train, y_train, X_test, y_test


__all__ = ["load_synthetic_cifar", "CLASSES"]

"""An embedded synthetic stand-in for CIFAR-10: same shapes, same classes, no download.

Each image is a textured, coloured object on a cluttered background. The class decides
the object's silhouette, the orientation and frequency of its stripes, and (loosely) its
hue; position, size, rotation, background, brightness and noise are random. So a linear
classifier on raw pixels learns something (mostly from colour, which overlaps between
neighbouring classes) but far from everything, a two-layer net does better, and features
that see shape and orientation (HOG) and colour histograms help, as on CIFAR-10.

Images are generated in fixed blocks of :data:`BLOCK` images, each from its own seed, so
the first ``n`` images of a larger set equal the images of a smaller one, and the test set
does not depend on the size of the training set.
"""
import concurrent.futures
import functools
import os

import numpy as np

from .layout import CLASSES, IMAGE_SHAPE, NUM_CLASSES

BLOCK = 250
_TRAIN, _TEST = 0, 1
_SIDE = IMAGE_SHAPE[0]
# Pixel-centre coordinates in [-1, 1]; row index is y (down), column index is x.
_Y, _X = np.meshgrid(np.linspace(-1, 1, _SIDE, dtype=np.float32),
                     np.linspace(-1, 1, _SIDE, dtype=np.float32), indexing="ij")

# Per class: mean hue, stripe angle (radians, in the object's frame), stripe frequency.
_HUE = np.array([0.60, 0.00, 0.15, 0.08, 0.10, 0.05, 0.30, 0.03, 0.55, 0.95], np.float32)
_STRIPE_ANGLE = np.deg2rad(np.array([0, 90, 45, 135, 90, 0, 30, 150, 0, 60], np.float32))
_STRIPE_FREQ = np.array([6, 9, 5, 7, 11, 4, 8, 6, 10, 5], np.float32)


def _inside(distance_px, out=None):
    """Anti-aliased inside-indicator from a signed distance in pixels (negative inside):
    1 inside, 0 outside, a linear ramp two pixels wide across the edge."""
    out = np.multiply(distance_px, -0.5, out=out)
    out += 0.5
    return np.clip(out, 0, 1, out=out)


def _silhouette(label, u, v):
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
    def box(half_u, half_v):
        return np.maximum(np.abs(u) - half_u, np.abs(v) - half_v)

    def radius():
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


def _hsv_to_rgb(h, s, v):
    """Vectorised HSV -> RGB; inputs of shape (B,) in [0, 1], output (B, 3)."""
    k = (np.array([5, 3, 1], np.float32)[None, :] + 6 * h[:, None]) % 6
    return v[:, None] - v[:, None] * s[:, None] * np.clip(np.minimum(k, 4 - k), 0, 1)


def _column(values):
    """Per-image parameters (B,) as float32 (B, 1, 1), to broadcast over the pixel grid."""
    return np.asarray(values, np.float32)[:, None, None]


def _block(split, index, seed):
    """Generate block ``index`` of ``split``: uint8 (BLOCK, 32, 32, 3) and int64 (BLOCK,)."""
    rng = np.random.default_rng([seed, split, index])
    n = BLOCK
    labels = rng.permutation(np.arange(n) % NUM_CLASSES)
    uniform = lambda low, high, *shape: low + (high - low) * rng.random(shape or (n,), np.float32)
    pixels_per_unit = _SIDE / 2

    # Background: a gradient between two random colours, bent by a random grating.
    c1, c2 = uniform(0, 1, n, 3), uniform(0, 1, n, 3)
    phi = uniform(0, 2 * np.pi)
    t = _column(np.cos(phi) / 2) * _X + _column(np.sin(phi) / 2) * _Y
    t += 0.5
    clutter_angle, clutter_freq = uniform(0, np.pi), uniform(3, 9)
    clutter = _column(clutter_freq * np.cos(clutter_angle)) * _X
    clutter += _column(clutter_freq * np.sin(clutter_angle)) * _Y
    clutter += _column(uniform(0, 2 * np.pi))
    np.sin(clutter, out=clutter)
    clutter *= _column(uniform(0, 0.3))
    t += clutter

    # A distractor: a disk of random colour, size and place.
    blob_colour = uniform(0, 1, n, 3)
    blob = np.hypot(_X - _column(uniform(-0.8, 0.8)), _Y - _column(uniform(-0.8, 0.8)))
    blob -= _column(uniform(0.15, 0.35))
    blob *= pixels_per_unit
    blob = _inside(blob, out=blob)

    # The object's frame: random centre, size (radius, in half-images) and rotation.
    dx, dy = _X - _column(uniform(-0.4, 0.4)), _Y - _column(uniform(-0.4, 0.4))
    size = uniform(0.4, 0.8)
    theta = uniform(-np.deg2rad(20), np.deg2rad(20))
    cos, sin = _column(np.cos(theta) / size), _column(np.sin(theta) / size)
    u = cos * dx + sin * dy
    v = cos * dy - sin * dx
    distance = np.empty_like(u)
    for label in range(NUM_CLASSES):
        members = labels == label
        distance[members] = _silhouette(label, u[members], v[members])
    distance *= _column(size * pixels_per_unit)
    mask = _inside(distance, out=distance)

    # Its colour: a class hue (neighbouring classes overlap), random saturation and value,
    # shaded by stripes whose orientation and frequency belong to the class.
    freq, angle = _STRIPE_FREQ[labels], _STRIPE_ANGLE[labels]
    stripes = _column(freq * np.cos(angle)) * u
    stripes += _column(freq * np.sin(angle)) * v
    stripes += _column(uniform(0, 2 * np.pi))
    np.sin(stripes, out=stripes)
    stripes *= 0.35
    stripes += 1
    hue = (_HUE[labels] + 0.12 * rng.standard_normal(n, np.float32)) % 1.0
    colour = _hsv_to_rgb(hue, uniform(0.4, 1), uniform(0.4, 1))

    # Composite: object over distractor over background. Each pixel of channel c is
    #   bg_weight * (c1 + (c2 - c1) t) + blob_weight * blob_colour + mask * stripes * colour,
    # i.e. per image a (3 x 4) colour matrix times four (4 x 1024) weight maps.
    maps = np.empty((n, 4, _SIDE, _SIDE), np.float32)
    bg_weight, bg_gradient, blob_weight, object_weight = maps.transpose(1, 0, 2, 3)
    np.subtract(1, mask, out=bg_weight)                  # not covered by the object
    np.multiply(blob, bg_weight, out=blob_weight)
    bg_weight -= blob_weight
    np.multiply(bg_weight, t, out=bg_gradient)
    np.multiply(mask, stripes, out=object_weight)
    colours = np.stack([c1, c2 - c1, blob_colour, colour], axis=2)  # (B, 3, 4)
    colours *= uniform(0.7 * 255, 1.3 * 255)[:, None, None]  # lighting
    image = np.matmul(colours, maps.reshape(n, 4, _SIDE * _SIDE))  # (B, 3, 1024)

    # Sensor noise, +-30 grey levels (luminance only), and rounding to uint8.
    noise = uniform(-29.5, 30.5, n, 1, _SIDE * _SIDE)
    image += noise
    pixels = np.clip(image, 0, 255, out=image).astype(np.uint8)
    pixels = pixels.reshape(n, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(pixels), labels.astype(np.int64)


@functools.lru_cache(maxsize=256)  # 256 blocks: 64000 images, 189 MB
def _cached_block(split, index, seed):
    pixels, labels = _block(split, index, seed)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def _generate(split, count, seed):
    """The first ``count`` images of ``split``, assembled from cached blocks (a fresh copy).

    Blocks are generated in threads: NumPy releases the GIL in its array loops, and each
    block has its own seed, so the result does not depend on the number of threads.
    """
    if count < 0:
        raise ValueError(f"cannot generate {count} images: sizes must be >= 0")
    X = np.empty((count,) + IMAGE_SHAPE, np.uint8)
    y = np.empty(count, np.int64)
    num_blocks = -(-count // BLOCK)

    def fill(index):
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


def load_synthetic_cifar(num_train=50000, num_test=10000, seed=0):
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

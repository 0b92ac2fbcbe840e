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
import functools

import numpy as np

from .layout import CLASSES, IMAGE_SHAPE, NUM_CLASSES

BLOCK = 1000
_TRAIN, _TEST = 0, 1
_SIDE = IMAGE_SHAPE[0]
# Pixel-centre coordinates in [-1, 1]; row index is y (down), column index is x.
_Y, _X = np.meshgrid(np.linspace(-1, 1, _SIDE, dtype=np.float32),
                     np.linspace(-1, 1, _SIDE, dtype=np.float32), indexing="ij")

# Per class: mean hue, stripe angle (radians, in the object's frame), stripe frequency.
_HUE = np.array([0.60, 0.00, 0.15, 0.08, 0.10, 0.05, 0.30, 0.03, 0.55, 0.95], np.float32)
_STRIPE_ANGLE = np.deg2rad(np.array([0, 90, 45, 135, 90, 0, 30, 150, 0, 60], np.float32))
_STRIPE_FREQ = np.array([6, 9, 5, 7, 11, 4, 8, 6, 10, 5], np.float32)


def _soft(signed_distance, sharpness=12.0):
    """Anti-aliased inside-indicator: ~1 where ``signed_distance < 0``, ~0 outside."""
    return 1.0 / (1.0 + np.exp(np.clip(sharpness * signed_distance, -30, 30)))


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


def _block(split, index, seed):
    """Generate block ``index`` of ``split``: uint8 (BLOCK, 32, 32, 3) and int64 (BLOCK,)."""
    rng = np.random.default_rng([seed, split, index])
    n = BLOCK
    labels = rng.permutation(np.arange(n) % NUM_CLASSES)
    f32 = lambda a: np.asarray(a, np.float32)
    u01 = lambda *shape: rng.random(shape, dtype=np.float32)

    # Background: a gradient between two random colours, plus a random-orientation grating.
    c1, c2 = u01(n, 3), u01(n, 3)
    phi = f32(2 * np.pi * u01(n))
    t = (np.cos(phi)[:, None, None] * _X + np.sin(phi)[:, None, None] * _Y + 1) / 2
    clutter_angle = f32(np.pi * u01(n))
    clutter = np.sin(f32(3 + 6 * u01(n))[:, None, None]
                     * (np.cos(clutter_angle)[:, None, None] * _X
                        + np.sin(clutter_angle)[:, None, None] * _Y)
                     + f32(2 * np.pi * u01(n))[:, None, None])
    t += (0.3 * u01(n))[:, None, None] * clutter
    image = c1[:, None, None] + (c2 - c1)[:, None, None] * t[..., None]

    # A distractor: a disk of random colour, size and place.
    blob_x, blob_y = f32(1.6 * u01(n) - 0.8), f32(1.6 * u01(n) - 0.8)
    blob_r = f32(0.15 + 0.2 * u01(n))
    blob = _soft(np.sqrt((_X - blob_x[:, None, None]) ** 2 + (_Y - blob_y[:, None, None]) ** 2)
                 - blob_r[:, None, None], sharpness=24.0)
    image += blob[..., None] * (u01(n, 3)[:, None, None] - image)

    # The object: its frame has a random centre, size and rotation.
    cx, cy = f32(0.8 * u01(n) - 0.4), f32(0.8 * u01(n) - 0.4)
    size = f32(0.4 + 0.4 * u01(n))
    theta = f32(np.deg2rad(40) * (u01(n) - 0.5))
    dx, dy = _X - cx[:, None, None], _Y - cy[:, None, None]
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    u = (cos * dx + sin * dy) / size[:, None, None]
    v = (-sin * dx + cos * dy) / size[:, None, None]
    distance = np.empty_like(u)
    for label in range(NUM_CLASSES):
        members = labels == label
        distance[members] = _silhouette(label, u[members], v[members])
    mask = _soft(distance * size[:, None, None] * _SIDE / 2, sharpness=1.5)

    # Its colour: a class hue (neighbouring classes overlap), random saturation and value,
    # shaded by stripes whose orientation and frequency belong to the class.
    angle = _STRIPE_ANGLE[labels][:, None, None]
    stripes = np.sin(_STRIPE_FREQ[labels][:, None, None] * (np.cos(angle) * u + np.sin(angle) * v)
                     + f32(2 * np.pi * u01(n))[:, None, None])
    hue = (_HUE[labels] + f32(0.12 * rng.standard_normal(n, dtype=np.float32))) % 1.0
    colour = _hsv_to_rgb(hue, f32(0.4 + 0.6 * u01(n)), f32(0.4 + 0.6 * u01(n)))
    foreground = colour[:, None, None] * (1 + 0.35 * stripes[..., None])
    image += mask[..., None] * (foreground - image)

    # Lighting and sensor noise (uniform noise: as good as Gaussian here, and cheaper).
    image *= f32(255 * (0.7 + 0.6 * u01(n)))[:, None, None, None]
    noise = u01(n, *IMAGE_SHAPE)
    noise *= 60
    noise -= 29.5  # +-30 grey levels around the value, +0.5 to round when casting
    image += noise
    pixels = np.clip(image, 0, 255, out=image).astype(np.uint8)
    return pixels, labels.astype(np.int64)


@functools.lru_cache(maxsize=128)
def _cached_block(split, index, seed):
    pixels, labels = _block(split, index, seed)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def _generate(split, count, seed):
    """The first ``count`` images of ``split``, assembled from cached blocks (a fresh copy)."""
    if count < 0:
        raise ValueError(f"cannot generate {count} images: sizes must be >= 0")
    X = np.empty((count,) + IMAGE_SHAPE, np.uint8)
    y = np.empty(count, np.int64)
    for index in range(-(-count // BLOCK)):
        pixels, labels = _cached_block(split, index, seed)
        start = index * BLOCK
        stop = min(start + BLOCK, count)
        X[start:stop] = pixels[:stop - start]
        y[start:stop] = labels[:stop - start]
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

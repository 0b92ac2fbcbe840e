"""Feature extraction speed: HOG and hue histograms over CIFAR-sized images.

Baseline (measured in the same run): the textbook per-image structure CS231n's code has,
one boolean mask and one cell average per orientation bin for HOG, and
matplotlib.colors.rgb_to_hsv + np.histogram for the hue histogram. It computes the same
features as course_lib.features (checked before timing), so the ratios compare like with
like. Rows:

- per image: ``extract_features`` with lambda wrappers, so each image is one Python call;
- batched: ``extract_features`` with the functions themselves (or functools.partial),
  which it runs on chunks of images at once.

Usage: python -m benchmarks.bench_features [--images N] [--repeat R]
"""
import argparse
from functools import partial

import matplotlib.colors
import numpy as np

from benchmarks.timing import best_time
from course_lib.features import color_histogram_hsv, extract_features, hog_feature


def baseline_hog(im):
    """HOG with one mask per orientation bin, as CS231n's loop is structured."""
    grey = im @ np.array([0.299, 0.587, 0.114])
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, :-1] = np.diff(grey, axis=1)
    gy[:-1, :] = np.diff(grey, axis=0)
    magnitude = np.sqrt(gx ** 2 + gy ** 2)
    angle = (np.degrees(np.arctan2(gy, gx)) + 90.0) % 180.0
    H, W = grey.shape
    rows, cols = H // 8, W // 8
    histogram = np.zeros((rows, cols, 9))
    for b in range(9):
        in_bin = (angle >= 20 * b) & (angle < 20 * (b + 1))
        votes = np.where(in_bin, magnitude, 0.0)[:rows * 8, :cols * 8]
        histogram[:, :, b] = votes.reshape(rows, 8, cols, 8).mean(axis=(1, 3))
    return histogram.ravel()


def baseline_hue_histogram(im, nbin=10, xmax=255):
    hue = matplotlib.colors.rgb_to_hsv(im / xmax)[..., 0] * xmax
    counts, _ = np.histogram(hue, bins=np.linspace(0, xmax, nbin + 1))
    return counts / counts.sum()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_features")
    parser.add_argument("--images", type=int, default=1000, help="images per timing")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(args.images, 32, 32, 3)).astype(np.float64)
    hue_10 = partial(color_histogram_hsv, nbin=10)

    cases = {
        "HOG": (lambda im: baseline_hog(im), lambda im: hog_feature(im), hog_feature),
        "hue histogram": (lambda im: baseline_hue_histogram(im), lambda im: hue_10(im), hue_10),
        "both": (None, None, None),
    }
    cases["both"] = tuple([cases["HOG"][i], cases["hue histogram"][i]] for i in range(3))

    print(f"{args.images} random 32x32x3 float64 images, best of {args.repeat}; "
          f"seconds are scaled to 10 000 images")
    print(f"{'feature':<15}{'path':<34}{'s / 10k':>9}{'speed-up':>10}")
    for name, (baseline, per_image, batched) in cases.items():
        fns = {"baseline (per image, loops)": baseline, "course_lib per image (lambda)": per_image,
               "course_lib batched": batched}
        fns = {label: fn if isinstance(fn, list) else [fn] for label, fn in fns.items()}
        reference = extract_features(images[:50], fns["baseline (per image, loops)"])
        for label in list(fns)[1:]:
            np.testing.assert_allclose(extract_features(images[:50], fns[label]), reference,
                                       rtol=1e-9, atol=1e-9)
        baseline_seconds = None
        for label, feature_fns in fns.items():
            seconds = best_time(lambda: extract_features(images, feature_fns), args.repeat)
            baseline_seconds = baseline_seconds or seconds
            per_10k = seconds * 10_000 / args.images
            print(f"{name:<15}{label:<34}{per_10k:>9.2f}{baseline_seconds / seconds:>9.1f}x")


if __name__ == "__main__":
    main()

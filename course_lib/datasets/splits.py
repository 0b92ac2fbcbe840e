"""The CS231n splits (train / validation / test / dev) and their preprocessing."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import DTypeLike

from .cifar10 import load_cifar10
from .loader import choose_dataset
from .paths import StrPath
from .synthetic import load_synthetic_cifar

LAYOUTS = ("nchw", "nhwc", "rows")


class DatasetSplits(dict[str, np.ndarray]):
    """A dict of arrays (``data["X_train"]``, ...) that also says where they came from.

    Attributes
    ----------
    source : str
        One line naming the data, e.g. ``"CIFAR-10 from /home/me/.cache/nnfs-course/..."``
        or a sentence saying the embedded SYNTHETIC dataset is used.
    kind : {"cifar10", "synthetic"}
        Which data it is, for code that branches on it (e.g. expected accuracies).
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], source: str, kind: str) -> None:
        super().__init__(arrays)
        self.source = source
        self.kind = kind

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape} {v.dtype}" for k, v in self.items())
        return f"DatasetSplits({self.kind}; {shapes})"


def _arrange(X: np.ndarray, layout: str) -> np.ndarray:
    """uint8 NHWC images (N, 32, 32, 3) -> the requested layout (still uint8)."""
    if layout == "nchw":
        return X.transpose(0, 3, 1, 2)
    if layout == "rows":
        return X.reshape(len(X), int(np.prod(X.shape[1:])))  # -1 is ambiguous for 0 images
    return X


def _prepare(X: np.ndarray, mean_image: np.ndarray | None, bias: bool, dtype: DTypeLike) -> np.ndarray:
    """Cast arranged images to ``dtype``, subtract ``mean_image``, append the bias column."""
    extra = 1 if bias else 0
    out = np.empty((X.shape[0], X.shape[1] + extra) + X.shape[2:], dtype)
    body = out[:, :X.shape[1]] if bias else out
    body[...] = X
    if mean_image is not None:
        body -= mean_image
    if bias:
        out[:, -1] = 1
    return out


def _check_sizes(num_training: int, num_validation: int, num_test: int, num_dev: int) -> None:
    for name, value in [("num_training", num_training), ("num_validation", num_validation),
                        ("num_test", num_test), ("num_dev", num_dev)]:
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name}={value!r}: must be an integer >= 0")
    if num_dev > num_training:
        raise ValueError(f"num_dev={num_dev} exceeds num_training={num_training}: the dev "
                         "subset is drawn from the training images")


def get_cifar10_data(num_training: int = 49000, num_validation: int = 1000, num_test: int = 1000,
                     num_dev: int = 500, subtract_mean: bool = True, layout: str = "nchw",
                     bias: bool = False, dtype: DTypeLike = np.float32, seed: int = 0,
                     source: str = "auto", root: StrPath | None = None,
                     verbose: bool = True) -> DatasetSplits:
    """Load the data and split and preprocess it the CS231n way.

    Training images ``0 .. num_training-1`` form the training set, the next
    ``num_validation`` the validation set; the test set is the first ``num_test`` test
    images; the dev set is a random (seeded) ``num_dev`` of the training images. The mean
    image is computed on the training set only and subtracted from every split.

    Parameters
    ----------
    num_training, num_validation, num_test, num_dev : int
        Split sizes (CS231n's defaults: 49000 / 1000 / 1000 / 500).
    subtract_mean : bool
        Subtract the training mean image (returned as ``mean_image``).
    layout : {"nchw", "nhwc", "rows"}
        ``"nchw"``: (N, 3, 32, 32) as convolutional layers expect; ``"nhwc"``:
        (N, 32, 32, 3); ``"rows"``: (N, 3072), each row an image flattened in HWC order, as
        the linear classifiers expect.
    bias : bool
        Append a column of ones (the bias trick); needs ``layout="rows"``, giving (N, 3073).
    dtype : floating dtype
        dtype of the images (labels are always int64).
    seed : int
        Seed of the dev subset. The synthetic data itself does not depend on it.
    source : {"auto", "cifar10", "synthetic"}
        Passed to :func:`load_dataset` as ``prefer`` (``"auto"`` honours $COURSE_DATASET).
        Synthetic data is generated in whatever amount the sizes need.
    root : str or Path, optional
        Where to look for CIFAR-10.
    verbose : bool
        Print the line that says which data is used.

    Returns
    -------
    DatasetSplits
        A dict with ``X_train`` (num_training, ...), ``y_train`` (num_training,) int64,
        ``X_val``/``y_val``, ``X_test``/``y_test``, ``X_dev``/``y_dev``, and, when
        ``subtract_mean``, ``mean_image`` (the shape of one image in ``layout``, without
        the bias column). Its ``.source`` names the data.
    """
    _check_sizes(num_training, num_validation, num_test, num_dev)
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r}: use one of {', '.join(LAYOUTS)}")
    if bias and layout != "rows":
        raise ValueError(f"bias=True appends a column to flattened images: use layout='rows' "
                         f"(got layout={layout!r})")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype={dtype}: use a floating dtype such as np.float32 or np.float64")

    kind, description = choose_dataset(root, source)
    num_train_needed = num_training + num_validation
    if kind == "cifar10":
        X_all, y_all, X_test_all, y_test_all = load_cifar10(root)
        if num_train_needed > len(X_all) or num_test > len(X_test_all):
            raise ValueError(
                f"{description} has {len(X_all)} training and {len(X_test_all)} test images; "
                f"asked for num_training + num_validation = {num_train_needed} and "
                f"num_test = {num_test}")
    else:
        X_all, y_all, X_test_all, y_test_all = load_synthetic_cifar(num_train_needed, num_test)
        description += f" ({num_train_needed} train / {num_test} test images generated)"
    if verbose:
        print(description, flush=True)

    splits_uint8 = {
        "train": (X_all[:num_training], y_all[:num_training]),
        "val": (X_all[num_training:num_train_needed], y_all[num_training:num_train_needed]),
        "test": (X_test_all[:num_test], y_test_all[:num_test]),
    }
    dev_index = np.sort(np.random.default_rng(seed).choice(num_training, num_dev, replace=False))
    splits_uint8["dev"] = (splits_uint8["train"][0][dev_index], splits_uint8["train"][1][dev_index])

    mean_image = None
    if subtract_mean:
        # Average the contiguous NHWC images (fast), then arrange the one mean image.
        X_train = splits_uint8["train"][0]
        mean_nhwc = (X_train.reshape(num_training, -1).mean(axis=0, dtype=np.float64)
                     if num_training else np.zeros(X_train[0].size))
        mean_image = _arrange(mean_nhwc.reshape((1,) + X_train.shape[1:]), layout)[0].astype(dtype)
    arrays = {}
    for name, (X, y) in splits_uint8.items():
        arrays[f"X_{name}"] = _prepare(_arrange(X, layout), mean_image, bias, dtype)
        arrays[f"y_{name}"] = np.array(y, dtype=np.int64)
    if mean_image is not None:  # subtract_mean
        arrays["mean_image"] = mean_image
    return DatasetSplits(arrays, description, kind)

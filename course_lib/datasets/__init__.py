"""Course data: CIFAR-10 (download, verify, cache, CS231n splits) and an embedded synthetic
stand-in that needs no download.

Typical use in a notebook::

    from course_lib.datasets import get_cifar10_data, CLASSES
    data = get_cifar10_data(layout="rows")      # prints which data it returns
    for k, v in data.items():
        print(k, v.shape)

Install the real data with ``python -m course_lib.datasets download cifar10`` (or
``datasets/get_datasets.sh``). Environment variables: ``COURSE_DATA_DIR`` (where data
lives, default ``~/.cache/nnfs-course``), ``COURSE_DATASET`` (``synthetic`` or
``cifar10`` to force a choice), ``CIFAR10_SOURCE`` (a local archive, folder or URL to
install from instead of the official URL).
"""
from .cifar10 import load_cifar10, read_batch
from .download import download_cifar10
from .errors import (ChecksumError, CorruptDatasetError, DatasetError, DatasetNotFoundError,
                     DownloadError, ForeignPickleError, NoSpaceError)
from .layout import CLASSES, OFFICIAL_MD5, OFFICIAL_SIZE, OFFICIAL_URL
from .loader import choose_dataset, load_dataset
from .paths import batches_dir, default_data_dir
from .splits import DatasetSplits, get_cifar10_data
from .synthetic import load_synthetic_cifar

__all__ = [
    "CLASSES", "OFFICIAL_URL", "OFFICIAL_MD5", "OFFICIAL_SIZE",
    "load_dataset", "choose_dataset", "load_cifar10", "load_synthetic_cifar",
    "get_cifar10_data", "DatasetSplits", "download_cifar10", "read_batch",
    "default_data_dir", "batches_dir",
    "DatasetError", "DatasetNotFoundError", "DownloadError", "ChecksumError",
    "CorruptDatasetError", "ForeignPickleError", "NoSpaceError",
]

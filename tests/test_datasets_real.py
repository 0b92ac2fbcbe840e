"""CIFAR-10 in its real layout: rebuilt from the JPEG copy in ../shared by its
make_cifar10.py (official pickles and archive), then installed and loaded like the real
download. Slow (the rebuild takes 20-60 s), so it runs once per session."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib.datasets import CLASSES, download_cifar10, get_cifar10_data, load_cifar10
from course_lib.datasets import cifar10 as cifar10_module

pytestmark = pytest.mark.slow


def shared_dir(repo_root):
    return Path(os.environ.get("COURSE_SHARED_DIR") or repo_root.parent / "shared")


@pytest.fixture(scope="session")
def rebuilt_cifar(repo_root, tmp_path_factory):
    """(archive, batches folder) written by ../shared/datasets/make_cifar10.py --archive."""
    script = shared_dir(repo_root) / "datasets" / "make_cifar10.py"
    if not script.is_file():
        pytest.skip(f"{script} is absent (set COURSE_SHARED_DIR to the folder holding "
                    "datasets/make_cifar10.py), so the real-layout tests cannot run")
    pytest.importorskip("PIL", reason="make_cifar10.py needs pillow (see requirements.txt)")
    out = tmp_path_factory.mktemp("cifar10-rebuilt")
    subprocess.run([sys.executable, str(script), str(out), "--archive"], check=True,
                   capture_output=True, timeout=900)
    return out / "cifar-10-python.tar.gz", out / "cifar-10-batches-py"


@pytest.fixture(scope="session")
def installed_cifar(rebuilt_cifar, tmp_path_factory):
    """The data directory after installing the rebuilt archive as a download would."""
    root = tmp_path_factory.mktemp("cifar10-installed")
    download_cifar10(root, source=rebuilt_cifar[0], progress=False, log=lambda m: None)
    return root


def test_archive_installs_into_the_official_shapes(installed_cifar):
    X_train, y_train, X_test, y_test = load_cifar10(installed_cifar)
    assert X_train.shape == (50000, 32, 32, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (10000, 32, 32, 3) and X_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and y_test.shape == (10000,)
    assert np.bincount(y_train).tolist() == [5000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_restricted_unpickler_reads_what_plain_pickle_reads(rebuilt_cifar, installed_cifar):
    with open(rebuilt_cifar[1] / "data_batch_2", "rb") as f:
        plain = pickle.load(f, encoding="latin1")
    X, y = cifar10_module.read_batch(installed_cifar / "cifar-10-batches-py" / "data_batch_2")
    np.testing.assert_array_equal(X.transpose(0, 3, 1, 2).reshape(10000, -1), plain["data"])
    assert y.tolist() == plain["labels"]
    with open(rebuilt_cifar[1] / "batches.meta", "rb") as f:
        assert pickle.load(f, encoding="latin1")["label_names"] == CLASSES


def test_warm_load_uses_the_cache_and_matches(installed_cifar, monkeypatch):
    cold = load_cifar10(installed_cifar)
    monkeypatch.setattr(cifar10_module, "read_batch",
                        lambda path: pytest.fail(f"warm load decoded {path}"))
    for warm, expected in zip(load_cifar10(installed_cifar), cold):
        np.testing.assert_array_equal(warm, expected)


def test_cs231n_splits_on_the_real_layout(installed_cifar):
    data = get_cifar10_data(num_training=4900, num_validation=100, num_test=100, num_dev=50,
                            layout="rows", bias=True, root=installed_cifar, verbose=False)
    X_train, y_train, _, _ = load_cifar10(installed_cifar)
    assert data["X_train"].shape == (4900, 3073) and data["X_val"].shape == (100, 3073)
    np.testing.assert_array_equal(data["y_val"], y_train[4900:5000])
    np.testing.assert_allclose(data["X_val"][:, :-1] + data["mean_image"],
                               X_train[4900:5000].reshape(100, -1), atol=1e-3)

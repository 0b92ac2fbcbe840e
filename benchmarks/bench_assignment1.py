"""Assignment 1's reference solutions on real CIFAR-10: accuracies and speed-ups.

Prints one table: what was measured, the target from the assignment, what this run
achieved. Accuracies follow the CS231n notebooks (49000/1000/1000 splits, the 5000/500
subset for kNN, mean-image subtraction, bias trick for the linear classifiers); speed-ups
are ratios of two implementations' CPU times, measured in the same run on the same inputs.

BLAS runs single-threaded by default (``--threads``), so the speed-ups compare algorithms,
not thread counts, and training does not thrash on a shared machine.

Needs CIFAR-10 in ``$COURSE_DATA_DIR`` (see ``datasets/``); without it the benchmark says
so and measures nothing. Image features (HOG + colour histogram) take a few minutes to
extract; they are cached as ``assignment1_features.npz`` beside the CIFAR-10 cache.

    python -m benchmarks assignment1
    python -m benchmarks.bench_assignment1 --data-dir /path/to/data
"""
import argparse
import hashlib
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.timing import best_time

# Speed-ups are ratios of CPU times: on a shared machine, waiting for a core would otherwise
# count against whichever implementation happened to be running.
CPU = time.process_time

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT_DIR = REPO_ROOT / "assignments" / "source" / "assignment1"


def _import_reference():
    """The reference ``nnfs`` package of assignment 1 (the solutions in the source tree)."""
    if str(ASSIGNMENT_DIR) not in sys.path:
        sys.path.insert(0, str(ASSIGNMENT_DIR))
    from nnfs.classifiers import KNearestNeighbor, LinearSVM, Softmax, TwoLayerNet
    from nnfs.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
    from nnfs.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
    return dict(KNearestNeighbor=KNearestNeighbor, LinearSVM=LinearSVM, Softmax=Softmax,
                TwoLayerNet=TwoLayerNet, svm_loss_naive=svm_loss_naive,
                svm_loss_vectorized=svm_loss_vectorized, softmax_loss_naive=softmax_loss_naive,
                softmax_loss_vectorized=softmax_loss_vectorized)


# -- data -----------------------------------------------------------------------------------
def load_splits(data_dir):
    """CS231n's splits of CIFAR-10 as float32 rows, or None (with a message) if absent.

    Returns
    -------
    dict
        ``images_*`` (uint8, (N, 32, 32, 3)), ``X_*`` (float32, (N, 3072)) and ``y_*``
        for ``train`` (49000), ``val`` (1000), ``test`` (1000).
    """
    from course_lib.datasets.cifar10 import load_cifar10
    from course_lib.datasets.errors import DatasetError

    try:
        X_train, y_train, X_test, y_test = load_cifar10(data_dir)
    except DatasetError as exc:
        print(f"bench_assignment1: skipped, CIFAR-10 is not available: {exc}")
        return None
    splits = {"train": (X_train[:49000], y_train[:49000]),
              "val": (X_train[49000:50000], y_train[49000:50000]),
              "test": (X_test[:1000], y_test[:1000])}
    data = {}
    for name, (images, labels) in splits.items():
        data[f"images_{name}"] = images
        data[f"X_{name}"] = images.reshape(len(images), -1).astype(np.float32)
        data[f"y_{name}"] = labels
    return data


def centred(data, with_bias):
    """Subtract the training mean image; optionally append the bias column of ones."""
    mean_image = data["X_train"].mean(axis=0)
    out = {}
    for split in ("train", "val", "test"):
        X = data[f"X_{split}"] - mean_image
        if with_bias:
            X = np.hstack([X, np.ones((len(X), 1), dtype=X.dtype)])
        out[split] = X
    return out


def image_features(data, cache_dir):
    """HOG + HSV colour histogram of every split, normalised as in CS231n; cached."""
    from course_lib.features import color_histogram_hsv, extract_features, hog_feature

    images = np.concatenate([data[f"images_{s}"] for s in ("train", "val", "test")])
    digest = hashlib.sha256(images[::97].tobytes()).hexdigest()[:16]
    cache = Path(cache_dir) / "assignment1_features.npz" if cache_dir else None
    features = None
    if cache is not None and cache.is_file():
        stored = np.load(cache)
        if str(stored["digest"]) == digest:
            features = stored["features"]
    if features is None:
        start = time.perf_counter()
        features = extract_features(images, [hog_feature, partial(color_histogram_hsv, nbin=10)])
        print(f"  extracted {features.shape[1]} features of {len(images)} images in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        if cache is not None:
            try:
                np.savez(cache, features=features, digest=digest)
            except OSError as exc:
                print(f"  (could not cache the features in {cache}: {exc})")
    num_train, num_val = len(data["y_train"]), len(data["y_val"])
    F_train = features[:num_train]
    mean, std = F_train.mean(axis=0), F_train.std(axis=0) + 1e-8
    features = ((features - mean) / std).astype(np.float32)
    return {"train": features[:num_train], "val": features[num_train:num_train + num_val],
            "test": features[num_train + num_val:]}


def accuracy(predicted, labels):
    return float(np.mean(np.asarray(predicted) == labels))


# -- the measurements ---------------------------------------------------------------------
class Table:
    """Rows of (measurement, target, achieved, kind).

    ``kind`` is ``"accuracy"`` or ``"speedup"``; ``target`` is a minimum, or
    ``("about", value)`` for "within 1.5 points of value", ``("above", value)`` for
    strictly more than value, or None (reported only).
    """

    def __init__(self):
        self.rows = []

    def add(self, what, target, achieved, kind):
        self.rows.append((what, target, achieved, kind))
        print(f"  {what}: {self.format(achieved, kind)}", flush=True)

    @staticmethod
    def format(value, kind):
        return f"{100 * value:.1f}%" if kind == "accuracy" else f"{value:.0f}x"

    def target_text(self, target, kind):
        if target is None:
            return "-"
        if isinstance(target, tuple):
            return {"about": "~", "above": "> "}[target[0]] + self.format(target[1], kind)
        return ">= " + self.format(target, kind)

    @staticmethod
    def met(target, achieved):
        if target is None:
            return ""
        if isinstance(target, tuple) and target[0] == "about":
            return "yes" if abs(achieved - target[1]) <= 0.015 else "NO"
        if isinstance(target, tuple):
            return "yes" if achieved > target[1] else "NO"
        return "yes" if achieved >= target else "NO"

    def print(self):
        width = max(len(row[0]) for row in self.rows)
        print(f"\n{'measurement':<{width}}  {'target':>8}  {'achieved':>9}  met")
        for what, target, achieved, kind in self.rows:
            print(f"{what:<{width}}  {self.target_text(target, kind):>8}  "
                  f"{self.format(achieved, kind):>9}  {self.met(target, achieved)}")


def bench_knn(ref, data, table, rng):
    """kNN on the 5000/500 subset: k=1, 5-fold cross-validated k; distance speed-ups."""
    X_train, y_train = data["X_train"][:5000].astype(np.float64), data["y_train"][:5000]
    X_test, y_test = data["X_test"][:500].astype(np.float64), data["y_test"][:500]
    knn = ref["KNearestNeighbor"]()
    knn.train(X_train, y_train)
    dists = knn.compute_distances_no_loops(X_test)
    table.add("kNN k=1, 5000/500 subset (test)", ("about", 0.27), accuracy(knn.predict_labels(dists, k=1), y_test),
              "accuracy")

    k_choices = [1, 3, 5, 8, 10, 12, 15, 20, 50, 100]
    folds = np.array_split(np.arange(5000), 5)
    fold_accuracy = {k: [] for k in k_choices}
    for held_out in folds:
        kept = np.setdiff1d(np.arange(5000), held_out)
        fold_knn = ref["KNearestNeighbor"]()
        fold_knn.train(X_train[kept], y_train[kept])
        fold_dists = fold_knn.compute_distances_no_loops(X_train[held_out])
        for k in k_choices:
            fold_accuracy[k].append(accuracy(fold_knn.predict_labels(fold_dists, k=k),
                                             y_train[held_out]))
    best_k = max(k_choices, key=lambda k: np.mean(fold_accuracy[k]))
    table.add(f"kNN cross-validated k={best_k} (test)", ("above", 0.28),
              accuracy(knn.predict_labels(dists, k=best_k), y_test), "accuracy")

    # Cost per test row: the no-loop version on all 500 rows (it computes the training
    # norms once), the loop versions on a few rows (their time is linear in the rows).
    for dtype in (np.float64, np.float32):
        knn.train(X_train.astype(dtype), y_train)
        rows = X_test.astype(dtype)
        none = best_time(lambda: knn.compute_distances_no_loops(rows), 3, CPU) / len(rows)
        two = best_time(lambda: knn.compute_distances_two_loops(rows[:10]), 1, CPU) / 10
        one = best_time(lambda: knn.compute_distances_one_loop(rows[:50]), 2, CPU) / 50
        name = np.dtype(dtype).name
        table.add(f"kNN distances per test row ({name}): no loops vs two loops", 50,
                  two / none, "speedup")
        table.add(f"kNN distances per test row ({name}): one loop vs two loops", None,
                  two / one, "speedup")


def bench_loss_speed(ref, data, table, rng):
    """Vectorised vs naive losses on CS231n's dev set (500 examples, bias column)."""
    dev = rng.choice(49000, 500, replace=False)
    X_dev, y_dev = centred(data, with_bias=True)["train"][dev], data["y_train"][dev]
    for dtype in (np.float64, np.float32):
        X = X_dev.astype(dtype)
        W = (1e-4 * rng.standard_normal((X.shape[1], 10))).astype(dtype)
        for kind in ("svm", "softmax"):
            naive = best_time(lambda: ref[f"{kind}_loss_naive"](W, X, y_dev, 5e-6), 5, CPU)
            vectorized = best_time(lambda: ref[f"{kind}_loss_vectorized"](W, X, y_dev, 5e-6),
                                   20, CPU)
            table.add(f"{kind} loss ({np.dtype(dtype).name}): vectorised vs naive", 20,
                      naive / vectorized, "speedup")


def train_linear(cls, X, y, X_val, y_val, settings, iters):
    """The best (by validation accuracy) of ``cls`` trained with each (lr, reg)."""
    best = (-1.0, None, None)
    for learning_rate, reg in settings:
        clf = cls()
        # float32 weights keep every product in float32 (the reference would start float64).
        clf.W = (0.001 * np.random.randn(X.shape[1], 10)).astype(np.float32)
        clf.train(X, y, learning_rate=learning_rate, reg=reg, num_iters=iters, batch_size=200)
        val = accuracy(clf.predict(X_val), y_val)
        print(f"    {cls.__name__} lr={learning_rate:g} reg={reg:g}: val {100 * val:.1f}%",
              flush=True)
        if val > best[0]:
            best = (val, clf, (learning_rate, reg))
    return best


def bench_linear(ref, data, table):
    X = centred(data, with_bias=True)
    for name, target, settings in (
            ("LinearSVM", 0.385, [(1e-7, 2.5e4), (2e-7, 1e4)]),
            ("Softmax", 0.38, [(5e-7, 2.5e3), (1e-6, 1e3)])):
        val, _, (lr, reg) = train_linear(ref[name], X["train"], data["y_train"], X["val"],
                                         data["y_val"], settings, iters=1500)
        table.add(f"{name} on pixels (val), lr={lr:g} reg={reg:g}", target, val, "accuracy")


def sgd_momentum(w, dw, config=None):
    """SGD with momentum 0.9 (staff update rule for the benchmark's Solver runs)."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    velocity = 0.9 * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = velocity
    return w + velocity, config


def train_net(ref, X, y, X_val, y_val, hidden_dim, learning_rate, reg, epochs, seed=0):
    from course_lib.solver import Solver

    np.random.seed(seed)
    net = ref["TwoLayerNet"](input_dim=X.shape[1], hidden_dim=hidden_dim, num_classes=10,
                             weight_scale=np.sqrt(2.0 / X.shape[1]), reg=reg)
    net.params = {name: value.astype(np.float32) for name, value in net.params.items()}
    solver = Solver(net, {"X_train": X, "y_train": y, "X_val": X_val, "y_val": y_val},
                    update_rule=sgd_momentum, optim_config={"learning_rate": learning_rate},
                    lr_decay=0.9, num_epochs=epochs, batch_size=200, verbose=False, seed=seed)
    solver.train()
    return net, max(solver.val_acc_history)


def bench_net(ref, data, table, net_epochs):
    X = centred(data, with_bias=False)
    scale = X["train"].std()
    X = {split: values / scale for split, values in X.items()}
    net, val = train_net(ref, X["train"], data["y_train"], X["val"], data["y_val"],
                         hidden_dim=300, learning_rate=1e-2, reg=0.01, epochs=net_epochs)
    table.add("two-layer net on pixels (val)", 0.50, val, "accuracy")
    table.add("two-layer net on pixels (test)", 0.50,
              accuracy(np.argmax(net.loss(X["test"]), axis=1), data["y_test"]), "accuracy")


def bench_features(ref, data, table, cache_dir):
    F = image_features(data, cache_dir)
    F_bias = {s: np.hstack([v, np.ones((len(v), 1), np.float32)]) for s, v in F.items()}
    val, _, (lr, reg) = train_linear(ref["LinearSVM"], F_bias["train"], data["y_train"],
                                     F_bias["val"], data["y_val"],
                                     [(1e-3, 1e-2), (3e-3, 1e-3)], iters=3000)
    table.add(f"LinearSVM on features (val), lr={lr:g} reg={reg:g}", 0.44, val, "accuracy")
    net, val = train_net(ref, F["train"], data["y_train"], F["val"], data["y_val"],
                         hidden_dim=500, learning_rate=3e-2, reg=1e-3, epochs=10)
    table.add("two-layer net on features (val)", None, val, "accuracy")
    table.add("two-layer net on features (test)", 0.55,
              accuracy(np.argmax(net.loss(F["test"]), axis=1), data["y_test"]), "accuracy")


SECTIONS = ("knn", "speed", "linear", "net", "features")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench_assignment1", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None,
                        help="folder holding cifar-10-batches-py (default: $COURSE_DATA_DIR)")
    parser.add_argument("--net-epochs", type=int, default=8,
                        help="epochs of the two-layer net on pixels (default 8)")
    parser.add_argument("--only", default=None,
                        help="comma-separated sections to run: knn, speed, linear, net, features")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (default 1: single-threaded speed-ups, and much "
                             "faster training on a machine shared with other jobs; 0: the "
                             "library's own choice)")
    args = parser.parse_args(argv)
    args.sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.threads:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.threads, user_api="blas"):
            return _run(args)
    return _run(args)


def _run(args):
    data = load_splits(args.data_dir)
    if data is None:
        return
    from course_lib.datasets.paths import batches_dir

    ref = _import_reference()
    rng = np.random.default_rng(0)
    np.random.seed(0)
    table = Table()
    sections = {"knn": lambda: bench_knn(ref, data, table, rng),
                "speed": lambda: bench_loss_speed(ref, data, table, rng),
                "linear": lambda: bench_linear(ref, data, table),
                "net": lambda: bench_net(ref, data, table, args.net_epochs),
                "features": lambda: bench_features(ref, data, table, batches_dir(args.data_dir))}
    for title in args.sections:
        start = time.perf_counter()
        print(f"{title}:", flush=True)
        sections[title]()
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    table.print()
    threads = f"{args.threads} BLAS thread(s)" if args.threads else "the BLAS library's default threads"
    print(f"(numpy {np.__version__}, {threads}; speed-ups are ratios of CPU times measured "
          "in this run)")


if __name__ == "__main__":
    main()

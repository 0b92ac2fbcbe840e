"""Load times of CIFAR-10 (cold: decode the pickles and write the .npy cache; warm: the
cache) and of the embedded synthetic data, as ratios against the CS231n way of loading
(plain ``pickle.load`` of every batch) measured in the same run.

CIFAR-10 is rebuilt in its official layout from ``../shared/datasets`` (or
``$COURSE_SHARED_DIR/datasets``) into ``$COURSE_DATA_DIR/bench-cifar10`` (kept for the
next run) or, without ``COURSE_DATA_DIR``, into a temporary folder.
"""
import argparse
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from course_lib.datasets import load_cifar10, load_synthetic_cifar
from course_lib.datasets import synthetic as synthetic_module
from course_lib.datasets.layout import TEST_BATCH, TRAIN_BATCHES

REPO_ROOT = Path(__file__).resolve().parents[1]


def _seconds(function, repeats=1):
    """Median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _pickle_baseline(folder):
    """CS231n's loader: unrestricted pickle.load of each batch, reshape, concatenate."""
    parts = []
    for name in TRAIN_BATCHES + (TEST_BATCH,):
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        parts.append(batch["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype("float"))
        np.array(batch["labels"])
    return parts


def _rebuild_cifar(out):
    """Run make_cifar10.py into ``out`` unless a copy is there; return the batches folder."""
    folder = out / "cifar-10-batches-py"
    if (folder / TEST_BATCH).is_file():
        return folder
    shared = Path(os.environ.get("COURSE_SHARED_DIR") or REPO_ROOT.parent / "shared")
    script = shared / "datasets" / "make_cifar10.py"
    if not script.is_file():
        return None
    print(f"rebuilding CIFAR-10 from {script.parent} into {out} (20-60 s) ...", flush=True)
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    return folder


def _cifar_rows(folder, repeats):
    for cache_file in folder.glob("cifar10_*"):
        cache_file.unlink()
    baseline = _seconds(lambda: _pickle_baseline(folder))
    cold = _seconds(lambda: load_cifar10(folder))
    warm = _seconds(lambda: load_cifar10(folder), repeats)
    return baseline, cold, warm


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_datasets",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm loads to take the median of")
    args = parser.parse_args([] if argv is None else argv)

    rows = []
    configured = os.environ.get("COURSE_DATA_DIR")
    out = Path(configured) / "bench-cifar10" if configured else Path(tempfile.mkdtemp())
    try:
        folder = _rebuild_cifar(out)
        if folder is None:
            print("CIFAR-10: skipped, make_cifar10.py not found under ../shared "
                  "(set COURSE_SHARED_DIR)")
        else:
            baseline, cold, warm = _cifar_rows(folder, args.repeats)
            rows += [("CIFAR-10 pickle.load, CS231n style (baseline)", baseline, baseline),
                     ("CIFAR-10 load_cifar10 cold (decode + write cache)", cold, baseline),
                     ("CIFAR-10 load_cifar10 warm (.npy cache)", warm, baseline)]
    finally:
        if not configured:
            shutil.rmtree(out, ignore_errors=True)

    synthetic_module._cached_block.cache_clear()
    synthetic_cold = _seconds(lambda: load_synthetic_cifar(50000, 10000))
    synthetic_warm = _seconds(lambda: load_synthetic_cifar(50000, 10000), args.repeats)
    synthetic_module._cached_block.cache_clear()
    synthetic_small = _seconds(lambda: load_synthetic_cifar(5000, 1000))
    reference = rows[0][1] if rows else synthetic_cold
    rows += [("synthetic 50000+10000, first call (generate)", synthetic_cold, reference),
             ("synthetic 50000+10000, again (in memory)", synthetic_warm, reference),
             ("synthetic 5000+1000, first call (generate)", synthetic_small, reference)]

    print(f"{'what':<52}{'seconds':>10}{'x baseline':>12}")
    for name, seconds, base in rows:
        print(f"{name:<52}{seconds:>10.3f}{seconds / base:>12.3f}")
    if len(rows) > 3:
        cold, warm = rows[1][1], rows[2][1]
        print(f"CIFAR-10 warm/cold ratio: {warm / cold:.3f} (cold is {cold / warm:.0f}x slower); "
              f"warm load under 1 s: {'yes' if warm < 1 else 'NO'}")
    print(f"machine: {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (timings are noisy when shared)")


if __name__ == "__main__":
    main()

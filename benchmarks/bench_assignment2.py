"""Assignment 2 (part 1) on real CIFAR-10: the best fully connected net and the update rules.

Prints what was measured, the assignment's target and what this run achieved:

* ``search``: the coarse-to-fine random search of ``optimizers.ipynb`` (the notebook's own
  solution cell, run on the CS231n splits: 49000 / 1000 / 1000, mean image subtracted);
  its best network's validation and test accuracy (targets 52% and 50%);
* ``rules``: a 5-layer network (four hidden layers of 100 units) trained from the same
  weights with every update rule for the same 200 iterations (4000 examples, 5 epochs), as
  in the notebook; the mean training loss of the first and last 20 iterations of each rule,
  and Adam's final loss relative to SGD's (target: below 1, Adam learns faster).

BLAS runs single-threaded by default (``--threads``). CIFAR-10 comes from ``--data-dir`` or
``$COURSE_DATA_DIR``; without either, it is rebuilt from ``../shared/datasets`` (as
``bench_datasets`` does) into a temporary folder; without that too the benchmark says so.

    python -m benchmarks assignment2
    python -m benchmarks.bench_assignment2 --only rules
"""
import argparse
import json
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT_DIR = REPO_ROOT / "assignments" / "source" / "assignment2"
SEARCH_CELL = ("optimizers.ipynb", "best_fc_net")
RULES = {"sgd": 1e-2, "sgd_momentum": 1e-2, "nesterov_momentum": 1e-2, "adagrad": 5e-3,
         "rmsprop": 1e-4, "adam": 1e-3}
SECTIONS = ("search", "rules")


def _import_reference():
    """The reference ``nnfs`` package of assignment 2 (another assignment's ``nnfs`` that an
    earlier benchmark imported in this process is dropped first)."""
    for name in [n for n in sys.modules if n == "nnfs" or n.startswith("nnfs.")]:
        del sys.modules[name]
    sys.path.insert(0, str(ASSIGNMENT_DIR))
    from nnfs import optim
    from nnfs.classifiers import FullyConnectedNet
    return optim, FullyConnectedNet


def notebook_cell(notebook, grade_id):
    """The source of the cell with nbgrader ``grade_id`` in ``notebook``."""
    cells = json.loads((ASSIGNMENT_DIR / notebook).read_text())["cells"]
    for cell in cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join(cell["source"])
    raise LookupError(f"{notebook} has no cell {grade_id!r}")


def load_data(data_dir):
    """CS231n's splits as float32 rows minus the mean image, or None if CIFAR-10 is absent."""
    from course_lib.datasets import get_cifar10_data
    from course_lib.datasets.errors import DatasetError

    try:
        data = get_cifar10_data(layout="rows", source="cifar10", root=data_dir)
    except DatasetError as exc:
        print(f"bench_assignment2: skipped, CIFAR-10 is not available: {exc}")
        return None
    return {key: data[key] for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")}


def accuracy(net, X, y):
    return float(np.mean(np.argmax(net.loss(X), axis=1) == y))


def bench_search(data, rows):
    """Run the notebook's search cell; report its best network's accuracies."""
    from course_lib.solver import Solver

    optim, FullyConnectedNet = _import_reference()
    namespace = {"np": np, "partial": partial, "optim": optim, "Solver": Solver,
                 "FullyConnectedNet": FullyConnectedNet, "data": data, "FAST": False}
    start, cpu_start = time.perf_counter(), time.process_time()
    exec(compile(notebook_cell(*SEARCH_CELL), f"{SEARCH_CELL[0]}:{SEARCH_CELL[1]}", "exec"),
         namespace)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    best = namespace["best_model"]
    rows.append(("best FC net, validation accuracy", ">= 0.52", namespace["best_val"],
                 namespace["best_val"] >= 0.52))
    test = accuracy(best, data["X_test"], data["y_test"])
    rows.append(("best FC net, test accuracy", ">= 0.50", test, test >= 0.50))
    rows.append(("search wall-clock time (s, the whole notebook cell)", "a few minutes", seconds,
                 None))
    # CPU time of this process: with one BLAS thread, the wall-clock time on an idle core
    rows.append(("search CPU time (s)", "a few minutes", cpu_seconds, None))


def bench_rules(data, rows):
    """Every update rule on the same 5-layer net for the same 200 iterations."""
    from course_lib.solver import Solver

    optim, FullyConnectedNet = _import_reference()
    subset = {"X_train": data["X_train"][:4000], "y_train": data["y_train"][:4000],
              "X_val": data["X_val"], "y_val": data["y_val"]}
    final = {}
    for rule, learning_rate in RULES.items():
        np.random.seed(0)
        net = FullyConnectedNet([100, 100, 100, 100], weight_scale=3e-2)
        solver = Solver(net, subset, update_rule=rule, optim_config={"learning_rate": learning_rate},
                        optim_module=optim, batch_size=100, num_epochs=5, num_train_samples=500,
                        verbose=False, seed=0)
        solver.train()
        losses = np.array(solver.loss_history)
        final[rule] = losses[-20:].mean()
        print(f"  {rule:>17} (lr {learning_rate:g}): mean loss of iterations 1-20 "
              f"{losses[:20].mean():.3f}, 91-110 {losses[90:110].mean():.3f}, "
              f"{len(losses) - 19}-{len(losses)} {final[rule]:.3f}; best validation accuracy "
              f"{solver.best_val_acc:.3f}", flush=True)
    ratio = final["adam"] / final["sgd"]
    rows.append(("Adam / SGD final training loss, 5-layer net, 200 iterations", "< 1", ratio,
                 ratio < 1))


def print_table(rows):
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measurement'.ljust(width)}  target         achieved  met")
    for what, target, achieved, met in rows:
        flag = "" if met is None else ("yes" if met else "NO")
        print(f"{what.ljust(width)}  {target:<13}  {achieved:8.3f}  {flag}")


def _cifar_folder(args, scratch):
    """A folder holding cifar-10-batches-py: given, configured, or rebuilt into ``scratch``."""
    if args.data_dir:
        return args.data_dir
    import os

    if os.environ.get("COURSE_DATA_DIR"):
        return None    # the loader's default
    from benchmarks.bench_datasets import _rebuild_cifar

    folder = _rebuild_cifar(Path(scratch))
    if folder is None:
        print("bench_assignment2: CIFAR-10 not installed and make_cifar10.py not found under "
              "../shared (set COURSE_SHARED_DIR or COURSE_DATA_DIR)")
    return folder.parent if folder is not None else scratch


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench_assignment2", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None,
                        help="folder holding cifar-10-batches-py (default: $COURSE_DATA_DIR, "
                             "else rebuilt from ../shared/datasets)")
    parser.add_argument("--only", default=None, help="comma-separated sections: search, rules")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (default 1; 0: the library's own choice)")
    args = parser.parse_args(argv)
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    scratch = tempfile.mkdtemp(prefix="bench-a2-")
    try:
        data = load_data(_cifar_folder(args, scratch))
        if data is None:
            return
        rows = []
        if args.threads:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=args.threads, user_api="blas"):
                _run(sections, data, rows)
        else:
            _run(sections, data, rows)
        print_table(rows)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(sections, data, rows):
    if "rules" in sections:
        print("update rules on a 5-layer net (4000 examples, 200 iterations):", flush=True)
        bench_rules(data, rows)
    if "search" in sections:
        print("the notebook's coarse-to-fine search:", flush=True)
        bench_search(data, rows)


if __name__ == "__main__":
    main()

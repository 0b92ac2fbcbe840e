"""Grading speed: one assignment0 submission, and throughput with 1 and 2 workers and Dask.

Prints seconds to grade one reference-complete submission with the hidden suite, then
submissions per minute for ``--copies`` copies of it (regraded with ``force``) on a process
pool of 1 and of 2 workers and on a Dask LocalCluster of 2 worker processes on loopback,
each as a ratio to the 1-worker pool measured in the same run.
"""
import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from autograder.grading.batch import grade_submissions
from autograder.course import find_course
from autograder.grading.submission import grade_submission

ASSIGNMENT = "assignment0"


def make_copies(course, root, count):
    """``count`` reference-complete submissions in nbgrader's submitted/<student>/ layout."""
    source = course.source(ASSIGNMENT)
    return [Path(shutil.copytree(source, root / f"student{i:02d}" / ASSIGNMENT,
                                 ignore=shutil.ignore_patterns("__pycache__")))
            for i in range(count)]


def throughput(course, submissions, out, **how):
    """Submissions per minute of one forced batch run."""
    start = time.perf_counter()
    results = grade_submissions(course, ASSIGNMENT, submissions, hidden=True, out=out,
                                force=True, progress=False, **how)
    elapsed = time.perf_counter() - start
    assert all(r["score"] == r["max_score"] > 0 for r in results), "benchmark copies must pass"
    return 60.0 * len(submissions) / elapsed, elapsed


def sandbox_cost(course, submission, rounds=5):
    """Seconds per submission with bubblewrap and without namespaces (the ``uid``
    fallback, which is how submissions were graded before the bubblewrap sandbox), in
    interleaved rounds; prints the best of each and their difference."""
    from autograder.sandbox.confinement import BWRAP_ENV, bwrap_path, probe_bubblewrap
    from autograder.sandbox.confinement import UID_BASE, running_as_root
    if probe_bubblewrap(bwrap_path(), UID_BASE if running_as_root() else None) is not None:
        print("sandbox cost: bubblewrap is not usable here; nothing to compare")
        return
    settings = {"bubblewrap": None, "without namespaces": ""}
    best = {label: float("inf") for label in settings}
    for _ in range(rounds):
        for label, value in settings.items():
            saved = os.environ.pop(BWRAP_ENV, None)
            if value is not None:
                os.environ[BWRAP_ENV] = value
            try:
                start = time.perf_counter()
                result = grade_submission(course, ASSIGNMENT, submission, hidden=True)
                best[label] = min(best[label], time.perf_counter() - start)
            finally:
                os.environ.pop(BWRAP_ENV, None)
                if saved is not None:
                    os.environ[BWRAP_ENV] = saved
            assert result["score"] == result["max_score"] > 0, result.get("error")
    with_ns, without = best["bubblewrap"], best["without namespaces"]
    print(f"sandbox cost (best of {rounds}): bubblewrap {with_ns:.2f} s, without namespaces "
          f"{without:.2f} s per submission: {with_ns - without:+.2f} s "
          f"({with_ns / without:.2f}x)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench_grading", description=__doc__)
    parser.add_argument("--copies", type=int, default=8, help="submissions per batch run")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster")
    args = parser.parse_args(argv)
    course = find_course()
    print(f"machine: {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (timings are noisy when shared)")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        submissions = make_copies(course, root / "submitted", args.copies)

        timings = []
        for _ in range(3):
            start = time.perf_counter()
            result = grade_submission(course, ASSIGNMENT, submissions[0], hidden=True)
            timings.append(time.perf_counter() - start)
        tests = len(result["tests"])
        print(f"\none submission, public + hidden ({tests} tests): first {timings[0]:.2f} s "
              f"(includes one-off imports and the sandbox probe), then best "
              f"{min(timings[1:]):.2f} s")
        print(f"isolation: {result['isolation']}")
        sandbox_cost(course, submissions[0])

        rows = []
        for label, how in (("pool, 1 worker", {"workers": 1}),
                           ("pool, 2 workers", {"workers": 2})):
            rows.append((label, *throughput(course, submissions, root / label, **how)))
        if not args.no_dask:
            from distributed import LocalCluster
            logging.getLogger("distributed").setLevel(logging.ERROR)   # shutdown chatter
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              host="127.0.0.1", dashboard_address=None) as cluster:
                # one warm-up job so worker start-up is not billed to throughput
                grade_submissions(course, ASSIGNMENT, submissions[:2], hidden=True,
                                  scheduler=cluster.scheduler_address, out=root / "warm",
                                  force=True, progress=False)
                rows.append(("Dask LocalCluster, 2 workers",
                             *throughput(course, submissions, root / "dask",
                                         scheduler=cluster.scheduler_address)))

    baseline = rows[0][1]
    print(f"\nthroughput on {args.copies} submissions (hidden tests, --force):")
    print(f"{'runner':<30} {'seconds':>8} {'subs/min':>9} {'vs 1 worker':>12}")
    for label, per_minute, elapsed in rows:
        print(f"{label:<30} {elapsed:8.1f} {per_minute:9.1f} {per_minute / baseline:11.2f}x")


if __name__ == "__main__":
    main()

"""Grade MANY submissions: ``autograder grade ASSIGNMENT SUBMISSION...``.

Submissions are graded in parallel, by a local process pool (default: one worker per core)
or by a Dask cluster (``--scheduler tcp://host:8786``; the workers need this package and
the same paths). Each result is written to ``OUT/<submission>.json`` the moment it is
ready, atomically (temporary file + ``os.replace``), so a killed run loses nothing that was
finished. Each result is signed (:mod:`autograder.result_signing`). A re-run keeps a stored
result only when its signature is valid, its fingerprint equals the submission's current
one (:func:`autograder.grading.submission.submission_fingerprint`: the files the sandbox gets, the
tests, the reference, every grader module, ``--hidden``, the limits, the Python and NumPy
versions) and the grading ended cleanly (no ``error``, no ``grader_errors``, every test
ran); ``--force`` regrades everything. At the end ``OUT/summary.csv`` and a grade table are
written from EVERY result in OUT that the grader signed (:func:`results_in_out`), not just the
ones graded in this run, so grading a subset into an existing folder keeps the others in the
summary; a file that is not a valid signed result of the assignment is named on stderr and
left out.

Lateness (:mod:`autograder.grading.lateness`) is outside the fingerprint: it is recomputed for
every submission of the run, and a kept result whose lateness changed is signed and written
again. Only ``--late-penalty zero`` lets lateness change a score.

SIGTERM or SIGINT stops the batch: the pool workers (and, through them, the grading
processes they started in their own sessions) are told to stop, then killed if they do
not; Dask futures are cancelled. Results already written stay; the command exits non-zero.
"""
import argparse
import concurrent.futures
import contextlib
from collections import Counter
import csv
import io
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from autograder.course import Course
from autograder.errors import UserError
from autograder.files import write_atomically
from autograder.grading.lateness import (PENALTY_METHODS, apply_lateness, course_due_dates, format_duration,
                                         lateness_fields, read_submission_time)
from autograder.result import (LATENESS_KEYS, STATUSES, Result, failed, load_results, new_result, ordered_test_names,
                               write_result)
from autograder.result_signing import load_key, verify_result
from autograder.safe_files import UnsafeFile, read_regular_file

if TYPE_CHECKING:
    from autograder.grading.submission import Interpreter

# What grading.py writes as the output of a test the grading process never reported.
NOT_RUN_PREFIX = "this test did not run"
# Seconds pool workers get to clean up (kill their grading process, remove their scratch
# folder) after SIGTERM before they are killed.
STOP_GRACE_SECONDS = 10


class GradingInterrupted(KeyboardInterrupt):
    """The batch was stopped by SIGTERM or SIGINT (a KeyboardInterrupt, so the CLI exits 130)."""


# -- planning -------------------------------------------------------------------------------
def plan_submissions(assignment: str, paths: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """Pair every submission path with a unique result name.

    Returns
    -------
    list of (name, Path)
        In the given order; a name that repeats gets ``-2``, ``-3``, ... appended.

    Raises
    ------
    UserError
        If any path does not exist (all missing paths are listed), before any work.
    """
    from autograder.grading.submission import submission_name

    folders = [Path(path) for path in paths]
    missing = [str(path) for path in folders if not path.exists()]
    if missing:
        raise UserError("these submissions do not exist: " + ", ".join(missing)
                        + " (give folders such as submitted/<student>/" + assignment
                        + " or .zip files)")
    plan, used = [], set()
    for path in folders:
        base = submission_name(path, assignment)
        name, counter = base, 1
        while name in used:
            counter += 1
            name = f"{base}-{counter}"
        used.add(name)
        plan.append((name, path))
    return plan


def load_result(path: str | Path) -> Result | None:
    """A stored result, or None when it is missing or unreadable; then it is regraded.
    Reads a regular file only, at most 64 MiB. :func:`reusable` checks its signature."""
    try:
        result = json.loads(read_regular_file(path).decode("utf-8"))
    except (OSError, UnsafeFile, ValueError, RecursionError):
        return None
    return cast(Result, result) if isinstance(result, dict) else None


def reusable(stored: Result | None, fingerprint: str | None, key: bytes, name: str) -> tuple[bool, str | None]:
    """Whether a stored result may stand in for grading again, and if not, why.

    ``name`` must be the stored result's ``submission`` (a signed result copied over
    another submission's file is not that submission's result).

    Returns
    -------
    (bool, str or None)
        ``(True, None)``; or ``(False, reason)`` where reason is ``None`` for the ordinary
        cases (nothing stored, or the submission/tests/grader changed) and words for the TA
        when the stored file is not trusted (not signed by this grader).
    """
    if stored is None:
        return False, None
    if not verify_result(stored, key):
        return False, "its signature is missing or wrong: the grader did not write it"
    if stored.get("fingerprint") != fingerprint or fingerprint is None:
        return False, None
    if stored.get("submission") != name:
        return False, f"it is the result of {stored.get('submission')!r}, not of {name!r}"
    tests = stored.get("tests")
    if stored.get("error") or stored.get("grader_errors") or not isinstance(tests, list) \
            or not tests or any(not isinstance(test, dict) or
                                str(test.get("output", "")).startswith(NOT_RUN_PREFIX)
                                for test in tests):
        return False, None          # the grading did not end cleanly: never cached
    return True, None


# -- the job a worker runs ------------------------------------------------------------------------
class WorkerStopped(BaseException):
    """Raised in a pool worker's grading by SIGTERM/SIGINT, so that ``finally`` blocks kill
    the grading process and remove the scratch folder before the worker exits."""


_grading_now = False


def _stop_worker(signum: int, frame: FrameType | None) -> None:
    if _grading_now:
        # once: a second signal (Ctrl-C reaches the workers and the batch's SIGTERM follows)
        # must not interrupt the cleanup this one starts
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise WorkerStopped(signum)
    os._exit(128 + signum)


def _init_pool_worker() -> None:
    """Pool workers stop on SIGTERM/SIGINT: cleanly mid-grading, at once when idle."""
    signal.signal(signal.SIGTERM, _stop_worker)
    signal.signal(signal.SIGINT, _stop_worker)


def grade_job(course_root: str, assignment: str, path: str, name: str, hidden: bool, timeout: float,
              memory_mb: int, interpreter: "Interpreter | None" = None) -> Result:
    """Grade one submission in a worker (process pool or Dask); never raises.

    In a pool worker, SIGTERM/SIGINT unwinds the grading (its grading process is killed
    and its scratch folder removed) and then ends the worker.
    """
    global _grading_now
    from autograder.grading.submission import grade_submission
    _grading_now = True
    try:
        return grade_submission(Course(Path(course_root)), assignment, path, hidden=hidden,
                                timeout=timeout, memory_mb=memory_mb, name=name,
                                interpreter=interpreter)
    except WorkerStopped as stopped:    # _stop_worker ignores further signals: nothing interrupts the exit
        os._exit(128 + stopped.args[0])
    except Exception:        # a grader bug must not stop the batch; the result says what broke
        return failed(new_result(name, assignment),
                      "the grader failed on this submission:\n" + traceback.format_exc(), graded=False)
    finally:
        _grading_now = False


class _PoolExecutor:
    """Local worker processes, forked from a server that has the grader imported already
    (nbformat alone can take seconds to import; each worker would pay it again)."""

    PRELOAD = ["autograder.grading.submission", "autograder.grading.notebooks"]

    def __init__(self, workers: int | None) -> None:
        self.forkserver = "forkserver" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if self.forkserver else "spawn")
        if self.forkserver:
            context.set_forkserver_preload(self.PRELOAD)
        self.executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_pool_worker)

    def submit(self, *args: Any) -> concurrent.futures.Future[Result]:
        return self.executor.submit(grade_job, *args)

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        return concurrent.futures.as_completed(futures)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def abort(self, futures: object = ()) -> None:
        """Stop every worker this pool started: SIGTERM (each kills the grading process it
        started and removes its scratch folder), SIGKILL after STOP_GRACE_SECONDS; then the
        fork server the pool started."""
        workers = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(5)
        if self.forkserver:
            from multiprocessing import forkserver
            stop = getattr(forkserver._forkserver, "_stop", None)
            if stop is not None:
                stop()      # closes the pipe the fork server lives on; it exits


class _DaskExecutor:
    def __init__(self, scheduler: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UserError("--scheduler needs the 'distributed' package "
                            "(pip install 'nnfs-course[grading]')") from None
        try:
            self.client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UserError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None

    def submit(self, *args: Any) -> Any:
        # pure=False: two runs of the same submission are two gradings, not one cached value
        return self.client.submit(grade_job, *args, pure=False)

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        from distributed import as_completed
        return as_completed(futures)

    def close(self) -> None:
        self.client.close()

    def abort(self, futures: Iterable[Any] = ()) -> None:
        """Cancel the futures (a grading already running on a worker finishes there; its
        result is dropped)."""
        try:
            self.client.cancel(list(futures))
        finally:
            self.client.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise GradingInterrupted(signal.Signals(signum).name)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Callable[[], None]]:
    """While active (main thread only), SIGTERM and SIGINT raise :class:`GradingInterrupted`
    in the main thread; the previous handlers come back on exit. Gives ``hold()``, which
    ignores further SIGTERM/SIGINT while stopping (until exit)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGTERM, signal.SIGINT)}

    def hold() -> None:
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)

    try:
        yield hold
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# -- grading many -------------------------------------------------------------------------------
def grade_submissions(course: Course, assignment: str, submissions: Sequence[str | Path], *, hidden: bool = False,
                      workers: int | None = None, scheduler: str | None = None, out: str | Path | None = None,
                      force: bool = False, progress: bool = True, timeout: float | None = None,
                      memory_mb: int | None = None, due: str | None = None, gradebook: str | None = None,
                      late_penalty: str = "none") -> list[Result]:
    """Grade ``submissions`` and return their results in the given order.

    Parameters
    ----------
    submissions : sequence of str or Path
        Folders (nbgrader's ``submitted/<student>/<assignment>/``) or ``.zip`` files.
    hidden : bool
        Also run the hidden suite.
    workers : int, optional
        Size of the local process pool (default: the number of cores). Ignored with
        ``scheduler``.
    scheduler : str, optional
        Address of a Dask distributed scheduler to grade on instead.
    out : str or Path, optional
        Where ``<submission>.json`` and ``summary.csv`` go (default ``grades/<assignment>``).
    force : bool
        Regrade even when a stored result has the same fingerprint.
    progress : bool
        Show a tqdm progress bar.
    timeout, memory_mb : optional
        Per-call time limit and memory limit of student code.
    due : str, optional
        The due date for every submission (``--due``); default: the gradebook's.
    gradebook : str, optional
        nbgrader's gradebook URL to read due dates and extensions from (default: the
        course's, when its database exists).
    late_penalty : {"none", "zero"}
        ``zero``: a late submission scores 0 (nbgrader's ``penalty_method``); default none.

    Returns
    -------
    list of Result
        One result per submission (schema of docs/ARCHITECTURE.md).
    """
    from autograder.grading.submission import (SubmissionError, grading_limits, sandbox_interpreter,
                                               submission_fingerprint, sweep_stale_scratch)
    from autograder.sandbox import running_as_root

    try:
        course.source(assignment)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if hidden and not course.hidden_tests(assignment).is_dir():
        raise UserError(f"{assignment} has no hidden suite (expected "
                        f"{course.hidden_tests(assignment)}); leave out --hidden")
    if late_penalty not in PENALTY_METHODS:
        raise UserError(f"--late-penalty must be one of {', '.join(PENALTY_METHODS)}")
    plan = plan_submissions(assignment, submissions)
    due_dates = course_due_dates(course, assignment, due=due, db_url=gradebook)
    lateness = {name: lateness_fields(read_submission_time(path), due_dates.for_student(name))
                for name, path in plan}
    sweep_stale_scratch()
    out = Path(out) if out is not None else Path("grades") / assignment
    out.mkdir(parents=True, exist_ok=True)
    if running_as_root():
        os.chmod(out, 0o750)        # grades are private; the sandbox user cannot write here
    limits = grading_limits(timeout, memory_mb)

    key = load_key(create=True)
    results, todo = {}, []
    for name, path in plan:
        if force:
            todo.append((name, path))
            continue
        stored = load_result(out / f"{name}.json")
        try:
            fingerprint = submission_fingerprint(course, assignment, path, hidden=hidden,
                                                 limits=limits)
        except SubmissionError:
            fingerprint = None          # the worker reports what is wrong with it
        keep, why = reusable(stored, fingerprint, key, name)
        if keep and stored is not None:
            unsigned = cast(Result, {k: v for k, v in stored.items() if k != "signature"})
            current = apply_lateness(unsigned, lateness[name], late_penalty)
            if current != unsigned:
                # the code is unchanged but the submission time, due date or penalty is not
                stored = write_result(out / f"{name}.json", current, key)
            results[name] = stored
        else:
            todo.append((name, path))
            if why:
                print(f"autograder grade: warning: {out / (name + '.json')}: {why}; regrading it",
                      file=sys.stderr)

    from tqdm.auto import tqdm
    with tqdm(total=len(plan), initial=len(results), disable=not progress, unit="submission",
              desc="grading", dynamic_ncols=True) as bar:
        if todo:
            # Dask workers may be other machines: each finds its own sandbox interpreter.
            executor = _DaskExecutor(scheduler) if scheduler else _PoolExecutor(workers or os.cpu_count())
            interpreter = None if scheduler else sandbox_interpreter()
            futures = {}
            with contextlib.closing(executor), _stop_on_signals() as hold:
                try:
                    for name, path in todo:
                        futures[executor.submit(str(course.root), assignment, str(path), name, hidden,
                                                limits.timeout, limits.memory_mb, interpreter)] = name
                    for future in executor.as_completed(list(futures)):
                        name = futures[future]
                        result = write_result(out / f"{name}.json", apply_lateness(
                            future.result(), lateness[name], late_penalty), key)
                        results[name] = result
                        bar.set_postfix_str(f"{name}: {result['score']:g}/"
                                            f"{result['max_score']:g}", refresh=False)
                        bar.update(1)
                except GradingInterrupted as stop:
                    hold()
                    bar.close()
                    print(f"autograder grade: stopped by {stop.args[0]}: stopping the workers; "
                          f"{len(results)} of {len(plan)} results are in {out} (a re-run "
                          "grades the rest)", file=sys.stderr)
                    executor.abort(futures)
                    raise
    ordered = [results[name] for name, _ in plan]
    everything, problems = results_in_out(out, assignment, key)
    for problem in problems:
        print(f"autograder grade: warning: {problem}; left out of {out / 'summary.csv'}",
              file=sys.stderr)
    write_summary_csv(out / "summary.csv", everything)
    if progress and len(todo) < len(plan):
        print(f"graded {len(todo)}, kept {len(plan) - len(todo)} stored results of unchanged "
              "submissions (--force regrades them)")
    return ordered


# -- summaries ----------------------------------------------------------------------------------
def results_in_out(out: str | Path, assignment: str, key: bytes | None = None) -> tuple[list[Result], list[str]]:
    """Every result in the results folder ``out`` that a summary may count.

    The exporters' own reading (:func:`autograder.result.load_results`): a file
    counts when it is a well-formed result, signed by the grader and of ``assignment``; one
    result per submission name.

    Returns
    -------
    results : list of Result
        Sorted by submission name.
    problems : list of str
        One line per ``*.json`` file left out, naming it and why.
    """
    try:
        loaded = load_results(out, assignment, key)
    except UserError:           # no result files at all (every grading was interrupted)
        return [], []
    return loaded.results, [problem.removesuffix("; skipped") for problem in loaded.problems]


def status_counts(result: Result) -> dict[str, int]:
    """How many tests of ``result`` passed, failed, errored and timed out."""
    counts = Counter(test["status"] for test in result.get("tests", []))
    return {**dict.fromkeys(STATUSES, 0), **counts}


def write_summary_csv(path: str | Path, results: list[Result]) -> None:
    """``submission, score, max_score, passed, failed, error, timeout, grading_error,
    submitted_at, due, late_by_seconds, late_penalty`` and one score column per test (in the
    order tests first appear), written atomically. Unknown lateness leaves a cell empty."""
    test_names = ordered_test_names(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "score", "max_score", *STATUSES, "grading_error",
                     *LATENESS_KEYS, *test_names])
    for result in results:
        scores = {test["name"]: test["score"] for test in result.get("tests", [])}
        counts = status_counts(result)
        writer.writerow([result["submission"], result["score"], result["max_score"],
                         *(counts[s] for s in STATUSES),
                         (result.get("error") or "").splitlines()[0] if result.get("error") else "",
                         *("" if (value := result.get(column)) is None else value
                           for column in LATENESS_KEYS),
                         *(scores.get(name, "") for name in test_names)])
    write_atomically(path, buffer.getvalue())


def format_grade_table(results: list[Result]) -> str:
    """The results as an aligned text table (one row per submission)."""
    rows: list[tuple[str, ...]] = [("submission", "score", "passed", "failed", "error", "timeout", "late", "note")]
    for result in results:
        counts = status_counts(result)
        note = (result.get("error") or "").splitlines()[0][:60] if result.get("error") else ""
        seconds = result.get("late_by_seconds")
        late = "" if seconds is None else ("no" if seconds <= 0 else format_duration(seconds))
        if result.get("late_penalty"):
            note = f"late penalty -{result['late_penalty']:g}" + (f"; {note}" if note else "")
        rows.append((result["submission"], f"{result['score']:g} / {result['max_score']:g}",
                     *(str(counts[s]) for s in STATUSES), late, note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


# -- command line -------------------------------------------------------------------------------
def add_cli(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade submissions (folders or .zip) in sandboxed processes, in parallel",
        description="Grade submissions of ASSIGNMENT with the instructor's public tests (and "
                    "the hidden suite with --hidden). Each result goes to OUT/<submission>.json"
                    " as soon as it is ready; unchanged submissions are not regraded.")
    parser.add_argument("assignment", help="assignment name, e.g. assignment0")
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="a student's assignment folder (e.g. submitted/alice/assignment0) "
                             "or a .zip of it")
    parser.add_argument("--hidden", action="store_true", help="also run the hidden tests")
    parser.add_argument("--workers", type=int, help="parallel grading processes (default: all cores)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="grade on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--out", type=Path, help="results folder (default: grades/ASSIGNMENT)")
    parser.add_argument("--force", action="store_true",
                        help="regrade submissions whose stored result is up to date")
    parser.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="seconds each call into student code may take (default 30)")
    parser.add_argument("--memory-mb", type=int, help="memory limit of student code in MiB (default 2048)")
    parser.add_argument("--due", default=None, metavar="TIME",
                        help="due date of the assignment, e.g. '2026-12-01 23:59:00 UTC' "
                             "(default: the gradebook's, with students' extensions)")
    parser.add_argument("--gradebook", default=None, metavar="URL",
                        help="nbgrader gradebook (database URL or .db file) to read due dates "
                             "from (default: the course's from nbgrader_config.py, else "
                             "assignments/gradebook.db)")
    parser.add_argument("--late-penalty", choices=("none", "zero"), default="none",
                        help="none (default, as nbgrader): lateness is recorded, never scored; "
                             "zero: a late submission scores 0")
    parser.set_defaults(func=run_cli)


def run_cli(args: argparse.Namespace, course: Course) -> int:
    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    out = args.out or Path("grades") / args.assignment
    results = grade_submissions(course, args.assignment, args.submissions, hidden=args.hidden,
                                workers=args.workers, scheduler=args.scheduler, out=out,
                                force=args.force, timeout=args.timeout,
                                memory_mb=args.memory_mb, due=args.due,
                                gradebook=args.gradebook, late_penalty=args.late_penalty)
    everything, _ = results_in_out(out, args.assignment)
    print(format_grade_table(everything))
    if len(everything) > len(results):
        print(f"(the table and summary.csv cover all {len(everything)} results in {out}; "
              f"{len(results)} were graded or checked in this run)")
    weaker = next((r["isolation"] for r in results
                   if str(r.get("isolation") or "").startswith("WEAKER")), None)
    if weaker:
        print(f"\nwarning: {weaker}")
    print(f"\nresults: {out}/<submission>.json, summary: {out / 'summary.csv'}")
    return 0

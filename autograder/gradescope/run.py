"""What ``run_autograder`` runs inside Gradescope's container for one upload.

Gradescope puts the student's upload in ``/autograder/submission``. Students upload in
different ways, all of which must grade the same:

* the contents of the assignment folder (``nnfs/``, ``warmup.ipynb``, ...),
* the assignment folder itself, possibly renamed (``assignment0 (2)/nnfs/...``),
* a zip of either of those, possibly with macOS's ``__MACOSX/`` folder inside.

:func:`locate_submission` finds the folder that holds the assignment's student package,
unpacking zips with the grader's safe extractor when it has to. The upload is then graded by
:func:`autograder.grading.submission.grade_submission` (student code runs in the sandboxed child),
and the result is written as Gradescope's ``results.json``. Writing happens after grading
and replaces the file atomically, so nothing student code writes there survives.

An upload without the package, or with a zip that cannot be unpacked (encrypted, not
UTF-8 names, corrupt, unsafe paths, ...), gets a ``results.json`` with score 0 and a
message saying what to upload. A failure of the grader itself still writes a valid
``results.json`` (score 0, a message saying that the grader, not the student, failed and
that staff will regrade; the traceback goes to the staff-only log) and exits 0; only when
even that cannot be written does it exit non-zero, and ``run_autograder`` then writes a
fixed fallback ``results.json`` itself (and exits 0 so that Gradescope records it).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograder.gradescope.build import to_gradescope, unreadable_submission
from autograder.files import is_junk, write_atomically

MAX_SEARCH_DEPTH = 3


class SubmissionLayoutError(Exception):
    """The upload does not contain the assignment; the message tells the student what to upload."""


def assignment_markers(source: Path) -> tuple[list[str], list[str]]:
    """The top-level names that identify an assignment folder.

    Parameters
    ----------
    source : Path
        The instructor's folder of the assignment.

    Returns
    -------
    packages : list of str
        Folders with an ``__init__.py`` (the student package, e.g. ``nnfs``).
    notebooks : list of str
        Top-level notebooks (e.g. ``warmup.ipynb``).
    """
    packages = sorted(p.name for p in source.iterdir() if (p / "__init__.py").is_file())
    notebooks = sorted(p.name for p in source.glob("*.ipynb") if p.is_file())
    return packages, notebooks


def _folders_breadth_first(top: Path, max_depth: int = MAX_SEARCH_DEPTH) -> Iterator[Path]:
    queue = deque([(top, 0)])
    while queue:
        folder, depth = queue.popleft()
        yield folder
        if depth == max_depth:
            continue
        try:
            children = sorted(p for p in folder.iterdir()
                              if p.is_dir() and not p.is_symlink()
                              and not p.name.startswith(".") and not is_junk(p.name))
        except OSError:
            continue
        queue.extend((child, depth + 1) for child in children)


def _find_assignment_folder(top: Path, packages: list[str], notebooks: list[str]) -> Path | None:
    """The shallowest folder under ``top`` holding a student package, or None.

    Among folders at the same depth, the one with most of the expected notebooks wins.
    """
    holders = [folder for folder in _folders_breadth_first(top)
               if any((folder / name / "__init__.py").is_file() for name in packages)]
    return min(holders, default=None,
               key=lambda folder: (len(folder.relative_to(top).parts),
                                   -sum((folder / name).is_file() for name in notebooks)))


def locate_submission(upload: Path, source: Path, scratch: str | os.PathLike[str]) -> Path:
    """Find the assignment folder in a Gradescope upload.

    Parameters
    ----------
    upload : Path
        ``/autograder/submission``.
    source : Path
        The instructor's folder of the assignment (tells which package to look for).
    scratch : Path
        An empty folder where uploaded zips are unpacked.

    Returns
    -------
    Path
        The folder that holds the student package.

    Raises
    ------
    SubmissionLayoutError
        If no folder in the upload, nor in a zip in it, holds the package.
    """
    packages, notebooks = assignment_markers(source)
    if not packages:
        raise RuntimeError(f"{source} has no package folder (with __init__.py) to look for")
    if (found := _find_assignment_folder(upload, packages, notebooks)) is not None:
        return found
    from autograder.grading.submission import SubmissionError, extract_zip

    archives = [p for folder in _folders_breadth_first(upload, max_depth=1)
                for p in sorted(folder.glob("*.zip")) if p.is_file()]
    for index, archive in enumerate(archives):
        unpacked = Path(scratch) / f"upload{index}"
        unpacked.mkdir(parents=True)
        try:    # the grader's safe extractor: paths, links and sizes checked
            extract_zip(archive, unpacked)
        except SubmissionError as exc:
            raise SubmissionLayoutError(f"{archive.name}: {exc}") from exc
        if (found := _find_assignment_folder(unpacked, packages, notebooks)) is not None:
            return found
    expected = ", ".join([f"{name}/" for name in packages] + notebooks)
    raise SubmissionLayoutError(
        f"Your upload does not contain the assignment: no {' or '.join(packages)}/ folder with "
        f"an __init__.py was found{' in it or in its zip files' if archives else ''}. Upload the "
        f"files of your assignment folder ({expected}) or a zip of that folder.")


def write_results(results: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``results`` as JSON to ``path`` atomically (replacing what is there)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(results, indent=2) + "\n", mode=0o644)


def grade_upload(config: dict[str, Any], upload: str | os.PathLike[str],
                 results_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Grade the upload in ``upload`` and write ``results_path``.

    Parameters
    ----------
    config : dict
        The zip's ``gradescope_config.json``: ``assignment``, ``hidden``,
        ``hidden_visibility``, ``timeout``.
    upload : Path
    results_path : Path

    Returns
    -------
    dict
        What was written to ``results_path``.
    """
    from autograder.course import find_course

    course = find_course()
    assignment = config["assignment"]
    started = time.monotonic()
    # The sandboxed child may run as another user: it needs to read the unpacked upload.
    scratch = Path(tempfile.mkdtemp(prefix="gradescope-upload-"))
    os.chmod(scratch, 0o755)
    try:
        try:
            folder = locate_submission(Path(upload), course.source(assignment), scratch)
        except SubmissionLayoutError as exc:
            results = unreadable_submission(str(exc))
        else:
            from autograder.grading.submission import grade_submission

            print(f"grading {folder} ({assignment}, hidden tests: {config['hidden']})")
            result = grade_submission(course, assignment, folder, hidden=config["hidden"],
                                      timeout=config.get("timeout"))
            for key in ("error", "grader_errors"):
                if result.get(key):
                    print(f"{key}: {result[key]}")
            results = to_gradescope(result, config["hidden_visibility"],
                                    execution_time=time.monotonic() - started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_results(results, results_path)
    return results


GRADER_FAILURE = ("The autograder could not grade this submission because of a problem on the "
                  "grader's side, not in your work ({reason}). The course staff can see the "
                  "log and will regrade it; you do not need to resubmit.")


def grader_failure(reason: str) -> dict[str, Any]:
    """Gradescope's ``results.json`` when grading failed as a whole (score 0, staff regrade)."""
    return unreadable_submission(GRADER_FAILURE.format(reason=reason))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.gradescope.run",
        description="Grade a Gradescope upload (called by run_autograder).")
    parser.add_argument("--config", type=Path, required=True,
                        help="gradescope_config.json from the autograder zip")
    parser.add_argument("--submission", type=Path, required=True,
                        help="the upload folder (/autograder/submission)")
    parser.add_argument("--results", type=Path, required=True,
                        help="where to write results.json (/autograder/results/results.json)")
    args = parser.parse_args(argv)
    try:
        config = json.loads(args.config.read_text(encoding="utf-8"))
        results = grade_upload(config, args.submission, args.results)
    except Exception as exc:        # whatever broke, the student gets a results.json
        traceback.print_exc()
        results = grader_failure(type(exc).__name__)
        try:
            write_results(results, args.results)
        except OSError as write_error:
            print(f"cannot write {args.results}: {write_error}", file=sys.stderr)
            return 2
    print(results["output"])
    for test in results["tests"]:
        print(f"  {test['status']:6} {test['score']:g}/{test['max_score']:g}  {test['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

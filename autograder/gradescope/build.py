"""Gradescope: turn a result into ``results.json`` and build the autograder zip.

Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/) asks for a zip with
``setup.sh`` and ``run_autograder`` at its root. Gradescope unpacks it into
``/autograder/source``, runs ``setup.sh`` once as root to build an image, then for each
upload fills ``/autograder/submission`` and runs ``run_autograder``, which must write
``/autograder/results/results.json``.

The zip built here is self-contained: next to the two scripts it holds the course's
requirements, the ``course_lib`` and ``autograder`` sources with ``setup.py``, the
instructor's folder of the assignment (public tests and the reference solution the
``reference`` fixture loads), its hidden suite when asked for, and
``gradescope_config.json`` (which assignment, whether hidden tests run, how they are shown).
``run_autograder`` calls :mod:`autograder.gradescope.run`, which grades the
upload with :func:`autograder.grading.submission.grade_submission` (student code in the sandboxed
child) and converts the result with :func:`to_gradescope`.
"""
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from autograder.course import PACKAGE_ROOT, Course
from autograder.errors import UserError
from autograder.files import is_junk, write_atomically
from autograder.exporters.student_view import has_hidden, public_points
from autograder.result import Result, TestOutcome

#: Visibility values Gradescope accepts for the submission, a test and stdout.
GRADESCOPE_VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
DEFAULT_HIDDEN_VISIBILITY = "after_published"

TEMPLATE_DIR = PACKAGE_ROOT / "gradescope" / "template"
HIDDEN_SUITES = PACKAGE_ROOT / "hidden"
EXECUTABLE_SCRIPTS = ("setup.sh", "run_autograder")
CONFIG_NAME = "gradescope_config.json"
COURSE_DIR = "course"

#: What a failed test says first, for the statuses Gradescope has no word for.
STATUS_HEADLINES = {
    "error": "Error: your code raised an exception or crashed while this test ran.",
    "timeout": "Timed out: your code took too long while this test ran.",
}

# Never shipped: caches, build products and editor leftovers.
_SKIPPED_SUFFIXES = (".pyo", ".so", ".pyd", ".egg-info")


def _check_visibility(value: str, what: str) -> None:
    if value not in GRADESCOPE_VISIBILITIES:
        raise UserError(f"{what} must be one of {', '.join(GRADESCOPE_VISIBILITIES)}, "
                        f"not {value!r}")


def gradescope_test(test: TestOutcome, hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY) -> dict[str, Any]:
    """One entry of Gradescope's ``tests`` list for one test of our result.

    Parameters
    ----------
    test : dict
        A test of the result schema (``name``, ``score``, ``max_score``, ``status``,
        ``visibility``, ``output``).
    hidden_visibility : str
        Gradescope visibility given to our hidden tests.

    Returns
    -------
    dict
        ``status`` is ``"passed"`` only for our ``"passed"``; ``"error"`` and ``"timeout"``
        become ``"failed"`` with a headline saying which, above the grader's message.
    """
    output = test.get("output", "")
    headline = STATUS_HEADLINES.get(test["status"])
    if headline:
        output = f"{headline}\n{output}" if output else headline
    return {
        "name": test["name"],
        "score": float(test["score"]),
        "max_score": float(test["max_score"]),
        "status": "passed" if test["status"] == "passed" else "failed",
        "visibility": hidden_visibility if test["visibility"] == "hidden" else "visible",
        "output": output,
    }


def _summary(result: Result, hidden_shown: bool) -> str:
    """The submission-level text. Before the hidden tests are shown it counts only the
    public ones: a total including hidden points would give their results away."""
    tests = result["tests"]
    if has_hidden(result) and not hidden_shown:
        public = [test for test in tests if test.get("visibility") != "hidden"]
        score, max_score = public_points(result)
        passed = sum(test["status"] == "passed" for test in public)
        lines = [f"Public tests: {score:g} / {max_score:g} points; {passed} of {len(public)} "
                 "tests passed. The hidden tests' results and the total appear when grades "
                 "are published."]
    else:
        passed = sum(test["status"] == "passed" for test in tests)
        lines = [f"Score: {result['score']:g} / {result['max_score']:g} points; "
                 f"{passed} of {len(tests)} tests passed."]
    if result.get("error"):
        # Only the first line: the rest can be the grading process's log (paths, hidden test
        # names), which run_autograder prints to the staff-only stdout instead.
        first_line = (result["error"].strip().splitlines() or [""])[0].rstrip(" :")
        lines.append(f"Grading stopped: {first_line} (course staff can see the details)")
    for finding in result.get("notebooks") or []:
        message = finding.get("message", finding) if isinstance(finding, dict) else finding
        lines.append(f"Notebook check: {message}")
    return "\n".join(lines)


def to_gradescope(result: Result, hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
                  execution_time: float | None = None) -> dict[str, Any]:
    """Convert one result (docs/ARCHITECTURE.md schema) into Gradescope's ``results.json``.

    Parameters
    ----------
    result : dict
        A checked result of one submission.
    hidden_visibility : str
        One of :data:`GRADESCOPE_VISIBILITIES`, for tests whose visibility is ``"hidden"``
        (default ``"after_published"``: students see them once grades are published).
    execution_time : float, optional
        Seconds the grading took.

    Returns
    -------
    dict
        ``{"score", "output", "visibility", "stdout_visibility", "output_format",
        "test_output_format", "tests": [...]}``. ``score`` is the total (Gradescope's grade);
        when the result has hidden tests that are not ``visible``, the submission-level
        ``visibility`` is ``hidden_visibility`` too, so Gradescope shows that total no
        sooner than the hidden tests, while every public test stays ``visible`` and the
        ``output`` counts public tests only. ``stdout_visibility`` is ``"hidden"`` (the
        grader's log is for staff); all text is plain (``"text"``), never HTML or Markdown.
    """
    _check_visibility(hidden_visibility, "the hidden tests' visibility")
    converted: dict[str, Any] = {
        "score": float(result["score"]),
        "output": _summary(result, hidden_visibility == "visible"),
        "visibility": hidden_visibility if has_hidden(result) else "visible",
        "stdout_visibility": "hidden",
        "output_format": "text",
        "test_output_format": "text",
        "tests": [gradescope_test(test, hidden_visibility) for test in result["tests"]],
    }
    if execution_time is not None:
        converted["execution_time"] = int(round(execution_time))
    return converted


def unreadable_submission(message: str) -> dict[str, Any]:
    """Gradescope's ``results.json`` for an upload that could not be graded at all."""
    return {"score": 0.0, "output": message, "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def _shipped(path: Path) -> bool:
    if is_junk(path.name) or path.name.endswith(_SKIPPED_SUFFIXES):
        return False
    # C generated by Cython from a .pyx next to it: setup.sh regenerates it
    return not (path.suffix == ".c" and path.with_suffix(".pyx").exists())


def _tree(root: Path) -> list[Path]:
    """Files under ``root`` worth shipping, as sorted paths; the hidden suites' folder
    (``autograder/hidden``) is left out: an assignment's suite ships only when asked for."""
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames
                             if _shipped(here / d) and here / d != HIDDEN_SUITES)
        files.extend(here / name for name in sorted(filenames) if _shipped(here / name))
    return files


def autograder_zip_members(course: Course, assignment: str, hidden: bool = False) -> list[tuple[str, Path]]:
    """What goes into the zip: ``(name in the zip, file on disk)`` pairs, scripts excluded.

    Parameters
    ----------
    course : autograder.course.Course
    assignment : str
    hidden : bool
        Ship the hidden suite of ``assignment`` too.

    Returns
    -------
    list of (str, Path)

    Raises
    ------
    UserError
        Unknown assignment, missing hidden suite, or a course checkout without the
        packaging files the zip needs.
    """
    source = course.source(assignment)
    root = course.root
    members: list[tuple[str, Path]] = []

    def add(paths: list[Path], base: Path = root) -> None:
        members.extend((f"{COURSE_DIR}/{path.relative_to(base).as_posix()}", path)
                       for path in paths)

    for name in ("setup.py", "pyproject.toml"):
        if not (root / name).is_file():
            raise UserError(f"{root / name} is missing: the Gradescope zip installs the course "
                            "package from the checkout's setup.py and pyproject.toml")
        members.append((f"{COURSE_DIR}/{name}", root / name))
    requirements = root / "requirements.txt"
    if not requirements.is_file():
        raise UserError(f"{requirements} is missing: setup.sh installs the grading "
                        "dependencies from it")
    members.append(("requirements.txt", requirements))

    # The packages come from the running autograder's checkout; only their sources ship.
    for package in ("course_lib", "autograder"):
        add(_tree(PACKAGE_ROOT.parent / package), PACKAGE_ROOT.parent)

    config = course.nbgrader_root / "nbgrader_config.py"
    if config.is_file():
        add([config])
    add(_tree(source))
    if hidden:
        suite = course.hidden_tests(assignment)
        if not suite.is_dir() or not any(suite.glob("test_*.py")):
            raise UserError(f"--hidden: {assignment} has no hidden suite ({suite} holds no "
                            "test_*.py files); leave out --hidden or write the hidden tests")
        add(_tree(suite))
    return members


def gradescope_config(assignment: str, hidden: bool, hidden_visibility: str, timeout: float | None) -> dict[str, Any]:
    """The settings ``run_autograder`` reads, as a dict."""
    _check_visibility(hidden_visibility, "--hidden-visibility")
    if timeout is not None and not timeout > 0:
        raise UserError(f"--timeout must be a positive number of seconds, not {timeout}")
    return {"assignment": assignment, "hidden": bool(hidden),
            "hidden_visibility": hidden_visibility, "timeout": timeout}


def _zip_entry(name: str, executable: bool = False) -> zipfile.ZipInfo:
    """A ZipInfo with a fixed date, so that the same inputs give the same zip bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    return info


def build_autograder_zip(course: Course, assignment: str, to: str | os.PathLike[str], hidden: bool = False,
                         hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY, timeout: float | None = None) -> Path:
    """Write the Gradescope autograder zip of ``assignment`` to ``to``.

    Parameters
    ----------
    course : autograder.course.Course
    assignment : str
    to : str or Path
        The zip to write (replaced atomically if it exists).
    hidden : bool
        Ship and run the hidden suite.
    hidden_visibility : str
        Gradescope visibility of hidden tests' results.
    timeout : float, optional
        Per-test wall-clock limit in seconds passed to the grader (default: the grader's).

    Returns
    -------
    Path
        ``to``.
    """
    config = gradescope_config(assignment, hidden, hidden_visibility, timeout)
    members = autograder_zip_members(course, assignment, hidden)
    to = Path(to)
    to.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for script in EXECUTABLE_SCRIPTS:
            archive.writestr(_zip_entry(script, executable=True),
                             (TEMPLATE_DIR / script).read_bytes())
        archive.writestr(_zip_entry(CONFIG_NAME), json.dumps(config, indent=2) + "\n")
        for name, path in members:
            archive.writestr(_zip_entry(name, executable=os.access(path, os.X_OK)),
                             path.read_bytes())
    write_atomically(to, buffer.getvalue(), mode=0o644)
    return to

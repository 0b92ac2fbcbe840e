"""nbgrader configuration for the course (this folder is the nbgrader course root).

nbgrader reads this file when a command runs in this folder (``cd assignments && nbgrader
...``) or when given with ``--config``. It is plain Python; everything the course needs
that nbgrader does not do by default is set here:

* the course id and the exchange folder, both overridable from the environment so one
  laptop, a JupyterHub and the test suite can share this file;
* files that must never reach students (caches, compiled extensions);
* ``exclude_overwriting``: the student package files of every assignment, so that
  ``nbgrader autograde`` grades the student's ``nnfs/*.py`` instead of swapping in the
  instructor's copies (nbgrader issue #940). The list is derived from ``source/``;
* the solution markers and the stub that replaces them;
* warnings on stderr do not cost a test cell its points (see ``IgnorePattern`` below);
* ``nbgrader autograde`` (only autograde) executes notebooks in the sandbox kernel
  ``nnfs-sandbox`` (see the end of this file and ``autograder kernel install``), in the
  fast mode (``COURSE_FAST=1``), and keeps the scores ``autograder export gradebook``
  wrote.

Environment variables
---------------------
NBGRADER_COURSE_ID
    The course id (default ``nnfs``).
NBGRADER_EXCHANGE
    The exchange folder used by ``release_assignment``, ``fetch_assignment``, ``submit``
    and ``collect`` (default ``exchange/`` inside this folder, which works on a laptop
    without root; a shared server would use e.g. ``/srv/nbgrader/exchange``).
NBGRADER_CELL_TIMEOUT
    Seconds one cell may run under autograde/validate (default 1800).
AUTOGRADE_FULL
    ``1`` runs notebooks at full size under ``nbgrader autograde``. By default autograde
    runs them in the fast mode (``COURSE_FAST=1`` in the sandbox kernel): the test cells
    check the same things, and assignment 1 grades in minutes instead of hours.
"""
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader when it executes this file)

COURSE_ROOT = Path(__file__).resolve().parent
STUDENT_PACKAGE = "nnfs"

c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "nnfs")
c.CourseDirectory.root = str(COURSE_ROOT)
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", str(COURSE_ROOT / "exchange"))

# Copying never takes these along: not into the release, not into a submission, not from
# the source at autograde time.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.so",
    "*.pyd",
    "*.egg-info",
    ".DS_Store",
    ".coverage",
    "feedback",
]
# `nbgrader submit` refuses a submission that lacks one of the released notebooks
# (renamed or deleted), instead of accepting it and grading zero later. It applies where
# students' nbgrader reads this file (a shared JupyterHub config); see
# docs/WRITING_ASSIGNMENTS.md for the students' own config.
c.ExchangeSubmit.strict = True

# A submission is code and notebooks; anything larger than this is a mistake
# (a dataset or a checkpoint saved into the assignment folder).
c.CourseDirectory.max_file_size = 20000  # kilobytes


def student_files(assignment_dir):
    """Files students edit in one assignment: everything in its student package.

    Parameters
    ----------
    assignment_dir : Path
        ``source/<assignment>``.

    Returns
    -------
    list of str
        Paths relative to ``assignment_dir`` with ``/`` separators, as nbgrader compares
        them (``["nnfs/__init__.py", "nnfs/warmup.py"]``).
    """
    package = assignment_dir / STUDENT_PACKAGE
    if not package.is_dir():
        return []
    ignored = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
    return sorted(
        path.relative_to(assignment_dir).as_posix()
        for path in package.rglob("*")
        if path.is_file() and not ignored.intersection(path.parts)
        and path.suffix not in {".pyc", ".so", ".pyd"}
    )


_SOURCE = COURSE_ROOT / "source"
c.Autograde.exclude_overwriting = {
    assignment.name: student_files(assignment)
    for assignment in (sorted(_SOURCE.iterdir()) if _SOURCE.is_dir() else [])
    if assignment.is_dir()
}

# Solution regions, in notebooks and (through `autograder release`) in .py files alike.
from autograder.release.stripping import BEGIN_SOLUTION, END_SOLUTION, STUB_LINES  # noqa: E402

c.ClearSolutions.begin_solution_delimeter = BEGIN_SOLUTION
c.ClearSolutions.end_solution_delimeter = END_SOLUTION
c.ClearSolutions.code_stub = {"python": "\n".join(STUB_LINES)}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# nbgrader gives a test cell zero points as soon as it wrote anything to stderr
# (nbgrader.utils.determine_grade), and Python's warnings module writes there: a correct
# softmax that overflows harmlessly would lose its points. The notebooks' setup cells
# print warnings to stdout instead; this removes, at autograde time, stderr outputs that
# are warnings, in case a setup cell was deleted. Errors are separate outputs of type
# "error" and still fail the cell.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^.*:\d+: (?:\w+\.)*\w*Warning: "

# Autograde and validate run every notebook top to bottom; training cells need more than
# nbgrader's default of 30 seconds per cell. At full size on CIFAR-10 the two-layer net's
# hyperparameter search takes over ten minutes on two cores, and a whole notebook of
# assignment 1 far longer. `nbgrader validate` runs at whatever size the caller's
# COURSE_FAST says; autograde runs in the fast mode (see the end of this file).
c.Execute.timeout = int(os.environ.get("NBGRADER_CELL_TIMEOUT", "1800"))

# `nbgrader autograde` runs student notebooks; as the TA's user (root on a grading server)
# a solution cell could write results, read the reference solutions or leave a process
# behind. Autograde therefore executes every notebook in the sandbox kernel `nnfs-sandbox`
# (autograder.sandbox.kernel: the grader's bubblewrap sandbox, its own uid, no network, a
# throw-away copy of the notebook's folder), whatever kernel the notebook names. Only
# autograde's own Execute step is swapped: `nbgrader validate` and the notebooks' kernelspec
# metadata keep the ordinary python3 kernel. When the kernel is missing, autograde stops
# with a message saying to run `autograder kernel install` (`make install` does).
from nbgrader.converters.autograde import Autograde as _Autograde  # noqa: E402
from nbgrader.preprocessors import Execute as _Execute  # noqa: E402

_autograde_steps = _Autograde.class_traits()["autograde_preprocessors"].default()
if _Execute not in _autograde_steps:
    raise RuntimeError("nbgrader_config.py: this nbgrader's autograde has no Execute step to "
                       "run in the sandbox kernel; update the course's nbgrader config")
c.Autograde.autograde_preprocessors = [
    "autograder.grading.kernelspec.SandboxedExecute" if step is _Execute else step
    for step in _autograde_steps
]

# Before autograde touches a notebook, RestoreAutograderScores: autograde has just set the
# scores that `autograder export gradebook` wrote (the notebook `autograder_tests`, which no
# student submits) to 0 and replaced the student's autograded/ folder; this step writes the
# exported scores and the formgrader page back, first thing (a notebook that then fails
# cannot lose them), so nbgrader and autograder commands may run in any order.
c.Autograde.sanitize_preprocessors = [
    "autograder.exporters.gradebook.RestoreAutograderScores",
    *_Autograde.class_traits()["sanitize_preprocessors"].default(),
]

# Autograde runs notebooks in the fast mode: the sandbox kernel gets COURSE_FAST=1, which
# shrinks every experiment (training runs, searches) while the test cells check the same
# things. `AUTOGRADE_FULL=1 nbgrader autograde ...` runs them at full size instead.
_full_size = os.environ.get("AUTOGRADE_FULL", "").strip().lower() in {"1", "true", "yes", "on"}
c.SandboxedExecute.kernel_env = {"COURSE_FAST": "0" if _full_size else "1"}

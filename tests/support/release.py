"""Helpers shared by the release and nbgrader tests (no tests here).

* :func:`copy_course`: a throw-away course (nbgrader root + hidden suites) to release from;
* :func:`run_nbgrader`: the real ``nbgrader`` command with its output on failure;
* :func:`run_suite`: a test suite in a fresh interpreter, with ``student`` and
  ``reference`` fixtures that load modules from given folders, and the outcome per test;
* :func:`tree_bytes` and :func:`add_submission`: what a release must leave alone (the live
  files, and the submissions in the gradebook).
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from autograder.course import Course
from autograder.files import ignore_junk
from autograder.release.pipeline import nbgrader_environment, release_assignment

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "assignment0"
COPY_IGNORE = ignore_junk


def copy_course(dest, assignments=("assignment0",)):
    """Copy the course's nbgrader config, sources and hidden suites into ``dest``.

    Returns
    -------
    Course
        Rooted at ``dest``.
    """
    dest = Path(dest)
    (dest / "assignments" / "source").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "assignments" / "nbgrader_config.py", dest / "assignments")
    for name in assignments:
        shutil.copytree(REPO_ROOT / "assignments" / "source" / name,
                        dest / "assignments" / "source" / name, ignore=COPY_IGNORE)
        hidden = REPO_ROOT / "autograder" / "hidden" / name
        if hidden.is_dir():
            shutil.copytree(hidden, dest / "autograder" / "hidden" / name, ignore=COPY_IGNORE)
    return Course(dest)


_SHARED = {}


def shared_release(tmp_path_factory, assignment="assignment0"):
    """One course copy and its real release, made once per test session.

    ``nbgrader generate_assignment`` takes many seconds on a busy machine, so the release
    tests and the nbgrader workflow tests share it. They may add nbgrader's generated
    folders (gradebook, exchange, submitted, ...) but must not change ``source/`` or the
    release.

    Returns
    -------
    (Course, Path)
        The course and ``assignments/release/<assignment>``.
    """
    if assignment not in _SHARED:
        course = copy_course(tmp_path_factory.mktemp(f"shared_{assignment}"), (assignment,))
        _SHARED[assignment] = course, release_assignment(course, assignment)
    return _SHARED[assignment]


def run_nbgrader(args, cwd, env=None, expect_ok=True):
    """Run ``nbgrader ARGS`` from this virtual environment; return the CompletedProcess."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env or
                          nbgrader_environment(), capture_output=True, text=True, timeout=600)
    if expect_ok:
        assert done.returncode == 0, (f"nbgrader {' '.join(args)} failed:\n"
                                      f"{done.stdout}\n{done.stderr}")
    return done


_PLUGIN = textwrap.dedent('''\
    import importlib.util
    import os
    import sys
    from pathlib import Path

    import pytest


    class FileModules:
        """Loads ``package.module`` from a folder under a private module name."""

        def __init__(self, root, prefix):
            self.root, self.prefix = Path(root), prefix

        def import_module(self, name):
            alias = self.prefix + name.replace(".", "_")
            if alias not in sys.modules:
                path = self.root.joinpath(*name.split(".")).with_suffix(".py")
                spec = importlib.util.spec_from_file_location(alias, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[alias] = module
                spec.loader.exec_module(module)
            return sys.modules[alias]


    @pytest.fixture
    def student():
        return FileModules(os.environ["SUITE_STUDENT_ROOT"], "student_")


    @pytest.fixture
    def reference():
        return FileModules(os.environ["SUITE_REFERENCE_ROOT"], "reference_")
''')


def run_suite(tests, student_root, reference_root, workdir):
    """Run the test files in ``tests`` against ``student_root``'s code.

    Parameters
    ----------
    tests : Path
        A folder of test files (public or hidden suite).
    student_root, reference_root : Path
        Folders holding the ``nnfs`` package of the student and of the instructor.
    workdir : Path
        Scratch folder for the plugin and the ini file.

    Returns
    -------
    dict
        Test name -> ``"passed"``, ``"failed"`` or ``"error"``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "suite_fixtures.py").write_text(_PLUGIN)
    (workdir / "pytest.ini").write_text("[pytest]\nmarkers =\n    points(n): points\n")
    env = {**os.environ, "SUITE_STUDENT_ROOT": str(student_root),
           "SUITE_REFERENCE_ROOT": str(reference_root),
           "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO_ROOT)]),
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "suite_fixtures", "-p", "no:cacheprovider",
         "-c", str(workdir / "pytest.ini"), "--rootdir", str(workdir), "-rA", "-q",
         "--import-mode=importlib", "-W", "ignore::pytest.PytestAssertRewriteWarning",
         "--noconftest", str(tests)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    outcomes = {}
    for status, name in re.findall(r"^(PASSED|FAILED|ERROR) \S*?::(\S+)", done.stdout, re.M):
        outcomes[name] = status.lower()
    assert outcomes, f"the suite did not run:\n{done.stdout}\n{done.stderr}"
    return outcomes


def tree_bytes(folder):
    """{relative path: bytes} of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def add_submission(course, student="ada", notebooks=()):
    """A submission of ``student`` in the course's gradebook (as ``nbgrader autograde`` or
    ``collect`` leaves it), plus the extra ``notebooks`` in the assignment."""
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    from autograder.exporters.gradebook import gradebook_settings
    settings = gradebook_settings(course)
    with Gradebook(settings.db_url, course_id=settings.course_id) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT)
        for name in notebooks:
            gradebook.add_notebook(name, ASSIGNMENT)
        gradebook.update_or_create_student(student)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            gradebook.add_submission(ASSIGNMENT, student)

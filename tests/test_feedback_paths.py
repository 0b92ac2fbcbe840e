"""Public-test feedback shows no absolute path of the instructor's machine or the grader's
scratch folder: tracebacks through the tests and course_lib, and what student code prints."""
import os
import shutil
import sysconfig
import tempfile

import pytest

from autograder.course import Course
from autograder.grading.submission import grade_submission
from autograder.grading.pytest_plugin import neutral_paths

ASSIGNMENT = "assignment0"


def test_neutral_paths_makes_known_paths_relative_and_hides_the_rest():
    prefixes = [("/srv/course/assignments/source/assignment0/tests", "tests"),
                ("/srv/course/assignments/source/assignment0", ""),
                ("/srv/course/course_lib", "course_lib"),
                ("/tmp/autograder-grade-x1/sandbox/student", ""),
                ("/tmp/autograder-grade-x1", "grader-scratch")]
    cwd = "/tmp/autograder-grade-x1/grading"
    text = ("/srv/course/assignments/source/assignment0/tests/test_warmup.py:29: in test_a\n"
            "../../../srv/course/course_lib/gradient_check.py:112: in eval_numerical_gradient\n"
            "File \"/tmp/autograder-grade-x1/sandbox/student/nnfs/warmup.py\", line 3\n"
            "read /tmp/autograder-grade-x1/original/nnfs/warmup.py.\n"
            "cwd is /tmp/autograder-grade-x1/grading, pytest.ini in ./pytest.ini\n"
            "/home/prof/other/helper.py:3: in f\n"
            "ratio 3 / 4 and a/b and https://example.org/page stay")
    shown = neutral_paths(text, prefixes, cwd=cwd)
    assert shown.splitlines() == [
        "tests/test_warmup.py:29: in test_a",
        "course_lib/gradient_check.py:112: in eval_numerical_gradient",
        "File \"nnfs/warmup.py\", line 3",
        "read grader-scratch/original/nnfs/warmup.py.",
        "cwd is ., pytest.ini in pytest.ini",
        ".../helper.py:3: in f",
        "ratio 3 / 4 and a/b and https://example.org/page stay"]


@pytest.fixture(scope="module")
def graded_failure(repo_root, tmp_path_factory):
    """A submission whose softmax_loss returns a string as the loss (the public gradient
    check then fails inside course_lib) and prints its own file name."""
    root = tmp_path_factory.mktemp("paths")
    submission = root / "submitted" / "alice" / ASSIGNMENT
    shutil.copytree(repo_root / "assignments" / "source" / ASSIGNMENT, submission,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    warmup = submission / "nnfs" / "warmup.py"
    warmup.write_text(warmup.read_text() + (
        "\n\ndef softmax_loss(scores, y):\n"
        "    print('loading from', __file__, 'in', __import__('os').getcwd())\n"
        "    return 'oops', scores * 0\n"))
    result = grade_submission(Course(repo_root), ASSIGNMENT, submission, timeout=10)
    return result, submission


def test_public_feedback_has_no_absolute_paths(graded_failure, repo_root):
    result, submission = graded_failure
    failed = {t["name"]: t for t in result["tests"] if t["status"] != "passed"}
    gradient = failed["tests/test_warmup.py::test_softmax_loss_gradient_matches_numeric_gradient"]
    output = gradient["output"]
    # the traceback crosses the public tests and course_lib, both named relative
    assert "tests/test_warmup.py:" in output
    assert "course_lib/gradient_check.py:" in output
    assert "loading from nnfs/warmup.py" in output
    forbidden = {str(repo_root), os.path.realpath(repo_root), str(submission),
                 tempfile.gettempdir() + "/", "autograder-grade-", sysconfig.get_paths()["stdlib"]}
    for test in result["tests"]:
        if test["visibility"] != "visible":
            continue
        for path in forbidden:
            assert path not in test["output"], f"{path} in the feedback of {test['name']}"
        for line in test["output"].splitlines():
            assert not line.lstrip().startswith("/"), line

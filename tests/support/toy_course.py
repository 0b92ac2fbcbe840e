"""A one-module toy course for grading tests: a tiny solution, public and hidden tests."""
import shutil
from pathlib import Path

TOY_SOLUTION = '''
def double(x):
    return 2 * x


def rewrite_myself():
    with open(__file__, "w") as handle:
        handle.write("def double(x):\\n    return 2 * x\\n")
    return True


def chatty():
    print("hello from the student")
    return 1
'''

TOY_PUBLIC_TESTS = '''
import pytest


def test_double(student):
    assert student.import_module("nnfs.toy").double(3) == 6


@pytest.mark.points(3)
def test_source_checks_read_the_submission_as_handed_in(student):
    toy = student.import_module("nnfs.toy")
    assert toy.rewrite_myself()
    assert "def rewrite_myself" in (student.root / "nnfs" / "toy.py").read_text()


def test_failure_shows_what_the_student_printed(student):
    student.import_module("nnfs.toy").chatty()
    assert 1 == 2, "this test always fails"
'''

TOY_HIDDEN_TESTS = '''
def test_double_agrees_with_the_reference(student, reference):
    """double agrees with the instructor's solution"""
    mine = student.import_module("nnfs.toy").double(21)
    assert mine == reference.import_module("nnfs.toy").double(21)
'''


def make_toy_course(tmp_path, assignment, solution, public_tests, hidden_tests=None):
    """A one-module course: ``nnfs/<assignment>.py`` holds ``solution``, one public test file
    and optionally one hidden one; erin's submission is a copy of the source.

    Returns
    -------
    (Path, Path)
        The course root and erin's submission folder.
    """
    root = tmp_path / "course"
    source = root / "assignments" / "source" / assignment
    (source / "nnfs").mkdir(parents=True)
    (source / "nnfs" / "__init__.py").write_text("")
    (source / "nnfs" / f"{assignment}.py").write_text(solution)
    (source / "tests").mkdir()
    (source / "tests" / f"test_{assignment}.py").write_text(public_tests)
    if hidden_tests is not None:
        hidden = root / "autograder" / "hidden" / assignment
        hidden.mkdir(parents=True)
        (hidden / "test_hidden.py").write_text(hidden_tests)
    return root, Path(shutil.copytree(source, tmp_path / "submitted" / "erin" / assignment))

"""grade_submission: unpacking, names, fingerprints and what students are told."""
import json
import re
import shutil
import stat
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.grading import submission as grading
from autograder.grading.submission import (SubmissionError, extract_zip, grade_submission,
                                           submission_fingerprint, submission_name)
from tests.support.toy_course import TOY_HIDDEN_TESTS, TOY_PUBLIC_TESTS, TOY_SOLUTION, make_toy_course

ASSIGNMENT = "assignment0"
SOLUTION_BLOCK = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n",
                            re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def course(repo_root):
    return Course(repo_root)


def copy_assignment(course, folder):
    return Path(shutil.copytree(course.source(ASSIGNMENT), folder,
                                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")))


def stub_out_solutions(folder):
    """What a student receives: every solution block replaced by the release stub."""
    warmup = folder / "nnfs" / "warmup.py"
    warmup.write_text(SOLUTION_BLOCK.sub(
        lambda m: f"{m['indent']}# YOUR CODE HERE\n{m['indent']}raise NotImplementedError\n",
        warmup.read_text()))


def test_submission_names_follow_the_nbgrader_layout_and_zip_stems(tmp_path):
    assert submission_name(tmp_path / "submitted" / "alice" / ASSIGNMENT, ASSIGNMENT) == "alice"
    assert submission_name(tmp_path / "zips" / "bob.zip", ASSIGNMENT) == "bob"
    assert submission_name(tmp_path / "carol_work", ASSIGNMENT) == "carol_work"


def test_fingerprint_changes_with_the_submission_the_flag_and_the_limits(course, tmp_path):
    folder = copy_assignment(course, tmp_path / "alice" / ASSIGNMENT)
    base = submission_fingerprint(course, ASSIGNMENT, folder, hidden=False)
    assert submission_fingerprint(course, ASSIGNMENT, folder, hidden=False) == base
    assert submission_fingerprint(course, ASSIGNMENT, folder, hidden=True) != base
    assert submission_fingerprint(course, ASSIGNMENT, folder, hidden=False,
                                  limits=grading.Limits(timeout=3)) != base
    (folder / "nnfs" / "__pycache__").mkdir()
    (folder / "nnfs" / "__pycache__" / "warmup.cpython-311.pyc").write_bytes(b"junk")
    assert submission_fingerprint(course, ASSIGNMENT, folder, hidden=False) == base
    (folder / "nnfs" / "warmup.py").write_text("# changed\n")
    assert submission_fingerprint(course, ASSIGNMENT, folder, hidden=False) != base


def make_zip(path, entries):
    """entries: (name, data) or (name, data, unix mode)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, *mode in entries:
            info = zipfile.ZipInfo(name)
            if mode:
                info.external_attr = mode[0] << 16
            archive.writestr(info, data)
    return path


def test_zip_with_a_wrapping_folder_unpacks_to_the_assignment_folder(tmp_path):
    archive = make_zip(tmp_path / "alice.zip", [("assignment0/nnfs/__init__.py", ""),
                                                ("assignment0/nnfs/warmup.py", "x = 1\n"),
                                                ("__MACOSX/._junk", "")])
    root = extract_zip(archive, tmp_path / "out")
    assert (root / "nnfs" / "warmup.py").read_text() == "x = 1\n"
    assert not (tmp_path / "out" / "__MACOSX").exists()


@pytest.mark.parametrize("entries, message", [
    ([("../escape.py", "x")], "unsafe path"),
    ([("/etc/evil.py", "x")], "unsafe path"),
    ([("nnfs/../../escape.py", "x")], "unsafe path"),
    ([("C:/evil.py", "x")], "unsafe path"),
    ([("nnfs/link", "/work/main/autograder/hidden", stat.S_IFLNK | 0o777)], "symbolic link"),
])
def test_unsafe_zips_are_refused(tmp_path, entries, message):
    archive = make_zip(tmp_path / "bad.zip", entries)
    with pytest.raises(SubmissionError, match=message):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()


def test_zip_bombs_stop_at_the_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "MAX_UNPACKED_BYTES", 1000)
    archive = make_zip(tmp_path / "bomb.zip", [("nnfs/big.bin", b"0" * 5000)])
    with pytest.raises(SubmissionError, match="unpacks to more than"):
        extract_zip(archive, tmp_path / "out")


def test_a_broken_zip_gives_a_result_with_a_clear_error(course, tmp_path):
    archive = tmp_path / "carol.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = grade_submission(course, ASSIGNMENT, archive)
    assert result["submission"] == "carol" and result["tests"] == [] and result["score"] == 0
    assert "not a readable zip file" in result["error"] and "resubmit" in result["error"]
    json.dumps(result)
    missing = grade_submission(course, ASSIGNMENT, tmp_path / "nobody" / ASSIGNMENT)
    assert "does not exist" in missing["error"]


@pytest.fixture(scope="module")
def stubbed_and_buggy(course, tmp_path_factory):
    """Grades of an untouched release (every function a stub) and of a realistic bug."""
    root = tmp_path_factory.mktemp("feedback")
    stubbed = copy_assignment(course, root / "untouched" / ASSIGNMENT)
    stub_out_solutions(stubbed)
    buggy = copy_assignment(course, root / "buggy" / ASSIGNMENT)
    warmup = buggy / "nnfs" / "warmup.py"
    assert "    dscores /= num_samples\n" in warmup.read_text()
    warmup.write_text(warmup.read_text().replace("    dscores /= num_samples\n", ""))
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda folder: grade_submission(course, ASSIGNMENT, folder,
                                                          hidden=True, timeout=10),
                             (stubbed, buggy)))


def test_an_untouched_release_scores_zero_and_says_what_is_not_implemented(stubbed_and_buggy):
    stubbed, _ = stubbed_and_buggy
    assert stubbed["score"] == 0 and stubbed["max_score"] > 0
    for test in stubbed["tests"]:
        assert test["status"] == "error"
        assert "is not implemented yet" in test["output"]
        if test["visibility"] == "visible":
            assert re.search(r"calling (nnfs\.warmup\.\w+|Standardizer\.\w+) raised",
                             test["output"])
        else:   # a number and the docstring; the grader's words, no traceback
            assert re.fullmatch(r"hidden test \d+", test["name"])
            assert "Traceback" not in test["output"]
            assert re.search(r"while calling (nnfs\.warmup\.\w+|Standardizer\.\w+)",
                             test["output"])


def test_feedback_points_at_the_bug_without_revealing_hidden_tests(stubbed_and_buggy):
    _, buggy = stubbed_and_buggy
    failing = {t["name"]: t for t in buggy["tests"] if t["status"] != "passed"}
    assert failing and all("softmax_loss" in (name if t["visibility"] == "visible" else t["output"])
                           for name, t in failing.items())
    passing = [t for t in buggy["tests"] if t["status"] == "passed"]
    assert sum(t["score"] for t in passing) == buggy["score"] > 0
    visible = [t for t in failing.values() if t["visibility"] == "visible"]
    hidden = [t for t in failing.values() if t["visibility"] == "hidden"]
    assert visible and hidden
    for test in visible:   # a short traceback into the public test, no pytest internals
        assert "test_warmup.py:" in test["output"] and "_pytest" not in test["output"]
    for test in hidden:    # the docstring's first line and the Feedback message only
        assert "softmax_loss" in test["output"]
        assert "test_warmup_hidden.py" not in test["output"] and "expect" not in test["output"]
        assert not re.search(r"\d\.\d{3,}", test["output"])
    assert any("divided by N?" in t["output"] for t in hidden)


def test_plugin_on_a_toy_course_points_root_output_and_reference(tmp_path):
    """A course without conftest: the plugin's own ``student``, default and explicit points,
    printed output for visible failures, the reference fixture, ``student.root``."""
    root, submission = make_toy_course(tmp_path, "toy", TOY_SOLUTION, TOY_PUBLIC_TESTS,
                                       TOY_HIDDEN_TESTS)

    result = grade_submission(Course(root), "toy", submission, hidden=True, timeout=10)
    tests = {t["name"]: t for t in result["tests"]}
    assert list(tests) == [
        "tests/test_toy.py::test_double",
        "tests/test_toy.py::test_source_checks_read_the_submission_as_handed_in",
        "tests/test_toy.py::test_failure_shows_what_the_student_printed",
        "hidden test 1"]
    assert [t["max_score"] for t in tests.values()] == [1.0, 3.0, 1.0, 1.0]
    assert result["score"] == 5.0 and result["max_score"] == 6.0
    printed = tests["tests/test_toy.py::test_failure_shows_what_the_student_printed"]
    assert printed["status"] == "failed"
    assert "this test always fails" in printed["output"]
    assert "--- your code printed ---\nhello from the student" in printed["output"]
    hidden = tests["hidden test 1"]
    assert hidden["visibility"] == "hidden" and hidden["status"] == "passed"
    assert "def rewrite_myself" in (submission / "nnfs" / "toy.py").read_text(), \
        "the child works on a copy; the submission itself is never changed"


RANDOM_SOLUTION = '''
import numpy as np


def initial_weights(n):
    return np.random.randn(n)
'''

RANDOM_TESTS = '''
import numpy as np


def test_first_draw(student):
    np.random.seed(0)   # seeds the grading process only, as in a student's own pytest run
    print_me = student.import_module("nnfs.rand").initial_weights(3)
    assert False, f"drew {list(print_me)}"


def test_second_draw(student):
    assert False, f"drew {list(student.import_module('nnfs.rand').initial_weights(3))}"
'''


def test_student_random_draws_are_the_same_in_every_grading_run(tmp_path):
    """The child's global NumPy generator is seeded per test (from its id), so a net's
    random start, and with it a borderline gradient check, cannot change between runs."""
    root, submission = make_toy_course(tmp_path, "rand", RANDOM_SOLUTION, RANDOM_TESTS)

    def draws():
        result = grade_submission(Course(root), "rand", submission, timeout=10)
        return [re.search(r"drew \[.*?\]", t["output"]).group() for t in result["tests"]]

    first = draws()
    assert first == draws()
    assert first[0] != first[1], "each test gets its own seed"

"""Assignment 1: the public tests pass on the source and fail cleanly on the release stubs;
the hidden suite passes on the reference, in-process and through the real grader; the
grader catches a few mutants end to end (the full mutant catalogue runs in-process in
``test_assignment1_mutants.py``)."""
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor

import pytest

from autograder.course import Course
from autograder.grading.submission import grade_submission
from autograder.grading.private_index import hidden_test_index, with_test_names
from autograder.release.stripping import strip_tree
from tests.mutants import assignment1
from tests.mutants.runner import Job, grade_many, make_mutant

ASSIGNMENT = "assignment1"


@pytest.fixture(scope="module")
def source(repo_root):
    return repo_root / "assignments" / "source" / ASSIGNMENT


def run_public_tests(folder, report):
    """``pytest`` in an assignment folder, as a student runs it; returns per-test outcomes."""
    completed = subprocess.run([sys.executable, "-m", "pytest", f"--junitxml={report}"],
                               cwd=folder, capture_output=True, text=True, timeout=300)
    root = ElementTree.parse(report).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    outcomes = {}
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        outcomes[case.get("name")] = ("failed" if "failure" in kinds else "error" if "error" in kinds
                                      else "skipped" if "skipped" in kinds else "passed")
    return completed, int(suite.get("errors", 0)), outcomes


def test_public_tests_pass_on_the_source(source, tmp_path):
    completed, errors, outcomes = run_public_tests(source, tmp_path / "public.xml")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert len(outcomes) >= 40 and set(outcomes.values()) == {"passed"}


def test_public_tests_fail_cleanly_on_the_release_stubs(source, tmp_path):
    """Every public test fails (NotImplementedError), none errors at collection."""
    release = tmp_path / ASSIGNMENT
    shutil.copytree(source, release, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    changed = {path.as_posix() for path in strip_tree(release / "nnfs")}
    assert {"layers.py", "classifiers/k_nearest_neighbor.py", "classifiers/linear_svm.py",
            "classifiers/softmax.py", "classifiers/linear_classifier.py",
            "classifiers/fc_net.py"} <= changed
    completed, errors, outcomes = run_public_tests(release, tmp_path / "stubs.xml")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output   # 1: tests failed; 2+: collection/usage error
    assert errors == 0, output
    assert len(outcomes) >= 40 and set(outcomes.values()) == {"failed"}, output
    assert "NotImplementedError" in output


def test_hidden_suite_passes_on_the_reference_in_process(repo_root, source, tmp_path):
    job = Job(name="reference", student_root=str(make_mutant(source, None, tmp_path / "copy")),
              reference_root=str(source),
              test_paths=[str(repo_root / "autograder" / "hidden" / ASSIGNMENT)],
              report=str(tmp_path / "reference.xml"))
    outcomes, output = grade_many([job], tmp_path, workers=1)["reference"]
    assert len(outcomes) >= 70, output
    assert set(outcomes.values()) == {"passed"}, output


# Graded end to end besides the reference, all three in ONE submission (one grading run
# each, in parallel): bugs whose detection depends on the grading machinery, namely the
# source check of the submission, float overflow in the child, and parameters written
# back through the proxy. They live in different modules and fail different tests.
END_TO_END = ["knn_no_loops_calls_linalg_norm", "softmax_vectorized_without_max_shift",
              "net_missing_regularisation_gradient"]


@pytest.mark.slow
def test_real_grader_passes_the_reference_and_catches_mutants(repo_root, source, tmp_path):
    course = Course(repo_root)
    bugs = [m for m in assignment1.BUGS if m.name in END_TO_END]
    assert len(bugs) == len(END_TO_END)
    submissions = {"reference": make_mutant(source, None, tmp_path / "reference" / ASSIGNMENT),
                   "bugs": make_mutant(source, bugs, tmp_path / "bugs" / ASSIGNMENT)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(submissions, pool.map(
            lambda folder: grade_submission(course, ASSIGNMENT, folder, hidden=True),
            submissions.values())))

    reference = results["reference"]
    assert "error" not in reference, reference.get("error")
    assert {t["status"] for t in reference["tests"]} == {"passed"}, \
        [t for t in reference["tests"] if t["status"] != "passed"]
    assert {t["visibility"] for t in reference["tests"]} == {"visible", "hidden"}
    assert reference["score"] == reference["max_score"] > 0

    # results name hidden tests "hidden test N"; the staff's private index names them
    buggy = with_test_names(results["bugs"], hidden_test_index(course, ASSIGNMENT))
    failed = {t["name"].split("::")[-1]: t for t in buggy["tests"] if t["status"] != "passed"}
    for mutant in bugs:
        for expected in mutant.must_fail:
            hits = [t for t in failed if t == expected or t.split("[")[0] == expected]
            assert hits, f"{mutant.name}: the grader did not fail {expected} (failed: {sorted(failed)})"
            for hit in hits:
                if failed[hit]["visibility"] == "hidden":
                    # Feedback in words: no test code, no assertion internals.
                    assert failed[hit]["output"].strip()
                    assert "expect_close(" not in failed[hit]["output"]
    assert buggy["score"] < reference["score"]

"""Assignment 2, part 1 (gates and graph, optimizers and schedules, dropout,
FullyConnectedNet): the public tests pass on the source and fail cleanly on the release
stubs; the hidden suite passes on the reference, in-process and through the real grader
(gate objects and dtypes crossing the sandbox); the grader catches a few mutants end to end
(the full catalogue runs in-process in ``test_assignment2_mutants.py``)."""
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
from tests.mutants import assignment2
from tests.mutants.runner import Job, grade_many, make_mutant

ASSIGNMENT = "assignment2"
PUBLIC_FILES = ["tests/test_gates.py", "tests/test_optim.py", "tests/test_layers.py",
                "tests/test_fc_net.py"]
# the student modules of part 1 (part 2 strips its own)
PART1_MODULES = {"gates.py", "optim.py", "layers.py", "classifiers/fc_net.py"}


@pytest.fixture(scope="module")
def source(repo_root):
    return repo_root / "assignments" / "source" / ASSIGNMENT


def run_public_tests(folder, report, paths):
    """``pytest PATHS`` in an assignment folder, as a student runs it; returns the completed
    process, the number of collection errors and per-test outcomes."""
    completed = subprocess.run([sys.executable, "-m", "pytest", f"--junitxml={report}", *paths],
                               cwd=folder, capture_output=True, text=True, timeout=300)
    root = ElementTree.parse(report).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    outcomes = {}
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        outcomes[case.get("name")] = ("failed" if "failure" in kinds else "error" if "error" in kinds
                                      else "skipped" if "skipped" in kinds else "passed")
    return completed, int(suite.get("errors", 0)), outcomes


def part1(name):
    """Whether a test id (public or hidden, named by the private index) belongs to part 1."""
    return any(f in name for f in PUBLIC_FILES + assignment2.HIDDEN_FILES)


def test_public_tests_pass_on_the_source(source, tmp_path):
    completed, errors, outcomes = run_public_tests(source, tmp_path / "public.xml",
                                                   PUBLIC_FILES)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert len(outcomes) >= 35 and set(outcomes.values()) == {"passed"}


def test_public_tests_fail_cleanly_on_the_release_stubs(source, tmp_path):
    """Every public test of part 1 fails (NotImplementedError), none errors at collection."""
    release = tmp_path / ASSIGNMENT
    shutil.copytree(source, release, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    changed = {path.as_posix() for path in strip_tree(release / "nnfs")}
    assert PART1_MODULES <= changed
    completed, errors, outcomes = run_public_tests(release, tmp_path / "stubs.xml", PUBLIC_FILES)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output   # 1: tests failed; 2+: collection/usage error
    assert errors == 0, output
    assert len(outcomes) >= 35 and set(outcomes.values()) == {"failed"}, output
    assert "NotImplementedError" in output


def test_hidden_suite_passes_on_the_reference_in_process(repo_root, source, tmp_path):
    hidden = repo_root / "autograder" / "hidden" / ASSIGNMENT
    job = Job(name="reference", student_root=str(make_mutant(source, None, tmp_path / "copy")),
              reference_root=str(source),
              test_paths=[str(hidden / f) for f in assignment2.HIDDEN_FILES],
              report=str(tmp_path / "reference.xml"))
    outcomes, output = grade_many([job], tmp_path, workers=1)["reference"]
    assert len(outcomes) >= 90, output
    assert set(outcomes.values()) == {"passed"}, output


# Graded end to end besides the reference, all in ONE submission: bugs whose detection
# crosses the sandbox in ways the in-process runs do not: gate objects passed back into the
# student's graph as handles, a network built with a dtype given by name, config dicts
# carrying optimizer state, and dropout statistics from the child's random generator.
END_TO_END = ["graph_overwrites_gradients_at_a_branch", "adam_without_bias_correction",
              "net_regularises_the_biases", "dropout_p_is_the_drop_probability"]


@pytest.mark.slow
def test_real_grader_passes_the_reference_and_catches_mutants(repo_root, source, tmp_path):
    course = Course(repo_root)
    bugs = [m for m in assignment2.BUGS if m.name in END_TO_END]
    assert len(bugs) == len(END_TO_END)
    submissions = {"reference": make_mutant(source, None, tmp_path / "reference" / ASSIGNMENT),
                   "bugs": make_mutant(source, bugs, tmp_path / "bugs" / ASSIGNMENT)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(submissions, pool.map(
            lambda folder: grade_submission(course, ASSIGNMENT, folder, hidden=True),
            submissions.values())))
    index = hidden_test_index(course, ASSIGNMENT)

    reference = with_test_names(results["reference"], index)
    assert "error" not in reference, reference.get("error")
    mine = [t for t in reference["tests"] if part1(t["name"])]
    assert len(mine) >= 120
    assert {t["status"] for t in mine} == {"passed"}, [t for t in mine if t["status"] != "passed"]
    assert {t["visibility"] for t in mine} == {"visible", "hidden"}

    buggy = with_test_names(results["bugs"], index)
    failed = {t["name"].split("::")[-1]: t for t in buggy["tests"]
              if t["status"] != "passed" and part1(t["name"])}
    for mutant in bugs:
        for expected in mutant.must_fail:
            hits = [t for t in failed if t == expected or t.split("[")[0] == expected]
            assert hits, f"{mutant.name}: the grader did not fail {expected} (failed: {sorted(failed)})"
            for hit in hits:
                if failed[hit]["visibility"] == "hidden":
                    assert failed[hit]["output"].strip()   # feedback in words

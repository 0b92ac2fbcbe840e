"""Hostile submissions, each graded next to the honest one (issue 3's list of bad input).

Every submission is the reference-complete assignment0 with one snippet from
``tests/submissions/`` appended to ``nnfs/warmup.py``. All are graded once, in parallel;
the tests below then check the results. Every case runs the public and the hidden suite,
except the infinite loop (each touched test costs the full per-call timeout; the public
suite already shows the behaviour).
"""
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.grading.submission import grade_submission
from autograder.grading.private_index import hidden_test_index, with_test_names
from autograder.sandbox import running_as_root
from autograder.sandbox.confinement import UID_BASE, bwrap_path, probe_bubblewrap
from tests.support.submissions import CHEAT_MARKER, SNIPPETS, make_submission

ASSIGNMENT = "assignment0"
pytestmark = pytest.mark.slow   # grades ~20 submissions (about a minute on 2 cores)
TIMEOUT = 2.0
MEMORY_MB = 512

SOFTMAX = r"softmax_(?!loss)"
# case -> (tests it affects, allowed statuses there, what their message must say)
CASES = {
    "infinite_loop": (SOFTMAX, {"timeout"}, r"calling nnfs\.warmup\.softmax did not finish within 2 s"),
    "memory_hog": (r"l2_distances", {"error"}, r"ran out of memory \(limit 512 MiB\)|killed .*memory"),
    "exit_at_import_os": (r".", {"error"}, r"exit status 0.* while importing nnfs\.warmup"),
    "exit_at_import_sys": (r".", {"error"}, r"sys\.exit\(0\) while importing nnfs\.warmup"),
    "exit_in_function_os": (r"softmax_loss", {"error"},
                            r"exit status 0.* while calling nnfs\.warmup\.softmax_loss"),
    "exit_in_function_sys": (r"standardizer", {"error"},
                             r"sys\.exit\(0\) while calling Standardizer\.fit"),
    "segfault": (r"l2_distances", {"error"}, r"segmentation fault \(SIGSEGV\)"),
    "output_flood": (SOFTMAX, {"error"}, r"printed more than 8 MiB of output"),
    "syntax_error": (r".", {"error"}, r"SyntaxError.*\n.*warmup\.py"),
    "missing_function": (r"l2_distances", {"error"},
                         r"no attribute 'l2_distances'.*renamed or deleted"),
    "wrong_type_and_shape": (r"l2_distances|" + SOFTMAX, {"failed", "error"},
                             r"shape|str|not what the test expects|could not use your result"),
    "nan_results": (r"softmax_loss", {"failed"},
                    r"NaN|nan|not what the test expects|rel_error|Mismatch|does not match"),
    # (fit(X).transform(X) merely running is what test_standardizer_fit_returns_itself asks)
    "crafted_objects": (r"l2_distances|" + SOFTMAX + r"|standardizer_(?!fit_returns)",
                        {"failed", "error"},
                        r"number or a NumPy array|not what the test expects|could not use"
                        r"|wrong values|has shape|Not equal to tolerance|should be"),
}
CHEATS = ("monkeypatch_helpers", "read_reference", "read_git", "copy_classmate",
          "daemon_sabotage", "steal_forkserver_socket", "planted_files")
PLANTED = [Path(folder) / "nnfs-planted-by-student.json" for folder in ("/tmp", "/dev/shm",
                                                                       "/var/tmp")]
DAEMON_NAME = "nnfs-sabotage-d"     # what the daemon calls itself (/proc/PID/comm)
WITH_HIDDEN = (set(CASES) | set(CHEATS)) - {"infinite_loop"}


def plant_fake_tests(folder):
    """The cheat also ships its own always-passing tests and a conftest that forces passes."""
    (folder / "tests" / "conftest.py").write_text(
        "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
    (folder / "tests" / "test_warmup.py").write_text("def test_everything():\n    pass\n")


@pytest.fixture(scope="module")
def victim():
    """A process of the machine (its own process group) that a forged pid points at."""
    process = subprocess.Popen(["sleep", "600"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, repo_root, victim):
    """name -> result for the honest submission, every hostile one and the cheats' controls."""
    for path in PLANTED:
        path.unlink(missing_ok=True)
    course = Course(repo_root)
    root = tmp_path_factory.mktemp("hostile")
    honest = make_submission(root, "honest", course)
    submissions = {"honest": honest, "honest_public": honest}
    for case in (*CASES, *CHEATS):
        snippet = (SNIPPETS / f"{case}.py").read_text()
        submissions[case] = make_submission(root, case, course, snippet, victim.pid)
        if CHEAT_MARKER in snippet:
            control = snippet.split(CHEAT_MARKER)[0]
            submissions[f"{case}_control"] = make_submission(root, f"{case}_control", course,
                                                             control)
    plant_fake_tests(submissions["monkeypatch_helpers"])

    # Results name hidden tests "hidden test N"; the cases below match tests by their
    # real names, which the instructor's private index gives.
    index = hidden_test_index(course, ASSIGNMENT)

    def grade(item):
        name, folder = item
        hidden = name == "honest" or name.removesuffix("_control") in WITH_HIDDEN
        return name, with_test_names(grade_submission(course, ASSIGNMENT, folder, hidden=hidden,
                                                      timeout=TIMEOUT, memory_mb=MEMORY_MB),
                                     index)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(grade, submissions.items()))


def scores_by_test(result):
    return {test["name"]: test["score"] for test in result["tests"]}


def test_the_honest_submission_gets_full_marks(graded):
    honest, public_only = graded["honest"], graded["honest_public"]
    for result in (honest, public_only):
        assert "error" not in result
        assert result["max_score"] > 0 and result["score"] == result["max_score"]
    assert {test["visibility"] for test in honest["tests"]} == {"visible", "hidden"}
    assert {test["visibility"] for test in public_only["tests"]} == {"visible"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission_fails_only_what_it_touches_with_an_actionable_message(graded, case):
    affected, statuses, message = CASES[case]
    honest, hostile = graded["honest" if case in WITH_HIDDEN else "honest_public"], graded[case]
    assert [t["name"] for t in hostile["tests"]] == [t["name"] for t in honest["tests"]], \
        "every test must be reported, whatever the submission does"
    touched = [t for t in hostile["tests"] if re.search(affected, t["name"], re.IGNORECASE)]
    assert touched, f"the case {case} must affect some test"
    for test in touched:
        assert test["score"] == 0, f"{case} gained points on {test['name']}"
        assert test["status"] in statuses, (test["name"], test["status"], test["output"])
        assert re.search(message, test["output"]), (test["name"], test["output"])
    for test in hostile["tests"]:
        if test not in touched:
            assert test["status"] == "passed", (case, test["name"], test["output"])
    assert hostile["max_score"] == honest["max_score"]


@pytest.mark.parametrize("case", CHEATS)
def test_cheats_score_exactly_what_the_same_wrong_code_scores_without_cheating(graded, case):
    if case == "read_reference" and not running_as_root():
        pytest.skip("without root the sandboxed child runs as the grader's user and CAN read "
                    "the reference; this isolation needs the grader to run as root")
    cheat, control = graded[case], graded[f"{case}_control"]
    assert scores_by_test(cheat) == scores_by_test(control)
    assert control["score"] < graded["honest"]["score"]


def test_reading_the_reference_or_hidden_tests_is_denied_with_a_clear_message(graded):
    if not running_as_root():
        pytest.skip("without root and without bubblewrap the child runs as the grader's "
                    "user and can read what the grader reads (documented as weaker)")
    softmax_tests = [t for t in graded["read_reference"]["tests"]
                     if re.search(SOFTMAX, t["name"])]
    assert softmax_tests
    for test in softmax_tests:
        assert test["status"] == "error"
        # Under bubblewrap the course checkout is not in the child's view at all; under the
        # uid fallback it is there but unreadable.
        assert re.search("FileNotFoundError|PermissionError", test["output"]), test["output"]
        if test["visibility"] == "visible":
            assert "test_warmup_hidden.py" in test["output"]
        else:   # hidden tests never show the student's exception text, only its type
            assert "test_warmup_hidden.py" not in test["output"]


def test_hidden_feedback_never_shows_test_code_or_expected_values(graded):
    for name in ("monkeypatch_helpers_control", "crafted_objects"):
        for test in graded[name]["tests"]:
            if test["visibility"] != "hidden" or test["status"] == "passed":
                continue
            output = test["output"]
            assert "expect_close(" not in output and "solution." not in output
            assert "assert " not in output and "Traceback (most recent call last)" not in output
            assert not re.search(r"\d\.\d{4,}", output), f"numbers leaked: {output}"


def test_grader_reports_isolation_and_no_grader_errors(graded):
    for name, result in graded.items():
        assert "grader_errors" not in result, (name, result.get("grader_errors"))
        assert result["isolation"], name
        if running_as_root():
            assert "its own uid" in result["isolation"]
        if probe_bubblewrap(bwrap_path(), UID_BASE if running_as_root() else None) is None:
            assert "bubblewrap sandbox" in result["isolation"]


def processes_named(name):
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as handle:
                if handle.read().strip() == name:
                    found.append(int(entry))
        except (OSError, ValueError):
            pass
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="looks for processes in /proc (Linux)")
def test_no_student_process_outlives_its_grading(graded):
    """The sabotage daemon (double fork, setsid, chdir /) ended with its sandbox, and every
    submission graded beside it kept its score (checked above, test by test)."""
    deadline = time.monotonic() + 5
    while processes_named(DAEMON_NAME) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_named(DAEMON_NAME)
    assert graded["honest"]["score"] == graded["honest"]["max_score"]


def test_a_forged_child_pid_is_never_signalled(graded, victim):
    """The fork server's stolen socket reported another process as a child; the grader
    ended the hung child's sandbox and nothing else."""
    stolen = graded["steal_forkserver_socket"]
    assert any(t["status"] == "timeout" for t in stolen["tests"])
    assert victim.poll() is None, "the grader killed a process it did not start"


def test_files_planted_by_student_code_do_not_outlive_the_sandbox(graded):
    if not graded["planted_files"]["isolation"].startswith("student code ran in a bubblewrap"):
        pytest.skip("without bubblewrap the child shares the machine's /tmp (documented)")
    assert not [path for path in PLANTED if path.exists()]

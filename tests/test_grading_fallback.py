"""Grading where bubblewrap cannot run: the weaker fallback still grades honestly and says so.

As root the fallback gives every submission a uid of its own and protects the instructor's
files with permissions; a submission that reads the reference from the checkout scores what
the same wrong code scores without cheating, and the honest one beside it keeps full marks.
"""
import pytest

from autograder.course import Course
from autograder.grading.submission import grade_submission
from autograder.sandbox import running_as_root
from tests.support.submissions import ASSIGNMENT, CHEAT_MARKER, SNIPPETS, make_submission

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not running_as_root(), reason="the uid fallback needs root; "
                                 "without root and bubblewrap the child shares the grader's "
                                 "uid (documented)")]


@pytest.fixture(scope="module")
def fallback_results(tmp_path_factory, repo_root):
    course = Course(repo_root)
    root = tmp_path_factory.mktemp("fallback")
    snippet = (SNIPPETS / "read_reference.py").read_text()
    folders = {"honest": make_submission(root, "honest", course),
               "cheat": make_submission(root, "cheat", course, snippet),
               "control": make_submission(root, "control", course,
                                          snippet.split(CHEAT_MARKER)[0])}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRADER_BWRAP", "")
        with pytest.warns(RuntimeWarning, match="bubblewrap"):
            return {name: grade_submission(course, ASSIGNMENT, folder, hidden=True, timeout=5)
                    for name, folder in folders.items()}


def test_fallback_is_stated_and_grades_honestly(fallback_results):
    honest = fallback_results["honest"]
    assert honest["isolation"].startswith("WEAKER ISOLATION")
    assert "its own uid" in honest["isolation"]
    assert honest["score"] == honest["max_score"] > 0


def test_fallback_keeps_the_reference_unreadable(fallback_results):
    cheat, control = fallback_results["cheat"], fallback_results["control"]
    assert [t["score"] for t in cheat["tests"]] == [t["score"] for t in control["tests"]]
    assert control["score"] < fallback_results["honest"]["score"]

"""`autograder demo` end to end on a copy of the course (release, grade with hidden tests, feedback)."""
import json
import shutil

import pytest

from autograder.cli import main
from autograder.course import Course
from autograder.demo import run_demo
from autograder.errors import UserError
from autograder.mutants import apply_mutant, load_mutants
from autograder.release.pipeline import release_assignment
from tests.support.release import add_submission, tree_bytes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory, repo_root):
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(repo_root / "assignments" / "source", root / "assignments" / "source")
    shutil.copy2(repo_root / "assignments" / "nbgrader_config.py", root / "assignments")
    shutil.copytree(repo_root / "autograder" / "hidden", root / "autograder" / "hidden")
    return Course(root)


@pytest.fixture(scope="module")
def demo_run(course_copy, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    code = main(["--course", str(course_copy.root), "demo", "--out", str(out), "--workers", "2"])
    assert code == 0
    return out


@pytest.mark.parametrize("assignment", ["assignment0", "assignment1", "assignment2"])
def test_demo_grades_complete_full_untouched_zero_buggy_between(demo_run, assignment):
    grades = demo_run / "grades" / assignment
    scores = {name: json.loads((grades / f"{name}.json").read_text())
              for name in ("complete", "untouched", "buggy")}
    lost = [(t["name"], t["status"], t["output"][:300]) for t in scores["complete"]["tests"]
            if t["status"] != "passed"]
    assert scores["complete"]["score"] == scores["complete"]["max_score"] > 0, lost
    assert scores["untouched"]["score"] == 0
    assert 0 < scores["buggy"]["score"] < scores["buggy"]["max_score"]
    hidden_failures = [t for t in scores["buggy"]["tests"]
                       if t["visibility"] == "hidden" and t["status"] != "passed"]
    assert hidden_failures, "the hidden suite must catch the demo's bugs"


@pytest.mark.parametrize("assignment", ["assignment0", "assignment1", "assignment2"])
def test_demo_writes_feedback_pages(demo_run, assignment):
    for name in ("complete", "untouched", "buggy"):
        page = (demo_run / "feedback" / assignment / f"{name}.md").read_text()
        assert page.startswith(f"# Feedback: {assignment} ({name})")


def test_demo_release_has_no_solutions(demo_run):
    released = (demo_run / "course" / "assignments" / "release" / "assignment0" / "nnfs"
                / "warmup.py")
    text = released.read_text()
    assert "### BEGIN SOLUTION" not in text
    assert "raise NotImplementedError" in text


@pytest.mark.parametrize("assignment", ["assignment0", "assignment1", "assignment2"])
def test_every_demo_bug_applies_to_the_reference(course_copy, assignment, tmp_path):
    mutants = load_mutants(course_copy, assignment)
    assert mutants, f"{assignment} has no mutants.json for the demo's buggy submission"
    copy = shutil.copytree(course_copy.source(assignment), tmp_path / assignment)
    for mutant in mutants:
        apply_mutant(copy, mutant)  # raises if the text to replace is gone


def test_demo_never_touches_the_course_folders(course_copy, demo_run):
    """The module's demo ran on this course: nothing of it landed in the course itself, so
    the README's `autograder release assignment1` works right after `make demo`."""
    root = course_copy.nbgrader_root
    assert sorted(p.name for p in root.iterdir()) == ["nbgrader_config.py", "source"]
    assert (demo_run / "course" / "assignments" / "gradebook.db").is_file()


def test_demo_on_a_live_course_keeps_its_release_gradebook_and_submissions(repo_root, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(repo_root / "assignments" / "source" / "assignment0",
                    root / "assignments" / "source" / "assignment0")
    shutil.copy2(repo_root / "assignments" / "nbgrader_config.py", root / "assignments")
    shutil.copytree(repo_root / "autograder" / "hidden" / "assignment0",
                    root / "autograder" / "hidden" / "assignment0")
    course = Course(root)
    release = release_assignment(course, "assignment0")
    (release / "NOTE.txt").write_text("what the students fetched")
    add_submission(course, "ada")
    shutil.copytree(release, course.nbgrader_root / "submitted" / "ada" / "assignment0")
    live = tree_bytes(course.nbgrader_root)

    rows = run_demo(course, tmp_path / "demo", ["assignment0"], workers=1, progress=False)
    assert {row[1] for row in rows} == {"complete", "untouched", "buggy"}
    assert tree_bytes(course.nbgrader_root) == live
    with pytest.raises(UserError, match="inside the course's nbgrader folder"):
        run_demo(course, course.nbgrader_root / "demo", ["assignment0"], workers=1)
    assert tree_bytes(course.nbgrader_root) == live

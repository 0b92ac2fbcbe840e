"""The instructor's nbgrader round trip with the real ``nbgrader autograde``.

A toy course (the course's own ``nbgrader_config.py``, one assignment ``toy`` whose one
notebook has one autograded test cell that passes only in the fast mode) is generated
once; each test works on a copy with two submissions, ada and bob.

* ``nbgrader autograde`` runs notebooks with ``COURSE_FAST=1`` unless ``AUTOGRADE_FULL=1``;
* the scores of ``autograder export gradebook`` survive every order of export and
  autograde (the issue's student went from 44 to 5 points), a TA's manual score too, and
  the formgrader page comes back; ``--remove`` really removes.
"""
import csv
import os
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.exporters.gradebook import AUTOGRADER_NOTEBOOK, SCORES_DIRECTORY
from autograder.release.pipeline import nbgrader_environment
from tests.support.exporter_inputs import make_result, make_test, run_cli, write_results
from tests.support.release import REPO_ROOT, run_nbgrader

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None and os.geteuid() != 0,
                                reason="nbgrader autograde needs the sandbox kernel to run")

ASSIGNMENT = "toy"
COURSE_ID = "roundtrip-tests"
NOTEBOOK_POINTS = 1.0
FAST_CHECK = ('import os\nprint("COURSE_FAST =", os.environ.get("COURSE_FAST"))\n'
              'assert os.environ.get("COURSE_FAST") == "1"\n')
TEST_A = "tests/test_toy.py::test_a"
TEST_B = "tests/test_toy.py::test_b"


def toy_notebook():
    intro = nbformat.v4.new_markdown_cell("# Toy\nOne autograded cell.")
    check = nbformat.v4.new_code_cell(FAST_CHECK)
    check.metadata["nbgrader"] = {"schema_version": 3, "grade": True, "solution": False,
                                  "locked": True, "grade_id": "fast_mode",
                                  "points": NOTEBOOK_POINTS}
    return nbformat.v4.new_notebook(cells=[intro, check], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})


def autograde_env(**extra):
    """nbgrader's environment without the caller's COURSE_FAST: the course config decides."""
    env = {**nbgrader_environment(), "PYTHONWARNINGS": "ignore", **extra}
    env.pop("COURSE_FAST", None)
    env.pop("AUTOGRADE_FULL", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("roundtrip") / "course"
    course = root / "assignments"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(toy_notebook(), str(course / "source" / ASSIGNMENT / "toy.ipynb"))
    config = (REPO_ROOT / "assignments" / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(
        f"{config}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n")
    run_nbgrader(["generate_assignment", ASSIGNMENT], course, autograde_env())
    return root


@pytest.fixture
def root(generated, tmp_path):
    """A copy of the generated course with ada's and bob's submissions (the release)."""
    root = shutil.copytree(generated, tmp_path / "course")
    course = root / "assignments"
    for student in ("ada", "bob"):
        shutil.copytree(course / "release" / ASSIGNMENT, course / "submitted" / student / ASSIGNMENT)
    return root


def autograde(root, *flags, **env):
    return run_nbgrader(["autograde", ASSIGNMENT, *flags], root / "assignments",
                        autograde_env(**env))


def export(monkeypatch, root, tmp_path, scores, name="results"):
    """``autograder export gradebook`` of results giving test_a (3 points) and test_b
    (2 points) these scores: ``{student: (a, b)}``."""
    results = [make_result(student, [make_test(TEST_A, a, 3.0), make_test(TEST_B, b, 2.0)],
                           assignment=ASSIGNMENT)
               for student, (a, b) in scores.items()]
    folder = write_results(tmp_path / name, results)
    assert run_cli(monkeypatch, root, "export", "gradebook", ASSIGNMENT, "--results", folder) == 0


def totals(root):
    """{student: score} of the assignment, as nbgrader computes it."""
    with Gradebook(f"sqlite:///{root / 'assignments' / 'gradebook.db'}",
                   course_id=COURSE_ID) as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        return {s.student.id: s.score for s in assignment.submissions}


def report(root, student):
    return (root / "assignments" / "autograded" / student / ASSIGNMENT
            / f"{AUTOGRADER_NOTEBOOK}.ipynb")


def graded_output(root, student):
    nb = nbformat.read(str(root / "assignments" / "autograded" / student / ASSIGNMENT
                           / "toy.ipynb"), as_version=4)
    return "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for o in cell.outputs)


# ---------------------------------------------------------------- fast mode

def test_autograde_runs_notebooks_in_fast_mode_unless_asked_for_full_size(root):
    done = autograde(root, "--student=ada")
    assert "COURSE_FAST = 1" in graded_output(root, "ada")
    assert totals(root) == {"ada": NOTEBOOK_POINTS}
    assert "COURSE_FAST=1" in done.stdout + done.stderr, "autograde's log says so"

    # the instructor's own COURSE_FAST does not matter; AUTOGRADE_FULL=1 does
    autograde(root, "--student=ada", "--force", AUTOGRADE_FULL="1", COURSE_FAST="1")
    assert "COURSE_FAST = 0" in graded_output(root, "ada")
    assert totals(root) == {"ada": 0.0}


# ---------------------------------------------------------------- points survive

def test_export_then_autograde_keeps_the_autograder_points(root, monkeypatch, tmp_path):
    autograde(root)
    export(monkeypatch, root, tmp_path, {"ada": (3.0, 2.0), "bob": (0.0, 1.0)})
    assert totals(root) == {"ada": 1.0 + 5.0, "bob": 1.0 + 1.0}
    with Gradebook(f"sqlite:///{root / 'assignments' / 'gradebook.db'}",
                   course_id=COURSE_ID) as gradebook:  # a TA's override in formgrader
        grade = gradebook.find_grade(TEST_A, AUTOGRADER_NOTEBOOK, ASSIGNMENT, "bob")
        grade.manual_score = 2.5
        gradebook.db.commit()

    # the order: autograde again after the export (--force regrades everyone and
    # replaces their autograded/ folders)
    autograde(root, "--force")
    assert totals(root) == {"ada": 1.0 + 5.0, "bob": 1.0 + 2.5 + 1.0}
    for student in ("ada", "bob"):
        assert report(root, student).is_file(), "formgrader's page of the tests is back"

    # export again after regrading: the new scores, and they are the ones that survive
    export(monkeypatch, root, tmp_path, {"ada": (1.0, 2.0), "bob": (0.0, 1.0)}, "regraded")
    assert totals(root)["ada"] == 1.0 + 3.0
    autograde(root, "--force")
    assert totals(root) == {"ada": 1.0 + 3.0, "bob": 1.0 + 2.5 + 1.0}
    assert "1 / 3 points" in report(root, "ada").read_text()

    # nbgrader's own export reports the same totals
    run_nbgrader(["export", f"--to={tmp_path / 'grades.csv'}"], root / "assignments",
                 autograde_env())
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert {s: float(r["score"]) for s, r in rows.items()} == {"ada": 4.0, "bob": 4.5}
    assert {float(r["max_score"]) for r in rows.values()} == {1.0 + 5.0}


def test_export_before_the_first_autograde_survives_it(root, monkeypatch, tmp_path):
    export(monkeypatch, root, tmp_path, {"ada": (3.0, 2.0), "bob": (3.0, 0.0)})
    assert totals(root) == {"ada": 5.0, "bob": 3.0}
    # no autograded/ folder yet: nbgrader autograde skips a student whose folder exists
    assert not (root / "assignments" / "autograded" / "ada").exists()
    autograde(root)
    assert totals(root) == {"ada": 1.0 + 5.0, "bob": 1.0 + 3.0}
    assert report(root, "bob").is_file()
    assert "COURSE_FAST = 1" in graded_output(root, "bob"), "bob's notebook was autograded"
    export(monkeypatch, root, tmp_path, {"ada": (3.0, 2.0), "bob": (3.0, 0.0)}, "again")
    assert totals(root) == {"ada": 1.0 + 5.0, "bob": 1.0 + 3.0}


def test_remove_takes_the_points_out_for_good(root, monkeypatch, tmp_path):
    export(monkeypatch, root, tmp_path, {"ada": (3.0, 2.0), "bob": (3.0, 0.0)})
    assert (root / "assignments" / SCORES_DIRECTORY / ASSIGNMENT / "ada.json").is_file()
    assert run_cli(monkeypatch, root, "export", "gradebook", ASSIGNMENT, "--remove") == 0
    assert not (root / "assignments" / SCORES_DIRECTORY / ASSIGNMENT).exists()
    autograde(root, "--student=ada")
    assert totals(root) == {"ada": 1.0, "bob": 0.0}
    assert not report(root, "ada").exists()

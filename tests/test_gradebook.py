"""`autograder export gradebook`: scores land in nbgrader's real SQLite gradebook.

A tiny nbgrader course (one notebook with one autograded test cell worth 1 point) is
generated once with the real `nbgrader generate_assignment`; each test works on a copy.
The end-to-end test reads the scores back with the real `nbgrader export`.
"""
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.course import Course
from autograder.errors import UserError
from autograder.exporters.gradebook import (AUTOGRADER_NOTEBOOK, cell_name, export_to_gradebook,
                                            gradebook_settings, points_per_test)
from autograder.release import nbgrader_environment
from tests.test_exporters_support import (ASSIGNMENT, HIDDEN_GRADIENT, PUBLIC_SOFTMAX,
                                          PUBLIC_SQUARE, make_course, make_result, make_test,
                                          run_cli, sample_results, write_results)

NBGRADER = [sys.executable, "-m", "nbgrader"]
COURSE_ID = "tiny"
NOTEBOOK_POINTS = 1.0  # the test cell of warmup.ipynb


def _nbgrader_notebook():
    """A notebook with a solution cell and an autograded test cell worth 1 point."""
    def cell(make, source, **nbgrader):
        made = make(source)
        made.metadata["nbgrader"] = {"schema_version": 3, "locked": False, "solution": False,
                                     "grade": False, **nbgrader}
        return made

    new_code = nbformat.v4.new_code_cell
    return nbformat.v4.new_notebook(cells=[
        cell(new_code, "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n"
                       "    ### END SOLUTION", solution=True, grade_id="square"),
        cell(new_code, "assert square(3) == 9", grade=True, locked=True, grade_id="test_square",
             points=NOTEBOOK_POINTS),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def _nbgrader(course_root, *args):
    """Run a real nbgrader command in the course's nbgrader root."""
    done = subprocess.run([*NBGRADER, *args], cwd=course_root / "assignments",
                          capture_output=True, text=True, timeout=120,
                          env={**nbgrader_environment(), "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def generated_course(tmp_path_factory):
    """A course whose assignment nbgrader has generated (so its notebook is in the gradebook)."""
    root = make_course(tmp_path_factory.mktemp("generated") / "course")
    nbformat.write(_nbgrader_notebook(),
                   str(root / "assignments" / "source" / ASSIGNMENT / "warmup.ipynb"))
    (root / "assignments" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\n")
    _nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    return root


@pytest.fixture
def course_root(generated_course, tmp_path):
    """A private copy of the generated course."""
    return Path(shutil.copytree(generated_course, tmp_path / "course"))


def _db(course_root):
    return f"sqlite:///{course_root / 'assignments' / 'gradebook.db'}"


def _gradebook(course_root):
    from nbgrader.api import Gradebook
    return Gradebook(_db(course_root), course_id=COURSE_ID)


def _export(course_root, results):
    return export_to_gradebook(results, ASSIGNMENT, _db(course_root), course_id=COURSE_ID,
                               source_notebooks=["warmup"])


def _totals(course_root):
    """{student: (score, max_score)} of the assignment, as nbgrader computes them."""
    with _gradebook(course_root) as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        return {s.student.id: (s.score, assignment.max_score) for s in assignment.submissions}


def test_cli_export_then_nbgrader_export_shows_the_totals(monkeypatch, course_root, tmp_path,
                                                          capsys):
    results = write_results(tmp_path / "out", sample_results())
    status = run_cli(monkeypatch, course_root, "export", "gradebook", ASSIGNMENT,
                     "--results", results)
    assert status == 0, capsys.readouterr().err
    assert "wrote the scores of 3 submission(s)" in capsys.readouterr().err

    _nbgrader(course_root, "export", "--to", str(tmp_path / "grades.csv"))
    rows = {row["student_id"]: row for row in csv.DictReader((tmp_path / "grades.csv").open())}
    tests_max = 2.0 + 1.0 + 3.0
    for result in sample_results():
        row = rows[result["submission"]]
        assert row["assignment"] == ASSIGNMENT
        # no notebook was autograded, so the notebook's cell adds its point to max only
        assert float(row["score"]) == result["score"]
        assert float(row["max_score"]) == tests_max + NOTEBOOK_POINTS


def test_each_test_is_a_grade_cell_of_the_autograder_notebook(course_root):
    _export(course_root, sample_results())
    with _gradebook(course_root) as gradebook:
        notebook = gradebook.find_notebook(AUTOGRADER_NOTEBOOK, ASSIGNMENT)
        cells = {cell.name: (cell.max_score, cell.cell_type) for cell in notebook.grade_cells}
        assert cells == {PUBLIC_SOFTMAX: (2.0, "code"), PUBLIC_SQUARE: (1.0, "code"),
                         HIDDEN_GRADIENT: (3.0, "code")}
        grade = gradebook.find_grade(HIDDEN_GRADIENT, AUTOGRADER_NOTEBOOK, ASSIGNMENT, "bob")
        assert (grade.auto_score, grade.needs_manual_grade) == (0.0, False)
        # the notebook nbgrader generated is untouched
        assert [c.name for c in gradebook.find_notebook("warmup", ASSIGNMENT).grade_cells] == [
            "test_square"]


def test_reexport_updates_scores_but_keeps_a_manual_override(course_root):
    _export(course_root, sample_results())
    with _gradebook(course_root) as gradebook:
        grade = gradebook.find_grade(PUBLIC_SOFTMAX, AUTOGRADER_NOTEBOOK, ASSIGNMENT, "bob")
        grade.manual_score = 1.5  # a TA gave partial credit in formgrader
        gradebook.db.commit()
    regraded = sample_results()
    regraded[0]["tests"][0].update(score=0.0, status="failed")
    regraded[0]["score"] -= 2.0
    _export(course_root, regraded)
    totals = _totals(course_root)
    assert totals["alice"][0] == 4.0
    assert totals["bob"][0] == 1.0 + 1.5


def test_tests_missing_from_the_export_are_removed(course_root, monkeypatch, tmp_path, capsys):
    _export(course_root, sample_results())
    public_only = [make_result(r["submission"], [t for t in r["tests"] if t["visibility"] == "visible"])
                   for r in sample_results()]
    results = write_results(tmp_path / "public", public_only)
    assert run_cli(monkeypatch, course_root, "export", "gradebook", ASSIGNMENT,
                   "--results", results) == 0
    assert f"removed test {HIDDEN_GRADIENT!r}" in capsys.readouterr().err
    totals = _totals(course_root)
    assert totals["alice"] == (3.0, 3.0 + NOTEBOOK_POINTS)


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission
def test_an_existing_submission_gains_the_autograder_notebook(course_root):
    with _gradebook(course_root) as gradebook:  # as `nbgrader collect`/`autograde` leave it
        gradebook.add_student("alice")
        gradebook.add_submission(ASSIGNMENT, "alice", timestamp="2026-11-20 10:00:00 UTC")
    _export(course_root, sample_results()[:1])
    with _gradebook(course_root) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "alice")
        assert sorted(nb.name for nb in submission.notebooks) == [AUTOGRADER_NOTEBOOK, "warmup"]
        assert submission.timestamp.day == 20
        assert submission.score == 6.0


def test_a_test_added_later_gets_grades_for_everyone(course_root):
    first = [make_result("alice", [make_test(PUBLIC_SQUARE, 1.0, 1.0)])]
    _export(course_root, first)
    _export(course_root, [make_result("bob", [make_test(PUBLIC_SQUARE, 1.0, 1.0),
                                              make_test(PUBLIC_SOFTMAX, 2.0, 2.0)])])
    totals = _totals(course_root)
    # alice was not in the second export: she keeps her score, the new test counts 0 for her
    assert totals == {"alice": (1.0, 3.0 + NOTEBOOK_POINTS), "bob": (3.0, 3.0 + NOTEBOOK_POINTS)}


def test_export_before_generate_assignment_is_refused(course_root, monkeypatch, tmp_path, capsys):
    make_course(course_root / "assignment1-checkout", assignment="assignment1")
    shutil.move(course_root / "assignment1-checkout" / "assignments" / "source" / "assignment1",
                course_root / "assignments" / "source" / "assignment1")
    results = write_results(tmp_path / "out", [make_result(
        "alice", [make_test(PUBLIC_SQUARE, 1.0, 1.0)], assignment="assignment1")])
    status = run_cli(monkeypatch, course_root, "export", "gradebook", "assignment1",
                     "--results", results)
    assert status == 2
    err = capsys.readouterr().err
    assert "does not know notebook(s) warmup of assignment1" in err
    assert "autograder release assignment1" in err


def test_a_missing_gradebook_is_not_created(tmp_path, monkeypatch, capsys):
    root = make_course(tmp_path / "course")
    results = write_results(tmp_path / "out", sample_results())
    status = run_cli(monkeypatch, root, "export", "gradebook", ASSIGNMENT, "--results", results)
    assert status == 2
    assert "there is no gradebook at" in capsys.readouterr().err
    assert not (root / "assignments" / "gradebook.db").exists()


def test_conflicting_points_are_refused(course_root):
    results = [make_result("alice", [make_test(PUBLIC_SQUARE, 1.0, 1.0)]),
               make_result("bob", [make_test(PUBLIC_SQUARE, 2.0, 2.0)])]
    with pytest.raises(UserError, match="different versions of the tests"):
        _export(course_root, results)


def test_malformed_result_is_skipped_and_the_rest_exported(course_root, monkeypatch, tmp_path,
                                                           capsys):
    results = write_results(tmp_path / "out", sample_results())
    (results / "mallory.json").write_text("not json")
    assert run_cli(monkeypatch, course_root, "export", "gradebook", ASSIGNMENT,
                   "--results", results) == 1
    assert "mallory.json: not valid JSON" in capsys.readouterr().err
    assert set(_totals(course_root)) == {"alice", "bob", "carol"}


def test_gradebook_settings_follow_nbgrader_config(tmp_path):
    course = Course(make_course(tmp_path / "course"))
    assert gradebook_settings(course) == (
        f"sqlite:///{course.nbgrader_root / 'gradebook.db'}", "default_course")
    (course.nbgrader_root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'cs999'\n"
        "c.CourseDirectory.db_url = 'sqlite:////srv/grades.db'\n")
    assert gradebook_settings(course) == ("sqlite:////srv/grades.db", "cs999")
    (course.nbgrader_root / "nbgrader_config.py").write_text("c = get_config(\n")
    with pytest.raises(UserError, match="cannot read .*nbgrader_config.py"):
        gradebook_settings(course)


def test_cell_names_fit_nbgrader_and_stay_distinct():
    short = "tests/test_warmup.py::test_square"
    assert cell_name(short) == short
    long_a = "tests/test_x.py::test_conv[" + "a" * 150 + "]"
    long_b = "tests/test_x.py::test_conv[" + "a" * 149 + "b]"
    assert len(cell_name(long_a)) <= 128 and cell_name(long_a) != cell_name(long_b)


def test_points_per_test_in_stable_order():
    assert list(points_per_test(sample_results()).items()) == [
        (PUBLIC_SOFTMAX, 2.0), (PUBLIC_SQUARE, 1.0), (HIDDEN_GRADIENT, 3.0)]

"""The real nbgrader workflow on a copy of the course, with a temporary exchange.

One module-scoped run (nbgrader commands are slow to start) drives, as instructor and as
students: ``autograder release`` (generate_assignment inside), ``release_assignment``,
``fetch_assignment``, ``submit``, ``collect``, ``autograde``, ``generate_feedback`` and
``export``; then the tests read its products. Students:

ada  the reference code in nnfs/ and the notebook's solution cells (submitted through
     the exchange) -> full marks on every autograded cell;
bob  the release, untouched -> zero on every autograded cell;
eve  the release with every test cell and the public tests rewritten to pass -> nbgrader
     restores them from the source, so still zero;
wes  reference code whose functions raise NumPy RuntimeWarnings, one reaching stderr
     -> full marks (warnings do not cost points).
"""
import csv
import re
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, IgnorePattern
from nbgrader.utils import determine_grade
from traitlets.config import PyFileConfigLoader

from autograder.release.pipeline import nbgrader_environment
from tests.support.notebooks import cells_by_id, fill_in_reference, read_nb
from tests.support.release import run_nbgrader, shared_release

ASSIGNMENT = "assignment0"
NOTEBOOK = "warmup.ipynb"
COURSE_ID = "nnfs-test"

# wes: a RuntimeWarning through Python's usual route in l2_distances (the notebook's
# setup cell prints it on stdout) and one forced onto stderr in softmax (as if the setup
# cell had been deleted): the second is what nbgrader's IgnorePattern, configured in
# nbgrader_config.py, must forgive.
WARNING_ON_STDOUT = """\
    warnings.simplefilter("always", RuntimeWarning)
    np.exp(np.array([1000.0]))  # overflows: a harmless RuntimeWarning
"""
WARNING_ON_STDERR = """\
    with warnings.catch_warnings():
        warnings.simplefilter("always", RuntimeWarning)
        warnings.showwarning = warnings._showwarning_orig  # straight to stderr
        np.exp(np.array([1000.0]))  # overflows: a harmless RuntimeWarning
"""


def tamper_with_tests(folder):
    nb = read_nb(folder / NOTEBOOK)
    for cell in cells_by_id(nb).values():
        meta = cell.metadata["nbgrader"]
        if meta.get("grade") and not meta.get("solution"):
            cell.source = "pass  # tests? what tests?"
    nbformat.write(nb, str(folder / NOTEBOOK))
    (folder / "tests" / "test_warmup.py").write_text("def test_nothing():\n    pass\n")


def add_warnings(folder):
    path = folder / "nnfs" / "warmup.py"
    text = path.read_text().replace("import numpy as np\n", "import warnings\n\nimport numpy as np\n", 1)
    text = text.replace("    squared_norms_X =", WARNING_ON_STDOUT + "    squared_norms_X =", 1)
    text = text.replace("    shifted = scores -", WARNING_ON_STDERR + "    shifted = scores -", 1)
    assert text.count("np.exp(np.array([1000.0]))") == 2
    path.write_text(text)


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    """Run the whole workflow once; return the paths the tests inspect."""
    course, release = shared_release(tmp_path_factory)
    root = course.nbgrader_root
    scratch = tmp_path_factory.mktemp("nbgrader_workflow")
    exchange, home = scratch / "exchange", scratch / "home"
    home.mkdir()
    env = {**nbgrader_environment(), "NBGRADER_EXCHANGE": str(exchange),
           "NBGRADER_COURSE_ID": COURSE_ID, "HOME": str(home)}
    student_args = ["--course", COURSE_ID, f"--Exchange.root={exchange}"]
    source = course.source(ASSIGNMENT)

    validate = run_nbgrader(["validate", str(source / NOTEBOOK)], root, env)
    run_nbgrader(["release_assignment", ASSIGNMENT], root, env)

    fetched = scratch / "ada_home"
    fetched.mkdir()
    run_nbgrader(["fetch_assignment", ASSIGNMENT, *student_args], fetched, env)
    copy = fetched / ASSIGNMENT
    pristine = scratch / "pristine"
    shutil.copytree(copy, pristine)
    fill_in_reference(copy, source)
    run_nbgrader(["submit", ASSIGNMENT, "--student=ada", *student_args], fetched, env)
    run_nbgrader(["collect", ASSIGNMENT], root, env)

    # The others arrive as a folder of submissions (nbgrader's submitted/ layout).
    submitted = root / "submitted"
    shutil.copytree(pristine, submitted / "bob" / ASSIGNMENT)
    shutil.copytree(pristine, submitted / "eve" / ASSIGNMENT)
    tamper_with_tests(submitted / "eve" / ASSIGNMENT)
    shutil.copytree(pristine, submitted / "wes" / ASSIGNMENT)
    fill_in_reference(submitted / "wes" / ASSIGNMENT, source)
    add_warnings(submitted / "wes" / ASSIGNMENT)
    wes_submitted = scratch / "wes_submitted"
    shutil.copytree(submitted / "wes" / ASSIGNMENT, wes_submitted)

    run_nbgrader(["autograde", ASSIGNMENT], root, env)
    run_nbgrader(["generate_feedback", ASSIGNMENT], root, env)
    run_nbgrader(["export", f"--to={scratch / 'grades.csv'}"], root, env)
    return {"course": course, "root": root, "source": source, "exchange": exchange,
            "fetched": copy, "pristine": pristine, "csv": scratch / "grades.csv",
            "validate": validate.stdout + validate.stderr, "wes_submitted": wes_submitted,
            "db": f"sqlite:///{root / 'gradebook.db'}"}


def cell_scores(workflow, student):
    """grade_id -> (auto_score, max_score, needs_manual_grade) from the gradebook."""
    with Gradebook(workflow["db"], course_id=COURSE_ID) as gb:
        notebook = gb.find_submission_notebook("warmup", ASSIGNMENT, student)
        return {g.name: (g.auto_score, g.max_score, g.needs_manual_grade) for g in notebook.grades}


def autograded_test_cells(workflow):
    nb = read_nb(workflow["source"] / NOTEBOOK)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
            for c in nb.cells if "nbgrader" in c.metadata and c.metadata["nbgrader"].get("grade")
            and c.cell_type == "code"}


def test_validate_is_clean_on_the_source_notebook(workflow):
    assert "Success! Your notebook passes all the tests." in workflow["validate"]


def test_exchange_round_trip_delivers_the_release(workflow):
    fetched = {p.relative_to(workflow["pristine"]).as_posix()
               for p in workflow["pristine"].rglob("*") if p.is_file()}
    release = workflow["course"].release_dir / ASSIGNMENT
    assert fetched == {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert (workflow["root"] / "submitted" / "ada" / ASSIGNMENT / "timestamp.txt").exists()


def test_reference_submission_gets_full_marks(workflow):
    scores = cell_scores(workflow, "ada")
    tests = autograded_test_cells(workflow)
    assert tests and {gid: scores[gid][0] for gid in tests} == tests
    assert scores["inline_answer"][2], "the written answer waits for a human grader"


def test_untouched_release_gets_zero_on_autograded_cells(workflow):
    scores = cell_scores(workflow, "bob")
    assert {gid: scores[gid][0] for gid in autograded_test_cells(workflow)} == \
        dict.fromkeys(autograded_test_cells(workflow), 0)


def test_exclude_overwriting_keeps_the_students_package(workflow):
    autograded = workflow["root"] / "autograded"
    bob = (autograded / "bob" / ASSIGNMENT / "nnfs" / "warmup.py").read_text()
    assert "raise NotImplementedError" in bob and "### BEGIN SOLUTION" not in bob
    ada = (autograded / "ada" / ASSIGNMENT / "nnfs" / "warmup.py").read_text()
    assert ada == (workflow["source"] / "nnfs" / "warmup.py").read_text()


def test_tampered_test_cells_are_restored_and_score_zero(workflow):
    scores = cell_scores(workflow, "eve")
    tests = autograded_test_cells(workflow)
    assert {gid: scores[gid][0] for gid in tests} == dict.fromkeys(tests, 0)
    graded = cells_by_id(read_nb(workflow["root"] / "autograded" / "eve" / ASSIGNMENT / NOTEBOOK))
    source = cells_by_id(read_nb(workflow["source"] / NOTEBOOK))
    for gid in tests:
        assert graded[gid].source == source[gid].source
    public = workflow["root"] / "autograded" / "eve" / ASSIGNMENT / "tests" / "test_warmup.py"
    assert public.read_text() == (workflow["source"] / "tests" / "test_warmup.py").read_text()


def test_runtime_warnings_do_not_cost_points(workflow):
    scores = cell_scores(workflow, "wes")
    tests = autograded_test_cells(workflow)
    assert {gid: scores[gid][0] for gid in tests} == tests


def course_config(workflow):
    return PyFileConfigLoader("nbgrader_config.py", path=str(workflow["root"])).load_config()


def test_why_warnings_need_both_defences(workflow, tmp_path):
    """Execute wes's notebook with nbgrader's own Execute preprocessor, without the
    autograde pipeline: the warning routed by the setup cell lands on stdout and costs
    nothing; the one forced onto stderr would cost the cell its points, and the
    IgnorePattern configured in nbgrader_config.py removes exactly that output."""
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(workflow["wes_submitted"], folder)
    nb = read_nb(folder / NOTEBOOK)
    Execute(timeout=120).preprocess(nb, {"metadata": {"path": str(folder)}})
    cells = cells_by_id(nb)

    l2_test = cells["l2_distances_test"]
    assert any("RuntimeWarning" in o.get("text", "") for o in l2_test.outputs
               if o.output_type == "stream" and o.name == "stdout")
    assert determine_grade(l2_test)[0] == 2

    softmax_test = cells["softmax_test"]
    assert any(o.output_type == "stream" and o.name == "stderr" and "RuntimeWarning" in o.text
               for o in softmax_test.outputs)
    assert determine_grade(softmax_test)[0] == 0, "plain nbgrader fails a cell with stderr"
    ignore = IgnorePattern(config=course_config(workflow))
    assert ignore.enabled
    nb, _ = ignore(nb, {})
    assert determine_grade(cells_by_id(nb)["softmax_test"])[0] == 2


def test_ignore_pattern_keeps_real_errors_failing(workflow):
    ignore = IgnorePattern(config=course_config(workflow))
    cell = nbformat.v4.new_code_cell("assert False", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "t", "points": 1}})
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr",
                               text="/x/warmup.py:3: RuntimeWarning: overflow encountered in exp\n"),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[]),
    ]
    cell, _ = ignore.preprocess_cell(cell, {}, 0)
    assert [o.output_type for o in cell.outputs] == ["error"]
    assert determine_grade(cell)[0] == 0


def test_feedback_is_generated_for_every_student(workflow):
    for student, score in (("ada", "10"), ("bob", "0"), ("eve", "0"), ("wes", "10")):
        page = workflow["root"] / "feedback" / student / ASSIGNMENT / "warmup.html"
        html = page.read_text(encoding="utf-8")
        assert re.search(rf"Score: {score}(\.0)? / 12(\.0)?", html), f"{student}: {page}"


def test_export_csv_has_every_score(workflow):
    with open(workflow["csv"], newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"ada", "bob", "eve", "wes"}
    assert {s: float(rows[s]["score"]) for s in rows} == {"ada": 10.0, "bob": 0.0,
                                                          "eve": 0.0, "wes": 10.0}
    assert {float(row["max_score"]) for row in rows.values()} == {12.0}
    assert all(row["assignment"] == ASSIGNMENT for row in rows.values())

"""Integrity checks of submitted notebooks (autograder.grading.notebooks) against the course's
source notebooks: missing, invalid, truncated, and tampered grade cells."""
import json
import shutil

import pytest

from autograder.course import Course
from autograder.grading.notebooks import check_submission_notebooks, tracked_cells

ASSIGNMENT = "assignment0"
NOTEBOOK = "warmup.ipynb"


@pytest.fixture(scope="module")
def course(repo_root):
    return Course(repo_root)


@pytest.fixture
def submission(course, tmp_path):
    """A submission whose notebook is the source one with the answers filled in: every
    tracked cell is present and the test cells are as released."""
    folder = tmp_path / ASSIGNMENT
    folder.mkdir()
    shutil.copy(course.source(ASSIGNMENT) / NOTEBOOK, folder / NOTEBOOK)
    return folder


def edit_notebook(folder, change):
    path = folder / NOTEBOOK
    nb = json.loads(path.read_text(encoding="utf-8"))
    change(nb)
    path.write_text(json.dumps(nb), encoding="utf-8")


def index_of(nb, grade_id):
    return next(i for i, cell in enumerate(nb["cells"])
                if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def only_finding(course, folder):
    findings = check_submission_notebooks(course, ASSIGNMENT, folder)
    assert [f["notebook"] for f in findings] == [NOTEBOOK]
    return findings[0]


def test_the_warmup_notebook_tracks_tests_answers_solutions_and_setup(course):
    kinds = {cell["grade_id"]: cell["kind"]
             for cell in tracked_cells(course.source(ASSIGNMENT) / NOTEBOOK)}
    assert kinds["softmax_test"] == "test"
    assert kinds["inline_answer"] == "answer"
    assert kinds["nearest_neighbours"] == "solution"
    assert kinds["setup"] == "setup"


def test_intact_notebook_is_ok(course, submission):
    finding = only_finding(course, submission)
    assert finding["status"] == "ok", finding


def test_answers_may_change(course, submission):
    def answer(nb):
        nb["cells"][index_of(nb, "inline_answer")]["source"] = "Because exp(a - m) = exp(a)/exp(m)."
        nb["cells"][index_of(nb, "nearest_neighbours")]["source"] = "nearest = [4, 0, 17]"
        nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "print(1)",
                            "outputs": [], "execution_count": None, "id": "my-own-cell"})
    edit_notebook(submission, answer)
    assert only_finding(course, submission)["status"] == "ok"


def test_missing_notebook(course, tmp_path):
    finding = only_finding(course, tmp_path)
    assert finding["status"] == "missing"
    assert "warmup.ipynb is missing" in finding["message"]


@pytest.mark.parametrize("damage, words", [
    (lambda text: text[: len(text) // 2], "not valid JSON"),
    (lambda text: "", "is empty"),
    (lambda text: json.dumps({"hello": "world"}), "not a notebook"),
    (lambda text: text.replace('"cell_type": "markdown"', '"cell_type": "picture"', 1),
     "not a valid notebook"),
])
def test_invalid_or_truncated_notebook(course, submission, damage, words):
    path = submission / NOTEBOOK
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    finding = only_finding(course, submission)
    assert finding["status"] == "invalid"
    assert words in finding["message"]
    assert "fetch a fresh copy" in finding["message"]


def test_binary_garbage_is_invalid(course, submission):
    (submission / NOTEBOOK).write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert only_finding(course, submission)["status"] == "invalid"


def test_deleted_grade_cell(course, submission):
    edit_notebook(submission, lambda nb: nb["cells"].pop(index_of(nb, "softmax_test")))
    finding = only_finding(course, submission)
    assert finding["status"] == "tampered"
    assert finding["message"] == ("cell 'softmax_test' was deleted; fetch a fresh copy of the "
                                  "notebook and paste your answers in")


def test_duplicated_grade_cell(course, submission):
    def duplicate(nb):
        i = index_of(nb, "standardizer_test")
        copy = json.loads(json.dumps(nb["cells"][i]))
        copy["id"] = "a-copy"
        nb["cells"].insert(i, copy)
    edit_notebook(submission, duplicate)
    finding = only_finding(course, submission)
    assert finding["status"] == "tampered"
    assert "cell 'standardizer_test' appears 2 times" in finding["message"]


def test_retyped_answer_cell(course, submission):
    def retype(nb):
        cell = nb["cells"][index_of(nb, "inline_answer")]
        cell.update({"cell_type": "code", "outputs": [], "execution_count": None})
    edit_notebook(submission, retype)
    finding = only_finding(course, submission)
    assert finding["status"] == "tampered"
    assert finding["message"] == ("cell 'inline_answer' was changed from markdown to code; "
                                  "change its type back to markdown")


def test_edited_test_cell(course, submission):
    def weaken(nb):
        nb["cells"][index_of(nb, "softmax_loss_test")]["source"] = "pass"
    edit_notebook(submission, weaken)
    finding = only_finding(course, submission)
    assert finding["status"] == "tampered"
    assert "test cell 'softmax_loss_test' was edited" in finding["message"]


def test_deleted_setup_cell(course, submission):
    edit_notebook(submission, lambda nb: nb["cells"].pop(index_of(nb, "setup")))
    assert "cell 'setup' was deleted" in only_finding(course, submission)["message"]


def test_every_problem_is_reported(course, submission):
    def several(nb):
        nb["cells"].pop(index_of(nb, "softmax_test"))
        nb["cells"][index_of(nb, "l2_distances_test")]["source"] += "\n# I was here"
    edit_notebook(submission, several)
    message = only_finding(course, submission)["message"]
    assert "'softmax_test' was deleted" in message and "'l2_distances_test' was edited" in message


def test_trailing_whitespace_is_not_tampering(course, submission):
    def reformat(nb):
        cell = nb["cells"][index_of(nb, "softmax_test")]
        source = "".join(cell["source"])
        cell["source"] = "\n".join(line + "  " for line in source.splitlines()) + "\n\n"
    edit_notebook(submission, reformat)
    assert only_finding(course, submission)["status"] == "ok"

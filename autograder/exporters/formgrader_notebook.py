"""The notebook formgrader opens for the autograder's tests of one submission.

formgrader shows a submitted notebook by rendering
``autograded/<student>/<assignment>/<notebook>.ipynb`` with a score box under every grade
cell, matched to the gradebook by the cell's ``grade_id``. The gradebook exporter
gives each test a grade cell of the notebook ``autograder_tests``
(:mod:`autograder.exporters.gradebook`); this module writes that notebook for each
submission, one read-only code cell per test holding its verdict and the grader's
feedback as output, so TAs can read why a test failed and override its score in
formgrader, and ``nbgrader generate_feedback`` hands the same page back to the student.

Test output goes into stream outputs, which nbconvert and formgrader show as escaped text;
the Markdown summary escapes every string it takes from the result. Hidden tests appear as
``hidden test N`` with the grader's sanitised feedback, and their points are counted apart
from the public tests'.
"""
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from autograder.exporters.student_view import (has_hidden, hidden_points, markdown_inline,
                                               one_line, public_points)
from autograder.files import write_atomically
from autograder.result import Result

NBGRADER_SCHEMA_VERSION = 3
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _summary_cell(result: Result) -> nbformat.NotebookNode:
    """The Markdown cell on top. Every string from the result is escaped (formgrader and
    ``nbgrader generate_feedback`` render Markdown with raw HTML allowed), and public and
    hidden tests are counted apart: this page also becomes the student's feedback."""
    public = [t for t in result["tests"] if t.get("visibility") != "hidden"]
    passed = sum(test["status"] == "passed" for test in public)
    score, max_score = public_points(result)
    lines = [f"# Autograder tests: {markdown_inline(result['assignment'])}",
             "",
             f"**Public tests: {score:g} / {max_score:g} points**, {passed} of {len(public)} "
             "passed."]
    if has_hidden(result):
        hidden = [t for t in result["tests"] if t.get("visibility") == "hidden"]
        score, max_score = hidden_points(result)
        lines.append(f"**Hidden tests: {score:g} / {max_score:g} points**, "
                     f"{sum(t['status'] == 'passed' for t in hidden)} of {len(hidden)} passed.")
    lines.append("Student code ran in the autograder's sandbox; each cell below is one test "
                 "(read-only, not meant to be run).")
    if result.get("graded_at"):
        lines.append(f"Graded at {markdown_inline(result['graded_at'])}.")
    for finding in result.get("notebooks") or []:
        if isinstance(finding, dict) and finding.get("status", "ok") != "ok":
            lines.append(f"\n*Notebook check:* {markdown_inline(finding.get('message', ''))}")
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def _test_cell(test: Mapping[str, Any], grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(
        f"# {one_line(test['name'])}\n# {one_line(test['status'])}: {test['score']:g} / "
        f"{test['max_score']:g} points")
    if test.get("output"):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=test["output"])]
    cell.metadata["nbgrader"] = {
        "schema_version": NBGRADER_SCHEMA_VERSION, "grade": True, "solution": False,
        "locked": True, "grade_id": grade_id, "points": test["max_score"],
    }
    cell.metadata.update(editable=False, deletable=False)
    return cell


def autograder_notebook(result: Result, grade_cells: dict[str, tuple[str, float]]) -> nbformat.NotebookNode:
    """The formgrader notebook of one result.

    ``result`` is a checked result; ``grade_cells`` is ``{test name: (grade_id, points)}``
    for every exported test, in order. A test this result lacks gets a cell saying it was not
    run. Returns a valid nbformat 4 notebook.
    """
    by_name = {test["name"]: test for test in result["tests"]}
    cells = [_summary_cell(result)]
    for name, (grade_id, points) in grade_cells.items():
        test = by_name.get(name) or {"name": name, "status": "not run", "score": 0.0,
                                     "max_score": points,
                                     "output": "this test was not run for this submission"}
        cells.append(_test_cell(test, grade_id))
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})


def write_notebook(notebook: nbformat.NotebookNode, path: str | Path) -> None:
    """Validate ``notebook`` and put it at ``path`` (folders created) in one rename.

    ``nbgrader autograde`` makes the files of ``autograded/`` read-only (mode 444): writing
    a new file beside the old one and renaming it over works where opening the old one for
    writing would not.
    """
    nbformat.validate(notebook)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(notebook)
    write_atomically(path, text if text.endswith("\n") else text + "\n", mode=0o644)

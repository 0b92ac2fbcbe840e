"""Integrity of submitted notebooks, checked against the source notebooks' nbgrader cells.

nbgrader identifies the cells it grades by the ``grade_id`` in their metadata. A student
who deletes, duplicates or retypes such a cell, or edits a test cell, breaks grading in
ways that are confusing when found later (nbgrader silently restores edited test cells,
cannot restore deleted ones, and refuses notebooks with duplicated ids). This module
finds those problems up front and says what to do about each.

The cells checked ("tracked") are the grade cells (autograded tests and manually graded
answers), the solution cells, and the locked code cells (setup code the rest relies on).
"""
import json
import re
from collections import Counter
from pathlib import Path

import nbformat

FRESH_COPY = "fetch a fresh copy of the notebook and paste your answers in"
_HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                           re.M | re.S)


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_tracked(cell):
    meta = _nbgrader(cell)
    if not meta.get("grade_id"):
        return False
    return bool(meta.get("grade") or meta.get("solution")
                or (meta.get("locked") and cell.get("cell_type") == "code"))


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _comparable(source):
    """What students receive of a test cell, whitespace-insensitive at line ends."""
    source = _HIDDEN_TESTS.sub("", source)
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def source_notebooks(course, assignment):
    """The notebooks of ``assignment`` as nbgrader sees them (top level of the source)."""
    return sorted(course.source(assignment).glob("*.ipynb"))


def tracked_cells(notebook_path):
    """The tracked cells of a source notebook, in order: a list of dicts with keys
    ``grade_id``, ``cell_type``, ``kind`` (``"test"``, ``"answer"``, ``"solution"`` or
    ``"setup"``) and ``source``."""
    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    cells = []
    for cell in nb.get("cells", []):
        if not _is_tracked(cell):
            continue
        meta = _nbgrader(cell)
        if meta.get("grade") and not meta.get("solution"):
            kind = "test"
        elif meta.get("grade"):
            kind = "answer"
        elif meta.get("solution"):
            kind = "solution"
        else:
            kind = "setup"
        cells.append({"grade_id": meta["grade_id"], "cell_type": cell.get("cell_type"),
                      "kind": kind, "source": _source(cell)})
    return cells


def _load(path):
    """Parse and validate one submitted notebook; return (notebook dict, problem or None)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, "is not a text file; it may be damaged"
    if not text.strip():
        return None, "is empty"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, (f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                      "it was probably cut short or edited outside Jupyter")
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "is JSON but not a notebook (no list of cells)"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for a malformed notebook
        reason = str(getattr(exc, "message", exc)).splitlines()[0][:200]
        return None, f"is not a valid notebook ({reason})"
    return data, None


def _cell_problems(expected, submitted_cells):
    """Messages for one tracked cell of the source compared with the submission."""
    grade_id = expected["grade_id"]
    found = [cell for cell in submitted_cells if _nbgrader(cell).get("grade_id") == grade_id]
    if not found:
        return [f"cell '{grade_id}' was deleted; {FRESH_COPY}"]
    if len(found) > 1:
        return [f"cell '{grade_id}' appears {len(found)} times (a copied cell keeps its "
                f"nbgrader id); delete the copies you made, or {FRESH_COPY}"]
    cell = found[0]
    if cell.get("cell_type") != expected["cell_type"]:
        return [f"cell '{grade_id}' was changed from {expected['cell_type']} to "
                f"{cell.get('cell_type')}; change its type back to {expected['cell_type']}"]
    if expected["kind"] in {"test", "setup"} and \
            _comparable(_source(cell)) != _comparable(expected["source"]):
        what = "test cell" if expected["kind"] == "test" else "read-only cell"
        return [f"{what} '{grade_id}' was edited; grading uses the original, so undo your "
                f"changes (or {FRESH_COPY})"]
    return []


def check_notebook(source_path, submitted_path):
    """Check one submitted notebook against its source; return the finding dict."""
    name = Path(source_path).name
    if not Path(submitted_path).is_file():
        return {"notebook": name, "status": "missing",
                "message": f"{name} is missing from the submission; put it back in the "
                           f"assignment folder (fetch a fresh copy if you lost it) and submit again"}
    data, problem = _load(Path(submitted_path))
    if problem:
        return {"notebook": name, "status": "invalid",
                "message": f"{name} {problem}; if Jupyter cannot open it either, {FRESH_COPY}"}
    expected = tracked_cells(source_path)
    counts = Counter(_nbgrader(cell).get("grade_id") for cell in data["cells"])
    problems = []
    for cell in expected:
        problems += _cell_problems(cell, data["cells"])
    if problems:
        return {"notebook": name, "status": "tampered", "message": "; ".join(problems)}
    checked = sum(1 for cell in expected if counts[cell["grade_id"]])
    return {"notebook": name, "status": "ok",
            "message": f"{name}: all {checked} graded and read-only cells are in place"}


def check_submission_notebooks(course, assignment, submission_dir):
    """Check every notebook of ``assignment`` in a submission.

    Parameters
    ----------
    course : autograder.course.Course
    assignment : str
    submission_dir : str or Path
        The submitted assignment folder (the one holding ``warmup.ipynb``, ``nnfs/``...).

    Returns
    -------
    list of dict
        One per source notebook, in name order: ``{"notebook": "warmup.ipynb",
        "status": "ok" | "missing" | "invalid" | "tampered", "message": str}``; the message
        tells the student what to do.
    """
    submission_dir = Path(submission_dir)
    return [check_notebook(source, submission_dir / source.name)
            for source in source_notebooks(course, assignment)]

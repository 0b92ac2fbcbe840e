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
from collections import defaultdict
import os
from pathlib import Path
from typing import Any

import nbformat

from autograder.course import Course
from autograder.result import NotebookCheck
from autograder.safe_files import NO_DEADLINE, Deadline, TimeLimitExceeded, UnsafeFile, read_regular_file

FRESH_COPY = "fetch a fresh copy of the notebook and paste your answers in"
_BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
_END_HIDDEN = "### END HIDDEN TESTS"
# A submitted notebook is read whole and parsed; past these it is refused before parsing,
# so that the check takes bounded time (the notebooks of this course are well under 5 MB).
MAX_NOTEBOOK_BYTES = 32 * 2**20
MAX_NOTEBOOK_CELLS = 2000
# A tracked cell's kind by (is a grade cell, is a solution cell).
_KINDS = {(True, False): "test", (True, True): "answer", (False, True): "solution",
          (False, False): "setup"}


def _nbgrader(cell: object) -> dict[str, Any]:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def _is_tracked(cell: dict[str, Any]) -> bool:
    meta = _nbgrader(cell)
    return bool(meta.get("grade_id")) and bool(meta.get("grade") or meta.get("solution") or (
        meta.get("locked") and cell.get("cell_type") == "code"))


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _strip_hidden_tests(source: str) -> str:
    """``source`` without its ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` blocks.

    Each BEGIN line (only spaces or tabs before the marker) pairs with the next END line
    after it; the block goes through the END line. A BEGIN with no END after it stays.
    One pass over the lines: a cell with thousands of markers costs linear time (a regular
    expression doing the same backtracks quadratically).
    """
    kept: list[str] = []
    block: list[str] | None = None      # the lines since a BEGIN no END has closed yet
    for line in source.split("\n"):
        marker = line.lstrip(" \t")
        if block is None and marker.startswith(_BEGIN_HIDDEN):
            block = [line]
        elif block is None:
            kept.append(line)
        elif marker.startswith(_END_HIDDEN):
            block = None
        else:
            block.append(line)
    return "\n".join(kept + (block or []))


def _comparable(source: str) -> str:
    """What students receive of a test cell, whitespace-insensitive at line ends."""
    return "\n".join(line.rstrip() for line in _strip_hidden_tests(source).strip().splitlines())


def tracked_cells(notebook_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The tracked cells of a source notebook, in order: a list of dicts with keys
    ``grade_id``, ``cell_type``, ``kind`` (``"test"``, ``"answer"``, ``"solution"`` or
    ``"setup"``) and ``source``."""
    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    cells = []
    for cell in filter(_is_tracked, nb.get("cells", [])):
        meta = _nbgrader(cell)
        cells.append({"grade_id": meta["grade_id"], "cell_type": cell.get("cell_type"),
                      "kind": _KINDS[bool(meta.get("grade")), bool(meta.get("solution"))],
                      "source": _source(cell)})
    return cells


def _structure(data: dict[str, Any]) -> dict[str, Any]:
    """What of a notebook the schema check needs to see: the cells without their outputs
    and attachments, sources as one string. Validating outputs costs ~0.2 ms each (a
    notebook of many tiny outputs took minutes); they decide nothing here, and nbgrader
    clears them when it executes the notebook."""
    cells = []
    for cell in data["cells"]:
        if isinstance(cell, dict):
            cell = dict(cell)
            if isinstance(cell.get("source"), list) and \
                    all(isinstance(line, str) for line in cell["source"]):
                cell["source"] = "".join(cell["source"])
            if isinstance(cell.get("outputs"), list):
                cell["outputs"] = []
            if isinstance(cell.get("attachments"), dict):
                cell["attachments"] = {}
        cells.append(cell)
    return dict(data, cells=cells)


def _load(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Parse and validate one submitted notebook's bytes; return (notebook dict, problem)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "is not a text file; it may be damaged"
    if not text.strip():
        return None, "is empty"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, (f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                      "it was probably cut short or edited outside Jupyter")
    except RecursionError:
        return None, "is not a notebook (its JSON is nested too deeply)"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "is JSON but not a notebook (no list of cells)"
    if len(data["cells"]) > MAX_NOTEBOOK_CELLS:
        return None, f"has {len(data['cells'])} cells (at most {MAX_NOTEBOOK_CELLS} are checked)"
    if data.get("nbformat") != 4:
        return None, f"is not a valid notebook (nbformat {data.get('nbformat')!r}, expected 4)"
    try:
        nbformat.validate(nbformat.from_dict(_structure(data)))
    except Exception as exc:  # nbformat raises several types for a malformed notebook
        reason = str(getattr(exc, "message", exc)).splitlines()[0][:200]
        return None, f"is not a valid notebook ({reason})"
    return data, None


def _cell_problems(expected: dict[str, Any], by_grade_id: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Messages for one tracked cell of the source compared with the submission.

    ``by_grade_id`` maps each grade_id to the submitted cells that carry it.
    """
    grade_id = expected["grade_id"]
    found = by_grade_id.get(grade_id, [])
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


def check_notebook(source_path: str | os.PathLike[str], submitted_path: str | os.PathLike[str],
                   deadline: Deadline = NO_DEADLINE) -> NotebookCheck:
    """Check one submitted notebook against its source; return the finding dict.

    The submitted notebook is read only if it is a regular file (not a symlink, FIFO or
    device) of at most MAX_NOTEBOOK_BYTES; ``deadline`` (:class:`autograder.safe_files.
    Deadline`) bounds the time spent reading it.
    """
    name = Path(source_path).name

    def finding(status: str, message: str) -> NotebookCheck:
        return {"notebook": name, "status": status, "message": message}

    try:
        raw = read_regular_file(submitted_path, MAX_NOTEBOOK_BYTES, deadline)
    except (FileNotFoundError, NotADirectoryError):
        return finding("missing", f"{name} is missing from the submission; put it back in the "
                                  "assignment folder (fetch a fresh copy if you lost it) and submit again")
    except TimeLimitExceeded:
        raise
    except UnsafeFile as exc:
        return finding("invalid", f"{name} was not read: {exc}; submit the notebook as an "
                                  f"ordinary file (or {FRESH_COPY})")
    except OSError as exc:
        return finding("invalid", f"{name} could not be read ({exc.strerror}); {FRESH_COPY}")
    data, problem = _load(raw)
    if data is None:
        return finding("invalid", f"{name} {problem}; if Jupyter cannot open it either, {FRESH_COPY}")
    deadline.check()
    expected = tracked_cells(source_path)
    by_grade_id = defaultdict(list)
    for cell in data["cells"]:
        grade_id = _nbgrader(cell).get("grade_id")
        if isinstance(grade_id, str):
            by_grade_id[grade_id].append(cell)
    problems = []
    for cell in expected:
        deadline.check()
        problems += _cell_problems(cell, by_grade_id)
    if problems:
        return finding("tampered", "; ".join(problems))
    # no problems: every tracked cell was found exactly once
    return finding("ok", f"{name}: all {len(expected)} graded and read-only cells are in place")


def check_submission_notebooks(course: Course, assignment: str, submission_dir: str | os.PathLike[str],
                               deadline: Deadline = NO_DEADLINE) -> list[NotebookCheck]:
    """Check every notebook of ``assignment`` in a submission.

    Parameters
    ----------
    course : autograder.course.Course
    assignment : str
    submission_dir : str or Path
        The submitted assignment folder (the one holding ``warmup.ipynb``, ``nnfs/``...).
    deadline : autograder.safe_files.Deadline, optional
        Raises :class:`autograder.safe_files.TimeLimitExceeded` once it has passed.

    Returns
    -------
    list of dict
        One per source notebook, in name order: ``{"notebook": "warmup.ipynb",
        "status": "ok" | "missing" | "invalid" | "tampered", "message": str}``; the message
        tells the student what to do.
    """
    # the notebooks as nbgrader sees them: the top level of the source
    return [check_notebook(source, Path(submission_dir) / source.name, deadline)
            for source in sorted(course.source(assignment).glob("*.ipynb"))]

"""The manual grades and comments of a student's inline answers, read from nbgrader's gradebook.

TAs grade the inline questions (markdown answers and manually graded code) in formgrader;
nbgrader keeps the points in ``Grade.manual_score`` and the remarks in
``Comment.manual_comment`` of the student's submitted notebooks. The autograder's feedback
pages (:mod:`autograder.exporters.feedback`) show them next to the test results, so a student gets one
page with everything.

Only the gradebook is read (nbgrader's :class:`nbgrader.api.Gradebook`); nothing is
written. Autograded test cells that nobody overrode by hand are left out (nbgrader's own
feedback page shows them), as is the autograder's own ``autograder_tests`` notebook. An
answer is a cell that is both a grade and a solution cell (nbgrader's "manually graded
answer"), in Markdown or code.
"""
from collections.abc import Iterable
from pathlib import Path
from typing import Any

AUTOGRADER_NOTEBOOK = "autograder_tests"
#: One answer: ``notebook, cell, score, max_score, graded, comment`` (:func:`read_manual_grades`).
ManualEntry = dict[str, Any]


def gradebook_url(value: str | Path) -> str:
    """A database URL for ``--gradebook``: a URL as given, a file path as ``sqlite:///``."""
    value = str(value)
    return value if "://" in value else f"sqlite:///{Path(value).expanduser().resolve()}"


def gradebook_exists(db_url: str) -> bool:
    """False for a SQLite URL whose file does not exist (opening it would create it)."""
    return not db_url.startswith("sqlite:///") or Path(db_url.removeprefix("sqlite:///")).is_file()


def read_manual_grades(db_url: str, course_id: str, assignment: str,
                       students: Iterable[str] | None = None) -> dict[str, list[ManualEntry]]:
    """``{student: [entry, ...]}`` for the submissions of ``assignment`` in the gradebook.

    Each entry is a dict ``notebook, cell, score, max_score, graded, comment``:

    * ``score``: the TA's points (``manual_score`` plus extra credit), None when not graded
      yet; ``graded`` says which;
    * ``comment``: the TA's comment on that answer ("" when none).

    A cell with only a comment (a solution cell without points) is listed with
    ``max_score`` None. Students without a submission in the gradebook are left out.

    Parameters
    ----------
    students : iterable of str, optional
        Only these students (default: every student with a submission).
    """
    from nbgrader.api import Gradebook, MissingEntry

    wanted = set(students) if students is not None else None
    found: dict[str, list[ManualEntry]] = {}
    if not gradebook_exists(db_url):
        return found
    with Gradebook(db_url, course_id=course_id) as gradebook:
        try:
            submissions = gradebook.find_assignment(assignment).submissions
        except MissingEntry:
            return found
        for submission in submissions:
            student = submission.student_id
            if wanted is not None and student not in wanted:
                continue
            entries = []
            for notebook in sorted(submission.notebooks, key=lambda n: n.name):
                if notebook.name == AUTOGRADER_NOTEBOOK:
                    continue
                comments = {comment.name: (comment.manual_comment or "").strip()
                            for comment in notebook.comments}
                # answers a TA grades are grade cells that are also solution cells
                answers = {cell.name for cell in notebook.notebook.solution_cells}
                listed = set()
                for grade in sorted(notebook.grades, key=lambda g: g.name):
                    manual = grade.manual_score is not None
                    if grade.name not in answers and not manual:
                        continue            # an autograded test cell: nbgrader's page has it
                    # auto_score: e.g. an unanswered question's 0
                    points = grade.manual_score if manual else grade.auto_score
                    score = None if points is None else points + (grade.extra_credit or 0.0)
                    entries.append({"notebook": notebook.name, "cell": grade.name,
                                    "score": score, "max_score": grade.max_score,
                                    "graded": manual or not grade.needs_manual_grade,
                                    "comment": comments.get(grade.name, "")})
                    listed.add(grade.name)
                for name, text in sorted(comments.items()):
                    if name not in listed and text:
                        entries.append({"notebook": notebook.name, "cell": name,
                                        "score": None, "max_score": None, "graded": True,
                                        "comment": text})
            found[student] = entries
    return found

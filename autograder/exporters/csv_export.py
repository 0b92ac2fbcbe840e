"""Grade sheet: one CSV row per submission with its total and per-test scores.

Columns: ``submission, score, max_score, percent``, the lateness columns ``submitted_at,
due, late_by_seconds, late_penalty`` (:mod:`autograder.grading.lateness`; empty when unknown or no
penalty was applied), then one column per test named as
pytest names it (``tests/test_warmup.py::test_softmax_loss_small``), in the order
:func:`autograder.result.ordered_test_names` gives, so the same results always
give the same columns. A test a submission has no result for leaves its cell empty, which
a spreadsheet tells apart from a 0. Hidden tests are columns ``hidden test N`` (their real names
never leave the grader; ``autograder hidden-tests`` lists them for staff). The sheet is for
staff; ``--public-only`` writes one students may see before the hidden results are
published (public columns, totals over public tests only). A submission name that a
spreadsheet would read as a formula is written with a leading ``'``.
"""
import csv
import io

from autograder.exporters.student_view import public_points
from autograder.result import LATENESS_KEYS, Result, ordered_test_names

FIXED_COLUMNS = ("submission", "score", "max_score", "percent", *LATENESS_KEYS)


def _number(value: float | None) -> str:
    """Write whole numbers without a trailing ``.0`` (``2`` rather than ``2.0``)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def percent(score: float, max_score: float) -> float | None:
    """``100 * score / max_score`` rounded to 2 decimals, or None when max_score is 0."""
    return round(100.0 * score / max_score, 2) if max_score > 0 else None


def _cell(text: object) -> str:
    """A text cell a spreadsheet will not run: a leading ``= + - @`` (or tab/CR) would make
    a student-chosen submission name a formula, so it gets a ``'`` in front."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _lateness_cell(column: str, value: object) -> str:
    """A cell of ``submitted_at, due, late_by_seconds, late_penalty`` ("" when unknown)."""
    if value is None:
        return ""
    if column in ("late_by_seconds", "late_penalty") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return _number(value)
    return _cell(value)


def grade_rows(results: list[Result], public_only: bool = False) -> tuple[list[str], list[list[str]]]:
    """The grade sheet as a header and rows of strings.

    ``results``: checked results of one assignment, sorted by submission. ``public_only``:
    a sheet students may see before the hidden tests are published: only the public tests'
    columns, and score / max_score / percent over the public tests alone.
    """
    if public_only:
        results = [{**result, "tests": [t for t in result["tests"] if t["visibility"] != "hidden"]}
                   for result in results]
    tests = ordered_test_names(results)
    header = [*FIXED_COLUMNS, *tests]
    rows = []
    for result in results:
        scores = {test["name"]: test["score"] for test in result["tests"]}
        if public_only:
            score, max_score = public_points(result)
            if result.get("late_penalty"):
                score = max(0.0, score - result["late_penalty"])
        else:
            score, max_score = result["score"], result["max_score"]
        rows.append([_cell(result["submission"]), _number(score), _number(max_score),
                     _number(percent(score, max_score)),
                     *(_lateness_cell(column, result.get(column)) for column in LATENESS_KEYS),
                     *(_number(scores.get(name)) for name in tests)])
    return header, rows


def csv_text(results: list[Result], public_only: bool = False) -> str:
    """The grade sheet of ``results`` as a string."""
    header, rows = grade_rows(results, public_only)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()

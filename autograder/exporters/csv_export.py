"""Grade sheet: one CSV row per submission with its total and per-test scores.

Columns: ``submission, score, max_score, percent``, then one column per test named as
pytest names it (``tests/test_warmup.py::test_softmax_loss_small``), in the order
:func:`autograder.exporters.results.ordered_test_names` gives, so the same results always
give the same columns. A test a submission has no result for leaves its cell empty, which
a spreadsheet tells apart from a 0.
"""
import csv
import io

from autograder.exporters.results import ordered_test_names, percent

FIXED_COLUMNS = ("submission", "score", "max_score", "percent")


def _number(value):
    """Write whole numbers without a trailing ``.0`` (``2`` rather than ``2.0``)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def grade_rows(results):
    """The grade sheet as a header and rows of strings.

    Parameters
    ----------
    results : list of dict
        Checked results of one assignment, sorted by submission.

    Returns
    -------
    header : list of str
    rows : list of list of str
    """
    tests = ordered_test_names(results)
    header = [*FIXED_COLUMNS, *tests]
    rows = []
    for result in results:
        scores = {test["name"]: test["score"] for test in result["tests"]}
        rows.append([result["submission"], _number(result["score"]), _number(result["max_score"]),
                     _number(percent(result["score"], result["max_score"])),
                     *(_number(scores.get(name)) for name in tests)])
    return header, rows


def write_csv(results, stream):
    """Write the grade sheet of ``results`` to the text stream ``stream``."""
    header, rows = grade_rows(results)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def csv_text(results):
    """The grade sheet of ``results`` as a string."""
    buffer = io.StringIO()
    write_csv(results, buffer)
    return buffer.getvalue()

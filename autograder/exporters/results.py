"""Read and check the per-submission result files that ``autograder grade`` writes.

A results folder holds one ``<submission>.json`` per graded submission in the schema of
docs/ARCHITECTURE.md. Every exporter reads it through :func:`load_results`, which checks
each file, skips the broken ones with a message that names the file, and keeps going:
one truncated file must not stop a grade sheet for two hundred students.

The helpers here have no dependency on the exporters, so the grading engine may use them
too (for example :func:`check_result` before writing a result, or :func:`ordered_test_names` for
its own summary table).
"""
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import UserError

STATUSES = ("passed", "failed", "error", "timeout")
VISIBILITIES = ("visible", "hidden")


class MalformedResult(ValueError):
    """A result file or dict that does not follow the result schema."""


@dataclass
class ResultSet:
    """The results of one assignment read from a results folder.

    Attributes
    ----------
    results : list of dict
        The valid results, sorted by submission name.
    problems : list of str
        One line per file that was skipped, naming the file and what is wrong with it.
    """

    results: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_points(owner, record):
    for key in ("score", "max_score"):
        if not _is_number(record.get(key)):
            raise MalformedResult(f"{owner}: {key!r} must be a finite number, "
                                  f"got {record.get(key)!r}")
    if record["max_score"] < 0 or not 0 <= record["score"] <= record["max_score"]:
        raise MalformedResult(f"{owner}: score {record['score']} is not between 0 and "
                              f"max_score {record['max_score']}")


def check_result(result):
    """Raise :class:`MalformedResult` unless ``result`` follows the result schema.

    Parameters
    ----------
    result : object
        What ``json.load`` returned for one result file.

    Notes
    -----
    Checks the keys and types the exporters rely on: ``submission`` and ``assignment``
    (non-empty strings), ``score`` and ``max_score`` (finite, ``0 <= score <= max_score``)
    and ``tests``, a list of dicts each with a unique ``name``, points like the top level,
    ``status`` in :data:`STATUSES`, ``visibility`` in :data:`VISIBILITIES` and a string
    ``output``. The lateness keys, when present: ``submitted_at`` and ``due`` strings or
    null, ``late_by_seconds`` a number >= 0 or null, ``late_penalty`` a number >= 0. Other
    keys (``fingerprint``, ``graded_at``, ``notebooks``) are allowed.
    """
    if not isinstance(result, dict):
        raise MalformedResult(f"expected a JSON object, got {type(result).__name__}")
    for key in ("submission", "assignment"):
        if not isinstance(result.get(key), str) or not result[key]:
            raise MalformedResult(f"{key!r} must be a non-empty string, got {result.get(key)!r}")
    _check_points("the submission", result)
    for key in ("submitted_at", "due"):
        if result.get(key) is not None and not isinstance(result[key], str):
            raise MalformedResult(f"{key!r} must be a time string or null, got {result[key]!r}")
    for key in ("late_by_seconds", "late_penalty"):
        value = result.get(key)
        if value is not None and not (_is_number(value) and value >= 0):
            raise MalformedResult(f"{key!r} must be a number >= 0 or null, got {value!r}")
    tests = result.get("tests")
    if not isinstance(tests, list):
        raise MalformedResult(f"'tests' must be a list, got {type(tests).__name__}")
    seen = set()
    for index, test in enumerate(tests):
        if not isinstance(test, dict):
            raise MalformedResult(f"tests[{index}] must be an object")
        name = test.get("name")
        if not isinstance(name, str) or not name:
            raise MalformedResult(f"tests[{index}] has no 'name'")
        if name in seen:
            raise MalformedResult(f"test {name!r} appears twice")
        seen.add(name)
        _check_points(f"test {name!r}", test)
        if test.get("status") not in STATUSES:
            raise MalformedResult(f"test {name!r}: status {test.get('status')!r} is not one of "
                                  f"{', '.join(STATUSES)}")
        if test.get("visibility") not in VISIBILITIES:
            raise MalformedResult(f"test {name!r}: visibility {test.get('visibility')!r} is not "
                                  f"one of {', '.join(VISIBILITIES)}")
        if not isinstance(test.get("output", ""), str):
            raise MalformedResult(f"test {name!r}: 'output' must be a string")


def read_result(path):
    """Read one result file and check it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        The result, as in the file.

    Raises
    ------
    MalformedResult
        If the file is not valid JSON or does not follow the schema.
    """
    from autograder.safe_files import UnsafeFile, read_regular_file
    try:
        text = read_regular_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError, UnsafeFile) as exc:
        raise MalformedResult(f"cannot read it ({exc})") from exc
    try:
        result = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedResult(f"not valid JSON ({exc.msg} at line {exc.lineno}); "
                              "it may be truncated: grade this submission again") from exc
    except RecursionError as exc:
        raise MalformedResult("not a result (its JSON is nested too deeply)") from exc
    check_result(result)
    return result


def result_files(results_dir):
    """The result files in ``results_dir``, sorted by name.

    Files whose names start with ``.`` or ``_`` are bookkeeping (temporary files of an
    atomic write, state files), not results.
    """
    return sorted(p for p in Path(results_dir).glob("*.json")
                  if p.is_file() and not p.name.startswith((".", "_")))


def load_results(results_dir, assignment, key=None):
    """Read every result of ``assignment`` in ``results_dir``.

    Parameters
    ----------
    results_dir : str or Path
        The ``--out`` folder of ``autograder grade``.
    assignment : str
        Only results of this assignment are accepted; a result of another assignment is a
        problem (it usually means the wrong folder was given).
    key : bytes, optional
        The results key (default: :func:`autograder.result_signing.load_key`). A result
        whose signature does not match is a problem: the grader did not write it.

    Returns
    -------
    ResultSet

    Raises
    ------
    UserError
        If the folder does not exist or holds no result files at all, or there is no
        usable results key.
    """
    from autograder.result_signing import load_key, verify_result
    results_dir = Path(results_dir)
    grade_hint = f"run `autograder grade {assignment} SUBMISSION... --out {results_dir}` first"
    if not results_dir.is_dir():
        raise UserError(f"results folder {results_dir} does not exist; {grade_hint}")
    files = result_files(results_dir)
    if not files:
        raise UserError(f"results folder {results_dir} holds no <submission>.json files; "
                        f"{grade_hint}")
    key = load_key() if key is None else key
    loaded = ResultSet()
    seen = {}
    for path in files:
        try:
            result = read_result(path)
        except MalformedResult as exc:
            loaded.problems.append(f"{path}: {exc}; skipped")
            continue
        if not verify_result(result, key):
            loaded.problems.append(
                f"{path}: not written by the grader (its signature is missing or wrong: edited, "
                f"planted, or signed with another key); regrade it with `autograder grade "
                f"{assignment} SUBMISSION --force --out {results_dir}`; skipped")
            continue
        if result["assignment"] != assignment:
            loaded.problems.append(f"{path}: a result of {result['assignment']!r}, not of "
                                   f"{assignment!r}; skipped")
            continue
        if result["submission"] in seen:
            loaded.problems.append(f"{path}: submission {result['submission']!r} was already "
                                   f"read from {seen[result['submission']]}; skipped")
            continue
        seen[result["submission"]] = path
        loaded.results.append(result)
    loaded.results.sort(key=lambda r: r["submission"])
    return loaded


def ordered_test_names(results):
    """Every test name in ``results``, in a stable order.

    Parameters
    ----------
    results : list of dict
        Results sorted by submission.

    Returns
    -------
    list of str
        Tests in the order pytest ran them in the first result that has them; a test that
        only later results have comes after the tests of the results before it.
    """
    names = {}
    for result in results:
        for test in result["tests"]:
            names.setdefault(test["name"], None)
    return list(names)


def percent(score, max_score):
    """``100 * score / max_score`` rounded to 2 decimals, or None when max_score is 0."""
    if max_score <= 0:
        return None
    return round(100.0 * score / max_score, 2)

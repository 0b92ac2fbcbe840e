"""The result of grading one submission: its schema, how it is built, checked, read and written.

A result is a plain dict, in memory and as ``OUT/<submission>.json``; the TypedDicts below
give it a type, and :data:`FIELDS` says what each key means and which stage writes it.
``python -m autograder.result --schema`` prints the "Result schema" section of
docs/ARCHITECTURE.md from them (``tests/test_architecture.py`` keeps the page in step).

Every exporter reads results through :func:`load_results`, which checks each file, skips
the broken ones with a message that names the file, and keeps going: one truncated file must
not stop a grade sheet for two hundred students.
"""
import datetime
import json
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from autograder.errors import UserError
from autograder.files import write_atomically
from autograder.result_signing import load_key, sign_result, verify_result
from autograder.safe_files import UnsafeFile, read_regular_file

STATUSES = ("passed", "failed", "error", "timeout")
VISIBILITIES = ("visible", "hidden")
NOTEBOOK_STATUSES = ("ok", "missing", "invalid", "tampered")
LATENESS_KEYS = ("submitted_at", "due", "late_by_seconds", "late_penalty")     # the summary's and sheet's columns too


class TestOutcome(TypedDict):
    """One test of a result (``tests[]``)."""

    name: str
    score: float
    max_score: float
    status: str
    visibility: str
    output: str


class NotebookCheck(TypedDict):
    """One finding of the notebook check (``notebooks[]``)."""

    notebook: str
    status: str
    message: str


class _GradedResult(TypedDict):
    submission: str
    assignment: str
    score: float
    max_score: float
    tests: list[TestOutcome]
    fingerprint: str | None
    graded_at: str | None
    notebooks: list[NotebookCheck]
    isolation: str | None


class Result(_GradedResult, total=False):
    """A result: the keys of :func:`new_result`, then those some results have."""

    error: str
    grader_errors: list[str]
    submitted_at: str | None
    due: str | None
    late_by_seconds: float | None
    late_penalty: float
    signature: str


P, S, B = "pytest_plugin", "submission", "batch"
_OR = " or ".join
#: key -> (JSON type, the module of autograder.grading that writes it, what it means)
FIELDS: dict[str, tuple[str, str, str]] = {
    "submission": ("string", S, "the submission's name (`submission_name`; `batch` adds `-2`, `-3` to repeats)"),
    "assignment": ("string", S, "the assignment graded"),
    "score": ("number", S, "the tests' scores summed (`total_points`); 0 with `late_penalty` or when no test ran"),
    "max_score": ("number", S, "the tests' `max_score` summed"),
    "tests": ("list", S, "one object per test, collection order, public tests first (`tests[].*`)"),
    "tests[].name": ("string", P, "`tests/test_x.py::test_y` as pytest names it; a hidden test only `hidden test N`"),
    "tests[].score": ("number", P, "`max_score` if passed, else 0"),
    "tests[].max_score": ("number", P, "`@pytest.mark.points(n)`, default 1"),
    "tests[].status": ("string", P, _OR(f"`{s}`" for s in STATUSES) + "; `error` for a test that never reported"),
    "tests[].visibility": ("string", P, _OR(f"`{v}`" for v in VISIBILITIES)),
    "tests[].output": ("string", P, "student-safe feedback; `this test did not run: ...` (`batch.NOT_RUN_PREFIX`)"),
    "fingerprint": ("string or null", S, "sha256 of all the result depends on; null: the submission was unreadable"),
    "graded_at": ("string or null", S, "ISO 8601 UTC, seconds; null when the grader itself failed"),
    "notebooks": ("list", S, "findings of the notebook check (`grading.notebooks`; `notebooks[].*`)"),
    "notebooks[].notebook": ("string", S, "the notebook's file name; `*` when the check could not run"),
    "notebooks[].status": ("string", S, _OR(f"`{s}`" for s in NOTEBOOK_STATUSES)),
    "notebooks[].message": ("string", S, "what is wrong, for the student"),
    "isolation": ("string or null", S, "how student code was confined (`Confinement.description`); null when "
                  "the grading process never finished"),
    "error": ("string", S, "grading failed as a whole: unusable submission, no test ran, the total time limit, or "
              "(`batch`) `the grader failed on this submission` and the traceback"),
    "grader_errors": ("list of strings", S, "the grader's problems (collect errors, sandbox failures), at most 5"),
    "submitted_at": ("string or null", B, "nbgrader's `timestamp.txt`, ISO 8601 UTC; null for a zip or none"),
    "due": ("string or null", B, "`--due`, or the gradebook's due date plus the student's extension"),
    "late_by_seconds": ("number or null", B, "`max(0, submitted_at - due)`; null when either is unknown"),
    "late_penalty": ("number", B, "the points `--late-penalty zero` took from a late submission"),
    "signature": ("string", B, "`hmac-sha256:<hex>` of every other key (`result_signing`)"),
}

EXAMPLE: Result = {
    "submission": "alice", "assignment": "assignment0", "score": 2.0, "max_score": 3.0,
    "tests": [{"name": "tests/test_warmup.py::test_softmax_loss_small", "score": 2.0, "max_score": 2.0,
               "status": "passed", "visibility": "visible", "output": ""},
              {"name": "hidden test 1", "score": 0.0, "max_score": 1.0, "status": "failed",
               "visibility": "hidden", "output": "softmax on large scores: your result is not what the test expects"}],
    "fingerprint": "<sha256 hex>", "graded_at": "2026-12-01T10:05:00+00:00",
    "notebooks": [{"notebook": "warmup.ipynb", "status": "ok", "message": ""}],
    "isolation": "bubblewrap: ...", "submitted_at": "2026-12-01T10:00:00+00:00",
    "due": "2026-11-30T23:59:00+00:00", "late_by_seconds": 36060.0, "signature": "hmac-sha256:<hex>"}


def schema_markdown() -> str:
    """The generated part of docs/ARCHITECTURE.md's "Result schema": an example and the field table."""
    optional = set(Result.__optional_keys__)
    rows = [f"| `{key}` | {kind}{', may be absent' * (key in optional)} | `{writer}` | {meaning} |"
            for key, (kind, writer, meaning) in FIELDS.items()]
    example = ",\n ".join(f"{json.dumps(key)}: " + ("[" + ",\n  ".join(map(json.dumps, value)) + "]"
                                                    if isinstance(value, list) else json.dumps(value))
                           for key, value in EXAMPLE.items())
    return "\n".join(["```json", "{" + example + "}", "```", "",
                      "| key | type | written by (`autograder.grading.*`) | meaning |", "|---|---|---|---|", *rows])


# -- building -------------------------------------------------------------------------------
def now() -> str:
    """The current time as a result records it (ISO 8601 UTC, seconds)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def new_result(submission: str, assignment: str) -> Result:
    """A result before grading (no tests, 0 of 0): every field but ``error``."""
    return {"submission": submission, "assignment": assignment, "score": 0.0, "max_score": 0.0,
            "tests": [], "fingerprint": None, "graded_at": None, "notebooks": [], "isolation": None}


def failed(result: Result, message: str, *, graded: bool = True) -> Result:
    """``result`` (changed in place) of a grading that failed as a whole: ``error`` says why;
    ``graded_at`` is now, or null when the grader itself failed (``graded=False``)."""
    result["error"] = message
    result["graded_at"] = now() if graded else None
    return result


def total_points(tests: Iterable[object], key: Literal["score", "max_score"] = "score") -> float:
    """The sum of the tests' ``key``, rounded to 6 places (non-dict entries of a stored result count 0)."""
    return round(sum(float(test.get(key) or 0.0) for test in tests if isinstance(test, dict)), 6)


# -- checking and reading -------------------------------------------------------------------
class MalformedResult(ValueError):
    """A result file or dict that does not follow the result schema."""


@dataclass
class ResultSet:
    """The results of one assignment read from a results folder (:func:`load_results`)."""

    results: list[Result] = field(default_factory=list)     # the valid ones, sorted by submission
    problems: list[str] = field(default_factory=list)       # one line per file skipped: which, and why


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_points(owner: str, record: Mapping[str, Any]) -> None:
    for key in ("score", "max_score"):
        if not _is_number(record.get(key)):
            raise MalformedResult(f"{owner}: {key!r} must be a finite number, got {record.get(key)!r}")
    if record["max_score"] < 0 or not 0 <= record["score"] <= record["max_score"]:
        raise MalformedResult(f"{owner}: score {record['score']} is not between 0 and "
                              f"max_score {record['max_score']}")


def check_result(result: object) -> Result:
    """``result`` itself, typed, unless it does not follow the result schema.

    ``result`` is what ``json.load`` returned for one result file.

    Raises
    ------
    MalformedResult
        Unless ``submission`` and ``assignment`` are non-empty strings, ``score`` and
        ``max_score`` finite with ``0 <= score <= max_score``, and ``tests`` a list of dicts
        each with a unique ``name``, points like the top level, ``status`` in
        :data:`STATUSES`, ``visibility`` in :data:`VISIBILITIES` and a string ``output``;
        the lateness keys, when present: ``submitted_at`` and ``due`` strings or null,
        ``late_by_seconds`` a number >= 0 or null, ``late_penalty`` a number >= 0. Other keys
        (``fingerprint``, ``graded_at``, ``notebooks``) are not checked.
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
        for key, allowed in (("status", STATUSES), ("visibility", VISIBILITIES)):
            if test.get(key) not in allowed:
                raise MalformedResult(f"test {name!r}: {key} {test.get(key)!r} is not one of {', '.join(allowed)}")
        if not isinstance(test.get("output", ""), str):
            raise MalformedResult(f"test {name!r}: 'output' must be a string")
    return cast(Result, result)


def read_result(path: str | Path) -> Result:
    """Read one result file and check it (:func:`check_result`).

    Raises
    ------
    MalformedResult
        If the file is not a readable regular file, not valid JSON or not a result.
    """
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
    return check_result(result)


def load_results(results_dir: str | Path, assignment: str, key: bytes | None = None) -> ResultSet:
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
    results_dir = Path(results_dir)
    grade_hint = f"run `autograder grade {assignment} SUBMISSION... --out {results_dir}` first"
    if not results_dir.is_dir():
        raise UserError(f"results folder {results_dir} does not exist; {grade_hint}")
    # names starting with . or _ are bookkeeping (an atomic write's temporary files, state files)
    files = sorted(p for p in results_dir.glob("*.json")
                   if p.is_file() and not p.name.startswith((".", "_")))
    if not files:
        raise UserError(f"results folder {results_dir} holds no <submission>.json files; "
                        f"{grade_hint}")
    key = load_key() if key is None else key
    loaded = ResultSet()
    seen: dict[str, Path] = {}
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
        elif result["assignment"] != assignment:
            loaded.problems.append(f"{path}: a result of {result['assignment']!r}, not of "
                                   f"{assignment!r}; skipped")
        elif result["submission"] in seen:
            loaded.problems.append(f"{path}: submission {result['submission']!r} was already "
                                   f"read from {seen[result['submission']]}; skipped")
        else:
            seen[result["submission"]] = path
            loaded.results.append(result)
    loaded.results.sort(key=lambda r: r["submission"])
    return loaded


def ordered_test_names(results: Iterable[Result]) -> list[str]:
    """Every test name in ``results`` (sorted by submission): in the order pytest ran them in
    the first result that has them; a test only later results have comes after the tests of
    the results before it."""
    return list(dict.fromkeys(test["name"] for result in results for test in result["tests"]))


# -- writing --------------------------------------------------------------------------------
def write_json_atomically(path: str | Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` whole or not at all (``files.write_atomically``)."""
    write_atomically(path, json.dumps(data, indent=1))


def write_result(path: str | Path, result: Result, key: bytes) -> Result:
    """Sign ``result`` with ``key`` (:mod:`autograder.result_signing`), write it to ``path``
    atomically and return the signed result."""
    signed = cast(Result, sign_result(dict(result), key))
    write_json_atomically(path, signed)
    return signed


if __name__ == "__main__":
    if sys.argv[1:] != ["--schema"]:
        sys.exit("usage: python -m autograder.result --schema")
    print(schema_markdown())

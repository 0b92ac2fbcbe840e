"""``autograder hidden-tests ASSIGNMENT``: which hidden test is "hidden test 7".

Results, feedback pages and every export name a hidden test only by its number (``hidden
test 7``) and show its docstring's first line, so that nothing a student sees names a
hidden file or test. The numbers are the order in which pytest collects the hidden suite
(:func:`autograder.grading.pytest_plugin.hidden_test_numbers`), the same for every submission
graded with the same suite. This command rebuilds that list for the instructor by
collecting the suite (no student code runs) and prints it, or writes it as JSON with
``--to``. Keep that file with the course staff: it is never written next to the results,
and no exporter reads it.
"""
import argparse
import io
import json
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.course import Course
from autograder.errors import UserError

if TYPE_CHECKING:
    import pytest


class _Collector:
    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: "pytest.Session") -> None:
        self.items = list(session.items)


def hidden_test_index(course: Course, assignment: str) -> list[dict[str, Any]]:
    """The hidden suite of ``assignment`` as a list of dicts, in number order.

    Each dict: ``name`` (``hidden test <n>``, as in results), ``test`` (``file::test[id]``
    relative to the suite), ``description`` (the docstring's first line, what students
    see) and ``points``.

    Raises
    ------
    UserError
        The assignment has no hidden suite, or it does not collect.
    """
    import pytest

    from autograder.grading.pytest_plugin import hidden_test_name, hidden_test_numbers, points_of

    suite = course.hidden_tests(assignment)
    if not suite.is_dir() or not any(suite.glob("test_*.py")):
        raise UserError(f"{assignment} has no hidden suite ({suite} holds no test_*.py files)")
    collector = _Collector()
    log = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="autograder-hidden-index-") as folder:
        ini = Path(folder) / "pytest.ini"     # so that no pytest settings of the course apply
        ini.write_text("[pytest]\n", encoding="utf-8")
        with redirect_stdout(log):
            code = pytest.main(["--collect-only", "-q", "-p", "autograder.grading.pytest_plugin",
                                "-p", "no:cacheprovider", "--import-mode=importlib",
                                "--rootdir", str(suite), "-c", str(ini), str(suite)],
                               plugins=[collector])
    if code not in (0, 5) or not collector.items:
        raise UserError(f"the hidden suite of {assignment} does not collect:\n"
                        f"{log.getvalue()[-3000:]}")
    numbers = hidden_test_numbers(collector.items, suite)
    index = []
    for item in collector.items:
        if item.nodeid not in numbers:
            continue
        path = Path(str(item.path)).resolve().relative_to(suite.resolve()).as_posix()
        test = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
        doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
        index.append({"name": hidden_test_name(numbers[item.nodeid]),
                      "test": f"{path}::{test}",
                      "description": doc.splitlines()[0] if doc else "",
                      "points": points_of(item)})
    return index


def add_cli(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "hidden-tests",
        help="list which hidden test each 'hidden test N' is (for course staff only)",
        description="Print the instructor's private list of the hidden suite: the number "
                    "results and feedback use, the test it stands for, and its points.")
    parser.add_argument("assignment", metavar="ASSIGNMENT")
    parser.add_argument("--to", type=Path, default=None, metavar="FILE",
                        help="write the list as JSON to FILE instead of printing a table")
    parser.set_defaults(func=run_cli)


def run_cli(args: argparse.Namespace, course: Course) -> int:
    course.source(args.assignment)  # an unknown assignment is a UserError
    index = hidden_test_index(course, args.assignment)
    if args.to is not None:
        args.to.parent.mkdir(parents=True, exist_ok=True)
        args.to.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {len(index)} hidden tests of {args.assignment} to {args.to} (keep it "
              "with the course staff)", file=sys.stderr)
        return 0
    width = max(len(entry["name"]) for entry in index)
    for entry in index:
        print(f"{entry['name']:<{width}}  {entry['points']:g} pt  {entry['test']}  "
              f"-- {entry['description']}")
    return 0


def with_test_names(result: dict[str, Any], index: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of ``result`` in which hidden tests carry their real names, for course staff.

    ``hidden test 7`` becomes ``hidden/<file>::<test>`` (as in ``index``, from
    :func:`hidden_test_index`). Never hand such a copy to students or an exporter.
    """
    real = {entry["name"]: f"hidden/{entry['test']}" for entry in index}
    return dict(result, tests=[dict(test, name=real.get(test["name"], test["name"]))
                               if test.get("visibility") == "hidden" else test
                               for test in result.get("tests", [])])

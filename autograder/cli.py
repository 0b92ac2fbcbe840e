"""The ``autograder`` command line.

Each sub-command lives in its own module, which registers itself through
``add_cli(subparsers)`` and sets ``func(args, course) -> int``. Modules import their heavy
dependencies (nbgrader, dask, ...) inside functions so that ``autograder --help`` is quick.
"""
import argparse
import importlib
import sys
from pathlib import Path

from autograder.course import Course, CourseNotFound, find_course
from autograder.errors import UserError

COMMAND_MODULES = (
    "autograder.release.pipeline",
    "autograder.grading.batch",
    "autograder.exporters",
    "autograder.exporters.feedback",
    "autograder.grading.private_index",
    "autograder.demo",
    "autograder.grading.kernelspec",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Release, grade and export the course's assignments. Student code runs "
                    "in a sandboxed child process; tests and verdicts stay in the grader.")
    parser.add_argument("--course", type=Path, default=None,
                        help="course checkout (default: $COURSE_ROOT, the current directory "
                             "or its parents, else the checkout the autograder came from)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        course = Course(args.course.resolve()) if args.course else find_course()
        return int(args.func(args, course) or 0)
    except (UserError, CourseNotFound) as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograder: interrupted; results written so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

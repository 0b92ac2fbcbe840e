"""``autograder export``: grade sheets, Gradescope autograders and the nbgrader gradebook.

* ``export csv ASSIGNMENT --results DIR [--to FILE]``: one row per submission
  (:mod:`~autograder.exporters.csv_export`).
* ``export gradescope ASSIGNMENT [--hidden] [--to ZIP]``: an autograder zip for Gradescope
  (:mod:`~autograder.gradescope.build`).
* ``export gradebook ASSIGNMENT --results DIR [--db URL]``: scores into nbgrader's
  gradebook, plus a per-student test report formgrader opens
  (:mod:`~autograder.exporters.gradebook`); ``--remove`` takes them out again.

``csv`` and ``gradebook`` read the ``<submission>.json`` files ``autograder grade`` wrote
(:func:`autograder.result.load_results`). A malformed file is named on stderr and skipped,
the export goes on with the others, and the command exits with status 1.
"""
import argparse
import sys
from pathlib import Path

from autograder.course import Course
from autograder.errors import UserError
from autograder.result import ResultSet, load_results

EXIT_SKIPPED_RESULTS = 1
RESULTS_HELP = "the --out folder of `autograder grade` (its <submission>.json files)"


def _require_assignment(course: Course, assignment: str) -> Path:
    try:
        return course.source(assignment)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def _load(args: argparse.Namespace, course: Course) -> tuple[Path, ResultSet]:
    """The instructor's folder of ``args.assignment`` and its results; print the skipped
    files to stderr."""
    source = _require_assignment(course, args.assignment)
    loaded = load_results(args.results, args.assignment)
    for problem in loaded.problems:
        print(f"autograder export: {problem}", file=sys.stderr)
    if not loaded.results:
        raise UserError(f"none of the result files in {args.results} could be used "
                        "(see the messages above)")
    return source, loaded


def _finish(loaded: ResultSet, done: str) -> int:
    print(done, file=sys.stderr)
    if loaded.problems:
        print(f"autograder export: {len(loaded.problems)} result file(s) skipped; "
              "fix or regrade them and export again", file=sys.stderr)
        return EXIT_SKIPPED_RESULTS
    return 0


def run_csv(args: argparse.Namespace, course: Course) -> int:
    from autograder.exporters.csv_export import csv_text

    _, loaded = _load(args, course)
    text = csv_text(loaded.results, public_only=args.public_only)
    if str(args.to) == "-":
        sys.stdout.write(text)
        where = "stdout"
    else:
        args.to.parent.mkdir(parents=True, exist_ok=True)
        args.to.write_text(text, encoding="utf-8")
        where = str(args.to)
    return _finish(loaded, f"wrote {len(loaded.results)} submission(s) to {where}")


def run_gradescope(args: argparse.Namespace, course: Course) -> int:
    from autograder.gradescope.build import build_autograder_zip

    to = args.to or Path(f"{args.assignment}-gradescope{'-hidden' if args.hidden else ''}.zip")
    build_autograder_zip(course, args.assignment, to, hidden=args.hidden,
                         hidden_visibility=args.hidden_visibility, timeout=args.timeout)
    print(f"wrote {to}: upload it as the Gradescope assignment's autograder "
          "(Configure Autograder > Zip file upload)", file=sys.stderr)
    return 0


def run_gradebook(args: argparse.Namespace, course: Course) -> int:
    from autograder.exporters.gradebook import (export_to_gradebook, gradebook_settings,
                                                remove_from_gradebook)

    settings = gradebook_settings(course)
    db_url = args.db or settings.db_url
    if args.remove:
        _require_assignment(course, args.assignment)
        count = remove_from_gradebook(args.assignment, db_url, settings.course_id,
                                      settings.autograded_root, settings.scores_root)
        print(f"removed the autograder's scores of {args.assignment} for {count} student(s) "
              f"from {db_url}", file=sys.stderr)
        return 0
    if args.results is None:
        raise UserError("export gradebook needs --results DIR (the --out folder of "
                        "`autograder grade`), or --remove")
    source, loaded = _load(args, course)
    removed = export_to_gradebook(loaded.results, args.assignment, db_url,
                                  course_id=settings.course_id,
                                  source_notebooks=[p.stem for p in sorted(source.glob("*.ipynb"))],
                                  autograded_root=settings.autograded_root,
                                  scores_root=settings.scores_root,
                                  submitted_root=settings.submitted_root)
    for name in removed:
        print(f"autograder export: removed test {name!r} from the gradebook: it is not in these "
              "results", file=sys.stderr)
    return _finish(loaded, f"wrote the scores of {len(loaded.results)} submission(s) to "
                           f"{db_url}, and their test reports for formgrader to "
                           f"{settings.autograded_root}/<student>/{args.assignment}/")


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``autograder export`` and its three formats."""
    from autograder.gradescope.build import DEFAULT_HIDDEN_VISIBILITY, GRADESCOPE_VISIBILITIES

    export = subparsers.add_parser(
        "export", help="export grades (CSV, nbgrader gradebook) or a Gradescope autograder",
        description="Export graded results, or build a Gradescope autograder zip.")
    formats = export.add_subparsers(dest="format", metavar="FORMAT")
    formats.required = True

    csv_parser = formats.add_parser(
        "csv", help="one row per submission: total, percent and per-test scores",
        description="Write a grade sheet: submission, score, max_score, percent, then one "
                    "column per test.")
    csv_parser.add_argument("assignment", metavar="ASSIGNMENT")
    csv_parser.add_argument("--results", type=Path, required=True, metavar="DIR", help=RESULTS_HELP)
    csv_parser.add_argument("--to", type=Path, default="-", metavar="FILE",
                            help="the CSV file to write (default: standard output)")
    csv_parser.add_argument("--public-only", action="store_true",
                            help="a sheet students may see before hidden results are published: "
                                 "public test columns only, totals over public tests")
    csv_parser.set_defaults(func=run_csv)

    gs_parser = formats.add_parser(
        "gradescope", help="build a Gradescope autograder zip (setup.sh + run_autograder)",
        description="Build a self-contained Gradescope autograder zip that grades uploads with "
                    "the sandboxed grader and writes results.json.")
    gs_parser.add_argument("assignment", metavar="ASSIGNMENT")
    gs_parser.add_argument("--hidden", action="store_true",
                           help="ship and run the hidden tests too")
    gs_parser.add_argument("--hidden-visibility", choices=GRADESCOPE_VISIBILITIES,
                           default=DEFAULT_HIDDEN_VISIBILITY,
                           help="when students see hidden tests' results "
                                f"(default: {DEFAULT_HIDDEN_VISIBILITY})")
    gs_parser.add_argument("--timeout", type=float, metavar="SECONDS",
                           help="per-test time limit (default: the grader's)")
    gs_parser.add_argument("--to", type=Path, default=None, metavar="ZIP",
                           help="the zip to write (default: ASSIGNMENT-gradescope[-hidden].zip)")
    gs_parser.set_defaults(func=run_gradescope)

    gb_parser = formats.add_parser(
        "gradebook", help="write scores into nbgrader's gradebook",
        description="Write each test's score into nbgrader's gradebook (as the notebook "
                    "'autograder_tests'), so that `nbgrader export` and formgrader show them.")
    gb_parser.add_argument("assignment", metavar="ASSIGNMENT")
    gb_parser.add_argument("--results", type=Path, default=None, metavar="DIR", help=RESULTS_HELP)
    gb_parser.add_argument("--remove", action="store_true",
                           help="take the autograder's scores of ASSIGNMENT out of the gradebook "
                                "instead (needed before nbgrader generate_assignment can run "
                                "again once submissions exist)")
    gb_parser.add_argument("--db", default=None, metavar="URL",
                           help="gradebook database URL (default: the course's, from "
                                "nbgrader_config.py, else assignments/gradebook.db)")
    gb_parser.set_defaults(func=run_gradebook)

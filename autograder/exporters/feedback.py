"""Turn grading results into feedback a student can read.

``autograder feedback ASSIGNMENT --results DIR`` writes one Markdown and one HTML page per
``DIR/<submission>.json`` into ``DIR/feedback/``. With ``--nbgrader`` the pages go into
nbgrader's feedback layout instead, ``<course>/feedback/<student>/<assignment>/autograder.html``
(and ``.md``), and the same section is inserted into every page ``nbgrader generate_feedback``
wrote there (``<notebook>.html``), between ``<!-- autograder feedback -->`` markers that a
re-run replaces: ``nbgrader release_feedback`` hands those pages back and students'
``nbgrader fetch_feedback`` fetches them (it fetches only pages named after a submitted
notebook, hence the insertion). Each page also shows when the submission came in and how
late it was (:mod:`autograder.grading.lateness`), and, when the course's gradebook (or
``--gradebook``) has them, the TAs' manual grades and comments on the inline answers
(:mod:`autograder.exporters.manual_grades`).

The pages only show what the result already
holds for the student: hidden tests are named ``hidden test N`` and their ``output`` was
sanitised by the grader (the docstring's first line and what went wrong in the grader's words,
never the test code, inputs, expected values or the student's exception text). Every string is
escaped for HTML or Markdown; the score lines show public and hidden tests apart, and the total
only with ``--published``.
"""
import argparse
import html
import re
import sys
from pathlib import Path

from autograder.course import Course
from autograder.errors import UserError
from autograder.exporters.manual_grades import ManualEntry
from autograder.files import write_atomically
from autograder.grading.lateness import describe_lateness
from autograder.result import Result, TestOutcome, load_results
from autograder.exporters.student_view import (has_hidden, hidden_points, markdown_code_block,
                                               markdown_inline, public_points)

STATUS_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}


def _status(test: TestOutcome) -> str:
    return STATUS_MARK.get(test["status"], "?")


def _table(tests: list[TestOutcome]) -> list[str]:
    return ["| test | points | result |", "|---|---|---|",
            *(f"| {markdown_inline(test['name'])} | {test['score']:g} / {test['max_score']:g} | {_status(test)} |"
              for test in tests)]


def _manual_score(entry: ManualEntry) -> str:
    if entry["max_score"] is None:
        return "comment"
    if entry["score"] is None:
        return f"not graded yet / {entry['max_score']:g}"
    return f"{entry['score']:g} / {entry['max_score']:g}"


def render_markdown(result: Result, published: bool = False, manual: list[ManualEntry] | None = None) -> str:
    """Return the feedback page for one result as Markdown text.

    Every string a student can influence is escaped (:mod:`autograder.exporters.student_view`);
    test output sits in code blocks it cannot close. Public and hidden tests are listed and
    summed apart; ``published`` adds the total. ``manual``: the student's manually graded
    answers (:func:`autograder.exporters.manual_grades.read_manual_grades`), listed in their own section.
    """
    title = markdown_inline(f"{result['assignment']} ({result['submission']})")
    public = [t for t in result["tests"] if t.get("visibility") != "hidden"]
    hidden = [t for t in result["tests"] if t.get("visibility") == "hidden"]
    score, max_score = public_points(result)
    lines = [f"# Feedback: {title}", ""]
    lateness = describe_lateness(result)
    if lateness:
        lines += [f"*{markdown_inline(lateness[0].upper() + lateness[1:])}*", ""]
    lines += [f"**Public tests: {score:g} / {max_score:g} points**", "", *_table(public)]
    if hidden:
        score, max_score = hidden_points(result)
        lines += ["", "## Hidden tests", "", f"**Hidden tests: {score:g} / {max_score:g} points**", "",
                  *_table(hidden)]
        if published:
            lines += ["", f"**Total: {result['score']:g} / {result['max_score']:g} points**"]
    if manual:
        lines += ["", "## Manually graded answers", "",
                  "| notebook | answer | points | comment |", "|---|---|---|---|"]
        for entry in manual:
            lines.append(f"| {markdown_inline(entry['notebook'])} | "
                         f"{markdown_inline(entry['cell'])} | {_manual_score(entry)} | "
                         f"{markdown_inline(entry['comment'])} |")
    details = [t for t in result["tests"] if t["status"] != "passed" and t.get("output")]
    if details:
        lines += ["", "## What to fix", ""]
        for test in details:
            lines += [f"### {markdown_inline(test['name'])}", "",
                      markdown_code_block(test["output"]), ""]
    notebook_notes = [n for n in result.get("notebooks", []) if n.get("status") != "ok"]
    if notebook_notes:
        lines += ["", "## Notebooks", "",
                  *(f"- {markdown_inline(n.get('notebook', ''))}: {markdown_inline(n.get('message', ''))}"
                    for n in notebook_notes)]
    return "\n".join(lines).rstrip() + "\n"


def _summary_lines(result: Result, published: bool) -> list[str]:
    """The score lines: public tests, hidden tests apart, the total only once published."""
    public, public_max = public_points(result)
    lines = [f"Public tests: {public:g} / {public_max:g} points"]
    if has_hidden(result):
        hidden, hidden_max = hidden_points(result)
        lines.append(f"Hidden tests: {hidden:g} / {hidden_max:g} points")
        if published:
            lines.append(f"Total: {result['score']:g} / {result['max_score']:g} points")
    return lines


STYLE = """
.autograder-feedback {{ font-family: sans-serif; }}
.autograder-feedback table {{ border-collapse: collapse; }}
.autograder-feedback td, .autograder-feedback th {{ border: 1px solid #ccc; padding: 4px 8px;
  vertical-align: top; }}
.autograder-feedback tr.passed td:nth-child(4) {{ color: #080; }}
.autograder-feedback tr.failed td:nth-child(4), .autograder-feedback tr.error td:nth-child(4),
.autograder-feedback tr.timeout td:nth-child(4) {{ color: #b00; font-weight: bold; }}
.autograder-feedback pre {{ margin: 0; white-space: pre-wrap; max-width: 60em; }}
.autograder-feedback .late {{ color: #b00; }}
""".format()


def render_section(result: Result, published: bool = False, manual: list[ManualEntry] | None = None,
                   heading: str = "h1") -> str:
    """The feedback for one result as an HTML fragment (a ``<div>`` with its own style), to
    stand alone (:func:`render_html`) or to go into nbgrader's feedback pages.

    Every string from the result and the gradebook is HTML-escaped; the score lines keep
    public and hidden tests apart (``published`` adds the total).
    """
    sub = "h2" if heading == "h1" else "h3"
    rows = []
    for test in result["tests"]:
        status = test["status"] if test["status"] in STATUS_MARK else "unknown"
        output = html.escape(test.get("output") or "") if status != "passed" else ""
        rows.append(
            f"<tr class='{status}'><td>{html.escape(test['name'])}</td>"
            f"<td>{html.escape(str(test.get('visibility', 'visible')))}</td>"
            f"<td>{test['score']:g} / {test['max_score']:g}</td>"
            f"<td>{_status(test)}</td><td><pre>{output}</pre></td></tr>")
    notes = [n for n in result.get("notebooks", []) if n.get("status") != "ok"]
    notebook_items = "".join(
        f"<li>{html.escape(str(n.get('notebook', '')))}: {html.escape(str(n.get('message', '')))}</li>"
        for n in notes)
    notebooks = f"<{sub}>Notebooks</{sub}><ul>{notebook_items}</ul>" if notes else ""
    summary = "".join(f"<p><b>{html.escape(line)}</b></p>"
                      for line in _summary_lines(result, published))
    lateness = describe_lateness(result)
    late_class = "late" if (result.get("late_by_seconds") or 0) > 0 else "lateness"
    lateness = (f"<p class='{late_class}'>{html.escape(lateness[0].upper() + lateness[1:])}</p>"
                if lateness else "")
    manual_rows = "".join(
        f"<tr><td>{html.escape(str(entry['notebook']))}</td>"
        f"<td>{html.escape(str(entry['cell']))}</td>"
        f"<td>{html.escape(_manual_score(entry))}</td>"
        f"<td><pre>{html.escape(str(entry['comment']))}</pre></td></tr>"
        for entry in manual or [])
    manual_table = (f"<{sub}>Manually graded answers</{sub}><table><tr><th>notebook</th>"
                    f"<th>answer</th><th>points</th><th>comment</th></tr>{manual_rows}</table>"
                    if manual else "")
    title = html.escape(f"{result['assignment']}: {result['submission']}")
    return f"""<div class="autograder-feedback"><style>{STYLE}</style>
<{heading}>Autograder feedback: {title}</{heading}>
{lateness}{summary}
<table><tr><th>test</th><th>visibility</th><th>points</th><th>result</th><th>what to fix</th></tr>
{chr(10).join(rows)}
</table>{notebooks}{manual_table}</div>"""


def render_html(result: Result, published: bool = False, manual: list[ManualEntry] | None = None) -> str:
    """Return the feedback page for one result as a standalone HTML document
    (:func:`render_section` in a page)."""
    title = html.escape(f"{result['assignment']}: {result['submission']}")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Feedback {title}</title>
<style>body {{ margin: 2em; }}</style></head><body>
{render_section(result, published, manual)}
</body></html>
"""


SECTION_BEGIN = "<!-- autograder feedback: begin -->"
SECTION_END = "<!-- autograder feedback: end -->"


def insert_section(page: str, section: str) -> str:
    """``page`` (an HTML document nbgrader wrote) with ``section`` between the markers just
    before ``</body>``; an earlier inserted section is replaced, not repeated."""
    block = f"{SECTION_BEGIN}\n{section}\n{SECTION_END}"
    start = page.find(SECTION_BEGIN)
    if start >= 0:
        end = page.find(SECTION_END, start)
        if end >= 0:
            return page[:start] + block + page[end + len(SECTION_END):]
    body_end = page.lower().rfind("</body>")
    if body_end < 0:
        return page + "\n" + block + "\n"
    return page[:body_end] + block + "\n" + page[body_end:]


def page_stem(submission: str) -> str:
    """A file name for a submission's pages: the name with anything but letters, digits,
    ``.``, ``_``, ``-`` and ``@`` replaced (a student may have named the zip)."""
    stem = re.sub(r"[^A-Za-z0-9._@-]", "_", str(submission)).lstrip(".")
    return stem or "submission"


def _write_pages(stem: Path, result: Result, published: bool, manual: list[ManualEntry] | None) -> list[Path]:
    """Write ``<stem>.md`` and ``<stem>.html``; return both paths."""
    markdown, page = stem.with_name(stem.name + ".md"), stem.with_name(stem.name + ".html")
    write_atomically(markdown, render_markdown(result, published, manual))
    write_atomically(page, render_html(result, published, manual))
    return [markdown, page]


def write_feedback(results: list[Result], out_dir: str | Path, published: bool = False,
                   manual_grades: dict[str, list[ManualEntry]] | None = None) -> list[Path]:
    """Write ``<submission>.md`` and ``<submission>.html`` for each result into ``out_dir``.

    ``manual_grades``: ``{student: entries}`` (:func:`autograder.exporters.manual_grades.read_manual_grades`).
    Returns the list of written Markdown paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manual_grades = manual_grades or {}
    return [_write_pages(out_dir / page_stem(result["submission"]), result, published,
                         manual_grades.get(result["submission"]))[0] for result in results]


#: nbgrader student ids the pages may be filed under (a folder name, never a path).
SAFE_STUDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
NBGRADER_PAGE = "autograder"


def write_nbgrader_feedback(results: list[Result], feedback_root: str | Path, published: bool = False,
                            manual_grades: dict[str, list[ManualEntry]] | None = None) -> tuple[list[Path], list[str]]:
    """Write the pages into nbgrader's layout ``feedback_root/<student>/<assignment>/``.

    ``autograder.md`` and ``autograder.html`` go there; the section is also inserted into
    every other ``*.html`` page in the folder (those ``nbgrader generate_feedback`` wrote,
    one per notebook), which is what ``nbgrader release_feedback`` hands back.

    Returns
    -------
    written : list of Path
        The pages written or updated.
    problems : list of str
        Results not written (a submission name that is not a student id) and folders
        without nbgrader's pages (``fetch_feedback`` would not deliver the autograder's).
    """
    feedback_root = Path(feedback_root)
    manual_grades = manual_grades or {}
    written, problems = [], []
    for result in results:
        student = str(result["submission"])
        if not SAFE_STUDENT.fullmatch(student) or ".." in student:
            problems.append(f"{student!r} is not an nbgrader student id; its page was not "
                            "written (grade nbgrader's submitted/<student>/<assignment> folders)")
            continue
        manual = manual_grades.get(student)
        folder = feedback_root / student / result["assignment"]
        folder.mkdir(parents=True, exist_ok=True)
        markdown, own = _write_pages(folder / NBGRADER_PAGE, result, published, manual)
        written += [markdown, own]
        section = render_section(result, published, manual, heading="h2")
        pages = [page for page in sorted(folder.glob("*.html"))
                 if page != own and not page.is_symlink() and page.is_file()]
        for page in pages:
            write_atomically(page, insert_section(page.read_text(encoding="utf-8"), section))
            written.append(page)
        if not pages:
            problems.append(f"{folder} has no page of nbgrader's yet: run `nbgrader "
                            f"generate_feedback {result['assignment']}` and then this command "
                            "again, or students' fetch_feedback will not get the autograder's "
                            "feedback")
    return written, problems


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "feedback", help="write a Markdown and HTML feedback page per graded submission",
        description="Write feedback pages from the results of `autograder grade`: into "
                    "RESULTS/feedback/, or with --nbgrader into nbgrader's feedback folders "
                    "(after `nbgrader generate_feedback`, before `nbgrader release_feedback`).")
    parser.add_argument("assignment")
    parser.add_argument("--results", type=Path, required=True,
                        help="folder of <submission>.json results from `autograder grade`")
    parser.add_argument("--to", type=Path, default=None,
                        help="output folder (default: RESULTS/feedback; with --nbgrader: the "
                             "course's nbgrader feedback folder, feedback/<student>/ASSIGNMENT)")
    parser.add_argument("--nbgrader", action="store_true",
                        help="write into nbgrader's feedback layout and add the autograder's "
                             "section to the pages of `nbgrader generate_feedback`, so that "
                             "`nbgrader release_feedback` hands it back")
    parser.add_argument("--gradebook", default=None, metavar="URL",
                        help="nbgrader gradebook (database URL or .db file) to read manual "
                             "grades and comments from (default: the course's, when it exists)")
    parser.add_argument("--published", action="store_true",
                        help="the hidden tests' results are published: add the total of public "
                             "and hidden tests (by default the pages show them apart)")
    parser.set_defaults(func=run_cli)


def _nbgrader_settings(course: Course) -> tuple[str | None, str | None, Path | None]:
    """(db_url, course_id, nbgrader root) of the course, or Nones when it has no config."""
    try:
        from autograder.exporters.gradebook import gradebook_settings
        settings = gradebook_settings(course)
    except (ImportError, UserError, AttributeError):
        return None, None, None
    return settings.db_url, settings.course_id, Path(settings.autograded_root).parent


def run_cli(args: argparse.Namespace, course: Course) -> int:
    from autograder.exporters.manual_grades import gradebook_exists, gradebook_url, read_manual_grades
    loaded = load_results(args.results, args.assignment)
    db_url, course_id, nbgrader_root = _nbgrader_settings(course)
    if args.gradebook:
        db_url = gradebook_url(args.gradebook)
    manual = {}
    if db_url and gradebook_exists(db_url):
        try:
            manual = read_manual_grades(db_url, course_id or "default_course", args.assignment,
                                        [r["submission"] for r in loaded.results])
        except ImportError:
            print("autograder feedback: nbgrader is not installed; manual grades left out",
                  file=sys.stderr)
        print(f"manual grades of {len(manual)} student(s) from {db_url}")
    elif args.gradebook:
        raise UserError(f"the gradebook {args.gradebook} does not exist")
    problems: list[str] = []
    if args.nbgrader:
        root = args.to or (nbgrader_root / "feedback" if nbgrader_root else None)
        if root is None:
            raise UserError("no nbgrader course found for --nbgrader; give the feedback "
                            "folder with --to")
        written, problems = write_nbgrader_feedback(loaded.results, root,
                                                    published=args.published,
                                                    manual_grades=manual)
    else:
        written = write_feedback(loaded.results, args.to or args.results / "feedback",
                                 published=args.published, manual_grades=manual)
    for path in written:
        print(f"wrote {path}")
    for problem in problems:
        print(f"warning: {problem}")
    for problem in loaded.problems:
        print(f"not included: {problem}")
    return 1 if loaded.problems else 0

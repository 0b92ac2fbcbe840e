"""Turn grading results into feedback a student can read.

``autograder feedback ASSIGNMENT --results DIR`` writes one Markdown and one HTML page per
``DIR/<submission>.json`` into ``DIR/feedback/``. The pages only show what the result already
holds for the student: hidden tests are named ``hidden test N`` and their ``output`` was
sanitised by the grader (the docstring's first line and what went wrong in the grader's words,
never the test code, inputs, expected values or the student's exception text). Every string is
escaped for HTML or Markdown; the score lines show public and hidden tests apart, and the total
only with ``--published``.
"""
import html
import re
from pathlib import Path

from autograder.exporters.results import load_results
from autograder.exporters.student_view import (has_hidden, hidden_points, markdown_code_block,
                                               markdown_inline, public_points)

STATUS_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}


def _status(test):
    return STATUS_MARK.get(test["status"], "?")


def _table(tests):
    lines = ["| test | points | result |", "|---|---|---|"]
    for test in tests:
        lines.append(f"| {markdown_inline(test['name'])} | {test['score']:g} / "
                     f"{test['max_score']:g} | {_status(test)} |")
    return lines


def render_markdown(result, published=False):
    """Return the feedback page for one result as Markdown text.

    Every string a student can influence is escaped (:mod:`autograder.exporters.student_view`);
    test output sits in code blocks it cannot close. Public and hidden tests are listed and
    summed apart; ``published`` adds the total.
    """
    title = markdown_inline(f"{result['assignment']} ({result['submission']})")
    public = [t for t in result["tests"] if t.get("visibility") != "hidden"]
    hidden = [t for t in result["tests"] if t.get("visibility") == "hidden"]
    score, max_score = public_points(result)
    lines = [f"# Feedback: {title}", "", f"**Public tests: {score:g} / {max_score:g} points**", ""]
    lines += _table(public)
    if hidden:
        score, max_score = hidden_points(result)
        lines += ["", "## Hidden tests", "",
                  f"**Hidden tests: {score:g} / {max_score:g} points**", ""]
        lines += _table(hidden)
        if published:
            lines += ["", f"**Total: {result['score']:g} / {result['max_score']:g} points**"]
    details = [t for t in result["tests"] if t["status"] != "passed" and t.get("output")]
    if details:
        lines += ["", "## What to fix", ""]
        for test in details:
            lines += [f"### {markdown_inline(test['name'])}", "",
                      markdown_code_block(test["output"]), ""]
    notebook_notes = [n for n in result.get("notebooks", []) if n.get("status") != "ok"]
    if notebook_notes:
        lines += ["", "## Notebooks", ""]
        lines += [f"- {markdown_inline(n.get('notebook', ''))}: {markdown_inline(n.get('message', ''))}"
                  for n in notebook_notes]
    return "\n".join(lines).rstrip() + "\n"


def _summary_lines(result, published):
    """The score lines: public tests, hidden tests apart, the total only once published."""
    public, public_max = public_points(result)
    lines = [f"Public tests: {public:g} / {public_max:g} points"]
    if has_hidden(result):
        hidden, hidden_max = hidden_points(result)
        lines.append(f"Hidden tests: {hidden:g} / {hidden_max:g} points")
        if published:
            lines.append(f"Total: {result['score']:g} / {result['max_score']:g} points")
    return lines


def render_html(result, published=False):
    """Return the feedback page for one result as a standalone HTML document.

    Every string from the result is HTML-escaped; the score lines keep public and hidden
    tests apart (``published`` adds the total).
    """
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
    notebooks = f"<h2>Notebooks</h2><ul>{notebook_items}</ul>" if notes else ""
    summary = "".join(f"<p><b>{html.escape(line)}</b></p>"
                      for line in _summary_lines(result, published))
    title = html.escape(f"{result['assignment']}: {result['submission']}")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Feedback {title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
tr.passed td:nth-child(4) {{ color: #080; }} tr.failed td:nth-child(4), tr.error td:nth-child(4),
tr.timeout td:nth-child(4) {{ color: #b00; font-weight: bold; }}
pre {{ margin: 0; white-space: pre-wrap; max-width: 60em; }}
</style></head><body>
<h1>Feedback: {title}</h1>
{summary}
<table><tr><th>test</th><th>visibility</th><th>points</th><th>result</th><th>what to fix</th></tr>
{chr(10).join(rows)}
</table>{notebooks}</body></html>
"""


def page_stem(submission):
    """A file name for a submission's pages: the name with anything but letters, digits,
    ``.``, ``_``, ``-`` and ``@`` replaced (a student may have named the zip)."""
    stem = re.sub(r"[^A-Za-z0-9._@-]", "_", str(submission)).lstrip(".")
    return stem or "submission"


def write_feedback(results, out_dir, published=False):
    """Write ``<submission>.md`` and ``<submission>.html`` for each result into ``out_dir``.

    Returns the list of written Markdown paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        stem = out_dir / page_stem(result["submission"])
        stem.with_name(stem.name + ".md").write_text(render_markdown(result, published),
                                                     encoding="utf-8")
        stem.with_name(stem.name + ".html").write_text(render_html(result, published),
                                                       encoding="utf-8")
        written.append(stem.with_name(stem.name + ".md"))
    return written


def add_cli(subparsers):
    parser = subparsers.add_parser(
        "feedback", help="write a Markdown and HTML feedback page per graded submission")
    parser.add_argument("assignment")
    parser.add_argument("--results", type=Path, required=True,
                        help="folder of <submission>.json results from `autograder grade`")
    parser.add_argument("--to", type=Path, default=None,
                        help="output folder (default: RESULTS/feedback)")
    parser.add_argument("--published", action="store_true",
                        help="the hidden tests' results are published: add the total of public "
                             "and hidden tests (by default the pages show them apart)")
    parser.set_defaults(func=run_cli)


def run_cli(args, course):
    loaded = load_results(args.results, args.assignment)
    for path in write_feedback(loaded.results, args.to or args.results / "feedback",
                               published=args.published):
        print(f"wrote {path}")
    for problem in loaded.problems:
        print(f"not included: {problem}")
    return 1 if loaded.problems else 0

"""Turn grading results into feedback a student can read.

``autograder feedback ASSIGNMENT --results DIR`` writes one Markdown and one HTML page per
``DIR/<submission>.json`` into ``DIR/feedback/``. The pages only show what the result already
holds for the student: hidden tests' ``output`` was sanitised by the grader (it names what failed,
never the test code or expected values).
"""
import html
from pathlib import Path

from autograder.exporters.results import load_results

STATUS_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}


def render_markdown(result):
    """Return the feedback page for one result as Markdown text."""
    lines = [
        f"# Feedback: {result['assignment']} ({result['submission']})",
        "",
        f"**Score: {result['score']:g} / {result['max_score']:g}**",
        "",
        "| test | points | result |",
        "|---|---|---|",
    ]
    for test in result["tests"]:
        label = test["name"] + (" (hidden)" if test.get("visibility") == "hidden" else "")
        lines.append(f"| {label} | {test['score']:g} / {test['max_score']:g} "
                     f"| {STATUS_MARK.get(test['status'], test['status'])} |")
    details = [t for t in result["tests"] if t["status"] != "passed" and t.get("output")]
    if details:
        lines += ["", "## What to fix", ""]
        for test in details:
            lines += [f"### {test['name']}", "", "```", test["output"].rstrip(), "```", ""]
    notebook_notes = [n for n in result.get("notebooks", []) if n.get("status") != "ok"]
    if notebook_notes:
        lines += ["", "## Notebooks", ""]
        lines += [f"- {n['notebook']}: {n['message']}" for n in notebook_notes]
    return "\n".join(lines).rstrip() + "\n"


def render_html(result):
    """Return the feedback page for one result as a standalone HTML document."""
    rows = []
    for test in result["tests"]:
        status = test["status"]
        output = html.escape(test.get("output") or "") if status != "passed" else ""
        rows.append(
            f"<tr class='{status}'><td>{html.escape(test['name'])}</td>"
            f"<td>{html.escape(test.get('visibility', 'visible'))}</td>"
            f"<td>{test['score']:g} / {test['max_score']:g}</td>"
            f"<td>{STATUS_MARK.get(status, status)}</td><td><pre>{output}</pre></td></tr>")
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
<p><b>Score: {result['score']:g} / {result['max_score']:g}</b></p>
<table><tr><th>test</th><th>visibility</th><th>points</th><th>result</th><th>what to fix</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""


def write_feedback(results, out_dir):
    """Write ``<submission>.md`` and ``<submission>.html`` for each result into ``out_dir``.

    Returns the list of written Markdown paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        stem = out_dir / str(result["submission"])
        stem.with_suffix(".md").write_text(render_markdown(result), encoding="utf-8")
        stem.with_suffix(".html").write_text(render_html(result), encoding="utf-8")
        written.append(stem.with_suffix(".md"))
    return written


def add_cli(subparsers):
    parser = subparsers.add_parser(
        "feedback", help="write a Markdown and HTML feedback page per graded submission")
    parser.add_argument("assignment")
    parser.add_argument("--results", type=Path, required=True,
                        help="folder of <submission>.json results from `autograder grade`")
    parser.add_argument("--to", type=Path, default=None,
                        help="output folder (default: RESULTS/feedback)")
    parser.set_defaults(func=run_cli)


def run_cli(args, course):
    loaded = load_results(args.results, args.assignment)
    for path in write_feedback(loaded.results, args.to or args.results / "feedback"):
        print(f"wrote {path}")
    for problem in loaded.problems:
        print(f"not included: {problem}")
    return 1 if loaded.problems else 0

"""What a page or file meant for students may show, and how to write it safely.

Two rules every exporter and feedback writer follows:

* **Escape everything a student can influence** (submission names, test output, exception
  text, notebook names and integrity messages): HTML with :func:`html.escape`, Markdown with
  :func:`markdown_inline` (every character Markdown or HTML could act on is escaped) or
  inside a :func:`markdown_code_block` (a fence longer than any run of backticks in the
  text, so the text cannot close it).
* **Never mix hidden results into a visible summary.** A summary line counts the public
  tests (:func:`public_points`); hidden tests are summed apart (:func:`hidden_points`) in
  their own section, which students see only when the course publishes them.
"""
import html
import re

from autograder.result import Result, total_points

# What could make literal text into a link, image, code or a new table cell (HTML is
# escaped first, so no tag survives); emphasis characters are left alone.
_MARKDOWN_SPECIAL = re.compile(r"([\\`\[\]|])")


def points(result: Result, visibility: str) -> tuple[float, float]:
    """``(score, max_score)`` over the tests of ``result`` with the given visibility."""
    tests = [test for test in result.get("tests", []) if test.get("visibility") == visibility]
    return total_points(tests), total_points(tests, "max_score")


def public_points(result: Result) -> tuple[float, float]:
    """``(score, max_score)`` of the public (visible) tests only."""
    return points(result, "visible")


def hidden_points(result: Result) -> tuple[float, float]:
    """``(score, max_score)`` of the hidden tests only."""
    return points(result, "hidden")


def has_hidden(result: Result) -> bool:
    """Whether ``result`` holds any hidden test."""
    return any(test.get("visibility") == "hidden" for test in result.get("tests", []))


def one_line(text: object) -> str:
    """``text`` on one line (line breaks and tabs become spaces; other control characters go)."""
    text = re.sub(r"[\r\n\t\v\f]+", " ", str(text))
    return "".join(ch for ch in text if ch.isprintable())


def markdown_inline(text: object) -> str:
    """``text`` as literal inline Markdown: HTML-escaped, Markdown punctuation
    backslash-escaped, on one line (safe in a table cell, a heading or a list item)."""
    escaped = html.escape(one_line(text), quote=False)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", escaped)


def markdown_code_block(text: object) -> str:
    """``text`` as a fenced Markdown code block it cannot break out of."""
    text = str(text).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"

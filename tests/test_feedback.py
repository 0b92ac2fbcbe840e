"""Feedback pages rendered from grading results."""
import json

from autograder import feedback
from autograder.result_signing import load_key, sign_result


def make_result(submission="alice"):
    return {
        "submission": submission, "assignment": "assignment0", "score": 3.0, "max_score": 5.0,
        "tests": [
            {"name": "tests/test_warmup.py::test_softmax", "score": 3.0, "max_score": 3.0,
             "status": "passed", "visibility": "visible", "output": ""},
            {"name": "test_hidden.py::test_overflow", "score": 0.0, "max_score": 2.0,
             "status": "failed", "visibility": "hidden",
             "output": "softmax overflows for large scores: subtract the row maximum"},
        ],
        "notebooks": [{"notebook": "warmup.ipynb", "status": "tampered",
                       "message": "cell 'softmax_test' was deleted"}],
    }


def test_markdown_lists_every_test_and_what_to_fix():
    text = feedback.render_markdown(make_result())
    # the visible summary counts public tests only; hidden ones are summed apart
    assert "Public tests: 3 / 3 points" in text and "Hidden tests: 0 / 2 points" in text
    assert "3 / 5" not in text and "Total" not in text
    assert "test_softmax | 3 / 3 | PASS" in text
    public, hidden = text.split("## Hidden tests")
    assert "test_overflow" not in public and "test_overflow | 0 / 2 | FAIL" in hidden
    assert "subtract the row maximum" in text
    assert "cell 'softmax_test' was deleted" in text
    assert "Total: 3 / 5 points" in feedback.render_markdown(make_result(), published=True)


def test_html_escapes_student_output():
    result = make_result()
    result["tests"][1]["output"] = "<script>alert(1)</script>"
    page = feedback.render_html(result)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_cli_writes_pages_and_reports_unreadable_results(tmp_path, capsys):
    key = load_key(create=True)     # results count only when the grader signed them
    (tmp_path / "alice.json").write_text(json.dumps(sign_result(make_result("alice"), key)))
    (tmp_path / "broken.json").write_text("{not json")
    from autograder.cli import main
    code = main(["--course", str(tmp_path), "feedback", "assignment0", "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1  # one result could not be read
    assert "broken.json" in out
    assert (tmp_path / "feedback" / "alice.md").exists()
    assert (tmp_path / "feedback" / "alice.html").exists()


def test_missing_results_folder_is_a_clear_error(tmp_path, capsys):
    from autograder.cli import main
    code = main(["--course", str(tmp_path), "feedback", "assignment0",
                 "--results", str(tmp_path / "nope")])
    assert code == 2
    assert "autograder grade" in capsys.readouterr().err

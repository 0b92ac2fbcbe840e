"""Every page made from a result escapes what students control; hidden feedback says
nothing the student's code wrote (fast unit tests; tests/test_grading_leaks.py grades the
same attacks end to end)."""
import re

import pytest

from autograder.exporters.formgrader_notebook import autograder_notebook
from autograder.exporters.gradebook import usable_student_ids
from autograder.exporters.student_view import markdown_code_block, markdown_inline
from autograder.exporters.feedback import render_html, render_markdown
from autograder.grading.pytest_plugin import hidden_failure_reason, reference_names
from autograder.sandbox import Limits, StudentCrash, StudentError, StudentTimeout
from autograder.testing import Feedback

SCRIPT = "<script>alert('x')</script>"
IMG = "<img src=x onerror=alert(1)>"
PAYLOADS = ("<script>alert(", "<img src=x onerror")


def planted_result():
    return {
        "submission": f"eve{IMG}", "assignment": "assignment1", "score": 1.0, "max_score": 4.0,
        "graded_at": f"2026-12-03{SCRIPT}",
        "tests": [
            {"name": "tests/test_layers.py::test_affine", "score": 0.0, "max_score": 1.0,
             "status": "error", "visibility": "visible",
             "output": f"calling nnfs.layers.affine_forward raised ValueError: {IMG}\n"
                       f"--- your code printed ---\n{SCRIPT}\n```\n</pre>{IMG}"},
            {"name": f"tests/test_layers.py::test_relu[{SCRIPT}]", "score": 1.0,
             "max_score": 1.0, "status": "passed", "visibility": "visible", "output": ""},
            {"name": "hidden test 1", "score": 0.0, "max_score": 2.0, "status": "failed",
             "visibility": "hidden", "output": f"the loss is right: {IMG}"},
        ],
        "notebooks": [{"notebook": f"knn{IMG}.ipynb", "status": "invalid",
                       "message": f"knn.ipynb is not a valid notebook ({{'cell_type': '{IMG}'}})"}],
    }


def pages(result):
    import mistune
    from nbconvert import HTMLExporter

    cells = {t["name"]: (f"cell{i}", t["max_score"]) for i, t in enumerate(result["tests"])}
    formgrader, _ = HTMLExporter().from_notebook_node(autograder_notebook(result, cells))
    return {"feedback.html": render_html(result),
            "feedback.md rendered": mistune.html(render_markdown(result)),
            "formgrader notebook rendered": formgrader}


@pytest.fixture(scope="module")
def rendered():
    return pages(planted_result())


@pytest.mark.parametrize("page", ["feedback.html", "feedback.md rendered",
                                  "formgrader notebook rendered"])
def test_no_planted_markup_survives_in_any_page(rendered, page):
    html = rendered[page]
    for payload in PAYLOADS:
        assert payload not in html, payload
    assert "&lt;img src=x onerror" in html       # shown, as text


def test_markdown_helpers_cannot_be_broken_out_of():
    assert markdown_inline(f"a|b\n[x](javascript:alert(1)) {IMG}") == \
        "a\\|b \\[x\\](javascript:alert(1)) &lt;img src=x onerror=alert(1)&gt;"
    block = markdown_code_block("```\n<b>")
    assert block.startswith("````") and block.endswith("````")


def test_unsafe_submission_names_are_not_gradebook_ids(capsys):
    results = [{"submission": name} for name in ("alice", "bob.smith@uni", IMG, "..", "../x", "-x")]
    assert [r["submission"] for r in usable_student_ids(results)] == ["alice", "bob.smith@uni"]
    assert capsys.readouterr().err.count("skipped") == 4


KNOWN = reference_names(__import__("pathlib").Path(__file__).resolve().parents[1]
                        / "assignments" / "source" / "assignment1")


@pytest.mark.parametrize("error, shown, hidden", [
    (StudentError("calling nnfs.layers.relu_forward raised ValueError: [0.123456, 7.5]",
                  type_name="ValueError", detail="[0.123456, 7.5]"),
     "your code raised ValueError while calling nnfs.layers.relu_forward", "0.123456"),
    (StudentError("calling nnfs.layers.tanh_forward raised LEAK_123456_75: x",
                  type_name="LEAK_123456_75"),
     "your code raised an exception while calling nnfs.layers.tanh_forward", "123456"),
    (StudentError("calling LEAK_48_9.loss raised RuntimeError: boom", type_name="RuntimeError"),
     "your code raised RuntimeError;", "LEAK_48_9"),
    (StudentCrash("your code called sys.exit([0.123456]) while calling nnfs.layers.relu_forward; "
                  "remove the exit call"),
     "your code called sys.exit() while calling nnfs.layers.relu_forward", "0.123456"),
    (StudentCrash("your code called sys.exit(3) while importing nnfs.layers; remove it"),
     "your code called sys.exit(3) while importing nnfs.layers", "remove it"),
    (StudentCrash("the student process crashed with a segmentation fault (SIGSEGV): memory "
                  "... while calling nnfs.layers.affine_forward"),
     "segmentation fault (SIGSEGV)", "memory ..."),
    (StudentTimeout("calling KNearestNeighbor.compute_distances_two_loops did not finish "
                    "within 10 s"),
     "did not finish within 30 s while calling KNearestNeighbor.compute_distances_two_loops",
     "within 10 s"),
    (Feedback("dW of svm_loss_naive has the right shape but wrong values"),
     "dW of svm_loss_naive has the right shape but wrong values", "Traceback"),
])
def test_hidden_failure_reason_shows_only_grader_words(error, shown, hidden):
    reason = hidden_failure_reason(error, Limits(), KNOWN)
    assert shown in reason and hidden not in reason, reason


def test_expect_close_never_shows_a_student_chosen_shape_or_dtype():
    import numpy as np

    from autograder.testing import expect_close
    messages = []
    for actual in (np.zeros(123457), np.zeros((2, 98765)), np.array(["x" * 4321])):
        with pytest.raises(Feedback) as caught:
            expect_close(actual, np.zeros((2, 3)) if actual.ndim == 2 else np.zeros(3), "dW")
        messages.append(str(caught.value))
    assert messages[0] == "dW has the wrong shape (the right number of dimensions, 1, but not " \
                          "the expected sizes)"
    assert not [m for m in messages if re.search(r"123457|98765|4321", m)]

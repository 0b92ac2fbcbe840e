"""Issue #8's leaks and stored XSS, each attack graded next to an honest submission.

Every attack below is a real submission of assignment 1 graded by the real grader (with
the hidden suite), beside the complete reference submission:

* **echo**: student code that puts the test's inputs into an exception message, a
  ``sys.exit`` argument, the NAME of an exception class and the name of a class whose
  methods the tests call. Hidden tests must show none of it (only the docstring, a Python
  exception type and a fixed hint); public tests keep the student's full message.
* **speed**: a looped "no-loop" kNN (the loops hidden in a helper, out of sight of the
  source check) next to a two-loop version slowed with ``sleep``. The no-loop speed test
  used to time the student's own two-loop version, so slowing it made any loop look
  fast; it now times the reference, in the grader.
* **xss**: HTML in the submission's name, in printed output, in an exception message and
  in a corrupt notebook (whose validation message echoes it). Every page generated from
  the result (feedback HTML, feedback Markdown rendered to HTML, the formgrader notebook
  rendered by nbconvert as nbgrader does) must show it escaped, never as markup.

Each attack gains nothing; the honest submission keeps full marks; no result or export
names a hidden file or test.
"""
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from autograder.course import Course
from autograder.exporters.csv_export import csv_text
from autograder.exporters.formgrader_notebook import autograder_notebook
from autograder.exporters.gradebook import usable_student_ids
from autograder.gradescope.build import to_gradescope
from autograder.exporters.feedback import render_html, render_markdown
from autograder.grading.submission import grade_submission
from autograder.grading.private_index import hidden_test_index, with_test_names

pytestmark = pytest.mark.slow     # grades four submissions of assignment 1 (about a minute)
ASSIGNMENT = "assignment1"
XSS_NAME = "<img src=x onerror=alert(1)>"

ECHO_LAYERS = '''

import sys as _sys


def _digits(x):
    return repr(np.asarray(x).ravel().tolist())


def relu_forward(x):
    raise ValueError("LEAKED " + _digits(x))


def sigmoid_forward(x):
    _sys.exit("LEAKED " + _digits(x))


def tanh_forward(x):
    name = "LEAKED_" + "_".join(str(int(abs(v) * 1e6)) for v in np.asarray(x).ravel()[:6])
    raise type(name, (Exception,), {})("LEAKED " + _digits(x))
'''

ECHO_NET = '''

_HonestNet = TwoLayerNet


class TwoLayerNet(_HonestNet):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        super().__init__(input_dim, hidden_dim, num_classes, weight_scale, reg)
        # the grader labels this object's methods with its class name
        type(self).__name__ = f"LEAKED_{input_dim}_{hidden_dim}_{num_classes}"

    def loss(self, X, y=None):
        raise RuntimeError("LEAKED " + repr(np.asarray(X).ravel()[:8].tolist()))
'''

SPEED_KNN = '''

import time as _time


def _pairwise(X, T):
    out = np.zeros((X.shape[0], T.shape[0]))
    for i in range(X.shape[0]):
        for j in range(T.shape[0]):
            d = X[i] - T[j]
            out[i, j] = np.sqrt(np.sum(d * d))
    return out


_honest_two_loops = KNearestNeighbor.compute_distances_two_loops


def _slowed_two_loops(self, X):
    _time.sleep(1.2)        # makes any loop look fast next to it
    return _honest_two_loops(self, X)


KNearestNeighbor.compute_distances_two_loops = _slowed_two_loops
# The `def compute_distances_no_loops` above has no loop for the source check to find.
KNearestNeighbor.compute_distances_no_loops = lambda self, X: _pairwise(np.asarray(X), self.X_train)
'''

XSS_LAYERS = '''


def affine_forward(x, w, b):
    print("<script>alert('printed')</script>")
    raise ValueError("<img src=x onerror=alert('exception')>")
'''
PAYLOADS = ["<script>alert(", "<img src=x onerror"]


def submission(root, name, course, patches=(), folder_name=None):
    folder = root / (folder_name or name) / ASSIGNMENT
    shutil.copytree(course.source(ASSIGNMENT), folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for relative, text in patches:
        path = folder / "nnfs" / relative
        path.write_text(path.read_text() + text)
    return folder


def corrupt_notebook(folder):
    notebook = json.loads((folder / "knn.ipynb").read_text())
    notebook["cells"][0]["cell_type"] = "<img src=x onerror=alert('notebook')>"
    (folder / "knn.ipynb").write_text(json.dumps(notebook))


@pytest.fixture(scope="module")
def index(repo_root):
    return hidden_test_index(Course(repo_root), ASSIGNMENT)


@pytest.fixture(scope="module")
def graded(repo_root, tmp_path_factory):
    course = Course(repo_root)
    root = tmp_path_factory.mktemp("leaks")
    folders = {
        "honest": submission(root, "honest", course),
        "echo": submission(root, "echo", course, [("layers.py", ECHO_LAYERS),
                                                  ("classifiers/fc_net.py", ECHO_NET)]),
        "speed": submission(root, "speed", course,
                            [("classifiers/k_nearest_neighbor.py", SPEED_KNN)]),
        "xss": submission(root, "xss", course, [("layers.py", XSS_LAYERS)],
                          folder_name=XSS_NAME),
    }
    corrupt_notebook(folders["xss"])

    def grade(item):
        name, folder = item
        return name, grade_submission(course, ASSIGNMENT, folder, hidden=True, timeout=10)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(grade, folders.items()))


def by_real_name(result, index):
    return {test["name"]: test for test in with_test_names(result, index)["tests"]}


def test_the_honest_submission_keeps_full_marks(graded):
    honest = graded["honest"]
    assert "error" not in honest and honest["score"] == honest["max_score"] > 0


def test_echoed_inputs_never_reach_hidden_feedback(graded, index):
    echo, honest = graded["echo"], graded["honest"]
    assert echo["max_score"] == honest["max_score"] and echo["score"] < honest["score"]
    hidden = [t for t in echo["tests"] if t["visibility"] == "hidden"]
    failed = [t for t in hidden if t["status"] != "passed"]
    assert len(failed) >= 10
    for test in hidden:
        assert "LEAKED" not in test["output"], test["output"]
        assert not re.search(r"\d\.\d{3,}", test["output"]), test["output"]
        assert "Traceback" not in test["output"]
    outputs = " ".join(t["output"] for t in failed)
    # ... but the feedback still says what happened, in the grader's words
    assert "your code raised ValueError while calling nnfs.layers.relu_forward" in outputs
    assert "your code raised an exception while calling nnfs.layers.tanh_forward" in outputs
    assert "your code called sys.exit() while calling nnfs.layers.sigmoid_forward" in outputs
    # (the renamed class's name never shows: labels name reference classes only)
    assert "your code raised RuntimeError while calling TwoLayerNet.loss" in outputs
    # public tests' inputs are public: there the student sees the full message
    public = [t for t in echo["tests"] if t["visibility"] == "visible" and t["status"] != "passed"]
    assert any("LEAKED" in t["output"] for t in public)
    # only the tests the echoing functions touch lost points
    real = by_real_name(echo, index)
    for name, test in real.items():
        if test["status"] == "passed":
            continue
        assert re.search(r"relu|sigmoid|tanh|activation|two_layer|TwoLayer|net|scores|overfit"
                         r"|initialisation|loss_and_gradients|gradients", name), name


def test_a_slowed_two_loop_version_no_longer_excuses_loops(graded, index):
    speed, honest = graded["speed"], graded["honest"]
    real = by_real_name(speed, index)
    failed = [name for name, test in real.items() if test["status"] != "passed"]
    assert failed == ["hidden/test_hidden_knn.py::test_no_loop_distances_have_no_loops"], failed
    assert "not much faster" in real[failed[0]]["output"]
    assert speed["score"] == honest["score"] - real[failed[0]]["max_score"]


def generated_pages(result):
    """Every HTML page generated from one result, by name."""
    import mistune
    from nbconvert import HTMLExporter

    grade_cells = {test["name"]: (f"cell{i}", test["max_score"])
                   for i, test in enumerate(result["tests"])}
    notebook = autograder_notebook(result, grade_cells)
    formgrader_html, _ = HTMLExporter().from_notebook_node(notebook)
    return {"feedback.html": render_html(result),
            "feedback.md as HTML": mistune.html(render_markdown(result)),
            "formgrader notebook as HTML": formgrader_html}


def test_student_html_is_escaped_in_every_generated_page(graded):
    xss = graded["xss"]
    assert xss["submission"] == XSS_NAME
    planted = json.dumps(xss)
    for text in ("printed", "exception", "notebook"):   # the payloads did reach the result
        assert f"alert('{text}')" in planted
    for page_name, page in generated_pages(xss).items():
        for payload in PAYLOADS:
            assert payload not in page, (page_name, payload)
        assert "&lt;img src=x onerror" in page or "&lt;img src=x onerror" in page.replace(
            "&amp;lt;", "&lt;"), page_name
    assert usable_student_ids([xss]) == []       # never a gradebook id or a folder name
    # the honest submission graded beside it is untouched
    assert graded["honest"]["score"] == graded["honest"]["max_score"]
    gradescope = to_gradescope(xss)
    assert gradescope["output_format"] == gradescope["test_output_format"] == "text"


@pytest.mark.parametrize("name", ["honest", "echo", "speed", "xss"])
def test_no_result_or_export_names_a_hidden_file_or_test(graded, index, name):
    result = graded[name]
    hidden = [t for t in result["tests"] if t["visibility"] == "hidden"]
    assert [t["name"] for t in hidden] == [f"hidden test {i}" for i in range(1, len(hidden) + 1)]
    assert [t["name"] for t in hidden] == [entry["name"] for entry in index]
    public_names = {t["name"].split("::")[-1].split("[")[0] for t in result["tests"]
                    if t["visibility"] == "visible"}
    # hidden test functions whose name no public test shares
    secret_names = {entry["test"].split("::")[1].split("[")[0] for entry in index} - public_names
    assert len(secret_names) > 10
    exports = [json.dumps(result), render_markdown(result), render_html(result),
               json.dumps(to_gradescope(result)), csv_text([result]),
               json.dumps(autograder_notebook(result, {t["name"]: (f"c{i}", t["max_score"])
                                                       for i, t in enumerate(result["tests"])}))]
    for text in exports:
        assert "test_hidden" not in text and "hidden/" not in text
        assert not [secret for secret in secret_names if secret in text]

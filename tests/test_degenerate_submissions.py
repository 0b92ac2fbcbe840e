"""Degenerate submissions score (almost) nothing on the hidden suites (assignments 0, 1 and 2).

Issue #8: a submission whose functions all returned zeros scored 82/225, because several
hidden tests compared the student's output only with itself (a gradient with the
numeric gradient of the student's own constant loss, the vectorised loss with the
student's own naive one, the no-loop distances' speed with the student's own slowable
two-loop version). Every student function is replaced here by one that answers zeros,
random values, or its own inputs, each of the right shape and type
(:mod:`tests.degenerate.generator`); the real grader (sandbox and all) runs the hidden
suite on each, next to the complete reference submission.
"""
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from autograder.course import Course
from autograder.grading.submission import grade_submission
from tests.degenerate import runtime
from tests.degenerate.generator import (VARIANTS, degenerate_source,
                                        make_degenerate_submissions, student_functions)

#: Assignments whose hidden suite is checked here.
ASSIGNMENTS = ("assignment0", "assignment1", "assignment2")
#: A degenerate submission may keep at most this share of the hidden suite's points.
MAX_HIDDEN_SHARE = 0.10


def hidden_points(result):
    hidden = [test for test in result["tests"] if test["visibility"] == "hidden"]
    return sum(test["score"] for test in hidden), sum(test["max_score"] for test in hidden)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, repo_root, tmp_path_factory):
    """variant -> result, plus "reference" for the complete reference submission."""
    course = Course(repo_root)
    assignment = request.param
    source = course.source(assignment)
    root = tmp_path_factory.mktemp("degenerate")
    submissions = make_degenerate_submissions(source, root)
    reference = root / "reference" / assignment
    shutil.copytree(source, reference, ignore=shutil.ignore_patterns("__pycache__"))
    submissions["reference"] = reference

    def grade(item):
        name, folder = item
        return name, grade_submission(course, assignment, folder, hidden=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(grade, submissions.items()))


@pytest.mark.slow
def test_the_reference_submission_keeps_full_marks(graded):
    result = graded["reference"]
    assert "error" not in result and "grader_errors" not in result
    failed = [(t["name"], t["output"]) for t in result["tests"] if t["status"] != "passed"]
    assert not failed
    assert result["score"] == result["max_score"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_degenerate_submission_scores_near_zero_on_the_hidden_suite(graded, variant):
    result = graded[variant]
    assert "error" not in result and "grader_errors" not in result
    assert [t["name"] for t in result["tests"]] == [t["name"] for t in graded["reference"]["tests"]]
    score, max_score = hidden_points(result)
    assert max_score == hidden_points(graded["reference"])[1] > 0
    passed = [t["name"] for t in result["tests"]
              if t["visibility"] == "hidden" and t["status"] == "passed"]
    assert score <= MAX_HIDDEN_SHARE * max_score, \
        f"{variant}: {score}/{max_score} hidden points, passing {passed}"


# -- the generator itself (fast) ---------------------------------------------------------
MODULE = '''"""doc"""
import numpy as np


def given(x):
    return x


def task(x, w):
    """docstring"""
    ### BEGIN SOLUTION
    return x @ w, (x, w)
    ### END SOLUTION


class Model:
    def __init__(self, dim):
        self.W = np.zeros(dim)
        ### BEGIN SOLUTION
        self.W = np.ones(dim)
        ### END SOLUTION

    @staticmethod
    def helper(x):
        ### BEGIN SOLUTION
        return x
        ### END SOLUTION

    def plain(self):
        return 1
'''


def test_only_functions_with_solution_markers_are_student_functions():
    found = {(node.name, is_method) for node, is_method in student_functions(MODULE)}
    assert found == {("task", False), ("__init__", True), ("helper", False)}
    text, count = degenerate_source(MODULE, "nnfs", "zeros")
    assert count == 3
    assert text.count('@__import__("nnfs._degenerate"') == 3
    assert "    @__import__" in text and "\n@__import__" in text     # methods indented
    compile(text, "<degenerate>", "exec")


@pytest.mark.parametrize("variant", VARIANTS)
def test_degraded_answers_keep_shape_and_type_but_lose_the_values(variant):
    def affine(x, w, b):
        return x @ w + b, (x, w, b)

    wrapped = runtime.degenerate(variant)(affine)
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    x_before = x.copy()
    out, cache = wrapped(x, w, b)
    truth = affine(x, w, b)[0]
    assert out.shape == truth.shape and out.dtype == truth.dtype
    assert not np.allclose(out, truth)
    assert isinstance(cache, tuple) and [c.shape for c in cache] == [x.shape, w.shape, b.shape]
    np.testing.assert_array_equal(x, x_before)
    if variant == "inputs":
        assert cache[0] is x and cache[1] is w       # its inputs, unchanged
    loss = runtime.degenerate(variant)(lambda W, reg: (float(np.sum(W * W)) * reg, 2 * reg * W))
    value, grad = loss(w, 0.5)
    assert isinstance(value, float) and grad.shape == w.shape
    if variant == "inputs":
        assert value == 0.5 and grad is w


def test_methods_leave_degraded_state_behind():
    class Net:
        def __init__(self):
            self.params = {"W": np.ones((2, 2))}
            self.reg = 0.5

    Net.__init__ = runtime.degenerate("zeros", method=True)(Net.__init__)
    net = Net()
    np.testing.assert_array_equal(net.params["W"], np.zeros((2, 2)))
    assert net.reg == 0.5        # numbers in the state stay: they are settings, not results

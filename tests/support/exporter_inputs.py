"""Fabricated results and a tiny course for the exporter tests.

tests/test_exporter_inputs.py makes sure the fabricated results really follow the result
schema of docs/ARCHITECTURE.md, so the exporters are tested against what the grader writes.
"""
import json
from pathlib import Path

import nbformat

from autograder import cli
from autograder.result import STATUSES
from autograder.result_signing import load_key, sign_result

ASSIGNMENT = "assignment0"

PUBLIC_SOFTMAX = "tests/test_warmup.py::test_softmax_loss_small"
PUBLIC_SQUARE = "tests/test_warmup.py::test_square"
HIDDEN_GRADIENT = "test_hidden_warmup.py::test_softmax_gradient_numeric"


def make_test(name, score, max_score, status=None, visibility="visible", output=""):
    """One test entry of the result schema; status defaults to passed/failed by score."""
    if status is None:
        status = "passed" if score == max_score else "failed"
    assert status in STATUSES
    return {"name": name, "score": score, "max_score": max_score, "status": status,
            "visibility": visibility, "output": output}


def make_result(submission, tests, assignment=ASSIGNMENT):
    """A result dict as `autograder grade` writes it, with totals summed from ``tests``."""
    return {"submission": submission, "assignment": assignment,
            "score": sum(t["score"] for t in tests),
            "max_score": sum(t["max_score"] for t in tests),
            "tests": tests, "fingerprint": "sha256:" + "0" * 64,
            "graded_at": "2026-11-25T12:00:00+00:00", "notebooks": []}


def sample_results():
    """alice: everything right; bob: one wrong, one timed out; carol: graded without hidden."""
    return [
        make_result("alice", [make_test(PUBLIC_SOFTMAX, 2.0, 2.0),
                              make_test(PUBLIC_SQUARE, 1.0, 1.0),
                              make_test(HIDDEN_GRADIENT, 3.0, 3.0, visibility="hidden")]),
        make_result("bob", [make_test(PUBLIC_SOFTMAX, 0.0, 2.0, output="assert 0.5 == 0.7297"),
                            make_test(PUBLIC_SQUARE, 1.0, 1.0),
                            make_test(HIDDEN_GRADIENT, 0.0, 3.0, status="timeout",
                                      visibility="hidden",
                                      output="softmax_loss did not return within 10 s")]),
        make_result("carol", [make_test(PUBLIC_SOFTMAX, 2.0, 2.0),
                              make_test(PUBLIC_SQUARE, 0.0, 1.0, status="error")]),
    ]


def write_results(folder, results):
    """Write each result to ``folder/<submission>.json``, signed as the grader signs it;
    return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = load_key(create=True)
    for result in results:
        (folder / f"{result['submission']}.json").write_text(json.dumps(sign_result(result, key)),
                                                             encoding="utf-8")
    return folder


def make_course(root, assignment=ASSIGNMENT, hidden=True):
    """A minimal course checkout: one assignment with a package, a notebook and tests.

    Returns
    -------
    Path
        ``root``.
    """
    source = root / "assignments" / "source" / assignment
    (source / "nnfs").mkdir(parents=True)
    (source / "nnfs" / "__init__.py").write_text("")
    (source / "nnfs" / "warmup.py").write_text("def square(x):\n    ### BEGIN SOLUTION\n"
                                                 "    return x * x\n    ### END SOLUTION\n")
    (source / "tests").mkdir()
    (source / "tests" / "test_warmup.py").write_text(
        "def test_square(student):\n"
        "    assert student.import_module('nnfs.warmup').square(3) == 9\n")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Warm-up")]),
                   str(source / "warmup.ipynb"))
    if hidden:
        suite = root / "autograder" / "hidden" / assignment
        suite.mkdir(parents=True)
        (suite / "test_hidden_warmup.py").write_text(
            "def test_square_negative(student):\n"
            "    assert student.import_module('nnfs.warmup').square(-2) == 4\n")
    (root / "setup.py").write_text("from setuptools import setup\nsetup(name='tiny-course')\n")
    (root / "pyproject.toml").write_text("[build-system]\nrequires = ['setuptools']\n")
    (root / "requirements.txt").write_text("numpy\npytest\n")
    return root


def run_cli(monkeypatch, course_root, *argv):
    """Run ``autograder --course COURSE_ROOT ARGV...`` with only the export command loaded.

    The other sub-commands are other modules' business; loading only ours keeps these
    tests independent of them while going through the real ``autograder.cli.main``.
    """
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("autograder.exporters",))
    return cli.main(["--course", str(course_root), *map(str, argv)])

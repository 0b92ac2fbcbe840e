"""Gradescope's side of the Gradescope tests: the results.json schema it documents, and a
folder laid out like its /autograder with the real assignment0 zip unpacked in it.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import pytest

from autograder.course import Course
from autograder.gradescope.build import build_autograder_zip

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "assignment0"
RUN_TIMEOUT = 300

_VISIBILITY = {"enum": ["visible", "hidden", "after_due_date", "after_published"]}

#: results.json as Gradescope's autograder specification documents it
#: (https://gradescope-autograders.readthedocs.io/en/latest/specs/); unknown keys are
#: rejected so that a misspelt field fails here instead of being ignored by Gradescope.
GRADESCOPE_RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"type": "string"},
        "test_output_format": {"type": "string"},
        "test_name_format": {"type": "string"},
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": {"type": "string"},
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": _VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
    },
}


def validate_gradescope(results):
    """Raise unless ``results`` is a valid Gradescope results.json whose test scores add up."""
    jsonschema.validate(results, GRADESCOPE_RESULTS_SCHEMA)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


@pytest.fixture
def open_tmp():
    """A temporary folder other users can enter, as Gradescope's /autograder is.

    pytest's own tmp_path sits in a folder only its owner can enter; when the tests run as
    root the sandboxed child runs as nobody and must still reach the grader's sandbox
    runner, which here comes from the course copy inside the unpacked zip.
    """
    folder = Path(tempfile.mkdtemp(prefix="gradescope-e2e-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _gradescope_layout(folder, hidden):
    """FOLDER/autograder with the unpacked zip in source/ and empty submission/ and results/."""
    root = folder / "autograder"
    zip_path = build_autograder_zip(Course(REPO_ROOT), ASSIGNMENT, folder / "autograder.zip",
                                    hidden=hidden)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):  # zipfile.extractall drops the modes
        (root / "source" / script).chmod(0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def _run_autograder(root):
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADESCOPE_PYTHON": sys.executable,
           "PYTHONPATH": str(root / "source" / "course")}
    env.pop("COURSE_ROOT", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, f"run_autograder failed:\n{done.stdout}\n{done.stderr}"
    results = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(results)
    return results, done.stdout


def _copy_reference(destination):
    shutil.copytree(REPO_ROOT / "assignments" / "source" / ASSIGNMENT, destination,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
                    dirs_exist_ok=True)
    return destination

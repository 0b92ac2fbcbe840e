"""Shared fixtures for the project's own tests."""
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# `benchmarks.naive_layers` (the loop reference implementations) is imported by tests.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def repo_root():
    """The checkout under test."""
    return REPO_ROOT


@pytest.fixture(scope="session", autouse=True)
def results_key_file(tmp_path_factory):
    """The tests sign and check results with their own key, never the user's
    (``autograder.result_signing``); subprocesses inherit it through the environment."""
    path = tmp_path_factory.mktemp("results-key") / "results.key"
    previous = os.environ.get("AUTOGRADER_KEY_FILE")
    os.environ["AUTOGRADER_KEY_FILE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("AUTOGRADER_KEY_FILE", None)
    else:
        os.environ["AUTOGRADER_KEY_FILE"] = previous


@pytest.fixture(scope="session", autouse=True)
def alembic_on_path():
    """Tests create nbgrader gradebooks in this process; nbgrader runs ``alembic`` by name to
    stamp a new one, and ``make test`` runs ``.venv/bin/python`` without ``.venv/bin`` on PATH.
    The grader's own code does the same (``autograder.files.make_alembic_findable``)."""
    from autograder.files import make_alembic_findable
    make_alembic_findable()

"""Shared fixtures for the project's own tests."""
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

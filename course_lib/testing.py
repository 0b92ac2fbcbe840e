"""The ``student`` fixture for students' own test runs.

Public tests take a ``student`` fixture and import the code under test through it::

    def test_softmax(student):
        warmup = student.import_module("nnfs.warmup")

When a student runs ``pytest`` in an assignment folder, the fixture below is a plain
importer. When the autograder runs the same tests, its pytest plugin supplies a
``student`` whose modules are proxies to a sandboxed child process instead.
"""
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


class LocalStudent:
    """Imports the student's package directly from ``root`` (the assignment folder).

    Parameters
    ----------
    root : str or Path
        The folder that contains the student package (``nnfs/``).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def import_module(self, name: str) -> ModuleType:
        """Import and return module ``name`` (e.g. ``"nnfs.warmup"``) from ``root``."""
        root = str(self.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        return importlib.import_module(name)


#: Where a test runner that reaches student code another way (the course's grader, which
#: runs it in a sandbox) puts its factory of ``student`` objects, for the fixture below.
STUDENT_FACTORY = pytest.StashKey[Callable[[pytest.FixtureRequest], object]]()


@pytest.fixture
def student(request: pytest.FixtureRequest) -> object:
    """A :class:`LocalStudent` rooted at the assignment folder (where ``pytest.ini`` is),
    unless the running pytest set a :data:`STUDENT_FACTORY`."""
    factory = request.config.stash.get(STUDENT_FACTORY, None)
    if factory is not None:
        return factory(request)
    return LocalStudent(request.config.rootpath)

"""A pytest plugin that runs a hidden suite in one process, without the sandbox.

The project's tests use it to run the hidden suite of an assignment against the reference
solution and against mutants quickly (the real grader, with its sandboxed child process,
is exercised separately). Load it with ``-p tests.mutants.local_grading_plugin`` and point it at
the code under test with two environment variables:

``LOCAL_GRADING_STUDENT``
    the folder holding the student's ``nnfs`` package (a mutant copy, or the source);
``LOCAL_GRADING_REFERENCE``
    the folder holding the instructor's ``nnfs`` package.

Both packages are called ``nnfs``, so the reference is copied once per session under the
name ``nnfs_reference`` (its ``nnfs`` imports rewritten) and imported from there.
"""
import importlib
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from course_lib.testing import LocalStudent

REFERENCE_PACKAGE = "nnfs_reference"


class RenamedReference:
    """``import_module("nnfs.x")`` imports ``nnfs_reference.x`` from ``folder``."""

    def __init__(self, folder):
        self.root = Path(folder)

    def import_module(self, name):
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        return importlib.import_module(re.sub(r"^nnfs\b", REFERENCE_PACKAGE, name))


def copy_renamed(source_package, target_parent):
    """Copy package ``source_package`` (a folder named ``nnfs``) to
    ``target_parent/nnfs_reference`` with its absolute ``nnfs`` imports renamed."""
    target = Path(target_parent) / REFERENCE_PACKAGE
    shutil.copytree(source_package, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"^(\s*)(from|import) nnfs\b", rf"\1\2 {REFERENCE_PACKAGE}", text,
                      flags=re.MULTILINE)
        path.write_text(text)
    return target


def _folder_from_env(variable):
    value = os.environ.get(variable)
    if not value or not (Path(value) / "nnfs").is_dir():
        raise pytest.UsageError(f"set {variable} to a folder that contains an nnfs package "
                                f"(got {value!r})")
    return Path(value)


@pytest.fixture(scope="session")
def student():
    return LocalStudent(_folder_from_env("LOCAL_GRADING_STUDENT"))


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    copy_renamed(_folder_from_env("LOCAL_GRADING_REFERENCE") / "nnfs", folder)
    return RenamedReference(folder)

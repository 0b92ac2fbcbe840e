"""Every notebook of every assignment runs top to bottom with the reference solutions.

For each ``assignments/source/<assignment>/*.ipynb`` this module

* validates the nbgrader metadata the way nbgrader itself does (schema version, grade ids
  present and unique, points on graded cells, markdown answers both graded and solution)
  and clears the solutions with nbgrader's own preprocessor and the course's markers, which
  fails on unbalanced markers or a solution region outside a solution cell;
* executes the notebook in a fresh kernel of the interpreter running the tests, in the
  notebook's folder, in fast mode on the embedded synthetic data (``COURSE_FAST=1``,
  ``COURSE_DATASET=synthetic``, ``MPLBACKEND=Agg``), and reports the failing cell's source
  and error;
* checks that every autograded test cell earns its full points with nbgrader's grading rule
  (an error or anything on stderr gives zero) and that source notebooks carry no outputs.
"""
import copy
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from nbgrader import utils as nbgrader_utils
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.preprocessors import ClearSolutions

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOT = REPO_ROOT / "assignments" / "source"
NOTEBOOKS = sorted(SOURCE_ROOT.glob("*/*.ipynb"))

# The course's solution markers (assignments/nbgrader_config.py sets the same).
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"

CELL_TIMEOUT = 600  # seconds; fast mode keeps every cell far below this
KERNEL_NAME = "nnfs-notebook-tests"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def notebook_id(path):
    return f"{path.parent.name}/{path.name}"


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory):
    """A kernelspec that runs ipykernel with the interpreter running these tests."""
    kernels = tmp_path_factory.mktemp("kernels")
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python (notebook tests)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def kernel_environment():
    """The test process's environment plus fast mode, synthetic data and headless plots.

    BLAS gets one thread: on a busy 2-core machine OpenBLAS' spinning threads make small
    matrix products several times slower, not faster.
    """
    env = dict(os.environ)
    env.update({"COURSE_FAST": "1", "COURSE_DATASET": "synthetic", "MPLBACKEND": "Agg",
                "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    return env


def describe_cell(nb, index):
    """A header and the source of cell ``index`` for a failure message."""
    cell = nb.cells[index]
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    name = f"cell {index}" + (f" ({grade_id})" if grade_id else "")
    return f"{name}:\n{cell.source}"


def failing_cell_index(nb):
    """Index of the first code cell whose outputs hold an error, or None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(out.output_type == "error" for out in cell.outputs):
            return index
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_source_notebook_has_valid_nbgrader_metadata(path):
    nb = nbformat.read(path, as_version=4)
    try:
        MetadataValidator().validate_nb(nb)
    except ValidationError as exc:
        pytest.fail(f"{notebook_id(path)}: invalid nbgrader metadata: {exc}")
    graded = [cell for cell in nb.cells if nbgrader_utils.is_grade(cell)]
    assert graded, f"{notebook_id(path)} has no graded cell: nothing would be graded"
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        assert meta.get("schema_version") == 3 or not meta, (
            f"{notebook_id(path)}: a cell has nbgrader schema_version "
            f"{meta.get('schema_version')}; regenerate its metadata with nbgrader 0.9 (3)")

    clear = ClearSolutions(begin_solution_delimeter=BEGIN_SOLUTION,
                           end_solution_delimeter=END_SOLUTION)
    try:
        released, _ = clear.preprocess(copy.deepcopy(nb), {})
    except RuntimeError as exc:
        pytest.fail(f"{notebook_id(path)}: nbgrader cannot clear the solutions: {exc}")
    for cell in released.cells:
        assert BEGIN_SOLUTION not in cell.source and END_SOLUTION not in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_source_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    with_outputs = [index for index, cell in enumerate(nb.cells)
                    if cell.cell_type == "code" and (cell.outputs or cell.execution_count)]
    assert not with_outputs, (f"{notebook_id(path)}: cells {with_outputs} have outputs; clear "
                              f"them before committing (jupyter nbconvert --clear-output)")


# A floor on a speed-up ("at least 50 times faster") is contradicted by the first run on a busy
# laptop; notebooks give ranges and say what a busy machine does instead.
SPEED_FLOOR = re.compile(r"at least\s+\d+\s*(times|x)\s+(faster|the speed)", re.IGNORECASE)
PRINTED_RATIO = re.compile(r"speed-up|x the speed|times faster", re.IGNORECASE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_speed_claims_hold_on_a_busy_machine(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        where = f"{notebook_id(path)}, cell {index}"
        assert not SPEED_FLOOR.search(cell.source), (
            f"{where} promises a minimum speed-up; give the usual range and what a busy machine "
            f"measures instead")
        if cell.cell_type == "code" and "perf_counter()" in cell.source \
                and PRINTED_RATIO.search(cell.source):
            # a printed ratio comes from the fastest of several runs, not from a single one
            assert "min(" in cell.source, f"{where} prints a speed-up measured by a single run"
            assert not re.search(r"assert[^\n]*(speed|seconds|_time|t_)", cell.source), (
                f"{where} asserts on a timing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_executes_and_test_cells_pass(path, kernel_spec_manager):
    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_spec_manager)
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute(env=kernel_environment())
    except CellTimeoutError as exc:
        pytest.fail(f"{notebook_id(path)}: a cell ran longer than {CELL_TIMEOUT} s in fast "
                    f"mode:\n{ANSI_ESCAPE.sub('', str(exc))}")
    except CellExecutionError as exc:
        index = failing_cell_index(nb)
        where = describe_cell(nb, index) if index is not None else "(cell not found)"
        error = ANSI_ESCAPE.sub("", f"{exc.ename}: {exc.evalue}\n{exc.traceback}")
        pytest.fail(f"{notebook_id(path)} failed in {where}\n\n{error}", pytrace=False)
    elapsed = time.perf_counter() - start
    print(f"{notebook_id(path)} executed in {elapsed:.1f} s")

    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not nbgrader_utils.is_grade(cell):
            continue
        score, max_score = nbgrader_utils.determine_grade(cell)
        stderr = "".join(out.get("text", "") for out in cell.outputs
                         if out.output_type == "stream" and out.name == "stderr")
        assert score == max_score, (
            f"{notebook_id(path)}: the reference earns {score} of {max_score} points in "
            f"{describe_cell(nb, index)}\nstderr: {stderr or '(empty)'}")


def test_show_warnings_on_stdout_keeps_stderr_clean(capsys):
    import warnings

    import numpy as np

    from course_lib.notebook import show_warnings_on_stdout

    saved = warnings.showwarning
    try:
        show_warnings_on_stdout()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            np.exp(np.array([1000.0]))
    finally:
        warnings.showwarning = saved
    captured = capsys.readouterr()
    assert "overflow encountered in exp" in captured.out
    assert captured.err == ""

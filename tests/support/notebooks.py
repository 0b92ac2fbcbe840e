"""The nbgrader notebook of assignment0 as the nbgrader tests handle it: read it, find its
cells by grade id, and fill in the reference solution as a student who solved everything.
"""
import shutil

import nbformat

NOTEBOOK = "warmup.ipynb"


def read_nb(path):
    return nbformat.read(str(path), as_version=4)


def cells_by_id(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def fill_in_reference(folder, source):
    """What a student who solved everything hands in: reference nnfs/ and notebook cells."""
    shutil.copytree(source / "nnfs", folder / "nnfs", dirs_exist_ok=True)
    nb, reference = read_nb(folder / NOTEBOOK), cells_by_id(read_nb(source / NOTEBOOK))
    for grade_id, cell in cells_by_id(nb).items():
        if cell.metadata["nbgrader"].get("solution"):
            cell.source = reference[grade_id].source
    nbformat.write(nb, str(folder / NOTEBOOK))

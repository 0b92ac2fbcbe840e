"""End to end: the Gradescope zip of the real assignment0, run as Gradescope would run it.

The zip is unpacked into TMP/autograder/source, an upload is put in
TMP/autograder/submission and `run_autograder` runs with GRADESCOPE_ROOT=TMP/autograder
and the current interpreter instead of the one setup.sh would install (setup.sh itself
needs root and the network). PYTHONPATH points at the course copy inside the zip, so the
grader that runs is the one the zip carries.
"""
import json
import shutil
import zipfile

import pytest

from autograder.gradescope.build import CONFIG_NAME
from autograder.release.stripping import strip_tree
from tests.support.gradescope import (ASSIGNMENT, REPO_ROOT, _copy_reference, _gradescope_layout,
                                      _run_autograder, open_tmp)  # noqa: F401 - fixture


def test_honest_upload_gets_full_marks_with_hidden_tests(open_tmp):
    root = _gradescope_layout(open_tmp, hidden=True)
    # uploaded as the folder's contents, the way Gradescope's drag-and-drop gives them
    _copy_reference(root / "submission")
    results, stdout = _run_autograder(root)
    max_score = sum(test["max_score"] for test in results["tests"])
    assert max_score > 0 and results["score"] == max_score, results["tests"][0]["output"]
    visibilities = {test["visibility"] for test in results["tests"]}
    assert visibilities == {"visible", "after_published"}, "public and hidden tests both ran"
    assert all(test["status"] == "passed" for test in results["tests"])
    # the upload folder itself was graded (the log on stdout is for staff only)
    assert f"grading {root / 'submission'} " in stdout


def test_stub_upload_as_a_zip_scores_zero_even_if_it_writes_results(open_tmp):
    root = _gradescope_layout(open_tmp, hidden=False)
    config = json.loads((root / "source" / CONFIG_NAME).read_text())
    assert config["hidden"] is False
    work = _copy_reference(open_tmp / "work" / ASSIGNMENT)
    assert strip_tree(work / "nnfs"), "the reference has solution blocks to strip"
    # the stub also tries to hand itself full marks by writing results.json on import
    fake = root / "results" / "results.json"
    warmup = work / "nnfs" / "warmup.py"
    warmup.write_text(
        "import json\n"
        f"try:\n    open({str(fake)!r}, 'w').write(json.dumps({{'score': 1000, 'tests': []}}))\n"
        "except OSError:\n    pass\n" + warmup.read_text())
    # uploaded as a zip of the assignment folder (so the files sit in assignment0/)
    with zipfile.ZipFile(root / "submission" / "assignment0.zip", "w") as archive:
        for path in sorted(work.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(work.parent).as_posix())
    results, _ = _run_autograder(root)
    assert results["score"] == 0.0
    assert results["tests"] and all(test["status"] == "failed" for test in results["tests"])
    assert {test["visibility"] for test in results["tests"]} == {"visible"}
    assert any("NotImplementedError" in test["output"] for test in results["tests"])


@pytest.mark.parametrize("upload", ["empty", "notebook-only"])
def test_upload_without_the_package_gets_a_zero_and_instructions(open_tmp, upload):
    root = _gradescope_layout(open_tmp, hidden=False)
    if upload == "notebook-only":
        shutil.copy(REPO_ROOT / "assignments" / "source" / ASSIGNMENT / "warmup.ipynb",
                    root / "submission")
    results, _ = _run_autograder(root)
    assert results["score"] == 0.0 and results["tests"] == []
    assert "Upload the files of your assignment folder (nnfs/, warmup.ipynb)" in results["output"]

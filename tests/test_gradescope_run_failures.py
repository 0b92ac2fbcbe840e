"""The Gradescope runner always leaves a valid results.json (issue #8).

Broken uploads (encrypted or non-UTF-8 zips, a zip of a zip) get a score of 0 and a message
saying what to upload; a grader that fails as a whole, or cannot even start, still leaves a
valid results.json saying the staff will regrade. After each, an honest upload in the same
autograder folder gets full marks.
"""
import json
import os
import shutil
import subprocess

from autograder.gradescope import run as gradescope_run
from tests.support.gradescope import (ASSIGNMENT, _copy_reference, _gradescope_layout,
                                      _run_autograder, open_tmp,  # noqa: F401 - fixture
                                      validate_gradescope)
from tests.support.submissions import _members, _with_flags, _write_zip

GRADER_SIDE = "problem on the grader's side, not in your work"


def _fresh_upload(root):
    shutil.rmtree(root / "submission")
    (root / "submission").mkdir()
    for path in (root / "results").iterdir():
        path.unlink()
    return root / "submission"


def _honest_gets_full_marks(root, work):
    upload = _fresh_upload(root)
    shutil.copytree(work, upload, dirs_exist_ok=True)
    results, _ = _run_autograder(root)
    assert results["score"] == sum(test["max_score"] for test in results["tests"]) > 0


def test_broken_zip_uploads_get_a_zero_with_instructions_and_honest_still_passes(open_tmp):
    root = _gradescope_layout(open_tmp, hidden=False)
    work = _copy_reference(open_tmp / "work" / ASSIGNMENT)
    members = _members(work)
    secret = f"{ASSIGNMENT}/nnfs/secret.py"
    odd = f"{ASSIGNMENT}/nnfs/QQ.py"
    uploads = {
        "encrypted": (_with_flags(_write_zip(open_tmp / "e.zip", members + [(secret, b"x")])
                                  .read_bytes(), secret, 0x1), "password-protected"),
        "non_utf8": (_with_flags(_write_zip(open_tmp / "u.zip", members + [(odd, b"x")])
                                 .read_bytes(), odd, 0x800,
                                 new_name=f"{ASSIGNMENT}/nnfs/".encode() + b"\xff\xfe.py"),
                     "not valid UTF-8"),
        "nested": (_write_zip(open_tmp / "n.zip", [("inner.zip", _write_zip(
            open_tmp / "i.zip", members).read_bytes())]).read_bytes(), "contains another zip"),
        "corrupt": (b"PK\x03\x04" + b"\0" * 100, "not a readable zip file"),
    }
    for name, (data, words) in uploads.items():
        upload = _fresh_upload(root)
        (upload / f"{name}.zip").write_bytes(data)
        results, _ = _run_autograder(root)      # exit 0 and a valid results.json
        assert results["score"] == 0.0 and results["tests"] == []
        assert words in results["output"], (name, results["output"])
        assert "Traceback" not in results["output"]
    _honest_gets_full_marks(root, work)


def test_a_grader_failure_still_writes_results_json_and_honest_still_passes(open_tmp):
    root = _gradescope_layout(open_tmp, hidden=False)
    work = _copy_reference(open_tmp / "work" / ASSIGNMENT)
    config = root / "source" / "gradescope_config.json"
    good = config.read_text()
    # the grader fails as a whole (here: its configuration is damaged)
    config.write_text("{ not json")
    upload = _fresh_upload(root)
    shutil.copytree(work, upload, dirs_exist_ok=True)
    results, stdout = _run_autograder(root)
    assert results["score"] == 0.0 and GRADER_SIDE in results["output"]
    assert "will regrade" in results["output"]
    config.write_text(good)
    _honest_gets_full_marks(root, work)


def test_run_autograder_writes_a_fallback_when_the_grader_cannot_start(open_tmp):
    root = _gradescope_layout(open_tmp, hidden=False)
    planted = root / "results" / "results.json"
    planted.write_text(json.dumps({"score": 1000, "tests": []}))   # from an earlier run
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADESCOPE_PYTHON": "/bin/false"}
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "writing a fallback results.json" in done.stderr
    results = json.loads(planted.read_text())
    validate_gradescope(results)
    assert results["score"] == 0.0 and GRADER_SIDE in results["output"]


def test_main_turns_any_grader_exception_into_a_results_json(tmp_path, monkeypatch):
    def broken(config, upload, results_path):
        raise RuntimeError("the course checkout is gone")
    monkeypatch.setattr(gradescope_run, "grade_upload", broken)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"assignment": ASSIGNMENT, "hidden": False,
                                  "hidden_visibility": "after_published"}))
    results_path = tmp_path / "results" / "results.json"
    assert gradescope_run.main(["--config", str(config), "--submission", str(tmp_path),
                                "--results", str(results_path)]) == 0
    results = json.loads(results_path.read_text())
    validate_gradescope(results)
    assert results["score"] == 0.0 and "RuntimeError" in results["output"]
    assert "the course checkout is gone" not in results["output"], "details go to the staff log"

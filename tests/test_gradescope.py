"""Gradescope: results.json conversion, the autograder zip, and finding the upload.

The end-to-end test (unzip into a folder laid out like Gradescope's /autograder, run
`run_autograder` with the current interpreter) lives in test_gradescope_run.py.
"""
import json
import os
import stat
import zipfile

import pytest

from autograder.course import Course
from autograder.errors import UserError
from autograder.gradescope.build import (CONFIG_NAME, build_autograder_zip, gradescope_test,
                                             to_gradescope, unreadable_submission)
from autograder.gradescope.run import (SubmissionLayoutError, assignment_markers,
                                                 grade_upload, locate_submission)
from tests.support.exporter_inputs import (ASSIGNMENT, HIDDEN_GRADIENT, PUBLIC_SOFTMAX,
                                           PUBLIC_SQUARE, make_course, make_test, run_cli,
                                           sample_results)
from tests.support.gradescope import validate_gradescope

# --- result -> results.json ---------------------------------------------------------------

def test_to_gradescope_keeps_scores_and_maps_statuses():
    bob = sample_results()[1]
    converted = to_gradescope(bob, execution_time=4.4)
    validate_gradescope(converted)
    assert converted["score"] == 1.0 and converted["execution_time"] == 4
    assert converted["stdout_visibility"] == "hidden"
    # the summary students see at once counts the public tests only; the total (the
    # grade) is shown no sooner than the hidden tests
    assert "Public tests: 1 / 3 points; 1 of 2 tests passed" in converted["output"]
    assert "/ 6" not in converted["output"] and "of 3 tests" not in converted["output"]
    assert converted["visibility"] == "after_published"
    assert converted["output_format"] == converted["test_output_format"] == "text"
    softmax, square, hidden = converted["tests"]
    assert (softmax["name"], softmax["status"], softmax["score"], softmax["max_score"]) == (
        PUBLIC_SOFTMAX, "failed", 0.0, 2.0)
    assert softmax["output"] == "assert 0.5 == 0.7297"
    assert (square["status"], square["visibility"]) == ("passed", "visible")
    # a timeout is a failure whose output says it timed out, above the grader's message
    assert hidden["name"] == HIDDEN_GRADIENT and hidden["status"] == "failed"
    assert hidden["output"].splitlines()[0].startswith("Timed out")
    assert "did not return within 10 s" in hidden["output"]
    assert hidden["visibility"] == "after_published"


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date", "visible"])
def test_hidden_tests_visibility_is_configurable(visibility):
    converted = to_gradescope(sample_results()[0], hidden_visibility=visibility)
    validate_gradescope(converted)
    assert [t["visibility"] for t in converted["tests"]] == ["visible", "visible", visibility]
    assert converted["visibility"] == visibility      # the total, with hidden points
    assert ("Score: 6 / 6" in converted["output"]) == (visibility == "visible")


def test_a_result_without_hidden_tests_shows_its_total_at_once():
    converted = to_gradescope(sample_results()[2])
    validate_gradescope(converted)
    assert converted["visibility"] == "visible"
    assert "Score: 2 / 3 points; 1 of 2 tests passed" in converted["output"]


def test_an_error_without_output_still_says_what_happened():
    test = gradescope_test(make_test(PUBLIC_SQUARE, 0.0, 1.0, status="error"))
    assert test["status"] == "failed" and test["output"].startswith("Error:")


def test_unknown_visibility_is_refused():
    with pytest.raises(UserError, match="after_published"):
        to_gradescope(sample_results()[0], hidden_visibility="later")


def test_notebook_findings_and_grading_errors_reach_the_student():
    result = sample_results()[0]
    result["notebooks"] = [{"notebook": "warmup.ipynb", "status": "tampered",
                            "message": "cell 'q1' was deleted"}]
    result["error"] = ("no test ran; grader log:\n"
                       "hidden/test_warmup_hidden.py:12: in test_secret\n    expected = 0.7297")
    output = to_gradescope(result)["output"]
    assert "Notebook check: cell 'q1' was deleted" in output
    assert "Grading stopped: no test ran; grader log (course staff" in output
    assert "test_secret" not in output and "0.7297" not in output


def test_unreadable_submission_is_valid_and_scores_zero():
    results = unreadable_submission("upload your nnfs/ folder")
    validate_gradescope(results)
    assert results["score"] == 0.0 and results["output"] == "upload your nnfs/ folder"


# --- the zip ------------------------------------------------------------------------------

def _zip_names(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: info for info in archive.infolist()}


def test_zip_is_self_contained(tmp_path):
    course = Course(make_course(tmp_path / "course"))
    (course.source(ASSIGNMENT) / "nnfs" / "fast.pyx").write_text("def f(): pass\n")
    (course.source(ASSIGNMENT) / "nnfs" / "fast.c").write_text("/* generated by Cython */\n")
    (course.source(ASSIGNMENT) / "__pycache__").mkdir()
    (course.source(ASSIGNMENT) / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    zip_path = build_autograder_zip(course, ASSIGNMENT, tmp_path / "ag.zip")
    names = _zip_names(zip_path)
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(names[script].external_attr >> 16) & 0o111, f"{script} not executable"
    expected = {
        "requirements.txt", CONFIG_NAME, "course/setup.py", "course/pyproject.toml",
        "course/course_lib/__init__.py", "course/autograder/course.py",
        "course/autograder/gradescope/run.py",
        "course/assignments/source/assignment0/nnfs/warmup.py",  # for the `reference` fixture
        "course/assignments/source/assignment0/tests/test_warmup.py",
    }
    assert expected <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so", ".c"))]
    assert "course/assignments/source/assignment0/nnfs/fast.pyx" in names
    assert not [n for n in names if n.startswith("course/autograder/hidden")]
    with zipfile.ZipFile(zip_path) as archive:
        config = json.loads(archive.read(CONFIG_NAME))
        assert archive.read("run_autograder").startswith(b"#!/usr/bin/env bash\n")
    assert config == {"assignment": ASSIGNMENT, "hidden": False,
                      "hidden_visibility": "after_published", "timeout": None}


def test_zip_with_hidden_ships_only_this_assignments_suite(tmp_path):
    root = make_course(tmp_path / "course")
    other = root / "autograder" / "hidden" / "assignment1"
    other.mkdir(parents=True)
    (other / "test_secret.py").write_text("def test_x(student): pass\n")
    zip_path = build_autograder_zip(Course(root), ASSIGNMENT, tmp_path / "ag.zip", hidden=True,
                                    hidden_visibility="hidden", timeout=20)
    hidden = sorted(n for n in _zip_names(zip_path) if n.startswith("course/autograder/hidden"))
    assert hidden == ["course/autograder/hidden/assignment0/test_hidden_warmup.py"]
    with zipfile.ZipFile(zip_path) as archive:
        config = json.loads(archive.read(CONFIG_NAME))
    settings = (config["hidden"], config["hidden_visibility"], config["timeout"])
    assert settings == (True, "hidden", 20)


def test_zip_bytes_are_reproducible(tmp_path):
    course = Course(make_course(tmp_path / "course"))
    first = build_autograder_zip(course, ASSIGNMENT, tmp_path / "a.zip").read_bytes()
    second = build_autograder_zip(course, ASSIGNMENT, tmp_path / "b.zip").read_bytes()
    assert first == second


def test_zip_refuses_bad_requests(tmp_path):
    course = Course(make_course(tmp_path / "course", hidden=False))
    with pytest.raises(UserError, match="unknown assignment 'nope'"):
        build_autograder_zip(course, "nope", tmp_path / "a.zip")
    with pytest.raises(UserError, match="has no hidden suite"):
        build_autograder_zip(course, ASSIGNMENT, tmp_path / "a.zip", hidden=True)
    with pytest.raises(UserError, match="--timeout"):
        build_autograder_zip(course, ASSIGNMENT, tmp_path / "a.zip", timeout=0)
    (course.root / "requirements.txt").unlink()
    with pytest.raises(UserError, match="requirements.txt is missing"):
        build_autograder_zip(course, ASSIGNMENT, tmp_path / "a.zip")
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".*partial"))


def test_cli_gradescope_writes_the_zip(monkeypatch, tmp_path, capsys):
    course = make_course(tmp_path / "course")
    monkeypatch.chdir(tmp_path)
    assert run_cli(monkeypatch, course, "export", "gradescope", ASSIGNMENT, "--hidden") == 0
    assert "Configure Autograder" in capsys.readouterr().err
    assert "setup.sh" in _zip_names(tmp_path / "assignment0-gradescope-hidden.zip")
    assert run_cli(monkeypatch, course, "export", "gradescope", "nope") == 2
    assert "unknown assignment 'nope'" in capsys.readouterr().err


# --- finding the assignment in an upload --------------------------------------------------

@pytest.fixture
def source(tmp_path):
    return Course(make_course(tmp_path / "course")).source(ASSIGNMENT)


def _student_files(folder):
    (folder / "nnfs").mkdir(parents=True)
    (folder / "nnfs" / "__init__.py").write_text("")
    (folder / "nnfs" / "warmup.py").write_text("def square(x):\n    return x * x\n")
    (folder / "warmup.ipynb").write_text("{}")
    return folder


def _zip_folder(folder, zip_path, prefix=""):
    with zipfile.ZipFile(zip_path, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return zip_path


def test_markers_are_the_package_and_the_notebooks(source):
    assert assignment_markers(source) == (["nnfs"], ["warmup.ipynb"])


def test_upload_of_the_folder_contents(source, tmp_path):
    upload = _student_files(tmp_path / "submission")
    assert locate_submission(upload, source, tmp_path / "scratch") == upload


def test_upload_of_a_renamed_nested_folder(source, tmp_path):
    upload = tmp_path / "submission"
    inner = _student_files(upload / "assignment0 (2)")
    (upload / "__MACOSX" / "nnfs").mkdir(parents=True)
    (upload / "__MACOSX" / "nnfs" / "__init__.py").write_text("")
    assert locate_submission(upload, source, tmp_path / "scratch") == inner


def test_the_folder_with_the_notebook_wins_at_equal_depth(source, tmp_path):
    upload = tmp_path / "submission"
    (upload / "a_backup" / "nnfs").mkdir(parents=True)
    (upload / "a_backup" / "nnfs" / "__init__.py").write_text("")
    real = _student_files(upload / "b_work")
    assert locate_submission(upload, source, tmp_path / "scratch") == real


@pytest.mark.parametrize("prefix", ["", "assignment0/", "my work/assignment0/"])
def test_upload_of_a_zip(source, tmp_path, prefix):
    work = _student_files(tmp_path / "work")
    upload = tmp_path / "submission"
    upload.mkdir()
    _zip_folder(work, upload / "submission.zip", prefix)
    found = locate_submission(upload, source, tmp_path / "scratch")
    assert (found / "nnfs" / "warmup.py").read_text() == "def square(x):\n    return x * x\n"
    assert found.is_relative_to(tmp_path / "scratch")


def test_upload_without_the_package_says_what_to_upload(source, tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "warmup.ipynb").write_text("{}")
    with pytest.raises(SubmissionLayoutError, match=r"no nnfs/ folder.*nnfs/, warmup.ipynb"):
        locate_submission(upload, source, tmp_path / "scratch")


def test_a_corrupt_zip_is_reported(source, tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "hw.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SubmissionLayoutError, match="hw.zip: .*not a readable zip"):
        locate_submission(upload, source, tmp_path / "scratch")


def test_an_unsafe_zip_is_reported(source, tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    with zipfile.ZipFile(upload / "evil.zip", "w") as archive:
        archive.writestr("../../outside.py", "print('escaped')")
    with pytest.raises(SubmissionLayoutError, match="evil.zip: .*unsafe path"):
        locate_submission(upload, source, tmp_path / "scratch")
    assert not list(tmp_path.rglob("outside.py"))


def test_grade_upload_writes_a_zero_with_a_message_for_an_empty_upload(source, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("COURSE_ROOT", str(source.parents[2]))
    (tmp_path / "submission").mkdir()
    results_path = tmp_path / "results" / "results.json"
    results_path.parent.mkdir()
    results_path.write_text('{"score": 100}')  # e.g. planted by student code: replaced
    config = {"assignment": ASSIGNMENT, "hidden": False, "hidden_visibility": "after_published",
              "timeout": None}
    grade_upload(config, tmp_path / "submission", results_path)
    written = json.loads(results_path.read_text())
    validate_gradescope(written)
    assert written["score"] == 0.0 and "does not contain the assignment" in written["output"]
    assert stat.S_IMODE(os.stat(results_path).st_mode) == 0o644


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_scripts_are_valid_bash(script):
    import subprocess

    from autograder.gradescope.build import TEMPLATE_DIR

    path = TEMPLATE_DIR / script
    assert os.access(path, os.X_OK), f"{script} must be executable in the checkout too"
    checked = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def _fake_tools(folder, python_version):
    """A folder for PATH with a `python3` that reports ``python_version`` and an `apt-get`
    that only records that it was called."""
    folder.mkdir()
    (folder / "python3").write_text(f"#!/bin/sh\necho 'Python {python_version}'\n")
    (folder / "apt-get").write_text(f"#!/bin/sh\necho \"$@\" >> '{folder}/apt-get.calls'\n")
    for tool in ("python3", "apt-get"):
        (folder / tool).chmod(0o755)
    return folder


def _run_setup(fake, *args):
    import subprocess

    from autograder.gradescope.build import TEMPLATE_DIR
    env = dict(os.environ, PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["bash", str(TEMPLATE_DIR / "setup.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("version", ["3.8.10", "3.9.18", "2.7.18"])
def test_setup_sh_refuses_an_old_python_before_installing_anything(tmp_path, version):
    fake = _fake_tools(tmp_path / "bin", version)
    checked = _run_setup(fake, "--check-python")
    assert checked.returncode == 1
    assert f"Python {version}" in checked.stderr and "needs Python >= 3.10" in checked.stderr
    # the whole script stops at the same check, before apt-get or pip run
    full = _run_setup(fake)
    assert full.returncode == 1 and "needs Python >= 3.10" in full.stderr
    assert not (fake / "apt-get.calls").exists()


@pytest.mark.parametrize("version", ["3.10.12", "3.12.1", "4.0.0"])
def test_setup_sh_accepts_python_3_10_and_newer(tmp_path, version):
    checked = _run_setup(_fake_tools(tmp_path / "bin", version), "--check-python")
    assert checked.returncode == 0, checked.stderr
    assert f"Python {version}" in checked.stdout


def test_setup_sh_says_so_when_the_version_cannot_be_read(tmp_path):
    fake = _fake_tools(tmp_path / "bin", "3.12.0")
    (fake / "python3").write_text("#!/bin/sh\nexit 3\n")
    checked = _run_setup(fake, "--check-python")
    assert checked.returncode == 1 and "cannot tell the version" in checked.stderr

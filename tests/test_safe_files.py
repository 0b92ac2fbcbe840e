"""Reading student files before the sandbox: regular files only, bounded size and time.

Each attack is a file a submission can hold (a symlink to a device, a FIFO, a test cell with
thousands of markers, a huge or deeply nested tree); the checks must refuse it quickly and
still read an honest notebook next to it.
"""
import json
import os
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pytest

from autograder.grading import notebooks
from autograder.grading import submission as grading
from autograder.course import Course
from autograder.safe_files import (Deadline, UnsafeFile, read_regular_file,
                                   walk_regular_files)

ASSIGNMENT = "assignment0"


@pytest.fixture(scope="module")
def course(repo_root):
    return Course(repo_root)


def copy_assignment(course, folder):
    return Path(shutil.copytree(course.source(ASSIGNMENT), folder,
                                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")))


def within(seconds, function, *args, **kwargs):
    """Run ``function(*args, **kwargs)`` in a thread; fail if it has not returned after ``seconds``
    (the thread is a daemon, so a blocked read cannot hang the test run)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:    # handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} blocked for more than {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_reads_refuse_symlinks_fifos_devices_and_oversized_files(tmp_path):
    regular = tmp_path / "notes.txt"
    regular.write_bytes(b"hello")
    assert read_regular_file(regular) == b"hello"
    (tmp_path / "link").symlink_to(regular)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, words in [(tmp_path / "link", "symbolic link"), (fifo, "not a regular file"),
                        (Path("/dev/zero"), "not a regular file"), (tmp_path, "not a regular")]:
        with pytest.raises(UnsafeFile, match=words):
            within(5, read_regular_file, path)
    with pytest.raises(UnsafeFile, match="larger than"):
        read_regular_file(regular, max_bytes=4)


def test_walk_yields_regular_files_only_and_stops_at_its_caps(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.py").write_text("x")
    (tmp_path / "top.py").write_text("t")
    (tmp_path / "to_folder").symlink_to(tmp_path / "a")
    (tmp_path / "to_file").symlink_to(tmp_path / "top.py")
    os.mkfifo(tmp_path / "pipe")
    found = walk_regular_files(tmp_path)
    assert [(rel, path is not None) for rel, path in found] == \
        [("a/b/x.py", True), ("pipe", False), ("top.py", True)]
    with pytest.raises(UnsafeFile, match="more than 3 files"):
        walk_regular_files(tmp_path, max_entries=3)
    with pytest.raises(UnsafeFile, match="more than 1 deep"):
        walk_regular_files(tmp_path, max_depth=1)
    expired = Deadline(0.0, "reading the submission")
    time.sleep(0.01)
    with pytest.raises(UnsafeFile, match="took longer than 0 s"):
        walk_regular_files(tmp_path, deadline=expired)


def test_hidden_test_markers_are_stripped_in_linear_time():
    # the old regular expression took ~1 s for 2000 unmatched BEGIN lines, ~13 s for 8000
    many = "### BEGIN HIDDEN TESTS\n" * 200_000
    started = time.monotonic()
    assert notebooks._strip_hidden_tests(many) == many
    assert time.monotonic() - started < 2
    cell = ("assert f(1) == 1\n  ### BEGIN HIDDEN TESTS\nassert f(2) == 4\n"
            "### END HIDDEN TESTS (x)\nassert f(3) == 9\n### BEGIN HIDDEN TESTS\nleft\n")
    assert notebooks._strip_hidden_tests(cell) == \
        "assert f(1) == 1\nassert f(3) == 9\n### BEGIN HIDDEN TESTS\nleft\n"


def _write_notebook(path, nb):
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_hostile_notebooks_are_refused_quickly_and_an_honest_one_still_checks(course, tmp_path):
    source = course.source(ASSIGNMENT) / "warmup.ipynb"
    honest = copy_assignment(course, tmp_path / "honest" / ASSIGNMENT)
    cases = {}
    # a notebook that is a symlink to the kernel log (reading it as root blocks forever)
    cases["kmsg"] = copy_assignment(course, tmp_path / "kmsg" / ASSIGNMENT)
    (cases["kmsg"] / "warmup.ipynb").unlink()
    (cases["kmsg"] / "warmup.ipynb").symlink_to("/proc/kmsg")
    # a FIFO: opening it for reading without O_NONBLOCK waits for a writer forever
    cases["fifo"] = copy_assignment(course, tmp_path / "fifo" / ASSIGNMENT)
    (cases["fifo"] / "warmup.ipynb").unlink()
    os.mkfifo(cases["fifo"] / "warmup.ipynb")
    # a symlink to the hidden tests: never followed
    cases["link"] = copy_assignment(course, tmp_path / "link" / ASSIGNMENT)
    (cases["link"] / "warmup.ipynb").unlink()
    (cases["link"] / "warmup.ipynb").symlink_to(source)
    # a test cell with 50 000 BEGIN markers (quadratic for the old regular expression)
    cases["markers"] = copy_assignment(course, tmp_path / "markers" / ASSIGNMENT)
    nb = json.loads(source.read_text(encoding="utf-8"))
    test_cell = next(c for c in nb["cells"]
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                     and not c["metadata"]["nbgrader"].get("solution"))
    test_cell["source"] = "### BEGIN HIDDEN TESTS\n" * 50_000
    _write_notebook(cases["markers"] / "warmup.ipynb", nb)
    # larger than the cap
    cases["huge"] = copy_assignment(course, tmp_path / "huge" / ASSIGNMENT)
    with open(cases["huge"] / "warmup.ipynb", "wb") as handle:
        handle.truncate(notebooks.MAX_NOTEBOOK_BYTES + 1)

    started = time.monotonic()
    findings = {name: within(30, grading.check_notebooks, course, ASSIGNMENT, folder)
                for name, folder in cases.items()}
    assert time.monotonic() - started < 30
    for name in ("kmsg", "fifo", "link", "huge"):
        [finding] = [f for f in findings[name] if f["notebook"] == "warmup.ipynb"]
        assert finding["status"] == "invalid", (name, finding)
        assert "ordinary file" in finding["message"] or "larger than" in finding["message"]
    [markers] = [f for f in findings["markers"] if f["notebook"] == "warmup.ipynb"]
    assert markers["status"] == "tampered" and "was edited" in markers["message"]
    assert {f["status"] for f in grading.check_notebooks(course, ASSIGNMENT, honest)} == {"ok"}


def test_notebook_checks_stop_at_their_deadline(course, tmp_path):
    folder = copy_assignment(course, tmp_path / "slow" / ASSIGNMENT)
    expired = Deadline(0.0, "checking the notebooks")
    time.sleep(0.01)
    with pytest.raises(UnsafeFile, match="checking the notebooks took longer"):
        notebooks.check_submission_notebooks(course, ASSIGNMENT, folder, expired)


def test_fingerprint_never_opens_links_or_fifos_and_names_oversized_submissions(course, tmp_path,
                                                                             monkeypatch):
    folder = copy_assignment(course, tmp_path / "alice" / ASSIGNMENT)
    base = grading.submission_fingerprint(course, ASSIGNMENT, folder, hidden=False)
    (folder / "kmsg").symlink_to("/proc/kmsg")
    os.mkfifo(folder / "pipe")
    fingerprint = within(30, grading.submission_fingerprint, course, ASSIGNMENT, folder,
                         hidden=False)
    assert fingerprint != base      # the FIFO is marked (the copy cannot take it either)
    (folder / "pipe").unlink()
    assert grading.submission_fingerprint(course, ASSIGNMENT, folder, hidden=False) == base
    monkeypatch.setattr(grading, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(grading.SubmissionError, match="larger than"):
        grading.submission_fingerprint(course, ASSIGNMENT, folder, hidden=False)


def test_fingerprint_covers_exactly_the_files_the_sandbox_copy_takes(course, tmp_path):
    from autograder.sandbox import prepare_workdir
    from autograder.sandbox.workdir import COPY_IGNORE
    folder = copy_assignment(course, tmp_path / "alice" / ASSIGNMENT)
    extra = ["__MACOSX/nnfs/._warmup.py", "nnfs/__pycache__/warmup.cpython-311.pyc",
             "nnfs/old.pyc", ".git/config", ".ipynb_checkpoints/warmup-checkpoint.ipynb",
             ".pytest_cache/v", ".hidden_notes", "nnfs/data/weights.npy"]
    for relative in extra:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text("x")
    (folder / "nnfs" / "link.py").symlink_to(folder / "nnfs" / "warmup.py")
    parent = tmp_path / "private"
    parent.mkdir()
    copy = prepare_workdir(folder, parent)
    copied = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    hashed = [relative for relative, _ in
              walk_regular_files(folder, ignore=COPY_IGNORE)]
    assert hashed == copied
    assert "__MACOSX/nnfs/._warmup.py" in hashed, "what the child gets is in the fingerprint"
    before = grading.submission_fingerprint(course, ASSIGNMENT, folder, hidden=False)
    (folder / "__MACOSX" / "nnfs" / "._warmup.py").write_text("changed")
    assert grading.submission_fingerprint(course, ASSIGNMENT, folder, hidden=False) != before


def test_grader_version_covers_every_grader_module_and_course_lib(tmp_path, monkeypatch):
    import autograder
    package = Path(autograder.__file__).resolve().parent
    fake = tmp_path / "autograder"
    shutil.copytree(package, fake, ignore=shutil.ignore_patterns("__pycache__", "hidden"))
    (fake / "hidden" / "assignment0").mkdir(parents=True)
    (fake / "hidden" / "assignment0" / "test_h.py").write_text("x = 1\n")
    fake_lib = tmp_path / "course_lib"
    fake_lib.mkdir()
    (fake_lib / "__init__.py").write_text("")
    monkeypatch.setattr(autograder, "__file__", str(fake / "__init__.py"))
    monkeypatch.setattr(grading, "_course_lib_dir", lambda: fake_lib)
    base = grading.grader_version()
    # a module that was outside the old fixed list of grader sources
    (fake / "exporters" / "results.py").write_text("# changed\n", encoding="utf-8")
    changed = grading.grader_version()
    assert changed != base
    (fake / "hidden" / "assignment0" / "test_h.py").write_text("x = 2\n")   # hashed per assignment
    assert grading.grader_version() == changed
    (fake_lib / "im2col.py").write_text("# the child imports this\n")
    assert grading.grader_version() != changed


def test_a_notebook_of_many_tiny_outputs_is_checked_in_bounded_time(course, tmp_path):
    # 200 000 outputs within the size cap took the schema check over a minute
    folder = copy_assignment(course, tmp_path / "outputs" / ASSIGNMENT)
    nb = json.loads((course.source(ASSIGNMENT) / "warmup.ipynb").read_text(encoding="utf-8"))
    output = {"output_type": "stream", "name": "stdout", "text": "x"}
    nb["cells"] += [{"cell_type": "code", "execution_count": None, "id": f"extra-{i}",
                     "metadata": {}, "outputs": [output] * 100, "source": "print('x')"}
                    for i in range(1900)]
    _write_notebook(folder / "warmup.ipynb", nb)
    started = time.monotonic()
    findings = grading.check_notebooks(course, ASSIGNMENT, folder)
    assert time.monotonic() - started < 15
    assert {f["notebook"]: f["status"] for f in findings}["warmup.ipynb"] == "ok"
    nb["cells"] += [dict(nb["cells"][-1]) for _ in range(notebooks.MAX_NOTEBOOK_CELLS)]
    _write_notebook(folder / "warmup.ipynb", nb)
    [finding] = [f for f in grading.check_notebooks(course, ASSIGNMENT, folder)
                 if f["notebook"] == "warmup.ipynb"]
    assert finding["status"] == "invalid" and "cells (at most" in finding["message"]


def test_a_zip_that_is_a_symlink_or_not_a_regular_file_is_refused(tmp_path):
    real = tmp_path / "real.zip"
    with zipfile.ZipFile(real, "w") as archive:
        archive.writestr("assignment0/nnfs/__init__.py", "")
    (tmp_path / "link.zip").symlink_to(real)
    (tmp_path / "kmsg.zip").symlink_to("/proc/kmsg")
    os.mkfifo(tmp_path / "fifo.zip")
    for name, words in [("link.zip", "symbolic link"), ("kmsg.zip", "symbolic link"),
                        ("fifo.zip", "not a regular file")]:
        with pytest.raises(grading.SubmissionError, match=words):
            within(10, grading.extract_zip, tmp_path / name, tmp_path / "out" / name)
    assert (grading.extract_zip(real, tmp_path / "out" / "real") / "nnfs").is_dir()


def test_a_zip_listing_too_many_entries_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for index in range(60):
            handle.writestr(f"assignment0/f{index}", b"")
    monkeypatch.setattr(grading, "MAX_ZIP_MEMBERS", 50)
    built = []
    monkeypatch.setattr(grading.zipfile, "ZipFile",
                        lambda *a, **k: built.append(a) or pytest.fail("parsed anyway"))
    with pytest.raises(grading.SubmissionError, match="60 entries .at most 50.; zip only"):
        grading.extract_zip(archive, tmp_path / "out")
    assert built == []

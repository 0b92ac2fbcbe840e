"""`autograder release` on a copy of the course: nbgrader generate_assignment for real,
.py solution stripping, the leak check (clean release and seeded leaks), and the
released assignment's public and hidden suites."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.course import Course
from autograder.mutants import apply_mutant, load_mutants
from autograder.release.leakcheck import check_release, collect_secrets
from autograder.release.pipeline import ReleaseError, release_assignment
from autograder.release.stripping import MarkerError, find_solution_blocks, solution_lines
from tests.support.release import (add_submission, copy_course, run_suite, shared_release,
                                   tree_bytes)

ASSIGNMENT = "assignment0"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return shared_release(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return shared_release(tmp_path_factory)[1]


@pytest.fixture
def recorded_nbgrader(monkeypatch, release):
    """Stand in for ``nbgrader generate_assignment`` (already run for real by the ``release``
    fixture): write the recorded release, plus the source's non-notebook files that nbgrader
    would copy verbatim. Keeps the tests of what happens *around* nbgrader fast."""
    def generate(course, command, assignment, *flags):
        assert command == "generate_assignment" and "--force" in flags
        directory = [f.split("=", 1)[1] for f in flags
                     if f.startswith("--CourseDirectory.release_directory=")]
        dest = course.nbgrader_root / (directory[0] if directory else "release") / assignment
        shutil.copytree(release, dest)
        source = course.source(assignment)
        for path in source.rglob("*"):
            if path.is_file() and path.suffix != ".ipynb":
                target = dest / path.relative_to(source)
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, target)
        return "recorded"
    monkeypatch.setattr("autograder.release.pipeline._nbgrader", generate)


@pytest.fixture(scope="module")
def source(course):
    return course.source(ASSIGNMENT)


@pytest.fixture(scope="module")
def secrets(course, source):
    return collect_secrets(source, course.hidden_tests(ASSIGNMENT))


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


def read_notebook(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def nbgrader_cells(nb):
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
            if "nbgrader" in c["metadata"]}


def cell_text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


# ---------------------------------------------------------------- the clean release

def test_release_has_the_source_files_and_nothing_else(release, source, course):
    assert files_under(release) == files_under(source)
    hidden_names = {p.name for p in course.hidden_tests(ASSIGNMENT).iterdir()}
    assert not hidden_names & {Path(f).name for f in files_under(release)}


def test_py_solutions_are_replaced_by_stubs(release, source):
    for relative in ("nnfs/warmup.py",):
        original = (source / relative).read_text()
        released = (release / relative).read_text()
        blocks = find_solution_blocks(original.splitlines())
        assert blocks, "the warm-up should have solution blocks to strip"
        assert released.count("raise NotImplementedError") == len(blocks)
        assert "### BEGIN SOLUTION" not in released
        released_lines = {line.strip() for line in released.splitlines()}
        for line in solution_lines(original):
            assert line.strip() not in released_lines, f"solution line reached the release: {line}"


def test_release_notebook_is_stubbed_locked_and_has_no_outputs(release, source):
    nb = read_notebook(release / "warmup.ipynb")
    cells = nbgrader_cells(nb)
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert "raise NotImplementedError" in cell_text(cells["nearest_neighbours"])
    assert "argmin" not in cell_text(cells["nearest_neighbours"])
    assert cell_text(cells["inline_answer"]) == "YOUR ANSWER HERE"
    source_cells = nbgrader_cells(read_notebook(source / "warmup.ipynb"))
    tests = [gid for gid, c in source_cells.items()
             if c["metadata"]["nbgrader"]["grade"] and not c["metadata"]["nbgrader"]["solution"]]
    assert len(tests) >= 4
    for gid in tests:
        meta = cells[gid]["metadata"]["nbgrader"]
        assert meta["locked"] and meta["checksum"] and meta["points"] > 0
        assert cell_text(cells[gid]) == cell_text(source_cells[gid])


def test_leak_check_passes_the_clean_release(release, secrets):
    assert check_release(release, secrets) == []


def test_secrets_cover_solutions_answers_and_hidden_tests(secrets):
    kinds = {kind for kind, _ in secrets.lines.values()}
    assert kinds == {"solution", "hidden test"}  # the source notebook has no saved outputs
    assert "nearest = np.argmin(warmup.l2_distances(queries, train), axis=1)" in secrets.lines
    answer = [kind for line, (kind, _) in secrets.lines.items() if "overflows to `inf`" in line]
    assert answer == ["solution"], "the model answer of the inline question is a secret"
    assert "import numpy as np" not in secrets.lines  # public as well: not a secret


def test_released_public_tests_fail_cleanly_on_the_stubs(release, tmp_path):
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(release, folder)
    done = subprocess.run([sys.executable, "-m", "pytest"], cwd=folder, capture_output=True,
                          text=True, timeout=300)
    summary = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"7 failed in [\d.]+s", summary), done.stdout
    assert done.stdout.count("NotImplementedError") >= 7
    assert not (folder / ".pytest_cache").exists()


def test_released_public_tests_pass_on_the_reference(release, source, tmp_path):
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(release, folder)
    shutil.copytree(source / "nnfs", folder / "nnfs", dirs_exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "pytest"], cwd=folder, capture_output=True,
                          text=True, timeout=300)
    assert re.fullmatch(r"7 passed in [\d.]+s", done.stdout.strip().splitlines()[-1]), done.stdout


# ---------------------------------------------------------------- seeded leaks

def seed_solution_line(release, course):
    line = solution_lines((course.source(ASSIGNMENT) / "nnfs/warmup.py").read_text())[2]
    target = release / "nnfs/__init__.py"
    lines = target.read_text().splitlines()
    target.write_text("\n".join(lines + [line]) + "\n")
    return f"nnfs/__init__.py:{len(lines) + 1}", "solution"


def seed_hidden_copy(release, course):
    hidden = course.hidden_tests(ASSIGNMENT) / "test_warmup_hidden.py"
    shutil.copy(hidden, release / "tests" / "test_more.py")
    return "tests/test_more.py", "hidden test"


def seed_hidden_lines(release, course):
    hidden = (course.hidden_tests(ASSIGNMENT) / "test_warmup_hidden.py").read_text()
    body = [line for line in hidden.splitlines() if "expect_close(" in line][0]
    with open(release / "tests/test_warmup.py", "a") as f:
        f.write("\n\ndef test_copied():\n" + body + "\n")
    return "tests/test_warmup.py", "hidden test"


def seed_answer_in_notebook(release, course):
    nb = read_notebook(release / "warmup.ipynb")
    answer = cell_text(nbgrader_cells(read_notebook(course.source(ASSIGNMENT) / "warmup.ipynb"))
                       ["inline_answer"])
    nbgrader_cells(nb)["inline_answer"]["source"] = answer
    (release / "warmup.ipynb").write_text(json.dumps(nb))
    return "warmup.ipynb:cell", "solution"


def seed_notebook_output(release, course):
    nb = read_notebook(release / "warmup.ipynb")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"][1]
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "[[0. 3. 4.]]\n"}]
    (release / "warmup.ipynb").write_text(json.dumps(nb))
    return "warmup.ipynb", "notebook output"


def seed_cache(release, course):
    (release / "nnfs" / "__pycache__").mkdir()
    (release / "nnfs" / "__pycache__" / "warmup.cpython-311.pyc").write_bytes(b"\0")
    return "nnfs/__pycache__", "cache"


def seed_compiled_extension(release, course):
    (release / "nnfs" / "_fast.so").write_bytes(b"\x7fELF")
    return "nnfs/_fast.so", "cache"


def seed_marker(release, course):
    with open(release / "nnfs/warmup.py", "a") as f:
        f.write("### BEGIN SOLUTION\n")
    return "nnfs/warmup.py", "solution marker"


@pytest.mark.parametrize("seed", [seed_solution_line, seed_hidden_copy, seed_hidden_lines,
                                  seed_answer_in_notebook, seed_notebook_output, seed_cache,
                                  seed_compiled_extension, seed_marker],
                         ids=lambda f: f.__name__)
def test_leak_check_finds_seeded_leak(seed, release, course, secrets, tmp_path):
    leaky = tmp_path / "release"
    shutil.copytree(release, leaky)
    where, kind = seed(leaky, course)
    leaks = check_release(leaky, secrets)
    assert leaks, f"{seed.__name__} was not detected"
    assert any(str(leak).startswith(where) and leak.kind == kind for leak in leaks), \
        [str(leak) for leak in leaks]


def test_reference_outputs_of_the_source_are_secrets(course, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(course.source(ASSIGNMENT), source)
    nb = read_notebook(source / "warmup.ipynb")
    output_line = "relative error of dscores: 3.14e-10"
    [c for c in nb["cells"] if c["cell_type"] == "code"][-1]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": output_line + "\n"}]
    (source / "warmup.ipynb").write_text(json.dumps(nb))
    secrets = collect_secrets(source, course.hidden_tests(ASSIGNMENT))
    assert secrets.lines[output_line][0] == "reference output"
    leaky = tmp_path / "release"
    leaky.mkdir()
    (leaky / "README.md").write_text(f"Expected:\n{output_line}\n")
    assert [str(leak) for leak in check_release(leaky, secrets)] == [
        "README.md:2: reference output (output saved in source/warmup.ipynb)"]


# ---------------------------------------------------------------- release refuses

def test_a_leaking_release_fails_and_is_removed(tmp_path, recorded_nbgrader):
    course = copy_course(tmp_path / "course")
    hidden = course.hidden_tests(ASSIGNMENT) / "test_warmup_hidden.py"
    shutil.copy(hidden, course.source(ASSIGNMENT) / "tests" / "test_hidden_copy.py")
    with pytest.raises(ReleaseError, match=r"(?s)LEAKS.*tests/test_hidden_copy\.py: hidden test"):
        release_assignment(course, ASSIGNMENT)
    assert not (course.release_dir / ASSIGNMENT).exists()


def test_unbalanced_markers_stop_the_release_before_nbgrader(tmp_path, recorded_nbgrader):
    course = copy_course(tmp_path / "course")
    path = course.source(ASSIGNMENT) / "nnfs" / "warmup.py"
    lines = path.read_text().splitlines()
    end = max(i for i, line in enumerate(lines) if "### END SOLUTION" in line)
    path.write_text("\n".join(lines[:end] + lines[end + 1:]) + "\n")
    with pytest.raises(MarkerError, match=r"nnfs/warmup\.py:\d+: .*never closed"):
        release_assignment(course, ASSIGNMENT)
    assert not course.release_dir.exists()


def test_existing_release_is_replaced_only_with_force(tmp_path, recorded_nbgrader):
    course = copy_course(tmp_path / "course")
    release = release_assignment(course, ASSIGNMENT)
    (release / "stale.txt").write_text("from an earlier release")
    with pytest.raises(ReleaseError, match="--force"):
        release_assignment(course, ASSIGNMENT)
    assert (release / "stale.txt").exists()
    assert release_assignment(course, ASSIGNMENT, force=True) == release
    assert not (release / "stale.txt").exists()
    assert (release / "nnfs" / "warmup.py").exists()


def test_cli_release_and_its_exit_codes(tmp_path, recorded_nbgrader, capsys):
    root = copy_course(tmp_path / "course").root
    assert cli.main(["--course", str(root), "release", ASSIGNMENT]) == 0
    assert "leak check clean" in capsys.readouterr().out
    assert cli.main(["--course", str(root), "release", ASSIGNMENT]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert cli.main(["--course", str(root), "release", "--all", "--force"]) == 0
    assert cli.main(["--course", str(root), "release", "no_such_assignment"]) == 2
    assert "unknown assignment 'no_such_assignment'" in capsys.readouterr().err
    hidden = root / "autograder" / "hidden" / ASSIGNMENT / "test_warmup_hidden.py"
    shutil.copy(hidden, root / "assignments" / "source" / ASSIGNMENT / "leak.py")
    assert cli.main(["--course", str(root), "release", ASSIGNMENT, "--force"]) == 2
    assert "LEAKS" in capsys.readouterr().err


# ---------------------------------------------------------------- live work survives

def no_build_folders_left(course):
    return not list(course.nbgrader_root.glob(".release-build-*"))


def test_a_leak_keeps_the_live_release(tmp_path, recorded_nbgrader):
    course = copy_course(tmp_path / "course")
    release = release_assignment(course, ASSIGNMENT)
    live = tree_bytes(release)
    hidden = course.hidden_tests(ASSIGNMENT) / "test_warmup_hidden.py"
    shutil.copy(hidden, course.source(ASSIGNMENT) / "tests" / "test_hidden_copy.py")
    with pytest.raises(ReleaseError, match=r"LEAKS and was discarded \(the release in .* is "
                                           r"unchanged"):
        release_assignment(course, ASSIGNMENT, force=True)
    assert tree_bytes(release) == live
    assert no_build_folders_left(course)


def test_nbgrader_failing_keeps_the_live_release(tmp_path, recorded_nbgrader, monkeypatch):
    course = copy_course(tmp_path / "course")
    release = release_assignment(course, ASSIGNMENT)
    live = tree_bytes(release)

    def refuse(course, command, assignment, *flags):
        # half a build, then the refusal, as nbgrader does
        (course.nbgrader_root / flags[-1].split("=", 1)[1] / assignment).mkdir(parents=True)
        raise ReleaseError("nbgrader generate_assignment failed (exit 1):\nCannot modify "
                           "existing assignment")
    monkeypatch.setattr("autograder.release.pipeline._nbgrader", refuse)
    with pytest.raises(ReleaseError, match="Cannot modify existing assignment"):
        release_assignment(course, ASSIGNMENT, force=True)
    assert tree_bytes(release) == live
    assert no_build_folders_left(course)


def test_submissions_stop_a_release_unless_forced(tmp_path, recorded_nbgrader):
    course = copy_course(tmp_path / "course")
    release = release_assignment(course, ASSIGNMENT)
    (release / "stale.txt").write_text("the release students fetched")
    add_submission(course, "ada")
    submitted = course.nbgrader_root / "submitted" / "bob" / ASSIGNMENT
    shutil.copytree(release, submitted)
    handed_in = tree_bytes(submitted)
    gradebook = (course.nbgrader_root / "gradebook.db").read_bytes()

    with pytest.raises(ReleaseError) as refused:
        release_assignment(course, ASSIGNMENT)
    message = str(refused.value)
    assert "already has submissions (2: ada, bob)" in message
    assert "--force" in message and "Nothing was changed" in message
    assert (release / "stale.txt").exists()
    assert (course.nbgrader_root / "gradebook.db").read_bytes() == gradebook

    assert release_assignment(course, ASSIGNMENT, force=True) == release
    assert not (release / "stale.txt").exists() and (release / "nnfs" / "warmup.py").exists()
    assert tree_bytes(submitted) == handed_in
    from autograder.release.pipeline import existing_submissions
    assert existing_submissions(course, ASSIGNMENT) == (["ada", "bob"], False)


def test_a_release_without_a_release_folder_but_with_submissions_needs_force(tmp_path,
                                                                          recorded_nbgrader):
    course = copy_course(tmp_path / "course")
    shutil.copytree(course.source(ASSIGNMENT), course.nbgrader_root / "submitted" / "ada"
                    / ASSIGNMENT)
    with pytest.raises(ReleaseError, match=r"already has submissions \(1: ada\)"):
        release_assignment(course, ASSIGNMENT)
    assert not course.release_dir.exists()
    assert not (course.nbgrader_root / "gradebook.db").exists(), "no gradebook was created"


def test_autograder_scores_with_submissions_refuse_even_with_force(tmp_path, recorded_nbgrader,
                                                                    capsys):
    course = copy_course(tmp_path / "course")
    release = release_assignment(course, ASSIGNMENT)
    live = tree_bytes(release)
    add_submission(course, "ada", notebooks=["autograder_tests"])
    assert cli.main(["--course", str(course.root), "release", ASSIGNMENT, "--force"]) == 2
    err = capsys.readouterr().err
    assert f"autograder export gradebook {ASSIGNMENT} --remove" in err
    assert f"autograder release {ASSIGNMENT} --force" in err
    assert tree_bytes(release) == live
    assert no_build_folders_left(course)


def test_real_nbgrader_refusal_keeps_the_live_release(tmp_path_factory, tmp_path):
    """nbgrader itself refuses (the gradebook has a notebook the source lacks, and a
    submission): the live release and the submission stay."""
    shared, _ = shared_release(tmp_path_factory)
    # the shared course may hold other tests' students (the nbgrader workflow's ada, bob, ...)
    course = Course(shutil.copytree(shared.root, tmp_path / "course", ignore=shutil.ignore_patterns(
        "gradebook.db", "submitted", "autograded", "feedback", "exchange", "autograder_scores")))
    release = course.release_dir / ASSIGNMENT
    live = tree_bytes(release)
    add_submission(course, "ada", notebooks=["renamed_notebook"])
    with pytest.raises(ReleaseError, match="Cannot modify existing assignment"):
        release_assignment(course, ASSIGNMENT, force=True)
    assert tree_bytes(release) == live
    assert no_build_folders_left(course)
    from autograder.release.pipeline import existing_submissions
    assert existing_submissions(course, ASSIGNMENT) == (["ada"], False)


# ---------------------------------------------------------------- the suites

@pytest.fixture(scope="module")
def hidden_on_reference(course, source, tmp_path_factory):
    return run_suite(course.hidden_tests(ASSIGNMENT), source, source,
                     tmp_path_factory.mktemp("suite"))


def test_hidden_suite_passes_the_reference(hidden_on_reference):
    assert len(hidden_on_reference) >= 15
    assert set(hidden_on_reference.values()) == {"passed"}, hidden_on_reference


def test_hidden_suite_fails_every_test_on_the_stubs(course, source, release, tmp_path):
    outcomes = run_suite(course.hidden_tests(ASSIGNMENT), release, source, tmp_path)
    assert set(outcomes.values()) == {"failed"}, outcomes


@pytest.mark.parametrize("index", range(4))
def test_hidden_suite_catches_each_realistic_bug(index, course, source, hidden_on_reference,
                                                 tmp_path):
    mutant = load_mutants(course, ASSIGNMENT)[index]
    buggy = tmp_path / "buggy"
    shutil.copytree(source, buggy)
    apply_mutant(buggy, mutant)   # raises if the mutant no longer applies
    outcomes = run_suite(course.hidden_tests(ASSIGNMENT), buggy, source, tmp_path / "run")
    failed = sorted(name for name, status in outcomes.items() if status != "passed")
    assert failed, f"the hidden suite misses the bug: {mutant.description}"
    assert len(failed) < len(outcomes), "a single bug should not fail everything"


def test_mutant_list_has_four_entries(course):
    assert len(load_mutants(course, ASSIGNMENT)) == 4

"""The README inside every release stands alone: how to install (one command), set up the
exchange, fetch, open the notebooks, run the public tests (`python -m pytest`) and submit,
for that assignment, without pointing at a README that students do not have."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.release.student_readme import (EXCHANGE_PLACEHOLDER, PLACEHOLDER, complete_readme,
                                       wheel_name)
from tests.support.release import shared_release

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for p in (REPO_ROOT / "assignments" / "source").iterdir() if p.is_dir())
FENCE = re.compile(r"^```(\w*)\s*$", re.M)


def shell_lines(text):
    """The commands of the README's bash blocks (comments stripped)."""
    commands, language = [], None  # language: None outside a code block
    for line in text.splitlines():
        fence = FENCE.match(line.strip())
        if fence:
            language = fence.group(1) if language is None else None
            continue
        if language in ("bash", "sh"):
            command = line.split("#", 1)[0].strip()
            if command:
                commands.append(command)
    return commands


def check_stands_alone(text, folder, assignment, course="nnfs"):
    """The checks every student README must pass."""
    assert PLACEHOLDER not in text
    assert "course README" not in text and "course's README" not in text
    commands = shell_lines(text)
    assert f'python -m pip install "{wheel_name()}[student]"' in commands
    assert any(c.startswith("nnfs-course student-setup --exchange ") and
               c.endswith(f"--course {course}") for c in commands)
    assert f"nbgrader fetch_assignment {assignment} --course {course}" in commands
    assert f"cd {assignment}" in commands and "jupyter lab" in commands
    assert "python -m pytest" in commands
    assert f"nbgrader submit {assignment} --course {course}" in commands
    assert "source ~/nnfs-venv/bin/activate" in text
    # Never a bare `pytest` (another interpreter's pytest may lack course_lib), in code
    # blocks or in inline code.
    assert not [c for c in commands if c.split()[0] == "pytest"]
    assert not re.search(r"`pytest[` ]", text)
    # Test files named in commands exist in the folder.
    for path in re.findall(r"python -m pytest (tests/\S+\.py)", text):
        assert (folder / path).is_file(), path
    # Links stay inside the folder.
    for target in re.findall(r"\]\(([^)]+)\)", text):
        assert target.startswith(("http://", "https://")) or not target.startswith(("..", "/")), target


@pytest.mark.parametrize("source", SOURCES, ids=[p.name for p in SOURCES])
def test_every_source_readme_has_one_placeholder(source):
    text = (source / "README.md").read_text(encoding="utf-8")
    assert [line.strip() for line in text.splitlines()].count(PLACEHOLDER) == 1


@pytest.mark.parametrize("source", SOURCES, ids=[p.name for p in SOURCES])
def test_completed_readme_of_every_assignment_stands_alone(source, tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXCHANGE", raising=False)
    monkeypatch.delenv("NBGRADER_COURSE_ID", raising=False)
    folder = tmp_path / source.name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
    text = complete_readme(folder, source.name).read_text(encoding="utf-8")
    check_stands_alone(text, folder, source.name)
    # The assignment's own text is still there, above the set-up sections.
    title = (source / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert text.startswith(title + "\n")
    assert text.count("## Setting up your computer (once)") == 1
    # Set-up before the assignment's own instructions end; tests and submitting last.
    assert (text.index("## Setting up your computer") < text.index("## Getting the assignment")
            < text.index("## Running the public tests") < text.index("## Submitting"))
    assert text.rstrip().endswith("(notebooks and `nnfs/`).")


def test_the_exchange_is_written_in_when_the_instructor_set_it(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text(f"# A\n\n{PLACEHOLDER}\n\nmore\n")
    monkeypatch.setenv("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
    monkeypatch.setenv("NBGRADER_COURSE_ID", "cs231")
    text = complete_readme(tmp_path, "a1").read_text()
    assert "nnfs-course student-setup --exchange /srv/nbgrader/exchange --course cs231" in text
    assert "nbgrader submit a1 --course cs231" in text
    assert EXCHANGE_PLACEHOLDER not in text
    assert text.index("## Setting up") < text.index("more\n") < text.index("## Submitting")

    monkeypatch.delenv("NBGRADER_EXCHANGE")
    (tmp_path / "README.md").write_text(f"# A\n\n{PLACEHOLDER}\n")
    text = complete_readme(tmp_path, "a1").read_text()
    assert f"--exchange {EXCHANGE_PLACEHOLDER} --course cs231" in text
    assert f"Replace `{EXCHANGE_PLACEHOLDER}` with the exchange folder" in text


def test_a_readme_without_placeholder_gets_the_sections_appended(tmp_path):
    (tmp_path / "README.md").write_text("# Old assignment\n\nDo the thing.\n")
    text = complete_readme(tmp_path, "old").read_text()
    assert text.startswith("# Old assignment\n\nDo the thing.\n\n## Setting up")
    assert text.count("## Submitting") == 1


def test_the_released_readme_stands_alone(tmp_path_factory, monkeypatch):
    """`autograder release` (real nbgrader) writes the completed README."""
    course, release = shared_release(tmp_path_factory)
    text = (release / "README.md").read_text(encoding="utf-8")
    check_stands_alone(text, release, "assignment0")
    source_text = (course.source("assignment0") / "README.md").read_text(encoding="utf-8")
    assert PLACEHOLDER in source_text, "the source README keeps its placeholder"


def test_public_tests_say_what_to_do_when_course_lib_is_missing(tmp_path):
    """A pytest whose Python lacks course_lib (the issue: another interpreter's pytest)
    stops with a message naming that Python and `python -m pytest`."""
    folder = tmp_path / "assignment0"
    shutil.copytree(REPO_ROOT / "assignments" / "source" / "assignment0", folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    without_course_lib = ("import sys; sys.modules['course_lib'] = None; import pytest; "
                          "sys.exit(pytest.main())")
    done = subprocess.run([sys.executable, "-c", without_course_lib], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "course library (course_lib) is not installed for" in output
    assert sys.executable in output and "python -m pytest" in output
    # With course_lib, the same folder (the reference solution) passes.
    passing = subprocess.run([sys.executable, "-m", "pytest"], cwd=folder,
                             capture_output=True, text=True, timeout=300)
    assert passing.returncode == 0, passing.stdout + passing.stderr

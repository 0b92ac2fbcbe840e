"""The README's round trip, run as written: students, instructor and TA, one course.

Every shell block of README.md that is marked ``<!-- readme-test: ROLE STEP -->`` runs here,
in step order, exactly as written (see ``tests/support/readme_blocks.py``):

- the **student** works in a home folder of their own, with a fresh virtual environment
  made by the README's commands and the course wheel the staff built
  (``COURSE_LIB_NO_CYTHON=1 pip wheel --no-deps .``); between steps the test does what a
  student does by hand: it writes the solutions into the fetched package;
- the **instructor** and the **TA** work in a copy of this checkout whose ``.venv`` is the
  one ``make install`` built (the README's "after `make install`");
- the exchange is the README's ``/srv/nbgrader/exchange``, in a private mount namespace
  (``unshare --mount``) over an empty folder, so the machine's own ``/srv`` is never touched.

Each role keeps its exported environment from one block to the next, as one terminal would
(the student's ``source ~/nnfs-venv/bin/activate`` holds for later blocks); every block
starts in the role's own folder (the student's home, the course root).
"""
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.readme_blocks import round_trip

pytestmark = pytest.mark.slow

ASSIGNMENT = "assignment1"
BLOCK_TIMEOUT = 900


def _pypi_reachable():
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def _why_not_runnable():
    if os.geteuid() != 0:
        return "the round trip mounts a private /srv (unshare --mount), which needs root"
    if not shutil.which("unshare") or not Path("/srv").is_dir():
        return "unshare (util-linux) or the /srv folder is missing"
    if not _pypi_reachable():
        return "the student's fresh virtual environment installs from PyPI, which is unreachable"
    return None


class World:
    """The folders and terminals of one course: a course checkout, homes, a private /srv."""

    def __init__(self, base, repo_root):
        self.base = base
        self.repo_root = repo_root
        self.course = base / "course"
        self.srv = base / "srv"
        self.homes = {role: base / "home" / role for role in ("student", "instructor", "ta")}
        self.state = {role: base / "state" / f"{role}.sh" for role in self.homes}
        self.log = base / "readme-round-trip.log"

    def start_folder(self, role):
        return self.homes["student"] if role == "student" else self.course

    def build(self):
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                               cwd=self.repo_root, capture_output=True, check=True).stdout
        for name in filter(None, files.decode().split("\0")):
            source = self.repo_root / name
            if source.is_file() and not source.is_symlink():
                target = self.course / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        # the README's "after `make install`": the checkout's own environment, read only
        (self.course / ".venv").symlink_to(self.repo_root / ".venv")
        for folder in [self.srv, *self.homes.values(), self.base / "state"]:
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        self.build_wheel()

    def build_wheel(self):
        """What the README's staff do: ``COURSE_LIB_NO_CYTHON=1 pip wheel --no-deps .``."""
        env = dict(os.environ, COURSE_LIB_NO_CYTHON="1")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                        str(self.homes["student"]), "."], cwd=self.course, env=env,
                       check=True, capture_output=True, timeout=600)

    def environment(self, role):
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.homes[role]),
            "LANG": "C.UTF-8",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "MPLBACKEND": "Agg",
        }
        for name in ("AUTOGRADER_KEY_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "TMPDIR"):
            if name in os.environ:
                env[name] = os.environ[name]
        # the machine's pip cache: the fresh venv installs the same wheels make install used
        env["PIP_CACHE_DIR"] = subprocess.run(
            [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True,
            text=True).stdout.strip() or str(self.base / "pip-cache")
        if role == "ta":   # a TA's terminal in a set-up checkout
            env["VIRTUAL_ENV"] = str(self.course / ".venv")
            env["PATH"] = f"{self.course / '.venv' / 'bin'}:{env['PATH']}"
        return env

    def run(self, block):
        """Run one README block as its role, in the private mount namespace; return output."""
        role = block.role
        state = self.state[role]
        script = self.base / "state" / f"block-{block.line}.sh"
        script.write_text(
            "set -eo pipefail\n"
            f"mount --bind {shlex.quote(str(self.srv))} /srv\n"
            f"if [ -f {shlex.quote(str(state))} ]; then source {shlex.quote(str(state))}; fi\n"
            f"cd {shlex.quote(str(self.start_folder(role)))}\n"
            f"# --- README.md:{block.line} ({role}, step {block.step:g}) ---\n"
            f"{block.text}"
            f"# --- end of the README block ---\n"
            f"export -p > {shlex.quote(str(state))}\n")
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash",
                               str(script)], cwd=self.start_folder(role),
                              env=self.environment(role), capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT)
        output = done.stdout + done.stderr
        with self.log.open("a") as log:
            log.write(f"\n===== README.md:{block.line} as {role} (exit {done.returncode})\n"
                      f"{block.text}----- output\n{output}")
        assert done.returncode == 0, (
            f"README.md:{block.line} ({role}, step {block.step:g}) failed with exit "
            f"{done.returncode}:\n{block.text}\n--- output (last 4000 characters) ---\n"
            f"{output[-4000:]}")
        return output


def write_solutions(world):
    """The student's work: the reference package written into the fetched assignment."""
    fetched = world.homes["student"] / ASSIGNMENT
    assert fetched.is_dir(), "fetch_assignment did not create the assignment folder"
    reference = world.course / "assignments" / "source" / ASSIGNMENT / "nnfs"
    shutil.copytree(reference, fetched / "nnfs", dirs_exist_ok=True)


def zip_submissions(world):
    """What a learning-management system hands a TA: one zip per student."""
    zips = world.course / "zips"
    zips.mkdir(exist_ok=True)
    for folder in sorted((world.course / "assignments" / "submitted").glob(f"*/{ASSIGNMENT}")):
        with zipfile.ZipFile(zips / f"{folder.parent.name}.zip", "w") as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(ASSIGNMENT) / path.relative_to(folder))


# What the people do by hand between two README blocks: {block text fragment: action}.
BEFORE_BLOCK = {
    "python -m pytest": write_solutions,
    "zips/*.zip": zip_submissions,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, repo_root):
    reason = _why_not_runnable()
    if reason:
        pytest.skip(reason)
    built = World(tmp_path_factory.mktemp("readme"), repo_root)
    built.build()
    return built


@pytest.fixture(scope="module")
def round_trip_outputs(world, repo_root):
    """Run every marked block in order; ``{line: output}``."""
    outputs = {}
    for block in round_trip(repo_root / "README.md"):
        for fragment, action in BEFORE_BLOCK.items():
            if block.role in ("student", "ta") and fragment in block.text:
                action(world)
        outputs[block.line] = world.run(block)
    print(f"README round trip log: {world.log}")
    return outputs


def test_the_readme_round_trip_runs_as_written(round_trip_outputs):
    assert round_trip_outputs


def test_the_student_submission_is_graded_in_full(world, round_trip_outputs):
    results = world.course / "grades" / ASSIGNMENT
    graded = [json.loads(path.read_text()) for path in results.glob("*.json")]
    assert graded, f"no results in {results}"
    for result in graded:
        assert result["score"] == result["max_score"] > 0, [
            (t["name"], t["status"]) for t in result["tests"] if t["status"] != "passed"]
        assert result["submitted_at"], "the submission time from nbgrader's timestamp.txt"
    assert (results / "summary.csv").is_file()


def test_the_student_fetches_feedback_with_the_autograders_section(world, round_trip_outputs):
    pages = list((world.homes["student"] / ASSIGNMENT / "feedback").rglob("*.html"))
    assert pages, "fetch_feedback brought no pages home"
    assert any("autograder feedback" in page.read_text() for page in pages)


def test_the_staff_exports_exist(world, round_trip_outputs):
    assert (world.course / "grades" / f"{ASSIGNMENT}.csv").is_file()
    assert (world.course / "public.csv").is_file()
    assert (world.course / f"{ASSIGNMENT}-gradescope.zip").is_file()


def test_the_round_trip_left_this_checkout_alone(repo_root, round_trip_outputs):
    assert not (repo_root / "zips").exists()
    assert not (repo_root / "public.csv").exists()

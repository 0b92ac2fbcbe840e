"""Grade ONE submission: a folder or a .zip in, a result dict (docs/ARCHITECTURE.md) out.

Steps of :func:`grade_submission`:

1. unpack a .zip safely (no absolute paths, no ``..``, no links, bounded size) into a
   private temporary folder; a folder is used as it is;
2. make the instructor's files unreadable to other users (when root), and copy the
   submission into a private copy owned by the sandbox user
   (:func:`autograder.sandbox.prepare_workdir`);
3. run pytest in a FRESH trusted process (``python -m pytest -p autograder.pytest_plugin``)
   on the instructor's public tests and, with ``hidden=True``, the hidden suite; never on
   any test or conftest file inside the submission. The plugin writes one JSON line per
   test into the private folder as each test ends;
4. read those lines and build the result; tests that never reported (the grading process
   was stopped) count as errors with a message saying so.

Nothing from one submission survives into the next: each gets its own grading process,
copy and sandboxed children.
"""
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import autograder
from autograder.sandbox import Limits, prepare_workdir, protect_instructor_files
from autograder.sandbox.confinement import (UID_BASE, choose_confinement, running_as_root,
                                            submission_uid)
from autograder.sandbox.interpreter import child_interpreter
from autograder.sandbox.isolation import SubmissionTooLarge

MAX_UNPACKED_BYTES = 256 * 2**20
MAX_ZIP_MEMBERS = 5000
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".git", ".pytest_cache", "__MACOSX"}
GRADER_SOURCES = ("sandbox/__init__.py", "sandbox/codec.py", "sandbox/errors.py",
                  "sandbox/interpreter.py", "sandbox/process.py", "sandbox/proxy.py",
                  "sandbox/runner.py", "pytest_plugin.py", "grading.py", "testing.py")


class SubmissionError(Exception):
    """A submission that cannot be graded at all (broken or unsafe zip, no such folder)."""


# -- names and fingerprints ---------------------------------------------------------------
def submission_name(path, assignment):
    """The name results are filed under.

    ``submitted/<student>/<assignment>/`` -> ``<student>``; ``alice.zip`` -> ``alice``;
    any other folder -> its own name.
    """
    path = Path(path)
    if path.suffix.lower() == ".zip":
        return path.stem
    resolved = path.resolve()
    if resolved.name == assignment and resolved.parent.name:
        return resolved.parent.name
    return resolved.name


def _hash_tree(hasher, root, label):
    root = Path(root)
    if root.is_file():
        hasher.update(f"{label}:{root.name}:{root.stat().st_size}\n".encode())
        hasher.update(root.read_bytes())
        return
    if not root.is_dir():
        hasher.update(f"{label}: missing\n".encode())
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if SKIPPED_NAMES.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_file() and not path.is_symlink():
            hasher.update(f"{label}:{relative.as_posix()}:{path.stat().st_size}\n".encode())
            hasher.update(path.read_bytes())


def grader_version():
    """``autograder.__version__`` plus a digest of the grading engine's own source."""
    hasher = hashlib.sha256()
    package = Path(autograder.__file__).resolve().parent
    for relative in GRADER_SOURCES:
        path = package / relative
        if path.exists():
            hasher.update(path.read_bytes())
    return f"{autograder.__version__}+{hasher.hexdigest()[:12]}"


def submission_fingerprint(course, assignment, submission, *, hidden, limits=None):
    """sha256 of everything a result depends on.

    The submission's files, the instructor's assignment folder (public tests and reference
    solution), the hidden suite when ``hidden``, the grader version and the limits. Equal
    fingerprints mean a regrade would give the same result.
    """
    limits = limits or Limits()
    hasher = hashlib.sha256()
    hasher.update(f"grader {grader_version()} hidden={bool(hidden)} "
                  f"timeout={limits.timeout} memory={limits.memory_mb}\n".encode())
    _hash_tree(hasher, submission, "submission")
    _hash_tree(hasher, course.source(assignment), "source")
    if hidden:
        _hash_tree(hasher, course.hidden_tests(assignment), "hidden")
    return hasher.hexdigest()


# -- unpacking ------------------------------------------------------------------------------
def extract_zip(archive_path, dest):
    """Extract a submission zip into ``dest`` safely and return the assignment folder in it.

    Raises
    ------
    SubmissionError
        Not a zip, corrupt, or containing absolute paths, ``..``, links, too many members
        or more than MAX_UNPACKED_BYTES of data.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise SubmissionError(f"the zip has {len(members)} entries (at most "
                                      f"{MAX_ZIP_MEMBERS}); zip only the assignment folder")
            budget = MAX_UNPACKED_BYTES
            for member in members:
                parts = _safe_parts(member.filename)
                if not parts or SKIPPED_NAMES.intersection(parts):
                    continue
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise SubmissionError(f"the zip contains a symbolic link ({member.filename}); "
                                          "zip real files only")
                target = dest.joinpath(*parts)
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(target, "wb") as sink:
                    while chunk := source.read(1 << 20):
                        budget -= len(chunk)
                        if budget < 0:
                            raise SubmissionError(
                                f"the zip unpacks to more than {MAX_UNPACKED_BYTES // 2**20} "
                                "MiB; leave datasets and outputs out of the submission")
                        sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise SubmissionError(f"{Path(archive_path).name} is not a readable zip file ({exc}); "
                              "create it again and resubmit") from None
    except OSError as exc:
        raise SubmissionError(f"could not unpack {Path(archive_path).name}: {exc}") from None
    return _assignment_root(dest)


def _safe_parts(name):
    normalized = name.replace("\\", "/")
    path = PurePosixPath(normalized)
    if normalized.startswith("/") or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise SubmissionError(f"the zip contains an unsafe path ({name!r}); zip the "
                              "assignment folder with relative paths only")
    return tuple(part for part in path.parts if part not in ("", "."))


def _assignment_root(folder):
    """Descend through single wrapping folders (``alice.zip`` -> ``assignment0/``)."""
    folder = Path(folder)
    while True:
        entries = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir() and not (folder / "nnfs").exists():
            folder = entries[0]
        else:
            return folder


def unpack_submission(path, private_dir):
    """The folder to grade: ``path`` itself, or the extracted zip in ``private_dir``."""
    path = Path(path)
    if path.is_dir():
        return path
    if path.is_file() and path.suffix.lower() == ".zip":
        return extract_zip(path, Path(private_dir) / "unzipped")
    raise SubmissionError(f"{path} is neither a folder nor a .zip file")


# -- running the tests ---------------------------------------------------------------------
def _pytest_command(course, assignment, workdir, original, results_path, ini_path, hidden,
                    limits, interpreter, confinement):
    public = course.public_tests(assignment)
    command = [sys.executable, "-m", "pytest", "-p", "autograder.pytest_plugin",
               "-p", "no:cacheprovider", "-c", str(ini_path), "--rootdir", str(ini_path.parent),
               "--confcutdir", str(course.root), "--import-mode=importlib", "-q",
               "--no-header", "-rN", "--tb=short",
               "--autograder-submission", str(workdir),
               "--autograder-original", str(original),
               "--autograder-reference", str(course.source(assignment)),
               "--autograder-results", str(results_path),
               "--autograder-timeout", str(limits.timeout),
               "--autograder-memory-mb", str(limits.memory_mb),
               "--autograder-interpreter", json.dumps(interpreter),
               "--autograder-confinement", json.dumps(dataclasses.asdict(confinement)),
               "--autograder-public-dir", str(public)]
    suites = [public]
    if hidden:
        command += ["--autograder-hidden-dir", str(course.hidden_tests(assignment))]
        suites.append(course.hidden_tests(assignment))
    return command + [str(suite) for suite in suites]


def _run_grading_process(command, cwd, total_timeout):
    """Run the pytest process; kill its whole group after ``total_timeout`` seconds.

    Returns
    -------
    log : str
        The tail of pytest's own output (for the instructor, on errors).
    timed_out : bool
    """
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
               PYTHONHASHSEED="0")
    with open(Path(cwd) / "pytest.log", "w+", encoding="utf-8", errors="replace") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            process.wait(timeout=total_timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            timed_out = True
        log.seek(0)
        return log.read()[-4000:], timed_out


def _read_records(results_path):
    records = []
    if results_path.exists():
        for line in results_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                break               # a line cut by a killed process: keep what came before
    return records


def _assemble_tests(records, stopped_reason):
    """Per-test results in collection order; unreported tests become errors."""
    collected = next((r["tests"] for r in records if r.get("kind") == "collected"), [])
    reported = {r["name"]: r for r in records if r.get("kind") == "test"}
    tests = []
    for entry in collected:
        record = reported.get(entry["name"])
        if record is None:
            record = {"name": entry["name"], "score": 0.0, "max_score": entry["max_score"],
                      "status": "error", "visibility": entry["visibility"],
                      "output": f"this test did not run: {stopped_reason}"}
        tests.append({key: record[key] for key in
                      ("name", "score", "max_score", "status", "visibility", "output")})
    return tests


def check_notebooks(course, assignment, folder):
    """Integrity findings for the submission's notebooks (``autograder.notebooks``), or []
    when that module is not available."""
    try:
        from autograder.notebooks import check_submission_notebooks
    except ImportError:
        return []
    try:
        return check_submission_notebooks(course, assignment, Path(folder))
    except Exception as exc:    # a checker bug must not cost the student the code grade
        return [{"notebook": "*", "status": "invalid",
                 "message": f"the notebook check could not run: {exc}"}]


def sandbox_interpreter():
    """(python, site dirs) for sandboxed children on this machine (probed once per process)."""
    uid = UID_BASE if running_as_root() else None
    return child_interpreter(uid, uid)


SCRATCH_PREFIX = "autograder-grade-"
OWNER_FILE = "owner.pid"


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_scratch(tmp_dir=None):
    """Remove scratch folders left by grading processes that were killed.

    Each :func:`grade_submission` works in a private ``autograder-grade-*`` folder under the
    temporary directory and removes it when done; a worker killed with SIGKILL cannot. A
    folder is stale when the process recorded in its ``owner.pid`` no longer exists.

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed = []
    for folder in Path(tmp_dir or tempfile.gettempdir()).glob(SCRATCH_PREFIX + "*"):
        pid = _scratch_owner(folder)
        if pid is not None and not _process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)     # never follows links inside
            removed.append(folder)
    return removed


def _scratch_owner(folder):
    """The pid recorded in a scratch folder that this user made, or None.

    Anything else in the temporary directory (a symlink, a folder or file that another user
    made, an owner file that is a link or not a number) is not ours and is left alone. No
    process is signalled: the student processes of a killed worker died with their sandbox.
    """
    try:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return None
        fd = os.open(folder / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            owner = os.fstat(fd)
            if not stat.S_ISREG(owner.st_mode) or owner.st_uid != os.geteuid():
                return None
            return int(os.read(fd, 32).decode("ascii"))
        finally:
            os.close(fd)
    except (OSError, ValueError):
        return None


def grade_submission(course, assignment, submission_path, *, hidden=False, timeout=None,
                     memory_mb=None, name=None, total_timeout=None, interpreter=None):
    """Grade one submission and return its result dict.

    Parameters
    ----------
    course : autograder.course.Course
    assignment : str
    submission_path : str or Path
        A folder (the student's copy of the assignment, as in nbgrader's
        ``submitted/<student>/<assignment>/``) or a ``.zip`` of it.
    hidden : bool
        Also run the hidden suite (``autograder/hidden/<assignment>/``).
    timeout : float, optional
        Wall-clock seconds per call into student code (default ``Limits.timeout``).
    memory_mb : int, optional
        Memory limit of the student process (default ``Limits.memory_mb``).
    name : str, optional
        The submission's name in the result (default :func:`submission_name`).
    total_timeout : float, optional
        Limit for grading the whole submission (default ``120 + 20 * timeout`` s).
    interpreter : (str, list of str), optional
        The sandbox's Python and site folders (default: :func:`sandbox_interpreter`).

    Returns
    -------
    dict
        ``submission, assignment, score, max_score, tests, fingerprint, graded_at,
        notebooks, isolation`` and, when grading failed as a whole, ``error``.
    """
    defaults = Limits()
    limits = Limits(timeout=float(timeout or defaults.timeout),
                    memory_mb=int(memory_mb or defaults.memory_mb))
    total_timeout = total_timeout or 120 + 20 * limits.timeout
    submission_path = Path(submission_path)
    result = {
        "submission": name or submission_name(submission_path, assignment),
        "assignment": assignment, "score": 0.0, "max_score": 0.0, "tests": [],
        "fingerprint": None, "graded_at": None, "notebooks": [], "isolation": None,
    }
    if not submission_path.exists():
        return _failed(result, f"the submission {submission_path} does not exist")
    result["fingerprint"] = submission_fingerprint(course, assignment, submission_path,
                                                   hidden=hidden, limits=limits)
    confinement = choose_confinement(submission_uid() if running_as_root() else None)
    if confinement.engine == "uid":
        protect_instructor_files(course)    # no mount namespace: permissions must keep it out
    private = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    (private / OWNER_FILE).write_text(str(os.getpid()))
    try:
        try:
            folder = unpack_submission(submission_path, private)
        except SubmissionError as exc:
            return _failed(result, str(exc))
        result["notebooks"] = check_notebooks(course, assignment, folder)
        os.chmod(private, 0o711)        # the sandbox user must pass through to its copy
        sandbox_parent = private / "sandbox"
        sandbox_parent.mkdir(mode=0o700)
        try:
            workdir = prepare_workdir(folder, sandbox_parent, owner=confinement.uid)
        except SubmissionTooLarge as exc:
            return _failed(result, str(exc))
        grading_dir = private / "grading"
        grading_dir.mkdir(mode=0o700)
        ini_path = grading_dir / "pytest.ini"
        ini_path.write_text("[pytest]\npython_files = test_*.py\n", encoding="utf-8")
        results_path = grading_dir / "results.jsonl"
        command = _pytest_command(course, assignment, workdir, folder, results_path, ini_path,
                                  hidden, limits, interpreter or sandbox_interpreter(),
                                  confinement)
        try:
            log, timed_out = _run_grading_process(command, grading_dir, total_timeout)
        finally:
            confinement.end_all_processes()     # the uid fallback; namespaces end by themselves
        records = _read_records(results_path)
        stopped = (f"grading this submission took longer than {total_timeout:g} s in total "
                   "and was stopped" if timed_out else "the grading process stopped early")
        result["tests"] = _assemble_tests(records, stopped)
        finished = next((r for r in records if r.get("kind") == "finished"), None)
        result["isolation"] = finished.get("isolation") if finished else None
        problems = [f"{r['path']}: {r['message']}" for r in records
                    if r.get("kind") == "collect_error"]
        problems += [r["message"] for r in records if r.get("kind") == "grader_error"]
        if problems:
            result["grader_errors"] = problems[:5]
        if not result["tests"]:
            return _failed(result, "no test ran; grader log:\n" + log)
        if timed_out:
            result["error"] = stopped
    finally:
        shutil.rmtree(private, ignore_errors=True)
    result["score"] = round(sum(test["score"] for test in result["tests"]), 6)
    result["max_score"] = round(sum(test["max_score"] for test in result["tests"]), 6)
    result["graded_at"] = _now()
    return result


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _failed(result, message):
    result["error"] = message
    result["graded_at"] = _now()
    return result

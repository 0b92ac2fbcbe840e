"""Grade ONE submission: a folder or a .zip in, a result dict (docs/ARCHITECTURE.md) out.

Steps of :func:`grade_submission`:

1. unpack a .zip safely (no absolute paths, no ``..``, no links, bounded size) into a
   private temporary folder; a folder is used as it is;
2. make the instructor's files unreadable to other users (when root), and copy the
   submission into a private copy owned by the sandbox user
   (:func:`autograder.sandbox.prepare_workdir`);
3. run pytest in a FRESH trusted process (``python -m pytest -p autograder.grading.pytest_plugin``)
   on the instructor's public tests and, with ``hidden=True``, the hidden suite; never on
   any test or conftest file inside the submission. The plugin writes one JSON line per
   test into the private folder as each test ends;
4. read those lines and build the result; tests that never reported (the grading process
   was stopped) count as errors with a message saying so.

Nothing from one submission survives into the next: each gets its own grading process,
copy and sandboxed children.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath
from struct import error as struct_error
from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO, cast

import autograder
from autograder.course import Course
from autograder.grading.lateness import TIMESTAMP_FILE
from autograder.result import NotebookCheck, Result, TestOutcome, failed, new_result, now, total_points
from autograder.sandbox import Limits, prepare_workdir, protect_instructor_files
from autograder.sandbox.confinement import (UID_BASE, Confinement, choose_confinement, running_as_root,
                                            submission_uid)
from autograder.sandbox.interpreter import child_interpreter
from autograder.sandbox.workdir import COPY_IGNORE, SubmissionTooLarge, copy_regular_files
from autograder.safe_files import (MAX_WALK_DEPTH, Deadline, UnsafeFile, hash_regular_file,
                                   open_regular_file, walk_regular_files)

MAX_UNPACKED_BYTES = 256 * 2**20
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_BYTES = 256 * 2**20
# Folders a zip's members are not unpacked from (the fingerprint of a zip is its bytes, so
# this list decides nothing the fingerprint misses).
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".git", ".pytest_cache", "__MACOSX"}
# Time limits of the steps that read student files before the sandbox's limits apply.
UNPACK_SECONDS = 120
NOTEBOOK_CHECK_SECONDS = 60
FINGERPRINT_SECONDS = 120
INSTRUCTOR_MAX_BYTES = 2**30        # per file of the grader's and instructor's own trees
Ignore = Callable[[str, list[str]], Iterable[str]]
Interpreter = tuple[str, Sequence[str]]       # the sandbox's Python and its site folders


class SubmissionError(Exception):
    """A submission that cannot be graded at all (broken or unsafe zip, no such folder)."""


# -- names and fingerprints ---------------------------------------------------------------
def submission_name(path: str | Path, assignment: str) -> str:
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


def _caches(folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name == "__pycache__" or name.endswith(".pyc")}


def _hash_tree(hasher: "hashlib._Hash", root: str | Path, label: str, ignore: Ignore = _caches,
               max_bytes: int = INSTRUCTOR_MAX_BYTES, suffixes: tuple[str, ...] | None = None) -> None:
    """Feed every regular file under ``root`` (or ``root`` itself, a file) to ``hasher``.

    Paths, sizes and bytes are hashed in path order. Symlinks inside ``root`` are neither
    followed nor hashed (the copy leaves them out too); FIFOs, devices and sockets are
    hashed as a marker and never opened. ``root`` itself may be a symlink (the grader's
    own path to the submission). Raises :class:`autograder.safe_files.UnsafeFile` for a
    file over ``max_bytes``, too many files or after FINGERPRINT_SECONDS.
    """
    deadline = Deadline(FINGERPRINT_SECONDS, "computing the submission's fingerprint")
    real = os.path.realpath(root)
    try:
        info = os.stat(real)
    except OSError:
        hasher.update(f"{label}: missing\n".encode())
        return
    if stat.S_ISREG(info.st_mode):
        hasher.update(f"{label}:{Path(root).name}\n".encode())
        size = hash_regular_file(hasher, real, max_bytes, deadline)
        hasher.update(f"\n{label}:{size}\n".encode())
        return
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFile(f"{Path(root).name} is neither a folder nor a regular file")
    for relative, path in walk_regular_files(real, ignore=ignore, deadline=deadline):
        if suffixes is not None and not relative.endswith(suffixes):
            continue
        if path is None:
            hasher.update(f"{label}:{relative}:special\n".encode())
            continue
        hasher.update(f"{label}:{relative}\n".encode())
        size = hash_regular_file(hasher, path, max_bytes, deadline)
        hasher.update(f"\n{label}:{relative}:{size}\n".encode())


def _grader_ignore(folder: str, names: list[str]) -> set[str]:
    """Caches, and the hidden suites (hashed per assignment when they are used)."""
    skipped = _caches(folder, names)
    if Path(folder).resolve() == Path(autograder.__file__).resolve().parent:
        skipped.add("hidden")
    return skipped


def _course_lib_dir() -> Path | None:
    import importlib.util
    spec = importlib.util.find_spec("course_lib")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def grader_version() -> str:
    """``autograder.__version__`` plus a digest of every module that decides a grade.

    That is every ``.py`` under ``autograder/`` except the hidden suites (the fingerprint
    hashes those per assignment), and ``course_lib``'s sources and compiled extensions,
    which the sandboxed child imports.
    """
    hasher = hashlib.sha256()
    _hash_tree(hasher, Path(autograder.__file__).resolve().parent, "autograder",
               ignore=_grader_ignore, suffixes=(".py",))
    course_lib = _course_lib_dir()
    if course_lib is not None:
        _hash_tree(hasher, course_lib, "course_lib", suffixes=(".py", ".pyx", ".so", ".pyd"))
    return f"{autograder.__version__}+{hasher.hexdigest()[:12]}"


def _runtime_versions() -> str:
    import numpy
    import pytest
    return (f"python={sys.version.split()[0]} {sys.implementation.cache_tag} "
            f"numpy={numpy.__version__} pytest={pytest.__version__}")


def submission_fingerprint(course: Course, assignment: str, submission: str | Path, *, hidden: bool,
                           limits: Limits | None = None) -> str:
    """sha256 of everything a result depends on.

    The submission's files (exactly those the sandbox copy takes: the copy's own ignore
    rule, and not nbgrader's ``timestamp.txt`` at the top, which :func:`grade_submission`
    removes from the copy; a zip is hashed whole), the instructor's assignment folder
    (public tests and reference solution), the hidden suite when ``hidden``, every grader
    module and ``course_lib`` (:func:`grader_version`), the limits and the Python, NumPy and
    pytest versions. Equal fingerprints mean a regrade would give the same result.

    Raises
    ------
    SubmissionError
        The submission cannot be read safely (a file too large, too many files, or it took
        longer than FINGERPRINT_SECONDS); the message says what to do.
    """
    limits = limits or Limits()
    hasher = hashlib.sha256()
    hasher.update(f"grader {grader_version()} {_runtime_versions()} hidden={bool(hidden)} "
                  f"timeout={limits.timeout} memory={limits.memory_mb}\n".encode())
    top = os.path.realpath(submission)

    def ignore(folder: str, names: list[str]) -> set[str]:
        # nbgrader's timestamp.txt is when, not what: lateness is recorded apart
        # (autograder.grading.lateness) and the sandbox copy leaves the file out too
        skipped = set(COPY_IGNORE(folder, names))     # the copy's own rule: the child gets exactly this
        if folder == top and TIMESTAMP_FILE in names:
            skipped.add(TIMESTAMP_FILE)
        return skipped
    try:
        _hash_tree(hasher, submission, "submission", ignore=ignore,
                   max_bytes=MAX_UNPACKED_BYTES)
    except UnsafeFile as exc:
        raise SubmissionError(str(exc)) from None
    _hash_tree(hasher, course.source(assignment), "source")
    if hidden:
        _hash_tree(hasher, course.hidden_tests(assignment), "hidden")
    return hasher.hexdigest()


# -- unpacking ------------------------------------------------------------------------------
def extract_zip(archive_path: str | Path, dest: str | Path) -> Path:
    """Extract a submission zip into ``dest`` safely and return the assignment folder in it.

    Only regular files are written (new files, never through a link); the archive itself
    must be a regular file, not a symlink. Members under SKIPPED_NAMES folders
    (``__MACOSX/``, caches) are left out.

    Raises
    ------
    SubmissionError
        With a message that says what to do, when the zip is not a regular file, corrupt,
        encrypted, has file names that are not valid UTF-8, holds absolute paths, ``..``,
        links, another zip, the same name twice (also when names differ only in case or
        Unicode form), too many members, more than MAX_UNPACKED_BYTES of data, or takes
        longer than UNPACK_SECONDS to unpack.
    """
    name = Path(archive_path).name
    deadline = Deadline(UNPACK_SECONDS, f"unpacking {name}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        # never through a symlink: an upload may hold a link named x.zip to any file root reads
        fd, info = open_regular_file(archive_path)
    except UnsafeFile as exc:
        raise SubmissionError(f"{name} was not read: {exc}") from None
    except OSError as exc:
        raise SubmissionError(f"could not read {name}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "rb") as handle:
            if info.st_size > MAX_ZIP_BYTES:
                raise SubmissionError(f"{name} is larger than {MAX_ZIP_BYTES // 2**20} MiB; "
                                      "leave datasets and outputs out of the submission")
            _check_directory_size(handle)
            with zipfile.ZipFile(handle) as archive:
                _extract_members(archive, dest, deadline)
    except SubmissionError:
        raise
    except UnicodeDecodeError:
        raise SubmissionError(f"{name} has file names that are not valid UTF-8; create the zip "
                              "again with your system's built-in zip tool (or rename files "
                              "with accented characters) and resubmit") from None
    except UnsafeFile as exc:
        raise SubmissionError(str(exc)) from None
    except RuntimeError as exc:
        if "encrypt" in str(exc) or "password" in str(exc):
            raise SubmissionError(_ENCRYPTED.format(name=name)) from None
        raise SubmissionError(_UNREADABLE.format(name=name, exc=exc)) from None
    except OSError as exc:
        if exc.errno is None:
            raise SubmissionError(_UNREADABLE.format(name=name, exc=exc)) from None
        raise SubmissionError(f"could not unpack {name}: {exc.strerror or exc}; create the zip "
                              "again and resubmit") from None
    except Exception as exc:    # zlib.error, lzma.LZMAError, EOFError, NotImplementedError...
        raise SubmissionError(_UNREADABLE.format(name=name, exc=exc)) from None
    return _assignment_root(dest)


_ENCRYPTED = ("{name} is password-protected (encrypted); the grader cannot open it. Create the "
              "zip again without a password and resubmit")
_UNREADABLE = ("{name} is not a readable zip file ({exc}); create it again (zip the assignment "
               "folder) and resubmit")


def _check_directory_size(handle: BinaryIO) -> None:
    """Refuse a zip whose central directory lists more than MAX_ZIP_MEMBERS entries, before
    :class:`zipfile.ZipFile` builds an object for each (millions of tiny entries fit in the
    size cap and would take gigabytes of the grader's memory)."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:
        return                          # ZipFile's own parse, then the count check, remain
    try:
        record = end_record(handle)
    except (OSError, ValueError, struct_error):
        record = None
    handle.seek(0)
    if not record:
        return                          # ZipFile reports the zip as unreadable
    entries = record[zipfile._ECD_ENTRIES_TOTAL]  # type: ignore[attr-defined]
    directory_bytes = record[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if entries > MAX_ZIP_MEMBERS or directory_bytes > MAX_ZIP_MEMBERS * 1024:
        raise SubmissionError(f"the zip has {entries} entries (at most {MAX_ZIP_MEMBERS}); zip "
                              "only the assignment folder")


def _extract_members(archive: zipfile.ZipFile, dest: Path, deadline: Deadline) -> None:
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise SubmissionError(f"the zip has {len(members)} entries (at most "
                              f"{MAX_ZIP_MEMBERS}); zip only the assignment folder")
    too_big = (f"the zip unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB; leave "
               "datasets and outputs out of the submission")
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise SubmissionError(too_big)
    planned, files = [], set()
    spelled: dict[str, str] = {}
    for member in members:
        deadline.check()
        parts = _safe_parts(member.filename)
        if not parts or SKIPPED_NAMES.intersection(parts):
            continue
        if member.flag_bits & 0x1:
            raise SubmissionError(_ENCRYPTED.format(name="the zip"))
        kind = stat.S_IFMT(member.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise SubmissionError(f"the zip contains a symbolic link ({member.filename}); "
                                  "zip real files only")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise SubmissionError(f"the zip contains a special file ({member.filename}); "
                                  "zip real files only")
        if not member.is_dir() and parts[-1].lower().endswith(".zip"):
            raise SubmissionError(f"the zip contains another zip ({member.filename}); unzip it "
                                  "and zip the assignment folder itself, then resubmit")
        # every folder and file name must have one spelling up to case and Unicode form
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            earlier = spelled.setdefault(
                unicodedata.normalize("NFC", prefix).casefold(), prefix)
            if earlier != prefix:
                raise SubmissionError(
                    f"the zip contains {earlier!r} and {prefix!r}, whose names differ only in "
                    "upper/lower case (or accents); they would be one on Windows and macOS. "
                    "Rename or delete one, zip the folder again and resubmit")
        if not member.is_dir():
            if "/".join(parts) in files:
                raise SubmissionError(f"the zip contains {member.filename!r} twice. Delete one, "
                                      "zip the folder again and resubmit")
            files.add("/".join(parts))
        planned.append((member, parts))
    budget = MAX_UNPACKED_BYTES
    for member, parts in planned:
        target = dest.joinpath(*parts)
        if member.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                      | getattr(os, "O_CLOEXEC", 0), 0o644)
        with archive.open(member) as source, os.fdopen(out, "wb") as sink:
            while True:
                deadline.check()
                chunk = source.read(1 << 20)
                if not chunk:
                    break
                budget -= len(chunk)
                if budget < 0:
                    raise SubmissionError(too_big)
                sink.write(chunk)


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path components of a zip member name; SubmissionError for unsafe names."""
    normalized = name.replace("\\", "/")
    path = PurePosixPath(normalized)
    if normalized.startswith("/") or (path.parts and ":" in path.parts[0]) or ".." in path.parts \
            or "\0" in normalized:
        raise SubmissionError(f"the zip contains an unsafe path ({name!r}); zip the "
                              "assignment folder with relative paths only")
    return tuple(part for part in path.parts if part not in ("", "."))


def _assignment_root(folder: str | Path) -> Path:
    """Descend through single wrapping folders (``alice.zip`` -> ``assignment0/``).

    Never follows a symlink, and stops after MAX_WALK_DEPTH levels.
    """
    folder = Path(folder)
    for _ in range(MAX_WALK_DEPTH):
        entries = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
        if len(entries) != 1 or not stat.S_ISDIR(os.lstat(entries[0]).st_mode) \
                or os.path.lexists(folder / "nnfs"):
            break
        folder = entries[0]
    return folder


def unpack_submission(path: str | Path, private_dir: str | Path) -> Path:
    """The folder to grade: ``path`` itself, or the extracted zip in ``private_dir``.

    A zip is recognised by its name and must be a regular file; a folder given by the
    grader's caller may be reached through a symlink.
    """
    path = Path(path)
    if path.is_dir():
        return path
    if path.suffix.lower() == ".zip" and os.path.lexists(path):
        return extract_zip(path, Path(private_dir) / "unzipped")
    raise SubmissionError(f"{path} is neither a folder nor a .zip file")


# -- running the tests ---------------------------------------------------------------------
def _pytest_command(course: Course, assignment: str, workdir: str | Path, original: str | Path, results_path: Path,
                    ini_path: Path, hidden: bool, limits: Limits, interpreter: Interpreter,
                    confinement: Confinement) -> list[str]:
    public = course.public_tests(assignment)
    command = [sys.executable, "-m", "pytest", "-p", "autograder.grading.pytest_plugin",
               "-p", "no:cacheprovider", "-c", str(ini_path), "--rootdir", str(ini_path.parent),
               "--confcutdir", str(course.root), "--import-mode=importlib", "-q",
               "--no-header", "-rN", "--tb=short",
               "--autograder-workdir", str(workdir),
               "--autograder-original", str(original),
               "--autograder-reference", str(course.source(assignment)),
               "--autograder-results", str(results_path),
               "--autograder-limits", json.dumps(dataclasses.asdict(limits)),
               "--autograder-interpreter", json.dumps(interpreter),
               "--autograder-confinement", json.dumps(dataclasses.asdict(confinement)),
               "--autograder-public-dir", str(public)]
    if hidden:
        command += ["--autograder-hidden-dir", str(course.hidden_tests(assignment))]
    return command + [str(public)] + ([str(course.hidden_tests(assignment))] if hidden else [])


def _run_grading_process(command: list[str], cwd: Path, total_timeout: float) -> tuple[str, bool]:
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
        timed_out = False
        try:
            process.wait(timeout=total_timeout)
        except BaseException as exc:    # the time limit, or the worker is being stopped (SIGTERM/SIGINT)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            if not isinstance(exc, subprocess.TimeoutExpired):
                raise                   # take the grading process along
            timed_out = True
        log.seek(0)
        return log.read()[-4000:], timed_out


def _read_records(results_path: Path) -> list[dict[str, Any]]:
    records = []
    if results_path.exists():
        for line in results_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                break               # a line cut by a killed process: keep what came before
    return records


def _assemble_tests(records: list[dict[str, Any]], stopped_reason: str) -> list[TestOutcome]:
    """Per-test results in collection order; unreported tests become errors."""
    collected: list[dict[str, Any]] = next((r["tests"] for r in records if r.get("kind") == "collected"), [])
    reported = {r["name"]: r for r in records if r.get("kind") == "test"}
    tests = []
    for entry in collected:
        record = reported.get(entry["name"])
        if record is None:
            record = {"name": entry["name"], "score": 0.0, "max_score": entry["max_score"],
                      "status": "error", "visibility": entry["visibility"],
                      "output": f"this test did not run: {stopped_reason}"}
        tests.append(cast(TestOutcome, {key: record[key] for key in TestOutcome.__annotations__}))
    return tests


def check_notebooks(course: Course, assignment: str, folder: str | Path) -> list[NotebookCheck]:
    """Integrity findings for the submission's notebooks (``autograder.grading.notebooks``), or []
    when that module is not available."""
    try:
        from autograder.grading.notebooks import check_submission_notebooks
    except ImportError:
        return []
    deadline = Deadline(NOTEBOOK_CHECK_SECONDS, "checking the notebooks")
    try:
        return check_submission_notebooks(course, assignment, Path(folder), deadline)
    except Exception as exc:    # a checker bug must not cost the student the code grade
        message = str(exc) if isinstance(exc, UnsafeFile) else f"the notebook check could not run: {exc}"
        return [{"notebook": "*", "status": "invalid", "message": message}]


def sandbox_interpreter() -> Interpreter:
    """(python, site dirs) for sandboxed children on this machine (probed once per process)."""
    uid = UID_BASE if running_as_root() else None
    return child_interpreter(uid, uid)


SCRATCH_PREFIX = "autograder-grade-"
OWNER_FILE = "owner.pid"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                # alive, another user's
    return True


def sweep_stale_scratch(tmp_dir: str | Path | None = None) -> list[Path]:
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


def _scratch_owner(folder: Path) -> int | None:
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


def grading_limits(timeout: float | None = None, memory_mb: int | None = None) -> Limits:
    """The limits of ``autograder grade --timeout --memory-mb`` (``Limits``' defaults for None)."""
    defaults = Limits()
    return Limits(timeout=float(timeout or defaults.timeout), memory_mb=int(memory_mb or defaults.memory_mb))


def grade_submission(course: Course, assignment: str, submission_path: str | Path, *, hidden: bool = False,
                     timeout: float | None = None, memory_mb: int | None = None, name: str | None = None,
                     interpreter: Interpreter | None = None) -> Result:
    """Grade one submission and return its result (``error`` when grading failed as a whole).

    The whole grading may take ``120 + 20 * timeout`` seconds.

    Parameters
    ----------
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
    interpreter : (str, list of str), optional
        The sandbox's Python and site folders (default: :func:`sandbox_interpreter`).
    """
    limits = grading_limits(timeout, memory_mb)
    total_timeout = 120 + 20 * limits.timeout
    submission_path = Path(submission_path)
    result = new_result(name or submission_name(submission_path, assignment), assignment)
    if not submission_path.exists():
        return failed(result, f"the submission {submission_path} does not exist")
    try:
        result["fingerprint"] = submission_fingerprint(course, assignment, submission_path,
                                                       hidden=hidden, limits=limits)
    except SubmissionError as exc:
        return failed(result, str(exc))
    confinement = choose_confinement(submission_uid() if running_as_root() else None)
    if confinement.engine == "uid":
        protect_instructor_files(course)    # no mount namespace: permissions must keep it out
    private = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    (private / OWNER_FILE).write_text(str(os.getpid()))
    try:
        try:
            folder = unpack_submission(submission_path, private)
        except SubmissionError as exc:
            return failed(result, str(exc))
        result["notebooks"] = check_notebooks(course, assignment, folder)
        os.chmod(private, 0o711)        # the sandbox user must pass through to its copy
        sandbox_parent = private / "sandbox"
        sandbox_parent.mkdir(mode=0o700)
        try:
            workdir = prepare_workdir(folder, sandbox_parent, owner=confinement.uid)
            # What tests read as text (e.g. an ast check for banned calls): a snapshot the
            # child cannot rewrite while it runs, of regular files only.
            snapshot = copy_regular_files(folder, private / "original")
        except (SubmissionTooLarge, UnsafeFile) as exc:
            return failed(result, str(exc))
        if submission_path.is_dir():
            # not in the fingerprint (a new submission time must not regrade the code), so
            # not in what the child sees either
            for copy in (workdir, snapshot):
                _remove_regular_file(Path(copy) / TIMESTAMP_FILE)
        grading_dir = private / "grading"
        grading_dir.mkdir(mode=0o700)
        ini_path = grading_dir / "pytest.ini"
        ini_path.write_text("[pytest]\npython_files = test_*.py\n", encoding="utf-8")
        results_path = grading_dir / "results.jsonl"
        command = _pytest_command(course, assignment, workdir, snapshot, results_path, ini_path,
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
        result["isolation"] = next((r.get("isolation") for r in records if r.get("kind") == "finished"), None)
        problems = [f"{r['path']}: {r['message']}" for r in records
                    if r.get("kind") == "collect_error"]
        problems += [r["message"] for r in records if r.get("kind") == "grader_error"]
        if problems:
            result["grader_errors"] = problems[:5]
        if not result["tests"]:
            return failed(result, "no test ran; grader log:\n"
                          + _neutral_log(log, course, assignment, private, grading_dir))
        if timed_out:
            result["error"] = stopped
    finally:
        shutil.rmtree(private, ignore_errors=True)
    result["score"] = total_points(result["tests"])
    result["max_score"] = total_points(result["tests"], "max_score")
    result["graded_at"] = now()
    return result


def _neutral_log(log: str, course: Course, assignment: str, private: Path, cwd: Path) -> str:
    """The grading process's log without the course's or the scratch folder's absolute paths
    (a result's ``error`` can reach students, e.g. on Gradescope)."""
    from autograder.grading.pytest_plugin import neutral_paths
    prefixes = [(str(course.public_tests(assignment)), "tests"),
                (str(course.source(assignment)), ""), (str(course.root), "course"),
                (str(private), "grader-scratch")]
    prefixes += [(os.path.realpath(prefix), shown) for prefix, shown in prefixes]
    return neutral_paths(log, sorted(set(prefixes), key=lambda p: len(p[0]), reverse=True),
                         cwd=str(cwd))


def _remove_regular_file(path: Path) -> None:
    try:
        if stat.S_ISREG(os.lstat(path).st_mode):
            os.unlink(path)
    except OSError:
        pass


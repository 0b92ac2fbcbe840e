"""The submission's private copy, and the files a weaker confinement must protect.

:func:`prepare_workdir` copies the submission (regular files only, no symlinks, with a size
cap) into a private folder and hands the copy to the submission's own uid. Under
bubblewrap (:mod:`~autograder.sandbox.confinement`) that copy is all the child sees of the
grading machine's files besides the Python runtime and ``course_lib``.

Without namespaces (the ``uid`` fallback), file permissions are what keep the child out:
:func:`protect_instructor_files` removes the "other" permission bits from the hidden
suites, the instructor's sources, the checkout's ``.git`` and project tests, nbgrader's
``submitted``, ``autograded`` and ``feedback`` folders and the gradebook. Root keeps reading
them; the child's uid is neither owner nor group. Git does not track these bits.
"""
import os
import shutil
import tempfile
from pathlib import Path

from autograder.course import Course
from autograder.safe_files import Deadline
from autograder.sandbox.confinement import running_as_root  # noqa: F401 - re-exported

MAX_COPY_BYTES = 256 * 2**20
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".ipynb_checkpoints",
                                     ".pytest_cache")


class SubmissionTooLarge(ValueError):
    """The submission folder holds more data than the sandbox copy may take."""


def copy_regular_files(src: str | os.PathLike[str], dst: str | os.PathLike[str], max_bytes: int = MAX_COPY_BYTES,
                       deadline: Deadline | None = None) -> Path:
    """Copy the regular files under ``src`` into a new folder ``dst``; return ``dst``.

    Symlinks (a link to the hidden tests must not come along), FIFOs, devices and sockets
    are left out, as are caches (:data:`COPY_IGNORE`); every file is opened with
    ``O_NOFOLLOW | O_NONBLOCK`` and checked to be regular before a byte is read
    (:mod:`autograder.safe_files`). More than ``max_bytes`` of data raises
    :class:`SubmissionTooLarge`; a ``deadline`` bounds the time.
    """
    from autograder.safe_files import NO_DEADLINE, UnsafeFile, open_regular_file, \
        walk_regular_files
    deadline = deadline or NO_DEADLINE
    dst = Path(dst)
    dst.mkdir(mode=0o700)
    copied = 0
    for relative, path in walk_regular_files(src, ignore=COPY_IGNORE, deadline=deadline):
        if path is None:
            continue                            # not a regular file: never opened
        try:
            fd, _ = open_regular_file(path)
        except (UnsafeFile, OSError):
            continue                            # replaced by a link or vanished meanwhile
        target = dst / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(fd, "rb") as source, open(target, "xb") as sink:
            while chunk := source.read(1 << 20):
                deadline.check()
                copied += len(chunk)
                if copied > max_bytes:
                    raise SubmissionTooLarge(f"the submission holds more than "
                                             f"{max_bytes // 2**20} MiB; leave datasets and "
                                             "outputs out of it")
                sink.write(chunk)
    return dst


def prepare_workdir(submission: str | os.PathLike[str], parent: str | os.PathLike[str], max_bytes: int = MAX_COPY_BYTES,
                    owner: int | None = None) -> Path:
    """Copy ``submission`` into ``parent/student`` for the child and return the copy's path.

    Parameters
    ----------
    submission : str or Path
        The folder to copy (symlinks and caches are left out).
    parent : str or Path
        A private directory (e.g. from :func:`make_private_dir`); it becomes traversable
        (0711) but not listable when the copy is handed to ``owner``. Its ancestors must be
        traversable by other users.
    max_bytes : int
        Largest amount of data copied (:class:`SubmissionTooLarge` beyond).
    owner : int, optional
        The submission's uid (root only): the copy is handed to it, mode 0700 at the top.
    """
    workdir = Path(parent) / "student"
    copy_regular_files(submission, workdir, max_bytes)
    if owner is not None:
        os.chmod(parent, 0o711)
        for folder, _dirs, files in os.walk(workdir):
            os.chown(folder, owner, owner)
            for name in files:
                os.chown(os.path.join(folder, name), owner, owner)
        os.chmod(workdir, 0o700)
    return workdir


def protect_instructor_files(course: Course) -> list[Path]:
    """Make what student code must not read unreadable to other users (``chmod o-rwx``).

    That is the hidden suites, the instructor's sources (reference solutions), the
    checkout's ``.git`` and project ``tests`` (mutants of the reference), nbgrader's
    ``submitted``/``autograded``/``feedback`` folders (other students' work) and the
    gradebook. Needed only where the child is not in a mount namespace (the ``uid``
    fallback). ``release`` and an ``exchange`` folder stay as they are, since students must
    reach those. Returns the paths changed.
    """
    private = [course.hidden_root, course.nbgrader_root / "gradebook.db"]
    private += [course.nbgrader_root / name for name in ("source", "submitted", "autograded",
                                                         "feedback")]
    root = getattr(course, "root", None)
    if root is not None:
        private += [Path(root) / ".git", Path(root) / "tests"]
    changed = []
    for path in private:
        if path.exists() and not path.is_symlink():
            mode = path.stat().st_mode
            if mode & 0o007:
                os.chmod(path, mode & ~0o007)
                changed.append(path)
    return changed


def make_private_dir(prefix: str = "autograder-") -> Path:
    """A fresh private temporary directory (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix=prefix))

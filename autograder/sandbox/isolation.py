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

from autograder.sandbox.confinement import running_as_root  # noqa: F401 - re-exported

MAX_COPY_BYTES = 256 * 2**20
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".ipynb_checkpoints",
                                     ".pytest_cache")


class SubmissionTooLarge(ValueError):
    """The submission folder holds more data than the sandbox copy may take."""


def _copy_ignoring_links(src, dst, max_bytes):
    """``shutil.copytree`` that drops symlinks (a link to the hidden tests must not come
    along) and stops at ``max_bytes`` of data."""
    copied = 0

    def ignore(folder, names):
        skipped = set(COPY_IGNORE(folder, names))
        skipped.update(name for name in names if os.path.islink(os.path.join(folder, name)))
        return skipped

    def copy(source, target):
        nonlocal copied
        copied += os.path.getsize(source)
        if copied > max_bytes:
            raise SubmissionTooLarge(f"the submission holds more than {max_bytes // 2**20} MiB; "
                                     "leave datasets and outputs out of it")
        return shutil.copy2(source, target)

    shutil.copytree(src, dst, ignore=ignore, copy_function=copy)


def prepare_workdir(submission, parent, max_bytes=MAX_COPY_BYTES, owner=None):
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
    _copy_ignoring_links(submission, workdir, max_bytes)
    if owner is not None:
        os.chmod(parent, 0o711)
        for folder, dirs, files in os.walk(workdir):
            os.chown(folder, owner, owner)
            for name in files:
                os.chown(os.path.join(folder, name), owner, owner)
        os.chmod(workdir, 0o700)
    return workdir


def protect_instructor_files(course):
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


def make_private_dir(prefix="autograder-"):
    """A fresh private temporary directory (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix=prefix))

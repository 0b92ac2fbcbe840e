"""Who the student process runs as, and what it can read and leave behind.

The choice
----------
Running as root, the grader starts the child as ``nobody:nogroup`` with no supplementary
groups: ``subprocess.Popen(user=, group=, extra_groups=[])`` switches ids between fork and
exec (what a preexec function would do, minus running Python in a forked child while
other threads exist, which can deadlock). Then file permissions do the separating:

- :func:`protect_instructor_files` removes the "other" permission bits (``chmod o-rwx``)
  from the hidden suites, the instructor's sources, nbgrader's ``submitted``,
  ``autograded`` and ``feedback`` folders and the gradebook at the start of every grading.
  Root keeps reading them; ``nobody`` is neither owner nor group, so it cannot. This
  needs no ACL support, no extra group and no copy of the course, and git does not
  track the bits. ``release`` and an ``exchange`` stay readable, as students need them.
- :func:`prepare_workdir` copies the submission (without symlinks, with a size cap) into
  a private temporary folder and hands the copy to ``nobody``; its parent is traversable
  but not listable, so the child reaches its own copy and nothing next to it.
- Results folders are root-owned and not writable by others, so planted result files fail.
- :func:`kill_processes_in` sweeps up student processes that left their process group.

Without root none of this is possible: the child keeps the grader's uid and could read
what the grader reads. The sandbox then says so (``Sandbox.isolation``), and timeouts,
memory, CPU and file-size limits still apply.
"""
import os
import shutil
import signal
import tempfile
from pathlib import Path

UNPRIVILEGED_USER = "nobody"
UNPRIVILEGED_GROUP = "nogroup"
MAX_COPY_BYTES = 256 * 2**20
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".ipynb_checkpoints",
                                     ".pytest_cache")


def running_as_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def unprivileged_ids():
    """(uid, gid) of nobody:nogroup, or None when they do not exist."""
    import grp
    import pwd
    try:
        uid = pwd.getpwnam(UNPRIVILEGED_USER).pw_uid
        try:
            gid = grp.getgrnam(UNPRIVILEGED_GROUP).gr_gid
        except KeyError:
            gid = pwd.getpwnam(UNPRIVILEGED_USER).pw_gid
    except KeyError:
        return None
    return uid, gid


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


def prepare_workdir(submission, parent, max_bytes=MAX_COPY_BYTES):
    """Copy ``submission`` into ``parent/student`` for the child and return the copy's path.

    ``parent`` should be a private directory (e.g. from :func:`tempfile.mkdtemp`). When
    running as root the copy is handed to ``nobody`` and ``parent`` becomes traversable
    (0711) but not listable, so the child reaches its copy and nothing else there. The
    ancestors of ``parent`` must be traversable by other users.
    """
    workdir = Path(parent) / "student"
    _copy_ignoring_links(submission, workdir, max_bytes)
    ids = unprivileged_ids() if running_as_root() else None
    if ids:
        os.chmod(parent, 0o711)
        for folder, dirs, files in os.walk(workdir):
            os.chown(folder, *ids)
            for name in files:
                os.chown(os.path.join(folder, name), *ids)
    return workdir


def protect_instructor_files(course):
    """Make what student code must not read unreadable to other users (``chmod o-rwx``).

    That is the hidden suites, the instructor's sources (reference solutions), nbgrader's
    ``submitted``/``autograded``/``feedback`` folders (other students' work) and the
    gradebook. The grader (root) still reads them; the child (nobody) cannot. ``release``
    and an ``exchange`` folder stay as they are, since students must reach those. Git
    does not track these bits, so the checkout stays clean. Returns the paths changed.
    """
    private = [course.hidden_root, course.nbgrader_root / "gradebook.db"]
    private += [course.nbgrader_root / name for name in ("source", "submitted", "autograded",
                                                         "feedback")]
    changed = []
    for path in private:
        if path.exists():
            mode = path.stat().st_mode
            if mode & 0o007:
                os.chmod(path, mode & ~0o007)
                changed.append(path)
    return changed


def kill_processes_in(folder):
    """Kill every process whose working directory is inside ``folder``; return their pids.

    After a submission is graded this sweeps up what process groups miss: a student
    process that escaped with ``setsid`` or outlived a killed grading process. Linux only
    (reads ``/proc``); elsewhere it does nothing.
    """
    folder = os.path.realpath(folder)
    killed = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return killed
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if cwd == folder or cwd.startswith(folder + os.sep):
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
            except OSError:
                pass
    return killed


def make_private_dir(prefix="autograder-"):
    """A fresh private temporary directory (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix=prefix))

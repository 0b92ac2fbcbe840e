"""How student code is confined: a bubblewrap sandbox per submission, with its own uid.

The engine
----------
``bwrap`` (bubblewrap, Debian package ``bubblewrap``) starts the child in new
user, mount, pid, network, IPC, UTS and cgroup namespaces. Inside, the filesystem is built
from nothing: read-only binds of the system's ``/usr`` (the C library, the interpreter),
the Python runtime and site-packages the child needs, ``course_lib``, and the two files of
the runner; a writable bind of the submission's private copy at :data:`WORKDIR_MOUNT`; a
private ``/tmp``, ``/dev`` and ``/proc``. The course checkout, ``.git``, hidden suites,
reference solutions, other submissions and stored results are not in that view at all.
There is no network but a private loopback. ``--die-with-parent`` ties the sandbox to the
grading process that started it, and ending the sandbox means killing the one ``bwrap``
process the grader started itself: its pid namespace then ends, and every process in it
with it, however it tried to escape (double fork, ``setsid``). The grader never signals a
pid that came from inside.

One uid per submission
----------------------
When the grader runs as root, ``bwrap`` itself is started as a uid of its own
(:func:`submission_uid`: a fixed base, the pid of the process that grades that submission
and a counter, so no two submissions graded at the same time share one) with no groups, and
builds an unprivileged user namespace that maps only that uid. Limits counted per user
(``RLIMIT_NPROC``) are then per submission, and files the child writes belong to it alone.

Fallbacks, said loudly
----------------------
Where ``bwrap`` cannot run (not installed, or a container without user namespaces), the
grader falls back to the best isolation the machine allows and says which in
:attr:`Confinement.description` (copied into every result's ``isolation`` field):

- ``uid`` (root, no bubblewrap): the child runs as its submission's own uid, with no
  groups; file permissions keep it from the instructor's files
  (:func:`~autograder.sandbox.workdir.protect_instructor_files`), and ending a sandbox
  kills every process of that uid (a helper running AS that uid calls ``kill(-1)``, so no
  pid is ever read). It does NOT hide world-readable files of the machine, give a private
  ``/tmp`` or cut the network.
- ``none`` (not root, no bubblewrap): the child shares the grader's uid and could read
  whatever the grader can; only the resource limits and timeouts hold.
"""
import functools
import importlib.util
import itertools
import os
import shutil
import subprocess
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UID_BASE = 1_000_000_000
WORKDIR_MOUNT = "/submission"
RUNNER_DIR = "/opt/autograder-runner"
TMP_BYTES = 256 * 2**20
SYSTEM_DIRS = ("/usr",)
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/ssl/certs",
             "/etc/fonts", "/etc/matplotlibrc")
BWRAP_ENV = "AUTOGRADER_BWRAP"


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


_uid_counter = itertools.count()
_uid_lock = threading.Lock()


def submission_uid() -> int:
    """A fresh uid for one submission: unique among all submissions being graded on this
    machine (pids of live processes are unique; the counter separates threads and
    successive submissions of one process), and above every ordinary account."""
    with _uid_lock:
        serial = next(_uid_counter) % 256
    return UID_BASE + (os.getpid() << 8) + serial


def bwrap_path() -> str | None:
    """The ``bwrap`` executable (``$AUTOGRADER_BWRAP`` overrides; ``""`` disables)."""
    chosen = os.environ.get(BWRAP_ENV)
    if chosen is not None:
        return chosen or None
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.path.exists(p)), None)


def _ids_kwargs(uid: int | None) -> dict[str, Any]:
    """Popen keyword arguments that start a process as ``uid`` with no groups (root only)."""
    if uid is None:
        return {}
    return {"user": uid, "group": uid, "extra_groups": []}


@functools.lru_cache(maxsize=None)
def probe_bubblewrap(bwrap: str | None, uid: int | None) -> str | None:
    """None when ``bwrap`` builds a sandbox here as ``uid``; else why it cannot."""
    if not bwrap:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session",
            *_system_mounts(), "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]
    try:
        probe = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/",
                               **_ids_kwargs(uid))
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start: {exc}"
    if probe.returncode != 0:
        detail = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"bubblewrap cannot create its namespaces here ({detail}); user namespaces "
                "may be disabled (sysctl kernel.unprivileged_userns_clone, "
                "user.max_user_namespaces) or blocked by the container")
    return None


def _system_mounts() -> list[str]:
    args: list[str] = []
    for folder in SYSTEM_DIRS:
        args += ["--ro-bind", folder, folder]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    return args


@dataclass(frozen=True)
class Confinement:
    """How the processes of one submission are confined.

    Attributes
    ----------
    engine : str
        ``"bubblewrap"``, ``"uid"`` or ``"none"`` (see the module docstring).
    uid : int or None
        The submission's own uid (root only), else None (the grader's own uid).
    bwrap : str or None
        Path of ``bwrap`` for the ``bubblewrap`` engine.
    reason : str or None
        Why a weaker engine was chosen.
    """

    engine: str
    uid: int | None
    bwrap: str | None = None
    reason: str | None = None

    @property
    def description(self) -> str:
        """One sentence on how strongly the submission's code was separated."""
        if self.engine == "bubblewrap":
            who = f"its own uid {self.uid}" if self.uid is not None else "the grader's uid"
            return ("student code ran in a bubblewrap sandbox (own user, mount, pid, network "
                    f"and IPC namespaces) as {who}; it saw only the Python runtime, course_lib "
                    "and its own copy, under memory/CPU/process/file-size limits")
        if self.engine == "uid":
            return (f"WEAKER ISOLATION: {self.reason}; student code ran as its own uid "
                    f"{self.uid} with protected instructor files, but without namespaces it "
                    "could see world-readable files and the network")
        return (f"WEAKER ISOLATION: {self.reason}; the grader is not root, so student code ran "
                "with the grader's own user id (it could read files the grader can read); "
                "memory, CPU and file-size limits and timeouts still applied")

    @property
    def workdir_inside(self) -> str | None:
        return WORKDIR_MOUNT if self.engine == "bubblewrap" else None

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`subprocess.Popen` of the confined command."""
        return _ids_kwargs(self.uid)

    def wrap(self, argv: Sequence[str], workdir: str | os.PathLike[str], read_only: Iterable[str] = (),
             files: Iterable[tuple[str | os.PathLike[str], str]] = (), writable: Iterable[str] = (),
             env: dict[str, str] | None = None) -> list[str]:
        """The command line that runs ``argv`` confined.

        Parameters
        ----------
        argv : list of str
            The command as it should run inside (paths as seen inside).
        workdir : str or Path
            The submission's private copy: writable, at :data:`WORKDIR_MOUNT` inside (the
            working directory), or at its own path without bubblewrap.
        read_only : iterable of str
            Host folders or files bound read-only at the same path.
        files : iterable of (str, str)
            ``(host path, path inside)`` pairs bound read-only.
        writable : iterable of str
            Further host folders bound writable at the same path (e.g. kernel sockets).
        env : dict, optional
            The environment inside (bubblewrap clears the rest).
        """
        if self.engine != "bubblewrap":
            return list(argv)
        # bwrap mounts in order: the private /tmp, /dev and /proc come first, so that binds of
        # host paths below /tmp (a checkout or venv there) are not hidden under the tmpfs.
        args: list[str] = [self.bwrap, "--unshare-all",  # type: ignore[list-item]  # set for this engine "--unshare-user", "--disable-userns",
                "--die-with-parent", "--new-session", "--clearenv",
                "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
                *_system_mounts()]
        for path in ETC_FILES:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        bound = set(SYSTEM_DIRS)
        for path in read_only:
            path = os.path.realpath(path)
            if path in bound or any(path.startswith(b + os.sep) for b in bound):
                continue
            bound.add(path)
            args += ["--ro-bind", path, path]
        for host, inside in files:
            args += ["--ro-bind", str(host), str(inside)]
        for path in writable:
            args += ["--bind", str(path), str(path)]
        args += ["--bind", str(workdir), WORKDIR_MOUNT, "--chdir", WORKDIR_MOUNT]
        for key, value in (env or {}).items():
            args += ["--setenv", key, value]
        return args + ["--", *argv]

    def end_all_processes(self) -> None:
        """Kill every process of this submission's uid (the ``uid`` engine's clean-up).

        A short-lived helper started AS that uid calls ``kill(-1, SIGKILL)``, which reaches
        exactly the processes that uid may signal: its own. No pid is read from anywhere.
        Does nothing for the other engines (a namespace ends with its ``bwrap``).
        """
        if self.engine != "uid" or self.uid is None:
            return
        # kill(1) from procps, which every uid can run (the grader's own Python may sit where
        # that uid cannot read it); Python from /usr as a second choice.
        kill = shutil.which("kill", path="/usr/bin:/bin")
        code = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
        argv = [kill, "-9", "-1"] if kill else ["/usr/bin/python3", "-I", "-S", "-c", code]
        try:
            subprocess.run(argv, cwd="/", timeout=30,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"},
                           **self.popen_kwargs())
        except (OSError, subprocess.SubprocessError):
            pass


def choose_confinement(uid: int | None = None, engine: str | None = None) -> Confinement:
    """The strongest confinement this machine allows.

    Parameters
    ----------
    uid : int, optional
        The submission's uid when root (default :func:`submission_uid`). Ignored when not
        root: without root the child keeps the grader's uid.
    engine : str, optional
        Force ``"bubblewrap"``, ``"uid"`` or ``"none"`` (tests; ``"uid"`` needs root).
    """
    root = running_as_root()
    if root and uid is None:
        uid = submission_uid()
    if not root:
        uid = None
    bwrap = bwrap_path()
    if engine in (None, "bubblewrap"):
        problem = probe_bubblewrap(bwrap, UID_BASE if root else None)
        if problem is None:
            return Confinement("bubblewrap", uid, bwrap)
        if engine == "bubblewrap":
            raise RuntimeError(problem)
        warnings.warn(f"autograder: {problem}; falling back to weaker isolation "
                      "(see README, 'Why the grade can be trusted')", RuntimeWarning,
                      stacklevel=2)
    else:
        problem = f"bubblewrap was not used (engine {engine!r} chosen)"
    if root and engine in (None, "bubblewrap", "uid"):
        return Confinement("uid", uid, reason=problem)
    if engine == "uid":
        raise RuntimeError("the 'uid' engine needs the grader to run as root")
    return Confinement("none", None, reason=problem)


def runtime_paths(executable: str, site_dirs: Iterable[str]) -> list[str]:
    """Host paths the child's interpreter needs, to bind read-only inside the sandbox.

    The interpreter's own prefix (a venv and the Python it was made from), the site-packages
    folders, and ``course_lib`` wherever it is installed from (an editable install points
    into the checkout: only that folder is bound, never the checkout around it).
    """
    paths = [str(Path(os.path.abspath(executable)).parent.parent),
             str(Path(os.path.realpath(executable)).parent.parent)]
    paths += list(site_dirs)
    spec = importlib.util.find_spec("course_lib")
    if spec is not None and spec.submodule_search_locations:
        paths += list(spec.submodule_search_locations)
    seen: list[str] = []
    for path in paths:
        if os.path.exists(path) and path not in seen and path != "/":
            seen.append(path)
    return seen

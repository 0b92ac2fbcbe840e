"""A Jupyter kernel that runs inside the grader's sandbox (for ``nbgrader autograde``).

The kernelspec ``nnfs-sandbox`` (:mod:`autograder.grading.kernelspec`) starts this module::

    python -m autograder.sandbox.kernel -f {connection_file} [kernel arguments...]

This process, the *launcher*, runs as whoever runs nbgrader (the TA, root on a grading
server) and never runs notebook code. It

1. makes a private folder holding a copy of the notebook's folder (its working directory,
   handed to the kernel's own uid) and a ``sockets`` folder owned by the launcher;
2. binds the five channels of the connection file on TCP, as any kernel would, plus five
   ``ipc`` endpoints in ``sockets`` (the socket files are handed to the kernel's uid, the
   folder is not: the sandbox can connect to them but cannot replace them);
3. starts ipykernel (:mod:`autograder.sandbox.kernel_boot`) in the same confinement as the
   grader's runner (:mod:`autograder.sandbox.confinement`: bubblewrap, a uid of its own, no
   network, only the Python runtime, site-packages and ``course_lib`` read-only, the copy at
   ``/submission``, a private ``/tmp``; the runner's rlimits). Its sockets *connect* to the
   ``ipc`` endpoints, which ``sockets`` reaches read-only inside;
4. relays messages both ways, frame by frame, without interpreting or re-signing them:
   ROUTER (TCP) <-> DEALER (ipc) for shell, control, stdin and heartbeat, XPUB <-> XSUB for
   iopub. The shell and stdin DEALERs share one routing id, so ``input()`` requests reach the
   client that asked;
5. ends the sandbox when the kernel exits, when it is told to stop (SIGTERM, SIGHUP) or its
   parent (the Jupyter client) is gone, and removes the private folder: whatever the
   notebook wrote is discarded. SIGKILL of the launcher kills bwrap through
   ``--die-with-parent``; a helper forked at start (:func:`start_reaper`) then removes the
   folder.

The launcher never opens a path the sandbox can write, never reads a pid from inside and
never signals anything but the one process it started (``bwrap``; its pid namespace ends
with it, taking daemons along). Interrupts travel as ``interrupt_request`` messages (the
kernelspec's ``interrupt_mode`` is ``message``): ipykernel then raises SIGINT inside the
sandbox. A SIGINT to the launcher itself is turned into the same message. A kernel that
ignores an interrupt for :data:`INTERRUPT_GRACE_SECONDS`, or dies by itself after it started,
is replaced by a fresh one in a fresh sandbox; the launcher tells the client that the cell
is over (signed with the connection's key), so nbclient grades the rest of the notebook
instead of failing it whole. ``AUTOGRADER_KERNEL_DEBUG=1`` logs every relayed message.

Without bubblewrap the kernel runs as its own uid (``uid`` engine, root) or as the
launcher's user (``none``), said loudly on stderr, as for the grader.
"""
import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zmq

    from autograder.sandbox.confinement import Confinement
    from autograder.sandbox.process import Limits

KERNEL_DIR = "/opt/autograder-kernel"
SOCKETS_INSIDE = "/run/autograder-kernel"
BOOT = Path(__file__).resolve().with_name("kernel_boot.py")
RUNNER = Path(__file__).resolve().with_name("runner.py")
CHANNELS = {"shell": 1, "iopub": 2, "stdin": 3, "control": 4, "hb": 5}
SHARED_ROUTING_ID = b"autograder-relay"
OUTPUT_KEPT_BYTES = 64 * 1024
MAX_FRAME_BYTES = 256 * 2**20
MAX_QUEUED = 10000
# nbclient gives an interrupted cell ``iopub_timeout`` seconds to go idle before it fails
# the whole notebook (autograder.grading.kernelspec.SandboxedExecute sets 10); a kernel still busy
# this long after an interrupt is replaced before that.
INTERRUPT_GRACE_SECONDS = 5.0
MAX_PARSED_BYTES = 64 * 1024
MAX_REVIVALS = 10
DELIMITER = b"<IDS|MSG>"
# Passed from nbgrader's environment into the kernel (everything else is cleared).
PASSED_ENV = ("COURSE_FAST", "COURSE_DATASET", "COURSE_LIB_IM2COL", "NBGRADER_EXECUTION")
DEBUG = bool(os.environ.get("AUTOGRADER_KERNEL_DEBUG"))
LIMIT_ENV = {"memory_mb": "AUTOGRADER_KERNEL_MEMORY_MB",
             "cpu_seconds": "AUTOGRADER_KERNEL_CPU_SECONDS",
             "max_processes": "AUTOGRADER_KERNEL_MAX_PROCESSES",
             "file_mb": "AUTOGRADER_KERNEL_FILE_MB"}


def kernel_limits() -> "Limits":
    """The runner's :class:`~autograder.sandbox.process.Limits`, with a notebook's budget.

    Memory, processes and file size are the runner's; CPU time covers the whole notebook
    (the runner's is per test module) since nbgrader already limits each cell's wall-clock
    time. ``AUTOGRADER_KERNEL_MEMORY_MB``, ``..._CPU_SECONDS``, ``..._MAX_PROCESSES`` and
    ``..._FILE_MB`` override them.
    """
    from autograder.sandbox.process import Limits
    limits = replace(Limits(), cpu_seconds=4 * 3600)
    overrides: dict[str, int] = {}
    for field, variable in LIMIT_ENV.items():
        value = os.environ.get(variable, "").strip()
        if value:
            overrides[field] = int(value)
    return replace(limits, **overrides)


def dataset_folder() -> str | None:
    """The course's dataset folder, to bind read-only into the sandbox, or None.

    ``$COURSE_DATA_DIR``, else ``~/.cache/nnfs-course`` (as ``course_lib.datasets``), if it
    exists and other users can read it (the kernel's uid is not the launcher's); otherwise
    the notebooks fall back to their synthetic data, and this says why on stderr.
    """
    configured = os.environ.get("COURSE_DATA_DIR", "").strip()
    folder = Path(configured).expanduser() if configured else Path.home() / ".cache" / "nnfs-course"
    if not folder.is_dir():
        return None
    folder = folder.resolve()
    readable = all(os.stat(parent).st_mode & 0o001 for parent in folder.parents) and \
        (os.stat(folder).st_mode & 0o005) == 0o005
    if not readable:
        say(f"the dataset folder {folder} is not readable by other users, so notebooks in the "
            "sandbox cannot load it (they use their synthetic data); set COURSE_DATA_DIR to "
            "a world-readable copy")
        return None
    return str(folder)


def say(message: str) -> None:
    print(f"autograder sandbox kernel: {message}", file=sys.stderr, flush=True)


def _delimiter_index(frames: Sequence[Any]) -> int:
    """Index of the ``<IDS|MSG>`` frame (routing frames come before it), else 0."""
    return next((i for i, frame in enumerate(frames)
                 if len(frame) == len(DELIMITER) and frame.bytes == DELIMITER), 0)


def _json_frame(frames: Sequence[Any], offset: int) -> dict[str, Any]:
    """Part ``offset`` after the signature of a Jupyter message (0 header, 1 parent header,
    2 metadata, 3 content) as a dict; ``{}`` when absent, too large or not a JSON object."""
    index = _delimiter_index(frames)
    frame = frames[index] if index < len(frames) else b""
    if len(frame) != len(DELIMITER) or bytes(frame) != DELIMITER:
        return {}
    try:
        frame = frames[index + 2 + offset]
    except IndexError:
        return {}
    if len(frame) > MAX_PARSED_BYTES:
        return {}
    try:
        value = json.loads(frame.bytes)
    except (ValueError, RecursionError):     # the kernel's frames are untrusted
        return {}
    return value if isinstance(value, dict) else {}


class Relay:
    """The launcher's sockets: TCP towards the Jupyter client, ``ipc`` towards the kernel.

    Parameters
    ----------
    info : dict
        The client's connection file (``transport`` tcp, ``ip``, the five ports).
    socket_dir : Path
        Where the ``ipc`` endpoints ``k-1`` ... ``k-5`` are bound.
    owner : int, optional
        The kernel's uid: the socket files are handed to it (mode 0600).
    """

    def __init__(self, info: dict[str, Any], socket_dir: str | os.PathLike[str], owner: int | None = None) -> None:
        import zmq
        self.zmq = zmq
        self.context = zmq.Context()
        self.pairs: dict[zmq.Socket[bytes], zmq.Socket[bytes]] = {}
        self.queues: collections.defaultdict[zmq.Socket[bytes], collections.deque[Any]] = \
            collections.defaultdict(collections.deque)
        self.back: dict[str, zmq.Socket[bytes]] = {}
        self.front: dict[str, zmq.Socket[bytes]] = {}
        self.names: dict[zmq.Socket[bytes], str] = {}
        self.info = info
        self.session: Any = None
        self.executing: dict[str, Any] | None = None        # header of the execute_request not yet answered by idle
        self.interrupted_at: float | None = None   # when an interrupt of that execution was sent
        self.executing_idents: list[bytes] = []   # its routing frames (the client's identity)
        self.kernel_spoke = False    # the current kernel sent something: it did start
        self.shutdown_requested_at: float | None = None
        self.socket_dir = Path(socket_dir)
        self.owner = owner
        self.poller = zmq.Poller()
        ip = info.get("ip") or "127.0.0.1"
        for channel in CHANNELS:
            front = self.context.socket(zmq.XPUB if channel == "iopub" else zmq.ROUTER)
            front.linger = 1000
            if channel == "iopub":
                front.setsockopt(zmq.XPUB_VERBOSE, 1)     # every subscriber's welcome
            front.bind(f"tcp://{ip}:{int(info[f'{channel}_port'])}")
            self.front[channel] = front
            self.names[front] = f"{channel} from client"
            self.poller.register(front, zmq.POLLIN)
            self._bind_kernel_side(channel)

    def _bind_kernel_side(self, channel: str) -> None:
        """A fresh socket for the kernel's end of ``channel``, bound at ``k-N``."""
        zmq = self.zmq
        back = self.context.socket(zmq.XSUB if channel == "iopub" else zmq.DEALER)
        back.linger = 0
        back.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES)
        if channel in ("shell", "stdin"):
            back.setsockopt(zmq.ROUTING_ID, SHARED_ROUTING_ID)
        path = self.socket_dir / f"k-{CHANNELS[channel]}"
        back.bind(f"ipc://{path}")
        if self.owner is not None:
            os.chown(path, self.owner, self.owner)
        os.chmod(path, 0o600)
        if channel == "iopub":
            back.send(b"\x01")        # whatever a client subscribed to, the kernel publishes
        front = self.front[channel]
        self.pairs[front], self.pairs[back] = back, front
        self.back[channel] = back
        self.names[back] = f"{channel} from kernel"
        self.poller.register(back, zmq.POLLIN)

    def renew_kernel_side(self) -> None:
        """Drop the kernel-side sockets (with whatever a dead kernel's connections still
        held or queued) and bind fresh ones for the next kernel at the same paths."""
        for channel in CHANNELS:
            old = self.back.pop(channel)
            self.poller.unregister(old)
            self.queues.pop(old, None)
            self.pairs.pop(old, None)
            self.names.pop(old, None)
            old.close(linger=0)
            (self.socket_dir / f"k-{CHANNELS[channel]}").unlink(missing_ok=True)
            self._bind_kernel_side(channel)
        self.kernel_spoke = False

    def send(self, sock: "zmq.Socket[bytes]", frames: Sequence[Any]) -> None:
        """Send now if the peer can take it, else queue (a DEALER blocks without a peer)."""
        queue = self.queues[sock]
        if not queue:
            try:
                sock.send_multipart(frames, self.zmq.NOBLOCK, copy=False)
                return
            except self.zmq.Again:
                pass
        if len(queue) < MAX_QUEUED:
            queue.append(frames)

    def flush(self) -> bool:
        """Send what was queued; return True when something is still waiting."""
        waiting = False
        for sock, queue in self.queues.items():
            while queue:
                try:
                    sock.send_multipart(queue[0], self.zmq.NOBLOCK, copy=False)
                except self.zmq.Again:
                    waiting = True
                    break
                queue.popleft()
        return waiting

    def pump(self, timeout_ms: int, extra: Iterable[int] = ()) -> list[Any]:
        """Forward what arrives within ``timeout_ms``; return the ready ``extra`` fds."""
        for fd in extra:
            self.poller.register(fd, self.zmq.POLLIN)
        try:
            if self.flush():
                timeout_ms = min(timeout_ms, 20)
            events = self.poller.poll(timeout_ms)
        finally:
            for fd in extra:
                self.poller.unregister(fd)
        ready: list[Any] = []
        for sock, _ in events:
            if sock in self.pairs:
                for _ in range(100):                # fair share between channels
                    try:
                        frames = sock.recv_multipart(self.zmq.NOBLOCK, copy=False)
                    except self.zmq.Again:
                        break
                    if DEBUG:
                        say(f"relay {self.names[sock]}: {[bytes(f)[:60] for f in frames]}")
                    self._observe(self.names[sock], frames)
                    self.send(self.pairs[sock], frames)
            else:
                ready.append(sock)
        return ready

    # -- watching executions (only to replace a kernel that ignores interrupts or dies) --
    def _observe(self, name: str, frames: Sequence[Any]) -> None:
        if name.endswith("from kernel"):
            self.kernel_spoke = True
        if name not in ("shell from client", "control from client", "iopub from kernel"):
            return
        header = _json_frame(frames, 0)
        msg_type = header.get("msg_type")
        if name == "shell from client" and msg_type == "execute_request":
            self.executing, self.interrupted_at = header, None
            self.executing_idents = [bytes(f) for f in frames[:_delimiter_index(frames)]]
        elif name == "control from client" and msg_type == "interrupt_request":
            self.note_interrupt()
        elif name == "control from client" and msg_type == "shutdown_request":
            self.shutdown_requested_at = self.shutdown_requested_at or time.monotonic()
        elif (name == "iopub from kernel" and msg_type == "status" and self.executing
              and _json_frame(frames, 1).get("msg_id") == self.executing.get("msg_id")
              and _json_frame(frames, 3).get("execution_state") == "idle"):
            self.executing, self.interrupted_at = None, None

    def note_interrupt(self) -> None:
        if self.executing is not None and self.interrupted_at is None:
            self.interrupted_at = time.monotonic()

    def interrupt_ignored(self) -> bool:
        """True when the running execution was interrupted and is still busy after the grace
        (and the client is not shutting the kernel down anyway)."""
        return (self.interrupted_at is not None and self.shutdown_requested_at is None
                and time.monotonic() - self.interrupted_at > INTERRUPT_GRACE_SECONDS)

    def shutdown_ignored(self) -> bool:
        """True when the client asked for a shutdown and the grace has passed."""
        return (self.shutdown_requested_at is not None
                and time.monotonic() - self.shutdown_requested_at > INTERRUPT_GRACE_SECONDS)

    def _session(self) -> Any:
        if self.session is None:
            from jupyter_client.session import Session
            self.session = Session(key=self.info.get("key", "").encode(),
                                   username="autograder-launcher",
                                   signature_scheme=self.info.get("signature_scheme",
                                                                  "hmac-sha256"))
        return self.session

    def interrupt(self) -> None:
        """Send the kernel a signed ``interrupt_request`` of the launcher's own."""
        message = self._session().msg("interrupt_request", content={})
        self.send(self.back["control"], self._session().serialize(message, ident=[b"launcher"]))
        self.note_interrupt()

    def abandon_execution(self, note: str, reply: bool = False) -> None:
        """Tell the client the running execution is over, as the kernel would have: ``note``
        on its stderr, with ``reply`` an error ``execute_reply`` (after a timeout nbclient
        made its own), then ``idle``. Messages are signed with the connection's key."""
        parent, self.executing, self.interrupted_at = self.executing, None, None
        if parent is None:
            return
        session = self._session()

        def publish(msg_type: str, content: dict[str, Any]) -> None:
            message = session.msg(msg_type, content=content, parent=parent)
            self.send(self.front["iopub"], session.serialize(
                message, ident=[f"kernel.autograder-launcher.{msg_type}".encode()]))

        if not reply:
            publish("stream", {"name": "stderr", "text": note})
        else:
            content = {"status": "error", "ename": "DeadKernelError", "evalue": note.strip(),
                       "traceback": [note.strip()], "execution_count": None}
            message = session.msg("execute_reply", content=content, parent=parent)
            self.send(self.front["shell"],
                      session.serialize(message, ident=self.executing_idents))
        publish("status", {"execution_state": "idle"})

    def close(self) -> None:
        self.flush()
        for sock in self.pairs:
            sock.close(linger=500)
        self.context.term()


class SandboxedKernel:
    """One kernel in its sandbox, and the relay in front of it."""

    def __init__(self, connection_file: str | os.PathLike[str], kernel_args: Iterable[str] = (),
                 workdir: str | os.PathLike[str] | None = None, confinement: "Confinement | None" = None,
                 reaper: int | None = None) -> None:
        self.connection_file = Path(connection_file)
        self.info = json.loads(self.connection_file.read_text())
        if self.info.get("transport", "tcp") != "tcp":
            raise SystemExit("autograder sandbox kernel: only the tcp transport is supported "
                             "on the client side")
        self.kernel_args = list(kernel_args)
        self.source = Path(workdir or os.getcwd()).resolve()
        # Set by start() (the confinement, when none is given) and kept until stop(); the process
        # is a Popen with stdout=PIPE, which its type cannot say.
        self.confinement: Confinement = confinement  # type: ignore[assignment]
        self.process: Any = None
        self.relay: Relay = None  # type: ignore[assignment]
        self.workspace: Path = None  # type: ignore[assignment]
        self.sockets: Path = None  # type: ignore[assignment]
        self.inside_sockets: str = None  # type: ignore[assignment]
        self.run_dir: Path | None = None
        self.generation = 0
        self.stopping = False
        self.interrupt_requested = False
        self.reaper = reaper
        self.revivals = 0
        self._output = bytearray()
        self._dropped = 0

    # -- setting up -------------------------------------------------------------------
    def start(self) -> None:
        from autograder.sandbox.confinement import choose_confinement
        from autograder.sandbox.workdir import make_private_dir
        if self.confinement is None:
            self.confinement = choose_confinement()
        confinement = self.confinement
        if confinement.engine != "bubblewrap":
            say(f"{confinement.description}")
        if confinement.engine == "uid":
            self._protect_course()
        uid = confinement.uid
        self.workspace = make_private_dir("autograder-kernel-")
        if self.reaper is not None:
            tell_reaper(self.reaper, self.workspace, confinement)
        os.chmod(self.workspace, 0o711)
        self.sockets = self.workspace / "sockets"
        self.sockets.mkdir()
        os.chmod(self.sockets, 0o711)
        self.relay = Relay(self.info, self.sockets, owner=uid)
        self.inside_sockets = (SOCKETS_INSIDE if confinement.engine == "bubblewrap"
                               else str(self.sockets))
        self._write_kernel_connection(self.sockets / "kernel.json", self.inside_sockets, uid)
        self._launch()

    def _launch(self) -> None:
        """Start a kernel in a fresh sandbox, on a fresh copy of the notebook's folder."""
        from autograder.sandbox.workdir import prepare_workdir
        self.generation += 1
        run_dir = self.workspace / f"run-{self.generation}"
        run_dir.mkdir()
        workdir = prepare_workdir(self.source, run_dir, owner=self.confinement.uid)
        argv, popen_kwargs = self._command(workdir, self.sockets, self.inside_sockets)
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        **popen_kwargs)
        os.set_blocking(self.process.stdout.fileno(), False)
        self.run_dir = run_dir

    def _end_kernel(self) -> None:
        """End the running kernel's sandbox and discard its copy."""
        if self.process is not None:
            if self.process.poll() is None:
                if self.confinement.engine == "none":
                    # No namespace and no uid of its own: at least its process group (the
                    # session this launcher gave it; its leader is not reaped yet).
                    try:
                        os.killpg(self.process.pid, signal.SIGKILL)
                    except OSError:
                        pass
                self.process.kill()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            self.process.stdout.close()
        if self.confinement is not None:
            self.confinement.end_all_processes()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    def _replace_kernel(self) -> None:
        """The kernel ignored an interrupt: replace it, so the notebook goes on (without
        the state the old kernel had) instead of hanging or failing as a whole."""
        note = ("\n[autograder] the kernel ignored the interrupt after the cell timed out; it "
                "was replaced by a fresh kernel, so variables and imports from earlier cells "
                "are gone for the rest of the notebook.\n")
        say("the kernel ignored an interrupt for "
            f"{INTERRUPT_GRACE_SECONDS:g} s; starting a fresh one")
        self._end_kernel()
        self.relay.renew_kernel_side()
        self.relay.abandon_execution(note)
        self._launch()

    def _may_revive(self) -> bool:
        """A kernel that died by itself (``os._exit``, a signal, the CPU limit, ``exit()``)
        after it had started, while nobody asked it to stop, is replaced (a few times)."""
        return (not self.stopping and self.relay.shutdown_requested_at is None
                and self.relay.kernel_spoke and self.revivals < MAX_REVIVALS)

    def _revive(self) -> None:
        """Replace a kernel that died: the cell it was running fails with a note, the rest
        of the notebook runs in a fresh kernel (as the grader's runner does for tests)."""
        self.revivals += 1
        code = self.process.returncode
        if self.confinement.engine == "bubblewrap" and code is not None and code > 128:
            code = 128 - code       # bwrap exits 128 + N when its command got signal N
        how = f"was killed by signal {-code}" if code is not None and code < 0 else \
            f"exited with status {code}"
        note = (f"\n[autograder] the kernel {how} while running this cell; a fresh kernel runs "
                "the rest of the notebook, without the variables and imports of earlier "
                "cells.\n")
        say(f"the kernel {how}; starting a fresh one")
        self._end_kernel()
        self.relay.renew_kernel_side()
        self.relay.abandon_execution(note, reply=True)
        self._launch()

    def _protect_course(self) -> None:
        """``uid`` engine: hide the instructor's files of the course this notebook folder is
        in (nbgrader's ``autograded/<student>/<assignment>``) from other users, as the grader
        does. Outside a course checkout nothing is changed."""
        from autograder.course import Course
        from autograder.sandbox.workdir import protect_instructor_files
        for folder in (self.source, *self.source.parents):
            if (folder / "assignments" / "source").is_dir():
                protect_instructor_files(Course(folder))
                return

    def _write_kernel_connection(self, path: Path, inside_sockets: str, uid: int | None) -> None:
        info = {"transport": "ipc", "ip": f"{inside_sockets}/k",
                **{f"{channel}_port": number for channel, number in CHANNELS.items()},
                "key": self.info.get("key", ""),
                "signature_scheme": self.info.get("signature_scheme", "hmac-sha256"),
                "kernel_name": self.info.get("kernel_name", "")}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(descriptor, "w") as f:
            json.dump(info, f)
        if uid is not None:
            os.chown(path, uid, uid)

    def _command(self, workdir: Path, sockets: Path, inside_sockets: str) -> tuple[list[str], dict[str, Any]]:
        from autograder.sandbox.confinement import UID_BASE, runtime_paths
        from autograder.sandbox.interpreter import child_interpreter
        confinement = self.confinement
        limits = kernel_limits()
        own_uid = confinement.uid is not None
        executable, site_dirs = child_interpreter(UID_BASE if own_uid else None,
                                                  UID_BASE if own_uid else None)
        bubblewrap = confinement.engine == "bubblewrap"
        inside = confinement.workdir_inside or str(workdir)
        config = {
            "memory_bytes": limits.memory_mb * 2**20,
            "cpu_seconds": limits.cpu_seconds,
            "file_bytes": limits.file_mb * 2**20,
            "max_processes": limits.max_processes if own_uid else None,
            "site_dirs": list(site_dirs),
            "workdir": inside,
        }
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": inside,
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",
            "MPLCONFIGDIR": f"{inside}/.matplotlib",
            "IPYTHONDIR": f"{inside}/.ipython",
            "JUPYTER_RUNTIME_DIR": f"{inside}/.jupyter-runtime",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            # The kernel's parent inside the pid namespace is bwrap's init (pid 1): no
            # parent polling, and no "Ctrl-C will not work" note. Outside, see below.
            "JPY_PARENT_PID": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        env.update({name: os.environ[name] for name in PASSED_ENV if name in os.environ})
        read_only = runtime_paths(executable, site_dirs)
        data_dir = dataset_folder()
        if data_dir is not None:
            env["COURSE_DATA_DIR"] = data_dir
            read_only.append(data_dir)
        connection = f"{inside_sockets}/kernel.json"
        if bubblewrap:
            boot = f"{KERNEL_DIR}/kernel_boot.py"
            argv = [executable, "-I", "-S", boot, json.dumps(config), "-f", connection,
                    *self.kernel_args]
            wrapped = confinement.wrap(
                argv, workdir, read_only=read_only, env=env,
                files=[(BOOT, boot), (RUNNER, f"{KERNEL_DIR}/runner.py"),
                       (sockets, SOCKETS_INSIDE)])
            popen_kwargs = {"cwd": "/", "env": env}
        else:
            # ipykernel leaves when this launcher does (its parent poller).
            env["JPY_PARENT_PID"] = str(os.getpid())
            wrapped = [executable, "-I", "-S", str(BOOT), json.dumps(config), "-f", connection,
                       *self.kernel_args]
            popen_kwargs = {"cwd": str(workdir), "env": env}
        popen_kwargs.update(confinement.popen_kwargs())
        return wrapped, popen_kwargs

    # -- running ----------------------------------------------------------------------
    def run(self) -> int | None:
        """Relay until the kernel exits or the launcher is told to stop; return the exit code."""
        parent = os.getppid()
        output = self.process.stdout.fileno()
        while not self.stopping:
            if self.interrupt_requested:
                self.interrupt_requested = False
                self.relay.interrupt()
            ready = self.relay.pump(200, extra=(output,) if output is not None else ())
            if output in ready and not self._read_output():
                output = None
            if self.relay.interrupt_ignored():
                self._replace_kernel()
                output = self.process.stdout.fileno()
                continue
            if self.process.poll() is not None:
                if self._may_revive():
                    self._revive()
                    output = self.process.stdout.fileno()
                    continue
                break
            if self.relay.shutdown_ignored():
                say("the kernel did not shut down when asked; ending its sandbox")
                break
            if os.getppid() != parent:
                say("the Jupyter client is gone; ending the kernel")
                break
        for _ in range(5):                           # the kernel's last words
            self.relay.pump(20)
        return self.process.poll()

    def _read_output(self) -> bool:
        """Forward the kernel's own stdout/stderr (not the notebook's) up to a limit."""
        try:
            chunk = os.read(self.process.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        room = max(OUTPUT_KEPT_BYTES - len(self._output), 0)
        kept = chunk[:room]
        self._output += kept
        if kept:
            sys.stderr.buffer.write(kept)
            sys.stderr.flush()
        if len(chunk) > room:
            if not self._dropped:
                say("the kernel's console output is over the limit; the rest is dropped")
            self._dropped += len(chunk) - room
        return True

    def request_stop(self, *_: object) -> None:
        self.stopping = True

    def request_interrupt(self, *_: object) -> None:
        # Only a flag: a signal handler must not send on a socket the loop may be using.
        self.interrupt_requested = True

    def stop(self) -> None:
        """End the sandbox (killing the process the launcher started) and clean up."""
        self._end_kernel()
        if self.relay is not None:
            self.relay.close()
            self.relay = None  # type: ignore[assignment]
        if self.workspace is not None:
            shutil.rmtree(self.workspace, ignore_errors=True)
            self.workspace = None  # type: ignore[assignment]


def start_reaper() -> int:
    """Fork a helper that cleans up after this launcher however it ends.

    jupyter_client ends a kernel that does not stop in time (and any ``shutdown_kernel(now=
    True)``) with SIGKILL to the launcher's process group, which leaves no chance to clean
    up. The helper runs in a session of its own, waits for end of file on a pipe only the
    launcher holds, then does what :meth:`SandboxedKernel.stop` would have: the ``uid``
    engine's kill of every process of the kernel's uid, and removal of the private folder
    (bubblewrap's sandbox has already ended with the launcher, ``--die-with-parent``). Call
    it before anything else: it forks. Returns the pipe's write end, for :func:`tell_reaper`.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.close(write_end)
            quiet = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(quiet, fd)
            _reap(read_end)
        finally:
            os._exit(0)
    os.close(read_end)
    return write_end


def tell_reaper(write_end: int, workspace: str | os.PathLike[str], confinement: "Confinement") -> None:
    """Tell the helper what to clean up (one JSON line; the last line counts)."""
    line = json.dumps({"workspace": str(workspace), "engine": confinement.engine,
                       "uid": confinement.uid}) + "\n"
    os.write(write_end, line.encode())


def _reap(read_end: int) -> None:
    data = b""
    while True:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        data += chunk
    lines = [line for line in data.decode(errors="replace").splitlines() if line.strip()]
    if not lines:
        return
    plan = json.loads(lines[-1])
    if plan.get("engine") == "uid" and plan.get("uid") is not None:
        from autograder.sandbox.confinement import Confinement
        Confinement("uid", int(plan["uid"])).end_all_processes()
    for _ in range(5):          # processes of an ending namespace may still be writing
        shutil.rmtree(plan["workspace"], ignore_errors=True)
        if not os.path.exists(plan["workspace"]):
            return
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.sandbox.kernel",
        description="Run an IPython kernel inside the autograder's sandbox.")
    parser.add_argument("-f", dest="connection_file", required=True,
                        help="the Jupyter connection file (written by the client)")
    args, kernel_args = parser.parse_known_args(argv)
    reaper = start_reaper()
    kernel = SandboxedKernel(args.connection_file, kernel_args, reaper=reaper)
    signal.signal(signal.SIGTERM, kernel.request_stop)
    signal.signal(signal.SIGHUP, kernel.request_stop)
    signal.signal(signal.SIGINT, kernel.request_interrupt)
    code: int | None = 1
    try:
        kernel.start()
        code = kernel.run()
    except Exception as exc:
        say(f"the sandbox could not start the kernel: {type(exc).__name__}: {exc}")
        raise
    finally:
        kernel.stop()
    if code is None:
        return 0
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())

"""The grader's side of the sandbox: start, talk to, limit and kill the child.

A :class:`Sandbox` owns at most one child at a time. The child comes from
``python -I -S runner.py`` (a fresh interpreter, not ``multiprocessing``; nothing is pickled)
with the student's private copy as working directory and ``sys.path[0]``: by default a
fork server of that runner forks it (:mod:`autograder.sandbox.forkserver`; the forked
child has never run student code, and restarts take milliseconds), else it is started
directly. Requests and
answers travel over two dedicated pipes; the child's stdout and stderr go to a third pipe
that the grader drains into a bounded buffer while it waits. If the child times out,
crashes or floods its output, the grader kills its whole process group and raises; the
next request starts a fresh child (``generation`` counts them) and re-imports modules on
demand.

Who the child runs as and what it can read is decided in :mod:`~autograder.sandbox.workdir`;
its resource limits are set by the runner as its very first action, before any student
code exists in the process. Student-facing messages for failures come from
:mod:`~autograder.sandbox.diagnosis`.
"""
import json
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.sandbox import codec
from autograder.sandbox.diagnosis import describe_exit, student_error, text_field
from autograder.sandbox.errors import ProtocolError, StudentCrash, StudentTimeout
from autograder.sandbox.confinement import (RUNNER_DIR, UID_BASE, Confinement,
                                            choose_confinement, runtime_paths)
from autograder.sandbox.forkserver import ForkedProcess, ForkServer, ForkServerGone
from autograder.sandbox.interpreter import child_interpreter

ChildProcess = subprocess.Popen[bytes] | ForkedProcess

RUNNER = Path(__file__).resolve().with_name("runner.py")
CODEC = Path(__file__).resolve().with_name("codec.py")
STARTUP_TIMEOUT = 120.0


@dataclass(frozen=True)
class Limits:
    """Limits on one child.

    Attributes
    ----------
    timeout : float
        Wall-clock seconds one call (import, function call, attribute access) may take.
    memory_mb : int
        Address-space limit of the child.
    cpu_seconds : int
        CPU time over the child's whole life (it serves one test module).
    max_processes : int
        RLIMIT_NPROC; only applied when the child runs as its submission's own uid (the
        limit counts every process of that uid).
    file_mb : int
        Largest file the child may write.
    output_kept_bytes : int
        Student output kept per test; the rest is cut with a note.
    output_flood_bytes : int
        Output beyond this much kills the child as a flood.
    transfer_mb : int
        Largest total size of the arrays in one message, either way; checked against the
        sizes a message announces before the grader allocates anything for it.
    """

    timeout: float = 30.0
    memory_mb: int = 2048
    cpu_seconds: int = 600
    max_processes: int = 256
    file_mb: int = 64
    output_kept_bytes: int = 16 * 1024
    output_flood_bytes: int = 8 * 2**20
    transfer_mb: int = 64


class SandboxUnavailable(RuntimeError):
    """The child could not even start (a problem of the grading machine, not the student)."""


class _Child:
    """One running child and its three pipes (all owned by this object).

    ``process`` is a :class:`subprocess.Popen` or a
    :class:`~autograder.sandbox.forkserver.ForkedProcess`.
    """

    def __init__(self, process: ChildProcess, request_fd: int, response_fd: int,
                 output_fd: int) -> None:
        self.process = process
        self.request_fd = request_fd
        self.response_fd = response_fd
        self.output_fd = output_fd
        for fd in (request_fd, response_fd, output_fd):
            os.set_blocking(fd, False)

    def kill(self) -> None:
        """End the child: a process the grader started is killed; a forked child's whole
        sandbox ends (see :meth:`ForkedProcess.kill`). No pid from the child side is used."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self, hard: bool = True) -> None:
        """Close the pipes; with ``hard`` also end the process (and its sandbox).

        Without ``hard`` the child sees its request pipe close and leaves by itself: after an
        ordinary failed test there is nothing to kill. Whatever it leaves running stays in
        its own sandbox, which ends with the submission.
        """
        for fd in (self.request_fd, self.response_fd, self.output_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        if hard:
            self.kill()


class _OutputBuffer:
    """Student output: the first ``kept`` bytes are kept, the rest counted."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self.data = bytearray()
        self.dropped = 0
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.kept - len(self.data)
        self.data += chunk[:max(room, 0)]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def take(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[... output truncated: {self.dropped} more bytes not shown]\n"
        self.data, self.dropped = bytearray(), 0
        return text


class Sandbox:
    """Runs student code from ``workdir`` in a limited child process.

    Parameters
    ----------
    workdir : str or Path
        The student's private copy (see :func:`~autograder.sandbox.workdir.prepare_workdir`); becomes the child's
        working directory and ``sys.path[0]``.
    limits : Limits, optional
    drop_privileges : bool, optional
        Confine the child (:mod:`~autograder.sandbox.confinement`). Default True; False runs
        it unconfined with the grader's uid (tests of the weakest fallback only).
    confinement : Confinement, optional
        How to confine it; default :func:`~autograder.sandbox.confinement.choose_confinement`
        with ``uid`` (the submission's uid, when the grader is root).
    uid : int, optional
        The submission's own uid (root only; default one derived from this process).
    interpreter : (str, sequence of str), optional
        The child's Python and site-packages folders; default
        :func:`~autograder.sandbox.interpreter.child_interpreter` (probed once per process).
    fork_server : bool
        Fork fresh children from a prepared runner (fast restarts; see
        :mod:`~autograder.sandbox.forkserver`) instead of starting an interpreter each time.

    Use :meth:`import_module` to get a proxy of a student module; close the sandbox (or use
    it as a context manager) to kill the child.
    """

    def __init__(self, workdir: str | os.PathLike[str], limits: Limits | None = None,
                 drop_privileges: bool | None = None, interpreter: tuple[str, Sequence[str]] | None = None,
                 fork_server: bool = True, confinement: Confinement | None = None, uid: int | None = None) -> None:
        self.workdir = Path(workdir).resolve()
        self.interpreter = interpreter
        self.fork_server = fork_server
        self._fork_server: ForkServer | None = None
        self.limits = limits or Limits()
        if confinement is None:
            if drop_privileges is False:
                confinement = Confinement("none", None, reason="confinement was turned off")
            else:
                confinement = choose_confinement(uid)
        self.confinement = confinement
        self.message_bounds = codec.MessageBounds(max_bytes=self.limits.transfer_mb * 2**20)
        self.generation = 0
        self._child: _Child | None = None
        self._output = _OutputBuffer(self.limits.output_kept_bytes)
        self._flooded = False

    @property
    def isolation(self) -> str:
        """One sentence on how strongly student code is separated from the grader."""
        return self.confinement.description

    # -- life cycle -------------------------------------------------------------------
    def _launch_settings(self) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        """(argv prefix, config, Popen keyword arguments) shared by both ways of starting."""
        confinement = self.confinement
        own_uid = confinement.uid is not None
        config: dict[str, Any] = {
            "memory_bytes": self.limits.memory_mb * 2**20,
            "cpu_seconds": self.limits.cpu_seconds,
            "file_bytes": self.limits.file_mb * 2**20,
            "max_processes": self.limits.max_processes if own_uid else None,
            "max_transfer_bytes": self.limits.transfer_mb * 2**20,
        }
        inside = confinement.workdir_inside or str(self.workdir)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": inside,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{inside}/.matplotlib",
            # One BLAS thread: deterministic sums, and threads count against RLIMIT_NPROC.
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        if self.interpreter:
            executable, site_dirs = self.interpreter
        else:
            executable, site_dirs = child_interpreter(UID_BASE if own_uid else None,
                                                      UID_BASE if own_uid else None)
        config["site_dirs"] = list(site_dirs)
        if confinement.engine == "bubblewrap":
            runner = f"{RUNNER_DIR}/runner.py"
            argv = [executable, "-I", "-S", runner, inside]
            wrapped = confinement.wrap(
                argv, self.workdir, read_only=runtime_paths(executable, site_dirs),
                files=[(RUNNER, runner), (CODEC, f"{RUNNER_DIR}/codec.py")], env=env)
            popen_kwargs: dict[str, Any] = {"cwd": "/", "env": env}
        else:
            wrapped = [executable, "-I", "-S", str(RUNNER), inside]
            popen_kwargs = {"cwd": self.workdir, "env": env}
        popen_kwargs.update(confinement.popen_kwargs())
        return wrapped, config, popen_kwargs

    def _start(self) -> None:
        if self.fork_server:
            process, request_write, response_read, output_read = self._fork()
        else:
            process, request_write, response_read, output_read = self._spawn()
        self._child = _Child(process, request_write, response_read, output_read)
        self._flooded = False
        self._output.total = 0
        self.generation += 1
        self._await_ready()

    def _spawn(self) -> tuple[ChildProcess, int, int, int]:
        """A child started as its own interpreter."""
        argv, config, popen_kwargs = self._launch_settings()
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        try:
            process = subprocess.Popen(
                argv + [str(request_read), str(response_write), json.dumps(config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(request_read, response_write), start_new_session=True,
                **popen_kwargs)
        finally:
            os.close(request_read)
            os.close(response_write)
        # The child owns its output pipe through our fd; Popen's file object must not close it.
        output_read = os.dup(process.stdout.fileno())  # type: ignore[union-attr]  # stdout=PIPE
        process.stdout.close()  # type: ignore[union-attr]
        return process, request_write, response_read, output_read

    def _fork(self) -> tuple[ChildProcess, int, int, int]:  # type: ignore[return]  # the loop returns or raises
        """A child forked by this sandbox's fork server (started, or restarted, on demand)."""
        for attempt in (1, 2):
            if self._fork_server is None or not self._fork_server.alive():
                self._stop_fork_server()
                argv, config, popen_kwargs = self._launch_settings()
                try:
                    self._fork_server = ForkServer(
                        lambda fd, argv=argv, config=config: argv + ["--fork-server", str(fd),
                                                                  json.dumps(config)],
                        popen_kwargs, STARTUP_TIMEOUT, self.confinement)
                except ForkServerGone as exc:
                    raise SandboxUnavailable(str(exc)) from None
            try:
                return self._fork_server.fork(STARTUP_TIMEOUT)
            except ForkServerGone as exc:
                self._stop_fork_server()
                if attempt == 2:
                    raise SandboxUnavailable(f"the sandbox's fork server failed: {exc}") from None

    def _stop_fork_server(self) -> None:
        if self._fork_server is not None:
            self._fork_server.close()
            self._fork_server = None

    def _await_ready(self) -> None:
        """Wait for the runner's ``ready`` frame: it has set its limits, imported NumPy and
        entered the student folder. Failing before that is the grading machine's fault."""
        try:
            header, _ = self._receive(time.monotonic() + STARTUP_TIMEOUT, "starting")
        except (StudentCrash, StudentTimeout, ProtocolError) as exc:
            output = self._output.take()
            self._reset()
            raise SandboxUnavailable(f"the sandbox's Python process could not start "
                                     f"({type(exc).__name__}); its output:\n{output[-2000:]}"
                                     ) from None
        if header.get("status") != "ready":
            self._reset()
            raise SandboxUnavailable("the sandboxed Python process did not say it was ready")

    def restart(self) -> None:
        """Let go of the current child (if any); the next request starts a fresh one.

        For use between tests: the child is told nothing but sees its request pipe close and
        leaves. Failures that need the child gone for sure (timeouts, crashes, floods,
        malformed answers) end the whole sandbox instead (:meth:`_reset`).
        """
        if self._child is not None:
            self._drain_output()
            self._child.close(hard=not self.fork_server)
            self._child = None

    def _reset(self) -> None:
        """End the child and the sandbox it lives in; the next request builds a new one."""
        if self._child is not None:
            self._drain_output()
            self._child.close(hard=True)
            self._child = None
        self._stop_fork_server()

    def close(self) -> None:
        self._reset()
        self.confinement.end_all_processes()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def take_output(self) -> str:
        """Student output since the last call of this method (bounded, with a note if cut)."""
        if self._child is not None:
            self._drain_output()
        return self._output.take()

    # -- requests ---------------------------------------------------------------------
    def import_module(self, name: str) -> Any:
        """A proxy of the student's module ``name`` (e.g. ``"nnfs.warmup"``)."""
        from autograder.sandbox.proxy import resolve_path
        if not isinstance(name, str):
            raise TypeError("import_module expects a module name such as 'nnfs.warmup'")
        return resolve_path(self, (name,))

    def request(self, op: str, doing: str, target: int | None = None,
                make_proxy: Callable[[int, str, bool], Any] | None = None, **values: Any) -> Any:
        """Send one request and return the decoded answer.

        Parameters
        ----------
        op : str
            ``import``, ``getattr``, ``setattr``, ``call``, ``len``, ``getitem`` or ``ping``.
        doing : str
            What the grader is doing, for messages ("calling nnfs.warmup.softmax").
        target : int, optional
            Handle id (in the current child) of the object the request is about.
        make_proxy : callable, optional
            ``make_proxy(handle_id, type_name, is_callable)`` for objects in the answer that
            stay in the child (default: :func:`autograder.sandbox.proxy.default_proxy`).
        **values
            Values to send (``name``, ``args``, ``kwargs``, ``key``, ``value``).

        Raises
        ------
        StudentTimeout, StudentCrash, StudentError, ProtocolError
        """
        from autograder.sandbox import proxy
        if make_proxy is None:
            make_proxy = proxy.default_proxy(self)
        message: dict[str, Any] = {"op": op}
        if target is not None:
            message["target"] = target
        try:
            chunks = codec.encode_message(message, values, self.message_bounds,
                                          handle_of=proxy.handle_of(self))
        except codec.CodecError as exc:
            raise ProtocolError(f"the test could not send its arguments while {doing}: "
                                f"{exc}") from None
        self.ensure_running()
        deadline = time.monotonic() + self.limits.timeout
        self._send(chunks, deadline, doing)
        header, buffers = self._receive(deadline, doing)
        return self._interpret(header, buffers, doing, make_proxy)

    def ensure_running(self) -> int:
        """Start a child unless one is running; return its generation number."""
        if self._child is not None and self._child.process.poll() is not None:
            self._reset()
        if self._child is None:
            self._start()
        return self.generation

    @property
    def live_generation(self) -> int | None:
        """The generation of the running child, or None when no child is running."""
        if self._child is None or self._child.process.poll() is not None:
            return None
        return self.generation

    def _send(self, chunks: list[Any], deadline: float, doing: str) -> None:
        child: _Child = self._child  # type: ignore[assignment]  # a child is running
        selector = self._selector(child.request_fd, selectors.EVENT_WRITE)
        try:
            for chunk in chunks:
                view = memoryview(chunk).cast("B")
                while view:
                    self._wait_for(selector, child.request_fd, deadline, doing)
                    try:
                        written = os.write(child.request_fd, view[:1 << 20])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        raise self._crashed(doing) from None
                    view = view[written:]
        finally:
            selector.close()

    def _receive(self, deadline: float, doing: str) -> tuple[dict[str, Any], list[bytearray]]:
        """Read one response frame while draining output; enforce size and time limits.

        Returns
        -------
        header : dict
        buffers : list of bytearray
        """
        child: _Child = self._child  # type: ignore[assignment]  # a child is running
        selector = self._selector(child.response_fd, selectors.EVENT_READ)
        data = bytearray()

        def fill(size: int) -> None:
            # Never read past the frame: a second, forged frame must not be taken as the
            # answer to the next request.
            while len(data) < size:
                self._wait_for(selector, child.response_fd, deadline, doing)
                try:
                    chunk = os.read(child.response_fd, min(size - len(data), 1 << 20))
                except BlockingIOError:
                    continue
                if not chunk:
                    raise self._crashed(doing)
                data.extend(chunk)

        prefix = codec.HEADER_PREFIX.size
        try:
            fill(prefix)
            (length,) = codec.HEADER_PREFIX.unpack(data[:prefix])
            if length > codec.MAX_HEADER_BYTES:
                raise self._protocol_failure(doing, "an oversized message header")
            fill(prefix + length)
            try:
                header, sizes = codec.parse_header(bytes(data[prefix:]), self.message_bounds)
            except codec.CodecError as exc:
                raise self._protocol_failure(doing, str(exc)) from None
            del data[:]
            buffers = []
            for size in sizes:
                fill(size)
                buffers.append(bytearray(data))
                del data[:]
            self._drain_output()
            return header, buffers
        finally:
            selector.close()

    def _selector(self, fd: int, event: int) -> selectors.BaseSelector:
        selector = selectors.DefaultSelector()
        selector.register(fd, event)
        selector.register(self._child.output_fd, selectors.EVENT_READ)  # type: ignore[union-attr]
        return selector

    def _wait_for(self, selector: selectors.BaseSelector, fd: int, deadline: float, doing: str) -> None:
        """Block until ``fd`` is ready, draining student output meanwhile; time out at
        ``deadline`` (kill the child, raise StudentTimeout)."""
        while True:
            remaining = deadline - time.monotonic()
            events = selector.select(remaining) if remaining > 0 else []
            if not events:
                self._reset()
                raise StudentTimeout(
                    f"{doing} did not finish within {self.limits.timeout:g} s: look for an "
                    "infinite loop, a blocking call or a far slower algorithm than needed")
            ready = False
            for key, _ in events:
                if key.fd == fd:
                    ready = True
                    continue
                try:
                    more = self._read_output()
                except BlockingIOError:
                    continue
                if not more:
                    selector.unregister(key.fd)     # output closed: stop watching it
            if ready:
                return

    def _read_output(self) -> bool:
        """Read one chunk of student output; return False at end of file."""
        chunk = os.read(self._child.output_fd, 1 << 16)  # type: ignore[union-attr]
        if not chunk:
            return False
        self._output.add(chunk)
        if self._output.total > self.limits.output_flood_bytes and not self._flooded:
            self._flooded = True
            self._child.kill()  # type: ignore[union-attr]
        return True

    def _drain_output(self) -> None:
        """Read whatever output is waiting, without blocking (a flood still kills)."""
        try:
            while not self._flooded and self._read_output():
                pass
        except OSError:
            pass

    # -- failures ---------------------------------------------------------------------
    def _protocol_failure(self, doing: str, reason: str) -> ProtocolError:
        self._reset()
        return ProtocolError(f"the student process sent {reason} while {doing}; the grader "
                             "stopped it (did your code write to the grader's pipes?)")

    def _crashed(self, doing: str) -> StudentCrash:
        """The child closed its pipe: find out why and describe it."""
        child: _Child = self._child  # type: ignore[assignment]  # a child is running
        try:
            returncode: int | None = child.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            returncode = child.process.returncode
        if (self.confinement.engine == "bubblewrap" and isinstance(child.process, subprocess.Popen)
                and returncode is not None and returncode > 128):
            returncode = 128 - returncode       # bwrap exits 128 + N when its command got signal N
        self._drain_output()
        flooded = self._flooded
        self._reset()
        return StudentCrash(describe_exit(returncode, doing, self.limits, flooded))

    def _interpret(self, header: dict[str, Any], buffers: list[bytearray], doing: str,
                   make_proxy: Callable[[int, str, bool], Any]) -> Any:
        status = header.get("status")
        if status == "ok":
            try:
                return codec.decode_value(header.get("value"), buffers, self.message_bounds,
                                          make_proxy=make_proxy)
            except codec.CodecError as exc:
                raise self._protocol_failure(doing, f"a malformed value ({exc})") from None
        if status == "error":
            raise student_error(header, doing)
        if status == "exit":
            self._reset()
            raise StudentCrash(f"your code called sys.exit({text_field(header.get('code'), 200)}) "
                               f"while {doing}; remove the exit call: the grader needs your "
                               "functions to return")
        if status == "memory":
            self._reset()
            raise StudentCrash(f"your code ran out of memory (limit {self.limits.memory_mb} "
                               f"MiB) while {doing}; look for a huge intermediate array, e.g. "
                               "from broadcasting over an extra axis")
        if status == "protocol":
            raise ProtocolError(f"{doing} produced a value the grader cannot use: "
                                f"{text_field(header.get('message'), 500)}")
        raise self._protocol_failure(doing, "an answer the grader does not understand")

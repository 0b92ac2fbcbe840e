"""The grader's client of the runner's fork server: fresh children in milliseconds.

Starting a child means a new interpreter plus a NumPy import: a few hundred milliseconds,
paid again after every failed test. Instead, one runner per sandbox starts in
``--fork-server`` mode (limits applied, privileges dropped, NumPy imported, no student code
ever run) and forks a child per request. The child is as fresh as a new process for the
student's purposes: it has never imported their code.

The fork server runs as the same user as the children and in the same sandbox, so student
code can kill it, or take its socket and send whatever it likes; the sandbox then starts a
new one. It holds no secrets, it serves one submission only, and nothing it reports is
acted on: pids and exit codes from it only shape messages. The grader ends a child by
ending the sandbox (:meth:`ForkServer.close` kills the one process it started itself),
never by signalling a pid that came through this socket.
"""
import os
import select
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograder.sandbox.confinement import Confinement

MESSAGE_BYTES = 64


class ForkServerGone(RuntimeError):
    """The fork server stopped answering (it ended or was killed)."""


class ForkServer:
    """A running ``runner.py --fork-server`` and the socket to it.

    Parameters
    ----------
    command : callable
        ``command(control_fd) -> argv`` for the fork server.
    popen_kwargs : dict
        Passed to :class:`subprocess.Popen` (cwd, env, user, ...).
    startup_timeout : float
    confinement : autograder.sandbox.confinement.Confinement, optional
        Whose processes end with the server (the ``uid`` engine kills its uid's processes).
    """

    def __init__(self, command: Callable[..., list[str]], popen_kwargs: dict[str, Any], startup_timeout: float,
                 confinement: "Confinement | None" = None) -> None:
        self.confinement = confinement
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                command(theirs.fileno()), pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                **popen_kwargs)
        finally:
            theirs.close()
        self.socket = ours
        self.exits: dict[int, int] = {}
        try:
            message = self._receive(time.monotonic() + startup_timeout)
        except ForkServerGone:
            message = None
        if message != (b"R", None):
            output = self.close()
            raise ForkServerGone(f"the fork server did not start; its output:\n{output[-2000:]}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def _receive(self, deadline: float) -> tuple[bytes, Any] | None:
        """One message: ``(b"R", None)``, ``(b"F", (pid, fds))`` or ``(b"X", pid)`` (exit
        reports are also filed in :attr:`exits`). Returns None at ``deadline``."""
        while True:
            if self.socket.fileno() < 0:
                raise ForkServerGone("the fork server was stopped")
            remaining = max(deadline - time.monotonic(), 0.0)
            if not select.select([self.socket], [], [], remaining)[0]:
                return None
            try:
                data, fds, _, _ = socket.recv_fds(self.socket, MESSAGE_BYTES, 3)
            except OSError as exc:
                raise ForkServerGone(str(exc)) from None
            if not data:
                raise ForkServerGone("the fork server closed its socket")
            kind = data[:1]
            if kind == b"X" and len(data) == 9:
                pid, code = struct.unpack("<ii", data[1:])
                self.exits[pid] = code
                return kind, pid
            elif kind == b"F" and len(data) == 5 and len(fds) == 3:
                return kind, (struct.unpack("<i", data[1:])[0], fds)
            elif kind == b"R":
                return kind, None
            else:
                for fd in fds:
                    os.close(fd)
                raise ForkServerGone("the fork server sent a malformed message")

    def fork(self, timeout: float) -> tuple["ForkedProcess", int, int, int]:
        """A fresh child: ``(process, request_fd, response_fd, output_fd)``."""
        try:
            self.socket.sendall(b"F")
        except OSError as exc:
            raise ForkServerGone(str(exc)) from None
        deadline = time.monotonic() + timeout
        message = self._receive(deadline)
        while message is not None and message[0] == b"X":     # earlier children's ends
            message = self._receive(deadline)
        if message is None or message[0] != b"F":
            raise ForkServerGone("the fork server did not fork in time")
        pid, (request_fd, response_fd, output_fd) = message[1]
        return ForkedProcess(self, pid), request_fd, response_fd, output_fd

    def exit_code(self, pid: int, timeout: float) -> int | None:
        """The exit code of child ``pid`` (negative: signal), or None if not known in time."""
        deadline = time.monotonic() + timeout
        while pid not in self.exits:
            try:
                if self._receive(deadline) is None:
                    return None
            except ForkServerGone:
                return None
        return self.exits[pid]

    def close(self) -> str:
        """Stop the fork server and everything in its sandbox; return what it printed.

        The signal goes to the process group of the process this object started (its own
        session, so the group id is that pid, which stays ours until it is reaped). Under
        bubblewrap that process is ``bwrap``: its death ends the pid namespace and every
        process inside. Under the ``uid`` engine, every process of the submission's uid is
        killed as well.
        """
        output_pipe = self.process.stdout
        if output_pipe is None or output_pipe.closed:
            return ""                           # closed before
        try:
            self.socket.close()
        except OSError:
            pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        if self.confinement is not None:
            self.confinement.end_all_processes()
        output = output_pipe.read().decode("utf-8", errors="replace")
        output_pipe.close()
        return output


class ForkedProcess:
    """The parts of :class:`subprocess.Popen` the sandbox uses, for a forked child.

    ``pid`` and the exit code are what the fork server says: they are shown in messages and
    never used to signal anything.
    """

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float = 10) -> int:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"student process {self.pid}", timeout)
        return self.returncode

    def kill(self) -> None:
        """End this child by ending its whole sandbox (the fork server and all it forked)."""
        self.server.close()
        if self.returncode is None:
            self.returncode = -signal.SIGKILL

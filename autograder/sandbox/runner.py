"""The sandboxed child process: runs student code on request, never judges it.

Started by :mod:`autograder.sandbox.process` as::

    python -I -S runner.py WORKDIR REQUEST_FD RESPONSE_FD CONFIG_JSON
    python -I -S runner.py WORKDIR --fork-server CONTROL_FD CONFIG_JSON

(the second form forks fresh children on request; see :func:`fork_server`).

It applies its resource limits before anything else, adds the grader's site-packages
folders (see :mod:`autograder.sandbox.interpreter`), loads the value codec from its own
folder (by file path, so a module in the student's folder cannot replace it), imports
NumPy, then puts WORKDIR first on ``sys.path`` and serves requests (import a module, get or
set an attribute, call, ``len``, index) until its request pipe closes. Values that may not
cross stay here in a handle table; the grader gets their ids.

Nothing in this process is trusted by the grader: student code can rewrite anything here,
including this loop. The grader validates every byte it reads and decides pass/fail itself.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import resource
import sys
import traceback

TYPE_CHECKING = False       # not typing.TYPE_CHECKING: the child imports nothing it does not need
if TYPE_CHECKING:
    import socket
    from types import ModuleType
    from typing import Any


def apply_limits(config: dict[str, Any]) -> None:
    """Set the rlimits named in ``config`` (soft = hard, so student code cannot raise them)."""
    def limit(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    limit(resource.RLIMIT_CORE, 0)
    if config.get("memory_bytes"):
        limit(resource.RLIMIT_AS, int(config["memory_bytes"]))
    if config.get("file_bytes"):
        limit(resource.RLIMIT_FSIZE, int(config["file_bytes"]))
    if config.get("max_processes"):
        limit(resource.RLIMIT_NPROC, int(config["max_processes"]))
    if config.get("cpu_seconds"):
        # SIGXCPU at the soft limit; the kernel's SIGKILL a little later if it is caught.
        cpu = int(config["cpu_seconds"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))


def load_codec() -> ModuleType:
    """Import ``codec.py`` from this file's folder under a private module name."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "codec.py")
    spec = importlib.util.spec_from_file_location("_autograder_sandbox_codec", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Server:
    """Serve the grader's requests over two pipes."""

    def __init__(self, codec: ModuleType, workdir: str, request_fd: int, response_fd: int, max_bytes: int) -> None:
        self.codec = codec
        self.workdir = workdir
        self.request_fd = request_fd
        self.response_fd = response_fd
        self.bounds = codec.MessageBounds(max_bytes=max_bytes)
        self.objects: dict[int, Any] = {}   # handle id -> object
        self.ids: dict[int, int] = {}       # id(object) -> handle id, so one object keeps one handle

    # -- handles ------------------------------------------------------------------------
    def make_handle(self, value: Any) -> tuple[int, str, bool]:
        handle = self.ids.get(id(value))
        if handle is None or self.objects.get(handle) is not value:
            handle = len(self.objects) + 1
            self.objects[handle] = value
            self.ids[id(value)] = handle
        kind = type(value)
        name = value.__name__ if kind.__name__ == "module" else kind.__qualname__
        return handle, str(name), callable(value)

    def resolve(self, handle: Any) -> Any:
        try:
            return self.objects[handle]
        except KeyError:
            raise self.codec.CodecError(f"unknown object handle {handle}") from None

    # -- pipes --------------------------------------------------------------------------
    def read_exact(self, size: int) -> bytes:
        chunks, remaining = [], size
        while remaining:
            chunk = os.read(self.request_fd, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def send(self, chunks: list[Any]) -> None:
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            while view:
                written = os.write(self.response_fd, view)
                view = view[written:]

    def reply(self, status: str, values: dict[str, object] | None = None, **fields: object) -> None:
        # Student output printed so far must reach the grader before the answer does.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        chunks = self.codec.encode_message(dict(fields, status=status), values or {},
                                           self.bounds, self.make_handle)
        self.send(chunks)

    # -- requests -----------------------------------------------------------------------
    def perform(self, header: dict[str, Any], buffers: list[bytearray]) -> Any:
        def value(key: str) -> Any:
            return self.codec.decode_value(header.get(key), buffers, self.bounds,
                                           resolve=self.resolve)

        op = header.get("op")
        if op == "import":
            return importlib.import_module(value("name"))
        if op == "ping":
            return None
        target = self.resolve(header.get("target"))
        if op == "getattr":
            return getattr(target, value("name"))
        if op == "setattr":
            setattr(target, value("name"), value("value"))
            return None
        if op == "call":
            return target(*value("args"), **value("kwargs"))
        if op == "len":
            return len(target)
        if op == "getitem":
            return target[value("key")]
        raise self.codec.CodecError(f"unknown request {str(op)[:20]!r}")

    def student_traceback(self, exc: BaseException) -> str:
        """The traceback lines that point into the student's folder, paths made relative."""
        prefix = self.workdir.rstrip(os.sep) + os.sep
        frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
                  if frame.filename.startswith(prefix)]
        for frame in frames:
            frame.filename = frame.filename[len(prefix):]
        lines = traceback.format_list(frames[-8:])
        if isinstance(exc, SyntaxError) and exc.filename:
            exc.filename = exc.filename.replace(prefix, "")
        return "".join(lines)

    def serve(self) -> None:
        while True:
            try:
                header, buffers = self.codec.read_frame(self.read_exact, self.bounds)
            except EOFError:
                return
            try:
                result = self.perform(header, buffers)
                self.reply("ok", {"value": result})
            except self.codec.CodecError as exc:
                self.reply("protocol", message=str(exc))
            except SystemExit as exc:
                self.reply("exit", code=repr(exc.code)[:200])
                os._exit(0)
            except MemoryError:
                self.objects.clear()
                self.reply("memory")
                os._exit(1)
            except BaseException as exc:  # noqa: B902 - every student exception is reported
                student_tb = self.student_traceback(exc)
                self.reply("error", type=type(exc).__name__[:120], message=_safe_str(exc)[:4000],
                           exception=_safe_exception_text(exc)[:4000],
                           traceback=student_tb[:8000])


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:   # a student exception whose __str__ itself fails
        return f"<{type(exc).__name__} whose message cannot be shown>"


def _safe_exception_text(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception_only(exc))
    except BaseException:
        return f"{type(exc).__name__}: {_safe_str(exc)}"


def fork_server(codec: ModuleType, workdir: str, control_fd: int, max_bytes: int) -> None:
    """Serve ``fork`` commands: each gives a fresh child that has never run student code.

    The grader's fork-server client (``autograder.sandbox.forkserver``) sends ``b"F"`` on
    the SOCK_SEQPACKET socket ``control_fd``; the answer is ``b"F" + pid`` with the new
    child's request, response and output pipes attached (SCM_RIGHTS). When a child ends,
    ``b"X" + pid + exit code`` (negative: killed by that signal) tells the grader why.
    Forking from here skips interpreter start-up and the NumPy import for every fresh child.
    """
    import select
    import socket
    import struct

    control = socket.socket(fileno=control_fd)
    control.sendall(b"R")
    children = 0
    while True:
        readable, _, _ = select.select([control], [], [], 0.05 if children else None)
        children -= _report_exits(control, struct)
        if not readable:
            continue
        command = control.recv(16)
        if command != b"F":
            return                              # the grader closed the socket: stop
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        output_read, output_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                os.dup2(output_write, 1)
                os.dup2(output_write, 2)
                for fd in (output_read, output_write, request_write, response_read):
                    os.close(fd)
                server = Server(codec, workdir, request_read, response_write, max_bytes)
                server.reply("ready")
                server.serve()
            finally:
                os._exit(0)
        children += 1
        for fd in (request_read, response_write, output_write):
            os.close(fd)
        socket.send_fds(control, [b"F" + struct.pack("<i", pid)],
                        [request_write, response_read, output_read])
        for fd in (request_write, response_read, output_read):
            os.close(fd)


def _report_exits(control: socket.socket, struct: ModuleType) -> int:
    """Reap ended children and tell the grader their exit codes; return how many ended."""
    ended = 0
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended += 1
        control.sendall(b"X" + struct.pack("<ii", pid, os.waitstatus_to_exitcode(status)))


def main(argv: list[str]) -> None:
    workdir, request_fd, response_fd, config_json = argv[1:5]
    config = json.loads(config_json)
    apply_limits(config)
    import site
    for folder in config.get("site_dirs", ()):
        site.addsitedir(folder)
    if hasattr(site, "setquit"):     # -S skipped it: give student code exit()/quit() back
        site.setquit()
    codec = load_codec()
    import numpy  # noqa: F401 - imported before the student's folder can shadow it

    os.chdir(workdir)
    sys.path.insert(0, workdir)
    if request_fd == "--fork-server":
        fork_server(codec, os.path.realpath(workdir), int(response_fd),
                    config["max_transfer_bytes"])
        return
    server = Server(codec, os.path.realpath(workdir), int(request_fd), int(response_fd),
                    config["max_transfer_bytes"])
    server.reply("ready")
    server.serve()


if __name__ == "__main__":
    main(sys.argv)

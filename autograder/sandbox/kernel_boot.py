"""Inside the sandbox: start ipykernel so that it CONNECTS to the launcher's sockets.

Started by :mod:`autograder.sandbox.kernel` as::

    python -I -S kernel_boot.py CONFIG_JSON -f CONNECTION_FILE [kernel arguments...]

with only the standard library on ``sys.path`` (``-I -S``). It sets the resource limits
first (``apply_limits`` of the grader's runner, loaded by file path from the folder this
file is bound into), adds the grader's site-packages folders, then runs ipykernel with one
change: every socket that ipykernel would *bind* (shell, control, stdin, iopub,
heartbeat) *connects* instead, to the ``ipc`` endpoints ``{ip}-{port}`` named in the
connection file. The launcher outside has bound those endpoints in a folder that this
process can use but not change, and relays them to the TCP ports the Jupyter client
knows. Nothing here is trusted: student code can rewrite all of it, and then only breaks
its own kernel.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys

TYPE_CHECKING = False       # not typing.TYPE_CHECKING: nothing is imported that the kernel does not need
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

    import zmq
    from ipykernel.kernelapp import IPKernelApp


def load_runner(folder: str) -> ModuleType:
    """The grader's ``runner.py`` from ``folder``, under a private module name."""
    spec = importlib.util.spec_from_file_location("_autograder_sandbox_runner",
                                                  os.path.join(folder, "runner.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def connecting_kernel_app() -> type[IPKernelApp]:
    """IPKernelApp whose sockets connect to ``ipc://{ip}-{port}`` instead of binding."""
    from ipykernel import heartbeat, kernelapp

    class ConnectingKernelApp(kernelapp.IPKernelApp):
        def _try_bind_socket(self, s: zmq.Socket[Any], port: int) -> int:
            s.connect(f"ipc://{self.ip}-{port}")
            return port

        def init_control(self, context: zmq.Context[Any]) -> None:
            # ipykernel connects its debugger's DEALER to the shell socket's last endpoint,
            # which, for a connecting socket, is the launcher's DEALER: the launcher would
            # then deal shell requests round-robin to the kernel and to that socket.
            import zmq
            super().init_control(context)
            self.debug_shell_socket.close(linger=0)
            self.debug_shell_socket = context.socket(zmq.DEALER)
            self.debug_shell_socket.linger = 1000

        # The connection file is the launcher's, read-only here; the endpoints are its too.
        def write_connection_file(self, **kwargs: Any) -> None:
            pass

        def cleanup_connection_file(self) -> None:
            pass

        def cleanup_ipc_files(self) -> None:
            pass

    def connect_heartbeat(self: heartbeat.Heartbeat) -> None:
        self.socket.connect(f"ipc://{self.ip}-{self.port}")

    heartbeat.Heartbeat._try_bind_socket = connect_heartbeat  # type: ignore[method-assign]
    return ConnectingKernelApp


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    runner = load_runner(os.path.dirname(os.path.abspath(__file__)))
    runner.apply_limits(config)
    import site
    for folder in config.get("site_dirs", ()):
        site.addsitedir(folder)
    if hasattr(site, "setquit"):
        site.setquit()
    os.chdir(config["workdir"])
    # As under `python -m ipykernel_launcher`: the notebook's folder comes first (``-I``
    # left it out), so the notebook imports the student's package from its copy.
    sys.path.insert(0, config["workdir"])
    app_class = connecting_kernel_app()
    sys.argv = ["ipykernel_launcher", *argv[2:]]
    app_class.launch_instance()


if __name__ == "__main__":
    main(sys.argv)

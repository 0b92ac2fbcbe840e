"""The sandbox kernel's kernelspec, its install command, and nbgrader's use of it.

``autograder kernel install`` (run by ``make install``) writes the kernelspec
``nnfs-sandbox`` ("Python 3 (autograder sandbox)") into this environment's
``share/jupyter/kernels``; it starts :mod:`autograder.sandbox.kernel` with this
interpreter. ``assignments/nbgrader_config.py`` puts :class:`SandboxedExecute` in place of
nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors`` only, so ``nbgrader
autograde`` runs every notebook in that kernel, while ``nbgrader validate`` (students) and
the notebooks' own ``kernelspec`` metadata keep the ordinary ``python3`` kernel.
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpec

    from autograder.course import Course

KERNEL_NAME = "nnfs-sandbox"
DISPLAY_NAME = "Python 3 (autograder sandbox)"
LAUNCHER_MODULE = "autograder.sandbox.kernel"


class SandboxKernelMissing(RuntimeError):
    """The sandbox kernel is not installed where Jupyter looks for kernels."""


def kernel_json() -> dict[str, Any]:
    """The kernelspec's ``kernel.json`` contents: the launcher run by this Python."""
    return {
        "argv": [sys.executable, "-m", LAUNCHER_MODULE, "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        # Interrupts travel as messages: a signal to the launcher could not reach inside.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }


def install(prefix: str | None = None) -> str:
    """Install (or replace) the kernelspec under ``prefix`` (default ``sys.prefix``).

    Returns
    -------
    str
        The folder the kernelspec was installed into.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "kernel.json").write_text(json.dumps(kernel_json(), indent=1) + "\n")
        return KernelSpecManager().install_kernel_spec(folder, KERNEL_NAME, prefix=prefix or sys.prefix)


def check_installed(name: str = KERNEL_NAME) -> "KernelSpec":
    """Raise :class:`SandboxKernelMissing` unless kernelspec ``name`` starts the launcher."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise SandboxKernelMissing(
            f"the autograder's sandbox kernel {name!r} is not installed, and nbgrader "
            "autograde must not run student notebooks as the TA's user: run `autograder "
            "kernel install` (make install does) in the environment that runs nbgrader"
        ) from None
    if LAUNCHER_MODULE not in spec.argv:
        raise SandboxKernelMissing(
            f"the kernelspec {name!r} does not start {LAUNCHER_MODULE} (argv {spec.argv}); "
            "run `autograder kernel install` to replace it")
    return spec


def _sandboxed_execute_class() -> type:
    from nbgrader.preprocessors import Execute
    from traitlets import Dict, Integer, Unicode

    class SandboxedExecute(Execute):
        """nbgrader's ``Execute``, in the sandbox kernel whatever the notebook names.

        Configuration for ``Execute`` (``timeout``, ...) applies to it too. It refuses to
        run when the sandbox kernel is missing, and leaves the notebook's ``kernelspec``
        metadata as it was.
        """

        kernel_name = Unicode(KERNEL_NAME, help="The sandbox kernel (see `autograder kernel "
                                                "install`).").tag(config=True)
        # After a timed-out cell is interrupted, nbclient waits this long for the kernel to
        # go idle, else it fails the whole notebook; the launcher replaces a kernel that
        # ignores the interrupt after INTERRUPT_GRACE_SECONDS (5), well within it.
        iopub_timeout = Integer(10, help="Seconds to wait for a cell's last outputs after its "
                                         "reply or its timeout.").tag(config=True)

        kernel_env = Dict(
            {}, help="Environment variables set for the kernel on top of nbgrader's own "
                     "environment (the course config sets COURSE_FAST=1 here; the sandbox "
                     "passes only autograder.sandbox.kernel.PASSED_ENV inside).",
        ).tag(config=True)

        def start_new_kernel(self, **kwargs: Any) -> Any:
            if self.kernel_env:
                kwargs["env"] = {**os.environ, **kwargs.get("env", {}),
                                 **{str(k): str(v) for k, v in self.kernel_env.items()}}
            return super().start_new_kernel(**kwargs)

        def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
            check_installed(self.kernel_name)
            if self.kernel_env:
                self.log.info("Sandbox kernel environment: %s", " ".join(
                    f"{k}={v}" for k, v in sorted(self.kernel_env.items())))
            kernelspec = nb.metadata.get("kernelspec")
            try:
                return super().preprocess(nb, resources, km=km)
            finally:
                if kernelspec is None:
                    nb.metadata.pop("kernelspec", None)
                else:
                    nb.metadata["kernelspec"] = kernelspec

    return SandboxedExecute


def __getattr__(name: str) -> type:
    # nbgrader is imported only when nbgrader itself asks for the preprocessor.
    if name != "SandboxedExecute":
        raise AttributeError(name)
    globals()[name] = _sandboxed_execute_class()
    return globals()[name]


# -- CLI ---------------------------------------------------------------------------------
def add_cli(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "kernel", help="install the sandbox Jupyter kernel that nbgrader autograde uses")
    actions = parser.add_subparsers(dest="kernel_action", metavar="ACTION", required=True)
    install_parser = actions.add_parser(
        "install", help=f"install the kernelspec {KERNEL_NAME!r} into this environment")
    install_parser.add_argument("--prefix", default=None,
                                help="install under PREFIX/share/jupyter/kernels "
                                     "(default: this environment, sys.prefix)")
    actions.add_parser("check", help="say whether the sandbox kernel is installed")
    parser.set_defaults(func=run_cli)


def run_cli(args: argparse.Namespace, course: "Course") -> int:
    if args.kernel_action == "install":
        folder = install(prefix=args.prefix)
        print(f"installed the kernel {KERNEL_NAME!r} ({DISPLAY_NAME}) in {folder}")
        return 0
    try:
        spec = check_installed()
    except SandboxKernelMissing as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return 1
    print(f"{KERNEL_NAME}: {' '.join(spec.argv)} (in {spec.resource_dir})")
    return 0

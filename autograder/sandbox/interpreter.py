"""Which Python the unprivileged child runs, and where it finds NumPy.

When the grader is root the child runs as its submission's own unprivileged uid, so its
interpreter, standard library and site-packages must be readable by other users (and, under
bubblewrap, they are bound read-only into the sandbox from those same paths). The grader's
own interpreter may not be (a pyenv build under ``/root`` is a common case).
:func:`child_interpreter` therefore tries the grader's interpreter first and then a system
interpreter of the same ``major.minor`` version (same ABI, so the grader's compiled packages
load), each started as the child would be and asked to import NumPy. The child always starts
with ``-I -S`` and adds the grader's site-packages folders itself (``site.addsitedir``, which
also honours the editable-install ``.pth`` files), so both cases import the same packages.
"""
import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from typing import Any

import numpy as np

PROBE = ("import site, sys\n"
         "for folder in sys.argv[1:]:\n"
         "    site.addsitedir(folder)\n"
         "import numpy\n"
         "print(numpy.__version__)\n")


def grader_site_dirs() -> list[str]:
    """The site-packages folders of the grader's environment (venv first), deduplicated."""
    folders: list[str] = []
    for folder in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
                   *site.getsitepackages()):
        if folder not in folders and os.path.isdir(folder):
            folders.append(folder)
    return folders


def _candidates() -> Iterator[str]:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    names = [sys.executable, f"/usr/bin/python{version}", f"/usr/local/bin/python{version}",
             shutil.which(f"python{version}")]
    seen = []
    for name in names:
        if name and os.path.exists(name) and os.path.realpath(name) not in seen:
            seen.append(os.path.realpath(name))
            yield name


@functools.lru_cache(maxsize=None)
def child_interpreter(user: int | None = None, group: int | None = None) -> tuple[str, tuple[str, ...]]:
    """The interpreter for children running as ``user``/``group`` (None: the grader's ids).

    Returns
    -------
    executable : str
    site_dirs : tuple of str
        Folders the child adds with ``site.addsitedir``.

    Raises
    ------
    RuntimeError
        When no candidate can import NumPy as that user; the message says what to fix.
    """
    folders = tuple(grader_site_dirs())
    ids: dict[str, Any] = {} if user is None else {"user": user, "group": group, "extra_groups": []}
    tried = []
    for executable in _candidates():
        try:
            probe = subprocess.run([executable, "-I", "-S", "-c", PROBE, *folders],
                                   capture_output=True, text=True, timeout=60, cwd="/",
                                   env={"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1"},
                                   **ids)
        except (OSError, subprocess.SubprocessError) as exc:
            tried.append(f"{executable}: {exc}")
            continue
        if probe.returncode == 0 and probe.stdout.strip() == np.__version__:
            return executable, folders
        tried.append(f"{executable}: {(probe.stderr.strip().splitlines() or ['?'])[-1]}")
    raise RuntimeError(
        "no Python interpreter can import NumPy as the unprivileged sandbox user: "
        + "; ".join(tried) + ". Install the course in a virtual environment whose "
        "interpreter and packages are readable by other users (e.g. not under /root).")

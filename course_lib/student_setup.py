"""``nnfs-course student-setup``: a student's Jupyter, ready for the course.

After ``pip install "nnfs_course-<version>-<tag>.whl[student]"`` a student runs, once::

    nnfs-course student-setup --exchange /srv/nbgrader/exchange --course nnfs

which

1. writes the course's nbgrader settings (``c.Exchange.root``,
   ``c.CourseDirectory.course_id``, strict submissions) into ``nbgrader_config.py`` of
   the Jupyter config folder that wins (see :func:`target_config_dir`), so that
   ``nbgrader fetch_assignment A --course nnfs`` and ``nbgrader submit A --course nnfs``
   find the exchange without flags. A block between marker comments is replaced on a
   re-run; anything else in that file is kept;
2. hides nbgrader's instructor tools in JupyterLab: the lab plugins
   ``create-assignment``, ``formgrader`` and ``course-list`` are disabled (and locked, so
   the plugin manager does not offer them back) and the server extensions ``formgrader``
   and ``course_list`` are turned off; the Assignment List and Validate stay enabled;
3. checks the result as Jupyter will read it (every config folder, in priority order)
   and fails if an instructor tool is still enabled or the Assignment List is not.

Nothing here needs a running server; the Jupyter packages are imported only for the
final check (and it is skipped, saying so, without them).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

COURSE_ID = "nnfs"
# nbgrader 0.9's JupyterLab plugins and server extensions (its installation guide lists them).
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
)
STUDENT_LAB_PLUGINS = (
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:validate-assignment",
)
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
STUDENT_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.validate_assignment",
)
# Sorts after nbgrader's own ``nbgrader.json`` in the same folder, so it is merged later
# and wins (jupyter_server merges a folder's ``*.json`` files in name order).
SERVER_CONFIG_FILE = Path("jupyter_server_config.d") / "nnfs-course-student.json"
PAGE_CONFIG_FILE = Path("labconfig") / "page_config.json"
NBGRADER_CONFIG_FILE = "nbgrader_config.py"
BEGIN_MARK = "# BEGIN nnfs-course student-setup"
END_MARK = "# END nnfs-course student-setup"


class SetupError(Exception):
    """Something the student (or the course staff) has to fix; the message says what."""


# ------------------------------------------------------------------ where config goes

def _writable(folder: str | os.PathLike[str]) -> bool:
    """True if ``folder`` exists and is writable, or could be created."""
    folder = Path(folder)
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def target_config_dir() -> Path:
    """The Jupyter config folder whose settings win, if it is writable.

    Jupyter reads config from every folder of ``jupyter_config_path()``, the first with
    the highest priority. Inside a virtual environment the student owns, that is the
    environment's ``etc/jupyter`` (where nbgrader enabled its extensions, so a setting in
    ``~/.jupyter`` would lose); elsewhere (a JupyterHub image, a system Python) it is
    ``~/.jupyter`` or ``$JUPYTER_CONFIG_DIR``.
    """
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

    for folder in jupyter_config_path():
        if _writable(folder):
            return Path(folder)
    return Path(jupyter_config_dir())


# ------------------------------------------------------------------ the exchange

def check_exchange(root: str | os.PathLike[str], course_id: str) -> list[str]:
    """Check that nbgrader can use ``root`` as this student's exchange.

    nbgrader refuses an exchange root the user cannot write to ("Unwritable directory,
    please contact your instructor"), for fetching too.

    Returns
    -------
    list of str
        Notes for the student (e.g. nothing released yet); empty when all is well.

    Raises
    ------
    SetupError
        The folder is missing or not writable.
    """
    root = Path(root)
    if not root.is_dir():
        raise SetupError(f"the exchange folder {root} does not exist; ask your course staff "
                         "for the exchange path of your course")
    if not os.access(root, os.W_OK | os.X_OK):
        raise SetupError(f"you cannot write to the exchange folder {root}; nbgrader needs "
                         "that for fetch and submit. Ask your course staff to make it "
                         "writable (chmod 1777), or check the path")
    notes = []
    outbound = root / course_id / "outbound"
    if not outbound.is_dir():
        notes.append(f"nothing has been released for course {course_id!r} in {root} yet "
                     f"({outbound} is missing); check the course id if your staff have "
                     "released an assignment")
    return notes


def nbgrader_block(exchange: str | os.PathLike[str], course_id: str) -> str:
    """The lines this tool owns in ``nbgrader_config.py``."""
    return "\n".join([
        BEGIN_MARK + " (re-running the command replaces this block)",
        "c = get_config()  # noqa: F821",
        f"c.Exchange.root = {str(exchange)!r}",
        f"c.CourseDirectory.course_id = {course_id!r}",
        "# refuse a submission that lacks one of the released notebooks",
        "c.ExchangeSubmit.strict = True",
        END_MARK,
    ]) + "\n"


def write_nbgrader_config(config_dir: str | os.PathLike[str], exchange: str | os.PathLike[str], course_id: str) -> Path:
    """Put (or replace) the course block in ``config_dir/nbgrader_config.py``.

    Returns the file's path.
    """
    path = Path(config_dir) / NBGRADER_CONFIG_FILE
    block = nbgrader_block(exchange, course_id)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    start, end = text.find(BEGIN_MARK), text.find(END_MARK)
    if start >= 0 and end > start:
        end = text.find("\n", end)
        end = len(text) if end < 0 else end + 1
        text = text[:start] + block + text[end:]
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n" if text else "") + block
    _write_atomically(path, text)
    return path


# ------------------------------------------------------------------ JupyterLab extensions

def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SetupError(f"{path} is not valid JSON ({exc}); fix or remove it and run "
                         "the command again") from None
    if not isinstance(data, dict):
        raise SetupError(f"{path} does not hold a JSON object; fix or remove it")
    return data


def _as_flags(value: list[str] | Mapping[str, bool] | None) -> dict[str, bool]:
    """JupyterLab accepts a list of names or a {name: bool} mapping; return the mapping."""
    if isinstance(value, list):
        return {name: True for name in value}
    return dict(value or {})


def configure_extensions(config_dir: str | os.PathLike[str], hide_instructor_tools: bool = True) -> list[Path]:
    """Write the extension settings into ``config_dir``; return the files written."""
    config_dir = Path(config_dir)
    page_path = config_dir / PAGE_CONFIG_FILE
    page = _load_json(page_path)
    disabled = _as_flags(page.get("disabledExtensions"))
    locked = _as_flags(page.get("lockedExtensions"))
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        disabled[plugin] = hide_instructor_tools
        locked[plugin] = hide_instructor_tools
    for plugin in STUDENT_LAB_PLUGINS:
        disabled[plugin] = False
    page["disabledExtensions"] = disabled
    page["lockedExtensions"] = locked
    _write_atomically(page_path, json.dumps(page, indent=2, sort_keys=True) + "\n")

    server_path = config_dir / SERVER_CONFIG_FILE
    switches = {name: not hide_instructor_tools for name in INSTRUCTOR_SERVER_EXTENSIONS}
    switches.update({name: True for name in STUDENT_SERVER_EXTENSIONS})
    server = {"ServerApp": {"jpserver_extensions": switches}}
    _write_atomically(server_path, json.dumps(server, indent=2, sort_keys=True) + "\n")
    return [page_path, server_path]


def effective_extension_state() -> dict[str, dict[str, bool]] | None:
    """What Jupyter will load, merged over every config folder as JupyterLab and
    jupyter_server merge them.

    Returns
    -------
    dict or None
        ``{"lab": {plugin: enabled}, "server": {module: enabled}}`` for nbgrader's
        plugins and server extensions; None when JupyterLab is not installed.
    """
    try:
        from jupyter_core.paths import jupyter_config_path
        from jupyter_server.extension.config import ExtensionConfigManager
        from jupyterlab_server.config import get_static_page_config
    except ImportError:
        return None
    disabled = _as_flags(get_static_page_config(level="all").get("disabledExtensions"))
    lab = {plugin: not disabled.get(plugin, False)
           for plugin in INSTRUCTOR_LAB_PLUGINS + STUDENT_LAB_PLUGINS}
    found = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    server = {name: bool(found.get(name, False))
              for name in INSTRUCTOR_SERVER_EXTENSIONS + STUDENT_SERVER_EXTENSIONS}
    return {"lab": lab, "server": server}


def problems_with(state: Mapping[str, Mapping[str, bool]], hide_instructor_tools: bool = True) -> list[str]:
    """What in ``state`` (from :func:`effective_extension_state`) is not as it should be."""
    problems = []
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        if state["lab"][plugin] == hide_instructor_tools:
            problems.append(f"JupyterLab plugin {plugin} is "
                            f"{'still enabled' if hide_instructor_tools else 'disabled'}")
    for name in INSTRUCTOR_SERVER_EXTENSIONS:
        if state["server"][name] == hide_instructor_tools:
            problems.append(f"server extension {name} is "
                            f"{'still enabled' if hide_instructor_tools else 'disabled'}")
    for plugin in STUDENT_LAB_PLUGINS:
        if not state["lab"][plugin]:
            problems.append(f"JupyterLab plugin {plugin} is disabled")
    for name in STUDENT_SERVER_EXTENSIONS:
        if not state["server"][name]:
            problems.append(f"server extension {name} is not enabled")
    return problems


# ------------------------------------------------------------------ helpers and CLI

def _write_atomically(path: str | os.PathLike[str], text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def student_setup(exchange: str | os.PathLike[str], course_id: str = COURSE_ID,
                  config_dir: str | os.PathLike[str] | None = None,
                  hide_instructor_tools: bool = True, check: bool = True,
                  out: TextIO | None = None) -> Path:
    """Configure nbgrader's exchange and JupyterLab's nbgrader tools for a student.

    Returns
    -------
    Path
        The config folder written to.

    Raises
    ------
    SetupError
        The exchange is not usable (unless ``check`` is false), a config file is broken,
        or the written settings do not take effect.
    """
    out = sys.stdout if out is None else out
    exchange = Path(exchange).expanduser().absolute()
    notes = check_exchange(exchange, course_id) if check else []
    config_dir = Path(config_dir).expanduser() if config_dir else target_config_dir()
    if not _writable(config_dir):
        raise SetupError(f"cannot write to the Jupyter config folder {config_dir}; "
                         "pass --config-dir with a folder of yours")
    config = write_nbgrader_config(config_dir, exchange, course_id)
    print(f"nbgrader: course {course_id!r}, exchange {exchange} (written to {config})", file=out)
    configure_extensions(config_dir, hide_instructor_tools)
    state = effective_extension_state()
    if state is None:
        print("JupyterLab is not installed here, so its nbgrader tools were configured but "
              "not checked (pip install the wheel with [student])", file=out)
    else:
        problems = problems_with(state, hide_instructor_tools)
        if problems:
            raise SetupError(
                f"wrote the settings to {config_dir}, but another Jupyter config folder "
                "overrides them: " + "; ".join(problems) + ". Run `jupyter --paths` to see "
                "the folders and pass --config-dir with the first one under 'config'")
        if hide_instructor_tools:
            print("JupyterLab: nbgrader's Assignment List and Validate are on; its "
                  "instructor tools (Create Assignment, Formgrader, Course List) are hidden",
                  file=out)
    for note in notes:
        print(f"note: {note}", file=out)
    print(f"next: nbgrader fetch_assignment <assignment> --course {course_id}, or the "
          "Assignments tab of JupyterLab (Nbgrader > Assignment List)", file=out)
    return config_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnfs-course", description="The course's student tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    setup = sub.add_parser(
        "student-setup",
        help="point nbgrader at the course's exchange and hide its instructor tools",
        description="Write the course's nbgrader settings (exchange folder, course id) "
                    "into your Jupyter config and hide nbgrader's instructor tools in "
                    "JupyterLab. Run it once after installing; run it again to change.")
    setup.add_argument("--exchange", required=True, metavar="PATH",
                       help="the nbgrader exchange folder your course staff gave you")
    setup.add_argument("--course", default=COURSE_ID, metavar="ID",
                       help=f"the course id (default {COURSE_ID})")
    setup.add_argument("--config-dir", type=Path, default=None, metavar="DIR",
                       help="Jupyter config folder to write to (default: the one with the "
                            "highest priority that you can write, see `jupyter --paths`)")
    setup.add_argument("--keep-instructor-tools", action="store_true",
                       help="leave nbgrader's Create Assignment, Formgrader and Course List on")
    setup.add_argument("--no-check", action="store_true",
                       help="write the settings even if the exchange folder is not usable "
                            "from here (e.g. it is mounted later)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        student_setup(args.exchange, course_id=args.course, config_dir=args.config_dir,
                      hide_instructor_tools=not args.keep_instructor_tools,
                      check=not args.no_check)
    except SetupError as exc:
        print(f"nnfs-course: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

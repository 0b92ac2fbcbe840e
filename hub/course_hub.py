"""What the course hub is made of: the course, its demo accounts, its groups and folders.

Shared by ``jupyterhub_config.py``, ``setup_users.py`` and ``tests/test_hub.py``. Every path
and port can be moved with an environment variable, so a test can run a second hub beside
the one ``make hub`` started.
"""
import os
from pathlib import Path

HUB_DIR = Path(__file__).resolve().parent
PROJECT = HUB_DIR.parent
HUB_VENV = HUB_DIR / ".venv"

COURSE = os.environ.get("NBGRADER_COURSE_ID", "nnfs")

#: Every account this hub creates starts with this; nothing else is ever created or removed.
PREFIX = "nnfs-"
#: Written into the accounts' comment (GECOS) field; removal requires it.
MARKER = "nnfs-course hub demo account"

INSTRUCTOR = PREFIX + "instructor"
TA = PREFIX + "ta"
STUDENTS = [f"{PREFIX}student{i}" for i in (1, 2, 3)]
STAFF = [INSTRUCTOR, TA]
USERS = STAFF + STUDENTS

#: JupyterHub groups, named as nbgrader's JupyterHub guide names them.
STUDENTS_GROUP = "students"
NBGRADER_GROUP = f"nbgrader-{COURSE}"      # students taking the course
FORMGRADE_GROUP = f"formgrade-{COURSE}"    # its instructors and TAs
HUB_GROUPS = {
    STUDENTS_GROUP: STUDENTS,
    NBGRADER_GROUP: STUDENTS,
    FORMGRADE_GROUP: STAFF,
}
#: Unix groups (a hub group called plain "students" may exist on the machine already, so the
#: Unix side uses the course-specific names only). Staff share the course folder through
#: the formgrade group.
UNIX_GROUPS = {NBGRADER_GROUP: STUDENTS, FORMGRADE_GROUP: STAFF}

FORMGRADER_SERVICE = f"formgrader-{COURSE}"


def _env_path(name, default):
    return Path(os.environ.get(name, default))


#: The hub's database, cookie secret and the course folder live here.
STATE = _env_path("NNFS_HUB_STATE", "/srv/nnfs-hub")
#: The staff's nbgrader course: a copy of assignments/ (sources, nbgrader_config.py) and of
#: the hidden suites, writable by the formgrade group, closed to everyone else.
COURSE_DIR = STATE / "course"
NBGRADER_ROOT = COURSE_DIR / "assignments"
#: nbgrader's exchange, shared by everyone (mode 1777, as nbgrader expects).
EXCHANGE = _env_path("NNFS_HUB_EXCHANGE", "/srv/nbgrader/exchange")

IP = "127.0.0.1"
PORT = int(os.environ.get("NNFS_HUB_PORT", "8000"))
HUB_API_PORT = int(os.environ.get("NNFS_HUB_API_PORT", "8081"))
PROXY_API_PORT = int(os.environ.get("NNFS_HUB_PROXY_API_PORT", "8001"))
FORMGRADER_PORT = int(os.environ.get("NNFS_HUB_FORMGRADER_PORT", "9999"))
#: Demo password of every demo account (the hub listens on 127.0.0.1 only).
PASSWORD = os.environ.get("NNFS_HUB_PASSWORD", "nnfs-demo-password")

#: Per-role Jupyter configuration folders (nbgrader_config.py, labextension and server
#: extension switches); the spawner puts the right one first on JUPYTER_CONFIG_PATH.
CONFIG_DIRS = {"student": HUB_DIR / "jupyter" / "student", "staff": HUB_DIR / "jupyter" / "staff"}


def project_venv():
    return PROJECT / ".venv"


def user_environment(role):
    """Environment of a user's single-user server (and of the formgrader service)."""
    venv = project_venv()
    config_path = [str(CONFIG_DIRS[role]), str(HUB_VENV / "etc" / "jupyter"),
                   str(venv / "etc" / "jupyter")]
    data_path = [str(HUB_VENV / "share" / "jupyter"), str(venv / "share" / "jupyter")]
    env = {
        "PATH": f"{HUB_VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path),
        "JUPYTER_PATH": os.pathsep.join(data_path),
        "NBGRADER_COURSE_ID": COURSE,
        "NBGRADER_EXCHANGE": str(EXCHANGE),
        "COURSE_DATASET": os.environ.get("COURSE_DATASET", "synthetic"),
        "SHELL": "/bin/bash",
    }
    if os.environ.get("COURSE_FAST"):
        env["COURSE_FAST"] = os.environ["COURSE_FAST"]
    if role == "staff":
        env["COURSE_ROOT"] = str(COURSE_DIR)
    return env

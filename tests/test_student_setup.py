"""`nnfs-course student-setup`: the exchange that the README's student commands use, and
nbgrader's instructor tools hidden in JupyterLab.

Every test runs Jupyter with a temporary config folder (``JUPYTER_CONFIG_DIR``, with
``JUPYTER_PREFER_ENV_PATH=0`` so that it outranks this virtual environment's own config),
a temporary ``HOME`` and data folder: never the real user's Jupyter settings.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.release.pipeline import nbgrader_environment
from course_lib import student_setup
from course_lib.student_setup import (BEGIN_MARK, INSTRUCTOR_LAB_PLUGINS,
                                      INSTRUCTOR_SERVER_EXTENSIONS, STUDENT_LAB_PLUGINS,
                                      STUDENT_SERVER_EXTENSIONS)

COURSE = "nnfs"
ASSIGNMENT = "hello"


@pytest.fixture
def jupyter_env(tmp_path, monkeypatch):
    """Environment of a student whose Jupyter config lives in a temporary folder."""
    config, data, home = tmp_path / "jupyter-config", tmp_path / "jupyter-data", tmp_path / "home"
    for folder in (config, data, home):
        folder.mkdir()
    env = {**nbgrader_environment(), "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTER_DATA_DIR": str(data), "JUPYTER_PREFER_ENV_PATH": "0", "HOME": str(home)}
    for name in ("JUPYTER_CONFIG_PATH", "NBGRADER_EXCHANGE", "NBGRADER_COURSE_ID"):
        env.pop(name, None)
        monkeypatch.delenv(name, raising=False)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_PREFER_ENV_PATH", "HOME"):
        monkeypatch.setenv(name, env[name])
    return env


@pytest.fixture
def exchange(tmp_path):
    """An nbgrader exchange with one released assignment (one notebook) for COURSE."""
    root = tmp_path / "exchange"
    released = root / COURSE / "outbound" / ASSIGNMENT
    released.mkdir(parents=True)
    (root / COURSE / "inbound").mkdir()
    for folder in (root, root / COURSE, root / COURSE / "inbound"):
        folder.chmod(0o1777)
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("answer = 42"))
    nbformat.write(nb, released / "hello.ipynb")
    return root


def run(command, env, cwd, expect_ok=True):
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    if expect_ok:
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


def setup_command(*args):
    return [sys.executable, "-m", "course_lib.student_setup", "student-setup", *args]


def nbgrader(*args):
    return [sys.executable, "-m", "nbgrader", *args]


# ------------------------------------------------------------------ the exchange

@pytest.mark.slow  # five nbgrader commands
def test_fetch_and_submit_as_the_readme_writes_them_after_setup(jupyter_env, exchange, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    # Without the setup, nbgrader looks in its default exchange and cannot fetch.
    before = run(nbgrader("fetch_assignment", ASSIGNMENT, "--course", COURSE), jupyter_env,
                 work, expect_ok=False)
    assert before.returncode != 0 and not (work / ASSIGNMENT).exists()

    done = run(setup_command("--exchange", str(exchange), "--course", COURSE), jupyter_env,
               work)
    config = Path(jupyter_env["JUPYTER_CONFIG_DIR"]) / "nbgrader_config.py"
    assert str(config) in done.stdout
    run(nbgrader("fetch_assignment", ASSIGNMENT, "--course", COURSE), jupyter_env, work)
    assert (work / ASSIGNMENT / "hello.ipynb").is_file()

    # Strict submissions: a renamed notebook is refused, the complete folder accepted.
    (work / ASSIGNMENT / "hello.ipynb").rename(work / ASSIGNMENT / "renamed.ipynb")
    refused = run(nbgrader("submit", ASSIGNMENT, "--course", COURSE), jupyter_env, work,
                  expect_ok=False)
    assert refused.returncode != 0
    assert not any((exchange / COURSE / "inbound").iterdir())
    (work / ASSIGNMENT / "renamed.ipynb").rename(work / ASSIGNMENT / "hello.ipynb")
    run(nbgrader("submit", ASSIGNMENT, "--course", COURSE), jupyter_env, work)
    inbound = list((exchange / COURSE / "inbound").iterdir())
    assert len(inbound) == 1 and f"+{ASSIGNMENT}+" in inbound[0].name
    assert (inbound[0] / "hello.ipynb").is_file()


def test_a_missing_exchange_is_an_error_that_says_what_to_do(jupyter_env, tmp_path, capsys):
    assert student_setup.main(["student-setup", "--exchange", str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err
    assert "does not exist" in error and "course staff" in error
    assert not (Path(jupyter_env["JUPYTER_CONFIG_DIR"]) / "nbgrader_config.py").exists()


def test_an_empty_exchange_gets_a_note_about_the_course_id(jupyter_env, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert student_setup.main(["student-setup", "--exchange", str(tmp_path / "empty"),
                               "--course", "cs999"]) == 0
    assert "nothing has been released for course 'cs999'" in capsys.readouterr().out


def test_rerun_replaces_its_block_and_keeps_the_students_own_settings(jupyter_env, tmp_path):
    config_dir = Path(jupyter_env["JUPYTER_CONFIG_DIR"])
    config = config_dir / "nbgrader_config.py"
    config.write_text("c = get_config()\nc.Exchange.timezone = 'Europe/Paris'\n")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    student_setup.write_nbgrader_config(config_dir, tmp_path / "one", COURSE)
    student_setup.write_nbgrader_config(config_dir, tmp_path / "two", "cs231")
    text = config.read_text()
    assert text.count(BEGIN_MARK) == 1
    assert "Europe/Paris" in text and str(tmp_path / "two") in text
    assert str(tmp_path / "one") not in text
    namespace = {}
    exec(compile(text, str(config), "exec"), {"get_config": lambda: namespace.setdefault(
        "c", _Config())})
    assert namespace["c"].Exchange.root == str(tmp_path / "two")
    assert namespace["c"].CourseDirectory.course_id == "cs231"


class _Config:
    """Enough of traitlets' Config for reading back a config file."""
    def __getattr__(self, name):
        value = _Config()
        setattr(self, name, value)
        return value


# ------------------------------------------------------------------ instructor tools

_PROBE = """
import json, os
from jupyter_core.paths import jupyter_path
from jupyter_server.serverapp import ServerApp
from jupyterlab.commands import get_app_dir
from jupyterlab_server.config import get_page_config

# What JupyterLab's page handler sends to the browser, and which server extensions a
# server started here would load, each from the application's own config loading.
page = get_page_config(jupyter_path("labextensions"), os.path.join(get_app_dir(), "settings"))
app = ServerApp()
app.load_config_file()
app.find_server_extensions()
disabled = page["disabledExtensions"]  # a list or a {name: bool} mapping
if isinstance(disabled, dict):
    disabled = [name for name, value in disabled.items() if value]
print(json.dumps({
    "federated": sorted(ext["name"] for ext in page["federated_extensions"]),
    "lab_disabled": sorted(disabled),
    "server": {k: bool(v) for k, v in app.jpserver_extensions.items()},
}))
"""


def jupyter_state(env):
    """The nbgrader tools a JupyterLab started with ``env`` would show."""
    done = run([sys.executable, "-c", _PROBE], env, env["HOME"])
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert "@jupyter/nbgrader" in state["federated"], "nbgrader's lab extension is missing"
    state["lab_disabled"] = set(state["lab_disabled"])
    return state


def setup_in_process(exchange, **options):
    return student_setup.student_setup(exchange, out=open(os.devnull, "w"), **options)


def test_setup_hides_the_instructor_tools_and_keeps_the_assignment_list(jupyter_env, exchange):
    # This virtual environment enables every nbgrader tool (as pip install does).
    before = jupyter_state(jupyter_env)
    assert not before["lab_disabled"] & set(INSTRUCTOR_LAB_PLUGINS)
    assert all(before["server"][name] for name in INSTRUCTOR_SERVER_EXTENSIONS)

    setup_in_process(exchange)

    after = jupyter_state(jupyter_env)
    assert set(INSTRUCTOR_LAB_PLUGINS) <= after["lab_disabled"]
    assert not after["lab_disabled"] & set(STUDENT_LAB_PLUGINS)
    assert not any(after["server"][name] for name in INSTRUCTOR_SERVER_EXTENSIONS)
    assert all(after["server"][name] for name in STUDENT_SERVER_EXTENSIONS)
    page = json.loads((Path(jupyter_env["JUPYTER_CONFIG_DIR"]) / "labconfig" /
                       "page_config.json").read_text())
    assert all(page["lockedExtensions"][plugin] for plugin in INSTRUCTOR_LAB_PLUGINS)

    # --keep-instructor-tools turns them back on.
    setup_in_process(exchange, hide_instructor_tools=False)
    kept = jupyter_state(jupyter_env)
    assert not kept["lab_disabled"] & set(INSTRUCTOR_LAB_PLUGINS)
    assert all(kept["server"][name] for name in INSTRUCTOR_SERVER_EXTENSIONS)


def test_existing_lab_settings_are_kept(jupyter_env, exchange):
    page_path = Path(jupyter_env["JUPYTER_CONFIG_DIR"]) / "labconfig" / "page_config.json"
    page_path.parent.mkdir()
    page_path.write_text(json.dumps({"disabledExtensions": ["@jupyterlab/some:plugin"],
                                     "other": 1}))
    setup_in_process(exchange)
    page = json.loads(page_path.read_text())
    assert page["other"] == 1
    assert page["disabledExtensions"]["@jupyterlab/some:plugin"] is True
    assert page["disabledExtensions"]["@jupyter/nbgrader:create-assignment"] is True


def test_the_default_target_is_the_config_folder_that_wins(jupyter_env, monkeypatch):
    from jupyter_core.paths import jupyter_config_path
    assert student_setup.target_config_dir() == Path(jupyter_env["JUPYTER_CONFIG_DIR"])
    # In a virtual environment the student owns, Jupyter prefers the environment's folder
    # (where nbgrader enabled its tools); that is where the settings must go.
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")
    assert student_setup.target_config_dir() == Path(jupyter_config_path()[0])
    assert student_setup.target_config_dir() == Path(sys.prefix) / "etc" / "jupyter"


def test_settings_that_another_folder_overrides_are_an_error(jupyter_env, exchange):
    # The user folder written, but this virtual environment's folder takes precedence
    # and enables the instructor tools: the setup must say so, not report success.
    env = {**jupyter_env, "JUPYTER_PREFER_ENV_PATH": "1"}
    done = run(setup_command("--exchange", str(exchange), "--config-dir",
                             env["JUPYTER_CONFIG_DIR"]), env, env["HOME"], expect_ok=False)
    assert done.returncode == 2
    assert "overrides them" in done.stderr and "formgrader is still enabled" in done.stderr
    assert "jupyter --paths" in done.stderr



def test_help_names_the_command(capsys):
    with pytest.raises(SystemExit) as stop:
        student_setup.main(["student-setup", "--help"])
    assert stop.value.code == 0
    assert "--exchange" in capsys.readouterr().out

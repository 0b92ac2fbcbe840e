"""Packaging: the metadata lives in pyproject.toml, requirements.txt agrees with it, and the
student wheel holds course_lib and the grader but never a hidden suite or a reference
solution. The slow test installs that wheel with ``[student]`` into a fresh virtual
environment from PyPI and runs what a student runs."""
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.release.leakcheck import collect_secrets, normalize
from autograder.release.stripping import find_solution_blocks
from autograder.release.student_readme import wheel_name

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project():
    """pyproject.toml's [project] table."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def requirement_map(lines):
    """{canonical name: Requirement} of requirement strings (self-references left out)."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name == "nnfs-course":
            continue
        assert name not in found, f"{name} is listed twice"
        found[name] = requirement
    return found


def extra(project, name):
    """The requirements of an extra, following the extra's references to other extras."""
    lines = []
    for line in project["optional-dependencies"][name]:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == "nnfs-course":
            for other in sorted(requirement.extras):
                lines.extend(extra(project, other))
        else:
            lines.append(line)
    return lines


def test_setup_py_only_builds_the_extension():
    tree = ast.parse((REPO_ROOT / "setup.py").read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", None) == "setup"]
    assert len(calls) == 1
    assert {kw.arg for kw in calls[0].keywords} == {"ext_modules", "cmdclass"}


def test_pyproject_declares_the_project(project):
    assert project["name"] == "nnfs-course"
    assert project["requires-python"] == ">=3.10"
    assert "version" in project["dynamic"]
    assert project["scripts"] == {"autograder": "autograder.cli:main",
                                  "nnfs-course": "course_lib.student_setup:main"}
    base = requirement_map(project["dependencies"])
    assert {"numpy", "tqdm", "matplotlib"} <= set(base)
    student = requirement_map(extra(project, "student"))
    assert {"jupyterlab", "pytest", "nbgrader", "ipykernel"} <= set(student)
    assert str(student["nbgrader"].specifier) == "==0.9.6"
    instructor = requirement_map(extra(project, "instructor"))
    assert set(student) <= set(instructor)
    assert {"dask", "distributed", "nbformat", "nbclient", "scipy"} <= set(instructor)
    # what batch.py's error message asks for
    assert set(requirement_map(extra(project, "grading"))) == set(instructor)


def test_requirements_txt_matches_pyproject(project):
    """`make install` and the Gradescope image install requirements.txt: the same packages,
    with the same version specifiers, as the dependencies and extras."""
    wanted = requirement_map(project["dependencies"])
    for name in project["optional-dependencies"]:
        for key, requirement in requirement_map(extra(project, name)).items():
            assert str(wanted.get(key, requirement).specifier) == str(requirement.specifier), \
                f"{key} has two different version specifiers in pyproject.toml"
            wanted[key] = requirement
    listed = requirement_map((REPO_ROOT / "requirements.txt").read_text().splitlines())
    assert set(listed) == set(wanted), (
        f"only in requirements.txt: {sorted(set(listed) - set(wanted))}; "
        f"only in pyproject.toml: {sorted(set(wanted) - set(listed))}")
    for name, requirement in listed.items():
        assert str(requirement.specifier) == str(wanted[name].specifier), name


def test_installed_metadata_is_the_pyproject_one(project):
    """The editable install of `make install` carries the extras and both scripts."""
    from importlib import metadata

    import course_lib
    dist = metadata.distribution("nnfs-course")
    assert dist.version == course_lib.__version__
    assert set(dist.metadata.get_all("Provides-Extra")) >= {"student", "instructor", "dev"}
    scripts = {ep.name for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"autograder", "nnfs-course"}


# ------------------------------------------------------------------ the wheel

def reference_line_pairs(source):
    """Consecutive non-blank lines (normalised) inside the solution blocks of the
    assignment's ``.py`` files."""
    pairs = set()
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for block in find_solution_blocks(lines, str(path)):
            inside = [normalize(line) for line in lines[block.begin + 1:block.end]]
            inside = [line for line in inside if line]
            pairs.update(zip(inside, inside[1:]))
    return pairs

def build_wheel(dest, *flags, env=None):
    """``pip wheel --no-deps .`` of the checkout into ``dest``; return the wheel's path."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *flags,
                           "-w", str(dest), str(REPO_ROOT)], capture_output=True, text=True,
                          env=env or os.environ, timeout=900)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    wheels = list(Path(dest).glob("nnfs_course-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def pure_wheel(tmp_path_factory):
    """The portable student wheel (no compiled extension). Built without build isolation
    so that this test needs no network; the files it selects are the same."""
    env = {**os.environ, "COURSE_LIB_NO_CYTHON": "1"}
    return build_wheel(tmp_path_factory.mktemp("wheel"), "--no-build-isolation", env=env)


def test_wheel_holds_the_library_and_the_grader_and_nothing_secret(pure_wheel):
    # the file name that the README and every release's README tell students to install
    assert pure_wheel.name == wheel_name() == "nnfs_course-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(pure_wheel) as wheel:
        names = wheel.namelist()
        contents = {name: wheel.read(name) for name in names}
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"course_lib", "autograder", "nnfs_course-0.1.0.dist-info"}
    for module in ("course_lib/__init__.py", "course_lib/student_setup.py",
                   "course_lib/testing.py", "course_lib/fast_layers.py", "course_lib/_im2col_cython.pyx",
                   "autograder/cli.py", "autograder/grading/submission.py", "autograder/release/pipeline.py",
                   "autograder/sandbox/runner.py", "autograder/gradescope/template/setup.sh"):
        assert module in names, module
    assert not [n for n in names if n.startswith("autograder/hidden")]
    hidden_files = {p.name for p in (REPO_ROOT / "autograder" / "hidden").rglob("*.py")}
    assert not hidden_files & {Path(n).name for n in names}
    assert not [n for n in names if n.endswith((".ipynb", ".pyc", ".so"))]
    # No hidden test file (by content), and no two consecutive lines of any reference
    # solution block (single lines such as `np.random.seed(seed)` are too generic to tell).
    digests = {hashlib.sha256(data).hexdigest() for data in contents.values()}
    shipped = set()
    for name, data in contents.items():
        if name.endswith(".py"):
            lines = [normalize(line) for line in data.decode().splitlines()]
            lines = [line for line in lines if line]
            shipped.update(zip(lines, lines[1:]))
    for source in sorted((REPO_ROOT / "assignments" / "source").iterdir()):
        secrets = collect_secrets(source, REPO_ROOT / "autograder" / "hidden" / source.name)
        assert secrets.hidden_digests, f"{source.name}: no hidden suite to look for"
        assert not digests & set(secrets.hidden_digests), source.name
        pairs = reference_line_pairs(source)
        assert pairs, f"{source.name}: no solution blocks to look for"
        assert not pairs & shipped, f"reference solution of {source.name} in the wheel"
    entry_points = contents["nnfs_course-0.1.0.dist-info/entry_points.txt"].decode()
    assert "nnfs-course = course_lib.student_setup:main" in entry_points
    metadata = contents["nnfs_course-0.1.0.dist-info/METADATA"].decode()
    assert 'Requires-Dist: nbgrader==0.9.6; extra == "student"' in metadata
    assert "Requires-Python: >=3.10" in metadata


# ------------------------------------------------------------------ a student's install

def pypi_reachable(tmp_path):
    """True if pip can download from the package index (one small sdist/wheel)."""
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                           "--no-cache-dir", "-d", str(tmp_path / "probe"), "tqdm"],
                          capture_output=True, text=True, timeout=120)
    return done.returncode == 0


_STATE = """
import json, os
from jupyter_core.paths import jupyter_path
from jupyter_server.serverapp import ServerApp
from jupyterlab.commands import get_app_dir
from jupyterlab_server.config import get_page_config
page = get_page_config(jupyter_path("labextensions"), os.path.join(get_app_dir(), "settings"))
disabled = page["disabledExtensions"]
if isinstance(disabled, dict):
    disabled = [name for name, value in disabled.items() if value]
app = ServerApp()
app.load_config_file()
app.find_server_extensions()
print(json.dumps({"lab_disabled": sorted(disabled),
                  "server": {k: bool(v) for k, v in app.jpserver_extensions.items()}}))
"""


@pytest.mark.slow
def test_one_command_student_install(pure_wheel, tmp_path, repo_root):
    """`pip install "<wheel>[student]"` in a fresh virtual environment brings JupyterLab,
    pytest and nbgrader; `python -m pytest` in an assignment folder uses them and finds
    course_lib; `nnfs-course student-setup` hides the instructor tools in that
    environment (where nbgrader enabled them)."""
    if not pypi_reachable(tmp_path):
        pytest.skip("PyPI is unreachable: the student install downloads JupyterLab, "
                    "nbgrader and pytest")
    venv = tmp_path / "student-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # As the README writes it, in the folder that holds the wheel.
    install = subprocess.run([str(python), "-m", "pip", "install", "-q",
                              f"{pure_wheel.name}[student]"], cwd=pure_wheel.parent,
                             capture_output=True, text=True, timeout=1500)
    assert install.returncode == 0, install.stdout + install.stderr
    for script in ("pytest", "jupyter-lab", "nbgrader", "nnfs-course", "autograder"):
        assert (venv / "bin" / script).is_file(), script

    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "NBGRADER"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               VIRTUAL_ENV=str(venv))

    # The reference version of assignment 0, outside the checkout: its public tests pass,
    # with the environment's pytest and the wheel's course_lib.
    folder = tmp_path / "assignment0"
    shutil.copytree(repo_root / "assignments" / "source" / "assignment0", folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    where = subprocess.run([str(python), "-c", "import course_lib, pytest; "
                            "print(course_lib.__file__); print(pytest.__file__)"],
                           cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(venv)) for line in where.stdout.split()), where.stdout
    tests = subprocess.run([str(python), "-m", "pytest"], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=600)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    done = subprocess.run([str(venv / "bin" / "nnfs-course"), "student-setup", "--exchange",
                           str(exchange), "--course", "nnfs"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    # The student owns this environment, so Jupyter prefers its config folder.
    assert (venv / "etc" / "jupyter" / "nbgrader_config.py").is_file()
    state = subprocess.run([str(python), "-c", _STATE], env=env, capture_output=True,
                           text=True, timeout=600)
    assert state.returncode == 0, state.stderr
    state = json.loads(state.stdout.strip().splitlines()[-1])
    assert {"@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
            "@jupyter/nbgrader:course-list"} <= set(state["lab_disabled"])
    assert "@jupyter/nbgrader:assignment-list" not in state["lab_disabled"]
    assert state["server"]["nbgrader.server_extensions.assignment_list"]
    assert not state["server"]["nbgrader.server_extensions.formgrader"]
    assert not state["server"]["nbgrader.server_extensions.course_list"]

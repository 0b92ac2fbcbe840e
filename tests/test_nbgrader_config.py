"""assignments/nbgrader_config.py: what it sets, and that it follows the source tree."""
import re
import shutil

import pytest
from traitlets.config import PyFileConfigLoader


def load(folder):
    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


@pytest.fixture
def config(repo_root, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXCHANGE", raising=False)
    monkeypatch.delenv("NBGRADER_COURSE_ID", raising=False)
    return load(repo_root / "assignments")


def test_course_root_and_laptop_exchange(config, repo_root):
    assert config.CourseDirectory.root == str(repo_root / "assignments")
    assert config.CourseDirectory.course_id == "nnfs"
    assert config.Exchange.root == str(repo_root / "assignments" / "exchange")


def test_environment_overrides(repo_root, monkeypatch, tmp_path):
    monkeypatch.setenv("NBGRADER_EXCHANGE", str(tmp_path / "exchange"))
    monkeypatch.setenv("NBGRADER_COURSE_ID", "cs-demo")
    config = load(repo_root / "assignments")
    assert config.Exchange.root == str(tmp_path / "exchange")
    assert config.CourseDirectory.course_id == "cs-demo"


def test_every_student_package_file_is_excluded_from_overwriting(config, repo_root):
    excluded = config.Autograde.exclude_overwriting
    source = repo_root / "assignments" / "source"
    assignments = sorted(p.name for p in source.iterdir() if (p / "nnfs").is_dir())
    assert "assignment0" in assignments and sorted(excluded) == assignments
    for name in assignments:
        package = sorted(p.relative_to(source / name).as_posix()
                         for p in (source / name / "nnfs").rglob("*.py"))
        assert set(package) <= set(excluded[name])
    assert excluded["assignment0"] == ["nnfs/__init__.py", "nnfs/warmup.py"]


def test_exclusions_follow_the_source_tree(repo_root, tmp_path):
    course = tmp_path / "assignments"
    shutil.copytree(repo_root / "assignments" / "source" / "assignment0",
                    course / "source" / "assignment9")
    shutil.copy(repo_root / "assignments" / "nbgrader_config.py", course)
    (course / "source" / "assignment9" / "nnfs" / "extra").mkdir()
    (course / "source" / "assignment9" / "nnfs" / "extra" / "helpers.py").write_text("X = 1\n")
    (course / "source" / "assignment9" / "nnfs" / "__pycache__").mkdir()
    (course / "source" / "assignment9" / "nnfs" / "__pycache__" / "w.cpython-311.pyc").write_bytes(b"")
    config = load(course)
    assert config.Autograde.exclude_overwriting == {
        "assignment9": ["nnfs/__init__.py", "nnfs/extra/helpers.py", "nnfs/warmup.py"]}
    assert config.CourseDirectory.root == str(course)


def test_submissions_must_contain_every_notebook(config):
    assert config.ExchangeSubmit.strict is True


def test_caches_never_copied(config):
    for pattern in ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", "*.so", "*.pyc"):
        assert pattern in config.CourseDirectory.ignore


def test_solution_markers_and_stub(config):
    assert config.ClearSolutions.begin_solution_delimeter == "### BEGIN SOLUTION"
    assert config.ClearSolutions.end_solution_delimeter == "### END SOLUTION"
    assert config.ClearSolutions.code_stub == {
        "python": "# YOUR CODE HERE\nraise NotImplementedError"}


@pytest.mark.parametrize("stderr, forgiven", [
    ("/home/s/nnfs/warmup.py:42: RuntimeWarning: overflow encountered in exp\n"
     "  exp_scores = np.exp(scores)\n", True),
    ("<ipython-input-3>:1: numpy.exceptions.ComplexWarning: Casting discards\n", True),
    ("/x.py:7: DeprecationWarning: use something else\n", True),
    ("Traceback (most recent call last):\nValueError: bad\n", False),
    ("my debug print on stderr\n", False),
])
def test_ignore_pattern_matches_warnings_only(config, stderr, forgiven):
    assert config.IgnorePattern.enabled is True
    assert bool(re.search(config.IgnorePattern.pattern, stderr)) is forgiven


def test_autograde_restores_the_exported_scores_first(config):
    from nbgrader.converters.autograde import Autograde
    steps = config.Autograde.sanitize_preprocessors
    assert steps == ["autograder.exporters.gradebook.RestoreAutograderScores",
                     *Autograde.class_traits()["sanitize_preprocessors"].default()]
    assert "autograder.grading.kernelspec.SandboxedExecute" in config.Autograde.autograde_preprocessors


@pytest.mark.parametrize("full, fast", [(None, "1"), ("1", "0"), ("0", "1")])
def test_autograde_runs_notebooks_in_fast_mode_unless_full_size_is_asked(repo_root, monkeypatch,
                                                                         full, fast):
    monkeypatch.setenv("COURSE_FAST", "0")  # the instructor's shell does not decide
    if full is None:
        monkeypatch.delenv("AUTOGRADE_FULL", raising=False)
    else:
        monkeypatch.setenv("AUTOGRADE_FULL", full)
    assert load(repo_root / "assignments").SandboxedExecute.kernel_env == {"COURSE_FAST": fast}

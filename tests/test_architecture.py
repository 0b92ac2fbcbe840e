"""docs/ARCHITECTURE.md stays true: its module map names every module, and only real ones.

Modules are the ``.py`` files under ``autograder/`` and ``course_lib/``, package
``__init__.py`` files included; hidden suites (``autograder/hidden/``) are test data, not
modules, and are left out. The page must name each module by its path from the repository
root (``autograder/sandbox/process.py``), and every such path it names must exist.
"""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
PACKAGES = ("autograder", "course_lib")
EXCLUDED = ("autograder/hidden/",)

# a module path as the page writes it: a package root, folders, a .py file name
MODULE_PATH = re.compile(r"(?<![\w/.])(?:autograder|course_lib)/(?:[A-Za-z0-9_]+/)*"
                         r"[A-Za-z0-9_]+\.py(?![\w])")


def python_modules(root=REPO):
    """Paths (posix, relative to ``root``) of every module the page must name."""
    modules = set()
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            relative = path.relative_to(root).as_posix()
            if "__pycache__" in relative or relative.startswith(EXCLUDED):
                continue
            modules.add(relative)
    return sorted(modules)


def named_module_paths(text):
    """Every module path ``text`` names."""
    return sorted(set(MODULE_PATH.findall(text)))


def missing_from_page(modules, text):
    named = set(named_module_paths(text))
    return [module for module in modules if module not in named]


def not_existing(text, root=REPO):
    return [path for path in named_module_paths(text) if not (root / path).is_file()]


def test_every_module_is_in_the_architecture_page():
    modules = python_modules()
    assert "autograder/grading/submission.py" in modules and "course_lib/solver.py" in modules
    missing = missing_from_page(modules, ARCHITECTURE.read_text(encoding="utf-8"))
    assert not missing, ("docs/ARCHITECTURE.md's module map lacks these modules; add each, "
                         f"with one line on what it does: {missing}")


def test_every_module_path_in_the_architecture_page_exists():
    gone = not_existing(ARCHITECTURE.read_text(encoding="utf-8"))
    assert not gone, f"docs/ARCHITECTURE.md names modules that do not exist: {gone}"


def test_the_checks_catch_planted_cases(tmp_path):
    (tmp_path / "autograder" / "sandbox").mkdir(parents=True)
    (tmp_path / "autograder" / "hidden" / "a0").mkdir(parents=True)
    (tmp_path / "course_lib").mkdir()
    for name in ("autograder/__init__.py", "autograder/sandbox/process.py",
                 "autograder/hidden/a0/test_x.py", "course_lib/solver.py",
                 "course_lib/new_module.py"):
        (tmp_path / name).write_text("", encoding="utf-8")
    page = ("| `autograder/__init__.py` | ... |\n| `autograder/sandbox/process.py` | ... |\n"
            "`course_lib/solver.py`; `autograder/hidden/<assignment>/test_*.py` is data;\n"
            "see `autograder/gone.py` and autograder/sandbox/old.py.\n")
    modules = python_modules(tmp_path)
    assert "autograder/hidden/a0/test_x.py" not in modules
    assert missing_from_page(modules, page) == ["course_lib/new_module.py"]
    assert not_existing(page, tmp_path) == ["autograder/gone.py", "autograder/sandbox/old.py"]
    assert named_module_paths("tests/autograder/x.py, my_autograder/y.py") == []


def test_the_result_schema_section_is_the_generated_one():
    from autograder.result import schema_markdown
    page = ARCHITECTURE.read_text(encoding="utf-8")
    begin, end = "<!-- result-schema:begin -->\n", "<!-- result-schema:end -->"
    assert begin in page and end in page, "docs/ARCHITECTURE.md lost its result-schema markers"
    block = page[page.index(begin) + len(begin):page.index(end)]
    assert block == schema_markdown() + "\n", (
        "docs/ARCHITECTURE.md's result schema differs from the code: run "
        "`python -m autograder.result --schema` and paste its output between the markers")


def test_the_schema_describes_exactly_the_keys_of_the_typed_result():
    from autograder.result import FIELDS, NotebookCheck, Result, TestOutcome
    keys = [*Result.__annotations__, *(f"tests[].{key}" for key in TestOutcome.__annotations__),
            *(f"notebooks[].{key}" for key in NotebookCheck.__annotations__)]
    assert sorted(keys) == sorted(FIELDS), "autograder.result: FIELDS and the TypedDicts name different keys"


def test_a_graded_result_has_only_keys_the_schema_names(tmp_path):
    """A toy course graded by `autograder grade`'s own path (late, with a penalty, signed)."""
    from autograder.course import Course
    from autograder.grading.batch import grade_submissions
    from autograder.result import NotebookCheck, Result, TestOutcome
    from tests.support.toy_course import TOY_HIDDEN_TESTS, TOY_PUBLIC_TESTS, TOY_SOLUTION, make_toy_course

    root, submission = make_toy_course(tmp_path, "toy", TOY_SOLUTION, TOY_PUBLIC_TESTS, TOY_HIDDEN_TESTS)
    (submission / "timestamp.txt").write_text("2026-12-02 10:00:00.000000 UTC")
    [result] = grade_submissions(Course(root), "toy", [submission], hidden=True, workers=1,
                                 out=tmp_path / "out", progress=False, timeout=10,
                                 due="2026-12-01 23:59:00 UTC", late_penalty="zero")
    assert result["late_penalty"] > 0 and result["signature"] and result["tests"]
    assert set(result) <= set(Result.__annotations__)
    for test in result["tests"]:
        assert set(test) == set(TestOutcome.__annotations__)
    for finding in result["notebooks"]:
        assert set(finding) == set(NotebookCheck.__annotations__)

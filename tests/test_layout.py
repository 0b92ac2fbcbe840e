"""The layout of the project's own tests: helpers live in tests/support/, which pytest does
not collect, and no test module imports another one (issue #13)."""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
WHERE_HELPERS_GO = ("put helpers shared by test modules in tests/support/<what_they_hold>.py "
                    "and import them from tests.support")


def _test_module_imported(node):
    """The test module that the import statement ``node`` imports, or None."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.module is None:
            return None
        names = [node.module]
        if node.module == "tests":
            names += [f"tests.{alias.name}" for alias in node.names]
    else:
        return None
    for name in names:
        parts = name.split(".")
        if parts[0] == "tests" and len(parts) > 1 and parts[1].startswith("test_"):
            return name
        if parts[0].startswith("test_") and (TESTS / f"{parts[0]}.py").is_file():
            return name     # a sibling module put on sys.path by hand
    return None


def test_no_test_module_imports_another():
    found = []
    for path in sorted(TESTS.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            imported = _test_module_imported(node)
            if imported is not None:
                found.append(f"{path.name}:{node.lineno} imports {imported}")
    assert not found, "test modules import other test modules; " + WHERE_HELPERS_GO + ":\n" \
        + "\n".join(found)


def test_no_helper_module_is_named_like_a_test_module():
    found = sorted(path.relative_to(TESTS).as_posix() for path in TESTS.rglob("test_*_support.py"))
    assert not found, f"pytest collects these helper modules as tests; {WHERE_HELPERS_GO}: {found}"

"""Degenerate submissions of an assignment, made from its reference package.

A degenerate submission answers every student function with something of the right
shape and type that is not computed from the problem: all zeros, random values, or the
call's own inputs (see :mod:`tests.degenerate.runtime`). The hidden suite must give such
a submission (almost) nothing, which shows that its tests compare with the reference or
with known values and never only with the student's own output.

"Student functions" are the functions and methods whose body holds a ``### BEGIN
SOLUTION`` marker, in every ``.py`` file of the assignment's package. Each gets a
decorator line; nothing else in the package changes, so imports, classes and the given
(non-student) code behave as in the reference.

Usage, for any assignment (``source`` is ``assignments/source/<assignment>``)::

    from tests.degenerate.generator import make_degenerate_submissions
    folders = make_degenerate_submissions(source, tmp_path)   # {"zeros": Path, ...}
"""
import ast
import shutil
from pathlib import Path

from tests.degenerate import runtime

VARIANTS = runtime.VARIANTS
MARKER = "### BEGIN SOLUTION"
RUNTIME_MODULE = "_degenerate"
_IGNORED = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", ".pytest_cache")


def student_package(source):
    """The name of the assignment's student package (the folder holding solution markers)."""
    source = Path(source)
    for folder in sorted(p for p in source.iterdir() if (p / "__init__.py").is_file()):
        if any(MARKER in path.read_text(encoding="utf-8") for path in folder.rglob("*.py")):
            return folder.name
    raise ValueError(f"{source} has no package with {MARKER!r} markers")


def student_functions(source_text):
    """The student functions of one module: ``[(def node, is_method), ...]``.

    A function is a student function when a solution marker lies inside it; for nested
    functions, the outermost one counts.
    """
    lines = source_text.splitlines()
    marked = [number for number, line in enumerate(lines, start=1) if MARKER in line]
    found = []

    def visit(node, in_class):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(child.lineno <= number <= child.end_lineno for number in marked):
                    static = any(isinstance(d, ast.Name) and d.id == "staticmethod"
                                 for d in child.decorator_list)
                    found.append((child, in_class and not static))
                    continue        # nested functions go with their outer function
                visit(child, False)
            elif isinstance(child, ast.ClassDef):
                visit(child, True)
            else:
                visit(child, in_class)

    visit(ast.parse(source_text), False)
    return found


def degenerate_source(source_text, package, variant):
    """``source_text`` with every student function decorated to answer as ``variant``."""
    lines = source_text.splitlines(keepends=True)
    functions = student_functions(source_text)
    for node, is_method in sorted(functions, key=lambda item: -item[0].lineno):
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        indent = " " * node.col_offset
        decorator = (f'{indent}@__import__("{package}.{RUNTIME_MODULE}", fromlist=["_"])'
                     f'.degenerate({variant!r}, method={is_method})\n')
        lines.insert(first - 1, decorator)
    return "".join(lines), len(functions)


def make_degenerate_submission(source, target, variant):
    """Copy the assignment folder ``source`` to ``target`` and make it ``variant``.

    Returns
    -------
    int
        How many student functions were made degenerate.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    source, target = Path(source), Path(target)
    package = student_package(source)
    shutil.copytree(source, target, ignore=_IGNORED)
    count = 0
    for path in sorted((target / package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if MARKER not in text:
            continue
        changed, found = degenerate_source(text, package, variant)
        path.write_text(changed, encoding="utf-8")
        count += found
    shutil.copy(runtime.__file__, target / package / f"{RUNTIME_MODULE}.py")
    return count


def make_degenerate_submissions(source, root, variants=VARIANTS):
    """One degenerate submission per variant: ``{variant: folder}``.

    Each is ``root/<variant>/<assignment>`` (the assignment folder's name kept, as in
    nbgrader's ``submitted/<student>/<assignment>/``).
    """
    source = Path(source)
    folders = {}
    for variant in variants:
        folder = Path(root) / variant / source.name
        if make_degenerate_submission(source, folder, variant) == 0:
            raise ValueError(f"{source} has no student functions to make degenerate")
        folders[variant] = folder
    return folders

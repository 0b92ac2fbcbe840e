"""Check that a student release holds nothing the students must not see.

A *secret* is a line that the instructor's material has and the public material has not:

* a line inside a solution block (``.py`` files and notebook cells) or of a solution cell
  without markers (e.g. the model answer of an inline question);
* a line of the assignment's hidden test suite;
* a line of a cell output saved in a source notebook (the reference output).

The public material is everything else in the assignment's source folder: code and text
outside solution blocks. Lines that appear in both are not secrets (an ``import numpy as
np`` in a hidden test gives nothing away), nor are short lines (``return loss``), which
carry no solution. Lines are compared with their whitespace collapsed.

:func:`check_release` then reports every secret line found in the release, hidden test
files found by name or content, saved outputs, leftover solution markers and caches.
"""
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.release.stripping import BEGIN_SOLUTION, END_SOLUTION, public_lines, solution_lines

MIN_SECRET_LENGTH = 12
"""Shorter lines (whitespace collapsed) are too generic to count as a leak."""

FORBIDDEN_NAMES = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache",
                   ".ruff_cache")
FORBIDDEN_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd")
TEXT_SUFFIXES = {".py", ".ipynb", ".md", ".txt", ".ini", ".cfg", ".toml", ".json", ".yml",
                 ".yaml", ".csv", ".rst", ".html", ".sh", ""}


@dataclass(frozen=True)
class Leak:
    """One finding of the leak check.

    Attributes
    ----------
    path : str
        The file in the release, relative to the release folder.
    line : int or None
        1-based line (in a notebook: line within the cell), when the finding has one.
    kind : str
        ``"solution"``, ``"hidden test"``, ``"reference output"``, ``"notebook output"``,
        ``"solution marker"`` or ``"cache"``.
    origin : str
        Where the secret comes from, or what is wrong.
    """

    path: str
    line: object
    kind: str
    origin: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.kind} ({self.origin})"


def normalize(line: str) -> str:
    """Collapse whitespace so that re-indented copies of a line still match."""
    return " ".join(line.split())


def _is_significant(line: str) -> bool:
    return len(line) >= MIN_SECRET_LENGTH and re.search(r"[A-Za-z0-9]", line) is not None


def _output_text(output: dict[str, Any]) -> str:
    """The human-readable text of one notebook output, as one string."""
    if output.get("output_type") == "stream":
        return _joined(output.get("text", ""))
    if output.get("output_type") == "error":
        return _joined(output.get("evalue", ""))
    data = output.get("data", {})
    return "\n".join(_joined(data.get(kind, ""))
                     for kind in ("text/plain", "text/markdown", "text/latex", "text/html"))


def _joined(source: object) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def notebook_parts(path: Path) -> tuple[list[str], list[str], list[str]]:
    """Split a source notebook into public lines, solution lines and output lines.

    Returns
    -------
    public, solutions, outputs : list of str
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    public, solutions, outputs = [], [], []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        source = _joined(cell.get("source", ""))
        where = f"{path.name} cell {number}"
        inside = solution_lines(source, where)
        if inside or BEGIN_SOLUTION in source:
            solutions.extend(inside)
            public.extend(public_lines(source, where))
        elif cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            solutions.extend(source.splitlines())
        else:
            public.extend(source.splitlines())
        for output in cell.get("outputs", []):
            outputs.extend(_output_text(output).splitlines())
    return public, solutions, outputs


@dataclass
class Secrets:
    """What must not reach a release of one assignment.

    Attributes
    ----------
    lines : dict
        Normalised secret line -> (kind, origin).
    hidden_files : dict
        File name -> origin, for every file of the hidden suite.
    hidden_digests : dict
        sha256 of a hidden file's bytes -> origin.
    """

    lines: dict[str, tuple[str, str]]
    hidden_files: dict[str, str]
    hidden_digests: dict[str, str]


def _source_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not set(p.relative_to(folder).parts) & set(FORBIDDEN_NAMES)
                  and p.suffix not in FORBIDDEN_SUFFIXES)


def collect_secrets(source_dir: str | os.PathLike[str], hidden_dir: str | os.PathLike[str]) -> Secrets:
    """Gather the secrets of an assignment.

    Parameters
    ----------
    source_dir : Path
        ``assignments/source/<assignment>``.
    hidden_dir : Path
        ``autograder/hidden/<assignment>`` (may not exist).

    Returns
    -------
    Secrets
    """
    source_dir, hidden_dir = Path(source_dir), Path(hidden_dir)
    public: set[str] = set()
    candidates: list[tuple[str, str, str]] = []  # (line, kind, origin)
    for path in _source_files(source_dir):
        relative = path.relative_to(source_dir).as_posix()
        if path.suffix == ".ipynb":
            file_public, solutions, outputs = notebook_parts(path)
        elif path.suffix in TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8", errors="replace")
            file_public, outputs = public_lines(text, relative), []
            solutions = solution_lines(text, relative)
        else:
            continue
        public.update(map(normalize, file_public))
        candidates += [(line, "solution", f"solution in source/{relative}") for line in solutions]
        candidates += [(line, "reference output", f"output saved in source/{relative}")
                       for line in outputs]
    public_names = {p.name for p in _source_files(source_dir)}
    hidden_files, hidden_digests = {}, {}
    for path in _source_files(hidden_dir):      # none when there is no hidden suite
        origin = f"hidden suite file {path.relative_to(hidden_dir.parent).as_posix()}"
        if path.name not in public_names:
            hidden_files[path.name] = origin
        hidden_digests[hashlib.sha256(path.read_bytes()).hexdigest()] = origin
        text = path.read_text(encoding="utf-8", errors="replace")
        candidates += [(line, "hidden test", origin) for line in text.splitlines()]
    lines: dict[str, tuple[str, str]] = {}
    for line, kind, origin in candidates:
        key = normalize(line)
        if _is_significant(key) and key not in public and key not in lines:
            lines[key] = (kind, origin)
    return Secrets(lines, hidden_files, hidden_digests)


def _release_text_lines(path: Path) -> Iterator[tuple[int | str, str, bool]]:
    """Yield (line number, line, is_output) for the readable text of a released file."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for number, cell in enumerate(nb.get("cells", []), start=1):
            for index, line in enumerate(_joined(cell.get("source", "")).splitlines(), 1):
                yield f"cell {number} line {index}", line, False
            for output in cell.get("outputs", []):
                for line in _output_text(output).splitlines():
                    yield f"cell {number} output", line, True
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            yield number, line, False


def check_release(release_dir: str | os.PathLike[str], secrets: Secrets) -> list[Leak]:
    """Every leak in ``release_dir``; an empty list means the release is clean.

    Parameters
    ----------
    release_dir : Path
        ``assignments/release/<assignment>``.
    secrets : Secrets
        From :func:`collect_secrets`.

    Returns
    -------
    list of Leak
    """
    release_dir = Path(release_dir)
    leaks: list[Leak] = []
    for path in sorted(release_dir.rglob("*")):
        relative = path.relative_to(release_dir).as_posix()
        if path.name in FORBIDDEN_NAMES or path.suffix in FORBIDDEN_SUFFIXES:
            leaks.append(Leak(relative, None, "cache", "caches and compiled files never ship"))
            continue
        if not path.is_file() or set(path.relative_to(release_dir).parts) & set(FORBIDDEN_NAMES):
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in secrets.hidden_digests:
            leaks.append(Leak(relative, None, "hidden test",
                              f"a copy of {secrets.hidden_digests[digest]}"))
            continue
        if path.name in secrets.hidden_files:
            leaks.append(Leak(relative, None, "hidden test",
                              f"same name as {secrets.hidden_files[path.name]}"))
        if path.suffix not in TEXT_SUFFIXES:
            continue
        try:
            lines = list(_release_text_lines(path))
        except (ValueError, UnicodeDecodeError) as exc:
            leaks.append(Leak(relative, None, "notebook output",
                              f"the released notebook cannot be read ({exc})"))
            continue
        if any(is_output for _, _, is_output in lines):
            leaks.append(Leak(relative, None, "notebook output",
                              "the released notebook has saved outputs"))
        for number, line, _ in lines:
            key = normalize(line)
            if key.startswith((BEGIN_SOLUTION, END_SOLUTION)):
                leaks.append(Leak(relative, number, "solution marker",
                                  "a solution block was not stripped"))
            elif key in secrets.lines:
                kind, origin = secrets.lines[key]
                leaks.append(Leak(relative, number, kind, origin))
    return leaks

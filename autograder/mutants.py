"""Mutants: realistic student bugs (and correct variants) as text patches of an assignment.

One format serves the demo's ``buggy`` submission (``autograder/hidden/<assignment>/mutants.json``,
beside the hidden suite, never released) and the project's mutant tests (``tests/mutants/``),
which also say which hidden tests each bug must fail and which variants must pass.
"""
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.course import Course


@dataclass(frozen=True)
class Mutant:
    """One text patch of an assignment folder.

    Attributes
    ----------
    name : str
    file : str
        The patched file, relative to the assignment folder (``"nnfs/layers.py"``).
    find, replace : str
        ``find`` must occur exactly once in ``file``; it becomes ``replace``.
    must_fail : tuple of str
        Hidden test names (optionally with a ``[parameter]`` id) the patched code must fail;
        for a correct variant, the only tests it may fail (usually none).
    correct : bool
        A correct variant (written differently, not wrong) rather than a bug.
    description : str
        What the bug is, in words an instructor reads in the demo.
    """

    name: str
    file: str
    find: str
    replace: str
    must_fail: tuple[str, ...] = ()
    correct: bool = False
    description: str = ""


def load_mutants(course: Course, assignment: str) -> list[Mutant]:
    """The mutants of ``assignment`` listed in its ``mutants.json`` (none if it has none)."""
    path = course.hidden_tests(assignment) / "mutants.json"
    if not path.exists():
        return []
    return [Mutant(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]


def apply_mutant(folder: str | Path, mutant: Mutant) -> None:
    """Patch the assignment copy in ``folder`` in place.

    Raises ValueError when ``mutant.find`` does not occur exactly once (the source changed
    since the mutant was written: update the mutant).
    """
    target = Path(folder) / mutant.file
    text = target.read_text(encoding="utf-8")
    if text.count(mutant.find) != 1:
        raise ValueError(f"mutant {mutant.name!r}: its text to replace occurs {text.count(mutant.find)} "
                         f"times in {mutant.file}, expected once")
    target.write_text(text.replace(mutant.find, mutant.replace), encoding="utf-8")

"""Where a course's files live: the nbgrader root, assignment sources and hidden suites."""
import os
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import UserError

PACKAGE_ROOT = Path(__file__).resolve().parent


class CourseNotFound(Exception):
    """No course checkout could be found."""


class UnknownAssignment(UserError, ValueError):
    """No source folder for the assignment: a one-line error for the CLI, and a ValueError
    for callers that catch that."""


@dataclass(frozen=True)
class Course:
    """A course checkout.

    Attributes
    ----------
    root : Path
        The checkout (holds ``assignments/`` and ``autograder/hidden/``).
    """

    root: Path

    @property
    def nbgrader_root(self) -> Path:
        """The nbgrader course directory (``assignments/``)."""
        return self.root / "assignments"

    @property
    def source_dir(self) -> Path:
        return self.nbgrader_root / "source"

    @property
    def release_dir(self) -> Path:
        return self.nbgrader_root / "release"

    @property
    def hidden_root(self) -> Path:
        return self.root / "autograder" / "hidden"

    def assignments(self) -> list[str]:
        """Names of the assignments that have a source folder, sorted."""
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir()
                      if p.is_dir() and not p.name.startswith((".", "_")))

    def source(self, assignment: str) -> Path:
        """The instructor's folder for ``assignment``; raises :class:`UnknownAssignment` (a
        ValueError) if it does not exist."""
        path = self.source_dir / assignment
        if not path.is_dir():
            known = ", ".join(self.assignments()) or "none"
            raise UnknownAssignment(f"unknown assignment {assignment!r}: no folder {path} "
                                    f"(assignments in this course: {known})")
        return path

    def public_tests(self, assignment: str) -> Path:
        """The instructor's copy of the public tests of ``assignment``."""
        return self.source(assignment) / "tests"

    def hidden_tests(self, assignment: str) -> Path:
        """The hidden suite of ``assignment`` (may not exist)."""
        return self.hidden_root / assignment


def _looks_like_course(path: Path) -> bool:
    return (path / "assignments" / "source").is_dir()


def find_course(start: str | os.PathLike[str] | None = None) -> Course:
    """Locate the course checkout.

    Order: ``$COURSE_ROOT``; ``start`` (default: the current directory) and its parents;
    the checkout this package was imported from.
    """
    env = os.environ.get("COURSE_ROOT")
    if env:
        root = Path(env).expanduser().resolve()
        if not _looks_like_course(root):
            raise CourseNotFound(f"COURSE_ROOT={env} has no assignments/source folder")
        return Course(root)
    here = Path(start or os.getcwd()).resolve()
    for candidate in (here, *here.parents, PACKAGE_ROOT.parent):
        if _looks_like_course(candidate):
            return Course(candidate)
    raise CourseNotFound("no course found: run inside a course checkout (a folder with "
                         "assignments/source/) or set COURSE_ROOT")

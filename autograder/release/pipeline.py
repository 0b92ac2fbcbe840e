"""``autograder release``: the student version of an assignment, checked for leaks.

Steps, for ``assignments/source/<assignment>``:

1. check that the solution markers of every ``.py`` file pair up (errors name file:line);
2. ``nbgrader generate_assignment`` (the real command, in the course root): notebooks get
   their solutions replaced by stubs, their outputs cleared, their grade cells locked and
   checksummed, and the assignment is registered in the gradebook;
3. strip the solution blocks of every ``.py`` file in the release, which nbgrader copies
   verbatim (nbgrader issue #1237), and complete the README with the students' set-up,
   test and submit instructions (:mod:`autograder.release.student_readme`);
4. the leak check (:mod:`autograder.release.leakcheck`). A release with a leak is discarded and
   the command fails, naming each leaked line and where it came from.

Steps 2-4 build the release in a temporary folder of the course root; only when all of
them succeeded does it replace ``assignments/release/<assignment>``, so a failure (nbgrader
refusing, a leak) leaves the live release as it was. An existing release is replaced only
with ``force``; an assignment that already has submissions (in the gradebook or in
``submitted/``) is released again only with ``force``, and not at all while the gradebook
holds the autograder's scores of it (nbgrader would refuse: see
:mod:`autograder.exporters.gradebook`).

The result, ``assignments/release/<assignment>``, is what ``nbgrader release_assignment``
puts into the exchange.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.course import Course
from autograder.errors import UserError
from autograder.files import make_alembic_findable, scripts_first_on_path
from autograder.release.leakcheck import check_release, collect_secrets
from autograder.release.stripping import check_markers, strip_tree
from autograder.release.student_readme import complete_readme


class ReleaseError(UserError):
    """The release could not be made, or it leaked and was discarded."""


def nbgrader_environment() -> dict[str, str]:
    """``os.environ`` with this interpreter's scripts first on PATH (nbgrader runs
    ``alembic`` by name) and no ``__pycache__`` written (source trees stay clean)."""
    return {**os.environ, "PATH": scripts_first_on_path(os.environ.get("PATH")),
            "PYTHONDONTWRITEBYTECODE": "1"}


def _nbgrader(course: Course, *args: str) -> None:
    """Run an nbgrader command in the course root.

    Raises
    ------
    ReleaseError
        nbgrader exited non-zero (its log is in the message).
    """
    command = [sys.executable, "-m", "nbgrader", *args,
               f"--CourseDirectory.root={course.nbgrader_root}"]
    done = subprocess.run(command, cwd=course.nbgrader_root, capture_output=True, text=True,
                          env=nbgrader_environment())
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise ReleaseError(f"nbgrader {args[0]} failed (exit {done.returncode}):\n{tail}")


def existing_submissions(course: Course, assignment: str) -> tuple[list[str], bool]:
    """Who already handed ``assignment`` in, and whether the autograder's scores are in the
    gradebook.

    Returns
    -------
    students : list of str
        Students with a folder in ``submitted/`` or a submission in the gradebook.
    autograder_scores : bool
        The gradebook holds the autograder's notebook for ``assignment``.
    """
    from autograder.exporters.gradebook import AUTOGRADER_NOTEBOOK, gradebook_settings

    students: set[str] = set()
    submitted = course.nbgrader_root / "submitted"
    if submitted.is_dir():
        students.update(p.name for p in submitted.iterdir() if (p / assignment).is_dir())
    settings = gradebook_settings(course)
    prefix = "sqlite:///"
    if settings.db_url.startswith(prefix) and not Path(settings.db_url[len(prefix):]).is_file():
        return sorted(students), False  # no gradebook yet (and none is created here)
    from nbgrader.api import Gradebook, MissingEntry
    make_alembic_findable()
    with Gradebook(settings.db_url, course_id=settings.course_id) as gradebook:
        try:
            record = gradebook.find_assignment(assignment)
        except MissingEntry:
            return sorted(students), False
        students.update(submission.student.id for submission in record.submissions)
        scores = any(notebook.name == AUTOGRADER_NOTEBOOK for notebook in record.notebooks)
    return sorted(students), scores


def _check_replaceable(course: Course, assignment: str, release: Path, force: bool) -> None:
    """Refuse, before anything changes, a release that would replace live work."""
    students, autograder_scores = existing_submissions(course, assignment)
    listed = ", ".join(students[:5]) + (", ..." if len(students) > 5 else "")
    if students and autograder_scores:
        raise ReleaseError(
            f"{assignment} has submissions ({len(students)}: {listed}) and the gradebook holds "
            f"the autograder's scores of it, so nbgrader would refuse to generate it again. "
            f"To release it again: `autograder export gradebook {assignment} --remove`, then "
            f"`autograder release {assignment} --force`, then export the scores again "
            f"(`autograder export gradebook {assignment} --results DIR`). Nothing was changed.")
    if students and not force:
        raise ReleaseError(
            f"{assignment} already has submissions ({len(students)}: {listed}). Releasing it "
            "again changes the cells nbgrader grades them with, while students keep the "
            "release they fetched. If that is what you want (e.g. to fix a test cell), pass "
            "--force: the current release is replaced only once the new one is built and "
            "passes the leak check, and no submission or grade is deleted. Nothing was changed.")
    if release.exists() and not force:
        raise ReleaseError(f"{release} already exists; pass --force to replace it (the new "
                           "release replaces it only once it is built and leak-free)")


def release_assignment(course: Course, assignment: str, force: bool = False) -> Path:
    """Generate, strip and leak-check the student release of ``assignment``.

    The release is built in a temporary folder of the course root and replaces
    ``assignments/release/<assignment>`` only when every step succeeded.

    Parameters
    ----------
    course : autograder.course.Course
    assignment : str
        Name of a folder in ``assignments/source``.
    force : bool
        Replace an existing release, also of an assignment that has submissions
        (otherwise either is an error).

    Returns
    -------
    Path
        ``assignments/release/<assignment>``.

    Raises
    ------
    ReleaseError
        Bad solution markers, a release or submissions exist (without ``force``), the
        gradebook holds the autograder's scores of an assignment with submissions, nbgrader
        failed, or the leak check found something. The live release is left as it was.
    autograder.course.UnknownAssignment
        No folder ``assignments/source/<assignment>`` (a UserError too).
    """
    source = course.source(assignment)      # an unknown assignment is a UserError
    for path in sorted(source.rglob("*.py")):
        if "__pycache__" not in path.parts:
            check_markers(path)

    release = course.release_dir / assignment
    _check_replaceable(course, assignment, release, force)
    build_root = Path(tempfile.mkdtemp(prefix=".release-build-", dir=course.nbgrader_root))
    try:
        _nbgrader(course, "generate_assignment", assignment, "--force",
                  f"--CourseDirectory.release_directory={build_root.name}")
        built = build_root / assignment
        if not built.is_dir():
            raise ReleaseError(f"nbgrader generate_assignment did not create {built}")
        strip_tree(built)
        complete_readme(built, assignment)
        leaks = check_release(built, collect_secrets(source, course.hidden_tests(assignment)))
        if leaks:
            listing = "\n".join(f"  {leak}" for leak in leaks)
            kept = (f"the release in {release} is unchanged" if release.exists()
                    else "no release was written")
            raise ReleaseError(f"release of {assignment} LEAKS and was discarded ({kept}; "
                               f"{len(leaks)} finding(s)):\n{listing}")
        _swap_in(built, release, build_root / "previous")
    finally:
        shutil.rmtree(build_root, ignore_errors=True)
    return release


def _swap_in(built: Path, release: Path, parking: Path) -> None:
    """Put ``built`` at ``release``, moving an existing release aside first (renames only,
    within the course root)."""
    release.parent.mkdir(parents=True, exist_ok=True)
    if release.exists():
        os.replace(release, parking)
    try:
        os.replace(built, release)
    except OSError:
        if parking.exists():
            os.replace(parking, release)
        raise


def add_cli(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "release", help="make the student version of an assignment (nbgrader "
                        "generate_assignment + .py solution stripping + leak check)")
    parser.add_argument("assignment", nargs="*", metavar="ASSIGNMENT",
                        help="assignment folder name(s) in assignments/source")
    parser.add_argument("--all", action="store_true", help="release every assignment")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing release, also of an assignment that has "
                             "submissions (the live release is replaced only once the new "
                             "one is built and leak-free)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace, course: Course) -> int:
    names = course.assignments() if args.all else args.assignment
    if not names:
        raise UserError("name an assignment to release (one of: "
                        f"{', '.join(course.assignments()) or 'none found'}) or pass --all")
    for name in names:
        release = release_assignment(course, name, force=args.force)
        print(f"released {name} -> {release} (solutions stripped, leak check clean)")
    return 0

"""``autograder release``: the student version of an assignment, checked for leaks.

Steps, for ``assignments/source/<assignment>``:

1. check that the solution markers of every ``.py`` file pair up (errors name file:line);
2. ``nbgrader generate_assignment`` (the real command, in the course root): notebooks get
   their solutions replaced by stubs, their outputs cleared, their grade cells locked and
   checksummed, and the assignment is registered in the gradebook;
3. strip the solution blocks of every ``.py`` file in the release, which nbgrader copies
   verbatim (nbgrader issue #1237);
4. the leak check (:mod:`autograder.leakcheck`). A release with a leak is deleted and the
   command fails, naming each leaked line and where it came from.

The result, ``assignments/release/<assignment>``, is what ``nbgrader release_assignment``
puts into the exchange.
"""
import os
import shutil
import subprocess
import sys

from autograder.errors import UserError
from autograder.leakcheck import check_release, collect_secrets
from autograder.stripping import check_markers, strip_tree


class ReleaseError(UserError):
    """The release could not be made, or leaked and was deleted."""


def nbgrader_environment():
    """``os.environ`` with this interpreter's scripts first on PATH.

    nbgrader runs the ``alembic`` script by name to open the gradebook, so it fails
    unless the virtual environment's ``bin`` folder is on PATH (e.g. when the
    environment was not activated). Writing no ``__pycache__`` keeps source trees clean.
    """
    scripts = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    return {**os.environ, "PATH": f"{scripts}{os.pathsep}{path}" if path else scripts,
            "PYTHONDONTWRITEBYTECODE": "1"}


def _nbgrader(course, *args):
    """Run an nbgrader command in the course root; return its combined output.

    Raises
    ------
    ReleaseError
        nbgrader exited non-zero (its log is in the message).
    """
    command = [sys.executable, "-m", "nbgrader", *args,
               f"--CourseDirectory.root={course.nbgrader_root}"]
    done = subprocess.run(command, cwd=course.nbgrader_root, capture_output=True, text=True,
                          env=nbgrader_environment())
    log = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = "\n".join(log.splitlines()[-30:])
        raise ReleaseError(f"nbgrader {args[0]} failed (exit {done.returncode}):\n{tail}")
    return log


def release_assignment(course, assignment, force=False):
    """Generate, strip and leak-check the student release of ``assignment``.

    Parameters
    ----------
    course : autograder.course.Course
    assignment : str
        Name of a folder in ``assignments/source``.
    force : bool
        Replace an existing release (otherwise an existing release is an error).

    Returns
    -------
    Path
        ``assignments/release/<assignment>``.

    Raises
    ------
    ReleaseError
        Bad solution markers, nbgrader failed, or the leak check found something (the
        release folder is removed).
    """
    try:
        source = course.source(assignment)
    except ValueError as exc:
        raise ReleaseError(str(exc)) from None
    for path in sorted(source.rglob("*.py")):
        if "__pycache__" not in path.parts:
            check_markers(path)

    release = course.release_dir / assignment
    if release.exists():
        if not force:
            raise ReleaseError(f"{release} already exists; pass --force to replace it")
        shutil.rmtree(release)
    _nbgrader(course, "generate_assignment", assignment, "--force")
    if not release.is_dir():
        raise ReleaseError(f"nbgrader generate_assignment did not create {release}")

    strip_tree(release)
    leaks = check_release(release, collect_secrets(source, course.hidden_tests(assignment)))
    if leaks:
        shutil.rmtree(release)
        listing = "\n".join(f"  {leak}" for leak in leaks)
        raise ReleaseError(f"release of {assignment} LEAKS and was deleted "
                           f"({len(leaks)} finding(s)):\n{listing}")
    return release


def add_cli(subparsers):
    parser = subparsers.add_parser(
        "release", help="make the student version of an assignment (nbgrader "
                        "generate_assignment + .py solution stripping + leak check)")
    parser.add_argument("assignment", nargs="*", metavar="ASSIGNMENT",
                        help="assignment folder name(s) in assignments/source")
    parser.add_argument("--all", action="store_true", help="release every assignment")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing release folder")
    parser.set_defaults(func=_run)


def _run(args, course):
    names = course.assignments() if args.all else args.assignment
    if not names:
        raise UserError("name an assignment to release (one of: "
                        f"{', '.join(course.assignments()) or 'none found'}) or pass --all")
    for name in names:
        release = release_assignment(course, name, force=args.force)
        print(f"released {name} -> {release} (solutions stripped, leak check clean)")
    return 0

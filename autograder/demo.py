"""``autograder demo``: the instructor's whole loop on the embedded data, offline.

The demo never touches the course's own folders: it works on a private copy of the course
(its ``nbgrader_config.py``, ``source/`` and hidden suites) in ``OUT/course``, which has
its own release, gradebook and submissions. For every assignment of the course:

1. release it in the copy (nbgrader generate_assignment, solution stripping, leak check);
2. make three submissions from the release: ``complete`` (the student filled in every stub
   with the reference code), ``untouched`` (handed back as released) and ``buggy`` (complete,
   but with the realistic mistakes listed in the assignment's ``mutants.json``);
3. grade them with the hidden suites, in parallel, into ``OUT/grades/<assignment>/``;
4. write feedback pages into ``OUT/feedback/<assignment>/`` and print the grade table.
"""
import argparse
import os
import shutil
from pathlib import Path

from autograder.course import Course
from autograder.errors import UserError
from autograder.files import ignore_junk
from autograder.mutants import Mutant, apply_mutant, load_mutants

DEMO_STUDENTS = ("complete", "untouched", "buggy")


def complete_submission(course: Course, assignment: str, release_dir: Path, dest: Path) -> Path:
    """A release in which a student has written the reference code into every stub."""
    shutil.copytree(release_dir, dest)
    source = course.source(assignment)
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.suffix in {".py", ".ipynb"} and (dest / relative).exists():
            shutil.copy2(path, dest / relative)
    return dest


def make_submissions(course: Course, assignment: str, release_dir: Path, root: Path,
                     mutants: list[Mutant]) -> list[Path]:
    """Create the three demo submissions under ``root/<student>/<assignment>/`` (nbgrader's
    ``submitted`` layout) and return their paths."""
    for student in DEMO_STUDENTS:
        shutil.rmtree(root / student / assignment, ignore_errors=True)
    complete = complete_submission(course, assignment, release_dir, root / "complete" / assignment)
    untouched = root / "untouched" / assignment
    shutil.copytree(release_dir, untouched)
    buggy = root / "buggy" / assignment
    shutil.copytree(complete, buggy)
    for mutant in mutants:
        apply_mutant(buggy, mutant)
    return [complete, untouched, buggy]


def _copy_ignore(folder: str, names: list[str]) -> set[str]:
    return ignore_junk(folder, names) | {name for name in names if name.endswith(".so")}


def private_course(course: Course, dest: str | os.PathLike[str]) -> Course:
    """A copy of ``course`` at ``dest`` (replacing an earlier copy there) for the demo.

    It holds what a release and grading read: ``assignments/nbgrader_config.py``,
    ``assignments/source/`` and the hidden suites; never the course's release, gradebook,
    submissions or grades, which stay as they are.
    """
    dest = Path(dest)
    if dest.resolve() == course.root.resolve():
        raise UserError("the demo's copy of the course cannot be the course itself")
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "assignments").mkdir(parents=True)
    config = course.nbgrader_root / "nbgrader_config.py"
    if config.is_file():
        shutil.copy2(config, dest / "assignments" / config.name)
    shutil.copytree(course.source_dir, dest / "assignments" / "source", ignore=_copy_ignore)
    if course.hidden_root.is_dir():
        shutil.copytree(course.hidden_root, dest / "autograder" / "hidden", ignore=_copy_ignore)
    return Course(dest)


def format_table(rows: list[tuple[str, str, float, float, int]]) -> str:
    """Rows of (assignment, submission, score, max_score, failing) as an aligned text table."""
    header = ("assignment", "submission", "score", "failed tests")
    lines = [header] + [(a, s, f"{score:g} / {max_score:g}", str(failing))
                        for a, s, score, max_score, failing in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def run_demo(course: Course, out_dir: str | os.PathLike[str], assignments: list[str] | None = None,
             workers: int | None = None, progress: bool = True) -> list[tuple[str, str, float, float, int]]:
    """Run the demo; return the grade-table rows."""
    from autograder.grading.batch import grade_submissions
    from autograder.exporters.feedback import write_feedback
    from autograder.release.pipeline import release_assignment

    out_dir = Path(out_dir).resolve()
    if out_dir.is_relative_to(course.nbgrader_root.resolve()):
        raise UserError(f"--out {out_dir} is inside the course's nbgrader folder; the demo "
                        "keeps out of it: choose another folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    # The "complete" submission is the reference solution: keep it away from sandboxed children.
    out_dir.chmod(0o700)
    assignments = list(assignments or course.assignments())
    if not assignments:
        raise UserError(f"no assignments under {course.source_dir}")
    for assignment in assignments:
        try:
            course.source(assignment)  # an unknown name fails before anything is copied
        except ValueError as exc:
            raise UserError(str(exc)) from None
    course = private_course(course, out_dir / "course")
    print(f"demo course (a copy; the course's own folders are not touched): {course.root}")
    rows = []
    for assignment in assignments:
        print(f"\n== {assignment}: release", flush=True)
        release_dir = release_assignment(course, assignment)
        mutants = load_mutants(course, assignment)
        submissions = make_submissions(course, assignment, release_dir,
                                       out_dir / "submitted", mutants)
        for mutant in mutants:
            print(f"   buggy submission: {mutant.description}")
        print(f"== {assignment}: grade {len(submissions)} submissions with hidden tests", flush=True)
        results = grade_submissions(course, assignment, submissions, hidden=True, workers=workers,
                                    out=out_dir / "grades" / assignment, force=True, progress=progress)
        write_feedback(results, out_dir / "feedback" / assignment)
        rows += [(assignment, result["submission"], result["score"], result["max_score"],
                  sum(t["status"] != "passed" for t in result["tests"])) for result in results]
    print("\n" + format_table(rows))
    print(f"\nresults: {out_dir / 'grades'}\nfeedback: {out_dir / 'feedback'}")
    return rows


def add_cli(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "demo", help="release every assignment, grade three demo submissions with hidden "
                     "tests, print the grade table and write feedback (offline)")
    parser.add_argument("--out", type=Path, default=Path("demo_output"),
                        help="where the copy of the course, the submissions, grades and feedback "
                             "go (default: demo_output)")
    parser.add_argument("--assignment", action="append", dest="assignments",
                        help="limit to this assignment (repeatable; default: all)")
    parser.add_argument("--workers", type=int, help="grading processes (default: all cores)")
    parser.set_defaults(func=lambda args, course: run_demo(
        course, args.out, args.assignments, args.workers) and 0)

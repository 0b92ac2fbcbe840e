"""Autograder scores into nbgrader's gradebook, so ``nbgrader export`` and formgrader show them.

How pytest results map onto nbgrader's model
--------------------------------------------
nbgrader's gradebook knows assignments made of notebooks made of grade cells; a student's
submission holds one grade per grade cell, and ``nbgrader export`` reports, per student
and assignment, the sum of those grades (``score``) and of the cells' points
(``max_score``). Our tests are not cells of any notebook, so the exporter gives them a
notebook of their own: the assignment gets a notebook entry named
:data:`AUTOGRADER_NOTEBOOK` with one autograded ("code") grade cell per test, worth the
test's points, and each student's submission gets the test's score as that cell's
``auto_score``. Then

* ``nbgrader export`` shows score = the notebooks' cells graded by nbgrader (autograded
  test cells, manually graded answers) + our tests, and max_score = all their points;
  the total is right without touching any cell nbgrader owns;
* formgrader lists the tests, with their points, under that notebook. For each student
  the exporter also writes ``autograded/<student>/<assignment>/autograder_tests.ipynb``
  (one read-only cell per test with the grader's feedback), the file formgrader renders
  when a TA opens the submission and ``nbgrader generate_feedback`` turns into the
  student's feedback page. A TA's manual score on a test overrides ours (nbgrader's rule:
  a manual score wins), also on re-export, because re-exporting only writes
  ``auto_score``.

Writing our scores onto the notebooks' existing grade cells was rejected: our tests do
not correspond to those cells, and ``nbgrader autograde`` would overwrite them.

Order of operations and caveats
-------------------------------
* The assignment's notebooks must already be in the gradebook (``autograder release`` /
  ``nbgrader generate_assignment`` put them there); otherwise a later
  ``generate_assignment`` would find an assignment it cannot reconcile.
* ``nbgrader autograde`` and this export may run in any order, and again. Autograde gives
  0 to every notebook of the assignment that has no submitted ``.ipynb`` file, this one
  included (``Autograde.init_assignment`` in nbgrader 0.9), and replaces a student's
  ``autograded/<student>/<assignment>/`` folder when it grades the student again. So the
  export also keeps what it wrote in a store of its own,
  ``<course root>/autograder_scores/<assignment>/<student>.json`` (the scores and the
  formgrader notebook), and the course's ``nbgrader_config.py`` runs
  :class:`RestoreAutograderScores` first among autograde's steps (its first sanitizing
  step): it writes the student's stored scores back (``auto_score`` only, so a TA's manual
  score still wins) and the formgrader notebook, before any of the student's notebooks is
  touched.
* Once submissions exist, nbgrader's ``generate_assignment`` refuses to run when the
  gradebook holds a notebook the source folder lacks ("Cannot modify existing
  assignment"), and this notebook is such a notebook. To release the assignment again,
  first take the autograder's scores out (``autograder export gradebook ASSIGNMENT
  --remove``, :func:`remove_from_gradebook`, which empties the store too), release, then
  export again.
* The exported tests define the notebook's cells: tests no longer in the results (for
  example after exporting without the hidden suite) are removed from the gradebook,
  because points that no test awards would wrongly lower every student's percentage.
"""
import hashlib
import json
import re
import shutil
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.course import Course
from autograder.errors import UserError
from autograder.exporters.formgrader_notebook import autograder_notebook, write_notebook
from autograder.exporters.manual_grades import AUTOGRADER_NOTEBOOK, gradebook_exists
from autograder.files import make_alembic_findable, write_atomically
from autograder.result import Result

#: Folder of the nbgrader course root where the export keeps what it wrote, so that the
#: scores survive a later ``nbgrader autograde`` (:class:`RestoreAutograderScores`).
SCORES_DIRECTORY = "autograder_scores"
DEFAULT_COURSE_ID = "default_course"
_MAX_CELL_NAME = 128  # nbgrader's column width for cell names


@dataclass(frozen=True)
class NbgraderSettings:
    """Where nbgrader keeps a course's gradebook and autograded notebooks.

    Attributes
    ----------
    db_url : str
        SQLAlchemy URL of the gradebook.
    course_id : str
    autograded_root : Path
        ``<CourseDirectory.root>/<autograded_directory>``: formgrader reads
        ``<autograded_root>/<student>/<assignment>/<notebook>.ipynb``.
    scores_root : Path or None
        ``<CourseDirectory.root>/autograder_scores``: the exported scores, kept for
        :class:`RestoreAutograderScores`.
    submitted_root : Path or None
        ``<CourseDirectory.root>/<submitted_directory>``.
    """

    db_url: str
    course_id: str
    autograded_root: Path
    scores_root: Path | None = None
    submitted_root: Path | None = None


def gradebook_settings(course: Course) -> NbgraderSettings:
    """nbgrader's settings for ``course``, from its ``nbgrader_config.py``.

    Reads ``CourseDirectory.root``, ``db_url``, ``course_id`` and
    ``autograded_directory`` when the file sets them; nbgrader's defaults otherwise (root:
    the course's ``assignments/``; ``sqlite:///<root>/gradebook.db``; ``default_course``;
    ``autograded``).

    """
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    config_dir = course.nbgrader_root
    try:
        config: dict[str, Any] = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir)).load_config()
    except ConfigFileNotFound:
        config = {}
    except Exception as exc:
        raise UserError(f"cannot read {config_dir / 'nbgrader_config.py'} ({exc}); fix it, or "
                        "give the gradebook with --db") from exc
    directory = config.get("CourseDirectory", {})
    root = Path(directory.get("root", config_dir))
    return NbgraderSettings(
        db_url=directory.get("db_url", f"sqlite:///{root / 'gradebook.db'}"),
        course_id=directory.get("course_id", DEFAULT_COURSE_ID),
        autograded_root=root / directory.get("autograded_directory", "autograded"),
        scores_root=root / SCORES_DIRECTORY,
        submitted_root=root / directory.get("submitted_directory", "submitted"))


def cell_name(test_name: str) -> str:
    """The grade-cell name of a test (e.g. ``"tests/test_warmup.py::test_softmax_loss_small"``):
    the test's name, shortened with a hash to at most 128 characters (nbgrader's limit);
    distinct tests keep distinct names."""
    if len(test_name) <= _MAX_CELL_NAME:
        return test_name
    digest = hashlib.sha256(test_name.encode("utf-8")).hexdigest()[:12]
    return f"{test_name[:_MAX_CELL_NAME - 14]}~{digest}"


def points_per_test(results: list[Result]) -> dict[str, float]:
    """Each test's points: ``{test name: max_score}`` in the stable test order.

    Raises
    ------
    UserError
        If two results give the same test different points (graded by different versions
        of the tests: grade them again together).
    """
    first: dict[str, tuple[float, str]] = {}       # test name -> (points, the submission that gave them)
    for result in results:
        for test in result["tests"]:
            points, owner = first.setdefault(test["name"], (test["max_score"], result["submission"]))
            if points != test["max_score"]:
                raise UserError(
                    f"test {test['name']!r} is worth {points:g} points in {owner}'s "
                    f"result but {test['max_score']:g} in {result['submission']}'s; the results "
                    "come from different versions of the tests: grade these submissions again")
    return {name: points for name, (points, _) in first.items()}


#: Student ids the exporter writes into the gradebook and uses as folder names: what
#: JupyterHub and nbgrader usernames look like. A submission name is chosen by whoever named
#: the folder or zip, so anything else (HTML, ``..``, slashes) is refused.
SAFE_STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


def usable_student_ids(results: list[Result]) -> list[Result]:
    """The results whose submission name is a safe student id; the others are named on
    stderr and left out (formgrader shows ids in its pages and paths are built from them)."""
    usable = []
    for result in results:
        if SAFE_STUDENT_ID.fullmatch(str(result["submission"])) and ".." not in result["submission"]:
            usable.append(result)
        else:
            print(f"autograder export: submission {result['submission']!r} is not a usable "
                  "nbgrader student id (letters, digits and . _ @ + - only); rename it and "
                  "grade it again; skipped", file=sys.stderr)
    return usable


def _ensure_assignment(gradebook: Any, assignment: str, source_notebooks: list[str]) -> None:
    from nbgrader.api import MissingEntry

    try:
        record = gradebook.find_assignment(assignment)
    except MissingEntry:
        record = None
    known = {nb.name for nb in record.notebooks} if record is not None else set()
    missing = sorted(set(source_notebooks) - known)
    if missing:
        raise UserError(
            f"the gradebook does not know notebook(s) {', '.join(missing)} of {assignment}: run "
            f"`autograder release {assignment}` (nbgrader generate_assignment) first, so that "
            "nbgrader's own notebooks are in the gradebook before the autograder's scores")
    if AUTOGRADER_NOTEBOOK in source_notebooks:
        raise UserError(f"{assignment} has a notebook named {AUTOGRADER_NOTEBOOK}.ipynb, the name "
                        "this exporter reserves for the autograder's tests; rename it")
    if record is None:
        gradebook.add_assignment(assignment)


def _sync_grade_cells(gradebook: Any, assignment: str, points: dict[str, float]) -> tuple[dict[str, Any], list[str]]:
    """Make the autograder notebook's grade cells exactly the exported tests.

    Returns
    -------
    dict
        ``{test name: GradeCell}``.
    removed : list of str
        Names of cells that were dropped.
    """
    from nbgrader.api import MissingEntry

    try:
        notebook = gradebook.find_notebook(AUTOGRADER_NOTEBOOK, assignment)
    except MissingEntry:
        notebook = gradebook.add_notebook(AUTOGRADER_NOTEBOOK, assignment)
    cells = {test: gradebook.update_or_create_grade_cell(cell_name(test), AUTOGRADER_NOTEBOOK, assignment,
                                                         max_score=float(max_score), cell_type="code")
             for test, max_score in points.items()}
    wanted = {cell.id for cell in cells.values()}
    removed = []
    for cell in list(notebook.grade_cells):
        if cell.id not in wanted:
            removed.append(cell.name)
            for grade in list(cell.grades):
                gradebook.db.delete(grade)
            gradebook.db.delete(cell)
    gradebook.db.commit()
    return cells, removed


def _submitted_autograder_notebook(gradebook: Any, assignment: str, student: str) -> Any:
    """The student's submitted version of the autograder notebook, created where missing.

    A submission created before the autograder notebook existed (by ``nbgrader collect``
    or ``autograde``) has no entry for it yet.
    """
    from nbgrader.api import MissingEntry, SubmittedNotebook

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        from sqlalchemy.exc import SAWarning

        with warnings.catch_warnings():
            # nbgrader builds a submission's rows before adding them to the session, which
            # SQLAlchemy 2 reports with harmless warnings
            warnings.simplefilter("ignore", SAWarning)
            submission = gradebook.add_submission(assignment, student)
    for submitted in submission.notebooks:
        if submitted.notebook.name == AUTOGRADER_NOTEBOOK:
            return submitted
    submitted = SubmittedNotebook(notebook=gradebook.find_notebook(AUTOGRADER_NOTEBOOK, assignment),
                                  assignment=submission)
    gradebook.db.add(submitted)
    return submitted


def _write_auto_scores(gradebook: Any, assignment: str, student: str, scores: dict[int, float]) -> None:
    """Set ``auto_score`` of the student's grades of the autograder notebook: ``{cell id: score}``."""
    from nbgrader.api import Grade

    submitted = _submitted_autograder_notebook(gradebook, assignment, student)
    grades = {grade.cell_id: grade for grade in submitted.grades}
    for cell_id, score in scores.items():
        grade = grades.get(cell_id)
        if grade is None:
            grade = Grade(cell_id=cell_id, notebook=submitted)
            gradebook.db.add(grade)
        grade.auto_score = float(score)
        grade.needs_manual_grade = False


def _require_existing_sqlite(db_url: str, assignment: str) -> None:
    """Refuse a SQLite gradebook file that does not exist instead of creating an empty one."""
    if db_url != "sqlite:///:memory:" and not gradebook_exists(db_url):
        raise UserError(f"there is no gradebook at {Path(db_url.removeprefix('sqlite:///'))}: run `autograder "
                        f"release {assignment}` (nbgrader generate_assignment) first, which creates "
                        "it, or give the right one with --db")


def export_to_gradebook(results: list[Result], assignment: str, db_url: str, course_id: str = DEFAULT_COURSE_ID,
                        source_notebooks: Iterable[str] = (), autograded_root: str | Path | None = None,
                        scores_root: str | Path | None = None, submitted_root: str | Path | None = None) -> list[str]:
    """Write the test scores of ``results`` into the nbgrader gradebook at ``db_url``.

    Parameters
    ----------
    results : list of Result
        Checked results of ``assignment``; each ``submission`` is a student id.
    db_url : str
        SQLAlchemy URL of the gradebook, e.g. ``sqlite:////course/assignments/gradebook.db``.
    course_id : str
        nbgrader's course id (``CourseDirectory.course_id``).
    source_notebooks : iterable of str
        Names (without ``.ipynb``) of the assignment's notebooks in the source folder; they
        must already be in the gradebook.
    autograded_root : Path, optional
        nbgrader's ``autograded/`` folder; when given, each student's
        ``<student>/<assignment>/autograder_tests.ipynb`` is written there for formgrader
        (:mod:`autograder.exporters.formgrader_notebook`).
    scores_root : Path, optional
        The course's ``autograder_scores/`` folder; when given, each student's scores (and
        formgrader notebook) are kept there too, and a later ``nbgrader autograde`` puts
        them back (:class:`RestoreAutograderScores`).
    submitted_root : Path, optional
        nbgrader's ``submitted/`` folder. A student whose submission there nbgrader has not
        autograded yet gets no ``autograded/`` folder from this export (nbgrader autograde
        skips a student whose folder exists); autograde writes the page from the store.

    Returns
    -------
    removed : list of str
        Grade cells of tests that are no longer exported and were removed.
    """
    from nbgrader.api import Gradebook

    results = usable_student_ids(results)
    points = points_per_test(results)
    _require_existing_sqlite(db_url, assignment)
    make_alembic_findable()
    with Gradebook(db_url, course_id=course_id) as gradebook:
        _ensure_assignment(gradebook, assignment, list(source_notebooks))
        cells, removed = _sync_grade_cells(gradebook, assignment, points)
        for result in results:
            student = result["submission"]
            gradebook.update_or_create_student(student)
            scores = {test["name"]: test["score"] for test in result["tests"]}
            # A test missing from this result was not run for it: it earns nothing.
            _write_auto_scores(gradebook, assignment, student,
                               {cell.id: scores.get(test, 0.0) for test, cell in cells.items()})
        gradebook.db.commit()
        grade_cells = {test: (cell.name, float(cell.max_score)) for test, cell in cells.items()}
    waiting = []
    for result in results:
        student = result["submission"]
        notebook = autograder_notebook(result, grade_cells)
        if autograded_root is not None:
            folder = Path(autograded_root) / student / assignment
            if folder.is_dir() or submitted_root is None or \
                    not (Path(submitted_root) / student / assignment).is_dir():
                write_notebook(notebook, folder / f"{AUTOGRADER_NOTEBOOK}.ipynb")
            else:
                waiting.append(student)
        if scores_root is not None:
            scores = {test["name"]: float(test["score"]) for test in result["tests"]}
            _write_json(_stored_path(scores_root, assignment, student), {
                "assignment": assignment, "student": student,
                "scores": {cell: scores.get(test, 0.0) for test, (cell, _) in grade_cells.items()},
                "notebook": notebook})
    if waiting:
        print(f"autograder export: {len(waiting)} submission(s) in submitted/ not autograded by "
              f"nbgrader yet ({', '.join(waiting[:5])}{', ...' if len(waiting) > 5 else ''}): "
              "their scores are in the gradebook, and their test report for formgrader is "
              "written when `nbgrader autograde` grades them", file=sys.stderr)
    return removed


def _stored_path(scores_root: str | Path, assignment: str, student: str) -> Path:
    return Path(scores_root) / assignment / f"{student}.json"


def _write_json(path: Path, data: object) -> None:
    """Write ``data`` as JSON at ``path`` in one rename (a crash leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(data, indent=1) + "\n")


def restore_autograder_scores(assignment: str, student: str, db_url: str, course_id: str, scores_root: str | Path,
                              autograded_dir: str | Path | None = None) -> int:
    """Put the exported autograder scores of one student back into the gradebook.

    ``nbgrader autograde`` sets them to 0 (the autograder notebook is never among the
    submitted files) and replaces the student's ``autograded/`` folder; this writes back
    the ``auto_score`` the last export gave each test that is still a grade cell (a TA's
    ``manual_score`` is left alone and still wins), and the formgrader notebook into
    ``autograded_dir`` when given.

    Returns
    -------
    int
        How many test scores were written back (0 when nothing was exported for this
        student, or the autograder notebook is no longer in the gradebook).
    """
    from nbgrader.api import Gradebook, MissingEntry

    path = _stored_path(scores_root, assignment, student)
    if not SAFE_STUDENT_ID.fullmatch(student) or not path.is_file():
        return 0
    stored = json.loads(path.read_text(encoding="utf-8"))
    make_alembic_findable()
    with Gradebook(db_url, course_id=course_id) as gradebook:
        try:
            notebook = gradebook.find_notebook(AUTOGRADER_NOTEBOOK, assignment)
        except MissingEntry:
            return 0
        cell_ids = {cell.name: cell.id for cell in notebook.grade_cells}
        scores = {cell_ids[name]: score for name, score in stored["scores"].items() if name in cell_ids}
        if not scores:
            return 0
        _write_auto_scores(gradebook, assignment, student, scores)
        gradebook.db.commit()
    if autograded_dir is not None and stored.get("notebook"):
        import nbformat
        write_notebook(nbformat.from_dict(stored["notebook"]),
                       Path(autograded_dir) / f"{AUTOGRADER_NOTEBOOK}.ipynb")
    return len(scores)


def _restore_preprocessor_class() -> type:
    from nbconvert.preprocessors import Preprocessor
    from traitlets import Bool

    class RestoreAutograderScores(Preprocessor):
        """First step of ``nbgrader autograde`` (the first of ``Autograde.
        sanitize_preprocessors`` in the course's ``nbgrader_config.py``): puts back the
        student's exported autograder scores, which autograde has just set to 0, before any
        notebook is touched (so a notebook that fails cannot lose them).

        It runs once per notebook; writing the same scores again is harmless.
        """

        # nbconvert's preprocessors are off unless enabled; this one belongs to autograde.
        enabled = Bool(True).tag(config=True)

        def _coursedir(self) -> Any:
            owner = self.parent
            while owner is not None:
                if getattr(owner, "coursedir", None) is not None:
                    return owner.coursedir
                owner = getattr(owner, "parent", None)
            return None

        def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            info = resources["nbgrader"]
            assignment, student = info["assignment"], info["student"]
            coursedir = self._coursedir()
            if coursedir is None:
                root, course_id, autograded = Path.cwd(), DEFAULT_COURSE_ID, None
            else:
                root, course_id = Path(coursedir.root), coursedir.course_id
                autograded = coursedir.format_path(coursedir.autograded_directory, student,
                                                   assignment)
            restored = restore_autograder_scores(assignment, student, info["db_url"],
                                                 course_id, root / SCORES_DIRECTORY,
                                                 autograded)
            if restored:
                self.log.info("Restored the %d autograder test score(s) of %s for %s that "
                              "`autograder export gradebook` wrote", restored, student,
                              assignment)
            return nb, resources

    return RestoreAutograderScores


def __getattr__(name: str) -> type:
    # nbconvert is imported only when nbgrader asks for the preprocessor.
    if name == "RestoreAutograderScores":
        cls = _restore_preprocessor_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def remove_from_gradebook(assignment: str, db_url: str, course_id: str = DEFAULT_COURSE_ID,
                          autograded_root: str | Path | None = None, scores_root: str | Path | None = None) -> int:
    """Take the autograder notebook of ``assignment`` out of the gradebook.

    Deletes its grade cells and every student's grades for them (nbgrader's own notebooks
    and grades stay), the formgrader notebooks under ``autograded_root`` and the kept
    scores under ``scores_root``.

    Returns
    -------
    int
        How many students had autograder grades.
    """
    from nbgrader.api import Gradebook, MissingEntry

    _require_existing_sqlite(db_url, assignment)
    make_alembic_findable()
    if scores_root is not None:
        shutil.rmtree(Path(scores_root) / assignment, ignore_errors=True)
    with Gradebook(db_url, course_id=course_id) as gradebook:
        try:
            notebook = gradebook.find_notebook(AUTOGRADER_NOTEBOOK, assignment)
        except MissingEntry:
            return 0
        students = [submitted.student.id for submitted in notebook.submissions]
        gradebook.remove_notebook(AUTOGRADER_NOTEBOOK, assignment)
    if autograded_root is not None:
        for student in students:
            folder = Path(autograded_root, student, assignment)
            (folder / f"{AUTOGRADER_NOTEBOOK}.ipynb").unlink(missing_ok=True)
            # a folder only the export made would make nbgrader autograde skip the student
            for empty in (folder, folder.parent):
                try:
                    empty.rmdir()
                except OSError:
                    break
    return len(students)

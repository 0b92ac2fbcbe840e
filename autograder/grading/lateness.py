"""When a submission came in, when it was due, and how late it was.

nbgrader records the time of every submission: ``nbgrader submit`` writes ``timestamp.txt``
into the submitted folder (``"%Y-%m-%d %H:%M:%S.%f %Z"`` in the exchange's time zone, UTC by
default) and ``nbgrader collect`` keeps it in ``submitted/<student>/<assignment>/``. The due
date lives in the gradebook (``nbgrader db assignment add A --duedate ...``), with per-student
extensions on the student's submission once ``nbgrader autograde`` has seen it.

``autograder grade`` records ``submitted_at``, ``due`` and ``late_by_seconds`` in every
result (:data:`autograder.result.FIELDS`). They are not part of the fingerprint (a new
``timestamp.txt`` or a moved due date does not regrade the code): the batch recomputes them
for every result, stored or new, and re-signs a stored result whose lateness changed.
Lateness never changes a score unless a penalty is asked for (``--late-penalty``, nbgrader's
``LateSubmissionPlugin.penalty_method`` choices; nbgrader's own default, ``none``, applies
none). With ``zero`` a late submission's ``score`` is 0 and ``late_penalty`` holds the points
taken; the tests keep their own scores.
"""
import datetime
import re
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from autograder.errors import UserError
from autograder.course import Course
from autograder.result import Result, total_points
from autograder.safe_files import UnsafeFile, read_regular_file

if TYPE_CHECKING:
    from autograder.exporters.gradebook import NbgraderSettings

TIMESTAMP_FILE = "timestamp.txt"
TIMESTAMP_MAX_BYTES = 256
PENALTY_METHODS = ("none", "zero")

_UTC = datetime.timezone.utc


class Lateness(TypedDict):
    """The result fields of :func:`lateness_fields`."""

    submitted_at: str | None
    due: str | None
    late_by_seconds: float | None

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def parse_time(text: str) -> datetime.datetime:
    """A time as nbgrader writes it (``2026-12-01 10:00:00.123456 UTC``), or ISO 8601, as an
    aware UTC datetime.

    A trailing zone may be a name (``UTC``, ``Europe/Zurich``: through dateutil) or an offset
    (``+0100``); a time without a zone is UTC, as nbgrader reads it.

    Raises
    ------
    ValueError
        When ``text`` is not a time.
    """
    text = str(text).strip()
    if not text:
        raise ValueError("empty time")
    parts = text.split(" ")
    zone = None
    if len(parts) == 3:          # nbgrader: date, time, zone
        text, zone = " ".join(parts[:2]), parts[2]
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from dateutil import parser
        try:
            moment = parser.parse(text)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"not a time: {text!r}") from exc
    if zone is not None:
        match = _OFFSET.match(zone)
        if match:
            sign = 1 if match.group(1) == "+" else -1
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(match.group(2)),
                                                              minutes=int(match.group(3))))
        else:
            from dateutil import tz as dateutil_tz
            tz = dateutil_tz.gettz(zone)
            if tz is None:
                raise ValueError(f"unknown time zone {zone!r}")
        moment = moment.replace(tzinfo=tz)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)


def iso(moment: datetime.datetime | None) -> str | None:
    """``moment`` as ISO 8601 in UTC (seconds), or None."""
    return None if moment is None else moment.astimezone(_UTC).isoformat(timespec="seconds")


def read_submission_time(path: str | Path) -> datetime.datetime | None:
    """The time nbgrader recorded for a submission folder (its ``timestamp.txt``), or None.

    Only a regular file directly in the folder is read (never through a link), at most
    TIMESTAMP_MAX_BYTES; a zip, a missing or unreadable file or one that is not a time
    gives None.
    """
    folder = Path(path)
    if not folder.is_dir():
        return None
    try:
        return parse_time(read_regular_file(folder / TIMESTAMP_FILE, TIMESTAMP_MAX_BYTES).decode("utf-8"))
    except (OSError, UnsafeFile, ValueError):       # ValueError: not UTF-8, or not a time
        return None


def late_by_seconds(submitted_at: datetime.datetime | None, due: datetime.datetime | None) -> float | None:
    """Seconds after ``due`` (0.0 when on time), or None when either time is unknown."""
    if submitted_at is None or due is None:
        return None
    return max(0.0, round((submitted_at - due).total_seconds(), 3))


def lateness_fields(submitted_at: datetime.datetime | None, due: datetime.datetime | None) -> Lateness:
    """The result fields ``submitted_at``, ``due`` and ``late_by_seconds``."""
    return {"submitted_at": iso(submitted_at), "due": iso(due),
            "late_by_seconds": late_by_seconds(submitted_at, due)}


def apply_lateness(result: Result, fields: Lateness, penalty: str = "none") -> Result:
    """A copy of ``result`` with the lateness ``fields`` and, with ``penalty="zero"``, its
    score set to 0 when late (``late_penalty``: the points taken).

    The score before any penalty is always the sum of the tests' scores, so applying this
    again with other fields or another penalty gives the right score.
    """
    if penalty not in PENALTY_METHODS:
        raise UserError(f"unknown late penalty {penalty!r}; choose one of "
                        f"{', '.join(PENALTY_METHODS)}")
    updated = cast(Result, {key: value for key, value in result.items() if key != "late_penalty"})
    updated.update(fields)
    tests = [t for t in result.get("tests") or [] if isinstance(t, dict)]
    updated["score"] = total_points(tests) if tests else result.get("score", 0.0)
    if penalty == "zero" and (fields.get("late_by_seconds") or 0) > 0 and updated["score"] > 0:
        updated["late_penalty"] = updated["score"]
        updated["score"] = 0.0
    return updated


def _to_the_minute(text: str | None) -> str | None:
    """A time as ``2026-12-01 10:00 UTC``; None for none or not a time."""
    try:
        return parse_time(text).strftime("%Y-%m-%d %H:%M UTC") if text else None
    except ValueError:
        return None


def describe_lateness(result: Result) -> str | None:
    """One line for people ("submitted 2026-12-01 10:00 UTC, 10 h 1 min late"), or None
    when the result holds no submission time."""
    when = _to_the_minute(result.get("submitted_at"))
    if when is None:
        return None
    late, due_text = result.get("late_by_seconds"), _to_the_minute(result.get("due"))
    if not isinstance(late, (int, float)) or isinstance(late, bool) or due_text is None:
        return f"submitted {when} (no due date known)"
    if late <= 0:
        return f"submitted {when}, on time (due {due_text})"
    line = f"submitted {when}, {format_duration(late)} late (due {due_text})"
    if result.get("late_penalty"):
        line += f"; late penalty: -{result['late_penalty']:g} points"
    return line


def format_duration(seconds: float) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``12 min``, ``40 s``."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


class DueDates:
    """Due dates of one assignment: a fixed ``--due``, or the gradebook's (per student, with
    extensions), or none.

    ``due`` overrides the gradebook for every student; ``db_url`` is nbgrader's gradebook (a
    SQLite file that does not exist is not created: no due date).
    """

    def __init__(self, assignment: str, due: datetime.datetime | None = None, db_url: str | None = None,
                 course_id: str = "default_course") -> None:
        self.assignment = assignment
        self.default = due                  # with ``due`` the gradebook is not read: no per-student dates
        self.per_student: dict[str, datetime.datetime] = {}
        from autograder.exporters.manual_grades import gradebook_exists
        if due is None and db_url and gradebook_exists(db_url):
            self._read_gradebook(db_url, course_id)

    def _read_gradebook(self, db_url: str, course_id: str) -> None:
        try:
            from nbgrader.api import Gradebook, MissingEntry
        except ImportError:
            return
        try:
            with Gradebook(db_url, course_id=course_id) as gradebook:
                try:
                    assignment = gradebook.find_assignment(self.assignment)
                except MissingEntry:
                    return
                if assignment.duedate is None:
                    return
                self.default = assignment.duedate.replace(tzinfo=_UTC)
                for submission in assignment.submissions:
                    if submission.extension:
                        self.per_student[submission.student_id] = \
                            (assignment.duedate + submission.extension).replace(tzinfo=_UTC)
        except Exception as exc:        # a broken gradebook must not stop grading
            raise UserError(f"cannot read the due date of {self.assignment} from {db_url} "
                            f"({exc}); give it with --due instead") from exc

    def for_student(self, student: str) -> datetime.datetime | None:
        """The due date that applies to ``student`` (extension included), or None."""
        return self.per_student.get(student, self.default)


def course_due_dates(course: Course, assignment: str, due: str | None = None, db_url: str | None = None) -> DueDates:
    """:class:`DueDates` for ``assignment`` of ``course``: ``due`` (a time string) if given,
    else the gradebook at ``db_url`` or the course's (its ``nbgrader_config.py``)."""
    if due is not None:
        try:
            return DueDates(assignment, due=parse_time(due))
        except ValueError as exc:
            raise UserError(f"--due {due!r} is not a time (use e.g. '2026-12-01 23:59:00 UTC' "
                            "or 2026-12-01T23:59:00+01:00)") from exc
    from autograder.exporters.manual_grades import gradebook_url
    settings: "NbgraderSettings | None"
    try:
        from autograder.exporters.gradebook import gradebook_settings
        settings = gradebook_settings(course)
    except Exception:
        settings = None
    if db_url is not None:
        return DueDates(assignment, db_url=gradebook_url(db_url),
                        course_id=settings.course_id if settings else "default_course")
    if settings is None:
        return DueDates(assignment)
    return DueDates(assignment, db_url=settings.db_url, course_id=settings.course_id)

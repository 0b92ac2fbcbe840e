"""Lateness: nbgrader's timestamp.txt, due dates from a real gradebook, and the result fields."""
import datetime
import os

import pytest

from autograder.errors import UserError
from autograder.grading.lateness import (DueDates, apply_lateness, describe_lateness, lateness_fields,
                                 parse_time, read_submission_time)
from tests.support.exporter_inputs import sample_results

UTC = datetime.timezone.utc
NBGRADER_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"     # nbgrader's Exchange.timestamp_format default


def test_times_in_nbgraders_format_and_iso_parse_to_utc():
    from dateutil import tz
    moment = datetime.datetime(2026, 12, 1, 10, 30, 5, 123456, tzinfo=UTC)
    text = moment.strftime(NBGRADER_FORMAT)
    assert text == "2026-12-01 10:30:05.123456 UTC"
    assert parse_time(text) == moment
    # an exchange in another time zone (a name or a numeric offset): the same instant
    zurich = moment.astimezone(tz.gettz("Europe/Zurich"))
    assert parse_time(zurich.strftime("%Y-%m-%d %H:%M:%S.%f") + " Europe/Zurich") == moment
    assert parse_time(zurich.strftime("%Y-%m-%d %H:%M:%S.%f %z")) == moment
    assert parse_time("2026-12-01T11:30:05.123456+01:00") == moment
    assert parse_time("2026-12-01 10:30:05.123456") == moment        # no zone: UTC
    with pytest.raises(ValueError):
        parse_time("next tuesday-ish")


def test_submission_time_comes_from_a_regular_timestamp_file_only(tmp_path):
    folder = tmp_path / "alice" / "assignment0"
    folder.mkdir(parents=True)
    assert read_submission_time(folder) is None
    (folder / "timestamp.txt").write_text("2026-12-01 10:30:05.123456 UTC")
    assert read_submission_time(folder) == datetime.datetime(2026, 12, 1, 10, 30, 5, 123456,
                                                             tzinfo=UTC)
    (folder / "timestamp.txt").write_text("not a time")
    assert read_submission_time(folder) is None
    (folder / "timestamp.txt").unlink()
    (tmp_path / "elsewhere.txt").write_text("2026-12-01 10:30:05 UTC")
    os.symlink(tmp_path / "elsewhere.txt", folder / "timestamp.txt")
    assert read_submission_time(folder) is None, "a link is never followed"
    os.unlink(folder / "timestamp.txt")
    os.mkfifo(folder / "timestamp.txt")
    assert read_submission_time(folder) is None, "a FIFO is not read (and does not block)"
    assert read_submission_time(tmp_path / "alice.zip") is None


def test_lateness_fields_and_score():
    due = parse_time("2026-11-30 23:59:00 UTC")
    result = sample_results()[1]                               # bob: 1 point of 6
    on_time = apply_lateness(result, lateness_fields(parse_time("2026-11-30 23:58:59 UTC"), due))
    assert on_time["late_by_seconds"] == 0.0 and on_time["score"] == 1
    late_fields = lateness_fields(parse_time("2026-12-02 01:00:00 UTC"), due)
    assert late_fields == {"submitted_at": "2026-12-02T01:00:00+00:00",
                           "due": "2026-11-30T23:59:00+00:00", "late_by_seconds": 90060.0}
    late = apply_lateness(result, late_fields)
    assert late["score"] == 1, "no penalty unless one is asked for"
    penalised = apply_lateness(late, late_fields, penalty="zero")
    assert penalised["score"] == 0 and penalised["late_penalty"] == 1
    assert "1 d 1 h late" in describe_lateness(penalised)
    assert "late penalty: -1 points" in describe_lateness(penalised)
    # applying again with other times gives back the unpenalised score
    back = apply_lateness(penalised, lateness_fields(parse_time("2026-11-30 20:00 UTC"), due),
                          penalty="zero")
    assert back["score"] == 1 and "late_penalty" not in back
    unknown = apply_lateness(result, lateness_fields(None, due))
    assert unknown["late_by_seconds"] is None and describe_lateness(unknown) is None
    no_due = apply_lateness(result, lateness_fields(parse_time("2026-12-02 01:00 UTC"), None))
    assert no_due["late_by_seconds"] is None
    assert describe_lateness(no_due) == "submitted 2026-12-02 01:00 UTC (no due date known)"
    with pytest.raises(UserError):
        apply_lateness(result, late_fields, penalty="half")


def test_due_dates_from_a_real_gradebook_with_an_extension(tmp_path):
    from nbgrader.api import Gradebook
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, course_id="course101") as gradebook:
        gradebook.add_assignment("assignment0", duedate="2026-11-30 23:59:00 UTC")
        gradebook.add_student("alice")
        gradebook.add_student("bob")
        gradebook.add_submission("assignment0", "bob")
        submission = gradebook.find_submission("assignment0", "bob")
        submission.extension = datetime.timedelta(days=2)
        gradebook.db.commit()
    dues = DueDates("assignment0", db_url=url, course_id="course101")
    assert dues.for_student("alice") == datetime.datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert dues.for_student("bob") == datetime.datetime(2026, 12, 2, 23, 59, tzinfo=UTC)
    assert DueDates("assignment9", db_url=url, course_id="course101").for_student("alice") is None
    fixed = DueDates("assignment0", due=parse_time("2026-12-05 12:00 UTC"), db_url=url)
    assert fixed.for_student("bob") == datetime.datetime(2026, 12, 5, 12, tzinfo=UTC)
    missing = tmp_path / "none.db"
    assert DueDates("assignment0", db_url=f"sqlite:///{missing}").for_student("bob") is None
    assert not missing.exists(), "looking for a due date never creates a gradebook"


def test_the_gradebook_may_be_given_as_a_file_and_a_bad_due_date_is_refused(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.grading.lateness import course_due_dates
    path = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{path}") as gradebook:
        gradebook.add_assignment("assignment0", duedate="2026-11-30 23:59:00 UTC")
    no_course = object()        # no nbgrader_config.py to read: nbgrader's default course id
    dues = course_due_dates(no_course, "assignment0", db_url=str(path))
    assert dues.for_student("carol") == datetime.datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    with pytest.raises(UserError, match="--due"):
        course_due_dates(no_course, "assignment0", due="the day after tomorrow")

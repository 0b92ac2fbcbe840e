"""Reading result files and the CSV grade sheet (`autograder export csv`)."""
import copy
import csv
import io
import json

import pytest

from autograder.errors import UserError
from autograder.exporters.csv_export import FIXED_COLUMNS, csv_text, grade_rows, percent
from autograder.result import MalformedResult, check_result, load_results, ordered_test_names
from autograder.result_signing import load_key, sign_result
from tests.support.exporter_inputs import (ASSIGNMENT, HIDDEN_GRADIENT, PUBLIC_SOFTMAX,
                                           PUBLIC_SQUARE, make_course, make_result, make_test,
                                           run_cli, sample_results, write_results)


def _broken(mutate):
    result = copy.deepcopy(sample_results()[0])
    mutate(result)
    return result


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.pop("submission"), "'submission'"),
    (lambda r: r.update(score="7"), "'score' must be a finite number"),
    (lambda r: r.update(score=float("nan")), "'score' must be a finite number"),
    (lambda r: r.update(score=99.0), "not between 0 and max_score"),
    (lambda r: r.update(tests={"a": 1}), "'tests' must be a list"),
    (lambda r: r["tests"][0].update(status="skipped"), "status 'skipped'"),
    (lambda r: r["tests"][1].update(visibility="after_due_date"), "visibility"),
    (lambda r: r["tests"][1].update(name=r["tests"][0]["name"]), "appears twice"),
    (lambda r: r["tests"][2].pop("max_score"), "'max_score'"),
    (lambda r: r["tests"][0].update(output=None), "'output' must be a string"),
])
def test_check_result_names_what_is_wrong(mutate, message):
    with pytest.raises(MalformedResult, match=message):
        check_result(_broken(mutate))


def test_check_result_rejects_non_objects():
    with pytest.raises(MalformedResult, match="JSON object"):
        check_result([1, 2])


def test_load_results_sorts_by_submission(tmp_path):
    results = sample_results()
    write_results(tmp_path, reversed(results))
    loaded = load_results(tmp_path, ASSIGNMENT)
    assert [r["submission"] for r in loaded.results] == ["alice", "bob", "carol"]
    assert loaded.problems == []


def test_load_results_skips_bad_files_and_names_them(tmp_path):
    write_results(tmp_path, sample_results())
    (tmp_path / "dave.json").write_text(json.dumps(sample_results()[0])[:40])  # truncated
    other = make_result("erin", [make_test(PUBLIC_SQUARE, 1.0, 1.0)], assignment="assignment1")
    write_results(tmp_path, [other])
    duplicate = sign_result(sample_results()[1], load_key())   # a copy of a real result
    (tmp_path / "bob-copy.json").write_text(json.dumps(duplicate))
    (tmp_path / ".alice.json.partial.json").write_text("{")  # an interrupted atomic write
    loaded = load_results(tmp_path, ASSIGNMENT)
    assert [r["submission"] for r in loaded.results] == ["alice", "bob", "carol"]
    problems = "\n".join(loaded.problems)
    assert len(loaded.problems) == 3
    assert "dave.json: not valid JSON" in problems
    assert "erin.json: a result of 'assignment1'" in problems
    assert "bob.json" in problems and "already read" in problems


def test_load_results_refuses_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist.*autograder grade assignment0"):
        load_results(tmp_path / "nope", ASSIGNMENT)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "summary.csv").write_text("submission,score\n")
    with pytest.raises(UserError, match="holds no <submission>.json files"):
        load_results(tmp_path / "empty", ASSIGNMENT)


def test_ordered_test_names_is_the_union_in_first_seen_order():
    first = make_result("a", [make_test("t2", 1, 1), make_test("t1", 1, 1)])
    second = make_result("b", [make_test("t1", 1, 1), make_test("t3", 1, 1), make_test("t2", 1, 1)])
    assert ordered_test_names([first, second]) == ["t2", "t1", "t3"]


def test_percent():
    assert percent(7.0, 10.0) == 70.0
    assert percent(1.0, 3.0) == 33.33
    assert percent(0.0, 0.0) is None


def test_grade_rows_one_row_per_submission_with_per_test_columns():
    header, rows = grade_rows(sample_results())
    assert header == [*FIXED_COLUMNS, PUBLIC_SOFTMAX, PUBLIC_SQUARE, HIDDEN_GRADIENT]
    no_lateness = ["", "", "", ""]      # submitted_at, due, late_by_seconds, late_penalty
    assert rows == [
        ["alice", "6", "6", "100", *no_lateness, "2", "1", "3"],
        ["bob", "1", "6", "16.67", *no_lateness, "0", "1", "0"],
        # carol was graded without the hidden suite: her hidden cell stays empty, not 0
        ["carol", "2", "3", "66.67", *no_lateness, "2", "0", ""],
    ]


def test_public_only_sheet_has_no_hidden_column_or_points():
    header, rows = grade_rows(sample_results(), public_only=True)
    assert header == [*FIXED_COLUMNS, PUBLIC_SOFTMAX, PUBLIC_SQUARE]
    assert rows == [["alice", "3", "3", "100", "", "", "", "", "2", "1"],
                    ["bob", "1", "3", "33.33", "", "", "", "", "0", "1"],
                    ["carol", "2", "3", "66.67", "", "", "", "", "2", "0"]]


def test_lateness_columns_show_when_and_how_late_and_a_penalty():
    from autograder.grading.lateness import apply_lateness, lateness_fields, parse_time
    due = parse_time("2026-11-30 23:59:00 UTC")
    on_time, late = sample_results()[:2]
    on_time = apply_lateness(on_time, lateness_fields(parse_time("2026-11-30 20:00:00 UTC"), due))
    late = apply_lateness(late, lateness_fields(parse_time("2026-12-01 01:59:30.5 UTC"), due),
                          penalty="zero")
    check_result(on_time)
    check_result(late)
    header, rows = grade_rows([on_time, late])
    assert header[:8] == ["submission", "score", "max_score", "percent", "submitted_at", "due",
                          "late_by_seconds", "late_penalty"]
    assert rows[0][:8] == ["alice", "6", "6", "100", "2026-11-30T20:00:00+00:00",
                           "2026-11-30T23:59:00+00:00", "0", ""]
    # 2 h 0.5 s late; the zero penalty takes bob's 1 point and says so
    assert rows[1][:8] == ["bob", "0", "6", "0", "2026-12-01T01:59:30+00:00",
                           "2026-11-30T23:59:00+00:00", "7230.5", "1"]
    _, public = grade_rows([on_time, late], public_only=True)
    assert public[1][1] == "0"
    # without a penalty lateness is recorded, never scored
    unpenalised = apply_lateness(late, lateness_fields(parse_time("2026-12-01 01:59:30.5 UTC"),
                                                       due))
    assert unpenalised["score"] == 1 and "late_penalty" not in unpenalised


@pytest.mark.parametrize("field, value", [("late_by_seconds", -1), ("late_by_seconds", "1 h"),
                                          ("submitted_at", 5), ("late_penalty", float("nan"))])
def test_check_result_refuses_bad_lateness_fields(field, value):
    result = dict(sample_results()[0], **{field: value})
    with pytest.raises(MalformedResult, match=field):
        check_result(result)


def test_a_submission_name_never_becomes_a_spreadsheet_formula():
    result = make_result('=HYPERLINK("http://x","y")', [make_test(PUBLIC_SOFTMAX, 2.0, 2.0)])
    rows = list(csv.reader(io.StringIO(csv_text([result]))))
    assert rows[1][0] == '\'=HYPERLINK("http://x","y")'


def test_cli_csv_public_only(monkeypatch, tmp_path, capsys):
    course = make_course(tmp_path / "course")
    results = write_results(tmp_path / "out", sample_results())
    assert run_cli(monkeypatch, course, "export", "csv", ASSIGNMENT, "--results", results,
                   "--public-only") == 0
    out = capsys.readouterr().out
    assert HIDDEN_GRADIENT not in out and out.splitlines()[2].startswith("bob,1,3,33.33,")


def test_csv_columns_do_not_depend_on_file_order(tmp_path):
    results = sample_results()
    assert csv_text(results) == csv_text(sorted(results, key=lambda r: r["submission"]))
    fractional = make_result("dan", [make_test(PUBLIC_SOFTMAX, 0.5, 2.0)])
    rows = list(csv.reader(io.StringIO(csv_text([fractional]))))
    assert rows[1][:4] == ["dan", "0.5", "2", "25"]


def test_cli_csv_writes_the_sheet(monkeypatch, tmp_path, capsys):
    course = make_course(tmp_path / "course")
    results = write_results(tmp_path / "out", sample_results())
    status = run_cli(monkeypatch, course, "export", "csv", ASSIGNMENT, "--results", results,
                     "--to", tmp_path / "sheet" / "grades.csv")
    assert status == 0
    rows = list(csv.DictReader((tmp_path / "sheet" / "grades.csv").open()))
    assert [(r["submission"], r["score"], r["percent"]) for r in rows] == [
        ("alice", "6", "100"), ("bob", "1", "16.67"), ("carol", "2", "66.67")]
    assert "wrote 3 submission(s)" in capsys.readouterr().err


def test_cli_csv_to_stdout_by_default(monkeypatch, tmp_path, capsys):
    course = make_course(tmp_path / "course")
    results = write_results(tmp_path / "out", sample_results()[:1])
    assert run_cli(monkeypatch, course, "export", "csv", ASSIGNMENT, "--results", results) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("submission,score,max_score,percent,")
    assert out.splitlines()[1].startswith("alice,6,6,100,")


def test_cli_csv_skips_a_malformed_file_and_exits_non_zero(monkeypatch, tmp_path, capsys):
    course = make_course(tmp_path / "course")
    results = write_results(tmp_path / "out", sample_results())
    (results / "mallory.json").write_text('{"submission": "mallory", "score": ')
    status = run_cli(monkeypatch, course, "export", "csv", ASSIGNMENT, "--results", results,
                     "--to", tmp_path / "grades.csv")
    assert status == 1
    err = capsys.readouterr().err
    assert "mallory.json: not valid JSON" in err and "skipped" in err
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [r["submission"] for r in rows] == ["alice", "bob", "carol"]


@pytest.mark.parametrize("case, message", [
    ("unknown-assignment", "unknown assignment 'assignment9'"),
    ("missing-results", "does not exist"),
    ("empty-results", "holds no <submission>.json files"),
    ("only-bad-results", "none of the result files"),
])
def test_cli_csv_bad_input_is_a_clear_error(monkeypatch, tmp_path, capsys, case, message):
    course = make_course(tmp_path / "course")
    results = tmp_path / "out"
    assignment = ASSIGNMENT
    if case == "unknown-assignment":
        write_results(results, sample_results())
        assignment = "assignment9"
    elif case == "empty-results":
        results.mkdir()
    elif case == "only-bad-results":
        results.mkdir()
        (results / "x.json").write_text("[]")
    status = run_cli(monkeypatch, course, "export", "csv", assignment, "--results", results)
    assert status == 2
    err = capsys.readouterr().err
    assert "autograder: error: " in err and message in err

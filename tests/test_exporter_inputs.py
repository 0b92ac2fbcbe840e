"""The exporter tests' inputs (tests/support/exporter_inputs.py) are what the grader writes
and what a course is, and `autograder export` without a format is refused."""
import pytest

from autograder.result import check_result
from tests.support.exporter_inputs import ASSIGNMENT, make_course, run_cli, sample_results


def test_sample_results_follow_the_result_schema():
    for result in sample_results():
        check_result(result)
        assert result["score"] == sum(t["score"] for t in result["tests"])


def test_make_course_is_found_as_a_course(tmp_path):
    from autograder.course import Course

    course = Course(make_course(tmp_path))
    assert course.assignments() == [ASSIGNMENT]
    assert (course.public_tests(ASSIGNMENT) / "test_warmup.py").is_file()
    assert (course.hidden_tests(ASSIGNMENT) / "test_hidden_warmup.py").is_file()


def test_export_requires_a_format(monkeypatch, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(monkeypatch, make_course(tmp_path), "export")
    assert exit_info.value.code == 2
    assert "FORMAT" in capsys.readouterr().err

"""Grading many submissions: pool and Dask, atomic results, skipping unchanged work, CSV."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.grading.batch import format_grade_table, grade_submissions, plan_submissions
from autograder.result import write_json_atomically
from autograder.cli import main as cli_main
from autograder.course import Course
from autograder.errors import UserError
from autograder.sandbox import running_as_root
from tests.support.submissions import copy_assignment, zip_folder

ASSIGNMENT = "assignment0"
SNIPPETS = Path(__file__).resolve().parent / "submissions"


@pytest.fixture(scope="module")
def course(repo_root):
    return Course(repo_root)


@pytest.fixture(scope="module")
def submitted(course, tmp_path_factory):
    """nbgrader layout submitted/<student>/assignment0 for alice and bob, plus a zip of bob."""
    root = tmp_path_factory.mktemp("submitted")
    alice = copy_assignment(course, root / "alice" / ASSIGNMENT)
    bob = copy_assignment(course, root / "bob" / ASSIGNMENT,
                          append="\ndef softmax(scores):\n    return np.full(np.shape(scores), 7.0)\n")
    bob_zip = zip_folder(bob, root / "bob.zip")
    return {"alice": alice, "bob": bob, "bob_zip": bob_zip, "root": root}


def test_plan_names_submissions_and_refuses_missing_paths_before_any_work(submitted, tmp_path):
    plan = plan_submissions(ASSIGNMENT, [submitted["alice"], submitted["bob"], submitted["bob_zip"]])
    assert [name for name, _ in plan] == ["alice", "bob", "bob-2"]
    with pytest.raises(UserError, match=r"do not exist: .*nobody-here.*ghost\.zip"):
        plan_submissions(ASSIGNMENT, [submitted["alice"], tmp_path / "nobody-here",
                                      tmp_path / "ghost.zip"])


def test_atomic_write_replaces_whole_files_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "alice.json"
    write_json_atomically(target, {"score": 1})
    write_json_atomically(target, {"score": 2})
    assert json.loads(target.read_text()) == {"score": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["alice.json"]


@pytest.fixture(scope="module")
def pool_run(course, submitted, tmp_path_factory):
    out = tmp_path_factory.mktemp("grades") / "pool"
    results = grade_submissions(course, ASSIGNMENT,
                                [submitted["alice"], submitted["bob"], submitted["bob_zip"]],
                                workers=2, out=out, progress=False, timeout=10)
    return out, results


def test_pool_grades_every_submission_and_writes_results_and_summary(pool_run):
    out, results = pool_run
    assert [r["submission"] for r in results] == ["alice", "bob", "bob-2"]
    alice, bob, bob_zip = results
    assert alice["score"] == alice["max_score"] > 0
    assert bob["score"] < bob["max_score"]
    assert [t["score"] for t in bob_zip["tests"]] == [t["score"] for t in bob["tests"]], \
        "a zip grades exactly like the folder it was made from"
    for result in results:
        assert json.loads((out / f"{result['submission']}.json").read_text()) == result
        assert len(result["fingerprint"]) == 64 and result["graded_at"]
    with open(out / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["submission"] for row in rows] == ["alice", "bob", "bob-2"]
    assert float(rows[1]["score"]) == bob["score"]
    assert int(rows[1]["failed"]) == sum(t["status"] == "failed" for t in bob["tests"])
    first_test = alice["tests"][0]["name"]
    assert float(rows[0][first_test]) == alice["tests"][0]["score"]
    table = format_grade_table(results)
    assert "bob-2" in table and f"{alice['score']:g} / {alice['max_score']:g}" in table


def test_rerun_skips_unchanged_submissions_and_force_regrades(course, submitted, pool_run,
                                                              tmp_path):
    out, first = pool_run
    # reuse: same fingerprints -> nothing is graded, stored results (graded_at included)
    # come back unchanged
    again = grade_submissions(course, ASSIGNMENT, [submitted["alice"], submitted["bob"],
                                                   submitted["bob_zip"]],
                              workers=2, out=out, progress=False, timeout=10)
    assert again == first
    # a changed submission, a changed flag or --force does regrade
    changed = copy_assignment(course, tmp_path / "alice" / ASSIGNMENT)
    other_out = tmp_path / "out"
    shutil.copytree(out, other_out)
    (changed / "nnfs" / "notes.txt").write_text("I also wrote this\n")
    rerun = grade_submissions(course, ASSIGNMENT, [changed], workers=1, out=other_out,
                              progress=False, timeout=10)
    assert rerun[0]["fingerprint"] != first[0]["fingerprint"]
    assert rerun[0]["graded_at"] >= first[0]["graded_at"]
    forced = grade_submissions(course, ASSIGNMENT, [submitted["bob_zip"]], workers=1,
                               out=other_out, progress=False, timeout=10, force=True)
    stored = json.loads((other_out / "bob.json").read_text())
    assert forced[0]["submission"] == "bob" and stored["graded_at"] == forced[0]["graded_at"]


def test_cli_grade_prints_the_table_and_refuses_bad_input(course, submitted, pool_run, capsys):
    out, first = pool_run
    code = cli_main(["--course", str(course.root), "grade", ASSIGNMENT, str(submitted["alice"]),
                     "--out", str(out), "--workers", "1"])
    printed = capsys.readouterr().out
    assert code == 0 and "alice" in printed and "summary.csv" in printed
    assert cli_main(["--course", str(course.root), "grade", ASSIGNMENT, "/no/such/thing"]) == 2
    assert "do not exist" in capsys.readouterr().err
    assert cli_main(["--course", str(course.root), "grade", "assignment99",
                     str(submitted["alice"])]) == 2
    assert "unknown assignment" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_run_keeps_finished_results_and_the_rerun_continues(course, submitted,
                                                                     tmp_path):
    out = tmp_path / "grades"
    folders = [copy_assignment(course, tmp_path / name / ASSIGNMENT) for name in ("s1", "s2", "s3")]
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade",
               ASSIGNMENT, *map(str, folders), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("s*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {path.stem: json.loads(path.read_text()) for path in out.glob("s*.json")}
    assert finished, "the first result should have been written before the kill"
    results = grade_submissions(course, ASSIGNMENT, folders, workers=2, out=out,
                                progress=False)
    for result in results:
        if result["submission"] in finished:
            assert result == finished[result["submission"]], "finished work is not redone"
        assert result["score"] == result["max_score"]


def test_planted_result_files_do_not_survive(course, submitted, tmp_path):
    if not running_as_root():
        pytest.skip("without root the sandboxed child has the grader's uid and could write "
                    "into the results folder; this protection needs the grader to run as root")
    out = tmp_path / "grades"
    snippet = (SNIPPETS / "fake_results.py").read_text().replace("{OUT}", str(out))
    honest = copy_assignment(course, tmp_path / "honest" / ASSIGNMENT)
    hostile = copy_assignment(course, tmp_path / "fake_results" / ASSIGNMENT, append=snippet)
    results = grade_submissions(course, ASSIGNMENT, [honest, hostile], workers=2, out=out,
                                progress=False, timeout=10)
    assert results[0]["score"] == results[1]["score"] == results[0]["max_score"] < 999
    assert json.loads((out / "honest.json").read_text()) == results[0]
    assert sorted(p.name for p in out.iterdir()) == ["fake_results.json", "honest.json",
                                                     "summary.csv"]
    assert json.loads((out / "fake_results.json").read_text()) == results[1]


@pytest.mark.slow
def test_dask_local_cluster_grades_like_the_pool(course, submitted, pool_run, tmp_path):
    distributed = pytest.importorskip("distributed", reason="Dask path needs 'distributed'")
    _, pool_results = pool_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        results = grade_submissions(course, ASSIGNMENT, [submitted["alice"], submitted["bob"]],
                                    scheduler=cluster.scheduler_address, out=tmp_path / "dask",
                                    progress=False, timeout=10)
    for dask_result, pool_result in zip(results, pool_results):
        assert dask_result["submission"] == pool_result["submission"]
        assert [(t["name"], t["score"], t["status"]) for t in dask_result["tests"]] == \
               [(t["name"], t["score"], t["status"]) for t in pool_result["tests"]]
    assert (tmp_path / "dask" / "alice.json").exists()


def _summary_rows(out):
    with open(out / "summary.csv", newline="") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def test_summary_covers_every_signed_result_and_lateness_stays_current(course, tmp_path,
                                                                       capsys):
    """Grading a subset into an existing --out keeps the others in summary.csv; a result
    whose signature fails is named and left out; nbgrader's timestamp.txt and the gradebook's
    due date give the lateness, which follows a new timestamp without regrading the code."""
    from nbgrader.api import Gradebook

    from autograder.exporters.gradebook import gradebook_settings
    from autograder.result import load_results

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, course_id=gradebook_settings(course).course_id) as gradebook:
        gradebook.add_assignment(ASSIGNMENT, duedate="2026-11-30 23:59:00 UTC")
    folders = {name: copy_assignment(course, tmp_path / "submitted" / name / ASSIGNMENT)
               for name in ("ann", "ben", "cat")}
    (folders["ann"] / "timestamp.txt").write_text("2026-11-30 20:00:00.000000 UTC")
    (folders["ben"] / "timestamp.txt").write_text("2026-12-01 00:59:00.500000 UTC")
    out = tmp_path / "grades"
    options = dict(workers=2, out=out, progress=False, timeout=10, gradebook=url)
    first = grade_submissions(course, ASSIGNMENT, [folders["ann"], folders["ben"]], **options)
    assert [r["late_by_seconds"] for r in first] == [0.0, 3600.5]
    assert first[1]["due"] == "2026-11-30T23:59:00+00:00"
    assert first[1]["score"] == first[1]["max_score"], "lateness alone never costs points"
    grade_submissions(course, ASSIGNMENT, [folders["cat"]], **options)
    rows = _summary_rows(out)
    assert sorted(rows) == ["ann", "ben", "cat"]
    assert rows["ben"]["late_by_seconds"] == "3600.5"
    assert rows["ben"]["submitted_at"] == "2026-12-01T00:59:00+00:00"
    assert rows["cat"]["late_by_seconds"] == "" and rows["cat"]["submitted_at"] == ""

    # a new submission time: the result is updated and signed again, the code not regraded
    (folders["ann"] / "timestamp.txt").write_text("2026-12-01 02:00:00.000000 UTC")
    again = grade_submissions(course, ASSIGNMENT, [folders["ann"]], **options)[0]
    assert again["graded_at"] == first[0]["graded_at"]
    assert again["fingerprint"] == first[0]["fingerprint"]
    assert again["late_by_seconds"] == 7260.0
    stored = load_results(out, ASSIGNMENT)
    assert not stored.problems
    assert {r["submission"]: r["late_by_seconds"] for r in stored.results}["ann"] == 7260.0
    # a penalty is applied only when asked for, to the stored result, without regrading
    penalised = grade_submissions(course, ASSIGNMENT, [folders["ben"]], late_penalty="zero",
                                  **options)[0]
    assert penalised["score"] == 0 and penalised["late_penalty"] == first[1]["max_score"]
    assert penalised["graded_at"] == first[1]["graded_at"]

    # a result whose signature fails is reported and left out, not counted
    capsys.readouterr()
    cat = json.loads((out / "cat.json").read_text())
    cat["tests"][0]["output"] = "edited by hand"     # still well-formed, no longer signed
    (out / "cat.json").write_text(json.dumps(cat))
    code = cli_main(["--course", str(course.root), "grade", ASSIGNMENT, str(folders["ann"]),
                     "--out", str(out), "--workers", "1", "--gradebook", url])
    captured = capsys.readouterr()
    assert code == 0
    assert "cat.json" in captured.err and "signature" in captured.err
    assert sorted(_summary_rows(out)) == ["ann", "ben"]
    table = captured.out.split("\n\n")[0]
    assert "ann" in table and "ben" in table and "cat" not in table
    assert "2 h 1 min" in table, "the grade table shows how late"

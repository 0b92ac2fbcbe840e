"""Hostile submissions and hostile result files against `autograder grade` (issue #8).

Each attack is graded in the same batch as honest submissions: the attack gains nothing,
the batch goes on, and the honest submissions keep full marks.
"""
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from autograder.grading.batch import grade_submissions
from autograder.cli import main as cli_main
from autograder.course import Course
from autograder.result_signing import load_key, sign_result, verify_result
from tests.support.submissions import (_members, _with_flags, _write_zip, copy_assignment,
                                       zip_folder)

ASSIGNMENT = "assignment0"
WRONG_SOFTMAX = "\ndef softmax(scores):\n    return np.full(np.shape(scores), 7.0)\n"


@pytest.fixture(scope="module")
def course(repo_root):
    return Course(repo_root)


# -- broken zips ---------------------------------------------------------------------------------
def broken_zips(honest, where):
    """A zip of the honest folder spoiled in each of the ways issue #8 lists."""
    members = _members(honest)
    zips = {}
    secret = f"{ASSIGNMENT}/nnfs/secret.py"
    raw = _write_zip(where / "encrypted.zip", members + [(secret, b"x = 1\n")]).read_bytes()
    (where / "encrypted.zip").write_bytes(_with_flags(raw, secret, 0x1))
    zips["encrypted"] = where / "encrypted.zip"
    odd = f"{ASSIGNMENT}/nnfs/QQ.py"     # says "UTF-8 names", then the name is not UTF-8
    raw = _write_zip(where / "non_utf8.zip", members + [(odd, b"x = 1\n")]).read_bytes()
    (where / "non_utf8.zip").write_bytes(
        _with_flags(raw, odd, 0x800, new_name=f"{ASSIGNMENT}/nnfs/".encode() + b"\xff\xfe.py"))
    zips["non_utf8"] = where / "non_utf8.zip"
    stored = _write_zip(where / "corrupt.zip", members).read_bytes()
    assert stored.count(b"def softmax") >= 1
    (where / "corrupt.zip").write_bytes(stored.replace(b"def softmax", b"def softmaX"))
    zips["corrupt"] = where / "corrupt.zip"
    (where / "truncated.zip").write_bytes(stored[:len(stored) // 2])
    zips["truncated"] = where / "truncated.zip"
    with zipfile.ZipFile(where / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
        with archive.open(f"{ASSIGNMENT}/nnfs/zeros.bin", "w", force_zip64=True) as sink:
            block = bytes(1 << 20)
            for _ in range(300):
                sink.write(block)
    zips["bomb"] = where / "bomb.zip"
    inner = _write_zip(where / "inner.zip", members).read_bytes()
    zips["nested"] = _write_zip(where / "nested.zip", [("assignment0.zip", inner)])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)        # zipfile: "Duplicate name"
        zips["duplicate"] = _write_zip(where / "duplicate.zip",
                                       members + [(f"{ASSIGNMENT}/nnfs/warmup.py", b"x = 1\n")])
    zips["case"] = _write_zip(where / "case.zip",
                              members + [(f"{ASSIGNMENT}/nnfs/Warmup.py", b"x = 1\n")])
    zips["case_folder"] = _write_zip(where / "case_folder.zip",
                                     members + [(f"{ASSIGNMENT}/NNFS/extra.py", b"x = 1\n")])
    zips["absolute"] = _write_zip(where / "absolute.zip", members + [("/etc/evil.py", b"x")])
    zips["dotdot"] = _write_zip(where / "dotdot.zip",
                                members + [(f"{ASSIGNMENT}/../../evil.py", b"x")])
    link = zipfile.ZipInfo(f"{ASSIGNMENT}/nnfs/reference.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zips["symlink"] = _write_zip(where / "symlink.zip", members + [link])
    return zips


# what each error must say: what is wrong, and what to do
ZIP_ERRORS = {
    "encrypted": ("password-protected", "without a password"),
    "non_utf8": ("not valid UTF-8", "create the zip again"),
    "corrupt": ("not a readable zip file", "resubmit"),
    "truncated": ("not a readable zip file", "resubmit"),
    "bomb": ("unpacks to more than", "leave datasets and outputs out"),
    "nested": ("contains another zip", "zip the assignment folder itself"),
    "duplicate": ("twice", "resubmit"),
    "case_folder": ("differ only in upper/lower case", "Rename or delete one"),
    "case": ("differ only in upper/lower case", "Rename or delete one"),
    "absolute": ("unsafe path", "relative paths only"),
    "dotdot": ("unsafe path", "relative paths only"),
    "symlink": ("symbolic link", "zip real files only"),
}


@pytest.fixture(scope="module")
def zip_batch(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("zips")
    honest = copy_assignment(course, root / "honest" / ASSIGNMENT)
    honest_zip = zip_folder(honest, root / "honest_zip.zip")
    zips = broken_zips(honest, root)
    order = ["honest", *zips, "honest_zip"]
    paths = {"honest": honest, "honest_zip": honest_zip, **zips}
    out = root / "grades"
    results = grade_submissions(course, ASSIGNMENT, [paths[name] for name in order], workers=2,
                                out=out, progress=False, timeout=10)
    return {result["submission"]: result for result in results}, out


def test_honest_submissions_beside_broken_zips_keep_full_marks(zip_batch):
    results, out = zip_batch
    for name in ("honest", "honest_zip"):
        assert results[name]["score"] == results[name]["max_score"] > 0, results[name].get("error")
        assert not results[name].get("error")
    assert [t["score"] for t in results["honest_zip"]["tests"]] == \
        [t["score"] for t in results["honest"]["tests"]]
    assert (out / "summary.csv").exists()


@pytest.mark.parametrize("case", sorted(ZIP_ERRORS))
def test_each_broken_zip_gets_a_clear_error_and_nothing_else(zip_batch, case):
    results, out = zip_batch
    result = results[case]
    what, todo = ZIP_ERRORS[case]
    assert result["score"] == 0 and result["tests"] == []
    assert what in result["error"] and todo in result["error"], result["error"]
    assert "Traceback" not in result["error"], "a grader crash, not a message"
    stored = json.loads((out / f"{case}.json").read_text())
    assert stored == result and verify_result(stored, load_key())
    assert not (out.parent / "evil.py").exists() and not Path("/etc/evil.py").exists()


# -- forged and sabotaged results --------------------------------------------------------------
@pytest.fixture
def graded_pair(course, tmp_path):
    """alice (honest) and mallory (wrong softmax) graded into tmp_path/grades."""
    alice = copy_assignment(course, tmp_path / "alice" / ASSIGNMENT)
    mallory = copy_assignment(course, tmp_path / "mallory" / ASSIGNMENT, append=WRONG_SOFTMAX)
    out = tmp_path / "grades"
    first = grade_submissions(course, ASSIGNMENT, [alice, mallory], workers=2, out=out,
                              progress=False, timeout=10)
    assert first[0]["score"] == first[0]["max_score"] > first[1]["score"]
    return [alice, mallory], out, first


def _full_marks(result):
    forged = json.loads(json.dumps(result))
    for test in forged["tests"]:
        test.update(score=test["max_score"], status="passed", output="")
    forged["score"] = forged["max_score"]
    return forged


def test_a_result_written_outside_the_grader_is_regraded_and_reported(course, graded_pair,
                                                                      capsys, tmp_path):
    paths, out, (alice, mallory) = graded_pair
    # what a solution cell run by `nbgrader autograde` (as the TA) could write: full marks,
    # the right fingerprint, no valid tag (an old tag of the real result, or none)
    forged = _full_marks(mallory)
    (out / "mallory.json").write_text(json.dumps(forged))
    capsys.readouterr()
    # the exporters refuse it ...
    code = cli_main(["--course", str(course.root), "export", "csv", ASSIGNMENT,
                     "--results", str(out), "--to", str(tmp_path / "grades.csv")])
    err = capsys.readouterr().err
    assert code == 1 and "mallory.json: not written by the grader" in err
    assert "mallory" not in (tmp_path / "grades.csv").read_text()
    # ... and `autograder grade` regrades it, says so, and keeps alice's result as it was
    again = grade_submissions(course, ASSIGNMENT, paths, workers=2, out=out, progress=False,
                              timeout=10)
    err = capsys.readouterr().err
    assert "mallory.json: its signature is missing or wrong" in err and "regrading" in err
    assert again[0] == alice, "the honest result is kept untouched"
    assert again[1]["score"] == mallory["score"] < again[1]["max_score"]
    assert again[1]["graded_at"] >= mallory["graded_at"]
    assert verify_result(json.loads((out / "mallory.json").read_text()), load_key())


def test_a_tag_made_with_another_key_does_not_count(course, graded_pair, tmp_path):
    paths, out, (alice, mallory) = graded_pair
    (out / "mallory.json").write_text(json.dumps(sign_result(_full_marks(mallory), b"k" * 32)))
    again = grade_submissions(course, ASSIGNMENT, paths, workers=2, out=out, progress=False,
                              timeout=10)
    assert again[1]["score"] == mallory["score"] and again[0] == alice


@pytest.mark.parametrize("sabotage", ["error", "grader_errors", "not_run"])
def test_gradings_that_ended_in_a_grader_error_are_never_reused(course, graded_pair, sabotage):
    paths, out, (alice, mallory) = graded_pair
    # the grader itself signed these (the grading was sabotaged or the sandbox failed)
    spoiled = json.loads(json.dumps(alice))
    if sabotage == "error":
        spoiled["error"] = "grading this submission took longer than 420 s in total"
    elif sabotage == "grader_errors":
        spoiled["grader_errors"] = ["the sandbox is unavailable: bwrap: setting up uid map"]
    else:
        spoiled["tests"][-1].update(score=0.0, status="error",
                                    output="this test did not run: the grading process stopped")
        spoiled["score"] -= alice["tests"][-1]["score"]
    (out / "alice.json").write_text(json.dumps(sign_result(spoiled, load_key())))
    again = grade_submissions(course, ASSIGNMENT, paths, workers=2, out=out, progress=False,
                              timeout=10)
    assert again[0]["score"] == again[0]["max_score"] and not again[0].get("error")
    assert not again[0].get("grader_errors") and again[0]["graded_at"] >= alice["graded_at"]
    assert again[1] == mallory, "the other submission's clean result is kept"


def test_files_the_copy_takes_are_in_the_fingerprint(course, graded_pair):
    paths, out, (alice, mallory) = graded_pair
    macosx = paths[0] / "__MACOSX"
    macosx.mkdir()
    (macosx / "._warmup.py").write_text("the child gets this file")
    again = grade_submissions(course, ASSIGNMENT, paths, workers=2, out=out, progress=False,
                              timeout=10)
    assert again[0]["fingerprint"] != alice["fingerprint"]
    assert again[0]["score"] == again[0]["max_score"]
    assert again[1] == mallory


# -- stopping the grader -------------------------------------------------------------------------
def _processes_mentioning(marker):
    """Pids whose command line or working directory mentions ``marker`` (read only)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if marker in cmdline or marker in cwd:
            found.append((int(entry), cmdline[:200]))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("signum, to_group", [(signal.SIGTERM, False), (signal.SIGINT, True)])
def test_sigterm_stops_every_worker_and_grading_process_and_keeps_finished_results(course, signum,
                                                                                  to_group):
    """SIGTERM to the grader; SIGINT to its whole process group, as Ctrl-C in a terminal."""
    # scratch folders go to a TMPDIR of our own (other users must be able to enter it)
    base = Path(tempfile.mkdtemp(prefix="autograder-sigterm-"))
    try:
        base.chmod(0o755)
        scratch = base / "tmp"
        scratch.mkdir(mode=0o755)
        honest = copy_assignment(course, base / "honest" / ASSIGNMENT)
        hangs = [copy_assignment(course, base / f"hang{i}" / ASSIGNMENT,
                                 append="\nimport time\nwhile True:\n    time.sleep(1)\n")
                 for i in range(2)]
        out = base / "grades"
        env = dict(os.environ, TMPDIR=str(scratch))
        command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade",
                   ASSIGNMENT, str(honest), *map(str, hangs), "--out", str(out),
                   "--workers", "2", "--timeout", "60"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env, text=True, start_new_session=True)
        deadline = time.monotonic() + 240
        while not (out / "honest.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (out / "honest.json").exists(), "the honest result should come first"
        time.sleep(2)       # the hanging submissions are being graded now
        assert _processes_mentioning(str(base / "hang")), "grading of the hanging ones runs"
        if to_group:
            os.killpg(process.pid, signum)      # the group this test started
        else:
            process.send_signal(signum)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("the grader did not stop within 60 s of the signal") from None
        assert process.returncode != 0
        assert f"stopped by {signal.Signals(signum).name}" in err
        assert "results written so far are kept" in err
        time.sleep(1)
        assert _processes_mentioning(str(base)) == [], "workers or grading processes survived"
        assert list(scratch.iterdir()) == [], "scratch folders were left behind"
        honest_result = json.loads((out / "honest.json").read_text())
        assert verify_result(honest_result, load_key())
        assert honest_result["score"] == honest_result["max_score"] > 0
        assert not list(out.glob("hang*.json")) and not list(out.glob(".*"))
    finally:
        import shutil
        shutil.rmtree(base, ignore_errors=True)


def test_a_signed_result_copied_over_another_submission_is_not_kept(course, tmp_path, capsys):
    # carol hands in exactly alice's files: same fingerprint, but alice's signed result
    # copied to carol.json is still not carol's
    alice = copy_assignment(course, tmp_path / "alice" / ASSIGNMENT)
    carol = copy_assignment(course, tmp_path / "carol" / ASSIGNMENT)
    out = tmp_path / "grades"
    [first] = grade_submissions(course, ASSIGNMENT, [alice], workers=1, out=out, progress=False,
                                timeout=10)
    (out / "carol.json").write_text((out / "alice.json").read_text())
    capsys.readouterr()
    again = grade_submissions(course, ASSIGNMENT, [alice, carol], workers=1, out=out,
                              progress=False, timeout=10)
    assert "carol.json: it is the result of 'alice'" in capsys.readouterr().err
    assert again[0] == first and again[1]["submission"] == "carol"
    assert again[1]["score"] == again[1]["max_score"]

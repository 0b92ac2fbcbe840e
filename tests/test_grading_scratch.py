"""Scratch folders of killed grading processes are swept up by the next run."""
import os
import subprocess
import sys

from autograder.grading.submission import OWNER_FILE, SCRATCH_PREFIX, sweep_stale_scratch


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def make_scratch(tmp_path, name, owner=None):
    folder = tmp_path / (SCRATCH_PREFIX + name)
    (folder / "sandbox").mkdir(parents=True)
    (folder / "sandbox" / "student.py").write_text("x = 1\n")
    if owner is not None:
        (folder / OWNER_FILE).write_text(str(owner))
    return folder


def test_sweep_removes_only_folders_whose_owner_is_gone(tmp_path):
    stale = make_scratch(tmp_path, "killed", owner=dead_pid())
    live = make_scratch(tmp_path, "running", owner=os.getpid())
    unowned = make_scratch(tmp_path, "setting-up")
    unrelated = tmp_path / "someone-elses-folder"
    unrelated.mkdir()
    (unrelated / OWNER_FILE).write_text(str(dead_pid()))

    removed = sweep_stale_scratch(tmp_path)

    assert removed == [stale]
    assert not stale.exists()
    assert live.exists() and unowned.exists() and unrelated.exists()


def test_sweep_ignores_a_corrupt_owner_file(tmp_path):
    folder = make_scratch(tmp_path, "garbled")
    (folder / OWNER_FILE).write_text("not a pid")
    assert sweep_stale_scratch(tmp_path) == []
    assert folder.exists()


def test_sweep_follows_no_planted_link_and_signals_no_process(tmp_path):
    """A symlink named like a scratch folder (to /, with a dead 'owner') and a folder that
    another user made are left alone, and a process working inside the link's target is not
    touched: the sweep removes folders, it never kills."""
    target = tmp_path / "victim-home"
    target.mkdir()
    (target / OWNER_FILE).write_text(str(dead_pid()))
    (target / "precious.txt").write_text("keep me\n")
    link = tmp_path / (SCRATCH_PREFIX + "planted")
    link.symlink_to(target)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 cwd=target)
    foreign = make_scratch(tmp_path, "someone-else", owner=dead_pid())
    try:
        if os.geteuid() == 0:
            os.chown(foreign, 4321, 4321)
        removed = sweep_stale_scratch(tmp_path)
        assert link not in removed and link.is_symlink()
        assert (target / "precious.txt").read_text() == "keep me\n"
        assert bystander.poll() is None, "the sweep signalled a process"
        if os.geteuid() == 0:
            assert foreign.exists() and foreign not in removed
    finally:
        bystander.kill()
        bystander.wait()

"""The sandboxed child: calls, proxies, failures and isolation, on tiny student modules."""
import os
import textwrap
import time

import numpy as np
import pytest

from autograder.sandbox import (Limits, ProtocolError, RemoteObject, Sandbox, StudentCrash,
                                StudentError, StudentTimeout, choose_confinement,
                                prepare_workdir, protect_instructor_files, running_as_root)
from autograder.sandbox.workdir import make_private_dir

STUDENT_MODULE = '''
import os, sys
import numpy as np

calls = 0

def echo(value):
    return value

def double(x):
    global calls
    calls += 1
    return 2 * np.asarray(x)

def unfinished():
    raise NotImplementedError

def divide(a, b):
    return helper(a, b)

def helper(a, b):
    return a / b

def chatty(n):
    for i in range(n):
        print("line", i)
    return n

def spin():
    while True:
        pass

def leave():
    sys.exit(3)

def vanish():
    os._exit(0)

def segfault():
    import ctypes
    ctypes.string_at(0)

def hog():
    blocks = []
    while True:
        blocks.append(np.ones(2**24))

def flood():
    while True:
        sys.stdout.write("x" * 65536)

def write_big_file():
    with open("big.bin", "wb") as handle:
        handle.write(b"0" * (8 * 2**20))

def whoami():
    return os.getuid()

def kill_parent():
    import signal
    os.kill(os.getppid(), signal.SIGKILL)
    return os.getppid()

def read(path):
    with open(path) as handle:
        return handle.read()

class Liar:
    def __eq__(self, other):
        return True
    def __bool__(self):
        return True
    def __float__(self):
        return 1.0
    def __array__(self, *args, **kwargs):
        return np.ones(3)

class Matrix(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

def liar():
    return Liar()

def crafted_array():
    return np.zeros(3).view(Matrix)

class Counter:
    def __init__(self, start=0):
        self.count = start
        self.items = [1.0, 2.0, 3.0]
    def add(self, amount=1):
        self.count += amount
        return self
    def __len__(self):
        return len(self.items)
    def __getitem__(self, index):
        return self.items[index]
'''


@pytest.fixture
def make_box(tmp_path):
    """``make_box(**limits)`` -> a Sandbox over a copy of a folder holding ``probe.py``."""
    boxes = []

    def make(source=STUDENT_MODULE, fork_server=True, engine=None, **limits):
        submission = tmp_path / f"submission{len(boxes)}"
        submission.mkdir()
        (submission / "probe.py").write_text(textwrap.dedent(source))
        private = make_private_dir()
        confinement = choose_confinement(engine=engine)
        box = Sandbox(prepare_workdir(submission, private, owner=confinement.uid),
                      Limits(**{"timeout": 5.0, **limits}), fork_server=fork_server,
                      confinement=confinement)
        boxes.append((box, private))
        return box

    yield make
    for box, private in boxes:
        box.close()
        import shutil
        shutil.rmtree(private, ignore_errors=True)


def test_values_cross_by_copy_and_objects_stay_behind(make_box):
    box = make_box()
    probe = box.import_module("probe")
    nested = {"x": np.arange(3.0), "pair": (1, "two"), "n": None}
    echoed = probe.echo(nested)
    np.testing.assert_array_equal(echoed["x"], nested["x"])
    assert echoed["pair"] == (1, "two") and echoed["n"] is None
    result = probe.double([1, 2])
    result[:] = 0                                   # the child's data is not ours
    np.testing.assert_array_equal(probe.double([1, 2]), [2, 4])
    assert probe.calls == 2                         # module globals read by value

    counter = probe.Counter(start=5)
    assert isinstance(counter, RemoteObject)
    assert counter.add(2).add() is not None and counter.count == 8
    counter.count = 1                               # attribute writes are forwarded
    assert counter.count == 1
    assert len(counter) == 3 and counter[1] == 2.0 and list(counter) == [1.0, 2.0, 3.0]
    assert probe.echo(counter).count == 1           # proxies go back as references


def test_crafted_objects_cannot_pretend_to_be_right(make_box):
    probe = make_box().import_module("probe")
    liar = probe.liar()
    assert isinstance(liar, RemoteObject)
    assert not (liar == "anything")                 # == is identity, never forwarded
    with pytest.raises(ProtocolError, match="the Liar object from probe.liar"):
        _ = liar == np.ones(3)                      # NumPy's side asks for an array
    for convert in (bool, float, np.asarray):
        with pytest.raises(ProtocolError, match="needs a number or a NumPy array"):
            convert(liar)
    with pytest.raises(ProtocolError):
        np.allclose(liar, np.ones(3))
    crafted = probe.crafted_array()
    assert type(crafted) is np.ndarray and not np.array_equal(crafted, np.ones(3))


def test_student_exceptions_come_back_with_a_trimmed_traceback(make_box):
    probe = make_box().import_module("probe")
    with pytest.raises(StudentError) as info:
        probe.divide(1, 0)
    message = str(info.value)
    assert info.value.type_name == "ZeroDivisionError"
    assert "calling probe.divide raised ZeroDivisionError" in message
    assert 'File "probe.py"' in message and "in helper" in message
    assert "runner.py" not in message and "autograder" not in message
    with pytest.raises(StudentError, match="not implemented yet"):
        probe.unfinished()
    with pytest.raises(AttributeError, match="renamed or deleted"):
        _ = probe.missing_function
    assert not hasattr(probe, "missing_function")
    assert probe.double(1) == 2                     # the child survived all of that


def test_timeout_kills_the_child_and_the_next_call_gets_a_fresh_one(make_box):
    box = make_box(timeout=1.0)
    probe = box.import_module("probe")
    counter = probe.Counter()
    generation = box.generation
    with pytest.raises(StudentTimeout, match=r"calling probe.spin did not finish within 1 s"):
        probe.spin()
    assert probe.double(3) == 6                     # module proxies re-import themselves
    assert box.generation == generation + 1
    with pytest.raises(StudentCrash, match="has ended"):
        _ = counter.count


@pytest.mark.parametrize("function, expected", [
    ("leave", r"your code called sys.exit\(3\) while calling probe.leave"),
    ("vanish", r"ended the student process \(exit status 0, e.g. os._exit\(0\)"),
    ("segfault", r"segmentation fault \(SIGSEGV\)"),
    ("hog", r"ran out of memory \(limit 400 MiB\)"),
    ("flood", r"printed more than 1 MiB of output"),
])
def test_crashes_are_named_and_the_sandbox_recovers(make_box, function, expected):
    box = make_box(memory_mb=400, output_flood_bytes=2**20, file_mb=1)
    probe = box.import_module("probe")
    with pytest.raises(StudentCrash, match=expected):
        getattr(probe, function)()
    assert probe.double(2) == 4


def test_files_are_limited_in_size(make_box):
    box = make_box(file_mb=1)
    with pytest.raises(StudentError, match="File too large"):
        box.import_module("probe").write_big_file()


@pytest.mark.parametrize("statement, expected", [
    ("import sys; sys.exit(0)", r"sys.exit\(0\) while importing probe"),
    ("import os; os._exit(0)", r"exit status 0.* while importing probe"),
    ("def broken(:\n    pass", r"importing probe failed with a SyntaxError"),
])
def test_failures_at_import_name_the_module(make_box, statement, expected):
    probe_box = make_box(source=statement)
    with pytest.raises((StudentCrash, StudentError), match=expected):
        probe_box.import_module("probe")


def test_children_started_without_the_fork_server_behave_the_same(make_box):
    box = make_box(fork_server=False, timeout=1.0)
    probe = box.import_module("probe")
    assert probe.double(4) == 8
    with pytest.raises(StudentCrash, match="segmentation fault"):
        probe.segfault()
    with pytest.raises(StudentTimeout):
        probe.spin()
    assert probe.Counter(2).count == 2


def test_killing_the_fork_server_only_costs_a_new_one(make_box):
    box = make_box()
    probe = box.import_module("probe")
    probe.kill_parent()                             # student code kills the fork server
    box.restart()
    assert probe.double(5) == 10


def test_output_is_captured_and_truncated(make_box):
    box = make_box(output_kept_bytes=200)
    probe = box.import_module("probe")
    box.take_output()
    assert probe.chatty(3) == 3
    assert box.take_output() == "line 0\nline 1\nline 2\n"
    probe.chatty(100)
    output = box.take_output()
    assert output.startswith("line 0\n") and "output truncated" in output
    assert len(output) < 300


def test_sending_what_may_not_cross_is_refused_before_the_child_sees_it(make_box):
    probe = make_box().import_module("probe")
    with pytest.raises(ProtocolError, match="could not send its arguments"):
        probe.echo(object())


needs_root = pytest.mark.skipif(not running_as_root(), reason="a uid per submission needs the "
                                "grader to run as root; without it the child keeps the "
                                "grader's uid (documented as weaker)")


@needs_root
def test_each_sandbox_runs_as_its_own_uid(make_box):
    first, second = make_box(), make_box()
    uids = {first.import_module("probe").whoami(), second.import_module("probe").whoami()}
    assert len(uids) == 2 and 0 not in uids
    assert all(uid >= 1_000_000_000 for uid in uids)


@needs_root
def test_uid_fallback_protects_instructor_files(tmp_path):
    """Without bubblewrap (the ``uid`` engine) file permissions keep the child out."""
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "probe.py").write_text(STUDENT_MODULE)
    secret_dir = tmp_path / "course" / "autograder" / "hidden"
    secret_dir.mkdir(parents=True)
    (tmp_path / "course" / "assignments").mkdir()
    (secret_dir / "test_secret.py").write_text("EXPECTED = 42\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(tmp_path / "course", 0o755)

    class FakeCourse:
        root = tmp_path / "course"
        hidden_root = secret_dir
        nbgrader_root = tmp_path / "course" / "assignments"

    protect_instructor_files(FakeCourse)
    confinement = choose_confinement(engine="uid")
    private = make_private_dir()
    try:
        with Sandbox(prepare_workdir(submission, private, owner=confinement.uid),
                     Limits(timeout=5), confinement=confinement) as box:
            probe = box.import_module("probe")
            assert probe.whoami() == confinement.uid
            assert box.isolation.startswith("WEAKER ISOLATION")
            with pytest.raises(StudentError, match="PermissionError"):
                probe.read(str(secret_dir / "test_secret.py"))
    finally:
        import shutil
        shutil.rmtree(private, ignore_errors=True)


def is_running(pid):
    """True while ``pid`` exists and is not a zombie (PID 1 may not reap in a container)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


ESCAPER = """
import os, subprocess, sys
def daemon():
    # double fork + setsid + chdir /: out of reach of any process group
    code = "import os, time\\nos.setsid()\\nos.chdir('/')\\nif os.fork() == 0:\\n    time.sleep(120)\\n"
    subprocess.Popen([sys.executable, "-c", code])
    return os.getuid()
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="counting processes reads /proc (Linux)")
@pytest.mark.parametrize("engine", ["bubblewrap", "uid"])
def test_processes_that_escape_their_group_end_with_the_sandbox(make_box, engine):
    """bubblewrap: the pid namespace ends; uid fallback: every process of the uid is killed"""
    if engine == "uid" and not running_as_root():
        pytest.skip("the uid fallback needs root")
    if engine == "bubblewrap" and choose_confinement().engine != "bubblewrap":
        pytest.skip("bubblewrap cannot run here")
    box = make_box(source=ESCAPER, engine=engine)
    uid = box.import_module("probe").daemon()
    time.sleep(0.5)

    def survivors():
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and is_running(int(entry)):
                try:
                    if os.stat(f"/proc/{entry}").st_uid == uid and "time.sleep" in \
                            open(f"/proc/{entry}/cmdline").read():
                        found.append(int(entry))
                except OSError:
                    pass
        return found

    if box.confinement.engine == "none":
        pytest.skip("without namespaces or a uid of its own the child's daemons are out of "
                    "the grader's reach (documented)")
    assert survivors(), "the daemon should be running while the sandbox lives"
    box.close()
    deadline = time.monotonic() + 5
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not survivors(), "an escaped daemon outlived its sandbox"


def test_without_dropping_privileges_the_weaker_isolation_is_stated(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "probe.py").write_text(STUDENT_MODULE)
    private = make_private_dir()
    try:
        with Sandbox(prepare_workdir(submission, private), Limits(timeout=5),
                     drop_privileges=False) as box:
            assert box.import_module("probe").whoami() == os.getuid()
            assert box.isolation.startswith("WEAKER ISOLATION")
    finally:
        import shutil
        shutil.rmtree(private, ignore_errors=True)


def test_a_huge_return_value_is_refused_before_the_grader_allocates_it(make_box):
    """A 500 MB answer is refused from its announced size: the grader does not grow."""
    import resource
    box = make_box(source="""
import numpy as np
def huge():
    return np.ones(500 * 2**20 // 8)
def small():
    return np.ones(3)
""", memory_mb=1024, timeout=60.0)
    probe = box.import_module("probe")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ProtocolError, match="transfer limit"):
        probe.huge()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"the grader grew by {grown_mb:.0f} MiB"
    assert list(box.import_module("probe").small()) == [1.0, 1.0, 1.0]


def test_files_written_outside_the_copy_stay_in_the_sandbox(make_box):
    box = make_box(source="""
def plant():
    written = []
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        try:
            with open(folder + "/nnfs-sandbox-test-planted", "w") as handle:
                handle.write("x")
            written.append(folder)
        except OSError:
            pass
    return written
""")
    if box.confinement.engine != "bubblewrap":
        pytest.skip("without bubblewrap the child shares the machine's /tmp (documented)")
    planted = [f"{folder}/nnfs-sandbox-test-planted" for folder in ("/tmp", "/dev/shm",
                                                                    "/var/tmp")]
    for path in planted:
        if os.path.exists(path):
            os.unlink(path)
    assert "/tmp" in box.import_module("probe").plant()
    box.close()
    assert not [path for path in planted if os.path.exists(path)]


def test_the_child_sees_no_course_checkout_and_no_network(make_box, repo_root):
    box = make_box(source="""
import os, socket
def exists(path):
    return os.path.exists(path)
def connect(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__
""")
    if box.confinement.engine != "bubblewrap":
        pytest.skip("only bubblewrap hides the checkout and cuts the network")
    probe = box.import_module("probe")
    for hidden in (".git", "autograder/hidden", "assignments/source", "tests/mutants"):
        assert not probe.exists(str(repo_root / hidden)), hidden
    assert probe.exists(str(repo_root / "course_lib" / "__init__.py"))
    import socket
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert probe.connect("127.0.0.1", server.getsockname()[1]) != "connected"


def test_without_bubblewrap_the_grader_falls_back_loudly(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_BWRAP", "")          # as if bwrap were not installed
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        confinement = choose_confinement()
    assert confinement.engine == ("uid" if running_as_root() else "none")
    assert confinement.description.startswith("WEAKER ISOLATION")
    assert "not installed" in confinement.description


def test_a_python_environment_below_tmp_is_visible_inside(tmp_path):
    """The private /tmp is mounted before the binds: a venv or checkout under /tmp (as CI
    uses) stays visible to the child, while the rest of the machine's /tmp does not."""
    confinement = choose_confinement()
    if confinement.engine != "bubblewrap":
        pytest.skip("only bubblewrap builds the child's filesystem")
    shared = make_private_dir()
    try:
        os.chmod(shared, 0o755)
        (shared / "lib").mkdir()
        (shared / "lib" / "visible.txt").write_text("seen\n")
        os.chmod(shared / "lib", 0o755)
        (shared / "other.txt").write_text("not bound\n")
        argv = confinement.wrap(["/bin/cat", str(shared / "lib" / "visible.txt")], shared / "lib",
                                read_only=[str(shared / "lib")])
        import subprocess
        seen = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              **confinement.popen_kwargs())
        assert seen.stdout == "seen\n", seen.stderr
        unseen = subprocess.run(confinement.wrap(["/bin/cat", str(shared / "other.txt")],
                                                 shared / "lib"),
                                capture_output=True, text=True, timeout=60,
                                **confinement.popen_kwargs())
        assert unseen.returncode != 0
    finally:
        import shutil
        shutil.rmtree(shared, ignore_errors=True)

"""``nbgrader autograde`` runs student notebooks in the sandbox kernel, never as the TA.

One module-scoped ``nbgrader autograde`` run on a copy of the course (its own gradebook and
``submitted/``), with students:

ada      the reference solution: full marks;
mal      the reference solution, plus a solution cell that (a) writes full-marks results
         into the course, nbgrader's folders and the host's /tmp, (b) reads the reference
         solution, the hidden suite, the gradebook and the checkout's .git, (c) leaves a
         daemon behind (double fork + setsid), (d) connects to a server on the host. None
         of it works, and mal's score is what the code earns;
zed      a solution cell that loops until the cell timeout: nbgrader interrupts it, that
         cell fails, the rest of the notebook is graded;
stubborn a solution cell that ignores SIGINT and loops: the launcher replaces the kernel
         after the interrupt goes unanswered, so the notebook is still graded (later cells
         without the lost state fail) instead of hanging or failing as a whole.
crash    a solution cell that ends its kernel (``os._exit``): that cell fails, a fresh
         kernel runs the rest, which fails without the lost state.

Plus the kernel on its own (jupyter_client, no nbgrader): its identity and view of the
machine, interrupt, and no orphans when its launcher is SIGKILLed.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from traitlets.config import PyFileConfigLoader

from autograder.grading import kernelspec
from autograder.release.pipeline import nbgrader_environment
from autograder.sandbox.confinement import running_as_root
from tests.support.notebooks import cells_by_id, fill_in_reference, read_nb
from tests.support.release import REPO_ROOT, run_nbgrader, shared_release

ASSIGNMENT = "assignment0"
NOTEBOOK = "warmup.ipynb"
COURSE_ID = "nnfs-sandbox-test"
CELL_TIMEOUT = 15
FULL_MARKS = {"l2_distances_test": 2, "nearest_neighbours_test": 1, "softmax_test": 2,
              "softmax_loss_test": 3, "standardizer_test": 2}

needs_sandbox_kernel = pytest.mark.skipif(
    shutil.which("bwrap") is None or not running_as_root(),
    reason="the sandbox kernel's guarantees are tested with bubblewrap, as root")

MALICE = '''
import json as _json, os as _os, socket as _socket, sys as _sys
_report = {"uid": _os.getuid()}
_full_marks = _json.dumps({"submission": "mal", "score": 10, "max_score": 10, "tests": []})
for _path in WRITE_TARGETS + PRIVATE_TARGETS:
    try:
        with open(_path, "a") as _f:
            _f.write(_full_marks)
        _report[_path] = "WRITTEN"
    except Exception as _e:
        _report[_path] = "refused: " + type(_e).__name__
for _path in READ_TARGETS:
    try:
        with open(_path, "rb") as _f:
            _report[_path] = "READ %d bytes" % len(_f.read())
    except Exception as _e:
        _report[_path] = "refused: " + type(_e).__name__
for _host, _port in NET_TARGETS:
    try:
        _socket.create_connection((_host, _port), timeout=3).close()
        _report["%s:%d" % (_host, _port)] = "CONNECTED"
    except Exception as _e:
        _report["%s:%d" % (_host, _port)] = "refused: " + type(_e).__name__
_pid = _os.fork()
if _pid == 0:
    _os.setsid()
    if _os.fork() == 0:
        _os.execv(_sys.executable, [_sys.executable, "-c",
                  "import time\\nwhile True: time.sleep(1)", DAEMON_TOKEN])
    _os._exit(0)
_os.waitpid(_pid, 0)
print("MALICE-REPORT " + _json.dumps(_report))
'''

LOOP = '''
import time
while True:            # never ends: the cell times out and nbgrader interrupts it
    time.sleep(0.05)
'''

CRASH = '''
import os
os._exit(1)            # the kernel ends mid-cell
'''

STUBBORN = '''
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:            # ignores the interrupt too
    time.sleep(0.05)
'''


def prepend_to_solution(folder, grade_id, code):
    path = folder / NOTEBOOK
    nb = read_nb(path)
    cell = cells_by_id(nb)[grade_id]
    cell.source = code + "\n" + cell.source
    nbformat.write(nb, str(path))


def listening_server():
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(8)
    server.setblocking(False)
    return server


def host_addresses():
    """Loopback and, where there is a route out, this machine's outward address."""
    addresses = {"127.0.0.1"}
    try:
        addresses.add(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))          # no packet is sent for a UDP connect
        addresses.add(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    return sorted(addresses)


def processes_with(token):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def copy_course_with_gradebook(shared_root, dest):
    """The shared release's course (config, source, release, gradebook), without students."""
    skip = {"submitted", "autograded", "feedback", "exchange", "feedback_cache"}
    shutil.copytree(shared_root, dest,
                    ignore=lambda folder, names: [n for n in names
                                                  if Path(folder) == shared_root and n in skip])
    return dest


@pytest.fixture(scope="module")
def autograded(tmp_path_factory):
    course, _release = shared_release(tmp_path_factory)
    scratch = tmp_path_factory.mktemp("nbgrader_sandbox")
    root = copy_course_with_gradebook(course.nbgrader_root, scratch / "course" / "assignments")
    shutil.copytree(course.hidden_root, scratch / "course" / "autograder" / "hidden")
    source = root / "source" / ASSIGNMENT
    release = root / "release" / ASSIGNMENT
    submitted = root / "submitted"
    token = f"sandbox-daemon-{secrets.token_hex(8)}"
    host_tmp_file = Path("/tmp") / f"{token}.json"
    server = listening_server()
    port = server.getsockname()[1]

    write_targets = [scratch / "course" / "results" / "mal.json",
                     root / "autograded" / "mal" / ASSIGNMENT / "result.json",
                     submitted / "mal" / ASSIGNMENT / "result.json",
                     root / "gradebook.db"]
    # Writable, but private to the sandbox: nothing reaches the host.
    private_targets = [str(host_tmp_file), "written_by_the_notebook.json"]
    read_targets = [source / NOTEBOOK, source / "nnfs" / "warmup.py",
                    next(p for p in (scratch / "course" / "autograder" / "hidden").rglob("*.py")),
                    root / "gradebook.db", REPO_ROOT / ".git" / "HEAD",
                    REPO_ROOT / "assignments" / "source" / ASSIGNMENT / "nnfs" / "warmup.py"]
    malice = (f"WRITE_TARGETS = {json.dumps([str(p) for p in write_targets])}\n"
              f"PRIVATE_TARGETS = {json.dumps(private_targets)}\n"
              f"READ_TARGETS = {json.dumps([str(p) for p in read_targets])}\n"
              f"NET_TARGETS = {json.dumps([[h, port] for h in host_addresses()])}\n"
              f"DAEMON_TOKEN = {token!r}\n" + MALICE)

    for student, extra in (("ada", None), ("mal", malice), ("zed", LOOP),
                           ("stubborn", STUBBORN), ("crash", CRASH)):
        folder = submitted / student / ASSIGNMENT
        shutil.copytree(release, folder)
        fill_in_reference(folder, source)
        if extra:
            prepend_to_solution(folder, "nearest_neighbours", extra)
    before = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}

    env = {**nbgrader_environment(), "NBGRADER_COURSE_ID": COURSE_ID,
           "NBGRADER_CELL_TIMEOUT": str(CELL_TIMEOUT), "HOME": str(scratch)}
    started = time.monotonic()
    done = run_nbgrader(["autograde", ASSIGNMENT], root, env, expect_ok=False)
    elapsed = time.monotonic() - started
    time.sleep(1)
    accepted = []
    try:
        while True:
            accepted.append(server.accept())
    except BlockingIOError:
        pass
    server.close()
    yield {"root": root, "done": done, "elapsed": elapsed, "token": token,
           "write_targets": write_targets, "read_targets": read_targets,
           "accepted": accepted, "before": before, "submitted": submitted,
           "db": f"sqlite:///{root / 'gradebook.db'}", "host_tmp_file": host_tmp_file}
    host_tmp_file.unlink(missing_ok=True)


def scores(autograded, student):
    with Gradebook(autograded["db"], course_id=COURSE_ID) as gb:
        notebook = gb.find_submission_notebook("warmup", ASSIGNMENT, student)
        return {g.name: g.auto_score for g in notebook.grades if g.name in FULL_MARKS}


def graded_notebook(autograded, student):
    return read_nb(autograded["root"] / "autograded" / student / ASSIGNMENT / NOTEBOOK)


def malice_report(autograded):
    cell = cells_by_id(graded_notebook(autograded, "mal"))["nearest_neighbours"]
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    line = next(line for line in text.splitlines() if line.startswith("MALICE-REPORT "))
    return json.loads(line[len("MALICE-REPORT "):])


@pytest.mark.slow
@needs_sandbox_kernel
def test_autograde_succeeds_and_the_honest_student_keeps_full_marks(autograded):
    done = autograded["done"]
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert scores(autograded, "ada") == FULL_MARKS


@pytest.mark.slow
@needs_sandbox_kernel
def test_student_code_ran_as_its_own_user_and_wrote_nothing(autograded):
    report = malice_report(autograded)
    assert report["uid"] != 0 and report["uid"] != os.getuid()
    for path in autograded["write_targets"]:
        assert report[str(path)].startswith("refused"), report
    assert report["written_by_the_notebook.json"] == "WRITTEN", "its private copy is writable"
    assert report[str(autograded["host_tmp_file"])] == "WRITTEN", "its private /tmp too"
    assert not (autograded["root"].parent / "results").exists()
    assert not autograded["host_tmp_file"].exists()
    graded = autograded["root"] / "autograded" / "mal" / ASSIGNMENT
    assert not (graded / "result.json").exists()
    assert not (graded / "written_by_the_notebook.json").exists(), "the copy was discarded"
    after = {p: p.read_bytes() for p in autograded["submitted"].rglob("*") if p.is_file()}
    assert after == autograded["before"], "submitted/ is as the students handed it in"
    # The malice cost nothing and gained nothing: mal's code is the reference.
    assert scores(autograded, "mal") == FULL_MARKS


@pytest.mark.slow
@needs_sandbox_kernel
def test_student_code_could_not_read_instructor_files(autograded):
    report = malice_report(autograded)
    for path in autograded["read_targets"]:
        assert report[str(path)].startswith("refused"), report


@pytest.mark.slow
@needs_sandbox_kernel
def test_no_network_and_no_daemon_survives(autograded):
    report = malice_report(autograded)
    connections = {k: v for k, v in report.items() if k.count(":") == 1 and k[0].isdigit()}
    assert connections and all(v.startswith("refused") for v in connections.values()), report
    assert autograded["accepted"] == []
    assert processes_with(autograded["token"]) == [], "a daemon of the notebook survived"


@pytest.mark.slow
@needs_sandbox_kernel
def test_notebook_metadata_keeps_its_own_kernelspec(autograded):
    for student in ("ada", "mal"):
        assert graded_notebook(autograded, student).metadata.kernelspec.name == "python3"


@pytest.mark.slow
@needs_sandbox_kernel
def test_a_cell_that_times_out_is_interrupted_and_the_rest_graded(autograded):
    cell = cells_by_id(graded_notebook(autograded, "zed"))["nearest_neighbours"]
    assert any(o.output_type == "error" for o in cell.outputs)
    assert scores(autograded, "zed") == {**FULL_MARKS, "nearest_neighbours_test": 0}


@pytest.mark.slow
@needs_sandbox_kernel
def test_a_cell_that_ignores_the_interrupt_still_gives_a_graded_notebook(autograded):
    got = scores(autograded, "stubborn")
    # The kernel that ignored SIGINT was replaced: l2_distances ran before; nothing after
    # the loop has the setup cell's imports any more.
    assert got == {**dict.fromkeys(FULL_MARKS, 0), "l2_distances_test": 2}
    assert autograded["elapsed"] < 600


@pytest.mark.slow
@needs_sandbox_kernel
def test_a_cell_that_ends_its_kernel_fails_and_the_rest_is_graded(autograded):
    cell = cells_by_id(graded_notebook(autograded, "crash"))["nearest_neighbours"]
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert errors and "exited with status 1" in errors[0].evalue
    assert scores(autograded, "crash") == {**dict.fromkeys(FULL_MARKS, 0),
                                           "l2_distances_test": 2}


# -- configuration ------------------------------------------------------------------------
def course_config():
    return PyFileConfigLoader("nbgrader_config.py",
                              path=str(REPO_ROOT / "assignments")).load_config()


def test_only_autograde_uses_the_sandbox_kernel():
    from nbgrader.preprocessors import Execute
    from nbgrader.validator import Validator
    config = course_config()
    steps = config.Autograde.autograde_preprocessors
    assert "autograder.grading.kernelspec.SandboxedExecute" in steps and Execute not in steps
    assert "Execute" not in config or "kernel_name" not in config.Execute
    assert Execute(config=config).kernel_name == ""         # validate: the notebook's kernel
    assert Execute in Validator.class_traits()["preprocessors"].default()
    sandboxed = kernelspec.SandboxedExecute(config=config)
    assert sandboxed.kernel_name == kernelspec.KERNEL_NAME
    assert sandboxed.timeout == config.Execute.timeout       # Execute's settings still apply


def test_kernelspec_sends_interrupts_as_messages(tmp_path):
    folder = kernelspec.install(prefix=str(tmp_path))
    spec = json.loads((Path(folder) / "kernel.json").read_text())
    assert spec["argv"][1:] == ["-m", "autograder.sandbox.kernel", "-f", "{connection_file}"]
    assert spec["interrupt_mode"] == "message"
    assert spec["display_name"] == "Python 3 (autograder sandbox)"


def test_missing_kernel_names_the_install_command():
    with pytest.raises(kernelspec.SandboxKernelMissing, match="autograder kernel install"):
        kernelspec.check_installed("nnfs-sandbox-not-installed")
    with pytest.raises(kernelspec.SandboxKernelMissing, match="autograder kernel install"):
        kernelspec.check_installed("python3")                # exists, but is not the sandbox


@pytest.mark.slow
def test_autograde_without_the_kernel_fails_loudly(autograded):
    done = run_nbgrader(["autograde", ASSIGNMENT, "--student=ada", "--force",
                         "--SandboxedExecute.kernel_name=nnfs-sandbox-not-installed"],
                        autograded["root"], {**nbgrader_environment(),
                                             "NBGRADER_COURSE_ID": COURSE_ID},
                        expect_ok=False)
    assert done.returncode != 0
    assert "autograder kernel install" in done.stdout + done.stderr


# -- the kernel alone ---------------------------------------------------------------------
def start_sandbox_kernel(folder, **kwargs):
    from jupyter_client.manager import KernelManager
    kernelspec.check_installed()
    manager = KernelManager(kernel_name=kernelspec.KERNEL_NAME)
    manager.start_kernel(cwd=str(folder), **kwargs)
    return manager


def workspace_of(manager):
    """The launcher's private folder: the one whose kernel-side connection file has this
    kernel's key."""
    key = manager.session.key.decode()
    for connection in Path("/tmp").glob("autograder-kernel-*/sockets/kernel.json"):
        try:
            if json.loads(connection.read_text()).get("key") == key:
                return connection.parent.parent
        except (OSError, ValueError):
            pass
    return None


def gone_within(path, seconds):
    deadline = time.monotonic() + seconds
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return not path.exists()


@pytest.fixture
def sandbox_kernel(tmp_path):
    (tmp_path / "data.txt").write_text("hello from the notebook folder\n")
    manager = start_sandbox_kernel(tmp_path)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    yield manager, client
    client.stop_channels()
    if manager.is_alive():
        manager.shutdown_kernel(now=True)


def execute(client, code, timeout=60):
    chunks = []

    def hook(message):
        if message["msg_type"] == "stream":
            chunks.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            chunks.append(f"{message['content']['ename']}\n")

    reply = client.execute_interactive(code, output_hook=hook, timeout=timeout)
    return reply["content"]["status"], "".join(chunks)


@pytest.mark.slow
@needs_sandbox_kernel
def test_kernel_runs_confined_in_a_copy_of_the_notebook_folder(sandbox_kernel, tmp_path):
    manager, client = sandbox_kernel
    status, out = execute(client, textwrap.dedent(f"""\
        import os
        print(os.getuid(), os.getcwd(), open("data.txt").read().strip())
        open("data.txt", "w").write("changed")
        print(os.path.exists({str(REPO_ROOT / '.git')!r}), os.path.exists({str(tmp_path)!r}))
        """))
    uid, cwd, *rest = out.split()
    assert status == "ok" and int(uid) not in (0, os.getuid()) and cwd == "/submission"
    assert out.splitlines()[1] == "False False"
    assert (tmp_path / "data.txt").read_text() == "hello from the notebook folder\n"
    workspace = workspace_of(manager)
    manager.shutdown_kernel()
    assert gone_within(workspace, 20)


@pytest.mark.slow
@needs_sandbox_kernel
def test_kernel_interrupt_reaches_the_cell(sandbox_kernel):
    manager, client = sandbox_kernel
    message_id = client.execute("import time\nwhile True: time.sleep(0.05)")
    time.sleep(2)
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=30)
    while reply["parent_header"].get("msg_id") != message_id:   # kernel_info from start-up
        reply = client.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert execute(client, "print(6 * 7)") == ("ok", "42\n")


@pytest.mark.slow
@needs_sandbox_kernel
def test_killing_the_launcher_ends_the_sandbox(sandbox_kernel):
    manager, client = sandbox_kernel
    token = f"sandbox-orphan-{secrets.token_hex(8)}"
    status, _ = execute(client, textwrap.dedent(f"""\
        import os, sys
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c",
                         "import time\\nwhile True: time.sleep(1)", {token!r}])
            os._exit(0)
        """))
    assert status == "ok"
    deadline = time.monotonic() + 10
    while not processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(token), "the daemon should be running before the launcher dies"
    workspace = workspace_of(manager)
    assert workspace is not None and workspace.is_dir()
    os.kill(manager.provisioner.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(token) == []
    assert gone_within(workspace, 20), "the launcher's helper removes its private folder"


@pytest.mark.slow
@pytest.mark.skipif(not running_as_root(), reason="the uid fallback needs root")
def test_without_bubblewrap_the_kernel_says_so_and_keeps_its_own_uid(tmp_path):
    log = tmp_path / "launcher.log"
    folder = tmp_path / "notebook"
    folder.mkdir()
    with open(log, "w") as stderr:
        manager = start_sandbox_kernel(folder, env={**os.environ, "AUTOGRADER_BWRAP": ""},
                                       stderr=stderr)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            status, out = execute(client, "import os\nprint(os.getuid(), os.getcwd())")
            workspace = workspace_of(manager)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)       # SIGKILL to the launcher
    uid, cwd = out.split()
    assert status == "ok" and int(uid) not in (0, os.getuid())
    assert Path(cwd).is_relative_to(workspace), "a private copy of the notebook folder"
    assert gone_within(workspace, 20), "removed even though the launcher was killed"
    assert "WEAKER ISOLATION" in log.read_text()


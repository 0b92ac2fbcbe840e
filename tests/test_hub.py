"""The course on JupyterHub, used through a real headless browser (issue #12).

A hub from ``hub/`` (``make hub``'s own launcher and configuration, on free loopback ports and
in a temporary state folder) with the demo Unix accounts of ``hub/setup_users.py``:

1. the instructor logs in through the login page, releases assignment 1 (``autograder
   release`` + ``nbgrader release_assignment``) and opens formgrader;
2. a student logs in, fetches assignment 1 from the Assignment List, opens ``knn.ipynb``,
   runs cells (the kNN cell fails on the stub), fills in the student package, runs the cell
   again (it now works) and submits from the Assignment List;
3. a second student cannot read the first one's files, the exchange's submissions or the
   instructor's course folder, and cannot open formgrader; the instructor-only nbgrader
   extensions are not in the students' JupyterLab;
4. the instructor collects; the TA grades with ``autograder grade --hidden``, hands back
   feedback (``nbgrader autograde`` / ``generate_feedback``, ``autograder feedback --nbgrader``,
   ``nbgrader release_feedback``) and can open formgrader;
5. the student fetches the feedback and reads it in their server.

Screenshots of each step go to ``test-artifacts/hub/`` (or ``$NNFS_HUB_ARTIFACTS``); the path is
printed at the end. Needs root, useradd, Chromium and chromedriver (Debian packages ``chromium``
and ``chromium-driver``) and ``make hub-install``; it skips, saying which is missing, without
them. The demo accounts it created are removed afterwards.
"""
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
HUB_DIR = PROJECT / "hub"
HUB_PYTHON = HUB_DIR / ".venv" / "bin" / "python"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("NNFS_HUB_ARTIFACTS", PROJECT / "test-artifacts" / "hub"))
WAIT = 240  # seconds for anything that starts a server or a kernel on a busy machine


def _hub_site_packages():
    found = sorted((HUB_DIR / ".venv" / "lib").glob("python3*/site-packages"))
    return found[0] if found else None


def why_not():
    """Why the end-to-end test cannot run here (None if it can)."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs root on Linux (it creates Unix accounts and spawns servers as them)"
    for tool in ("useradd", "userdel", "groupadd", "chpasswd", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is not available (user management needed for real accounts)"
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        return "Chromium/chromedriver not installed (apt-get install chromium chromium-driver)"
    if not HUB_PYTHON.exists() or not (HUB_DIR / "node_modules" / ".bin" /
                                       "configurable-http-proxy").exists():
        return "the hub is not installed (make hub-install)"
    site = _hub_site_packages()
    if site is None or not (site / "selenium").is_dir():
        return "Selenium is not installed in hub/.venv (make hub-install)"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_course_hub():
    """hub/course_hub.py, read with the environment the test set (a fresh module each time)."""
    spec = importlib.util.spec_from_file_location("course_hub_under_test",
                                                  HUB_DIR / "course_hub.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------
# the hub
# --------------------------------------------------------------------------------------------

class Hub:
    def __init__(self, base, env, mod):
        self.base = base
        self.env = env
        self.mod = mod
        self.url = f"http://127.0.0.1:{env['NNFS_HUB_PORT']}"
        self.proc = None
        self.log_path = base / "hub.log"

    def run_as(self, user, *cmd, role="student", cwd=None, check=True, timeout=600):
        """Run ``cmd`` as ``user`` with the environment the hub gives that user's server."""
        import pwd
        entry = pwd.getpwnam(user)
        env = self.mod.user_environment(role)
        env.update(HOME=entry.pw_dir, USER=user, LOGNAME=user, LANG="C.UTF-8")
        cwd = cwd or (self.mod.NBGRADER_ROOT if role == "staff" else entry.pw_dir)
        script = 'umask 002; cd "$1" && shift && exec "$@"' if role == "staff" else \
            'cd "$1" && shift && exec "$@"'
        full = ["runuser", "-u", user, "--", "env", "-i",
                *(f"{k}={v}" for k, v in env.items()), "sh", "-c", script, "sh", str(cwd),
                *map(str, cmd)]
        proc = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, cmd))} as {user} failed "
                                 f"({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                                 f"{proc.stderr[-3000:]}")
        return proc


def _wait_http(url, deadline, proc=None, what="hub"):
    last = None
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the {what} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:   # an answer all the same
            return exc.code
        except OSError as exc:
            last = exc
        time.sleep(1)
    raise AssertionError(f"{url} did not answer within the time limit ({last})")


@pytest.fixture(scope="module")
def hub():
    reason = why_not()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="nnfs-hub-test-"))
    os.chmod(base, 0o755)
    env = {
        "NNFS_HUB_STATE": str(base / "state"),
        "NNFS_HUB_EXCHANGE": str(base / "exchange"),
        "NNFS_HUB_PORT": str(free_port()),
        "NNFS_HUB_API_PORT": str(free_port()),
        "NNFS_HUB_PROXY_API_PORT": str(free_port()),
        "NNFS_HUB_FORMGRADER_PORT": str(free_port()),
        "COURSE_FAST": "1",
        "COURSE_DATASET": "synthetic",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        mod = load_course_hub()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    import pwd
    existed = [u for u in mod.USERS if _exists(pwd.getpwnam, u)]
    run_env = dict(os.environ, **env)
    setup = subprocess.run([str(HUB_PYTHON), str(HUB_DIR / "setup_users.py"), "create"],
                           env=run_env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    h = Hub(base, run_env, mod)
    log = open(h.log_path, "wb")
    h.proc = subprocess.Popen([str(HUB_PYTHON), str(HUB_DIR / "run_hub.py")], env=run_env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + WAIT
        _wait_http(h.url + "/hub/login", deadline, h.proc)
        _wait_http(f"http://127.0.0.1:{env['NNFS_HUB_FORMGRADER_PORT']}/services/"
                   f"{mod.FORMGRADER_SERVICE}/api", deadline, h.proc, "formgrader service")
        yield h
    finally:
        if h.proc.poll() is None:
            os.killpg(h.proc.pid, signal.SIGTERM)
            try:
                h.proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(h.proc.pid, signal.SIGKILL)
                h.proc.wait()
        log.close()
        if not existed:   # accounts made for this test only
            out = subprocess.run([str(HUB_PYTHON), str(HUB_DIR / "setup_users.py"), "remove"],
                                 env=run_env, capture_output=True, text=True)
            print(out.stdout, out.stderr)
        shutil.rmtree(base, ignore_errors=True)
        print(f"\nhub test artefacts (screenshots): {ARTIFACTS}")


def _exists(getter, name):
    try:
        getter(name)
        return True
    except KeyError:
        return False


# --------------------------------------------------------------------------------------------
# the browser
# --------------------------------------------------------------------------------------------

def _selenium():
    site = str(_hub_site_packages())
    if site not in sys.path:
        sys.path.append(site)  # after the project's packages: only Selenium comes from here
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    return webdriver, Service, By, ActionChains, Keys, WebDriverWait


class Browser:
    """One person's headless Chromium (own profile, so own cookies)."""

    def __init__(self, hub, user, shots):
        webdriver, Service, By, ActionChains, Keys, WebDriverWait = _selenium()
        self.By, self.ActionChains, self.Keys, self.Wait = By, ActionChains, Keys, WebDriverWait
        self.hub, self.user, self.shots = hub, user, shots
        self.profile = tempfile.mkdtemp(prefix="nnfs-hub-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--window-size=1400,900", f"--user-data-dir={self.profile}",
                    "--no-first-run", "--disable-extensions"):
            opts.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(WAIT)

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------
    def shot(self, name):
        self.shots.append(name)
        path = ARTIFACTS / f"{len(self.shots):02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def wait(self, cond, timeout=WAIT, what="condition"):
        try:
            return self.Wait(self.driver, timeout, poll_frequency=0.5).until(
                lambda d: cond(d))
        except Exception as exc:
            self.shot(f"{self.user}-FAILED-waiting-for-{re.sub(r'[^a-z0-9]+', '-', what.lower())}")
            raise AssertionError(f"{self.user}: timed out waiting for {what} at "
                                 f"{self.driver.current_url}") from exc

    def find(self, css):
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    def xpath(self, xp):
        return self.driver.find_elements(self.By.XPATH, xp)

    def text(self):
        return self.driver.find_element(self.By.TAG_NAME, "body").text

    def click(self, element):
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        try:
            element.click()
        except Exception:
            self.driver.execute_script("arguments[0].click();", element)

    # -- the hub ---------------------------------------------------------------------------
    def login(self, password):
        d = self.driver
        d.get(self.hub.url + "/hub/login")
        self.wait(lambda d: self.find("#username_input"), what="the login page")
        d.find_element(self.By.ID, "username_input").send_keys(self.user)
        d.find_element(self.By.ID, "password_input").send_keys(password)
        d.find_element(self.By.ID, "login_submit").click()
        self.wait_for_lab()

    def server_url(self, path=""):
        return f"{self.hub.url}/user/{self.user}/{path}"

    def wait_for_lab(self):
        self.wait(lambda d: f"/user/{self.user}/lab" in d.current_url and
                  self.find(".jp-LabShell") and self.find(".jp-DirListing"),
                  what="JupyterLab")
        time.sleep(2)  # let the extensions add their menus

    def menu(self, top, item):
        bar = self.wait(lambda d: [e for e in self.find(".lm-MenuBar-itemLabel")
                                   if e.text.strip() == top], what=f"the {top} menu")
        self.click(bar[0])
        entry = self.wait(lambda d: [e for e in self.find(".lm-Menu-itemLabel")
                                     if e.text.strip() == item], what=f"menu item {item}")
        self.click(entry[0])

    def menu_items(self, top):
        bar = self.wait(lambda d: [e for e in self.find(".lm-MenuBar-itemLabel")
                                   if e.text.strip() == top], what=f"the {top} menu")
        self.click(bar[0])
        time.sleep(0.5)
        items = [e.text.strip() for e in self.find(".lm-Menu-itemLabel") if e.text.strip()]
        self.ActionChains(self.driver).send_keys(self.Keys.ESCAPE).perform()
        return items

    def api(self, method, path, body=None):
        """Call the user's own Jupyter server API from the page (their cookies, XSRF)."""
        script = """
            const [method, url, body, done] = arguments;
            const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
            fetch(url, {method, headers: {"Content-Type": "application/json",
                                          "X-XSRFToken": decodeURIComponent(xsrf)},
                        body: body === null ? undefined : JSON.stringify(body),
                        credentials: "same-origin"})
              .then(r => r.text().then(t => done([r.status, t])))
              .catch(e => done([0, String(e)]));
        """
        self.driver.set_script_timeout(120)
        status, text = self.driver.execute_async_script(
            script, method, self.server_url("api/" + path.lstrip("/")), body)
        return status, text

    # -- notebooks -------------------------------------------------------------------------
    def open_notebook(self, path):
        self.driver.get(self.server_url(f"lab/tree/{path}"))
        self.wait(lambda d: self.cells(), what=f"notebook {path}")
        # the status bar says "Python 3 (ipykernel) | Idle" once the kernel is up
        self.wait(lambda d: any("Idle" in e.text for e in self.find(".jp-StatusBar-Widget")),
                  what="an idle kernel")
        time.sleep(1)

    def save(self):
        """Ctrl+S, as a student saves the notebook before submitting."""
        self.ActionChains(self.driver).send_keys(self.Keys.ESCAPE).key_down(
            self.Keys.CONTROL).send_keys("s").key_up(self.Keys.CONTROL).perform()
        self.wait(lambda d: not self.find(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty"),
                  what="the notebook to be saved")

    def cells(self):
        return self.find(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def run_cell(self, index, timeout=WAIT):
        """Select cell ``index`` (as in the .ipynb) and run it with Shift+Enter."""
        cell = self.cells()[index]
        prompt = cell.find_elements(self.By.CSS_SELECTOR, ".jp-InputPrompt")[0]
        before = prompt.text
        self.click(prompt)
        self.ActionChains(self.driver).key_down(self.Keys.SHIFT).send_keys(
            self.Keys.ENTER).key_up(self.Keys.SHIFT).perform()

        def finished(d):
            text = self.cells()[index].find_elements(
                self.By.CSS_SELECTOR, ".jp-InputPrompt")[0].text
            return re.search(r"\[\d+\]", text) and text != before
        self.wait(finished, timeout=timeout, what=f"cell {index} to run")
        return self.cell_output(index)

    def cell_output(self, index):
        return "\n".join(e.text for e in self.cells()[index].find_elements(
            self.By.CSS_SELECTOR, ".jp-OutputArea-output"))


# --------------------------------------------------------------------------------------------
# the test
# --------------------------------------------------------------------------------------------

def _solution_file(relpath):
    """The instructor's file with the solution markers taken out (what a correct student writes)."""
    src = (PROJECT / "assignments" / "source" / "assignment1" / relpath).read_text()
    return "".join(line for line in src.splitlines(keepends=True)
                   if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def _notebook_cells(nb_path):
    return json.loads(Path(nb_path).read_text())["cells"]


def test_course_on_jupyterhub_in_a_browser(hub):
    t0 = time.time()
    mod = hub.mod
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    shots = []
    steps = []

    def step(name):
        steps.append((name, time.time()))

    student, other = mod.STUDENTS[0], mod.STUDENTS[1]
    browsers = []

    def browser(user):
        b = Browser(hub, user, shots)
        browsers.append(b)
        b.login(mod.PASSWORD)
        return b

    try:
        step('instructor logs in, releases, opens formgrader')
        # 1. instructor: logs in through the UI, releases assignment 1, opens formgrader.
        inst = browser(mod.INSTRUCTOR)
        assert "Formgrader" in inst.menu_items("Nbgrader")
        inst.shot("instructor-lab")
        hub.run_as(mod.INSTRUCTOR, "autograder", "release", "assignment1", role="staff")
        hub.run_as(mod.INSTRUCTOR, "nbgrader", "release_assignment", "assignment1",
                   role="staff")
        inst.driver.get(f"{hub.url}/services/{mod.FORMGRADER_SERVICE}/formgrader")
        inst.wait(lambda d: "assignment1" in inst.text(), what="formgrader's assignment table")
        inst.shot("instructor-formgrader-released")

        step('student fetches, works, submits')
        # 2. student: Assignment List -> fetch -> knn.ipynb -> run -> edit package -> submit.
        stu = browser(student)
        items = stu.menu_items("Nbgrader")
        assert "Assignment List" in items, items
        assert not {"Formgrader", "Create assignment", "Course List"} & set(items), items
        kernels = json.loads(stu.api("GET", "kernelspecs")[1])["kernelspecs"]
        assert set(kernels) == {"python3"}, kernels   # the grader's sandbox kernel is staff-only
        stu.shot("student-lab")
        stu.menu("Nbgrader", "Assignment List")
        stu.wait(lambda d: stu.xpath("//*[@id='released_assignments_list']"
                                     "//*[contains(text(),'assignment1')]"),
                 what="assignment1 in the released list")
        stu.shot("student-assignment-list")
        fetch = stu.xpath("//*[@id='released_assignments_list']//button[normalize-space()='Fetch']")
        assert fetch, "no Fetch button for assignment1"
        stu.click(fetch[0])
        stu.wait(lambda d: stu.xpath("//*[@id='fetched_assignments_list']"
                                     "//*[contains(text(),'assignment1')]"),
                 what="assignment1 in the downloaded list")
        stu.shot("student-fetched")
        home = Path(f"/home/{student}")
        assert (home / "assignment1" / "knn.ipynb").is_file()

        stu.open_notebook("assignment1/knn.ipynb")
        cells = _notebook_cells(home / "assignment1" / "knn.ipynb")
        code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
        knn_cell = next(i for i in code
                        if "compute_distances_two_loops" in "".join(cells[i]["source"]))
        # the setup cell, the cell that loads the data and the one that reshapes it
        setup_cells = [code[0]] + [i for i in code if i < knn_cell and (
            "load_dataset(" in "".join(cells[i]["source"]) or
            "reshape(num_train" in "".join(cells[i]["source"]))]
        assert len(setup_cells) == 3, setup_cells
        for i in setup_cells:
            out = stu.run_cell(i)
            assert "Traceback" not in out, (i, out)
        out = stu.run_cell(knn_cell)
        assert "NotImplementedError" in out, out   # the stub, before the student's work
        stu.shot("student-knn-stub-fails")

        pkg = "assignment1/nnfs/classifiers/k_nearest_neighbor.py"
        status, body = stu.api("PUT", f"contents/{pkg}", {
            "type": "file", "format": "text",
            "content": _solution_file("nnfs/classifiers/k_nearest_neighbor.py")})
        assert status == 200, (status, body)
        stu.driver.get(stu.server_url(f"lab/tree/{pkg}"))
        stu.wait(lambda d: stu.find(".jp-FileEditor .cm-content"), what="the package in the editor")
        time.sleep(1)
        stu.shot("student-edits-package")
        # back to the notebook: same kernel, and autoreload picks up the edited package
        stu.open_notebook("assignment1/knn.ipynb")
        out = stu.run_cell(knn_cell)
        assert "Traceback" not in out and "Error" not in out, out
        test_cell = next(i for i in code if i > knn_cell and
                         "".join(cells[i]["source"]).lstrip().startswith("# Test cell"))
        out = stu.run_cell(test_cell)
        assert "Traceback" not in out and "OK" in out, out
        stu.shot("student-knn-runs")
        stu.save()

        stu.driver.get(stu.server_url("lab"))
        stu.wait_for_lab()
        stu.menu("Nbgrader", "Assignment List")
        submit = stu.wait(lambda d: stu.xpath(
            "//*[@id='fetched_assignments_list']//button[normalize-space()='Submit']"),
            what="the Submit button")
        stu.click(submit[0])
        stu.wait(lambda d: stu.xpath("//*[@id='submitted_assignments_list']"
                                     "//*[contains(text(),'assignment1')]"),
                 what="the submission in the submitted list")
        stu.shot("student-submitted")

        step('second student: isolation, formgrader refused')
        # 3. another student: no access to the first one's work, the submissions or formgrader.
        oth = browser(other)
        probe = {
            "home": f"/home/{student}/assignment1/knn.ipynb",
            "home_dir": f"/home/{student}",
            "inbound": str(mod.EXCHANGE / mod.COURSE / "inbound"),
            "course": str(mod.COURSE_DIR),
            "hidden": str(PROJECT / "autograder" / "hidden"),
            "source": str(PROJECT / "assignments" / "source"),
        }
        check_src = ("import os\nprobe = {\n" +
                     "".join(f"    {k!r}: {v!r},\n" for k, v in probe.items()) +
                     "}\nresults = {}\n"
                     "for name, path in probe.items():\n"
                     "    try:\n"
                     "        (os.listdir if os.path.isdir(path) else open)(path)\n"
                     "        results[name] = 'READABLE'\n"
                     "    except PermissionError:\n"
                     "        results[name] = 'denied'\n"
                     "for k, v in sorted(results.items()):\n"
                     "    print(f'{k}: {v}')\n")
        nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                         "outputs": [], "source": check_src}],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                          "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        status, body = oth.api("PUT", "contents/isolation.ipynb",
                               {"type": "notebook", "format": "json", "content": nb})
        assert status in (200, 201), (status, body)
        oth.open_notebook("isolation.ipynb")
        out = oth.run_cell(0)
        oth.shot("other-student-cannot-read")
        for name in probe:
            assert f"{name}: denied" in out, out
        oth.driver.get(f"{hub.url}/services/{mod.FORMGRADER_SERVICE}/formgrader")
        oth.wait(lambda d: "403" in oth.text() or "Forbidden" in oth.text() or
                 "404" in oth.text(), what="a refusal of formgrader")
        assert "Manage Assignments" not in oth.text()
        oth.shot("student-formgrader-forbidden")
        oth.driver.get(oth.server_url("formgrader"))   # nor a formgrader in their own server
        oth.wait(lambda d: "404" in oth.text() or "Not Found" in oth.text(),
                 what="no local formgrader")
        assert "Manage Assignments" not in oth.text()

        step('collect, TA grades and releases feedback')
        # 4. instructor collects; the TA grades with the hidden tests and hands back feedback.
        hub.run_as(mod.INSTRUCTOR, "nbgrader", "collect", "assignment1", role="staff")
        submitted = mod.NBGRADER_ROOT / "submitted" / student / "assignment1"
        assert (submitted / "knn.ipynb").is_file()
        ta = browser(mod.TA)
        grades = mod.COURSE_DIR / "grades" / "assignment1"
        out = hub.run_as(mod.TA, "autograder", "grade", "assignment1", str(submitted),
                         "--hidden", "--workers", "1", "--out", str(grades), role="staff")
        result = json.loads((grades / f"{student}.json").read_text())
        assert result["score"] > 0, out.stdout   # the kNN part is done, the rest is stubs
        assert any(t["visibility"] == "hidden" for t in result["tests"])
        # nbgrader's own feedback pages need nbgrader's autograde of the notebook; one
        # notebook (knn) keeps this test short, a course runs it on all.
        hub.run_as(mod.TA, "nbgrader", "autograde", "assignment1", "--notebook", "knn",
                   role="staff")
        hub.run_as(mod.TA, "nbgrader", "generate_feedback", "assignment1", "--notebook", "knn",
                   role="staff")
        hub.run_as(mod.TA, "autograder", "feedback", "assignment1", "--results", str(grades),
                   "--nbgrader", role="staff")
        hub.run_as(mod.TA, "nbgrader", "release_feedback", "assignment1", role="staff")
        ta.driver.get(f"{hub.url}/services/{mod.FORMGRADER_SERVICE}/formgrader")
        ta.wait(lambda d: "assignment1" in ta.text(), what="formgrader for the TA")
        ta.shot("ta-formgrader")

        step('student fetches and reads feedback')
        # 5. the student fetches the feedback and reads it in their own server.
        stu.driver.get(stu.server_url("lab"))
        stu.wait_for_lab()
        stu.menu("Nbgrader", "Assignment List")
        fb = stu.wait(lambda d: stu.xpath(
            "//*[@id='submitted_assignments_list']//button[normalize-space()='Fetch Feedback']"),
            what="the Fetch Feedback button")
        stu.click(fb[0])
        feedback = stu.wait(lambda d: sorted(home.glob("assignment1/feedback/*/knn.html")),
                            what="the feedback folder")
        stu.shot("student-feedback-fetched")
        rel = feedback[0].relative_to(home)
        stu.driver.get(stu.server_url("files/" + urllib.parse.quote(str(rel))))
        stu.wait(lambda d: "knn" in stu.text().lower(), what="the feedback page")
        page = stu.text()
        # nbgrader's page of the notebook, with the autograder's section in it: public and
        # hidden tests apart, the hidden ones never named
        assert "Score" in page and "hidden test 1" in page, page[:2000]
        hidden_row = stu.xpath("//td[normalize-space()='hidden']")
        assert hidden_row
        stu.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});",
                                  hidden_row[0])
        stu.shot("student-reads-feedback")
    finally:
        for b in browsers:
            b.close()
        step("end")
        print(f"\nhub end-to-end: {time.time() - t0:.0f} s; " + "; ".join(
            f"{a[0]}: {b[1] - a[1]:.0f} s" for a, b in zip(steps, steps[1:])))
        print(f"screenshots in {ARTIFACTS}: " + ", ".join(shots))


# --------------------------------------------------------------------------------------------
# configuration checks that need no root and no browser
# --------------------------------------------------------------------------------------------

def _hub_python_or_skip():
    if not HUB_PYTHON.exists():
        pytest.skip("hub/.venv is not installed (make hub-install); JupyterHub is needed to "
                    "load the hub configuration")
    return str(HUB_PYTHON)


def test_hub_config_loads_in_jupyterhub():
    """hub/jupyterhub_config.py loads into JupyterHub's own application and validates."""
    py = _hub_python_or_skip()
    code = r"""
import json, sys
from jupyterhub.app import JupyterHub
app = JupyterHub()
app.load_config_file(sys.argv[1])
cfg = app.config
print(json.dumps({
    "ip": cfg.JupyterHub.ip, "spawner": cfg.JupyterHub.spawner_class,
    "auth": cfg.JupyterHub.authenticator_class,
    "groups": {k: sorted(v["users"]) for k, v in cfg.JupyterHub.load_groups.items()},
    "services": [s["name"] for s in cfg.JupyterHub.services],
    "roles": [[r["name"], r["scopes"], r["groups"]] for r in cfg.JupyterHub.load_roles],
}))
"""
    out = subprocess.run([py, "-c", code, str(HUB_DIR / "jupyterhub_config.py")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    cfg = json.loads(out.stdout.strip().splitlines()[-1])
    assert cfg["ip"] == "127.0.0.1"
    assert cfg["spawner"] == "jupyterhub.spawner.LocalProcessSpawner"
    assert cfg["auth"] == "pam"
    assert set(cfg["groups"]) == {"students", "nbgrader-nnfs", "formgrade-nnfs"}
    assert cfg["groups"]["formgrade-nnfs"] == ["nnfs-instructor", "nnfs-ta"]
    assert cfg["services"] == ["formgrader-nnfs"]
    assert ["formgrade-nnfs", ["access:services!service=formgrader-nnfs"],
            ["formgrade-nnfs"]] in cfg["roles"]


def test_student_servers_hide_instructor_extensions():
    page = json.loads((HUB_DIR / "jupyter" / "student" / "labconfig" /
                       "page_config.json").read_text())["disabledExtensions"]
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert page[f"@jupyter/nbgrader:{plugin}"] is True
    server = json.loads((HUB_DIR / "jupyter" / "student" /
                         "jupyter_server_config.json").read_text())
    ext = server["ServerApp"]["jpserver_extensions"]
    assert ext["nbgrader.server_extensions.formgrader"] is False
    assert "assignment_list" not in json.dumps(ext)   # students keep the Assignment List


def test_kubernetes_values_embed_a_valid_hub_config(tmp_path):
    """hub/k8s/values.yaml: Zero to JupyterHub values whose hub configuration JupyterHub loads.

    No cluster is reachable here, so this is the check that can be made: every
    ``hub.extraConfig`` snippet runs in JupyterHub's own config loader (as z2jh runs them in
    its jupyterhub_config.py), ``hub.config`` loads into the application's traits, and the
    groups, the formgrader role, the ngshare service and the pods' nbgrader config agree.
    """
    py = _hub_python_or_skip()
    code = r"""
import json, sys, yaml
from jupyterhub.app import JupyterHub
from traitlets.config import Config
values = yaml.safe_load(open(sys.argv[1]))
hub_config = json.loads(json.dumps(values["hub"]["config"]))
# the authenticator (oauthenticator) is in z2jh's hub image, not here: load everything else
authenticator = hub_config["JupyterHub"].pop("authenticator_class")
app = JupyterHub()
app.update_config(Config(hub_config))
for name, snippet in sorted(values["hub"]["extraConfig"].items()):
    path = sys.argv[2] + "/" + name + ".py"
    with open(path, "w") as fh:
        fh.write("c = get_config()\n" + snippet)
    app.load_config_file(path)
print(json.dumps({
    "values": values,
    "authenticator": authenticator,
    "allowed": sorted(app.config.Authenticator.allowed_users),
    "groups": {k: v["users"] for k, v in app.config.JupyterHub.load_groups.items()},
    "hook": callable(app.config.KubeSpawner.pre_spawn_hook),
}))
"""
    out = subprocess.run([py, "-c", code, str(HUB_DIR / "k8s" / "values.yaml"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout.strip().splitlines()[-1])
    values = data["values"]
    assert set(data["groups"]) == {"students", "nbgrader-nnfs", "formgrade-nnfs"}
    assert data["hook"], "staff pods get the course volume from a pre_spawn_hook"
    assert data["authenticator"] == "github" and data["allowed"]
    services = values["hub"]["services"]
    assert set(services) == {"ngshare", "formgrader-nnfs"}
    roles = values["hub"]["loadRoles"]
    assert roles["formgrade-nnfs"]["scopes"] == ["access:services!service=formgrader-nnfs"]
    assert roles["formgrade-nnfs"]["groups"] == ["formgrade-nnfs"]
    # every pod's nbgrader talks to ngshare (the service above), not to a shared folder
    nbconfig = values["singleuser"]["extraFiles"]["nbgrader-config"]
    assert nbconfig["mountPath"] == "/etc/jupyter/nbgrader_config.py"
    compile(nbconfig["stringData"], "nbgrader_config.py", "exec")
    assert "configureExchange" in nbconfig["stringData"]
    assert services["ngshare"]["url"] + "/services/ngshare" in nbconfig["stringData"]
    assert values["proxy"]["service"]["type"] == "ClusterIP"

"""The pytest plugin of the TRUSTED grading process (``pytest -p autograder.grading.pytest_plugin``).

It provides

- ``student``: like :class:`course_lib.testing.LocalStudent`, but ``import_module`` returns
  a proxy of the module loaded in a sandboxed child (:mod:`autograder.sandbox`). One child
  serves a test module; after any failed test the next test gets a fresh child (forked in
  milliseconds), so nothing a failure left behind leaks into the next test. A module
  whose import timed out or crashed is not imported again for every test: later tests fail
  at once with the same message.
- ``reference``: the instructor's solution package, imported in this process under a
  private module name (for hidden tests that compute expected values);
- the ``points(n)`` marker (default 1 point);
- one JSON line per test in the file given by ``--autograder-results`` (see
  :func:`result_record`), written as soon as the test ends, so that a grading run that is
  killed keeps what it had.

Nothing the child says decides a verdict: tests run here, on values copied out of the child.
Options are set by :mod:`autograder.grading.submission`; they are not meant to be typed by hand.
"""
import ast
import builtins
import functools
import importlib
import importlib.util
import json
import os
import re
import sys
import sysconfig
import zlib
from collections.abc import Collection, Generator, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from autograder.sandbox import (Confinement, Limits, Sandbox, SandboxError,
                                SandboxUnavailable, StudentCrash, StudentError, StudentTimeout)
from autograder.testing import Feedback
from course_lib.testing import STUDENT_FACTORY

OUTPUT_LIMIT = 4000
_state_key = pytest.StashKey["GradingState"]()
_student_key = pytest.StashKey["SandboxedStudent"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "sandboxed grading (set by autograder.grading.submission)")
    group.addoption("--autograder-workdir", help="the sandbox's private copy of the submission")
    group.addoption("--autograder-original",
                    help="the submission as handed in (read-only for the child), for tests "
                         "that read student source as text")
    group.addoption("--autograder-reference", help="the instructor's assignment folder")
    group.addoption("--autograder-results", help="JSON-lines file for per-test results")
    group.addoption("--autograder-public-dir", help="root of the public tests")
    group.addoption("--autograder-hidden-dir", help="root of the hidden tests")
    group.addoption("--autograder-limits", help="JSON of the Limits of student code (default: Limits())")
    group.addoption("--autograder-confinement",
                    help="JSON of the Confinement chosen for this submission (default: choose)")
    group.addoption("--autograder-interpreter", help="JSON [python, [site dirs]] for the child (default: probe)")


class GradingState:
    """What the plugin keeps for one grading run."""

    def __init__(self, config: pytest.Config) -> None:
        option = config.getoption
        self.workdir = Path(option("--autograder-workdir")).resolve()
        original = option("--autograder-original")
        self.original = Path(original).resolve() if original else self.workdir
        self.reference_dir = option("--autograder-reference")
        self.results_path = option("--autograder-results")
        self.suites = {visibility: Path(option(flag)).resolve() for visibility, flag
                       in (("visible", "--autograder-public-dir"), ("hidden", "--autograder-hidden-dir"))
                       if option(flag)}
        limits = option("--autograder-limits")
        self.limits = Limits(**json.loads(limits)) if limits else Limits()
        interpreter = option("--autograder-interpreter")
        self.interpreter = tuple(json.loads(interpreter)) if interpreter else None
        confinement = option("--autograder-confinement")
        self.confinement = Confinement(**json.loads(confinement)) if confinement else None
        self.failed_imports: dict[str, Exception] = {}
        self.hidden_numbers: dict[str, int] = {}
        self.isolation: str | None = None
        self.path_prefixes = grader_path_prefixes(self)

    def write(self, record: dict[str, Any]) -> None:
        if self.results_path:
            with open(self.results_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    def classify(self, item: pytest.Item) -> tuple[str, str]:
        """(name, visibility) of a test item.

        A public test is named as pytest names it (``tests/test_knn.py::test_x[p]``); a
        hidden test only by its number, ``hidden test 7`` (see :func:`hidden_test_numbers`),
        so that no result, feedback page or export names a hidden file or test.
        """
        path = Path(str(item.path)).resolve()
        test_part = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
        for visibility, root in self.suites.items():
            if path.is_relative_to(root):
                if visibility == "hidden":
                    return self.hidden_name(item), visibility
                return f"tests/{path.relative_to(root).as_posix()}::{test_part}", visibility
        return f"{path.name}::{test_part}", "visible"

    def classify_visibility(self, item: pytest.Item) -> str:
        """``"hidden"`` for an item of the hidden suite, else ``"visible"``."""
        hidden = self.suites.get("hidden")
        path = Path(str(item.path)).resolve()
        return "hidden" if hidden is not None and path.is_relative_to(hidden) else "visible"

    @functools.cached_property
    def known_names(self) -> frozenset[str]:
        """Names of the reference package (:func:`reference_names`), read once."""
        return reference_names(self.reference_dir)

    def hidden_name(self, item: pytest.Item) -> str:
        """``hidden test <n>``; numbers come from the collection (``pytest_collection_finish``)."""
        numbers = self.hidden_numbers
        if item.nodeid not in numbers:          # not collected with the others: next number
            numbers[item.nodeid] = max(numbers.values(), default=0) + 1
        return hidden_test_name(numbers[item.nodeid])


def hidden_test_name(number: int) -> str:
    """The neutral name of the hidden test with the given number (``hidden test 7``)."""
    return f"hidden test {number}"


def hidden_test_numbers(items: Iterable[pytest.Item], hidden_root: str | Path) -> dict[str, int]:
    """``{nodeid: n}`` for the items under ``hidden_root``: 1, 2, ... in collection order.

    The grader and ``autograder hidden-tests`` (:mod:`autograder.grading.private_index`, the
    instructor's private list of which number is which test) both number with this.
    """
    hidden_root = Path(hidden_root).resolve()
    numbers: dict[str, int] = {}
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(hidden_root):
            numbers.setdefault(item.nodeid, len(numbers) + 1)
    return numbers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points a grading test is worth")
    if config.getoption("--autograder-workdir"):
        state = GradingState(config)
        config.stash[_state_key] = state
        config.stash[STUDENT_FACTORY] = _sandboxed_student
        config.pluginmanager.register(ResultRecorder(state), "autograder-results")


def _state(config: pytest.Config) -> GradingState:
    state = config.stash.get(_state_key, None)
    if state is None:
        raise pytest.UsageError("the autograder plugin needs --autograder-workdir "
                                "(run grading through autograder.grading.submission)")
    return state


def points_of(item: pytest.Item) -> float:
    """The points a test is worth (``@pytest.mark.points(n)``, default 1)."""
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker is not None and marker.args else 1.0


class ResultRecorder:
    """Hooks that write the JSON lines: the collected tests, each result, the end."""

    def __init__(self, state: GradingState) -> None:
        self.state = state

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        # Every public test runs before every hidden one: student code can leave files in
        # its copy, and what it prints in a public test is shown, so nothing it saw in a
        # hidden test may come before a public test.
        items.sort(key=lambda item: self.state.classify_visibility(item) == "hidden")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if "hidden" in self.state.suites:
            self.state.hidden_numbers = hidden_test_numbers(session.items,
                                                            self.state.suites["hidden"])
        tests = []
        for item in session.items:
            name, visibility = self.state.classify(item)
            tests.append({"name": name, "max_score": points_of(item),
                          "visibility": visibility})
        self.state.write({"kind": "collected", "tests": tests})

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            # A broken test file is the course's problem, not the student's: say so loudly.
            self.state.write({"kind": "collect_error", "path": str(report.nodeid),
                              "message": str(report.longrepr)[-OUTPUT_LIMIT:]})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            student = item.stash.get(_student_key, None)
            output = student.sandbox.take_output() if student else ""
            self.state.write(result_record(item, self.state, report, call.excinfo, output))
            if call.excinfo is not None and isinstance(call.excinfo.value, SandboxUnavailable):
                self.state.write({"kind": "grader_error", "message": str(call.excinfo.value)})
            if report.failed and student is not None:
                student.sandbox.restart()       # the next test starts from a clean child

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.state.write({"kind": "finished", "isolation": self.state.isolation})


# -- fixtures ---------------------------------------------------------------------------
class SandboxedStudent:
    """The grading-time ``student``: same API as ``course_lib.testing.LocalStudent``.

    Attributes
    ----------
    root : Path
        The submission as handed in, for tests that read student source AS TEXT (e.g. an
        ``ast`` check for banned calls). It is not the child's working copy, which student
        code can rewrite while it runs. Never import from it in the grader.
    sandbox : autograder.sandbox.Sandbox
    """

    def __init__(self, sandbox: Sandbox, state: GradingState) -> None:
        self.sandbox = sandbox
        self.root = state.original
        self._state = state

    def import_module(self, name: str) -> Any:
        """A proxy of the student's module ``name`` (e.g. ``"nnfs.warmup"``)."""
        earlier = self._state.failed_imports.get(name)
        if earlier is not None:
            raise type(earlier)(f"{earlier} (this happened in an earlier test; the grader "
                                "does not import the module again)")
        try:
            return self.sandbox.import_module(name)
        except (StudentTimeout, StudentCrash, SandboxUnavailable) as exc:
            self._state.failed_imports[name] = exc
            raise


@pytest.fixture(scope="module")
def autograder_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """One sandboxed child (restarted after failures) for the tests of one module."""
    state = _state(request.config)
    with Sandbox(state.workdir, state.limits, interpreter=state.interpreter,
                 confinement=state.confinement) as sandbox:
        state.isolation = sandbox.isolation
        yield sandbox


@pytest.fixture
def student(request: pytest.FixtureRequest, autograder_sandbox: Sandbox) -> SandboxedStudent:
    """The student's code, behind the sandbox (see :class:`SandboxedStudent`)."""
    return _sandboxed_student(request)


def _sandboxed_student(request: pytest.FixtureRequest) -> SandboxedStudent:
    """The ``student`` of one test; also what the public suite's ``course_lib.testing``
    fixture hands over to while grading (``STUDENT_FACTORY``), since a conftest's fixture of
    the same name would otherwise shadow the one above."""
    sandbox = request.getfixturevalue("autograder_sandbox")
    sandbox.take_output()            # what earlier tests printed is not ours
    student = SandboxedStudent(sandbox, _state(request.config))
    request.node.stash[_student_key] = student
    _seed_global_random(sandbox, request.node.nodeid)
    return student


def _seed_global_random(sandbox: Sandbox, nodeid: str) -> None:
    """Seed NumPy's global generator here and in the child with a number fixed per test.

    A test's ``np.random.seed(k)`` seeds only this process, while student code draws its
    initial weights in the child, whose generator was seeded from OS entropy when the fork
    server imported NumPy. Without this, a net's random start (and so a borderline gradient
    check or a short training run) would change from one grading run to the next.
    """
    seed = zlib.crc32(nodeid.encode())
    np.random.seed(seed)
    try:
        sandbox.import_module("numpy.random").seed(seed)
    except (SandboxError, SandboxUnavailable):
        pass    # a child that cannot even do this fails the test itself, with its own message


class ReferenceSolution:
    """The instructor's package of one assignment, loaded in the grading process.

    The package (e.g. ``nnfs``) is registered as ``_autograder_reference_<package>`` so it
    can never be confused with anything else; its own absolute imports of ``nnfs.*`` are
    pointed at it while it loads.

    Parameters
    ----------
    assignment_dir : Path
        The instructor's assignment folder (``assignments/source/<assignment>``).
    """

    def __init__(self, assignment_dir: str | Path) -> None:
        self.root = Path(assignment_dir).resolve()

    def import_module(self, name: str) -> ModuleType:
        """The reference module ``name`` (e.g. ``"nnfs.warmup"``)."""
        package, _, rest = name.partition(".")
        private = f"_autograder_reference_{package}"
        if private not in sys.modules:
            init = self.root / package / "__init__.py"
            if not init.exists():
                raise ModuleNotFoundError(f"no reference package {package} in {self.root}")
            spec = importlib.util.spec_from_file_location(
                private, init, submodule_search_locations=[str(init.parent)])
            assert spec is not None and spec.loader is not None     # a file location always has both
            module = importlib.util.module_from_spec(spec)
            sys.modules[private] = module
            with _aliased(package, module):
                spec.loader.exec_module(module)
        with _aliased(package, sys.modules[private]):
            return importlib.import_module(f"{private}.{rest}" if rest else private)


class _aliased:
    """Temporarily make ``import <name>`` give ``module`` (for absolute self-imports)."""

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name, self.module = name, module

    def __enter__(self) -> None:
        self.saved = {key: value for key, value in sys.modules.items()
                      if key == self.name or key.startswith(self.name + ".")}
        sys.modules[self.name] = self.module

    def __exit__(self, *exc_info: object) -> None:
        for key in [key for key in sys.modules
                    if key == self.name or key.startswith(self.name + ".")]:
            del sys.modules[key]
        sys.modules.update(self.saved)


@pytest.fixture(scope="session")
def reference(request: pytest.FixtureRequest) -> ReferenceSolution:
    """The instructor's solution (hidden tests only: never import it in public tests)."""
    state = _state(request.config)
    if not state.reference_dir:
        pytest.fail("no reference folder was given to the grader")
    return ReferenceSolution(state.reference_dir)


# -- paths in what students see ------------------------------------------------------------
#: Absolute or ./.. relative path-like words; one unbounded repeat, no nesting (student text).
_PATH_WORD = re.compile(r"(?<![\w.~])(?:\.\./|\./|/)[\w.@+/-]*")
#: A path the prefixes do not know is shortened to ``.../<file>`` when it names one of these.
_CODE_SUFFIXES = (".py", ".pyx", ".pyc", ".so", ".pyd", ".ipynb", ".json", ".npy", ".npz",
                  ".txt", ".csv")


def grader_path_prefixes(state: GradingState) -> list[tuple[str, str]]:
    """``[(absolute prefix, what students see instead), ...]``, longest first.

    The submission (the sandbox's copy, the snapshot, and ``/submission`` inside the
    sandbox) and the instructor's assignment folder become paths relative to the
    assignment folder; the public tests ``tests/``; ``course_lib``, the grader, Python's
    library and site-packages are named by what they are; the grading process's scratch
    folder and working directory disappear.
    """
    from autograder.grading.submission import _course_lib_dir
    from autograder.sandbox.confinement import WORKDIR_MOUNT
    pairs: list[tuple[str | Path, str]] = [(root, "tests" if visibility == "visible" else "hidden-tests")
                                           for visibility, root in state.suites.items()]
    pairs += [(state.workdir, ""), (state.original, "")]
    if state.reference_dir:
        pairs.append((state.reference_dir, ""))
    pairs.append((WORKDIR_MOUNT, ""))
    course_lib = _course_lib_dir()
    if course_lib:
        pairs.append((course_lib, "course_lib"))
    pairs.append((Path(__file__).resolve().parent, "autograder"))
    paths = sysconfig.get_paths()
    for name, shown in (("purelib", "site-packages"), ("platlib", "site-packages"),
                        ("stdlib", "python"), ("platstdlib", "python")):
        if paths.get(name):
            pairs.append((paths[name], shown))
    # the scratch folder of this grading: .../autograder-grade-*/sandbox/student
    for folder in (state.workdir, state.original):
        for parent in Path(folder).parents:
            if parent.name.startswith("autograder-grade-"):
                pairs.append((parent, "grader-scratch"))
                break
    prefixes: dict[str, str] = {}
    for prefix, shown in pairs:
        for form in {str(prefix), os.path.realpath(prefix)}:
            form = form.rstrip("/") or "/"
            if form != "/":
                prefixes.setdefault(form, shown)
    return sorted(prefixes.items(), key=lambda pair: len(pair[0]), reverse=True)


def neutral_paths(text: str, prefixes: Iterable[tuple[str, str]], cwd: str | None = None) -> str:
    """``text`` with every path under a known prefix made relative or neutral.

    Parameters
    ----------
    prefixes : list of (str, str)
        From :func:`grader_path_prefixes` (absolute prefix -> what to show), longest first.
    cwd : str, optional
        What ``./`` and ``../`` paths (pytest writes paths relative to its working directory
        when that is shorter) are relative to; default the current directory, which is then
        hidden too.

    A path no prefix covers is left alone, unless it is absolute (or climbs with ``..``)
    and names a code or data file: then it becomes ``.../<file name>``.
    """
    cwd = os.getcwd() if cwd is None else cwd
    table = list(prefixes)
    if cwd not in dict(table):
        table = sorted(table + [(cwd.rstrip("/"), "")], key=lambda p: len(p[0]), reverse=True)

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        trail = ""
        while word and word[-1] in ".,":
            word, trail = word[:-1], word[-1] + trail
        if not word or word in ("/", "./", "../"):
            return match.group(0)
        absolute = word if word.startswith("/") else os.path.normpath(os.path.join(cwd, word))
        for prefix, shown in table:
            if absolute == prefix or absolute.startswith(prefix + "/"):
                rest = absolute[len(prefix):].lstrip("/")
                if shown and rest:
                    return f"{shown}/{rest}{trail}"
                return f"{shown or rest or '.'}{trail}"
        if (word.startswith("/") or word.startswith("..")) and absolute.endswith(_CODE_SUFFIXES):
            return f".../{os.path.basename(absolute)}{trail}"
        return match.group(0)

    return _PATH_WORD.sub(replace, text)


# -- results ----------------------------------------------------------------------------
def result_record(item: pytest.Item, state: GradingState, report: pytest.TestReport,
                  excinfo: pytest.ExceptionInfo[BaseException] | None, output: str) -> dict[str, Any]:
    """The result of one test in the schema of docs/ARCHITECTURE.md.

    Parameters
    ----------
    item : pytest.Item
    state : GradingState
    report : pytest.TestReport
        The report of the phase that decided the outcome (call, or a failed setup).
    excinfo : pytest.ExceptionInfo or None
    output : str
        What the student's code printed during the test.
    """
    name, visibility = state.classify(item)
    max_score = points_of(item)
    error = excinfo.value if excinfo is not None else None
    if isinstance(error, SandboxUnavailable):
        status, text = "error", ("the grader could not start the sandbox for your code (a problem "
                                 "of the grading machine, not of your code; staff are told)")
    else:
        status = ("passed" if report.passed else "failed" if report.skipped
                  else "timeout" if isinstance(error, StudentTimeout)
                  else "error" if isinstance(error, SandboxError) or report.when == "setup" else "failed")
        text = (hidden_feedback(item, report, error, state.limits, state.known_names) if visibility == "hidden"
                else visible_feedback(report, excinfo, output, state.path_prefixes))
    return {"kind": "test", "name": name, "score": max_score if status == "passed" else 0.0,
            "max_score": max_score, "status": status, "visibility": visibility, "output": text}


def _truncate(text: str, limit: int = OUTPUT_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[... truncated]"


def visible_feedback(report: pytest.TestReport, excinfo: pytest.ExceptionInfo[BaseException] | None, output: str,
                     path_prefixes: list[tuple[str, str]]) -> str:
    """For a public test: the failure (short traceback or sandbox message) and the output.

    Every path in it is relative to the assignment folder or neutral (:func:`neutral_paths`
    with ``path_prefixes``): never the instructor's checkout or the grader's scratch folder.
    """
    parts = []
    if report.skipped:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        parts.append(f"the grader skipped this test: {reason}")
    elif excinfo is not None and not report.passed:
        if isinstance(excinfo.value, SandboxError):
            parts.append(str(excinfo.value))
        else:
            if not isinstance(excinfo.value, AssertionError):
                parts.append(f"the test could not use your result ({type(excinfo.value).__name__}); "
                             "check the return type and shape against the docstring")
            # pytest's own report: traceback pruned to the test's frames, style --tb=short
            parts.append(_truncate(str(report.longrepr)))
    if output:
        parts.append("--- your code printed ---\n" + _truncate(output))
    return neutral_paths("\n".join(parts), path_prefixes)


#: Exception names a hidden test's feedback may show: Python's own and NumPy's. The child
#: reports the name of a student's exception class, which the student chooses freely (it
#: could spell out a hidden input), so any other name is shown as "an exception".
SHOWN_EXCEPTION_NAMES = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)) | {
    "LinAlgError", "AxisError", "ComplexWarning", "DTypePromotionError", "TooHardError"}

#: Signals a crash message may name, with what they mean.
SIGNAL_HINTS = {
    "SIGSEGV": "a segmentation fault (SIGSEGV), e.g. through ctypes or a native extension",
    "SIGBUS": "a bus error (SIGBUS), e.g. through ctypes or a native extension",
    "SIGABRT": "an abort (SIGABRT) in native code",
    "SIGXCPU": "the CPU time limit (SIGXCPU): the code computes far too long",
    "SIGXFSZ": "the file size limit (SIGXFSZ): the code wrote a file that is too large",
    "SIGFPE": "a floating-point exception signal (SIGFPE) in native code",
}
_DOING = re.compile(r"\b(calling|importing|reading|setting) "
                    r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")


def reference_names(reference_dir: str | Path | None) -> frozenset[str]:
    """Every name the reference package defines: module paths, functions, classes, methods
    and attributes (``self.x = ...``). A hidden test's feedback names only these."""
    names: set[str] = set()
    root = Path(reference_dir) if reference_dir else None
    if root is None or not root.is_dir():
        return frozenset()
    for path in root.rglob("*.py"):
        if "tests" in path.relative_to(root).parts:
            continue
        names.update(path.relative_to(root).with_suffix("").parts)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    names.discard("__init__")
    return frozenset(names)


def _trusted_doing(text: str, known_names: Collection[str]) -> str:
    """``calling nnfs.layers.relu_forward``-like context from a sandbox message, or "".

    Only when every dotted part is a name the reference defines: the child reports class
    names itself, and a student could otherwise spell out a hidden input in one.
    """
    for match in _DOING.finditer(text):
        if all(part in known_names for part in match.group(2).split(".")):
            return f" while {match.group(1)} {match.group(2)}"
    return ""


def hidden_failure_reason(error: BaseException | None, limits: Limits | None = None,
                          known_names: Collection[str] = frozenset()) -> str:
    """What went wrong in a hidden test, in the grader's words only.

    Never the text of a student's exception, a crash message or a traceback: those can
    echo the test's inputs. Shown are fixed sentences; the exception's type if it is one
    of Python's or NumPy's; what the grader was doing if it names only functions, classes
    and modules of the assignment's reference package; the limits; an exit status or
    sys.exit code if it is a small integer; a signal's name. (Code that picks among these
    on purpose can signal a few bits per test, as the verdict and status already can; it
    cannot copy an input out.) A :class:`Feedback` message is shown as written, so test
    authors must not put student values in it (``expect_close`` does not).
    """
    limits = limits or Limits()
    if isinstance(error, Feedback):
        return _truncate(str(error))             # written by the test's author
    text = str(error) if isinstance(error, SandboxError) else ""
    doing = _trusted_doing(text, known_names) if text else ""
    if isinstance(error, StudentTimeout):
        return (f"your code did not finish within {limits.timeout:g} s{doing}: look for an "
                "infinite loop, a blocking call or a far slower algorithm than needed")
    if isinstance(error, StudentError):
        type_name = getattr(error, "type_name", "") or ""
        if type_name == "NotImplementedError":
            return (f"your code raised NotImplementedError{doing}: this part is not "
                    "implemented yet (replace `raise NotImplementedError` with your code)")
        if type_name in ("SyntaxError", "IndentationError", "TabError"):
            where = ""
            if doing.startswith(" while importing "):
                module = doing.removeprefix(" while importing ")
                where = f" (in {module.replace('.', '/')}.py)"
            return (f"your code does not import: a {type_name}{doing}\nfix it so that the "
                    f"file imports{where}; the public tests show the line")
        if isinstance(error, AttributeError) and doing.startswith(" while reading "):
            missing = doing.rsplit(".", 1)[-1]
            return (f"your code has no attribute '{missing}'{doing} (is the name spelled "
                    "as in the assignment, and not renamed or deleted?)")
        shown = type_name if type_name in SHOWN_EXCEPTION_NAMES else "an exception"
        return (f"your code raised {shown}{doing}; run your code on inputs like the ones "
                "this test describes and check shapes, dtypes and edge cases (for hidden "
                "tests the exception's message is not shown)")
    if isinstance(error, StudentCrash):
        if "printed more than" in text:
            return (f"your code printed more than {limits.output_flood_bytes // 2**20} MiB of "
                    f"output{doing}, so the grader stopped it; remove prints from loops")
        if "out of memory" in text:
            return (f"your code ran out of memory (limit {limits.memory_mb} MiB){doing}; look "
                    "for a huge intermediate array, e.g. from broadcasting over an extra axis")
        if "SIGKILL" in text:
            return (f"your code was killed{doing}, most likely for going over the memory "
                    f"limit ({limits.memory_mb} MiB) or the CPU time limit")
        code = re.search(r"sys\.exit\((-?\d{1,3})\)", text)
        if "sys.exit(" in text:
            return (f"your code called sys.exit({code.group(1) if code else ''}){doing}; "
                    "remove the exit call: the grader needs your functions to return")
        status = re.search(r"exit status (\d{1,3})\b", text)
        if status:
            return (f"your code ended its process (exit status {status.group(1)}, e.g. "
                    f"os._exit or a crash in native code){doing}; your functions must return")
        for signal_name, hint in SIGNAL_HINTS.items():
            if f"({signal_name})" in text:
                return f"your code crashed with {hint}{doing}"
        return f"the process running your code stopped unexpectedly{doing}"
    if isinstance(error, SandboxError):
        return (f"the grader could not use what your code returned{doing} (only numbers, "
                "strings, numeric NumPy arrays and lists, tuples and dicts of them can "
                "cross to the grader)")
    if isinstance(error, AssertionError):
        return "your result is not what the test expects"
    return (f"the test could not use your result ({type(error).__name__}); check the "
            "return type and shape against the docstring")


def hidden_feedback(item: pytest.Item, report: pytest.TestReport, error: BaseException | None,
                    limits: Limits | None = None, known_names: Collection[str] = frozenset()) -> str:
    """For a hidden test: what was tested and what went wrong, in words only.

    The first line of the test's docstring (never the test's own name), plus
    :func:`hidden_failure_reason`. Never the test code, the inputs, the expected values,
    raw assertion text, or anything the student's code wrote into an exception.
    """
    doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
    what = doc.splitlines()[0] if doc else "a hidden test"
    if report.passed:
        return what
    if report.skipped:
        return f"{what}: skipped by the grader"
    return f"{what}: {hidden_failure_reason(error, limits, known_names)}"

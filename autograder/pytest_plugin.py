"""The pytest plugin of the TRUSTED grading process (``pytest -p autograder.pytest_plugin``).

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
Options are set by :mod:`autograder.grading`; they are not meant to be typed by hand.
"""
import builtins
import importlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from autograder.sandbox import (Confinement, Limits, Sandbox, SandboxError,
                                SandboxUnavailable, StudentCrash, StudentError, StudentTimeout)
from autograder.testing import Feedback

OUTPUT_LIMIT = 4000
_state_key = pytest.StashKey()
_student_key = pytest.StashKey()


def pytest_addoption(parser):
    group = parser.getgroup("autograder", "sandboxed grading (set by autograder.grading)")
    group.addoption("--autograder-submission", help="the student's prepared copy")
    group.addoption("--autograder-original",
                    help="the submission as handed in (read-only for the child), for tests "
                         "that read student source as text")
    group.addoption("--autograder-reference", help="the instructor's assignment folder")
    group.addoption("--autograder-results", help="JSON-lines file for per-test results")
    group.addoption("--autograder-public-dir", help="root of the public tests")
    group.addoption("--autograder-hidden-dir", help="root of the hidden tests")
    group.addoption("--autograder-timeout", type=float, default=Limits.timeout,
                    help="wall-clock seconds per call into student code")
    group.addoption("--autograder-memory-mb", type=int, default=Limits.memory_mb,
                    help="memory limit of the student process")
    group.addoption("--autograder-confinement", default=None,
                    help="JSON of the Confinement chosen for this submission (default: choose)")
    group.addoption("--autograder-interpreter", default=None,
                    help="JSON [python, [site dirs]] for the child (default: probe)")


class GradingState:
    """What the plugin keeps for one grading run."""

    def __init__(self, config):
        option = config.getoption
        self.submission = Path(option("--autograder-submission")).resolve()
        original = option("--autograder-original")
        self.original = Path(original).resolve() if original else self.submission
        self.reference_dir = option("--autograder-reference")
        self.results_path = option("--autograder-results")
        self.suites = {}
        for visibility, flag in (("visible", "--autograder-public-dir"),
                                 ("hidden", "--autograder-hidden-dir")):
            if option(flag):
                self.suites[visibility] = Path(option(flag)).resolve()
        self.limits = Limits(timeout=option("--autograder-timeout"),
                             memory_mb=option("--autograder-memory-mb"))
        interpreter = option("--autograder-interpreter")
        self.interpreter = tuple(json.loads(interpreter)) if interpreter else None
        confinement = option("--autograder-confinement")
        self.confinement = Confinement(**json.loads(confinement)) if confinement else None
        self.failed_imports = {}
        self.isolation = None

    def write(self, record):
        if self.results_path:
            with open(self.results_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    def classify(self, item):
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

    def hidden_name(self, item):
        """``hidden test <n>``; numbers come from the collection (``pytest_collection_finish``)."""
        numbers = self.__dict__.setdefault("hidden_numbers", {})
        if item.nodeid not in numbers:          # not collected with the others: next number
            numbers[item.nodeid] = max(numbers.values(), default=0) + 1
        return hidden_test_name(numbers[item.nodeid])


HIDDEN_TEST_NAME = "hidden test {}"


def hidden_test_name(number):
    """The neutral name of the hidden test with the given number (``hidden test 7``)."""
    return HIDDEN_TEST_NAME.format(number)


def hidden_test_numbers(items, hidden_root):
    """``{nodeid: n}`` for the items under ``hidden_root``: 1, 2, ... in collection order.

    The grader and ``autograder hidden-tests`` (:mod:`autograder.hidden_index`, the
    instructor's private list of which number is which test) both number with this.
    """
    hidden_root = Path(hidden_root).resolve()
    numbers = {}
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(hidden_root):
            numbers.setdefault(item.nodeid, len(numbers) + 1)
    return numbers


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): points a grading test is worth")
    if config.getoption("--autograder-submission"):
        state = GradingState(config)
        config.stash[_state_key] = state
        config.pluginmanager.register(ResultRecorder(state), "autograder-results")


def _state(config):
    state = config.stash.get(_state_key, None)
    if state is None:
        raise pytest.UsageError("the autograder plugin needs --autograder-submission "
                                "(run grading through autograder.grading)")
    return state


def points_of(item):
    """The points a test is worth (``@pytest.mark.points(n)``, default 1)."""
    marker = item.get_closest_marker("points")
    if marker is None or not marker.args:
        return 1.0
    return float(marker.args[0])


class ResultRecorder:
    """Hooks that write the JSON lines: the collected tests, each result, the end."""

    def __init__(self, state):
        self.state = state
        self.collect_errors = []

    def pytest_collection_finish(self, session):
        if "hidden" in self.state.suites:
            self.state.hidden_numbers = hidden_test_numbers(session.items,
                                                            self.state.suites["hidden"])
        tests = []
        for item in session.items:
            name, visibility = self.state.classify(item)
            tests.append({"name": name, "max_score": points_of(item),
                          "visibility": visibility})
        self.state.write({"kind": "collected", "tests": tests})

    def pytest_collectreport(self, report):
        if report.failed:
            # A broken test file is the course's problem, not the student's: say so loudly.
            self.state.write({"kind": "collect_error", "path": str(report.nodeid),
                              "message": str(report.longrepr)[-OUTPUT_LIMIT:]})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
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

    def pytest_sessionfinish(self, session):
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

    def __init__(self, sandbox, state):
        self.sandbox = sandbox
        self.root = state.original
        self._state = state

    def import_module(self, name):
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
def autograder_sandbox(request):
    """One sandboxed child (restarted after failures) for the tests of one module."""
    state = _state(request.config)
    with Sandbox(state.submission, state.limits, interpreter=state.interpreter,
                 confinement=state.confinement) as sandbox:
        state.isolation = sandbox.isolation
        yield sandbox


@pytest.fixture
def autograder_student(request, autograder_sandbox):
    """The student's code, behind the sandbox (see :class:`SandboxedStudent`)."""
    autograder_sandbox.take_output()            # what earlier tests printed is not ours
    student = SandboxedStudent(autograder_sandbox, _state(request.config))
    request.node.stash[_student_key] = student
    return student


@pytest.fixture
def student(autograder_student):
    return autograder_student


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

    def __init__(self, assignment_dir):
        self.root = Path(assignment_dir).resolve()

    def import_module(self, name):
        """The reference module ``name`` (e.g. ``"nnfs.warmup"``)."""
        package, _, rest = name.partition(".")
        private = f"_autograder_reference_{package}"
        if private not in sys.modules:
            init = self.root / package / "__init__.py"
            if not init.exists():
                raise ModuleNotFoundError(f"no reference package {package} in {self.root}")
            spec = importlib.util.spec_from_file_location(
                private, init, submodule_search_locations=[str(init.parent)])
            module = importlib.util.module_from_spec(spec)
            sys.modules[private] = module
            with _aliased(package, module):
                spec.loader.exec_module(module)
        with _aliased(package, sys.modules[private]):
            return importlib.import_module(f"{private}.{rest}" if rest else private)


class _aliased:
    """Temporarily make ``import <name>`` give ``module`` (for absolute self-imports)."""

    def __init__(self, name, module):
        self.name, self.module = name, module

    def __enter__(self):
        self.saved = {key: value for key, value in sys.modules.items()
                      if key == self.name or key.startswith(self.name + ".")}
        sys.modules[self.name] = self.module

    def __exit__(self, *exc_info):
        for key in [key for key in sys.modules
                    if key == self.name or key.startswith(self.name + ".")]:
            del sys.modules[key]
        sys.modules.update(self.saved)


@pytest.fixture(scope="session")
def reference(request):
    """The instructor's solution (hidden tests only: never import it in public tests)."""
    state = _state(request.config)
    if not state.reference_dir:
        pytest.fail("no reference folder was given to the grader")
    return ReferenceSolution(state.reference_dir)


# -- results ----------------------------------------------------------------------------
def result_record(item, state, report, excinfo, output):
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
        return {"kind": "test", "name": name, "score": 0.0, "max_score": max_score,
                "status": "error", "visibility": visibility,
                "output": "the grader could not start the sandbox for your code (a problem "
                          "of the grading machine, not of your code; staff are told)"}
    if report.passed:
        status = "passed"
    elif report.skipped:
        status = "failed"
    elif isinstance(error, StudentTimeout):
        status = "timeout"
    elif isinstance(error, (SandboxError, SandboxUnavailable)) or report.when == "setup":
        status = "error"
    else:
        status = "failed"
    if visibility == "hidden":
        text = hidden_feedback(item, report, error, state.limits)
    else:
        text = visible_feedback(report, excinfo, output)
    return {"kind": "test", "name": name, "score": max_score if status == "passed" else 0.0,
            "max_score": max_score, "status": status, "visibility": visibility,
            "output": text}


def _truncate(text, limit=OUTPUT_LIMIT):
    return text if len(text) <= limit else text[:limit] + "\n[... truncated]"


def visible_feedback(report, excinfo, output):
    """For a public test: the failure (short traceback or sandbox message) and the output."""
    parts = []
    if report.skipped:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        parts.append(f"the grader skipped this test: {reason}")
    elif excinfo is not None and not report.passed:
        if isinstance(excinfo.value, SandboxError):
            parts.append(str(excinfo.value))
        elif not isinstance(excinfo.value, AssertionError):
            parts.append(f"the test could not use your result ({type(excinfo.value).__name__}); "
                         "check the return type and shape against the docstring")
            parts.append(_truncate(str(report.longrepr)))
        else:
            # pytest's own report: traceback pruned to the test's frames, style --tb=short
            parts.append(_truncate(str(report.longrepr)))
    if output:
        parts.append("--- your code printed ---\n" + _truncate(output))
    return "\n".join(parts)


#: Exception names a hidden test's feedback may show: Python's own and NumPy's. The child
#: reports the name of a student's exception class, which the student chooses freely (it
#: could spell out a hidden input), so any other name is shown as "an exception".
SHOWN_EXCEPTION_NAMES = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)) | {
    "LinAlgError", "AxisError", "ComplexWarning", "DTypePromotionError", "TooHardError"}

#: For a crash in a hidden test: a fixed sentence picked by what the grader's own message
#: says. Nothing of the message itself is shown (it can hold text from the student's code,
#: e.g. the argument of sys.exit).
CRASH_HINTS = (
    ("printed more than", "your code printed so much that the grader stopped it; remove "
                          "prints from loops"),
    ("out of memory", "your code ran out of memory; look for a huge intermediate array"),
    ("SIGKILL", "your code was stopped for going over the memory or CPU time limit; look "
                "for a huge intermediate array or a far slower algorithm than needed"),
    ("sys.exit(", "your code called sys.exit(); your functions must return instead"),
    ("exit status", "your code ended its process (os._exit, exit or a crash in native "
                    "code); your functions must return instead"),
    ("crashed with", "your code crashed (a signal such as a segmentation fault or a "
                     "resource limit)"),
)


def hidden_failure_reason(error, limits=None):
    """What went wrong in a hidden test, in the grader's words only.

    Never the text of a student's exception, a crash message or a traceback: those can
    echo the test's inputs. Only the exception's type (if it is one of Python's or
    NumPy's) and a generic hint.
    """
    if isinstance(error, Feedback):
        return _truncate(str(error))             # written by the test's author
    if isinstance(error, StudentTimeout):
        limit = f" ({limits.timeout:g} s per call)" if limits is not None else ""
        return (f"your code did not finish within the time limit{limit}; look for an "
                "infinite loop, a blocking call or a far slower algorithm than needed")
    if isinstance(error, StudentError):
        type_name = getattr(error, "type_name", "") or ""
        if type_name == "NotImplementedError":
            return ("your code raised NotImplementedError: this part is not implemented yet "
                    "(replace `raise NotImplementedError` with your code)")
        if type_name in ("SyntaxError", "IndentationError", "TabError"):
            return (f"your code does not import ({type_name}); the public tests show where")
        if isinstance(error, AttributeError):
            return ("your code lacks a function, class or attribute this test uses (is a "
                    "name from the assignment renamed or deleted?)")
        shown = type_name if type_name in SHOWN_EXCEPTION_NAMES else "an exception"
        return (f"your code raised {shown}; run your code on inputs like the ones this "
                "test describes and check shapes, dtypes and edge cases (the message is not "
                "shown for hidden tests)")
    if isinstance(error, StudentCrash):
        text = str(error)
        for phrase, hint in CRASH_HINTS:
            if phrase in text:
                return hint
        return "the process running your code stopped unexpectedly"
    if isinstance(error, SandboxError):
        return ("your code returned something the grader cannot use (only numbers, strings, "
                "numeric NumPy arrays and lists, tuples and dicts of them can be returned)")
    if isinstance(error, AssertionError):
        return "your result is not what the test expects"
    return (f"the test could not use your result ({type(error).__name__}); check the "
            "return type and shape against the docstring")


def hidden_feedback(item, report, error, limits=None):
    """For a hidden test: what was tested and what went wrong, in words only.

    The first line of the test's docstring (never the test's own name), plus
    :func:`hidden_failure_reason`. Never the test code, the inputs, the expected values,
    raw assertion text, or anything the student's code wrote into an exception.
    """
    obj = getattr(item, "obj", None)
    doc = (getattr(obj, "__doc__", None) or "").strip()
    what = doc.splitlines()[0] if doc else "a hidden test"
    if report.passed:
        return what
    if report.skipped:
        return f"{what}: skipped by the grader"
    return f"{what}: {hidden_failure_reason(error, limits)}"

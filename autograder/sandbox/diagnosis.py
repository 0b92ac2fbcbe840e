"""Student-facing sentences for what went wrong in the child.

Each message names what the grader was doing ("calling nnfs.warmup.softmax") and what to
look at; none contains grader internals.
"""
import signal
from typing import TYPE_CHECKING, Any

from autograder.sandbox.errors import StudentAttributeError, StudentError

if TYPE_CHECKING:
    from autograder.sandbox.process import Limits


def text_field(value: object, limit: int) -> str:
    """A string field of a child's answer, cut to ``limit`` (anything else: ``?``)."""
    return str(value)[:limit] if isinstance(value, str) else "?"


def student_error(header: dict[str, Any], doing: str) -> StudentError:
    """The StudentError for an ``error`` answer of the child."""
    type_name = text_field(header.get("type"), 120)
    message = text_field(header.get("message"), 4000)
    student_tb = text_field(header.get("traceback"), 8000)
    exception_line = text_field(header.get("exception"), 4000).rstrip()
    if type_name == "NotImplementedError":
        summary = (f"{doing} raised NotImplementedError: this part is not implemented yet "
                   "(replace `raise NotImplementedError` with your code)")
    elif type_name == "AttributeError" and doing.startswith("reading "):
        summary = (f"{doing} failed: {message} (is the name spelled as in the assignment, "
                   "and not renamed or deleted?)")
    elif type_name == "SyntaxError" or type_name == "IndentationError":
        summary = f"{doing} failed with a {type_name}; fix it so that the file imports:\n{exception_line}"
    else:
        summary = f"{doing} raised {exception_line}"
    if student_tb:
        summary += "\nTraceback (your code):\n" + student_tb.rstrip()
    error_class = StudentAttributeError if type_name == "AttributeError" else StudentError
    return error_class(summary, type_name=type_name, detail=message, student_traceback=student_tb)


SIGNAL_ADVICE: dict[int, str] = {
    signal.SIGSEGV: "a segmentation fault (SIGSEGV): memory was accessed out of bounds, e.g. "
                    "through ctypes or a misused native extension",
    signal.SIGBUS: "a bus error (SIGBUS), e.g. through ctypes or a native extension",
    signal.SIGABRT: "an abort (SIGABRT) in native code",
    signal.SIGXCPU: "the CPU time limit (SIGXCPU): the code computes far too long",
    signal.SIGXFSZ: "the file size limit (SIGXFSZ): the code wrote a file that is too large",
    signal.SIGFPE: "a floating-point exception signal (SIGFPE) in native code",
}


def describe_exit(returncode: int | None, doing: str, limits: "Limits", flooded: bool = False) -> str:
    """A student-facing sentence for a child that ended with ``returncode``."""
    if flooded:
        return (f"your code printed more than {limits.output_flood_bytes // 2**20} MiB of "
                f"output while {doing}, so the grader stopped it; remove prints from loops")
    if returncode is None:
        return f"the student process stopped answering while {doing}"
    if returncode >= 0:
        return (f"your code ended the student process (exit status {returncode}, e.g. "
                f"os._exit({returncode}) or a crash in native code) while {doing}; remove "
                "the exit call: the grader needs your functions to return")
    number = -returncode
    if number == signal.SIGKILL:
        return (f"the student process was killed (SIGKILL) while {doing}, most likely for "
                f"going over the memory limit ({limits.memory_mb} MiB) or the CPU time limit "
                f"({limits.cpu_seconds} s)")
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    reason = SIGNAL_ADVICE.get(number, f"signal {name}")
    return f"the student process crashed with {reason} while {doing}"

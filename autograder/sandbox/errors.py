"""What can go wrong in student code, as seen by a test.

Every message is written for the student: it names what the grader was doing (importing a
module, calling a function) and what to look at.
"""


class SandboxError(Exception):
    """Base class of the sandbox's exceptions."""


class StudentTimeout(SandboxError):
    """Student code did not answer within the per-call wall-clock limit."""


class StudentCrash(SandboxError):
    """The child ended: sys.exit/os._exit, a signal (segfault, CPU limit), the
    memory limit, or a flood of output."""


class StudentError(SandboxError):
    """Student code raised an exception.

    Attributes
    ----------
    type_name : str
        The exception's class name, e.g. ``"ValueError"``.
    detail : str
        The exception's message.
    student_traceback : str
        The traceback restricted to frames in the student's files (may be empty).
    """

    def __init__(self, message: str, type_name: str = "Exception", detail: str = "",
                 student_traceback: str = "") -> None:
        super().__init__(message)
        self.type_name = type_name
        self.detail = detail
        self.student_traceback = student_traceback


class StudentAttributeError(StudentError, AttributeError):
    """A name the test needs is missing from the student's module or object (so that
    ``hasattr`` and ``getattr(obj, name, default)`` behave as usual)."""


class ProtocolError(SandboxError):
    """A value that may not cross the boundary, or a malformed message from the child."""

"""Helpers for the assignment notebooks' setup cells."""
import sys
import warnings
from typing import TextIO


def show_warnings_on_stdout() -> None:
    """Print warnings (e.g. NumPy's RuntimeWarning) on stdout instead of stderr.

    nbgrader scores a test cell zero when it writes anything to stderr, so a harmless
    ``overflow encountered in exp`` would cost points. Students still see every warning.
    """
    def print_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: TextIO | None = None, line: str | None = None) -> None:
        print(warnings.formatwarning(message, category, filename, lineno, line),
              end="", file=sys.stdout)

    warnings.showwarning = print_warning

"""Public tests reach your code through the ``student`` fixture (a plain import here)."""
try:
    from course_lib.testing import student  # noqa: F401
except ModuleNotFoundError as error:
    if (error.name or "").partition(".")[0] != "course_lib":
        raise
    import sys

    import pytest
    raise pytest.UsageError(
        f"the course library (course_lib) is not installed for {sys.executable}, the Python "
        "that runs this pytest. Activate the course's environment (for example "
        "`source ~/nnfs-venv/bin/activate`) and run the tests with `python -m pytest`.") from None

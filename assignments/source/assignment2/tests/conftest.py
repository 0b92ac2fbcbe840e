"""Public tests reach your code through the ``student`` fixture (a plain import here)."""
from course_lib.testing import student  # noqa: F401

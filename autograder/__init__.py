"""A sandboxed autograder for the course's assignments, built on pytest and nbgrader.

Tests run in a trusted grading process; student code runs in a separate, resource-limited
child process and is reached through proxies. See docs/ARCHITECTURE.md.
"""
__version__ = "0.1.0"

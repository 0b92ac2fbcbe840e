"""Errors that the CLI reports as one clear line instead of a traceback."""


class UserError(Exception):
    """Bad input from the person running the autograder; the message says what to do."""

"""Release: the student version of an assignment, made from the instructor's source.

- :mod:`~autograder.release.pipeline`: ``autograder release`` (markers checked, nbgrader's
  ``generate_assignment``, ``.py`` solutions stripped, README completed, leak check, swap in);
- :mod:`~autograder.release.stripping`: solution blocks of ``.py`` files -> stubs;
- :mod:`~autograder.release.leakcheck`: no secret in the release;
- :mod:`~autograder.release.student_readme`: the sections every released README gets.
"""

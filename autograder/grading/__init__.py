"""Grading: from a submission to a signed result, with student code run only in the sandbox.

- :mod:`~autograder.grading.submission`: grade ONE submission (``grade_submission``);
- :mod:`~autograder.grading.batch`: ``autograder grade``, MANY submissions, results written;
- :mod:`~autograder.grading.pytest_plugin`: the trusted grading process's pytest plugin;
- :mod:`~autograder.grading.private_index`: ``autograder hidden-tests``, the private map;
- :mod:`~autograder.grading.notebooks`: integrity of submitted notebooks;
- :mod:`~autograder.grading.lateness`: submission times, due dates, the late penalty;
- :mod:`~autograder.grading.kernelspec`: notebooks under ``nbgrader autograde`` in the
  sandbox kernel.

Stored results are read downstream by :mod:`autograder.exporters`.
"""

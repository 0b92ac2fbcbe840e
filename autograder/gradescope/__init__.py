"""Gradescope: the autograder zip and what runs inside it.

- :mod:`~autograder.gradescope.build`: a result -> Gradescope's ``results.json``
  (``to_gradescope``) and the self-contained zip (``autograder export gradescope``);
- :mod:`~autograder.gradescope.run`: what the zip's ``run_autograder`` runs in Gradescope's
  container: find the assignment in the upload, grade it, write ``results.json``;
- ``template/``: the zip's ``setup.sh`` and ``run_autograder``.
"""

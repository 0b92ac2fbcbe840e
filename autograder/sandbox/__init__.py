"""Run student code in a separate, limited process and reach it through proxies.

This package is the trust boundary of the autograder:

- :mod:`~autograder.sandbox.process`: the grader's side (:class:`Sandbox`, :class:`Limits`,
  privilege dropping, timeouts, output capture, crash diagnosis);
- :mod:`~autograder.sandbox.runner`: the child (a standalone script run with ``python -I -S``);
- :mod:`~autograder.sandbox.forkserver`: fresh children forked from a prepared runner;
- :mod:`~autograder.sandbox.confinement`: the bubblewrap sandbox, one uid per submission,
  and the fallbacks where bubblewrap cannot run;
- :mod:`~autograder.sandbox.interpreter`: which Python the unprivileged child can run;
- :mod:`~autograder.sandbox.workdir`: the submission's private copy, protected files;
- :mod:`~autograder.sandbox.diagnosis`: student-facing messages for crashes and errors;
- :mod:`~autograder.sandbox.codec`: the only way values cross (JSON + raw numeric buffers;
  no pickle, no eval);
- :mod:`~autograder.sandbox.proxy`: :class:`RemoteObject`, the stand-in for student objects;
- :mod:`~autograder.sandbox.errors`: what tests see when student code misbehaves.

Example
-------
>>> with Sandbox(prepare_workdir("submissions/alice/assignment0", private_dir)) as box:
...     warmup = box.import_module("nnfs.warmup")
...     warmup.softmax(np.zeros((2, 3)))          # an ndarray, copied out of the child
"""
from autograder.sandbox.errors import (ProtocolError, SandboxError, StudentAttributeError,
                                       StudentCrash, StudentError, StudentTimeout)
from autograder.sandbox.confinement import (Confinement, choose_confinement,
                                            running_as_root, submission_uid)
from autograder.sandbox.workdir import prepare_workdir, protect_instructor_files
from autograder.sandbox.process import Limits, Sandbox, SandboxUnavailable
from autograder.sandbox.proxy import RemoteObject

__all__ = [
    "Confinement", "Limits", "ProtocolError", "RemoteObject", "Sandbox", "SandboxError", "SandboxUnavailable",
    "StudentAttributeError", "StudentCrash", "StudentError", "StudentTimeout",
    "choose_confinement", "prepare_workdir", "protect_instructor_files", "running_as_root",
    "submission_uid",
]

"""Staff library for the neural-networks-from-scratch course.

Submodules (import what you need; nothing heavy is imported here):

- ``course_lib.datasets``: CIFAR-10 download/cache, CS231n splits, the embedded synthetic data
- ``course_lib.gradient_check``: numeric gradients and ``rel_error``
- ``course_lib.fast_layers``: im2col-based convolution and max pooling
- ``course_lib.solver``: ``Solver`` for training models
- ``course_lib.features``: HOG and colour-histogram image features
- ``course_lib.plotting``: weight grids and training curves
"""
import os

__version__ = "0.1.0"


def fast_mode() -> bool:
    """Return True when ``COURSE_FAST=1``: notebooks then shrink their training runs."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}

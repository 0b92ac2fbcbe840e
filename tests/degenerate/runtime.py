"""Runtime of a degenerate submission (copied into the package as ``_degenerate.py``).

Every student function of the degenerate package is decorated with :func:`degenerate`.
The decorated function still runs the original (reference) body, only to learn what its
answer looks like: the caller never sees that answer, only a degraded copy of the same
structure, and the instance state a method leaves behind is degraded too. So every
degenerate function type-checks (right shapes, dtypes and containers) and is wrong:

``zeros``
    every number and array becomes zero;
``random``
    every number and array becomes random values of the same shape and dtype;
``inputs``
    every number and array becomes one of the call's inputs with the same shape and
    kind (float, int, bool) where there is one (``relu_backward(dout, cache)`` returns
    ``dout``, a loss returns ``reg`` and ``W`` as its value and gradient), else zeros.

Arguments are copied before the original runs, so the caller's arrays are never changed.
"""
import copy
import functools

import numpy as np

VARIANTS = ("zeros", "random", "inputs")
_rng = np.random.default_rng(20261203)


def _kind(value):
    """'b', 'i', 'f' or 'c' for a bool, integer, float or complex leaf; None otherwise."""
    if isinstance(value, (bool, np.bool_)):
        return "b"
    if isinstance(value, (int, np.integer)):
        return "i"
    if isinstance(value, (float, np.floating)):
        return "f"
    if isinstance(value, (complex, np.complexfloating)):
        return "c"
    if isinstance(value, np.ndarray):
        return {"u": "i"}.get(value.dtype.kind, value.dtype.kind)
    return None


def _leaves(value, found):
    """Every number and numeric array inside ``value`` (containers searched)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _leaves(item, found)
    elif _kind(value) is not None:
        found.append(value)
    return found


def _zero(value):
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    return type(value)(0)


def _random(value):
    kind = _kind(value)
    shape = np.shape(value)
    if kind == "b":
        drawn = _rng.integers(0, 2, size=shape).astype(bool)
    elif kind == "i":
        drawn = _rng.integers(0, 10, size=shape)
    else:
        drawn = _rng.normal(size=shape)
    if isinstance(value, np.ndarray):
        return drawn.astype(value.dtype)
    return type(value)(drawn.item() if hasattr(drawn, "item") else drawn)


def _matching_input(value, inputs):
    kind, shape = _kind(value), np.shape(value)
    for candidate in inputs:
        if _kind(candidate) == kind and np.shape(candidate) == shape:
            return candidate
    return None


def degrade(value, variant, inputs=()):
    """``value`` with every number and numeric array replaced as ``variant`` says."""
    if isinstance(value, tuple):
        items = [degrade(item, variant, inputs) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [degrade(item, variant, inputs) for item in value]
    if isinstance(value, dict):
        return {key: degrade(item, variant, inputs) for key, item in value.items()}
    if _kind(value) is None:
        return value
    if variant == "random":
        return _random(value)
    if variant == "inputs":
        match = _matching_input(value, inputs)
        if match is not None:
            return match
    return _zero(value)


def _degrade_state(instance, variant):
    """Degrade the arrays an instance holds (directly or in lists/dicts); leave the rest."""
    state = getattr(instance, "__dict__", None)
    if not isinstance(state, dict):
        return
    for name, value in list(state.items()):
        arrays = [leaf for leaf in _leaves(value, []) if isinstance(leaf, np.ndarray)]
        if arrays:
            # state is never "an input", so the inputs variant zeroes it
            state[name] = _degrade_arrays(value, "zeros" if variant == "inputs" else variant)


def _degrade_arrays(value, variant):
    if isinstance(value, np.ndarray):
        return degrade(value, variant)
    if isinstance(value, list):
        return [_degrade_arrays(item, variant) for item in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_degrade_arrays(item, variant) for item in value)
    if isinstance(value, dict):
        return {key: _degrade_arrays(item, variant) for key, item in value.items()}
    return value


def degenerate(variant, method=False):
    """Decorator: the function answers with a degraded copy of its original answer."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            own = args[:1] if method else ()
            rest = args[1:] if method else args
            inputs = _leaves(list(rest) + list(kwargs.values()), [])
            answer = function(*own, *copy.deepcopy(rest), **copy.deepcopy(kwargs))
            if method:
                _degrade_state(args[0], variant)
            return degrade(answer, variant, inputs)
        return wrapper
    return decorate

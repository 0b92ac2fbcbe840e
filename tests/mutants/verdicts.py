"""What a mutant's hidden-suite outcomes must show, shared by every assignment's mutant tests.

``outcomes`` maps a test id (``test_name`` or ``test_name[param]``) to its status, as
:func:`tests.mutants.runner.grade_many` returns them.
"""
import importlib.util


def failing(outcomes):
    """The test ids that did not pass."""
    return {name for name, status in outcomes.items() if status != "passed"}


def matches(test_id, expected):
    """``expected`` names a test function or one parametrisation of it."""
    return test_id == expected or ("[" not in expected and test_id.split("[")[0] == expected)


def assert_bug_caught(mutant, outcomes, output):
    """A bug fails at least every hidden test it names in ``must_fail``."""
    assert outcomes, output
    failed = failing(outcomes)
    missed = [e for e in mutant.must_fail if not any(matches(t, e) for t in failed)]
    assert not missed, (f"{mutant.name}: these hidden tests should fail but did not: {missed}\n"
                        f"(failed: {sorted(failed)})")


def assert_variant_accepted(mutant, outcomes, output):
    """A correct variant fails exactly the hidden tests it names (usually none)."""
    assert outcomes, output
    failed = failing(outcomes)
    unexpected = sorted(t for t in failed if not any(matches(t, e) for e in mutant.must_fail))
    assert not unexpected, f"{mutant.name} is correct but fails {unexpected}\n{output[-3000:]}"
    missing = [e for e in mutant.must_fail if not any(matches(t, e) for t in failed)]
    assert not missing, f"{mutant.name} should fail {missing}"


def points_of(hidden_dir, files):
    """``{test function name: points}`` from the ``points`` markers of the hidden ``files``."""
    points = {}
    for file in files:
        spec = importlib.util.spec_from_file_location(f"_hidden_{file[:-3]}", hidden_dir / file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in dir(module):
            if name.startswith("test_"):
                marks = [m for m in getattr(getattr(module, name), "pytestmark", [])
                         if m.name == "points"]
                points[name] = marks[0].args[0] if marks else 1
    return points


def assert_degenerate_earns_little(kind, outcomes, output, points, share=0.05):
    """A degenerate submission (``kind``: zeros, random, inputs) earns at most ``share`` of
    the hidden points; ``points`` maps test function names to their points."""
    total = sum(points[t.split("[")[0]] for t in outcomes)
    earned = sum(points[t.split("[")[0]] for t, status in outcomes.items() if status == "passed")
    assert total > 0, output
    assert earned <= share * total, (f"degenerate ({kind}) earns {earned} of {total} points: "
                                     f"{sorted(t for t, s in outcomes.items() if s == 'passed')}")

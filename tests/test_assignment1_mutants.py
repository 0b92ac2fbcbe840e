"""Assignment 1's hidden suite catches realistic bugs and lets correct variants through.

Every mutant in ``tests/mutants/assignment1.py`` is a patched copy of the reference
package. The hidden suite runs on each copy (without the sandbox, two workers) and:
a bug must fail the tests it names; a correct variant must fail exactly the tests it
names (usually none).
"""
import pytest

from tests.mutants import assignment1
from tests.mutants.verdicts import assert_bug_caught, assert_variant_accepted
from tests.mutants.runner import grade_catalogue


@pytest.fixture(scope="session")
def mutant_outcomes(repo_root, tmp_path_factory):
    """``{mutant name: (outcomes, output)}`` for every mutant, graded by two workers."""
    return grade_catalogue(repo_root / "assignments" / "source" / "assignment1", assignment1,
                           tmp_path_factory.mktemp("assignment1_mutants"), baselines=False)


def test_mutant_catalogue_is_meaningful():
    """every mutant names expected failures unless it is a fully correct variant"""
    names = [m.name for m in assignment1.ALL]
    assert len(names) == len(set(names)), "mutant names must be unique"
    assert all(m.must_fail for m in assignment1.BUGS)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", assignment1.BUGS, ids=lambda m: m.name)
def test_hidden_suite_catches_bug(mutant_outcomes, mutant):
    assert_bug_caught(mutant, *mutant_outcomes[mutant.name])


@pytest.mark.slow
@pytest.mark.parametrize("mutant", assignment1.CORRECT_VARIANTS, ids=lambda m: m.name)
def test_hidden_suite_accepts_correct_variant(mutant_outcomes, mutant):
    assert_variant_accepted(mutant, *mutant_outcomes[mutant.name])

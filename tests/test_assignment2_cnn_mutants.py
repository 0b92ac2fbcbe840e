"""Assignment 2, part 2: the hidden suites for conv/pool layers, batch normalisation and
ThreeLayerConvNet pass the reference, catch realistic bugs, let correct variants through,
and give (almost) nothing to submissions whose functions return zeros, random values or
their inputs.

Mutants are in ``tests/mutants/assignment2_cnn.py``; the hidden suite runs on each copy
without the sandbox, in two workers (see ``tests/mutants/runner.py``).
"""

import pytest

from tests.degenerate.generator import VARIANTS
from tests.mutants import assignment2_cnn as catalogue
from tests.mutants.verdicts import (assert_bug_caught, assert_degenerate_earns_little,
                                    assert_variant_accepted, points_of)
from tests.mutants.runner import grade_catalogue

ASSIGNMENT = "assignment2"


@pytest.fixture(scope="session")
def hidden_dir(repo_root):
    return repo_root / "autograder" / "hidden" / ASSIGNMENT


@pytest.fixture(scope="session")
def cnn_outcomes(repo_root, tmp_path_factory):
    """``{name: (outcomes, output)}`` for the reference, every mutant and every degenerate kind."""
    return grade_catalogue(repo_root / "assignments" / "source" / ASSIGNMENT, catalogue,
                           tmp_path_factory.mktemp("assignment2_cnn_mutants"))


def test_catalogue_is_meaningful():
    names = [m.name for m in catalogue.ALL]
    assert len(names) == len(set(names)), "mutant names must be unique"
    assert all(m.must_fail for m in catalogue.BUGS)
    assert len(catalogue.BUGS) >= 20 and len(catalogue.CORRECT_VARIANTS) >= 8


@pytest.mark.slow
def test_hidden_suite_passes_the_reference(cnn_outcomes):
    outcomes, output = cnn_outcomes["reference"]
    assert len(outcomes) >= 70, output
    assert set(outcomes.values()) == {"passed"}, output


@pytest.mark.slow
@pytest.mark.parametrize("mutant", catalogue.BUGS, ids=lambda m: m.name)
def test_hidden_suite_catches_bug(cnn_outcomes, mutant):
    assert_bug_caught(mutant, *cnn_outcomes[mutant.name])


@pytest.mark.slow
@pytest.mark.parametrize("mutant", catalogue.CORRECT_VARIANTS, ids=lambda m: m.name)
def test_hidden_suite_accepts_correct_variant(cnn_outcomes, mutant):
    assert_variant_accepted(mutant, *cnn_outcomes[mutant.name])


@pytest.mark.slow
@pytest.mark.parametrize("kind", VARIANTS)
def test_degenerate_submission_scores_near_zero(cnn_outcomes, hidden_dir, kind):
    """functions that return zeros, random values or their inputs earn at most 5% of the points"""
    outcomes, output = cnn_outcomes[f"degenerate_{kind}"]
    assert_degenerate_earns_little(kind, outcomes, output,
                                   points_of(hidden_dir, catalogue.HIDDEN_FILES))

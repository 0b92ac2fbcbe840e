"""Hidden tests: KNearestNeighbor (distances, votes, ties, the no-loop constraint).

Expected values come from the instructor's solution (the ``reference`` fixture), run in
this trusted process. Student code is reached only through ``student``.
"""
import ast
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.testing import Feedback, expect, expect_close

DISTANCE_METHODS = ["compute_distances_two_loops", "compute_distances_one_loop",
                    "compute_distances_no_loops"]


def knn_on(module, X_train, y_train):
    knn = module.KNearestNeighbor()
    knn.train(X_train, y_train)
    return knn


def true_distances(X, X_train):
    """Euclidean distances in float64, computed pair by pair (no cancellation)."""
    X, X_train = np.asarray(X, np.float64), np.asarray(X_train, np.float64)
    return np.sqrt(np.sum((X[:, None, :] - X_train[None, :, :]) ** 2, axis=2))


def distinct_distances(rng, num_test, num_train):
    """Distances without ties, so that the k nearest neighbours are unambiguous."""
    return np.stack([rng.permutation(num_train) + rng.uniform(0.0, 0.5) for _ in range(num_test)])


@pytest.mark.points(3)
@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_distances_on_random_float32_data(student, method):
    """distances are Euclidean on float32 data of several shapes"""
    classifiers = student.import_module("nnfs.classifiers")
    for seed, (num_test, num_train, dim) in enumerate([(1, 1, 1), (7, 13, 3), (5, 31, 48)]):
        rng = np.random.default_rng(100 + seed)
        X_train = rng.uniform(0, 255, size=(num_train, dim)).astype(np.float32)
        X = rng.uniform(0, 255, size=(num_test, dim)).astype(np.float32)
        knn = knn_on(classifiers, X_train, rng.integers(0, 4, size=num_train))
        expected = true_distances(X, X_train)
        # float32 rounding in ||x||^2 - 2 x.t + ||t||^2 costs about 1e-3 of the data scale.
        scale = np.sqrt(np.max(np.sum(X_train.astype(np.float64) ** 2, axis=1)))
        expect_close(getattr(knn, method)(X), expected,
                     f"{method} on float32 data ({num_test} test, {num_train} training "
                     f"points, D={dim})", rtol=1e-4, atol=2e-3 * scale)


@pytest.mark.points(1)
@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_distance_to_a_copy_of_a_training_point_is_zero(student, method):
    """a test point that equals a training point is at distance (about) 0 from it"""
    classifiers = student.import_module("nnfs.classifiers")
    rng = np.random.default_rng(7)
    X_train = rng.normal(size=(6, 4))
    knn = knn_on(classifiers, X_train, np.arange(6) % 3)
    dists = np.asarray(getattr(knn, method)(X_train[[4, 1]]))
    expect(dists.shape == (2, 6), f"{method} should return shape (num_test, num_train)")
    expect_close(dists[[0, 1], [4, 1]], np.zeros(2), f"{method}: distance of a point to its copy",
                 atol=1e-6)
    # ... and at the right distance from the other points (all zeros is not a distance).
    expect_close(dists, true_distances(X_train[[4, 1]], X_train),
                 f"{method}: distances from copies of training points", rtol=1e-6, atol=1e-6)


@pytest.mark.points(2)
@pytest.mark.parametrize("k", [1, 2, 4, 6])
def test_predict_labels_breaks_ties_toward_the_smaller_label(student, reference, k):
    """predict_labels: majority vote over the k nearest, ties to the smaller label"""
    mine = student.import_module("nnfs.classifiers")
    theirs = reference.import_module("nnfs.classifiers")
    rng = np.random.default_rng(k)
    num_test, num_train = 40, 12
    # Few classes and even k make tied votes common.
    y_train = rng.integers(0, 3, size=num_train)
    dists = distinct_distances(rng, num_test, num_train)
    X_dummy = np.zeros((num_train, 1))
    expected = knn_on(theirs, X_dummy, y_train).predict_labels(dists, k=k)
    actual = np.asarray(knn_on(mine, X_dummy, y_train).predict_labels(dists, k=k))
    expect(actual.shape == (num_test,), "predict_labels should return one label per test point")
    expect(np.all(actual == expected),
           f"predict_labels with k={k} picks the wrong label for some test points "
           "(check how the k nearest are found and how a tied vote is broken)")


@pytest.mark.points(1)
def test_predict_labels_with_large_label_values(student, reference):
    """predict_labels works when the labels are large and not consecutive (0, 3, 7, 9)"""
    mine = student.import_module("nnfs.classifiers")
    theirs = reference.import_module("nnfs.classifiers")
    y_train = np.array([9, 7, 9, 7, 0, 3])
    dists = np.array([[0.1, 0.2, 0.3, 0.4, 5.0, 6.0], [6.0, 5.0, 0.1, 4.0, 0.2, 3.0]])
    for k in (1, 3, 4):
        expected = knn_on(theirs, np.zeros((6, 1)), y_train).predict_labels(dists, k=k)
        actual = knn_on(mine, np.zeros((6, 1)), y_train).predict_labels(dists, k=k)
        expect(np.array_equal(actual, expected), f"predict_labels with k={k} is wrong when "
                                                  "the labels are not 0, 1, 2, ...")


@pytest.mark.points(2)
def test_predict_with_duplicated_training_points(student, reference):
    """predict (every num_loops) on training data with duplicated points agrees with kNN"""
    mine = student.import_module("nnfs.classifiers")
    theirs = reference.import_module("nnfs.classifiers")
    rng = np.random.default_rng(11)
    centres = 3.0 * rng.normal(size=(4, 5))
    y_unique = rng.integers(0, 4, size=25)
    X_unique = centres[y_unique] + 2.0 * rng.normal(size=(25, 5))
    # Every point three times, same label: the three copies are equally near.
    X_train, y_train = np.repeat(X_unique, 3, axis=0), np.repeat(y_unique, 3)
    X_test = centres[rng.integers(0, 4, size=30)] + 2.0 * rng.normal(size=(30, 5))
    for k in (1, 3, 5, 8):
        expected = knn_on(theirs, X_train, y_train).predict(X_test, k=k, num_loops=1)
        for num_loops in (0, 1, 2):
            actual = knn_on(mine, X_train, y_train).predict(X_test, k=k, num_loops=num_loops)
            expect(np.array_equal(actual, expected),
                   f"predict(X, k={k}, num_loops={num_loops}) is wrong on training data with "
                   "duplicated points")


@pytest.mark.points(1)
def test_num_loops_variants_agree_on_float32(student, reference):
    """predict gives the right labels with num_loops 0, 1 and 2 on float32 data"""
    classifiers = student.import_module("nnfs.classifiers")
    rng = np.random.default_rng(12)
    X_train = rng.uniform(0, 255, size=(40, 20)).astype(np.float32)
    X_test = rng.uniform(0, 255, size=(15, 20)).astype(np.float32)
    y_train = rng.integers(0, 5, size=40)
    knn = knn_on(classifiers, X_train, y_train)
    labels = [np.asarray(knn.predict(X_test, k=3, num_loops=n)) for n in (0, 1, 2)]
    expect(np.array_equal(labels[0], labels[1]) and np.array_equal(labels[1], labels[2]),
           "predict disagrees between num_loops=0, 1 and 2")
    # Agreement alone would let three equally wrong (say, constant) answers through.
    expected = knn_on(reference.import_module("nnfs.classifiers"), X_train.astype(np.float64),
                      y_train).predict(X_test.astype(np.float64), k=3, num_loops=2)
    expect(np.array_equal(labels[0], expected), "predict(X, k=3) gives wrong labels on float32 data")


def _loop_constructs_in(source, function_name):
    """Names of loops and forbidden calls inside ``function_name`` in ``source``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == function_name:
            for inner in ast.walk(node):
                if isinstance(inner, (ast.For, ast.While)):
                    found.add("a for/while loop")
                elif isinstance(inner, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
                    found.add("a comprehension (a loop in disguise)")
                elif isinstance(inner, ast.Attribute) and inner.attr == "norm":
                    found.add("np.linalg.norm")
                elif isinstance(inner, ast.Name) and inner.id == "scipy":
                    found.add("scipy")
                elif isinstance(inner, (ast.Import, ast.ImportFrom)):
                    modules = [a.name for a in inner.names] + [getattr(inner, "module", "") or ""]
                    if any(m.split(".")[0] == "scipy" for m in modules):
                        found.add("scipy")
    return found


def _student_source(student, relative):
    """The student's source file as text, read here in the grader, or None if it is missing.

    ``student.root`` is the assignment folder in a local run and, in grading, the submission
    as handed in (not the child's working copy, which student code could rewrite).
    """
    path = Path(student.root) / relative
    return path.read_text() if path.is_file() else None


#: The vectorised distances must take at most this fraction of the time the REFERENCE
#: two-loop version takes here, in the grading process, on the same machine. Measured:
#: reference two loops ~150 ms, the reference no-loop version through the sandbox a few
#: ms (~2 ms idle), a one-loop version ~5 ms, a two-loop version 150 ms or more. 1/5
#: leaves a wide margin for a loaded machine; loops inside the function are caught by
#: the source check anyway.
SPEED_FRACTION = 1 / 5


@pytest.mark.points(2)
def test_no_loop_distances_have_no_loops(student, reference):
    """compute_distances_no_loops is vectorised: no loops, no np.linalg.norm, no scipy"""
    # Checked two ways: the source text (parsed here, never executed) when the submission's
    # files are visible to the grader, and always the speed against a trusted baseline:
    # the reference two-loop version, timed here. (Never against the student's own
    # two-loop version, which a student could slow down.)
    source = _student_source(student, "nnfs/classifiers/k_nearest_neighbor.py")
    if source is not None:
        found = _loop_constructs_in(source, "compute_distances_no_loops")
        expect(not found, "compute_distances_no_loops uses " + " and ".join(sorted(found)) +
               "; it must work with whole-array operations only")
    classifiers = student.import_module("nnfs.classifiers")
    rng = np.random.default_rng(13)
    X_train, y_train = rng.normal(size=(400, 16)), rng.integers(0, 3, size=400)
    knn = knn_on(classifiers, X_train, y_train)
    baseline = knn_on(reference.import_module("nnfs.classifiers"), X_train, y_train)

    def timed(function, X):
        start = time.perf_counter()
        result = function(X)
        return time.perf_counter() - start, result

    # Fresh inputs for every call, each checked: a fast answer must also be a right one
    # (and a remembered answer to an earlier call is no use).
    inputs = [rng.normal(size=(60, 16)) for _ in range(6)]
    two_loops = min(timed(baseline.compute_distances_two_loops, X)[0] for X in inputs[:2])
    no_loops = []
    for X in inputs[1:]:
        seconds, dists = timed(knn.compute_distances_no_loops, X)
        expect_close(dists, true_distances(X, X_train), "compute_distances_no_loops on "
                     "(60, 16) test data", rtol=1e-6, atol=1e-6)
        no_loops.append(seconds)
    if min(no_loops) > SPEED_FRACTION * two_loops:
        raise Feedback("compute_distances_no_loops is not much faster than a two-loop "
                       "version; it should use whole-array operations (no Python loops)")

"""Public tests for nnfs/classifiers/k_nearest_neighbor.py (run `pytest` in the assignment folder).

The grader runs these same tests (its own copy) plus hidden ones with more shapes, seeds,
dtypes and ties. Passing these is necessary, not sufficient.
"""
import numpy as np
import pytest

# The lecture's 4x4 single-channel images (their L1 distance is 456).
LECTURE_TEST_IMAGE = [[56, 32, 10, 18], [90, 23, 128, 133], [24, 26, 178, 200], [2, 0, 255, 220]]
LECTURE_TRAINING_IMAGE = [[10, 20, 24, 17], [8, 10, 89, 100], [12, 16, 178, 170], [4, 32, 233, 112]]


@pytest.fixture
def classifiers(student):
    return student.import_module("nnfs.classifiers")


def trained_knn(classifiers, X_train, y_train):
    knn = classifiers.KNearestNeighbor()
    knn.train(np.asarray(X_train, dtype=float), np.asarray(y_train))
    return knn


def right_triangle_knn(classifiers):
    """Training points whose distances to the test points are whole numbers."""
    return trained_knn(classifiers, [[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]], [0, 1, 2])


RIGHT_TRIANGLE_TEST_POINTS = np.array([[0.0, 0.0], [3.0, 4.0]])
RIGHT_TRIANGLE_DISTANCES = [[0.0, 3.0, 4.0], [5.0, 4.0, 3.0]]


@pytest.mark.points(2)
def test_two_loops_on_right_triangles(classifiers):
    """compute_distances_two_loops gives whole-number distances on 3-4-5 triangles"""
    knn = right_triangle_knn(classifiers)
    dists = knn.compute_distances_two_loops(RIGHT_TRIANGLE_TEST_POINTS)
    assert dists.shape == (2, 3), "dists has one row per test point, one column per training point"
    np.testing.assert_allclose(dists, RIGHT_TRIANGLE_DISTANCES, atol=1e-12)


@pytest.mark.points(1)
def test_two_loops_on_the_lecture_images(classifiers):
    """compute_distances_two_loops on the lecture's two 4x4 images (L2, not L1)"""
    test_image = np.array(LECTURE_TEST_IMAGE, dtype=float).reshape(1, 16)
    training_image = np.array(LECTURE_TRAINING_IMAGE, dtype=float).reshape(1, 16)
    knn = trained_knn(classifiers, training_image, [0])
    dists = knn.compute_distances_two_loops(test_image)
    # The squared pixel differences sum to 26280; the absolute ones would give 456.
    np.testing.assert_allclose(dists, [[np.sqrt(26280.0)]], rtol=1e-12)


@pytest.mark.points(2)
def test_one_loop_on_right_triangles(classifiers):
    """compute_distances_one_loop gives whole-number distances on 3-4-5 triangles"""
    knn = right_triangle_knn(classifiers)
    dists = knn.compute_distances_one_loop(RIGHT_TRIANGLE_TEST_POINTS)
    assert dists.shape == (2, 3), "dists has one row per test point, one column per training point"
    np.testing.assert_allclose(dists, RIGHT_TRIANGLE_DISTANCES, atol=1e-12)


@pytest.mark.points(2)
def test_no_loops_on_right_triangles(classifiers):
    """compute_distances_no_loops gives whole-number distances on 3-4-5 triangles"""
    knn = right_triangle_knn(classifiers)
    dists = knn.compute_distances_no_loops(RIGHT_TRIANGLE_TEST_POINTS)
    assert dists.shape == (2, 3), "dists has one row per test point, one column per training point"
    np.testing.assert_allclose(dists, RIGHT_TRIANGLE_DISTANCES, atol=1e-6)


@pytest.mark.points(2)
def test_all_three_distance_versions_agree(classifiers):
    """the two-, one- and no-loop distances agree on random data"""
    rng = np.random.default_rng(1)
    knn = trained_knn(classifiers, rng.normal(size=(12, 5)), rng.integers(0, 3, size=12))
    X = rng.normal(size=(4, 5))
    two = knn.compute_distances_two_loops(X)
    assert two.shape == (4, 12)
    np.testing.assert_allclose(knn.compute_distances_one_loop(X), two, rtol=1e-7)
    np.testing.assert_allclose(knn.compute_distances_no_loops(X), two, rtol=1e-6, atol=1e-6)


@pytest.mark.points(1)
def test_predict_labels_k1_takes_the_nearest(classifiers):
    """predict_labels with k=1 returns the label of the nearest training point"""
    knn = trained_knn(classifiers, np.zeros((4, 1)), [3, 1, 2, 0])
    dists = np.array([[4.0, 3.0, 1.0, 2.0], [0.5, 9.0, 9.0, 9.0]])
    np.testing.assert_array_equal(knn.predict_labels(dists, k=1), [2, 3])


@pytest.mark.points(1)
def test_predict_labels_majority_vote(classifiers):
    """predict_labels with k=3 returns the most common label among the 3 nearest"""
    knn = trained_knn(classifiers, np.zeros((5, 1)), [0, 1, 1, 2, 1])
    # Nearest three: points 0, 1, 2 -> labels 0, 1, 1 -> 1.
    dists = np.array([[0.1, 0.2, 0.3, 5.0, 6.0]])
    np.testing.assert_array_equal(knn.predict_labels(dists, k=3), [1])


@pytest.mark.points(1)
def test_predict_labels_tie_goes_to_smaller_label(classifiers):
    """predict_labels breaks a tied vote in favour of the smaller label"""
    knn = trained_knn(classifiers, np.zeros((4, 1)), [2, 1, 0, 3])
    # The two nearest carry labels 2 and 1: one vote each.
    dists = np.array([[1.0, 2.0, 7.0, 9.0]])
    np.testing.assert_array_equal(knn.predict_labels(dists, k=2), [1])


@pytest.mark.points(1)
def test_predict_with_every_num_loops(classifiers):
    """predict(X, k, num_loops) finds the right cluster with every distance version"""
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    y_train = np.repeat([0, 1, 2], 5)
    knn = trained_knn(classifiers, centres[y_train] + rng.normal(size=(15, 2)), y_train)
    y_test = np.array([2, 0, 1, 1])
    X_test = centres[y_test] + 0.5 * rng.normal(size=(4, 2))
    for num_loops in (0, 1, 2):
        np.testing.assert_array_equal(knn.predict(X_test, k=3, num_loops=num_loops), y_test,
                                      err_msg=f"num_loops={num_loops}")

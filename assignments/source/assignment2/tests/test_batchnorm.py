"""Public tests for nnfs/normalization.py: statistics of the outputs, test mode, gradients.

The grader calls your functions in another process, so a ``bn_param`` you update in
place is not seen here; the running averages are checked through FullyConnectedNet,
whose ``bn_params`` live next to your code.
"""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient_array, rel_error


@pytest.fixture
def norm(student):
    return student.import_module("nnfs.normalization")


def batch(seed, shape=(200, 3)):
    rng = np.random.default_rng(seed)
    return rng.normal(loc=[5.0, -2.0, 0.0], scale=[2.0, 0.5, 10.0], size=shape)


@pytest.mark.points(1)
def test_batchnorm_train_normalises_each_feature(norm):
    """batchnorm_forward (train): each feature gets mean 0 and std 1, then gamma and beta apply"""
    x = batch(0)
    out, _ = norm.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-7)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-4)
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = norm.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-7)
    np.testing.assert_allclose(out.std(axis=0), gamma, atol=1e-3)


@pytest.mark.points(1)
def test_batchnorm_train_small_values(norm):
    """batchnorm_forward (train) on two examples: the biased variance, eps inside the root"""
    x = np.array([[1.0, 10.0], [3.0, 10.0]])
    out, _ = norm.batchnorm_forward(x, np.ones(2), np.zeros(2), {"mode": "train", "eps": 1e-5})
    # feature 0: mean 2, variance ((1-2)^2 + (3-2)^2) / 2 = 1; feature 1 is constant
    np.testing.assert_allclose(out, [[-1.0 / np.sqrt(1 + 1e-5), 0.0], [1.0 / np.sqrt(1 + 1e-5), 0.0]])


@pytest.mark.points(1)
def test_batchnorm_test_mode_uses_the_running_averages(norm):
    """batchnorm_forward (test) normalises with bn_param's running mean and variance"""
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])
    bn_param = {"mode": "test", "eps": 0.0, "running_mean": np.array([1.0, 2.0]),
                "running_var": np.array([4.0, 16.0])}
    out, _ = norm.batchnorm_forward(x, np.array([2.0, 1.0]), np.array([0.0, 1.0]), bn_param)
    np.testing.assert_allclose(out, [[0.0, 1.0], [2.0, 2.0], [4.0, 1.5]])


@pytest.mark.points(2)
@pytest.mark.parametrize("backward", ["batchnorm_backward", "batchnorm_backward_alt"])
def test_batchnorm_backward_numeric(norm, backward):
    """the batch-norm backward passes match numeric gradients for x, gamma and beta"""
    rng = np.random.default_rng(1)
    x = 3.0 * rng.normal(size=(6, 4)) + 2.0
    gamma, beta, dout = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(6, 4))

    def forward(x, gamma, beta):
        return norm.batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    _, cache = norm.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = getattr(norm, backward)(dout, cache)
    numeric = {"dx": eval_numerical_gradient_array(lambda v: forward(v, gamma, beta), x.copy(), dout),
               "dgamma": eval_numerical_gradient_array(lambda v: forward(x, v, beta), gamma.copy(), dout),
               "dbeta": eval_numerical_gradient_array(lambda v: forward(x, gamma, v), beta.copy(), dout)}
    for name, analytic in (("dx", dx), ("dgamma", dgamma), ("dbeta", dbeta)):
        assert rel_error(analytic, numeric[name]) < 1e-6, name


@pytest.mark.points(1)
def test_spatial_batchnorm_normalises_each_channel(norm):
    """spatial_batchnorm_forward: each channel, over the batch and all pixels, gets mean beta and std gamma"""
    rng = np.random.default_rng(2)
    x = 4.0 * rng.normal(size=(5, 3, 4, 6)) + 7.0
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    out, _ = norm.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), beta, atol=1e-7)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), gamma, atol=1e-3)


@pytest.mark.points(2)
def test_spatial_batchnorm_backward_numeric(norm):
    """spatial_batchnorm_backward matches numeric gradients for x, gamma and beta"""
    rng = np.random.default_rng(3)
    x = 2.0 * rng.normal(size=(2, 3, 3, 2)) + 1.0
    gamma, beta, dout = rng.normal(size=3), rng.normal(size=3), rng.normal(size=(2, 3, 3, 2))

    def forward(x, gamma, beta):
        return norm.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    _, cache = norm.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = norm.spatial_batchnorm_backward(dout, cache)
    numeric = {"dx": eval_numerical_gradient_array(lambda v: forward(v, gamma, beta), x.copy(), dout),
               "dgamma": eval_numerical_gradient_array(lambda v: forward(x, v, beta), gamma.copy(), dout),
               "dbeta": eval_numerical_gradient_array(lambda v: forward(x, gamma, v), beta.copy(), dout)}
    for name, analytic in (("dx", dx), ("dgamma", dgamma), ("dbeta", dbeta)):
        assert rel_error(analytic, numeric[name]) < 1e-6, name


@pytest.mark.points(2)
def test_running_averages_in_a_network(student):
    """FullyConnectedNet with batchnorm: running averages follow momentum * running + (1 - momentum) * batch"""
    classifiers = student.import_module("nnfs.classifiers.fc_net")
    rng = np.random.default_rng(4)
    net = classifiers.FullyConnectedNet([5], input_dim=4, num_classes=3,
                                        normalization="batchnorm", dtype="float64")
    W1 = rng.normal(size=(4, 5))
    net.params = {**net.params, "W1": W1, "b1": np.zeros(5)}
    means, variances = np.zeros(5), np.zeros(5)
    for _ in range(3):
        X, y = rng.normal(loc=1.0, size=(10, 4)), rng.integers(0, 3, size=10)
        net.loss(X, y)
        hidden = X @ W1
        means = 0.9 * means + 0.1 * hidden.mean(axis=0)
        variances = 0.9 * variances + 0.1 * hidden.var(axis=0)
    bn_param = net.bn_params[0]
    np.testing.assert_allclose(bn_param["running_mean"], means, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(bn_param["running_var"], variances, rtol=1e-6, atol=1e-9)

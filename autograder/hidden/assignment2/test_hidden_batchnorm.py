"""Hidden tests: batch normalisation (train and test mode, both backward passes, spatial
batch normalisation) and its running averages inside FullyConnectedNet.

Expected values come from the instructor's solution run in this trusted process. A
``bn_param`` the student's code updates in place stays in the sandbox, so the running
averages are read from a FullyConnectedNet's ``bn_params`` (attributes do cross).
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient_array, rel_error

# (N, D, eps, momentum)
FLAT_CASES = [(8, 3, 1e-5, 0.9), (5, 7, 1e-3, 0.5), (2, 4, 1e-5, 0.9), (30, 1, 0.1, 0.99)]
FLAT_IDS = [f"N{n}-D{d}-eps{e}" for n, d, e, _ in FLAT_CASES]
SPATIAL_SHAPES = [(2, 3, 4, 5), (4, 2, 3, 3), (1, 4, 2, 6)]
SPATIAL_IDS = ["x" + "x".join(map(str, s)) for s in SPATIAL_SHAPES]
BACKWARDS = ["batchnorm_backward", "batchnorm_backward_alt"]


def flat_inputs(seed, N, D, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=rng.normal(scale=3.0, size=D), scale=rng.uniform(0.5, 4.0, size=D),
                   size=(N, D))
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype), rng


@pytest.fixture
def mine(student):
    return student.import_module("nnfs.normalization")


@pytest.fixture
def theirs(reference):
    return reference.import_module("nnfs.normalization")


# -- batchnorm_forward ------------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.parametrize("N,D,eps,momentum", FLAT_CASES, ids=FLAT_IDS)
def test_batchnorm_forward_train(mine, theirs, N, D, eps, momentum):
    """batchnorm_forward in train mode normalises with the batch's mean and (biased) variance"""
    x, gamma, beta, _ = flat_inputs(1000 + N, N, D)
    bn_param = {"mode": "train", "eps": eps, "momentum": momentum}
    out, _ = mine.batchnorm_forward(x, gamma, beta, dict(bn_param))
    expected, _ = theirs.batchnorm_forward(x, gamma, beta, dict(bn_param))
    expect(np.shape(out) == x.shape, "batchnorm_forward's output should have x's shape")
    expect_close(out, expected, f"batchnorm_forward (train mode) for x of shape {(N, D)}, eps={eps}",
                 rtol=1e-6, atol=1e-7)


@pytest.mark.points(2)
@pytest.mark.parametrize("N,D,eps,momentum", FLAT_CASES[:2], ids=FLAT_IDS[:2])
def test_batchnorm_forward_test_mode(mine, theirs, N, D, eps, momentum):
    """batchnorm_forward in test mode uses the running mean and variance, not the batch's"""
    x, gamma, beta, rng = flat_inputs(1100 + N, N, D)
    bn_param = {"mode": "test", "eps": eps, "momentum": momentum,
                "running_mean": rng.normal(size=D), "running_var": rng.uniform(0.2, 3.0, size=D)}
    out, _ = mine.batchnorm_forward(x, gamma, beta, dict(bn_param))
    expected, _ = theirs.batchnorm_forward(x, gamma, beta, dict(bn_param))
    expect_close(out, expected, f"batchnorm_forward (test mode) for x of shape {(N, D)}")


@pytest.mark.points(1)
def test_batchnorm_forward_float32(mine, theirs):
    """batchnorm_forward is right (to float32 precision) on float32 arrays"""
    x, gamma, beta, _ = flat_inputs(1200, 16, 5, dtype=np.float32)
    out, _ = mine.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    expected, _ = theirs.batchnorm_forward(*(a.astype(np.float64) for a in (x, gamma, beta)),
                                           {"mode": "train"})
    expect_close(out, expected, "batchnorm_forward on float32 arrays", rtol=1e-4, atol=1e-4)


# -- backward passes --------------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.parametrize("backward", BACKWARDS)
@pytest.mark.parametrize("N,D,eps,momentum", FLAT_CASES, ids=FLAT_IDS)
def test_batchnorm_backward(mine, theirs, backward, N, D, eps, momentum):
    """the batch-norm backward pass gives the right dx, dgamma and dbeta"""
    x, gamma, beta, rng = flat_inputs(1300 + N, N, D)
    bn_param = {"mode": "train", "eps": eps, "momentum": momentum}
    dout = rng.normal(size=(N, D))
    _, ref_cache = theirs.batchnorm_forward(x, gamma, beta, dict(bn_param))
    _, cache = mine.batchnorm_forward(x, gamma, beta, dict(bn_param))
    grads = getattr(mine, backward)(dout, cache)
    expect(isinstance(grads, (tuple, list)) and len(grads) == 3,
           f"{backward} should return the tuple (dx, dgamma, dbeta)")
    for name, actual, expected in zip(("dx", "dgamma", "dbeta"), grads,
                                      theirs.batchnorm_backward(dout, ref_cache)):
        expect(np.shape(actual) == expected.shape, f"{name} of {backward} has the wrong shape")
        expect_close(actual, expected, f"{name} of {backward} for x of shape {(N, D)}",
                     rtol=1e-5, atol=1e-8)


@pytest.mark.points(2)
@pytest.mark.parametrize("backward", BACKWARDS)
def test_batchnorm_backward_numeric(mine, theirs, backward):
    """the batch-norm backward pass matches numeric gradients of batch normalisation"""
    x, gamma, beta, rng = flat_inputs(1400, 6, 4)
    dout = rng.normal(size=x.shape)

    def forward(x, gamma, beta):
        return theirs.batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    numeric = {"dx": eval_numerical_gradient_array(lambda v: forward(v, gamma, beta), x.copy(), dout),
               "dgamma": eval_numerical_gradient_array(lambda v: forward(x, v, beta), gamma.copy(), dout),
               "dbeta": eval_numerical_gradient_array(lambda v: forward(x, gamma, v), beta.copy(), dout)}
    _, cache = mine.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for name, analytic in zip(("dx", "dgamma", "dbeta"), getattr(mine, backward)(dout, cache)):
        expect(np.shape(analytic) == numeric[name].shape, f"{name} of {backward} has the wrong shape")
        expect(rel_error(np.asarray(analytic, dtype=float), numeric[name]) < 1e-6,
               f"{name} of {backward} does not match the numeric gradient")


@pytest.mark.points(1)
@pytest.mark.parametrize("backward", BACKWARDS)
def test_batchnorm_backward_when_all_inputs_shift_together(mine, theirs, backward):
    """dx of the batch-norm backward pass sums to zero over the batch (the mean term)"""
    x, gamma, beta, rng = flat_inputs(1500, 10, 3)
    dout = rng.normal(loc=2.0, size=x.shape)        # a mean term that does not vanish
    _, cache = mine.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    _, ref_cache = theirs.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx = np.asarray(getattr(mine, backward)(dout, cache)[0], dtype=float)
    expect(dx.shape == x.shape, f"dx of {backward} should have x's shape")
    expect_close(dx, theirs.batchnorm_backward(dout, ref_cache)[0], f"dx of {backward}",
                 rtol=1e-5, atol=1e-8)
    # adding a constant to a feature does not change its normalised values
    expect(np.allclose(dx.sum(axis=0), 0.0, atol=1e-8),
           f"dx of {backward} should sum to zero over the batch for every feature: shifting a "
           f"whole feature does not change batch normalisation's output")


# -- spatial batch normalisation --------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.parametrize("shape", SPATIAL_SHAPES, ids=SPATIAL_IDS)
def test_spatial_batchnorm(mine, theirs, shape):
    """spatial_batchnorm_forward / backward are right (statistics per channel over N, H, W)"""
    rng = np.random.default_rng(1600 + shape[0])
    C = shape[1]
    x = rng.normal(loc=rng.normal(scale=3.0, size=(1, C, 1, 1)), scale=2.0, size=shape)
    gamma, beta, dout = rng.normal(size=C), rng.normal(size=C), rng.normal(size=shape)
    out, cache = mine.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    expected, ref_cache = theirs.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    expect(np.shape(out) == shape, "spatial_batchnorm_forward's output should have x's shape")
    expect_close(out, expected, f"spatial_batchnorm_forward (train mode) for x of shape {shape}",
                 rtol=1e-6, atol=1e-7)
    for name, actual, wanted in zip(("dx", "dgamma", "dbeta"),
                                    mine.spatial_batchnorm_backward(dout, cache),
                                    theirs.spatial_batchnorm_backward(dout, ref_cache)):
        expect(np.shape(actual) == wanted.shape,
               f"{name} of spatial_batchnorm_backward has the wrong shape")
        expect_close(actual, wanted, f"{name} of spatial_batchnorm_backward for x of shape {shape}",
                     rtol=1e-5, atol=1e-8)


@pytest.mark.points(1)
def test_spatial_batchnorm_test_mode(mine, theirs):
    """spatial_batchnorm_forward in test mode uses the per-channel running averages"""
    rng = np.random.default_rng(1700)
    x = rng.normal(size=(3, 2, 4, 3))
    bn_param = {"mode": "test", "running_mean": np.array([0.5, -1.0]),
                "running_var": np.array([2.0, 0.25])}
    gamma, beta = np.array([1.5, -0.5]), np.array([0.1, 0.2])
    out, _ = mine.spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))
    expected, _ = theirs.spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))
    expect_close(out, expected, "spatial_batchnorm_forward in test mode")


@pytest.mark.points(1)
def test_spatial_batchnorm_backward_numeric(mine, theirs):
    """spatial_batchnorm_backward matches numeric gradients of spatial batch normalisation"""
    rng = np.random.default_rng(1800)
    x = rng.normal(loc=1.0, scale=2.0, size=(2, 2, 3, 2))
    gamma, beta, dout = rng.normal(size=2), rng.normal(size=2), rng.normal(size=x.shape)

    def forward(x, gamma, beta):
        return theirs.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    numeric = {"dx": eval_numerical_gradient_array(lambda v: forward(v, gamma, beta), x.copy(), dout),
               "dgamma": eval_numerical_gradient_array(lambda v: forward(x, v, beta), gamma.copy(), dout),
               "dbeta": eval_numerical_gradient_array(lambda v: forward(x, gamma, v), beta.copy(), dout)}
    _, cache = mine.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for name, analytic in zip(("dx", "dgamma", "dbeta"), mine.spatial_batchnorm_backward(dout, cache)):
        expect(rel_error(np.asarray(analytic, dtype=float), numeric[name]) < 1e-6,
               f"{name} of spatial_batchnorm_backward does not match the numeric gradient")


# -- running averages, through FullyConnectedNet ----------------------------------------
def net_with_batchnorm(student, seed, momentum=None, eps=None):
    fc_net = student.import_module("nnfs.classifiers.fc_net")
    rng = np.random.default_rng(seed)
    net = fc_net.FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm",
                                   weight_scale=0.5, dtype="float64")
    # every parameter drawn here: a net whose own start is all zeros must not match the reference
    params = {name: rng.normal(size=np.shape(value)) for name, value in net.params.items()}
    net.params = params
    if momentum is not None or eps is not None:
        extra = {key: value for key, value in (("momentum", momentum), ("eps", eps)) if value is not None}
        net.bn_params = [{"mode": "train", **extra}, {"mode": "train", **extra}]
    return net, params, rng


@pytest.mark.points(2)
@pytest.mark.parametrize("momentum", [None, 0.6], ids=["default-momentum", "momentum-0.6"])
def test_running_averages(student, momentum):
    """batchnorm_forward keeps running averages: momentum * running + (1 - momentum) * batch statistic"""
    net, params, rng = net_with_batchnorm(student, 1900, momentum=momentum)
    m = 0.9 if momentum is None else momentum
    means, variances = np.zeros(6), np.zeros(6)
    for _ in range(3):
        X, y = rng.normal(loc=0.5, size=(12, 4)), rng.integers(0, 3, size=12)
        net.loss(X, y)
        hidden = X @ params["W1"] + params["b1"]
        means = m * means + (1 - m) * hidden.mean(axis=0)
        variances = m * variances + (1 - m) * hidden.var(axis=0)
    bn_params = net.bn_params
    expect(len(bn_params) == 2 and "running_mean" in bn_params[0] and "running_var" in bn_params[0],
           "after a training step every bn_param should hold 'running_mean' and 'running_var'")
    expect_close(bn_params[0]["running_mean"], means,
                 "the running mean of the first batch-norm layer after three training steps")
    expect_close(bn_params[0]["running_var"], variances,
                 "the running variance of the first batch-norm layer after three training steps "
                 "(it averages the biased batch variances)")


@pytest.mark.points(2)
def test_test_mode_uses_the_running_averages(student, reference):
    """a batch-norm net in test mode (no labels) normalises with the running averages"""
    net, params, rng = net_with_batchnorm(student, 2000, eps=1e-3)
    params = net.params
    ref = reference.import_module("nnfs.normalization")
    ref_bn_params = [{"mode": "train", "eps": 1e-3}, {"mode": "train", "eps": 1e-3}]

    def reference_forward(X):
        hidden = X
        for i in (1, 2):
            hidden = hidden @ params[f"W{i}"] + params[f"b{i}"]
            hidden, _ = ref.batchnorm_forward(hidden, params[f"gamma{i}"], params[f"beta{i}"],
                                              ref_bn_params[i - 1])
            hidden = np.maximum(hidden, 0.0)
        return hidden @ params["W3"] + params["b3"]

    for _ in range(2):
        X = rng.normal(size=(10, 4))
        net.loss(X, rng.integers(0, 3, size=10))
        reference_forward(X)
    for bn_param in ref_bn_params:
        bn_param["mode"] = "test"
    X = rng.normal(size=(3, 4))
    expect_close(net.loss(X), reference_forward(X),
                 "the test-mode scores of a FullyConnectedNet with batch normalisation after two "
                 "training steps")

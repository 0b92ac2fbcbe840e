"""Hidden tests: FullyConnectedNet of random depth, compared with the instructor's network
(same parameters, same inputs) built in this trusted process."""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import rel_error

# (hidden_dims, input_dim, num_classes)
ARCHITECTURES = [([7], 5, 3), ([6, 9], 8, 4), ([5, 4, 6, 3], 7, 5), ([3, 3, 3, 3, 3], 4, 2)]
ARCH_IDS = [f"{len(h) + 1}-layers" for h, _, _ in ARCHITECTURES]


def classifiers(student, reference):
    return (student.import_module("nnfs.classifiers"),
            reference.import_module("nnfs.classifiers"))


def random_params(rng, hidden_dims, input_dim, num_classes, batchnorm=False, scale=0.4):
    dims = [input_dim, *hidden_dims, num_classes]
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = scale * rng.normal(size=(dims[i - 1], dims[i]))
        params[f"b{i}"] = 0.3 * rng.normal(size=dims[i])
        if batchnorm and i < len(dims) - 1:
            params[f"gamma{i}"] = 1 + 0.2 * rng.normal(size=dims[i])
            params[f"beta{i}"] = 0.2 * rng.normal(size=dims[i])
    return params


def twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes, **kwargs):
    """A student net and a reference net with the same parameters."""
    net = mine.FullyConnectedNet(hidden_dims, input_dim=input_dim, num_classes=num_classes,
                                 **kwargs)
    ref = theirs.FullyConnectedNet(hidden_dims, input_dim=input_dim, num_classes=num_classes,
                                   **kwargs)
    net.params = {k: v.copy() for k, v in params.items()}
    ref.params = {k: v.copy() for k, v in params.items()}
    return net, ref


def compare_loss_and_grads(net, ref, X, y, what, rtol=1e-6, atol=1e-9):
    result = net.loss(X, y)
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           "loss(X, y) should return (loss, grads)")
    loss, grads = result
    wanted_loss, wanted_grads = ref.loss(X, y)
    expect_close(loss, wanted_loss, f"the loss {what}", rtol=rtol, atol=atol)
    expect(isinstance(grads, dict) and sorted(grads) == sorted(wanted_grads),
           "grads should have exactly one entry for every key of params")
    for name in sorted(wanted_grads):
        expect_close(grads[name], wanted_grads[name], f"the gradient of {name} {what}",
                     rtol=rtol, atol=atol)


@pytest.mark.points(2)
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=ARCH_IDS)
def test_initialisation(student, reference, arch):
    """parameters W1..WL, b1..bL: names, shapes, dtype, zero biases and the weight scale"""
    mine, theirs = classifiers(student, reference)
    hidden_dims, input_dim, num_classes = arch
    pooled = []
    for dtype in ("float32", "float64"):  # names: a NumPy type cannot cross to the sandbox
        net = mine.FullyConnectedNet(hidden_dims, input_dim=input_dim, num_classes=num_classes,
                                     weight_scale=0.05, dtype=dtype)
        ref = theirs.FullyConnectedNet(hidden_dims, input_dim=input_dim,
                                       num_classes=num_classes, weight_scale=0.05, dtype=dtype)
        expect(int(net.num_layers) == ref.num_layers,
               "num_layers should be the number of affine layers (hidden layers + 1)")
        params, wanted = net.params, ref.params
        expect(sorted(params) == sorted(wanted),
               "params should hold exactly W1..WL and b1..bL")
        for name in sorted(wanted):
            value = np.asarray(params[name])
            expect(value.shape == wanted[name].shape, f"{name} has the wrong shape")
            expect(value.dtype == np.dtype(dtype), f"{name} should have the net's dtype")
            if name.startswith("b"):
                expect(np.all(value == 0), f"{name} should start at zero")
            else:
                pooled.append(value.ravel().astype(np.float64))
    for _ in range(4):
        net = mine.FullyConnectedNet([40, 40], input_dim=30, num_classes=10, weight_scale=0.05)
        pooled += [np.asarray(net.params[k]).ravel().astype(np.float64) for k in ("W1", "W2")]
    weights = np.concatenate(pooled)
    expect(abs(weights.std() / 0.05 - 1) < 0.1 and abs(weights.mean()) < 0.01,
           "weights should be drawn from a Gaussian with mean 0 and standard deviation "
           "weight_scale")


@pytest.mark.points(3)
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=ARCH_IDS)
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_loss_and_gradients(student, reference, arch, reg):
    """loss and every gradient of a net of random depth, with and without regularisation"""
    mine, theirs = classifiers(student, reference)
    hidden_dims, input_dim, num_classes = arch
    rng = np.random.default_rng(4000 + len(hidden_dims))
    params = random_params(rng, hidden_dims, input_dim, num_classes)
    net, ref = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes, reg=reg,
                         dtype="float64")
    X, y = rng.normal(size=(9, input_dim)), rng.integers(num_classes, size=9)
    expect_close(net.loss(X), ref.loss(X), "the scores returned by loss(X) without labels")
    compare_loss_and_grads(net, ref, X, y, "of a net of several layers")


@pytest.mark.points(2)
def test_regularisation_covers_weights_only(student, reference):
    """regularisation adds 0.5 * reg * sum(W * W) for every weight matrix, not the biases"""
    mine, theirs = classifiers(student, reference)
    rng = np.random.default_rng(4100)
    hidden_dims, input_dim, num_classes = [6, 5], 4, 3
    params = random_params(rng, hidden_dims, input_dim, num_classes)
    X, y = rng.normal(size=(5, 4)), rng.integers(3, size=5)
    plain, _ = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes,
                         dtype="float64")
    regular, ref = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes,
                             reg=2.5, dtype="float64")
    plain_loss, plain_grads = plain.loss(X, y)
    loss, grads = regular.loss(X, y)
    _, ref_plain = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes,
                             dtype="float64")
    wanted_loss, wanted_grads = ref.loss(X, y)
    wanted_plain_loss, _ = ref_plain.loss(X, y)
    expect_close(float(loss) - float(plain_loss), wanted_loss - wanted_plain_loss,
                 "the regularisation part of the loss")
    for name in sorted(wanted_grads):
        expect_close(np.asarray(grads[name]) - np.asarray(plain_grads[name]),
                     wanted_grads[name] - ref_plain.loss(X, y)[1][name],
                     f"the regularisation part of the gradient of {name}")


@pytest.mark.points(1)
def test_float32_net(student, reference):
    """a float32 net (the default dtype) computes the loss and gradients to float32 precision"""
    mine, theirs = classifiers(student, reference)
    rng = np.random.default_rng(4200)
    hidden_dims, input_dim, num_classes = [12, 10], 3 * 4 * 4, 10
    params = {k: v.astype(np.float32)
              for k, v in random_params(rng, hidden_dims, input_dim, num_classes, scale=0.2).items()}
    net, _ = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes, reg=0.1)
    _, ref = twin_nets(mine, theirs, {k: v.astype(np.float64) for k, v in params.items()},
                       hidden_dims, input_dim, num_classes, reg=0.1, dtype="float64")
    X = rng.normal(size=(16, 3, 4, 4))          # image-shaped input, flattened by the net
    y = rng.integers(10, size=16)
    compare_loss_and_grads(net, ref, X, y, "of a float32 net", rtol=1e-3, atol=1e-5)
    grads = net.loss(X, y)[1]
    expect(all(np.asarray(g).dtype == np.float32 for g in grads.values()),
           "a float32 net should return float32 gradients")


@pytest.mark.points(2)
def test_dropout_net(student, reference):
    """with dropout: test-mode scores without dropout, and training gradients that match
    numeric gradients of the net's own loss (fixed seed)"""
    mine, theirs = classifiers(student, reference)
    rng = np.random.default_rng(4300)
    hidden_dims, input_dim, num_classes = [8, 7], 5, 4
    params = random_params(rng, hidden_dims, input_dim, num_classes, scale=0.6)
    net, ref = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes,
                         dropout_keep_ratio=0.5, seed=123, reg=0.2, dtype="float64")
    expect(bool(net.use_dropout), "use_dropout should be True when dropout_keep_ratio < 1")
    X, y = rng.normal(size=(6, input_dim)), rng.integers(num_classes, size=6)
    expect_close(net.loss(X), ref.loss(X),
                 "the scores at test time (loss without labels), where dropout is off")
    loss, grads = net.loss(X, y)
    expect(np.isfinite(float(loss)), "the training loss with dropout is not finite")
    # the training loss must differ from the same net without dropout
    plain, _ = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes, reg=0.2,
                         dtype="float64")
    plain_loss, _ = plain.loss(X, y)
    expect(abs(float(loss) - float(plain_loss)) > 1e-6,
           "the training loss with dropout equals the loss without dropout: "
           "dropout is not applied in training mode")
    # sparse numeric gradient check of the student's own (seeded) loss
    h = 1e-5
    check = np.random.default_rng(4301)
    for name in sorted(params):
        value = params[name]
        for _ in range(3):
            index = tuple(int(check.integers(n)) for n in value.shape)
            shifted = {}
            for sign in (+1, -1):
                changed = value.copy()
                changed[index] += sign * h
                net.params = {**params, name: changed}
                shifted[sign] = float(net.loss(X, y)[0])
            numeric = (shifted[1] - shifted[-1]) / (2 * h)
            analytic = float(np.asarray(grads[name])[index])
            expect(abs(numeric - analytic) < 1e-6 or rel_error(numeric, analytic) < 1e-5,
                   f"the gradient of {name} with dropout does not match the numeric gradient "
                   f"of the loss (use the same mask forward and backward, and the seed)")
        net.params = params


@pytest.mark.points(2)
def test_batchnorm_net(student, reference):
    """with batch normalisation: gamma/beta parameters, loss and every gradient"""
    mine, theirs = classifiers(student, reference)
    rng = np.random.default_rng(4400)
    hidden_dims, input_dim, num_classes = [6, 5], 4, 3
    net = mine.FullyConnectedNet(hidden_dims, input_dim=input_dim, num_classes=num_classes,
                                 normalization="batchnorm", dtype="float64")
    ref = theirs.FullyConnectedNet(hidden_dims, input_dim=input_dim, num_classes=num_classes,
                                   normalization="batchnorm", dtype="float64")
    expect(sorted(net.params) == sorted(ref.params),
           "with batch normalisation params should also hold gamma1.. and beta1.. "
           "for every hidden layer")
    for name in ("gamma1", "gamma2"):
        expect_close(net.params[name], np.ones(hidden_dims[int(name[-1]) - 1]),
                     f"the initial {name}")
    for name in ("beta1", "beta2"):
        expect_close(net.params[name], np.zeros(hidden_dims[int(name[-1]) - 1]),
                     f"the initial {name}")
    params = random_params(rng, hidden_dims, input_dim, num_classes, batchnorm=True)
    net, ref = twin_nets(mine, theirs, params, hidden_dims, input_dim, num_classes,
                         normalization="batchnorm", reg=0.3, dtype="float64")
    X, y = rng.normal(size=(10, input_dim)), rng.integers(num_classes, size=10)
    compare_loss_and_grads(net, ref, X, y, "of a net with batch normalisation",
                           rtol=1e-5, atol=1e-8)

"""Hidden tests: ThreeLayerConvNet (parameter shapes, initialisation, loss and gradients
against the reference with the same parameters, numeric gradients, a short training run).

The student's net lives in the sandbox; the tests read its parameters (copies), give the
reference net the same ones, and write parameters back with ``net.params = ...``.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient, rel_error

PARAM_NAMES = ["W1", "W2", "W3", "b1", "b2", "b3"]

# (input_dim, num_filters, filter_size, hidden_dim, num_classes): square and rectangular
# images, odd filter sizes (the conv keeps the size, the pool halves it).
GEOMETRIES = [((3, 8, 8), 4, 3, 10, 10),
              ((1, 12, 6), 2, 5, 7, 3),
              ((2, 6, 10), 3, 7, 5, 4),
              ((3, 16, 16), 5, 1, 6, 5)]
GEOMETRY_IDS = [f"in{'x'.join(map(str, d))}-F{f}-k{k}" for d, f, k, _, _ in GEOMETRIES]


@pytest.fixture
def mine(student):
    return student.import_module("nnfs.classifiers.cnn")


@pytest.fixture
def theirs(reference):
    return reference.import_module("nnfs.classifiers.cnn")


def make_nets(mine, theirs, geometry, seed, reg=0.0, dtype="float64", weight_scale=0.3):
    """A student net and a reference net with the same random parameters.

    dtype is passed by name: a NumPy type object cannot cross into the sandbox.
    """
    input_dim, num_filters, filter_size, hidden_dim, num_classes = geometry
    kwargs = dict(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size,
                  hidden_dim=hidden_dim, num_classes=num_classes, reg=reg, dtype=dtype)
    net = mine.ThreeLayerConvNet(**kwargs)
    ref = theirs.ThreeLayerConvNet(**kwargs)
    rng = np.random.default_rng(seed)
    params = {name: (weight_scale * rng.normal(size=value.shape)).astype(dtype)
              for name, value in ref.params.items()}
    ref.params = dict(params)
    net.params = dict(params)
    return net, ref, params, rng


def described(geometry):
    input_dim, num_filters, filter_size, hidden_dim, num_classes = geometry
    return (f"input_dim={input_dim}, num_filters={num_filters}, filter_size={filter_size}, "
            f"hidden_dim={hidden_dim}, num_classes={num_classes}")


@pytest.mark.points(1)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=GEOMETRY_IDS)
def test_parameter_shapes(mine, theirs, geometry):
    """ThreeLayerConvNet's parameters have the right shapes (conv keeps the size, pool halves it)"""
    input_dim, num_filters, filter_size, hidden_dim, num_classes = geometry
    net = mine.ThreeLayerConvNet(input_dim=input_dim, num_filters=num_filters,
                                 filter_size=filter_size, hidden_dim=hidden_dim,
                                 num_classes=num_classes)
    ref = theirs.ThreeLayerConvNet(input_dim=input_dim, num_filters=num_filters,
                                   filter_size=filter_size, hidden_dim=hidden_dim,
                                   num_classes=num_classes)
    params = net.params
    expect(isinstance(params, dict) and sorted(params) == PARAM_NAMES,
           "ThreeLayerConvNet.params should hold exactly W1, b1, W2, b2, W3, b3")
    for name in PARAM_NAMES:
        expect(np.shape(params[name]) == ref.params[name].shape,
               f"{name} has the wrong shape for {described(geometry)}")


@pytest.mark.points(1)
def test_initialisation(mine):
    """weights are Gaussian with standard deviation weight_scale, biases zero, in the given dtype"""
    for dtype in ("float32", "float64"):
        net = mine.ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=16, filter_size=5,
                                     hidden_dim=40, weight_scale=0.02, dtype=dtype)
        params = net.params
        for name in ("W1", "W2", "W3"):
            w = np.asarray(params[name])
            expect(w.dtype == dtype, f"{name} should have the dtype given to the constructor")
            expect(abs(w.std() - 0.02) < 0.004 and abs(w.mean()) < 0.004,
                   f"{name} should be drawn from a Gaussian with mean 0 and standard deviation "
                   f"weight_scale")
        for name in ("b1", "b2", "b3"):
            expect(np.asarray(params[name]).dtype == dtype,
                   f"{name} should have the dtype given to the constructor")
            expect(not np.any(params[name]), f"{name} should start at zero")


@pytest.mark.points(2)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=GEOMETRY_IDS)
def test_scores(mine, theirs, geometry):
    """loss(X) without labels returns the right class scores"""
    net, ref, _, rng = make_nets(mine, theirs, geometry, 3000)
    X = rng.normal(size=(3, *geometry[0]))
    scores = net.loss(X)
    expected = ref.loss(X)
    expect(np.shape(scores) == expected.shape, f"the scores have the wrong shape for {described(geometry)}")
    expect_close(scores, expected, f"the class scores for {described(geometry)}", rtol=1e-6, atol=1e-8)


@pytest.mark.points(3)
@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("geometry", GEOMETRIES[:3], ids=GEOMETRY_IDS[:3])
def test_loss_and_gradients(mine, theirs, geometry, reg):
    """loss(X, y) returns the right loss and gradients (with and without regularisation)"""
    net, ref, _, rng = make_nets(mine, theirs, geometry, 3100, reg=reg)
    X = rng.normal(size=(4, *geometry[0]))
    y = rng.integers(0, geometry[4], size=4)
    result = net.loss(X, y)
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           "loss(X, y) should return the pair (loss, grads)")
    loss, grads = result
    expected_loss, expected_grads = ref.loss(X, y)
    expect_close(loss, expected_loss, f"the loss for {described(geometry)}, reg={reg}", rtol=1e-6)
    expect(isinstance(grads, dict) and sorted(grads) == PARAM_NAMES,
           "grads should have one entry for each of W1, b1, W2, b2, W3, b3")
    for name in PARAM_NAMES:
        expect(np.shape(grads[name]) == expected_grads[name].shape,
               f"grads['{name}'] should have the shape of the parameter")
        expect_close(grads[name], expected_grads[name],
                     f"grads['{name}'] for {described(geometry)}, reg={reg}", rtol=1e-5, atol=1e-8)


@pytest.mark.points(2)
def test_gradients_numeric(mine, theirs):
    """every gradient matches a numeric gradient of the network's loss"""
    geometry = ((2, 4, 4), 2, 3, 4, 3)
    net, ref, params, rng = make_nets(mine, theirs, geometry, 3200, reg=0.2, weight_scale=0.5)
    X = rng.normal(size=(2, 2, 4, 4))
    y = np.array([0, 2])
    _, grads = net.loss(X, y)

    def reference_loss_with(name, value):
        ref.params = {**params, name: value}
        return ref.loss(X, y)[0]

    for name in PARAM_NAMES:
        numeric = eval_numerical_gradient(lambda v: reference_loss_with(name, v),
                                          params[name].copy(), verbose=False)
        expect(rel_error(np.asarray(grads[name], dtype=float), numeric) < 1e-6,
               f"grads['{name}'] does not match the numeric gradient of the loss")


@pytest.mark.points(1)
def test_float32_network(mine, theirs):
    """a float32 net returns float32 scores and gradients close to the float64 ones"""
    geometry = GEOMETRIES[0]
    net, ref, params, rng = make_nets(mine, theirs, geometry, 3300, reg=0.1, dtype="float32")
    ref.params = {name: value.astype(np.float64) for name, value in params.items()}
    ref.dtype = np.float64
    X = rng.normal(size=(5, *geometry[0])).astype(np.float32)
    y = rng.integers(0, 10, size=5)
    loss, grads = net.loss(X, y)
    expected_loss, expected_grads = ref.loss(X.astype(np.float64), y)
    expect_close(loss, expected_loss, "the loss of a float32 net", rtol=1e-4)
    for name in PARAM_NAMES:
        expect(np.asarray(grads[name]).dtype == np.float32,
               f"grads['{name}'] of a float32 net should be float32")
        expect_close(grads[name], expected_grads[name], f"grads['{name}'] of a float32 net",
                     rtol=1e-3, atol=1e-5)


@pytest.mark.points(2)
def test_training_overfits_a_small_batch(mine):
    """plain gradient descent on ThreeLayerConvNet's gradients fits 12 examples"""
    net = mine.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=6, filter_size=3,
                                 hidden_dim=30, dtype="float64")
    rng = np.random.default_rng(3400)
    # the start is fixed here: the student's own random initialisation is tested elsewhere
    params = {name: 0.05 * rng.normal(size=np.shape(value)) if name.startswith("W")
              else np.zeros(np.shape(value)) for name, value in net.params.items()}
    net.params = params
    X, y = rng.normal(size=(12, 3, 8, 8)), rng.integers(0, 10, size=12)
    first = None
    for _ in range(60):
        loss, grads = net.loss(X, y)
        first = loss if first is None else first
        params = {name: value - 0.2 * grads[name] for name, value in params.items()}
        net.params = params
    final = net.loss(X, y)[0]
    accuracy = np.mean(np.argmax(net.loss(X), axis=1) == y)
    expect(np.isfinite(final) and final < 0.3 * first,
           "60 steps of gradient descent on 12 examples should cut the loss to under 30% of "
           "its start; check the gradients' signs and scale")
    expect(accuracy == 1.0, "after 60 steps of gradient descent the net should classify all "
                            "12 training examples right")

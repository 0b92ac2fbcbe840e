"""Hidden tests: TwoLayerNet (initialisation, scores, loss, gradients, overfitting).

The student's network lives in the sandbox: reading ``net.params`` returns a copy, so
the tests keep the parameters here and write them back with ``net.params = params``.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient, rel_error

PARAM_NAMES = ["W1", "W2", "b1", "b2"]


def random_params(rng, input_dim, hidden_dim, num_classes, scale=0.5):
    return {"W1": scale * rng.normal(size=(input_dim, hidden_dim)),
            "b1": 0.1 * rng.normal(size=hidden_dim),
            "W2": scale * rng.normal(size=(hidden_dim, num_classes)),
            "b2": 0.1 * rng.normal(size=num_classes)}


def net_with(module, params, reg=0.0):
    """A TwoLayerNet of ``module`` whose parameters are ``params``."""
    input_dim, hidden_dim = params["W1"].shape
    net = module.TwoLayerNet(input_dim=input_dim, hidden_dim=hidden_dim,
                             num_classes=params["W2"].shape[1], reg=reg)
    net.params = dict(params)
    return net


@pytest.mark.points(1)
@pytest.mark.parametrize("dims", [(7, 3, 2), (40, 25, 10)])
def test_initialisation(student, dims):
    """__init__ gives parameters of the right shapes, Gaussian weights of the given scale, zero biases"""
    classifiers = student.import_module("nnfs.classifiers")
    input_dim, hidden_dim, num_classes = dims
    shapes = {"W1": (input_dim, hidden_dim), "b1": (hidden_dim,),
              "W2": (hidden_dim, num_classes), "b2": (num_classes,)}
    # Enough nets for 1000+ weights: with the 27 weights of one small net, a correct
    # Gaussian initialisation misses the bounds below about once in a hundred draws.
    weights_per_net = input_dim * hidden_dim + hidden_dim * num_classes
    weights = []
    for _ in range(-(-1000 // weights_per_net)):
        params = classifiers.TwoLayerNet(input_dim=input_dim, hidden_dim=hidden_dim,
                                         num_classes=num_classes, weight_scale=0.02).params
        expect(isinstance(params, dict) and sorted(params) == PARAM_NAMES,
               "params should be a dict with exactly the keys W1, b1, W2, b2")
        for name, shape in shapes.items():
            expect(np.shape(params[name]) == shape, f"params['{name}'] has the wrong shape")
        for name in ("b1", "b2"):
            expect(np.all(np.asarray(params[name]) == 0),
                   f"params['{name}'] should start at zero")
        weights += [np.ravel(params["W1"]), np.ravel(params["W2"])]
    weights = np.concatenate(weights)
    expect(0.6 * 0.02 < np.std(weights) < 1.5 * 0.02 and abs(np.mean(weights)) < 0.01,
           "the weights should be drawn from a Gaussian with mean 0 and standard deviation "
           "weight_scale")


@pytest.mark.points(2)
def test_scores_on_image_shaped_input(student, reference):
    """loss(X) returns the right scores for X of shape (N, 3, 4, 4)"""
    mine = student.import_module("nnfs.classifiers")
    theirs = reference.import_module("nnfs.classifiers")
    rng = np.random.default_rng(400)
    params = random_params(rng, 48, 9, 5)
    X = rng.normal(size=(6, 3, 4, 4))
    expect_close(net_with(mine, params).loss(X), net_with(theirs, params).loss(X),
                 "the scores of TwoLayerNet.loss(X) for X of shape (6, 3, 4, 4)")


@pytest.mark.points(3)
@pytest.mark.parametrize("reg", [0.0, 0.05, 1.3])
def test_loss_and_gradients(student, reference, reg):
    """loss(X, y) returns the right loss and gradients, with and without regularisation"""
    mine = student.import_module("nnfs.classifiers")
    theirs = reference.import_module("nnfs.classifiers")
    rng = np.random.default_rng(410)
    params = random_params(rng, 12, 8, 4)
    X, y = rng.normal(size=(15, 12)), rng.integers(0, 4, size=15)
    expected_loss, expected_grads = net_with(theirs, params, reg).loss(X, y)
    loss, grads = net_with(mine, params, reg).loss(X, y)
    expect_close(loss, expected_loss, f"the loss of TwoLayerNet with reg={reg}")
    expect(isinstance(grads, dict) and sorted(grads) == PARAM_NAMES,
           "grads should be a dict with the keys W1, b1, W2, b2")
    for name in PARAM_NAMES:
        expect_close(grads[name], expected_grads[name], f"grads['{name}'] with reg={reg}",
                     rtol=1e-6, atol=1e-10)


@pytest.mark.points(2)
def test_gradients_match_numeric_gradients(student, reference):
    """the loss is right and every gradient matches a numeric gradient of it (reg=0.4)"""
    classifiers = student.import_module("nnfs.classifiers")
    rng = np.random.default_rng(420)
    params = random_params(rng, 4, 5, 3)
    X, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)
    net = net_with(classifiers, params, reg=0.4)
    loss, grads = net.loss(X, y)
    # Anchored to the reference: a constant loss would match its own zero gradients.
    expected_loss = net_with(reference.import_module("nnfs.classifiers"), params, reg=0.4).loss(X, y)[0]
    expect_close(loss, expected_loss, "the loss of TwoLayerNet with reg=0.4")
    expect(isinstance(grads, dict) and sorted(grads) == PARAM_NAMES,
           "grads should be a dict with the keys W1, b1, W2, b2")

    def loss_with(name, value):
        net.params = {**params, name: value}
        return net.loss(X, y)[0]

    for name in PARAM_NAMES:
        numeric = eval_numerical_gradient(lambda v: loss_with(name, v), params[name].copy(),
                                          verbose=False)
        expect(np.shape(grads[name]) == params[name].shape,
               f"grads['{name}'] should have the shape of params['{name}']")
        expect(rel_error(np.asarray(grads[name]), numeric) < 1e-6,
               f"grads['{name}'] does not match the numeric gradient of the loss")


@pytest.mark.points(3)
def test_overfits_twenty_examples(student):
    """gradient descent with the student's gradients fits 20 examples perfectly"""
    classifiers = student.import_module("nnfs.classifiers")
    rng = np.random.default_rng(430)
    X, y = rng.normal(size=(20, 30)), rng.integers(0, 5, size=20)
    params = {**random_params(rng, 30, 40, 5, scale=0.1), "b1": np.zeros(40), "b2": np.zeros(5)}
    net = net_with(classifiers, params)
    first_loss = None
    for _ in range(100):
        loss, grads = net.loss(X, y)
        first_loss = loss if first_loss is None else first_loss
        params = {name: params[name] - 0.5 * np.asarray(grads[name]) for name in PARAM_NAMES}
        net.params = params
    scores = np.asarray(net.loss(X))
    expect(np.all(np.isfinite(scores)), "training the net on 20 examples produced NaN or inf")
    expect(np.mean(np.argmax(scores, axis=1) == y) == 1.0 and loss < 0.1 * first_loss,
           "100 steps of gradient descent with your gradients do not fit 20 examples "
           "(the loss should fall close to 0)")

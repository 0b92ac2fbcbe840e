"""Hidden tests: inverted dropout (p is the KEEP probability), its statistics with fixed
seeds, test mode, and its backward pass; plus the assignment-1 layers written again.

Dropout masks may be drawn in any correct way, so the training-mode checks are statistical
(fraction kept, scale of the kept units, mean) and the backward pass is checked against
the mask the student's own forward pass applied, in the same test as its statistics.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close


def layers_of(student):
    return student.import_module("nnfs.layers")


def positive_input(rng, shape, dtype=np.float64):
    return (rng.uniform(1.0, 3.0, size=shape)).astype(dtype)


@pytest.mark.points(2)
@pytest.mark.parametrize("p", [0.1, 0.3, 0.75, 0.9])
def test_dropout_train_statistics(student, p):
    """training mode keeps a fraction p of the units, scaled by 1/p, and keeps the mean"""
    layers = layers_of(student)
    for seed in (11, 12):
        x = positive_input(np.random.default_rng(3000 + seed), (400, 250))
        out, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": seed})
        out = np.asarray(out)
        expect(out.shape == x.shape, "dropout_forward's output should have the input's shape")
        kept = out != 0
        expect(abs(kept.mean() - p) < 0.01,
               "the fraction of units kept in training mode should be p (the keep probability)")
        expect(np.allclose(out[kept], x[kept] / p, rtol=1e-5),
               "kept units should be the input divided by p (inverted dropout)")
        expect(abs(out.mean() / x.mean() - 1) < 0.02,
               "in training mode the mean output should equal the mean input")


@pytest.mark.points(1)
@pytest.mark.parametrize("p", [0.2, 0.5, 1.0])
def test_dropout_test_mode_is_the_identity(student, p):
    """test mode returns the input unchanged (no mask, no scaling) and so does its backward"""
    layers = layers_of(student)
    rng = np.random.default_rng(3100)
    x, dout = rng.normal(size=(30, 20)), rng.normal(size=(30, 20))
    out, cache = layers.dropout_forward(x, {"mode": "test", "p": p})
    expect_close(out, x, "dropout_forward's output in test mode", rtol=0, atol=1e-15)
    expect_close(layers.dropout_backward(dout, cache), dout,
                 "dropout_backward's gradient in test mode", rtol=0, atol=1e-15)


@pytest.mark.points(1)
def test_dropout_keep_everything(student):
    """with p = 1 training mode keeps every unit unchanged"""
    layers = layers_of(student)
    x = np.random.default_rng(3200).normal(size=(50, 40))
    out, _ = layers.dropout_forward(x, {"mode": "train", "p": 1.0, "seed": 3})
    expect_close(out, x, "dropout_forward's output with p = 1", rtol=1e-12)


@pytest.mark.points(1)
def test_dropout_seed_fixes_the_mask(student):
    """the same seed gives the same mask; another seed gives another one"""
    layers = layers_of(student)
    x = positive_input(np.random.default_rng(3300), (40, 50))
    first, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})
    again, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})
    other, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 8})
    first, again, other = np.asarray(first), np.asarray(again), np.asarray(other)
    expect(abs((first != 0).mean() - 0.5) < 0.05,
           "the fraction of units kept in training mode should be p")
    expect(np.array_equal(first != 0, again != 0),
           "two calls with the same seed should drop the same units")
    expect(not np.array_equal(first != 0, other != 0),
           "calls with different seeds should drop different units")


@pytest.mark.points(2)
@pytest.mark.parametrize("p, dtype", [(0.3, np.float64), (0.6, np.float64), (0.8, np.float32)])
def test_dropout_backward_uses_the_forward_mask(student, p, dtype):
    """dropout_backward multiplies by the same mask and 1/p as the forward pass"""
    layers = layers_of(student)
    rng = np.random.default_rng(3400)
    x = positive_input(rng, (60, 70), dtype)
    dout = rng.normal(size=(60, 70)).astype(dtype)
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 5})
    out = np.asarray(out, dtype=np.float64)
    expect(abs((out != 0).mean() - p) < 0.03,
           "the fraction of units kept in training mode should be p")
    dx = layers.dropout_backward(dout, cache)
    # the forward pass is out = x * mask, so the exact gradient is dout * out / x
    wanted = dout.astype(np.float64) * out / x.astype(np.float64)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    expect_close(dx, wanted, "dropout_backward's gradient in training mode", rtol=rtol,
                 atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.points(1)
def test_dropout_keeps_any_input_shape(student):
    """dropout works on inputs of any shape (a conv layer's 4-d output, a vector)"""
    layers = layers_of(student)
    rng = np.random.default_rng(3500)
    for shape in [(8, 3, 10, 10), (5000,)]:
        x = positive_input(rng, shape)
        out, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.4, "seed": 1})
        out = np.asarray(out)
        expect(out.shape == x.shape, "dropout_forward's output should have the input's shape")
        expect(abs((out != 0).mean() - 0.4) < 0.03,
               "the fraction of units kept in training mode should be p")
        dx = np.asarray(layers.dropout_backward(np.ones(shape), cache))
        expect_close(dx, out / x, "dropout_backward's gradient for a non-matrix input",
                     rtol=1e-10)


# -- the assignment-1 layers, written again ---------------------------------------------

@pytest.mark.points(1)
def test_affine_relu_softmax_again(student, reference):
    """affine, ReLU and softmax layers (from assignment 1) on random inputs"""
    mine, theirs = student.import_module("nnfs.layers"), reference.import_module("nnfs.layers")
    rng = np.random.default_rng(3600)
    x, w, b = rng.normal(size=(6, 2, 4)), rng.normal(size=(8, 5)), rng.normal(size=5)
    dout = rng.normal(size=(6, 5))
    out, cache = mine.affine_forward(x, w, b)
    wanted_out, wanted_cache = theirs.affine_forward(x, w, b)
    expect_close(out, wanted_out, "affine_forward's output")
    for what, got, wanted in zip(("dx", "dw", "db"), mine.affine_backward(dout, cache),
                                 theirs.affine_backward(dout, wanted_cache)):
        expect_close(got, wanted, f"{what} of affine_backward")
    z = rng.normal(size=(7, 9))
    z[0, 0] = 0.0
    out, cache = mine.relu_forward(z)
    expect_close(out, theirs.relu_forward(z)[0], "relu_forward's output")
    expect_close(mine.relu_backward(dout := rng.normal(size=(7, 9)), cache),
                 theirs.relu_backward(dout, theirs.relu_forward(z)[1]), "relu_backward's gradient")
    scores, y = 50 * rng.normal(size=(8, 6)), rng.integers(6, size=8)
    loss, dscores = mine.softmax_loss(scores, y)
    wanted_loss, wanted_dscores = theirs.softmax_loss(scores, y)
    expect_close(loss, wanted_loss, "softmax_loss's value (large scores)")
    expect_close(dscores, wanted_dscores, "softmax_loss's gradient (large scores)")

"""Hidden tests: conv_forward_naive / conv_backward_naive and the naive max pool.

Expected values come from the instructor's solution (the ``reference`` fixture) run in this
trusted process; numeric gradients are taken of the REFERENCE forward pass here, so a
gradient check costs no calls into the student's code.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient_array, rel_error

# (x shape, w shape, stride, pad): rectangular inputs and filters, strides 1-3, pads 0-2;
# every geometry tiles exactly ((H + 2 pad - HH) % stride == 0, likewise for W).
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((1, 2, 6, 8), (3, 2, 2, 4), 2, 0),
    ((3, 1, 7, 5), (2, 1, 3, 1), 2, 2),
    ((2, 2, 9, 6), (2, 2, 3, 3), 3, 0),
    ((1, 3, 4, 7), (5, 3, 4, 3), 1, 2),
    ((2, 4, 6, 6), (1, 4, 1, 1), 1, 0),
]
CONV_IDS = [f"x{'x'.join(map(str, x))}-w{'x'.join(map(str, w))}-s{s}-p{p}"
            for x, w, s, p in CONV_CASES]

# (x shape, pool_height, pool_width, stride): square, rectangular and overlapping windows.
POOL_CASES = [
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 7, 7), 3, 3, 2),      # overlapping, the AlexNet pool
    ((2, 1, 5, 6), 2, 3, 1),      # overlapping, rectangular
    ((1, 3, 6, 9), 3, 3, 3),
    ((3, 2, 5, 8), 1, 2, 2),
]
POOL_IDS = [f"x{'x'.join(map(str, x))}-{ph}x{pw}-s{s}" for x, ph, pw, s in POOL_CASES]


def described_conv(x_shape, w_shape, stride, pad):
    return f"x of shape {x_shape}, w of shape {w_shape}, stride {stride}, pad {pad}"


def described_pool(x_shape, ph, pw, stride):
    return f"x of shape {x_shape}, {ph}x{pw} windows, stride {stride}"


def conv_inputs(seed, x_shape, w_shape, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0])
    return x.astype(dtype), w.astype(dtype), b.astype(dtype), rng


def distinct_values(rng, shape):
    """Values without ties, so every window has one maximum."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


@pytest.fixture
def mine(student):
    return student.import_module("nnfs.conv_layers")


@pytest.fixture
def theirs(reference):
    return reference.import_module("nnfs.conv_layers")


# -- convolution ------------------------------------------------------------------------
@pytest.mark.points(1)
@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES, ids=CONV_IDS)
def test_conv_forward_geometries(mine, theirs, x_shape, w_shape, stride, pad):
    """conv_forward_naive is right for this input size, filter size, stride and padding"""
    x, w, b, _ = conv_inputs(100, x_shape, w_shape)
    conv_param = {"stride": stride, "pad": pad}
    out, _ = mine.conv_forward_naive(x, w, b, conv_param)
    expected, _ = theirs.conv_forward_naive(x, w, b, conv_param)
    what = described_conv(x_shape, w_shape, stride, pad)
    expect(np.shape(out) == expected.shape,
           f"conv_forward_naive gives an output of the wrong shape for {what}")
    expect_close(out, expected, f"conv_forward_naive's output for {what}")


@pytest.mark.points(2)
@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES, ids=CONV_IDS)
def test_conv_backward_geometries(mine, theirs, x_shape, w_shape, stride, pad):
    """conv_backward_naive gives the right dx, dw and db for this geometry"""
    x, w, b, rng = conv_inputs(200, x_shape, w_shape)
    conv_param = {"stride": stride, "pad": pad}
    out, ref_cache = theirs.conv_forward_naive(x, w, b, conv_param)
    dout = rng.normal(size=out.shape)
    _, cache = mine.conv_forward_naive(x, w, b, conv_param)
    what = described_conv(x_shape, w_shape, stride, pad)
    grads = mine.conv_backward_naive(dout, cache)
    expect(isinstance(grads, (tuple, list)) and len(grads) == 3,
           "conv_backward_naive should return the tuple (dx, dw, db)")
    for name, actual, expected in zip(("dx", "dw", "db"), grads,
                                      theirs.conv_backward_naive(dout, ref_cache)):
        expect(np.shape(actual) == expected.shape,
               f"{name} of conv_backward_naive has the wrong shape for {what}")
        expect_close(actual, expected, f"{name} of conv_backward_naive for {what}")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", [1, 2, 4], ids=[CONV_IDS[i] for i in (1, 2, 4)])
def test_conv_backward_numeric(mine, theirs, case):
    """conv_backward_naive matches numeric gradients of the convolution"""
    x_shape, w_shape, stride, pad = CONV_CASES[case]
    x, w, b, rng = conv_inputs(300 + case, x_shape, w_shape)
    conv_param = {"stride": stride, "pad": pad}

    def forward(x, w, b):
        return theirs.conv_forward_naive(x, w, b, conv_param)[0]

    dout = rng.normal(size=forward(x, w, b).shape)
    numeric = {"dx": eval_numerical_gradient_array(lambda v: forward(v, w, b), x.copy(), dout),
               "dw": eval_numerical_gradient_array(lambda v: forward(x, v, b), w.copy(), dout),
               "db": eval_numerical_gradient_array(lambda v: forward(x, w, v), b.copy(), dout)}
    _, cache = mine.conv_forward_naive(x, w, b, conv_param)
    what = described_conv(x_shape, w_shape, stride, pad)
    for name, analytic in zip(("dx", "dw", "db"), mine.conv_backward_naive(dout, cache)):
        expect(np.shape(analytic) == numeric[name].shape,
               f"{name} of conv_backward_naive has the wrong shape for {what}")
        expect(rel_error(np.asarray(analytic, dtype=float), numeric[name]) < 1e-7,
               f"{name} of conv_backward_naive does not match the numeric gradient for {what}")


@pytest.mark.points(1)
def test_conv_is_a_cross_correlation(mine):
    """conv_forward_naive slides the filter as it is (cross-correlation), without flipping it"""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 0, 0] = 1.0                      # a single bright pixel, top left
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out, _ = mine.conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 1})
    # output (i, j) sees the pixel at filter tap (1 - i, 1 - j): the filter appears flipped
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, :2, :2] = w[0, 0, 1::-1, 1::-1]
    expect_close(out, expected, "conv_forward_naive on an image with one non-zero pixel")


@pytest.mark.points(1)
def test_conv_float32(mine, theirs):
    """conv_forward_naive / conv_backward_naive are right (to float32 precision) on float32 arrays"""
    x_shape, w_shape, stride, pad = CONV_CASES[0]
    x, w, b, rng = conv_inputs(400, x_shape, w_shape, dtype=np.float32)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = mine.conv_forward_naive(x, w, b, conv_param)
    expected, ref_cache = theirs.conv_forward_naive(*(a.astype(np.float64) for a in (x, w, b)),
                                                    conv_param)
    expect_close(out, expected, "conv_forward_naive's output on float32 arrays", rtol=1e-4, atol=1e-4)
    dout = rng.normal(size=expected.shape).astype(np.float32)
    wanted = theirs.conv_backward_naive(dout.astype(np.float64), ref_cache)
    for name, actual, expected in zip(("dx", "dw", "db"), mine.conv_backward_naive(dout, cache), wanted):
        expect_close(actual, expected, f"{name} of conv_backward_naive on float32 arrays",
                     rtol=1e-4, atol=1e-3)


# -- max pooling ------------------------------------------------------------------------
@pytest.mark.points(1)
@pytest.mark.parametrize("x_shape,ph,pw,stride", POOL_CASES, ids=POOL_IDS)
def test_max_pool_forward_geometries(mine, theirs, x_shape, ph, pw, stride):
    """max_pool_forward_naive is right for this input size, window and stride"""
    rng = np.random.default_rng(500)
    x = rng.normal(size=x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, _ = mine.max_pool_forward_naive(x, pool_param)
    expected, _ = theirs.max_pool_forward_naive(x, pool_param)
    what = described_pool(x_shape, ph, pw, stride)
    expect(np.shape(out) == expected.shape,
           f"max_pool_forward_naive gives an output of the wrong shape for {what}")
    expect_close(out, expected, f"max_pool_forward_naive's output for {what}")


@pytest.mark.points(2)
@pytest.mark.parametrize("x_shape,ph,pw,stride", POOL_CASES, ids=POOL_IDS)
def test_max_pool_backward_geometries(mine, theirs, x_shape, ph, pw, stride):
    """max_pool_backward_naive is right for this geometry (overlapping windows add up)"""
    rng = np.random.default_rng(600)
    x = distinct_values(rng, x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, ref_cache = theirs.max_pool_forward_naive(x, pool_param)
    dout = rng.normal(size=out.shape)
    _, cache = mine.max_pool_forward_naive(x, pool_param)
    dx = mine.max_pool_backward_naive(dout, cache)
    what = described_pool(x_shape, ph, pw, stride)
    expect(np.shape(dx) == x.shape, f"dx of max_pool_backward_naive should have x's shape ({what})")
    expect_close(dx, theirs.max_pool_backward_naive(dout, ref_cache),
                 f"dx of max_pool_backward_naive for {what}")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", [0, 2], ids=[POOL_IDS[i] for i in (0, 2)])
def test_max_pool_backward_numeric(mine, theirs, case):
    """max_pool_backward_naive matches numeric gradients of max pooling"""
    x_shape, ph, pw, stride = POOL_CASES[case]
    rng = np.random.default_rng(700 + case)
    x = distinct_values(rng, x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, _ = theirs.max_pool_forward_naive(x, pool_param)
    dout = rng.normal(size=out.shape)
    numeric = eval_numerical_gradient_array(
        lambda v: theirs.max_pool_forward_naive(v, pool_param)[0], x.copy(), dout)
    _, cache = mine.max_pool_forward_naive(x, pool_param)
    dx = mine.max_pool_backward_naive(dout, cache)
    what = described_pool(x_shape, ph, pw, stride)
    expect(np.shape(dx) == x.shape, f"dx of max_pool_backward_naive should have x's shape ({what})")
    expect(rel_error(np.asarray(dx, dtype=float), numeric) < 1e-7,
           f"dx of max_pool_backward_naive does not match the numeric gradient for {what}")


@pytest.mark.points(1)
@pytest.mark.parametrize("case", [0, 1], ids=[POOL_IDS[i] for i in (0, 1)])
def test_max_pool_ties(mine, theirs, case):
    """with ties in a window, max_pool_backward_naive sends the gradient to the first maximum (row-major)"""
    x_shape, ph, pw, stride = POOL_CASES[case]
    rng = np.random.default_rng(800 + case)
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)      # many ties
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, ref_cache = theirs.max_pool_forward_naive(x, pool_param)
    dout = rng.normal(size=out.shape)
    _, cache = mine.max_pool_forward_naive(x, pool_param)
    expect_close(mine.max_pool_backward_naive(dout, cache),
                 theirs.max_pool_backward_naive(dout, ref_cache),
                 f"dx of max_pool_backward_naive when windows hold equal maxima "
                 f"({described_pool(x_shape, ph, pw, stride)})")


@pytest.mark.points(1)
def test_max_pool_float32(mine, theirs):
    """max pooling forward and backward are right on float32 arrays"""
    x_shape, ph, pw, stride = POOL_CASES[1]
    rng = np.random.default_rng(900)
    x = distinct_values(rng, x_shape).astype(np.float32)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = mine.max_pool_forward_naive(x, pool_param)
    expected, ref_cache = theirs.max_pool_forward_naive(x.astype(np.float64), pool_param)
    expect_close(out, expected, "max_pool_forward_naive's output on float32 input", rtol=1e-6)
    dout = rng.normal(size=expected.shape).astype(np.float32)
    expect_close(mine.max_pool_backward_naive(dout, cache),
                 theirs.max_pool_backward_naive(dout.astype(np.float64), ref_cache),
                 "dx of max_pool_backward_naive on float32 input", rtol=1e-5, atol=1e-6)

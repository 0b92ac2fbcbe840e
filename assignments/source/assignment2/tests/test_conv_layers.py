"""Public tests for nnfs/conv_layers.py: small cases you can check by hand, numeric gradients."""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient_array, rel_error


@pytest.fixture
def conv(student):
    return student.import_module("nnfs.conv_layers")


def pool(height, width, stride):
    return {"pool_height": height, "pool_width": width, "stride": stride}


@pytest.mark.points(1)
def test_conv_forward_single_filter(conv):
    """conv_forward_naive: a 2x2 filter on a 3x3 image, stride 1, no padding"""
    x = np.arange(9.0).reshape(1, 1, 3, 3)           # [[0 1 2] [3 4 5] [6 7 8]]
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    out, _ = conv.conv_forward_naive(x, w, np.array([1.0]), {"stride": 1, "pad": 0})
    # top-left: 0*1 + 1*2 + 3*3 + 4*4 + 1 = 28 (the filter is NOT flipped: cross-correlation)
    np.testing.assert_allclose(out, [[[[28.0, 38.0], [58.0, 68.0]]]])


@pytest.mark.points(1)
def test_conv_forward_padding_and_stride(conv):
    """conv_forward_naive: a 3x3 box filter on a 5x5 image with pad 1 and stride 2 gives 3x3"""
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    w = np.ones((1, 1, 3, 3))
    out, _ = conv.conv_forward_naive(x, w, np.zeros(1), {"stride": 2, "pad": 1})
    assert out.shape == (1, 1, 3, 3), "(5 - 3 + 2 * 1) / 2 + 1 = 3"
    # corner windows hang over the zero padding: top-left sums x[0:2, 0:2] = 0 + 1 + 5 + 6
    np.testing.assert_allclose(out[0, 0], [[12.0, 27.0, 24.0],
                                           [63.0, 108.0, 81.0],
                                           [72.0, 117.0, 84.0]])


@pytest.mark.points(1)
def test_conv_forward_channels_and_filters(conv):
    """conv_forward_naive sums over input channels and adds each filter's own bias"""
    x = np.stack([np.ones((2, 2)), 2.0 * np.ones((2, 2))])[np.newaxis]    # (1, 2, 2, 2)
    w = np.zeros((3, 2, 1, 1))
    w[0, 0], w[1, 1], w[2] = 1.0, 1.0, -1.0
    out, _ = conv.conv_forward_naive(x, w, np.array([0.0, 10.0, 0.5]), {"stride": 1, "pad": 0})
    assert out.shape == (1, 3, 2, 2)
    np.testing.assert_allclose(out[0, :, 0, 0], [1.0, 12.0, -2.5])


@pytest.mark.points(1)
def test_conv_forward_rectangular_output_shape(conv):
    """conv_forward_naive: output size (W - F + 2P) / S + 1 in each direction"""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 7, 9)), rng.normal(size=(4, 3, 3, 5)), rng.normal(size=4)
    out, _ = conv.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    assert out.shape == (2, 4, 4, 4)


@pytest.mark.points(3)
@pytest.mark.parametrize("stride,pad", [(1, 0), (1, 1), (2, 1)])
def test_conv_backward_numeric(conv, stride, pad):
    """conv_backward_naive matches numeric gradients for x, w and b"""
    rng = np.random.default_rng(1 + stride + pad)
    x, w, b = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv.conv_forward_naive(x, w, b, conv_param)
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv.conv_backward_naive(dout, cache)
    numeric = {
        "dx": eval_numerical_gradient_array(lambda v: conv.conv_forward_naive(v, w, b, conv_param)[0], x.copy(), dout),
        "dw": eval_numerical_gradient_array(lambda v: conv.conv_forward_naive(x, v, b, conv_param)[0], w.copy(), dout),
        "db": eval_numerical_gradient_array(lambda v: conv.conv_forward_naive(x, w, v, conv_param)[0], b.copy(), dout)}
    for name, analytic in (("dx", dx), ("dw", dw), ("db", db)):
        assert np.shape(analytic) == numeric[name].shape, f"{name} has the wrong shape"
        assert rel_error(analytic, numeric[name]) < 1e-8, name


@pytest.mark.points(1)
def test_max_pool_forward_small(conv):
    """max_pool_forward_naive: 2x2 windows, stride 2, on a 4x4 image"""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, _ = conv.max_pool_forward_naive(x, pool(2, 2, 2))
    np.testing.assert_allclose(out, [[[[5.0, 7.0], [13.0, 15.0]]]])


@pytest.mark.points(1)
def test_max_pool_forward_overlapping_rectangular(conv):
    """max_pool_forward_naive: overlapping 2x3 windows with stride 1, two channels"""
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    x[0, 1] *= -1
    out, _ = conv.max_pool_forward_naive(x, pool(2, 3, 1))
    assert out.shape == (1, 2, 2, 2)
    np.testing.assert_allclose(out[0, 0], [[6.0, 7.0], [10.0, 11.0]])
    np.testing.assert_allclose(out[0, 1], [[-12.0, -13.0], [-16.0, -17.0]])


@pytest.mark.points(1)
def test_max_pool_backward_routes_to_the_maximum(conv):
    """max_pool_backward_naive sends each window's gradient to its maximum only"""
    x = np.array([[1.0, 5.0, 0.0, 2.0],
                  [3.0, 2.0, 9.0, 1.0]]).reshape(1, 1, 2, 4)
    _, cache = conv.max_pool_forward_naive(x, pool(2, 2, 2))
    dx = conv.max_pool_backward_naive(np.array([[[[10.0, 20.0]]]]), cache)
    np.testing.assert_allclose(dx, [[[[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]]]])


@pytest.mark.points(1)
def test_max_pool_backward_ties_go_to_the_first_maximum(conv):
    """max_pool_backward_naive: with ties, the gradient goes to the first maximum (row-major)"""
    x = np.array([[0.0, 7.0], [7.0, 7.0]]).reshape(1, 1, 2, 2)
    _, cache = conv.max_pool_forward_naive(x, pool(2, 2, 2))
    dx = conv.max_pool_backward_naive(np.array([[[[1.0]]]]), cache)
    np.testing.assert_allclose(dx, [[[[0.0, 1.0], [0.0, 0.0]]]])


@pytest.mark.points(2)
@pytest.mark.parametrize("params", [pool(2, 2, 2), pool(3, 2, 1)], ids=["2x2s2", "3x2s1"])
def test_max_pool_backward_numeric(conv, params):
    """max_pool_backward_naive matches numeric gradients (overlapping windows add up)"""
    rng = np.random.default_rng(5)
    x = rng.permutation(2 * 2 * 4 * 6).reshape(2, 2, 4, 6) / 10.0    # no ties
    out, cache = conv.max_pool_forward_naive(x, params)
    dout = rng.normal(size=out.shape)
    dx = conv.max_pool_backward_naive(dout, cache)
    numeric = eval_numerical_gradient_array(lambda v: conv.max_pool_forward_naive(v, params)[0],
                                            x.copy(), dout)
    assert np.shape(dx) == x.shape
    assert rel_error(dx, numeric) < 1e-8

"""course_lib.fast_layers against the naive loops, numeric gradients, dtypes and errors."""
import numpy as np
import pytest

from benchmarks.naive_layers import (conv_backward_naive, conv_forward_naive,
                                     max_pool_backward_naive, max_pool_forward_naive)
from course_lib import fast_layers, im2col
from course_lib.fast_layers import (conv_backward_fast, conv_forward_fast, max_pool_backward_fast,
                                    max_pool_forward_fast)
from course_lib.gradient_check import eval_numerical_gradient_array, rel_error


@pytest.fixture(params=im2col.available_backends())
def backend(request, monkeypatch):
    """Run the test once per available im2col backend."""
    monkeypatch.setattr(im2col, "BACKEND", request.param)
    return request.param


@pytest.fixture(params=["flat", "stacked", "stacked-whole-batch"])
def layout(request, monkeypatch):
    """Run a conv test with each column layout of ``fast_layers._ConvChunks``."""
    monkeypatch.setattr(fast_layers, "FUSED_MAX_ROWS", 0)  # the chunked path, never fused
    monkeypatch.setattr(fast_layers, "STACKED_MIN_PIXELS", 10**9 if request.param == "flat" else 1)
    monkeypatch.setattr(fast_layers, "WHOLE_BATCH_COLUMNS_BYTES",
                        1 << 40 if request.param == "stacked-whole-batch" else 0)
    return request.param


fused_available = pytest.mark.skipif(
    "cython" not in im2col.available_backends() or not im2col.fused_conv_available(),
    reason="the fused conv needs the compiled kernels and a BLAS with Fortran GEMMs")


@pytest.fixture(params=["avx2", "blas"])
def fused(request, monkeypatch):
    """Every conv layer runs fused (see fast_layers.FUSED_MAX_ROWS), on the compiled kernels,
    with their AVX2 float32 product (where the CPU has it) or BLAS only."""
    monkeypatch.setattr(im2col, "BACKEND", "cython")
    monkeypatch.setattr(fast_layers, "FUSED_MAX_ROWS", 10**9)
    assert fast_layers._fused((1, 1, 1, 1))
    cython = im2col._im2col_cython
    was = cython.simd_in_use()
    if cython.use_simd(request.param == "avx2") != (request.param == "avx2"):
        pytest.skip("this CPU or compiler has no AVX2 + FMA")
    yield request.param
    cython.use_simd(was)


def set_chunk_bytes(monkeypatch, column_bytes):
    """Cut conv batches into chunks of at most ``column_bytes`` of columns, any thread count."""
    for name in ("COLUMN_CHUNK_BYTES", "SINGLE_THREAD_CHUNK_BYTES"):
        monkeypatch.setattr(fast_layers, name, column_bytes)


def split_over_threads(monkeypatch, workers):
    """Give every conv call ``workers`` chunk workers, however small (compiled kernels)."""
    monkeypatch.setattr(im2col, "BACKEND", "cython")
    monkeypatch.setattr(fast_layers, "CHUNK_THREADS_MIN_BYTES", 0)
    monkeypatch.setattr(fast_layers, "STACKED_CHUNK_THREADS_MIN_BYTES", 0)
    monkeypatch.setattr(fast_layers, "_chunk_threads", lambda: workers)


def random_conv_case(seed):
    """A random valid conv problem: rectangular filters, strides 1-3, paddings 0-2."""
    rng = np.random.default_rng(seed)
    n, c, f = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 5)
    filter_h, filter_w = rng.integers(1, 6, size=2)
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    # choose output sizes, then the input sizes that make the windows tile exactly
    out_h, out_w = rng.integers(1, 6, size=2)
    height = max(1, (out_h - 1) * stride + filter_h - 2 * pad)
    width = max(1, (out_w - 1) * stride + filter_w - 2 * pad)
    if (height + 2 * pad - filter_h) % stride or (width + 2 * pad - filter_w) % stride:
        pad = 0
        height, width = (out_h - 1) * stride + filter_h, (out_w - 1) * stride + filter_w
    x = rng.standard_normal((n, c, height, width))
    w = rng.standard_normal((f, c, filter_h, filter_w))
    b = rng.standard_normal(f)
    return x, w, b, {"stride": stride, "pad": pad}, rng


def random_pool_case(seed, ties):
    """A random valid pooling problem; ``ties`` draws from {0, 1, 2} so windows tie often."""
    rng = np.random.default_rng(seed)
    pool_h, pool_w = rng.integers(1, 5, size=2)
    stride = int(rng.integers(1, 4))  # stride < window gives overlapping windows
    out_h, out_w = rng.integers(1, 6, size=2)
    shape = (rng.integers(1, 4), rng.integers(1, 4),
             (out_h - 1) * stride + pool_h, (out_w - 1) * stride + pool_w)
    x = rng.integers(0, 3, size=shape).astype(float) if ties else rng.standard_normal(shape)
    return x, {"pool_height": int(pool_h), "pool_width": int(pool_w), "stride": stride}, rng


def assert_conv_matches_naive(x, w, b, conv_param, rng):
    """Fast conv forward and backward agree with the naive loops to rel error < 1e-9."""
    out, cache = conv_forward_fast(x, w, b, conv_param)
    expected, naive_cache = conv_forward_naive(x, w, b, conv_param)
    assert out.shape == expected.shape
    assert rel_error(out, expected) < 1e-9
    dout = rng.standard_normal(out.shape)
    for name, fast, naive in zip(("dx", "dw", "db"), conv_backward_fast(dout, cache),
                                 conv_backward_naive(dout, naive_cache)):
        assert fast.shape == naive.shape, name
        assert rel_error(fast, naive) < 1e-9, name


@pytest.mark.parametrize("seed", range(25))
def test_conv_matches_naive(backend, seed, layout):
    x, w, b, conv_param, rng = random_conv_case(seed)
    assert_conv_matches_naive(x, w, b, conv_param, rng)


@pytest.mark.parametrize("seed", range(6))
def test_conv_backward_without_input_gradient(backend, seed, layout):
    """input_grad=False returns dx as None and the same dw and db as a full backward pass."""
    x, w, b, conv_param, rng = random_conv_case(100 + seed)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    _, dw, db = conv_backward_fast(dout, cache)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dx, dw_only, db_only = conv_backward_fast(dout, cache, input_grad=False)
    assert dx is None
    assert rel_error(dw_only, dw) < 1e-12 and rel_error(db_only, db) < 1e-12


def test_conv_on_a_batch_spanning_many_chunks(backend, monkeypatch, layout):
    """Chunk boundaries (including a short last chunk) do not change the result."""
    set_chunk_bytes(monkeypatch, 3 * 27 * 25 * 8)  # 3 images a chunk
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((7, 3, 9, 9)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    assert_conv_matches_naive(x, w, b, {"stride": 2, "pad": 1}, rng)


@pytest.mark.skipif("cython" not in im2col.available_backends(),
                    reason="the chunk-per-thread path needs the compiled kernels")
@pytest.mark.parametrize("workers", [1, 2])
def test_conv_with_chunks_spread_over_threads(monkeypatch, workers, layout):
    """Big layers give each thread whole chunks; the summed dw and db stay exact."""
    split_over_threads(monkeypatch, workers)
    set_chunk_bytes(monkeypatch, 2 * 27 * 49 * 8)  # 2 images a chunk
    worker_counts = []
    run_workers = fast_layers._run_chunk_workers
    monkeypatch.setattr(fast_layers, "_run_chunk_workers",
                        lambda jobs: worker_counts.append(len(jobs)) or run_workers(jobs))
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((9, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    assert_conv_matches_naive(x, w, b, {"stride": 1, "pad": 1}, rng)
    assert worker_counts == ([] if workers == 1 else [workers, workers])  # forward, backward


def test_backward_recomputes_only_the_columns_its_forward_pass_did_not_keep(monkeypatch, layout):
    """One worker keeps its last chunk's columns; a small stacked layer keeps them all."""
    monkeypatch.setattr(fast_layers, "_chunk_threads", lambda: 1)
    set_chunk_bytes(monkeypatch, 2 * 28 * 25 * 8)  # 2 images a chunk: 3 chunks
    calls = []
    unroll = im2col.im2col_into
    monkeypatch.setattr(im2col, "im2col_into", lambda *args: calls.append(args[2]) or unroll(*args))
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((6, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert calls == [0, 2, 4]
    calls.clear()
    conv_backward_fast(np.ones_like(out), cache)
    assert calls == ([] if layout == "stacked-whole-batch" else [2, 0])


@pytest.mark.skipif("cython" not in im2col.available_backends(),
                    reason="the chunk-per-thread path needs the compiled kernels")
def test_conv_called_from_several_threads_at_once(monkeypatch, layout):
    """Callers in different threads keep their own workspaces and take turns at the split."""
    from concurrent.futures import ThreadPoolExecutor
    split_over_threads(monkeypatch, 2)
    set_chunk_bytes(monkeypatch, 2 * 28 * 49 * 8)
    rng = np.random.default_rng(21)
    problems = []
    for channels, filters in [(3, 4), (2, 5), (4, 3)]:
        x = rng.standard_normal((7, channels, 7, 7))
        w, b = rng.standard_normal((filters, channels, 3, 3)), rng.standard_normal(filters)
        out, naive_cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
        problems.append((x, w, b, rng.standard_normal(out.shape), out, naive_cache))

    def run(problem):
        x, w, b, dout, expected, naive_cache = problem
        for _ in range(15):
            out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
            grads = conv_backward_fast(dout, cache)
            assert rel_error(out, expected) < 1e-9
            for fast, naive in zip(grads, conv_backward_naive(dout, naive_cache)):
                assert rel_error(fast, naive) < 1e-9
        return True

    with ThreadPoolExecutor(3) as pool:
        assert all(pool.map(run, problems))


@pytest.mark.parametrize("chunk_bytes", [1 << 30, 2 * 27 * 25 * 8], ids=["one-chunk", "chunked"])
def test_interleaved_layers_get_their_own_gradients(backend, monkeypatch, chunk_bytes, layout):
    """Backward passes may reuse the columns their forward pass left in the workspace; a
    network runs forward A, forward B, backward B, backward A, and A's columns are gone."""
    set_chunk_bytes(monkeypatch, chunk_bytes)
    rng = np.random.default_rng(8)
    layers = []
    for x_shape, w_shape, conv_param in [((5, 3, 9, 9), (2, 3, 3, 3), {"stride": 2, "pad": 1}),
                                         ((5, 2, 9, 9), (3, 2, 3, 3), {"stride": 2, "pad": 1})]:
        x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
        out, cache = conv_forward_fast(x, w, b, conv_param)
        layers.append((cache, conv_forward_naive(x, w, b, conv_param)[1], rng.standard_normal(out.shape)))
    for cache, naive_cache, dout in reversed(layers):
        for _ in range(2):  # a second backward on the same cache gives the same result
            for fast, naive in zip(conv_backward_fast(dout, cache), conv_backward_naive(dout, naive_cache)):
                assert rel_error(fast, naive) < 1e-9


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_max_pool_matches_naive(backend, seed, ties):
    x, pool_param, rng = random_pool_case(seed, ties)
    out, cache = max_pool_forward_fast(x, pool_param)
    expected, naive_cache = max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, expected)
    dout = rng.standard_normal(out.shape)
    dx = max_pool_backward_fast(dout, cache)
    assert rel_error(dx, max_pool_backward_naive(dout, naive_cache)) < 1e-9


def test_max_pool_tie_goes_to_the_first_maximum_in_row_major_order(backend):
    x = np.array([[[[1., 3., 3.],
                    [3., 0., 3.],
                    [3., 3., 3.]]]])
    _, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    dx = max_pool_backward_fast(np.array([[[[1., 10.], [100., 1000.]]]]), cache)
    # windows' first maxima: (0,1), (0,1), (1,0), (1,2); overlapping windows add up
    np.testing.assert_array_equal(dx[0, 0], [[0., 11., 0.],
                                             [100., 0., 1000.],
                                             [0., 0., 0.]])


def test_conv_numeric_gradients(backend, layout):
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    conv_param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(v, w, b, conv_param)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, v, b, conv_param)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, w, v, conv_param)[0], b, dout)
    assert rel_error(dx, dx_num) < 1e-8
    assert rel_error(dw, dw_num) < 1e-8
    assert rel_error(db, db_num) < 1e-8


def test_max_pool_numeric_gradient_with_overlapping_windows(backend):
    rng = np.random.default_rng(12)
    x = rng.permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8) / 10.0  # distinct values: no ties
    pool_param = {"pool_height": 3, "pool_width": 2, "stride": 2}
    out, cache = max_pool_forward_fast(x, pool_param)
    dout = rng.standard_normal(out.shape)
    dx_num = eval_numerical_gradient_array(lambda v: max_pool_forward_fast(v, pool_param)[0], x, dout)
    assert rel_error(max_pool_backward_fast(dout, cache), dx_num) < 1e-8


def test_float32_stays_float32_and_is_accurate(backend, layout):
    x, w, b, conv_param, rng = random_conv_case(3)
    out64, cache64 = conv_forward_fast(x, w, b, conv_param)
    out32, cache32 = conv_forward_fast(x.astype(np.float32), w.astype(np.float32),
                                       b.astype(np.float32), conv_param)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-4)
    dout = rng.standard_normal(out64.shape)
    for g32, g64 in zip(conv_backward_fast(dout.astype(np.float32), cache32),
                        conv_backward_fast(dout, cache64)):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)

    x, pool_param, _ = random_pool_case(4, ties=False)
    pooled, cache = max_pool_forward_fast(x.astype(np.float32), pool_param)
    assert pooled.dtype == np.float32
    np.testing.assert_array_equal(pooled, max_pool_forward_fast(x, pool_param)[0].astype(np.float32))
    dx = max_pool_backward_fast(np.ones(pooled.shape, np.float32), cache)
    assert dx.dtype == np.float32


def test_integer_input_is_computed_in_float64(backend):
    x = np.arange(2 * 2 * 4 * 4).reshape(2, 2, 4, 4)
    out, _ = conv_forward_fast(x, np.ones((1, 2, 3, 3)), np.zeros(1), {"stride": 1, "pad": 1})
    assert out.dtype == np.float64
    pooled, _ = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    np.testing.assert_array_equal(pooled, x.reshape(2, 2, 2, 2, 2, 2).max(axis=(3, 5)))


def test_empty_batch(backend, layout):
    out, cache = conv_forward_fast(np.zeros((0, 2, 5, 5)), np.ones((3, 2, 3, 3)), np.zeros(3),
                                   {"stride": 1, "pad": 1})
    assert out.shape == (0, 3, 5, 5)
    dx, dw, db = conv_backward_fast(out, cache)
    assert dx.shape == (0, 2, 5, 5) and not dw.any() and not db.any()
    pooled, cache = max_pool_forward_fast(np.zeros((0, 2, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert max_pool_backward_fast(pooled, cache).shape == (0, 2, 4, 4)


def test_non_contiguous_inputs(backend, layout):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 2, 6, 8)).transpose(0, 1, 3, 2)  # (3, 2, 8, 6), strided
    w = rng.standard_normal((3, 2, 3, 3))[:, :, ::-1]
    b = rng.standard_normal(6)[::2]
    conv_param = {"stride": 1, "pad": 1}
    out, cache = conv_forward_fast(x, w, b, conv_param)
    assert rel_error(out, conv_forward_naive(np.ascontiguousarray(x), np.ascontiguousarray(w), b,
                                             conv_param)[0]) < 1e-9
    dx, _, _ = conv_backward_fast(np.ones(out.shape)[:, ::-1], cache)
    assert dx.shape == x.shape


@pytest.mark.skipif(len(im2col.available_backends()) < 2,
                    reason="the Cython extension is not built here; nothing to compare")
def test_cython_and_numpy_layers_agree(monkeypatch):
    rng = np.random.default_rng(14)
    x, w, b = rng.standard_normal((5, 3, 9, 11)), rng.standard_normal((4, 3, 3, 5)), rng.standard_normal(4)
    conv_param = {"stride": 2, "pad": 2}
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    results = {}
    for name in ("cython", "numpy"):
        monkeypatch.setattr(im2col, "BACKEND", name)
        out, cache = conv_forward_fast(x, w, b, conv_param)
        pooled, pool_cache = max_pool_forward_fast(x, pool_param)
        results[name] = (out, *conv_backward_fast(out, cache), pooled,
                         max_pool_backward_fast(pooled, pool_cache))
    for cython_result, numpy_result in zip(results["cython"], results["numpy"]):
        np.testing.assert_allclose(cython_result, numpy_result, rtol=1e-12, atol=1e-12)


# --- the fused path (course_lib._im2col_cython.conv_forward_fused / conv_backward_fused) --

@fused_available
@pytest.mark.parametrize("seed", range(25))
def test_fused_conv_matches_naive(fused, seed):
    x, w, b, conv_param, rng = random_conv_case(seed)
    assert_conv_matches_naive(x, w, b, conv_param, rng)


@fused_available
@pytest.mark.parametrize("seed", range(6))
def test_fused_conv_backward_without_input_gradient(fused, seed):
    x, w, b, conv_param, rng = random_conv_case(200 + seed)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    _, dw, db = conv_backward_fast(dout, cache)
    dx, dw_only, db_only = conv_backward_fast(dout, cache, input_grad=False)
    assert dx is None
    assert rel_error(dw_only, dw) < 1e-12 and rel_error(db_only, db) < 1e-12


@fused_available
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("stride, pad, shape", [(2, 1, (5, 3, 11, 10)), (1, 1, (4, 2, 7, 9)),
                                                (3, 2, (3, 2, 8, 7)), (2, 0, (6, 1, 9, 6))])
def test_fused_kernels_agree_with_the_chunked_path(fused, monkeypatch, dtype, threads, stride, pad,
                                                   shape):
    """Same numbers as the chunked path, in the input's dtype, whatever the thread count."""
    rng = np.random.default_rng(stride * 10 + pad)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((4, shape[1], 3, 2)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    conv_param = {"stride": stride, "pad": pad}
    cython = im2col._im2col_cython
    for name in ("conv_forward_fused", "conv_backward_fused"):
        kernel = getattr(cython, name)
        monkeypatch.setattr(cython, name, lambda *args, kernel=kernel: kernel(*args, threads))
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    grads = conv_backward_fast(dout, cache)
    monkeypatch.setattr(fast_layers, "FUSED_MAX_ROWS", 0)
    expected_out, expected_cache = conv_forward_fast(x, w, b, conv_param)
    expected = conv_backward_fast(dout, expected_cache)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip((out, *grads), (expected_out, *expected)):
        assert got.dtype == dtype and got.shape == want.shape and got.flags.c_contiguous
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@fused_available
def test_fused_conv_non_contiguous_and_integer_inputs(fused):
    rng = np.random.default_rng(21)
    x = rng.standard_normal((3, 2, 9, 7)).transpose(0, 1, 3, 2)  # (3, 2, 7, 9), strided
    w = rng.standard_normal((3, 2, 3, 3))[:, :, ::-1]
    b = rng.standard_normal(6)[::2]
    conv_param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_fast(x, w, b, conv_param)
    contiguous = [np.ascontiguousarray(a) for a in (x, w, b)]
    expected, naive_cache = conv_forward_naive(*contiguous, conv_param)
    assert rel_error(out, expected) < 1e-9
    dout = rng.standard_normal(out.shape)[:, ::-1]
    for got, want in zip(conv_backward_fast(dout, cache),
                         conv_backward_naive(np.ascontiguousarray(dout), naive_cache)):
        assert rel_error(got, want) < 1e-9
    out, cache = conv_forward_fast(np.ones((2, 1, 5, 5), int), np.ones((1, 1, 3, 3), int), [0],
                                   {"stride": 1, "pad": 1})
    assert out.dtype == np.float64 and out[0, 0, 2, 2] == 9 and out[0, 0, 0, 0] == 4


@fused_available
def test_fused_conv_empty_batch_and_wrong_dout(fused):
    out, cache = conv_forward_fast(np.zeros((0, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3)),
                                   np.zeros(3), {"stride": 1, "pad": 1})
    assert out.shape == (0, 3, 5, 5) and out.dtype == np.float32
    dx, dw, db = conv_backward_fast(out, cache)
    assert dx.shape == (0, 2, 5, 5) and dw.shape == (3, 2, 3, 3) and not dw.any() and not db.any()
    out, cache = conv_forward_fast(np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)), np.zeros(3),
                                   {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="dout must have the forward output's shape"):
        conv_backward_fast(np.ones((1, 3, 4, 5)), cache)


@fused_available
def test_fused_conv_holds_blas_at_one_thread_and_restores_it(fused):
    """The fused kernels call BLAS from every thread; each call gets one BLAS thread."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(22)
    x, w, b = rng.standard_normal((4, 3, 9, 9)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
        seen = []
        kernel = im2col._im2col_cython.conv_forward_fused
        fast_layers._blas = None  # look the libraries up again, as in a fresh process

        def spy(*args):
            seen.extend(lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                        if lib["user_api"] == "blas")
            return kernel(*args)
        im2col._im2col_cython.conv_forward_fused, saved = spy, kernel
        try:
            conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})
        finally:
            im2col._im2col_cython.conv_forward_fused = saved
        after = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    assert seen and set(seen) == {1}
    assert after == before


@fused_available
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_conv_on_scipys_blas(fused, monkeypatch, dtype):
    """Without NumPy's Fortran GEMMs the fused kernels take SciPy's (32-bit integers)."""
    pytest.importorskip("scipy")
    in_use = im2col._numpy_gemm() or im2col._scipy_gemm()
    scipys = im2col._scipy_gemm()
    assert scipys is not None and scipys[2] is False
    monkeypatch.setattr(im2col, "_numpy_gemm", lambda: None)
    monkeypatch.setattr(im2col, "_fused_gemm", None)
    try:
        assert fast_layers._fused((2, 3, 3, 3))
        rng = np.random.default_rng(23)
        x, w, b = (rng.standard_normal(shape).astype(dtype) for shape in ((4, 3, 9, 9), (5, 3, 3, 3), 5))
        out, cache = conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})
        expected, naive_cache = conv_forward_naive(x.astype(float), w.astype(float), b.astype(float),
                                                   {"stride": 2, "pad": 1})
        dout = rng.standard_normal(out.shape)
        tolerance = 1e-5 if dtype == np.float32 else 1e-9
        assert rel_error(out, expected) < tolerance
        for got, want in zip(conv_backward_fast(dout, cache), conv_backward_naive(dout, naive_cache)):
            assert rel_error(got, want) < tolerance
    finally:
        im2col._im2col_cython.use_gemm(*in_use)


@pytest.mark.skipif("cython" not in im2col.available_backends(),
                    reason="the fused path needs the compiled kernels")
def test_without_a_blas_for_the_fused_kernels_conv_takes_the_chunked_path(monkeypatch):
    monkeypatch.setattr(im2col, "BACKEND", "cython")
    monkeypatch.setattr(im2col, "fused_conv_available", lambda: False)
    monkeypatch.setattr(fast_layers, "FUSED_MAX_ROWS", 10**9)

    def refuse(*args):
        raise AssertionError("the fused kernel ran")
    monkeypatch.setattr(im2col._im2col_cython, "conv_forward_fused", refuse)
    monkeypatch.setattr(im2col._im2col_cython, "conv_backward_fused", refuse)
    x, w, b, conv_param, rng = random_conv_case(300)
    assert_conv_matches_naive(x, w, b, conv_param, rng)


def test_numpy_backend_never_runs_fused(monkeypatch):
    monkeypatch.setattr(im2col, "BACKEND", "numpy")
    monkeypatch.setattr(fast_layers, "FUSED_MAX_ROWS", 10**9)
    assert not fast_layers._fused((2, 3, 3, 3))
    x, w, b, conv_param, rng = random_conv_case(301)
    assert_conv_matches_naive(x, w, b, conv_param, rng)


def test_small_filters_run_fused_by_default():
    """The rule of FUSED_MAX_ROWS: the benchmark's 3x3/2 layer (27 rows) runs fused when it
    can, its 7x7 (147 rows) and deep 3x3 (576 rows) layers never do."""
    can_fuse = im2col.BACKEND == "cython" and im2col.fused_conv_available()
    assert fast_layers._fused((25, 3, 3, 3)) == can_fuse
    assert not fast_layers._fused((32, 3, 7, 7)) and not fast_layers._fused((64, 64, 3, 3))


# --- clear errors --------------------------------------------------------------------------

def test_conv_stride_that_does_not_tile_says_which_dimension_and_what_to_change():
    x, w, b = np.zeros((1, 3, 31, 32)), np.zeros((2, 3, 3, 3)), np.zeros(2)
    with pytest.raises(ValueError, match=r"conv: windows do not tile the input width: "
                                         r"\(W \+ 2\*pad - WW\) % stride = \(32 \+ 2\*1 - 3\) % 2 = 1"):
        conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})
    with pytest.raises(ValueError, match=r"input height.*e\.g\. pad=2 or stride=3 or an input height of 29"):
        conv_forward_fast(x[:, :, :, :31], w, b, {"stride": 4, "pad": 1})


@pytest.mark.parametrize("x_shape, w_shape, b_shape, conv_param, message", [
    ((1, 3, 8, 8), (2, 4, 3, 3), (2,), {"stride": 1, "pad": 1}, r"C = 3 \(x's channels\)"),
    ((1, 3, 8, 8), (2, 3, 3, 3), (3,), {"stride": 1, "pad": 1}, r"b must have shape \(F,\) = \(2,\)"),
    ((3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 1, "pad": 1}, r"x must have shape \(N, C, H, W\)"),
    ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 1}, r"conv_param needs the key 'pad'"),
    ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 0, "pad": 1}, r"'stride'\] must be an integer >= 1"),
    ((1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 1.5, "pad": 1}, r"must be an integer"),
    ((1, 3, 2, 8), (2, 3, 5, 3), (2,), {"stride": 1, "pad": 1}, r"height window HH=5 is larger"),
])
def test_conv_bad_arguments(x_shape, w_shape, b_shape, conv_param, message):
    with pytest.raises(ValueError, match=message):
        conv_forward_fast(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), conv_param)


def test_conv_backward_rejects_a_dout_of_the_wrong_shape():
    _, cache = conv_forward_fast(np.zeros((2, 1, 4, 4)), np.zeros((3, 1, 3, 3)), np.zeros(3),
                                 {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 3, 4, 4\)"):
        conv_backward_fast(np.zeros((2, 3, 2, 2)), cache)


@pytest.mark.parametrize("shape, pool_param, message", [
    ((1, 1, 7, 8), {"pool_height": 2, "pool_width": 2, "stride": 2},
     r"max pool: windows do not tile the input height: \(H - pool_height\) % stride"),
    ((1, 1, 8, 8), {"pool_height": 9, "pool_width": 2, "stride": 2}, r"height window pool_height=9"),
    ((1, 1, 8, 8), {"pool_height": 2, "stride": 2}, r"pool_param needs the key 'pool_width'"),
    ((8, 8), {"pool_height": 2, "pool_width": 2, "stride": 2}, r"\(N, C, H, W\)"),
])
def test_max_pool_bad_arguments(shape, pool_param, message):
    with pytest.raises(ValueError, match=message):
        max_pool_forward_fast(np.zeros(shape), pool_param)

"""course_lib.im2col: column layout, adjointness, both backends, dtypes, errors, fallback notice."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from course_lib import im2col

BACKENDS = im2col.available_backends()

# (N, C, H, W, field_height, field_width, padding, stride): rectangular fields, strides,
# paddings, and a field as large as the padded input
GEOMETRIES = [
    (2, 3, 5, 5, 3, 3, 1, 1),
    (2, 2, 7, 9, 3, 5, 1, 2),
    (1, 3, 8, 6, 2, 4, 0, 2),
    (3, 1, 6, 6, 1, 1, 0, 1),
    (2, 2, 5, 7, 3, 2, 2, 3),
    (1, 2, 4, 4, 6, 6, 1, 1),
    (2, 3, 9, 9, 5, 3, 0, 2),
]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """Run the test once per available backend."""
    monkeypatch.setattr(im2col, "BACKEND", request.param)
    return request.param


def columns_by_definition(x, field_height, field_width, padding, stride):
    """im2col written straight from its definition (column = image-major output pixel)."""
    n_images, channels, height, width = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h = (height + 2 * padding - field_height) // stride + 1
    out_w = (width + 2 * padding - field_width) // stride + 1
    cols = np.zeros((channels * field_height * field_width, n_images * out_h * out_w), x.dtype)
    for n in range(n_images):
        for oh in range(out_h):
            for ow in range(out_w):
                patch = padded[n, :, oh * stride:oh * stride + field_height,
                               ow * stride:ow * stride + field_width]
                cols[:, (n * out_h + oh) * out_w + ow] = patch.ravel()
    return cols


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_im2col_matches_definition(backend, geometry):
    n, c, h, w, fh, fw, pad, stride = geometry
    x = np.random.default_rng(1).standard_normal((n, c, h, w))
    np.testing.assert_array_equal(im2col.im2col(x, fh, fw, pad, stride),
                                  columns_by_definition(x, fh, fw, pad, stride))


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(backend, geometry):
    """<im2col(x), y> == <x, col2im(y)> for all x, y: col2im is im2col's transpose."""
    n, c, h, w, fh, fw, pad, stride = geometry
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, c, h, w))
    cols = im2col.im2col(x, fh, fw, pad, stride)
    y = rng.standard_normal(cols.shape)
    assert np.vdot(cols, y) == pytest.approx(np.vdot(x, im2col.col2im(y, x.shape, fh, fw, pad, stride)),
                                             rel=1e-12)


def test_col2im_counts_how_often_each_pixel_is_used(backend):
    """Summing ones back gives each pixel's number of fields (padding receives nothing)."""
    cols = np.ones((1 * 3 * 3, 1 * 3 * 3))
    counts = im2col.col2im(cols, (1, 1, 5, 5), 3, 3, padding=1, stride=2)
    expected = np.array([[1, 2, 1, 2, 1]] * 5) * np.array([[1], [2], [1], [2], [1]])
    np.testing.assert_array_equal(counts[0, 0], expected)


@pytest.mark.skipif("cython" not in BACKENDS, reason="the Cython extension is not built here; "
                    "only the NumPy backend can be tested")
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cython_and_numpy_backends_agree(monkeypatch, geometry, dtype):
    n, c, h, w, fh, fw, pad, stride = geometry
    x = np.random.default_rng(3).standard_normal((n, c, h, w)).astype(dtype)
    results = {}
    for name in ("cython", "numpy"):
        monkeypatch.setattr(im2col, "BACKEND", name)
        cols = im2col.im2col(x, fh, fw, pad, stride)
        results[name] = cols, im2col.col2im(cols * 2, x.shape, fh, fw, pad, stride)
    np.testing.assert_array_equal(results["cython"][0], results["numpy"][0])
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(results["cython"][1], results["numpy"][1], rtol=tolerance,
                               atol=tolerance)


def test_chunk_functions_touch_only_their_images(backend):
    x = np.random.default_rng(4).standard_normal((5, 2, 6, 6))
    whole = im2col.im2col(x, 3, 3, 1, 1)
    chunk = np.empty((2 * 9, 2 * 36))
    im2col.im2col_into(x, chunk, 2, 3, 3, 1, 1)
    np.testing.assert_array_equal(chunk, whole[:, 2 * 36:4 * 36])
    dx = np.full_like(x, 7.0)
    im2col.col2im_into(chunk, dx, 2, 3, 3, 1, 1)
    np.testing.assert_array_equal(dx[[0, 1, 4]], 7.0)
    np.testing.assert_allclose(dx[2:4], im2col.col2im(chunk, (2, 2, 6, 6), 3, 3, 1, 1))


def test_stacked_columns_hold_one_flat_matrix_per_image(backend):
    """3-D cols (count, rows, pixels), also as a view with spare rows between images."""
    x = np.random.default_rng(6).standard_normal((5, 2, 7, 6))
    whole = im2col.im2col(x, 3, 2, 1, 2)  # (12, 5 * 16)
    stack = np.full((3, whole.shape[0] + 1, 16), 9.0)
    im2col.im2col_into(x, stack[:, :-1], 1, 3, 2, 1, 2)
    for n in range(3):
        np.testing.assert_array_equal(stack[n, :-1], whole[:, (1 + n) * 16:(2 + n) * 16])
    np.testing.assert_array_equal(stack[:, -1], 9.0)  # the spare row is left alone
    dx = np.full_like(x, 7.0)
    im2col.col2im_into(stack[:, :-1], dx, 1, 3, 2, 1, 2)
    np.testing.assert_array_equal(dx[[0, 4]], 7.0)
    flat = np.ascontiguousarray(stack[:, :-1].transpose(1, 0, 2)).reshape(12, -1)
    np.testing.assert_allclose(dx[1:4], im2col.col2im(flat, (3, 2, 7, 6), 3, 2, 1, 2))
    with pytest.raises(ValueError, match=r"\(count, 12, 16\)"):
        im2col.im2col_into(x, np.empty((3, 12, 15)), 0, 3, 2, 1, 2)
    with pytest.raises(ValueError, match=r"\(count, 12, 16\)"):
        im2col.im2col_into(x, np.empty((0, 12, 16)), 0, 3, 2, 1, 2)
    with pytest.raises(ValueError, match="C-contiguous"):
        im2col.im2col_into(x, np.empty((3, 12, 32))[:, :, ::2], 0, 3, 2, 1, 2)


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int64, np.float64)])
def test_dtypes(backend, dtype, expected):
    x = np.arange(2 * 2 * 4 * 4).reshape(2, 2, 4, 4).astype(dtype)
    cols = im2col.im2col(x, 2, 3, 1, 1)
    assert cols.dtype == expected
    np.testing.assert_array_equal(cols, columns_by_definition(x.astype(expected), 2, 3, 1, 1))
    assert im2col.col2im(cols, x.shape, 2, 3, 1, 1).dtype == expected


def test_non_contiguous_input(backend):
    x = np.random.default_rng(5).standard_normal((3, 4, 7, 7)).transpose(0, 1, 3, 2)[:, ::2]
    np.testing.assert_array_equal(im2col.im2col(x, 3, 3, 1, 2),
                                  columns_by_definition(np.ascontiguousarray(x), 3, 3, 1, 2))


def test_fields_that_do_not_tile_name_the_axis_and_a_fix():
    x = np.zeros((1, 1, 7, 9))
    with pytest.raises(ValueError, match=r"tile the input width.*\(W \+ 2\*pad - WW\) % stride "
                                         r"= \(9 \+ 2\*0 - 3\) % 4 = 2.*pad=1 or stride=3"):
        im2col.im2col(x, 3, 3, 0, 4)
    with pytest.raises(ValueError, match=r"height window HH=11 is larger"):
        im2col.im2col(x, 11, 3, 1, 1)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        im2col.im2col(x, 3, 3, 1, 0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        im2col.im2col(np.zeros((8, 9)), 3, 3, 1, 1)


def test_chunk_buffer_of_the_wrong_shape_is_rejected():
    x = np.zeros((4, 2, 5, 5))
    with pytest.raises(ValueError, match="cols must have shape"):
        im2col.im2col_into(x, np.empty((18, 26)), 0, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="cols must have shape"):
        im2col.im2col_into(x, np.empty((18, 75)), 2, 3, 3, 1, 1)  # 3 images from index 2
    with pytest.raises(ValueError, match="share a float32 or float64 dtype"):
        im2col.im2col_into(x, np.empty((18, 25), np.float32), 0, 3, 3, 1, 1)


# --- the backend choice and its one-time notice (fresh interpreters) -------------------------

RUN_LAYERS_TWICE = textwrap.dedent("""
    import numpy as np
    import course_lib.im2col, course_lib.fast_layers as fl
    import course_lib.im2col as again
    x = np.ones((2, 3, 8, 8))
    for _ in range(2):
        out, cache = fl.conv_forward_fast(x, np.ones((4, 3, 3, 3)), np.zeros(4), {"stride": 1, "pad": 1})
        fl.conv_backward_fast(out, cache)
        fl.max_pool_backward_fast(*fl.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2}))
    print("BACKEND=" + course_lib.im2col.BACKEND)
""")

# Makes `from course_lib import _im2col_cython` fail, as on a machine without a compiler.
HIDE_EXTENSION = textwrap.dedent("""
    import sys
    class HideExtension:
        def find_spec(self, name, path=None, target=None):
            if name == "course_lib._im2col_cython":
                raise ImportError("pretend the extension was never built")
    sys.meta_path.insert(0, HideExtension())
""")


def run_python(code, **env):
    environment = {k: v for k, v in os.environ.items() if k != "COURSE_LIB_IM2COL"}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environment, timeout=120)


def test_forced_numpy_backend_is_announced_exactly_once():
    result = run_python(RUN_LAYERS_TWICE, COURSE_LIB_IM2COL="numpy")
    assert result.returncode == 0, result.stderr
    assert "BACKEND=numpy" in result.stdout
    assert result.stderr.count("course_lib.im2col:") == 1, result.stderr
    assert "COURSE_LIB_IM2COL=numpy" in result.stderr


def test_missing_extension_falls_back_and_says_how_to_build_it_once():
    result = run_python(HIDE_EXTENSION + RUN_LAYERS_TWICE)
    assert result.returncode == 0, result.stderr
    assert "BACKEND=numpy" in result.stdout
    assert result.stderr.count("course_lib.im2col:") == 1, result.stderr
    assert "pip install -e ." in result.stderr and "C compiler" in result.stderr


def test_requiring_cython_without_the_extension_fails_clearly():
    result = run_python(HIDE_EXTENSION + "import course_lib.im2col", COURSE_LIB_IM2COL="cython")
    assert result.returncode != 0
    assert "not built" in result.stderr and "pip install -e ." in result.stderr


def test_unknown_backend_name_fails_clearly():
    result = run_python("import course_lib.im2col", COURSE_LIB_IM2COL="fortran")
    assert result.returncode != 0
    assert "'fortran' is not a backend" in result.stderr


def test_the_extension_is_built_unless_the_build_was_skipped_on_purpose():
    """`pip install -e .` builds the extension here; a silent fallback would hide a broken build."""
    if os.environ.get("COURSE_LIB_NO_CYTHON"):
        pytest.skip("COURSE_LIB_NO_CYTHON is set: the extension was skipped on purpose")
    assert "cython" in BACKENDS, ("course_lib._im2col_cython is not built; run "
                                  "`.venv/bin/pip install --no-build-isolation -e .` and read its output")

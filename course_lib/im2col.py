"""im2col and col2im: turn convolution into one matrix product.

A convolution of a batch ``x`` (N, C, H, W) with filters ``w`` (F, C, HH, WW) visits, for
every output pixel, one HH x WW patch of every input channel. ``im2col`` copies those
patches into the columns of a matrix ``cols`` of shape (C*HH*WW, N*out_h*out_w), so that

    out = w.reshape(F, -1) @ cols            # (F, N*out_h*out_w)

``col2im`` is the adjoint: it adds every column entry back onto the input pixel it came
from (entries copied from the zero padding are dropped), which is exactly what the
backward pass needs for ``dx = col2im(w.reshape(F, -1).T @ dout_cols)``.

Column order: column ``n*out_h*out_w + oh*out_w + ow`` is output pixel (oh, ow) of image
n; row ``(c*HH + i)*WW + j`` is channel c seen through filter tap (i, j), matching
``w.reshape(F, -1)``. Rectangular fields (HH != WW), any stride >= 1 and any zero
padding >= 0 are supported, in float32 and float64.

The chunk-level ``im2col_into`` and ``col2im_into`` also take a stack of one such matrix
per image, shape (count, C*HH*WW, out_h*out_w): ``course_lib.fast_layers`` uses it for
large output planes, where one matrix product per image writes NCHW output directly.

Two backends compute the same numbers:

- ``"cython"``: the compiled ``course_lib._im2col_cython`` kernels (parallel with OpenMP
  when the build had it). Built by ``pip install -e .`` when Cython and a C compiler are
  present.
- ``"numpy"``: a pure-NumPy fallback on strided views; slower, used when the extension is
  missing or when the environment variable ``COURSE_LIB_IM2COL=numpy`` forces it.

``BACKEND`` names the one in use. It is chosen at import and announced once on stderr
when it is the fallback. Assigning ``course_lib.im2col.BACKEND = "numpy"`` switches at run
time (tests use this to compare the two).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import ArrayLike, NDArray

# GNU OpenMP reads its wait policy once, when the library is loaded (normally by the import
# below). By default idle OpenMP threads spin for milliseconds after every parallel loop,
# taking a core from the BLAS threads of the matrix product that follows; on a 2-core
# machine that made the fast conv several times slower. A passive policy puts them to
# sleep at once. An explicit OMP_WAIT_POLICY from the user is left alone.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    from course_lib import _im2col_cython
except ImportError:  # not built: no compiler, no Cython, or a failed build
    _im2col_cython = None  # type: ignore[assignment]

BUILD_HINT = ("build it with `pip install -e .` in the course checkout "
              "(needs Cython and a C compiler)")


class SlowBackendWarning(UserWarning):
    """Issued once when ``course_lib.im2col`` runs on its pure-NumPy fallback."""


def _choose_backend() -> tuple[str, str | None]:
    """Return the backend name and, for the fallback, the one-time notice to show."""
    forced = os.environ.get("COURSE_LIB_IM2COL", "").strip().lower()
    if forced not in ("", "cython", "numpy"):
        raise ImportError(f"COURSE_LIB_IM2COL={forced!r} is not a backend; "
                          "use 'cython', 'numpy' or leave it unset")
    if forced == "numpy":
        return "numpy", ("course_lib.im2col: using the slow pure-NumPy im2col because "
                         "COURSE_LIB_IM2COL=numpy is set")
    if _im2col_cython is None:
        if forced == "cython":
            raise ImportError("COURSE_LIB_IM2COL=cython but the Cython extension "
                              f"course_lib._im2col_cython is not built; {BUILD_HINT}")
        return "numpy", ("course_lib.im2col: the Cython extension course_lib._im2col_cython "
                         "is not built, so convolutions use the slow pure-NumPy im2col; "
                         + BUILD_HINT)
    return "cython", None


BACKEND, _notice = _choose_backend()
if _notice:
    # Module code runs once per process, so this is shown once.
    warnings.warn(_notice, SlowBackendWarning, stacklevel=2)


def available_backends() -> tuple[str, ...]:
    """Names of the backends this installation can run, fastest first."""
    return ("cython", "numpy") if _im2col_cython is not None else ("numpy",)


def compute_dtype(*arrays: ArrayLike) -> np.dtype:
    """The floating dtype a layer computes in: that of the first array if float32/float64.

    Integer, boolean and other floating inputs are computed in float64.
    """
    dtype = np.asarray(arrays[0]).dtype
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def sliding_output_size(size: int, field: int, padding: int, stride: int, *, layer: str,
                        dimension: str, size_name: str, field_name: str,
                        pad_name: str | None = "pad") -> int:
    """Number of positions a window of ``field`` takes along one padded input axis.

    Parameters
    ----------
    size, field, padding, stride : int
        Input length, window length, zero padding on each side, step between windows.
    layer, dimension, size_name, field_name, pad_name : str
        Words for the error message, e.g. ``layer="conv", dimension="height",
        size_name="H", field_name="HH"``; ``pad_name=None`` for layers without padding
        (the message then does not suggest padding).

    Returns
    -------
    int
        ``(size + 2*padding - field) // stride + 1``.

    Raises
    ------
    ValueError
        If the window does not fit, or the windows do not tile the padded axis exactly
        (``(size + 2*padding - field) % stride != 0``); the message says what to change.
    """
    span = size + 2 * padding - field
    padded = f"{size_name} + 2*{pad_name}" if pad_name else size_name
    if span < 0:
        raise ValueError(
            f"{layer}: the {dimension} window {field_name}={field} is larger than the "
            f"{'padded ' if pad_name else ''}input {dimension} {padded} = {size + 2 * padding}; "
            f"use a smaller window{' or more padding' if pad_name else ''}")
    if span % stride:
        fixes = [f"stride={max(s for s in range(1, stride) if span % s == 0)}"]
        if pad_name:
            more_pad = [p for p in range(padding + 1, padding + stride + 1)
                        if (size + 2 * p - field) % stride == 0]
            if more_pad:
                fixes.insert(0, f"{pad_name}={more_pad[0]}")
        fitting = size - span % stride
        fixes.append(f"an input {dimension} of {fitting}")
        raise ValueError(
            f"{layer}: windows do not tile the input {dimension}: "
            f"({padded} - {field_name}) % stride = ({size}"
            f"{f' + 2*{padding}' if pad_name else ''} - {field}) % {stride} = {span % stride}, "
            f"but it must be 0. Change the {dimension} settings, e.g. {' or '.join(fixes)}")
    return span // stride + 1


def conv_output_shape(x_shape: tuple[int, ...], field_height: int, field_width: int, padding: int,
                      stride: int, layer: str = "conv") -> tuple[int, int]:
    """(out_h, out_w) of a convolution; raises ValueError naming the axis that does not fit."""
    _, _, height, width = x_shape
    out_h = sliding_output_size(height, field_height, padding, stride, layer=layer,
                                dimension="height", size_name="H", field_name="HH")
    out_w = sliding_output_size(width, field_width, padding, stride, layer=layer,
                                dimension="width", size_name="W", field_name="WW")
    return out_h, out_w


def _check_geometry(field_height: object, field_width: object, padding: object,
                    stride: object) -> None:
    for name, value, low in (("field_height", field_height, 1), ("field_width", field_width, 1),
                             ("padding", padding, 0), ("stride", stride, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"im2col: {name} must be an integer >= {low}, got {value!r}")


def _check_batch(x: np.ndarray, what: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{what} must have shape (N, C, H, W); got shape {x.shape}")


# ---------------------------------------------------------------------------------------
# NumPy fallback kernels (same contract as the Cython ones: see _im2col_cython.pyx)

def _split_view(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` seen with ``shape`` without copying (raises if that needs a copy)."""
    view: np.ndarray = array.view()
    view.shape = shape
    return view


def _numpy_im2col_into(x: np.ndarray, cols: np.ndarray, first_image: int, field_height: int,
                       field_width: int, padding: int, stride: int, threads: int = 0) -> None:
    _, channels, _, _ = x.shape
    out_h, out_w = conv_output_shape(x.shape, field_height, field_width, padding, stride)
    count = cols.shape[0]
    images = x[first_image:first_image + count]
    if padding:
        images = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    s_n, s_c, s_h, s_w = images.strides
    patches = as_strided(images, shape=(count, channels, field_height, field_width, out_h, out_w),
                         strides=(s_n, s_c, s_h, s_w, s_h * stride, s_w * stride),
                         writeable=False)
    np.copyto(_split_view(cols, patches.shape), patches)


def _numpy_col2im_into(cols: np.ndarray, dx: np.ndarray, first_image: int, field_height: int,
                       field_width: int, padding: int, stride: int, threads: int = 0) -> None:
    _, channels, height, width = dx.shape
    out_h, out_w = conv_output_shape(dx.shape, field_height, field_width, padding, stride)
    count = cols.shape[0]
    padded = np.zeros((count, channels, height + 2 * padding, width + 2 * padding), dx.dtype)
    patches = _split_view(cols, (count, channels, field_height, field_width, out_h, out_w))
    for i in range(field_height):
        for j in range(field_width):
            padded[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += \
                patches[:, :, i, j]
    dx[first_image:first_image + count] = padded[:, :, padding:padding + height,
                                                 padding:padding + width]


def _numpy_columns_to_images(product: np.ndarray, bias: np.ndarray, out: np.ndarray, first_image: int,
                             threads: int = 0) -> None:
    count, filters, pixels = product.shape[1] // (out.shape[2] * out.shape[3]), out.shape[1], \
        out.shape[2] * out.shape[3]
    np.add(product.reshape(filters, count, pixels).transpose(1, 0, 2), bias[None, :, None],
           out=out[first_image:first_image + count].reshape(count, filters, pixels))


def _numpy_images_to_columns(dout: np.ndarray, grad: np.ndarray, first_image: int, threads: int = 0) -> None:
    filters, pixels = dout.shape[1], dout.shape[2] * dout.shape[3]
    count = grad.shape[1] // pixels
    np.copyto(grad.reshape(filters, count, pixels),
              dout[first_image:first_image + count].reshape(count, filters, pixels).transpose(1, 0, 2))


# ---------------------------------------------------------------------------------------
# BLAS for the compiled fused convolution (course_lib._im2col_cython.conv_forward_fused)

# Fortran GEMMs a BLAS library may export under names that say their integer width
# unambiguously: (sgemm, dgemm, 64-bit integers). NumPy's wheels bundle OpenBLAS as
# scipy-openblas64 (first row); plain ``sgemm_`` could be either width, so it is not used.
_GEMM_SYMBOLS = (("scipy_sgemm_64_", "scipy_dgemm_64_", True),
                 ("scipy_sgemm_", "scipy_dgemm_", False))
_fused_gemm: bool | None = None


def fused_conv_available() -> bool:
    """Whether the compiled fused convolution can run: the Cython backend and a BLAS.

    The BLAS is looked up once: NumPy's own OpenBLAS when it exports its Fortran GEMMs
    (the one ``np.dot`` uses; measured 1.3-1.6x faster than SciPy's 0.3.30 on the fused
    kernels' small per-image products), else ``scipy.linalg.cython_blas`` when SciPy is
    installed. Without either, ``course_lib.fast_layers`` keeps to its chunked path.
    """
    global _fused_gemm
    if BACKEND != "cython" or _im2col_cython is None:
        return False
    if _fused_gemm is None:
        found = _numpy_gemm() or _scipy_gemm()
        if found:
            _im2col_cython.use_gemm(*found)
        _fused_gemm = found is not None
    return _fused_gemm


def _numpy_gemm() -> tuple[int, int, bool] | None:
    """(sgemm, dgemm, ilp64) from a BLAS library NumPy has loaded, found by threadpoolctl."""
    import ctypes
    try:
        from threadpoolctl import ThreadpoolController
        libraries = [lib.filepath for lib in ThreadpoolController().lib_controllers
                     if lib.user_api == "blas"]
    except Exception:  # threadpoolctl missing or unable to inspect this platform
        return None
    loaded = []
    for path in libraries:
        try:
            loaded.append(ctypes.CDLL(path))
        except OSError:
            continue
    # names first: NumPy's scipy-openblas64 before SciPy's own OpenBLAS if both are loaded
    for single, double, ilp64 in _GEMM_SYMBOLS:
        for library in loaded:
            if hasattr(library, single) and hasattr(library, double):
                return (_address(getattr(library, single)), _address(getattr(library, double)),
                        ilp64)
    return None


def _scipy_gemm() -> tuple[int, int, bool] | None:
    """(sgemm, dgemm, False) from ``scipy.linalg.cython_blas`` (32-bit integers)."""
    import ctypes
    import importlib
    try:  # imported by name: SciPy is optional (and mypy has no stubs for it)
        capsules = importlib.import_module("scipy.linalg.cython_blas").__pyx_capi__
        single, double = capsules["sgemm"], capsules["dgemm"]
    except (ImportError, AttributeError, KeyError):
        return None
    name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(
        ("PyCapsule_GetName", ctypes.pythonapi))
    pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
        ("PyCapsule_GetPointer", ctypes.pythonapi))
    addresses = [pointer(capsule, name(capsule)) for capsule in (single, double)]
    return (int(addresses[0]), int(addresses[1]), False) if all(addresses) else None


def _address(function: Any) -> int:
    """The address of a ctypes function."""
    import ctypes
    return int(ctypes.cast(function, ctypes.c_void_p).value or 0)


_KERNELS: dict[str, tuple[Callable[..., None], ...]] = {
    "numpy": (_numpy_im2col_into, _numpy_col2im_into, _numpy_columns_to_images,
              _numpy_images_to_columns)}
if _im2col_cython is not None:
    _KERNELS["cython"] = (_im2col_cython.im2col_into, _im2col_cython.col2im_into,
                          _im2col_cython.columns_to_images, _im2col_cython.images_to_columns)


def _kernels() -> tuple[Callable[..., None], ...]:
    if BACKEND not in _KERNELS:
        raise RuntimeError(f"course_lib.im2col.BACKEND={BACKEND!r} is not available here; "
                           f"choose one of {available_backends()}"
                           + ("" if _im2col_cython is not None else f" or {BUILD_HINT}"))
    return _KERNELS[BACKEND]


# ---------------------------------------------------------------------------------------
# Chunk-level entry points (used by course_lib.fast_layers to keep columns in cache)

def im2col_into(x: np.ndarray, cols: np.ndarray, first_image: int, field_height: int, field_width: int,
                padding: int, stride: int, threads: int = 0) -> None:
    """Write the columns of images ``first_image .. first_image + count - 1`` into ``cols``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64, C-contiguous
    cols : ndarray, x.dtype; overwritten
        Either the flat layout, shape (C*field_height*field_width, count*out_h*out_w),
        C-contiguous, or a stack of one such matrix per image, shape (count,
        C*field_height*field_width, out_h*out_w), each C-contiguous (the stack may be a
        view with a larger step between images).
    first_image : int
        Index in ``x`` of the first image to unroll; ``count`` follows from ``cols``.
    field_height, field_width, padding, stride : int
    threads : int
        OpenMP team size of the compiled kernel: 0 chooses from the work, 1 stays on the
        calling thread (the NumPy fallback ignores it). Likewise for the functions below.
    """
    stack = _check_chunk(x, cols, first_image, field_height, field_width, padding, stride, "x")
    _kernels()[0](x, stack, first_image, field_height, field_width, padding, stride, threads)


def col2im_into(cols: np.ndarray, dx: np.ndarray, first_image: int, field_height: int, field_width: int,
                padding: int, stride: int, threads: int = 0) -> None:
    """Overwrite images ``first_image ..`` of ``dx`` with ``cols`` summed back (adjoint of im2col).

    Parameters
    ----------
    cols : ndarray, dx.dtype
        Flat, shape (C*field_height*field_width, count*out_h*out_w), C-contiguous, or
        stacked, shape (count, C*field_height*field_width, out_h*out_w), each matrix
        C-contiguous, as for :func:`im2col_into`.
    dx : ndarray, shape (N, C, H, W), float32 or float64, C-contiguous; images
        ``first_image .. first_image + count - 1`` are overwritten, the others untouched.
    first_image, field_height, field_width, padding, stride, threads : int
    """
    stack = _check_chunk(dx, cols, first_image, field_height, field_width, padding, stride, "dx")
    _kernels()[1](stack, dx, first_image, field_height, field_width, padding, stride, threads)


def columns_to_images(product: np.ndarray, bias: np.ndarray, out: np.ndarray, first_image: int,
                      threads: int = 0) -> None:
    """Move a chunk's conv product into NCHW output and add the bias.

    Parameters
    ----------
    product : ndarray, shape (F, count*out_h*out_w), C-contiguous
        ``w.reshape(F, -1) @ cols`` for images ``first_image .. first_image + count - 1``.
    bias : ndarray, shape (F,), product.dtype
    out : ndarray, shape (N, F, out_h, out_w), product.dtype, C-contiguous
        Those images are overwritten: ``out[first_image + n, f] = product[f, n-th block] + bias[f]``.
    first_image, threads : int
    """
    _check_layout(product, out, first_image, "product", "out")
    _kernels()[2](product, bias, out, first_image, threads)


def images_to_columns(dout: np.ndarray, grad: np.ndarray, first_image: int, threads: int = 0) -> None:
    """The reverse move: ``grad[f, n-th block] = dout[first_image + n, f]`` (flattened).

    Parameters
    ----------
    dout : ndarray, shape (N, F, out_h, out_w), C-contiguous
    grad : ndarray, shape (F, count*out_h*out_w), dout.dtype, C-contiguous; overwritten.
    first_image, threads : int
    """
    _check_layout(grad, dout, first_image, "grad", "dout")
    _kernels()[3](dout, grad, first_image, threads)


def _check_layout(columns: np.ndarray, images: np.ndarray, first_image: int, columns_name: str,
                  images_name: str) -> None:
    pixels = images.shape[2] * images.shape[3] if images.ndim == 4 else 0
    if (images.ndim != 4 or columns.ndim != 2 or pixels == 0 or columns.dtype != images.dtype
            or columns.shape[0] != images.shape[1] or columns.shape[1] % pixels
            or not 0 <= first_image <= images.shape[0] - columns.shape[1] // pixels
            or not (columns.flags.c_contiguous and images.flags.c_contiguous)):
        raise ValueError(f"im2col: {columns_name} {columns.shape} {columns.dtype} does not fit "
                         f"{images_name} {images.shape} {images.dtype} from image {first_image} "
                         "(both C-contiguous, same dtype)")


def _check_chunk(images: np.ndarray, cols: np.ndarray, first_image: int, field_height: int, field_width: int,
                 padding: int, stride: int, name: str) -> np.ndarray:
    """Check a chunk's arguments; returns ``cols`` as the kernels' (count, rows, pixels) view."""
    _check_geometry(field_height, field_width, padding, stride)
    _check_batch(images, name)
    if images.dtype not in (np.float32, np.float64) or cols.dtype != images.dtype:
        raise ValueError(f"im2col: {name} and cols must share a float32 or float64 dtype; "
                         f"got {images.dtype} and {cols.dtype}")
    stacked_rows = cols.ndim == 3 and (cols.size == 0 or cols[0].flags.c_contiguous)
    if not (images.flags.c_contiguous and (cols.flags.c_contiguous or stacked_rows)):
        raise ValueError(f"im2col: {name} must be C-contiguous, and cols too (a stack of "
                         "C-contiguous matrices for 3-D cols; use np.ascontiguousarray)")
    out_h, out_w = conv_output_shape(images.shape, field_height, field_width, padding, stride,
                                     layer="im2col")
    rows, pixels = images.shape[1] * field_height * field_width, out_h * out_w
    if cols.ndim == 3 and cols.shape[1:] == (rows, pixels):
        count, stack = cols.shape[0], cols
    elif cols.ndim == 2 and cols.shape[0] == rows and cols.shape[1] % pixels == 0:
        count = cols.shape[1] // pixels
        stack = cols.reshape(rows, count, pixels).transpose(1, 0, 2)
    else:
        count = 0
    if count < 1 or not 0 <= first_image <= images.shape[0] - count:
        raise ValueError(f"im2col: cols must have shape ({rows}, count*{pixels}) or "
                         f"(count, {rows}, {pixels}) for 1 <= count <= N - first_image = "
                         f"{images.shape[0] - first_image}; got {cols.shape}")
    return stack


# ---------------------------------------------------------------------------------------
# Whole-batch functions

def im2col(x: ArrayLike, field_height: int, field_width: int, padding: int = 0,
           stride: int = 1) -> NDArray[np.floating]:
    """Unroll every receptive field of ``x`` into a column.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        Input batch; float32 stays float32, anything else is computed in float64.
    field_height, field_width : int
        Receptive field (filter) size HH x WW.
    padding : int
        Zero padding added on every side.
    stride : int
        Step between neighbouring fields.

    Returns
    -------
    cols : ndarray, shape (C*field_height*field_width, N*out_h*out_w), x's float dtype
        With ``out_h = (H + 2*padding - field_height) // stride + 1`` (likewise out_w).

    Raises
    ------
    ValueError
        If x is not 4-D or the fields do not tile the padded input exactly.
    """
    x = np.ascontiguousarray(x, dtype=compute_dtype(x))
    _check_batch(x, "x")
    _check_geometry(field_height, field_width, padding, stride)
    out_h, out_w = conv_output_shape(x.shape, field_height, field_width, padding, stride,
                                     layer="im2col")
    cols = np.empty((x.shape[1] * field_height * field_width, x.shape[0] * out_h * out_w),
                    x.dtype)
    if x.shape[0]:
        im2col_into(x, cols, 0, field_height, field_width, padding, stride)
    return cols


def col2im(cols: ArrayLike, x_shape: tuple[int, int, int, int], field_height: int,
           field_width: int, padding: int = 0, stride: int = 1) -> NDArray[np.floating]:
    """Sum columns back into an image batch: the adjoint (transpose) of :func:`im2col`.

    Parameters
    ----------
    cols : array_like, shape (C*field_height*field_width, N*out_h*out_w)
    x_shape : tuple (N, C, H, W)
        Shape of the batch the columns were taken from.
    field_height, field_width, padding, stride : int
        As given to :func:`im2col`.

    Returns
    -------
    x : ndarray, shape x_shape, cols's float dtype
        Pixel (n, c, h, w) holds the sum of every column entry copied from it.
    """
    cols = np.ascontiguousarray(cols, dtype=compute_dtype(cols))
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W); got {tuple(x_shape)}")
    dx = np.empty(tuple(int(s) for s in x_shape), cols.dtype)
    if dx.shape[0]:
        col2im_into(cols, dx, 0, field_height, field_width, padding, stride)
    elif cols.size:
        raise ValueError(f"col2im: x_shape {tuple(x_shape)} has no images but cols has "
                         f"shape {cols.shape}")
    return dx

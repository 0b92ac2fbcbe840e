# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Compiled kernels behind ``course_lib.im2col`` and ``course_lib.fast_layers``.

Do not call these directly: ``course_lib.im2col`` checks shapes and dtypes first and
these kernels trust their arguments (no bounds checks).

Layout conventions (NCHW throughout):

- An image batch ``x`` has shape (N, C, H, W), C-contiguous.
- A column matrix ``cols`` for the images ``first_image .. first_image + nb - 1`` is
  passed as a 3-D view of shape (nb, C * field_height * field_width, out_height *
  out_width) whose last axis must be contiguous (the caller checks); the outer strides
  are free. Entry ``[n, k, oh * out_width + ow]`` is output pixel ``(oh, ow)`` of image
  ``first_image + n`` seen through row ``k = (c * field_height + i) * field_width + j``:
  input channel ``c`` at filter tap ``(i, j)``. Row ``k`` therefore lines up with ``w.reshape(F, -1)[:, k]`` for
  conv weights ``w`` of shape (F, C, field_height, field_width). Two layouts use it: the
  flat (C*field_height*field_width, nb*out_height*out_width) matrix of CS231n's im2col,
  seen as ``cols.reshape(rows, nb, -1).transpose(1, 0, 2)``, and a stack of one
  (rows, out_height*out_width) matrix per image.
- Zero padding of ``padding`` pixels on every side is implicit: padded taps read as 0
  and receive no gradient.

Loops run in parallel over independent rows or image planes with OpenMP when the
extension was compiled with it, and serially otherwise. Small tasks (one row of columns)
use guided scheduling: big blocks first, so threads rarely touch the shared counter, and
small ones at the end, so a thread slowed by other processes does not hold up the rest.
The layout kernels take ``threads``: 0 (the default) picks the team size from the work,
1 runs on the calling thread only, for callers that already run one chunk per thread.
"""
from cython.parallel cimport parallel, prange, threadid
from libc.string cimport memcpy, memset

import numpy as np

ctypedef fused real:
    float
    double

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int course_lib_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int course_lib_max_threads(void) { return 1; }
    #endif
    """
    int course_lib_max_threads() noexcept nogil

# Below this many array elements (about a millisecond of copying) a kernel runs on one
# thread: waking the OpenMP team costs little on an idle machine, but on a busy one a
# descheduled thread can hold everyone up for longer than the whole kernel takes.
cdef enum:
    PARALLEL_MIN_ELEMENTS = 1048576


def max_threads():
    """Threads a large kernel call may use (OpenMP's limit; 1 when built without OpenMP)."""
    return course_lib_max_threads()


cdef inline int _threads_for(Py_ssize_t elements) noexcept nogil:
    return course_lib_max_threads() if elements >= PARALLEL_MIN_ELEMENTS else 1


cdef inline Py_ssize_t _first_inside(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    """Smallest o >= 0 with o * stride + offset >= 0."""
    if offset >= 0:
        return 0
    return (-offset + stride - 1) // stride


cdef inline Py_ssize_t _end_inside(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size,
                                   Py_ssize_t count) noexcept nogil:
    """One past the largest o < count with o * stride + offset <= size - 1 (0 if none)."""
    cdef Py_ssize_t last = size - 1 - offset
    if last < 0:
        return 0
    last = last // stride + 1
    return last if last < count else count


def _tap_offsets(Py_ssize_t out_h, Py_ssize_t out_w, Py_ssize_t padded_w, Py_ssize_t stride):
    """offsets[oh * out_w + ow] = stride * (oh * padded_w + ow): where output pixel (oh, ow)
    of a filter tap sits in a zero-bordered plane, relative to the tap's first pixel."""
    offsets = np.empty(max(out_h * out_w, 1), np.intp)
    cdef Py_ssize_t[::1] view = offsets
    cdef Py_ssize_t oh, ow
    for oh in range(out_h):
        for ow in range(out_w):
            view[oh * out_w + ow] = stride * (oh * padded_w + ow)
    return offsets


cdef void _im2col_strided(const real* xp, real* cp, Py_ssize_t first_image, Py_ssize_t nb,
                          Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t out_h,
                          Py_ssize_t out_w, Py_ssize_t field_height, Py_ssize_t field_width,
                          Py_ssize_t padding, Py_ssize_t stride, Py_ssize_t image_step,
                          Py_ssize_t row_step, Py_ssize_t* offsets, real* scratch,
                          int team) noexcept nogil:
    """im2col for stride > 1, one task per (image, channel) plane.

    Row loops over a few strided pixels cost more in loop overhead than in copying, so each
    thread first copies the plane into its zero-bordered scratch plane of (H + 2*padding) x
    (W + 2*padding) (``scratch`` holds one per thread, borders zeroed by the caller). There,
    output pixel q = oh * out_w + ow of filter tap (i, j) sits at ``offsets[q] + i *
    padded_w + j`` with ``offsets[q] = stride * (oh * padded_w + ow)``, the same for every
    tap: each column row is one gather loop over all its pixels, padding included, with no
    bounds tests. ``offsets`` comes from ``_tap_offsets``. Stride 2 gathers with a constant
    step instead (measured at one thread on the 3x3/2 benchmark layer, CPU time for the
    batch: float32 0.22 ms against 0.30 ms through ``offsets``, float64 0.35 against 0.55).
    """
    cdef Py_ssize_t padded_h = H + 2 * padding, padded_w = W + 2 * padding
    cdef Py_ssize_t task, n, c
    for task in prange(nb * C, schedule="guided", num_threads=team):
        n = task // C
        c = task % C
        _im2col_plane_strided(xp + ((first_image + n) * C + c) * H * W,
                              cp + n * image_step + c * field_height * field_width * row_step,
                              row_step, H, W, out_h, out_w, field_height, field_width,
                              padding, stride, offsets,
                              scratch + threadid() * padded_h * padded_w)


cdef inline void _im2col_plane_strided(const real* src, real* dst, Py_ssize_t row_step,
                                       Py_ssize_t H, Py_ssize_t W, Py_ssize_t out_h,
                                       Py_ssize_t out_w, Py_ssize_t field_height,
                                       Py_ssize_t field_width, Py_ssize_t padding,
                                       Py_ssize_t stride, const Py_ssize_t* offsets,
                                       real* padded) noexcept nogil:
    """One (image, channel) plane of ``_im2col_strided``: ``src`` is the H x W plane,
    ``dst`` the plane's first column row, ``padded`` a zero-bordered scratch plane."""
    cdef Py_ssize_t padded_w = W + 2 * padding, pixels = out_h * out_w
    cdef Py_ssize_t h, i, j, q, oh, ow
    cdef const real* tap
    cdef real* row
    for h in range(H):
        memcpy(padded + (h + padding) * padded_w + padding, src + h * W, W * sizeof(real))
    for i in range(field_height):
        for j in range(field_width):
            tap = padded + i * padded_w + j
            row = dst + (i * field_width + j) * row_step
            if stride == 2:
                # the common stride, with a constant step the compiler can vectorise
                for oh in range(out_h):
                    for ow in range(out_w):
                        row[oh * out_w + ow] = tap[2 * (oh * padded_w + ow)]
            else:
                for q in range(pixels):
                    row[q] = tap[offsets[q]]


def im2col_into(const real[:, :, :, ::1] x, real[:, :, :] cols, Py_ssize_t first_image,
                Py_ssize_t field_height, Py_ssize_t field_width,
                Py_ssize_t padding, Py_ssize_t stride, int threads=0):
    """Fill ``cols`` (nb, rows, out_h * out_w) with the patches of images ``first_image ..``.

    Stride 1 copies row segments straight from x; stride > 1 gathers from a zero-bordered
    copy of each plane (see ``_im2col_strided``).
    """
    cdef Py_ssize_t C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t out_h = (H + 2 * padding - field_height) // stride + 1
    cdef Py_ssize_t out_w = (W + 2 * padding - field_width) // stride + 1
    cdef Py_ssize_t nb = cols.shape[0], rows = cols.shape[1]
    cdef Py_ssize_t image_step = cols.strides[0] // sizeof(real)
    cdef Py_ssize_t row_step = cols.strides[1] // sizeof(real)
    # visit (image, row) pairs in the order they lie in memory
    cdef bint image_major = image_step >= row_step
    cdef const real* xp = &x[0, 0, 0, 0]
    cdef real* cp = &cols[0, 0, 0]
    cdef Py_ssize_t task, k, n
    cdef int team = threads if threads > 0 else _threads_for(rows * nb * out_h * out_w)
    cdef Py_ssize_t[::1] offsets
    cdef real[:, ::1] scratch
    if stride > 1:
        offsets = _tap_offsets(out_h, out_w, W + 2 * padding, stride)
        scratch = np.zeros((max(team, 1), (H + 2 * padding) * (W + 2 * padding)),
                           np.float32 if real is float else np.float64)
        with nogil:
            _im2col_strided(xp, cp, first_image, nb, C, H, W, out_h, out_w, field_height,
                            field_width, padding, stride, image_step, row_step,
                            &offsets[0], &scratch[0, 0], team)
        return
    for task in prange(rows * nb, nogil=True, schedule="guided", num_threads=team):
        if image_major:
            n = task // rows
            k = task % rows
        else:
            k = task // nb
            n = task % nb
        _im2col_row(xp + (first_image + n) * C * H * W, cp + n * image_step + k * row_step, k,
                    H, W, out_h, out_w, field_height, field_width, padding, stride)


cdef inline void _im2col_row(const real* image, real* dst, Py_ssize_t k, Py_ssize_t H,
                             Py_ssize_t W, Py_ssize_t out_h, Py_ssize_t out_w,
                             Py_ssize_t field_height, Py_ssize_t field_width,
                             Py_ssize_t padding, Py_ssize_t stride) noexcept nogil:
    """Column row ``k`` of one image (C x H x W at ``image``) into ``dst`` (out_h * out_w)."""
    cdef Py_ssize_t c = k // (field_height * field_width)
    cdef Py_ssize_t i = (k // field_width) % field_height
    cdef Py_ssize_t j = k % field_width
    # output columns whose tap j lands inside the image (the rest read padding)
    cdef Py_ssize_t lo = _first_inside(j - padding, stride)
    cdef Py_ssize_t hi = _end_inside(j - padding, stride, W, out_w)
    cdef Py_ssize_t oh, ow, h
    cdef const real* src
    cdef real* row
    if hi < lo:
        hi = lo
    for oh in range(out_h):
        row = dst + oh * out_w
        h = oh * stride - padding + i
        if h < 0 or h >= H:
            memset(row, 0, out_w * sizeof(real))
            continue
        src = image + (c * H + h) * W
        for ow in range(lo):
            row[ow] = 0
        if stride == 1:
            for ow in range(lo, hi):
                row[ow] = src[ow + j - padding]
        else:
            for ow in range(lo, hi):
                row[ow] = src[ow * stride + j - padding]
        for ow in range(hi, out_w):
            row[ow] = 0


cdef void _col2im_strided(const real* cp, real* dp, Py_ssize_t first_image, Py_ssize_t nb,
                          Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t out_h,
                          Py_ssize_t out_w, Py_ssize_t field_height, Py_ssize_t field_width,
                          Py_ssize_t padding, Py_ssize_t stride, Py_ssize_t image_step,
                          Py_ssize_t row_step, const Py_ssize_t* offsets, real* scratch,
                          int team) noexcept nogil:
    """col2im for stride > 1, one task per (image, channel) plane, through a padded plane.

    The adjoint of ``_im2col_strided``: each thread adds every column row into its
    zero-bordered scratch plane of (H + 2*padding) x (W + 2*padding) at the tap's offsets
    (``offsets`` as there, filled by the caller), with no bounds tests, then copies the
    interior out to dx. Measured at one thread on the 3x3/2 benchmark layer (CPU time for
    the batch) against the stride**2 polyphase planes this replaced: float32 0.36 ms both,
    float64 0.41-0.44 ms against 0.51-0.60 ms; and it serves the fused kernels unchanged.
    """
    cdef Py_ssize_t plane_size = (H + 2 * padding) * (W + 2 * padding)
    cdef Py_ssize_t task, n, c
    for task in prange(nb * C, schedule="dynamic", num_threads=team):
        n = task // C
        c = task % C
        _col2im_plane_padded(cp + n * image_step + c * field_height * field_width * row_step,
                             dp + ((first_image + n) * C + c) * H * W, row_step, H, W, out_h,
                             out_w, field_height, field_width, padding, stride, offsets,
                             scratch + threadid() * plane_size)


cdef inline void _col2im_plane_padded(const real* cp, real* plane, Py_ssize_t row_step,
                                      Py_ssize_t H, Py_ssize_t W, Py_ssize_t out_h,
                                      Py_ssize_t out_w, Py_ssize_t field_height,
                                      Py_ssize_t field_width, Py_ssize_t padding,
                                      Py_ssize_t stride, const Py_ssize_t* offsets,
                                      real* padded) noexcept nogil:
    """col2im of one plane through a zero-padded scratch plane (the adjoint of
    ``_im2col_plane_strided``): every column row is added at its tap's offset, padding
    included, with no bounds tests, and the interior is copied out to ``plane``."""
    cdef Py_ssize_t padded_w = W + 2 * padding, pixels = out_h * out_w
    cdef Py_ssize_t h, i, j, q, oh, ow
    cdef real* tap
    cdef const real* row
    memset(padded, 0, (H + 2 * padding) * padded_w * sizeof(real))
    for i in range(field_height):
        for j in range(field_width):
            tap = padded + i * padded_w + j
            row = cp + (i * field_width + j) * row_step
            if stride == 2:
                for oh in range(out_h):
                    for ow in range(out_w):
                        tap[2 * (oh * padded_w + ow)] += row[oh * out_w + ow]
            else:
                for q in range(pixels):
                    tap[offsets[q]] += row[q]
    for h in range(H):
        memcpy(plane + h * W, padded + (h + padding) * padded_w + padding, W * sizeof(real))


def col2im_into(const real[:, :, :] cols, real[:, :, :, ::1] dx, Py_ssize_t first_image,
                Py_ssize_t field_height, Py_ssize_t field_width,
                Py_ssize_t padding, Py_ssize_t stride, int threads=0):
    """Overwrite images ``first_image ..`` of ``dx`` with the sum of ``cols`` scattered back.

    The adjoint of :func:`im2col_into`: every column entry is added to the input pixel it
    was copied from; entries that came from padding are dropped. Stride 1 adds row
    segments straight into dx; stride > 1 sums through a zero-bordered plane (see
    ``_col2im_strided``).
    """
    cdef Py_ssize_t C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t out_h = (H + 2 * padding - field_height) // stride + 1
    cdef Py_ssize_t out_w = (W + 2 * padding - field_width) // stride + 1
    cdef Py_ssize_t nb = cols.shape[0]
    cdef Py_ssize_t image_step = cols.strides[0] // sizeof(real)
    cdef Py_ssize_t row_step = cols.strides[1] // sizeof(real)
    cdef const real* cp = &cols[0, 0, 0]
    cdef real* dp = &dx[0, 0, 0, 0]
    cdef Py_ssize_t task, n, c
    cdef int team = threads if threads > 0 else _threads_for(nb * cols.shape[1] * cols.shape[2])
    cdef real[:, ::1] scratch
    cdef Py_ssize_t[::1] offsets
    if stride > 1:
        offsets = _tap_offsets(out_h, out_w, W + 2 * padding, stride)
        scratch = np.empty((max(team, 1), (H + 2 * padding) * (W + 2 * padding)),
                           np.float32 if real is float else np.float64)
        with nogil:
            _col2im_strided(cp, dp, first_image, nb, C, H, W, out_h, out_w, field_height,
                            field_width, padding, stride, image_step, row_step,
                            &offsets[0], &scratch[0, 0], team)
        return
    # one task per (image, channel) plane of dx: no two threads write the same pixel
    for task in prange(nb * C, nogil=True, schedule="dynamic", num_threads=team):
        n = task // C
        c = task % C
        _col2im_plane(cp + n * image_step + c * field_height * field_width * row_step,
                      dp + ((first_image + n) * C + c) * H * W, row_step, H, W, out_h, out_w,
                      field_height, field_width, padding, stride)


cdef inline void _col2im_plane(const real* cp, real* plane, Py_ssize_t row_step, Py_ssize_t H,
                               Py_ssize_t W, Py_ssize_t out_h, Py_ssize_t out_w,
                               Py_ssize_t field_height, Py_ssize_t field_width,
                               Py_ssize_t padding, Py_ssize_t stride) noexcept nogil:
    """One (image, channel) plane of col2im by direct adds (used for stride 1): ``cp`` is
    the plane's first column row, ``plane`` the H x W plane of dx it overwrites."""
    cdef Py_ssize_t i, j, lo, hi, oh, ow, h
    cdef const real* src
    cdef real* dst
    memset(plane, 0, H * W * sizeof(real))
    for i in range(field_height):
        for j in range(field_width):
            lo = _first_inside(j - padding, stride)
            hi = _end_inside(j - padding, stride, W, out_w)
            for oh in range(out_h):
                h = oh * stride - padding + i
                if h < 0 or h >= H:
                    continue
                src = cp + (i * field_width + j) * row_step + oh * out_w
                dst = plane + h * W
                if stride == 1:
                    for ow in range(lo, hi):
                        dst[ow + j - padding] += src[ow]
                else:
                    for ow in range(lo, hi):
                        dst[ow * stride + j - padding] += src[ow]


def max_pool_forward(const real[:, :, :, ::1] x, real[:, :, :, ::1] out, int[:, :, :, ::1] argmax,
                     Py_ssize_t pool_height, Py_ssize_t pool_width, Py_ssize_t stride):
    """Max over each window into ``out``; ``argmax`` gets the winner's index in its H*W plane.

    Ties go to the first maximum in row-major window order (strict ``>`` while scanning).
    """
    cdef Py_ssize_t planes = x.shape[0] * x.shape[1]
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t out_h = out.shape[2], out_w = out.shape[3]
    cdef const real* xp = &x[0, 0, 0, 0]
    cdef real* op = &out[0, 0, 0, 0]
    cdef int* ap = &argmax[0, 0, 0, 0]
    cdef Py_ssize_t p, oh, ow, i, j, idx, best_idx, o
    cdef real best, value
    cdef const real* image_plane
    cdef int threads = _threads_for(planes * H * W)
    for p in prange(planes, nogil=True, schedule="dynamic", num_threads=threads):
        image_plane = xp + p * H * W
        for oh in range(out_h):
            for ow in range(out_w):
                best_idx = oh * stride * W + ow * stride
                best = image_plane[best_idx]
                for i in range(pool_height):
                    for j in range(pool_width):
                        idx = (oh * stride + i) * W + ow * stride + j
                        value = image_plane[idx]
                        if value > best:
                            best = value
                            best_idx = idx
                o = (p * out_h + oh) * out_w + ow
                op[o] = best
                ap[o] = <int>best_idx


def max_pool_backward(const real[:, :, :, ::1] dout, const int[:, :, :, ::1] argmax,
                      real[:, :, :, ::1] dx):
    """Overwrite ``dx`` with each window's upstream gradient added at its recorded argmax."""
    cdef Py_ssize_t planes = dx.shape[0] * dx.shape[1]
    cdef Py_ssize_t in_plane = dx.shape[2] * dx.shape[3]
    cdef Py_ssize_t out_plane = dout.shape[2] * dout.shape[3]
    cdef const real* gp = &dout[0, 0, 0, 0]
    cdef const int* ap = &argmax[0, 0, 0, 0]
    cdef real* dp = &dx[0, 0, 0, 0]
    cdef Py_ssize_t p, o
    cdef int threads = _threads_for(planes * in_plane)
    for p in prange(planes, nogil=True, schedule="dynamic", num_threads=threads):
        memset(dp + p * in_plane, 0, in_plane * sizeof(real))
        for o in range(p * out_plane, (p + 1) * out_plane):
            dp[p * in_plane + ap[o]] += gp[o]


def columns_to_images(const real[:, ::1] product, const real[::1] bias, real[:, :, :, ::1] out,
                      Py_ssize_t first_image, int threads=0):
    """out[first_image + n, f] = product[f, n*P : (n+1)*P] (as out_h x out_w) + bias[f].

    ``product`` is (F, count * P) with P = out_h * out_w: the conv GEMM's result for a chunk.
    """
    cdef Py_ssize_t F = out.shape[1], P = out.shape[2] * out.shape[3]
    cdef Py_ssize_t count = product.shape[1] // P
    cdef const real* src
    cdef real* dst
    cdef real shift
    cdef Py_ssize_t task, n, f, p
    cdef int team = threads if threads > 0 else _threads_for(F * count * P)
    for task in prange(count * F, nogil=True, schedule="guided", num_threads=team):
        n = task // F
        f = task % F
        src = &product[0, 0] + f * product.shape[1] + n * P
        dst = &out[0, 0, 0, 0] + ((first_image + n) * F + f) * P
        shift = bias[f]
        for p in range(P):
            dst[p] = src[p] + shift


def images_to_columns(const real[:, :, :, ::1] dout, real[:, ::1] grad, Py_ssize_t first_image,
                      int threads=0):
    """grad[f, n*P : (n+1)*P] = dout[first_image + n, f] (flattened): the inverse layout move."""
    cdef Py_ssize_t F = dout.shape[1], P = dout.shape[2] * dout.shape[3]
    cdef Py_ssize_t count = grad.shape[1] // P
    cdef const real* src
    cdef real* dst
    cdef Py_ssize_t task, n, f, p
    cdef int team = threads if threads > 0 else _threads_for(F * count * P)
    for task in prange(count * F, nogil=True, schedule="guided", num_threads=team):
        n = task // F
        f = task % F
        src = &dout[0, 0, 0, 0] + ((first_image + n) * F + f) * P
        dst = &grad[0, 0] + f * grad.shape[1] + n * P
        for p in range(P):
            dst[p] = src[p]


# ---------------------------------------------------------------------------------------
# Fused convolution: the whole layer in one call, one image at a time.
#
# For small layers the chunked path's products are skinny GEMMs that stream column
# matrices of the whole batch through memory. Here each thread takes one image, unrolls it
# into a column matrix that stays in its L1/L2 cache, and runs that image's GEMMs on it
# at once, with the BLAS that ``course_lib.im2col`` hands to :func:`use_gemm` (NumPy's
# own OpenBLAS when it exports its Fortran GEMMs, else SciPy's cython_blas): neither
# building nor importing this module needs SciPy. The threads meet once per call.

# A small matrix product for the fused kernels in float32, in C with GCC/Clang vector
# extensions, compiled for AVX2 + FMA whatever the build's flags and used only when the CPU
# has them (checked at import): C = A @ B with B's and C's rows contiguous and A read
# through any strides, 4 rows of C by 16 columns at a time in registers. Measured at one
# thread on the benchmark's 3x3/2 layer in float32 (100 images): the forward pass's
# products took 0.56-0.62 ms against 0.74 ms in OpenBLAS 0.3.31, whose per-call overhead
# dominates products this small; the fused forward pass 0.69-0.70 ms against 0.82 ms. For
# the backward pass's products (dW: dot products along the rows; dcols) and in float64
# the same approach was no faster than BLAS, which they keep using, as do other compilers
# and CPUs.
cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    typedef float cl_vfloat __attribute__((vector_size(32)));
    #define CL_LOAD(v, p) __builtin_memcpy(&(v), (p), sizeof(v))
    #define CL_STORE(p, v) __builtin_memcpy((p), &(v), sizeof(v))

    __attribute__((target("avx2,fma")))
    static void cl_rows_f(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float* A, Py_ssize_t rs,
                          Py_ssize_t cs, const float* B, Py_ssize_t ldb, float* C, Py_ssize_t ldc) {
        Py_ssize_t i = 0, j, k;
        for (; i + 4 <= M; i += 4) {
            const float* a0 = A + i * rs; const float* a1 = a0 + rs; const float* a2 = a1 + rs; const float* a3 = a2 + rs;
            for (j = 0; j + 2 * 8 <= N; j += 2 * 8) {
                cl_vfloat c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
                cl_vfloat b0, b1;
                const float* b = B + j;
                float* c = C + i * ldc + j;
                for (k = 0; k < K; k++, b += ldb) {
                    float x0 = a0[k * cs], x1 = a1[k * cs], x2 = a2[k * cs], x3 = a3[k * cs];
                    CL_LOAD(b0, b); CL_LOAD(b1, b + 8);
                    c00 += x0 * b0; c01 += x0 * b1; c10 += x1 * b0; c11 += x1 * b1;
                    c20 += x2 * b0; c21 += x2 * b1; c30 += x3 * b0; c31 += x3 * b1;
                }
                CL_STORE(c, c00); CL_STORE(c + 8, c01); c += ldc;
                CL_STORE(c, c10); CL_STORE(c + 8, c11); c += ldc;
                CL_STORE(c, c20); CL_STORE(c + 8, c21); c += ldc;
                CL_STORE(c, c30); CL_STORE(c + 8, c31);
            }
            for (; j + 8 <= N; j += 8) {
                cl_vfloat c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, b0;
                const float* b = B + j;
                float* c = C + i * ldc + j;
                for (k = 0; k < K; k++, b += ldb) {
                    CL_LOAD(b0, b);
                    c0 += a0[k * cs] * b0; c1 += a1[k * cs] * b0; c2 += a2[k * cs] * b0; c3 += a3[k * cs] * b0;
                }
                CL_STORE(c, c0); CL_STORE(c + ldc, c1); CL_STORE(c + 2 * ldc, c2); CL_STORE(c + 3 * ldc, c3);
            }
            for (; j < N; j++) {
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0, bb;
                for (k = 0; k < K; k++) {
                    bb = B[k * ldb + j];
                    s0 += a0[k * cs] * bb; s1 += a1[k * cs] * bb; s2 += a2[k * cs] * bb; s3 += a3[k * cs] * bb;
                }
                C[i * ldc + j] = s0; C[(i + 1) * ldc + j] = s1; C[(i + 2) * ldc + j] = s2; C[(i + 3) * ldc + j] = s3;
            }
        }
        for (; i < M; i++) {
            const float* a0 = A + i * rs;
            for (j = 0; j + 8 <= N; j += 8) {
                cl_vfloat c0 = {0}, b0;
                for (k = 0; k < K; k++) { CL_LOAD(b0, B + k * ldb + j); c0 += a0[k * cs] * b0; }
                CL_STORE(C + i * ldc + j, c0);
            }
            for (; j < N; j++) {
                float s0 = 0;
                for (k = 0; k < K; k++) s0 += a0[k * cs] * B[k * ldb + j];
                C[i * ldc + j] = s0;
            }
        }
    }

    static int cl_simd_supported(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    #else
    static int cl_simd_supported(void) { return 0; }
    static void cl_rows_f(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float* A, Py_ssize_t rs,
                          Py_ssize_t cs, const float* B, Py_ssize_t ldb, float* C, Py_ssize_t ldc) {}
    #endif
    """
    int cl_simd_supported() noexcept nogil
    void cl_rows_f(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float* A, Py_ssize_t rs,
                   Py_ssize_t cs, const float* B, Py_ssize_t ldb, float* C,
                   Py_ssize_t ldc) noexcept nogil

cdef bint _simd = cl_simd_supported()


def use_simd(bint wanted):
    """Use the AVX2 product in the fused kernels (float32) if ``wanted`` and the CPU has
    AVX2 + FMA, else BLAS (tests switch between them); returns whether it is now in use."""
    global _simd
    _simd = wanted and cl_simd_supported()
    return _simd


def simd_in_use():
    """Whether the fused kernels use their own AVX2 product in float32 (else BLAS only)."""
    return _simd


ctypedef long long blas_int64

ctypedef void (*sgemm_ptr)(char* transa, char* transb, int* m, int* n, int* k, float* alpha,
                           float* a, int* lda, float* b, int* ldb, float* beta, float* c,
                           int* ldc) noexcept nogil
ctypedef void (*dgemm_ptr)(char* transa, char* transb, int* m, int* n, int* k, double* alpha,
                           double* a, int* lda, double* b, int* ldb, double* beta, double* c,
                           int* ldc) noexcept nogil
ctypedef void (*sgemm64_ptr)(char* transa, char* transb, blas_int64* m, blas_int64* n,
                             blas_int64* k, float* alpha, float* a, blas_int64* lda, float* b,
                             blas_int64* ldb, float* beta, float* c,
                             blas_int64* ldc) noexcept nogil
ctypedef void (*dgemm64_ptr)(char* transa, char* transb, blas_int64* m, blas_int64* n,
                             blas_int64* k, double* alpha, double* a, blas_int64* lda,
                             double* b, blas_int64* ldb, double* beta, double* c,
                             blas_int64* ldc) noexcept nogil

cdef void* _sgemm = NULL
cdef void* _dgemm = NULL
cdef bint _blas_ilp64 = False


def use_gemm(size_t sgemm, size_t dgemm, bint ilp64):
    """Use these Fortran-interface ``sgemm`` and ``dgemm`` (addresses; 64-bit integer
    arguments if ``ilp64``) in the fused kernels. 0, 0 makes them unavailable."""
    global _sgemm, _dgemm, _blas_ilp64
    _sgemm, _dgemm, _blas_ilp64 = <void*>sgemm, <void*>dgemm, ilp64


def has_gemm():
    """Whether :func:`use_gemm` has given the fused kernels a BLAS."""
    return _sgemm != NULL and _dgemm != NULL


cdef inline void _gemm(char transa, char transb, int m, int n, int k, const real* a, int lda,
                       const real* b, int ldb, real beta, real* c, int ldc) noexcept nogil:
    """Column-major BLAS GEMM: c = op(a) @ op(b) + beta * c (alpha = 1)."""
    cdef real alpha = 1
    cdef blas_int64 m8 = m, n8 = n, k8 = k, lda8 = lda, ldb8 = ldb, ldc8 = ldc
    if real is float:
        if _blas_ilp64:
            (<sgemm64_ptr>_sgemm)(&transa, &transb, &m8, &n8, &k8, &alpha, <float*>a, &lda8,
                                  <float*>b, &ldb8, &beta, c, &ldc8)
        else:
            (<sgemm_ptr>_sgemm)(&transa, &transb, &m, &n, &k, &alpha, <float*>a, &lda,
                                <float*>b, &ldb, &beta, c, &ldc)
    else:
        if _blas_ilp64:
            (<dgemm64_ptr>_dgemm)(&transa, &transb, &m8, &n8, &k8, &alpha, <double*>a, &lda8,
                                  <double*>b, &ldb8, &beta, c, &ldc8)
        else:
            (<dgemm_ptr>_dgemm)(&transa, &transb, &m, &n, &k, &alpha, <double*>a, &lda,
                                <double*>b, &ldb, &beta, c, &ldc)


cdef inline void _im2col_image(const real* image, real* cols, Py_ssize_t C, Py_ssize_t H,
                               Py_ssize_t W, Py_ssize_t out_h, Py_ssize_t out_w,
                               Py_ssize_t field_height, Py_ssize_t field_width,
                               Py_ssize_t padding, Py_ssize_t stride,
                               const Py_ssize_t* offsets, real* padded) noexcept nogil:
    """The (C * field_height * field_width, out_h * out_w) columns of one image, serially."""
    cdef Py_ssize_t pixels = out_h * out_w, taps = field_height * field_width, c, k
    if stride > 1:
        for c in range(C):
            _im2col_plane_strided(image + c * H * W, cols + c * taps * pixels, pixels, H, W,
                                  out_h, out_w, field_height, field_width, padding, stride,
                                  offsets, padded)
    else:
        for k in range(C * taps):
            _im2col_row(image, cols + k * pixels, k, H, W, out_h, out_w, field_height,
                        field_width, padding, stride)


cdef inline void _col2im_image(const real* cols, real* image, Py_ssize_t C, Py_ssize_t H,
                               Py_ssize_t W, Py_ssize_t out_h, Py_ssize_t out_w,
                               Py_ssize_t field_height, Py_ssize_t field_width,
                               Py_ssize_t padding, Py_ssize_t stride,
                               const Py_ssize_t* offsets, real* padded) noexcept nogil:
    """Overwrite one image (C x H x W) with its columns summed back, serially."""
    cdef Py_ssize_t pixels = out_h * out_w, taps = field_height * field_width, c
    for c in range(C):
        if stride > 1:
            _col2im_plane_padded(cols + c * taps * pixels, image + c * H * W, pixels, H, W,
                                 out_h, out_w, field_height, field_width, padding, stride,
                                 offsets, padded)
        else:
            _col2im_plane(cols + c * taps * pixels, image + c * H * W, pixels, H, W, out_h,
                          out_w, field_height, field_width, padding, stride)


cdef class _FusedScratch:
    """Per-thread scratch of the fused kernels, and the thread count to use."""
    cdef public object columns, dcols, padded, sums, offsets
    cdef public int team

    def __init__(self, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                 Py_ssize_t out_h, Py_ssize_t out_w, Py_ssize_t field_height,
                 Py_ssize_t field_width, Py_ssize_t padding, Py_ssize_t stride, int threads,
                 dtype, bint backward):
        cdef Py_ssize_t pixels = out_h * out_w, rows = C * field_height * field_width
        cdef Py_ssize_t plane = (H + 2 * padding) * (W + 2 * padding) if stride > 1 else 1
        self.team = max(1, min(threads if threads > 0 else course_lib_max_threads(), N))
        # rows of patches, then a row of ones: the bias (forward) and db (backward) ride
        # in the GEMMs as an extra column of the weights
        self.columns = np.empty((self.team, rows + 1, pixels), dtype)
        self.columns[:, rows] = 1
        self.dcols = np.empty((self.team, rows if backward else 1, pixels), dtype)
        # zero-bordered planes for stride > 1: im2col's keep their zero border, col2im's
        # (sums) are cleared for every plane
        self.padded = np.zeros((self.team, plane), dtype)
        self.sums = np.empty((self.team, plane if backward else 1), dtype)
        self.offsets = _tap_offsets(out_h, out_w, W + 2 * padding, stride)


def conv_forward_fused(const real[:, :, :, ::1] x, const real[:, ::1] w_and_b,
                       real[:, :, :, ::1] out, Py_ssize_t field_height, Py_ssize_t field_width,
                       Py_ssize_t padding, Py_ssize_t stride, int threads=0):
    """out[n] = [W b] @ [im2col(x[n]); ones] for every image n, one image per task.

    ``w_and_b`` is (F, C * field_height * field_width + 1): the filters as rows, then the
    bias. Needs :func:`use_gemm` first. ``threads``: 0 uses OpenMP's
    limit, at most one thread per image. BLAS must run on one thread (the caller holds it
    there): several threads call it at once.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = out.shape[1], out_h = out.shape[2], out_w = out.shape[3]
    cdef int pixels = <int>(out_h * out_w), rows1 = <int>w_and_b.shape[1], filters = <int>F
    if not has_gemm():
        raise RuntimeError("conv_forward_fused: no BLAS; call use_gemm first")
    if N == 0:
        return
    scratch = _FusedScratch(N, C, H, W, out_h, out_w, field_height, field_width, padding,
                            stride, threads, np.asarray(out).dtype, False)
    cdef real[:, :, ::1] columns = scratch.columns
    cdef real[:, ::1] padded = scratch.padded
    cdef Py_ssize_t[::1] offsets = scratch.offsets
    cdef int team = scratch.team
    cdef Py_ssize_t n
    cdef int tid
    cdef real* cols
    cdef const real* xp = &x[0, 0, 0, 0]
    cdef const real* wp = &w_and_b[0, 0]
    cdef real* op = &out[0, 0, 0, 0]
    cols, tid = NULL, 0
    with nogil, parallel(num_threads=team):
        tid = threadid()
        cols = &columns[tid, 0, 0]
        for n in prange(N, schedule="dynamic"):
            _im2col_image(xp + n * C * H * W, cols, C, H, W, out_h, out_w, field_height,
                          field_width, padding, stride, &offsets[0], &padded[tid, 0])
            # row-major out[n] (F, P) = w_and_b (F, R+1) @ cols (R+1, P)
            if real is float and _simd:
                cl_rows_f(F, pixels, rows1, wp, rows1, 1, cols, pixels, op + n * F * pixels,
                          pixels)
            else:
                _gemm(c'N', c'N', pixels, filters, rows1, cols, pixels, wp, rows1, 0,
                      op + n * F * pixels, pixels)


def conv_backward_fused(const real[:, :, :, ::1] x, const real[:, :, :, ::1] dout,
                        const real[:, ::1] w_rows, real[:, ::1] dw_and_db,
                        real[:, :, :, ::1] dx, Py_ssize_t field_height,
                        Py_ssize_t field_width, Py_ssize_t padding, Py_ssize_t stride,
                        int threads=0):
    """The conv backward pass, one image per task; the adjoint of :func:`conv_forward_fused`.

    Overwrites ``dw_and_db`` (F, R + 1), R = C * field_height * field_width, with
    [dW db] summed over the batch, and ``dx`` (unless None) with col2im(W.T @ dout[n])
    for every image. ``w_rows`` is (F, R). Same conditions as the forward pass.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = dout.shape[1], out_h = dout.shape[2], out_w = dout.shape[3]
    cdef Py_ssize_t rows = w_rows.shape[1]
    cdef int pixels = <int>(out_h * out_w), filters = <int>F
    cdef int rows0 = <int>rows, rows1 = <int>(rows + 1)
    cdef bint input_grad = dx is not None
    dtype = np.asarray(dw_and_db).dtype
    if not has_gemm():
        raise RuntimeError("conv_backward_fused: no BLAS; call use_gemm first")
    if N == 0:
        np.asarray(dw_and_db)[...] = 0
        return
    scratch = _FusedScratch(N, C, H, W, out_h, out_w, field_height, field_width, padding,
                            stride, threads, dtype, input_grad)
    cdef int team = scratch.team
    # one [dW db].T accumulator per thread, summed at the end
    grads_array = np.zeros((team, rows + 1, F), dtype)
    cdef real[:, :, ::1] grads = grads_array
    cdef real[:, :, ::1] columns = scratch.columns
    cdef real[:, :, ::1] dcols = scratch.dcols
    cdef real[:, ::1] padded = scratch.padded
    cdef real[:, ::1] sums = scratch.sums
    cdef Py_ssize_t[::1] offsets = scratch.offsets
    cdef Py_ssize_t n
    cdef int tid
    cdef real* cols
    cdef const real* grad
    cdef const real* xp = &x[0, 0, 0, 0]
    cdef const real* gp = &dout[0, 0, 0, 0]
    cdef const real* wp = &w_rows[0, 0]
    cdef real* dxp = &dx[0, 0, 0, 0] if input_grad else NULL
    cols, tid = NULL, 0
    with nogil, parallel(num_threads=team):
        tid = threadid()
        cols = &columns[tid, 0, 0]
        for n in prange(N, schedule="dynamic"):
            grad = gp + n * F * pixels
            _im2col_image(xp + n * C * H * W, cols, C, H, W, out_h, out_w, field_height,
                          field_width, padding, stride, &offsets[0], &padded[tid, 0])
            # [dW db].T (R+1, F) += cols (R+1, P) @ dout[n].T (P, F): measured faster
            # than accumulating [dW db] itself (one GEMM of 0.69-0.88 ms against 0.99-1.04
            # ms per 100 images of the 3x3/2 benchmark layer in float32)
            _gemm(c'T', c'N', filters, rows1, pixels, grad, pixels, cols, pixels, 1,
                  &grads[tid, 0, 0], filters)
            if input_grad:
                # dcols (R, P) = W.T (R, F) @ dout[n] (F, P), then summed back into dx[n]
                _gemm(c'N', c'T', pixels, rows0, filters, grad, pixels, wp, rows0, 0,
                      &dcols[tid, 0, 0], pixels)
                _col2im_image(&dcols[tid, 0, 0], dxp + n * C * H * W, C, H, W, out_h, out_w,
                              field_height, field_width, padding, stride, &offsets[0],
                              &sums[tid, 0])
    np.sum(grads_array, axis=0, out=np.asarray(dw_and_db).T)

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
from cython.parallel cimport prange, threadid
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
    bounds tests. ``offsets`` has room for out_h * out_w entries and is filled here.
    """
    cdef Py_ssize_t padded_h = H + 2 * padding, padded_w = W + 2 * padding
    cdef Py_ssize_t pixels = out_h * out_w
    cdef Py_ssize_t task, n, c, h, i, j, q, oh, ow
    cdef real* padded
    cdef const real* src
    cdef real* dst
    for oh in range(out_h):
        for ow in range(out_w):
            offsets[oh * out_w + ow] = stride * (oh * padded_w + ow)
    for task in prange(nb * C, schedule="guided", num_threads=team):
        n = task // C
        c = task % C
        padded = scratch + threadid() * padded_h * padded_w
        src = xp + ((first_image + n) * C + c) * H * W
        for h in range(H):
            memcpy(padded + (h + padding) * padded_w + padding, src + h * W, W * sizeof(real))
        for i in range(field_height):
            for j in range(field_width):
                src = padded + i * padded_w + j
                dst = cp + n * image_step + ((c * field_height + i) * field_width + j) * row_step
                for q in range(pixels):
                    dst[q] = src[offsets[q]]


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
    cdef Py_ssize_t taps = field_height * field_width
    cdef const real* xp = &x[0, 0, 0, 0]
    cdef real* cp = &cols[0, 0, 0]
    cdef Py_ssize_t task, k, n, c, i, j, oh, ow, h, lo, hi
    cdef const real* src
    cdef real* dst
    cdef int team = threads if threads > 0 else _threads_for(rows * nb * out_h * out_w)
    cdef Py_ssize_t[::1] offsets
    cdef real[:, ::1] scratch
    if stride > 1:
        offsets = np.empty(out_h * out_w, np.intp)
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
        c = k // taps
        i = (k // field_width) % field_height
        j = k % field_width
        # output columns whose tap j lands inside the image (the rest read padding)
        lo = _first_inside(j - padding, stride)
        hi = _end_inside(j - padding, stride, W, out_w)
        if hi < lo:
            hi = lo
        for oh in range(out_h):
            dst = cp + n * image_step + k * row_step + oh * out_w
            h = oh * stride - padding + i
            if h < 0 or h >= H:
                memset(dst, 0, out_w * sizeof(real))
                continue
            src = xp + (((first_image + n) * C + c) * H + h) * W
            for ow in range(lo):
                dst[ow] = 0
            if stride == 1:
                for ow in range(lo, hi):
                    dst[ow] = src[ow + j - padding]
            else:
                for ow in range(lo, hi):
                    dst[ow] = src[ow * stride + j - padding]
            for ow in range(hi, out_w):
                dst[ow] = 0


cdef void _col2im_strided(const real* cp, real* dp, Py_ssize_t first_image, Py_ssize_t nb,
                          Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t out_h,
                          Py_ssize_t out_w, Py_ssize_t field_height, Py_ssize_t field_width,
                          Py_ssize_t padding, Py_ssize_t stride, Py_ssize_t image_step,
                          Py_ssize_t row_step, real* scratch, int team) noexcept nogil:
    """col2im for stride > 1, one task per (image, channel) plane, through polyphase planes.

    Pixel (h, w) = (stride * a + rh, stride * b + rw) is pixel (a, b) of phase (rh, rw). A
    filter tap (i, j) only reaches one phase, and along an output row it reaches
    consecutive b: so every column row is added into a scratch phase plane (stride**2 of
    them, ceil(H / stride) x ceil(W / stride) each) over contiguous memory, which the
    compiler vectorises, rather than into every stride-th pixel of dx. The phases are then
    interleaved into dx, each pixel written once. ``scratch`` holds stride**2 phase planes
    for each thread.
    """
    cdef Py_ssize_t sub_h = (H + stride - 1) // stride, sub_w = (W + stride - 1) // stride
    cdef Py_ssize_t phase_size = sub_h * sub_w
    cdef Py_ssize_t task, n, c, i, j, oh, ow, lo, hi, row_lo, row_hi
    cdef Py_ssize_t rh, rw, shift_h, shift_w, a, b
    cdef real* phases
    cdef real* phase
    cdef real* plane
    cdef const real* src
    cdef real* dst
    for task in prange(nb * C, schedule="dynamic", num_threads=team):
        n = task // C
        c = task % C
        phases = scratch + threadid() * stride * stride * phase_size
        memset(phases, 0, stride * stride * phase_size * sizeof(real))
        for i in range(field_height):
            # input row h = stride * oh + i - padding = stride * (oh + shift_h) + rh
            rh = (i - padding) % stride
            if rh < 0:
                rh = rh + stride
            shift_h = (i - padding - rh) // stride
            row_lo = _first_inside(i - padding, stride)
            row_hi = _end_inside(i - padding, stride, H, out_h)
            for j in range(field_width):
                rw = (j - padding) % stride
                if rw < 0:
                    rw = rw + stride
                shift_w = (j - padding - rw) // stride
                lo = _first_inside(j - padding, stride)
                hi = _end_inside(j - padding, stride, W, out_w)
                phase = phases + (rh * stride + rw) * phase_size
                src = cp + n * image_step + \
                    ((c * field_height + i) * field_width + j) * row_step
                for oh in range(row_lo, row_hi):
                    dst = phase + (oh + shift_h) * sub_w
                    for ow in range(lo, hi):
                        dst[ow + shift_w] += src[oh * out_w + ow]
        plane = dp + ((first_image + n) * C + c) * H * W
        for rh in range(stride):
            for rw in range(stride):
                phase = phases + (rh * stride + rw) * phase_size
                for a in range((H - rh + stride - 1) // stride):
                    for b in range((W - rw + stride - 1) // stride):
                        plane[(stride * a + rh) * W + stride * b + rw] = \
                            phase[a * sub_w + b]


def col2im_into(const real[:, :, :] cols, real[:, :, :, ::1] dx, Py_ssize_t first_image,
                Py_ssize_t field_height, Py_ssize_t field_width,
                Py_ssize_t padding, Py_ssize_t stride, int threads=0):
    """Overwrite images ``first_image ..`` of ``dx`` with the sum of ``cols`` scattered back.

    The adjoint of :func:`im2col_into`: every column entry is added to the input pixel it
    was copied from; entries that came from padding are dropped. Stride 1 adds row
    segments straight into dx; stride > 1 sums through polyphase planes (see
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
    cdef Py_ssize_t task, k, n, c, i, j, oh, ow, h, lo, hi
    cdef const real* src
    cdef real* dst
    cdef real* image_plane
    cdef int team = threads if threads > 0 else _threads_for(nb * cols.shape[1] * cols.shape[2])
    cdef real[:, ::1] scratch
    if stride > 1:
        scratch = np.empty((max(team, 1), stride * stride * ((H + stride - 1) // stride)
                            * ((W + stride - 1) // stride)),
                           np.float32 if real is float else np.float64)
        with nogil:
            _col2im_strided(cp, dp, first_image, nb, C, H, W, out_h, out_w, field_height,
                            field_width, padding, stride, image_step, row_step,
                            &scratch[0, 0], team)
        return
    # one task per (image, channel) plane of dx: no two threads write the same pixel
    for task in prange(nb * C, nogil=True, schedule="dynamic", num_threads=team):
        n = task // C
        c = task % C
        image_plane = dp + ((first_image + n) * C + c) * H * W
        memset(image_plane, 0, H * W * sizeof(real))
        for i in range(field_height):
            for j in range(field_width):
                k = (c * field_height + i) * field_width + j
                lo = _first_inside(j - padding, stride)
                hi = _end_inside(j - padding, stride, W, out_w)
                for oh in range(out_h):
                    h = oh * stride - padding + i
                    if h < 0 or h >= H:
                        continue
                    src = cp + n * image_step + k * row_step + oh * out_w
                    dst = image_plane + h * W
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

"""Fast convolution and max pooling layers (staff code; students write the naive loops).

The convolution is im2col + matrix product, done on chunks of images whose column
matrix fits a scratch buffer that is reused from call to call:

    forward   out[chunk]  = W @ im2col(x[chunk]) + b          W = w.reshape(F, C*HH*WW)
    backward  dW         += dout[chunk] @ im2col(x[chunk]).T
              dx[chunk]   = col2im(W.T @ dout[chunk])

Layers with small filters instead run fused (see ``FUSED_MAX_ROWS``): one compiled call
per pass, each thread taking one image at a time through im2col, its GEMMs and col2im
while its columns are in cache; the cache tuple then has None where kept columns go.

The cache does not hold the column matrix (HH*WW/stride**2 times larger than x): the
backward pass recomputes it, except for the chunk the forward pass left in the scratch
buffer when no other layer has overwritten it since (always the case for one batch that
fits one chunk and a backward pass right after its forward pass). With several threads
and a large enough layer, each thread instead takes whole chunks (im2col, a one-thread
GEMM, the layout moves) from a shared queue, so the threads meet once per call rather
than at every step; dW and db are summed over the threads at the end. Max pooling records,
for every window, where its maximum was, and the backward pass sends the gradient there
(to the FIRST maximum in row-major window order when there are ties, the same rule as
``np.argmax`` on the window).

Both layers accept any stride >= 1, padding >= 0 (conv), rectangular filters and pool
windows, and overlapping pool windows (stride < window). They compute in float32 when x
is float32 and in float64 otherwise; outputs and gradients have that dtype. Kernels come
from ``course_lib.im2col.BACKEND`` (compiled Cython, or the NumPy fallback).
"""
from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import ArrayLike, NDArray

from course_lib import im2col as _im2col
from course_lib.im2col import compute_dtype, conv_output_shape, sliding_output_size

# Bytes of column matrix per chunk. Every chunk costs a few BLAS calls and parallel loops,
# and each of those is a point where all threads must meet: on a busy machine a thread
# that has been descheduled makes everyone wait. Smaller chunks stay in cache (measured
# ~10% faster on one idle core) but were many times slower with two threads on a loaded
# machine, so chunks are large and the batch is split into few, equal ones.
COLUMN_CHUNK_BYTES = 32 * 1024 * 1024
# With one thread there is nobody to wait for, and chunks that stay in cache win (measured
# 0.67-0.93 of GEMM throughput with 2 MB against 0.62-0.72 with 32 MB on the benchmark shapes).
SINGLE_THREAD_CHUNK_BYTES = 2 * 1024 * 1024
# With several threads each running whole chunks (see _chunk_threads), a few chunks per
# thread let a thread that other processes slow down hand its share to the others.
CHUNKS_PER_THREAD = 4
# Below this much column matrix per layer call the chunks stay with one worker using every
# thread. Measured with 2 threads right after another 2-thread BLAS call (as in a network,
# and as in benchmarks.bench_conv): OpenBLAS's idle thread keeps spinning for a while, and
# over a call of a few milliseconds it took enough of the CPU to make the split slower.
CHUNK_THREADS_MIN_BYTES = 16 * 1024 * 1024
# Output planes of at least this many pixels use the stacked column layout (one GEMM per
# image, no layout moves; see _ConvChunks). Measured with one BLAS thread, per-image GEMMs
# ran at 0.64x the speed of one flat GEMM for 16-pixel planes, 0.81x for 64, and 1.0-1.4x
# for 256 and more (where the flat GEMM is bound by memory traffic).
STACKED_MIN_PIXELS = 256
# The stacked layout never needs multi-threaded BLAS (its GEMMs are per image), so
# threads take whole chunks from this much column matrix per layer call on.
STACKED_CHUNK_THREADS_MIN_BYTES = 1024 * 1024
# Stacked columns (see _ConvChunks) of a layer call up to this size are kept whole, for
# the backward pass to reuse instead of recomputing them. 32 MB holds ThreeLayerConvNet's
# float32 7x7 layer for a batch of 50 (30.5 MB): measured at one thread (CPU time, min and
# median of 40 interleaved steps, two runs) its training step took 4-7% less than with 16 MB.
WHOLE_BATCH_COLUMNS_BYTES = 32 * 1024 * 1024
# Scratch buffers up to this size are kept between calls (see _flat_buffer).
WORKSPACE_KEEP_BYTES = 64 * 1024 * 1024
# The rule for the fused path (see _fused): a layer runs fused when its filters have at
# most this many taps (C*HH*WW rows of columns), the compiled kernels are in use and a BLAS
# for them was found (course_lib.im2col.fused_conv_available). Fused means one compiled call
# per pass in which each thread takes one image at a time, unrolls it into columns that
# stay in its cache, and runs that image's products (forward; dW, dcols and col2im
# backward) on them at once, with BLAS at one thread (the float32 forward product: the
# extension's AVX2 kernel where the CPU has it); no Python per chunk, no column matrix of
# the batch streamed through memory. With few rows the chunked path's GEMMs are skinny and
# bound by that streaming. Measured on benchmarks.bench_conv's layers, alternated with the
# chunked path in one process: the 3x3/2 layer (27 rows) ran faster fused in float32 at 1
# and 2 threads (64-81% of the GEMM rate against 46-51% at 2 threads, 75-78% against 63-71%
# at 1), in float64 as fast or faster in three of four comparisons and slower once (8.6 ms
# against 7.6 ms at 2 threads under load). The 7x7 layer (147 rows) ran about as fast
# either way and the deep 3x3 layer (576 rows) somewhat faster fused in a few runs, too few
# to move them: they stay on the chunked path.
FUSED_MAX_ROWS = 64

_T = TypeVar("_T")
# (first image, count) of one chunk
Chunk = tuple[int, int]
# What a forward pass left in the workspace: (token, chunks, columns_home(), backend)
KeptColumns = tuple[object, frozenset[Chunk], str | None, str]
ConvCache = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int], KeptColumns | None]
PoolCache = tuple[tuple[int, ...], np.dtype, np.ndarray]


def _param(params: Mapping[str, Any], key: str, what: str, low: int) -> int:
    if key not in params:
        raise ValueError(f"{what} needs the key {key!r}; got keys {sorted(params)}")
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{what}[{key!r}] must be an integer >= {low}; got {value!r}")
    return int(value)


def _chunk_threads() -> int:
    """Threads that each run whole chunks (im2col, one-thread GEMM, layout moves), or 1.

    Every BLAS call and parallel kernel is a point where all threads must meet, and the
    layout moves around the GEMMs hardly speed up with a second thread. Giving each thread
    whole chunks, with BLAS on one thread, leaves one meeting per layer call. That needs the
    compiled kernels (they release the GIL) and threadpoolctl (to hold BLAS at one thread).
    """
    controllers = _blas_controllers()
    if _im2col.BACKEND != "cython" or controllers is None:
        return 1
    blas_threads: int = min(blas.num_threads for blas in controllers)
    return max(1, min(_im2col._im2col_cython.max_threads(), blas_threads))


def _blas_controllers() -> tuple[Any, ...] | None:
    """threadpoolctl's handles on the loaded BLAS libraries (None if there are none)."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas = ()
        else:
            _blas = tuple(lib for lib in ThreadpoolController().lib_controllers
                          if lib.user_api == "blas")
    return _blas or None


_blas: tuple[Any, ...] | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_split_lock = threading.Lock()


def _run_chunk_workers(workers: Sequence[Callable[[], _T]]) -> list[_T]:
    """Run the callables ``workers`` at once (the first on this thread), BLAS on one thread each.

    Returns their results in order. BLAS's thread count is process-wide: another thread
    calling BLAS meanwhile also gets one thread, and it is restored when all have finished.
    Calls from several threads take turns, so that none restores a count another one set.
    """
    with _split_lock:
        return _run_chunk_workers_locked(workers)


def _run_chunk_workers_locked(workers: Sequence[Callable[[], _T]]) -> list[_T]:
    global _pool, _pool_size
    if _pool is None or _pool_size < len(workers) - 1:
        _pool_size = len(workers) - 1
        _pool = ThreadPoolExecutor(max_workers=_pool_size, thread_name_prefix="course_lib-conv")
    saved = [(blas, blas.num_threads) for blas in _blas_controllers() or ()]
    for blas, _ in saved:
        blas.set_num_threads(1)
    try:
        futures = [_pool.submit(work) for work in workers[1:]]
        try:
            first = workers[0]()
        finally:
            wait(futures)
        return [first] + [future.result() for future in futures]
    finally:
        for blas, threads in saved:
            blas.set_num_threads(threads)


def _split_batch(num_images: int, column_bytes_per_image: int, threads: int) -> list[Chunk]:
    """(first image, count) of about equal chunks; as many as a multiple of ``threads``."""
    if num_images == 0:
        return []
    if threads > 1 or (_im2col.BACKEND == "cython"
                       and _im2col._im2col_cython.max_threads() == 1):
        chunk_bytes = SINGLE_THREAD_CHUNK_BYTES
    else:
        chunk_bytes = COLUMN_CHUNK_BYTES
    largest = max(1, min(num_images, chunk_bytes // max(1, column_bytes_per_image)))
    least = CHUNKS_PER_THREAD * threads if threads > 1 else 1
    num_chunks = -(-max(least, -(-num_images // largest)) // threads) * threads
    num_chunks = max(1, min(num_images, num_chunks))
    bounds = [num_images * k // num_chunks for k in range(num_chunks + 1)]
    return [(first, end - first) for first, end in zip(bounds, bounds[1:])]


def clear_workspace() -> None:
    """Free the scratch buffers this thread keeps between calls (up to a few times 64 MB)."""
    _workspace.__dict__.clear()


_workspace = threading.local()


def _flat_buffer(name: str, size: int, dtype: np.dtype) -> np.ndarray:
    """Scratch memory reused across calls (per thread); chunks use C-contiguous prefixes.

    Fresh multi-megabyte allocations cost page faults on every call, which on some
    machines take as long as the arithmetic; keeping the buffers avoids that.
    """
    if size * np.dtype(dtype).itemsize > WORKSPACE_KEEP_BYTES:
        return np.empty(size, dtype)
    buffers = _workspace.__dict__.setdefault("buffers", {})
    buffer: np.ndarray | None = buffers.get((name, np.dtype(dtype)))
    if buffer is None or buffer.size < size:
        buffer = buffers[(name, np.dtype(dtype))] = np.empty(size, dtype)
    return buffer[:size]


class _ConvChunks:
    """One conv layer call cut into image chunks, and the scratch buffers to run them.

    Two column layouts (see ``course_lib.im2col.im2col_into``):

    - stacked, one (C*HH*WW + 1, out_h*out_w) matrix per image, when output planes have
      at least ``STACKED_MIN_PIXELS`` pixels. The extra last row is all ones, so the bias
      rides in the GEMMs as an extra column of W: one GEMM per image then reads and
      writes the NCHW arrays in place, ``out[n] = [W b] @ cols[n]``, ``[dW db] +=
      dout[n] @ cols[n].T``, ``dcols[n] = W.T @ dout[n]``, with no other pass over them.
    - flat, (C*HH*WW, count*out_h*out_w) for the whole chunk, for small planes, whose
      per-image GEMMs would be too thin for BLAS. The GEMM's (F, count*out_h*out_w)
      product is then moved to and from NCHW.

    ``threads`` workers take chunks from a shared queue; worker k uses the buffers named
    with k (kept by the calling thread, see :func:`_flat_buffer`). With one worker the
    kernels and BLAS use every thread; with several, each worker runs on one thread.
    The bias ``b`` is needed by the forward pass only; the backward pass runs the chunks
    in reverse (``order=-1``).
    """

    def __init__(self, x: np.ndarray, w: np.ndarray, pad: int, stride: int, b: np.ndarray | None = None,
                 order: int = 1) -> None:
        self.x, self.pad, self.stride, self.b = x, pad, stride, b
        self.num_filters, _, self.filter_h, self.filter_w = w.shape
        self.w_rows = w.reshape(self.num_filters, -1)
        out_h, out_w = conv_output_shape(x.shape, self.filter_h, self.filter_w, pad, stride)
        self.out_shape = (x.shape[0], self.num_filters, out_h, out_w)
        self.pixels = out_h * out_w
        self.stacked = self.pixels >= STACKED_MIN_PIXELS
        # [W b], for the forward pass's GEMMs against the stacked columns' ones row
        self.w_and_b = np.column_stack((self.w_rows, b)) if self.stacked and b is not None \
            else None
        column_bytes = self.w_rows.shape[1] * self.pixels * x.itemsize
        split_from = STACKED_CHUNK_THREADS_MIN_BYTES if self.stacked else CHUNK_THREADS_MIN_BYTES
        self.threads = _chunk_threads() if column_bytes * x.shape[0] >= split_from else 1
        self.chunks = _split_batch(x.shape[0], column_bytes, self.threads)[::order]
        self.threads = max(1, min(self.threads, len(self.chunks)))
        self.kernel_threads = 1 if self.threads > 1 else 0
        largest = max((count for _, count in self.chunks), default=1)
        names: tuple[str, ...]
        if order > 0:
            names = ("cols",) if self.stacked else ("cols", "product")
        else:
            names = ("cols", "dcols", "wgrads" if self.stacked else "product")
        # Stacked columns of a small enough layer go into one buffer for the whole batch,
        # so that the backward pass can reuse every chunk's columns, not only the last.
        self.whole_batch_columns = self.stacked and \
            math.prod(self._shape("cols", x.shape[0])) * x.itemsize <= WHOLE_BATCH_COLUMNS_BYTES
        # taken here, on the calling thread, whose workspace keeps them
        self._flat: dict[tuple[str, int | str], np.ndarray] = {(name, worker): _flat_buffer(f"{name}{worker}",
                                                   math.prod(self._shape(name, largest)),
                                                   x.dtype)
                      for name in names for worker in range(self.threads)
                      if not (name == "cols" and self.whole_batch_columns)}
        if self.whole_batch_columns:
            self._flat["cols", "all"] = _flat_buffer(
                "cols-all", math.prod(self._shape("cols", x.shape[0])), x.dtype)

    def _shape(self, name: str, count: int) -> tuple[int, ...]:
        rows = self.w_rows.shape[1]
        if self.stacked:
            if name == "dcols":
                return (count, rows, self.pixels)
            return (count, self.num_filters, rows + 1) if name == "wgrads" else \
                (count, rows + 1, self.pixels)
        return (self.num_filters if name == "product" else rows, count * self.pixels)

    def columns_home(self) -> str | None:
        """Where columns outlive this call: "whole batch", "worker 0" or None.

        "whole batch": every chunk's columns, in one buffer. "worker 0": with one worker,
        the last chunk's, in its buffer. With several workers, which buffer holds which
        chunk is down to timing, so none count as kept.
        """
        if self.whole_batch_columns:
            home, buffer = "whole batch", self._flat["cols", "all"]
        elif self.threads == 1:
            home, buffer = "worker 0", self._flat["cols", 0]
        else:
            return None
        return home if buffer.nbytes <= WORKSPACE_KEEP_BYTES else None

    def kept_chunks(self) -> frozenset[Chunk]:
        """The chunks whose columns are still in the workspace after a forward pass."""
        home = self.columns_home()
        if home is None:
            return frozenset()
        return frozenset(self.chunks if home == "whole batch" else self.chunks[-1:])

    def buffer(self, name: str, worker: int, count: int) -> np.ndarray:
        """Worker's scratch array ``name`` ("cols", "dcols", "product", "wgrads") for ``count`` images."""
        shape = self._shape(name, count)
        return self._flat[(name, worker)][:math.prod(shape)].reshape(shape)

    def chunk_columns(self, worker: int, first: int, count: int) -> np.ndarray:
        """Where the columns of images ``first ..`` go (or are, if kept from the forward pass)."""
        if self.whole_batch_columns:
            return self._flat["cols", "all"].reshape(self._shape("cols", self.x.shape[0]))[
                first:first + count]
        return self.buffer("cols", worker, count)

    def columns(self, worker: int, first: int, count: int) -> np.ndarray:
        """im2col of the chunk into its columns buffer (plus the ones row if stacked)."""
        cols = self.chunk_columns(worker, first, count)
        patches = cols
        if self.stacked:
            patches = cols[:, :-1]
            cols[:, -1] = 1
        _im2col.im2col_into(self.x, patches, first, self.filter_h, self.filter_w, self.pad,
                            self.stride, self.kernel_threads)
        return cols

    def images(self, batch: np.ndarray, first: int, count: int) -> np.ndarray:
        """Images ``first ..`` of an (N, F, out_h, out_w) array as (count, F, out_h*out_w)."""
        return batch[first:first + count].reshape(count, self.num_filters, self.pixels)

    def forward(self, worker: int, first: int, count: int, out: np.ndarray) -> None:
        """out[first : first+count] = conv of those images, bias included."""
        cols = self.columns(worker, first, count)
        if self.stacked:
            assert self.w_and_b is not None, "the forward pass needs b"
            np.matmul(self.w_and_b, cols, out=self.images(out, first, count))
        else:
            assert self.b is not None, "the forward pass needs b"
            product = self.buffer("product", worker, count)
            np.dot(self.w_rows, cols, out=product)
            _im2col.columns_to_images(product, self.b, out, first, self.kernel_threads)

    def backward(self, worker: int, first: int, count: int, dout: np.ndarray, cols: np.ndarray,
                 dx: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Write dx of the chunk (unless dx is None); return its (dW as (F, C*HH*WW), db)
        contributions."""
        if self.stacked:
            grad = self.images(dout, first, count)
            per_image = self.buffer("wgrads", worker, count)
            np.matmul(grad, cols.transpose(0, 2, 1), out=per_image)  # [dW db] of each image
            dw_and_db = per_image.sum(axis=0)
            dw_rows, db = dw_and_db[:, :-1], dw_and_db[:, -1]
        else:
            grad = self.buffer("product", worker, count)  # dout of the chunk as (F, columns)
            _im2col.images_to_columns(dout, grad, first, self.kernel_threads)
            db = grad.sum(axis=1)
            dw_rows = grad @ cols.T
        if dx is not None:
            dcols = self.buffer("dcols", worker, count)
            if self.stacked:
                np.matmul(self.w_rows.T, grad, out=dcols)
            else:
                np.dot(self.w_rows.T, grad, out=dcols)
            _im2col.col2im_into(dcols, dx, first, self.filter_h, self.filter_w, self.pad,
                                self.stride, self.kernel_threads)
        return dw_rows, db

    def run(self, work: Callable[[int, Iterator[Chunk]], _T]) -> list[_T]:
        """Results of ``work(worker, queue)`` for every worker; queue yields (first, count)."""
        queue = iter(self.chunks)  # next() on a list iterator is atomic under the GIL
        if self.threads == 1:
            return [work(0, queue)]
        return _run_chunk_workers([functools.partial(work, k, queue) for k in range(self.threads)])


def _fused(w_shape: tuple[int, ...]) -> bool:
    """Whether a conv layer with filters of ``w_shape`` runs fused (see FUSED_MAX_ROWS)."""
    global _blas
    if math.prod(w_shape[1:]) > FUSED_MAX_ROWS or _im2col.BACKEND != "cython":
        return False
    first_look = _im2col._fused_gemm is None
    available = _im2col.fused_conv_available()
    if first_look and available:
        _blas = None  # the BLAS found may be a library loaded just now (SciPy's): look again
    return available


def _run_with_one_blas_thread(work: Callable[[], _T]) -> _T:
    """``work()`` with BLAS held at one thread: the fused kernels call it from every thread.

    As in :func:`_run_chunk_workers`, calls from several threads take turns, so that none
    restores a count another one set.
    """
    with _split_lock:
        saved = [(blas, blas.num_threads) for blas in _blas_controllers() or ()
                 if blas.num_threads != 1]
        for blas, _ in saved:
            blas.set_num_threads(1)
        try:
            return work()
        finally:
            for blas, threads in saved:
                blas.set_num_threads(threads)


def conv_forward_fast(x: ArrayLike, w: ArrayLike, b: ArrayLike,
                      conv_param: Mapping[str, Any]) -> tuple[NDArray[np.floating], ConvCache]:
    """Convolution layer forward pass (cross-correlation, like CS231n's conv_forward_naive).

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        Input batch.
    w : array_like, shape (F, C, HH, WW)
        Filters; HH != WW is fine.
    b : array_like, shape (F,)
        Biases.
    conv_param : dict
        ``stride`` (int >= 1) and ``pad`` (int >= 0, zeros on every side).

    Returns
    -------
    out : ndarray, shape (N, F, out_h, out_w), float32 if x is float32 else float64
        ``out_h = 1 + (H + 2*pad - HH) // stride``, ``out_w = 1 + (W + 2*pad - WW) // stride``.
    cache : tuple
        For :func:`conv_backward_fast`.

    Raises
    ------
    ValueError
        On missing or invalid ``conv_param`` entries, mismatched shapes, or when
        ``(H + 2*pad - HH)`` or ``(W + 2*pad - WW)`` is not a multiple of ``stride``.
    """
    xa, wa, ba, stride, pad = _conv_inputs(x, w, b, conv_param)
    if _fused(wa.shape):
        return _conv_forward_fused(xa, wa, ba, stride, pad), \
            (xa, wa, ba, {"stride": stride, "pad": pad}, None)
    layer = _ConvChunks(xa, wa, pad, stride, ba)
    out = np.empty(layer.out_shape, xa.dtype)

    def forward(worker: int, queue: Iterator[Chunk]) -> None:
        for first, count in queue:
            layer.forward(worker, first, count, out)

    _workspace.cols_owner = None
    layer.run(forward)
    # Some chunks' columns stay in the workspace (see _ConvChunks.kept_chunks); the
    # backward pass reuses them if no other layer has overwritten them by then. The token
    # identifies this very call.
    kept = layer.kept_chunks()
    kept_columns: KeptColumns | None = \
        (object(), kept, layer.columns_home(), _im2col.BACKEND) if kept else None
    _workspace.cols_owner = kept_columns
    return out, (xa, wa, ba, {"stride": stride, "pad": pad}, kept_columns)


def conv_backward_fast(dout: ArrayLike, cache: ConvCache, input_grad: bool = True
                       ) -> tuple[NDArray[np.floating] | None, NDArray[np.floating],
                                  NDArray[np.floating]]:
    """Convolution layer backward pass.

    Parameters
    ----------
    dout : array_like, shape (N, F, out_h, out_w)
        Upstream gradient.
    cache : tuple
        From :func:`conv_forward_fast`.
    input_grad : bool, default True
        False skips dx (a third of the matrix products and the col2im): the first layer of
        a network needs no gradient for the images, as in PyTorch when the input does not
        require a gradient.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None if not ``input_grad``
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
        All in the forward pass's compute dtype.
    """
    x, w, _, conv_param, kept_columns = cache
    if _fused(w.shape):
        return _conv_backward_fused(dout, x, w, conv_param["stride"], conv_param["pad"],
                                    input_grad)
    # last chunk first, so that the columns the forward pass left behind can be reused
    layer = _ConvChunks(x, w, conv_param["pad"], conv_param["stride"], order=-1)
    if np.shape(dout) != layer.out_shape:
        raise ValueError(f"conv_backward_fast: dout must have the forward output's shape "
                         f"{layer.out_shape}; got {np.shape(dout)}")
    grad_out = np.ascontiguousarray(dout, dtype=x.dtype)
    dx = np.empty_like(x) if input_grad else None
    reusable: frozenset[Chunk] = frozenset()
    owner: object = getattr(_workspace, "cols_owner", None)
    if (kept_columns is not None and owner is kept_columns
            and kept_columns[2:] == (layer.columns_home(), _im2col.BACKEND)):
        reusable = kept_columns[1]
    if not reusable.issuperset(layer.chunks):
        _workspace.cols_owner = None  # the columns buffers are about to be overwritten

    def backward(worker: int, queue: Iterator[Chunk]) -> tuple[np.ndarray, np.ndarray]:
        dw_rows = np.zeros_like(layer.w_rows)
        db = np.zeros(layer.num_filters, x.dtype)
        for first, count in queue:
            if (first, count) in reusable:
                cols = layer.chunk_columns(worker, first, count)
            else:
                cols = layer.columns(worker, first, count)
            dw_part, db_part = layer.backward(worker, first, count, grad_out, cols, dx)
            dw_rows += dw_part
            db += db_part
        return dw_rows, db

    parts = layer.run(backward)
    dw_rows, db = parts[0]
    for more_dw, more_db in parts[1:]:
        dw_rows += more_dw
        db += more_db
    return dx, dw_rows.reshape(w.shape), db


def _conv_forward_fused(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int
                        ) -> np.ndarray:
    """The forward pass in one compiled call (see FUSED_MAX_ROWS); bias in the GEMMs."""
    num_filters, _, filter_h, filter_w = w.shape
    out_h, out_w = conv_output_shape(x.shape, filter_h, filter_w, pad, stride)
    out = np.empty((x.shape[0], num_filters, out_h, out_w), x.dtype)
    w_and_b = np.column_stack((w.reshape(num_filters, -1), b))
    _run_with_one_blas_thread(functools.partial(
        _im2col._im2col_cython.conv_forward_fused, x, w_and_b, out, filter_h, filter_w, pad,
        stride))
    return out


def _conv_backward_fused(dout: ArrayLike, x: np.ndarray, w: np.ndarray, stride: int, pad: int,
                         input_grad: bool) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """The backward pass in one compiled call (see FUSED_MAX_ROWS): dx, dw, db."""
    num_filters, _, filter_h, filter_w = w.shape
    out_shape = (x.shape[0], num_filters) + conv_output_shape(x.shape, filter_h, filter_w, pad,
                                                             stride)
    if np.shape(dout) != out_shape:
        raise ValueError(f"conv_backward_fast: dout must have the forward output's shape "
                         f"{out_shape}; got {np.shape(dout)}")
    grad_out = np.ascontiguousarray(dout, dtype=x.dtype)
    w_rows = w.reshape(num_filters, -1)
    dw_and_db = np.empty((num_filters, w_rows.shape[1] + 1), x.dtype)
    dx = np.empty_like(x) if input_grad else None
    _run_with_one_blas_thread(functools.partial(
        _im2col._im2col_cython.conv_backward_fused, x, grad_out, w_rows, dw_and_db, dx,
        filter_h, filter_w, pad, stride))
    return dx, np.ascontiguousarray(dw_and_db[:, :-1]).reshape(w.shape), dw_and_db[:, -1].copy()


def _conv_inputs(x: ArrayLike, w: ArrayLike, b: ArrayLike, conv_param: Mapping[str, Any]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Validate and convert the conv arguments; returns contiguous arrays of one dtype."""
    stride = _param(conv_param, "stride", "conv_param", 1)
    pad = _param(conv_param, "pad", "conv_param", 0)
    dtype = compute_dtype(x)
    xa = np.ascontiguousarray(x, dtype=dtype)
    wa = np.ascontiguousarray(w, dtype=dtype)
    ba = np.ascontiguousarray(b, dtype=dtype)
    if xa.ndim != 4:
        raise ValueError(f"conv: x must have shape (N, C, H, W); got {xa.shape}")
    if wa.ndim != 4 or wa.shape[1] != xa.shape[1]:
        raise ValueError(f"conv: w must have shape (F, C, HH, WW) with C = {xa.shape[1]} "
                         f"(x's channels); got {wa.shape}")
    if ba.shape != (wa.shape[0],):
        raise ValueError(f"conv: b must have shape (F,) = ({wa.shape[0]},); got {ba.shape}")
    return xa, wa, ba, stride, pad


# ---------------------------------------------------------------------------------------
# Max pooling

def max_pool_forward_fast(x: ArrayLike, pool_param: Mapping[str, Any]
                          ) -> tuple[NDArray[np.floating], PoolCache]:
    """Max pooling forward pass.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    pool_param : dict
        ``pool_height``, ``pool_width`` and ``stride`` (ints >= 1). Windows may overlap
        (stride < window) and need not be square.

    Returns
    -------
    out : ndarray, shape (N, C, out_h, out_w), float32 if x is float32 else float64
        ``out_h = 1 + (H - pool_height) // stride``, likewise out_w.
    cache : tuple
        For :func:`max_pool_backward_fast` (holds where each maximum was, not x).

    Raises
    ------
    ValueError
        On missing or invalid ``pool_param`` entries, a window larger than the input, or
        when ``H - pool_height`` or ``W - pool_width`` is not a multiple of ``stride``.
    """
    pool_h = _param(pool_param, "pool_height", "pool_param", 1)
    pool_w = _param(pool_param, "pool_width", "pool_param", 1)
    stride = _param(pool_param, "stride", "pool_param", 1)
    xa = np.ascontiguousarray(x, dtype=compute_dtype(x))
    if xa.ndim != 4:
        raise ValueError(f"max pool: x must have shape (N, C, H, W); got {xa.shape}")
    num_images, channels, height, width = xa.shape
    out_h = sliding_output_size(height, pool_h, 0, stride, layer="max pool", dimension="height",
                                size_name="H", field_name="pool_height", pad_name=None)
    out_w = sliding_output_size(width, pool_w, 0, stride, layer="max pool", dimension="width",
                                size_name="W", field_name="pool_width", pad_name=None)
    out = np.empty((num_images, channels, out_h, out_w), xa.dtype)
    # argmax[n, c, oh, ow] = h * W + w of the window's (first) maximum in plane (n, c)
    argmax = np.empty(out.shape, np.intc)
    if xa.size and _im2col.BACKEND == "cython":
        _im2col._im2col_cython.max_pool_forward(xa, out, argmax, pool_h, pool_w, stride)
    elif xa.size:
        _numpy_max_pool_forward(xa, out, argmax, pool_h, pool_w, stride)
    return out, (xa.shape, xa.dtype, argmax)


def max_pool_backward_fast(dout: ArrayLike, cache: PoolCache) -> NDArray[np.floating]:
    """Max pooling backward pass.

    Parameters
    ----------
    dout : array_like, shape (N, C, out_h, out_w)
    cache : tuple
        From :func:`max_pool_forward_fast`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Each window's gradient lands on its first maximum; overlapping windows add up.
    """
    x_shape, dtype, argmax = cache
    if np.shape(dout) != argmax.shape:
        raise ValueError(f"max_pool_backward_fast: dout must have the forward output's shape "
                         f"{argmax.shape}; got {np.shape(dout)}")
    grad_out = np.ascontiguousarray(dout, dtype=dtype)
    if grad_out.size == 0:
        return np.zeros(x_shape, dtype)
    if _im2col.BACKEND == "cython":
        dx = np.empty(x_shape, dtype)
        _im2col._im2col_cython.max_pool_backward(grad_out, argmax, dx)
        return dx
    num_planes = x_shape[0] * x_shape[1]
    plane_size = x_shape[2] * x_shape[3]
    flat_index = argmax.reshape(num_planes, argmax.shape[2] * argmax.shape[3]) + \
        (np.arange(num_planes) * plane_size)[:, None]
    summed = np.bincount(flat_index.ravel(), weights=grad_out.ravel(),
                         minlength=num_planes * plane_size)
    return summed.astype(dtype, copy=False).reshape(x_shape)


def _numpy_max_pool_forward(x: np.ndarray, out: np.ndarray, argmax: np.ndarray, pool_h: int, pool_w: int,
                            stride: int) -> None:
    _, _, _, width = x.shape
    _, _, out_h, out_w = out.shape
    s_n, s_c, s_h, s_w = x.strides
    windows = as_strided(x, shape=out.shape + (pool_h, pool_w),
                         strides=(s_n, s_c, s_h * stride, s_w * stride, s_h, s_w),
                         writeable=False).reshape(out.shape + (pool_h * pool_w,))
    in_window = windows.argmax(axis=-1)  # first maximum in row-major window order
    out[...] = np.take_along_axis(windows, in_window[..., None], axis=-1)[..., 0]
    rows = np.arange(out_h)[:, None] * stride + in_window // pool_w
    cols = np.arange(out_w)[None, :] * stride + in_window % pool_w
    argmax[...] = rows * width + cols

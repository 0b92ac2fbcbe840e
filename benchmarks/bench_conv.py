"""Fast convolution (forward + backward, float64 and float32) against baselines measured in the same run.

For each layer shape the table gives:

- GEMM: the three matrix products a conv layer cannot avoid (``out = W @ cols``,
  ``dW = dout @ cols.T``, ``dcols = W.T @ dout``) with ``np.dot`` on preallocated arrays of
  the equivalent shapes; ``gemm/fast`` is the share of that BLAS throughput the whole
  layer reaches (target >= 70%).
- naive: ``benchmarks.naive_layers`` loops, timed on a few images and scaled per image to
  the full batch (target: fast >= 100x faster).
- torch: ``torch.nn.functional.conv2d`` forward + autograd backward on the CPU with
  ``torch.set_num_threads`` equal to the BLAS thread count (target: fast is faster);
  skipped, with a message, when torch is not installed.

Times are the best over ``--repeats`` interleaved rounds; in each round every method runs
after a pause and one untimed call, then back to back for at least 0.1 s (see
``benchmarks.timing.interleaved_best``: without the pause, OpenBLAS threads left spinning
by the GEMM baseline would slow down whatever runs next). The machine is usually shared,
so run it twice and trust figures that agree. By default the table is printed twice: with
the BLAS thread count as found and with one thread. One thread is the steadier measure on a
busy machine, where every point at which two threads must meet can cost a time slice.
"""
import argparse
import contextlib
import os
import platform
import time

import numpy as np

from benchmarks.naive_layers import conv_backward_naive, conv_forward_naive
from benchmarks.timing import interleaved_best
from course_lib import im2col
from course_lib.fast_layers import conv_backward_fast, conv_forward_fast

# (label, x shape, w shape, stride, pad)
SHAPES = [
    ("notebook 3x3/2", (100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    ("notebook 7x7", (50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
    ("deep 3x3", (64, 64, 16, 16), (64, 64, 3, 3), 1, 1),
]


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def thread_pools():
    """(BLAS threads, description of the BLAS and OpenMP pools) via threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 1, "threadpoolctl not installed (assuming 1 BLAS thread)"
    pools = threadpool_info()
    blas = [p for p in pools if p["user_api"] == "blas"]
    words = [f"{p['internal_api']} {p.get('version')} {p.get('architecture', '')} "
             f"{p['num_threads']} threads ({os.path.basename(p['filepath'])})" for p in pools]
    return (blas[0]["num_threads"] if blas else 1), "; ".join(words)


def load_torch(threads):
    """torch with ``threads`` intra-op threads, or None (with a printed reason)."""
    try:
        import torch
    except ImportError:
        print("torch is not installed: skipping the PyTorch comparison "
              "(pip install -r benchmarks/requirements.txt to include it)")
        return None
    torch.set_num_threads(threads)
    return torch


def print_machine(blas_threads, pools):
    coretype = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                if k in os.environ}
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}; numpy {np.__version__}")
    print(f"thread pools: {pools}")
    print(f"im2col backend: {im2col.BACKEND}; BLAS threads: {blas_threads}; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"
          + (f"; {coretype}" if coretype else ""))
    try:
        print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    except OSError:
        pass


def conv_case(x_shape, w_shape, stride, pad, rng, dtype=np.float64):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    out_h = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
    out_w = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
    dout = rng.standard_normal((x_shape[0], w_shape[0], out_h, out_w)).astype(dtype)
    return x, w, b, dout


def gemm_baseline(x_shape, w_shape, out_pixels, rng, dtype=np.float64):
    """The three conv GEMMs on preallocated arrays; returns a callable running them."""
    rows = w_shape[1] * w_shape[2] * w_shape[3]
    columns = x_shape[0] * out_pixels
    w_rows = rng.standard_normal((w_shape[0], rows)).astype(dtype)
    cols = rng.standard_normal((rows, columns)).astype(dtype)
    dout = rng.standard_normal((w_shape[0], columns)).astype(dtype)
    out, dw, dcols = np.empty_like(dout), np.empty_like(w_rows), np.empty_like(cols)

    def run():
        np.dot(w_rows, cols, out=out)
        np.dot(dout, cols.T, out=dw)
        np.dot(w_rows.T, dout, out=dcols)
    return run


def torch_conv(torch, x, w, b, dout, stride, pad):
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    gt = torch.from_numpy(dout)

    def run():
        for t in (xt, wt, bt):
            t.grad = None
        out = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)
        out.backward(gt)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_conv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7,
                        help="rounds; each times every method for at least 0.1 s")
    parser.add_argument("--settle", type=float, default=0.2,
                        help="pause (s) before each method's calls in a round")
    parser.add_argument("--naive-images", type=int, default=2,
                        help="images the naive loops run on (scaled per image to the batch)")
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"],
                        choices=["float64", "float32"], help="one table per dtype")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="run once per thread count, limiting BLAS, OpenMP and torch to it "
                             "(default: the BLAS thread count as found, then 1)")
    args = parser.parse_args(argv)
    found, _ = thread_pools()
    for threads in args.threads or sorted({found, 1}, reverse=True):
        for dtype in args.dtypes:
            print(f"\n--- {threads} thread(s), {dtype} ---")
            with limited_threads(threads):
                run(args, np.dtype(dtype))


def limited_threads(threads):
    """Context limiting BLAS and OpenMP pools to ``threads`` (no-op for None)."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=threads)


def run(args, dtype=np.float64):
    blas_threads, pools = thread_pools()
    torch = load_torch(blas_threads)
    print_machine(blas_threads, pools)
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    header = (f"{'layer':16} {'x':>16} {'w':>15} {'s/p':>4} | {'GEMM ms':>8} {'fast ms':>8} "
              f"{'gemm/fast':>9} | {'naive s*':>8} {'speedup':>8} | {'torch ms':>8} "
              f"{'torch/fast':>10}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for label, x_shape, w_shape, stride, pad in SHAPES:
        x, w, b, dout = conv_case(x_shape, w_shape, stride, pad, rng, dtype)
        conv_param = {"stride": stride, "pad": pad}
        gemm = gemm_baseline(x_shape, w_shape, dout.shape[2] * dout.shape[3], rng, dtype)

        def fast():
            _, cache = conv_forward_fast(x, w, b, conv_param)
            conv_backward_fast(dout, cache)
        candidates = {"gemm": gemm, "fast": fast}
        if torch is not None:
            candidates["torch"] = torch_conv(torch, x, w, b, dout, stride, pad)
        best = interleaved_best(candidates, args.repeats, settle=args.settle)

        few = min(args.naive_images, x_shape[0])
        naive_cache = conv_forward_naive(x[:few], w, b, conv_param)[1]
        start = time.perf_counter()
        conv_forward_naive(x[:few], w, b, conv_param)
        conv_backward_naive(dout[:few], naive_cache)
        naive = (time.perf_counter() - start) / few * x_shape[0]

        torch_cells = (f"{best['torch'] * 1e3:8.2f} {best['torch'] / best['fast']:9.2f}x"
                       if torch is not None else f"{'-':>8} {'-':>10}")
        print(f"{label:16} {str(x_shape):>16} {str(w_shape):>15} {f'{stride}/{pad}':>4} | "
              f"{best['gemm'] * 1e3:8.2f} {best['fast'] * 1e3:8.2f} "
              f"{best['gemm'] / best['fast']:8.0%} | {naive:8.2f} "
              f"{naive / best['fast']:7.0f}x | {torch_cells}", flush=True)
    print(f"targets: gemm/fast >= 70%, speedup >= 100x, torch/fast > 1. "
          f"* naive timed on {args.naive_images} images and scaled per image to the batch.")


if __name__ == "__main__":
    main()

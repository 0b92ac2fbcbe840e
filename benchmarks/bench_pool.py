"""Fast max pooling (float64) against PyTorch's CPU max_pool2d measured in the same run.

Forward and backward are timed separately (best of ``--repeats`` interleaved runs), with
torch limited to the BLAS thread count (``torch.set_num_threads``). Target: fast within
2x of torch (``fast/torch <= 2``). The naive loops are timed on a few images and scaled
per image. Skips torch, with a message, when it is not installed.
"""
import argparse
import time

import numpy as np

from benchmarks.bench_conv import limited_threads, load_torch, print_machine, thread_pools
from benchmarks.naive_layers import max_pool_backward_naive, max_pool_forward_naive
from benchmarks.timing import best_time
from course_lib.fast_layers import max_pool_backward_fast, max_pool_forward_fast

# (label, x shape, pool_height, pool_width, stride)
SHAPES = [
    ("2x2/2", (100, 32, 32, 32), 2, 2, 2),
    ("3x3/2 overlap", (100, 32, 33, 33), 3, 3, 2),
]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_pool", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per method")
    parser.add_argument("--naive-images", type=int, default=2,
                        help="images the naive loops run on (scaled per image to the batch)")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS, OpenMP and torch to this many threads")
    args = parser.parse_args(argv)
    with limited_threads(args.threads):
        run(args)


def run(args):
    blas_threads, pools = thread_pools()
    torch = load_torch(blas_threads)
    print_machine(blas_threads, pools)
    header = (f"{'pool':14} {'x':>18} | {'fast fwd':>9} {'torch fwd':>9} {'fast/torch':>10} | "
              f"{'fast bwd':>9} {'torch bwd':>9} {'fast/torch':>10} | {'naive s*':>8} {'speedup':>8}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for label, x_shape, pool_h, pool_w, stride in SHAPES:
        x = rng.standard_normal(x_shape)
        pool_param = {"pool_height": pool_h, "pool_width": pool_w, "stride": stride}
        out, cache = max_pool_forward_fast(x, pool_param)
        dout = rng.standard_normal(out.shape)
        runs = {"fast fwd": lambda: max_pool_forward_fast(x, pool_param),
                "fast bwd": lambda: max_pool_backward_fast(dout, cache)}
        if torch is not None:
            xt = torch.from_numpy(x)
            xg = torch.from_numpy(x).requires_grad_()
            out_t = torch.nn.functional.max_pool2d(xg, (pool_h, pool_w), stride)
            gt = torch.from_numpy(dout)

            def torch_forward():
                with torch.no_grad():
                    torch.nn.functional.max_pool2d(xt, (pool_h, pool_w), stride)

            def torch_backward():  # only the backward kernel: the graph is kept
                torch.autograd.grad(out_t, xg, gt, retain_graph=True)
            runs.update({"torch fwd": torch_forward, "torch bwd": torch_backward})
        for run_once in runs.values():
            run_once()
        best = {name: float("inf") for name in runs}
        for _ in range(args.repeats):
            for name, run_once in runs.items():
                best[name] = min(best[name], best_time(run_once, 1))

        few = min(args.naive_images, x_shape[0])
        start = time.perf_counter()
        _, naive_cache = max_pool_forward_naive(x[:few], pool_param)
        max_pool_backward_naive(dout[:few], naive_cache)
        naive = (time.perf_counter() - start) / few * x_shape[0]

        def cells(kind):
            fast = best[f"fast {kind}"]
            if torch is None:
                return f"{fast * 1e3:9.2f} {'-':>9} {'-':>10}"
            return f"{fast * 1e3:9.2f} {best[f'torch {kind}'] * 1e3:9.2f} " \
                   f"{fast / best[f'torch {kind}']:9.2f}x"
        total_fast = best["fast fwd"] + best["fast bwd"]
        print(f"{label:14} {str(x_shape):>18} | {cells('fwd')} | {cells('bwd')} | "
              f"{naive:8.2f} {naive / total_fast:7.0f}x", flush=True)
    print(f"times in ms; target fast/torch <= 2. * naive timed on {args.naive_images} images and "
          "scaled per image to the batch; speedup is over fast forward + backward.")


if __name__ == "__main__":
    main()

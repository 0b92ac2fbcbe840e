"""Assignment 2, part 2: ConvNet training speed against PyTorch, and results on CIFAR-10.

1. **Training step** (float32): one step of ``ThreeLayerConvNet`` (the reference solution)
   on a batch of 50 CIFAR-sized images: forward, backward and a plain SGD update of every
   parameter, against the same network, batch and update in PyTorch on the CPU with
   ``torch.set_num_threads`` equal to the BLAS thread count (target: at most 1.5x PyTorch's
   time). Skipped, with a message, without torch.
2. **Batch-norm backward**: ``batchnorm_backward_alt`` against ``batchnorm_backward`` on a
   (200, 1000) batch (target: at least 1.2x faster).
3. **CIFAR-10** (``--train``; needs CIFAR-10 in ``$COURSE_DATA_DIR``): ``ThreeLayerConvNet``
   for one epoch on the 49 000 training images (target: at least 45% training and
   validation accuracy, an epoch in a few minutes on 2 cores), then ``DeepConvNet`` (below,
   the reference for the notebook's open-ended section)
   (``--epochs``, default 2; target: at least 65% validation accuracy within 10 minutes
   of training on 2 cores).

Times are best-of interleaved rounds (``benchmarks.timing.interleaved_best``); on a shared
machine run it twice and trust figures that agree.

    python -m benchmarks convnet
    python -m benchmarks.bench_convnet --train
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_conv import cpu_model, limited_threads, load_torch, thread_pools
from benchmarks.timing import interleaved_best

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT_DIR = REPO_ROOT / "assignments" / "source" / "assignment2"


def _reference():
    """The reference ``nnfs`` package of assignment 2."""
    if str(ASSIGNMENT_DIR) not in sys.path:
        sys.path.insert(0, str(ASSIGNMENT_DIR))
    import nnfs.classifiers.cnn as cnn
    import nnfs.normalization as normalization
    return cnn, normalization


# -- 1. one training step ---------------------------------------------------------------
def numpy_step(net, X, y, learning_rate=1e-3):
    """Forward, backward and an SGD update of ``net`` (a ThreeLayerConvNet)."""
    def step():
        _, grads = net.loss(X, y)
        for name, grad in grads.items():
            net.params[name] -= learning_rate * grad
    return step


def torch_step(torch, net, X, y, learning_rate=1e-3):
    """The same network, initial weights, batch and SGD update in PyTorch."""
    nn = torch.nn
    conv = nn.Conv2d(3, 32, 7, padding=3)
    fc1, fc2 = nn.Linear(32 * 16 * 16, 100), nn.Linear(100, 10)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(net.params["W1"]))
        fc1.weight.copy_(torch.from_numpy(net.params["W2"].T.copy()))
        fc2.weight.copy_(torch.from_numpy(net.params["W3"].T.copy()))
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), fc1, nn.ReLU(), fc2)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y)
    loss_function = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_function(model(inputs), labels).backward()
        optimizer.step()
    return step


def bench_step(args):
    cnn, _ = _reference()
    blas_threads, pools = thread_pools()
    torch = load_torch(blas_threads)
    print(f"machine: {cpu_model()}; {pools}")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3, 32, 32)).astype(np.float32)
    y = rng.integers(10, size=50)
    np.random.seed(0)
    net = cnn.ThreeLayerConvNet(weight_scale=1e-2)
    candidates = {"numpy": numpy_step(net, X, y)}
    if torch is not None:
        candidates["torch"] = torch_step(torch, net, X, y)
    best = interleaved_best(candidates, args.repeats, settle=args.settle)
    line = f"ThreeLayerConvNet training step, batch 50, float32, {blas_threads} thread(s): " \
           f"reference {best['numpy'] * 1e3:.1f} ms"
    if torch is not None:
        line += (f", PyTorch {best['torch'] * 1e3:.1f} ms, ratio {best['numpy'] / best['torch']:.2f}x "
                 f"(target <= 1.5x)")
    else:
        line += " (PyTorch not installed: pip install -r benchmarks/requirements.txt)"
    print(line, flush=True)
    return best


# -- 2. batch-norm backward ---------------------------------------------------------------
def bench_batchnorm(args):
    _, normalization = _reference()
    rng = np.random.default_rng(1)
    x = 3 * rng.standard_normal((200, 1000)) + 1
    gamma, beta, dout = rng.standard_normal(1000), rng.standard_normal(1000), rng.standard_normal((200, 1000))
    _, cache = normalization.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    best = interleaved_best({"graph": lambda: normalization.batchnorm_backward(dout, cache),
                             "alt": lambda: normalization.batchnorm_backward_alt(dout, cache)},
                            args.repeats, settle=0.0)
    print(f"batchnorm backward (200, 1000) float64: graph {best['graph'] * 1e3:.2f} ms, "
          f"simplified {best['alt'] * 1e3:.2f} ms, speed-up {best['graph'] / best['alt']:.2f}x "
          f"(target >= 1.2x)", flush=True)


# -- 3. CIFAR-10 ----------------------------------------------------------------------------
class DeepConvNet:
    """[conv 3x3 - spatial batchnorm - relu - 2x2 max pool] x K - affine - batchnorm - relu
    - affine - softmax, on the fast conv and pool layers and the reference batch norm.

    The reference answer of ``convolutional_networks.ipynb``'s open-ended section (the
    notebook's solution cell holds the same model).
    """

    def __init__(self, input_dim=(3, 32, 32), channels=(32, 64, 128), hidden_dim=256,
                 num_classes=10, reg=0.0, dtype=np.float32, seed=0):
        rng = np.random.default_rng(seed)
        self.reg, self.dtype, self.channels = reg, dtype, channels
        params = {}
        C, H, W = input_dim
        for k, F in enumerate(channels, start=1):
            params[f"W{k}"] = rng.normal(scale=np.sqrt(2.0 / (C * 9)), size=(F, C, 3, 3))
            params[f"b{k}"] = np.zeros(F)
            params[f"gamma{k}"], params[f"beta{k}"] = np.ones(F), np.zeros(F)
            C, H, W = F, H // 2, W // 2
        K = len(channels)
        params[f"W{K + 1}"] = rng.normal(scale=np.sqrt(2.0 / (C * H * W)), size=(C * H * W, hidden_dim))
        params[f"b{K + 1}"] = np.zeros(hidden_dim)
        params[f"gamma{K + 1}"], params[f"beta{K + 1}"] = np.ones(hidden_dim), np.zeros(hidden_dim)
        params[f"W{K + 2}"] = rng.normal(scale=np.sqrt(1.0 / hidden_dim), size=(hidden_dim, num_classes))
        params[f"b{K + 2}"] = np.zeros(num_classes)
        self.params = {name: value.astype(dtype) for name, value in params.items()}
        self.bn_params = [{"mode": "train"} for _ in range(K + 1)]

    def loss(self, X, y=None):
        from course_lib.fast_layers import (conv_backward_fast, conv_forward_fast,
                                            max_pool_backward_fast, max_pool_forward_fast)
        from nnfs.layers import (affine_backward, affine_forward, relu_backward, relu_forward,
                                 softmax_loss)
        from nnfs.normalization import (batchnorm_backward_alt, batchnorm_forward,
                                        spatial_batchnorm_backward, spatial_batchnorm_forward)
        X = X.astype(self.dtype, copy=False)
        for bn_param in self.bn_params:
            bn_param["mode"] = "test" if y is None else "train"
        p, K = self.params, len(self.channels)
        conv_param = {"stride": 1, "pad": 1}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        caches, h = [], X
        for k in range(1, K + 1):
            h, conv_cache = conv_forward_fast(h, p[f"W{k}"], p[f"b{k}"], conv_param)
            h, bn_cache = spatial_batchnorm_forward(h, p[f"gamma{k}"], p[f"beta{k}"], self.bn_params[k - 1])
            h, relu_cache = relu_forward(h)
            h, pool_cache = max_pool_forward_fast(h, pool_param)
            caches.append((conv_cache, bn_cache, relu_cache, pool_cache))
        h, fc_cache = affine_forward(h, p[f"W{K + 1}"], p[f"b{K + 1}"])
        h, bn_cache = batchnorm_forward(h, p[f"gamma{K + 1}"], p[f"beta{K + 1}"], self.bn_params[K])
        h, relu_cache = relu_forward(h)
        scores, out_cache = affine_forward(h, p[f"W{K + 2}"], p[f"b{K + 2}"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{K + 2}"], grads[f"b{K + 2}"] = affine_backward(dscores, out_cache)
        dh = relu_backward(dh, relu_cache)
        dh, grads[f"gamma{K + 1}"], grads[f"beta{K + 1}"] = batchnorm_backward_alt(dh, bn_cache)
        dh, grads[f"W{K + 1}"], grads[f"b{K + 1}"] = affine_backward(dh, fc_cache)
        for k in range(K, 0, -1):
            conv_cache, bn_cache, relu_cache, pool_cache = caches[k - 1]
            dh = max_pool_backward_fast(dh, pool_cache)
            dh = relu_backward(dh, relu_cache)
            dh, grads[f"gamma{k}"], grads[f"beta{k}"] = spatial_batchnorm_backward(dh, bn_cache)
            dh, grads[f"W{k}"], grads[f"b{k}"] = conv_backward_fast(dh, conv_cache)
        for k in range(1, K + 3):
            W = p[f"W{k}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{k}"] += self.reg * W
        return loss, grads


def bench_cifar(args):
    cnn, _ = _reference()
    from course_lib.datasets import get_cifar10_data
    from course_lib.datasets.errors import DatasetError
    from course_lib.solver import Solver
    try:   # source="cifar10": never the synthetic data
        data = get_cifar10_data(49000, 1000, 1000, layout="nchw", dtype=np.float32, source="cifar10")
    except DatasetError as exc:
        print(f"CIFAR-10 runs skipped: {exc}")
        return
    data = {key: data[key] for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")}

    np.random.seed(3)
    model = cnn.ThreeLayerConvNet(weight_scale=1e-2, hidden_dim=500, reg=1e-3)
    solver = Solver(model, data, num_epochs=1, batch_size=50, update_rule="adam",
                    optim_config={"learning_rate": 1e-3}, verbose=False, seed=0)
    start, cpu = time.perf_counter(), time.process_time()
    solver.train()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    train_acc = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=1000)
    val_acc = solver.check_accuracy(data["X_val"], data["y_val"])
    print(f"ThreeLayerConvNet, 1 epoch on 49000 images: {wall:.0f} s wall, {cpu:.0f} s CPU; "
          f"training accuracy {train_acc:.3f}, validation accuracy {val_acc:.3f} "
          f"(target >= 45% both, an epoch in a few minutes)", flush=True)

    model = DeepConvNet()
    solver = Solver(model, data, num_epochs=args.epochs, batch_size=100, update_rule="adam",
                    optim_config={"learning_rate": 2e-3}, lr_decay=0.7, verbose=False,
                    seed=0, num_train_samples=1000)
    start, cpu = time.perf_counter(), time.process_time()
    solver.train()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    val_acc = solver.check_accuracy(data["X_val"], data["y_val"])
    test_acc = solver.check_accuracy(data["X_test"], data["y_test"])
    print(f"DeepConvNet, {args.epochs} epochs: {wall:.0f} s wall, {cpu:.0f} s CPU; validation "
          f"accuracy {val_acc:.3f} (best {solver.best_val_acc:.3f}), test accuracy {test_acc:.3f} "
          f"(target >= 65% within 600 s on 2 cores); per-epoch validation "
          f"{[round(a, 3) for a in solver.val_acc_history]}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_convnet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--settle", type=float, default=0.2, help="pause (s) before each method")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="thread counts for the step comparison (default: as found, then 1)")
    parser.add_argument("--train", action="store_true", help="also train on CIFAR-10")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of DeepConvNet (--train)")
    args = parser.parse_args(argv)
    found, _ = thread_pools()
    for threads in args.threads or sorted({found, 1}, reverse=True):
        with limited_threads(threads):
            bench_step(args)
    bench_batchnorm(args)
    if args.train:
        bench_cifar(args)


if __name__ == "__main__":
    main()

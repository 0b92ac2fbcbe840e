"""Mutants of assignment 2, part 2 (conv and pool layers, batch normalisation, ThreeLayerConvNet).

Same format as :mod:`tests.mutants.assignment1`: text patches of a copy of
``assignments/source/assignment2/nnfs``. ``tests/test_assignment2_cnn_mutants.py`` runs
the hidden suite on each: a bug must fail at least the tests in ``must_fail``; a correct
variant must fail exactly those (usually none).

Degenerate submissions (every student function answers zeros, random values or its inputs)
come from the generic :mod:`tests.degenerate.generator`, as for every other assignment.
"""
from autograder.mutants import Mutant

CONV = "nnfs/conv_layers.py"
NORM = "nnfs/normalization.py"
CNN = "nnfs/classifiers/cnn.py"

# The hidden test files that exercise each module.
HIDDEN_FILES_FOR = {
    CONV: ["test_hidden_conv.py"],
    NORM: ["test_hidden_batchnorm.py"],
    CNN: ["test_hidden_cnn.py"],
}
HIDDEN_FILES = ["test_hidden_conv.py", "test_hidden_batchnorm.py", "test_hidden_cnn.py"]

BUGS = [
    # -- convolution --------------------------------------------------------------------
    Mutant("conv_forward_flipped_kernel", CONV,
           "out[n, :, i, j] = np.sum(w * window, axis=(1, 2, 3)) + b",
           "out[n, :, i, j] = np.sum(w[:, :, ::-1, ::-1] * window, axis=(1, 2, 3)) + b",
           ("test_conv_forward_geometries", "test_conv_is_a_cross_correlation")),
    Mutant("conv_backward_forgets_the_padding", CONV,
           "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode=\"constant\")\n"
           "    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, w, dout))\n",
           "    x_pad = x\n"
           "    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, w, dout))\n",
           ("test_conv_backward_geometries[x2x3x5x5-w4x3x3x3-s1-p1]",
            "test_conv_backward_numeric[x3x1x7x5-w2x1x3x1-s2-p2]")),
    Mutant("conv_backward_crops_the_wrong_border", CONV,
           "dx = dx_pad[:, :, pad:pad + H, pad:pad + W]",
           "dx = dx_pad[:, :, :H, :W]",
           ("test_conv_backward_geometries[x2x3x5x5-w4x3x3x3-s1-p1]",)),
    Mutant("conv_backward_ignores_the_stride", CONV,
           "                top, left = i * stride, j * stride\n"
           "                window = x_pad[n, :, top:top + HH, left:left + WW]      # (C, HH, WW)\n"
           "                upstream",
           "                top, left = i, j\n"
           "                window = x_pad[n, :, top:top + HH, left:left + WW]      # (C, HH, WW)\n"
           "                upstream",
           ("test_conv_backward_geometries[x1x2x6x8-w3x2x2x4-s2-p0]",
            "test_conv_backward_numeric[x1x2x6x8-w3x2x2x4-s2-p0]")),
    Mutant("conv_db_summed_over_the_wrong_axes", CONV,
           "db = np.sum(dout, axis=(0, 2, 3))",
           "db = np.sum(dout, axis=(1, 2, 3))",
           ("test_conv_backward_geometries", "test_conv_backward_numeric")),
    Mutant("conv_db_forgets_the_batch", CONV,
           "db = np.sum(dout, axis=(0, 2, 3))",
           "db = np.sum(dout[0], axis=(1, 2))",
           ("test_conv_backward_geometries[x2x3x5x5-w4x3x3x3-s1-p1]",)),
    # -- max pooling --------------------------------------------------------------------
    Mutant("max_pool_forward_ignores_the_stride", CONV,
           "            top, left = i * stride, j * stride\n"
           "            window = x[:, :, top:top + pool_h, left:left + pool_w]",
           "            top, left = i, j\n"
           "            window = x[:, :, top:top + pool_h, left:left + pool_w]",
           ("test_max_pool_forward_geometries[x2x3x4x4-2x2-s2]",)),
    Mutant("max_pool_gradient_to_every_element", CONV,
           "dx[n, c, top + r, left + s] += dout[n, c, i, j]",
           "dx[n, c, top:top + pool_h, left:left + pool_w] += dout[n, c, i, j]",
           ("test_max_pool_backward_geometries", "test_max_pool_backward_numeric")),
    Mutant("max_pool_overlapping_windows_overwrite", CONV,
           "dx[n, c, top + r, left + s] += dout[n, c, i, j]",
           "dx[n, c, top + r, left + s] = dout[n, c, i, j]",
           ("test_max_pool_backward_geometries[x1x2x7x7-3x3-s2]",
            "test_max_pool_backward_numeric[x2x1x5x6-2x3-s1]")),
    Mutant("max_pool_ties_to_the_last_maximum", CONV,
           "r, s = np.unravel_index(np.argmax(window), window.shape)",
           "r, s = np.unravel_index(window.size - 1 - np.argmax(window.ravel()[::-1]), window.shape)",
           ("test_max_pool_ties",)),
    Mutant("max_pool_ties_to_every_maximum", CONV,
           "                    r, s = np.unravel_index(np.argmax(window), window.shape)\n"
           "                    dx[n, c, top + r, left + s] += dout[n, c, i, j]\n",
           "                    mask = window == np.max(window)\n"
           "                    dx[n, c, top:top + pool_h, left:left + pool_w] += mask * dout[n, c, i, j]\n",
           ("test_max_pool_ties",)),
    # -- batch normalisation ------------------------------------------------------------
    Mutant("batchnorm_unbiased_variance", NORM,
           "var = np.mean(xc ** 2, axis=0)",
           "var = np.var(x, axis=0, ddof=1)",
           ("test_batchnorm_forward_train", "test_running_averages")),
    Mutant("batchnorm_eps_outside_the_root", NORM,
           "std = np.sqrt(var + eps)",
           "std = np.sqrt(var) + eps",
           ("test_batchnorm_forward_train[N30-D1-eps0.1]",)),
    Mutant("batchnorm_running_average_momentum_swapped", NORM,
           "        running_mean = momentum * running_mean + (1 - momentum) * mu\n"
           "        running_var = momentum * running_var + (1 - momentum) * var\n",
           "        running_mean = (1 - momentum) * running_mean + momentum * mu\n"
           "        running_var = (1 - momentum) * running_var + momentum * var\n",
           ("test_running_averages[default-momentum]", "test_running_averages[momentum-0.6]")),
    Mutant("batchnorm_running_average_not_updated", NORM,
           "        running_mean = momentum * running_mean + (1 - momentum) * mu\n"
           "        running_var = momentum * running_var + (1 - momentum) * var\n", "",
           ("test_running_averages", "test_test_mode_uses_the_running_averages")),
    Mutant("batchnorm_test_mode_uses_batch_statistics", NORM,
           "x_hat = (x - running_mean) / np.sqrt(running_var + eps)",
           "x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)",
           ("test_batchnorm_forward_test_mode", "test_spatial_batchnorm_test_mode",
            "test_test_mode_uses_the_running_averages")),
    Mutant("batchnorm_backward_missing_the_mean_term", NORM,
           "dx = dxc + dmu / N", "dx = dxc",
           ("test_batchnorm_backward[N8-D3-eps1e-05-batchnorm_backward]",
            "test_batchnorm_backward_numeric[batchnorm_backward]",
            "test_batchnorm_backward_when_all_inputs_shift_together[batchnorm_backward]")),
    Mutant("batchnorm_backward_alt_missing_the_mean_term", NORM,
           "dx = (gamma / std) * (dout - (dbeta + x_hat * dgamma) / N)",
           "dx = (gamma / std) * (dout - x_hat * dgamma / N)",
           ("test_batchnorm_backward[N8-D3-eps1e-05-batchnorm_backward_alt]",
            "test_batchnorm_backward_numeric[batchnorm_backward_alt]",
            "test_spatial_batchnorm")),
    Mutant("batchnorm_backward_forgets_the_variance_path", NORM,
           "    dxc += 2.0 * xc * dvar / N\n", "",
           ("test_batchnorm_backward_numeric[batchnorm_backward]",)),
    Mutant("batchnorm_dgamma_not_summed", NORM,
           "    dgamma = np.sum(dout * x_hat, axis=0)\n    dx = (gamma / std)",
           "    dgamma = np.mean(dout * x_hat, axis=0)\n    dx = (gamma / std)",
           ("test_batchnorm_backward_numeric[batchnorm_backward_alt]", "test_spatial_batchnorm")),
    Mutant("spatial_batchnorm_reshapes_without_transposing", NORM,
           "    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)\n",
           "    rows = x.reshape(-1, C)\n",
           ("test_spatial_batchnorm", "test_spatial_batchnorm_test_mode")),
    # -- ThreeLayerConvNet --------------------------------------------------------------
    Mutant("cnn_pool_output_size_off_by_one", CNN,
           "pool_h, pool_w = (conv_h - 2) // 2 + 1, (conv_w - 2) // 2 + 1",
           "pool_h, pool_w = conv_h // 2 + 1, conv_w // 2 + 1",
           ("test_parameter_shapes", "test_training_overfits_a_small_batch")),
    Mutant("cnn_missing_conv_regularisation_gradient", CNN,
           '        grads["W1"] += self.reg * W1\n', "",
           ("test_loss_and_gradients[in3x8x8-F4-k3-0.7]", "test_gradients_numeric")),
    Mutant("cnn_regularisation_without_half", CNN,
           "loss = data_loss + 0.5 * self.reg *", "loss = data_loss + self.reg *",
           ("test_loss_and_gradients[in3x8x8-F4-k3-0.7]", "test_float32_network")),
    Mutant("cnn_ignores_weight_scale", CNN,
           'self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)',
           'self.params["W1"] = 1e-3 * np.random.randn(num_filters, C, filter_size, filter_size)',
           ("test_initialisation",)),
]

# -- correct variants -------------------------------------------------------------------
CONV_FORWARD_BLOCK = (
    "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode=\"constant\")\n"
    "    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))\n"
    "    for n in range(N):\n"
    "        for i in range(H_out):\n"
    "            for j in range(W_out):\n"
    "                top, left = i * stride, j * stride\n"
    "                window = x_pad[n, :, top:top + HH, left:left + WW]      # (C, HH, WW)\n"
    "                # one dot product per filter: sum over channels and filter taps\n"
    "                out[n, :, i, j] = np.sum(w * window, axis=(1, 2, 3)) + b\n")

CONV_FORWARD_FOUR_LOOPS = (
    "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n"
    "    out = np.zeros((N, F, H_out, W_out))\n"
    "    for f in range(F):\n"
    "        for n in range(N):\n"
    "            for j in range(W_out):\n"
    "                for i in range(H_out):\n"
    "                    patch = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]\n"
    "                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]\n")

CONV_FORWARD_STRIDE_TRICKS = (
    "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n"
    "    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (HH, WW), axis=(2, 3))\n"
    "    windows = windows[:, :, ::stride, ::stride][:, :, :H_out, :W_out]\n"
    "    out = np.einsum('ncijhw,fchw->nfij', windows, w) + b[None, :, None, None]\n")

CONV_BACKWARD_BLOCK_LOOP = (
    "    for n in range(N):\n"
    "        for i in range(H_out):\n"
    "            for j in range(W_out):\n"
    "                top, left = i * stride, j * stride\n"
    "                window = x_pad[n, :, top:top + HH, left:left + WW]      # (C, HH, WW)\n"
    "                upstream = dout[n, :, i, j]                             # (F,)\n"
    "                # out[n, f, i, j] = sum(w[f] * window) + b[f]\n"
    "                dw += upstream[:, None, None, None] * window\n"
    "                dx_pad[n, :, top:top + HH, left:left + WW] += np.tensordot(upstream, w, axes=1)\n")

CONV_BACKWARD_ADD_AT = (
    "    rows = (np.arange(H_out) * stride)[:, None] + np.arange(HH)[None, :]   # (H_out, HH)\n"
    "    cols = (np.arange(W_out) * stride)[:, None] + np.arange(WW)[None, :]   # (W_out, WW)\n"
    "    windows = x_pad[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, H_out, HH, W_out, WW)\n"
    "    dw = np.einsum('nfij,ncikjl->fckl', dout, windows)\n"
    "    contributions = np.einsum('nfij,fckl->ncikjl', dout, w)\n"
    "    np.add.at(dx_pad, (slice(None), slice(None), rows[:, :, None, None], cols[None, None, :, :]),\n"
    "              contributions)\n")

POOL_FORWARD_BLOCK = (
    "    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)\n"
    "    for i in range(H_out):\n"
    "        for j in range(W_out):\n"
    "            top, left = i * stride, j * stride\n"
    "            window = x[:, :, top:top + pool_h, left:left + pool_w]      # (N, C, ph, pw)\n"
    "            out[:, :, i, j] = np.max(window, axis=(2, 3))\n")

POOL_FORWARD_STRIDE_TRICKS = (
    "    windows = np.lib.stride_tricks.sliding_window_view(x, (pool_h, pool_w), axis=(2, 3))\n"
    "    out = windows[:, :, ::stride, ::stride][:, :, :H_out, :W_out].max(axis=(4, 5))\n")

POOL_BACKWARD_BLOCK = (
    "    for n in range(N):\n"
    "        for c in range(C):\n"
    "            for i in range(H_out):\n"
    "                for j in range(W_out):\n"
    "                    top, left = i * stride, j * stride\n"
    "                    window = x[n, c, top:top + pool_h, left:left + pool_w]\n"
    "                    r, s = np.unravel_index(np.argmax(window), window.shape)\n"
    "                    dx[n, c, top + r, left + s] += dout[n, c, i, j]\n")

POOL_BACKWARD_ADD_AT = (
    "    for i in range(H_out):\n"
    "        for j in range(W_out):\n"
    "            top, left = i * stride, j * stride\n"
    "            window = x[:, :, top:top + pool_h, left:left + pool_w].reshape(N, C, -1)\n"
    "            first = np.argmax(window, axis=2)                      # (N, C)\n"
    "            n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing='ij')\n"
    "            np.add.at(dx, (n_idx, c_idx, top + first // pool_w, left + first % pool_w),\n"
    "                      dout[:, :, i, j])\n")

BATCHNORM_GRAPH_BLOCK = (
    "    # inv_std = 1 / std,  std = sqrt(var + eps)\n"
    "    dstd = -dinv_std / std ** 2\n"
    "    dvar = 0.5 * dstd / std\n"
    "    # var = mean(xc ** 2): each of the N squares gets 1/N of dvar\n"
    "    dxc += 2.0 * xc * dvar / N\n"
    "    # xc = x - mu,  mu = mean(x): mu takes minus the sum, then spreads it back over N rows\n"
    "    dmu = -np.sum(dxc, axis=0)\n"
    "    dx = dxc + dmu / N\n")

BATCHNORM_GRAPH_EINSUM = (
    "    dvar = np.einsum('nd,nd->d', dx_hat, xc) * -0.5 * std ** -3\n"
    "    dmu = -np.einsum('nd->d', dx_hat) / std + dvar * -2.0 * np.mean(xc, axis=0)\n"
    "    dx = dx_hat / std + dvar * 2.0 * xc / N + dmu / N\n")

CNN_FORWARD_BACKWARD = (
    "        pooled, conv_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)\n"
    "        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)\n"
    "        scores, scores_cache = affine_forward(hidden, W3, b3)\n")

CNN_WITH_NAIVE_LAYERS = (
    "        from nnfs.conv_layers import (conv_backward_naive, conv_forward_naive,\n"
    "                                      max_pool_backward_naive, max_pool_forward_naive)\n"
    "        conv_out, conv_cache = conv_forward_naive(X, W1, b1, conv_param)\n"
    "        relu_out = np.maximum(conv_out, 0)\n"
    "        pooled, pool_cache = max_pool_forward_naive(relu_out, pool_param)\n"
    "        hidden_in = pooled.reshape(X.shape[0], -1)\n"
    "        hidden = np.maximum(hidden_in @ W2 + b2, 0)\n"
    "        scores = hidden @ W3 + b3\n"
    "        if y is None:\n"
    "            return scores\n"
    "        shifted = scores - scores.max(axis=1, keepdims=True)\n"
    "        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
    "        n = X.shape[0]\n"
    "        loss = -log_probs[np.arange(n), y].mean()\n"
    "        loss += 0.5 * self.reg * sum(np.sum(W ** 2) for W in (W1, W2, W3))\n"
    "        dscores = np.exp(log_probs)\n"
    "        dscores[np.arange(n), y] -= 1\n"
    "        dscores /= n\n"
    "        grads = {'W3': hidden.T @ dscores + self.reg * W3, 'b3': dscores.sum(axis=0)}\n"
    "        dhidden = (dscores @ W3.T) * (hidden > 0)\n"
    "        grads['W2'] = hidden_in.T @ dhidden + self.reg * W2\n"
    "        grads['b2'] = dhidden.sum(axis=0)\n"
    "        dpooled = (dhidden @ W2.T).reshape(pooled.shape)\n"
    "        drelu = max_pool_backward_naive(dpooled, pool_cache)\n"
    "        _, grads['W1'], grads['b1'] = conv_backward_naive(drelu * (conv_out > 0), conv_cache)\n"
    "        grads['W1'] = grads['W1'] + self.reg * W1\n"
    "        return loss, grads\n")

CORRECT_VARIANTS = [
    Mutant("conv_forward_four_loops_other_order", CONV, CONV_FORWARD_BLOCK,
           CONV_FORWARD_FOUR_LOOPS, correct=True),
    Mutant("conv_forward_stride_tricks_einsum", CONV, CONV_FORWARD_BLOCK,
           CONV_FORWARD_STRIDE_TRICKS, correct=True),
    Mutant("conv_backward_add_at_einsum", CONV, CONV_BACKWARD_BLOCK_LOOP,
           CONV_BACKWARD_ADD_AT, correct=True),
    Mutant("max_pool_forward_stride_tricks", CONV, POOL_FORWARD_BLOCK,
           POOL_FORWARD_STRIDE_TRICKS, correct=True),
    Mutant("max_pool_backward_add_at", CONV, POOL_BACKWARD_BLOCK,
           POOL_BACKWARD_ADD_AT, correct=True),
    Mutant("batchnorm_graph_backward_with_einsum", NORM, BATCHNORM_GRAPH_BLOCK,
           BATCHNORM_GRAPH_EINSUM, correct=True),
    Mutant("batchnorm_with_np_var", NORM, "var = np.mean(xc ** 2, axis=0)",
           "var = np.var(x, axis=0)", correct=True),
    Mutant("spatial_batchnorm_with_moveaxis", NORM,
           "    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)\n",
           "    rows = np.moveaxis(x, 1, -1).reshape(N * H * W, C)\n", correct=True),
    Mutant("cnn_with_the_naive_layers_and_no_helpers", CNN, CNN_FORWARD_BACKWARD,
           CNN_WITH_NAIVE_LAYERS + CNN_FORWARD_BACKWARD, correct=True),
]

ALL = BUGS + CORRECT_VARIANTS

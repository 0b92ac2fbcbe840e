"""Mutants of assignment 1's reference package: realistic student bugs and correct variants.

Each :class:`autograder.mutants.Mutant` (the format of the demo's ``mutants.json``) is a text
patch (``find`` -> ``replace``, ``find`` must occur exactly once) of a copy of
``assignments/source/assignment1``. ``tests/test_assignment1_mutants.py``
runs the hidden suite on every mutant:

* a **bug** must fail at least the hidden tests named in ``must_fail`` (test function
  names, optionally with a ``[parameter]`` id);
* a **correct variant** (``correct=True``) must fail exactly the tests in ``must_fail``
  (usually none): the hidden suite may not punish a looped or differently written but
  correct implementation.
"""
from autograder.mutants import Mutant

KNN = "nnfs/classifiers/k_nearest_neighbor.py"
SVM = "nnfs/classifiers/linear_svm.py"
SOFTMAX = "nnfs/classifiers/softmax.py"
LINEAR = "nnfs/classifiers/linear_classifier.py"
NET = "nnfs/classifiers/fc_net.py"
LAYERS = "nnfs/layers.py"

# The hidden test files that exercise each module (directly or through another module);
# a mutant of a module only needs these to run.
HIDDEN_FILES_FOR = {
    KNN: ["test_hidden_knn.py"],
    SVM: ["test_hidden_linear.py"],
    SOFTMAX: ["test_hidden_linear.py"],
    LINEAR: ["test_hidden_linear.py"],
    LAYERS: ["test_hidden_layers.py", "test_hidden_two_layer_net.py"],
    NET: ["test_hidden_two_layer_net.py"],
}

# For "net_without_layer_helpers": the whole loss written in plain NumPy, returning before
# the reference backward pass is reached.
NET_REFERENCE_FORWARD_TAIL = (
    "        hidden, hidden_cache = affine_relu_forward(X, W1, b1)\n"
    "        scores, scores_cache = affine_forward(hidden, W2, b2)\n")
NET_PLAIN_NUMPY_FORWARD_AND_BACKWARD = (
    "        flat = X.reshape(X.shape[0], -1)\n"
    "        hidden = np.maximum(0, flat @ W1 + b1)\n"
    "        scores = hidden @ W2 + b2\n"
    "        if y is None:\n"
    "            return scores\n"
    "        n = X.shape[0]\n"
    "        shifted = scores - scores.max(axis=1, keepdims=True)\n"
    "        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
    "        loss = -np.log(probs[np.arange(n), y]).mean()\n"
    "        loss += 0.5 * self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))\n"
    "        dscores = probs\n"
    "        dscores[np.arange(n), y] -= 1\n"
    "        dscores /= n\n"
    "        grads = {'W2': hidden.T @ dscores + self.reg * W2, 'b2': dscores.sum(axis=0)}\n"
    "        dhidden = (dscores @ W2.T) * (hidden > 0)\n"
    "        grads['W1'] = flat.T @ dhidden + self.reg * W1\n"
    "        grads['b1'] = dhidden.sum(axis=0)\n"
    "        return loss, grads\n")

BUGS = [
    # -- kNN ----------------------------------------------------------------------------
    Mutant("knn_ties_to_larger_label", KNN,
           "            y_pred[i] = np.argmax(np.bincount(closest_y))\n",
           "            votes = np.bincount(closest_y)\n"
           "            y_pred[i] = len(votes) - 1 - np.argmax(votes[::-1])\n",
           ("test_predict_labels_breaks_ties_toward_the_smaller_label[2]",
            "test_predict_labels_breaks_ties_toward_the_smaller_label[4]")),
    Mutant("knn_one_neighbour_too_many", KNN,
           "nearest = np.argsort(dists[i], kind=\"stable\")[:k]",
           "nearest = np.argsort(dists[i], kind=\"stable\")[:k + 1]",
           ("test_predict_labels_breaks_ties_toward_the_smaller_label[1]",
            "test_predict_with_duplicated_training_points")),
    Mutant("knn_l1_instead_of_l2", KNN,
           "dists[i, j] = np.sqrt(np.sum(difference * difference))",
           "dists[i, j] = np.sum(np.abs(difference))",
           ("test_distances_on_random_float32_data[compute_distances_two_loops]",)),
    Mutant("knn_no_loops_forgets_the_square_root", KNN,
           "dists = np.sqrt(np.maximum(sq_dists, 0.0))",
           "dists = np.maximum(sq_dists, 0.0)",
           ("test_distances_on_random_float32_data[compute_distances_no_loops]",)),
    Mutant("knn_no_loops_calls_linalg_norm", KNN,
           "        dists = np.sqrt(np.maximum(sq_dists, 0.0))\n",
           "        dists = np.linalg.norm(X[:, np.newaxis, :] - self.X_train[np.newaxis, :, :], axis=2)\n",
           ("test_no_loop_distances_have_no_loops",)),
    # -- SVM ----------------------------------------------------------------------------
    Mutant("svm_naive_missing_regularisation_gradient", SVM,
           "    dW /= num_train\n    dW += 2.0 * reg * W\n",
           "    dW /= num_train\n",
           ("test_loss_and_gradient_on_random_shapes[svm_loss_naive]",
            "test_gradient_matches_numeric_gradient[svm_loss_naive]",
            "test_vectorized_agrees_with_naive[svm]")),
    Mutant("svm_vectorized_missing_regularisation_gradient", SVM,
           "dW = X.T @ dscores + 2.0 * reg * W",
           "dW = X.T @ dscores",
           ("test_loss_and_gradient_on_random_shapes[svm_loss_vectorized]",
            "test_gradient_matches_numeric_gradient[svm_loss_vectorized]")),
    Mutant("svm_vectorized_margin_zero", SVM,
           "margins = np.maximum(0.0, scores - correct_scores + 1.0)",
           "margins = np.maximum(0.0, scores - correct_scores)",
           ("test_loss_and_gradient_on_random_shapes[svm_loss_vectorized]",)),
    Mutant("svm_vectorized_counts_the_correct_class", SVM,
           "    margins[rows, y] = 0.0\n    loss = np.sum(margins)",
           "    loss = np.sum(margins)",
           ("test_loss_and_gradient_on_random_shapes[svm_loss_vectorized]",
            "test_svm_margins_exactly_at_the_boundary[svm_loss_vectorized]")),
    Mutant("svm_vectorized_forgets_the_average", SVM,
           "    loss = np.sum(margins) / num_train + reg * np.sum(W * W)\n",
           "    loss = np.sum(margins) + reg * np.sum(W * W)\n",
           ("test_loss_and_gradient_on_random_shapes[svm_loss_vectorized]",
            "test_gradient_matches_numeric_gradient[svm_loss_vectorized]")),
    Mutant("svm_vectorized_transposed_gradient", SVM,
           "dW = X.T @ dscores + 2.0 * reg * W",
           "dW = (dscores.T @ X).reshape(W.shape) + 2.0 * reg * W",
           ("test_loss_and_gradient_on_random_shapes[svm_loss_vectorized]",)),
    # -- softmax ------------------------------------------------------------------------
    Mutant("softmax_naive_without_max_shift", SOFTMAX,
           "        scores = scores - np.max(scores)\n", "",
           ("test_softmax_with_huge_scores[softmax_loss_naive]",)),
    Mutant("softmax_vectorized_without_max_shift", SOFTMAX,
           "shifted = scores - np.max(scores, axis=1, keepdims=True)",
           "shifted = scores",
           ("test_softmax_with_huge_scores[softmax_loss_vectorized]",)),
    Mutant("softmax_vectorized_missing_regularisation_gradient", SOFTMAX,
           "dW = X.T @ (probabilities / num_train) + 2.0 * reg * W",
           "dW = X.T @ (probabilities / num_train)",
           ("test_loss_and_gradient_on_random_shapes[softmax_loss_vectorized]",
            "test_gradient_matches_numeric_gradient[softmax_loss_vectorized]")),
    Mutant("softmax_vectorized_forgets_the_average", SOFTMAX,
           "    loss = np.mean(log_sum_exp - shifted[rows, y]) + reg * np.sum(W * W)\n",
           "    loss = np.sum(log_sum_exp - shifted[rows, y]) + reg * np.sum(W * W)\n",
           ("test_loss_and_gradient_on_random_shapes[softmax_loss_vectorized]",
            "test_gradient_matches_numeric_gradient[softmax_loss_vectorized]")),
    Mutant("softmax_naive_half_regularisation", SOFTMAX,
           "    loss = loss / num_train + reg * np.sum(W * W)\n",
           "    loss = loss / num_train + 0.5 * reg * np.sum(W * W)\n",
           ("test_loss_and_gradient_on_random_shapes[softmax_loss_naive]",
            "test_gradient_matches_numeric_gradient[softmax_loss_naive]")),
    # -- linear classifier --------------------------------------------------------------
    Mutant("linear_classifier_steps_uphill", LINEAR,
           "self.W -= learning_rate * grad", "self.W += learning_rate * grad",
           ("test_training_lowers_the_loss_and_generalises[LinearSVM]",
            "test_training_lowers_the_loss_and_generalises[Softmax]")),
    Mutant("linear_classifier_predicts_argmin", LINEAR,
           "y_pred = np.argmax(X @ self.W, axis=1)", "y_pred = np.argmin(X @ self.W, axis=1)",
           ("test_predict_is_the_argmax_of_the_scores[LinearSVM]",)),
    # -- layers -------------------------------------------------------------------------
    Mutant("affine_backward_transposed_dw", LAYERS,
           "dw = x.reshape(x.shape[0], -1).T @ dout",
           "dw = dout.T @ x.reshape(x.shape[0], -1)",
           ("test_affine_on_random_shapes", "test_affine_backward_numeric")),
    Mutant("affine_forward_without_flattening", LAYERS,
           "out = x.reshape(x.shape[0], -1) @ w + b",
           "out = x @ w + b",
           ("test_affine_on_random_shapes", "test_scores_on_image_shaped_input")),
    Mutant("relu_backward_passes_gradient_at_zero", LAYERS,
           "dx = dout * (x > 0)", "dx = dout * (x >= 0)",
           ("test_relu_backward_at_exactly_zero",)),
    Mutant("relu_backward_gates_on_the_upstream_gradient", LAYERS,
           "dx = dout * (x > 0)", "dx = np.maximum(dout, 0)",
           ("test_activation_values_including_extremes[relu_forward]",
            "test_activation_backward_numeric[relu_forward]")),
    Mutant("sigmoid_backward_forgets_upstream_gradient", LAYERS,
           "dx = dout * out * (1.0 - out)", "dx = out * (1.0 - out)",
           ("test_activation_backward_numeric[sigmoid_forward]",)),
    Mutant("leaky_relu_ignores_alpha", LAYERS,
           "out = np.where(x > 0, x, alpha * x)", "out = np.where(x > 0, x, 0.01 * x)",
           ("test_activation_values_including_extremes[leaky_relu_forward-0.3]",)),
    Mutant("elu_backward_slope_alpha", LAYERS,
           "dx = np.where(x > 0, dout, dout * alpha * np.exp(np.minimum(x, 0)))",
           "dx = np.where(x > 0, dout, dout * alpha)",
           ("test_activation_backward_numeric[elu_forward]",)),
    Mutant("softmax_loss_layer_without_max_shift", LAYERS,
           "    shifted = x - np.max(x, axis=1, keepdims=True)\n",
           "    shifted = x\n",
           ("test_softmax_loss_with_huge_scores",)),
    Mutant("svm_loss_layer_forgets_the_average", LAYERS,
           "    loss = np.sum(margins) / num_examples\n", "    loss = np.sum(margins)\n",
           ("test_loss_layer_on_random_shapes[svm_loss]", "test_loss_layer_gradient_numeric[svm_loss]")),
    # -- two-layer net ------------------------------------------------------------------
    Mutant("net_missing_regularisation_gradient", NET,
           '        grads["W2"] += self.reg * W2\n        grads["W1"] += self.reg * W1\n', "",
           ("test_loss_and_gradients[0.05]", "test_gradients_match_numeric_gradients")),
    Mutant("net_regularisation_without_half", NET,
           "loss = data_loss + 0.5 * self.reg *", "loss = data_loss + self.reg *",
           ("test_loss_and_gradients[1.3]", "test_gradients_match_numeric_gradients")),
    Mutant("net_ignores_weight_scale", NET,
           'self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)',
           'self.params["W1"] = np.random.randn(input_dim, hidden_dim)',
           ("test_initialisation[dims0]",)),
]

# Correct implementations written differently; the hidden suite must let them through.
CORRECT_VARIANTS = [
    Mutant("knn_no_loops_with_a_loop", KNN,
           "        test_sq_norms = np.einsum(\"ij,ij->i\", X, X)[:, np.newaxis]\n",
           "        dists = np.zeros((X.shape[0], self.X_train.shape[0]))\n"
           "        for i in range(X.shape[0]):\n"
           "            dists[i] = np.sqrt(np.sum((self.X_train - X[i]) ** 2, axis=1))\n"
           "        return dists\n"
           "        test_sq_norms = np.einsum(\"ij,ij->i\", X, X)[:, np.newaxis]\n",
           must_fail=("test_no_loop_distances_have_no_loops",), correct=True),
    Mutant("knn_no_loops_by_broadcasting", KNN,
           "        dists = np.sqrt(np.maximum(sq_dists, 0.0))\n",
           "        differences = X[:, np.newaxis, :] - self.X_train[np.newaxis, :, :]\n"
           "        dists = np.sqrt(np.sum(differences ** 2, axis=2))\n",
           correct=True),
    Mutant("knn_vote_with_counter", KNN,
           "            y_pred[i] = np.argmax(np.bincount(closest_y))\n",
           "            counts = {}\n"
           "            for label in closest_y:\n"
           "                counts[int(label)] = counts.get(int(label), 0) + 1\n"
           "            y_pred[i] = min(counts, key=lambda label: (-counts[label], label))\n",
           correct=True),
    Mutant("softmax_naive_written_vectorised", SOFTMAX,
           "    num_train = X.shape[0]\n    num_classes = W.shape[1]\n    for i in range(num_train):\n",
           "    return softmax_loss_vectorized(W, X, y, reg)\n"
           "    num_train = X.shape[0]\n    num_classes = W.shape[1]\n    for i in range(num_train):\n",
           correct=True),
    Mutant("softmax_vectorized_written_with_loops", SOFTMAX,
           "    num_train = X.shape[0]\n    rows = np.arange(num_train)\n    scores = X @ W\n",
           "    return softmax_loss_naive(W, X, y, reg)\n"
           "    num_train = X.shape[0]\n    rows = np.arange(num_train)\n    scores = X @ W\n",
           correct=True),
    Mutant("svm_vectorized_gradient_by_loops", SVM,
           "    dW = X.T @ dscores + 2.0 * reg * W\n",
           "    dW = 2.0 * reg * W\n"
           "    for i in range(num_train):\n"
           "        dW += np.outer(X[i], dscores[i])\n",
           correct=True),
    Mutant("sampling_without_replacement", LINEAR,
           "batch = np.random.choice(num_train, batch_size, replace=True)",
           "batch = np.random.permutation(num_train)[:batch_size]",
           correct=True),
    Mutant("sigmoid_through_tanh", LAYERS,
           "    out = np.where(x >= 0, 1.0 / (1.0 + exp_neg_abs), exp_neg_abs / (1.0 + exp_neg_abs))\n",
           "    out = 0.5 * (1.0 + np.tanh(0.5 * x))\n",
           correct=True),
    Mutant("relu_with_where", LAYERS,
           "dx = dout * (x > 0)", "dx = np.where(x > 0, dout, 0.0)", correct=True),
    Mutant("net_without_layer_helpers", NET,
           NET_REFERENCE_FORWARD_TAIL, NET_PLAIN_NUMPY_FORWARD_AND_BACKWARD, correct=True),
]

ALL = BUGS + CORRECT_VARIANTS

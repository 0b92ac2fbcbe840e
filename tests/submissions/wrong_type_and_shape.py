
# softmax returns a string; l2_distances returns the right numbers flattened.
_correct_l2_distances = l2_distances


def softmax(scores):
    return "probabilities"


def l2_distances(X, Y):
    return _correct_l2_distances(X, Y).ravel()


# softmax_loss returns NaN for the loss and the gradient.
def softmax_loss(scores, y):
    scores = np.asarray(scores, dtype=float)
    return float("nan"), np.full(scores.shape, np.nan)

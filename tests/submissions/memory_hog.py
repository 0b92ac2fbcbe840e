
# l2_distances asks for a 128 GiB intermediate (the sandbox stops it at its memory limit;
# tests/test_sandbox.py covers memory that grows step by step).
def l2_distances(X, Y):
    return np.ones((2**17, 2**17)) * np.sum(X)


# l2_distances dereferences a NULL pointer through ctypes.
def l2_distances(X, Y):
    import ctypes
    return ctypes.string_at(0)

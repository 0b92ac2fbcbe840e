
# l2_distances was renamed.
distances = l2_distances
del l2_distances

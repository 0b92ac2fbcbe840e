"""Classifiers of assignment 1."""
from nnfs.classifiers.fc_net import TwoLayerNet
from nnfs.classifiers.k_nearest_neighbor import KNearestNeighbor
from nnfs.classifiers.linear_classifier import LinearClassifier, LinearSVM, Softmax

__all__ = ["KNearestNeighbor", "LinearClassifier", "LinearSVM", "Softmax", "TwoLayerNet"]

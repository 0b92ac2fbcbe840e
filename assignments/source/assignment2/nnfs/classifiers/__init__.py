"""Classifiers of assignment 2."""
from nnfs.classifiers.cnn import ThreeLayerConvNet
from nnfs.classifiers.fc_net import FullyConnectedNet

__all__ = ["FullyConnectedNet", "ThreeLayerConvNet"]

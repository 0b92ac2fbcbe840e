"""nnfs -- neural networks from scratch, assignment 2.

The modules you complete in this assignment:

``nnfs.gates``
    backpropagation on a computational graph: gates with local gradients and a graph
    that runs them forward in order and backward in reverse (``backprop.ipynb``);
``nnfs.layers``
    the layers of assignment 1 again (affine, ReLU, softmax loss) and inverted dropout;
``nnfs.classifiers.fc_net``
    ``FullyConnectedNet``, a fully connected network of any depth;
``nnfs.optim``
    the update rules (SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam) and learning-rate
    schedules;
``nnfs.normalization``, ``nnfs.conv_layers`` and ``nnfs.classifiers.cnn``
    batch normalisation, convolution and pooling layers, and a small ConvNet.

Code you write goes where a function says ``# YOUR CODE HERE``. Run the public tests with
``pytest`` in the assignment folder.
"""

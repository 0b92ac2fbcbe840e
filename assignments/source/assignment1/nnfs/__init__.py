"""nnfs -- neural networks from scratch, assignment 1.

The modules you complete in this assignment:

``nnfs.classifiers.k_nearest_neighbor``
    a k-nearest-neighbour classifier with L2 distances (two, one and no loops);
``nnfs.classifiers.linear_svm`` and ``nnfs.classifiers.softmax``
    the multiclass SVM (hinge) and softmax (cross-entropy) losses and their gradients;
``nnfs.classifiers.linear_classifier``
    minibatch SGD training and prediction for ``LinearSVM`` and ``Softmax``;
``nnfs.layers`` and ``nnfs.classifiers.fc_net``
    affine and activation layers and a two-layer fully connected network.

Code you write goes where a function says ``# YOUR CODE HERE``. Run the public tests with
``pytest`` in the assignment folder.
"""

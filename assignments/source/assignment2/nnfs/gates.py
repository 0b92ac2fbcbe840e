"""Backpropagation on a computational graph, one gate at a time.

A gate is a small function with a memory: ``forward(*inputs)`` computes its output and
remembers what it needs; ``backward(dout)`` takes the gradient of the final result with
respect to the gate's output (the *upstream* gradient) and returns the gradient with respect
to each input: the upstream gradient times the gate's *local* gradient (the chain rule).
``backward`` always returns a tuple with one gradient per input, even for one input.

Inputs are Python floats or NumPy arrays. Unless a gate says otherwise its inputs have the
same shape and it works elementwise; every gradient has the shape of its input.

:class:`ComputationalGraph` wires gates together by the names of the values they read and
write, runs them forward in topological order and backward in reverse, adding gradients
where a value feeds several gates.
"""
import numpy as np


class Gate:
    """Base class of the gates: subclasses implement :meth:`forward` and :meth:`backward`."""

    def forward(self, *inputs):
        """Compute (and return) the output; remember what backward will need."""
        raise NotImplementedError

    def backward(self, dout):
        """Return a tuple of gradients, one per input of the last forward call."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class AddGate(Gate):
    """``out = x + y``. The local gradient of each input is 1: the gate *distributes*
    the upstream gradient unchanged to both inputs."""

    def forward(self, x, y):
        out = None
        ### BEGIN SOLUTION
        out = x + y
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx, dy = None, None
        ### BEGIN SOLUTION
        dx = dout
        dy = dout
        ### END SOLUTION
        return dx, dy


class MultiplyGate(Gate):
    """``out = x * y``. The local gradient of x is y and that of y is x: the gate
    *swaps* its inputs and scales the upstream gradient by them."""

    def forward(self, x, y):
        out = None
        ### BEGIN SOLUTION
        self.x, self.y = x, y
        out = x * y
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx, dy = None, None
        ### BEGIN SOLUTION
        dx = dout * self.y
        dy = dout * self.x
        ### END SOLUTION
        return dx, dy


class MaxGate(Gate):
    """``out = max(x, y)`` elementwise. The gate *routes* the upstream gradient to the
    larger input and gives the other one 0; at a tie the first input (x) gets it."""

    def forward(self, x, y):
        out = None
        ### BEGIN SOLUTION
        self.x_wins = np.asarray(x) >= np.asarray(y)
        out = np.maximum(x, y)
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx, dy = None, None
        ### BEGIN SOLUTION
        dx = dout * self.x_wins
        dy = dout * ~self.x_wins
        ### END SOLUTION
        return dx, dy


class ExpGate(Gate):
    """``out = exp(x)``; its local gradient is ``exp(x)`` itself."""

    def forward(self, x):
        out = None
        ### BEGIN SOLUTION
        self.out = np.exp(x)
        out = self.out
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx = None
        ### BEGIN SOLUTION
        dx = dout * self.out
        ### END SOLUTION
        return (dx,)


class ReciprocalGate(Gate):
    """``out = 1 / x``; its local gradient is ``-1 / x**2``."""

    def forward(self, x):
        out = None
        ### BEGIN SOLUTION
        self.x = x
        out = 1.0 / x
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx = None
        ### BEGIN SOLUTION
        dx = -dout / (self.x * self.x)
        ### END SOLUTION
        return (dx,)


class AddConstantGate(Gate):
    """``out = x + c`` for a constant ``c`` fixed when the gate is made."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        out = None
        ### BEGIN SOLUTION
        out = x + self.c
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx = None
        ### BEGIN SOLUTION
        dx = dout
        ### END SOLUTION
        return (dx,)

    def __repr__(self):
        return f"AddConstantGate({self.c!r})"


class ScaleGate(Gate):
    """``out = a * x`` for a constant ``a`` fixed when the gate is made."""

    def __init__(self, a):
        self.a = a

    def forward(self, x):
        out = None
        ### BEGIN SOLUTION
        out = self.a * x
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx = None
        ### BEGIN SOLUTION
        dx = self.a * dout
        ### END SOLUTION
        return (dx,)

    def __repr__(self):
        return f"ScaleGate({self.a!r})"


class SigmoidGate(Gate):
    """``out = 1 / (1 + exp(-x))``, with the local gradient ``out * (1 - out)``.

    One sigmoid gate does the work of the four gates -1*, exp, +1 and 1/x, with a simpler
    gradient. It must not overflow for large ``|x|``.
    """

    def forward(self, x):
        out = None
        ### BEGIN SOLUTION
        exp_neg_abs = np.exp(-np.abs(x))
        out = np.where(np.asarray(x) >= 0, 1.0 / (1.0 + exp_neg_abs),
                       exp_neg_abs / (1.0 + exp_neg_abs))
        if np.ndim(x) == 0:
            out = float(out)
        self.out = out
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx = None
        ### BEGIN SOLUTION
        dx = dout * self.out * (1.0 - self.out)
        ### END SOLUTION
        return (dx,)


class ReluGate(Gate):
    """``out = max(0, x)``; the gradient passes where ``x > 0`` (0 at ``x == 0``)."""

    def forward(self, x):
        out = None
        ### BEGIN SOLUTION
        self.x = x
        out = np.maximum(0, x)
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx = None
        ### BEGIN SOLUTION
        dx = dout * (np.asarray(self.x) > 0)
        ### END SOLUTION
        return (dx,)


class MatMulGate(Gate):
    """``out = W @ x``: a matrix W of shape (M, D) times a vector x of shape (D,) (or a
    matrix of shape (D, N)).

    The local gradients are those of the vectorised lecture example: ``dW = dout x^T`` and
    ``dx = W^T dout``; each gradient has the shape of its input.
    """

    def forward(self, W, x):
        out = None
        ### BEGIN SOLUTION
        self.W, self.x = np.asarray(W), np.asarray(x)
        out = self.W @ self.x
        ### END SOLUTION
        return out

    def backward(self, dout):
        dW, dx = None, None
        ### BEGIN SOLUTION
        dout = np.asarray(dout)
        if self.x.ndim == 1:
            dW = np.outer(dout, self.x)
        else:
            dW = dout @ self.x.T
        dx = self.W.T @ dout
        ### END SOLUTION
        return dW, dx


class SumGate(Gate):
    """``out = sum of all entries of x`` (a scalar); every entry's local gradient is 1."""

    def forward(self, x):
        out = None
        ### BEGIN SOLUTION
        self.x = np.asarray(x)
        out = float(np.sum(self.x))
        ### END SOLUTION
        return out

    def backward(self, dout):
        dx = None
        ### BEGIN SOLUTION
        dx = dout * np.ones_like(self.x, dtype=float)
        ### END SOLUTION
        return (dx,)


class ComputationalGraph:
    """Gates wired together by the names of the values they read and write.

    Build the graph with :meth:`add`; every gate object is used once. Then
    ``forward(x=..., y=...)`` gives the inputs by name and returns the value of the
    last node added, and ``backward()`` returns the gradient of that value with respect
    to every named value, inputs and intermediate values alike.

    Example
    -------
    >>> graph = ComputationalGraph()
    >>> graph.add(AddGate(), ["x", "y"], "q")
    'q'
    >>> graph.add(MultiplyGate(), ["q", "z"], "f")
    'f'
    >>> graph.forward(x=-2.0, y=5.0, z=-4.0)
    -12.0
    >>> graph.backward()["x"]
    -4.0

    Attributes
    ----------
    nodes : list of (gate, tuple of str, str)
        ``(gate, input names, output name)`` in the order they were added.
    values : dict of str -> value
        After :meth:`forward`: every named value (inputs and gate outputs).
    order : list of int
        After :meth:`forward`: the indices into ``nodes`` in the order they ran.
    """

    def __init__(self):
        self.nodes = []
        self.values = {}
        self.order = []

    def add(self, gate, inputs, output):
        """Add ``gate``, which reads the values named ``inputs`` and writes ``output``.

        Parameters
        ----------
        gate : Gate
        inputs : list of str (or one str for a single input)
        output : str
            A new name: each value is written by one gate only.

        Returns
        -------
        str
            ``output``, so that calls can be chained.
        """
        if isinstance(inputs, str):
            inputs = [inputs]
        inputs = tuple(inputs)
        if any(output == written for _, _, written in self.nodes):
            raise ValueError(f"the value {output!r} is already written by another gate")
        if output in inputs:
            raise ValueError(f"a gate cannot read its own output {output!r}")
        self.nodes.append((gate, inputs, output))
        return output

    def forward(self, **values):
        """Run every gate once, each after the gates that compute its inputs.

        The gates may have been added in any order: the graph runs them in a topological
        order (a gate runs as soon as all its inputs are known).

        Parameters
        ----------
        **values
            The graph's inputs by name (every name read by a gate and written by none).

        Returns
        -------
        The value of the output of the last node added.
        """
        if not self.nodes:
            raise ValueError("the graph has no gates; add some first")
        self.values = dict(values)
        self.order = []
        # Run the gates in a topological order, storing every output in self.values and
        # the index of each node that ran in self.order.
        ### BEGIN SOLUTION
        pending = list(range(len(self.nodes)))
        while pending:
            ready = [i for i in pending
                     if all(name in self.values for name in self.nodes[i][1])]
            if not ready:
                missing = sorted({name for i in pending for name in self.nodes[i][1]
                                  if name not in self.values
                                  and all(name != node[2] for node in self.nodes)})
                raise ValueError(f"cannot run the graph: missing inputs {missing}"
                                 if missing else "cannot run the graph: it has a cycle")
            for i in ready:
                gate, inputs, output = self.nodes[i]
                self.values[output] = gate.forward(*[self.values[name] for name in inputs])
                self.order.append(i)
                pending.remove(i)
        ### END SOLUTION
        return self.values[self.nodes[-1][2]]

    def backward(self, dout=1.0):
        """Backpropagate ``dout``, the gradient of the final result w.r.t. the last node's
        output, through the gates in the reverse of the order they ran.

        A value read by several gates receives a gradient from each of them; its total
        gradient is their sum.

        Parameters
        ----------
        dout : float or ndarray, default 1.0
            Shaped like the last node's output.

        Returns
        -------
        grads : dict of str -> float or ndarray
            The gradient for every named value, shaped like the value (0 for a value that
            does not influence the result).
        """
        grads = {}
        # Start every gradient at zero, seed the last node's output with dout, then run
        # the gates' backward passes in reverse order.
        ### BEGIN SOLUTION
        for name, value in self.values.items():
            grads[name] = np.zeros_like(value, dtype=float) if np.ndim(value) else 0.0
        grads[self.nodes[-1][2]] = dout
        for i in reversed(self.order):
            gate, inputs, output = self.nodes[i]
            local = gate.backward(grads[output])
            for name, gradient in zip(inputs, local):
                grads[name] = grads[name] + gradient
        ### END SOLUTION
        return grads

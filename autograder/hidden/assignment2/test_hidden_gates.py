"""Hidden tests: the backprop gates and the computational graph.

Expected values come from the instructor's gates (``reference`` fixture) and from numeric
gradients of the instructor's forward passes, both computed in this trusted process; the
student's code is only called, never trusted to check itself.
"""
import numpy as np
import pytest

from autograder.testing import expect, expect_close
from course_lib.gradient_check import eval_numerical_gradient_array

# gate name, constructor arguments, number of inputs, how to draw inputs
ONE_INPUT_GATES = [("ExpGate", ()), ("ReciprocalGate", ()), ("AddConstantGate", (2.5,)),
                   ("AddConstantGate", (-0.75,)), ("ScaleGate", (-1.0,)), ("ScaleGate", (3.5,)),
                   ("SigmoidGate", ()), ("ReluGate", ())]
TWO_INPUT_GATES = ["AddGate", "MultiplyGate", "MaxGate"]
ONE_INPUT_IDS = [f"{name}{args[0] if args else ''}" for name, args in ONE_INPUT_GATES]


def modules(student, reference):
    return student.import_module("nnfs.gates"), reference.import_module("nnfs.gates")


def draw(rng, shape):
    """Inputs with 0.3 <= |x| <= 2, so no numeric difference crosses a kink or a pole."""
    return rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def gradients_of(gate, dout, count):
    """The student's backward result as a list, after checking it is a tuple of `count`."""
    gradients = gate.backward(dout)
    expect(isinstance(gradients, (tuple, list)) and len(gradients) == count,
           "a gate's backward must return a tuple with one gradient per input "
           "(a one-element tuple for a one-input gate)")
    return list(gradients)


def numeric_gradients(make_gate, inputs, dout):
    """Numeric gradients of the REFERENCE gate's forward with respect to each input."""
    result = []
    for k in range(len(inputs)):
        def f(value, k=k):
            args = [np.array(a, dtype=float, copy=True) for a in inputs]
            args[k] = value
            return np.asarray(make_gate().forward(*args), dtype=float)
        result.append(eval_numerical_gradient_array(f, np.array(inputs[k], dtype=float),
                                                    np.asarray(dout, dtype=float)))
    return result


@pytest.mark.points(2)
@pytest.mark.parametrize("name, args", ONE_INPUT_GATES, ids=ONE_INPUT_IDS)
def test_one_input_gate_on_arrays(student, reference, name, args):
    """a one-input gate's forward value and gradient on arrays of several shapes"""
    mine, theirs = modules(student, reference)
    for seed, shape in enumerate([(7,), (3, 4), (2, 3, 2)]):
        rng = np.random.default_rng(1000 + seed)
        x, dout = draw(rng, shape), rng.normal(size=shape)
        gate = getattr(mine, name)(*args)
        out = gate.forward(x)
        expect_close(out, getattr(theirs, name)(*args).forward(x), f"{name} forward output")
        (dx,) = gradients_of(gate, dout, 1)
        (wanted,) = numeric_gradients(lambda: getattr(theirs, name)(*args), [x], dout)
        expect_close(dx, wanted, f"the gradient returned by {name}.backward", rtol=1e-5,
                     atol=1e-8)


@pytest.mark.points(1)
@pytest.mark.parametrize("name, args", ONE_INPUT_GATES, ids=ONE_INPUT_IDS)
def test_one_input_gate_on_scalars(student, reference, name, args):
    """a one-input gate works on plain Python floats (the lecture's scalar circuits)"""
    mine, theirs = modules(student, reference)
    for x, dout in [(-1.3, 0.7), (0.6, -2.0), (1.7, 1.0)]:
        gate = getattr(mine, name)(*args)
        expect_close(gate.forward(x), getattr(theirs, name)(*args).forward(x),
                     f"{name} forward on a scalar")
        ref = getattr(theirs, name)(*args)
        ref.forward(x)
        (dx,) = gradients_of(gate, dout, 1)
        expect_close(dx, ref.backward(dout)[0], f"{name} backward on a scalar")


@pytest.mark.points(2)
@pytest.mark.parametrize("name", TWO_INPUT_GATES)
def test_two_input_gate_on_arrays(student, reference, name):
    """a two-input gate's forward value and both gradients, in the order of its inputs"""
    mine, theirs = modules(student, reference)
    for seed, shape in enumerate([(5,), (4, 3), (2, 2, 3)]):
        rng = np.random.default_rng(1100 + seed)
        x, y, dout = draw(rng, shape), draw(rng, shape), rng.normal(size=shape)
        if name == "MaxGate":   # keep x and y apart so the numeric difference is exact
            y = np.where(np.abs(x - y) < 0.05, y + 0.2, y)
        gate = getattr(mine, name)()
        expect_close(gate.forward(x, y), getattr(theirs, name)().forward(x, y),
                     f"{name} forward output")
        dx, dy = gradients_of(gate, dout, 2)
        wanted_dx, wanted_dy = numeric_gradients(lambda: getattr(theirs, name)(), [x, y], dout)
        expect_close(dx, wanted_dx, f"the gradient of the first input of {name}",
                     rtol=1e-5, atol=1e-8)
        expect_close(dy, wanted_dy, f"the gradient of the second input of {name}",
                     rtol=1e-5, atol=1e-8)


@pytest.mark.points(1)
def test_max_gate_ties_go_to_the_first_input(student):
    """at a tie MaxGate routes the whole gradient to its first input, none to the second"""
    gates = student.import_module("nnfs.gates")
    x = np.array([1.0, -2.0, 3.0, 0.5])
    y = np.array([1.0, -2.0, 1.0, 4.0])
    dout = np.array([2.0, -3.0, 5.0, 7.0])
    gate = gates.MaxGate()
    gate.forward(x, y)
    dx, dy = gradients_of(gate, dout, 2)
    expect_close(dx, [2.0, -3.0, 5.0, 0.0], "MaxGate's gradient of the first input with ties")
    expect_close(dy, [0.0, 0.0, 0.0, 7.0], "MaxGate's gradient of the second input with ties")
    scalar = gates.MaxGate()
    scalar.forward(2.0, 2.0)
    expect_close(gradients_of(scalar, 1.5, 2), [1.5, 0.0], "MaxGate's gradients at a scalar tie")


@pytest.mark.points(1)
def test_sigmoid_gate_is_stable(student, reference):
    """SigmoidGate stays finite and correct for inputs of magnitude up to 1000"""
    mine, theirs = modules(student, reference)
    x = np.array([-1000.0, -50.0, -5.0, 0.0, 5.0, 50.0, 1000.0])
    gate = mine.SigmoidGate()
    out = np.asarray(gate.forward(x), dtype=float)
    expect(np.all(np.isfinite(out)), "SigmoidGate returns inf or NaN for large inputs")
    ref = theirs.SigmoidGate()
    expect_close(out, ref.forward(x), "SigmoidGate output for large inputs", atol=1e-12)
    (dx,) = gradients_of(gate, np.ones_like(x), 1)
    expect_close(dx, ref.backward(np.ones_like(x))[0], "SigmoidGate gradient for large inputs",
                 atol=1e-12)


@pytest.mark.points(1)
def test_matmul_and_sum_gates(student, reference):
    """MatMulGate (matrix times vector or matrix) and SumGate: values and gradients"""
    mine, theirs = modules(student, reference)
    for seed, (M, D, N) in enumerate([(3, 4, None), (2, 5, 3), (1, 1, None)]):
        rng = np.random.default_rng(1200 + seed)
        W = rng.normal(size=(M, D))
        x = rng.normal(size=(D,) if N is None else (D, N))
        dout = rng.normal(size=(M,) if N is None else (M, N))
        gate = mine.MatMulGate()
        expect_close(gate.forward(W, x), theirs.MatMulGate().forward(W, x),
                     "MatMulGate forward output")
        dW, dx = gradients_of(gate, dout, 2)
        wanted = numeric_gradients(theirs.MatMulGate, [W, x], dout)
        expect_close(dW, wanted[0], "the gradient of the matrix in MatMulGate", rtol=1e-5)
        expect_close(dx, wanted[1], "the gradient of the vector in MatMulGate", rtol=1e-5)
    rng = np.random.default_rng(1210)
    x = rng.normal(size=(3, 4))
    gate = mine.SumGate()
    expect_close(gate.forward(x), np.sum(x), "SumGate forward output")
    (dx,) = gradients_of(gate, -1.5, 1)
    expect_close(dx, np.full((3, 4), -1.5), "SumGate gradient")


@pytest.mark.points(1)
def test_gate_backward_uses_the_latest_forward(student, reference):
    """a gate called forward twice backpropagates through the inputs of the second call"""
    mine, theirs = modules(student, reference)
    rng = np.random.default_rng(1300)
    for name in ("MultiplyGate", "MaxGate", "ReciprocalGate", "SigmoidGate"):
        count = 2 if name in TWO_INPUT_GATES else 1
        first = [draw(rng, (4,)) for _ in range(count)]
        second = [draw(rng, (4,)) for _ in range(count)]
        dout = rng.normal(size=4)
        gate, ref = getattr(mine, name)(), getattr(theirs, name)()
        gate.forward(*first)
        gate.forward(*second)
        ref.forward(*second)
        for actual, wanted in zip(gradients_of(gate, dout, count), ref.backward(dout)):
            expect_close(actual, wanted, f"{name}.backward after a second forward call")


# -- the graph ---------------------------------------------------------------------------

def build(gates, spec):
    """A graph from ``spec``: a list of (gate name, constructor args, inputs, output)."""
    graph = gates.ComputationalGraph()
    for name, args, inputs, output in spec:
        returned = graph.add(getattr(gates, name)(*args), list(inputs), output)
        expect(returned == output, "ComputationalGraph.add should return the output's name")
    return graph


def run_both(student, reference, spec, values, dout=1.0, what="the graph"):
    mine, theirs = modules(student, reference)
    graph, ref = build(mine, spec), build(theirs, spec)
    expect_close(graph.forward(**values), ref.forward(**values),
                 f"the value returned by forward for {what}")
    grads, wanted = graph.backward(dout), ref.backward(dout)
    expect(isinstance(grads, dict), "backward should return a dict {name: gradient}")
    missing = sorted(set(wanted) - set(grads))
    expect(not missing, f"backward returned no gradient for some named values of {what} "
                        f"(every input and intermediate value needs one)")
    for name in sorted(wanted):
        expect_close(grads[name], wanted[name], f"the gradient of value '{name}' in {what}")


@pytest.mark.points(2)
def test_graph_lecture_circuit_at_random_points(student, reference):
    """f = (x + y) z at random points, with an upstream gradient other than 1"""
    spec = [("AddGate", (), ["x", "y"], "q"), ("MultiplyGate", (), ["q", "z"], "f")]
    rng = np.random.default_rng(1400)
    for _ in range(3):
        values = dict(zip("xyz", rng.normal(size=3).tolist()))
        run_both(student, reference, spec, values, dout=float(rng.normal()),
                 what="f = (x + y) z")


@pytest.mark.points(2)
def test_graph_gradients_add_at_branches(student, reference):
    """a value read by several gates gets the sum of their gradients"""
    spec = [("MultiplyGate", (), ["x", "y"], "a"),
            ("MaxGate", (), ["x", "z"], "b"),
            ("AddGate", (), ["a", "b"], "c"),
            ("MultiplyGate", (), ["c", "x"], "d"),
            ("SigmoidGate", (), ["d"], "e"),
            ("MultiplyGate", (), ["e", "e"], "f")]
    rng = np.random.default_rng(1410)
    for _ in range(3):
        values = {k: float(v) for k, v in zip("xyz", draw(rng, 3))}
        run_both(student, reference, spec, values, what="a graph in which values branch")
    arrays = {k: draw(rng, (3, 2)) for k in "xyz"}
    run_both(student, reference, spec, arrays, dout=rng.normal(size=(3, 2)),
             what="a graph of arrays in which values branch")


@pytest.mark.points(2)
def test_graph_sigmoid_neuron_at_random_weights(student, reference):
    """the sigmoid neuron from primitive gates, at random weights and inputs"""
    spec = [("MultiplyGate", (), ["w0", "x0"], "a"), ("MultiplyGate", (), ["w1", "x1"], "b"),
            ("AddGate", (), ["a", "b"], "c"), ("AddGate", (), ["c", "w2"], "d"),
            ("ScaleGate", (-1.0,), ["d"], "e"), ("ExpGate", (), ["e"], "g"),
            ("AddConstantGate", (1.0,), ["g"], "h"), ("ReciprocalGate", (), ["h"], "f")]
    rng = np.random.default_rng(1420)
    for _ in range(3):
        values = {k: float(v) for k, v in zip(["w0", "x0", "w1", "x1", "w2"], rng.normal(size=5))}
        run_both(student, reference, spec, values, what="the sigmoid neuron")


@pytest.mark.points(2)
def test_graph_vectorised_norm_at_random_shapes(student, reference):
    """f = ||W x||^2 for random W and x of several sizes"""
    spec = [("MatMulGate", (), ["W", "x"], "q"), ("MultiplyGate", (), ["q", "q"], "s"),
            ("SumGate", (), ["s"], "f")]
    for seed, (M, D) in enumerate([(2, 2), (4, 3), (1, 5)]):
        rng = np.random.default_rng(1430 + seed)
        run_both(student, reference, spec, {"W": rng.normal(size=(M, D)),
                                            "x": rng.normal(size=D)},
                 dout=float(rng.uniform(0.5, 2)), what="f = ||W x||^2")


@pytest.mark.points(2)
def test_graph_runs_gates_added_out_of_order(student, reference):
    """gates added in any order run forward in topological order and backward in reverse"""
    spec = [("AddConstantGate", (3.0,), ["g"], "h"),
            ("MultiplyGate", (), ["a", "b"], "g"),
            ("ScaleGate", (0.5,), ["x"], "b"),
            ("ExpGate", (), ["x"], "a"),
            ("ReciprocalGate", (), ["h"], "f")]
    rng = np.random.default_rng(1440)
    for _ in range(2):
        run_both(student, reference, spec, {"x": float(rng.normal())},
                 what="a graph whose gates were added out of order")


@pytest.mark.points(1)
def test_graph_can_run_again(student, reference):
    """forward and backward can be called again with new inputs (no stale gradients)"""
    spec = [("MultiplyGate", (), ["x", "x"], "s"), ("AddGate", (), ["s", "y"], "f")]
    mine, theirs = modules(student, reference)
    graph, ref = build(mine, spec), build(theirs, spec)
    rng = np.random.default_rng(1450)
    for _ in range(3):
        values = {"x": float(rng.normal()), "y": float(rng.normal())}
        expect_close(graph.forward(**values), ref.forward(**values),
                     "forward on a second or third run")
        grads, wanted = graph.backward(), ref.backward()
        for name in ("x", "y", "s"):
            expect_close(grads[name], wanted[name],
                         f"the gradient of '{name}' on a second or third run")

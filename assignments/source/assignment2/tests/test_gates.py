"""Public tests for nnfs/gates.py: the lecture's examples, each gate, and the graph."""
import numpy as np
import pytest

from course_lib.gradient_check import eval_numerical_gradient_array, rel_error


@pytest.fixture
def gates(student):
    return student.import_module("nnfs.gates")


@pytest.mark.points(1)
def test_add_and_multiply_gates(gates):
    """add distributes the upstream gradient; multiply swaps its inputs"""
    add = gates.AddGate()
    assert add.forward(-2.0, 5.0) == pytest.approx(3.0)
    assert tuple(add.backward(-4.0)) == pytest.approx((-4.0, -4.0))
    multiply = gates.MultiplyGate()
    assert multiply.forward(3.0, -4.0) == pytest.approx(-12.0)
    assert tuple(multiply.backward(1.0)) == pytest.approx((-4.0, 3.0))


@pytest.mark.points(1)
def test_max_gate_routes(gates):
    """max routes the upstream gradient to the larger input (the first one at a tie)"""
    gate = gates.MaxGate()
    assert gate.forward(4.0, 2.0) == pytest.approx(4.0)
    assert tuple(gate.backward(2.0)) == pytest.approx((2.0, 0.0))
    gate.forward(np.array([1.0, 3.0, 2.0]), np.array([2.0, 1.0, 2.0]))
    dx, dy = gate.backward(np.array([5.0, 6.0, 7.0]))
    np.testing.assert_allclose(dx, [0.0, 6.0, 7.0])
    np.testing.assert_allclose(dy, [5.0, 0.0, 0.0])


@pytest.mark.points(1)
@pytest.mark.parametrize("name, args", [("ExpGate", ()), ("ReciprocalGate", ()),
                                        ("AddConstantGate", (1.0,)), ("ScaleGate", (-1.0,)),
                                        ("SigmoidGate", ()), ("ReluGate", ())])
def test_one_input_gates_match_numeric_gradients(gates, name, args):
    """a one-input gate returns a one-element tuple holding the right gradient"""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2.0, size=5) * rng.choice([-1, 1], size=5)
    dout = rng.normal(size=5)
    gate = getattr(gates, name)(*args)
    gate.forward(x)
    gradients = gate.backward(dout)
    assert isinstance(gradients, tuple) and len(gradients) == 1, \
        "backward must return a tuple with one gradient per input"
    numeric = eval_numerical_gradient_array(lambda v: getattr(gates, name)(*args).forward(v),
                                            x.copy(), dout)
    assert rel_error(gradients[0], numeric) < 1e-7


@pytest.mark.points(1)
def test_lecture_example_x_plus_y_times_z(gates):
    """f = (x + y) z at x=-2, y=5, z=-4: f=-12, df/dx=df/dy=-4, df/dz=3"""
    graph = gates.ComputationalGraph()
    graph.add(gates.AddGate(), ["x", "y"], "q")
    graph.add(gates.MultiplyGate(), ["q", "z"], "f")
    assert graph.forward(x=-2.0, y=5.0, z=-4.0) == pytest.approx(-12.0)
    grads = graph.backward()
    assert (grads["x"], grads["y"], grads["z"], grads["q"]) == pytest.approx((-4.0, -4.0, 3.0, -4.0))


@pytest.mark.points(2)
def test_sigmoid_neuron_from_primitive_gates_and_from_a_sigmoid_gate(gates):
    """the lecture's sigmoid neuron: output 0.73, dw=[-0.20,-0.39,0.20], dx=[0.39,-0.59]"""
    values = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    graph = gates.ComputationalGraph()
    graph.add(gates.MultiplyGate(), ["w0", "x0"], "a")
    graph.add(gates.MultiplyGate(), ["w1", "x1"], "b")
    graph.add(gates.AddGate(), ["a", "b"], "c")
    graph.add(gates.AddGate(), ["c", "w2"], "d")
    graph.add(gates.ScaleGate(-1.0), ["d"], "e")
    graph.add(gates.ExpGate(), ["e"], "g")
    graph.add(gates.AddConstantGate(1.0), ["g"], "h")
    graph.add(gates.ReciprocalGate(), ["h"], "f")
    assert graph.forward(**values) == pytest.approx(0.7311, abs=1e-4)
    grads = graph.backward()
    expected = dict(w0=-0.1966, w1=-0.3932, w2=0.1966, x0=0.3932, x1=-0.5898)
    for name, value in expected.items():
        assert grads[name] == pytest.approx(value, abs=1e-4), name

    short = gates.ComputationalGraph()
    short.add(gates.MultiplyGate(), ["w0", "x0"], "a")
    short.add(gates.MultiplyGate(), ["w1", "x1"], "b")
    short.add(gates.AddGate(), ["a", "b"], "c")
    short.add(gates.AddGate(), ["c", "w2"], "d")
    short.add(gates.SigmoidGate(), ["d"], "f")
    assert short.forward(**values) == pytest.approx(0.7311, abs=1e-4)
    short_grads = short.backward()
    for name, value in expected.items():
        assert short_grads[name] == pytest.approx(value, abs=1e-4), name


@pytest.mark.points(1)
def test_gradients_add_at_a_branch(gates):
    """a value used twice gets the sum of both gradients: d(x * x)/dx = 2x"""
    graph = gates.ComputationalGraph()
    graph.add(gates.MultiplyGate(), ["x", "x"], "f")
    assert graph.forward(x=3.0) == pytest.approx(9.0)
    assert graph.backward()["x"] == pytest.approx(6.0)


@pytest.mark.points(2)
def test_vectorised_example(gates):
    """f = ||W x||^2 with W=[[0.1,0.5],[-0.3,0.8]], x=[0.2,0.4]: f=0.116 and its gradients"""
    graph = gates.ComputationalGraph()
    graph.add(gates.MatMulGate(), ["W", "x"], "q")
    graph.add(gates.MultiplyGate(), ["q", "q"], "q_squared")
    graph.add(gates.SumGate(), ["q_squared"], "f")
    f = graph.forward(W=np.array([[0.1, 0.5], [-0.3, 0.8]]), x=np.array([0.2, 0.4]))
    assert f == pytest.approx(0.116)
    grads = graph.backward()
    np.testing.assert_allclose(grads["W"], [[0.088, 0.176], [0.104, 0.208]], atol=1e-12)
    np.testing.assert_allclose(grads["x"], [-0.112, 0.636], atol=1e-12)


@pytest.mark.points(1)
def test_graph_runs_gates_in_topological_order(gates):
    """gates added out of order still run after the gates that compute their inputs"""
    graph = gates.ComputationalGraph()
    graph.add(gates.MultiplyGate(), ["q", "z"], "f_partial")
    graph.add(gates.AddGate(), ["x", "y"], "q")
    graph.add(gates.ScaleGate(2.0), ["f_partial"], "f")
    assert graph.forward(x=1.0, y=2.0, z=3.0) == pytest.approx(18.0)
    grads = graph.backward()
    assert (grads["x"], grads["z"]) == pytest.approx((6.0, 6.0))

"""Numerical gradient checkers against functions whose gradients are known in closed form."""
import numpy as np
import pytest

from course_lib.gradient_check import (
    LowPrecisionWarning,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def softmax(z):
    shifted = np.exp(z - z.max())
    return shifted / shifted.sum()


def test_quadratic_form_gradient(rng):
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    grad = eval_numerical_gradient(lambda v: v @ A @ v, x, verbose=False)
    assert grad.dtype == np.float64 and grad.shape == x.shape
    assert rel_error(grad, (A + A.T) @ x) < 1e-8


def test_sin_gradient_on_a_matrix(rng):
    x = rng.standard_normal((3, 5))
    grad = eval_numerical_gradient(lambda v: np.sum(np.sin(v)), x, verbose=False)
    assert rel_error(grad, np.cos(x)) < 1e-8


def test_function_that_reads_x_through_a_closure(rng):
    """The notebook idiom: f ignores its argument and reads the probed array elsewhere."""
    params = {"W": rng.standard_normal((3, 2))}
    X = rng.standard_normal((5, 3))

    def loss(_):
        return 0.5 * np.sum((X @ params["W"]) ** 2)

    grad = eval_numerical_gradient(loss, params["W"], verbose=False)
    assert rel_error(grad, X.T @ (X @ params["W"])) < 1e-7


def test_verbose_prints_every_index(rng, capsys):
    eval_numerical_gradient(lambda v: np.sum(v ** 2), rng.standard_normal((2, 3)))
    assert len(capsys.readouterr().out.strip().splitlines()) == 6


def test_matrix_product_backward_by_array_gradient(rng):
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 5))
    dout = rng.standard_normal((4, 5))
    dx = eval_numerical_gradient_array(lambda v: v @ w, x, dout)
    dw = eval_numerical_gradient_array(lambda v: x @ v, w, dout)
    assert rel_error(dx, dout @ w.T) < 1e-8
    assert rel_error(dw, x.T @ dout) < 1e-8


def test_softmax_jacobian_vector_product(rng):
    z = rng.standard_normal(6)
    dout = rng.standard_normal(6)
    p = softmax(z)
    expected = p * (dout - np.dot(dout, p))
    assert rel_error(eval_numerical_gradient_array(softmax, z, dout), expected) < 1e-8


def test_softmax_cross_entropy_gradient(rng):
    scores = rng.standard_normal(5)
    label = 3
    grad = eval_numerical_gradient(lambda s: -np.log(softmax(s)[label]), scores, verbose=False)
    expected = softmax(scores) - np.eye(5)[label]
    assert rel_error(grad, expected) < 1e-8


def test_array_gradient_copes_with_a_reused_output_buffer(rng):
    """f returning the same buffer at every call must not make the difference zero."""
    buffer = np.empty(3)

    def doubled(v):
        np.multiply(v, 2.0, out=buffer)
        return buffer

    x = rng.standard_normal(3)
    grad = eval_numerical_gradient_array(doubled, x, np.ones(3))
    np.testing.assert_allclose(grad, 2.0 * np.ones(3), rtol=1e-8)


def test_inputs_are_restored_exactly(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    eval_numerical_gradient(lambda v: np.sum(v ** 3), x, verbose=False)
    eval_numerical_gradient_array(np.tanh, x, np.ones_like(x))
    grad_check_sparse(lambda v: np.sum(v ** 3), x, 3 * x ** 2, num_checks=5, seed=0)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("checker", ["scalar", "array", "sparse"])
def test_input_is_restored_when_f_raises(rng, checker):
    x = rng.standard_normal(4)
    before = x.copy()
    calls = []

    def failing(v):
        calls.append(v.copy())
        if len(calls) == 2:
            raise RuntimeError("boom")
        return np.sum(v) if checker != "array" else v.copy()

    with pytest.raises(RuntimeError, match="boom"):
        if checker == "scalar":
            eval_numerical_gradient(failing, x, verbose=False)
        elif checker == "array":
            eval_numerical_gradient_array(failing, x, np.ones(4))
        else:
            grad_check_sparse(failing, x, np.ones(4), num_checks=3, seed=0)
    # the failing call really was made with a perturbed entry, and it was put back
    assert not np.array_equal(calls[-1], before)
    np.testing.assert_array_equal(x, before)


def test_integer_input_is_rejected_with_advice():
    with pytest.raises(TypeError, match="astype\\(np.float64\\)"):
        eval_numerical_gradient(lambda v: np.sum(v), np.arange(3), verbose=False)
    with pytest.raises(TypeError, match="dtype int"):
        eval_numerical_gradient_array(lambda v: v, np.arange(3), np.ones(3))


def test_non_array_input_is_rejected():
    with pytest.raises(TypeError, match="NumPy array"):
        eval_numerical_gradient(lambda v: sum(v), [1.0, 2.0], verbose=False)


def test_float32_input_warns_and_returns_float64(rng):
    x = rng.standard_normal(3).astype(np.float32)
    with pytest.warns(LowPrecisionWarning, match="float64"):
        grad = eval_numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)),
                                       x, verbose=False)
    assert grad.dtype == np.float64
    assert x.dtype == np.float32
    # still the right gradient to float32 accuracy
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-1, atol=1e-1)


def test_scalar_checker_refuses_array_valued_f(rng):
    with pytest.raises(ValueError, match="eval_numerical_gradient_array"):
        eval_numerical_gradient(lambda v: v * 2, rng.standard_normal(3), verbose=False)


def test_array_checker_refuses_mismatched_upstream_gradient(rng):
    with pytest.raises(ValueError, match="df has shape"):
        eval_numerical_gradient_array(lambda v: v * 2, rng.standard_normal(3), np.ones(4))


def test_grad_check_sparse_returns_small_errors_for_a_correct_gradient(rng, capsys):
    A = rng.standard_normal((6, 6))
    x = rng.standard_normal((6, 6))
    errors = grad_check_sparse(lambda v: np.sum(A * v ** 2), x, 2 * A * x, num_checks=7, seed=1)
    assert len(errors) == 7 and all(isinstance(e, float) for e in errors)
    assert max(errors) < 1e-7
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 7 and all("relative error" in line for line in lines)


def test_grad_check_sparse_flags_a_wrong_gradient(rng):
    x = rng.standard_normal((5, 5))
    errors = grad_check_sparse(lambda v: np.sum(v ** 2), x, 3 * x, num_checks=5, seed=0)
    assert min(errors) > 0.1


def test_grad_check_sparse_seed_picks_the_same_entries(rng):
    x = rng.standard_normal((10, 10))
    wrong = 2 * x
    wrong[::2] = 0.0  # half the rows are wrong, so which entries are probed matters
    first = grad_check_sparse(lambda v: np.sum(v ** 2), x, wrong, num_checks=8, seed=3)
    again = grad_check_sparse(lambda v: np.sum(v ** 2), x, wrong, num_checks=8, seed=3)
    assert first == again


def test_grad_check_sparse_rejects_gradient_of_the_wrong_shape(rng):
    with pytest.raises(ValueError, match="analytic_grad has shape"):
        grad_check_sparse(lambda v: np.sum(v), rng.standard_normal((2, 3)), np.ones(6))


def test_rel_error_formula():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 4.0]), np.array([3.0, 4.0])) == pytest.approx(0.5)
    # both tiny: the 1e-8 floor keeps the ratio finite
    assert rel_error(np.array([0.0]), np.array([1e-12])) == pytest.approx(1e-4)
    assert rel_error(2.0, np.array([2.0, 2.0])) == 0.0
    assert np.isnan(rel_error(np.array([np.nan]), np.array([1.0])))


def test_rel_error_refuses_silent_broadcasting():
    with pytest.raises(ValueError, match="broadcast"):
        rel_error(np.ones((3, 1)), np.ones(3))

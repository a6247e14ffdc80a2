"""Tests for course_lib.activations: exact extremes, torch parity, dtypes, derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.activations import (
    log_softmax,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    tanh,
    tanh_grad,
)
from course_lib.gradcheck import numerical_gradient, rel_error

# Overflow or invalid-value RuntimeWarnings are failures in this file.
pytestmark = pytest.mark.filterwarnings("error")

ELEMENTWISE = [sigmoid, tanh, relu]
ROWWISE = [softmax, log_softmax]
ALL = ELEMENTWISE + ROWWISE
FLOATS = [np.float32, np.float64]


def strict():
    """Floating-point errors other than (harmless, exact) underflow raise."""
    return np.errstate(over="raise", invalid="raise", divide="raise")


# --- exact at the extremes ---------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_is_exact_at_the_extremes(dtype):
    with strict():
        s = sigmoid(np.array([1e4, -1e4, 800.0, -800.0, 0.0], dtype=dtype))
    assert s.dtype == dtype
    np.testing.assert_array_equal(s, np.array([1, 0, 1, 0, 0.5], dtype=dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_tanh_is_exact_at_the_extremes(dtype):
    with strict():
        t = tanh(np.array([1e4, -1e4, 0.0], dtype=dtype))
    np.testing.assert_array_equal(t, np.array([1, -1, 0], dtype=dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_of_huge_opposite_logits_is_exactly_one_hot(dtype):
    x = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]], dtype=dtype)
    with strict():
        p = softmax(x)
    assert p.dtype == dtype
    np.testing.assert_array_equal(p, np.array([[1, 0], [0, 1], [0.5, 0.5]], dtype=dtype))
    np.testing.assert_array_equal(softmax(x.T, axis=0), p.T)


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_softmax_is_exact_at_the_extremes(dtype):
    with strict():
        lp = log_softmax(np.array([1e4, -1e4, 0.0], dtype=dtype))
    assert lp.dtype == dtype
    np.testing.assert_array_equal(lp, np.array([0.0, -2e4, -1e4], dtype=dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_no_nan_anywhere_on_a_wide_grid(dtype):
    x = np.linspace(-1e4, 1e4, 2001, dtype=dtype).reshape(3, 667)
    with strict():
        for f in ALL:
            out = f(x)
            assert np.all(np.isfinite(out)), f.__name__
            assert out.dtype == dtype, f.__name__


def test_sigmoid_keeps_tiny_values_accurate():
    # 1 - 1/(1 + e^30) would lose everything; the rearranged form keeps full precision.
    x = np.array([-30.0, -700.0])
    np.testing.assert_allclose(sigmoid(x), np.exp(x) / (1 + np.exp(x)), rtol=1e-14)


# --- values: PyTorch agrees --------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_values_match_torch(torch, rng, dtype):
    x = (rng.standard_normal((4, 3, 5)) * 6).astype(dtype)
    x[0, 0, 0], x[1, 2, 3] = 1e4, -1e4
    tx = torch.from_numpy(x.copy())
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(sigmoid(x), torch.sigmoid(tx).numpy(), rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(tanh(x), torch.tanh(tx).numpy(), rtol=rtol, atol=1e-30)
    np.testing.assert_array_equal(relu(x), torch.relu(tx).numpy())
    for axis in (0, 1, 2, -1):
        np.testing.assert_allclose(
            softmax(x, axis=axis), torch.softmax(tx, dim=axis).numpy(), rtol=rtol, atol=1e-30
        )
        np.testing.assert_allclose(
            log_softmax(x, axis=axis), torch.log_softmax(tx, dim=axis).numpy(), rtol=rtol, atol=1e-6
        )


def test_softmax_and_log_softmax_agree_and_normalise(rng):
    x = rng.standard_normal((6, 7)) * 3
    for axis in (0, 1):
        p = softmax(x, axis=axis)
        np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-14)
        np.testing.assert_allclose(log_softmax(x, axis=axis), np.log(p), rtol=1e-13)


def test_relu_values():
    np.testing.assert_array_equal(relu(np.array([-2.0, -0.0, 0.0, 3.5])), [0.0, 0.0, 0.0, 3.5])


# --- dtype, inputs, layouts --------------------------------------------------------


@pytest.mark.parametrize("f", ALL + [sigmoid_grad, tanh_grad, relu_grad], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", FLOATS)
def test_dtype_is_preserved_and_input_untouched(f, dtype, rng):
    x = rng.standard_normal((3, 4)).astype(dtype)
    x_copy = x.copy()
    out = f(x)
    assert out.dtype == dtype
    assert out.shape == x.shape
    np.testing.assert_array_equal(x, x_copy)
    assert not np.shares_memory(out, x)


@pytest.mark.parametrize("f", ALL + [sigmoid_grad, tanh_grad, relu_grad], ids=lambda f: f.__name__)
def test_integer_input_is_refused_with_the_argument_named(f):
    with pytest.raises(ValueError, match="floating"):
        f(np.arange(3))


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.__name__)
def test_non_contiguous_inputs_give_the_same_results(f, rng):
    base = rng.standard_normal((5, 6)) * 4
    views = [np.asfortranarray(base), base.T.copy().T, np.repeat(base, 2, axis=1)[:, ::2]]
    expected = f(base)
    for view in views:
        np.testing.assert_array_equal(view, base)
        np.testing.assert_allclose(f(view), expected, rtol=1e-15)
    np.testing.assert_allclose(f(base.T), f(base.T.copy()), rtol=1e-15)


# --- derivative helpers ------------------------------------------------------------


def _numerical_derivative(f, x):
    """Elementwise derivative: the gradient of sum(f(x))."""
    return numerical_gradient(f, x, df=np.ones_like(x))


def test_derivative_helpers_match_numerical_gradients(rng):
    x = rng.uniform(-4, 4, size=(4, 5))
    x[np.abs(x) < 0.1] = 0.5  # keep relu away from its kink
    assert rel_error(sigmoid_grad(sigmoid(x)), _numerical_derivative(sigmoid, x)) < 1e-7
    assert rel_error(tanh_grad(tanh(x)), _numerical_derivative(tanh, x)) < 1e-7
    assert rel_error(relu_grad(relu(x)), _numerical_derivative(relu, x)) < 1e-7


def test_derivative_helpers_known_values():
    np.testing.assert_array_equal(sigmoid_grad(sigmoid(np.array([0.0]))), [0.25])
    np.testing.assert_array_equal(tanh_grad(tanh(np.array([0.0, 1e4]))), [1.0, 0.0])
    np.testing.assert_array_equal(relu_grad(relu(np.array([-1.0, 0.0, 2.0]))), [0.0, 0.0, 1.0])


# --- properties over random shapes -------------------------------------------------

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1.0, 30.0, 1e4]))
def test_softmax_properties(shape, seed, scale):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    axis = seed % len(shape) - len(shape)  # any axis, counted from the end
    with strict():
        p = softmax(x, axis=axis)
        lp = log_softmax(x, axis=axis)
    assert p.shape == lp.shape == x.shape
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(lp <= 0)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-14)
    # exp(log_softmax) == softmax (where the value is not denormal)
    np.testing.assert_allclose(np.exp(lp), p, rtol=1e-12, atol=1e-300)
    # the largest entry of each slice has the largest probability
    np.testing.assert_array_equal(np.argmax(p, axis=axis), np.argmax(x, axis=axis))


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_derivative_helpers_gradcheck_random_shapes(shape, seed):
    x = np.random.default_rng(seed).uniform(-5, 5, size=shape)
    x[np.abs(x) < 0.1] = 1.0
    assert rel_error(sigmoid_grad(sigmoid(x)), _numerical_derivative(sigmoid, x)) < 1e-6
    assert rel_error(tanh_grad(tanh(x)), _numerical_derivative(tanh, x)) < 1e-6
    assert rel_error(relu_grad(relu(x)), _numerical_derivative(relu, x)) < 1e-6

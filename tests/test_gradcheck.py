"""course_lib.gradcheck.numerical_gradient: the calling convention f(x), restoring x, df."""

import numpy as np
import pytest

from course_lib.gradcheck import numerical_gradient, rel_error

NO_ARGUMENTS = ("numerical_gradient: f must take the array as its one argument, f(x) "
                "(e.g. lambda x: loss(x)); got a function of no arguments")


def test_f_receives_the_perturbed_array_itself(rng):
    x = rng.standard_normal((2, 3))
    seen = []

    def f(arg):
        seen.append((arg is x, arg.copy()))
        return float(np.sum(arg**3))

    grad = numerical_gradient(f, x)
    assert len(seen) == 2 * x.size
    assert all(same for same, _ in seen)
    assert not any(np.array_equal(value, x) for _, value in seen)  # each call sees one entry nudged
    assert rel_error(grad, 3 * x**2) < 1e-7


def test_closure_ignoring_its_argument_gives_the_same_result(rng):
    x = rng.standard_normal((3, 4))
    W = rng.standard_normal((4, 2))
    using_argument = numerical_gradient(lambda a: np.sum(np.tanh(a @ W)), x)
    reading_x = numerical_gradient(lambda _: np.sum(np.tanh(x @ W)), x)
    assert np.array_equal(using_argument, reading_x)


def _old_style_loss():
    return 0.0


@pytest.mark.parametrize("f", [lambda: 0.0, _old_style_loss], ids=["lambda", "def"])
def test_function_of_no_arguments_is_refused(f):
    x = np.zeros(3)
    with pytest.raises(TypeError) as excinfo:
        numerical_gradient(f, x)
    assert str(excinfo.value) == NO_ARGUMENTS
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_function_of_two_arguments_is_refused():
    with pytest.raises(TypeError, match=r"f must take the array as its one argument, f\(x\).*got f\(a, b\)"):
        numerical_gradient(lambda a, b: 0.0, np.zeros(3))


def test_type_error_inside_f_propagates_unchanged():
    error = TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    calls = []

    def f(x):
        calls.append(x)
        raise error

    with pytest.raises(TypeError) as excinfo:
        numerical_gradient(f, np.zeros(2))
    assert excinfo.value is error
    assert len(calls) == 1


def test_callables_without_a_signature_are_just_called():
    # max has no inspect.signature; max(x) of a 1-element array is that element.
    assert numerical_gradient(max, np.array([2.0])).tolist() == pytest.approx([1.0])
    # a ufunc and a callable object
    assert rel_error(numerical_gradient(np.sin, np.array([0.3, 1.1]), df=np.ones(2)), np.cos([0.3, 1.1])) < 1e-9

    class Square:
        def __call__(self, x):
            return float(np.sum(x**2))

    x = np.array([1.0, -2.0])
    assert rel_error(numerical_gradient(Square(), x), 2 * x) < 1e-9


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_x_is_restored_bitwise(rng, dtype):
    # Values with many significant bits, where x + h - h would not round-trip.
    x = (rng.standard_normal((3, 4)) * 1e3 + 1 / 3).astype(dtype)
    before = x.copy()
    grad = numerical_gradient(lambda a: np.sum(np.sin(a)), x, h=1e-3)
    assert x.dtype == dtype and grad.dtype == dtype and grad.shape == x.shape
    assert x.tobytes() == before.tobytes()


def test_x_restored_when_f_returns_a_view_of_x():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = x.copy()
    grad = numerical_gradient(lambda a: a[:, 0], x, df=np.array([5.0, 7.0]))
    assert np.allclose(grad, [[5.0, 0.0], [7.0, 0.0]])
    assert x.tobytes() == before.tobytes()


def test_df_gives_the_gradient_of_sum_f_times_df(rng):
    x = rng.standard_normal((2, 3))
    W = rng.standard_normal((3, 4))
    df = rng.standard_normal((2, 4))
    grad = numerical_gradient(lambda a: a @ W, x, df=df)
    assert rel_error(grad, df @ W.T) < 1e-7
    reduced = numerical_gradient(lambda a: np.sum((a @ W) * df), x)
    assert rel_error(grad, reduced) < 1e-9


def test_without_df_f_must_return_one_number():
    with pytest.raises(ValueError):
        numerical_gradient(lambda a: a * 2, np.ones(3))

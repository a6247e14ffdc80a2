"""Numerical gradients, for checking every backward pass in the course.

Explained in ``notebooks/00_setup`` and used from ``02_rnn_bptt`` on: a backward pass is
trusted only once it agrees with central differences in float64.
"""

import inspect

import numpy as np


def numerical_gradient(f, x, df=None, h=1e-5):
    """Central-difference gradient of ``f`` at ``x``, one entry at a time.

    Args:
        f: function of one argument, called as ``f(x)`` with the perturbed array itself;
            returns a scalar, or an array of any shape when ``df`` is given. A closure
            that ignores its argument and reads ``x`` directly works the same.
        x: float array of any shape; perturbed in place and restored bitwise.
        df: optional upstream gradient, the shape of ``f(x)``'s output; then the result
            is the gradient of ``sum(f(x) * df)``. None (the default): ``f`` returns a scalar.
        h: step size; default 1e-5.

    Returns:
        grad: array of ``x``'s shape and dtype.

    Raises:
        TypeError: if ``f`` cannot be called with one argument (e.g. ``lambda: loss()``).
    """
    _check_one_argument(f, x)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix].copy()  # a copy, so restoring is bitwise even for float32
        x[ix] = old + h
        # f may return a view of x: reduce to a number before x changes again.
        f_plus = _scalar(f(x), df)
        x[ix] = old - h
        f_minus = _scalar(f(x), df)
        x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def _check_one_argument(f, x):
    # Checked before the first call, so that a TypeError raised inside f is f's own.
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # some builtins have no signature: just call them
        return
    try:
        signature.bind(x)
    except TypeError:
        got = "a function of no arguments" if not signature.parameters else f"f{signature}"
        raise TypeError("numerical_gradient: f must take the array as its one argument, f(x) "
                        f"(e.g. lambda x: loss(x)); got {got}") from None


def _scalar(out, df):
    if df is None:
        return float(np.asarray(out).item())  # .item() refuses anything but one element
    return float(np.sum(np.asarray(out) * df))


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(1e-8, |a| + |b|)`` as a float.

    Args:
        a: an array (or a number), e.g. the analytic gradient.
        b: an array of ``a``'s shape, e.g. the numerical gradient.

    Returns:
        float: the largest relative error over all entries.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))

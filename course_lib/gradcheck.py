"""Numerical gradients, for checking every backward pass in the course.

Derived in ``notebooks/02_rnn_bptt`` (and first used in ``00_setup``): a backward pass is
trusted only once it agrees with central differences in float64.
"""

import numpy as np


def numerical_gradient(f, x, df=None, h=1e-5):
    """Central-difference gradient of ``f`` at ``x``, one entry at a time.

    Args:
        f: function of no arguments that reads ``x``; returns a scalar, or an array
            of any shape when ``df`` is given.
        x: float array of any shape; perturbed in place and restored bitwise.
        df: optional upstream gradient, the shape of ``f()``'s output; then the result
            is the gradient of ``sum(f() * df)``.
        h: step size.

    Returns:
        grad: array of ``x``'s shape and dtype.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        ix = it.multi_index
        old = x[ix].copy()  # a copy, so restoring is bitwise even for float32
        x[ix] = old + h
        # f may return a view of x: reduce to a number before x changes again.
        f_plus = _scalar(f(), df)
        x[ix] = old - h
        f_minus = _scalar(f(), df)
        x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def _scalar(out, df):
    if df is None:
        return float(np.asarray(out).item())  # .item() refuses anything but one element
    return float(np.sum(np.asarray(out) * df))


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(1e-8, |a| + |b|)`` as a float."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))

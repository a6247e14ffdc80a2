"""Activation functions, exact even at the extremes.

Derived in ``notebooks/01_activations_and_cross_entropy``. The textbook formulas
``1 / (1 + exp(-x))`` and ``exp(x) / sum(exp(x))`` overflow for large ``|x|``; each
function below is rearranged so that ``exp`` only ever sees numbers <= 0, whose
result lies in ``[0, 1]``. Nothing is clipped, so the answers stay exact: sigmoid(1e4)
is exactly 1.0 and softmax([1e4, -1e4]) exactly [1.0, 0.0].

All functions take a floating array of any shape, return a new array of the same
shape and dtype (float32 stays float32), and never modify their input.

The ``*_grad`` helpers give the elementwise derivative from the activation's
*output*, the form backward passes use because the output is already in the cache.
"""

import numpy as np

from ._checks import float_dtype


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, elementwise.

    Args:
        x: floating array of any shape.

    Returns:
        s: array of ``x``'s shape and dtype, in ``[0, 1]``.

    Raises:
        ValueError: ``x`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(x=x)
    x = np.asarray(x)
    # exp(-|x|) is in (0, 1]: it cannot overflow, and it only underflows to 0 where
    # the exact answer rounds to 0 or 1 anyway.
    with np.errstate(under="ignore"):  # exp(-1e4) == 0.0 is the exact answer, not an error
        z = np.exp(-np.abs(x))
    # x >= 0: 1 / (1 + e^-x).  x < 0: multiply top and bottom by e^x -> e^x / (1 + e^x).
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def tanh(x):
    """Hyperbolic tangent, elementwise (NumPy's is already exact at the extremes).

    Args:
        x: floating array of any shape.

    Returns:
        t: array of ``x``'s shape and dtype, in ``[-1, 1]``.

    Raises:
        ValueError: ``x`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(x=x)
    return np.tanh(x)


def relu(x):
    """Rectified linear unit ``max(x, 0)``, elementwise.

    Args:
        x: floating array of any shape.

    Returns:
        r: array of ``x``'s shape and dtype.

    Raises:
        ValueError: ``x`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(x=x)
    return np.maximum(x, 0)


def softmax(x, axis=-1):
    """Softmax ``exp(x) / sum(exp(x))`` along ``axis``.

    Args:
        x: floating array of any shape, e.g. logits ``(N, C)`` or ``(N, T, C)``.
        axis: the axis that is normalised (the classes); default -1, the last.

    Returns:
        p: array of ``x``'s shape and dtype; non-negative, sums to 1 along ``axis``.

    Raises:
        ValueError: ``x`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(x=x)
    # Softmax is unchanged by subtracting a constant from a row; subtracting the row's
    # max makes every exponent <= 0, and the max itself contributes exp(0) = 1.
    shifted = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):  # exp(-2e4) == 0.0 is the exact answer
        e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """Log of the softmax along ``axis``, without ever computing ``log(0)``.

    Args:
        x: floating array of any shape, e.g. logits ``(N, C)`` or ``(N, T, C)``.
        axis: the axis that is normalised (the classes); default -1, the last.

    Returns:
        logp: array of ``x``'s shape and dtype, all <= 0.

    Raises:
        ValueError: ``x`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(x=x)
    # log softmax(x) = (x - m) - log(sum(exp(x - m))) with m the row max: the sum is
    # at least 1 (the max's own term), so the log is finite and never large.
    shifted = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):  # terms that underflow to 0 are negligible in the sum
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def sigmoid_grad(s):
    """Derivative of the sigmoid from its output: ``s * (1 - s)`` where ``s = sigmoid(x)``.

    Args:
        s: output of :func:`sigmoid`, any shape.

    Returns:
        ds_dx: array of ``s``'s shape and dtype.

    Raises:
        ValueError: ``s`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(s=s)
    return s * (1 - s)


def tanh_grad(t):
    """Derivative of tanh from its output: ``1 - t**2`` where ``t = tanh(x)``.

    Args:
        t: output of :func:`tanh`, any shape.

    Returns:
        dt_dx: array of ``t``'s shape and dtype.

    Raises:
        ValueError: ``t`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(t=t)
    return 1 - t * t


def relu_grad(r):
    """Derivative of ReLU from its output: 1 where ``r = relu(x) > 0``, else 0.

    At x = 0 the derivative is undefined; like PyTorch we use 0 there.

    Args:
        r: output of :func:`relu`, any shape.

    Returns:
        dr_dx: array of ``r``'s shape and dtype, holding 0s and 1s.

    Raises:
        ValueError: ``r`` is not a floating-point array (integers and booleans are refused).
    """
    float_dtype(r=r)
    r = np.asarray(r)
    return (r > 0).astype(r.dtype)

"""Argument checks shared by every kernel.

The contract asks for a ``ValueError`` that names the argument and gives the expected
and the actual shape, and for nothing to be broadcast silently. These helpers say that
once, so every kernel reads ``check_shape("Wh", Wh, (H, H))`` instead of an ``if``.
"""

import numbers

import numpy as np


def check_ndim(name, a, ndim, layout):
    """Raise unless ``a`` has ``ndim`` dimensions; ``layout`` names them, e.g. "(N, T, D)"."""
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {layout}, got shape {a.shape}")


def check_shape(name, a, expected):
    """Raise unless ``a.shape == expected`` exactly (no broadcasting)."""
    shape = np.shape(a)
    if shape != tuple(expected):
        raise ValueError(f"{name}: expected shape {tuple(expected)}, got {shape}")


def float_dtype(**arrays):
    """The floating dtype the kernel computes in: the inputs' common type.

    float32 inputs stay float32; integer or boolean inputs are refused rather than
    silently turned into float64.
    """
    for name, a in arrays.items():
        if not np.issubdtype(np.asarray(a).dtype, np.floating):
            raise ValueError(f"{name}: expected a floating-point array, got dtype {np.asarray(a).dtype}")
    return np.result_type(*arrays.values())


def recurrent_dims(x, h, Wx, Wh, biases, gates, sequence, h_name):
    """Check the arguments of a recurrent kernel and return ``(N, T, D, H)``.

    N, T and D are read from ``x``, H from ``Wh``; every other argument must agree.

    Args:
        x: ``(N, T, D)`` when ``sequence`` else ``(N, D)`` (then T is 1).
        h: the initial or previous hidden state, ``(N, H)``, called ``h_name``.
        Wx, Wh: ``(D, gates * H)`` and ``(H, gates * H)``.
        biases: dict name -> bias, each ``(gates * H,)``.
        gates: how many ``H``-wide blocks the cell computes (1 rnn, 3 gru, 4 lstm).
    """
    if sequence:
        check_ndim("x", x, 3, "(N, T, D)")
        N, T, D = np.shape(x)
    else:
        check_ndim("x", x, 2, "(N, D)")
        (N, D), T = np.shape(x), 1
    check_ndim("Wh", Wh, 2, f"(H, {gates}H)" if gates > 1 else "(H, H)")
    H = np.shape(Wh)[0]
    check_shape("Wh", Wh, (H, gates * H))
    check_shape("Wx", Wx, (D, gates * H))
    for name, bias in biases.items():
        check_shape(name, bias, (gates * H,))
    check_shape(h_name, h, (N, H))
    return N, T, D, H


def check_count(name, value, minimum=1):
    """A whole number ``>= minimum`` as a plain ``int``, or ``ValueError`` naming ``name``.

    Accepts Python and NumPy integers; refuses ``bool``, floats (even ``3.0``) and
    anything smaller than ``minimum``. A plain ``int`` keeps configs JSON-able.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)

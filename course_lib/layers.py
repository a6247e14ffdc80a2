"""Affine and embedding layers, forward and backward; the dropout mask.

Derived in ``notebooks/02_rnn_bptt``. Row-vector form throughout: ``out = x @ W + b``
with ``W`` of shape (D, M), so the batch is the first axis.

Every forward returns ``(out, cache)`` and every backward takes ``(dout, cache)`` and
returns the gradients in the order of the forward's inputs. Forwards check shapes
(a ValueError names the argument, the expected and the actual shape; nothing is
broadcast), never modify their inputs, and keep the dtype (float32 stays float32).

:func:`dropout_mask` is not a forward kernel: it draws the mask a model multiplies an
activation by in training (inverted dropout), and the same mask scales the gradient.
"""

import numpy as np

from ._checks import check_ndim, check_shape, float_dtype


def affine_forward(x, W, b):
    """Affine map of a batch of row vectors: ``out = x @ W + b``.

    Args:
        x: ``(N, D)`` inputs.
        W: ``(D, M)`` weights.
        b: ``(M,)`` bias.

    Returns:
        out: ``(N, M)``.
        cache: ``(x, W)``, for :func:`affine_backward`.

    Raises:
        ValueError: an argument has the wrong shape (the message names it and gives the
            expected and the actual shape), or is not a floating-point array.
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    check_ndim("x", x, 2, "(N, D)")
    check_ndim("W", W, 2, "(D, M)")
    float_dtype(x=x, W=W, b=b)
    N, D = x.shape
    M = W.shape[1]
    check_shape("W", W, (D, M))
    check_shape("b", b, (M,))
    out = x @ W + b
    return out, (x, W)


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    Args:
        dout: ``(N, M)`` upstream gradient.
        cache: from :func:`affine_forward`.

    Returns:
        dx: ``(N, D)`` = ``dout @ W.T``.
        dW: ``(D, M)`` = ``x.T @ dout``.
        db: ``(M,)``, ``dout`` summed over the batch (``b`` was added to every row).

    Raises:
        ValueError: ``dout`` is not ``(N, M)``.
    """
    x, W = cache
    dout = np.asarray(dout)
    check_shape("dout", dout, (x.shape[0], W.shape[1]))
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db


def temporal_affine_forward(x, W, b):
    """The same affine map applied at every time step: ``out[:, t] = x[:, t] @ W + b``.

    Args:
        x: ``(N, T, D)`` inputs, e.g. the hidden states of an RNN.
        W: ``(D, M)`` weights, shared by all time steps.
        b: ``(M,)`` bias.

    Returns:
        out: ``(N, T, M)``, e.g. the scores over a vocabulary of M symbols.
        cache: ``(x, W)``, for :func:`temporal_affine_backward`.

    Raises:
        ValueError: an argument has the wrong shape (the message names it and gives the
            expected and the actual shape), or is not a floating-point array.
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    check_ndim("x", x, 3, "(N, T, D)")
    check_ndim("W", W, 2, "(D, M)")
    float_dtype(x=x, W=W, b=b)
    N, T, D = x.shape
    M = W.shape[1]
    check_shape("W", W, (D, M))
    check_shape("b", b, (M,))
    # One (N*T, D) @ (D, M) product instead of T small ones.
    out = (x.reshape(N * T, D) @ W + b).reshape(N, T, M)
    return out, (x, W)


def temporal_affine_backward(dout, cache):
    """Backward pass of temporal_affine_forward.

    Args:
        dout: ``(N, T, M)`` upstream gradient.
        cache: from :func:`temporal_affine_forward`.

    Returns:
        dx: ``(N, T, D)``.
        dW: ``(D, M)``, summed over batch and time (``W`` is shared by every step).
        db: ``(M,)``, summed over batch and time.

    Raises:
        ValueError: ``dout`` is not ``(N, T, M)``.
    """
    x, W = cache
    N, T, D = x.shape
    M = W.shape[1]
    check_shape("dout", dout, (N, T, M))
    dout_2d = np.reshape(dout, (N * T, M))
    dx = (dout_2d @ W.T).reshape(N, T, D)
    dW = x.reshape(N * T, D).T @ dout_2d
    db = dout_2d.sum(axis=0)
    return dx, dW, db


def embedding_forward(idx, W):
    """Look up one row of W per integer index: ``out[n, t] = W[idx[n, t]]``.

    Equivalent to ``onehot(idx) @ W``, without building the one-hot vectors.

    Args:
        idx: integer ``(N, T)``, each in ``[0, V)``.
        W: ``(V, D)`` embedding table, one row per symbol.

    Returns:
        out: ``(N, T, D)``, ``W``'s dtype, a new array (not a view of ``W``).
        cache: ``(idx, W.shape, W.dtype)``, for :func:`embedding_backward`.

    Raises:
        ValueError: ``idx`` is not a 2-D integer array, or holds an index outside
            ``[0, V)`` (the message gives the first one and its position); ``W`` is not
            a 2-D floating-point array.
    """
    idx, W = np.asarray(idx), np.asarray(W)
    check_ndim("idx", idx, 2, "(N, T)")
    check_ndim("W", W, 2, "(V, D)")
    if not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"idx: expected an integer array (N, T), got dtype {idx.dtype}")
    float_dtype(W=W)
    V = W.shape[0]
    bad = (idx < 0) | (idx >= V)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"idx: index {idx[position]} at position {position} is outside [0, {V})")
    out = W[idx]  # integer-array indexing copies
    return out, (idx, W.shape, W.dtype)


def embedding_backward(dout, cache):
    """Backward pass of embedding_forward: scatter-add dout into the used rows.

    Args:
        dout: ``(N, T, D)`` upstream gradient.
        cache: from :func:`embedding_forward`.

    Returns:
        dW: ``(V, D)``, ``W``'s dtype; row ``v`` is the sum of ``dout[n, t]`` over
            every ``(n, t)`` with ``idx[n, t] == v``, and zero for symbols that did not
            occur. Only ``dW``: the integer ``idx`` has no gradient.

    Raises:
        ValueError: ``dout`` is not ``(N, T, D)``.
    """
    idx, W_shape, W_dtype = cache
    check_shape("dout", dout, idx.shape + (W_shape[1],))
    dW = np.zeros(W_shape, dtype=W_dtype)
    # Not ``dW[idx] += dout``: with a repeated index that adds only one of the
    # contributions. np.add.at is unbuffered, so every occurrence accumulates.
    np.add.at(dW, idx, dout)
    return dW


def dropout_mask(p, shape, dtype, rng):
    """An inverted-dropout mask: 0 with probability ``p``, else ``1 / (1 - p)``.

    Multiply an activation by it in training; the scaling keeps each unit's expected
    value what it is without dropout, so nothing changes at evaluation time (no mask).
    The backward pass multiplies the gradient by the same mask: a dropped unit passed
    nothing forward and gets nothing back.

    Args:
        p: the probability of dropping a unit, in ``[0, 1)``.
        shape: the activation's shape, e.g. ``(N, T, H)``: a fresh draw at every position.
        dtype: the activation's dtype (the mask keeps it).
        rng: ``np.random.Generator``; two generators seeded alike draw the same mask.

    Returns:
        mask: array of ``shape`` and ``dtype``, or None when ``p == 0`` (no dropout).
    """
    if p == 0:
        return None
    mask = (rng.random(shape) >= p).astype(dtype)
    mask /= 1 - p  # in place: the mask keeps its dtype
    return mask

"""Affine and embedding layers, forward and backward.

Derived in ``notebooks/02_rnn_bptt``. Row-vector form throughout: ``out = x @ W + b``
with ``W`` of shape (D, M), so the batch is the first axis.

Every forward returns ``(out, cache)`` and every backward takes ``(dout, cache)`` and
returns the gradients in the order of the forward's inputs. Forwards check shapes
(a ValueError names the argument, the expected and the actual shape; nothing is
broadcast), never modify their inputs, and keep the dtype (float32 stays float32).
"""

import numpy as np

from ._checks import check_ndim, check_shape, float_dtype


def affine_forward(x, W, b):
    """Affine map of a batch of row vectors: ``out = x @ W + b``.

    Inputs:
    - x: (N, D) inputs.
    - W: (D, M) weights.
    - b: (M,) bias.

    Returns a tuple of:
    - out: (N, M).
    - cache: (x, W), for affine_backward.
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

    Inputs:
    - dout: (N, M) upstream gradient.
    - cache: from affine_forward.

    Returns a tuple of:
    - dx: (N, D) = dout @ W.T
    - dW: (D, M) = x.T @ dout
    - db: (M,), dout summed over the batch (b was added to every row).
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

    Inputs:
    - x: (N, T, D) inputs, e.g. the hidden states of an RNN.
    - W: (D, M) weights, shared by all time steps.
    - b: (M,) bias.

    Returns a tuple of:
    - out: (N, T, M), e.g. the scores over a vocabulary of M symbols.
    - cache: (x, W), for temporal_affine_backward.
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

    Inputs:
    - dout: (N, T, M) upstream gradient.
    - cache: from temporal_affine_forward.

    Returns a tuple of:
    - dx: (N, T, D)
    - dW: (D, M), summed over batch and time (W is shared by every step).
    - db: (M,), summed over batch and time.
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

    Inputs:
    - idx: integer (N, T), each in [0, V).
    - W: (V, D) embedding table, one row per symbol.

    Returns a tuple of:
    - out: (N, T, D), a new array (not a view of W).
    - cache: (idx, W.shape, W.dtype), for embedding_backward.
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

    Inputs:
    - dout: (N, T, D) upstream gradient.
    - cache: from embedding_forward.

    Returns:
    - dW: (V, D); row v is the sum of dout[n, t] over every (n, t) with idx[n, t] == v,
      and zero for symbols that did not occur.
    """
    idx, W_shape, W_dtype = cache
    check_shape("dout", dout, idx.shape + (W_shape[1],))
    dW = np.zeros(W_shape, dtype=W_dtype)
    # Not ``dW[idx] += dout``: with a repeated index that adds only one of the
    # contributions. np.add.at is unbuffered, so every occurrence accumulates.
    np.add.at(dW, idx, dout)
    return dW

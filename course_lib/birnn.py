"""Bidirectional recurrent layers over any cell: rnn, lstm or gru.

Derived in ``notebooks/07_gru_birnn`` (to come). One cell reads the sequence left to right,
a second one (its own weights) reads it right to left, and each step's output is the
two states side by side: at step t the forward state has read ``x[:, :t+1]`` and the
backward state ``x[:, t:]``.

Right-padded batches (``lengths``): the backward cell must start at each sequence's own
last valid step, not at the padding. Reversing each sequence *within its length* puts
the padding after the valid steps in both directions, so the ordinary sequence kernels
run unchanged and padded steps can never influence valid ones; their outputs are then
zeroed (the semantics of PyTorch's packed sequences).

Shapes: N batch, T time steps, D input features, H hidden units per direction.
"""

from dataclasses import dataclass

import numpy as np

from ._checks import check_ndim, check_shape, float_dtype
from .cells import CELLS, get_cell


@dataclass
class BidirectionalCache:
    """Caches: filled by :func:`bidirectional_forward`, read by :func:`bidirectional_backward`."""

    cell: str
    cache_fw: object  # the forward-direction cell's cache
    cache_bw: object  # the backward-direction cell's cache (on reversed inputs)
    reverse: np.ndarray  # (N, T) time index that reverses each sequence within its length
    valid: np.ndarray | None  # (N, T, 1) True at valid steps, False at padding; None: all valid


def _weights(params, names, which):
    """The weight arrays of a params dict, in the cell's argument order."""
    if not isinstance(params, dict) or set(params) != set(names):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{which}: expected a dict with keys {list(names)}, got {got}")
    return [params[name] for name in names]


def _reverse_index(lengths, N, T):
    """``(N, T)`` index: step t of the reversed sequence n is step ``reverse[n, t]``.

    Within a sequence's length the order is reversed; padding stays where it is.
    Applying the index twice gives back the original order.
    """
    t = np.arange(T)
    if lengths is None:
        return np.broadcast_to(t[::-1], (N, T))
    return np.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)


def _check_lengths(lengths, N, T):
    lengths = np.asarray(lengths)
    check_shape("lengths", lengths, (N,))
    if not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths: expected integers, got dtype {lengths.dtype}")
    bad = np.flatnonzero((lengths < 1) | (lengths > T))
    if bad.size:
        n = bad[0]
        raise ValueError(f"lengths: every length must be in [1, T={T}]; lengths[{n}] = {lengths[n]}")
    return lengths


def bidirectional_forward(x, cell, params_fw, params_bw, lengths=None):
    """A bidirectional recurrent layer with zero initial states.

    Args:
        x: ``(N, T, D)`` input sequence, right-padded when ``lengths`` is given.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        params_fw: the forward direction's weights, a dict keyed by the cell's weight
            argument names (``"Wx", "Wh", "b"``, or for gru ``"Wx", "Wh", "bx", "bh"``).
        params_bw: the backward direction's weights, keyed and shaped like ``params_fw``.
        lengths: optional integer ``(N,)``, ``1 <= lengths[n] <= T``, the valid steps;
            None (the default): every sequence is T steps long.

    Returns:
        out: ``(N, T, 2H)``, forward states then backward states on the last axis; zero at
            padded positions.
        cache: :class:`BidirectionalCache` for :func:`bidirectional_backward`.

    Raises:
        ValueError: ``cell`` is unknown; ``x`` is not 3-D; a params dict has other keys
            than the cell's weights, or a shape does not fit (``params_bw`` must match
            ``params_fw``); an array is not floating-point; ``lengths`` is not integer
            ``(N,)`` with values in ``[1, T]``.
    """
    spec = get_cell(cell)
    forward, names = spec.forward, spec.weights
    check_ndim("x", x, 3, "(N, T, D)")
    N, T, _ = np.shape(x)
    w_fw = _weights(params_fw, names, "params_fw")
    w_bw = _weights(params_bw, names, "params_bw")
    check_ndim("params_fw['Wh']", w_fw[1], 2, "(H, gates * H)")
    for name, a_fw, a_bw in zip(names, w_fw, w_bw):
        check_shape(f"params_bw[{name!r}]", a_bw, np.shape(a_fw))
    H = np.shape(w_fw[1])[0]
    dtype = float_dtype(x=x, **{f"params_fw[{k!r}]": v for k, v in zip(names, w_fw)})
    x = np.asarray(x, dtype)
    h0 = np.zeros((N, H), dtype)
    valid = None
    if lengths is not None:
        lengths = _check_lengths(lengths, N, T)
        valid = (np.arange(T) < lengths[:, None])[:, :, None]
        x = np.where(valid, x, 0)  # padding may hold anything, even NaN: never let it in

    rows = np.arange(N)[:, None]
    reverse = _reverse_index(lengths, N, T)
    try:
        h_fw, cache_fw = forward(x, h0, *w_fw)
    except ValueError as error:  # name the dict the caller passed
        raise ValueError(f"params_fw: {error}") from error
    h_bw_reversed, cache_bw = forward(x[rows, reverse], h0, *w_bw)
    out = np.concatenate([h_fw, h_bw_reversed[rows, reverse]], axis=2)
    if valid is not None:
        out = np.where(valid, out, 0)
    return out, BidirectionalCache(cell=cell, cache_fw=cache_fw, cache_bw=cache_bw,
                                   reverse=reverse, valid=valid)


def bidirectional_backward(dout, cache):
    """Backward pass of :func:`bidirectional_forward`.

    Args:
        dout: ``(N, T, 2H)`` upstream gradient; its values at padded positions are ignored.
        cache: from :func:`bidirectional_forward`.

    Returns:
        dx: ``(N, T, D)``, zero at padded positions.
        grads_fw, grads_bw: dicts keyed like the params, one per direction.
    """
    spec = CELLS[cache.cell]
    backward, names = spec.backward, spec.weights
    H = dout.shape[2] // 2
    if cache.valid is not None:
        dout = np.where(cache.valid, dout, 0)  # ignored, even if NaN
    rows = np.arange(dout.shape[0])[:, None]
    dx_fw, _, *grads_fw = backward(dout[..., :H], cache.cache_fw)
    dx_bw_reversed, _, *grads_bw = backward(dout[..., H:][rows, cache.reverse], cache.cache_bw)
    dx = dx_fw + dx_bw_reversed[rows, cache.reverse]
    if cache.valid is not None:
        dx = np.where(cache.valid, dx, 0)
    return dx, dict(zip(names, grads_fw)), dict(zip(names, grads_bw))

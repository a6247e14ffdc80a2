"""The three recurrent cells behind one table, and one layer of any of them.

The course derives each cell in its own notebook (``rnn`` in ``notebooks/02_rnn_bptt``,
``lstm`` in ``06_lstm`` and ``gru`` in ``07_gru_birnn``, both to come). Code that works with
*any* cell, the models (:mod:`course_lib.models`) and the bidirectional layer
(:mod:`course_lib.birnn`), looks the cell up in :data:`CELLS` instead of branching on
its name:

- how many ``H``-wide gate blocks it has (``Wx`` is ``(D, gates * H)``),
- the names of its weight arguments, in the kernels' order,
- its step and sequence kernels.

Built on that table: a fresh initialisation of one layer (:func:`init_weights`), and one
layer over a chunk (:func:`layer_forward`, :func:`layer_backward`), which also knows
what state each cell carries (``h`` for rnn and gru, the pair ``(h, c)`` for lstm).

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import gru, lstm, rnn


@dataclass(frozen=True)
class Cell:
    """One row of :data:`CELLS`: what code that handles any cell needs to know."""

    gates: int  # H-wide blocks along the gate axis: Wx (D, gates * H), Wh (H, gates * H)
    weights: tuple  # the weight arguments of the kernels, in order
    step_forward: Callable
    step_backward: Callable
    forward: Callable
    backward: Callable


CELLS = {
    "rnn": Cell(1, ("Wx", "Wh", "b"), rnn.rnn_step_forward, rnn.rnn_step_backward,
                rnn.rnn_forward, rnn.rnn_backward),
    "lstm": Cell(4, ("Wx", "Wh", "b"), lstm.lstm_step_forward, lstm.lstm_step_backward,
                 lstm.lstm_forward, lstm.lstm_backward),
    "gru": Cell(3, ("Wx", "Wh", "bx", "bh"), gru.gru_step_forward, gru.gru_step_backward,
                gru.gru_forward, gru.gru_backward),
}


def get_cell(cell):
    """The :class:`Cell` named ``cell``, or ``ValueError`` listing the names there are.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.

    Returns:
        Cell: the row of :data:`CELLS`.

    Raises:
        ValueError: ``cell`` is not a key of :data:`CELLS`.
    """
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {', '.join(map(repr, CELLS))}, got {cell!r}")
    return CELLS[cell]


def orthogonal(rng, H):
    """A random ``(H, H)`` orthogonal matrix, from the QR decomposition of a Gaussian.

    The sign fix (column j times the sign of ``r[j, j]``) makes the result uniformly
    distributed over orthogonal matrices. Without it, QR's sign convention biases it.

    Args:
        rng: ``np.random.Generator``; draws the ``(H, H)`` Gaussian.
        H: the matrix's size.

    Returns:
        float64 array ``(H, H)`` with orthonormal columns.
    """
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return q * np.sign(np.diag(r))


def init_weights(rng, cell, D, H, dtype):
    """Fresh weights of one layer, keyed like the kernel's arguments.

    - ``Wx`` ``(D, G)``: uniform(-1/sqrt(H), 1/sqrt(H)), PyTorch's default for its
      recurrent layers (``G = gates * H``).
    - ``Wh`` ``(H, G)``: each ``(H, H)`` gate block a random orthogonal matrix. Repeated
      products of an orthogonal matrix neither grow nor shrink a vector, so at the start
      gradients through time neither explode nor vanish because of ``Wh``.
    - Biases ``(G,)``: zero, except the LSTM's forget-gate block ``b[H:2H]``, which is 1.
      With ``f = sigmoid(1) = 0.73`` the cell starts out remembering.

    Args:
        rng: ``np.random.Generator``; draws ``Wx``, then each block of ``Wh``.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        D: input features.
        H: hidden units.
        dtype: of every array.

    Returns:
        dict: weight name -> array, in the kernel's argument order.

    Raises:
        ValueError: ``cell`` is not a key of :data:`CELLS`.
    """
    spec = get_cell(cell)
    bound = 1 / np.sqrt(H)
    p = {"Wx": rng.uniform(-bound, bound, (D, spec.gates * H)),
         "Wh": np.concatenate([orthogonal(rng, H) for _ in range(spec.gates)], axis=1)}
    for name in spec.weights[2:]:
        p[name] = np.zeros(spec.gates * H)
    if cell == "lstm":
        p["b"][H:2 * H] = 1.0  # forget gate: blocks are i, f, g, o
    return {name: a.astype(dtype) for name, a in p.items()}


def layer_forward(cell, x, state, weights):
    """One unidirectional recurrent layer over a chunk: ``x (N, T, D)`` -> ``h (N, T, H)``.

    A single step (T == 1, as when sampling one character at a time) goes through the
    step kernel: it computes the same thing, without the per-call set-up of the LSTM
    sequence kernel (it rearranges its weights before the first step, about ten times
    the cost of one step at H=256).

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        x: ``(N, T, D)`` inputs.
        state: ``h0 (N, H)`` for rnn and gru, the pair ``(h0, c0)`` for lstm.
        weights: dict keyed by the cell's weight names (the arrays themselves).

    Returns:
        h: ``(N, T, H)`` every step's hidden state.
        cache: the kernel's cache, for :func:`layer_backward`.
        final_state: in the form of ``state``, fresh arrays: what the next chunk of a
            long sequence starts from.
    """
    spec = CELLS[cell]
    w = [weights[name] for name in spec.weights]
    if x.shape[1] == 1:
        if cell == "lstm":
            h, c, cache = spec.step_forward(x[:, 0], *state, *w)
            return h[:, None], cache, (h.copy(), c)
        h, cache = spec.step_forward(x[:, 0], state, *w)
        return h[:, None], cache, h.copy()
    if cell == "lstm":
        h0, c0 = state
        h, cache = spec.forward(x, h0, *w, c0=c0)
        return h, cache, (h[:, -1].copy(), cache.c_final)
    h, cache = spec.forward(x, state, *w)
    return h, cache, h[:, -1].copy()


def layer_backward(cell, dh, cache, input_grad=True):
    """Backward of :func:`layer_forward` (truncated BPTT: the initial state is a constant).

    The gradient on the initial state is dropped, and for the LSTM the final cell state
    gets none: in truncated BPTT the carried state is treated as a constant.

    Args:
        cell: as given to :func:`layer_forward`.
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`layer_forward`.
        input_grad: default True; False for a first layer reading data: then ``dx`` is None
            (and, for T > 1, never computed; a single step's kernel computes it and it is
            dropped).

    Returns:
        dx: ``(N, T, D)`` or None.
        grads: dict weight name -> gradient, each the shape of its weight.
    """
    spec = CELLS[cell]
    if dh.shape[1] == 1:  # the forward used the step kernel
        if cell == "lstm":
            dx, _dh0, _dc0, *grads = spec.step_backward(dh[:, 0], np.zeros_like(dh[:, 0]), cache)
        else:
            dx, _dh0, *grads = spec.step_backward(dh[:, 0], cache)
        return (dx[:, None] if input_grad else None), dict(zip(spec.weights, grads))
    dx, _dh0, *grads = spec.backward(dh, cache, input_grad=input_grad)
    return dx, dict(zip(spec.weights, grads))

"""The LSTM, gate blocks in the order i, f, g, o (as PyTorch and cuDNN).

    a = x_t @ Wx + h_{t-1} @ Wh + b              (N, 4H)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);   g = tanh(a_g)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Derived in ``notebooks/06_lstm`` (to come; ``04_char_rnn`` already trains with it). The step
kernels are that math written once, in the row form of the rest of the course. The sequence
kernels come twice:

- :func:`lstm_forward_reference` / :func:`lstm_backward_reference` are what the
  notebook derives and shows: the step kernels looped over ``t``, and back over ``t``
  carrying ``dh_prev`` and ``dc_prev`` and summing the weight gradients.
- :func:`lstm_forward` / :func:`lstm_backward` compute the same thing (the tests hold
  them to the reference up to rounding), organised for speed, which is why they look
  so different:

  - **Feature-major inside.** Each step works on transposed blocks: the gates are one
    ``(4H, N)`` array ``a.T = Wh.T @ h_prev.T + ...``, so each gate is a contiguous
    ``(H, N)`` slab. NumPy is several times faster on contiguous arrays than on the
    strided column blocks of an ``(N, 4H)`` array, and an LSTM step is mostly such
    elementwise work. The caller only sees the row form: ``x`` and ``h`` are
    transposed once on the way in and out.
  - **Gates stored o, i, f, g.** Then the sigmoids o, i, f are one slab, and one
    ``tanh`` call serves all four gates through ``sigmoid(a) = (1 + tanh(a / 2)) / 2``
    (the halving folded into a scaled copy of the weights); in the backward i, f, g,
    whose gradients are ``dc`` times a factor, are one slab multiplied by ``dc`` at
    once. The weights are reordered once per call, and the gradients put back in the
    order i, f, g, o at the end. The tanh form loses the sigmoid's far tails (it rounds
    to exactly 0 or 1 a little earlier), harmless inside a cell;
    ``activations.sigmoid`` stays exact.
  - **One GEMM per step, from ``[h; x; 1]``.** Each step's input is stacked as
    ``z_t = [h_{t-1}; x_t; 1]`` (one ``(H + D + 1, N)`` slab) and the weights as
    ``W = [Wh; Wx; b]``, so the whole affine map is the single product ``W.T @ z_t``
    (no separate input product, no bias add), and ``h_t`` is written straight into
    the next step's slab. In the backward the same stacking gives ``dh_{t-1}`` and
    ``dx_t`` from one product per step, and all three weight gradients (the bias from
    the row of ones) from one GEMM over all steps.
  - The backward first computes, for all steps at once, every factor that does not
    depend on the gradient flowing back (the gate derivatives); the loop then does only
    what is sequential: a handful of products and one GEMM per step.

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from dataclasses import dataclass

import numpy as np

from ._checks import check_shape, float_dtype, recurrent_dims
from ._scratch import scratch
from .activations import sigmoid


@dataclass
class LSTMStepCache:
    """A step's arrays: filled by :func:`lstm_step_forward`, read by :func:`lstm_step_backward`."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    i: np.ndarray  # (N, H) input gate
    f: np.ndarray  # (N, H) forget gate
    g: np.ndarray  # (N, H) cell candidate
    o: np.ndarray  # (N, H) output gate
    tanh_c: np.ndarray  # (N, H) tanh(c_next)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One time step of an LSTM.

    Args:
        x: ``(N, D)`` inputs at this step.
        h_prev: ``(N, H)`` hidden state of the previous step.
        c_prev: ``(N, H)`` cell state of the previous step.
        Wx: ``(D, 4H)`` input-to-hidden weights, gate blocks i, f, g, o.
        Wh: ``(H, 4H)`` hidden-to-hidden weights, same blocks.
        b: ``(4H,)`` bias, same blocks.

    Returns:
        h_next, c_next: ``(N, H)`` each.
        cache: :class:`LSTMStepCache` for :func:`lstm_step_backward`.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    N, _, _, H = recurrent_dims(x, h_prev, Wx, Wh, {"b": b}, gates=4, sequence=False, h_name="h_prev")
    check_shape("c_prev", c_prev, (N, H))
    dtype = float_dtype(x=x, h_prev=h_prev, c_prev=c_prev, Wx=Wx, Wh=Wh, b=b)
    x, h_prev, c_prev, Wx, Wh, b = (np.asarray(a, dtype) for a in (x, h_prev, c_prev, Wx, Wh, b))
    a = x @ Wx + h_prev @ Wh + b
    i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
    i, f, o, g = sigmoid(i), sigmoid(f), sigmoid(o), np.tanh(g)
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    cache = LSTMStepCache(x=x, h_prev=h_prev, c_prev=c_prev, i=i, f=f, g=g, o=o,
                          tanh_c=tanh_c, Wx=Wx, Wh=Wh)
    return h_next, c_next, cache


def lstm_step_backward(dh_next, dc_next, cache):
    """Backward pass of :func:`lstm_step_forward`.

    Args:
        dh_next: ``(N, H)`` gradient on ``h_next``.
        dc_next: ``(N, H)`` gradient on ``c_next``.
        cache: from :func:`lstm_step_forward`.

    Returns:
        dx ``(N, D)``, dh_prev ``(N, H)``, dc_prev ``(N, H)``, dWx ``(D, 4H)``,
        dWh ``(H, 4H)``, db ``(4H,)``.
    """
    i, f, g, o, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    # c_next reaches the loss directly and through h_next = o * tanh(c_next).
    dc = dc_next + dh_next * o * (1 - tanh_c**2)
    da = np.concatenate([
        dc * g * i * (1 - i),  # sigmoid'(a) = s (1 - s)
        dc * cache.c_prev * f * (1 - f),
        dc * i * (1 - g**2),  # tanh'(a) = 1 - tanh(a)^2
        dh_next * tanh_c * o * (1 - o),
    ], axis=1)
    dx = da @ cache.Wx.T
    dh_prev = da @ cache.Wh.T
    dc_prev = dc * f
    dWx = cache.x.T @ da
    dWh = cache.h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dWx, dWh, db


@dataclass
class LSTMReferenceCache:
    """What :func:`lstm_backward_reference` needs: the caches of the steps, in order.

    Attributes:
        steps: ``T`` :class:`LSTMStepCache` objects; ``steps[t]`` is step ``t``'s.
        c_last: ``(N, H)`` the cell state after the last step (``c0`` when ``T`` is 0).
        Wx: ``(D, 4H)`` and Wh: ``(H, 4H)``, the weights in the computing dtype; they
            give the weight gradients their shape and dtype (also when ``T`` is 0).
    """

    steps: list
    c_last: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray

    @property
    def c_final(self):
        """``(N, H)`` the cell state after the last step, as ``LSTMCache.c_final``; a copy."""
        return self.c_last.copy()


def lstm_forward_reference(x, h0, Wx, Wh, b, *, c0=None):
    """:func:`lstm_forward` as the notebook derives it: :func:`lstm_step_forward` looped.

    Args:
        x: ``(N, T, D)`` input sequence.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, 4H)`` input-to-hidden weights, gate blocks i, f, g, o.
        Wh: ``(H, 4H)`` hidden-to-hidden weights, same blocks.
        b: ``(4H,)`` bias, same blocks.
        c0: ``(N, H)`` initial cell state, keyword-only; None (the default): zeros.

    Returns:
        h: ``(N, T, H)`` the hidden state at every step.
        cache: :class:`LSTMReferenceCache` for :func:`lstm_backward_reference`;
        ``cache.c_final`` is the ``(N, H)`` cell state after the last step.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    N, T, _, H = recurrent_dims(x, h0, Wx, Wh, {"b": b}, gates=4, sequence=True, h_name="h0")
    if c0 is not None:
        check_shape("c0", c0, (N, H))
    inputs = {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b} | ({} if c0 is None else {"c0": c0})
    dtype = float_dtype(**inputs)
    x = np.asarray(x)
    h = np.empty((N, T, H), dtype)
    steps = []
    h_prev, c_prev = h0, np.zeros((N, H), dtype) if c0 is None else c0
    for t in range(T):
        h_prev, c_prev, step_cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)
        h[:, t] = h_prev
        steps.append(step_cache)
    cache = LSTMReferenceCache(steps=steps, c_last=np.asarray(c_prev, dtype),
                               Wx=np.asarray(Wx, dtype), Wh=np.asarray(Wh, dtype))
    return h, cache


def lstm_backward_reference(dh, cache):
    """:func:`lstm_backward` as the notebook derives it: :func:`lstm_step_backward` looped.

    Step ``t``'s hidden state reaches the loss directly (``dh[:, t]``) and through step
    ``t + 1`` (its ``dh_prev``); its cell state only through step ``t + 1`` (its
    ``dc_prev``). The weights are shared by all steps, so their gradients add up.

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`lstm_forward_reference`.

    Returns:
        dx ``(N, T, D)``, dh0 ``(N, H)``, dWx ``(D, 4H)``, dWh ``(H, 4H)``, db ``(4H,)``
        (no gradient for ``c0``, as :func:`lstm_backward`).
    """
    dtype = cache.Wx.dtype
    dh = np.asarray(dh, dtype)  # the forward's dtype throughout
    N, T, H = dh.shape
    dx = np.empty((N, T, cache.Wx.shape[0]), dtype)
    dh_prev = np.zeros((N, H), dtype)  # nothing flows back into the last step from later
    dc_prev = np.zeros((N, H), dtype)
    dWx, dWh, db = np.zeros_like(cache.Wx), np.zeros_like(cache.Wh), np.zeros(4 * H, dtype)
    for t in reversed(range(T)):
        dx_t, dh_prev, dc_prev, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dh_prev, dc_prev, cache.steps[t])
        dx[:, t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_prev, dWx, dWh, db


@dataclass
class LSTMCache:
    """What :func:`lstm_backward` needs; every array feature-major (see the module doc)."""

    z: np.ndarray  # (T + 1, H + D + 1, N) z[t] = [h_{t-1}; x_t; 1], step t's input; z[T, :H] = h_T
    cs: np.ndarray  # (T + 1, H, N) cs[0] = c0.T, cs[t + 1] = c_t.T
    gates: np.ndarray  # (T, 4H, N) activated gates, stored o, i, f, g
    tanh_c: np.ndarray  # (T, H, N) tanh(c_t).T
    W: np.ndarray  # (H + D + 1, 4H) [Wh; Wx; b], columns stored o, i, f, g

    @property
    def c_final(self):
        """``(N, H)`` the cell state after the last step, to carry into the next chunk.

        A fresh array: resetting some rows of it in place must not change this cache.
        """
        return self.cs[-1].T.copy()


def _to_storage_order(W):
    """Columns i, f, g, o (the contract's gate blocks) -> o, i, f, g (the stored order).

    o, i, f are the sigmoids (one slab in the forward); i, f, g are the gates whose
    gradient is ``dc`` times a factor (one slab in the backward). Slicing whole blocks
    copies far faster than indexing columns one by one.
    """
    H = W.shape[1] // 4
    return np.concatenate([W[:, 3 * H:], W[:, :3 * H]], axis=1)


def lstm_forward(x, h0, Wx, Wh, b, *, c0=None):
    """An LSTM over a whole sequence.

    Args:
        x: ``(N, T, D)`` input sequence.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, 4H)`` input-to-hidden weights, gate blocks i, f, g, o.
        Wh: ``(H, 4H)`` hidden-to-hidden weights, same blocks.
        b: ``(4H,)`` bias, same blocks.
        c0: ``(N, H)`` initial cell state, keyword-only; None (the default): zeros.

    Returns:
        h: ``(N, T, H)`` the hidden state at every step.
        cache: :class:`LSTMCache` for :func:`lstm_backward`; ``cache.c_final`` is the
        ``(N, H)`` cell state after the last step.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    N, T, D, H = recurrent_dims(x, h0, Wx, Wh, {"b": b}, gates=4, sequence=True, h_name="h0")
    if c0 is not None:
        check_shape("c0", c0, (N, H))
    inputs = dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b) | ({} if c0 is None else {"c0": c0})
    dtype = float_dtype(**inputs)
    W = np.concatenate([np.asarray(a, dtype).reshape(-1, 4 * H) for a in (Wh, Wx, b)])
    W = _to_storage_order(W)  # (H + D + 1, 4H)
    # tanh(a / 2) for the sigmoid gates: halve their rows once, not every step.
    half = np.ones((4 * H, 1), dtype)
    half[:3 * H] = 0.5
    WT_half = np.empty((4 * H, H + D + 1), dtype)
    np.multiply(W.T, half, out=WT_half)

    K = H + D + 1
    z = np.empty((T + 1, K, N), dtype)
    z[0, :H] = np.asarray(h0).T
    z[:T, H:H + D] = np.asarray(x).transpose(1, 2, 0)
    z[:T, H + D] = 1
    z[T, H:] = 0  # the last slab only holds h_T
    cs = np.empty((T + 1, H, N), dtype)
    cs[0] = 0 if c0 is None else np.asarray(c0).T
    gates = np.empty((T, 4 * H, N), dtype)
    tanh_c = np.empty((T, H, N), dtype)
    h = np.empty((N, T, H), dtype)

    ig = scratch("lstm_forward.ig", (H, N), dtype)
    for t in range(T):
        a = gates[t]
        np.matmul(WT_half, z[t], out=a)  # x_t Wx + h_{t-1} Wh + b, halved for the sigmoids
        np.tanh(a, out=a)
        sig = a[:3 * H]
        sig *= 0.5
        sig += 0.5  # sigmoid(a) = (1 + tanh(a / 2)) / 2
        o, i, f, g = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        np.multiply(f, cs[t], out=cs[t + 1])
        np.multiply(i, g, out=ig)
        cs[t + 1] += ig
        np.tanh(cs[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=z[t + 1, :H])  # h_t, into the next step's input
        h[:, t] = z[t + 1, :H].T  # the caller's row form; per step, while h_t is in cache

    return h, LSTMCache(z=z, cs=cs, gates=gates, tanh_c=tanh_c, W=W)


def lstm_backward(dh, cache, *, input_grad=True):
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`lstm_forward`.
        input_grad: keyword-only, default True; ``False`` skips the gradient of the input
            and returns ``None`` for ``dx``. For a first layer that reads data (pixels,
            one-hot characters) nothing uses ``dx``, and computing it costs a large product.

    Returns:
        dx ``(N, T, D)``, dh0 ``(N, H)``, dWx ``(D, 4H)``, dWh ``(H, 4H)``, db ``(4H,)``.
    """
    z, cs, gates, tanh_c, W = cache.z, cache.cs, cache.gates, cache.tanh_c, cache.W
    T, H, N = tanh_c.shape
    D = z.shape[1] - H - 1
    dtype = z.dtype
    o, i, f, g = (gates[:, k * H:(k + 1) * H] for k in range(4))  # each (T, H, N)

    # Every gate's gradient is an upstream gradient times a factor known from the
    # forward alone: do = dh_t * tanh(c_t) o'(.), di = dc_t * g i'(.),
    # df = dc_t * c_{t-1} f'(.), dg = dc_t * i g'(.). Compute the factors for all steps
    # at once; the loop then multiplies them in place, turning da into dL/da.
    da = scratch("lstm_backward.da", (T, 4 * H, N), dtype)
    np.subtract(1, gates[:, :3 * H], out=da[:, :3 * H])
    da[:, :3 * H] *= gates[:, :3 * H]  # sigmoid' = s (1 - s) for o, i, f
    da[:, :H] *= tanh_c
    da[:, H:2 * H] *= g
    da[:, 2 * H:3 * H] *= cs[:-1]
    dg = da[:, 3 * H:]
    np.multiply(g, g, out=dg)
    np.subtract(1, dg, out=dg)
    dg *= i  # tanh' = 1 - g^2
    # dc_t = dc_{t+1} f_{t+1} + dh_t * o (1 - tanh(c_t)^2): the second factor, too.
    dh_to_dc = scratch("lstm_backward.dh_to_dc", (T, H, N), dtype)
    np.multiply(tanh_c, tanh_c, out=dh_to_dc)
    np.subtract(1, dh_to_dc, out=dh_to_dc)
    dh_to_dc *= o

    dh_fm = scratch("lstm_backward.dh_fm", (T, H, N), dtype)
    np.copyto(dh_fm, dh.transpose(1, 2, 0))
    # The bias row has no input to pass a gradient to; without dx, neither has x.
    Dx = D if input_grad else 0
    W_hx = W[:H + Dx]
    dz = scratch("lstm_backward.dz", (H + Dx, N), dtype)  # [dh_{t-1}; dx_t]
    dh_t = scratch("lstm_backward.dh_t", (H, N), dtype)
    tmp = scratch("lstm_backward.tmp", (H, N), dtype)
    dx = np.empty((N, T, D), dtype) if input_grad else None
    dc = np.zeros((H, N), dtype)  # dL/dc_t, carried backwards
    dz[:H] = 0  # dL/dh_T through a step T + 1: none
    for t in reversed(range(T)):
        np.add(dh_fm[t], dz[:H], out=dh_t)
        np.multiply(dh_t, dh_to_dc[t], out=tmp)
        dc += tmp
        d = da[t]
        d[:H] *= dh_t  # do
        d[H:].reshape(3, H, N)[...] *= dc  # di, df, dg
        dc *= f[t]  # dL/dc_{t-1} through c_t
        np.matmul(W_hx, d, out=dz)
        if input_grad:
            dx[:, t] = dz[H:].T

    # Every weight gradient over all steps at once: with the steps laid side by side,
    # dW = sum_t z_t @ da_t.T is one GEMM, and the row of ones in z gives db.
    # The copy of da also puts its gate blocks back in the contract's order i, f, g, o.
    z_all = scratch("lstm_backward.z_all", (H + D + 1, T, N), dtype)
    np.copyto(z_all, z[:T].transpose(1, 0, 2))
    da_all = scratch("lstm_backward.da_all", (4 * H, T, N), dtype)
    np.copyto(da_all[:3 * H], da[:, H:].transpose(1, 0, 2))
    np.copyto(da_all[3 * H:], da[:, :H].transpose(1, 0, 2))
    dW = z_all.reshape(H + D + 1, T * N) @ da_all.reshape(4 * H, T * N).T  # explicit: T may be 0
    dh0 = dz[:H].T.copy()  # dz is scratch: never hand it out
    return dx, dh0, dW[H:H + D], dW[:H], dW[H + D]

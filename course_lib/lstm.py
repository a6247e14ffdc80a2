"""The LSTM, gate blocks in the order i, f, g, o (as PyTorch and cuDNN).

    a = x_t @ Wx + h_{t-1} @ Wh + b              (N, 4H)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);   g = tanh(a_g)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Derived in ``notebooks/06_lstm``. The step kernels are that math written once. The
sequence kernels compute the same thing (the tests check a sequence equals its steps
looped), organised for speed:

- one GEMM computes every step's input projection, written straight into the array
  that becomes the gates;
- inside the loop the four gates are one ``(N, 4H)`` block stored as o, i, f, g, so the
  three sigmoids are one contiguous slice, and one ``tanh`` call serves all four gates
  through ``sigmoid(a) = (1 + tanh(a / 2)) / 2`` (the halving is folded into a scaled
  copy of the weights). That form loses the far tails of the sigmoid (it rounds to
  exactly 0 or 1 a little earlier), which is harmless inside a cell;
  ``activations.sigmoid`` stays exact;
- the backward first computes, for all steps at once, every factor that does not depend
  on the gradient flowing back (the gate derivatives); the loop then does only what is
  sequential, a handful of products and one GEMM per step; every weight gradient is one
  GEMM over all steps.

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from dataclasses import dataclass

import numpy as np

from ._checks import check_shape, float_dtype, recurrent_dims
from ._scratch import scratch
from .activations import sigmoid


@dataclass
class LSTMStepCache:
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
        h_prev, c_prev: ``(N, H)`` hidden and cell state of the previous step.
        Wx: ``(D, 4H)``, Wh: ``(H, 4H)``, b: ``(4H,)``, gate blocks i, f, g, o.

    Returns:
        h_next, c_next: ``(N, H)`` each.
        cache: :class:`LSTMStepCache` for :func:`lstm_step_backward`.
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
        dh_next, dc_next: ``(N, H)`` gradients on ``h_next`` and ``c_next``.
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
class LSTMCache:
    x_tm: np.ndarray  # (T, N, D) inputs, time-major
    hs: np.ndarray  # (T + 1, N, H) hs[0] = h0, hs[t + 1] = h_t
    cs: np.ndarray  # (T + 1, N, H) cs[0] = c0, cs[t + 1] = c_t
    gates: np.ndarray  # (T, N, 4H) activated gates, stored o, i, f, g (see module doc)
    tanh_c: np.ndarray  # (T, N, H) tanh(c_t)
    Wx: np.ndarray  # (D, 4H) stored o, i, f, g
    Wh: np.ndarray  # (H, 4H) stored o, i, f, g

    @property
    def c_final(self):
        """``(N, H)`` the cell state after the last step, to carry into the next chunk.

        A copy: resetting some rows of it in place must not change this cache.
        """
        return self.cs[-1].copy()


def _storage_order(H):
    """Columns that turn the contract's i, f, g, o blocks into the stored o, i, f, g.

    o, i, f are the sigmoids (one slice in the forward); i, f, g are the gates whose
    gradient is ``dc`` times a factor (one slice in the backward).
    """
    return np.r_[3 * H:4 * H, 0:3 * H]


def lstm_forward(x, h0, Wx, Wh, b, *, c0=None):
    """An LSTM over a whole sequence.

    Args:
        x: ``(N, T, D)`` input sequence.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, 4H)``, Wh: ``(H, 4H)``, b: ``(4H,)``, gate blocks i, f, g, o.
        c0: ``(N, H)`` initial cell state, keyword-only; zeros when not given.

    Returns:
        h: ``(N, T, H)`` the hidden state at every step.
        cache: :class:`LSTMCache` for :func:`lstm_backward`; ``cache.c_final`` is the
        ``(N, H)`` cell state after the last step.
    """
    N, T, D, H = recurrent_dims(x, h0, Wx, Wh, {"b": b}, gates=4, sequence=True, h_name="h0")
    if c0 is not None:
        check_shape("c0", c0, (N, H))
    inputs = dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b) | ({} if c0 is None else {"c0": c0})
    dtype = float_dtype(**inputs)
    order = _storage_order(H)
    Wx = np.asarray(Wx, dtype)[:, order]
    Wh = np.asarray(Wh, dtype)[:, order]
    # tanh(a / 2) for the sigmoid gates: halve their columns once, not every step.
    half = np.ones(4 * H, dtype)
    half[:3 * H] = 0.5
    Wx_half, Wh_half, b_half = Wx * half, Wh * half, np.asarray(b, dtype)[order] * half

    x_tm = np.ascontiguousarray(np.asarray(x).transpose(1, 0, 2), dtype)
    hs = np.empty((T + 1, N, H), dtype)
    cs = np.empty((T + 1, N, H), dtype)
    gates = np.empty((T, N, 4 * H), dtype)
    tanh_c = np.empty((T, N, H), dtype)
    hs[0] = h0
    cs[0] = 0 if c0 is None else c0
    np.matmul(x_tm.reshape(T * N, D), Wx_half, out=gates.reshape(T * N, 4 * H))
    gates += b_half

    hWh = scratch("lstm_forward.hWh", (N, 4 * H), dtype)
    ig = scratch("lstm_forward.ig", (N, H), dtype)
    for t in range(T):
        a = gates[t]
        np.matmul(hs[t], Wh_half, out=hWh)
        a += hWh
        np.tanh(a, out=a)
        sig = a[:, :3 * H]
        sig *= 0.5
        sig += 0.5  # sigmoid(a) = (1 + tanh(a / 2)) / 2
        o, i, f, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        np.multiply(f, cs[t], out=cs[t + 1])
        np.multiply(i, g, out=ig)
        cs[t + 1] += ig
        np.tanh(cs[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=hs[t + 1])

    h = np.ascontiguousarray(hs[1:].transpose(1, 0, 2))
    return h, LSTMCache(x_tm=x_tm, hs=hs, cs=cs, gates=gates, tanh_c=tanh_c, Wx=Wx, Wh=Wh)


def lstm_backward(dh, cache):
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`lstm_forward`.

    Returns:
        dx ``(N, T, D)``, dh0 ``(N, H)``, dWx ``(D, 4H)``, dWh ``(H, 4H)``, db ``(4H,)``.
    """
    x_tm, hs, cs, gates, tanh_c = cache.x_tm, cache.hs, cache.cs, cache.gates, cache.tanh_c
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dtype = hs.dtype
    o, i, f, g = (gates[..., k * H:(k + 1) * H] for k in range(4))

    # Every gate's gradient is an upstream gradient times a factor known from the
    # forward alone: do = dh_t * tanh(c_t) o'(.), di = dc_t * g i'(.),
    # df = dc_t * c_{t-1} f'(.), dg = dc_t * i g'(.). Compute the factors for all steps
    # at once; the loop then multiplies them in place, turning da into dL/da.
    da = scratch("lstm_backward.da", (T, N, 4 * H), dtype)
    np.subtract(1, gates[..., :3 * H], out=da[..., :3 * H])
    da[..., :3 * H] *= gates[..., :3 * H]  # sigmoid' = s (1 - s) for o, i, f
    da[..., :H] *= tanh_c
    da[..., H:2 * H] *= g
    da[..., 2 * H:3 * H] *= cs[:-1]
    dg = da[..., 3 * H:]
    np.multiply(g, g, out=dg)
    np.subtract(1, dg, out=dg)
    dg *= i  # tanh' = 1 - g^2
    # dc_t = dc_{t+1} f_{t+1} + dh_t * o (1 - tanh(c_t)^2): the second factor, too.
    dh_to_dc = scratch("lstm_backward.dh_to_dc", (T, N, H), dtype)
    np.multiply(tanh_c, tanh_c, out=dh_to_dc)
    np.subtract(1, dh_to_dc, out=dh_to_dc)
    dh_to_dc *= o

    WhT = np.ascontiguousarray(cache.Wh.T)  # a contiguous operand makes the GEMM faster
    dh_t = scratch("lstm_backward.dh_t", (N, H), dtype)
    tmp = scratch("lstm_backward.tmp", (N, H), dtype)
    dh_carry = np.zeros((N, H), dtype)  # dL/dh_t through step t + 1
    dc = np.zeros((N, H), dtype)  # dL/dc_t, carried backwards
    for t in reversed(range(T)):
        np.add(dh[:, t], dh_carry, out=dh_t)
        np.multiply(dh_t, dh_to_dc[t], out=tmp)
        dc += tmp
        d = da[t]
        d[:, :H] *= dh_t  # do
        d[:, H:].reshape(N, 3, H)[...] *= dc[:, None, :]  # di, df, dg
        dc *= f[t]  # dL/dc_{t-1} through c_t
        np.matmul(d, WhT, out=dh_carry)

    da_flat = da.reshape(T * N, 4 * H)
    dx_tm = da_flat @ cache.Wx.T
    dx = np.ascontiguousarray(dx_tm.reshape(T, N, D).transpose(1, 0, 2))
    back = np.argsort(_storage_order(H))  # to the contract's i, f, g, o
    dWx = (x_tm.reshape(T * N, D).T @ da_flat)[:, back]
    dWh = (hs[:-1].reshape(T * N, H).T @ da_flat)[:, back]
    db = da_flat.sum(axis=0)[back]
    return dx, dh_carry, dWx, dWh, db

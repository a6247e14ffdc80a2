"""The GRU in the PyTorch / cuDNN form, gate blocks in the order r, z, n.

    r = sigmoid(x Wx_r + bx_r + h Wh_r + bh_r)
    z = sigmoid(x Wx_z + bx_z + h Wh_z + bh_z)
    n = tanh(x Wx_n + bx_n + r * (h Wh_n + bh_n))    # reset applied after the affine map
    h' = (1 - z) * n + z * h

Derived in ``notebooks/07_gru_birnn`` (to come). The step kernels are that math written
once. The sequence kernels come twice:

- :func:`gru_forward_reference` / :func:`gru_backward_reference` are what the notebook
  derives and shows: the step kernels looped over ``t``, and back over ``t`` carrying
  ``dh_prev`` and summing the weight gradients.
- :func:`gru_forward` / :func:`gru_backward` compute the same thing (the tests hold
  them to the reference up to rounding), organised for speed like :mod:`course_lib.rnn`,
  not like the LSTM:

  - **Row form, time-major**, ``(T, N, ...)``: each step reads and writes one
    contiguous block, all steps side by side are one ``(T * N, ...)`` matrix, and the
    gates stay in the contract's order r, z, n (the two sigmoids r, z are already
    adjacent), so nothing is reordered.
  - **One GEMM for all input projections.** ``x_t Wx + bx`` does not depend on the
    hidden state, so it is one product over all steps; the loop multiplies only
    ``h_{t-1} Wh + bh``, one GEMM per step. The LSTM's ``[h; x; 1]`` stacking cannot
    be used here: the reset gate scales the recurrent term of ``n`` alone,
    ``r * (h Wh_n + bh_n)``, so the two products must stay separate, not summed.
  - One ``tanh`` call serves both sigmoid gates r, z through
    ``sigmoid(a) = (1 + tanh(a / 2)) / 2`` (their columns of the weights and biases
    halved once per call, not every step). That form loses the sigmoid's far tails (it
    rounds to exactly 0 or 1 a little earlier), harmless inside a cell;
    ``activations.sigmoid`` stays exact.
  - The backward first computes, for all steps at once, every factor that does not
    depend on the gradient flowing back (the gate derivatives); the loop then does only
    what is sequential. The gradient of ``x_t Wx + bx`` differs from that of
    ``h_{t-1} Wh + bh`` only in the n block (no factor r), so only that block is kept
    twice, and the weight gradients are GEMMs over all steps at once.

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from dataclasses import dataclass

import numpy as np

from ._checks import float_dtype, recurrent_dims
from ._scratch import scratch
from .activations import sigmoid


@dataclass
class GRUStepCache:
    """A step's arrays: filled by :func:`gru_step_forward`, read by :func:`gru_step_backward`."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    r: np.ndarray  # (N, H) reset gate
    z: np.ndarray  # (N, H) update gate
    n: np.ndarray  # (N, H) candidate state
    hWh_n: np.ndarray  # (N, H) h_prev @ Wh_n + bh_n, what r multiplies
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One time step of a GRU.

    Args:
        x: ``(N, D)`` inputs at this step.
        h_prev: ``(N, H)`` hidden state of the previous step.
        Wx: ``(D, 3H)`` input-to-hidden weights, gate blocks r, z, n.
        Wh: ``(H, 3H)`` hidden-to-hidden weights, same blocks.
        bx: ``(3H,)`` bias of ``x @ Wx``, same blocks.
        bh: ``(3H,)`` bias of ``h @ Wh``, same blocks.

    Returns:
        h_next: ``(N, H)``.
        cache: :class:`GRUStepCache` for :func:`gru_step_backward`.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    _, _, _, H = recurrent_dims(x, h_prev, Wx, Wh, {"bx": bx, "bh": bh}, gates=3,
                                sequence=False, h_name="h_prev")
    dtype = float_dtype(x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, bx=bx, bh=bh)
    x, h_prev, Wx, Wh, bx, bh = (np.asarray(a, dtype) for a in (x, h_prev, Wx, Wh, bx, bh))
    ax = x @ Wx + bx
    ah = h_prev @ Wh + bh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    hWh_n = ah[:, 2 * H:]
    n = np.tanh(ax[:, 2 * H:] + r * hWh_n)
    h_next = (1 - z) * n + z * h_prev
    return h_next, GRUStepCache(x=x, h_prev=h_prev, r=r, z=z, n=n, hWh_n=hWh_n, Wx=Wx, Wh=Wh)


def gru_step_backward(dh_next, cache):
    """Backward pass of :func:`gru_step_forward`.

    Args:
        dh_next: ``(N, H)`` gradient on ``h_next``.
        cache: from :func:`gru_step_forward`.

    Returns:
        dx ``(N, D)``, dh_prev ``(N, H)``, dWx ``(D, 3H)``, dWh ``(H, 3H)``,
        dbx ``(3H,)``, dbh ``(3H,)``.
    """
    r, z, n = cache.r, cache.z, cache.n
    dn = dh_next * (1 - z) * (1 - n**2)  # gradient at n's tanh input
    dr = dn * cache.hWh_n * r * (1 - r)
    dz = dh_next * (cache.h_prev - n) * z * (1 - z)
    dax = np.concatenate([dr, dz, dn], axis=1)  # gradient of x @ Wx + bx
    dah = np.concatenate([dr, dz, dn * r], axis=1)  # of h_prev @ Wh + bh: r scales the n block
    dx = dax @ cache.Wx.T
    dh_prev = dah @ cache.Wh.T + dh_next * z
    dWx = cache.x.T @ dax
    dWh = cache.h_prev.T @ dah
    return dx, dh_prev, dWx, dWh, dax.sum(axis=0), dah.sum(axis=0)


@dataclass
class GRUReferenceCache:
    """What :func:`gru_backward_reference` needs: the caches of the steps, in order.

    Attributes:
        steps: ``T`` :class:`GRUStepCache` objects; ``steps[t]`` is step ``t``'s.
        Wx: ``(D, 3H)`` and Wh: ``(H, 3H)``, the weights in the computing dtype; they
            give the weight gradients their shape and dtype (also when ``T`` is 0).
    """

    steps: list
    Wx: np.ndarray
    Wh: np.ndarray


def gru_forward_reference(x, h0, Wx, Wh, bx, bh):
    """:func:`gru_forward` as the notebook derives it: :func:`gru_step_forward` looped.

    Args:
        x: ``(N, T, D)`` input sequence.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, 3H)`` input-to-hidden weights, gate blocks r, z, n.
        Wh: ``(H, 3H)`` hidden-to-hidden weights, same blocks.
        bx: ``(3H,)`` bias of ``x @ Wx``, same blocks.
        bh: ``(3H,)`` bias of ``h @ Wh``, same blocks.

    Returns:
        h: ``(N, T, H)`` the hidden state at every step.
        cache: :class:`GRUReferenceCache` for :func:`gru_backward_reference`.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    N, T, _, H = recurrent_dims(x, h0, Wx, Wh, {"bx": bx, "bh": bh}, gates=3,
                                sequence=True, h_name="h0")
    dtype = float_dtype(x=x, h0=h0, Wx=Wx, Wh=Wh, bx=bx, bh=bh)
    x = np.asarray(x)
    h = np.empty((N, T, H), dtype)
    steps = []
    h_prev = h0
    for t in range(T):
        h_prev, step_cache = gru_step_forward(x[:, t], h_prev, Wx, Wh, bx, bh)
        h[:, t] = h_prev
        steps.append(step_cache)
    return h, GRUReferenceCache(steps=steps, Wx=np.asarray(Wx, dtype), Wh=np.asarray(Wh, dtype))


def gru_backward_reference(dh, cache):
    """:func:`gru_backward` as the notebook derives it: :func:`gru_step_backward` looped.

    Step ``t``'s hidden state reaches the loss directly (``dh[:, t]``) and through step
    ``t + 1`` (the ``dh_prev`` that step returns): its gradient is the sum of the two.
    The weights are shared by all steps, so their gradients add up over the steps.

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`gru_forward_reference`.

    Returns:
        dx ``(N, T, D)``, dh0 ``(N, H)``, dWx ``(D, 3H)``, dWh ``(H, 3H)``,
        dbx ``(3H,)``, dbh ``(3H,)``.
    """
    dtype = cache.Wx.dtype
    dh = np.asarray(dh, dtype)  # the forward's dtype throughout
    N, T, H = dh.shape
    dx = np.empty((N, T, cache.Wx.shape[0]), dtype)
    dh_prev = np.zeros((N, H), dtype)  # nothing flows back into the last step from later
    dWx, dWh = np.zeros_like(cache.Wx), np.zeros_like(cache.Wh)
    dbx, dbh = np.zeros(3 * H, dtype), np.zeros(3 * H, dtype)
    for t in reversed(range(T)):
        dx_t, dh_prev, dWx_t, dWh_t, dbx_t, dbh_t = gru_step_backward(
            dh[:, t] + dh_prev, cache.steps[t])
        dx[:, t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        dbx += dbx_t
        dbh += dbh_t
    return dx, dh_prev, dWx, dWh, dbx, dbh


@dataclass
class GRUCache:
    """What :func:`gru_backward` needs; row form, time-major (see the module doc)."""

    x_tm: np.ndarray  # (T, N, D) inputs, time-major
    hs: np.ndarray  # (T + 1, N, H) hs[0] = h0, hs[t + 1] = h_t
    gates: np.ndarray  # (T, N, 3H) activated r, z, n
    hWh_n: np.ndarray  # (T, N, H) h_{t-1} @ Wh_n + bh_n
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)


def gru_forward(x, h0, Wx, Wh, bx, bh):
    """A GRU over a whole sequence.

    Args:
        x: ``(N, T, D)`` input sequence.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, 3H)`` input-to-hidden weights, gate blocks r, z, n.
        Wh: ``(H, 3H)`` hidden-to-hidden weights, same blocks.
        bx: ``(3H,)`` bias of ``x @ Wx``, same blocks.
        bh: ``(3H,)`` bias of ``h @ Wh``, same blocks.

    Returns:
        h: ``(N, T, H)`` the hidden state at every step.
        cache: :class:`GRUCache` for :func:`gru_backward`.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    N, T, D, H = recurrent_dims(x, h0, Wx, Wh, {"bx": bx, "bh": bh}, gates=3,
                                sequence=True, h_name="h0")
    dtype = float_dtype(x=x, h0=h0, Wx=Wx, Wh=Wh, bx=bx, bh=bh)
    Wx, Wh, bx, bh = (np.asarray(a, dtype) for a in (Wx, Wh, bx, bh))
    # tanh(a / 2) for the sigmoid gates r, z: halve their columns once, not every step.
    half = np.ones(3 * H, dtype)
    half[:2 * H] = 0.5
    Wx_half, Wh_half, bx_half, bh_half = Wx * half, Wh * half, bx * half, bh * half

    x_tm = np.ascontiguousarray(np.asarray(x).transpose(1, 0, 2), dtype)
    hs = np.empty((T + 1, N, H), dtype)
    gates = np.empty((T, N, 3 * H), dtype)
    hWh_n = np.empty((T, N, H), dtype)
    hs[0] = h0
    np.matmul(x_tm.reshape(T * N, D), Wx_half, out=gates.reshape(T * N, 3 * H))
    gates += bx_half

    ah = scratch("gru_forward.ah", (N, 3 * H), dtype)
    rh = scratch("gru_forward.rh", (N, H), dtype)
    for t in range(T):
        a = gates[t]
        np.matmul(hs[t], Wh_half, out=ah)
        ah += bh_half
        rz = a[:, :2 * H]
        rz += ah[:, :2 * H]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5  # sigmoid(a) = (1 + tanh(a / 2)) / 2
        r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        hWh_n[t] = ah[:, 2 * H:]
        np.multiply(r, hWh_n[t], out=rh)
        n += rh
        np.tanh(n, out=n)
        h_next = hs[t + 1]
        np.subtract(hs[t], n, out=h_next)
        h_next *= z
        h_next += n  # (1 - z) n + z h = n + z (h - n)

    h = hs[1:].transpose(1, 0, 2).copy()  # a fresh array, never a view of the cache
    return h, GRUCache(x_tm=x_tm, hs=hs, gates=gates, hWh_n=hWh_n, Wx=Wx, Wh=Wh)


def gru_backward(dh, cache, *, input_grad=True):
    """Backpropagation through time for :func:`gru_forward`.

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`gru_forward`.
        input_grad: keyword-only, default True; ``False`` skips the gradient of the input
            and returns ``None`` for ``dx``. For a first layer that reads data (pixels,
            one-hot characters) nothing uses ``dx``, and computing it costs a large product.

    Returns:
        dx ``(N, T, D)``, dh0 ``(N, H)``, dWx ``(D, 3H)``, dWh ``(H, 3H)``,
        dbx ``(3H,)``, dbh ``(3H,)``.
    """
    x_tm, hs, gates, hWh_n = cache.x_tm, cache.hs, cache.gates, cache.hWh_n
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dtype = hs.dtype
    r, z, n = (gates[..., k * H:(k + 1) * H] for k in range(3))

    # Each gate's gradient is an upstream gradient times a factor known from the forward
    # alone: dn = dh_t * (1 - z) n'(.), dz = dh_t * (h_{t-1} - n) z'(.),
    # dr = dn * (h_{t-1} Wh_n + bh_n) r'(.). Compute the factors for all steps at once;
    # the loop then multiplies them in place.
    # dah[t] becomes the gradient of h_{t-1} @ Wh + bh (blocks r, z, n); the x side
    # differs only in the n block, where r does not scale it: that block is dan.
    dah = scratch("gru_backward.dah", (T, N, 3 * H), dtype)
    dan = scratch("gru_backward.dan", (T, N, H), dtype)
    np.subtract(1, gates[..., :2 * H], out=dah[..., :2 * H])
    dah[..., :2 * H] *= gates[..., :2 * H]  # sigmoid' = s (1 - s) for r and z
    dah[..., :H] *= hWh_n
    dah[..., H:2 * H] *= hs[:-1] - n
    np.multiply(n, n, out=dan)
    np.subtract(1, dan, out=dan)  # tanh' = 1 - n^2
    dan *= 1 - z

    WhT = np.ascontiguousarray(cache.Wh.T)  # a contiguous operand makes the GEMM faster
    dh_t = scratch("gru_backward.dh_t", (N, H), dtype)
    dh_z = scratch("gru_backward.dh_z", (N, H), dtype)
    dh_carry = np.zeros((N, H), dtype)  # dL/dh_t through step t + 1
    for t in reversed(range(T)):
        d = dah[t]
        np.add(dh[:, t], dh_carry, out=dh_t)
        dan[t] *= dh_t  # dn
        d[:, H:2 * H] *= dh_t  # dz
        d[:, :H] *= dan[t]  # dr
        np.multiply(dan[t], r[t], out=d[:, 2 * H:])
        np.multiply(dh_t, z[t], out=dh_z)  # the direct path h_{t-1} -> h_t
        np.matmul(d, WhT, out=dh_carry)
        dh_carry += dh_z

    dah_flat = dah.reshape(T * N, 3 * H)
    dan_flat = dan.reshape(T * N, H)
    x_flat = x_tm.reshape(T * N, D)
    dx = None
    if input_grad:
        dx_tm = dah_flat[:, :2 * H] @ cache.Wx[:, :2 * H].T
        dx_tm += dan_flat @ cache.Wx[:, 2 * H:].T
        dx = np.ascontiguousarray(dx_tm.reshape(T, N, D).transpose(1, 0, 2))
    dWx = np.concatenate([x_flat.T @ dah_flat[:, :2 * H], x_flat.T @ dan_flat], axis=1)
    dWh = hs[:-1].reshape(T * N, H).T @ dah_flat
    dbh = dah_flat.sum(axis=0)
    dbx = np.concatenate([dbh[:2 * H], dan_flat.sum(axis=0)])
    return dx, dh_carry, dWx, dWh, dbx, dbh

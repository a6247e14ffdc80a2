"""The vanilla RNN: ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``.

Derived in ``notebooks/02_rnn_bptt``. The module holds each computation in the forms
the course teaches it:

- **Step kernels** (:func:`rnn_step_forward`, :func:`rnn_step_backward`): the math of
  one time step, written once.
- **Reference sequence kernels** (:func:`rnn_forward_reference`,
  :func:`rnn_backward_reference`): what the notebook derives and shows. The forward
  loops over ``t`` calling the step forward and keeps every step's cache in a list;
  backpropagation through time loops over ``t`` backwards calling the step backward,
  adds up the weight gradients of all steps and carries ``dh_prev`` into the step
  before. Read these to see what BPTT *is*.
- **Fast sequence kernels** (:func:`rnn_forward`, :func:`rnn_backward`): the same
  function and the same gradients (the tests hold them to the reference up to
  rounding), organised for speed. That is why they look different:

  - ``x_t @ Wx`` does not depend on the hidden state, so every step's input projection
    is one GEMM, ``(T * N, D) @ (D, H)``, instead of T small ones; the loop over time
    keeps only what is sequential: ``h_{t-1} @ Wh`` and the tanh.
  - States are stored time-major, ``(T, N, H)``: each step reads and writes one
    contiguous ``(N, H)`` block, and all steps side by side are one ``(T * N, H)``
    matrix, so the backward's weight gradients (a sum over steps in the reference)
    are one GEMM each, and ``tanh' = 1 - h^2`` is computed for all steps at once.
  - Per-step temporaries live in reused scratch buffers (:mod:`course_lib._scratch`),
    never returned; outputs and caches are fresh arrays.

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from dataclasses import dataclass

import numpy as np

from ._checks import float_dtype, recurrent_dims
from ._scratch import scratch


@dataclass
class RNNStepCache:
    """A step's arrays: filled by :func:`rnn_step_forward`, read by :func:`rnn_step_backward`."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    h_next: np.ndarray  # (N, H), tanh output: its derivative is 1 - h_next**2
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a vanilla RNN.

    Args:
        x: ``(N, D)`` inputs at this step.
        h_prev: ``(N, H)`` hidden state of the previous step.
        Wx: ``(D, H)`` input-to-hidden weights.
        Wh: ``(H, H)`` hidden-to-hidden weights.
        b: ``(H,)`` bias.

    Returns:
        h_next: ``(N, H)`` the new hidden state.
        cache: :class:`RNNStepCache` for :func:`rnn_step_backward`.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    recurrent_dims(x, h_prev, Wx, Wh, {"b": b}, gates=1, sequence=False, h_name="h_prev")
    dtype = float_dtype(x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, b=b)
    x, h_prev, Wx, Wh, b = (np.asarray(a, dtype) for a in (x, h_prev, Wx, Wh, b))
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, RNNStepCache(x=x, h_prev=h_prev, h_next=h_next, Wx=Wx, Wh=Wh)


def rnn_step_backward(dh_next, cache):
    """Backward pass of :func:`rnn_step_forward`.

    Args:
        dh_next: ``(N, H)`` gradient of the loss with respect to ``h_next``.
        cache: from :func:`rnn_step_forward`.

    Returns:
        dx ``(N, D)``, dh_prev ``(N, H)``, dWx ``(D, H)``, dWh ``(H, H)``, db ``(H,)``.
    """
    da = dh_next * (1 - cache.h_next**2)  # tanh'(a) = 1 - tanh(a)^2
    dx = da @ cache.Wx.T
    dh_prev = da @ cache.Wh.T
    dWx = cache.x.T @ da
    dWh = cache.h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db


@dataclass
class RNNReferenceCache:
    """What :func:`rnn_backward_reference` needs: the caches of the steps, in order.

    Attributes:
        steps: ``T`` :class:`RNNStepCache` objects; ``steps[t]`` is step ``t``'s.
        Wx: ``(D, H)`` and Wh: ``(H, H)``, the weights in the computing dtype; they give
            the weight gradients their shape and dtype (also when ``T`` is 0).
    """

    steps: list
    Wx: np.ndarray
    Wh: np.ndarray


def rnn_forward_reference(x, h0, Wx, Wh, b):
    """:func:`rnn_forward` as the notebook derives it: :func:`rnn_step_forward` looped.

    Args:
        x: ``(N, T, D)`` input sequence.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, H)`` input-to-hidden weights.
        Wh: ``(H, H)`` hidden-to-hidden weights.
        b: ``(H,)`` bias.

    Returns:
        h: ``(N, T, H)`` the hidden state at every step.
        cache: :class:`RNNReferenceCache` for :func:`rnn_backward_reference`.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    N, T, _, H = recurrent_dims(x, h0, Wx, Wh, {"b": b}, gates=1, sequence=True, h_name="h0")
    dtype = float_dtype(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    x = np.asarray(x)
    h = np.empty((N, T, H), dtype)
    steps = []
    h_prev = h0
    for t in range(T):
        h_prev, step_cache = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)
        h[:, t] = h_prev
        steps.append(step_cache)
    return h, RNNReferenceCache(steps=steps, Wx=np.asarray(Wx, dtype), Wh=np.asarray(Wh, dtype))


def rnn_backward_reference(dh, cache):
    """:func:`rnn_backward` as the notebook derives it: :func:`rnn_step_backward` looped.

    Step ``t``'s hidden state reaches the loss directly (``dh[:, t]``) and through step
    ``t + 1`` (the ``dh_prev`` that step returns): its gradient is the sum of the two.
    The weights are shared by all steps, so their gradients add up over the steps.

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`rnn_forward_reference`.

    Returns:
        dx ``(N, T, D)``, dh0 ``(N, H)``, dWx ``(D, H)``, dWh ``(H, H)``, db ``(H,)``.
    """
    dtype = cache.Wx.dtype
    dh = np.asarray(dh, dtype)  # the forward's dtype throughout
    N, T, H = dh.shape
    dx = np.empty((N, T, cache.Wx.shape[0]), dtype)
    dh_prev = np.zeros((N, H), dtype)  # nothing flows back into the last step from later
    dWx, dWh, db = np.zeros_like(cache.Wx), np.zeros_like(cache.Wh), np.zeros(H, dtype)
    for t in reversed(range(T)):
        dx_t, dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_prev, cache.steps[t])
        dx[:, t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_prev, dWx, dWh, db


@dataclass
class RNNCache:
    """The sequence, time-major: filled by :func:`rnn_forward`, read by :func:`rnn_backward`."""

    x_tm: np.ndarray  # (T, N, D) the inputs, time-major
    hs: np.ndarray  # (T + 1, N, H) hs[0] = h0, hs[t + 1] = h_t, time-major
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla RNN over a whole sequence.

    Args:
        x: ``(N, T, D)`` input sequence.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, H)`` input-to-hidden weights.
        Wh: ``(H, H)`` hidden-to-hidden weights.
        b: ``(H,)`` bias.

    Returns:
        h: ``(N, T, H)`` the hidden state at every step.
        cache: :class:`RNNCache` for :func:`rnn_backward`.

    Raises:
        ValueError: a shape does not match the others, or an array is not floating-point.
    """
    N, T, D, H = recurrent_dims(x, h0, Wx, Wh, {"b": b}, gates=1, sequence=True, h_name="h0")
    dtype = float_dtype(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    Wx, Wh, b = (np.asarray(a, dtype) for a in (Wx, Wh, b))
    x_tm = np.ascontiguousarray(np.asarray(x).transpose(1, 0, 2), dtype)
    hs = np.empty((T + 1, N, H), dtype)
    hs[0] = h0
    # Every step's input projection in one GEMM, written where h_t will be built.
    np.matmul(x_tm.reshape(T * N, D), Wx, out=hs[1:].reshape(T * N, H))
    hs[1:] += b
    hWh = scratch("rnn_forward.hWh", (N, H), dtype)
    for t in range(T):
        np.matmul(hs[t], Wh, out=hWh)
        hs[t + 1] += hWh
        np.tanh(hs[t + 1], out=hs[t + 1])
    h = hs[1:].transpose(1, 0, 2).copy()  # a fresh array, never a view of the cache
    return h, RNNCache(x_tm=x_tm, hs=hs, Wx=Wx, Wh=Wh)


def rnn_backward(dh, cache, *, input_grad=True):
    """Backpropagation through time for :func:`rnn_forward`.

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        cache: from :func:`rnn_forward`.
        input_grad: keyword-only, default True; ``False`` skips the gradient of the input
            and returns ``None`` for ``dx``. For a first layer that reads data (pixels,
            one-hot characters) nothing uses ``dx``, and computing it costs a large product.

    Returns:
        dx ``(N, T, D)``, dh0 ``(N, H)``, dWx ``(D, H)``, dWh ``(H, H)``, db ``(H,)``.
    """
    hs, x_tm = cache.hs, cache.x_tm
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dtype = hs.dtype
    # da[t] = dL/da_t, the gradient at the tanh input of step t.
    da = scratch("rnn_backward.da", (T, N, H), dtype)
    np.multiply(hs[1:], hs[1:], out=da)
    np.subtract(1, da, out=da)  # tanh' = 1 - h^2, for all steps at once
    WhT = np.ascontiguousarray(cache.Wh.T)  # a contiguous operand makes the GEMM faster
    dh_carry = np.zeros((N, H), dtype)  # dL/dh_t through h_{t+1}
    for t in reversed(range(T)):
        dh_carry += dh[:, t]
        da[t] *= dh_carry
        np.matmul(da[t], WhT, out=dh_carry)
    da_flat = da.reshape(T * N, H)
    dx = None
    if input_grad:
        dx_tm = da_flat @ cache.Wx.T
        dx = np.ascontiguousarray(dx_tm.reshape(T, N, D).transpose(1, 0, 2))
    dWx = x_tm.reshape(T * N, D).T @ da_flat
    dWh = hs[:-1].reshape(T * N, H).T @ da_flat
    db = da_flat.sum(axis=0)
    return dx, dh_carry, dWx, dWh, db

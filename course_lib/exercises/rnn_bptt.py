"""Checkers for the exercises of notebook 02 · The vanilla RNN and backprop through time.

Each ``check_*`` runs the learner's answer on its own cases and returns a
:class:`~course_lib.exercises.Feedback`; it never raises. The right answers come from
``course_lib.rnn`` and ``course_lib.gradcheck``, the library the notebook derives.
"""

import numpy as np

from ..gradcheck import numerical_gradient
from ..rnn import RNNStepCache, rnn_backward, rnn_forward, rnn_step_backward
from ._feedback import checker, expect, expect_close

__all__ = [
    "check_to_row_form",
    "check_step_jacobian",
    "check_fast_rnn_backward",
    "check_truncated_grads",
    "truncated_weight_grads",
    "chunked_weight_grads",
]


# Exercise 1 ----------------------------------------------------------------------------


def _minchar_params(rng, V=6, H=4):
    return {
        "Wxh": rng.standard_normal((H, V)),
        "Whh": rng.standard_normal((H, H)),
        "Why": rng.standard_normal((V, H)),
        "bh": rng.standard_normal((H, 1)),
        "by": rng.standard_normal((V, 1)),
    }


@checker
def check_to_row_form(to_row_form):
    """``to_row_form(params)``: min-char-rnn's dict -> ``Wx, Wh, b, W, b_out`` in row form.

    Args:
        to_row_form: the learner's function.
    """
    params = _minchar_params(np.random.default_rng(21))
    original = {name: a.copy() for name, a in params.items()}
    row = to_row_form(params)
    for name, a in original.items():
        expect(params.get(name) is not None and np.array_equal(params[name], a),
               f"to_row_form changed params[{name!r}] in place: build new arrays, leave the input alone.")
    expect(isinstance(row, dict), f"return a dict with keys Wx, Wh, b, W, b_out; you return {type(row).__name__}.")
    missing = [k for k in ("Wx", "Wh", "b", "W", "b_out") if k not in row]
    expect(not missing, f"the dict you return has no {', '.join(missing)}.")
    expected = {"Wx": original["Wxh"].T, "Wh": original["Whh"].T, "b": original["bh"].ravel(),
                "W": original["Why"].T, "b_out": original["by"].ravel()}
    column_name = {"Wx": "Wxh", "Wh": "Whh", "b": "bh", "W": "Why", "b_out": "by"}
    for name, want in expected.items():
        got = np.asarray(row[name])
        expect(got.shape == want.shape,
               f"{name} has shape {got.shape}; expected {want.shape} "
               f"(from {column_name[name]} of shape {original[column_name[name]].shape}).")
        if name == "Wh" and np.allclose(got, original["Whh"]) and not np.allclose(got, want):
            expect(False, "Wh equals Whh: it must be Whh.T. The square matrix fits either way, so no "
                          "error warns you; (Whh @ h).T == h.T @ Whh.T.")
        expect_close(got, want, name)
    return "every matrix transposed, both biases flattened to 1-D: the same network in row form."


# Exercise 2 ----------------------------------------------------------------------------


@checker
def check_step_jacobian(step_jacobian):
    """``step_jacobian(x, h_prev, Wx, Wh, b)`` -> ``J (H, H)``, ``J[i, j] = dh_next[i]/dh_prev[j]``.

    Args:
        step_jacobian: the learner's function.
    """
    rng = np.random.default_rng(22)
    D, H = 3, 5
    x, h_prev = rng.standard_normal(D), rng.standard_normal(H)
    Wx, Wh, b = 0.8 * rng.standard_normal((D, H)), 0.8 * rng.standard_normal((H, H)), rng.standard_normal(H)
    J = step_jacobian(x.copy(), h_prev.copy(), Wx.copy(), Wh.copy(), b.copy())
    expect(J is not None, "step_jacobian returns None: does it end with `return`?")
    J = np.asarray(J)
    expect(J.shape == (H, H), f"J has shape {J.shape}; expected (H, H) = {(H, H)}.")

    probe = h_prev.copy()
    # Row i of the Jacobian: the gradient of h_next[i] with respect to h_prev.
    numerical = np.stack([numerical_gradient(lambda h: np.tanh(x @ Wx + h @ Wh + b)[i], probe)
                          for i in range(H)])
    if np.allclose(J, numerical.T, atol=1e-6) and not np.allclose(J, numerical, atol=1e-6):
        expect(False, "J is transposed: J[i, j] is the derivative of h_next[i] (row i) with respect to "
                      "h_prev[j] (column j).")
    if np.allclose(J, Wh.T, atol=1e-6) or np.allclose(J, Wh, atol=1e-6):
        expect(False, "J is Wh (or Wh.T) alone: the tanh's derivative 1 - h_next**2 is missing.")
    if np.allclose(J, (1 - h_prev**2)[:, None] * Wh.T, atol=1e-6):
        expect(False, "you take the tanh's derivative at h_prev; it belongs to the output, 1 - h_next**2.")
    expect_close(J, numerical, "J", rtol=1e-5, atol=1e-7)
    return "J = diag(1 − h_next²) · Whᵀ, as the numerical Jacobian says."


# Exercise 3 ----------------------------------------------------------------------------


@checker
def check_fast_rnn_backward(fast_rnn_backward):
    """``fast_rnn_backward(dh, xs, h0, hs, Wx, Wh)`` -> ``(dx, dh0, dWx, dWh, db)``.

    Args:
        fast_rnn_backward: the learner's function.
    """
    rng = np.random.default_rng(23)
    N, T, D, H = 3, 7, 4, 5
    xs, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = 0.6 * rng.standard_normal((D, H)), 0.6 * rng.standard_normal((H, H)), rng.standard_normal(H)
    dh = rng.standard_normal((N, T, H))
    hs, cache = rnn_forward(xs, h0, Wx, Wh, b)
    expected = rnn_backward(dh, cache)
    args = [a.copy() for a in (dh, xs, h0, hs, Wx, Wh)]
    got = fast_rnn_backward(*args)
    expect(got is not None, "fast_rnn_backward returns None: does it end with `return`?")
    expect(isinstance(got, (tuple, list)) and len(got) == 5,
           "return a tuple of five arrays: (dx, dh0, dWx, dWh, db).")
    for a, original in zip(args, (dh, xs, h0, hs, Wx, Wh)):
        expect(np.array_equal(a, original), "fast_rnn_backward changed one of its inputs in place.")

    # The classic slip: only the gradient from the future is carried, dh[:, t] never added.
    dh_last_only = np.zeros_like(dh)
    dh_last_only[:, -1] = dh[:, -1]
    slip = rnn_backward(dh_last_only, cache)
    if np.allclose(np.asarray(got[3]), slip[3]) and not np.allclose(slip[3], expected[3]):
        expect(False, "only the last step's dh reaches the weights: at every step, add dh[:, t] to the "
                      "gradient coming from step t + 1 before going through the tanh.")
    for name, g, want in zip(("dx", "dh0", "dWx", "dWh", "db"), got, expected):
        expect_close(g, want, name, rtol=1e-6, atol=1e-9)
    return "the same five gradients as rnn_backward."


# Exercise 4 ----------------------------------------------------------------------------


def truncated_weight_grads(dh, xs, h0, Wx, Wh, b, k):
    """Reference: ``(dWx, dWh, db)`` when the gradient of each loss term flows back ``k`` steps.

    ``dh[:, s]`` is the gradient of the loss term ``L_s`` on ``h_s`` (the state that step
    ``s`` computes, 0-based); it goes back through steps ``s, s-1, ..., max(0, s-k+1)``.

    Args:
        dh: ``(N, T, H)`` gradient of each step's loss term on its hidden state.
        xs: ``(N, T, D)`` inputs.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, H)`` input-to-hidden weights.
        Wh: ``(H, H)`` hidden-to-hidden weights.
        b: ``(H,)`` bias.
        k: how many steps each loss term's gradient flows back, an integer >= 1.

    Returns:
        ``(dWx, dWh, db)``, shaped like ``Wx``, ``Wh``, ``b``.
    """
    T = xs.shape[1]
    hs, _ = rnn_forward(xs, h0, Wx, Wh, b)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for s in range(T):
        grad = dh[:, s]
        for t in range(s, max(0, s - k + 1) - 1, -1):
            h_before = hs[:, t - 1] if t > 0 else h0
            step = RNNStepCache(x=xs[:, t], h_prev=h_before, h_next=hs[:, t], Wx=Wx, Wh=Wh)
            _, grad, dWx_t, dWh_t, db_t = rnn_step_backward(grad, step)
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
    return dWx, dWh, db


def chunked_weight_grads(dh, xs, h0, Wx, Wh, b, k):
    """For comparison: ``(dWx, dWh, db)`` of chunked truncation, full BPTT inside chunks of
    ``k`` steps with the state carried across (what ``TruncatedBPTT`` does).

    Args:
        dh: ``(N, T, H)`` upstream gradient on every hidden state.
        xs: ``(N, T, D)`` inputs.
        h0: ``(N, H)`` initial hidden state.
        Wx: ``(D, H)`` input-to-hidden weights.
        Wh: ``(H, H)`` hidden-to-hidden weights.
        b: ``(H,)`` bias.
        k: the chunk length, an integer >= 1.

    Returns:
        ``(dWx, dWh, db)``, shaped like ``Wx``, ``Wh``, ``b``.
    """
    hs, _ = rnn_forward(xs, h0, Wx, Wh, b)
    total = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    for start in range(0, xs.shape[1], k):
        state = h0 if start == 0 else hs[:, start - 1]
        _, cache = rnn_forward(xs[:, start:start + k], state, Wx, Wh, b)
        for acc, g in zip(total, rnn_backward(dh[:, start:start + k], cache)[2:]):
            acc += g
    return tuple(total)


def _same(grads, others):
    return all(np.shape(g) == np.shape(o) and np.allclose(g, o) for g, o in zip(grads, others))


@checker
def check_truncated_grads(rnn_weight_grads_truncated):
    """``rnn_weight_grads_truncated(dh, xs, h0, Wx, Wh, b, k)`` -> ``(dWx, dWh, db)``.

    Args:
        rnn_weight_grads_truncated: the learner's function.
    """
    rng = np.random.default_rng(24)
    N, T, D, H = 2, 9, 3, 4
    xs, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = 0.7 * rng.standard_normal((D, H)), 0.9 * rng.standard_normal((H, H)), rng.standard_normal(H)
    dh = rng.standard_normal((N, T, H))
    originals = (dh.copy(), xs.copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())

    for k in (T, T + 5, 1, 2, 4):
        got = rnn_weight_grads_truncated(dh, xs, h0, Wx, Wh, b, k)
        expect(got is not None, "rnn_weight_grads_truncated returns None: does it end with `return`?")
        expect(isinstance(got, (tuple, list)) and len(got) == 3, "return a tuple of three arrays: (dWx, dWh, db).")
        for a, original in zip((dh, xs, h0, Wx, Wh, b), originals):
            expect(np.array_equal(a, original), "rnn_weight_grads_truncated changed one of its inputs in place.")
        if k >= T:
            full = rnn_backward(dh, rnn_forward(xs, h0, Wx, Wh, b)[1])[2:]
            expect(_same(got, full), f"with k = {k} >= T = {T} nothing is truncated: the result must "
                                     "equal rnn_backward's dWx, dWh, db.")
            continue
        want = truncated_weight_grads(dh, xs, h0, Wx, Wh, b, k)
        chunked = chunked_weight_grads(dh, xs, h0, Wx, Wh, b, k)
        if _same(got, chunked) and not _same(chunked, want):
            expect(False, f"with k = {k} this is chunked truncation (full BPTT inside chunks of k steps). "
                          "Here every loss term L_s goes back exactly k steps, wherever s is.")
        for off_by_one in (k - 1, k + 1):
            if off_by_one < 1:
                continue
            other = truncated_weight_grads(dh, xs, h0, Wx, Wh, b, off_by_one)
            if _same(got, other) and not _same(other, want):
                expect(False, f"with k = {k} your gradient flows back {off_by_one} steps: L_s should reach "
                              f"steps s, s-1, ..., s-k+1 (k steps, its own included).")
        for name, g, w in zip(("dWx", "dWh", "db"), got, want):
            expect_close(g, w, f"{name} for k = {k}")
    return "full BPTT for k >= T, and each loss term cut after exactly k steps otherwise."

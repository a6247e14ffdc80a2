"""The recurrent kernels (rnn, lstm, gru) held to docs/kernel-contract.md.

Every property is written once and parametrized over the cells of
``recurrent_cases.CELLS`` and over step (``*_step_forward/backward``) and sequence
(``*_forward/backward``) kernels. Tolerances:

- gradient checks: ``course_lib.gradcheck.rel_error`` (float64) < 1e-7 on the fixed
  cases, < 1e-6 on the hypothesis-drawn ones;
- agreement with PyTorch: combined, ``|ours - torch| <= tol * (1 + |torch|)``
  elementwise, tol = 1e-9 in float64 and 1e-4 in float32.
"""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from recurrent_cases import (
    CELL_BY_NAME,
    CELLS,
    GRADCHECK_TOL_FIXED,
    GRADCHECK_TOL_PROPERTY,
    MODES,
    NONCONTIGUOUS_KINDS,
    TORCH_TOL,
    assert_close,
    assert_dicts_close,
    assert_shape_error,
    backward,
    cell_params,
    check_numerical_gradients,
    copy_inputs,
    dtype_params,
    forward,
    make_douts,
    make_inputs,
    make_params,
    mode_params,
    noncontiguous,
    numerical_grad,
    out_shapes,
    torch_sequence,
)

from course_lib.gradcheck import rel_error

LSTM = CELL_BY_NAME["lstm"]

# Results that should agree up to rounding (different but equivalent float64 evaluation
# orders, e.g. one batched matmul over all steps against one matmul per step).
SAME = 1e-12


# ---------------------------------------------------------------------------------------
# 1. Gradient checks on fixed small cases
# ---------------------------------------------------------------------------------------
@cell_params
@mode_params
@pytest.mark.parametrize("state", ["zero_state", "random_state"])
def test_backward_matches_numerical_gradient(cell, mode, state):
    """Every gradient the backward returns, against central differences (float64)."""
    rng = np.random.default_rng(11)
    N, T, D, H = 2, 3, 4, 3
    inputs = make_inputs(cell, mode, N, T, D, H, rng, zero_state=(state == "zero_state"))
    douts = make_douts(cell, mode, N, T, H, rng)
    check_numerical_gradients(cell, mode, inputs, douts, GRADCHECK_TOL_FIXED)


@pytest.mark.parametrize("upstream", ["dh_only", "dc_only"])
def test_lstm_step_backward_each_upstream_path(upstream):
    """lstm_step_backward with only dh_next or only dc_next nonzero."""
    rng = np.random.default_rng(12)
    N, D, H = 3, 2, 4
    inputs = make_inputs(LSTM, "step", N, 1, D, H, rng)
    dh, dc = make_douts(LSTM, "step", N, 1, H, rng)
    douts = (dh, np.zeros_like(dc)) if upstream == "dh_only" else (np.zeros_like(dh), dc)
    check_numerical_gradients(LSTM, "step", inputs, douts, GRADCHECK_TOL_FIXED)


def test_lstm_sequence_with_h0_but_no_c0():
    rng = np.random.default_rng(13)
    inputs = make_inputs(LSTM, "seq", 2, 3, 3, 2, rng, c0=False)
    assert "c0" not in inputs
    douts = make_douts(LSTM, "seq", 2, 3, 2, rng)
    check_numerical_gradients(LSTM, "seq", inputs, douts, GRADCHECK_TOL_FIXED)


# ---------------------------------------------------------------------------------------
# 2. Agreement with PyTorch
# ---------------------------------------------------------------------------------------
@cell_params
@dtype_params
@pytest.mark.parametrize("T", [1, 4])
@pytest.mark.parametrize("state", ["zero_state", "random_state"])
def test_sequence_matches_torch(torch, cell, dtype, T, state):
    rng = np.random.default_rng(21)
    N, D, H = 3, 4, 5
    tol = TORCH_TOL[np.dtype(dtype)]
    inputs = make_inputs(cell, "seq", N, T, D, H, rng, dtype, zero_state=(state == "zero_state"))
    (dh,) = douts = make_douts(cell, "seq", N, T, H, rng, dtype)

    (h,), cache = forward(cell, "seq", inputs)
    grads = backward(cell, "seq", douts, cache)

    params = {k: inputs[k] for k in cell.param_names}
    c0 = inputs["c0"][None] if "c0" in inputs else None
    ref = torch_sequence(torch, cell, inputs["x"], [params], h0=inputs["h0"][None], c0=c0, dh=dh)

    assert h.shape == (N, T, H)
    assert_close(h, ref["h"], tol, "h")
    if cell.has_c:
        assert_close(cache.c_final, ref["c_n"][0], tol, "cache.c_final")
    assert_close(grads["x"], ref["x"], tol, "dx")
    assert_close(grads["h0"], ref["h0"][0], tol, "dh0")
    assert_dicts_close({k: grads[k] for k in cell.param_names}, ref["params"][0], tol, "params")


@cell_params
@dtype_params
def test_step_matches_torch(torch, cell, dtype):
    """A step is torch's sequence of length 1 (for the LSTM: c_next is torch's c_n, and
    the upstream gradient on it flows in as dc_next)."""
    rng = np.random.default_rng(22)
    N, D, H = 4, 3, 5
    tol = TORCH_TOL[np.dtype(dtype)]
    inputs = make_inputs(cell, "step", N, 1, D, H, rng, dtype)
    douts = make_douts(cell, "step", N, 1, H, rng, dtype)

    outs, cache = forward(cell, "step", inputs)
    grads = backward(cell, "step", douts, cache)

    params = {k: inputs[k] for k in cell.param_names}
    ref = torch_sequence(
        torch, cell, inputs["x"][:, None], [params], h0=inputs["h_prev"][None],
        c0=inputs["c_prev"][None] if cell.has_c else None, dh=douts[0][:, None],
        dc_n=douts[1][None] if cell.has_c else None)

    assert_close(outs[0], ref["h"][:, 0], tol, "h_next")
    assert_close(grads["x"], ref["x"][:, 0], tol, "dx")
    assert_close(grads["h_prev"], ref["h0"][0], tol, "dh_prev")
    if cell.has_c:
        assert_close(outs[1], ref["c_n"][0], tol, "c_next")
        assert_close(grads["c_prev"], ref["c0"][0], tol, "dc_prev")
    assert_dicts_close({k: grads[k] for k in cell.param_names}, ref["params"][0], tol, "params")


# ---------------------------------------------------------------------------------------
# 3. Properties over random shapes (hypothesis)
# ---------------------------------------------------------------------------------------
dims = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)
# derandomize: the same examples every run, so CI is reproducible (no flaky draws).
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True)


def _looped_steps(cell, inputs, dh):
    """The sequence kernels' results rebuilt from step kernels: (h, c_final, grads)."""
    step_fwd, step_bwd = cell.fn("step_forward"), cell.fn("step_backward")
    x = inputs["x"]
    N, T, _ = x.shape
    params = [inputs[k] for k in cell.param_names]
    h_prev = inputs["h0"]
    c_prev = inputs.get("c0", np.zeros_like(h_prev)) if cell.has_c else None
    hs, caches = [], []
    for t in range(T):
        if cell.has_c:
            h_prev, c_prev, cache = step_fwd(x[:, t], h_prev, c_prev, *params)
        else:
            h_prev, cache = step_fwd(x[:, t], h_prev, *params)
        hs.append(h_prev)
        caches.append(cache)
    h = np.stack(hs, axis=1)

    grads = {k: np.zeros_like(inputs[k]) for k in cell.param_names}
    dx = np.zeros_like(x)
    dh_carry = np.zeros_like(inputs["h0"])
    dc_carry = np.zeros_like(inputs["h0"])
    for t in reversed(range(T)):
        if cell.has_c:
            dx_t, dh_carry, dc_carry, *dparams = step_bwd(dh[:, t] + dh_carry, dc_carry, caches[t])
        else:
            dx_t, dh_carry, *dparams = step_bwd(dh[:, t] + dh_carry, caches[t])
        dx[:, t] = dx_t
        for k, g in zip(cell.param_names, dparams):
            grads[k] += g
    grads.update(x=dx, h0=dh_carry)
    return h, c_prev, grads


@cell_params
@PROPERTY
@given(N=dims, T=dims, D=dims, H=dims, seed=seeds, with_state=st.booleans())
@example(N=1, T=1, D=1, H=1, seed=0, with_state=True)
@example(N=1, T=5, D=1, H=1, seed=1, with_state=False)
def test_sequence_equals_looped_steps(cell, N, T, D, H, seed, with_state):
    rng = np.random.default_rng(seed)
    inputs = make_inputs(cell, "seq", N, T, D, H, rng, zero_state=not with_state)
    (dh,) = douts = make_douts(cell, "seq", N, T, H, rng)

    (h,), cache = forward(cell, "seq", inputs)
    grads = backward(cell, "seq", douts, cache)
    h_ref, c_ref, grads_ref = _looped_steps(cell, inputs, dh)

    assert_close(h, h_ref, SAME, "h")
    if cell.has_c:
        assert cache.c_final.shape == (N, H)
        assert_close(cache.c_final, c_ref, SAME, "cache.c_final")
    assert_dicts_close(grads, grads_ref, SAME, "grads")


@cell_params
@mode_params
@PROPERTY
@given(N=dims, T=dims, D=dims, H=dims, seed=seeds, with_state=st.booleans())
@example(N=1, T=1, D=1, H=1, seed=0, with_state=True)
def test_backward_matches_numerical_gradient_property(cell, mode, N, T, D, H, seed, with_state):
    rng = np.random.default_rng(seed)
    inputs = make_inputs(cell, mode, N, T, D, H, rng, zero_state=not with_state)
    douts = make_douts(cell, mode, N, T, H, rng)
    check_numerical_gradients(cell, mode, inputs, douts, GRADCHECK_TOL_PROPERTY)


# ---------------------------------------------------------------------------------------
# 4. dtype
# ---------------------------------------------------------------------------------------
@cell_params
@mode_params
@dtype_params
def test_dtype_preserved(cell, mode, dtype):
    rng = np.random.default_rng(41)
    N, T, D, H = 2, 3, 4, 5
    inputs = make_inputs(cell, mode, N, T, D, H, rng, dtype)
    douts = make_douts(cell, mode, N, T, H, rng, dtype)
    outs, cache = forward(cell, mode, inputs)
    for o, shape in zip(outs, out_shapes(cell, mode, N, T, H)):
        assert o.dtype == dtype and o.shape == shape
    if cell.has_c and mode == "seq":
        assert cache.c_final.dtype == dtype and cache.c_final.shape == (N, H)
    grads = backward(cell, mode, douts, cache)
    for k, g in grads.items():
        assert isinstance(g, np.ndarray), f"d{k} is {type(g).__name__}"
        assert g.dtype == dtype, f"d{k}: dtype {g.dtype}, expected {np.dtype(dtype)}"
        assert g.shape == inputs[k].shape, f"d{k}: shape {g.shape}, expected {inputs[k].shape}"


@cell_params
@mode_params
@pytest.mark.parametrize("which", ["x", "state", "Wx", "Wh", "bias"])
def test_integer_inputs_refused(cell, mode, which):
    rng = np.random.default_rng(42)
    inputs = make_inputs(cell, mode, 2, 3, 2, 3, rng)
    name = {"state": cell.state_names(mode)[0], "bias": cell.bias_names[0]}.get(which, which)
    inputs[name] = np.round(3 * inputs[name]).astype(np.int64)
    with pytest.raises(ValueError):
        forward(cell, mode, inputs)


# ---------------------------------------------------------------------------------------
# 5. Inputs are never modified
# ---------------------------------------------------------------------------------------
@cell_params
@mode_params
def test_inputs_not_modified(cell, mode):
    rng = np.random.default_rng(51)
    inputs = make_inputs(cell, mode, 3, 4, 2, 3, rng)
    douts = make_douts(cell, mode, 3, 4, 3, rng)
    inputs_before = copy_inputs(inputs)
    douts_before = [d.copy() for d in douts]

    outs, cache = forward(cell, mode, inputs)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], inputs_before[k], err_msg=f"forward changed {k}")
    backward(cell, mode, douts, cache)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], inputs_before[k], err_msg=f"backward changed {k}")
    for i, (d, d0) in enumerate(zip(douts, douts_before)):
        np.testing.assert_array_equal(d, d0, err_msg=f"backward changed upstream gradient #{i}")


@cell_params
@mode_params
def test_read_only_inputs_accepted(cell, mode):
    """A kernel that never writes its inputs runs on read-only arrays (e.g. a dataset
    memory-mapped read-only, or np.broadcast_to views) and gives the same results."""
    rng = np.random.default_rng(52)
    inputs = make_inputs(cell, mode, 2, 3, 2, 3, rng)
    douts = make_douts(cell, mode, 2, 3, 3, rng)
    outs, cache = forward(cell, mode, inputs)
    grads = backward(cell, mode, douts, cache)
    ro_inputs, ro_douts = copy_inputs(inputs), tuple(d.copy() for d in douts)
    for a in (*ro_inputs.values(), *ro_douts):
        a.flags.writeable = False
    ro_outs, ro_cache = forward(cell, mode, ro_inputs)
    ro_grads = backward(cell, mode, ro_douts, ro_cache)
    for o, o2 in zip(ro_outs, outs):
        assert_close(o, o2, SAME)
    assert_dicts_close(ro_grads, grads, SAME)


@cell_params
@mode_params
@dtype_params
def test_saturated_inputs_stay_finite(cell, mode, dtype):
    """Pre-activations of size ~1e4 (activations are exact there, per the contract):
    no overflow warning, no NaN or inf in outputs or gradients."""
    rng = np.random.default_rng(53)
    inputs = make_inputs(cell, mode, 2, 3, 4, 3, rng, dtype)
    inputs["x"] = inputs["x"] * dtype(1e4)
    douts = make_douts(cell, mode, 2, 3, 3, rng, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outs, cache = forward(cell, mode, inputs)
        grads = backward(cell, mode, douts, cache)
    for o in outs:
        assert np.all(np.isfinite(o))
    for k, g in grads.items():
        assert np.all(np.isfinite(g)), f"d{k} not finite"


# ---------------------------------------------------------------------------------------
# 6. Shape checks
# ---------------------------------------------------------------------------------------
SN, ST, SD, SH = 2, 3, 4, 5  # H = 5: the LSTM's Wh is (5, 20), as in the contract's example


def _shape_cases():
    """(cell, mode, argument, bad shape, expected shape or None) for every bad argument."""
    cases_all = []
    for cell in CELLS:
        G = cell.gates * SH
        for mode in MODES:
            cases = [
                ("Wx", (SD + 1, G), (SD, G)),
                ("Wx", (SD, G + 1), (SD, G)),
                ("Wx", (G, SD), (SD, G)),  # torch's weight_ih layout, untransposed
                ("Wh", (SH, G + 1), (SH, G)),  # contract: "Wh: expected shape (5, 20), got (5, 21)"
                ("Wh", (G,), None),
            ]
            for b in cell.bias_names:
                cases += [(b, (G + 1,), (G,)), (b, (1, G), (G,)), (b, (G, 1), (G,))]
                if G != SH:  # one gate's worth of bias
                    cases.append((b, (SH,), (G,)))
            for s in cell.state_names(mode):
                cases += [(s, (SH,), (SN, SH)), (s, (SN + 1, SH), (SN, SH)),
                          (s, (SN, SH + 1), (SN, SH)), (s, (1, SN, SH), (SN, SH))]
            if mode == "step":
                cases += [("x", (SN, 1, SD), None), ("x", (SD,), None)]
            else:
                cases += [("x", (SN, SD), None), ("x", (1, SN, ST, SD), None)]
            for name, bad, expected in cases:
                cases_all.append(pytest.param(
                    cell, mode, name, bad, expected,
                    id=f"{cell.name}-{mode}-{name}{bad}".replace(" ", "")))
    return cases_all


@pytest.mark.parametrize("cell, mode, name, bad, expected", _shape_cases())
def test_inconsistent_shape_raises(cell, mode, name, bad, expected):
    rng = np.random.default_rng(61)
    inputs = make_inputs(cell, mode, SN, ST, SD, SH, rng, c0=True)
    inputs[name] = rng.standard_normal(bad)
    assert_shape_error(lambda: forward(cell, mode, inputs), name, bad, expected)


# ---------------------------------------------------------------------------------------
# 7. Returned values stay valid after later calls
# ---------------------------------------------------------------------------------------
@cell_params
@mode_params
def test_results_survive_later_calls(cell, mode):
    rng = np.random.default_rng(71)
    N, T, D, H = 2, 3, 3, 4
    A = make_inputs(cell, mode, N, T, D, H, rng)
    B = make_inputs(cell, mode, N, T, D, H, rng)
    dA = make_douts(cell, mode, N, T, H, rng)
    dB = make_douts(cell, mode, N, T, H, rng)

    outs_A, cache_A = forward(cell, mode, A)
    kept_A = [o.copy() for o in outs_A]
    c_final_A = cache_A.c_final.copy() if (cell.has_c and mode == "seq") else None

    outs_B, cache_B = forward(cell, mode, B)
    grads_B = backward(cell, mode, dB, cache_B)
    kept_grads_B = copy_inputs(grads_B)
    kept_B = [o.copy() for o in outs_B]

    for o, k in zip(outs_A, kept_A):
        np.testing.assert_array_equal(o, k, err_msg="output of an earlier forward was overwritten")
    if c_final_A is not None:
        np.testing.assert_array_equal(cache_A.c_final, c_final_A)

    grads_A = backward(cell, mode, dA, cache_A)
    kept_grads_A = copy_inputs(grads_A)
    for o, k in zip(outs_B, kept_B):
        np.testing.assert_array_equal(o, k, err_msg="output overwritten by a later backward")
    for k in grads_B:
        np.testing.assert_array_equal(grads_B[k], kept_grads_B[k],
                                      err_msg=f"d{k} of an earlier backward was overwritten")

    # the old cache gives what a fresh forward/backward of A gives
    outs_A2, cache_A2 = forward(cell, mode, copy_inputs(A))
    grads_A2 = backward(cell, mode, dA, cache_A2)
    for o, o2 in zip(outs_A, outs_A2):
        assert_close(o, o2, SAME, "output")
    assert_dicts_close(grads_A, grads_A2, SAME, "gradients from a kept cache")
    # and the same cache used twice gives the same again, without touching the first result
    grads_A3 = backward(cell, mode, dA, cache_A)
    assert_dicts_close(grads_A3, grads_A2, SAME, "second backward on one cache")
    for k in grads_A:
        np.testing.assert_array_equal(grads_A[k], kept_grads_A[k])


@cell_params
@mode_params
@pytest.mark.parametrize("N, T", [(1, 1), (1, 3), (3, 1), (2, 3)])
def test_results_never_alias_scratch_cache_or_inputs(cell, mode, N, T):
    """No output or gradient shares memory with a reused scratch buffer, with the cache,
    or with an input: size-1 dimensions make transposed views look contiguous, the
    classic way for a view to slip out where a copy was meant."""
    from course_lib._scratch import _local

    rng = np.random.default_rng(5)
    inputs = make_inputs(cell, mode, N, T, 3, 4, rng)
    outs, cache = forward(cell, mode, inputs)
    grads = backward(cell, mode, make_douts(cell, mode, N, T, 4, rng), cache)
    held = list(vars(cache).values()) + list(inputs.values()) + list(getattr(_local, "buffers", {}).values())
    returned = list(outs) + list(grads.values())
    if cell.has_c and mode == "seq":
        returned.append(cache.c_final)
    output_ids = {id(o) for o in outs}
    for r in returned:
        for h in held:
            if not isinstance(h, np.ndarray) or id(h) in output_ids:
                continue  # a step cache may keep its own output (h_next) by design
            assert not np.shares_memory(r, h), f"a returned array shares memory with one of shape {h.shape}"


def _two_layers(cell, rng, N, T, H):
    """Two layers of the same shape (D = H): inputs for layer 1 and params for layer 2."""
    x = rng.standard_normal((N, T, H))
    layers = [make_params(cell, H, H, rng), make_params(cell, H, H, rng)]
    h0 = rng.standard_normal((2, N, H))
    c0 = rng.standard_normal((2, N, H)) if cell.has_c else None
    return x, layers, h0, c0


def _run_stack(cell, x, layers, h0, c0, dh):
    ins = []
    inp = x
    caches = []
    for i, p in enumerate(layers):
        inputs = {"x": inp, "h0": h0[i], **p}
        if c0 is not None:
            inputs["c0"] = c0[i]
        (inp,), cache = forward(cell, "seq", inputs)
        ins.append(inputs)
        caches.append(cache)
    out = inp
    if dh is None:
        return out, None
    grads = [None, None]
    d = dh
    for i in reversed(range(len(layers))):
        grads[i] = backward(cell, "seq", (d,), caches[i])
        d = grads[i]["x"]
    return out, grads


@cell_params
def test_two_stacked_layers_match_torch(torch, cell):
    rng = np.random.default_rng(72)
    N, T, H = 2, 4, 3
    x, layers, h0, c0 = _two_layers(cell, rng, N, T, H)
    dh = rng.standard_normal((N, T, H))
    out, grads = _run_stack(cell, x, layers, h0, c0, dh)
    ref = torch_sequence(torch, cell, x, layers, h0=h0, c0=c0, dh=dh)
    tol = TORCH_TOL[np.dtype(np.float64)]
    assert_close(out, ref["h"], tol, "layer-2 output")
    assert_close(grads[0]["x"], ref["x"], tol, "dx")
    for i in range(2):
        assert_close(grads[i]["h0"], ref["h0"][i], tol, f"dh0 of layer {i + 1}")
        assert_dicts_close({k: grads[i][k] for k in cell.param_names}, ref["params"][i], tol,
                           f"layer {i + 1}")


@cell_params
def test_two_stacked_layers_numerical_gradient(cell):
    rng = np.random.default_rng(73)
    N, T, H = 2, 3, 2
    x, layers, h0, c0 = _two_layers(cell, rng, N, T, H)
    dh = rng.standard_normal((N, T, H))
    _, grads = _run_stack(cell, x, layers, h0, c0, dh)

    def f(_):  # the perturbed array is x or a layer's weight: read them all
        return float(np.sum(_run_stack(cell, x, layers, h0, c0, None)[0] * dh))

    errors = {"x": rel_error(grads[0]["x"], numerical_grad(f, x))}
    for i in range(2):
        for k in cell.param_names:
            errors[f"{k}_l{i + 1}"] = rel_error(grads[i][k], numerical_grad(f, layers[i][k]))
    assert max(errors.values()) < GRADCHECK_TOL_FIXED, errors


# ---------------------------------------------------------------------------------------
# 8. Non-contiguous inputs
# ---------------------------------------------------------------------------------------
@cell_params
@mode_params
@pytest.mark.parametrize("kind", NONCONTIGUOUS_KINDS)
def test_noncontiguous_inputs(cell, mode, kind):
    rng = np.random.default_rng(81)
    N, T, D, H = 3, 4, 3, 2
    inputs = make_inputs(cell, mode, N, T, D, H, rng)
    douts = make_douts(cell, mode, N, T, H, rng)
    outs, cache = forward(cell, mode, inputs)
    grads = backward(cell, mode, douts, cache)

    nc_inputs = {k: noncontiguous(v, kind) for k, v in inputs.items()}
    nc_douts = tuple(noncontiguous(d, kind) for d in douts)
    for k, v in nc_inputs.items():
        np.testing.assert_array_equal(v, inputs[k])
        if v.ndim >= 2 or kind in ("strided", "reversed"):
            assert not v.flags.c_contiguous, k
    nc_outs, nc_cache = forward(cell, mode, nc_inputs)
    nc_grads = backward(cell, mode, nc_douts, nc_cache)
    for o, o2 in zip(nc_outs, outs):
        assert_close(o, o2, SAME, "output")
    assert_dicts_close(nc_grads, grads, SAME, "gradients")


# ---------------------------------------------------------------------------------------
# 9. LSTM state carried across truncated-BPTT chunks
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("with_c0", [False, True])
def test_lstm_state_carry(k, with_c0):
    from course_lib.lstm import lstm_forward

    rng = np.random.default_rng(91)
    N, T, D, H = 2, 5, 3, 4
    inputs = make_inputs(LSTM, "seq", N, T, D, H, rng, c0=with_c0)
    x, h0 = inputs["x"], inputs["h0"]
    params = [inputs[n] for n in LSTM.param_names]
    c0 = inputs.get("c0")

    h_all, cache_all = lstm_forward(x, h0, *params, c0=c0)
    h1, cache1 = lstm_forward(x[:, :k], h0, *params, c0=c0)
    assert cache1.c_final.shape == (N, H)
    h2, cache2 = lstm_forward(x[:, k:], h1[:, -1], *params, c0=cache1.c_final)

    assert_close(np.concatenate([h1, h2], axis=1), h_all, SAME, "chunked h")
    assert_close(cache2.c_final, cache_all.c_final, SAME, "c_final")


def test_lstm_c0_none_is_zero():
    from course_lib.lstm import lstm_forward

    rng = np.random.default_rng(92)
    inputs = make_inputs(LSTM, "seq", 2, 3, 2, 3, rng, c0=False)
    args = [inputs[n] for n in LSTM.input_names("seq")]
    h_none, cache_none = lstm_forward(*args)
    h_zero, cache_zero = lstm_forward(*args, c0=np.zeros((2, 3)))
    assert_close(h_none, h_zero, SAME)
    assert_close(cache_none.c_final, cache_zero.c_final, SAME)
    # c0 is keyword-only
    with pytest.raises(TypeError):
        lstm_forward(*args, np.zeros((2, 3)))


def test_scratch_buffers_belong_to_one_thread():
    """Kernels running in two threads at once must not share a
    scratch buffer: each thread gets its own array for the same name."""
    import threading

    from course_lib._scratch import scratch

    mine = scratch("test.thread", (4, 3), np.float32)
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(scratch("test.thread", (4, 3), np.float32)))
    thread.start()
    thread.join()
    assert scratch("test.thread", (4, 3), np.float32) is mine, "reused within a thread"
    assert not np.shares_memory(mine, theirs[0])


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_input_grad_false_skips_dx_and_changes_nothing_else(name):
    """A first layer reading data needs no dx: the same weight and state gradients, dx None."""
    from course_lib import gru, lstm, rnn

    forward, backward, gates = {"rnn": (rnn.rnn_forward, rnn.rnn_backward, 1),
                                "lstm": (lstm.lstm_forward, lstm.lstm_backward, 4),
                                "gru": (gru.gru_forward, gru.gru_backward, 3)}[name]
    rng = np.random.default_rng(11)
    N, T, D, H = 3, 5, 4, 6
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    weights = [rng.standard_normal((D, gates * H)) * 0.3, rng.standard_normal((H, gates * H)) * 0.3]
    weights += [rng.standard_normal(gates * H) * 0.1] * (2 if name == "gru" else 1)
    h, cache = forward(x, h0, *weights)
    dh = rng.standard_normal(h.shape)
    full = backward(dh, cache)
    lean = backward(dh, cache, input_grad=False)
    assert lean[0] is None
    assert len(lean) == len(full)
    for a, b in zip(full[1:], lean[1:]):
        # The LSTM's product for dh0 has a different shape without the x rows: BLAS may
        # sum in another order, so the last bit may differ.
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)

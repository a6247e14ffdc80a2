"""The reference sequence kernels (``*_forward_reference`` / ``*_backward_reference``).

Each recurrent module shows its sequence kernel twice: the reference, the step kernels
looped as the notebook derives it, and the fast kernel organised for speed. Here the
reference is held to the fast kernel (float64, ~1e-10 relative, forward and every
gradient), to central differences of its own (a loop written here, independent of
``course_lib.gradcheck``), and to the contract: dtype preserved, shape errors naming
the argument (the very message the fast kernel gives), inputs left unchanged, nothing
returned shared with the cache or the inputs.
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from recurrent_cases import (
    CELLS,
    assert_shape_error,
    cell_params,
    make_douts,
    make_inputs,
)

AGREE = 1e-10  # reference vs fast, float64: relative to the largest entry compared
GRADCHECK = 1e-7  # reference backward vs central differences, float64


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
def kernels(cell, form):
    """(forward, backward) of ``cell``; ``form`` is "fast" or "reference"."""
    suffix = "_reference" if form == "reference" else ""
    mod = cell.module
    return (getattr(mod, f"{cell.name}_forward{suffix}"),
            getattr(mod, f"{cell.name}_backward{suffix}"))


def run_forward(cell, form, inputs):
    forward, _ = kernels(cell, form)
    args = [inputs[n] for n in cell.input_names("seq")]
    kwargs = {"c0": inputs["c0"]} if "c0" in inputs else {}
    res = forward(*args, **kwargs)
    assert isinstance(res, tuple) and len(res) == 2, f"{cell.name} {form}: forward -> (h, cache)"
    return res


def run(cell, form, inputs, dh):
    """Forward then backward: ``(h, cache, {forward argument name: gradient})``."""
    h, cache = run_forward(cell, form, inputs)
    grads = kernels(cell, form)[1](dh, cache)
    names = cell.grad_names("seq")
    assert isinstance(grads, tuple) and len(grads) == len(names), (
        f"{cell.name} {form}: backward must return {names}")
    return h, cache, dict(zip(names, grads))


def assert_agree(actual, expected, what, tol=AGREE):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


def assert_reference_matches_fast(cell, inputs, dh):
    h_ref, cache_ref, grads_ref = run(cell, "reference", inputs, dh)
    h_fast, cache_fast, grads_fast = run(cell, "fast", inputs, dh)
    assert_agree(h_ref, h_fast, "h")
    assert set(grads_ref) == set(grads_fast)
    for name in grads_fast:
        assert_agree(grads_ref[name], grads_fast[name], f"d{name}")
    if cell.has_c:
        assert_agree(cache_ref.c_final, cache_fast.c_final, "cache.c_final")
    T = inputs["x"].shape[1]
    assert len(cache_ref.steps) == T  # the reference keeps one step cache per step


def numerical_gradient(f, a, step=1e-5):
    """Central differences of the scalar ``f()`` in every entry of ``a`` (changed in
    place and restored)."""
    grad = np.zeros_like(a)
    for ix in np.ndindex(a.shape):
        old = a[ix]
        a[ix] = old + step
        plus = f()
        a[ix] = old - step
        minus = f()
        a[ix] = old
        grad[ix] = (plus - minus) / (2 * step)
    return grad


def scaled_error(actual, expected):
    """``max |actual - expected|`` relative to the largest entry of either."""
    scale = max(np.max(np.abs(actual)), np.max(np.abs(expected)), 1e-12)
    return float(np.max(np.abs(actual - expected)) / scale)


# ---------------------------------------------------------------------------------------
# 1. Reference and fast kernels agree
# ---------------------------------------------------------------------------------------
SHAPES = [  # (N, T, D, H)
    (1, 1, 1, 1),
    (1, 4, 3, 2),  # N = 1
    (3, 1, 2, 5),  # T = 1
    (2, 3, 5, 1),  # H = 1, D != H
    (2, 3, 3, 3),  # D == H
    (16, 20, 12, 24),  # larger
    (2, 0, 3, 4),  # T = 0: no step at all; the gradients are zeros, dh0 too
]


@cell_params
@pytest.mark.parametrize("N, T, D, H", SHAPES)
def test_reference_matches_fast(cell, N, T, D, H):
    rng = np.random.default_rng(1000 * N + 100 * T + 10 * D + H)
    inputs = make_inputs(cell, "seq", N, T, D, H, rng)  # nonzero h0 (and c0 for the LSTM)
    (dh,) = make_douts(cell, "seq", N, T, H, rng)
    assert_reference_matches_fast(cell, inputs, dh)


@cell_params
def test_reference_matches_fast_with_zero_state(cell):
    """h0 = 0, and for the LSTM no ``c0`` at all (zeros by default)."""
    rng = np.random.default_rng(7)
    inputs = make_inputs(cell, "seq", 3, 4, 2, 3, rng, zero_state=True, c0=False)
    (dh,) = make_douts(cell, "seq", 3, 4, 3, rng)
    assert "c0" not in inputs
    assert_reference_matches_fast(cell, inputs, dh)


@cell_params
@settings(max_examples=25, deadline=None, derandomize=True)
@given(N=st.integers(1, 5), T=st.integers(1, 6), D=st.integers(1, 5), H=st.integers(1, 5),
       seed=st.integers(0, 2**32 - 1), with_state=st.booleans(), scale=st.sampled_from([0.5, 2.0]))
@example(N=1, T=1, D=1, H=1, seed=0, with_state=True, scale=0.5)
@example(N=1, T=6, D=5, H=1, seed=1, with_state=False, scale=2.0)
def test_reference_matches_fast_property(cell, N, T, D, H, seed, with_state, scale):
    rng = np.random.default_rng(seed)
    inputs = make_inputs(cell, "seq", N, T, D, H, rng, zero_state=not with_state, scale=scale)
    (dh,) = make_douts(cell, "seq", N, T, H, rng)
    assert_reference_matches_fast(cell, inputs, dh)


# ---------------------------------------------------------------------------------------
# 2. The reference backward against central differences
# ---------------------------------------------------------------------------------------
@cell_params
@pytest.mark.parametrize("N, T, D, H", [(2, 3, 3, 2), (1, 1, 2, 3)])
def test_reference_backward_matches_numerical_gradient(cell, N, T, D, H):
    rng = np.random.default_rng(21 + N + T)
    inputs = make_inputs(cell, "seq", N, T, D, H, rng)
    (dh,) = make_douts(cell, "seq", N, T, H, rng)
    _, _, grads = run(cell, "reference", inputs, dh)

    def loss():
        return float(np.sum(run_forward(cell, "reference", inputs)[0] * dh))

    errors = {name: scaled_error(grads[name], numerical_gradient(loss, inputs[name]))
              for name in grads}
    bad = {k: e for k, e in errors.items() if not e < GRADCHECK}
    assert not bad, f"{cell.name}: errors above {GRADCHECK}: {bad} (all: {errors})"


# ---------------------------------------------------------------------------------------
# 3. The contract: dtype, shapes, inputs unchanged, nothing shared
# ---------------------------------------------------------------------------------------
@cell_params
def test_reference_float32_stays_float32(cell):
    rng = np.random.default_rng(31)
    N, T, D, H = 2, 3, 4, 5
    inputs = make_inputs(cell, "seq", N, T, D, H, rng, np.float32)
    (dh,) = make_douts(cell, "seq", N, T, H, rng, np.float32)
    h, cache, grads = run(cell, "reference", inputs, dh)
    assert h.dtype == np.float32 and h.shape == (N, T, H)
    for name, g in grads.items():
        assert g.dtype == np.float32, f"d{name}: {g.dtype}"
        assert g.shape == inputs[name].shape, f"d{name}: {g.shape}"
    if cell.has_c:
        assert cache.c_final.dtype == np.float32 and cache.c_final.shape == (N, H)
    h_fast, _, grads_fast = run(cell, "fast", inputs, dh)
    assert_agree(h, h_fast, "h (float32)", tol=1e-5)
    for name in grads:
        assert_agree(grads[name], grads_fast[name], f"d{name} (float32)", tol=1e-4)


SN, ST, SD, SH = 2, 3, 4, 5


def _bad_shapes():
    cases = []
    for cell in CELLS:
        G = cell.gates * SH
        bad = [("x", (SN, SD), None), ("x", (1, SN, ST, SD), None),
               ("h0", (SH,), (SN, SH)), ("h0", (SN + 1, SH), (SN, SH)),
               ("Wx", (SD + 1, G), (SD, G)), ("Wx", (G, SD), (SD, G)),
               ("Wh", (SH, G + 1), (SH, G)), ("Wh", (G,), None)]
        bad += [(b, (1, G), (G,)) for b in cell.bias_names]
        bad += [(b, (G + 1,), (G,)) for b in cell.bias_names]
        if cell.has_c:
            bad += [("c0", (SH,), (SN, SH)), ("c0", (SN, SH + 1), (SN, SH))]
        cases += [pytest.param(cell, name, shape, expected,
                               id=f"{cell.name}-{name}{shape}".replace(" ", ""))
                  for name, shape, expected in bad]
    return cases


@pytest.mark.parametrize("cell, name, bad, expected", _bad_shapes())
def test_reference_bad_shape_raises_like_fast(cell, name, bad, expected):
    rng = np.random.default_rng(41)
    inputs = make_inputs(cell, "seq", SN, ST, SD, SH, rng, c0=True)
    inputs[name] = rng.standard_normal(bad)
    assert_shape_error(lambda: run_forward(cell, "reference", inputs), name, bad, expected)
    with pytest.raises(ValueError) as fast_error:
        run_forward(cell, "fast", inputs)
    with pytest.raises(ValueError) as reference_error:
        run_forward(cell, "reference", inputs)
    assert str(reference_error.value) == str(fast_error.value)


@cell_params
def test_reference_integer_input_refused(cell):
    rng = np.random.default_rng(42)
    inputs = make_inputs(cell, "seq", 2, 3, 2, 3, rng)
    inputs["Wh"] = np.round(3 * inputs["Wh"]).astype(np.int64)
    with pytest.raises(ValueError, match="Wh"):
        run_forward(cell, "reference", inputs)


@cell_params
@pytest.mark.parametrize("N, T", [(1, 1), (1, 3), (3, 1), (2, 3)])
def test_reference_leaves_inputs_alone_and_shares_nothing(cell, N, T):
    """Inputs and ``dh`` unchanged; no output or gradient shares memory with an input,
    with a step cache, or with another returned array."""
    rng = np.random.default_rng(51)
    inputs = make_inputs(cell, "seq", N, T, 3, 4, rng)
    (dh,) = make_douts(cell, "seq", N, T, 4, rng)
    before = {k: v.copy() for k, v in inputs.items()}
    dh_before = dh.copy()
    h, cache, grads = run(cell, "reference", inputs, dh)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], before[k], err_msg=f"{k} was changed")
    np.testing.assert_array_equal(dh, dh_before, err_msg="dh was changed")

    held = list(inputs.values()) + [dh, cache.Wx, cache.Wh]
    held += [a for step in cache.steps for a in vars(step).values()]
    returned = [h] + list(grads.values())
    if cell.has_c:
        returned.append(cache.c_final)
        assert cache.c_final is not cache.c_final  # a fresh copy at every access
    for i, r in enumerate(returned):
        for other in held + returned[i + 1:]:
            assert not np.shares_memory(r, other), (
                f"a returned array {r.shape} shares memory with one of shape {other.shape}")


@cell_params
def test_reference_results_survive_later_calls(cell):
    rng = np.random.default_rng(61)
    A = make_inputs(cell, "seq", 2, 3, 3, 4, rng)
    B = make_inputs(cell, "seq", 2, 3, 3, 4, rng)
    (dA,) = make_douts(cell, "seq", 2, 3, 4, rng)
    (dB,) = make_douts(cell, "seq", 2, 3, 4, rng)
    h_A, _, grads_A = run(cell, "reference", A, dA)
    kept = [h_A.copy()] + [g.copy() for g in grads_A.values()]
    run(cell, "reference", B, dB)
    run(cell, "fast", B, dB)
    for now, then in zip([h_A] + list(grads_A.values()), kept):
        np.testing.assert_array_equal(now, then)

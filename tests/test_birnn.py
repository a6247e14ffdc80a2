"""course_lib.birnn held to docs/kernel-contract.md, for every cell.

Agreement with PyTorch uses the combined tolerance of recurrent_cases.TORCH_TOL
(|ours - torch| <= tol * (1 + |torch|), tol 1e-9 in float64, 1e-4 in float32); the
gradient check uses course_lib.gradcheck.rel_error < 1e-7 in float64.
"""

import numpy as np
import pytest
from recurrent_cases import (
    CELLS,
    GRADCHECK_TOL_FIXED,
    TORCH_TOL,
    assert_close,
    assert_dicts_close,
    cell_params,
    copy_inputs,
    dtype_params,
    make_params,
    name_pattern,
    numerical_grad,
    torch_bidirectional,
)

from course_lib.gradcheck import rel_error

N, T, D, H = 4, 5, 3, 2
LENGTHS = np.array([5, 2, 1, 3])  # unsorted, with 1 and T
SAME = 1e-12

lengths_params = pytest.mark.parametrize(
    "lengths", [None, LENGTHS], ids=["no_lengths", "lengths"])


def bidirectional_forward(*args, **kwargs):
    from course_lib.birnn import bidirectional_forward as f
    return f(*args, **kwargs)


def bidirectional_backward(*args, **kwargs):
    from course_lib.birnn import bidirectional_backward as f
    return f(*args, **kwargs)


def _case(cell, seed, dtype=np.float64, n=N, t=T, d=D, h=H):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, t, d)).astype(dtype)
    fw = make_params(cell, d, h, rng, dtype)
    bw = make_params(cell, d, h, rng, dtype)
    dout = rng.standard_normal((n, t, 2 * h)).astype(dtype)
    return rng, x, fw, bw, dout


def _padded(lengths, n=N, t=T):
    """Boolean (N, T): True at padded positions."""
    if lengths is None:
        return np.zeros((n, t), dtype=bool)
    return np.arange(t)[None, :] >= np.asarray(lengths)[:, None]


def _run(cell, x, fw, bw, dout, lengths):
    out, cache = bidirectional_forward(x, cell.name, fw, bw, lengths=lengths)
    res = bidirectional_backward(dout, cache)
    assert isinstance(res, tuple) and len(res) == 3
    return out, res


# ---------------------------------------------------------------------------------------
# Agreement with torch (bidirectional=True; packed when lengths are given)
# ---------------------------------------------------------------------------------------
@cell_params
@dtype_params
@lengths_params
def test_matches_torch(torch, cell, dtype, lengths):
    _, x, fw, bw, dout = _case(cell, 1, dtype)
    tol = TORCH_TOL[np.dtype(dtype)]
    out, (dx, g_fw, g_bw) = _run(cell, x, fw, bw, dout, lengths)
    ref_out, ref_dx, ref_fw, ref_bw = torch_bidirectional(torch, cell, x, fw, bw, dout, lengths)

    assert out.shape == (N, T, 2 * H) and out.dtype == dtype
    assert dx.shape == x.shape and dx.dtype == dtype
    assert_close(out, ref_out, tol, "out")
    assert_close(dx, ref_dx, tol, "dx")
    assert_dicts_close(g_fw, ref_fw, tol, "grads_fw")
    assert_dicts_close(g_bw, ref_bw, tol, "grads_bw")
    for g, p in ((g_fw, fw), (g_bw, bw)):
        assert set(g) == set(p), f"gradient keys {sorted(g)} != param keys {sorted(p)}"
        for k in p:
            assert g[k].shape == p[k].shape and g[k].dtype == dtype, k


@cell_params
def test_halves_are_the_unidirectional_kernels(cell):
    """out[..., :H] is the cell's forward over each sequence's valid steps; out[..., H:] at
    t has read x[n, t:L] right to left (the same kernel on the reversed sequence)."""
    _, x, fw, bw, _ = _case(cell, 2)
    forward = cell.fn("forward")
    out, _ = bidirectional_forward(x, cell.name, fw, bw, lengths=LENGTHS)
    for n, L in enumerate(LENGTHS):
        xs = x[n:n + 1, :L]
        h0 = np.zeros((1, H))
        h_fw, _ = forward(xs, h0, *[fw[k] for k in cell.param_names])
        h_bw, _ = forward(xs[:, ::-1], h0, *[bw[k] for k in cell.param_names])
        assert_close(out[n:n + 1, :L, :H], h_fw, SAME, f"forward half, sequence {n}")
        assert_close(out[n:n + 1, :L, H:], h_bw[:, ::-1], SAME, f"backward half, sequence {n}")


@cell_params
def test_full_lengths_equal_no_lengths(cell):
    _, x, fw, bw, dout = _case(cell, 3)
    out, (dx, g_fw, g_bw) = _run(cell, x, fw, bw, dout, None)
    out2, (dx2, g_fw2, g_bw2) = _run(cell, x, fw, bw, dout, np.full(N, T))
    assert_close(out2, out, SAME)
    assert_close(dx2, dx, SAME)
    assert_dicts_close(g_fw2, g_fw, SAME)
    assert_dicts_close(g_bw2, g_bw, SAME)


@cell_params
def test_int32_lengths(cell):
    _, x, fw, bw, dout = _case(cell, 4)
    out, (dx, g_fw, g_bw) = _run(cell, x, fw, bw, dout, LENGTHS.astype(np.int64))
    out2, (dx2, g_fw2, g_bw2) = _run(cell, x, fw, bw, dout, LENGTHS.astype(np.int32))
    assert_close(out2, out, SAME)
    assert_close(dx2, dx, SAME)
    assert_dicts_close(g_fw2, g_fw, SAME)
    assert_dicts_close(g_bw2, g_bw, SAME)


# ---------------------------------------------------------------------------------------
# Padding
# ---------------------------------------------------------------------------------------
def _garbage(kind, rng, shape):
    """Values for padded positions, which must never be read (packed-sequence semantics)."""
    if kind == "large":
        return 1e3 * rng.standard_normal(shape)
    return np.full(shape, {"nan": np.nan, "inf": np.inf}[kind])


garbage_params = pytest.mark.parametrize("garbage", ["large", "nan", "inf"])


@cell_params
def test_padded_positions_are_zero(cell):
    _, x, fw, bw, dout = _case(cell, 5)
    pad = _padded(LENGTHS)
    out, (dx, _, _) = _run(cell, x, fw, bw, dout, LENGTHS)
    assert np.all(out[pad] == 0), "out must be zero at padded positions"
    assert np.all(dx[pad] == 0), "dx must be zero at padded positions"


@cell_params
@garbage_params
def test_dout_at_padded_positions_ignored(cell, garbage):
    rng, x, fw, bw, dout = _case(cell, 5)
    pad = _padded(LENGTHS)
    _, (dx, g_fw, g_bw) = _run(cell, x, fw, bw, dout, LENGTHS)
    dout_g = dout.copy()
    dout_g[pad] = _garbage(garbage, rng, dout_g[pad].shape)
    with np.errstate(all="ignore"):  # judge the results, not the warnings
        _, (dx_g, g_fw_g, g_bw_g) = _run(cell, x, fw, bw, dout_g, LENGTHS)
    assert_close(dx_g, dx, SAME, f"dx with {garbage} dout at padded positions")
    assert_dicts_close(g_fw_g, g_fw, SAME, f"grads_fw with {garbage} dout at padded positions")
    assert_dicts_close(g_bw_g, g_bw, SAME, f"grads_bw with {garbage} dout at padded positions")


@cell_params
@garbage_params
def test_x_at_padded_positions_ignored(cell, garbage):
    """Padded inputs are never read, as with torch's packed sequences (which give the
    same, finite results for NaN padding)."""
    rng, x, fw, bw, dout = _case(cell, 5)
    pad = _padded(LENGTHS)
    out, (dx, g_fw, g_bw) = _run(cell, x, fw, bw, dout, LENGTHS)
    x_g = x.copy()
    x_g[pad] = _garbage(garbage, rng, x_g[pad].shape)
    with np.errstate(all="ignore"):  # judge the results, not the warnings
        out_g, (dx_g, g_fw_g, g_bw_g) = _run(cell, x_g, fw, bw, dout, LENGTHS)
    assert np.all(out_g[pad] == 0), f"out not zero at padded positions holding {garbage}"
    assert_close(out_g, out, SAME, f"out with {garbage} x at padded positions")
    assert_close(dx_g, dx, SAME, f"dx with {garbage} x at padded positions")
    assert_dicts_close(g_fw_g, g_fw, SAME, f"grads_fw with {garbage} x at padded positions")
    assert_dicts_close(g_bw_g, g_bw, SAME, f"grads_bw with {garbage} x at padded positions")


# ---------------------------------------------------------------------------------------
# Gradient check
# ---------------------------------------------------------------------------------------
@cell_params
@lengths_params
def test_numerical_gradient(cell, lengths):
    _, x, fw, bw, dout = _case(cell, 6, n=3, t=4, d=2, h=2)
    if lengths is not None:
        lengths = np.array([4, 1, 3])
    out, (dx, g_fw, g_bw) = _run(cell, x, fw, bw, dout, lengths)

    def f(_):  # the perturbed array is x or a weight: read them all
        return float(np.sum(bidirectional_forward(x, cell.name, fw, bw, lengths=lengths)[0] * dout))

    errors = {"x": rel_error(dx, numerical_grad(f, x))}
    for tag, params, grads in (("fw", fw, g_fw), ("bw", bw, g_bw)):
        assert set(grads) == set(params), f"grads_{tag} keys {sorted(grads)}"
        for k in params:
            errors[f"{tag}.{k}"] = rel_error(grads[k], numerical_grad(f, params[k]))
    bad = {k: e for k, e in errors.items() if not e < GRADCHECK_TOL_FIXED}
    assert not bad, f"rel errors {errors}"


# ---------------------------------------------------------------------------------------
# Inputs, results and errors
# ---------------------------------------------------------------------------------------
@cell_params
@lengths_params
def test_inputs_not_modified(cell, lengths):
    _, x, fw, bw, dout = _case(cell, 7)
    lengths = None if lengths is None else lengths.copy()
    before = copy_inputs({"x": x, "dout": dout, **{f"fw.{k}": v for k, v in fw.items()},
                          **{f"bw.{k}": v for k, v in bw.items()}})
    lengths_before = None if lengths is None else lengths.copy()
    _run(cell, x, fw, bw, dout, lengths)
    after = {"x": x, "dout": dout, **{f"fw.{k}": v for k, v in fw.items()},
             **{f"bw.{k}": v for k, v in bw.items()}}
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=f"{k} was modified")
    if lengths is not None:
        np.testing.assert_array_equal(lengths, lengths_before)


@cell_params
def test_results_survive_later_calls(cell):
    _, xA, fwA, bwA, dA = _case(cell, 8)
    _, xB, fwB, bwB, dB = _case(cell, 9)
    out_A, cache_A = bidirectional_forward(xA, cell.name, fwA, bwA, lengths=LENGTHS)
    kept = out_A.copy()
    out_B, (dxB, gfB, gbB) = _run(cell, xB, fwB, bwB, dB, LENGTHS)
    kept_dxB = dxB.copy()
    np.testing.assert_array_equal(out_A, kept, err_msg="earlier output overwritten")
    dxA, gfA, gbA = bidirectional_backward(dA, cache_A)
    np.testing.assert_array_equal(dxB, kept_dxB, err_msg="earlier dx overwritten")
    _, (dxA2, gfA2, gbA2) = _run(cell, xA, fwA, bwA, dA, LENGTHS)
    assert_close(dxA, dxA2, SAME)
    assert_dicts_close(gfA, gfA2, SAME)
    assert_dicts_close(gbA, gbA2, SAME)


BAD_LENGTHS = {
    "zero": np.array([5, 0, 1, 3]),
    "negative": np.array([5, -1, 1, 3]),
    "above_T": np.array([5, 6, 1, 3]),
    "too_many": np.array([5, 2, 1, 3, 4]),
    "too_few": np.array([5, 2, 1]),
    "column": LENGTHS[:, None],
    "scalar": np.array(3),
    "float": LENGTHS.astype(np.float64),
    "float_fractional": np.array([5.0, 2.5, 1.0, 3.0]),
}


@cell_params
@pytest.mark.parametrize("bad", list(BAD_LENGTHS), ids=list(BAD_LENGTHS))
def test_bad_lengths_raise(cell, bad):
    _, x, fw, bw, _ = _case(cell, 10)
    with pytest.raises(ValueError):
        bidirectional_forward(x, cell.name, fw, bw, lengths=BAD_LENGTHS[bad])


@pytest.mark.parametrize("name", ["transformer", "", "rnn_tanh"])
def test_unknown_cell_raises(name):
    _, x, fw, bw, _ = _case(CELLS[0], 11)
    with pytest.raises(ValueError):
        bidirectional_forward(x, name, fw, bw)


@cell_params
@pytest.mark.parametrize("direction", ["fw", "bw"])
def test_bad_param_shape_raises(cell, direction):
    _, x, fw, bw, _ = _case(cell, 12)
    params = fw if direction == "fw" else bw
    G = cell.gates * H
    params["Wh"] = np.zeros((H, G + 1))
    with pytest.raises(ValueError, match=name_pattern("Wh")) as info:
        bidirectional_forward(x, cell.name, fw, bw)
    assert str((H, G + 1)) in str(info.value)


@cell_params
def test_bias_broadcastable_shape_raises(cell):
    _, x, fw, bw, _ = _case(cell, 13)
    b = cell.bias_names[0]
    bw[b] = bw[b][None, :]
    with pytest.raises(ValueError, match=name_pattern(b)):
        bidirectional_forward(x, cell.name, fw, bw)


@cell_params
def test_directions_with_different_hidden_sizes_raise(cell):
    """out is (N, T, 2H): both directions share H. The message names a weight argument
    (or the params dict), not an internal one the caller never passed."""
    rng, x, fw, _, _ = _case(cell, 14)
    bw = make_params(cell, D, H + 1, rng)
    with pytest.raises(ValueError, match=r"params_(fw|bw)|(?<!\w)(Wx|Wh|bx|bh|b)(?!\w)") as info:
        bidirectional_forward(x, cell.name, fw, bw)
    assert "h0" not in str(info.value), str(info.value)

"""Tests for course_lib.layers: affine, temporal affine and embedding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.layers import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    temporal_affine_backward,
    temporal_affine_forward,
)

pytestmark = pytest.mark.filterwarnings("error")

FLOATS = [np.float32, np.float64]


def affine_case(rng, N, D, M, dtype=np.float64, T=None):
    x = rng.standard_normal((N, D) if T is None else (N, T, D)).astype(dtype)
    W = rng.standard_normal((D, M)).astype(dtype)
    b = rng.standard_normal(M).astype(dtype)
    dout = rng.standard_normal(x.shape[:-1] + (M,)).astype(dtype)
    return x, W, b, dout


def affine_gradcheck(forward, backward, x, W, b, dout):
    """Largest relative error of (dx, dW, db) against central differences."""
    _, cache = forward(x, W, b)
    grads = backward(dout, cache)
    errors = []
    for arg, grad in zip((x, W, b), grads):
        num = numerical_gradient(lambda _: forward(x, W, b)[0], arg, df=dout)
        assert grad.shape == arg.shape
        errors.append(rel_error(grad, num))
    return max(errors)


def embedding_case(rng, N, T, V, D, dtype=np.float64):
    idx = rng.integers(0, V, size=(N, T))
    W = rng.standard_normal((V, D)).astype(dtype)
    dout = rng.standard_normal((N, T, D)).astype(dtype)
    return idx, W, dout


# --- affine ------------------------------------------------------------------------


def test_affine_known_values():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
    b = np.array([0.1, 0.2, 0.3])
    out, cache = affine_forward(x, W, b)
    np.testing.assert_allclose(out, [[2.1, 4.2, -0.7], [5.1, 8.2, -2.7]], rtol=1e-15)
    dx, dW, db = affine_backward(np.ones((2, 3)), cache)
    np.testing.assert_allclose(dx, [[0.0, 2.5], [0.0, 2.5]])
    np.testing.assert_allclose(dW, [[4.0, 4.0, 4.0], [6.0, 6.0, 6.0]])
    np.testing.assert_allclose(db, [2.0, 2.0, 2.0])


def test_affine_matches_torch_linear(torch, rng):
    x, W, b, dout = affine_case(rng, 4, 5, 3)
    out, cache = affine_forward(x, W, b)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    t_out = torch.nn.functional.linear(tx, tW.T, tb)  # torch stores the weight as (M, D)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-13)
    for ours, theirs in zip(affine_backward(dout, cache), (tx.grad, tW.grad, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("N, D, M", [(4, 5, 3), (1, 1, 1), (3, 1, 2), (1, 4, 1)])
def test_affine_gradient_check(rng, N, D, M):
    assert affine_gradcheck(affine_forward, affine_backward, *affine_case(rng, N, D, M)) < 1e-7


@pytest.mark.parametrize("N, T, D, M", [(2, 3, 4, 5), (1, 1, 1, 1), (3, 1, 2, 1), (1, 4, 1, 3)])
def test_temporal_affine_gradient_check(rng, N, T, D, M):
    case = affine_case(rng, N, D, M, T=T)
    assert affine_gradcheck(temporal_affine_forward, temporal_affine_backward, *case) < 1e-7


def test_temporal_affine_is_affine_at_every_step(rng):
    x, W, b, dout = affine_case(rng, 3, 4, 5, T=6)
    out, cache = temporal_affine_forward(x, W, b)
    assert out.shape == (3, 6, 5)
    dx, dW, db = temporal_affine_backward(dout, cache)
    dW_sum, db_sum = np.zeros_like(W), np.zeros_like(b)
    for t in range(6):
        out_t, cache_t = affine_forward(x[:, t], W, b)
        np.testing.assert_allclose(out[:, t], out_t, rtol=1e-13)
        dx_t, dW_t, db_t = affine_backward(dout[:, t], cache_t)
        np.testing.assert_allclose(dx[:, t], dx_t, rtol=1e-13)
        dW_sum += dW_t
        db_sum += db_t
    np.testing.assert_allclose(dW, dW_sum, rtol=1e-12)
    np.testing.assert_allclose(db, db_sum, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    N=st.integers(1, 4),
    T=st.one_of(st.none(), st.integers(1, 4)),
    D=st.integers(1, 4),
    M=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_affine_gradient_check_random_shapes(N, T, D, M, seed):
    case = affine_case(np.random.default_rng(seed), N, D, M, T=T)
    if T is None:
        assert affine_gradcheck(affine_forward, affine_backward, *case) < 1e-6
    else:
        assert affine_gradcheck(temporal_affine_forward, temporal_affine_backward, *case) < 1e-6


# --- embedding ---------------------------------------------------------------------


def test_embedding_is_a_one_hot_matmul_and_repeated_indices_accumulate(rng):
    V, D = 5, 3
    idx = np.array([[0, 3, 3], [3, 1, 0]])  # 3 used three times, 2 and 4 never
    W = rng.standard_normal((V, D))
    dout = rng.standard_normal((2, 3, D))
    out, cache = embedding_forward(idx, W)
    onehot = np.eye(V)[idx]  # (N, T, V)
    np.testing.assert_array_equal(out, W[idx])
    np.testing.assert_allclose(out, onehot @ W, rtol=1e-15)
    dW = embedding_backward(dout, cache)
    np.testing.assert_allclose(dW, onehot.reshape(-1, V).T @ dout.reshape(-1, D), rtol=1e-14)
    np.testing.assert_allclose(dW[3], dout[0, 1] + dout[0, 2] + dout[1, 0], rtol=1e-15)
    np.testing.assert_array_equal(dW[[2, 4]], 0.0)


@pytest.mark.parametrize("N, T, V, D", [(2, 3, 4, 5), (1, 1, 1, 1), (3, 4, 2, 1), (1, 5, 7, 2)])
def test_embedding_gradient_check(rng, N, T, V, D):
    idx, W, dout = embedding_case(rng, N, T, V, D)
    _, cache = embedding_forward(idx, W)
    num = numerical_gradient(lambda w: embedding_forward(idx, w)[0], W, df=dout)
    assert rel_error(embedding_backward(dout, cache), num) < 1e-7


@settings(max_examples=25, deadline=None)
@given(
    N=st.integers(1, 4),
    T=st.integers(1, 4),
    V=st.integers(1, 5),
    D=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_embedding_gradient_check_random_shapes(N, T, V, D, seed):
    idx, W, dout = embedding_case(np.random.default_rng(seed), N, T, V, D)
    out, cache = embedding_forward(idx, W)
    assert out.shape == (N, T, D)
    num = numerical_gradient(lambda w: embedding_forward(idx, w)[0], W, df=dout)
    assert rel_error(embedding_backward(dout, cache), num) < 1e-6


def test_embedding_matches_torch(torch, rng):
    idx, W, dout = embedding_case(rng, 3, 6, 4, 5)  # V=4 < N*T: many repeats
    out, cache = embedding_forward(idx, W)
    tW = torch.tensor(W, requires_grad=True)
    t_out = torch.nn.functional.embedding(torch.tensor(idx), tW)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    np.testing.assert_allclose(embedding_backward(dout, cache), tW.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("idx_dtype", [np.int8, np.int32, np.int64, np.uint16])
def test_embedding_accepts_any_integer_dtype(rng, idx_dtype):
    idx, W, _ = embedding_case(rng, 2, 3, 4, 5)
    out, _ = embedding_forward(idx.astype(idx_dtype), W)
    np.testing.assert_array_equal(out, W[idx])


@pytest.mark.parametrize("bad, position", [(4, (1, 2)), (-1, (0, 0)), (100, (0, 1))])
def test_embedding_index_out_of_range_is_refused(bad, position):
    idx = np.zeros((2, 3), dtype=np.int64)
    idx[position] = bad
    expected = str(position).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=rf"^idx: index {bad} at position {expected} is outside \[0, 4\)"):
        embedding_forward(idx, np.zeros((4, 5)))


@pytest.mark.parametrize("idx", [np.zeros((2, 3)), np.zeros((2, 3), dtype=bool)])
def test_embedding_index_must_be_integer(idx):
    with pytest.raises(ValueError, match="^idx: expected an integer"):
        embedding_forward(idx, np.zeros((4, 5)))


@pytest.mark.parametrize(
    "idx_shape, W_shape, name",
    [((6,), (4, 5), "idx"), ((2, 3, 1), (4, 5), "idx"), ((2, 3), (20,), "W"), ((2, 3), (4, 5, 1), "W")],
)
def test_embedding_shapes_are_checked(idx_shape, W_shape, name):
    with pytest.raises(ValueError, match=rf"^{name}: expected a 2-D array"):
        embedding_forward(np.zeros(idx_shape, dtype=int), np.zeros(W_shape))


def test_embedding_table_must_be_floating():
    with pytest.raises(ValueError, match="^W: expected a floating"):
        embedding_forward(np.zeros((2, 3), dtype=int), np.zeros((4, 5), dtype=int))


# --- shape checks of the affine forwards -------------------------------------------


@pytest.mark.parametrize(
    "x_shape, W_shape, b_shape, message",
    [
        ((4, 5), (5, 3), (1, 3), r"^b: expected shape \(3,\), got \(1, 3\)"),
        ((4, 5), (5, 3), (4,), r"^b: expected shape \(3,\), got \(4,\)"),
        ((4, 5), (5, 3), (), r"^b: expected shape \(3,\), got \(\)"),
        ((4, 5), (6, 3), (3,), r"^W: expected shape \(5, 3\), got \(6, 3\)"),
        ((4, 5), (1, 3), (3,), r"^W: expected shape \(5, 3\), got \(1, 3\)"),
        ((4, 5), (5,), (3,), r"^W: expected a 2-D array \(D, M\), got shape \(5,\)"),
        ((5,), (5, 3), (3,), r"^x: expected a 2-D array \(N, D\), got shape \(5,\)"),
        ((2, 4, 5), (5, 3), (3,), r"^x: expected a 2-D array \(N, D\), got shape \(2, 4, 5\)"),
    ],
)
def test_affine_shapes_are_checked(x_shape, W_shape, b_shape, message):
    with pytest.raises(ValueError, match=message):
        affine_forward(np.zeros(x_shape), np.zeros(W_shape), np.zeros(b_shape))


@pytest.mark.parametrize(
    "x_shape, W_shape, b_shape, message",
    [
        ((2, 4, 5), (5, 3), (1, 3), r"^b: expected shape \(3,\), got \(1, 3\)"),
        ((2, 4, 5), (5, 3), (1, 1, 3), r"^b: expected shape \(3,\), got \(1, 1, 3\)"),
        ((2, 4, 5), (4, 3), (3,), r"^W: expected shape \(5, 3\), got \(4, 3\)"),
        ((2, 4, 5), (1, 5, 3), (3,), r"^W: expected a 2-D array \(D, M\), got shape \(1, 5, 3\)"),
        ((4, 5), (5, 3), (3,), r"^x: expected a 3-D array \(N, T, D\), got shape \(4, 5\)"),
    ],
)
def test_temporal_affine_shapes_are_checked(x_shape, W_shape, b_shape, message):
    with pytest.raises(ValueError, match=message):
        temporal_affine_forward(np.zeros(x_shape), np.zeros(W_shape), np.zeros(b_shape))


@pytest.mark.parametrize("forward, x_shape", [(affine_forward, (4, 5)), (temporal_affine_forward, (2, 4, 5))])
def test_affine_refuses_integer_arrays(forward, x_shape):
    with pytest.raises(ValueError, match="^x: expected a floating"):
        forward(np.zeros(x_shape, dtype=int), np.zeros((5, 3)), np.zeros(3))


def test_backward_refuses_dout_of_the_wrong_shape(rng):
    x, W, b, _ = affine_case(rng, 4, 5, 3)
    _, cache = affine_forward(x, W, b)
    with pytest.raises(ValueError, match=r"^dout: expected shape \(4, 3\), got \(3,\)"):
        affine_backward(np.zeros(3), cache)
    _, cache = temporal_affine_forward(x[:, None], W, b)
    with pytest.raises(ValueError, match=r"^dout: expected shape \(4, 1, 3\), got \(4, 3\)"):
        temporal_affine_backward(np.zeros((4, 3)), cache)
    _, cache = embedding_forward(np.zeros((2, 3), dtype=int), W)
    with pytest.raises(ValueError, match=r"^dout: expected shape \(2, 3, 3\), got \(2, 3\)"):
        embedding_backward(np.zeros((2, 3)), cache)


# --- dtype, inputs, outputs, layouts -----------------------------------------------


def run_all(x2, x3, W, b, idx, We, rng):
    """Every kernel forward and backward; returns every output array."""
    dtype = W.dtype
    out2, c2 = affine_forward(x2, W, b)
    grads2 = affine_backward(rng.standard_normal(out2.shape).astype(dtype), c2)
    out3, c3 = temporal_affine_forward(x3, W, b)
    grads3 = temporal_affine_backward(rng.standard_normal(out3.shape).astype(dtype), c3)
    oute, ce = embedding_forward(idx, We)
    dWe = embedding_backward(rng.standard_normal(oute.shape).astype(dtype), ce)
    return [out2, *grads2, out3, *grads3, oute, dWe]


def make_all_inputs(rng, dtype):
    x2 = rng.standard_normal((4, 5)).astype(dtype)
    x3 = rng.standard_normal((2, 3, 5)).astype(dtype)
    W = rng.standard_normal((5, 3)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    idx = rng.integers(0, 6, size=(2, 3))
    We = rng.standard_normal((6, 4)).astype(dtype)
    return x2, x3, W, b, idx, We


@pytest.mark.parametrize("dtype", FLOATS)
def test_dtype_is_preserved_and_inputs_untouched(dtype):
    inputs = make_all_inputs(np.random.default_rng(1), dtype)
    copies = [a.copy() for a in inputs]
    outputs = run_all(*inputs, np.random.default_rng(2))
    for out in outputs:
        assert out.dtype == dtype
    for a, a_copy in zip(inputs, copies):
        np.testing.assert_array_equal(a, a_copy)
        for out in outputs:
            assert not np.shares_memory(out, a)  # later in-place updates of W cannot reach outputs


def test_outputs_stay_valid_after_later_calls(rng):
    first_inputs = make_all_inputs(rng, np.float64)
    first = run_all(*first_inputs, np.random.default_rng(2))
    kept = [a.copy() for a in first]
    run_all(*make_all_inputs(rng, np.float64), np.random.default_rng(3))  # same shapes again
    for a, a_copy in zip(first, kept):
        np.testing.assert_array_equal(a, a_copy)


def test_non_contiguous_inputs_give_the_same_results():
    inputs = make_all_inputs(np.random.default_rng(1), np.float64)
    x2, x3, W, b, idx, We = inputs
    views = (
        np.asfortranarray(x2),
        np.ascontiguousarray(x3.transpose(1, 0, 2)).transpose(1, 0, 2),
        W.T.copy().T,
        np.repeat(b, 2)[::2],
        np.asfortranarray(idx),
        np.asfortranarray(We),
    )
    for view, a in zip(views, inputs):
        assert not view.flags.c_contiguous
        np.testing.assert_array_equal(view, a)
    expected = run_all(*inputs, np.random.default_rng(2))
    got = run_all(*views, np.random.default_rng(2))
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)


def test_non_contiguous_upstream_gradients_give_the_same_results(rng):
    x, W, b, dout = affine_case(rng, 4, 5, 3)
    _, cache = affine_forward(x, W, b)
    for e, g in zip(affine_backward(dout, cache), affine_backward(np.asfortranarray(dout), cache)):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)
    x, W, b, dout = affine_case(rng, 4, 5, 3, T=2)
    dout_view = np.ascontiguousarray(dout.transpose(2, 0, 1)).transpose(1, 2, 0)
    assert not dout_view.flags.c_contiguous
    _, cache = temporal_affine_forward(x, W, b)
    for e, g in zip(temporal_affine_backward(dout, cache), temporal_affine_backward(dout_view, cache)):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)
    idx, We, dout = embedding_case(rng, 2, 3, 4, 5)
    _, cache = embedding_forward(idx, We)
    dout_view = np.ascontiguousarray(dout.transpose(2, 0, 1)).transpose(1, 2, 0)
    np.testing.assert_allclose(embedding_backward(dout_view, cache), embedding_backward(dout, cache), rtol=1e-15)


def test_dropout_mask_is_inverted_dropout():
    from course_lib.layers import dropout_mask

    assert dropout_mask(0.0, (3, 4), np.float32, np.random.default_rng(0)) is None
    mask = dropout_mask(0.25, (200, 300), np.float32, np.random.default_rng(1))
    assert mask.dtype == np.float32 and mask.shape == (200, 300)
    assert set(np.unique(mask).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert abs(np.mean(mask == 0) - 0.25) < 0.01  # about p of the units dropped
    assert abs(mask.mean() - 1.0) < 0.02  # the expected activation is kept
    again = dropout_mask(0.25, (200, 300), np.float32, np.random.default_rng(1))
    np.testing.assert_array_equal(mask, again)  # seeded alike, drawn alike

"""Tests for course_lib.losses.softmax_cross_entropy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.losses import softmax_cross_entropy

pytestmark = pytest.mark.filterwarnings("error")


def make_case(rng, shape, dtype=np.float64, masked=False):
    """Random logits of ``shape`` with labels (and a mask counting at least one position)."""
    logits = rng.uniform(-2, 2, size=shape).astype(dtype)
    y = rng.integers(0, shape[-1], size=shape[:-1])
    mask = None
    if masked:
        mask = rng.random(shape[:-1]) < 0.6
        mask.flat[rng.integers(mask.size)] = True
    return logits, y, mask


def torch_cross_entropy(torch, logits, y, mask=None):
    """The oracle: F.cross_entropy with masked positions set to ignore_index."""
    z = torch.tensor(logits, requires_grad=True)
    target = torch.tensor(y, dtype=torch.int64)
    if mask is not None:
        target[~torch.tensor(mask.astype(bool))] = -100
    # torch wants the classes on axis 1: (N, C, T) for sequences.
    scores = z if logits.ndim == 2 else z.permute(0, 2, 1)
    loss = torch.nn.functional.cross_entropy(scores, target, reduction="mean", ignore_index=-100)
    loss.backward()
    return loss.item(), z.grad.numpy()


def re_tuple(t):
    """A shape as a regular expression matching its repr."""
    return str(tuple(t)).replace("(", r"\(").replace(")", r"\)")


def gradcheck(logits, y, mask=None):
    _, dlogits = softmax_cross_entropy(logits, y, mask)
    num = numerical_gradient(lambda z: softmax_cross_entropy(z, y, mask)[0], logits)
    return rel_error(dlogits, num)


# --- values ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 6), (1, 1), (1, 1, 3)])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch_cross_entropy(torch, rng, shape, masked, dtype):
    logits, y, mask = make_case(rng, shape, dtype, masked)
    loss, dlogits = softmax_cross_entropy(logits, y, mask)
    t_loss, t_grad = torch_cross_entropy(torch, logits, y, mask)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(t_loss, rel=rtol, abs=1e-6 if dtype == np.float32 else 1e-14)
    assert dlogits.dtype == dtype
    assert dlogits.shape == logits.shape
    np.testing.assert_allclose(dlogits, t_grad, rtol=rtol, atol=1e-7 if dtype == np.float32 else 1e-15)


def test_masked_positions_behave_like_ignore_index_whatever_their_label(torch, rng):
    logits, y, mask = make_case(rng, (4, 5, 3), masked=True)
    mask[0, 0], mask[1, 1] = False, False
    mask[2, 2] = True
    y_padded = y.copy()
    y_padded[~mask] = -100  # the usual padding label
    y_padded[0, 0] = 99  # any placeholder is fine where the mask is off
    loss, dlogits = softmax_cross_entropy(logits, y_padded, mask)
    t_loss, t_grad = torch_cross_entropy(torch, logits, y, mask)
    assert loss == pytest.approx(t_loss, rel=1e-12)
    np.testing.assert_allclose(dlogits, t_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(dlogits[~mask], 0.0)
    # the same as dropping the masked positions altogether
    kept_loss, kept_grad = softmax_cross_entropy(logits[mask], y[mask])
    assert loss == pytest.approx(kept_loss, rel=1e-13)
    np.testing.assert_allclose(dlogits[mask], kept_grad, rtol=1e-13)


def test_mask_of_any_truthy_dtype_gives_the_same_result(rng):
    logits, y, mask = make_case(rng, (3, 4, 5), masked=True)
    expected = softmax_cross_entropy(logits, y, mask)
    for m in (mask.astype(np.int64), mask.astype(np.float32), mask.astype(np.uint8) * 7):
        loss, dlogits = softmax_cross_entropy(logits, y, m)
        assert loss == expected[0]
        np.testing.assert_array_equal(dlogits, expected[1])


def test_mask_of_all_ones_equals_no_mask(rng):
    logits, y, _ = make_case(rng, (3, 4, 5))
    a = softmax_cross_entropy(logits, y)
    b = softmax_cross_entropy(logits, y, np.ones(y.shape, dtype=bool))
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


def test_known_values():
    # uniform logits: loss is log(C) and the gradient is (1/C - onehot) / N
    loss, dlogits = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert loss == pytest.approx(np.log(4), rel=1e-15)
    np.testing.assert_allclose(dlogits, np.array([[-3, 1, 1, 1], [1, 1, 1, -3]]) / 8, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exact_at_the_extremes(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = softmax_cross_entropy(logits, np.array([0, 1]))
    assert loss == 1e4  # (0 + 2e4) / 2
    np.testing.assert_array_equal(dlogits, np.array([[0, 0, 0], [0.5, -0.5, 0]], dtype=dtype))
    assert dlogits.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_is_a_python_float(rng, dtype):
    logits, y, _ = make_case(rng, (3, 4), dtype)
    loss, _ = softmax_cross_entropy(logits, y)
    assert isinstance(loss, float)
    assert not isinstance(loss, np.float32)


# --- gradients ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 6), (1, 1, 1), (2, 1, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_gradient_check(rng, shape, masked):
    logits, y, mask = make_case(rng, shape, masked=masked)
    assert gradcheck(logits, y, mask) < 1e-7


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 4),
    t=st.one_of(st.none(), st.integers(1, 4)),
    c=st.integers(1, 5),
    masked=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradient_check_random_shapes(n, t, c, masked, seed):
    shape = (n, c) if t is None else (n, t, c)
    logits, y, mask = make_case(np.random.default_rng(seed), shape, masked=masked)
    assert gradcheck(logits, y, mask) < 1e-6


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), t=st.integers(1, 4), c=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_matches_torch_random_shapes(torch, n, t, c, seed):
    logits, y, mask = make_case(np.random.default_rng(seed), (n, t, c), masked=True)
    loss, dlogits = softmax_cross_entropy(logits, y, mask)
    t_loss, t_grad = torch_cross_entropy(torch, logits, y, mask)
    assert loss == pytest.approx(t_loss, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(dlogits, t_grad, rtol=1e-12, atol=1e-15)


# --- inputs, layouts ---------------------------------------------------------------


def test_inputs_are_not_modified(rng):
    logits, y, mask = make_case(rng, (3, 4, 5), masked=True)
    y[~mask] = -1
    copies = logits.copy(), y.copy(), mask.copy()
    _, dlogits = softmax_cross_entropy(logits, y, mask)
    for a, b in zip((logits, y, mask), copies):
        np.testing.assert_array_equal(a, b)
    assert not np.shares_memory(dlogits, logits)


def test_non_contiguous_inputs_give_the_same_results(rng):
    logits, y, mask = make_case(rng, (3, 4, 5), masked=True)
    expected = softmax_cross_entropy(logits, y, mask)
    logits_view = np.ascontiguousarray(logits.transpose(2, 1, 0)).transpose(2, 1, 0)
    y_view = np.asfortranarray(y)
    mask_view = np.repeat(mask, 2, axis=1)[:, ::2]
    assert not logits_view.flags.c_contiguous and not mask_view.flags.c_contiguous
    loss, dlogits = softmax_cross_entropy(logits_view, y_view, mask_view)
    assert loss == pytest.approx(expected[0], rel=1e-15)
    np.testing.assert_allclose(dlogits, expected[1], rtol=1e-15)


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("label, position", [(7, (1,)), (-1, (2,))])
def test_label_out_of_range_names_the_label_and_position(label, position):
    y = np.array([0, 1, 2, 3])
    y[position] = label
    with pytest.raises(ValueError, match=rf"label {label}\b.*{re_tuple(position)}.*\[0, 7\)"):
        softmax_cross_entropy(np.zeros((4, 7)), y)


def test_label_out_of_range_in_a_sequence():
    y = np.zeros((2, 3), dtype=np.int32)
    y[1, 2] = 5
    with pytest.raises(ValueError, match=r"label 5\b.*\(1, 2\)"):
        softmax_cross_entropy(np.zeros((2, 3, 5)), y)
    # counted positions are checked even with a mask
    with pytest.raises(ValueError, match=r"label 5\b"):
        softmax_cross_entropy(np.zeros((2, 3, 5)), y, np.ones((2, 3)))


@pytest.mark.parametrize(
    "logits_shape, y_shape",
    [
        ((4, 3), (4, 1)),
        ((4, 3), (3,)),
        ((4, 3), (4, 3)),
        ((2, 5, 3), (2,)),
        ((2, 5, 3), (2, 4)),
        ((2, 5, 3), (5, 2)),
    ],
)
def test_y_of_the_wrong_shape_is_refused(logits_shape, y_shape):
    expected = re_tuple(logits_shape[:-1])
    with pytest.raises(ValueError, match=rf"^y: expected shape {expected}, got {re_tuple(y_shape)}"):
        softmax_cross_entropy(np.zeros(logits_shape), np.zeros(y_shape, dtype=int))


@pytest.mark.parametrize("mask_shape", [(2, 5, 1), (2,), (5, 2), (1, 5)])
def test_mask_of_the_wrong_shape_is_refused(mask_shape):
    y = np.zeros((2, 5), dtype=int)
    with pytest.raises(ValueError, match=rf"^mask: expected shape \(2, 5\), got {re_tuple(mask_shape)}"):
        softmax_cross_entropy(np.zeros((2, 5, 3)), y, np.ones(mask_shape, dtype=bool))


@pytest.mark.parametrize("y", [np.zeros(4), np.zeros(4, dtype=bool), np.array(["a"] * 4)])
def test_y_must_be_integer(y):
    with pytest.raises(ValueError, match="^y: expected an integer"):
        softmax_cross_entropy(np.zeros((4, 3)), y)


def test_mask_must_be_boolean_or_numeric():
    with pytest.raises(ValueError, match="^mask: .*dtype"):
        softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2, dtype=int), np.array(["yes", "no"]))


@pytest.mark.parametrize("mask", [np.zeros((2, 3), dtype=bool), np.zeros((2, 3))])
def test_mask_counting_nothing_is_refused(mask):
    with pytest.raises(ValueError, match="^mask: counts no position"):
        softmax_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int), mask)


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4, 5), ()])
def test_logits_must_be_2d_or_3d(shape):
    with pytest.raises(ValueError, match=r"^logits: .*\(N, C\).*\(N, T, C\)"):
        softmax_cross_entropy(np.zeros(shape), np.zeros(shape[:-1], dtype=int))


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match="^logits: shape \\(0, 3\\) holds no position"):
        softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_logits_must_be_floating():
    with pytest.raises(ValueError, match="^logits: expected a floating"):
        softmax_cross_entropy(np.zeros((2, 3), dtype=int), np.zeros(2, dtype=int))

"""Tests for course_lib.minchar: Karpathy's min-char-rnn in column form.

Its gradients against central differences, its forward and backward against the course's
row-form kernels on the transposed weights, clipping, the Adagrad update, the data
pointer, determinism, evaluation, and a short training run.
"""

import inspect
import math

import numpy as np
import pytest

from course_lib import minchar
from course_lib.data.vocab import CharVocab
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.layers import temporal_affine_backward, temporal_affine_forward
from course_lib.losses import softmax_cross_entropy
from course_lib.minchar import MinCharRNN, adagrad_update, evaluate, init_params, loss_fun, sample
from course_lib.optim import Adagrad
from course_lib.rnn import rnn_backward, rnn_forward
from course_lib.training import minchar_loop

pytestmark = pytest.mark.filterwarnings("error")

V, H, T = 7, 6, 9


@pytest.fixture
def case():
    """Parameters (weights 0.3 * randn: larger than the 0.01 of training, so that every
    term matters, small enough that no gradient reaches the clip), ids and a state."""
    rng = np.random.default_rng(42)
    params = {name: 0.3 * rng.standard_normal(p.shape)
              for name, p in init_params(V, H, rng).items()}
    inputs = rng.integers(0, V, T)
    targets = rng.integers(0, V, T)
    hprev = 0.5 * rng.standard_normal((H, 1))
    return params, inputs, targets, hprev


def test_shapes_and_init():
    params = init_params(V, H, np.random.default_rng(0))
    shapes = {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}
    assert {k: p.shape for k, p in params.items()} == shapes
    assert all(p.dtype == np.float64 for p in params.values())
    assert not params["bh"].any() and not params["by"].any()
    assert 0.005 < params["Whh"].std() < 0.015  # randn * 0.01
    loss, grads, h = loss_fun(params, [1, 2, 3], [2, 3, 4], np.zeros((H, 1)))
    assert isinstance(loss, float)
    assert {k: g.shape for k, g in grads.items()} == shapes
    assert h.shape == (H, 1)
    assert loss == pytest.approx(3 * math.log(V), rel=1e-3)  # tiny weights: a uniform guess


def test_gradients_match_numerical(case):
    params, inputs, targets, hprev = case
    hprev_before = hprev.copy()
    _, grads, _ = loss_fun(params, inputs, targets, hprev)
    _, unclipped, _ = loss_fun(params, inputs, targets, hprev, clip=None)
    np.testing.assert_array_equal(hprev, hprev_before)  # the carried state is not modified
    for name, g in grads.items():
        np.testing.assert_array_equal(g, unclipped[name])  # the check must not go through clipping
        assert np.abs(g).max() < minchar.CLIP - 1
        num = numerical_gradient(lambda _: loss_fun(params, inputs, targets, hprev)[0], params[name])
        assert rel_error(g, num) < 1e-7, name


def _row_form(params, inputs, targets, hprev):
    """The same network with course_lib's row-form kernels: N = 1, weights transposed."""
    Wx, Wh, W_head = params["Wxh"].T, params["Whh"].T, params["Why"].T
    b, b_head = params["bh"].ravel(), params["by"].ravel()
    x = np.eye(V)[inputs][None]  # (1, T, V) one-hot rows
    h, rnn_cache = rnn_forward(x, hprev.T, Wx, Wh, b)  # (1, T, H)
    logits, head_cache = temporal_affine_forward(h, W_head, b_head)  # (1, T, V)
    mean_loss, dlogits = softmax_cross_entropy(logits, np.asarray(targets)[None])
    n = len(inputs)  # min-char-rnn sums over the steps, softmax_cross_entropy averages
    dh, dW_head, db_head = temporal_affine_backward(dlogits * n, head_cache)
    _, _, dWx, dWh, db = rnn_backward(dh, rnn_cache)
    grads = {"Wxh": dWx.T, "Whh": dWh.T, "Why": dW_head.T, "bh": db[:, None], "by": db_head[:, None]}
    return mean_loss * n, grads, h[0, -1][:, None]


def test_forward_matches_row_form_kernels(case):
    params, inputs, targets, hprev = case
    loss, _, h = loss_fun(params, inputs, targets, hprev)
    row_loss, _, row_h = _row_form(params, inputs, targets, hprev)
    assert loss == pytest.approx(row_loss, rel=1e-12)
    np.testing.assert_allclose(h, row_h, rtol=1e-12, atol=1e-15)


def test_gradients_match_row_form_kernels(case):
    params, inputs, targets, hprev = case
    _, grads, _ = loss_fun(params, inputs, targets, hprev)
    _, row_grads, _ = _row_form(params, inputs, targets, hprev)
    for name in minchar.PARAM_NAMES:
        np.testing.assert_allclose(grads[name], row_grads[name], rtol=1e-10, atol=1e-13, err_msg=name)


def test_clipping_by_value_at_5():
    """Zero weights and 25 equal targets: d loss / d by[target] = 25 * (1/V - 1), about -21."""
    params = {name: np.zeros_like(p) for name, p in init_params(V, H).items()}
    rng = np.random.default_rng(3)
    params["Why"] = 3 * rng.standard_normal((V, H))
    params["Wxh"] = 3 * rng.standard_normal((H, V))
    inputs, targets, hprev = rng.integers(0, V, 25), np.full(25, 2), np.zeros((H, 1))
    loss, raw, h = loss_fun(params, inputs, targets, hprev, clip=None)
    loss_c, clipped, h_c = loss_fun(params, inputs, targets, hprev)
    assert loss_c == loss
    np.testing.assert_array_equal(h_c, h)
    assert raw["by"][2, 0] < -15
    for name in ("Why", "Wxh", "by"):
        assert np.abs(raw[name]).max() > 5, f"{name}: the case must need clipping"
    for name in minchar.PARAM_NAMES:
        np.testing.assert_array_equal(clipped[name], np.clip(raw[name], -5, 5))
    assert clipped["by"][2, 0] == -5.0


def test_adagrad_update_is_karpathys():
    """The faithful update, eps inside the square root; close to course_lib.optim.Adagrad.

    Karpathy: ``p -= lr * g / sqrt(mem + 1e-8)``. torch.optim.Adagrad and
    course_lib.optim.Adagrad: ``p -= lr * g / (sqrt(mem) + eps)``, eps = 1e-10. Where
    ``mem`` is far above 1e-8 the two agree to about 1e-8 / mem (relative); they part
    only for tiny gradients (checked below).
    """
    rng = np.random.default_rng(0)
    params = init_params(V, H, rng)
    start = {k: p.copy() for k, p in params.items()}
    ours = {k: p.copy() for k, p in params.items()}
    theirs = {k: p.copy() for k, p in params.items()}
    expected = {k: p.copy() for k, p in params.items()}
    mem = {k: np.zeros_like(p) for k, p in params.items()}
    mem_expected = {k: np.zeros_like(p) for k, p in params.items()}
    opt = Adagrad(theirs, lr=0.1)
    for _ in range(10):
        # Entries of magnitude 0.1 to 5, as after clipping.
        grads = {k: np.clip(rng.choice([-1, 1], p.shape) * (0.1 + np.abs(rng.standard_normal(p.shape))), -5, 5)
                 for k, p in params.items()}
        adagrad_update(ours, grads, mem, learning_rate=0.1)
        opt.step(grads)
        for k, g in grads.items():  # the update written out
            mem_expected[k] += g**2
            expected[k] += -0.1 * g / np.sqrt(mem_expected[k] + 1e-8)
    for k in params:
        np.testing.assert_array_equal(ours[k], expected[k])
        np.testing.assert_array_equal(mem[k], opt.state[f"sum/{k}"])
        # Each step is about lr = 0.1 in size and differs by a factor 1e-8 / (2 mem) < 1e-6.
        np.testing.assert_allclose(ours[k] - start[k], theirs[k] - start[k], rtol=0, atol=1e-6)
        assert not np.array_equal(ours[k], theirs[k])  # close, not equal

    # A first gradient of 1e-6: eps inside the root damps the step 100-fold; outside,
    # the step is the full lr * sign(g).
    p_in, p_out = {"w": np.zeros(1)}, {"w": np.zeros(1)}
    adagrad_update(p_in, {"w": np.array([1e-6])}, {"w": np.zeros(1)}, learning_rate=0.1)
    Adagrad(p_out, lr=0.1).step({"w": np.array([1e-6])})
    assert p_in["w"][0] == pytest.approx(-0.1 * 1e-6 / math.sqrt(1e-12 + 1e-8))
    assert p_out["w"][0] == pytest.approx(-0.1, rel=1e-3)


def test_data_pointer_moves_wraps_and_resets_hprev():
    vocab = CharVocab.from_text("abcdefg")
    data = np.random.default_rng(1).integers(0, vocab.size, 60)
    model = MinCharRNN(vocab, hidden_size=H, seed=0)
    model.step(data)  # p 0 -> 25
    assert (model.p, model.n) == (25, 1)
    model.step(data)  # 25 + 25 + 1 < 60: reads data[25:50], targets data[26:51]
    assert (model.p, model.n) == (50, 2)
    assert np.abs(model.hprev).max() > 0
    before = {k: p.copy() for k, p in model.params.items()}
    loss = model.step(data)  # 50 + 25 + 1 >= 60: back to 0, from a zero state
    expected_loss, _, expected_h = loss_fun(before, data[:25], data[1:26], np.zeros((H, 1)))
    assert loss == expected_loss
    np.testing.assert_array_equal(model.hprev, expected_h)
    assert (model.p, model.n) == (25, 3)
    assert model.history.step == [0, 1, 2]
    assert model.history.chars_seen == [25, 50, 75]


def test_data_pointer_keeps_the_originals_off_by_one():
    """``p + seq_length + 1 >= len(data)`` wraps even when the last chunk would fit exactly."""
    vocab = CharVocab.from_text("ab")
    data = np.arange(51) % 2
    model = MinCharRNN(vocab, hidden_size=H)
    model.step(data)
    assert model.p == 25
    model.step(data)  # data[25:50] and targets data[26:51] would fit, yet it wraps
    assert model.p == 25


def test_smooth_loss_and_nats_per_char():
    vocab = CharVocab.from_text("abcde")
    model = MinCharRNN(vocab, hidden_size=H)
    assert model.smooth_loss == pytest.approx(25 * math.log(5))
    assert model.nats_per_char == pytest.approx(math.log(5))
    start = model.smooth_loss
    loss = model.step(np.arange(100) % 5)
    assert model.smooth_loss == pytest.approx(0.999 * start + 0.001 * loss)
    np.testing.assert_allclose(model.history.nats_per_char(), [model.smooth_loss / 25])


def test_same_seed_same_run():
    text = "the quick brown fox jumps over the lazy dog. " * 20
    runs = [minchar_loop.train(text, 60, seed=seed, hidden_size=16, progress=False) for seed in (5, 5, 6)]
    a, b, c = runs
    assert a.history.loss == b.history.loss
    assert a.history.smooth_loss == b.history.smooth_loss
    assert a.sample_text("t", 50) == b.sample_text("t", 50)
    assert a.sample_text("t", 50, seed=1) == b.sample_text("t", 50, seed=1)
    assert a.history.loss != c.history.loss
    assert a.sample_text("t", 50, seed=1) != c.sample_text("t", 50, seed=1)


def test_sample():
    params = init_params(V, H, np.random.default_rng(0))
    h = np.full((H, 1), 0.1)
    ids = sample(params, h, 3, 40, np.random.default_rng(0))
    assert ids.shape == (40,) and ids.dtype == np.int64
    assert ids.min() >= 0 and ids.max() < V
    np.testing.assert_array_equal(h, 0.1)  # not modified
    np.testing.assert_array_equal(ids, sample(params, h, 3, 40, np.random.default_rng(0)))

    model = MinCharRNN(CharVocab.from_text("hello world"), hidden_size=H)
    text = model.sample_text("he", 30, seed=2)
    assert text.startswith("he") and len(text) == 32
    with pytest.raises(ValueError, match="not in the vocabulary"):
        model.sample_text("hex")


def test_evaluate_carries_the_state_across_chunks(case):
    params, _, _, _ = case
    ids = np.random.default_rng(2).integers(0, V, 103)
    # The same as loss_fun chunk after chunk, state carried, divided by the predictions.
    total, h = 0.0, np.zeros((H, 1))
    for start in range(0, 102, 25):
        inputs, targets = ids[start:start + 25], ids[start + 1:start + 26]
        loss, _, h = loss_fun(params, inputs[:len(targets)], targets, h)
        total += loss
    expected = total / 102
    for chunk in (1, 25, 1000):
        assert evaluate(params, ids, chunk=chunk) == pytest.approx(expected, rel=1e-12)
    fresh = init_params(V, H)
    assert evaluate(fresh, ids) == pytest.approx(math.log(V), rel=1e-3)


def test_training_lowers_the_loss():
    text = "hello world, hello rnn. " * 40
    model = minchar_loop.train(text, num_steps=300, hidden_size=32, progress=False)
    h = model.history
    assert len(h) == 300 and h.chars_seen[-1] == 300 * 25
    assert h.smooth_loss[-1] < h.smooth_loss[0] - 10  # 0.999 smoothing: a slow curve
    assert np.mean(h.loss[-20:]) < 0.2 * np.mean(h.loss[:20])
    assert model.evaluate(text[:200]) < 0.5  # nats/char; a uniform guess is ln(11) = 2.4
    minchar_loop.train(text, 10, model=model, progress=False)  # continues the same run
    assert model.history.step[-1] == 309 and model.n == 310


def test_train_arguments():
    text = "abcabcabd" * 10
    model = minchar_loop.train(text, seconds=0, progress=False)
    assert model.n == 0
    ids = model.vocab.encode(text)
    minchar_loop.train(ids, 2, model=model, progress=False)
    assert model.n == 2
    assert minchar_loop.train(ids, 1, vocab=model.vocab, progress=False).n == 1
    with pytest.raises(ValueError, match="vocab"):
        minchar_loop.train(ids, 1)
    with pytest.raises(ValueError, match="num_steps, seconds"):
        minchar_loop.train(text)
    with pytest.raises(ValueError, match="seq_length"):
        minchar_loop.train("abc" * 5, 1)
    with pytest.raises(ValueError, match=r"ids in \[0, 4\)"):
        minchar_loop.train(np.array([0, 1, 4] * 20), 1, model=model)


def test_train_prints_samples(capsys):
    minchar_loop.train("abcd" * 30, 3, sample_every=2, sample_length=10, progress=False)
    assert capsys.readouterr().out.count("----\n") == 4  # at steps 0 and 2, two rules each


def test_loss_fun_stays_short_enough_to_show():
    """Notebook 04 prints its source: keep it a page."""
    assert len(inspect.getsource(loss_fun).splitlines()) <= 60

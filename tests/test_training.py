"""Tests for course_lib.training and course_lib.schedules: the loop, its history, its
errors, truncated BPTT with state carry, evaluation; schedules against torch."""

import math
import re

import numpy as np
import pytest

from course_lib import schedules
from course_lib.data.batching import num_stream_batches, stream_batches
from course_lib.losses import softmax_cross_entropy
from course_lib.models import CharRNN, SequenceClassifier
from course_lib.optim import SGD, Adam, clip_grad_norm, global_norm
from course_lib.training import History, NonFiniteError, TruncatedBPTT, evaluate_classifier, evaluate_lm, fit
from course_lib.training.metrics import accuracy

pytestmark = pytest.mark.filterwarnings("error")

# A fake text over 7 characters: each is the previous one plus 1 or 2 (mod 7), so a
# bigram model can learn it down to ln 2 nats per character.
TEXT_IDS = np.cumsum(np.random.default_rng(1).integers(1, 3, 2000)) % 7


class Bigram:
    """A stand-in with CharRNN's interface: ``logits = W[idx] + b``, no recurrent state.

    Shared by the tests of training, sampling and checkpoints, so that they test the
    interface and not one model.
    """

    def __init__(self, vocab_size, *, seed=0, dtype=np.float64):
        self.config = {"model": "Bigram", "vocab_size": vocab_size}
        rng = np.random.default_rng(seed)
        self.params = {"W": (0.1 * rng.standard_normal((vocab_size, vocab_size))).astype(dtype),
                       "b": np.zeros(vocab_size, dtype)}

    @classmethod
    def from_config(cls, config, *, dtype=np.float32):
        config = dict(config)
        assert config.pop("model") == "Bigram"
        return cls(**config, dtype=dtype)

    def initial_state(self, batch_size):
        return []

    def forward(self, idx, state=None, *, train=False, rng=None):
        return self.params["W"][idx] + self.params["b"], np.asarray(idx), []

    def backward(self, dlogits, idx):
        dW = np.zeros_like(self.params["W"])
        np.add.at(dW, idx, dlogits)
        return {"W": dW, "b": dlogits.sum(axis=(0, 1))}

    def loss(self, idx, targets, state=None, *, mask=None, train=False, rng=None):
        logits, cache, new_state = self.forward(idx, state, train=train, rng=rng)
        loss, dlogits = softmax_cross_entropy(logits, targets, mask)
        return loss, self.backward(dlogits, cache), new_state


def quadratic_problem(target=(1.0, -2.0, 3.0)):
    """params {"w"}, and a step function for loss = 0.5 |w - target|^2 (batch ignored)."""
    params = {"w": np.zeros(3)}
    target = np.array(target)

    def step_fn(batch):
        diff = params["w"] - target
        return 0.5 * float(diff @ diff), {"w": diff.copy()}

    return params, step_fn


def endless(value=None):
    while True:
        yield value


# --- schedules ------------------------------------------------------------------------------

def torch_lrs(torch, make_scheduler, lr, steps):
    """The lr torch's scheduler gives at steps 0 .. steps-1."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


def test_constant():
    assert [schedules.constant(0.1)(s) for s in (0, 5, 10**6)] == [0.1] * 3


def test_step_decay_matches_torch_steplr(torch):
    ours = [schedules.step_decay(0.1, every=7, factor=0.5)(s) for s in range(40)]
    theirs = torch_lrs(torch, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), 0.1, 40)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_cosine_matches_torch_then_stays_at_min_lr(torch):
    sched = schedules.cosine(0.1, total_steps=30, min_lr=0.01)
    theirs = torch_lrs(torch, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=0.01),
                       0.1, 31)
    np.testing.assert_allclose([sched(s) for s in range(31)], theirs, rtol=1e-10)
    assert sched(0) == 0.1 and sched(30) == pytest.approx(0.01) and sched(1000) == pytest.approx(0.01)


def test_warmup_ramps_then_follows_the_schedule():
    inner = schedules.cosine(1.0, total_steps=100)
    sched = schedules.warmup(inner, warmup_steps=4)
    assert [sched(s) for s in range(4)] == pytest.approx([inner(s) * (s + 1) / 4 for s in range(4)])
    assert sched(0) == pytest.approx(0.25)  # the first step is not wasted on lr 0
    assert all(sched(s) == inner(s) for s in range(3, 101))


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.constant(-1), "lr"),
    (lambda: schedules.constant(float("nan")), "lr"),
    (lambda: schedules.step_decay(0.1, every=0, factor=0.5), "every"),
    (lambda: schedules.step_decay(0.1, every=10, factor=1.5), "factor"),
    (lambda: schedules.cosine(0.1, total_steps=2.5), "total_steps"),
    (lambda: schedules.cosine(0.1, total_steps=10, min_lr=0.2), "min_lr"),
    (lambda: schedules.warmup(0.1, warmup_steps=10), "schedule"),
    (lambda: schedules.warmup(schedules.constant(0.1), warmup_steps=0), "warmup_steps"),
])
def test_schedule_arguments_are_checked(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- fit: the loop --------------------------------------------------------------------------

def test_fit_records_loss_norm_and_lr_and_learns():
    params, step_fn = quadratic_problem()
    opt = SGD(params, lr=0.1)
    sched = schedules.step_decay(0.5, every=10, factor=0.5)
    history = fit(step_fn, endless(), opt, num_steps=30, schedule=sched, progress=False)
    assert history.step == list(range(30))
    assert history.lr == [sched(s) for s in range(30)]
    assert history.loss[0] == pytest.approx(0.5 * 14)  # |target|^2 / 2 from w = 0
    assert history.grad_norm[0] == pytest.approx(math.sqrt(14))
    assert history.loss[-1] < 1e-3 * history.loss[0]
    assert not history.stopped_early and history.val_loss == []
    assert all(isinstance(x, float) for x in history.loss + history.grad_norm + history.lr)


def test_fit_records_the_norm_before_clipping_and_clips_like_clip_grad_norm():
    params, step_fn = quadratic_problem()
    opt = SGD(params, lr=1.0)
    history = fit(step_fn, endless(), opt, num_steps=1, clip_norm=0.5, progress=False)
    assert history.grad_norm == [pytest.approx(math.sqrt(14))]
    expected = {"w": np.array([-1.0, 2.0, -3.0])}
    clip_grad_norm(expected, 0.5)  # the step is -lr * clipped gradient
    np.testing.assert_array_equal(params["w"], -expected["w"])
    assert np.linalg.norm(params["w"]) == pytest.approx(0.5, rel=1e-5)


def test_fit_takes_one_batch_per_step_in_order():
    seen = []
    params, step_fn = quadratic_problem()

    def recording_step(batch):
        seen.append(batch)
        return step_fn(batch)

    fit(recording_step, iter(range(100)), SGD(params, lr=0.1), num_steps=12, progress=False)
    assert seen == list(range(12))


def test_fit_stops_when_the_batches_run_out():
    params, step_fn = quadratic_problem()
    history = fit(step_fn, [None] * 5, SGD(params, lr=0.1), num_steps=10, progress=False)
    assert history.step == list(range(5))
    assert history.stopped_early and "ran out before step 5" in history.stop_reason


def test_validation_runs_every_val_every_steps_or_after_the_last():
    params, step_fn = quadratic_problem()
    calls = []
    validate = lambda: calls.append(1) or 1.0  # noqa: E731
    history = fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=10, validate=validate, val_every=4,
                  progress=False)
    assert history.val_step == [3, 7] and history.val_loss == [1.0] * 2 and len(calls) == 2
    history = fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=10, validate=validate, progress=False)
    assert history.val_step == [9]


def test_early_stopping_after_patience_validations_without_improvement():
    params, step_fn = quadratic_problem()
    val_losses = iter([5.0, 4.0, 4.5, 4.0, 4.2, 1.0, 1.0])  # best 4.0 at the 2nd; 4.0 again is no better
    history = fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=100, validate=lambda: next(val_losses),
                  val_every=2, patience=3, progress=False)
    assert history.val_loss == [5.0, 4.0, 4.5, 4.0, 4.2]
    assert history.val_step == [1, 3, 5, 7, 9] and history.step[-1] == 9
    assert history.stopped_early and "early stop after step 9" in history.stop_reason
    assert history.best_val_loss == 4.0 and history.validations_since_best() == 3


def test_callback_is_called_after_every_step():
    params, step_fn = quadratic_problem()
    calls = []
    fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=4, progress=False,
        callback=lambda step, h: calls.append((step, len(h))))
    assert calls == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_progress_bar_shows_the_running_loss(capsys):
    params, step_fn = quadratic_problem()
    fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=3, validate=lambda: 0.5, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "val 0.5000" in err
    assert re.search(r"loss \d\.\d{4}", err)


def test_progress_false_prints_nothing(capsys):
    params, step_fn = quadratic_problem()
    fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=3, progress=False)
    assert capsys.readouterr() == ("", "")


# --- fit: NaN and inf -----------------------------------------------------------------------

def blowing_up(step_at, loss=1.0, grads=None):
    """A step function that is fine until step ``step_at``, then returns loss/grads."""
    params = {"W": np.ones((2, 2)), "b": np.ones(2)}
    count = [0]

    def step_fn(batch):
        good = {"W": np.full((2, 2), 0.1), "b": np.full(2, 0.1)}
        count[0] += 1
        if count[0] - 1 < step_at:
            return 1.0, good
        return loss, good | (grads or {})

    return params, step_fn


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), np.float32("-inf")])
def test_a_non_finite_loss_raises_with_the_step_and_changes_nothing(loss):
    params, step_fn = blowing_up(step_at=3, loss=loss)
    opt = SGD(params, lr=0.1)
    with pytest.raises(FloatingPointError, match=rf"^step 3: the loss is {loss}$") as info:
        fit(step_fn, endless(), opt, num_steps=10, progress=False)
    assert isinstance(info.value, NonFiniteError) and info.value.quantity == "loss"
    assert info.value.step == 3 and len(info.value.history) == 3  # the steps before, to plot
    assert opt.step_count == 3
    np.testing.assert_allclose(params["b"], 1 - 3 * 0.1 * 0.1)


@pytest.mark.parametrize("bad, word", [(np.inf, "inf"), (-np.inf, "inf"), (np.nan, "nan")])
@pytest.mark.parametrize("clip_norm", [None, 1.0])
def test_a_non_finite_gradient_is_named(bad, word, clip_norm):
    W = np.full((2, 2), 0.1)
    W[1, 0] = bad
    params, step_fn = blowing_up(step_at=2, grads={"W": W})
    opt = SGD(params, lr=0.1)
    with pytest.raises(NonFiniteError, match=rf"^step 2: gradient 'W' contains {word}$") as info:
        fit(step_fn, endless(), opt, num_steps=10, clip_norm=clip_norm, progress=False)
    assert info.value.quantity == "grad/W" and opt.step_count == 2


def test_a_gradient_norm_that_overflows_float32_is_reported():
    params = {"W": np.ones(3, np.float32), "b": np.ones(1, np.float32)}
    huge = lambda batch: (1.0, {"W": np.full(3, 1e30, np.float32), "b": np.ones(1, np.float32)})  # noqa: E731
    with pytest.raises(NonFiniteError, match=r"^step 0: the gradient norm is inf \(overflow: gradient 'W' "
                                             r"has entries as large as 1e\+30\)"):
        fit(huge, endless(), SGD(params, lr=0.1), num_steps=2, progress=False)


def test_a_non_finite_validation_loss_raises():
    params, step_fn = quadratic_problem()
    with pytest.raises(NonFiniteError, match=r"^step 4: the validation loss is nan$") as info:
        fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=10, validate=lambda: float("nan"),
            val_every=5, progress=False)
    assert info.value.quantity == "val_loss"


def test_global_norm_is_the_norm_of_everything():
    grads = {"a": np.array([3.0]), "b": np.array([[4.0, 12.0]])}
    assert global_norm(grads) == pytest.approx(13.0, rel=1e-15)
    assert global_norm({"a": np.array([np.nan])}) != global_norm({"a": np.array([np.nan])})
    assert global_norm({"a": np.array([1.0, np.inf])}) == np.inf


# --- fit: arguments and resuming ------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(num_steps=0), "num_steps"),
    (dict(num_steps=5, start_step=-1), "start_step"),
    (dict(num_steps=5, start_step=5), "leaves no step"),
    (dict(num_steps=5, patience=2), "patience=2 needs a validate function"),
    (dict(num_steps=5, val_every=2), "val_every=2 needs a validate function"),
    (dict(num_steps=5, validate=lambda: 1.0, val_every=0), "val_every"),
    (dict(num_steps=5, clip_norm=0), "clip_norm"),
    (dict(num_steps=5, start_step=2, history=History(step=[0], loss=[1.0], grad_norm=[1.0], lr=[0.1])),
     "continues at step 1"),
])
def test_fit_arguments_are_checked(kwargs, match):
    params, step_fn = quadratic_problem()
    with pytest.raises(ValueError, match=match):
        fit(step_fn, endless(), SGD(params, lr=0.1), progress=False, **kwargs)


def train_bigram(num_steps, history=None, model=None, opt=None, tbptt=None, **kwargs):
    model = model or Bigram(7)
    opt = opt or Adam(model.params, lr=0.05)
    tbptt = tbptt or TruncatedBPTT(model, TEXT_IDS, batch_size=4, seq_len=16)
    history = fit(tbptt.step, tbptt.batches(), opt, num_steps=num_steps, history=history, progress=False,
                  schedule=schedules.warmup(schedules.cosine(0.05, 40), 5), clip_norm=1.0,
                  validate=lambda: evaluate_lm(model, TEXT_IDS[:300], batch_size=2, seq_len=50),
                  val_every=7, **kwargs)
    return model, opt, tbptt, history


def test_fit_continues_a_history_exactly_as_if_never_interrupted():
    whole = train_bigram(40)
    model, opt, tbptt, history = train_bigram(17)
    again = train_bigram(40, history=history, model=model, opt=opt, tbptt=tbptt)
    for name in ("W", "b"):
        np.testing.assert_array_equal(again[0].params[name], whole[0].params[name])
    assert again[3] == whole[3]  # every list, bitwise
    assert whole[3].loss[-1] < whole[3].loss[0] - 0.5  # and it learned something


def test_continuing_a_run_that_stopped_early_clears_the_reason():
    params, step_fn = quadratic_problem()
    history = fit(step_fn, [None] * 3, SGD(params, lr=0.1), num_steps=10, progress=False)
    assert history.stopped_early
    fit(step_fn, endless(), SGD(params, lr=0.1), num_steps=10, history=history, progress=False)
    assert not history.stopped_early and history.step == list(range(10))


def test_history_to_arrays_and_back_through_npz(tmp_path):
    _, _, _, history = train_bigram(20, patience=1)
    assert history.val_loss  # something to round-trip
    history.stop_reason = "early stop: ü"
    np.savez(tmp_path / "h.npz", **history.to_arrays())
    with np.load(tmp_path / "h.npz", allow_pickle=False) as f:
        back = History.from_arrays(dict(f))
    assert back == history
    assert type(back.step[0]) is int and type(back.loss[0]) is float
    assert History.from_arrays(History().to_arrays()) == History()
    with pytest.raises(ValueError, match="missing"):
        History.from_arrays({"step": np.zeros(0)})


# --- truncated BPTT -------------------------------------------------------------------------

class StateSpy:
    """Wraps a model; records the state each loss call received and returned."""

    def __init__(self, model):
        self.model, self.received, self.returned = model, [], []

    def loss(self, idx, targets, state=None, **kwargs):
        self.received.append(state)
        loss, grads, new_state = self.model.loss(idx, targets, state, **kwargs)
        self.returned.append(new_state)
        return loss, grads, new_state


def test_tbptt_carries_the_state_and_resets_it_each_epoch():
    ids = TEXT_IDS[:400]
    chunks = num_stream_batches(len(ids), 3, 20)  # per epoch
    spy = StateSpy(CharRNN(7, 8, cell="lstm", dropout=0.2))
    tbptt = TruncatedBPTT(spy, ids, batch_size=3, seq_len=20, fresh_state_every=None)
    fit(tbptt.step, tbptt.batches(), SGD(spy.model.params, lr=0.1), num_steps=2 * chunks + 2, progress=False)
    for k, state in enumerate(spy.received):
        if k % chunks == 0:
            assert state is None, f"step {k} starts an epoch"
        else:
            assert state is spy.returned[k - 1], f"step {k} continues the previous chunk"
    assert tbptt.epoch == 2 and tbptt.chunk == 2


@pytest.mark.parametrize("reset_every", [1, 2, 3])
def test_tbptt_reset_every_resets_on_its_chunks_and_each_epoch(reset_every):
    ids = TEXT_IDS[:440]
    chunks = num_stream_batches(len(ids), 3, 20)  # per epoch; not a multiple of 2 or 3
    assert chunks % 2 and chunks % 3
    spy = StateSpy(CharRNN(7, 8, cell="gru"))
    tbptt = TruncatedBPTT(spy, ids, batch_size=3, seq_len=20, reset_every=reset_every,
                          fresh_state_every=None)
    fit(tbptt.step, tbptt.batches(), SGD(spy.model.params, lr=0.1), num_steps=2 * chunks + 2, progress=False)
    for k, state in enumerate(spy.received):
        chunk = k % chunks  # the chunk's place in its epoch
        if chunk % reset_every == 0:
            assert state is None, f"step {k}: chunk {chunk} of its epoch is reset"
        else:
            assert state is spy.returned[k - 1], f"step {k} continues the previous chunk"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_tbptt_fresh_starts_take_turns_stream_by_stream(cell):
    """Stream n starts from zeros on the chunks k with k % every == n % every; the other
    streams carry their state on; the arrays the model returned are left untouched."""
    ids = TEXT_IDS[:800]
    chunks = num_stream_batches(len(ids), 3, 20)
    every = 2
    spy = StateSpy(CharRNN(7, 8, cell=cell))
    tbptt = TruncatedBPTT(spy, ids, batch_size=3, seq_len=20, fresh_state_every=every)
    fit(tbptt.step, tbptt.batches(), SGD(spy.model.params, lr=0.1), num_steps=chunks + 3, progress=False)
    for k, state in enumerate(spy.received):
        chunk = k % chunks
        if chunk == 0:
            assert state is None, f"step {k} starts an epoch"
            continue
        fresh = [n for n in range(3) if n % every == chunk % every]
        received = [np.stack(s) if isinstance(s, tuple) else s[None] for s in state]
        returned = [np.stack(s) if isinstance(s, tuple) else s[None] for s in spy.returned[k - 1]]
        for got, before in zip(received, returned):  # (parts, N, H) per layer
            for n in range(3):
                if n in fresh:
                    assert not got[:, n].any(), f"step {k}: stream {n} starts fresh"
                else:
                    np.testing.assert_array_equal(got[:, n], before[:, n])
            assert np.any(before[:, fresh]), "the model's own arrays were not zeroed in place"


def test_tbptt_fresh_state_every_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="fresh_state_every: expected an integer >= 1"):
        TruncatedBPTT(Bigram(7), TEXT_IDS[:400], batch_size=3, seq_len=20, fresh_state_every=0)


@pytest.mark.parametrize("reset_every", [0, -2, 1.5, True, "3"])
def test_tbptt_reset_every_must_be_a_positive_integer(reset_every):
    with pytest.raises(ValueError, match="reset_every: expected an integer >= 1"):
        TruncatedBPTT(Bigram(7), TEXT_IDS[:400], batch_size=3, seq_len=20, reset_every=reset_every)


def test_tbptt_steps_are_what_a_hand_written_loop_computes():
    ids = TEXT_IDS[:500]
    model = CharRNN(7, 8, cell="gru", dtype=np.float64)
    every = 3  # each stream starts from zeros once every 3 chunks, the streams taking turns
    tbptt = TruncatedBPTT(model, ids, batch_size=2, seq_len=25, fresh_state_every=every)
    batches = tbptt.batches()
    state = None
    for k, (x, y) in enumerate(stream_batches(ids, 2, 25)):
        loss, grads = tbptt.step(next(batches))
        if state is not None:
            state = [s.copy() for s in state]
            for n in range(2):
                if n % every == k % every:
                    state[0][n] = 0  # stream n's turn to start from zeros
        expected_loss, expected_grads, state = model.loss(x, y, state)
        assert loss == expected_loss
        np.testing.assert_array_equal(grads["layer0.Wh"], expected_grads["layer0.Wh"])
    x, y, first = next(batches)
    assert first and np.array_equal(x, next(stream_batches(ids, 2, 25))[0])


def test_tbptt_state_dict_resumes_batches_and_state():
    ids = TEXT_IDS[:400]
    model = CharRNN(7, 6, cell="lstm", num_layers=2)
    a = TruncatedBPTT(model, ids, batch_size=2, seq_len=30, random_offsets=True, seed=3)
    batches = a.batches()
    for _ in range(9):  # across the end of the first epoch (6 chunks)
        a.step(next(batches))
    saved = a.state_dict()
    assert set(saved) == {"epoch", "chunk", "state/0/0", "state/0/1", "state/1/0", "state/1/1"}
    b = TruncatedBPTT(model, ids, batch_size=2, seq_len=30, random_offsets=True, seed=3)
    b.load_state_dict(saved)
    assert (b.epoch, b.chunk) == (1, 3)
    for sa, sb in zip(a.state, b.state, strict=True):
        for x, y in zip(sa, sb, strict=True):
            np.testing.assert_array_equal(x, y)
    more = b.batches()
    for _ in range(5):  # the same batches from here on, across the next epoch's start
        (xa, ya, fa), (xb, yb, fb) = next(batches), next(more)
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb) and fa == fb
    with pytest.raises(ValueError, match="epoch"):
        b.load_state_dict({})


def test_tbptt_random_offsets_move_the_chunks_reproducibly():
    ids = np.arange(1000) % 7
    firsts = []
    for _ in range(2):
        tbptt = TruncatedBPTT(Bigram(7), ids, batch_size=2, seq_len=50, random_offsets=True, seed=0)
        firsts.append([x[0, 0] for x, _, first in _take(tbptt.batches(), 60) if first])
    assert firsts[0] == firsts[1] and len(set(firsts[0])) > 1


def _take(iterator, n):
    return [next(iterator) for _ in range(n)]


def test_tbptt_refuses_too_few_ids():
    with pytest.raises(ValueError, match="too few"):
        TruncatedBPTT(Bigram(7), TEXT_IDS[:20], batch_size=4, seq_len=16)


# --- evaluation -----------------------------------------------------------------------------

def test_evaluate_lm_is_the_mean_loss_over_the_stream_whatever_the_chunking():
    ids = TEXT_IDS[:301]
    model = CharRNN(7, 8, cell="lstm", dtype=np.float64, seed=2)
    one_chunk, _ = softmax_cross_entropy(model.forward(ids[None, :-1])[0], ids[None, 1:])
    # One stream, state carried over chunks of 7, 64 and 300 steps: the same number.
    for seq_len in (7, 64, 300):
        assert evaluate_lm(model, ids, batch_size=1, seq_len=seq_len) == pytest.approx(one_chunk, rel=1e-12)


def test_evaluate_lm_of_a_uniform_model_is_log_v():
    model = Bigram(7)
    model.params["W"][:] = 0
    assert evaluate_lm(model, TEXT_IDS) == pytest.approx(math.log(7))


def test_evaluate_classifier_loss_and_accuracy_do_not_depend_on_the_batch_size():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((37, 5, 3)), rng.integers(0, 4, 37)
    model = SequenceClassifier(3, 6, 4, cell="rnn", dtype=np.float64)
    logits, _ = model.forward(X)
    expected = (softmax_cross_entropy(logits, y)[0], accuracy(logits, y))
    for batch_size in (1, 10, 100):
        loss, acc = evaluate_classifier(model, X, y, batch_size=batch_size)
        assert loss == pytest.approx(expected[0], rel=1e-12) and acc == expected[1]

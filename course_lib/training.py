"""The training loop, and the pieces that plug a model into it.

Used from ``notebooks/04_char_rnn`` on. :func:`fit` is one loop for every model in the
course: it knows nothing about RNNs. It is given a **step function** that turns a batch
into ``(loss, grads)``, an iterator of batches and an optimizer; each step it

1. sets the learning rate from the schedule (a function of the step number),
2. calls the step function (forward and backward pass),
3. checks that the loss and the gradients are finite (else raises, naming the step),
4. clips the gradients to a maximal global norm,
5. updates the parameters, and records loss, gradient norm and learning rate,
6. now and then validates, and stops early once validation stops improving.

For a character-level language model, :class:`TruncatedBPTT` provides the batches
and the step function (hidden state carried from chunk to chunk)::

    tbptt = TruncatedBPTT(model, train_ids, batch_size=32, seq_len=64)
    history = fit(tbptt.step, tbptt.batches(), optimizer, num_steps=2000, clip_norm=5.0,
                  validate=lambda: evaluate_lm(model, val_ids), val_every=200)
    plt.plot(history.step, history.loss); plt.plot(history.val_step, history.val_loss)

Checkpoints (:mod:`course_lib.checkpoints`): everything the loop depends on is in the
model, the optimizer, the history and the batch source. Save them now and then, e.g.
from the callback; after loading them, ``fit`` continues exactly as if never
interrupted (same weights, bit for bit)::

    def save_every_500(step, history):
        if (step + 1) % 500 == 0:
            save_checkpoint("ckpt.npz", model, vocab, optimizer, history, extra=tbptt.state_dict())

    ckpt = load_checkpoint("ckpt.npz", model=model, optimizer=optimizer)   # later, to resume
    tbptt.load_state_dict(ckpt.extra)
    history = fit(tbptt.step, tbptt.batches(), optimizer, num_steps=2000, history=ckpt.history, ...)
"""

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .activations import log_softmax
from .batching import stream_batches
from .optim import clip_grad_norm


_END = object()  # what next(batches, _END) returns when the batches run out


class NonFiniteError(FloatingPointError):
    """The loss, a gradient or the validation loss became NaN or infinite.

    A ``FloatingPointError`` (Python's exception for failed float arithmetic, not a
    ``ValueError``: the arguments were fine, the numbers blew up). The message says
    where, e.g. ``step 137: gradient 'layer0.Wh' contains inf``.

    Attributes:
        step: the step at which it happened (the parameters are as before that step).
        quantity: what was not finite: ``"loss"``, ``"val_loss"`` or ``"grad/<name>"``.
        history: the :class:`History` up to the step before, to plot the blow-up.
    """

    def __init__(self, step, quantity, message, history=None):
        super().__init__(f"step {step}: {message}")
        self.step = step
        self.quantity = quantity
        self.history = history


@dataclass
class History:
    """What :func:`fit` records: one entry per step, and one per validation.

    Attributes (plain lists, ready for ``plt.plot(history.step, history.loss)``):
        step: the step numbers, 0 for the first update.
        loss: the training loss of each step (nats per prediction).
        grad_norm: the global L2 norm of the gradients, before clipping.
        lr: the learning rate the step used.
        val_step: the steps after which validation ran.
        val_loss: the validation loss after each of those steps.
        stop_reason: "" while training went to the end; otherwise why it stopped
            early (early stopping, or the batches ran out).
    """

    step: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    val_step: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    stop_reason: str = ""

    def __len__(self):
        return len(self.step)

    @property
    def next_step(self):
        """The number of the step that comes next: 0 for an empty history."""
        return self.step[-1] + 1 if self.step else 0

    @property
    def stopped_early(self):
        return bool(self.stop_reason)

    @property
    def best_val_loss(self):
        """The lowest validation loss so far (``inf`` before the first validation)."""
        return min(self.val_loss, default=math.inf)

    def validations_since_best(self):
        """How many validations have come after the best one (0 if the last was best)."""
        if not self.val_loss:
            return 0
        best = int(np.argmin(self.val_loss))  # the first of equal minima
        return len(self.val_loss) - 1 - best

    _ARRAYS = {"step": np.int64, "loss": np.float64, "grad_norm": np.float64, "lr": np.float64,
               "val_step": np.int64, "val_loss": np.float64}

    def to_arrays(self):
        """The history as a dict of arrays, for ``np.savez`` (no pickle needed)."""
        arrays = {name: np.asarray(getattr(self, name), dtype) for name, dtype in self._ARRAYS.items()}
        arrays["stop_reason"] = np.asarray(self.stop_reason)  # a 0-d unicode array
        return arrays

    @classmethod
    def from_arrays(cls, arrays):
        """Inverse of :meth:`to_arrays` (also from an ``np.load``-ed file)."""
        missing = sorted(set(cls._ARRAYS) - set(arrays))
        if missing:
            raise ValueError(f"arrays: not a History, missing {missing}")
        # .tolist() gives Python ints and floats, so the history reads as before saving.
        lists = {name: np.asarray(arrays[name]).tolist() for name in cls._ARRAYS}
        return cls(**lists, stop_reason=str(arrays.get("stop_reason", "")))


def global_norm(grads):
    """The L2 norm of all gradients together, as a float (what ``clip_grad_norm`` returns).

    ``inf`` if an entry is infinite or the sum of squares overflows, ``nan`` if an entry
    is NaN; no warning, :func:`fit` reports it.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.linalg.norm([np.linalg.norm(g) for g in grads.values()]))


def _raise_for_gradients(step, grads, grad_norm, history):
    """The gradient norm is not finite: find and name the culprit (only then: costly)."""
    for name, g in grads.items():
        if np.isnan(g).any():
            raise NonFiniteError(step, f"grad/{name}", f"gradient {name!r} contains nan", history)
        if np.isinf(g).any():
            raise NonFiniteError(step, f"grad/{name}", f"gradient {name!r} contains inf", history)
    # Every entry finite, but the sum of squares overflowed (float32 tops out at 3e38).
    name = max(grads, key=lambda k: float(np.max(np.abs(grads[k]), initial=0)))
    largest = float(np.max(np.abs(grads[name])))
    raise NonFiniteError(step, f"grad/{name}", f"the gradient norm is {grad_norm} (overflow: "
                         f"gradient {name!r} has entries as large as {largest:.3g})", history)


def fit(step_fn, batches, optimizer, *, num_steps, schedule=None, clip_norm=None,
        validate=None, val_every=None, patience=None, progress=True, start_step=None,
        history=None, callback=None):
    """Train: take steps ``start_step .. num_steps - 1``; return the :class:`History`.

    Args:
        step_fn: ``step_fn(batch) -> (loss, grads)``: forward and backward pass on one
            batch; ``loss`` a float, ``grads`` a dict keyed like the optimizer's params.
        batches: an iterator of batches, one taken per step. If it runs out first,
            training stops there (``history.stop_reason`` says so).
        optimizer: a :mod:`course_lib.optim` optimizer built on the model's params.
        num_steps: the step to stop before. A total, not a count: a run resumed at step
            k with the same ``num_steps`` ends where the uninterrupted run would.
        schedule: a function ``step -> lr`` (:mod:`course_lib.schedules`); None keeps
            ``optimizer.lr``.
        clip_norm: rescale the gradients so their global norm is at most this.
        validate: a function ``() -> validation loss``, e.g.
            ``lambda: evaluate_lm(model, val_ids)``.
        val_every: validate after steps ``val_every - 1``, ``2 * val_every - 1``, ...
            (a function of the step alone, so a resumed run validates where the
            uninterrupted one would); None: only after the last step.
        patience: stop after this many validations in a row without a new best
            validation loss (None: never stop early).
        progress: show a progress bar (``tqdm.auto``: a widget in Jupyter) with the
            smoothed training loss and the last validation loss.
        start_step: the first step to take; None: ``history.next_step`` (0 for a new run).
        history: a :class:`History` to continue (it is extended in place); None: new.
        callback: ``callback(step, history)``, called after every step (after its
            validation), e.g. to save a checkpoint.

    Returns:
        The :class:`History`.

    Raises:
        NonFiniteError (a ``FloatingPointError``): the loss or a gradient is NaN or
            infinite (raised before that step changes the parameters), or the
            validation loss is.
        ValueError: inconsistent arguments.
    """
    history = History() if history is None else history
    start_step = history.next_step if start_step is None else start_step
    _check_fit_args(num_steps, start_step, history, validate, val_every, patience, clip_norm)
    history.stop_reason = ""  # continuing a run that stopped early: it goes on
    batches = iter(batches)
    smoothed, beta = 0.0, 0.98  # running mean of the loss, for the progress bar only

    with tqdm(total=num_steps, initial=start_step, disable=not progress, unit="step") as bar:
        for step in range(start_step, num_steps):
            batch = next(batches, _END)
            if batch is _END:
                history.stop_reason = f"the batches ran out before step {step}"
                break
            if schedule is not None:
                optimizer.lr = schedule(step)
            loss, grads = step_fn(batch)
            if not np.isfinite(loss):
                raise NonFiniteError(step, "loss", f"the loss is {loss}", history)
            grad_norm = global_norm(grads)  # one number: cheap to check every step
            if not np.isfinite(grad_norm):
                _raise_for_gradients(step, grads, grad_norm, history)
            if clip_norm is not None:  # computes the norm again: a pass over the
                clip_grad_norm(grads, clip_norm)  # gradients, tiny next to a step
            optimizer.step(grads)
            history.step.append(step)
            history.loss.append(float(loss))
            history.grad_norm.append(grad_norm)
            history.lr.append(optimizer.lr)

            due = (step + 1) % val_every == 0 if val_every else step == num_steps - 1
            if validate is not None and due:
                val_loss = float(validate())
                if not np.isfinite(val_loss):
                    raise NonFiniteError(step, "val_loss", f"the validation loss is {val_loss}", history)
                history.val_step.append(step)
                history.val_loss.append(val_loss)
                if patience is not None and history.validations_since_best() >= patience:
                    history.stop_reason = (
                        f"early stop after step {step}: no better validation loss in {patience} "
                        f"validations (best {history.best_val_loss:.4f})")
            if callback is not None:
                callback(step, history)

            smoothed = beta * smoothed + (1 - beta) * loss
            n = step - start_step + 1  # divide out the bias towards the initial 0
            val = f", val {history.val_loss[-1]:.4f}" if history.val_loss else ""
            bar.set_postfix_str(f"loss {smoothed / (1 - beta ** n):.4f}{val}", refresh=False)
            bar.update(1)
            if history.stop_reason:
                break
    return history


def _check_fit_args(num_steps, start_step, history, validate, val_every, patience, clip_norm):
    for name, value, low in (("num_steps", num_steps, 1), ("start_step", start_step, 0)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    if history.step and start_step != history.next_step:
        raise ValueError(
            f"start_step={start_step}, but the history given continues at step "
            f"{history.next_step}; leave start_step=None to continue the history")
    if start_step >= num_steps:
        raise ValueError(f"start_step={start_step} leaves no step to take before num_steps={num_steps}")
    for name, value in (("val_every", val_every), ("patience", patience)):
        if value is not None and (not isinstance(value, numbers.Integral) or value < 1):
            raise ValueError(f"{name}: expected a positive integer or None, got {value!r}")
        if value is not None and validate is None:
            raise ValueError(f"{name}={value} needs a validate function")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm: expected a number > 0 or None, got {clip_norm!r}")


# --- Character-level language models ----------------------------------------------------

def _state_to_arrays(state):
    """A model's recurrent state (list per layer of ``h`` or ``(h, c)``) -> flat dict."""
    arrays = {}
    for layer, s in enumerate(state):
        if isinstance(s, tuple):
            for j, a in enumerate(s):
                arrays[f"state/{layer}/{j}"] = a
        else:
            arrays[f"state/{layer}"] = s
    return arrays


def _state_from_arrays(arrays):
    """Inverse of :func:`_state_to_arrays`; None when there is no state."""
    state = []
    while f"state/{len(state)}" in arrays or f"state/{len(state)}/0" in arrays:
        layer = len(state)
        if f"state/{layer}" in arrays:
            state.append(np.array(arrays[f"state/{layer}"]))
        else:
            parts = []
            while f"state/{layer}/{len(parts)}" in arrays:
                parts.append(np.array(arrays[f"state/{layer}/{len(parts)}"]))
            state.append(tuple(parts))
    return state or None


class TruncatedBPTT:
    """Train a language model on one long sequence of ids, by truncated BPTT.

    The ids are cut into ``batch_size`` parallel streams and walked ``seq_len`` steps at
    a time (:func:`course_lib.batching.stream_batches`). The hidden state at the end of
    one chunk is the initial state of the next, so the model sees context far beyond
    ``seq_len`` while gradients flow back at most ``seq_len`` steps. At the start of each
    epoch the streams restart from their beginning, and the state is reset to zeros.

    Use :meth:`batches` and :meth:`step` as the batches and the step function of
    :func:`fit`. Everything a resumed run needs (epoch, chunk, hidden state) is in
    :meth:`state_dict`; dropout is seeded from ``(seed, epoch, chunk)``, so it needs
    no saved random state.

    Args:
        model: a model with ``loss(idx, targets, state, *, train, rng) -> (loss, grads, new_state)``,
            e.g. :class:`course_lib.models.CharRNN`.
        ids: integer array ``(L,)``, e.g. ``vocab.encode(train_text)``.
        batch_size: N, the number of parallel streams.
        seq_len: T, the truncation length.
        seed: seeds dropout, and the offsets if ``random_offsets``.
        random_offsets: start each epoch at a random offset in ``[0, seq_len)``, so the
            chunk boundaries fall at different places each epoch.
        reset_every: also reset the state to zeros every this many chunks; 1 reads every
            chunk as a sequence of its own (the baseline that shows what carrying the
            state buys, in ``notebooks/02_rnn_bptt``). None: only at the start of an epoch.
    """

    def __init__(self, model, ids, batch_size, seq_len, *, seed=0, random_offsets=False,
                 reset_every=None):
        if reset_every is not None and (not isinstance(reset_every, (int, np.integer))
                                        or isinstance(reset_every, bool) or reset_every < 1):
            raise ValueError(f"reset_every: expected None or an integer >= 1, got {reset_every!r}")
        self.reset_every = reset_every
        self.model = model
        self.ids = np.asarray(ids)
        self.batch_size, self.seq_len = batch_size, seq_len
        self.seed = seed
        self.random_offsets = random_offsets
        next(stream_batches(self.ids, batch_size, seq_len))  # raises now if ids are too few
        self.epoch = 0  # the current epoch
        self.chunk = 0  # chunks of this epoch already handed out
        self.state = None  # the hidden state after the last chunk; None: zeros

    def batches(self):
        """Endless ``(x, y, first)``: ``x, y`` ``(N, T)`` chunks, epoch after epoch.

        ``first`` is True for the first chunk of an epoch. Starts where the last
        handed-out chunk stopped (after :meth:`load_state_dict`: where the saved run was).
        """
        while True:
            offset = 0
            if self.random_offsets:
                offset = int(np.random.default_rng([self.seed, self.epoch]).integers(self.seq_len))
            chunks = stream_batches(self.ids, self.batch_size, self.seq_len, offset=offset)
            for k, (x, y) in enumerate(chunks):
                if k >= self.chunk:  # skip what an interrupted run already did
                    self.chunk = k + 1
                    yield x, y, k == 0
            self.epoch, self.chunk = self.epoch + 1, 0

    def step(self, batch):
        """The step function for :func:`fit`: ``(x, y, first) -> (loss, grads)``."""
        x, y, first = batch
        chunk = self.chunk - 1  # batches() has counted this one already
        if first or (self.reset_every is not None and chunk % self.reset_every == 0):
            self.state = None  # the streams restart (or the caller asked): so does the state
        rng = np.random.default_rng([self.seed, self.epoch, self.chunk])  # for dropout
        loss, grads, self.state = self.model.loss(x, y, self.state, train=True, rng=rng)
        return loss, grads

    def state_dict(self):
        """Position and hidden state as a flat dict of arrays (for a checkpoint's ``extra``)."""
        arrays = {"epoch": np.int64(self.epoch), "chunk": np.int64(self.chunk)}
        if self.state is not None:
            arrays |= {key: np.array(a) for key, a in _state_to_arrays(self.state).items()}
        return arrays

    def load_state_dict(self, arrays):
        """Restore :meth:`state_dict`; the next batch is then the one after the saved run's."""
        if "epoch" not in arrays or "chunk" not in arrays:
            raise ValueError("arrays: not a TruncatedBPTT state, expected 'epoch' and 'chunk'")
        self.epoch, self.chunk = int(arrays["epoch"]), int(arrays["chunk"])
        self.state = _state_from_arrays(arrays)


def evaluate_lm(model, ids, batch_size=16, seq_len=128):
    """Mean loss of a language model over a sequence of ids, in nats per prediction.

    The ids are read as ``batch_size`` streams, ``seq_len`` steps at a time, carrying
    the hidden state from chunk to chunk (as in training, but with ``train=False``: no
    dropout, no gradients). Every id except the first of each stream is predicted once.

    Args:
        model: a model with ``forward(idx, state, *, train) -> (logits, cache, new_state)``.
        ids: integer array ``(L,)``, e.g. ``vocab.encode(val_text)``.
        batch_size: N streams; fewer means longer context per stream, more is faster.
        seq_len: T, the steps per forward call (only speed and memory depend on it).

    Returns:
        float: mean of ``-log p(next id)``; see :mod:`course_lib.metrics` for bits
        per character and perplexity.
    """
    total, count, state = 0.0, 0, None
    for x, y in stream_batches(ids, batch_size, seq_len, drop_last=False):
        logits, _, state = model.forward(x, state, train=False)
        log_p = log_softmax(logits)  # (N, T, V)
        picked = np.take_along_axis(log_p, y[..., None], axis=-1)
        total -= float(np.sum(picked, dtype=np.float64))
        count += y.size
    return total / count


def evaluate_classifier(model, X, y, batch_size=256):
    """Mean cross-entropy loss and accuracy of a classifier, batch by batch.

    Args:
        model: a model with ``forward(x, *, train) -> (logits (B, C), cache)``.
        X: inputs ``(n, ...)``, e.g. images read row by row ``(n, T, D)``.
        y: integer labels ``(n,)``.
        batch_size: rows per forward call (only speed and memory depend on it).

    Returns:
        ``(loss, accuracy)``: floats, the mean over all n examples.
    """
    X, y = np.asarray(X), np.asarray(y)
    total_loss, correct = 0.0, 0
    for start in range(0, len(X), batch_size):
        logits, _ = model.forward(X[start:start + batch_size], train=False)
        labels = y[start:start + batch_size]
        log_p = log_softmax(logits)
        total_loss -= float(np.sum(log_p[np.arange(len(labels)), labels], dtype=np.float64))
        correct += int(np.sum(logits.argmax(axis=-1) == labels))
    return total_loss / len(X), correct / len(X)

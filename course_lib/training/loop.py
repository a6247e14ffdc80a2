"""The training loop, and the pieces that plug a model into it.

Used from ``notebooks/02_rnn_bptt`` on. :func:`fit` is one loop for every model in the
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

Checkpoints (:mod:`course_lib.training.checkpoints`): everything the loop depends on is in
the model, the optimizer, the history and the batch source. Save them now and then, e.g.
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
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .._checks import check_count
from ..optim import clip_grad_norm, global_norm

_END = object()  # what next(batches, _END) returns when the batches run out


class NonFiniteError(FloatingPointError):
    """The loss, a gradient or the validation loss became NaN or infinite.

    A ``FloatingPointError`` (Python's exception for failed float arithmetic, not a
    ``ValueError``: the arguments were fine, the numbers blew up). The message says
    where, e.g. ``step 137: gradient 'layer0.Wh' contains inf``.

    Args:
        step: the step at which it happened.
        quantity: what was not finite, e.g. ``"loss"``.
        message: what happened; the message shown is ``f"step {step}: {message}"``.
        history: the :class:`History` up to the step before; default None.

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
        """Inverse of :meth:`to_arrays` (also from an ``np.load``-ed file).

        Args:
            arrays: dict (or ``np.load`` result) as :meth:`to_arrays` returns it.

        Returns:
            History: with plain Python lists again.

        Raises:
            ValueError: an array of :meth:`to_arrays` is missing.
        """
        missing = sorted(set(cls._ARRAYS) - set(arrays))
        if missing:
            raise ValueError(f"arrays: not a History, missing {missing}")
        # .tolist() gives Python ints and floats, so the history reads as before saving.
        lists = {name: np.asarray(arrays[name]).tolist() for name in cls._ARRAYS}
        return cls(**lists, stop_reason=str(arrays.get("stop_reason", "")))


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
        clip_norm: rescale the gradients so their global norm is at most this; None (the
            default): no clipping.
        validate: a function ``() -> validation loss``, e.g.
            ``lambda: evaluate_lm(model, val_ids)``; None (the default): no validation.
        val_every: validate after steps ``val_every - 1``, ``2 * val_every - 1``, ...
            (a function of the step alone, so a resumed run validates where the
            uninterrupted one would); None: only after the last step.
        patience: stop after this many validations in a row without a new best
            validation loss (None: never stop early).
        progress: show a progress bar (``tqdm.auto``: a widget in Jupyter) with the
            smoothed training loss and the last validation loss; default True.
        start_step: the first step to take; None: ``history.next_step`` (0 for a new run).
        history: a :class:`History` to continue (it is extended in place); None: new.
        callback: ``callback(step, history)``, called after every step (after its
            validation), e.g. to save a checkpoint; None (the default): none.

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
            if clip_norm is not None:
                clip_grad_norm(grads, clip_norm, total_norm=grad_norm)
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
    check_count("num_steps", num_steps)
    check_count("start_step", start_step, minimum=0)
    if history.step and start_step != history.next_step:
        raise ValueError(
            f"start_step={start_step}, but the history given continues at step "
            f"{history.next_step}; leave start_step=None to continue the history")
    if start_step >= num_steps:
        raise ValueError(f"start_step={start_step} leaves no step to take before num_steps={num_steps}")
    for name, value in (("val_every", val_every), ("patience", patience)):
        if value is not None:
            check_count(name, value)
        if value is not None and validate is None:
            raise ValueError(f"{name}={value} needs a validate function")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm: expected a number > 0 or None, got {clip_norm!r}")

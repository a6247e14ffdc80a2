"""``python -m course_lib train``: train a CharRNN, or resume a run, and save it to ``--out``."""

import contextlib
import json
import math
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ..schedules import constant, cosine, warmup
from ..training import NonFiniteError, TruncatedBPTT, fit
from ..training.checkpoints import save_checkpoint
from ..training.metrics import bits_per_char
from .common import (
    DEFAULTS,
    PROG,
    _clock,
    _Failure,
    _loss_line,
    _size,
    _split,
    _validation_loss,
    _version,
)
from .runs import _new_run, _resumed_run

_UNLIMITED = 2**62  # num_steps for fit when only --minutes bounds the run


class _Stopwatch:
    """Training time: wall-clock seconds, less the time spent inside :meth:`paused`.

    Args:
        already: seconds of training in earlier sessions of the run.
    """

    def __init__(self, already=0.0):
        self.already = already
        self.start = time.perf_counter()
        self.excluded = 0.0
        self._paused_at = None

    @property
    def seconds(self):
        """Training seconds so far (frozen while paused)."""
        now = time.perf_counter() if self._paused_at is None else self._paused_at
        return self.already + now - self.start - self.excluded

    @contextlib.contextmanager
    def paused(self):
        """A context in which time does not count as training (nested ones count once)."""
        if self._paused_at is not None:  # already paused
            yield
            return
        self._paused_at = time.perf_counter()
        try:
            yield
        finally:
            self.excluded += time.perf_counter() - self._paused_at
            self._paused_at = None


class _CtrlC:
    """The first Ctrl-C asks the run to stop after the step in progress (it is then saved,
    never half-updated); a second one interrupts at once.

    A context manager; it handles SIGINT only in the main thread (elsewhere Ctrl-C keeps
    its usual effect). ``requested`` says whether the run was asked to stop.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: stopping after this step and saving (Ctrl-C again to quit at once)",
              file=sys.stderr, flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _train(args, parser):
    """Run ``train``: a new run, or ``--resume`` one, until its budget; save it to ``--out``.

    Args:
        args: the parsed command line, with ``args.argv`` (recorded in the checkpoint).
        parser: the ``train`` parser, for its error messages.

    Returns:
        The exit code: 0 when the budget is reached, 130 when stopped by Ctrl-C (saved first).

    Raises:
        SystemExit: by ``parser.error``, for a bad command line.
        _Failure: the loss became NaN or infinite, or the data could not be fetched.
    """
    explicit = {k: v for k, v in vars(args).items() if v is not None and k in DEFAULTS | {"resume": 0}}
    if args.resume:
        settings, text, vocab, model, optimizer, ckpt = _resumed_run(args, explicit, parser)
    else:
        settings, text, vocab, model, optimizer, ckpt = _new_run(args, explicit, parser)
    # Options that may change from session to session of a run: given, else saved, else default.
    saved = settings.get("session", {}) if ckpt else {}
    steps, minutes = args.steps, args.minutes
    if ckpt and steps is None and minutes is None:  # the saved budget holds
        steps, minutes = saved.get("steps"), saved.get("minutes")
    every = {k: explicit.get(k, saved.get(k, DEFAULTS[k])) for k in ("val_every", "checkpoint_every",
                                                                        "log_every")}
    out = args.out or args.resume or DEFAULTS["out"]
    for flag, path in (("--out", out), ("--export", args.export)):
        if path is not None and not Path(path).resolve().parent.is_dir():
            parser.error(f"{flag} {path}: the folder {Path(path).resolve().parent} does not exist")
    if not args.resume and Path(out).exists() and not args.overwrite:
        parser.error(f"--out {out}: the file exists; continue its run with --resume {out}, or "
                     f"replace it with --overwrite")
    if args.export is not None and Path(args.export).resolve() == Path(out).resolve():
        parser.error(f"--export {args.export}: the same file as --out; give another path")

    train_ids, val_ids = _split(vocab.encode(text), settings["val_fraction"], parser)
    try:
        tbptt = TruncatedBPTT(model, train_ids, settings["batch_size"], settings["seq_len"],
                              seed=settings["seed"], fresh_state_every=settings["fresh_every"] or None)
    except ValueError:
        parser.error(f"--data {settings['data']}: its {len(train_ids)} training characters are too few for "
                     f"--batch-size {settings['batch_size']} --seq-len {settings['seq_len']} (at least "
                     f"{settings['batch_size'] * (settings['seq_len'] + 1)} are needed)")
    history, already = None, 0.0
    commands = []
    if ckpt is not None:
        tbptt.load_state_dict({k[len("batches/"):]: v for k, v in ckpt.extra.items()
                               if k.startswith("batches/")})
        history, already = ckpt.history, float(ckpt.extra.get("train_seconds", 0.0))
        commands = json.loads(ckpt.extra.get("commands", "[]"))
    start_step = history.next_step if history is not None else 0
    if steps is not None and start_step >= steps:
        parser.error(f"--steps {steps}: the run is already at step {start_step}; nothing to do "
                     f"(give a larger --steps to train longer)")
    if minutes is not None and already >= minutes * 60:
        parser.error(f"--minutes {minutes:g}: the run has already trained for {already / 60:.2f} "
                     f"minutes; nothing to do (give a larger --minutes to train longer)")

    schedule = constant(settings["lr"])
    if settings["schedule"] == "cosine":
        schedule = cosine(settings["lr"], total_steps=settings["decay_steps"], min_lr=settings["min_lr"])
    if settings["warmup"]:
        schedule = warmup(schedule, settings["warmup"])
    command = f"{PROG} " + shlex.join(args.argv)
    commands.append(command)
    settings["session"] = {"steps": steps, "minutes": minutes, **every}

    budget = math.inf if minutes is None else minutes * 60
    clock = _Stopwatch(already)
    last_val = {}

    def extra(final):
        fields = {"run": json.dumps(settings), "commands": json.dumps(commands),
                  "train_seconds": clock.seconds, "course_lib_version": _version()}
        if last_val:
            fields |= {"val_loss": last_val["loss"], "val_after_steps": last_val["steps"]}
        if not final:
            fields |= {f"batches/{k}": v for k, v in tbptt.state_dict().items()}
        return fields

    def save(history):
        save_checkpoint(out, model, vocab, optimizer, history, extra=extra(final=False))

    def validate():
        with clock.paused():
            return _validation_loss(model, val_ids)

    print(f"{'resuming ' + args.resume + ' at step ' + str(start_step) if ckpt else 'new run'}: "
          f"{settings['cell']} x{settings['layers']}, hidden {settings['hidden']}, "
          f"{'one-hot' if not settings['embedding'] else 'embedding ' + str(settings['embedding'])} input, "
          f"{sum(p.size for p in model.params.values()):,} parameters, vocabulary {vocab.size}; "
          f"{len(train_ids):,} training and {len(val_ids):,} validation characters; budget: "
          f"{'--steps ' + str(steps) if steps else ''}{' and ' if steps and minutes else ''}"
          f"{'--minutes ' + format(minutes, 'g') if minutes else ''}", flush=True)

    def callback(step, history):
        with clock.paused():
            done = step + 1
            validated = history.val_step and history.val_step[-1] == step
            if validated:
                last_val.update(loss=history.val_loss[-1], steps=done)
            log = every["log_every"] and done % every["log_every"] == 0
            if log or validated:
                n = every["log_every"] or 1
                line = f"step {done:6d}  loss {np.mean(history.loss[-n:]):.4f}"
                if validated:
                    line += f"  val {history.val_loss[-1]:.4f} ({bits_per_char(history.val_loss[-1]):.3f} bits)"
                rate = (done - start_step) / max(clock.seconds - already, 1e-9)
                print(f"{line}  {_clock(clock.seconds)}  {rate:.2f} steps/s", flush=True)
            if every["checkpoint_every"] and done % every["checkpoint_every"] == 0:
                save(history)

    with _CtrlC() as ctrl_c:
        def batches():  # stop on time, or on Ctrl-C, before taking the next batch
            source = tbptt.batches()
            while clock.seconds < budget and not ctrl_c.requested:
                yield next(source)

        try:
            history = fit(tbptt.step, batches(), optimizer, num_steps=steps or _UNLIMITED,
                          schedule=schedule, clip_norm=settings["clip"] or None,
                          validate=validate if every["val_every"] else None,
                          val_every=every["val_every"] or None, progress=False,
                          history=history, callback=callback)
        except NonFiniteError as e:
            raise _Failure(f"{e}. The weights are as before that step; the last checkpoint saved is "
                           f"{out if os.path.exists(out) else 'none'}. Try a lower --lr or --clip.") from None
        done = history.next_step
        if ctrl_c.requested:
            history.stop_reason = f"stopped by Ctrl-C after step {done - 1}"
        elif history.stop_reason.startswith("the batches ran out"):
            history.stop_reason = f"--minutes {minutes:g} of training reached after step {done - 1}"
        elif not history.stop_reason:
            history.stop_reason = f"--steps {steps} reached"
        seconds = clock.seconds
        with clock.paused():
            if last_val.get("steps") != done:  # the last step was not validated: do it now
                last_val.update(loss=_validation_loss(model, val_ids), steps=done)
            save(history)
            if args.export:
                save_checkpoint(args.export, model, vocab, history=history, extra=extra(final=True))

    taken = done - start_step
    print(f"{history.stop_reason}: {done} steps in all, {taken} in this session "
          f"({taken / max(seconds - already, 1e-9):.2f} steps/s); training time {_clock(seconds)}")
    print(f"validation loss: {_loss_line(last_val['loss'])} ({len(val_ids):,} characters, the last "
          f"{settings['val_fraction']:g} of the text, read as one stream)")
    print(f"saved {out} ({_size(out)}, resumable)"
          + (f"; exported {args.export} ({_size(args.export)}, weights only)" if args.export else ""))
    return 130 if ctrl_c.requested else 0

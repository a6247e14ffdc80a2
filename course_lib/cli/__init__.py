"""The command line: train a character-level language model, sample from it, evaluate it.

    python -m course_lib train --data shakespeare --minutes 10 --out char_rnn.npz
    python -m course_lib sample --checkpoint char_rnn.npz --prime "ROMEO:" --length 500
    python -m course_lib evaluate --checkpoint char_rnn.npz
    python -m course_lib train --resume char_rnn.npz --minutes 20    # on, to 20 minutes in all
    python -m course_lib fetch                                       # the datasets, before class

Made for an instructor: train before class, sample in the lecture. ``sample`` and
``evaluate`` without ``--checkpoint`` use the checkpoint shipped inside course_lib
(:mod:`course_lib.pretrained`, made by this command; its README gives the command).

What ``train`` writes to ``--out`` is a resumable checkpoint
(:mod:`course_lib.training.checkpoints`, an ``.npz`` read with ``allow_pickle=False``): the
weights, the vocabulary, the optimizer state, the history, the position in the text
and the hidden state carried there, the run's settings and the commands that made it.
``--resume`` restores all of it, so a run that was stopped continues exactly as if it
never had been: after the same total number of steps, the weights are the same, bit
for bit. ``--export`` writes a weights-only copy besides (no optimizer state, no
position in the text): the file to share or to ship.

The model is :class:`~course_lib.models.CharRNN`, trained by
:func:`~course_lib.training.fit` on :class:`~course_lib.training.TruncatedBPTT`
batches; nothing here computes anything the library does not. The validation part is
the last ``--val-fraction`` of the text, read as one stream (state carried, every
character but the first predicted once), by :func:`~course_lib.training.evaluate_lm`.

:func:`main` takes the arguments as a list and returns the exit code: 0 done, 1 a
failure while running (a download failed, the loss became NaN), 2 a bad command line
(argparse's code: the message names the argument), 130 stopped by Ctrl-C (the run is
saved first, at the end of the step in progress; ``--resume`` continues it).
"""

import argparse
import contextlib
import hashlib
import json
import math
import os
import secrets
import shlex
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np

from ..data.batching import train_val_split
from ..training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from ..data.datasets import load_tinyshakespeare
from ..data.download import FILES, DataFileError, DownloadError, fetch
from ..training.metrics import bits_per_char, perplexity
from ..cells import CELLS
from ..models import CharRNN
from ..optim import SGD, Adagrad, Adam, RMSprop
from ..sampling import sample
from ..schedules import constant, cosine, warmup
from ..training import NonFiniteError, TruncatedBPTT, evaluate_lm, fit
from ..data.vocab import CharVocab

PROG = "python -m course_lib"
SHAKESPEARE = "shakespeare"
# Each dataset of `fetch`, as the folder its files live in (the keys of datasets.FILES start with it).
DATASETS = {"mnist": "mnist/", SHAKESPEARE: "tinyshakespeare/"}
EVAL_CHUNK = 1000  # characters per forward call in validation (only speed depends on it)
OPTIMIZERS = {"adam": Adam, "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad}
SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "float64")
_UNLIMITED = 2**62  # num_steps for fit when only --minutes bounds the run

# `train`'s defaults. The parser's own defaults are None, so that the options actually
# given can be told apart: a resumed run takes every setting not given from its checkpoint.
DEFAULTS = {
    "data": SHAKESPEARE, "cell": "lstm", "hidden": 256, "layers": 1, "embedding": 0,
    "dropout": 0.0, "seq_len": 100, "batch_size": 64, "optimizer": "adam", "lr": 2e-3,
    "momentum": 0.0, "clip": 5.0, "schedule": "constant", "decay_steps": None, "min_lr": 0.0,
    "warmup": 0,
    "val_fraction": 0.1, "seed": 0, "dtype": "float32", "val_every": 500,
    "checkpoint_every": 500, "log_every": 100, "out": "char_rnn.npz",
}
# The settings that make a run what it is. A resumed run keeps them: an option that
# contradicts the checkpoint is an error. (steps, minutes, val/checkpoint/log_every,
# out and export may change; the data is compared by its SHA-256, not by its name.)
RUN_SETTINGS = ("data", "cell", "hidden", "layers", "embedding", "dropout", "seq_len", "batch_size",
                "optimizer", "lr", "momentum", "clip", "schedule", "decay_steps", "min_lr", "warmup",
                "val_fraction", "seed", "dtype")


class _Failure(Exception):
    """A failure while running (not a bad command line): message, exit code 1."""


# --- Argument types: each refuses a bad value with a message argparse shows ---------------

def _number(kind, low, *, low_open=False, high=None):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        too_low = value <= low if low_open else value < low
        if math.isnan(value) or math.isinf(value) or too_low or (high is not None and value >= high):
            bound = f"> {low}" if low_open else f">= {low}"
            if high is not None:
                bound = f"in [{low}, {high})" if not low_open else f"in ({low}, {high})"
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


positive_int = _number(int, 1)
count = _number(int, 0)  # 0 allowed: "never" / "off"
positive_float = _number(float, 0, low_open=True)
nonneg_float = _number(float, 0)
probability = _number(float, 0, high=1)
fraction = _number(float, 0, low_open=True, high=1)


def _add(parser, flag, dest, help, **kwargs):
    """An option whose parsed default is None; its real default is shown in the help."""
    default = DEFAULTS.get(dest)
    if default is not None and "(default" not in help:
        help += f" (default: {default})"
    parser.add_argument(flag, dest=dest, default=None, help=help, **kwargs)


def _version():
    from .. import __version__  # here: course_lib/__init__.py sets it after its imports

    return __version__


def _wrap(text):
    return textwrap.fill(text, 92)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=100)


def build_parser():
    """The parser of ``python -m course_lib`` and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_Formatter,
        description="Train a character-level RNN language model, sample text from it, evaluate it; fetch the datasets.",
        epilog="examples:\n"
               f"  {PROG} train --data shakespeare --minutes 10 --out char_rnn.npz\n"
               f"  {PROG} train --resume char_rnn.npz --minutes 20\n"
               f"  {PROG} sample --checkpoint char_rnn.npz --prime 'ROMEO:' --length 500\n"
               f"  {PROG} sample              # the checkpoint shipped with course_lib\n"
               f"  {PROG} evaluate --checkpoint char_rnn.npz\n\n"
               f"'{PROG} COMMAND --help' lists a command's options.")
    parser.add_argument("--version", action="version", version=f"course_lib {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # --- train -----------------------------------------------------------------------
    train = commands.add_parser(
        "train", formatter_class=_Formatter, help="train a char-rnn (or resume training one)",
        description=_wrap("Train a character-level language model (CharRNN) by truncated BPTT, and "
                          "save a resumable checkpoint to --out. Give --steps, --minutes or both; "
                          "both are totals for the whole run, a resumed one included. Validation: "
                          "the last --val-fraction of the text, read as one stream."),
        epilog="resuming:\n"
               "  --resume CKPT continues the run saved in CKPT (by default writing back to it)\n"
               "  exactly as if it had never stopped: weights, optimizer state, position in the\n"
               "  text, hidden state, history and settings all come from CKPT. Settings given\n"
               "  again must agree with it. Without --steps or --minutes the saved budget holds;\n"
               "  with either, the budget given replaces it (to train longer, raise it).\n\n"
               "examples:\n"
               f"  {PROG} train --minutes 10 --out char_rnn.npz\n"
               f"  {PROG} train --data notes.txt --cell gru --hidden 128 --steps 2000 --out notes.npz\n"
               f"  {PROG} train --resume char_rnn.npz --minutes 20")
    g = train.add_argument_group("data")
    _add(g, "--data", "data", f"'{SHAKESPEARE}' (tiny-shakespeare, 1.1 MB; fetched once, see "
         "course_lib.data) or the path of a UTF-8 text file", metavar="shakespeare|PATH.txt")
    _add(g, "--val-fraction", "val_fraction", "the last this fraction of the text is the validation "
         "part", type=fraction, metavar="F")
    g = train.add_argument_group("model")
    _add(g, "--cell", "cell", "recurrent cell", choices=tuple(CELLS))
    _add(g, "--hidden", "hidden", "hidden units per layer", type=positive_int, metavar="H")
    _add(g, "--layers", "layers", "recurrent layers", type=positive_int, metavar="L")
    _add(g, "--embedding", "embedding", "embedding width; 0: one-hot input", type=count, metavar="E")
    _add(g, "--dropout", "dropout", "dropout between layers and before the head", type=probability,
         metavar="P")
    _add(g, "--dtype", "dtype", "floating-point type of weights and computation", choices=DTYPES)
    g = train.add_argument_group("training")
    _add(g, "--seq-len", "seq_len", "characters per chunk (truncated BPTT length)", type=positive_int,
         metavar="T")
    _add(g, "--batch-size", "batch_size", "parallel streams per batch", type=positive_int, metavar="N")
    _add(g, "--optimizer", "optimizer", "optimizer", choices=tuple(OPTIMIZERS))
    _add(g, "--lr", "lr", "learning rate (the peak one with --schedule cosine or --warmup)",
         type=positive_float)
    _add(g, "--momentum", "momentum", "momentum, for sgd and rmsprop", type=probability, metavar="MU")
    _add(g, "--clip", "clip", "clip the gradients' global norm to this; 0: no clipping",
         type=nonneg_float, metavar="NORM")
    _add(g, "--schedule", "schedule", "learning-rate schedule; cosine decays from --lr to --min-lr "
         "over --decay-steps, then stays at --min-lr", choices=SCHEDULES)
    _add(g, "--decay-steps", "decay_steps", "the steps cosine decays over (default: --steps)",
         type=positive_int, metavar="N")
    _add(g, "--min-lr", "min_lr", "the learning rate cosine ends at", type=nonneg_float, metavar="LR")
    _add(g, "--warmup", "warmup", "ramp the learning rate up linearly over the first this many steps",
         type=count, metavar="STEPS")
    _add(g, "--seed", "seed", "seeds the initial weights and dropout", type=count)
    g = train.add_argument_group("how long")
    _add(g, "--steps", "steps", "train until this many steps in all (default: no limit; give "
         "--steps, --minutes or both)", type=positive_int, metavar="N")
    _add(g, "--minutes", "minutes", "train until this many minutes of training in all: wall-clock "
         "time, validation and saving excluded (default: no limit)", type=positive_float, metavar="M")
    g = train.add_argument_group("output")
    _add(g, "--out", "out", "the resumable checkpoint to write (default: char_rnn.npz; when "
         "resuming, the --resume file)", metavar="PATH.npz")
    _add(g, "--export", "export", "also write a weights-only copy here at the end: no optimizer "
         "state or position in the text, so it cannot be resumed (a file to share or ship)",
         metavar="PATH.npz")
    _add(g, "--resume", "resume", "continue the run saved in this checkpoint", metavar="PATH.npz")
    g.add_argument("--overwrite", action="store_true",
                   help="a new run may replace an existing --out file (which is refused otherwise, "
                        "to keep a trained model from being lost to a command run twice)")
    _add(g, "--val-every", "val_every", "validate every this many steps; 0: only at the end",
         type=count, metavar="N")
    _add(g, "--checkpoint-every", "checkpoint_every", "save --out every this many steps; 0: only at "
         "the end (and on Ctrl-C)", type=count, metavar="N")
    _add(g, "--log-every", "log_every", "print the mean training loss every this many steps; 0: never",
         type=count, metavar="N")
    train.set_defaults(run=_train, parser=train)

    # --- sample ----------------------------------------------------------------------
    smp = commands.add_parser(
        "sample", formatter_class=_Formatter, help="generate text from a trained char-rnn",
        description=_wrap("Generate text from a character-level model: prints the prime followed "
                          "by --length sampled characters."),
        epilog="examples:\n"
               f"  {PROG} sample --prime 'ROMEO:' --temperature 0.5\n"
               f"  {PROG} sample --checkpoint notes.npz --length 2000 --top-k 5 --seed 1")
    smp.add_argument("--checkpoint", metavar="PATH.npz",
                     help="a checkpoint written by train (default: the one shipped with course_lib, "
                          "shakespeare_lstm)")
    smp.add_argument("--prime", default="", help="text to start from; every character must be in the "
                     "model's vocabulary (default: none, the first character is drawn at random)")
    smp.add_argument("--length", type=count, default=500, help="characters to generate (default: 500)")
    smp.add_argument("--temperature", type=nonneg_float, default=0.8,
                     help="below 1: safer, more repetitive text; above 1: wilder; 0: always the most "
                          "likely character (default: 0.8)")
    smp.add_argument("--top-k", type=positive_int, default=None, metavar="K",
                     help="draw only among the K most likely characters (default: all)")
    smp.add_argument("--seed", type=count, default=None,
                     help="the same seed gives the same text (default: a random one, printed to stderr)")
    smp.set_defaults(run=_sample, parser=smp)

    # --- evaluate --------------------------------------------------------------------
    ev = commands.add_parser(
        "evaluate", formatter_class=_Formatter, help="validation loss of a trained char-rnn",
        description=_wrap("The mean loss of a checkpoint's model on the validation part of a text "
                          "(its last --val-fraction, read as one stream), in nats/char, bits/char "
                          "and perplexity."))
    ev.add_argument("--checkpoint", metavar="PATH.npz",
                    help="a checkpoint written by train (default: the shipped shakespeare_lstm)")
    ev.add_argument("--data", metavar="shakespeare|PATH.txt",
                    help="the text (default: the one the checkpoint was trained on)")
    ev.add_argument("--val-fraction", type=fraction, metavar="F",
                    help="(default: the one the checkpoint was trained with, else 0.1)")
    ev.add_argument("--max-chars", type=positive_int, metavar="N",
                    help="evaluate only the first N characters of the validation part (default: all)")
    ev.set_defaults(run=_evaluate, parser=ev)

    # --- fetch -----------------------------------------------------------------------
    fe = commands.add_parser(
        "fetch", formatter_class=_Formatter, help="download the datasets now (before class, or to go offline)",
        description=_wrap("Download datasets into the data folder (or copy them from COURSE_DATA_MIRROR), "
                          "verify their checksums and print where they are. The notebooks do this on first "
                          "use; run it before class so nobody waits, or to fill a folder that a machine "
                          "without internet then uses as its COURSE_DATA_MIRROR."),
        epilog="examples:\n"
               f"  {PROG} fetch                 # every dataset of the course\n"
               f"  COURSE_DATA_DIR=/media/usb/course-data {PROG} fetch mnist")
    # Checked in _fetch, not with choices=: argparse (3.11) rejects an empty list against choices.
    fe.add_argument("datasets", nargs="*", metavar="DATASET",
                    help=f"which ones: {', '.join(sorted(DATASETS))} (default: all)")
    fe.set_defaults(run=_fetch, parser=fe)
    return parser


def main(argv=None):
    """Run ``python -m course_lib`` with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = argv
        return args.run(args, args.parser)
    except SystemExit as e:  # argparse: --help (0) or a bad command line (2)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except _Failure as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 1


# --- Shared pieces ----------------------------------------------------------------------------

def _read_text(spec, parser, flag="--data"):
    """The text named by ``--data``: tiny-shakespeare, or a UTF-8 file's contents."""
    if spec == SHAKESPEARE:
        try:
            return load_tinyshakespeare()
        except (DataFileError, DownloadError, FileNotFoundError) as e:
            raise _Failure(f"{flag} {SHAKESPEARE}: {e}") from None
    path = Path(spec)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "no such file"
        parser.error(f"{flag} {spec}: {what} (give a UTF-8 text file, or '{SHAKESPEARE}')")
    try:
        text = path.read_bytes().decode("utf-8")  # bytes: newlines stay as they are
    except UnicodeDecodeError as e:
        parser.error(f"{flag} {spec}: not UTF-8 text ({e})")
    except OSError as e:
        parser.error(f"{flag} {spec}: cannot be read ({e.strerror})")
    if not text:
        parser.error(f"{flag} {spec}: the file is empty")
    return text


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _split(ids, val_fraction, parser, flag="--val-fraction"):
    """(training ids, validation ids): the validation part is the last ``val_fraction``."""
    n_val = int(round(len(ids) * val_fraction))  # as train_val_split counts
    if n_val < 2:  # read as one stream: at least one character to predict
        parser.error(f"{flag} {val_fraction:g}: the validation part would have {n_val} characters "
                     f"of {len(ids):,}; it needs at least 2")
    if n_val > len(ids) - 2:
        parser.error(f"{flag} {val_fraction:g}: the training part would have {len(ids) - n_val} "
                     f"characters of {len(ids):,}")
    return train_val_split(ids, val_size=n_val)


def _validation_loss(model, val_ids):
    """Mean nats/char over the validation part, read as one stream."""
    return evaluate_lm(model, val_ids, batch_size=1, seq_len=EVAL_CHUNK)


def _loss_line(nats):
    with np.errstate(over="ignore"):  # a diverged run: perplexity inf, said as such
        ppl = float(perplexity(nats))
    return f"{nats:.4f} nats/char, {bits_per_char(nats):.4f} bits/char, perplexity {ppl:.3f}"


def _clock(seconds):
    minutes, seconds = divmod(seconds, 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def _size(path):
    return f"{os.path.getsize(path) / 1e6:.2f} MB"


def _load_char_model(path, parser, flag, **kwargs):
    """``load_checkpoint(path)`` for a character model, or a parser error saying why not."""
    try:
        ckpt = load_checkpoint(path, **kwargs)
    except FileNotFoundError:
        parser.error(f"{flag} {path}: no such file")
    except IsADirectoryError:
        parser.error(f"{flag} {path}: is a folder, not a checkpoint file")
    except CheckpointError as e:  # its message starts with the path
        parser.error(f"{flag} {e}")
    except (ValueError, OSError) as e:
        parser.error(f"{flag} {path}: cannot be loaded ({e})")
    if not isinstance(ckpt.model, CharRNN) or ckpt.vocab is None:
        what = type(ckpt.model).__name__ + (" without a vocabulary" if ckpt.vocab is None
                                            and isinstance(ckpt.model, CharRNN) else "")
        parser.error(f"{flag} {path}: a checkpoint of {what}, not of a character model (CharRNN "
                     f"with its vocabulary, as '{PROG} train' writes)")
    return ckpt


def _run_settings(ckpt):
    run = ckpt.extra.get("run")
    return json.loads(run) if isinstance(run, str) else None


def _default_checkpoint(parser, flag="--checkpoint"):
    from ..pretrained import load_pretrained

    try:
        return load_pretrained()
    except FileNotFoundError as e:
        parser.error(f"{flag}: not given, and {e}")


# --- train ------------------------------------------------------------------------------------

class _Stopwatch:
    """Training time: wall-clock seconds, less the time spent inside :meth:`paused`."""

    def __init__(self, already=0.0):
        self.already = already  # seconds of training in earlier sessions of the run
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
    never half-updated); a second one interrupts at once."""

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


def _new_run(args, explicit, parser):
    """Settings, text, model and optimizer of a new run."""
    s = {k: explicit.get(k, DEFAULTS[k]) for k in RUN_SETTINGS}
    if args.steps is None and args.minutes is None:
        parser.error("give --steps, --minutes or both: how long to train")
    if s["schedule"] == "cosine":
        s["decay_steps"] = s["decay_steps"] or args.steps
        if s["decay_steps"] is None:
            parser.error("--schedule cosine decays over --decay-steps, by default --steps: give either")
    elif s["decay_steps"] is not None:
        parser.error("--decay-steps is for --schedule cosine")
    if s["momentum"] and s["optimizer"] not in ("sgd", "rmsprop"):
        parser.error(f"--momentum applies to sgd and rmsprop, not to --optimizer {s['optimizer']}")
    if s["min_lr"] > s["lr"]:
        parser.error(f"--min-lr {s['min_lr']} is above --lr {s['lr']}")
    text = _read_text(s["data"], parser)
    s |= {"data_sha256": _sha256(text), "data_chars": len(text)}
    vocab = CharVocab.from_text(text)
    model = CharRNN(vocab.size, s["hidden"], cell=s["cell"], num_layers=s["layers"],
                    embedding_dim=s["embedding"] or None, dropout=s["dropout"], seed=s["seed"],
                    dtype=s["dtype"])
    return s, text, vocab, model, _optimizer(s, model), None


def _optimizer(s, model):
    kwargs = {"momentum": s["momentum"]} if s["optimizer"] in ("sgd", "rmsprop") else {}
    return OPTIMIZERS[s["optimizer"]](model.params, lr=s["lr"], **kwargs)


def _resumed_run(args, explicit, parser):
    """Settings, text, model, optimizer and checkpoint of the run saved in ``--resume``."""
    path = args.resume
    ckpt = _load_char_model(path, parser, "--resume")
    s = _run_settings(ckpt)
    if s is None:
        parser.error(f"--resume {path}: not written by '{PROG} train' (it holds no run settings), "
                     f"so there is no run to continue")
    s = {k: DEFAULTS[k] for k in RUN_SETTINGS} | s  # a setting added since: its default
    if "batches/epoch" not in ckpt.extra or ckpt.history is None:
        parser.error(f"--resume {path}: a weights-only checkpoint (written by --export); it cannot "
                     f"be resumed: resume from the run's --out checkpoint instead")
    for key in RUN_SETTINGS:
        if key in explicit and key != "data" and explicit[key] != s[key]:
            flag = "--" + key.replace("_", "-")
            parser.error(f"{flag} {explicit[key]} differs from the checkpoint's {s[key]}: a resumed "
                         f"run keeps its settings (leave {flag} out, or start a new run)")
    text = _read_text(explicit.get("data", s["data"]), parser)
    if _sha256(text) != s["data_sha256"]:
        parser.error(f"--data {explicit.get('data', s['data'])}: not the text {path} was trained on "
                     f"(SHA-256 {_sha256(text)[:12]}..., the checkpoint's {s['data_sha256'][:12]}...)")
    optimizer = _optimizer(s, ckpt.model)
    ckpt = _load_char_model(path, parser, "--resume", model=ckpt.model, optimizer=optimizer)
    return s, text, ckpt.vocab, ckpt.model, optimizer, ckpt


def _train(args, parser):
    explicit = {k: v for k, v in vars(args).items() if v is not None and k in DEFAULTS | {"resume": 0}}
    if args.resume:
        s, text, vocab, model, optimizer, ckpt = _resumed_run(args, explicit, parser)
    else:
        s, text, vocab, model, optimizer, ckpt = _new_run(args, explicit, parser)
    # Options that may change from session to session of a run: given, else saved, else default.
    saved = s.get("session", {}) if ckpt else {}
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

    train_ids, val_ids = _split(vocab.encode(text), s["val_fraction"], parser)
    try:
        tbptt = TruncatedBPTT(model, train_ids, s["batch_size"], s["seq_len"], seed=s["seed"])
    except ValueError:
        parser.error(f"--data {s['data']}: its {len(train_ids)} training characters are too few for "
                     f"--batch-size {s['batch_size']} --seq-len {s['seq_len']} (at least "
                     f"{s['batch_size'] * (s['seq_len'] + 1)} are needed)")
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

    schedule = constant(s["lr"])
    if s["schedule"] == "cosine":
        schedule = cosine(s["lr"], total_steps=s["decay_steps"], min_lr=s["min_lr"])
    if s["warmup"]:
        schedule = warmup(schedule, s["warmup"])
    command = f"{PROG} " + shlex.join(args.argv)
    commands.append(command)
    s["session"] = {"steps": steps, "minutes": minutes, **every}

    budget = math.inf if minutes is None else minutes * 60
    clock = _Stopwatch(already)
    last_val = {}

    def extra(final):
        e = {"run": json.dumps(s), "commands": json.dumps(commands), "train_seconds": clock.seconds,
             "course_lib_version": _version()}
        if last_val:
            e |= {"val_loss": last_val["loss"], "val_after_steps": last_val["steps"]}
        if not final:
            e |= {f"batches/{k}": v for k, v in tbptt.state_dict().items()}
        return e

    def save(history):
        save_checkpoint(out, model, vocab, optimizer, history, extra=extra(final=False))

    def validate():
        with clock.paused():
            return _validation_loss(model, val_ids)

    print(f"{'resuming ' + args.resume + ' at step ' + str(start_step) if ckpt else 'new run'}: "
          f"{s['cell']} x{s['layers']}, hidden {s['hidden']}, "
          f"{'one-hot' if not s['embedding'] else 'embedding ' + str(s['embedding'])} input, "
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
                          schedule=schedule, clip_norm=s["clip"] or None,
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
          f"{s['val_fraction']:g} of the text, read as one stream)")
    print(f"saved {out} ({_size(out)}, resumable)"
          + (f"; exported {args.export} ({_size(args.export)}, weights only)" if args.export else ""))
    return 130 if ctrl_c.requested else 0


# --- sample and evaluate ----------------------------------------------------------------------

def _sample(args, parser):
    if args.checkpoint:
        ckpt = _load_char_model(args.checkpoint, parser, "--checkpoint")
    else:
        ckpt = _default_checkpoint(parser)
    unknown = sorted(set(args.prime) - set(ckpt.vocab.chars))
    if unknown:
        parser.error(f"--prime: {''.join(unknown)!r} not in the model's vocabulary of "
                     f"{ckpt.vocab.size} characters")
    seed = args.seed
    if seed is None:
        seed = secrets.randbelow(2**31)
        print(f"(--seed {seed})", file=sys.stderr)
    text = sample(ckpt.model, ckpt.vocab, prime=args.prime, length=args.length,
                  temperature=args.temperature, top_k=args.top_k, seed=seed)
    print(text)
    return 0


def _evaluate(args, parser):
    if args.checkpoint:
        ckpt = _load_char_model(args.checkpoint, parser, "--checkpoint")
    else:
        ckpt = _default_checkpoint(parser)
    run = _run_settings(ckpt) or {}
    data = args.data or run.get("data")
    if data is None:
        parser.error("--data: the checkpoint does not say what it was trained on; give --data")
    val_fraction = args.val_fraction or run.get("val_fraction", 0.1)
    text = _read_text(data, parser)
    try:
        ids = ckpt.vocab.encode(text)
    except ValueError as e:
        parser.error(f"--data {data}: {e}")
    _, val_ids = _split(ids, val_fraction, parser)
    if args.max_chars is not None:
        val_ids = val_ids[:max(args.max_chars, 2)]
    start = time.perf_counter()
    loss = _validation_loss(ckpt.model, val_ids)
    print(f"validation loss: {_loss_line(loss)}")
    print(f"({len(val_ids):,} characters of {data}, from the last {val_fraction:g} of it, read as one "
          f"stream; {time.perf_counter() - start:.1f} s)")
    return 0


# --- fetch ------------------------------------------------------------------------------------



def _fetch(args, parser):
    unknown = [name for name in args.datasets if name not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset {unknown[0]!r}; choose from {', '.join(sorted(DATASETS))}")
    names = args.datasets or sorted(DATASETS)
    for name in dict.fromkeys(names):  # once each, in the order given
        for key in (k for k in FILES if k.startswith(DATASETS[name])):
            try:
                path = fetch(key)
            except (DataFileError, DownloadError, FileNotFoundError) as e:
                raise _Failure(f"{name}: {e}") from None
            print(f"{path}  ({_size(path)}, checksum OK)")
    return 0

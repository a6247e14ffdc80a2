"""What the commands of :mod:`course_lib.cli` share: constants, the failure they raise, reading
the text, splitting off its validation part, loading checkpoints and formatting numbers.

A helper given ``parser`` refuses a bad argument with ``parser.error`` (a message naming the
argument, exit code 2); one that fails while running raises :class:`_Failure` (exit code 1).
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..data.batching import train_val_split
from ..data.datasets import load_tinyshakespeare
from ..data.download import DataFileError, DownloadError
from ..models import CharRNN
from ..optim import SGD, Adagrad, Adam, RMSprop
from ..training import evaluate_lm
from ..training.checkpoints import CheckpointError, load_checkpoint
from ..training.metrics import bits_per_char, perplexity

PROG = "python -m course_lib"
SHAKESPEARE = "shakespeare"
# Each dataset of `fetch`, as the folder its files live in (the keys of course_lib.data.download.FILES start with it).
DATASETS = {"mnist": "mnist/", SHAKESPEARE: "tinyshakespeare/"}
EVAL_CHUNK = 1000  # characters per forward call in validation (only speed depends on it)
OPTIMIZERS = {"adam": Adam, "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad}

# `train`'s defaults. The parser's own defaults are None, so that the options actually
# given can be told apart: a resumed run takes every setting not given from its checkpoint.
DEFAULTS = {
    "data": SHAKESPEARE, "cell": "lstm", "hidden": 256, "layers": 1, "embedding": 0,
    "dropout": 0.0, "seq_len": 100, "batch_size": 64, "optimizer": "adam", "lr": 2e-3,
    "momentum": 0.0, "clip": 5.0, "schedule": "constant", "decay_steps": None, "min_lr": 0.0,
    "warmup": 0,
    "val_fraction": 0.1, "seed": 0, "dtype": "float32", "val_every": 500, "fresh_every": 50,
    "checkpoint_every": 500, "log_every": 100, "out": "char_rnn.npz",
}
# The settings that make a run what it is. A resumed run keeps them: an option that
# contradicts the checkpoint is an error. (steps, minutes, val/checkpoint/log_every,
# out and export may change; the data is compared by its SHA-256, not by its name.)
RUN_SETTINGS = ("data", "cell", "hidden", "layers", "embedding", "dropout", "seq_len", "batch_size",
                "optimizer", "lr", "momentum", "clip", "schedule", "decay_steps", "min_lr", "warmup",
                "val_fraction", "seed", "dtype", "fresh_every")


class _Failure(Exception):
    """A failure while running (not a bad command line): message, exit code 1."""


def _version():
    """The version of course_lib.

    Returns:
        ``course_lib.__version__``, a string.
    """
    from .. import __version__

    return __version__


def _read_text(spec, parser, flag="--data"):
    """The text named by ``--data``: tiny-shakespeare, or a UTF-8 file's contents.

    Args:
        spec: ``"shakespeare"`` or the path of a text file.
        parser: the command's parser, for its error messages.
        flag: the option named in those messages.

    Returns:
        The text, a non-empty string (its newlines as in the file).

    Raises:
        SystemExit: by ``parser.error``, for a missing, empty, unreadable or non-UTF-8 file.
        _Failure: tiny-shakespeare could not be fetched.
    """
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
    """The SHA-256 of a text, by which a resumed run recognizes its data.

    Args:
        text: a string, hashed as UTF-8.

    Returns:
        The digest as 64 hex digits.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _split(ids, val_fraction, parser, flag="--val-fraction"):
    """Split the encoded text into its training and validation parts.

    Args:
        ids: the text's character ids.
        val_fraction: the validation part is the last this fraction of ``ids``.
        parser: the command's parser, for its error messages.
        flag: the option named in those messages.

    Returns:
        ``(train_ids, val_ids)``, as :func:`~course_lib.data.batching.train_val_split` returns them.

    Raises:
        SystemExit: by ``parser.error``, when either part would have fewer than 2 characters.
    """
    n_val = int(round(len(ids) * val_fraction))  # as train_val_split counts
    if n_val < 2:  # read as one stream: at least one character to predict
        parser.error(f"{flag} {val_fraction:g}: the validation part would have {n_val} characters "
                     f"of {len(ids):,}; it needs at least 2")
    if n_val > len(ids) - 2:
        parser.error(f"{flag} {val_fraction:g}: the training part would have {len(ids) - n_val} "
                     f"characters of {len(ids):,}")
    return train_val_split(ids, val_size=n_val)


def _validation_loss(model, val_ids):
    """The loss of a model on the validation part, read as one stream.

    Args:
        model: a :class:`~course_lib.models.CharRNN`.
        val_ids: the validation part's character ids.

    Returns:
        The mean loss in nats/char, a float.
    """
    return evaluate_lm(model, val_ids, batch_size=1, seq_len=EVAL_CHUNK)


def _loss_line(nats):
    """A loss in nats/char, bits/char and perplexity, as the commands print it.

    Args:
        nats: the mean loss in nats/char.

    Returns:
        The line, without its end.
    """
    with np.errstate(over="ignore"):  # a diverged run: perplexity inf, said as such
        ppl = float(perplexity(nats))
    return f"{nats:.4f} nats/char, {bits_per_char(nats):.4f} bits/char, perplexity {ppl:.3f}"


def _clock(seconds):
    """A duration as ``minutes:seconds``.

    Args:
        seconds: the duration in seconds.

    Returns:
        For example ``"12:03.4"``.
    """
    minutes, seconds = divmod(seconds, 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def _size(path):
    """The size of a file in megabytes.

    Args:
        path: the file.

    Returns:
        For example ``"1.23 MB"``.
    """
    return f"{os.path.getsize(path) / 1e6:.2f} MB"


def _load_char_model(path, parser, flag, **kwargs):
    """``load_checkpoint(path)`` for a character model, or a parser error saying why not.

    Args:
        path: the checkpoint file.
        parser: the command's parser, for its error messages.
        flag: the option that named ``path``, named in those messages.
        **kwargs: passed to :func:`~course_lib.training.checkpoints.load_checkpoint`
            (``model=`` and ``optimizer=`` to restore into).

    Returns:
        The :class:`~course_lib.training.checkpoints.Checkpoint`: its ``model`` a
        :class:`~course_lib.models.CharRNN`, its ``vocab`` not None.

    Raises:
        SystemExit: by ``parser.error``, when the file is missing, cannot be loaded or holds
            another kind of model.
    """
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
    """The settings of the run that wrote a checkpoint.

    Args:
        ckpt: a loaded :class:`~course_lib.training.checkpoints.Checkpoint`.

    Returns:
        The dict ``train`` saved as ``extra["run"]``, or None if the checkpoint holds none.
    """
    run = ckpt.extra.get("run")
    return json.loads(run) if isinstance(run, str) else None


def _default_checkpoint(parser, flag="--checkpoint"):
    """The checkpoint shipped with course_lib, used when ``--checkpoint`` is not given.

    Args:
        parser: the command's parser, for its error message.
        flag: the option named in that message.

    Returns:
        The :class:`~course_lib.training.checkpoints.Checkpoint` of
        :func:`~course_lib.pretrained.load_pretrained`.

    Raises:
        SystemExit: by ``parser.error``, when the shipped checkpoint is missing.
    """
    from ..pretrained import load_pretrained

    try:
        return load_pretrained()
    except FileNotFoundError as e:
        parser.error(f"{flag}: not given, and {e}")

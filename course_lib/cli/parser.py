"""The parser of ``python -m course_lib``: its sub-commands, their options and help texts.

``train``'s options parse to None when not given (their defaults, shown in the help, are
:data:`~course_lib.cli.common.DEFAULTS`), so that a resumed run can tell the options given
from those left to its checkpoint. Each sub-parser sets ``run``, the function that runs
the command, and ``parser``, itself (for that function's error messages).
"""

import argparse
import math
import textwrap

from ..cells import CELLS
from .common import DATASETS, DEFAULTS, OPTIMIZERS, PROG, SHAKESPEARE, _version
from .evaluate import _evaluate
from .fetch import _fetch
from .sample import _sample
from .train import _train

SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "float64")


# --- Argument types: each refuses a bad value with a message argparse shows ---------------

def _number(kind, low, *, low_open=False, high=None):
    """An argument type: a number of ``kind`` in a range, finite.

    Args:
        kind: ``int`` or ``float``, applied to the argument's text.
        low: the lower bound, allowed unless ``low_open``.
        low_open: whether ``low`` itself is refused.
        high: the upper bound, itself refused; None: no upper bound.

    Returns:
        A function from the text to the number, raising ``argparse.ArgumentTypeError``
        for text that is not such a number.
    """
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
    """Add an option whose parsed default is None; its real default is shown in the help.

    Args:
        parser: the parser or argument group to add it to.
        flag: the option, as ``--seq-len``.
        dest: its attribute in the parsed arguments, and its key in ``DEFAULTS``.
        help: its help text; ``" (default: ...)"`` is appended unless it names a default.
        **kwargs: passed to ``add_argument`` (``type``, ``choices``, ``metavar``).
    """
    default = DEFAULTS.get(dest)
    if default is not None and "(default" not in help:
        help += f" (default: {default})"
    parser.add_argument(flag, dest=dest, default=None, help=help, **kwargs)


def _wrap(text):
    """A description as the help shows it.

    Args:
        text: one paragraph.

    Returns:
        ``text`` filled to 92 columns.
    """
    return textwrap.fill(text, 92)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """The help layout: 100 columns, option help from column 30, descriptions as written.

    Args:
        prog: the program name, as argparse gives it.
    """

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=100)


def build_parser():
    """The parser of ``python -m course_lib`` and its sub-commands.

    Returns:
        An ``argparse.ArgumentParser``; its parsed arguments have ``command``, ``run`` and
        ``parser`` (see the module's docstring) and the command's options.
    """
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

    _add_train(commands)
    _add_sample(commands)
    _add_evaluate(commands)
    _add_fetch(commands)
    return parser


def _add_train(commands):
    """Add the ``train`` command, its options in groups.

    Args:
        commands: the sub-parsers action of the main parser.
    """
    train_parser = commands.add_parser(
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
    group = train_parser.add_argument_group("data")
    _add(group, "--data", "data", f"'{SHAKESPEARE}' (tiny-shakespeare, 1.1 MB; fetched once, see "
         "course_lib.data) or the path of a UTF-8 text file", metavar="shakespeare|PATH.txt")
    _add(group, "--val-fraction", "val_fraction", "the last this fraction of the text is the validation "
         "part", type=fraction, metavar="F")
    group = train_parser.add_argument_group("model")
    _add(group, "--cell", "cell", "recurrent cell", choices=tuple(CELLS))
    _add(group, "--hidden", "hidden", "hidden units per layer", type=positive_int, metavar="H")
    _add(group, "--layers", "layers", "recurrent layers", type=positive_int, metavar="L")
    _add(group, "--embedding", "embedding", "embedding width; 0: one-hot input", type=count, metavar="E")
    _add(group, "--dropout", "dropout", "dropout between layers and before the head", type=probability,
         metavar="P")
    _add(group, "--dtype", "dtype", "floating-point type of weights and computation", choices=DTYPES)
    group = train_parser.add_argument_group("training")
    _add(group, "--fresh-every", "fresh_every", "each stream starts from a zero state once every this many "
         "chunks, the streams taking turns, so the model learns to read from nothing (0: only at the start "
         "of an epoch)", type=count, metavar="K")
    _add(group, "--seq-len", "seq_len", "characters per chunk (truncated BPTT length)", type=positive_int,
         metavar="T")
    _add(group, "--batch-size", "batch_size", "parallel streams per batch", type=positive_int, metavar="N")
    _add(group, "--optimizer", "optimizer", "optimizer", choices=tuple(OPTIMIZERS))
    _add(group, "--lr", "lr", "learning rate (the peak one with --schedule cosine or --warmup)",
         type=positive_float)
    _add(group, "--momentum", "momentum", "momentum, for sgd and rmsprop", type=probability, metavar="MU")
    _add(group, "--clip", "clip", "clip the gradients' global norm to this; 0: no clipping",
         type=nonneg_float, metavar="NORM")
    _add(group, "--schedule", "schedule", "learning-rate schedule; cosine decays from --lr to --min-lr "
         "over --decay-steps, then stays at --min-lr", choices=SCHEDULES)
    _add(group, "--decay-steps", "decay_steps", "the steps cosine decays over (default: --steps)",
         type=positive_int, metavar="N")
    _add(group, "--min-lr", "min_lr", "the learning rate cosine ends at", type=nonneg_float, metavar="LR")
    _add(group, "--warmup", "warmup", "ramp the learning rate up linearly over the first this many steps",
         type=count, metavar="STEPS")
    _add(group, "--seed", "seed", "seeds the initial weights and dropout", type=count)
    group = train_parser.add_argument_group("how long")
    _add(group, "--steps", "steps", "train until this many steps in all (default: no limit; give "
         "--steps, --minutes or both)", type=positive_int, metavar="N")
    _add(group, "--minutes", "minutes", "train until this many minutes of training in all: wall-clock "
         "time, validation and saving excluded (default: no limit)", type=positive_float, metavar="M")
    group = train_parser.add_argument_group("output")
    _add(group, "--out", "out", "the resumable checkpoint to write (default: char_rnn.npz; when "
         "resuming, the --resume file)", metavar="PATH.npz")
    _add(group, "--export", "export", "also write a weights-only copy here at the end: no optimizer "
         "state or position in the text, so it cannot be resumed (a file to share or ship)",
         metavar="PATH.npz")
    _add(group, "--resume", "resume", "continue the run saved in this checkpoint", metavar="PATH.npz")
    group.add_argument("--overwrite", action="store_true",
                       help="a new run may replace an existing --out file (which is refused otherwise, "
                            "to keep a trained model from being lost to a command run twice)")
    _add(group, "--val-every", "val_every", "validate every this many steps; 0: only at the end",
         type=count, metavar="N")
    _add(group, "--checkpoint-every", "checkpoint_every", "save --out every this many steps; 0: only at "
         "the end (and on Ctrl-C)", type=count, metavar="N")
    _add(group, "--log-every", "log_every", "print the mean training loss every this many steps; 0: never",
         type=count, metavar="N")
    train_parser.set_defaults(run=_train, parser=train_parser)


def _add_sample(commands):
    """Add the ``sample`` command.

    Args:
        commands: the sub-parsers action of the main parser.
    """
    sample_parser = commands.add_parser(
        "sample", formatter_class=_Formatter, help="generate text from a trained char-rnn",
        description=_wrap("Generate text from a character-level model: prints the prime followed "
                          "by --length sampled characters."),
        epilog="examples:\n"
               f"  {PROG} sample --prime 'ROMEO:' --temperature 0.5\n"
               f"  {PROG} sample --checkpoint notes.npz --length 2000 --top-k 5 --seed 1")
    sample_parser.add_argument(
        "--checkpoint", metavar="PATH.npz",
        help="a checkpoint written by train (default: the one shipped with course_lib, shakespeare_lstm)")
    sample_parser.add_argument(
        "--prime", default="",
        help="text to start from; every character must be in the model's vocabulary (default: none, "
             "the first character is drawn at random)")
    sample_parser.add_argument("--length", type=count, default=500,
                               help="characters to generate (default: 500)")
    sample_parser.add_argument(
        "--temperature", type=nonneg_float, default=0.8,
        help="below 1: safer, more repetitive text; above 1: wilder; 0: always the most likely "
             "character (default: 0.8)")
    sample_parser.add_argument("--top-k", type=positive_int, default=None, metavar="K",
                               help="draw only among the K most likely characters (default: all)")
    sample_parser.add_argument(
        "--seed", type=count, default=None,
        help="the same seed gives the same text (default: a random one, printed to stderr)")
    sample_parser.set_defaults(run=_sample, parser=sample_parser)


def _add_evaluate(commands):
    """Add the ``evaluate`` command.

    Args:
        commands: the sub-parsers action of the main parser.
    """
    evaluate_parser = commands.add_parser(
        "evaluate", formatter_class=_Formatter, help="validation loss of a trained char-rnn",
        description=_wrap("The mean loss of a checkpoint's model on the validation part of a text "
                          "(its last --val-fraction, read as one stream), in nats/char, bits/char "
                          "and perplexity."))
    evaluate_parser.add_argument(
        "--checkpoint", metavar="PATH.npz",
        help="a checkpoint written by train (default: the shipped shakespeare_lstm)")
    evaluate_parser.add_argument("--data", metavar="shakespeare|PATH.txt",
                                 help="the text (default: the one the checkpoint was trained on)")
    evaluate_parser.add_argument("--val-fraction", type=fraction, metavar="F",
                                 help="(default: the one the checkpoint was trained with, else 0.1)")
    evaluate_parser.add_argument(
        "--max-chars", type=positive_int, metavar="N",
        help="evaluate only the first N characters of the validation part (default: all)")
    evaluate_parser.set_defaults(run=_evaluate, parser=evaluate_parser)


def _add_fetch(commands):
    """Add the ``fetch`` command.

    Args:
        commands: the sub-parsers action of the main parser.
    """
    fetch_parser = commands.add_parser(
        "fetch", formatter_class=_Formatter, help="download the datasets now (before class, or to go offline)",
        description=_wrap("Download datasets into the data folder (or copy them from COURSE_DATA_MIRROR), "
                          "verify their checksums and print where they are. The notebooks do this on first "
                          "use; run it before class so nobody waits, or to fill a folder that a machine "
                          "without internet then uses as its COURSE_DATA_MIRROR."),
        epilog="examples:\n"
               f"  {PROG} fetch                 # every dataset of the course\n"
               f"  COURSE_DATA_DIR=/media/usb/course-data {PROG} fetch mnist")
    # Checked in _fetch, not with choices=: argparse (3.11) rejects an empty list against choices.
    fetch_parser.add_argument("datasets", nargs="*", metavar="DATASET",
                              help=f"which ones: {', '.join(sorted(DATASETS))} (default: all)")
    fetch_parser.set_defaults(run=_fetch, parser=fetch_parser)

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

One module per command, each with the function that runs it: :mod:`~course_lib.cli.train`
(where a run starts from, new or resumed: :mod:`~course_lib.cli.runs`),
:mod:`~course_lib.cli.sample`, :mod:`~course_lib.cli.evaluate` and :mod:`~course_lib.cli.fetch`;
:mod:`~course_lib.cli.parser` builds the command line, :mod:`~course_lib.cli.common` holds
what they share.
"""

import sys

from .common import DATASETS, EVAL_CHUNK, PROG, _Failure
from .parser import build_parser

# DATASETS is the very dict `fetch` reads (a test adds a dataset to it); EVAL_CHUNK as validation uses it.
__all__ = ["main", "build_parser", "DATASETS", "EVAL_CHUNK"]


def main(argv=None):
    """Run ``python -m course_lib``.

    Args:
        argv: the arguments, as strings (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 done (or ``--help``), 1 a failure while running, 2 a bad command
        line, 130 stopped by Ctrl-C.
    """
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

"""``python -m course_lib sample``: generate text from a trained char-rnn."""

import secrets
import sys

from ..sampling import sample
from .common import _default_checkpoint, _load_char_model


def _sample(args, parser):
    """Run ``sample``: print the prime followed by ``--length`` sampled characters.

    Args:
        args: the parsed command line.
        parser: the ``sample`` parser, for its error messages.

    Returns:
        The exit code, 0. Without ``--seed``, the random seed drawn is printed to stderr.

    Raises:
        SystemExit: by ``parser.error``, for a checkpoint that cannot be loaded or a prime
            with characters outside the model's vocabulary.
    """
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

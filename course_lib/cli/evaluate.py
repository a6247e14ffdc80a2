"""``python -m course_lib evaluate``: the validation loss of a trained char-rnn."""

import time

from .common import (
    _default_checkpoint,
    _load_char_model,
    _loss_line,
    _read_text,
    _run_settings,
    _split,
    _validation_loss,
)


def _evaluate(args, parser):
    """Run ``evaluate``: print the model's loss on the validation part of the text.

    The text and the validation fraction are those given, else those the checkpoint was
    trained with (the fraction, else 0.1).

    Args:
        args: the parsed command line.
        parser: the ``evaluate`` parser, for its error messages.

    Returns:
        The exit code, 0.

    Raises:
        SystemExit: by ``parser.error``, for a checkpoint that cannot be loaded, an unknown
            text or one with characters outside the model's vocabulary.
        _Failure: tiny-shakespeare could not be fetched.
    """
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

"""Pretrained checkpoints shipped inside course_lib, so a notebook can sample good text now.

    from course_lib.pretrained import load_pretrained
    from course_lib.sampling import sample

    ckpt = load_pretrained("shakespeare_lstm")
    print(sample(ckpt.model, ckpt.vocab, prime="ROMEO:", length=500, temperature=0.8, seed=0))

``shakespeare_lstm``: a 1-layer LSTM (hidden 256, one-hot input, float32) trained on
tiny-shakespeare by ``python -m course_lib train`` for twenty minutes of training time
(two sessions, the second resuming the first); validation loss 1.61 nats/char on the
last 10% of the text. ``course_lib/pretrained/README.md``
records the exact command, the seed, the time, the loss and the file's SHA-256; the file
itself holds the command too (``ckpt.extra["commands"]``) and its settings
(``ckpt.extra["run"]``, JSON).

The files are package data (``course_lib/pretrained/*.npz``): ``pip install`` brings them
along, and they are found through :mod:`importlib.resources`, wherever the package is.
They are weights-only checkpoints (no optimizer state): for sampling and evaluating,
not for resuming.
"""

from importlib import resources

from ..training.checkpoints import load_checkpoint

__all__ = ["available", "load_pretrained"]


def _folder():
    return resources.files("course_lib") / "pretrained"


def available():
    """The names :func:`load_pretrained` accepts, sorted (e.g. ``["shakespeare_lstm"]``)."""
    folder = _folder()
    if not folder.is_dir():
        return []
    return sorted(f.name[:-len(".npz")] for f in folder.iterdir() if f.name.endswith(".npz"))


def load_pretrained(name="shakespeare_lstm"):
    """Load a shipped checkpoint: a :class:`~course_lib.training.checkpoints.Checkpoint`.

    Args:
        name: one of :func:`available`.

    Returns:
        ``ckpt`` with ``ckpt.model`` (a :class:`~course_lib.models.CharRNN`), ``ckpt.vocab``,
        ``ckpt.history`` (its training curve), ``ckpt.step`` and ``ckpt.extra`` (how it
        was made: ``"run"``, ``"commands"``, ``"train_seconds"``, ``"val_loss"``).

    Raises:
        FileNotFoundError: no shipped checkpoint of that name (the message lists those there are).
    """
    ref = _folder() / f"{name}.npz"
    if not ref.is_file():
        raise FileNotFoundError(f"course_lib ships no pretrained checkpoint {name!r} "
                                f"(it has: {', '.join(available()) or 'none'})")
    with resources.as_file(ref) as path:  # a real file, even from a zipped install
        return load_checkpoint(path)

"""min-char-rnn's training loop, with a progress bar (``notebooks/04_char_rnn``).

The math of a step is :meth:`course_lib.minchar.MinCharRNN.step` (the original's loop
body); this module only repeats it, for a number of steps or of seconds, shows the
smooth loss, and prints a sample now and then, as Karpathy's script does::

    model = train(train_text, seconds=60)          # a new MinCharRNN
    train(train_text, seconds=60, model=model)     # goes on where it stopped
"""

import time

from tqdm.auto import tqdm

from .._checks import check_count
from ..data.vocab import CharVocab
from ..minchar import HIDDEN_SIZE, LEARNING_RATE, SEQ_LENGTH, MinCharRNN, sample


def train(text_or_ids, num_steps=None, *, seconds=None, model=None, vocab=None,
          hidden_size=HIDDEN_SIZE, seq_length=SEQ_LENGTH, learning_rate=LEARNING_RATE, seed=0,
          progress=True, sample_every=None, sample_length=200):
    """Train min-char-rnn on a text until ``num_steps`` more steps or ``seconds`` have passed.

    A ``model`` given continues where its last call stopped (data pointer, hidden state,
    Adagrad memory, ``smooth_loss``, history).

    Args:
        text_or_ids: a ``str``, or ids ``(L,)`` (then ``model`` or ``vocab`` is needed),
            ``L >= seq_length + 2``.
        num_steps: how many steps to take. At least one of ``num_steps`` and ``seconds``;
            with both, whichever comes first. Default None.
        seconds: keyword-only, as are the rest; how long to train. Default None.
        model: a :class:`~course_lib.minchar.MinCharRNN` to continue training; None (the
            default): a new one, built from the five arguments below.
        vocab: the new model's :class:`~course_lib.data.vocab.CharVocab`; None (the
            default): ``CharVocab.from_text(text)``.
        hidden_size: the new model's H; default 100.
        seq_length: the new model's T, characters per update; default 25.
        learning_rate: the new model's Adagrad learning rate; default 0.1.
        seed: seeds the new model's weights and samples; default 0.
        progress: show a ``tqdm.auto`` progress bar with the smooth loss; default True.
        sample_every: every this many steps (counted by ``model.n``), print a sample of
            ``sample_length`` characters, drawn as in the original: from the current
            hidden state, seeded with the chunk's first character. None (the default): never.
        sample_length: characters per printed sample; default 200.

    Returns:
        The :class:`~course_lib.minchar.MinCharRNN` (``model.history`` to plot).

    Raises:
        ValueError: ids without ``vocab`` or ``model``; ids outside the vocabulary, or a
            character not in it; a text shorter than ``seq_length + 2``; neither
            ``num_steps`` nor ``seconds``; ``num_steps`` not an integer >= 0; ``seconds``
            negative; ``hidden_size`` or ``seq_length`` not an integer >= 1.
        TypeError: ``vocab`` is not a :class:`~course_lib.data.vocab.CharVocab`.
    """
    if model is None:
        if vocab is None:
            if not isinstance(text_or_ids, str):
                raise ValueError("text_or_ids: ids need a vocab= (or a model=) to say what they mean")
            vocab = CharVocab.from_text(text_or_ids)
        model = MinCharRNN(vocab, hidden_size, seq_length, learning_rate, seed)
    data = model.to_ids(text_or_ids)
    if len(data) < model.seq_length + 2:
        raise ValueError(f"text_or_ids: {len(data)} characters, but a step needs at least "
                         f"seq_length + 2 = {model.seq_length + 2}")
    if num_steps is None and seconds is None:
        raise ValueError("give num_steps, seconds, or both")
    if num_steps is not None:
        num_steps = check_count("num_steps", num_steps, minimum=0)
    if seconds is not None and not seconds >= 0:
        raise ValueError(f"seconds: expected a number >= 0, got {seconds!r}")

    start, taken = time.perf_counter(), 0
    with tqdm(total=num_steps, disable=not progress, unit="step") as bar:
        while num_steps is None or taken < num_steps:
            if seconds is not None and time.perf_counter() - start >= seconds:
                break
            if sample_every and model.n % sample_every == 0:
                first = 0 if model.p + model.seq_length + 1 >= len(data) else model.p
                ixes = sample(model.params, model.hprev, data[first], sample_length, model.rng)
                bar.write(f"----\n{model.vocab.decode(ixes)}\n----")
            model.step(data)
            taken += 1
            if taken % 100 == 0 or taken == num_steps:
                bar.set_postfix_str(f"smooth loss {model.smooth_loss:.2f} "
                                    f"({model.nats_per_char:.3f} nats/char)", refresh=False)
            bar.update(1)
    return model

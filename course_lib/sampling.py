"""Generating text from a character-level language model.

Used in ``notebooks/04_char_rnn``. The model gives scores (logits) for the next
character; sampling turns them into a probability distribution, draws a character,
feeds it back in, and repeats. Two knobs shape the distribution:

- **temperature** T: ``p ∝ exp(logits / T)``. T = 1 is the model's own distribution;
  T < 1 sharpens it (safer, more repetitive text), T > 1 flattens it (more surprising,
  more typos). T -> 0 always picks the most likely character (greedy), so T = 0 *means*
  greedy; T -> infinity picks uniformly.
- **top-k**: only the k most likely characters may be drawn.

Computed safely: the largest logit is subtracted before dividing by T, so every
exponent is <= 0 (no overflow, whatever T), and the largest term is exactly 1 (the
sum is never 0). Tiny T gives a one-hot distribution, huge T a uniform one; never NaN.
"""

import numbers

import numpy as np

from ._checks import check_count


def _check_knobs(temperature, top_k, num_classes):
    if not isinstance(temperature, numbers.Real) or not temperature >= 0:  # refuses NaN
        raise ValueError(f"temperature: expected a number >= 0 (0 means greedy), got {temperature!r}")
    if top_k is not None:
        check_count("top_k", top_k)
    if num_classes < 1:
        raise ValueError("logits: expected at least one class")


def probabilities(logits, temperature=1.0, top_k=None):
    """The distribution sampling draws from: ``softmax(logits / T)`` over the top k.

    Args:
        logits: ``(V,)`` scores for the next character; ``-inf`` is allowed (that
            character is never drawn), but not as the largest, and NaN nowhere.
        temperature: T >= 0; 0 gives the one-hot of the argmax (the first, on ties).
            Default 1.0, the model's own distribution.
        top_k: keep only the k largest logits (ties at the k-th: exactly k are kept);
            None (the default): all.

    Returns:
        p: float64 ``(V,)``, non-negative, sums to 1.

    Raises:
        ValueError: ``logits`` is not 1-D, is empty, holds NaN or has ``+inf`` or
            ``-inf`` as its largest value; ``temperature`` is not a number >= 0;
            ``top_k`` is not an integer >= 1.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1:
        raise ValueError(f"logits: expected a 1-D array (V,), got shape {logits.shape}")
    _check_knobs(temperature, top_k, logits.size)
    if np.isnan(logits).any() or not np.isfinite(logits.max()):
        raise ValueError("logits: expected numbers (-inf allowed, not as the largest), got nan or inf")
    if temperature == 0:
        p = np.zeros_like(logits)
        p[np.argmax(logits)] = 1.0
        return p
    z = logits - logits.max()  # <= 0, and 0 at the max: exp gives (0, 1], at least one 1
    if top_k is not None and top_k < z.size:
        dropped = np.argpartition(z, -top_k)[:-top_k]  # all but the k largest
        z[dropped] = -np.inf  # exp(-inf) = 0: never drawn
    kept = z > -np.inf  # -inf stays -inf at every T (and -inf / inf would be nan)
    with np.errstate(over="ignore", under="ignore"):
        z[kept] /= temperature  # tiny T: -inf or huge negatives; infinite T: -0.0 (uniform)
        e = np.exp(z)
    return e / e.sum()


def sample(model, vocab, *, prime="", length=500, temperature=1.0, top_k=None, seed=0):
    """Generate ``length`` characters from a character-level language model.

    The prime is read in one forward call (its hidden state carried over); then each
    new character is drawn from :func:`probabilities` and fed back in, one step at a
    time, the state carried from step to step.

    Args:
        model: a model with ``forward(idx (N, T), state, *, train)`` returning
            ``(logits, cache, new_state)`` and with ``config["vocab_size"]``, e.g.
            :class:`course_lib.models.CharRNN`.
        vocab: the :class:`course_lib.data.vocab.CharVocab` the model was trained with.
        prime: text to start from; every character must be in ``vocab`` (else the
            vocabulary's ValueError names the first one that is not). Empty (the default):
            the first character is drawn uniformly from the vocabulary.
        length: the number of characters to generate; default 500.
        temperature: T >= 0; 0 is greedy (always the most likely character). Default 1.0.
        top_k: draw only among the k most likely characters; None (the default): all.
        seed: seeds ``np.random.default_rng``: the same seed gives the same text. Default 0.

    Returns:
        str: ``prime`` followed by the ``length`` generated characters.

    Raises:
        ValueError: ``length`` is not an integer >= 0, ``temperature`` or ``top_k`` is
            invalid (as in :func:`probabilities`), the model's ``config["vocab_size"]``
            differs from ``vocab.size``, or ``prime`` holds a character not in ``vocab``.
    """
    check_count("length", length, minimum=0)
    _check_knobs(temperature, top_k, vocab.size)
    vocab_size = model.config["vocab_size"]
    if vocab_size != vocab.size:
        raise ValueError(f"vocab: has {vocab.size} characters, but the model predicts {vocab_size}")
    prime_ids = vocab.encode(prime)
    rng = np.random.default_rng(seed)
    uniforms = rng.random(length)  # one draw per character, all at once

    out = []
    if prime_ids.size:
        logits, _, state = model.forward(prime_ids[None, :], None, train=False)
    elif length:  # no prime: nothing to condition the first character on
        first = int(uniforms[0] * vocab.size)
        out.append(first)
        logits, _, state = model.forward(np.array([[first]]), None, train=False)
    while len(out) < length:
        p = probabilities(logits[0, -1], temperature, top_k)
        # Inverse-CDF draw: the first index whose cumulative probability exceeds u.
        # A character of probability 0 is never drawn, not even at u = 0.
        cdf = np.cumsum(p)
        next_id = min(int(np.searchsorted(cdf, uniforms[len(out)] * cdf[-1], side="right")), vocab.size - 1)
        out.append(next_id)
        if len(out) < length:  # the last character needs no forward pass
            logits, _, state = model.forward(np.array([[next_id]]), state, train=False)
    return prime + vocab.decode(np.array(out, dtype=np.int64))

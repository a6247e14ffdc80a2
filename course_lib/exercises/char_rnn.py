"""Checkers for the exercises of notebook 04 · char-rnn.

Each ``check_*`` runs the learner's answer on its own cases and returns a
:class:`~course_lib.exercises.Feedback`; it never raises. The right answers come from
the library the notebook uses: ``course_lib.training.metrics``, ``course_lib.sampling``,
``course_lib.minchar`` and ``course_lib.models``.
"""

import math

import numpy as np

from ..data.vocab import CharVocab
from ..minchar import MinCharRNN
from ..models import CharRNN
from ..sampling import probabilities, sample
from ..training.metrics import bits_per_char, perplexity
from ._feedback import checker, expect, expect_close

__all__ = [
    "check_bits_and_perplexity",
    "check_next_char_probabilities",
    "check_last_states",
    "check_chunk_starts",
    "check_greedy_text",
]


# Exercise 1 ----------------------------------------------------------------------------


@checker
def check_bits_and_perplexity(bits_and_perplexity):
    """``bits_and_perplexity(nats) -> (bits, perplexity)``, for a float and for an array.

    Args:
        bits_and_perplexity: the learner's function.
    """
    uniform = math.log(65)
    answer = bits_and_perplexity(uniform)
    expect(isinstance(answer, tuple) and len(answer) == 2,
           f"Return a pair (bits, perplexity); you return {type(answer).__name__}.")
    bits, ppl = answer
    expect(np.isfinite(bits) and np.isfinite(ppl), "For ln 65 nats you return a value that is not finite.")
    expect(not np.isclose(bits, uniform * math.log(2)),
           "Your bits are nats × ln 2: it is the other way round, bits = nats / ln 2 "
           "(a bit is worth ln 2 ≈ 0.69 nats, so there are more bits than nats).")
    expect(not np.isclose(ppl, 2 ** uniform),
           "Your perplexity is 2 ** nats: the base must match the unit, e ** nats (or 2 ** bits).")
    expect_close(bits, bits_per_char(uniform), "bits for a uniform guess over 65 characters (ln 65 nats)")
    expect_close(ppl, perplexity(uniform), "perplexity for a uniform guess over 65 characters")

    nats = np.array([0.0, 1.0, 1.6063, 2.5])
    bits, ppl = bits_and_perplexity(nats)
    expect_close(bits, bits_per_char(nats), "bits for the array [0, 1, 1.6063, 2.5] nats")
    expect_close(ppl, perplexity(nats), "perplexity for the array [0, 1, 1.6063, 2.5] nats")
    return (f"A uniform guess over 65 characters costs {bits_per_char(uniform):.3f} bits per character, "
            f"perplexity {perplexity(uniform):.0f}.")


# Exercise 2 ----------------------------------------------------------------------------


@checker
def check_next_char_probabilities(next_char_probabilities):
    """Softmax of ``logits / T`` over the top k, greedy at T = 0; never overflowing.

    Args:
        next_char_probabilities: the learner's function.
    """
    logits = np.array([2.0, -1.0, 0.5, 3.0, 0.0, 1.0])
    for temperature in (1.0, 0.5, 2.0):
        p = next_char_probabilities(logits.copy(), temperature)
        expected = probabilities(logits, temperature)
        if p is not None and np.shape(p) == expected.shape and temperature == 0.5:
            wrong_way = probabilities(logits, 2.0)
            expect(not np.allclose(p, wrong_way),
                   "At T = 0.5 your distribution is flatter than at T = 1: divide the logits by T, "
                   "don't multiply them (a small T must sharpen).")
        expect_close(p, expected, f"next_char_probabilities(logits, temperature={temperature})")

    huge = np.array([1000.0, 999.0, 0.0])
    for temperature in (1.0, 0.01):
        p = next_char_probabilities(huge.copy(), temperature)
        expect(p is not None and np.all(np.isfinite(p)),
               f"For logits [1000, 999, 0] at T = {temperature} you return nan or inf: np.exp(1000) "
               "overflows. Subtract the largest logit first: the softmax does not change, and every "
               "exponent is then <= 0.")
        expect_close(p, probabilities(huge, temperature), f"probabilities for logits [1000, 999, 0] at T = {temperature}")

    p = next_char_probabilities(logits.copy(), 0)
    expect_close(p, probabilities(logits, 0), "temperature 0 (greedy: a one-hot of the argmax)", atol=0)

    for top_k in (1, 2, 4):
        p = next_char_probabilities(logits.copy(), 1.0, top_k)
        expected = probabilities(logits, 1.0, top_k)
        if p is not None and np.shape(p) == expected.shape:
            expect(np.count_nonzero(p) == top_k,
                   f"With top_k={top_k}, exactly {top_k} characters may have a probability above 0; "
                   f"yours has {np.count_nonzero(p)}. Set the others to 0 (e.g. their logits to -inf) "
                   "before the softmax, so that the kept ones are renormalised.")
        expect_close(p, expected, f"next_char_probabilities(logits, 1.0, top_k={top_k})")
    return "Temperature, greedy and top-k all match course_lib.sampling.probabilities, with no overflow."


# Exercise 3 ----------------------------------------------------------------------------


@checker
def check_last_states(last_states):
    """``last_states(h (N, T, H), lengths (N,)) -> (N, H)``, the state at each row's last real step.

    Args:
        last_states: the learner's function.
    """
    rng = np.random.default_rng(4)
    N, T, H = 4, 6, 3
    h = rng.standard_normal((N, T, H))
    lengths = np.array([6, 2, 4, 1])
    h_before = h.copy()
    answer = last_states(h, lengths)
    expect(np.array_equal(h, h_before), "last_states changed h in place: only read it.")
    expected = h[np.arange(N), lengths - 1]
    if answer is not None and np.shape(answer) == expected.shape:
        expect(not np.allclose(answer, h[:, -1]),
               "You return h[:, -1], the state after the LAST step of every row; for a padded row "
               "that is the state after reading padding. Row n must use step lengths[n] - 1.")
        expect(not np.allclose(answer, h[np.arange(N), np.minimum(lengths, T - 1)]),
               "Off by one: a row with lengths[n] real steps ends at step lengths[n] - 1.")
    expect_close(answer, expected, "last_states(h, lengths)", rtol=0, atol=0)

    one = last_states(h[:1, :1], np.array([1]))
    expect_close(one, h[:1, 0], "last_states for one row of one step", rtol=0, atol=0)
    return "Each row's state after its own last character, with one indexing operation."


# Exercise 4 ----------------------------------------------------------------------------


def _minchar_starts(n_chars, seq_length, num_steps):
    """Where MinCharRNN's chunks really start: run it (tiny) on a random text."""
    rng = np.random.default_rng(n_chars)
    data = rng.integers(0, 3, n_chars)
    model = MinCharRNN(CharVocab("abc"), hidden_size=1, seq_length=seq_length)
    starts = []
    for _ in range(num_steps):
        model.step(data)
        starts.append(model.p - seq_length)  # step moves p on by seq_length after its chunk
    return starts


@checker
def check_chunk_starts(chunk_starts):
    """``chunk_starts(n_chars, seq_length, num_steps)`` against a real ``MinCharRNN``.

    Args:
        chunk_starts: the learner's function.
    """
    for n_chars, seq_length, num_steps in ((100, 25, 10), (51, 25, 6), (52, 25, 6), (30, 4, 20), (7, 5, 3)):
        expected = _minchar_starts(n_chars, seq_length, num_steps)
        answer = chunk_starts(n_chars, seq_length, num_steps)
        expect(answer is not None, "chunk_starts returns None: does your function end with `return`?")
        answer = [int(a) for a in answer]
        expect(len(answer) == num_steps, f"For num_steps={num_steps} return {num_steps} positions, "
                                         f"not {len(answer)}.")
        if answer != expected:
            k = next(i for i, (a, e) in enumerate(zip(answer, expected)) if a != e)
            expect(False, f"On a text of {n_chars} characters with seq_length {seq_length}, step {k} starts "
                          f"at {expected[k]}, you say {answer[k]} (the right list begins {expected[:k + 2]}). "
                          "min-char-rnn starts over when p + seq_length + 1 >= n_chars: it then skips a "
                          "chunk that would end exactly at the last character.")
    return "Your data pointer goes where min-char-rnn's goes, starting over exactly when it does."


# Exercise 5 ----------------------------------------------------------------------------


@checker
def check_greedy_text(greedy_text):
    """``greedy_text(model, vocab, prime, length)`` against ``sample(..., temperature=0)``.

    Args:
        greedy_text: the learner's function.
    """
    vocab = CharVocab.from_text("abcdefgh \n")
    for cell, seed in (("lstm", 3), ("rnn", 5), ("gru", 7)):
        # Scaled-up weights: a freshly initialised model is nearly uniform, where greedy
        # ties would be decided by rounding; these ones have clear favourites.
        model = CharRNN(vocab.size, 12, cell=cell, seed=seed, dtype=np.float64)
        for p in model.params.values():
            p *= 3
        for prime, length in (("abc", 20), ("h", 15)):
            expected = sample(model, vocab, prime=prime, length=length, temperature=0)
            answer = greedy_text(model, vocab, prime, length)
            expect(isinstance(answer, str), f"Return a str; you return {type(answer).__name__}.")
            expect(answer.startswith(prime), f"Start the text with the prime {prime!r}; yours starts {answer[:5]!r}.")
            expect(len(answer) == len(prime) + length,
                   f"Return the prime and {length} characters ({len(prime) + length} in all), "
                   f"not {len(answer)}.")
            expect(answer == expected,
                   f"With a {cell} model and prime {prime!r}, the greedy text is {expected!r}; yours is "
                   f"{answer!r}. Is each new character fed in with the state returned by the previous "
                   "forward call (its third result)? Without it, the model forgets everything before.")
    return "Identical to sampling.sample(..., temperature=0) for rnn, lstm and gru models."

"""Tests for course_lib.sampling: temperature and top-k made safe, seeded sampling with
the hidden state carried. (Its speed: benchmarks/bench_sampling.py.)"""

import numpy as np
import pytest
from test_training import Bigram

from course_lib.activations import softmax
from course_lib.data.vocab import CharVocab
from course_lib.models import CharRNN
from course_lib.sampling import probabilities, sample

pytestmark = pytest.mark.filterwarnings("error")

VOCAB = CharVocab("abcdefg")


def fixed_distribution_model(logits):
    """A Bigram whose next-character logits are ``logits`` whatever the input."""
    model = Bigram(len(logits))
    model.params["W"][:] = 0
    model.params["b"][:] = logits
    return model


def cycle_model(V=7, strength=10.0):
    """A Bigram that (almost surely) follows each character by the next one."""
    model = Bigram(V)
    model.params["W"][:] = strength * np.roll(np.eye(V), 1, axis=1)
    return model


# --- probabilities --------------------------------------------------------------------------

def test_temperature_one_is_the_softmax():
    logits = np.random.default_rng(0).standard_normal(10)
    np.testing.assert_allclose(probabilities(logits), softmax(logits), rtol=1e-14)
    np.testing.assert_allclose(probabilities(logits, 0.5), softmax(logits / 0.5), rtol=1e-14)
    p = probabilities(logits.astype(np.float32))
    assert p.dtype == np.float64 and p.sum() == pytest.approx(1, abs=1e-15)


@pytest.mark.parametrize("temperature", [0, 0.0, 1e-30, 1e-300, 1e-320, 5e-324])
def test_zero_and_tiny_temperatures_are_greedy_without_nan(temperature):
    logits = np.array([1.0, 3.0, -2.0, 2.999])
    np.testing.assert_array_equal(probabilities(logits, temperature), [0, 1, 0, 0])


def test_ties_greedy_takes_the_first_and_tiny_t_splits_evenly():
    logits = np.array([0.0, 2.0, 2.0])
    np.testing.assert_array_equal(probabilities(logits, 0), [0, 1, 0])
    np.testing.assert_array_equal(probabilities(logits, 1e-300), [0, 0.5, 0.5])


@pytest.mark.parametrize("temperature", [1e9, 1e300, np.inf])
def test_huge_temperatures_approach_uniform(temperature):
    logits = np.array([1e4, -1e4, 0.0, 5.0])
    np.testing.assert_allclose(probabilities(logits, temperature), 0.25, rtol=1e-3)


def test_extreme_logits_stay_exact():
    np.testing.assert_array_equal(probabilities(np.array([1e4, -1e4, 0.0])), [1, 0, 0])
    p = probabilities(np.array([-np.inf, 0.0, 0.0]), 0.1)  # -inf allowed: probability 0
    np.testing.assert_array_equal(p, [0, 0.5, 0.5])


def test_top_k_keeps_the_k_largest_and_renormalises():
    logits = np.array([0.5, 3.0, -1.0, 2.0, 1.0])
    p = probabilities(logits, 0.8, top_k=2)
    expected = np.zeros(5)
    expected[[1, 3]] = softmax(logits[[1, 3]] / 0.8)
    np.testing.assert_allclose(p, expected, rtol=1e-14)
    np.testing.assert_array_equal(probabilities(logits, 1.0, top_k=1), [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(probabilities(logits, 2.0, top_k=5), probabilities(logits, 2.0))
    np.testing.assert_array_equal(probabilities(logits, 2.0, top_k=99), probabilities(logits, 2.0))
    np.testing.assert_allclose(probabilities(logits, np.inf, top_k=3), [0, 1 / 3, 0, 1 / 3, 1 / 3])


@pytest.mark.parametrize("kwargs, match", [
    (dict(temperature=-0.1), "temperature"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(temperature="1"), "temperature"),
    (dict(top_k=0), "top_k"),
    (dict(top_k=2.5), "top_k"),
    (dict(top_k=True), "top_k"),
])
def test_knobs_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        probabilities(np.zeros(3), **kwargs)
    with pytest.raises(ValueError, match=match):
        sample(Bigram(7), VOCAB, length=3, **kwargs)


@pytest.mark.parametrize("logits", [[np.nan, 0.0], [np.inf, 0.0], [-np.inf, -np.inf]])
def test_logits_that_are_not_numbers_are_refused(logits):
    with pytest.raises(ValueError, match="got nan or inf"):
        probabilities(np.array(logits))


def test_logits_must_be_one_row():
    with pytest.raises(ValueError, match=r"expected a 1-D array \(V,\), got shape \(1, 3\)"):
        probabilities(np.zeros((1, 3)))


# --- sample ---------------------------------------------------------------------------------

def test_sample_returns_the_prime_and_length_characters():
    text = sample(Bigram(7), VOCAB, prime="abc", length=40)
    assert text.startswith("abc") and len(text) == 43 and set(text) <= set(VOCAB.chars)
    assert sample(Bigram(7), VOCAB, prime="ab", length=0) == "ab"
    assert sample(Bigram(7), VOCAB, length=0) == ""
    assert len(sample(Bigram(7), VOCAB, length=25)) == 25  # no prime: the first is drawn too


def test_same_seed_same_text_other_seed_other_text():
    model = Bigram(7)
    a, b, c = (sample(model, VOCAB, prime="a", length=100, seed=s) for s in (5, 5, 6))
    assert a == b and a != c


def test_greedy_follows_the_most_likely_character():
    model = cycle_model()
    assert sample(model, VOCAB, prime="c", length=9, temperature=0) == "cdefgabcde"
    assert sample(model, VOCAB, prime="c", length=9, temperature=1e-300) == "cdefgabcde"
    assert sample(model, VOCAB, prime="c", length=9, top_k=1, temperature=5.0) == "cdefgabcde"


def test_sampled_frequencies_follow_the_tempered_distribution():
    logits = np.array([2.0, 1.0, 0.0, -1.0, 0.5, 1.5, -3.0])
    n = 4000
    text = sample(fixed_distribution_model(logits), VOCAB, prime="a", length=n, temperature=0.7, seed=1)[1:]
    freq = np.bincount(VOCAB.encode(text), minlength=7) / n
    expected = probabilities(logits, 0.7)
    np.testing.assert_allclose(freq, expected, atol=4 * np.sqrt(0.25 / n))  # 4 standard errors


def test_top_k_samples_only_the_k_most_likely():
    logits = np.array([2.0, 1.0, 0.0, -1.0, 0.5, 1.5, -3.0])
    text = sample(fixed_distribution_model(logits), VOCAB, prime="a", length=500, top_k=3, seed=2)[1:]
    assert set(text) == {"a", "b", "f"}


def test_sample_carries_the_state_like_reading_the_whole_text():
    """Greedy sampling step by step (state carried) equals recomputing every prefix from scratch."""
    vocab = CharVocab("\n !,.:;?abcdefghijklmnopqrstuvwxyz")
    model = CharRNN(vocab.size, 12, cell="lstm", num_layers=2, dtype=np.float64, seed=3)
    text = sample(model, vocab, prime="to be, or", length=25, temperature=0)
    expected = "to be, or"
    for _ in range(25):
        logits, _, _ = model.forward(vocab.encode(expected)[None], None)
        expected += vocab.chars[int(np.argmax(logits[0, -1]))]
    assert text == expected


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("temperature", [0, 1e-320, 0.3, 1.0, 1e6, np.inf])
def test_every_cell_and_extreme_temperatures_sample_valid_text(cell, temperature):
    model = CharRNN(VOCAB.size, 8, cell=cell, embedding_dim=4)
    text = sample(model, VOCAB, prime="gab", length=30, temperature=temperature, top_k=4, seed=1)
    assert len(text) == 33 and set(text) <= set(VOCAB.chars)


def test_a_prime_character_outside_the_vocabulary_is_named():
    with pytest.raises(ValueError, match=r"character 'z' \(U\+007A\) at position 2 is not in the vocabulary"):
        sample(Bigram(7), VOCAB, prime="abzq", length=5)


def test_a_vocabulary_of_another_size_is_refused():
    with pytest.raises(ValueError, match="vocab: has 7 characters, but the model predicts 8"):
        sample(Bigram(8), VOCAB, prime="a", length=5)


@pytest.mark.parametrize("length", [-1, 2.0, True])
def test_length_is_checked(length):
    with pytest.raises(ValueError, match="length"):
        sample(Bigram(7), VOCAB, length=length)

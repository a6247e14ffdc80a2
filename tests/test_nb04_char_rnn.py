"""Notebook 04: its exercise checkers (both ways) and its widget functions."""

import matplotlib
import nb_helpers  # tests/ is on sys.path (rootdir conftest), as for recurrent_cases
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from nb_helpers import assert_wrong, stub

from course_lib.exercises import char_rnn as ex
from course_lib.notebook import nb04_char_rnn as nb04
from course_lib.notebook import widgets
from course_lib.pretrained import load_pretrained
from course_lib.sampling import sample

matplotlib.use("Agg")


def solution(k):
    return nb_helpers.solution("04", k)


# --- exercise 1: bits and perplexity ----------------------------------------------------


def test_ex1_solution_passes():
    assert ex.check_bits_and_perplexity(solution(1)["bits_and_perplexity"])


@pytest.mark.parametrize("answer, hint", [
    (lambda nats: (nats * np.log(2), np.exp(nats)), "it is the other way round"),
    (lambda nats: (nats / np.log(2), 2 ** nats), "the base must match the unit"),
    (lambda nats: (nats / np.log(10), np.exp(nats)), "bits for a uniform guess"),
    (lambda nats: nats / np.log(2), "Return a pair"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex1_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_bits_and_perplexity(answer), hint)


# --- exercise 2: the sampling distribution ----------------------------------------------


def test_ex2_solution_passes():
    assert ex.check_next_char_probabilities(solution(2)["next_char_probabilities"])


def naive_probabilities(logits, temperature, top_k=None):
    if temperature == 0:
        return (logits == logits.max()).astype(float)
    e = np.exp(logits / temperature)
    if top_k is not None:
        e[np.argsort(logits)[:-top_k]] = 0
    return e / e.sum()


def multiplied_probabilities(logits, temperature, top_k=None):
    z = logits - logits.max()
    e = np.exp(z * temperature) if temperature else (z == 0).astype(float)
    return e / e.sum()


def top_k_ignored(logits, temperature, top_k=None):
    if temperature == 0:
        return (logits == logits.max()).astype(float)
    e = np.exp((logits - logits.max()) / temperature)
    return e / e.sum()


@pytest.mark.parametrize("answer, hint", [
    (naive_probabilities, "Subtract the largest logit first"),
    (multiplied_probabilities, "divide the logits by T"),
    (top_k_ignored, "exactly 1 characters may have a probability above 0"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex2_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_next_char_probabilities(answer), hint)


# --- exercise 3: last states of padded rows ---------------------------------------------


def test_ex3_solution_passes():
    assert ex.check_last_states(solution(3)["last_states"])


@pytest.mark.parametrize("answer, hint", [
    (lambda h, lengths: h[:, -1], "h[:, -1]"),
    (lambda h, lengths: h[np.arange(len(lengths)), np.minimum(lengths, h.shape[1] - 1)], "Off by one"),
    (lambda h, lengths: h[:, lengths - 1], "has shape"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex3_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_last_states(answer), hint)


# --- exercise 4: the data pointer -------------------------------------------------------


def test_ex4_solution_passes():
    assert ex.check_chunk_starts(solution(4)["chunk_starts"])


def off_by_one_starts(n_chars, seq_length, num_steps):
    starts, p = [], 0
    for _ in range(num_steps):
        if p + seq_length + 1 > n_chars:  # the chunk fits: but min-char-rnn still starts over
            p = 0
        starts.append(p)
        p += seq_length
    return starts


@pytest.mark.parametrize("answer, hint", [
    (off_by_one_starts, "p + seq_length + 1 >= n_chars"),
    (lambda n, T, k: [T * i for i in range(k)], "step"),
    (lambda n, T, k: [0] * (k - 1), "return"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex4_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_chunk_starts(answer), hint)


def test_ex4_reference_is_minchar_itself():
    # The checker's truth is the real MinCharRNN. On 51 characters, chunks of 25 fit twice
    # (inputs 0..24 and 25..49, the last target at 50), but the original's test skips a
    # chunk that ends exactly at the last character; one character more and it is taken.
    assert ex._minchar_starts(51, 25, 4) == [0, 0, 0, 0]
    assert ex._minchar_starts(52, 25, 4) == [0, 25, 0, 25]


# --- exercise 5: greedy decoding --------------------------------------------------------


def test_ex5_solution_passes():
    assert ex.check_greedy_text(solution(5)["greedy_text"])


def forgetful_greedy(model, vocab, prime, length):
    logits, _, _ = model.forward(vocab.encode(prime)[None, :])
    out = []
    for _ in range(length):
        out.append(int(np.argmax(logits[0, -1])))
        logits, _, _ = model.forward(np.array([[out[-1]]]))  # the state is dropped
    return prime + vocab.decode(np.array(out))


@pytest.mark.parametrize("answer, hint", [
    (forgetful_greedy, "the state returned by the previous forward call"),
    (lambda model, vocab, prime, length: vocab.decode(np.zeros(length, dtype=np.int64)), "Start the text with the prime"),
    (lambda model, vocab, prime, length: prime, "Return the prime and"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex5_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_greedy_text(answer), hint)


# --- the sampling widget ----------------------------------------------------------------


@pytest.fixture(scope="module")
def lstm():
    ckpt = load_pretrained("shakespeare_lstm")
    return ckpt.model, ckpt.vocab


def test_render_sample_is_the_library_sample_seeded_by_seed_plus_clicks(lstm):
    model, vocab = lstm
    text = nb04.render_sample(model, vocab, prime="ROMEO:", length=40, temperature=0.8, seed=3, clicks=2)
    assert text == sample(model, vocab, prime="ROMEO:", length=40, temperature=0.8, seed=5)
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 40
    # The button moves the seed: a click is a new text, and the same settings are the same text.
    again = nb04.render_sample(model, vocab, prime="ROMEO:", length=40, temperature=0.8, seed=3, clicks=3)
    assert again != text
    assert nb04.render_sample(model, vocab, prime="ROMEO:", length=40, temperature=0.8, seed=4, clicks=2) == again


def test_render_sample_greedy_ignores_the_seed_and_equals_top_1(lstm):
    model, vocab = lstm
    greedy = [nb04.render_sample(model, vocab, prime="JULIET:", length=30, temperature=0, seed=s) for s in (0, 7)]
    assert greedy[0] == greedy[1]
    assert nb04.render_sample(model, vocab, prime="JULIET:", length=30, temperature=1.0, top_k=1, seed=9) == greedy[0]


def test_render_sample_reports_a_character_outside_the_vocabulary(lstm):
    model, vocab = lstm
    text = nb04.render_sample(model, vocab, prime="Zoë", length=10)
    assert text.startswith("⚠") and "'ë'" in text


def test_the_sampling_widget_redraws_on_every_control_and_the_button(lstm):
    model, vocab = lstm
    box = nb04.sampling_widget(model, vocab, length=60)
    assert widgets.WIDGET_CLASS in box._dom_classes
    output = next(child for child in box.children if widgets.OUTPUT_CLASS in child._dom_classes)
    controls = {child.description: child for child in box.children if hasattr(child, "description")}
    changes = {"temperature T": 1.5, "top-k": 3, "priming text": "KING", "length": 90, "seed": 42}
    for description, value in changes.items():
        before = output.value
        controls[description].value = value
        assert output.value != before, f"moving {description!r} did not change the text"
    assert "KING" in output.value
    before = output.value
    controls["Resample"].click()
    assert output.value != before
    # A typed backslash-n is a line break: the text box has only one line.
    controls["priming text"].value = "JULIET:\\n"
    assert "JULIET:\n" in output.value and "\\n" not in output.value


# --- the activation widget --------------------------------------------------------------


def test_char_grid_places_newlines_at_row_ends_and_wraps_long_lines():
    rows, cells = nb04.char_grid("ab\ncdefg\n\nh", width=3)
    assert rows == ["ab↵", "cde", "fg↵", "↵", "h"]
    assert cells.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [2, 2], [3, 0], [4, 0]]


def test_draw_char_activations_colours_each_character_by_its_value():
    passage = "To be,\nor not"
    values = np.linspace(-1, 1, len(passage))
    ax = Figure().subplots()
    drawn = nb04.draw_char_activations(ax, passage, values, title="unit 7", width=5)
    grid = drawn["grid"]
    rows, cells = nb04.char_grid(passage, 5)
    assert grid.shape == (len(rows), 5)
    assert np.array_equal(grid[cells[:, 0], cells[:, 1]], values)
    assert np.isnan(grid).sum() == grid.size - len(passage)  # every other cell is empty
    # White letters exactly on the dark ends of the colour map, black ones elsewhere.
    assert drawn["on_dark"].tolist() == [abs(v) > 0.6 for v in values]
    patches = [a for a in ax.patches if isinstance(a, PathPatch)]
    assert [matplotlib.colors.to_hex(a.get_facecolor()) for a in patches] == ["#000000", "#ffffff"]
    assert drawn["image"].norm.vmin == -1 and drawn["image"].norm.vmax == 1
    assert ax.get_title() == "unit 7"


@pytest.mark.parametrize("passage", ["M", "iM", "x\n.W"])
def test_each_glyph_sits_in_its_own_cell(passage):
    # The letters are outlines placed in data coordinates: the glyph of the last character
    # must lie inside that character's cell, however far along the row it is.
    ax = Figure().subplots()
    values = np.zeros(len(passage))
    nb04.draw_char_activations(ax, passage, values, title="", width=10, colorbar=False)
    (patch,) = ax.patches
    row, col = nb04.char_grid(passage, 10)[1][-1]
    last_glyph = patch.get_path().to_polygons()[-1]  # W and M are drawn as one closed outline
    (x0, y0), (x1, y1) = last_glyph.min(axis=0), last_glyph.max(axis=0)
    assert col - 0.5 <= x0 < x1 <= col + 0.5
    assert row - 0.5 <= y0 < y1 <= row + 0.5
    assert abs((x0 + x1) / 2 - col) < 0.05  # centred in its cell


def test_draw_char_activations_refuses_a_value_count_that_does_not_match():
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="one per character"):
        nb04.draw_char_activations(ax, "abc", np.zeros(4), title="x")


def test_the_activation_widget_redraws_on_the_unit_and_the_state():
    rng = np.random.default_rng(0)
    passage = "ROMEO:\nBut soft!"
    states = {"cell tanh(c)": np.tanh(rng.standard_normal((len(passage), 4))),
              "hidden h": np.tanh(rng.standard_normal((len(passage), 4)))}
    box = nb04.activation_widget(passage, states, unit=1, figsize=(4, 2))
    image = next(child for child in box.children if widgets.OUTPUT_CLASS in child._dom_classes)
    controls = {child.description: child for child in box.children if hasattr(child, "description")}
    assert controls["hidden unit"].max == 3
    for description, value in {"hidden unit": 3, "state": "hidden h"}.items():
        before = image.value
        controls[description].value = value
        assert image.value != before, f"moving {description!r} did not redraw"

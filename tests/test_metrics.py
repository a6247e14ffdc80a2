"""Tests for course_lib.training.metrics: units of a language model's loss, accuracy, confusion."""

import math

import numpy as np
import pytest

from course_lib.training.metrics import accuracy, bits_per_char, confusion_matrix, moving_average, perplexity

pytestmark = pytest.mark.filterwarnings("error")


def test_a_uniform_guess_over_65_characters():
    nats = math.log(65)
    assert bits_per_char(nats) == pytest.approx(math.log2(65), rel=1e-15)
    assert perplexity(nats) == pytest.approx(65, rel=1e-14)


def test_units_on_arrays_and_known_values():
    nats = np.array([0.0, math.log(2), 2 * math.log(2)])
    np.testing.assert_allclose(bits_per_char(nats), [0, 1, 2], atol=1e-15)
    np.testing.assert_allclose(perplexity(nats), [1, 2, 4], rtol=1e-15)
    assert isinstance(bits_per_char(1.0), float) and isinstance(perplexity(1.0), float)


def test_accuracy_from_logits_and_from_predictions():
    logits = np.array([[0.1, 2.0, 0.3], [5.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.5]])
    y = np.array([1, 0, 0, 2])
    assert accuracy(logits, y) == 0.5
    assert accuracy(np.array([1, 0, 2, 0]), y) == 0.5
    assert isinstance(accuracy(logits, y), float)


def test_accuracy_over_sequences_with_a_mask():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 5, 4))
    y = logits.argmax(-1)
    y[0, :2] = (y[0, :2] + 1) % 4  # two mistakes, at positions the mask drops
    mask = np.ones((3, 5), bool)
    mask[0, :2] = False
    assert accuracy(logits, y) == pytest.approx(13 / 15)
    assert accuracy(logits, y, mask=mask) == 1.0


@pytest.mark.parametrize("args, match", [
    ((np.zeros((4, 3)), np.zeros(5, int)), r"logits_or_preds: expected logits of shape \(5,\) \+ \(C,\)"),
    ((np.zeros(4), np.zeros(4, int)), "preds: expected integer"),
    ((np.zeros(4, int), np.zeros(4)), "y: expected integer"),
    ((np.zeros((0, 3)), np.zeros(0, int)), "no labels"),
])
def test_accuracy_errors(args, match):
    with pytest.raises(ValueError, match=match):
        accuracy(*args)


def test_accuracy_mask_errors():
    with pytest.raises(ValueError, match="counts no position"):
        accuracy(np.zeros(3, int), np.zeros(3, int), mask=np.zeros(3))
    with pytest.raises(ValueError, match=r"mask: expected shape \(3,\)"):
        accuracy(np.zeros(3, int), np.zeros(3, int), mask=np.ones(4))


def test_confusion_matrix_counts_pairs_rows_are_the_truth():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, (20, 7)), rng.integers(0, 5, (20, 7))
    m = confusion_matrix(y_true, y_pred, 5)
    expected = np.zeros((5, 5), np.int64)
    for t, p in zip(y_true.ravel(), y_pred.ravel()):
        expected[t, p] += 1
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.int64 and m.sum() == 140
    assert m.trace() / m.sum() == accuracy(y_pred, y_true)
    np.testing.assert_array_equal(confusion_matrix([0, 0, 2], [0, 1, 2], 3), [[1, 1, 0], [0, 0, 0], [0, 0, 1]])


@pytest.mark.parametrize("args, match", [
    (([0, 3], [0, 1], 3), "y_true: label 3 is outside"),
    (([0, 1], [0, -1], 3), "y_pred: label -1 is outside"),
    (([0, 1], [0, 1, 1], 3), r"y_pred: expected shape \(2,\)"),
    (([0, 1], [0.0, 1.0], 3), "y_pred: expected integer"),
    (([0, 1], [0, 1], 0), "num_classes"),
    (([0, 1], [0, 1], 2.0), "num_classes"),
])
def test_confusion_matrix_errors(args, match):
    with pytest.raises(ValueError, match=match):
        confusion_matrix(*args)


def test_moving_average_means_each_run_of_window_values():
    np.testing.assert_allclose(moving_average([1, 2, 3, 4, 5], 2), [1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(moving_average([1, 2, 3], 1), [1, 2, 3])
    np.testing.assert_allclose(moving_average([1, 2, 3], 10), [2.0])  # shortened to all values


@pytest.mark.parametrize("values, window, message", [
    ([], 3, "non-empty 1-D"), ([[1, 2]], 1, "non-empty 1-D"), ([1, 2], 0, "integer >= 1"), ([1, 2], 1.5, "integer >= 1"),
])
def test_moving_average_rejects_bad_input(values, window, message):
    with pytest.raises(ValueError, match=message):
        moving_average(values, window)

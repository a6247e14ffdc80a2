"""Notebook 01: its exercise checkers (both ways) and its widget functions."""

import matplotlib
import nb_helpers  # tests/ is on sys.path (rootdir conftest), as for recurrent_cases
import numpy as np
import pytest
from nb_helpers import assert_every_control_changes_the_output, assert_wrong, stub

from course_lib import activations, losses
from course_lib.exercises import activations as ex
from course_lib.notebook import nb01_activations as nb01
from course_lib.notebook import widgets

matplotlib.use("Agg")


def solution(k):
    return nb_helpers.solution("01", k)


# --- exercise 1: stable tanh ----------------------------------------------------------


def test_ex1_solution_passes():
    assert ex.check_stable_tanh(solution(1)["stable_tanh"])


def naive_tanh(z):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


def where_tanh(z):
    # Both branches are computed for every element: exp(2z) overflows where z >= 0 is kept.
    return np.where(z < 0, (np.exp(2 * z) - 1) / (np.exp(2 * z) + 1), (1 - np.exp(-2 * z)) / (1 + np.exp(-2 * z)))


def float64_tanh(z):
    e = np.exp(-2 * np.abs(np.asarray(z, dtype=np.float64)))
    return np.sign(z) * (1 - e) / (1 + e)


def in_place_tanh(z):
    e = np.exp(-2 * np.abs(z))
    z[...] = np.sign(z) * (1 - e) / (1 + e)
    return z


@pytest.mark.parametrize("answer, hint", [
    (naive_tanh, "NumPy reports"),
    (where_tanh, "BOTH branches"),
    (float64_tanh, "Float32 in should give float32 out"),
    (in_place_tanh, "changed its input in place"),
    (lambda z: np.tanh(z)[:2], "has shape"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex1_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_stable_tanh(answer), hint)


# --- exercise 2: log-sigmoid -----------------------------------------------------------


def test_ex2_solution_passes():
    assert ex.check_log_sigmoid(solution(2)["log_sigmoid"])


@pytest.mark.parametrize("answer, hint", [
    (lambda z: np.log(activations.sigmoid(z)), "log of a probability that rounded to 0"),
    (lambda z: -np.log1p(np.exp(-z)), "NumPy reports"),
    (lambda z: np.log(activations.sigmoid(z) + 1e-12), "differs from the right answer"),
    (lambda z: None, "is None"),
])
def test_ex2_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_log_sigmoid(answer), hint)


# --- exercise 3: label smoothing ---------------------------------------------------------


def test_ex3_solution_passes():
    assert ex.check_smoothed_cross_entropy(solution(3)["smoothed_cross_entropy"])


def test_ex3_reference_is_the_library_at_zero_and_torch_with_smoothing(torch):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, size=6)
    loss0, d0 = ex._smoothed_reference(logits, y, 0.0)
    loss_lib, d_lib = losses.softmax_cross_entropy(logits, y)
    assert np.isclose(loss0, loss_lib) and np.allclose(d0, d_lib)

    z = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(z, torch.tensor(y), label_smoothing=0.1)
    expected.backward()
    loss, dlogits = ex._smoothed_reference(logits, y, 0.1)
    assert np.isclose(loss, expected.item())
    assert np.allclose(dlogits, z.grad.numpy())


def smoothed(scale_loss=1.0, scale_grad=1.0, other_classes_only=False, one_hot_gradient=False):
    """A label-smoothed cross-entropy with one of the mistakes a learner makes."""
    def answer(logits, y, epsilon):
        N, C = logits.shape
        Y = np.eye(C)[y]
        if other_classes_only:
            Q = (1 - epsilon) * Y + epsilon / (C - 1) * (1 - Y)
        else:
            Q = (1 - epsilon) * Y + epsilon / C
        log_probs = activations.log_softmax(logits)
        target = Y if one_hot_gradient else Q
        return -np.sum(Q * log_probs) / N * scale_loss, (np.exp(log_probs) - target) / N * scale_grad
    return answer


@pytest.mark.parametrize("answer, hint", [
    (smoothed(scale_grad=5.0), "5 times too large"),
    (smoothed(scale_grad=1 / 5), "N times too small"),
    (smoothed(scale_loss=1 / 4), "loss at epsilon = 0.0 differs"),
    (smoothed(other_classes_only=True), "loss at epsilon = 0.1 differs"),
    (smoothed(one_hot_gradient=True), "dlogits at epsilon = 0.1 differs"),
    (lambda logits, y, epsilon: losses.softmax_cross_entropy(logits, y)[0], "Return a tuple"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex3_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_smoothed_cross_entropy(answer), hint)


# --- exercise 4: a test that every softmax must pass --------------------------------------


def test_ex4_solution_passes():
    assert ex.check_is_softmax(solution(4)["is_softmax"])


def test_ex4_candidates_are_what_they_claim():
    z = np.array([[2.0, 1.0, 0.1], [-1.0, 3.0, 0.5]])
    for name, (candidate, right, _) in ex.SOFTMAX_CANDIDATES.items():
        with np.errstate(all="ignore"):
            p = candidate(z)
            p_big = candidate(np.array([[1000.0, 0.0]]))
        sound = (np.allclose(p.sum(axis=-1), 1) and np.all((p >= 0) & (p <= 1))
                 and np.allclose(p_big, [[1.0, 0.0]]))
        assert sound == right, name


def sums_to_one_only(f):
    """Checks the sum on one ordinary row: the z / sum(z) candidate slips through."""
    return bool(np.allclose(f(np.array([[1.0, 2.0, 3.0]])).sum(axis=-1), 1))


def sums_and_range(f):
    """Sum and range on a batch, but no large logits: the unshifted softmax slips through."""
    p = f(np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]))
    return bool(np.allclose(p.sum(axis=-1), 1) and np.all((p >= 0) & (p <= 1)))


def strictly_positive(f):
    """Too strict: exp(-1000) rounds to 0, so the real softmax is not > 0 everywhere."""
    p = f(np.array([[1000.0, 0.0], [1.0, 2.0]]))
    return bool(np.allclose(p.sum(axis=-1), 1) and np.all(p > 0))


@pytest.mark.parametrize("answer, hint", [
    (lambda f: True, "accepts `0.5 * (1 + tanh(z / 2))`"),
    (lambda f: False, "rejects `course_lib.activations.softmax`"),
    (sums_to_one_only, "accepts `z / sum(z)`"),
    (sums_and_range, "accepts `exp(z) / sum(exp(z))`"),
    (strictly_positive, "rejects `course_lib.activations.softmax`"),
    (lambda f: "yes", "should return True or False"),
    (lambda f: f(np.array([[1.0, 2.0]]))[5], "raised IndexError"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex4_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_is_softmax(answer), hint)


# --- exercise 5: a linear softmax classifier ---------------------------------------------


def test_ex5_solution_passes():
    names = solution(5)
    assert ex.check_classifier(names["W_clf"], names["b_clf"])


def test_ex5_toy_data_is_seeded_and_split():
    X, y = ex.toy_data("train")
    X_again, _ = ex.toy_data("train")
    X_test, y_test = ex.toy_data("test")
    assert X.shape == (300, 2) and y.shape == (300,) and set(y) == {0, 1, 2}
    assert np.array_equal(X, X_again)
    assert not np.allclose(X, X_test)


def trained(n_steps):
    X, y = ex.toy_data("train")
    W, b = np.zeros((2, 3)), np.zeros(3)
    for _ in range(n_steps):
        _, dlogits = losses.softmax_cross_entropy(X @ W + b, y)
        W -= 0.5 * X.T @ dlogits
        b -= 0.5 * dlogits.sum(axis=0)
    return W, b


@pytest.mark.parametrize("answer, hint", [
    ((np.zeros((2, 3)), np.zeros(3)), "Test accuracy is 33.3%"),
    (trained(3), "train longer"),
    ((trained(300)[0].T, trained(300)[1]), "W should have shape (D, C) = (2, 3)"),
    ((np.full((2, 3), np.nan), np.zeros(3)), "nan or inf"),
])
def test_ex5_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_classifier(*answer), hint)


# --- widgets ------------------------------------------------------------------------------


def axes():
    from matplotlib.figure import Figure

    return Figure().subplots()


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 3.0, 10.0])
def test_softmax_temperature_is_the_softmax_of_scaled_logits(temperature):
    for i, target in enumerate(nb01.NEXT_CHAR_CLASSES):
        probs, loss = nb01.softmax_temperature(temperature, target)
        assert np.allclose(probs, activations.softmax(nb01.NEXT_CHAR_LOGITS / temperature))
        assert np.isclose(probs.sum(), 1)
        assert np.isclose(loss, -np.log(probs[i]))


def test_softmax_temperature_limits():
    cold, _ = nb01.softmax_temperature(0.01)
    hot, _ = nb01.softmax_temperature(1e4)
    assert np.isclose(cold[np.argmax(nb01.NEXT_CHAR_LOGITS)], 1)
    assert np.allclose(hot, 1 / len(nb01.NEXT_CHAR_CLASSES), atol=1e-3)
    # The loss of a class that is not the top one grows like (logit gap) / T as T -> 0.
    _, loss = nb01.softmax_temperature(0.01, "r")
    gap = nb01.NEXT_CHAR_LOGITS.max() - nb01.NEXT_CHAR_LOGITS[4]
    assert np.isclose(loss, gap / 0.01, rtol=1e-3)


def test_draw_softmax_temperature_draws_the_probabilities():
    ax = axes()
    result = nb01.draw_softmax_temperature(ax, temperature=2.0, target="o")
    bars = sorted(ax.patches, key=lambda bar: bar.get_x())
    heights = np.array([bar.get_height() for bar in bars])
    assert np.allclose(heights, result["probs"])
    target_index = nb01.NEXT_CHAR_CLASSES.index("o")
    colours = [bar.get_facecolor() for bar in bars]
    assert sum(c == colours[target_index] for c in colours) == 1, "only the target bar is highlighted"
    assert f"{result['loss']:.3f}" in ax.get_title() and "'o'" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.parametrize("activation, peak", [("tanh", 1.0), ("sigmoid", 0.25)])
def test_saturation_computes_the_derivative_and_the_saturated_fraction(activation, peak):
    fractions = []
    for scale in [0.1, 1.0, 3.0, 10.0]:
        z, derivative, saturated = nb01.saturation(scale, activation)
        f = activations.tanh if activation == "tanh" else activations.sigmoid
        numerical = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
        assert np.allclose(derivative, numerical, atol=1e-8)
        assert derivative.max() <= peak
        assert saturated == np.mean(derivative < nb01.SATURATION_THRESHOLD)
        fractions.append(saturated)
    assert fractions[0] == 0 and fractions == sorted(fractions) and fractions[-1] > 0.5


def test_draw_saturation_histogram_counts_every_unit():
    ax = axes()
    result = nb01.draw_saturation(ax, input_scale=5.0, activation="tanh")
    counts = [bar.get_height() for bar in ax.patches]
    assert sum(counts) == 4000
    assert f"{result['saturated']:.0%}" in ax.get_title()
    assert np.isclose(result["mean"], result["derivative"].mean())


@pytest.mark.parametrize("make, changes", [
    (nb01.softmax_temperature_widget, {"temperature": 3.0, "target": "r"}),
    (nb01.saturation_widget, {"input_scale": 5.0, "activation": "sigmoid"}),
])
def test_every_control_of_the_widgets_changes_the_output(make, changes):
    box = make()
    assert widgets.WIDGET_CLASS in box._dom_classes
    assert_every_control_changes_the_output(box, list(changes.values()))

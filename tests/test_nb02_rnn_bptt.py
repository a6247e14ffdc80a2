"""Notebook 02: its exercise checkers (both ways) and its widget functions."""

import matplotlib
import nb_helpers  # tests/ is on sys.path (rootdir conftest), as for recurrent_cases
import numpy as np
import pytest
from matplotlib.figure import Figure
from nb_helpers import assert_every_control_changes_the_output, assert_wrong, stub

from course_lib.exercises import rnn_bptt as ex
from course_lib.gradcheck import numerical_gradient
from course_lib.notebook import nb02_rnn_bptt as nb02
from course_lib.notebook import widgets
from course_lib.optim import clip_grad_norm
from course_lib.rnn import rnn_backward, rnn_forward

matplotlib.use("Agg")


def solution(k):
    return nb_helpers.solution("02", k)


# --- exercise 1: column form to row form -----------------------------------------------


def test_ex1_solution_passes():
    assert ex.check_to_row_form(solution(1)["to_row_form"])


def no_transposes(p):
    return {"Wx": p["Wxh"], "Wh": p["Whh"], "b": p["bh"].ravel(), "W": p["Why"], "b_out": p["by"].ravel()}


def square_one_forgotten(p):
    return {"Wx": p["Wxh"].T, "Wh": p["Whh"], "b": p["bh"].ravel(), "W": p["Why"].T, "b_out": p["by"].ravel()}


def column_biases(p):
    return {"Wx": p["Wxh"].T, "Wh": p["Whh"].T, "b": p["bh"], "W": p["Why"].T, "b_out": p["by"]}


def missing_head(p):
    return {"Wx": p["Wxh"].T, "Wh": p["Whh"].T, "b": p["bh"].ravel()}


def transposes_in_place(p):
    p["Whh"] = p["Whh"].T  # replaces the caller's array: the caller's dict changes
    return {"Wx": p["Wxh"].T, "Wh": p["Whh"], "b": p["bh"].ravel(), "W": p["Why"].T, "b_out": p["by"].ravel()}


@pytest.mark.parametrize("answer, hint", [
    (no_transposes, "Wx has shape (4, 6); expected (6, 4)"),
    (square_one_forgotten, "Wh equals Whh: it must be Whh.T"),
    (column_biases, "b has shape (4, 1); expected (4,)"),
    (missing_head, "has no W, b_out"),
    (transposes_in_place, "changed params['Whh'] in place"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex1_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_to_row_form(answer), hint)


# --- exercise 2: the Jacobian of one step ----------------------------------------------


def test_ex2_solution_passes():
    assert ex.check_step_jacobian(solution(2)["step_jacobian"])


def test_ex2_jacobian_is_what_backward_applies():
    # dh_prev = dh_next @ J for a row vector: J is the matrix the backward step multiplies by.
    step_jacobian = solution(2)["step_jacobian"]
    rng = np.random.default_rng(0)
    x, h_prev, Wx, Wh, b = (rng.standard_normal(s) for s in [(3,), (4,), (3, 4), (4, 4), (4,)])
    dh_next = rng.standard_normal(4)
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    assert np.allclose(dh_next @ step_jacobian(x, h_prev, Wx, Wh, b), (dh_next * (1 - h_next**2)) @ Wh.T)


@pytest.mark.parametrize("answer, hint", [
    (lambda x, h, Wx, Wh, b: Wh.T, "the tanh's derivative 1 - h_next**2 is missing"),
    (lambda x, h, Wx, Wh, b: ((1 - np.tanh(x @ Wx + h @ Wh + b) ** 2)[:, None] * Wh.T).T, "J is transposed"),
    (lambda x, h, Wx, Wh, b: (1 - h**2)[:, None] * Wh.T, "at h_prev"),
    (lambda x, h, Wx, Wh, b: 1 - np.tanh(x @ Wx + h @ Wh + b) ** 2, "J has shape (5,)"),
    (lambda x, h, Wx, Wh, b: (1 - np.tanh(x @ Wx + h @ Wh + b) ** 2)[:, None] * Wh, "J differs from the right answer"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex2_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_step_jacobian(answer), hint)


# --- exercise 3: BPTT the fast way -----------------------------------------------------


def test_ex3_solution_passes():
    assert ex.check_fast_rnn_backward(solution(3)["fast_rnn_backward"])


def only_the_carry(dh, xs, h0, hs, Wx, Wh):
    """The upstream dh[:, t] is added only at the last step."""
    N, T, D = xs.shape
    da = np.empty(hs.shape)
    carry = dh[:, -1]
    for t in reversed(range(T)):
        da[:, t] = carry * (1 - hs[:, t] ** 2)
        carry = da[:, t] @ Wh.T
    h_before = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    rows = da.reshape(-1, Wh.shape[0])
    return ((rows @ Wx.T).reshape(xs.shape), carry, xs.reshape(-1, D).T @ rows,
            h_before.reshape(-1, Wh.shape[0]).T @ rows, rows.sum(axis=0))


def h_instead_of_h_before(dh, xs, h0, hs, Wx, Wh):
    """dWh from h_t instead of h_{t-1}: every shape fits, the value is wrong."""
    dx, dh0, dWx, dWh, db = solution(3)["fast_rnn_backward"](dh, xs, h0, hs, Wx, Wh)
    return dx, dh0, dWx, hs.reshape(-1, Wh.shape[0]).T @ hs.reshape(-1, Wh.shape[0]), db


@pytest.mark.parametrize("answer, hint", [
    (only_the_carry, "add dh[:, t]"),
    (h_instead_of_h_before, "dWh differs from the right answer"),
    (lambda *args: (1, 2, 3), "a tuple of five arrays"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex3_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_fast_rnn_backward(answer), hint)


# --- exercise 4: truncation with a fixed horizon ---------------------------------------


def test_ex4_solution_passes():
    assert ex.check_truncated_grads(solution(4)["rnn_weight_grads_truncated"])


@pytest.fixture
def small_case():
    rng = np.random.default_rng(5)
    N, T, D, H = 2, 6, 3, 4
    return (rng.standard_normal((N, T, H)), rng.standard_normal((N, T, D)), rng.standard_normal((N, H)),
            rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H))


def test_ex4_references_equal_full_bptt_without_truncation(small_case):
    dh, xs, h0, Wx, Wh, b = small_case
    full = rnn_backward(dh, rnn_forward(xs, h0, Wx, Wh, b)[1])[2:]
    for grads in (ex.truncated_weight_grads(dh, xs, h0, Wx, Wh, b, 6),
                  ex.chunked_weight_grads(dh, xs, h0, Wx, Wh, b, 6)):
        assert all(np.allclose(g, f) for g, f in zip(grads, full))


def test_ex4_reference_with_horizon_1_keeps_only_each_steps_own_term(small_case):
    dh, xs, h0, Wx, Wh, b = small_case
    hs, _ = rnn_forward(xs, h0, Wx, Wh, b)
    da = dh * (1 - hs**2)
    h_before = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    dWh = np.einsum("nti,ntj->ij", h_before, da)
    assert np.allclose(ex.truncated_weight_grads(dh, xs, h0, Wx, Wh, b, 1)[1], dWh)


def test_ex4_horizon_and_chunks_differ_where_they_should(small_case):
    dh, xs, h0, Wx, Wh, b = small_case
    horizon = ex.truncated_weight_grads(dh, xs, h0, Wx, Wh, b, 3)[1]
    chunked = ex.chunked_weight_grads(dh, xs, h0, Wx, Wh, b, 3)[1]
    assert not np.allclose(horizon, chunked)


def ignores_k(dh, xs, h0, Wx, Wh, b, k):
    return rnn_backward(dh, rnn_forward(xs, h0, Wx, Wh, b)[1])[2:]


def one_step_too_far(dh, xs, h0, Wx, Wh, b, k):
    return ex.truncated_weight_grads(dh, xs, h0, Wx, Wh, b, k + 1)


@pytest.mark.parametrize("answer, hint", [
    (ex.chunked_weight_grads, "this is chunked truncation"),
    (one_step_too_far, "with k = 1 your gradient flows back 2 steps"),
    (ignores_k, "dWx for k = 1 differs"),
    (lambda *args: None, "returns None"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex4_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_truncated_grads(answer), hint)


# --- widgets: vanishing and exploding gradients ----------------------------------------


def test_with_spectral_radius():
    W = nb02.with_spectral_radius(np.random.default_rng(0).standard_normal((6, 6)), 1.7)
    assert np.isclose(np.max(np.abs(np.linalg.eigvals(W))), 1.7)


def replay(spectral_radius, seq_len, input_scale, H=5, D=3, N=2):
    """The weights and inputs gradient_norms_through_time draws, drawn again."""
    rng = np.random.default_rng(0)
    Wh = nb02.with_spectral_radius(rng.standard_normal((H, H)), spectral_radius)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    x = input_scale * rng.standard_normal((N, seq_len, D))
    g = rng.standard_normal((N, H))
    return Wh, Wx, x, g / np.linalg.norm(g)


def test_gradient_norms_match_numerical_gradients_at_every_step():
    T, H, D, N = 6, 5, 3, 2
    norms, mean_grad = nb02.gradient_norms_through_time(1.3, T, 0.8, hidden_size=H, input_size=D, batch_size=N)
    Wh, Wx, x, g = replay(1.3, T, 0.8)
    b = np.zeros(H)
    h, _ = rnn_forward(x, np.zeros((N, H)), Wx, Wh, b)
    hs = np.concatenate([np.zeros((N, 1, H)), h], axis=1)
    assert norms[T] == 1.0
    for t in range(T):
        start = hs[:, t].copy()  # L as a function of h_t: run the remaining steps from it
        grad = numerical_gradient(lambda h_t: rnn_forward(x[:, t:], h_t, Wx, Wh, b)[0][:, -1], start, g)
        assert np.isclose(norms[t], np.linalg.norm(grad), rtol=1e-6), t
    assert np.isclose(mean_grad, np.mean(1 - h**2))


def test_linear_gradient_norms_are_powers_of_wh_transposed():
    norms, mean_grad = nb02.gradient_norms_through_time(0.9, 4, 1.0, hidden_size=5, input_size=3,
                                                            batch_size=2, linear=True)
    Wh, _, _, g = replay(0.9, 4, 1.0)
    expected = [np.linalg.norm(g @ np.linalg.matrix_power(Wh.T, 4 - t)) for t in range(5)]
    assert np.allclose(norms, expected) and mean_grad == 1.0


def test_gradient_norms_vanish_explode_and_saturate():
    def first(rho, scale, **kw):
        return nb02.gradient_norms_through_time(rho, 100, scale, **kw)[0][0]

    assert first(0.5, 0.1) < 1e-20  # vanishes
    assert first(3.0, 0.1) > 1e5  # explodes even through the tanh
    assert first(1.5, 0.1, linear=True) > 1e10  # the linear RNN explodes at rho = 1.5 ...
    assert first(1.5, 3.0) < 1e-10  # ... but saturated units make the tanh RNN's vanish
    means = [nb02.gradient_norms_through_time(1.0, 50, s)[1] for s in (0.01, 0.3, 3.0)]
    assert means[0] > 0.95 > means[1] > means[2] > 0


def test_draw_gradient_norms_plots_what_it_computes():
    ax = Figure().subplots()
    result = nb02.draw_gradient_norms(ax, spectral_radius=0.8, seq_len=40, input_scale=0.5)
    norms, _ = nb02.gradient_norms_through_time(0.8, 40, 0.5)
    tanh_line, linear_line, reference = ax.get_lines()
    assert np.array_equal(tanh_line.get_xdata(), np.arange(41))
    assert np.allclose(tanh_line.get_ydata(), norms) and np.allclose(result["norms"], norms)
    assert np.allclose(linear_line.get_ydata(), result["linear_norms"])
    assert np.allclose(reference.get_ydata(), 0.8 ** (40 - np.arange(41)))
    assert ax.get_yscale() == "log" and ax.get_ylim() == nb02.GRADIENT_NORM_YLIM
    assert "0.8" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


# --- widgets: clipping in 2-D ----------------------------------------------------------


def test_clip_in_2d_matches_the_definitions():
    g = np.array([3.0, -0.5])
    by_norm, by_value = nb02.clip_in_2d(g, 1.0)
    assert np.isclose(np.linalg.norm(by_norm), 1.0, atol=1e-6)
    assert np.isclose(nb02.angle_between(g, by_norm), 0.0, atol=1e-4)
    assert np.array_equal(by_value, [1.0, -0.5])
    short = np.array([0.3, 0.4])
    assert all(np.allclose(c, short) for c in nb02.clip_in_2d(short, 1.0))  # nothing to clip


def test_draw_clipping_2d_turns_by_the_expected_angle():
    ax = Figure().subplots()
    result = nb02.draw_clipping_2d(ax, angle=30, length=3.0, threshold=1.0)
    # (3 cos 30°, 3 sin 30°) = (2.60, 1.5): both entries above 1, clipped to (1, 1) at 45°.
    assert np.allclose(result["by_value"], [1.0, 1.0])
    assert np.isclose(result["angle_by_value"], 15.0)
    assert np.isclose(result["angle_by_norm"], 0.0, atol=1e-4)
    grads = {"g": result["gradient"].copy()}
    clip_grad_norm(grads, 1.0)
    assert np.allclose(result["by_norm"], grads["g"])
    for angle in (0, 45, 90):  # along an axis or a diagonal, value clipping keeps the direction
        assert nb02.draw_clipping_2d(Figure().subplots(), angle, 3.0, 1.0)["angle_by_value"] < 1e-4
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.parametrize("make, changes", [
    (nb02.gradient_norms_widget, {"spectral_radius": 1.5, "seq_len": 200, "input_scale": 3.0}),
    (nb02.clipping_widget, {"angle": 75.0, "length": 4.0, "threshold": 2.0}),
])
def test_every_control_of_the_widgets_changes_the_output(make, changes):
    box = make()
    assert widgets.WIDGET_CLASS in box._dom_classes
    assert_every_control_changes_the_output(box, list(changes.values()))

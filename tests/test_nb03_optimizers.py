"""Notebook 03: its exercise checkers (both ways) and its widget functions."""

import matplotlib
import nb_helpers  # tests/ is on sys.path (rootdir conftest), as for recurrent_cases
import numpy as np
import pytest
from matplotlib.figure import Figure
from nb_helpers import assert_every_control_changes_the_output, assert_wrong, stub

from course_lib import optim, surfaces
from course_lib.exercises import optimizers as ex
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.notebook import nb03_optimizers as nb03
from course_lib.notebook import widgets

matplotlib.use("Agg")


def solution(k):
    return nb_helpers.solution("03", k)


# --- exercise 1: the largest stable learning rate ------------------------------------------


def test_ex1_solution_passes():
    assert ex.check_max_stable_lr(solution(1)["max_stable_lr"])


def test_ex1_the_answer_is_the_edge_of_stability():
    # Just below 2/λ_max SGD converges, just above it diverges.
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    edge = solution(1)["max_stable_lr"](A)
    for lr, converges in ((0.99 * edge, True), (1.01 * edge, False)):
        theta = np.array([1.0, -1.0])
        for _ in range(3000):
            theta = theta - lr * A @ theta
        assert (np.linalg.norm(theta) < 1e-3) == converges


@pytest.mark.parametrize("answer, hint", [
    (lambda A: 1 / np.linalg.eigvalsh(A).max(), "1/λ_max"),
    (lambda A: 2 / np.linalg.eigvalsh(A).min(), "2/λ_min"),
    (lambda A: 2 / np.trace(A), "|1 − lr·λ| < 1"),
    (lambda A: np.full(2, 0.1), "one number"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex1_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_max_stable_lr(answer), hint)


# --- exercise 2: Nesterov in Sutskever's form ----------------------------------------------


def test_ex2_solution_passes():
    assert ex.check_nesterov_sutskever_step(solution(2)["nesterov_sutskever_step"])


def classical_momentum_step(theta, v, grad_fn, lr, momentum):
    v = momentum * v - lr * grad_fn(theta)  # gradient at theta: not Nesterov
    return theta + v, v


def velocity_after_step(theta, v, grad_fn, lr, momentum):
    theta = theta + v  # moves with the old velocity
    return theta, momentum * v - lr * grad_fn(theta + momentum * v)


@pytest.mark.parametrize("answer, hint", [
    (classical_momentum_step, "classical momentum"),
    (velocity_after_step, "Check the order"),
    (lambda theta, v, grad_fn, lr, momentum: theta - lr * grad_fn(theta), "the pair (theta, v)"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex2_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_nesterov_sutskever_step(answer), hint)


# --- exercise 3: AdamW ---------------------------------------------------------------------


def test_ex3_solution_passes():
    assert ex.check_adamw_step(solution(3)["adamw_step"])


def test_ex3_reference_matches_torch_adamw(torch, rng):
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(15)]
    hyper = {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1}
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = torch.optim.AdamW([tp], lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]), eps=hyper["eps"],
                             weight_decay=hyper["weight_decay"])
    p, state = p0.copy(), {}
    for g in grads:
        p = ex.adamw_reference(p, g, state, **hyper)
        tp.grad = torch.tensor(g)
        topt.step()
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_ex3_reference_without_decay_is_course_lib_adam(rng):
    p0 = rng.standard_normal(5)
    lib = p0.copy()
    opt = optim.Adam({"p": lib}, lr=0.01)
    p, state = p0.copy(), {}
    for _ in range(10):
        g = rng.standard_normal(5)
        p = ex.adamw_reference(p, g, state, lr=0.01, weight_decay=0.0)
        opt.step({"p": g})
        np.testing.assert_allclose(p, lib, rtol=1e-12)


def adam_with_l2(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    return ex.adamw_reference(p, g + weight_decay * p, state, lr, beta1, beta2, eps, weight_decay=0.0)


def decay_without_lr(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    return ex.adamw_reference(p * (1 - weight_decay), g, state, lr, beta1, beta2, eps, weight_decay=0.0)


def no_bias_correction(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    p = p * (1 - lr * weight_decay)
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
    return p - lr * state["m"] / (np.sqrt(state["v"]) + eps)


@pytest.mark.parametrize("answer, hint", [
    (adam_with_l2, "Adam's L2 penalty"),
    (decay_without_lr, "scaled by the learning rate"),
    (no_bias_correction, "p after step 1 differs"),
    (lambda p, g, state, **hyper: None, "returned None"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex3_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_adamw_step(answer), hint)


# --- exercise 4: linear decay --------------------------------------------------------------


def test_ex4_solution_passes():
    assert ex.check_linear_decay(solution(4)["linear_decay"])


def no_floor(lr, total_steps):
    return lambda step: lr * (1 - step / total_steps)


def off_by_one(lr, total_steps):
    return lambda step: lr * max(0.0, 1 - (step + 1) / total_steps)


@pytest.mark.parametrize("answer, hint", [
    (no_floor, "should stay 0"),
    (off_by_one, "a straight line in between"),
    (lambda lr, total_steps: lr, "should return a function"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex4_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_linear_decay(answer), hint)


# --- exercise 5: Rosenbrock ----------------------------------------------------------------


def test_ex5_solution_passes():
    assert ex.check_rosenbrock_optimizer(solution(5)["make_optimizer"])


def test_ex5_adam_also_passes():
    # More than one right answer: Adam gets there too, at a learning rate of 1 (its steps
    # are about lr per coordinate at first, and shrink as m̂ / sqrt(v̂) does near the end).
    assert ex.check_rosenbrock_optimizer(lambda params: optim.Adam(params, lr=1.0))


@pytest.mark.parametrize("answer, hint", [
    (lambda params: optim.SGD(params, lr=1e-3), "from (1, 1)"),
    (lambda params: optim.SGD(params, lr=0.01), "diverged at step"),
    (lambda params: optim.SGD({"p": params["p"].copy()}, lr=1e-3), "not on a copy"),
    (lambda params: "Adam", "should return a course_lib.optim optimizer"),
    (stub, "Replace `raise NotImplementedError`"),
])
def test_ex5_wrong_answers_are_reported(answer, hint):
    assert_wrong(ex.check_rosenbrock_optimizer(answer), hint)


# --- widgets: surfaces and trajectories ----------------------------------------------------


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_surface_gradients_match_central_differences(name, rng):
    surface = surfaces.SURFACES[name]
    for _ in range(5):
        point = rng.uniform(-1.5, 1.5, 2)
        numeric = numerical_gradient(lambda p: surface.f(*p), point)
        assert rel_error(surface.grad(point), numeric) < 1e-7


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_surface_minimum_is_a_stationary_point_with_value_f_min(name):
    surface = surfaces.SURFACES[name]
    minimum = np.array(surface.minimum)
    assert np.allclose(surface.grad(minimum), 0)
    assert surface.f(*minimum) == surface.f_min
    # The lowest value on the contour grid is not below f_min.
    assert surface.grid[2].min() >= surface.f_min - 1e-12


def test_sgd_trajectory_on_the_quadratic_is_the_closed_form():
    lr, steps = 0.05, 40
    points = surfaces.run_trajectory("quadratic", "SGD", lr, steps)
    assert points.shape == (steps + 1, 2)
    factors = 1 - lr * np.array([1.0, 20.0])
    start = np.array(surfaces.SURFACES["quadratic"].start)
    assert np.allclose(points, start * factors ** np.arange(steps + 1)[:, None])


@pytest.mark.parametrize("name", list(surfaces.OPTIMIZERS))
def test_run_trajectory_uses_the_course_lib_optimizer(name):
    surface = surfaces.SURFACES["rosenbrock"]
    p = np.array(surface.start)
    expected = {"SGD": optim.SGD({"p": p}, 1e-3), "Momentum": optim.SGD({"p": p}, 1e-3, momentum=0.9),
                "Nesterov": optim.SGD({"p": p}, 1e-3, momentum=0.9, nesterov=True),
                "Adagrad": optim.Adagrad({"p": p}, 1e-3), "RMSprop": optim.RMSprop({"p": p}, 1e-3),
                "Adam": optim.Adam({"p": p}, 1e-3)}[name]
    path = [p.copy()]
    for _ in range(20):
        expected.step({"p": surface.grad(p)})
        path.append(p.copy())
    assert np.array_equal(surfaces.run_trajectory("rosenbrock", name, 1e-3, 20), np.array(path))


def test_a_diverging_walk_stops_and_says_so():
    # Above 2 / 20 the steep direction of the quadratic grows by |1 - 20 lr| > 1 per step.
    points = surfaces.run_trajectory("quadratic", "SGD", 0.2, 100)
    assert len(points) < 101
    assert np.all(np.abs(points) < surfaces.DIVERGED)
    assert nb03.trajectory_summary("quadratic", points, 100) == f"diverged at step {len(points)}"


def test_saddle_sgd_stalls_where_adam_escapes():
    # The notebook's claim: at lr 0.04 SGD is still near the saddle after 100 steps, Adam is not.
    sgd = surfaces.run_trajectory("saddle", "SGD", 0.04, 100)[-1]
    adam = surfaces.run_trajectory("saddle", "Adam", 0.1, 100)[-1]
    assert abs(sgd[1]) < 0.1 and abs(adam[1]) > 0.9


def test_draw_trajectory_plots_the_walk_and_titles_how_it_ended():
    ax = Figure().subplots()
    result = nb03.draw_trajectory(ax, surface="rosenbrock", optimizer="Adam", lr=0.1, steps=300)
    expected = surfaces.run_trajectory("rosenbrock", "Adam", 0.1, 300)
    assert np.array_equal(result["points"], expected)
    walk = ax.lines[-1]
    assert np.array_equal(walk.get_xdata(), expected[:, 0]) and np.array_equal(walk.get_ydata(), expected[:, 1])
    gap = surfaces.SURFACES["rosenbrock"].f(*expected[-1])
    assert result["summary"] == f"f − f_min = {gap:.2e}"
    assert result["summary"] in ax.get_title() and "Adam" in ax.get_title()
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


def test_draw_trajectories_draws_one_walk_per_optimizer_in_its_style():
    ax = Figure().subplots()
    lrs = {"SGD": 0.05, "Adam": 0.3}
    paths = nb03.draw_trajectories(ax, "quadratic", lrs, 50)
    assert set(paths) == set(lrs)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["SGD (lr 0.05)", "Adam (lr 0.3)"]
    walks = ax.lines[-2:]
    for walk, name in zip(walks, lrs):
        assert matplotlib.colors.same_color(walk.get_color(), nb03.OPTIMIZER_STYLES[name]["color"])
        assert np.array_equal(walk.get_xdata(), paths[name][:, 0])


def test_every_control_of_the_trajectory_widget_changes_the_output():
    box = nb03.trajectory_widget()
    assert widgets.WIDGET_CLASS in box._dom_classes
    assert [c.description for c in box.children[1:-1]] == ["surface", "optimizer", "learning rate", "steps"]
    assert_every_control_changes_the_output(box, ["rosenbrock", "Adam", 0.01, 300])

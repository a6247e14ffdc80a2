"""Checkers for the exercises of notebook 03 · Optimizers.

Each ``check_*`` runs the learner's answer on its own cases and returns a
:class:`~course_lib.exercises.Feedback`; it never raises. The right answers come from
``course_lib.optim`` where it has them (Nesterov momentum), and otherwise from the
reference functions below (``adamw_reference``), which the tests compare with PyTorch.
"""

import numpy as np

from .. import optim
from ..surfaces import DIVERGED, SURFACES
from ._feedback import checker, expect, expect_close

__all__ = [
    "check_max_stable_lr",
    "check_nesterov_sutskever_step",
    "check_adamw_step",
    "adamw_reference",
    "check_linear_decay",
    "check_rosenbrock_optimizer",
    "ROSENBROCK_STEPS",
    "ROSENBROCK_TOLERANCE",
]


def _as_float(value, what):
    """A real number from the learner's answer, or a failing verdict."""
    value = np.asarray(value)
    expect(value.size == 1 and np.issubdtype(value.dtype, np.number),
           f"{what} should be one number; you return an array of shape {value.shape}.")
    return float(value.item())


def _spd_matrices():
    """Symmetric positive definite test matrices, with their largest and smallest eigenvalues."""
    rng = np.random.default_rng(3)
    matrices = [np.diag([1.0, 20.0]), np.array([[4.0]]), np.array([[2.0, 1.0], [1.0, 3.0]])]
    for D in (3, 5):
        B = rng.standard_normal((D, D))
        matrices.append(B @ B.T + 0.1 * np.eye(D))
    return matrices


# Exercise 1 ----------------------------------------------------------------------------


@checker
def check_max_stable_lr(max_stable_lr):
    """``max_stable_lr(A)``: the largest lr for which SGD on ``θᵀAθ / 2`` converges, ``2 / λ_max``.

    Args:
        max_stable_lr: the learner's function.
    """
    for A in _spd_matrices():
        eigenvalues = np.linalg.eigvalsh(A)
        answer = _as_float(max_stable_lr(A.copy()), f"max_stable_lr(A) for A of shape {A.shape}")
        right = 2 / eigenvalues.max()
        if not np.isclose(answer, right, rtol=1e-6):
            if np.isclose(answer, 1 / eigenvalues.max(), rtol=1e-6):
                expect(False, "You return 1/λ_max: the learning rate that zeroes the steepest direction in "
                              "one step. SGD stays stable a bit further, as long as |1 − lr·λ| < 1.")
            if np.isclose(answer, 2 / eigenvalues.min(), rtol=1e-6):
                expect(False, "You return 2/λ_min: that keeps the flattest direction stable, but the steepest "
                              "one (the largest eigenvalue) blows up first.")
            expect(False, f"For A = {np.round(A, 3).tolist()} you return {answer:.6g}; SGD multiplies the "
                          "component along each eigenvector by (1 − lr·λ) per step: for which lr is "
                          "|1 − lr·λ| < 1 for every eigenvalue λ?")
    return "2 / λ_max: the steepest direction sets the limit."


# Exercise 2 ----------------------------------------------------------------------------

_quadratic_grad = SURFACES["quadratic"].grad  # the notebook's f = (x² + 20 y²) / 2


@checker
def check_nesterov_sutskever_step(step):
    """``step(theta, v, grad_fn, lr, momentum) -> (theta, v)``: Sutskever's look-ahead form.

    The look-ahead point ``theta + momentum * v`` must be ``course_lib``'s Nesterov parameter
    at every step.

    Args:
        step: the learner's function.
    """
    lr, momentum, num_steps = 0.01, 0.9, 40
    theta, v = np.array([-4.0, 1.0]), np.zeros(2)
    p = theta.copy()
    opt = optim.SGD({"p": p}, lr=lr, momentum=momentum, nesterov=True)
    classic = optim.SGD({"p": theta.copy()}, lr=lr, momentum=momentum)  # the usual wrong answer
    for t in range(1, num_steps + 1):
        out = step(theta.copy(), v.copy(), _quadratic_grad, lr, momentum)
        expect(isinstance(out, tuple) and len(out) == 2,
               "Return the pair (theta, v): the new parameters and the new velocity.")
        theta, v = (np.asarray(a, dtype=np.float64) for a in out)
        expect(theta.shape == (2,) and v.shape == (2,),
               f"theta and v should keep the shape (2,); you return {theta.shape} and {v.shape}.")
        opt.step({"p": _quadratic_grad(p)})
        classic.step({"p": _quadratic_grad(classic.params["p"])})
        lookahead = theta + momentum * v
        if not np.allclose(lookahead, p, rtol=1e-9, atol=1e-12):
            expect(not np.allclose(theta, classic.params["p"], rtol=1e-9, atol=1e-12),
                   "Your theta follows classical momentum: the gradient must be taken at the look-ahead "
                   "point theta + momentum * v, not at theta.")
            expect(False, f"At step {t} your look-ahead point θ + μv is {np.round(lookahead, 6)}, but Nesterov "
                          f"(optim.SGD(nesterov=True)) is at {np.round(p, 6)}. Check the order: v first, "
                          "from the gradient at theta + momentum * v; then theta + v.")
    return f"θ + μv equals course_lib's Nesterov parameters at each of {num_steps} steps: the same algorithm."


# Exercise 3 ----------------------------------------------------------------------------


def adamw_reference(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """One AdamW step (as ``torch.optim.AdamW``): decay ``p`` by ``lr * weight_decay``, then Adam.

    Returns the new ``p``; keeps ``t``, ``m`` and ``v`` in ``state`` (empty at the start).

    Args:
        p: the parameter array (not changed: the new one is returned).
        g: its gradient, ``p``'s shape.
        state: dict, ``{}`` before the first step; updated in place.
        lr: the learning rate.
        beta1: decay rate of the running mean of g; default 0.9.
        beta2: decay rate of the running mean of g^2; default 0.999.
        eps: added to the square root; default 1e-8.
        weight_decay: AdamW's decoupled decay; default 0.01.

    Returns:
        The new ``p``, an array of ``p``'s shape.
    """
    state["t"] = t = state.get("t", 0) + 1
    p = p * (1 - lr * weight_decay)
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
    m_hat = state["m"] / (1 - beta1**t)
    v_hat = state["v"] / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def _run_rule(rule, p, grads, **hyper):
    state, path = {}, []
    for g in grads:
        p = np.asarray(rule(p.copy(), g.copy(), state, **hyper), dtype=np.float64)
        path.append(p)
    return path


@checker
def check_adamw_step(adamw_step):
    """``adamw_step(p, g, state, lr, beta1, beta2, eps, weight_decay) -> new p``, over 20 steps.

    Args:
        adamw_step: the learner's function.
    """
    rng = np.random.default_rng(4)
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * rng.uniform(0.1, 10, (3, 4)) for _ in range(20)]
    hyper = {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}
    expected = _run_rule(adamw_reference, p0, grads, **hyper)

    state = {}
    p = p0.copy()
    for t, g in enumerate(grads, start=1):
        p = adamw_step(p.copy(), g.copy(), state, **hyper)
        expect(p is not None, "adamw_step returned None: does it end with `return`?")
        p = np.asarray(p, dtype=np.float64)
        expect(p.shape == p0.shape, f"The new p has shape {p.shape}; expected {p0.shape}.")
        if not np.allclose(p, expected[t - 1], rtol=1e-7, atol=1e-10):
            l2 = _run_rule(lambda p, g, s, weight_decay, **h: adamw_reference(p, g + weight_decay * p, s,
                                                                              weight_decay=0, **h),
                           p0, grads, **hyper)
            expect(not np.allclose(p, l2[t - 1], rtol=1e-7, atol=1e-10),
                   "You add weight_decay * p to the gradient: that is Adam's L2 penalty, which the division "
                   "by sqrt(v̂) rescales. AdamW shrinks p directly: p * (1 − lr * weight_decay).")
            no_lr = _run_rule(lambda p, g, s, lr, weight_decay, **h: adamw_reference(
                p * (1 - weight_decay), g, s, lr=lr, weight_decay=0, **h), p0, grads, **hyper)
            expect(not np.allclose(p, no_lr[t - 1], rtol=1e-7, atol=1e-10),
                   "The decay should be scaled by the learning rate: p * (1 − lr * weight_decay).")
            expect_close(p, expected[t - 1], f"p after step {t}", rtol=1e-7, atol=1e-10)
    return "20 AdamW steps agree with the reference (and with torch.optim.AdamW)."


# Exercise 4 ----------------------------------------------------------------------------


@checker
def check_linear_decay(linear_decay):
    """``linear_decay(lr, total_steps)`` returns ``step -> lr * max(0, 1 - step / total_steps)``.

    Args:
        linear_decay: the learner's function.
    """
    for lr, total in ((1e-3, 1000), (0.5, 7)):
        schedule = linear_decay(lr, total)
        expect(callable(schedule), "linear_decay(lr, total_steps) should return a function step -> lr.")
        for step in (0, 1, total // 2, total - 1, total, total + 1, 3 * total):
            got = _as_float(schedule(step), f"schedule({step})")
            right = lr * max(0.0, 1 - step / total)
            if not np.isclose(got, right, rtol=1e-9, atol=1e-15):
                expect(not (step > total and got < 0),
                       f"After total_steps the learning rate should stay 0; at step {step} you return {got:.3g}.")
                expect(False, f"linear_decay({lr}, {total}) at step {step} gives {got:.6g}; expected {right:.6g} "
                              "(lr at step 0, 0 at step total_steps, a straight line in between).")
    return "lr at step 0, a straight line down to 0 at total_steps, 0 after."


# Exercise 5 ----------------------------------------------------------------------------

ROSENBROCK_STEPS = 500
ROSENBROCK_TOLERANCE = 0.01


@checker
def check_rosenbrock_optimizer(make_optimizer):
    """``make_optimizer(params)`` must bring Rosenbrock's (-1.2, 1) within 0.01 of (1, 1) in 500 steps.

    Args:
        make_optimizer: the learner's function.
    """
    rosenbrock = SURFACES["rosenbrock"]
    p = np.array(rosenbrock.start)
    opt = make_optimizer({"p": p})
    expect(isinstance(opt, optim.Optimizer),
           f"make_optimizer should return a course_lib.optim optimizer (e.g. optim.Adam(params, lr=...)); "
           f"you return {type(opt).__name__}.")
    expect(opt.params.get("p") is p,
           "Build the optimizer on the params dict you are given: optim.SGD(params, ...), not on a copy.")
    for step in range(1, ROSENBROCK_STEPS + 1):
        opt.step({"p": rosenbrock.grad(p)})
        expect(np.all(np.abs(p) < DIVERGED), f"The walk diverged at step {step} (it left |x|, |y| < {DIVERGED:g}): "
                                        "lower the learning rate.")
    distance = float(np.linalg.norm(p - 1))
    expect(distance < ROSENBROCK_TOLERANCE,
           f"After {ROSENBROCK_STEPS} steps you are at ({p[0]:.4f}, {p[1]:.4f}), {distance:.3g} from (1, 1). "
           "Too slow along the valley floor? Momentum gathers speed where the gradient keeps its direction.")
    name = type(opt).__name__
    return f"{name} ends at ({p[0]:.4f}, {p[1]:.4f}), {distance:.2g} from the minimum after {ROSENBROCK_STEPS} steps."

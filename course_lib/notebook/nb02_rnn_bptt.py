"""Notebook 02's experiments and widgets: gradient norms through time, clipping in 2-D.

Used by ``notebooks/02_rnn_bptt``: each widget is a ``draw`` function (testable without
a browser) with its controls, built with :mod:`course_lib.notebook.widgets`.
"""

import numpy as np

from .. import optim, rnn
from .style import OKABE_ITO
from .widgets import int_slider, log_slider, plot_widget, slider


def with_spectral_radius(W, spectral_radius):
    """``W (H, H)`` rescaled so that its largest eigenvalue modulus is ``spectral_radius``.

    Args:
        W: ``(H, H)`` a square matrix (not all zero).
        spectral_radius: the largest eigenvalue modulus wanted.

    Returns:
        array ``(H, H)``: ``W`` times a number.
    """
    return W * (spectral_radius / np.max(np.abs(np.linalg.eigvals(W))))


def gradient_norms_through_time(spectral_radius, seq_len, input_scale, *, hidden_size=64,
                                input_size=16, batch_size=16, seed=0, linear=False):
    """How the gradient of a loss on the last hidden state shrinks or grows on its way back.

    A vanilla RNN (``course_lib.rnn``) with random weights drawn from ``seed``: ``Wh`` a
    Gaussian ``(H, H)`` matrix rescaled to ``spectral_radius``, ``Wx ~ N(0, 1/D)``,
    ``b = 0``, ``h0 = 0``, inputs ``x ~ N(0, input_scale²)`` of shape ``(N, T, D)``. The
    loss is ``L = sum(h_T * g)`` with a random ``g (N, H)`` of norm 1, so ``‖∂L/∂h_T‖ = 1``.

    Args:
        spectral_radius: the spectral radius of ``Wh``.
        seq_len: T, the number of steps.
        input_scale: the standard deviation of the inputs.
        hidden_size: keyword-only, as are the rest; H; default 64.
        input_size: D; default 16.
        batch_size: N; default 16.
        seed: draws the weights, inputs and ``g``; default 0.
        linear: drop the tanh: the gradient of the linear RNN ``h_t = x_t Wx + h_{t-1} Wh + b``
            with the same ``Wh``, ``∂L/∂h_{t-1} = ∂L/∂h_t · Whᵀ`` (the inputs then play no
            part). Default False.

    Returns:
        norms: float64 ``(T + 1,)``, ``norms[t] = ‖∂L/∂h_t‖`` (over the whole batch) for
            ``t = 0 .. T``; ``norms[T] == 1``.
        mean_tanh_grad: the mean of ``tanh' = 1 - h_t²`` over every step and unit, the
            average factor by which the tanh scales the gradient at a step (1 if ``linear``).
    """
    rng = np.random.default_rng(seed)
    N, T, D, H = batch_size, seq_len, input_size, hidden_size
    Wh = with_spectral_radius(rng.standard_normal((H, H)), spectral_radius)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    b = np.zeros(H)
    x = input_scale * rng.standard_normal((N, T, D))
    g = rng.standard_normal((N, H))
    g /= np.linalg.norm(g)
    norms = np.empty(T + 1)
    norms[T] = 1.0
    dh = g
    if linear:
        for t in range(T, 0, -1):
            dh = dh @ Wh.T
            norms[t - 1] = np.linalg.norm(dh)
        return norms, 1.0
    h0 = np.zeros((N, H))
    h, _ = rnn.rnn_forward(x, h0, Wx, Wh, b)
    hs = np.concatenate([h0[:, None], h], axis=1)  # hs[:, t] = h_t, t = 0 .. T
    for t in range(T, 0, -1):  # the step kernel's backward, step by step, keeping dh_{t-1}
        cache = rnn.RNNStepCache(x=x[:, t - 1], h_prev=hs[:, t - 1], h_next=hs[:, t], Wx=Wx, Wh=Wh)
        _, dh, *_ = rnn.rnn_step_backward(dh, cache)
        norms[t - 1] = np.linalg.norm(dh)
    return norms, float(np.mean(1 - h**2))


GRADIENT_NORM_YLIM = (1e-20, 1e20)  # fixed, so curves can be compared while sliding


def draw_gradient_norms(ax, spectral_radius=1.0, seq_len=100, input_scale=0.1):
    """``‖∂L/∂h_t‖`` against ``t`` on a log axis, for the tanh RNN and the linear one.

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        spectral_radius: of ``Wh``; default 1.0.
        seq_len: T; default 100.
        input_scale: the standard deviation of the inputs; default 0.1.

    Returns:
        dict: ``{"norms", "linear_norms", "mean_tanh_grad"}`` from
        :func:`gradient_norms_through_time`.
    """
    norms, mean_tanh_grad = gradient_norms_through_time(spectral_radius, seq_len, input_scale)
    linear_norms, _ = gradient_norms_through_time(spectral_radius, seq_len, input_scale, linear=True)
    t = np.arange(seq_len + 1)
    tiny = np.finfo(np.float64).tiny  # a log axis cannot show an exact 0 (underflow)
    ax.semilogy(t, np.maximum(norms, tiny), color=OKABE_ITO[0], linewidth=2, label="tanh RNN")
    ax.semilogy(t, np.maximum(linear_norms, tiny), color=OKABE_ITO[1], linestyle="--",
                label="linear RNN, same $W_h$")
    ax.semilogy(t, float(spectral_radius) ** (seq_len - t), color="grey", linestyle=":",
                label=r"$\rho^{\,T-t}$")
    ax.set_ylim(*GRADIENT_NORM_YLIM)
    ax.set_yticks(10.0 ** np.arange(-20, 21, 10))  # the same ticks whatever the figure's size
    ax.set_xlim(0, seq_len)
    ax.set(title=f"ρ(W_h) = {spectral_radius:.3g}, input scale {input_scale:.3g}\n"
                 f"mean tanh′ = {mean_tanh_grad:.2f}",
           xlabel="time step t (the loss is on h_T, at the right)", ylabel="‖∂L/∂h_t‖")
    ax.legend(loc="best", fontsize=8)
    return {"norms": norms, "linear_norms": linear_norms, "mean_tanh_grad": mean_tanh_grad}


def gradient_norms_widget():
    """Spectral radius, sequence length and input scale over :func:`draw_gradient_norms`."""
    controls = {
        "spectral_radius": slider("spectral radius ρ(W_h)", 1.0, 0.5, 3.0, 0.05),
        "seq_len": int_slider("sequence length T", 100, 10, 300, 10),
        "input_scale": log_slider("input scale σ", 0.1, -2, 1, 0.1),
    }
    return plot_widget(draw_gradient_norms, controls,
                       title="Vanishing and exploding gradients: the norm of ∂L/∂h_t, the loss on h_T")


def clip_in_2d(gradient, threshold):
    """A 2-D gradient clipped both ways, by ``course_lib.optim`` on copies.

    Args:
        gradient: ``(2,)``, left unchanged.
        threshold: the ``max_norm`` of ``clip_grad_norm`` and the ``clip_value`` of
            ``clip_grad_value``.

    Returns:
        ``(by_norm, by_value)``: float64 arrays ``(2,)``, from ``clip_grad_norm`` and
        ``clip_grad_value`` with ``threshold``.
    """
    by_norm = {"g": np.array(gradient, dtype=np.float64)}
    by_value = {"g": np.array(gradient, dtype=np.float64)}
    optim.clip_grad_norm(by_norm, threshold)
    optim.clip_grad_value(by_value, threshold)
    return by_norm["g"], by_value["g"]


def angle_between(u, v):
    """The angle between two vectors, in degrees (0 when they point the same way).

    Args:
        u: a non-zero vector ``(n,)``.
        v: a non-zero vector ``(n,)``.

    Returns:
        float: the angle in ``[0, 180]``.
    """
    cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def draw_clipping_2d(ax, angle=30.0, length=3.0, threshold=1.0):
    """A gradient ``g`` of ``length`` at ``angle`` degrees, clipped by norm and by value.

    Draws the circle of radius ``threshold`` (where clipping by norm puts a long ``g``) and
    the square ``[-threshold, threshold]²`` (the box clipping by value projects onto).

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        angle: the direction of ``g``, in degrees; default 30.0.
        length: ``‖g‖``; default 3.0.
        threshold: the clipping threshold; default 1.0.

    Returns:
        dict: ``{"gradient", "by_norm", "by_value", "angle_by_norm", "angle_by_value"}``:
        the three vectors and how far each clipped one turned away from ``g``, in degrees.
    """
    theta = np.radians(angle)
    g = length * np.array([np.cos(theta), np.sin(theta)])
    by_norm, by_value = clip_in_2d(g, threshold)
    turn_norm, turn_value = angle_between(g, by_norm), angle_between(g, by_value)
    circle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(threshold * np.cos(circle), threshold * np.sin(circle), color=OKABE_ITO[0],
            linewidth=1, linestyle="--", label="‖g‖ = threshold")
    c = threshold
    ax.plot([-c, c, c, -c, -c], [-c, -c, c, c, -c], color=OKABE_ITO[1], linewidth=1,
            linestyle=":", label="|g_i| = threshold")
    for vector, colour, width, label in (
        (g, "grey", 0.012, "gradient g"),
        (by_norm, OKABE_ITO[0], 0.018, f"clipped by norm (turned {turn_norm:.1f}°)"),
        (by_value, OKABE_ITO[1], 0.012, f"clipped by value (turned {turn_value:.1f}°)"),
    ):
        ax.quiver(0, 0, *vector, angles="xy", scale_units="xy", scale=1, color=colour,
                  width=width, label=label)
    reach = 1.15 * max(length, threshold * np.sqrt(2))
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_aspect("equal")
    ax.set(title=f"‖g‖ = {length:.3g} at {angle:.0f}°, threshold {threshold:.3g}",
           xlabel="g₁", ylabel="g₂")
    ax.legend(loc="lower left", fontsize=7)
    return {"gradient": g, "by_norm": by_norm, "by_value": by_value,
            "angle_by_norm": turn_norm, "angle_by_value": turn_value}


def clipping_widget():
    """Direction, length and threshold over :func:`draw_clipping_2d`."""
    controls = {
        "angle": slider("direction of g (°)", 30.0, 0.0, 360.0, 5.0),
        "length": slider("length ‖g‖", 3.0, 0.2, 5.0, 0.1),
        "threshold": slider("clip threshold", 1.0, 0.2, 3.0, 0.1),
    }
    return plot_widget(draw_clipping_2d, controls, figsize=(5.2, 5.0),
                       title="Clipping a 2-D gradient by norm and by value")

"""Notebook 01's experiments and widgets: softmax temperature, saturating activations.

Used by ``notebooks/01_activations_and_cross_entropy``: each widget is a ``draw``
function (testable without a browser) with its controls, built with
:mod:`course_lib.notebook.widgets`.
"""

import numpy as np

from .. import activations
from .style import OKABE_ITO
from .widgets import dropdown, log_slider, plot_widget

# Scores a character model might give the character after "th": the softmax demo of nb 01.
NEXT_CHAR_CLASSES = ("e", "a", "i", "o", "r")
NEXT_CHAR_LOGITS = np.array([2.5, 1.2, 0.8, 0.3, -1.0])


def softmax_temperature(temperature, target="e"):
    """Softmax of ``NEXT_CHAR_LOGITS / temperature`` and the cross-entropy of ``target``.

    Args:
        temperature: T > 0.
        target: one of ``NEXT_CHAR_CLASSES``; default ``"e"``.

    Returns:
        probs: float64 array ``(5,)``, one probability per class of ``NEXT_CHAR_CLASSES``.
        loss: ``-log probs[target]`` in nats, from ``log_softmax`` (finite at any T > 0).
    """
    log_probs = activations.log_softmax(NEXT_CHAR_LOGITS / temperature)
    return np.exp(log_probs), float(-log_probs[NEXT_CHAR_CLASSES.index(target)])


def draw_softmax_temperature(ax, temperature=1.0, target="e"):
    """Bar chart of the class probabilities at ``temperature``, the target class highlighted.

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        temperature: T > 0; default 1.0.
        target: one of ``NEXT_CHAR_CLASSES``; default ``"e"``.

    Returns:
        dict: ``{"probs": ..., "loss": ...}`` as :func:`softmax_temperature` computes them.
    """
    probs, loss = softmax_temperature(temperature, target)
    C = len(NEXT_CHAR_CLASSES)
    is_target = np.array([c == target for c in NEXT_CHAR_CLASSES])
    ax.bar(np.flatnonzero(~is_target), probs[~is_target], color=OKABE_ITO[0], label="other classes")
    ax.bar(np.flatnonzero(is_target), probs[is_target], color=OKABE_ITO[1], label=f"target y = {target!r}")
    ax.axhline(1 / C, color="grey", linestyle="--", linewidth=1, label=f"uniform 1/{C}")
    for i, p in enumerate(probs):
        ax.text(i, p + 0.02, f"{p:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(C), [repr(c) for c in NEXT_CHAR_CLASSES])
    ax.set_ylim(0, 1.12)
    ax.set(title=f"T = {temperature:.3g}: −log p({target!r}) = {loss:.3f} nats",
           xlabel='next character after "th"', ylabel="probability softmax(z / T)")
    ax.legend(loc="upper right", fontsize=8)
    return {"probs": probs, "loss": loss}


def softmax_temperature_widget():
    """Temperature slider and target dropdown over :func:`draw_softmax_temperature`."""
    controls = {
        "temperature": log_slider("temperature T", 1.0, -1, 1, 0.05),
        "target": dropdown("target class y", list(NEXT_CHAR_CLASSES), "e"),
    }
    return plot_widget(draw_softmax_temperature, controls,
                       title="Softmax of the logits divided by T, and the cross-entropy of the target")


SATURATION_THRESHOLD = 0.01  # a unit whose derivative is below this passes back < 1% of its gradient
_ACTIVATION_DERIVATIVES = {
    "tanh": lambda z: activations.tanh_grad(activations.tanh(z)),
    "sigmoid": lambda z: activations.sigmoid_grad(activations.sigmoid(z)),
}


def saturation(input_scale, activation="tanh", n_units=4000):
    """Derivatives of ``activation`` at pre-activations ``z ~ N(0, input_scale²)`` (seed 0).

    Args:
        input_scale: the standard deviation of ``z``.
        activation: ``"tanh"`` (the default) or ``"sigmoid"``.
        n_units: how many values of ``z``; default 4000.

    Returns:
        z: float64 array ``(n_units,)``, the pre-activations.
        derivative: float64 array ``(n_units,)``, ``f'(z)``.
        saturated: fraction of units with ``f'(z) < SATURATION_THRESHOLD``.
    """
    z = input_scale * np.random.default_rng(0).standard_normal(n_units)
    derivative = _ACTIVATION_DERIVATIVES[activation](z)
    return z, derivative, float(np.mean(derivative < SATURATION_THRESHOLD))


def draw_saturation(ax, input_scale=1.0, activation="tanh"):
    """Histogram of ``f'(z)`` over 4000 units whose pre-activations have spread ``input_scale``.

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        input_scale: the standard deviation of the pre-activations; default 1.0.
        activation: ``"tanh"`` (the default) or ``"sigmoid"``.

    Returns:
        dict: ``{"derivative": ..., "saturated": ..., "mean": ...}``: the first two as
        :func:`saturation` computes them, ``mean`` the mean derivative.
    """
    _, derivative, saturated = saturation(input_scale, activation)
    mean = float(derivative.mean())
    peak = {"tanh": 1.0, "sigmoid": 0.25}[activation]
    ax.hist(derivative, bins=np.linspace(0, 1, 41), color=OKABE_ITO[0], label="units")
    ax.axvline(mean, color=OKABE_ITO[1], linewidth=2, label=f"mean f′ = {mean:.3f}")
    ax.axvline(peak, color="grey", linestyle=":", linewidth=1.5, label=f"largest f′ = {peak:g}")
    ax.set(title=f"{activation}, z ~ N(0, {input_scale:.3g}²)\n{saturated:.0%} saturated (f′ < {SATURATION_THRESHOLD:g})",
           xlabel="derivative f′(z)", ylabel="number of units", xlim=(0, 1.02))
    ax.legend(loc="upper center", fontsize=8)
    return {"derivative": derivative, "saturated": saturated, "mean": mean}


def saturation_widget():
    """Input-scale slider and activation dropdown over :func:`draw_saturation`."""
    controls = {
        "input_scale": log_slider("input scale σ", 1.0, -1, 1.3, 0.05),
        "activation": dropdown("activation f", list(_ACTIVATION_DERIVATIVES), "tanh"),
    }
    return plot_widget(draw_saturation, controls,
                       title="Saturation: how much gradient each unit lets through, f′(z)")

"""The interactive widgets of the notebooks, built one way so that one browser test drives them all.

Every widget is an ``ipywidgets.VBox`` with the CSS class ``course-widget``: a title, its
controls, and one output area with the CSS class ``course-widget-output``. Moving any
control (or clicking the widget's button) redraws that output. A browser test finds every
``.course-widget`` on a page, works each control as a student would, and checks that the
output changed; a notebook needs no test code of its own.

Two builders cover the course:

- :func:`plot_widget`: ``draw(ax, **values)`` draws on a fresh figure, shown as a PNG;
- :func:`text_widget`: ``render(**values)`` returns text (sampled characters, a table).

The work a widget shows lives in plain functions beside it (``draw``, ``render``), so a
test can call them without a browser, and a notebook can draw the same thing as a static
sweep (:func:`sweep`): widgets need a live kernel, and a reader on GitHub or in the
stored outputs sees the sweep instead.

Controls are made with :func:`slider`, :func:`int_slider`, :func:`dropdown` and
:func:`text_box`; sliders update when released (or on a key press), not while dragged,
so a slow redraw never queues up.

The notebook-specific widgets follow the builders, one section per notebook.
"""

import html
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps as _colormaps
from matplotlib.colors import Normalize as _Normalize
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties as _FontProperties
from matplotlib.patches import PathPatch as _PathPatch
from matplotlib.path import Path as _Path
from matplotlib.textpath import TextPath as _TextPath
from matplotlib.transforms import Affine2D as _Affine2D

from course_lib import activations as _activations
from course_lib import optim as _optim
from course_lib import rnn as _rnn
from course_lib import sampling as _sampling
from course_lib.plots import DIVERGING_CMAP as _DIVERGING_CMAP
from course_lib.plots import OKABE_ITO as _OKABE_ITO

WIDGET_CLASS = "course-widget"
OUTPUT_CLASS = "course-widget-output"
_CONTROL_LAYOUT = {"width": "min(100%, 32rem)"}
_DESCRIPTION_STYLE = {"description_width": "10rem"}


# Controls ------------------------------------------------------------------------------


def slider(description, value, min, max, step):  # noqa: A002 - ipywidgets' own names
    """A float slider that reports its value when released, not while dragged."""
    return widgets.FloatSlider(
        value=value, min=min, max=max, step=step, description=description,
        continuous_update=False, readout_format=".3g",
        layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE,
    )


def log_slider(description, value, min, max, step=0.1):  # noqa: A002
    """A slider over powers of ten: ``min`` and ``max`` are exponents, the value is not."""
    return widgets.FloatLogSlider(
        value=value, base=10, min=min, max=max, step=step, description=description,
        continuous_update=False, readout_format=".3g",
        layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE,
    )


def int_slider(description, value, min, max, step=1):  # noqa: A002
    """An integer slider that reports its value when released."""
    return widgets.IntSlider(
        value=value, min=min, max=max, step=step, description=description,
        continuous_update=False, layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE,
    )


def dropdown(description, options, value=None):
    """A choice among ``options`` (a list of values, or of ``(label, value)`` pairs)."""
    dd = widgets.Dropdown(options=options, description=description,
                          layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE)
    if value is not None:
        dd.value = value
    return dd


def text_box(description, value=""):
    """A one-line text input that reports its value on Enter or when it loses focus."""
    return widgets.Text(value=value, description=description, continuous_update=False,
                        layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE)


# Builders ------------------------------------------------------------------------------


def _figure_png(draw, values, ncols, figsize):
    """Run ``draw`` on a new figure and return it as PNG bytes.

    A bare ``Figure`` (not ``plt.figure``) never enters pyplot's list of open figures,
    so a widget redrawn a hundred times leaks nothing and never shows up twice.
    """
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, ncols)
    draw(axes, **values)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _assemble(title, controls, output, button):
    children = [widgets.HTML(f"<b>{title}</b>")] if title else []
    children += list(controls.values())
    if button is not None:
        children.append(button)
    children.append(output)
    box = widgets.VBox(children)
    box.add_class(WIDGET_CLASS)
    output.add_class(OUTPUT_CLASS)
    return box


def _values(controls):
    return {name: control.value for name, control in controls.items()}


def plot_widget(draw, controls, *, title, ncols=1, figsize=(6.4, 3.8), button=None):
    """A figure redrawn whenever a control changes.

    Args:
        draw: ``draw(ax, **values)``, where ``values`` maps each name of ``controls`` to
            its current value; ``ax`` is one ``Axes``, or an array of ``ncols`` of them.
            It must set a title and axis labels.
        controls: dict ``{keyword: control}``, in display order.
        title: a line of text above the controls.
        button: optional label of a button that redraws with an extra keyword
            ``clicks`` (how many times it was clicked), e.g. to take a new random draw.

    Returns:
        The widget (a ``VBox`` with CSS class ``course-widget``); display it by making it
        the last expression of a cell.
    """
    image = widgets.Image(format="png")
    return _live(title, controls, image, button,
                 lambda values: setattr(image, "value", _figure_png(draw, values, ncols, figsize)))


def text_widget(render, controls, *, title, button=None):
    """Text (in a fixed-width font) re-rendered whenever a control changes.

    ``render(**values)`` returns a string; the rest is as in :func:`plot_widget`.
    The text is escaped, so characters such as ``<`` show as themselves.
    """
    text = widgets.HTML()
    return _live(title, controls, text, button,
                 lambda values: setattr(text, "value", f"<pre>{html.escape(render(**values))}</pre>"))


def _live(title, controls, output, button_label, show):
    """Wire the controls (and the button) to ``show(values)``, draw once, and assemble."""
    button = widgets.Button(description=button_label) if button_label else None
    clicks = 0

    def refresh(_change=None):
        values = _values(controls)
        if button is not None:
            values["clicks"] = clicks
        show(values)

    def on_click(_button):
        nonlocal clicks
        clicks += 1
        refresh()

    for control in controls.values():
        control.observe(refresh, names="value")
    if button is not None:
        button.on_click(on_click)
    refresh()
    return _assemble(title, controls, output, button)


def sweep(draw, name, values, *, title, figsize_per_panel=(3.6, 3.0), **fixed):
    """The static fallback of a widget: ``draw`` once per value of one parameter.

    Draws a row of panels, ``draw(ax, **{name: value}, **fixed)`` for each value, under
    one title. Returns the pyplot figure (shown by the notebook like any other).
    """
    values = list(values)
    width, height = figsize_per_panel
    fig, axes = plt.subplots(1, len(values), figsize=(width * len(values), height), squeeze=False)
    for ax, value in zip(axes[0], values):
        draw(ax, **{name: value}, **fixed)
    fig.suptitle(title)
    return fig


# 01 · Activations, softmax and cross-entropy ---------------------------------------------


# Scores a character model might give the character after "th": the softmax demo of nb 01.
NEXT_CHAR_CLASSES = ("e", "a", "i", "o", "r")
NEXT_CHAR_LOGITS = np.array([2.5, 1.2, 0.8, 0.3, -1.0])


def softmax_temperature(temperature, target="e"):
    """Softmax of ``NEXT_CHAR_LOGITS / temperature`` and the cross-entropy of ``target``.

    Returns:
        probs: float64 array (5,), one probability per class of ``NEXT_CHAR_CLASSES``.
        loss: ``-log probs[target]`` in nats, from ``log_softmax`` (finite at any T > 0).
    """
    log_probs = _activations.log_softmax(NEXT_CHAR_LOGITS / temperature)
    return np.exp(log_probs), float(-log_probs[NEXT_CHAR_CLASSES.index(target)])


def draw_softmax_temperature(ax, temperature=1.0, target="e"):
    """Bar chart of the class probabilities at ``temperature``, the target class highlighted.

    Returns ``{"probs": ..., "loss": ...}`` as :func:`softmax_temperature` computes them.
    """
    probs, loss = softmax_temperature(temperature, target)
    C = len(NEXT_CHAR_CLASSES)
    is_target = np.array([c == target for c in NEXT_CHAR_CLASSES])
    ax.bar(np.flatnonzero(~is_target), probs[~is_target], color=_OKABE_ITO[0], label="other classes")
    ax.bar(np.flatnonzero(is_target), probs[is_target], color=_OKABE_ITO[1], label=f"target y = {target!r}")
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
    "tanh": lambda z: _activations.tanh_grad(_activations.tanh(z)),
    "sigmoid": lambda z: _activations.sigmoid_grad(_activations.sigmoid(z)),
}


def saturation(input_scale, activation="tanh", n_units=4000):
    """Derivatives of ``activation`` at pre-activations ``z ~ N(0, input_scale²)`` (seed 0).

    Returns:
        z: float64 array (n_units,), the pre-activations.
        derivative: float64 array (n_units,), ``f'(z)``.
        saturated: fraction of units with ``f'(z) < SATURATION_THRESHOLD``.
    """
    z = input_scale * np.random.default_rng(0).standard_normal(n_units)
    derivative = _ACTIVATION_DERIVATIVES[activation](z)
    return z, derivative, float(np.mean(derivative < SATURATION_THRESHOLD))


def draw_saturation(ax, input_scale=1.0, activation="tanh"):
    """Histogram of ``f'(z)`` over 4000 units whose pre-activations have spread ``input_scale``.

    Returns ``{"derivative": ..., "saturated": ..., "mean": ...}``.
    """
    _, derivative, saturated = saturation(input_scale, activation)
    mean = float(derivative.mean())
    peak = {"tanh": 1.0, "sigmoid": 0.25}[activation]
    ax.hist(derivative, bins=np.linspace(0, 1, 41), color=_OKABE_ITO[0], label="units")
    ax.axvline(mean, color=_OKABE_ITO[1], linewidth=2, label=f"mean f′ = {mean:.3f}")
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


# 02 · The vanilla RNN and backprop through time ------------------------------------------


def with_spectral_radius(W, spectral_radius):
    """``W (H, H)`` rescaled so that its largest eigenvalue modulus is ``spectral_radius``."""
    return W * (spectral_radius / np.max(np.abs(np.linalg.eigvals(W))))


def gradient_norms_through_time(spectral_radius, seq_len, input_scale, *, hidden_size=64,
                                input_size=16, batch_size=16, seed=0, linear=False):
    """How the gradient of a loss on the last hidden state shrinks or grows on its way back.

    A vanilla RNN (``course_lib.rnn``) with random weights drawn from ``seed``: ``Wh`` a
    Gaussian ``(H, H)`` matrix rescaled to ``spectral_radius``, ``Wx ~ N(0, 1/D)``,
    ``b = 0``, ``h0 = 0``, inputs ``x ~ N(0, input_scale²)`` of shape ``(N, T, D)``. The
    loss is ``L = sum(h_T * g)`` with a random ``g (N, H)`` of norm 1, so ``‖∂L/∂h_T‖ = 1``.

    Args:
        linear: drop the tanh: the gradient of the linear RNN ``h_t = x_t Wx + h_{t-1} Wh + b``
            with the same ``Wh``, ``∂L/∂h_{t-1} = ∂L/∂h_t · Whᵀ`` (the inputs then play no part).

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
    h, _ = _rnn.rnn_forward(x, h0, Wx, Wh, b)
    hs = np.concatenate([h0[:, None], h], axis=1)  # hs[:, t] = h_t, t = 0 .. T
    for t in range(T, 0, -1):  # the step kernel's backward, step by step, keeping dh_{t-1}
        cache = _rnn.RNNStepCache(x=x[:, t - 1], h_prev=hs[:, t - 1], h_next=hs[:, t], Wx=Wx, Wh=Wh)
        _, dh, *_ = _rnn.rnn_step_backward(dh, cache)
        norms[t - 1] = np.linalg.norm(dh)
    return norms, float(np.mean(1 - h**2))


GRADIENT_NORM_YLIM = (1e-20, 1e20)  # fixed, so curves can be compared while sliding


def draw_gradient_norms(ax, spectral_radius=1.0, seq_len=100, input_scale=0.1):
    """``‖∂L/∂h_t‖`` against ``t`` on a log axis, for the tanh RNN and the linear one.

    Returns ``{"norms", "linear_norms", "mean_tanh_grad"}`` from
    :func:`gradient_norms_through_time`.
    """
    norms, mean_tanh_grad = gradient_norms_through_time(spectral_radius, seq_len, input_scale)
    linear_norms, _ = gradient_norms_through_time(spectral_radius, seq_len, input_scale, linear=True)
    t = np.arange(seq_len + 1)
    tiny = np.finfo(np.float64).tiny  # a log axis cannot show an exact 0 (underflow)
    ax.semilogy(t, np.maximum(norms, tiny), color=_OKABE_ITO[0], linewidth=2, label="tanh RNN")
    ax.semilogy(t, np.maximum(linear_norms, tiny), color=_OKABE_ITO[1], linestyle="--",
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

    Returns ``(by_norm, by_value)``: float64 arrays ``(2,)``, from ``clip_grad_norm`` and
    ``clip_grad_value`` with ``threshold``.
    """
    by_norm = {"g": np.array(gradient, dtype=np.float64)}
    by_value = {"g": np.array(gradient, dtype=np.float64)}
    _optim.clip_grad_norm(by_norm, threshold)
    _optim.clip_grad_value(by_value, threshold)
    return by_norm["g"], by_value["g"]


def angle_between(u, v):
    """The angle between two vectors, in degrees (0 when they point the same way)."""
    cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def draw_clipping_2d(ax, angle=30.0, length=3.0, threshold=1.0):
    """A gradient ``g`` of ``length`` at ``angle`` degrees, clipped by norm and by value.

    Draws the circle of radius ``threshold`` (where clipping by norm puts a long ``g``) and
    the square ``[-threshold, threshold]²`` (the box clipping by value projects onto).

    Returns ``{"gradient", "by_norm", "by_value", "angle_by_norm", "angle_by_value"}``:
    the three vectors and how far each clipped one turned away from ``g``, in degrees.
    """
    theta = np.radians(angle)
    g = length * np.array([np.cos(theta), np.sin(theta)])
    by_norm, by_value = clip_in_2d(g, threshold)
    turn_norm, turn_value = angle_between(g, by_norm), angle_between(g, by_value)
    circle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(threshold * np.cos(circle), threshold * np.sin(circle), color=_OKABE_ITO[0],
            linewidth=1, linestyle="--", label="‖g‖ = threshold")
    c = threshold
    ax.plot([-c, c, c, -c, -c], [-c, -c, c, c, -c], color=_OKABE_ITO[1], linewidth=1,
            linestyle=":", label="|g_i| = threshold")
    for vector, colour, width, label in (
        (g, "grey", 0.012, "gradient g"),
        (by_norm, _OKABE_ITO[0], 0.018, f"clipped by norm (turned {turn_norm:.1f}°)"),
        (by_value, _OKABE_ITO[1], 0.012, f"clipped by value (turned {turn_value:.1f}°)"),
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


# 03 · Optimizers -------------------------------------------------------------------------


class Surface:
    """A loss surface of two parameters, on which notebook 03 lets optimizers walk.

    Attributes:
        name: its key in :data:`SURFACES`.
        formula: f as plain text, for titles.
        start: ``(x, y)``, where every trajectory starts.
        minimum: ``(x, y)`` of the lowest point (a star on the plots).
        f_min: the lowest value of f.
        xlim, ylim: the box the plots show.
        levels: the values of f drawn as contour lines.
    """

    def __init__(self, name, formula, f, grad, *, start, minimum, f_min, xlim, ylim, levels):
        self.name, self.formula = name, formula
        self._f, self._grad = f, grad
        self.start, self.minimum, self.f_min = start, minimum, f_min
        self.xlim, self.ylim, self.levels = xlim, ylim, levels
        grid_x, grid_y = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
        self.grid = (grid_x, grid_y, f(grid_x, grid_y))  # the contour plot's data, computed once

    def f(self, x, y):
        """The value f(x, y); x and y floats or arrays of one shape (elementwise)."""
        return self._f(x, y)

    def grad(self, p):
        """The gradient ``(2,)`` at the point ``p`` ``(2,)``: a new float64 array."""
        return np.asarray(self._grad(p[0], p[1]), dtype=np.float64)


def _quadratic(x, y):
    return 0.5 * (x**2 + 20 * y**2)


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _saddle(x, y):
    return 10 * x**2 + 0.25 * y**4 - 0.5 * y**2


SURFACES = {
    # Curvature 1 along x, 20 along y: condition number 20. SGD is stable for lr < 2/20.
    "quadratic": Surface(
        "quadratic", "f = (x² + 20 y²) / 2", _quadratic, lambda x, y: (x, 20 * y),
        start=(-4.0, 1.0), minimum=(0.0, 0.0), f_min=0.0, xlim=(-4.5, 1.5), ylim=(-1.5, 1.5),
        levels=tuple(np.geomspace(0.02, 30, 10))),
    # A curved, flat-bottomed valley along y = x²; the minimum (1, 1) is at its far end.
    "rosenbrock": Surface(
        "rosenbrock", "f = (1 − x)² + 100 (y − x²)²", _rosenbrock,
        lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)),
        start=(-1.2, 1.0), minimum=(1.0, 1.0), f_min=0.0, xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
        levels=tuple(np.geomspace(0.05, 2000, 12))),
    # A saddle at (0, 0) between two minima (0, ±1), steep across (curvature 20 along x)
    # and gently curved down along y (curvature -1); the start is a hair off the ridge y = 0.
    "saddle": Surface(
        "saddle", "f = 10 x² + y⁴/4 − y²/2", _saddle, lambda x, y: (20 * x, y**3 - y),
        start=(-1.0, 1e-3), minimum=(0.0, 1.0), f_min=-0.25, xlim=(-1.5, 1.0), ylim=(-1.5, 1.5),
        levels=tuple(np.linspace(-0.2, 0.2, 5)) + tuple(np.geomspace(0.5, 20, 8))),
}

# The six optimizers of notebook 03 by name, each ``make(params, lr)``, with the usual
# defaults for everything but the learning rate.
OPTIMIZERS = {
    "SGD": lambda params, lr: _optim.SGD(params, lr),
    "Momentum": lambda params, lr: _optim.SGD(params, lr, momentum=0.9),
    "Nesterov": lambda params, lr: _optim.SGD(params, lr, momentum=0.9, nesterov=True),
    "Adagrad": lambda params, lr: _optim.Adagrad(params, lr),
    "RMSprop": lambda params, lr: _optim.RMSprop(params, lr),
    "Adam": lambda params, lr: _optim.Adam(params, lr),
}
# One look per optimizer in every plot: a colour each, and within each family (SGD,
# momentum, Nesterov | Adagrad, RMSprop, Adam) a line style each, so paths that overlap
# stay visible.
OPTIMIZER_STYLES = {name: {"color": color, "linestyle": ("-", "--", ":")[i % 3]}
                    for i, (name, color) in enumerate(zip(OPTIMIZERS, _OKABE_ITO))}
DIVERGED = 1e3  # a trajectory that leaves the box |x|, |y| < 1e3 has diverged


def run_trajectory(surface, optimizer, lr, steps):
    """Walk ``steps`` steps of an optimizer on a surface, from the surface's start.

    Args:
        surface: a key of :data:`SURFACES`.
        optimizer: a key of :data:`OPTIMIZERS`.
        lr: the learning rate.
        steps: the number of steps.

    Returns:
        float64 array ``(k + 1, 2)``: the start and the point after each step. ``k`` is
        ``steps``, or fewer when the walk diverged (left the box ``|x|, |y| < DIVERGED``).
    """
    s = SURFACES[surface]
    p = np.array(s.start, dtype=np.float64)
    opt = OPTIMIZERS[optimizer]({"p": p}, lr)  # updates p in place
    points = [p.copy()]
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging walk is a result, not an error
        for _ in range(steps):
            opt.step({"p": s.grad(p)})
            if not np.all(np.abs(p) < DIVERGED):
                break
            points.append(p.copy())
    return np.array(points)


def draw_surface(ax, surface):
    """Contour lines of a surface, its start (circle) and its minimum (star)."""
    s = SURFACES[surface]
    ax.contour(*s.grid, levels=s.levels, colors="grey", linewidths=0.6, alpha=0.7)
    ax.plot(*s.start, "o", color="black", markersize=5)
    ax.plot(*s.minimum, "*", color="black", markersize=11)
    ax.set(xlim=s.xlim, ylim=s.ylim, xlabel="x", ylabel="y")


def draw_trajectories(ax, surface, lrs, steps):
    """Several optimizers on one surface, each at its own learning rate.

    Args:
        lrs: dict optimizer name -> learning rate, e.g. ``{"SGD": 0.05, "Adam": 0.3}``.
        steps: the number of steps of each walk.

    Returns:
        dict optimizer name -> the points of its walk (:func:`run_trajectory`).
    """
    draw_surface(ax, surface)
    paths = {}
    for name, lr in lrs.items():
        paths[name] = points = run_trajectory(surface, name, lr, steps)
        ax.plot(points[:, 0], points[:, 1], marker=".", markersize=3, linewidth=1.4,
                label=f"{name} (lr {lr:g})", **OPTIMIZER_STYLES[name])
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"{surface}: {SURFACES[surface].formula}, {steps} steps")
    return paths


def trajectory_summary(surface, points, steps):
    """One line on how a walk ended: the gap ``f - f_min`` at its last point, or when it diverged."""
    if len(points) <= steps:
        return f"diverged at step {len(points)}"
    s = SURFACES[surface]
    return f"f − f_min = {s.f(*points[-1]) - s.f_min:.2e}"


def draw_trajectory(ax, surface="quadratic", optimizer="SGD", lr=0.05, steps=100):
    """The widget's picture: one optimizer's walk on one surface, titled with how it ended.

    Returns ``{"points": ..., "summary": ...}`` (:func:`run_trajectory`, :func:`trajectory_summary`).
    """
    points = draw_trajectories(ax, surface, {optimizer: lr}, steps)[optimizer]
    summary = trajectory_summary(surface, points, steps)
    ax.set_title(f"{optimizer}, lr {lr:.3g}, {steps} steps\n{summary}", fontsize=10)
    ax.get_legend().remove()
    return {"points": points, "summary": summary}


def trajectory_widget():
    """Surface, optimizer, learning rate and steps controls over :func:`draw_trajectory`."""
    controls = {
        "surface": dropdown("surface", list(SURFACES), "quadratic"),
        "optimizer": dropdown("optimizer", list(OPTIMIZERS), "SGD"),
        "lr": log_slider("learning rate", 0.05, -4, 0, 0.1),
        "steps": int_slider("steps", 100, 10, 1000, 10),
    }
    return plot_widget(draw_trajectory, controls, figsize=(6.4, 4.6),
                       title="An optimizer walking down a 2-D loss surface")


# 04 · char-rnn -----------------------------------------------------------------------------


NEWLINE_MARK = "↵"  # how a newline is drawn in a grid of characters
CELL_ASPECT = 2.0  # a character cell is twice as tall as wide, as monospace text with line spacing
_MONO = _FontProperties(family="monospace")
# The advance of one character of the monospace font: the difference of two widths (a
# single width would also hold the side bearings of the first and last glyph).
_MONO_ADVANCE = (_TextPath((0, 0), "M" * 40, prop=_MONO, size=1).get_extents().width
                 - _TextPath((0, 0), "M" * 20, prop=_MONO, size=1).get_extents().width) / 20


def render_sample(model, vocab, *, prime="", length=300, temperature=1.0, top_k=None, seed=0, clicks=0):
    """Text sampled from a character model: what the sampling widget of notebook 04 shows.

    ``seed + clicks`` seeds the draw, so each click of the widget's "Resample" button gives
    a new text, and every text stays reproducible from its settings. A prime holding a
    character outside the vocabulary gives a message, not an exception: a learner types
    freely in the text box.

    Returns:
        str: ``prime`` followed by ``length`` sampled characters
        (:func:`course_lib.sampling.sample`), or a line starting with "⚠" saying what is wrong.
    """
    try:
        return _sampling.sample(model, vocab, prime=prime, length=length, temperature=temperature,
                                top_k=top_k, seed=seed + clicks)
    except ValueError as error:
        return f"⚠ {error}"


def sampling_widget(model, vocab, *, prime="ROMEO:", length=300, temperature=0.8, seed=0):
    """Temperature, top-k, priming text, length and seed over :func:`render_sample`, and a
    "Resample" button that draws again with the next seed. In the priming text, a typed
    ``\\n`` stands for a line break (the text box holds one line)."""
    controls = {
        "temperature": slider("temperature T", temperature, 0.0, 2.0, 0.05),
        "top_k": dropdown("top-k", [("all characters", 0), ("10", 10), ("3", 3)], 0),
        "prime": text_box("priming text", prime),
        "length": int_slider("length", length, 20, 1000, 10),
        "seed": int_slider("seed", seed, 0, 99),
    }

    def render(temperature, top_k, prime, length, seed, clicks):
        prime = prime.replace("\\n", "\n")  # a one-line text box: typed \n is a line break
        return render_sample(model, vocab, prime=prime, length=length, temperature=temperature,
                             top_k=top_k or None, seed=seed, clicks=clicks)

    return text_widget(render, controls, button="Resample",
                       title="Sampling from the pretrained LSTM (T = 0 is greedy)")


def char_grid(text, width=64):
    """Where each character of ``text`` goes in a grid ``width`` cells wide.

    A newline takes a cell of its own (shown as ``NEWLINE_MARK``) and ends its row; a
    line longer than ``width`` wraps onto the next row.

    Returns:
        rows: list of str, the characters of each row as drawn.
        cells: int array ``(L, 2)``, the ``(row, column)`` of each character of ``text``.
    """
    rows, row = [], []
    cells = np.empty((len(text), 2), dtype=np.int64)
    for i, char in enumerate(text):
        if len(row) == width:
            rows.append("".join(row))
            row = []
        cells[i] = len(rows), len(row)
        row.append(NEWLINE_MARK if char == "\n" else char)
        if char == "\n":
            rows.append("".join(row))
            row = []
    if row:
        rows.append("".join(row))
    return rows, cells


def _glyph_path(chars, row):
    """The outlines of ``chars`` (one row of the grid) in data coordinates: character i
    fills cell ``(row, i)``, a cell being one unit wide, its row one unit tall, y downward."""
    scale = 1 / _MONO_ADVANCE  # one advance of the monospace font = one cell
    path = _TextPath((0, 0), chars, prop=_MONO, size=1)
    # Baseline a quarter cell below the row's centre: room for capitals above, descenders below.
    return _Affine2D().scale(scale, -scale / CELL_ASPECT).translate(-0.5, row + 0.25).transform_path(path)


def draw_char_activations(ax, text, values, *, title, width=64, vmax=1.0, colorbar=True):
    """``text`` drawn one character per cell, each cell coloured by its value in ``values``.

    The colour map is the course's diverging one, centred on 0 (from ``-vmax`` to
    ``vmax``); a character on a dark cell is written in white. The letters are glyph
    outlines in data coordinates, two paths in all (black and white): hundreds of text
    objects would take several times longer to draw, too long for a widget.

    Args:
        text: the passage, L characters.
        values: ``(L,)``, e.g. one hidden unit's activation after reading each character.

    Returns:
        dict: ``grid`` (rows, width) of the values as drawn (NaN in empty cells),
        ``on_dark`` (L,) bool, True where a character is written in white, and ``image``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(text),):
        raise ValueError(f"values: expected shape ({len(text)},), one per character, got {values.shape}")
    rows, cells = char_grid(text, width)
    grid = np.full((len(rows), width), np.nan)
    grid[cells[:, 0], cells[:, 1]] = values
    image = ax.imshow(grid, cmap=_colormaps[_DIVERGING_CMAP], norm=_Normalize(-vmax, vmax),
                      aspect=CELL_ASPECT, interpolation="nearest")
    on_dark = np.abs(values) > 0.6 * vmax
    shown = np.array(list("".join(rows)))  # the characters as drawn, in text order
    for colour, mask in (("black", ~on_dark), ("white", on_dark)):
        # Row by row, the characters of this colour with the others blanked out.
        kept = np.where(mask, shown, " ")
        paths = [_glyph_path("".join(kept[cells[:, 0] == r]), r)
                 for r in range(len(rows)) if mask[cells[:, 0] == r].any()]
        if paths:
            # add_artist, not add_patch: the image has set the limits already, and
            # add_patch would walk every Bezier curve of every glyph to update them.
            ax.add_artist(_PathPatch(_Path.make_compound_path(*paths), facecolor=colour, edgecolor="none"))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set(title=title, xlabel="character in the line", ylabel="line")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label="activation")
    return {"grid": grid, "on_dark": on_dark, "image": image}


def activation_widget(text, states, *, unit=0, state=None, width=54, figsize=(9.5, 6.4)):
    """Pick a hidden unit (and which state) and see its activation over ``text``.

    Args:
        text: the passage, L characters.
        states: dict ``label -> (L, H)`` array, e.g. ``{"cell tanh(c)": ..., "hidden h": ...}``,
            computed once beforehand so that a redraw only draws.
        unit, state: what the widget shows first (``state`` None: the first label).
    """
    labels = list(states)
    num_units = np.shape(states[labels[0]])[1]

    def draw(ax, unit, state):
        draw_char_activations(ax, text, states[state][:, unit], title=f"unit {unit} of {state}",
                              width=width)

    controls = {"unit": int_slider("hidden unit", unit, 0, num_units - 1),
                "state": dropdown("state", labels, state or labels[0])}
    return plot_widget(draw, controls, figsize=figsize,
                       title="One LSTM unit over a passage: orange negative, purple positive")

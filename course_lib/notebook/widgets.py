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

Controls are made with :func:`slider`, :func:`log_slider`, :func:`int_slider`,
:func:`dropdown` and :func:`text_box`; sliders update when released (or on a key press), not
while dragged, so a slow redraw never queues up.

Each notebook's own widgets and experiments are in a module of their own beside this one
(``nb02_rnn_bptt`` for ``notebooks/02_rnn_bptt``, and so on), built from these pieces.
"""

import html
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

WIDGET_CLASS = "course-widget"
OUTPUT_CLASS = "course-widget-output"
_CONTROL_LAYOUT = {"width": "min(100%, 32rem)"}
_DESCRIPTION_STYLE = {"description_width": "10rem"}


# Controls ------------------------------------------------------------------------------


def slider(description, value, min, max, step):  # noqa: A002 - ipywidgets' own names
    """A float slider that reports its value when released, not while dragged.

    Args:
        description: the label shown left of the slider.
        value: where it starts.
        min: its lowest value.
        max: its highest value.
        step: the distance between two positions.

    Returns:
        ``ipywidgets.FloatSlider``.
    """
    return widgets.FloatSlider(
        value=value, min=min, max=max, step=step, description=description,
        continuous_update=False, readout_format=".3g",
        layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE,
    )


def log_slider(description, value, min, max, step=0.1):  # noqa: A002
    """A slider over powers of ten: ``min`` and ``max`` are exponents, the value is not.

    Args:
        description: the label shown left of the slider.
        value: where it starts, e.g. 0.1 (not an exponent).
        min: the exponent of its lowest value, e.g. -2 for 0.01.
        max: the exponent of its highest value.
        step: the distance between two positions, in exponents; default 0.1.

    Returns:
        ``ipywidgets.FloatLogSlider``.
    """
    return widgets.FloatLogSlider(
        value=value, base=10, min=min, max=max, step=step, description=description,
        continuous_update=False, readout_format=".3g",
        layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE,
    )


def int_slider(description, value, min, max, step=1):  # noqa: A002
    """An integer slider that reports its value when released.

    Args:
        description: the label shown left of the slider.
        value: where it starts.
        min: its lowest value.
        max: its highest value.
        step: the distance between two positions; default 1.

    Returns:
        ``ipywidgets.IntSlider``.
    """
    return widgets.IntSlider(
        value=value, min=min, max=max, step=step, description=description,
        continuous_update=False, layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE,
    )


def dropdown(description, options, value=None):
    """A choice among ``options`` (a list of values, or of ``(label, value)`` pairs).

    Args:
        description: the label shown left of the menu.
        options: a list of values, or of ``(label, value)`` pairs.
        value: the value chosen first; None (the default): the first option.

    Returns:
        ``ipywidgets.Dropdown``.
    """
    dd = widgets.Dropdown(options=options, description=description,
                          layout=_CONTROL_LAYOUT, style=_DESCRIPTION_STYLE)
    if value is not None:
        dd.value = value
    return dd


def text_box(description, value=""):
    """A one-line text input that reports its value on Enter or when it loses focus.

    Args:
        description: the label shown left of the box.
        value: the text it starts with; default empty.

    Returns:
        ``ipywidgets.Text``.
    """
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
        title: keyword-only; a line of text above the controls.
        ncols: keyword-only; how many ``Axes`` side by side; default 1.
        figsize: keyword-only; the figure's ``(width, height)`` in inches; default
            ``(6.4, 3.8)``.
        button: keyword-only; optional label of a button that redraws with an extra
            keyword ``clicks`` (how many times it was clicked), e.g. to take a new random
            draw. None (the default): no button.

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

    Args:
        render: ``render(**values) -> str``, ``values`` as in :func:`plot_widget`.
        controls: dict ``{keyword: control}``, in display order.
        title: keyword-only; a line of text above the controls.
        button: keyword-only; as in :func:`plot_widget`; default None.

    Returns:
        The widget (a ``VBox`` with CSS class ``course-widget``).
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

    Args:
        draw: the widget's ``draw(ax, **values)``.
        name: the keyword of ``draw`` that changes from panel to panel.
        values: its values, one panel each.
        title: keyword-only; the figure's title.
        figsize_per_panel: keyword-only; ``(width, height)`` of one panel in inches;
            default ``(3.6, 3.0)``.
        **fixed: the other keywords of ``draw``, the same in every panel.

    Returns:
        ``matplotlib.figure.Figure``.
    """
    values = list(values)
    width, height = figsize_per_panel
    fig, axes = plt.subplots(1, len(values), figsize=(width * len(values), height), squeeze=False)
    for ax, value in zip(axes[0], values):
        draw(ax, **{name: value}, **fixed)
    fig.suptitle(title)
    return fig

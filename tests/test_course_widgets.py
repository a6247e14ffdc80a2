"""The widget builders every notebook uses (course_lib.notebook.widgets), without a browser.

The browser test (test_browser.py) drives the widgets of the notebooks themselves; these
tests hold the contract it relies on: the CSS classes, one output, and every control and
the button redrawing that output.
"""

import numpy as np
import pytest

from course_lib.notebook import widgets


def draw_line(ax, slope, kind):
    x = np.linspace(0, 1, 5)
    ax.plot(x, slope * x if kind == "linear" else slope * x**2)
    ax.set(title=f"{kind} slope {slope}", xlabel="x", ylabel="y")


@pytest.fixture
def plot():
    controls = {
        "slope": widgets.slider("slope", 1.0, 0.0, 2.0, 0.1),
        "kind": widgets.dropdown("kind", ["linear", "square"]),
    }
    return widgets.plot_widget(draw_line, controls, title="A line"), controls


def test_a_plot_widget_has_the_classes_the_browser_test_looks_for(plot):
    box, _ = plot
    assert widgets.WIDGET_CLASS in box._dom_classes
    outputs = [child for child in box.children if widgets.OUTPUT_CLASS in child._dom_classes]
    assert len(outputs) == 1
    assert bytes(outputs[0].value).startswith(b"\x89PNG"), "the output is a PNG image"


@pytest.mark.parametrize("name, new_value", [("slope", 1.5), ("kind", "square")])
def test_every_control_redraws_the_figure(plot, name, new_value):
    box, controls = plot
    before = box.children[-1].value
    controls[name].value = new_value
    assert box.children[-1].value != before


def test_sliders_report_on_release_not_while_dragged():
    for control in (widgets.slider("a", 1, 0, 2, 0.1), widgets.log_slider("b", 1e-2, -4, 0),
                    widgets.int_slider("c", 3, 1, 9), widgets.text_box("d", "x")):
        assert control.continuous_update is False


def test_a_text_widget_escapes_its_text_and_redraws_on_the_button():
    seen = []

    def render(prime, clicks):
        seen.append(clicks)
        return f"{prime} <{clicks}>"

    box = widgets.text_widget(render, {"prime": widgets.text_box("prime", "ROMEO:")}, title="t", button="Again")
    output = box.children[-1]
    assert output.value == "<pre>ROMEO: &lt;0&gt;</pre>"
    button = next(child for child in box.children if child.__class__.__name__ == "Button")
    button.click()
    assert output.value == "<pre>ROMEO: &lt;1&gt;</pre>"
    assert seen == [0, 1]


def test_a_redraw_leaves_no_open_pyplot_figure(plot):
    import matplotlib.pyplot as plt

    box, controls = plot
    open_before = plt.get_fignums()
    for slope in (0.3, 0.6, 0.9):
        controls["slope"].value = slope
    assert plt.get_fignums() == open_before


def test_sweep_draws_one_panel_per_value():
    import matplotlib.pyplot as plt

    fig = widgets.sweep(draw_line, "slope", [0.5, 1.0, 2.0], title="slopes", kind="linear")
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert titles == ["linear slope 0.5", "linear slope 1.0", "linear slope 2.0"]
        assert fig._suptitle.get_text() == "slopes"
    finally:
        plt.close(fig)

"""Notebook 04's experiments and widgets: sampling from a char-rnn, what its units read.

Used by ``notebooks/04_char_rnn``: each widget is a ``draw`` or ``render`` function
(testable without a browser) with its controls, built with
:mod:`course_lib.notebook.widgets`.
"""

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

from .. import sampling
from .style import DIVERGING_CMAP
from .widgets import dropdown, int_slider, plot_widget, slider, text_box, text_widget

NEWLINE_MARK = "↵"  # how a newline is drawn in a grid of characters
CELL_ASPECT = 2.0  # a character cell is twice as tall as wide, as monospace text with line spacing
_MONO = FontProperties(family="monospace")
# The advance of one character of the monospace font: the difference of two widths (a
# single width would also hold the side bearings of the first and last glyph).
_MONO_ADVANCE = (TextPath((0, 0), "M" * 40, prop=_MONO, size=1).get_extents().width
                 - TextPath((0, 0), "M" * 20, prop=_MONO, size=1).get_extents().width) / 20


def render_sample(model, vocab, *, prime="", length=300, temperature=1.0, top_k=None, seed=0, clicks=0):
    """Text sampled from a character model: what the sampling widget of notebook 04 shows.

    ``seed + clicks`` seeds the draw, so each click of the widget's "Resample" button gives
    a new text, and every text stays reproducible from its settings. A prime holding a
    character outside the vocabulary gives a message, not an exception: a learner types
    freely in the text box.

    Args:
        model: a character model, e.g. :class:`course_lib.models.CharRNN`.
        vocab: the :class:`course_lib.data.vocab.CharVocab` it was trained with.
        prime: keyword-only, as are the rest; the text to start from; default empty.
        length: characters to sample; default 300.
        temperature: T >= 0, 0 greedy; default 1.0.
        top_k: draw only among the k most likely characters; None (the default): all.
        seed: default 0; ``seed + clicks`` seeds the draw.
        clicks: how many times the "Resample" button was clicked; default 0.

    Returns:
        str: ``prime`` followed by ``length`` sampled characters
        (:func:`course_lib.sampling.sample`), or a line starting with "⚠" saying what is wrong.
    """
    try:
        return sampling.sample(model, vocab, prime=prime, length=length, temperature=temperature,
                                top_k=top_k, seed=seed + clicks)
    except ValueError as error:
        return f"⚠ {error}"


def sampling_widget(model, vocab, *, prime="ROMEO:", length=300, temperature=0.8, seed=0):
    """Temperature, top-k, priming text, length and seed over :func:`render_sample`, and a
    "Resample" button that draws again with the next seed. In the priming text, a typed
    ``\\n`` stands for a line break (the text box holds one line).

    Args:
        model: a character model, e.g. :class:`course_lib.models.CharRNN`.
        vocab: the :class:`course_lib.data.vocab.CharVocab` it was trained with.
        prime: keyword-only, as are the rest; the priming text shown first; default
            ``"ROMEO:"``.
        length: the length shown first; default 300.
        temperature: the temperature shown first; default 0.8.
        seed: the seed shown first; default 0.

    Returns:
        The widget (see :func:`course_lib.notebook.widgets.text_widget`).
    """
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

    Args:
        text: the passage, L characters.
        width: cells per row; default 64.

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
    path = TextPath((0, 0), chars, prop=_MONO, size=1)
    # Baseline a quarter cell below the row's centre: room for capitals above, descenders below.
    return Affine2D().scale(scale, -scale / CELL_ASPECT).translate(-0.5, row + 0.25).transform_path(path)


def draw_char_activations(ax, text, values, *, title, width=64, vmax=1.0, colorbar=True):
    """``text`` drawn one character per cell, each cell coloured by its value in ``values``.

    The colour map is the course's diverging one, centred on 0 (from ``-vmax`` to
    ``vmax``); a character on a dark cell is written in white. The letters are glyph
    outlines in data coordinates, two paths in all (black and white): hundreds of text
    objects would take several times longer to draw, too long for a widget.

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        text: the passage, L characters.
        values: ``(L,)``, e.g. one hidden unit's activation after reading each character.
        title: keyword-only, as are the rest; the panel's title.
        width: cells per row; default 64.
        vmax: the value drawn in the darkest colour (and ``-vmax``); default 1.0.
        colorbar: draw a colour bar beside the panel; default True.

    Returns:
        dict: ``grid`` ``(rows, width)`` of the values as drawn (NaN in empty cells),
        ``on_dark`` ``(L,)`` bool, True where a character is written in white, and ``image``.

    Raises:
        ValueError: ``values`` is not of shape ``(L,)``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(text),):
        raise ValueError(f"values: expected shape ({len(text)},), one per character, got {values.shape}")
    rows, cells = char_grid(text, width)
    grid = np.full((len(rows), width), np.nan)
    grid[cells[:, 0], cells[:, 1]] = values
    image = ax.imshow(grid, cmap=colormaps[DIVERGING_CMAP], norm=Normalize(-vmax, vmax),
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
            ax.add_artist(PathPatch(Path.make_compound_path(*paths), facecolor=colour, edgecolor="none"))
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
        unit: keyword-only, as are the rest; the unit shown first; default 0.
        state: the label shown first; None (the default): the first label.
        width: cells per row, as in :func:`draw_char_activations`; default 54.
        figsize: the figure's ``(width, height)`` in inches; default ``(9.5, 6.4)``.

    Returns:
        The widget (see :func:`course_lib.notebook.widgets.plot_widget`).
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

"""Draw img/rnn_types.png: the five ways a recurrent network maps inputs to outputs.

    python scripts/figures/rnn_types.py              # writes img/rnn_types.png
    python scripts/figures/rnn_types.py out.png      # writes somewhere else

One panel per pattern: one-to-one, one-to-many, many-to-one, many-to-many (aligned) and
encoder-decoder. Inputs are drawn at the bottom, hidden states in the middle, outputs at
the top; time runs left to right, and each horizontal arrow is the same recurrent weight
matrix applied again. Colours are the course's Okabe-Ito palette (course_lib.notebook.style).

The output is byte-for-byte the same on every run with the same matplotlib: nothing is
random, and the PNG carries no timestamp or software tag.
"""

import matplotlib.pyplot as plt
from _figure import output_path, save  # sets the file-only backend, puts course_lib on sys.path
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from course_lib.notebook.style import OKABE_ITO

INPUT_COLOUR, OUTPUT_COLOUR, HIDDEN_COLOUR = OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2]
BOX = 0.62  # side of a box, in time steps
ROWS = {"x": 0.0, "h": 1.25, "y": 2.5}  # height of each row of boxes

# (title, example, steps, which steps read an input, which steps emit an output)
PANELS = [
    ("one-to-one", "classify one vector\n(no recurrence)", 1, [0], [0]),
    ("one-to-many", "caption an image,\nsample text", 4, [0], [0, 1, 2, 3]),
    ("many-to-one", "classify a sequence\n(MNIST by rows, nb 05)", 4, [0, 1, 2, 3], [3]),
    ("many-to-many, aligned", "next-character model\n(char-rnn, nb 04)", 4, [0, 1, 2, 3], [0, 1, 2, 3]),
    ("encoder–decoder", "translate: read all,\nthen write", 6, [0, 1, 2], [3, 4, 5]),
]


def box(ax, t, row, colour, label):
    """A rounded box centred on time step ``t`` in ``row``, labelled in math text."""
    centre_y = ROWS[row]
    ax.add_patch(FancyBboxPatch((t - BOX / 2, centre_y - BOX / 2), BOX, BOX,
                                boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=colour, edgecolor="black", linewidth=1.0))
    ax.text(t, centre_y, label, ha="center", va="center", fontsize=12, color="white", weight="bold")


def arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 linewidth=1.3, color="black", shrinkA=0, shrinkB=0))


def draw_panel(ax, title, example, steps, inputs, outputs):
    for t in range(steps):
        box(ax, t, "h", HIDDEN_COLOUR, rf"$h_{t + 1}$")
        if t in inputs:
            box(ax, t, "x", INPUT_COLOUR, rf"$x_{t + 1}$")
            arrow(ax, (t, ROWS["x"] + BOX / 2), (t, ROWS["h"] - BOX / 2))
        if t in outputs:
            box(ax, t, "y", OUTPUT_COLOUR, rf"$\hat y_{t + 1}$")
            arrow(ax, (t, ROWS["h"] + BOX / 2), (t, ROWS["y"] - BOX / 2))
        if t > 0:  # the recurrence: h_{t-1} feeds h_t through the same weights
            arrow(ax, (t - 1 + BOX / 2, ROWS["h"]), (t - BOX / 2, ROWS["h"]))
    if title == "encoder–decoder":
        split = (max(inputs) + min(outputs)) / 2
        ax.plot([split, split], [-0.7, 3.05], color="grey", linestyle="--", linewidth=1)
        ax.text((min(inputs) + max(inputs)) / 2, -0.42, "encoder", ha="center", va="top", fontsize=10)
        ax.text((min(outputs) + max(outputs)) / 2, -0.42, "decoder", ha="center", va="top", fontsize=10)
    ax.set_title(title, fontsize=13, weight="bold")
    ax.text((steps - 1) / 2, 3.15, example, ha="center", va="bottom", fontsize=10)
    ax.set_xlim(*xlim(steps))
    ax.set_ylim(-0.9, 3.9)
    ax.set_aspect("equal")
    ax.axis("off")


def xlim(steps):
    """The x range of a panel: its time steps, with room for the title of a one-step panel."""
    margin = 0.9 if steps == 1 else 0.6
    return -margin, steps - 1 + margin


def legend(fig):
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="black") for c in
               (INPUT_COLOUR, HIDDEN_COLOUR, OUTPUT_COLOUR)]
    fig.legend(handles, ["input $x_t$", "hidden state $h_t$ (one RNN cell, shared weights)", "output $\\hat y_t$"],
               loc="lower center", ncol=3, frameon=False, fontsize=11)


def main(argv=None):
    out = output_path(__file__, argv)
    # Widths in proportion to the x ranges: a time step is as wide in every panel.
    widths = [xlim(steps)[1] - xlim(steps)[0] for _, _, steps, _, _ in PANELS]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(17, 4.2), gridspec_kw={"width_ratios": widths},
                             layout="constrained")
    for ax, (title, example, steps, inputs, outputs) in zip(axes, PANELS):
        draw_panel(ax, title, example, steps, inputs, outputs)
    legend(fig)
    fig.suptitle("Where recurrent networks fit: five ways to map inputs to outputs", fontsize=15)
    save(fig, out)


if __name__ == "__main__":
    main()

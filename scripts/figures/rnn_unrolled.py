"""Draw img/rnn_unrolled.png: a vanilla RNN rolled up, and unrolled in time with BPTT.

    python scripts/figures/rnn_unrolled.py              # writes img/rnn_unrolled.png
    python scripts/figures/rnn_unrolled.py out.png      # writes somewhere else

Left, the network as it is written: one cell whose state feeds back into itself through
``W_h``. Right, the same network unrolled over four steps: a feed-forward graph with one
copy of the cell per step, every copy using the *same* ``W_x``, ``W_h`` and ``W_y``
(parameter sharing). Dashed arrows run backwards: the gradient of the loss reaches
``h_t`` from the loss at step t and from the step after it, which is backpropagation
through time. Colours are the course's Okabe-Ito palette (course_lib.notebook.style), as in
img/rnn_types.png.

The output is byte-for-byte the same on every run with the same matplotlib: nothing is
random, and the PNG carries no timestamp or software tag.
"""

import matplotlib.pyplot as plt
from _figure import output_path, save  # sets the file-only backend, puts course_lib on sys.path
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from course_lib.notebook.style import OKABE_ITO

INPUT_COLOUR, LOSS_COLOUR, HIDDEN_COLOUR = OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2]
GRADIENT_COLOUR = OKABE_ITO[5]  # vermillion: the backward pass
INITIAL_COLOUR = "#999999"  # h_0 is given, not computed
BOX = 0.62  # side of a box
STEP = 1.7  # distance between two time steps
ROWS = {"x": 0.0, "h": 1.5, "L": 3.0}  # height of each row of boxes
STEPS = 4


def box(ax, x, row, colour, label):
    """A rounded box centred on ``x`` in ``row``, labelled in math text."""
    y = ROWS[row]
    ax.add_patch(FancyBboxPatch((x - BOX / 2, y - BOX / 2), BOX, BOX,
                                boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=colour, edgecolor="black", linewidth=1.0))
    ax.text(x, y, label, ha="center", va="center", fontsize=13, color="white", weight="bold")


def arrow(ax, start, end, *, colour="black", dashed=False, rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=13,
                                 linewidth=1.4, color=colour, linestyle="--" if dashed else "-",
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))


def weight(ax, x, y, name, **kwargs):
    ax.text(x, y, name, fontsize=12, color="black", **kwargs)


def draw_rolled(ax):
    x = 0.0
    box(ax, x, "x", INPUT_COLOUR, r"$x_t$")
    box(ax, x, "h", HIDDEN_COLOUR, r"$h_t$")
    box(ax, x, "L", LOSS_COLOUR, r"$L_t$")
    arrow(ax, (x, ROWS["x"] + BOX / 2), (x, ROWS["h"] - BOX / 2))
    weight(ax, x + 0.08, (ROWS["x"] + ROWS["h"]) / 2, r"$W_x$", va="center")
    arrow(ax, (x, ROWS["h"] + BOX / 2), (x, ROWS["L"] - BOX / 2))
    weight(ax, x + 0.08, (ROWS["h"] + ROWS["L"]) / 2, r"$W_y$", va="center")
    # The recurrence: out of the right side of the cell, around, and back into it.
    arrow(ax, (x + BOX / 2, ROWS["h"] + 0.2), (x + BOX / 2, ROWS["h"] - 0.2), rad=-2.4)
    weight(ax, x + BOX / 2 + 0.62, ROWS["h"], r"$W_h$", ha="left", va="center")
    ax.set_title("as written:\none cell and a loop", fontsize=12)
    ax.set_xlim(-0.9, 1.5)


def draw_unrolled(ax):
    ys = {row: y for row, y in ROWS.items()}
    box(ax, 0.0, "h", INITIAL_COLOUR, r"$h_0$")
    for t in range(1, STEPS + 1):
        x = t * STEP
        box(ax, x, "x", INPUT_COLOUR, rf"$x_{t}$")
        box(ax, x, "h", HIDDEN_COLOUR, rf"$h_{t}$")
        box(ax, x, "L", LOSS_COLOUR, rf"$L_{t}$")
        # Forward: solid arrows, each labelled with the (shared) weight it applies.
        arrow(ax, (x - 0.12, ys["x"] + BOX / 2), (x - 0.12, ys["h"] - BOX / 2))
        weight(ax, x - 0.2, (ys["x"] + ys["h"]) / 2, r"$W_x$", ha="right", va="center")
        arrow(ax, (x - 0.12, ys["h"] + BOX / 2), (x - 0.12, ys["L"] - BOX / 2))
        weight(ax, x - 0.2, (ys["h"] + ys["L"]) / 2, r"$W_y$", ha="right", va="center")
        arrow(ax, (x - STEP + BOX / 2, ys["h"] + 0.13), (x - BOX / 2, ys["h"] + 0.13))
        weight(ax, x - STEP / 2, ys["h"] + 0.2, r"$W_h$", ha="center", va="bottom")
        # Backward: dashed, from the loss of this step and from the next step.
        arrow(ax, (x + 0.12, ys["L"] - BOX / 2), (x + 0.12, ys["h"] + BOX / 2),
              colour=GRADIENT_COLOUR, dashed=True)
        arrow(ax, (x - BOX / 2, ys["h"] - 0.13), (x - STEP + BOX / 2, ys["h"] - 0.13),
              colour=GRADIENT_COLOUR, dashed=True)
    ax.text(STEP / 2 + STEPS * STEP / 2, ys["L"] + 0.5, r"$L = L_1 + L_2 + L_3 + L_4$",
            ha="center", va="bottom", fontsize=13)
    ax.set_title("unrolled: one copy of the cell per time step, every copy with the same weights",
                 fontsize=12)
    ax.set_xlim(-0.7, STEPS * STEP + 0.7)


def main(argv=None):
    out = output_path(__file__, argv)
    left, right = 2.4, STEPS * STEP + 1.4  # the x ranges: a unit is as wide in both panels
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.4), gridspec_kw={"width_ratios": [left, right]},
                             layout="constrained")
    draw_rolled(axes[0])
    draw_unrolled(axes[1])
    for ax in axes:
        ax.set_ylim(-1.5, 3.9)
        ax.set_aspect("equal")
        ax.axis("off")
    handles = [
        plt.Rectangle((0, 0), 1, 1, facecolor=INPUT_COLOUR, edgecolor="black"),
        plt.Rectangle((0, 0), 1, 1, facecolor=HIDDEN_COLOUR, edgecolor="black"),
        plt.Rectangle((0, 0), 1, 1, facecolor=LOSS_COLOUR, edgecolor="black"),
        plt.Line2D([], [], color="black", linewidth=1.4),
        plt.Line2D([], [], color=GRADIENT_COLOUR, linewidth=1.4, linestyle="--"),
    ]
    labels = ["input $x_t$", r"hidden state $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$", "loss $L_t$ of step t",
              "forward pass", r"backward pass (BPTT): $\partial L / \partial h_t$"]
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, fontsize=11)
    fig.suptitle("A vanilla RNN, rolled up and unrolled in time", fontsize=15)
    save(fig, out)


if __name__ == "__main__":
    main()

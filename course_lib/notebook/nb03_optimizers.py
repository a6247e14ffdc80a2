"""Notebook 03's experiments and widgets: optimizers walking on 2-D loss surfaces.

Used by ``notebooks/03_optimizers``. The surfaces and the walks themselves are math, in
:mod:`course_lib.surfaces`; here they are drawn, one look per optimizer.
"""

from ..surfaces import OPTIMIZERS, SURFACES, run_trajectory
from .style import OKABE_ITO
from .widgets import dropdown, int_slider, log_slider, plot_widget

# One look per optimizer in every plot: a colour each, and within each family (SGD,
# momentum, Nesterov | Adagrad, RMSprop, Adam) a line style each, so paths that overlap
# stay visible.
OPTIMIZER_STYLES = {name: {"color": color, "linestyle": ("-", "--", ":")[i % 3]}
                    for i, (name, color) in enumerate(zip(OPTIMIZERS, OKABE_ITO))}


def draw_surface(ax, surface):
    """Contour lines of a surface, its start (circle) and its minimum (star).

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        surface: a key of :data:`course_lib.surfaces.SURFACES`, e.g. ``"rosenbrock"``.
    """
    s = SURFACES[surface]
    ax.contour(*s.grid, levels=s.levels, colors="grey", linewidths=0.6, alpha=0.7)
    ax.plot(*s.start, "o", color="black", markersize=5)
    ax.plot(*s.minimum, "*", color="black", markersize=11)
    ax.set(xlim=s.xlim, ylim=s.ylim, xlabel="x", ylabel="y")


def draw_trajectories(ax, surface, lrs, steps):
    """Several optimizers on one surface, each at its own learning rate.

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        surface: a key of :data:`course_lib.surfaces.SURFACES`.
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
    """One line on how a walk ended: the gap ``f - f_min`` at its last point, or when it diverged.

    Args:
        surface: the key of the surface walked on.
        points: the walk, ``(k + 1, 2)``, from :func:`course_lib.surfaces.run_trajectory`.
        steps: the steps asked for (fewer points mean the walk diverged).

    Returns:
        str: e.g. ``"f − f_min = 3.21e-04"`` or ``"diverged at step 17"``.
    """
    if len(points) <= steps:
        return f"diverged at step {len(points)}"
    s = SURFACES[surface]
    return f"f − f_min = {s.f(*points[-1]) - s.f_min:.2e}"


def draw_trajectory(ax, surface="quadratic", optimizer="SGD", lr=0.05, steps=100):
    """The widget's picture: one optimizer's walk on one surface, titled with how it ended.

    Args:
        ax: the matplotlib ``Axes`` to draw on.
        surface: a key of :data:`course_lib.surfaces.SURFACES`; default ``"quadratic"``.
        optimizer: a key of :data:`course_lib.surfaces.OPTIMIZERS`; default ``"SGD"``.
        lr: the learning rate; default 0.05.
        steps: the number of steps; default 100.

    Returns:
        dict: ``{"points": ..., "summary": ...}`` (:func:`run_trajectory`,
        :func:`trajectory_summary`).
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

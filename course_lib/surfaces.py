"""Loss surfaces of two parameters, and an optimizer's walk on one (``notebooks/03_optimizers``).

Three surfaces, each a known trap: a narrow quadratic valley (condition number 20), the
Rosenbrock function (a curved, flat-bottomed valley) and a saddle point. Each comes with
its gradient written by hand. :func:`run_trajectory` walks any optimizer of
:mod:`course_lib.optim` down one of them; the notebook draws the walks
(:mod:`course_lib.notebook.nb03_optimizers`) and an exercise checks one
(:mod:`course_lib.exercises.optimizers`).
"""

import numpy as np

from . import optim


class Surface:
    """A loss surface of two parameters, on which notebook 03 lets optimizers walk.

    Args:
        name: its key in :data:`SURFACES`.
        formula: f as plain text, for titles.
        f: ``f(x, y)``, elementwise on floats or on arrays of one shape.
        grad: ``grad(x, y) -> (df/dx, df/dy)``, written by hand.
        start: keyword-only, as are the rest; ``(x, y)``, where every trajectory starts.
        minimum: ``(x, y)`` of the lowest point (a star on the plots).
        f_min: the lowest value of f.
        xlim: ``(low, high)``, the x-range of the box the plots show.
        ylim: ``(low, high)``, the y-range of that box.
        levels: the values of f drawn as contour lines.

    Each argument is kept as an attribute of the same name (``f`` and ``grad`` as methods),
    and ``grid``, ``(X, Y, f(X, Y))`` on 200 x 200 points of the box, is the contour plot's data.
    """

    def __init__(self, name, formula, f, grad, *, start, minimum, f_min, xlim, ylim, levels):
        self.name, self.formula = name, formula
        self._f, self._grad = f, grad
        self.start, self.minimum, self.f_min = start, minimum, f_min
        self.xlim, self.ylim, self.levels = xlim, ylim, levels
        grid_x, grid_y = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
        self.grid = (grid_x, grid_y, f(grid_x, grid_y))  # the contour plot's data, computed once

    def f(self, x, y):
        """The value f(x, y); x and y floats or arrays of one shape (elementwise).

        Args:
            x: a float or an array.
            y: a float or an array of ``x``'s shape.

        Returns:
            f(x, y), a float or an array of that shape.
        """
        return self._f(x, y)

    def grad(self, p):
        """The gradient ``(2,)`` at the point ``p`` ``(2,)``: a new float64 array.

        Args:
            p: ``(2,)``, the point ``(x, y)``.

        Returns:
            float64 array ``(2,)``: ``(df/dx, df/dy)`` at ``p``.
        """
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
    "SGD": lambda params, lr: optim.SGD(params, lr),
    "Momentum": lambda params, lr: optim.SGD(params, lr, momentum=0.9),
    "Nesterov": lambda params, lr: optim.SGD(params, lr, momentum=0.9, nesterov=True),
    "Adagrad": lambda params, lr: optim.Adagrad(params, lr),
    "RMSprop": lambda params, lr: optim.RMSprop(params, lr),
    "Adam": lambda params, lr: optim.Adam(params, lr),
}
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



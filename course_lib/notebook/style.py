"""How every figure of the course looks: a colour-blind-safe palette and a lecture mode.

Each notebook calls :func:`use_course_style` once, in its imports cell::

    from course_lib.notebook.style import use_course_style
    use_course_style()

- Colours come from the Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2008),
  whose eight colours stay distinct under the common forms of colour blindness. Images
  and heat maps use ``cividis``, a colour map designed for the same purpose.
- **Lecture mode** makes fonts and lines large enough to read on a projector. Turn it
  on for a whole session with the environment variable ``COURSE_LECTURE=1`` before
  starting Jupyter, or for one notebook with ``use_course_style(lecture=True)``.

Every figure still needs its own title and axis labels: ``ax.set(title=..., xlabel=...,
ylabel=...)``.
"""

import os

import matplotlib as mpl
from cycler import cycler

LECTURE_ENV_VAR = "COURSE_LECTURE"

# Okabe–Ito, black first left out (it is the text colour) and moved to the end.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
SEQUENTIAL_CMAP = "cividis"
DIVERGING_CMAP = "PuOr"  # purple-orange: safe for red-green colour blindness, unlike RdBu's neighbours

_BASE = {
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "image.cmap": SEQUENTIAL_CMAP,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "legend.frameon": False,
}
_LECTURE = {
    "font.size": 16,
    "axes.titlesize": 18,
    "axes.labelsize": 16,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 14,
    "lines.linewidth": 3.0,
    "lines.markersize": 9,
    "axes.linewidth": 1.5,
    "figure.figsize": (9, 5.5),
}


def lecture_mode():
    """True when ``COURSE_LECTURE`` is set to ``1`` (or ``true``/``yes``/``on``).

    Unset, empty, ``0``, ``false``, ``no`` or ``off`` (in any case) mean False.

    Raises:
        ValueError: ``COURSE_LECTURE`` holds anything else.
    """
    value = os.environ.get(LECTURE_ENV_VAR, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{LECTURE_ENV_VAR}={value!r}: expected 1 or 0 (or true/false)")


def style(lecture=None):
    """The matplotlib settings of the course, as a dict for ``mpl.rcParams.update``.

    Args:
        lecture: True for lecture mode (large fonts and lines), False for the normal look;
            None (the default) follows ``COURSE_LECTURE``.

    Returns:
        dict: rcParams name -> value.

    Raises:
        ValueError: ``lecture`` is None and ``COURSE_LECTURE`` holds an unknown value.
    """
    if lecture is None:
        lecture = lecture_mode()
    settings = dict(_BASE)
    if lecture:
        settings.update(_LECTURE)
    return settings


def use_course_style(lecture=None):
    """Apply the course's look to every figure drawn from now on in this kernel.

    Args:
        lecture: as in :func:`style`; default None.

    Raises:
        ValueError: ``lecture`` is None and ``COURSE_LECTURE`` holds an unknown value.
    """
    mpl.rcParams.update(style(lecture))

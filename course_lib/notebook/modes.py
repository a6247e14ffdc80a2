"""The course's run mode: one switch between a full run and a quick CI run.

Set the environment variable ``COURSE_MODE`` before starting Jupyter (or pytest):

- ``full`` (the default): what a learner runs; full-size datasets, real training runs.
- ``ci``: what the test suite runs; the same code on less data and fewer steps, so
  every notebook executes in seconds.

A notebook picks its sizes with :func:`by_mode`, never with an ``if`` on the mode, so
the difference between the two runs is visible on one line::

    from course_lib.notebook.modes import by_mode

    num_steps = by_mode(full=5000, ci=50)

The environment is read at every call (not once at import), so a test or a notebook
that changes ``COURSE_MODE`` sees the change at once.
"""

import os

ENV_VAR = "COURSE_MODE"
MODES = ("full", "ci")
DEFAULT_MODE = "full"


def course_mode():
    """The current mode, ``"full"`` or ``"ci"``, read from ``COURSE_MODE``.

    An unset or empty variable means ``"full"``.

    Raises:
        ValueError: ``COURSE_MODE`` holds anything else; a typo must not quietly
            run the long version (or the short one).
    """
    mode = os.environ.get(ENV_VAR) or DEFAULT_MODE
    if mode not in MODES:
        allowed = ", ".join(repr(m) for m in MODES)
        raise ValueError(f"{ENV_VAR}={mode!r} is not a known mode; allowed values: {allowed}")
    return mode


def by_mode(*, full, ci):
    """Return ``full`` or ``ci``, whichever belongs to the current mode.

    Both values are keyword-only, so a call always says which is which::

        batch_size = by_mode(full=128, ci=16)

    Args:
        full: the value for a full run.
        ci: the value for a CI run.

    Returns:
        ``full`` or ``ci``, as given (any type).

    Raises:
        ValueError: ``COURSE_MODE`` holds an unknown mode (see :func:`course_mode`).
    """
    return {"full": full, "ci": ci}[course_mode()]

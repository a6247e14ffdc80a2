"""Learning-rate schedules: functions ``step -> lr``.

Plotted in ``notebooks/03_optimizers``. A schedule is nothing but a function of the
step number: step 0 is the first update. :func:`course_lib.training.fit` calls it
before every step and sets ``optimizer.lr`` to the result, so resuming a run at step
``k`` gives exactly the learning rate it would have had (nothing to save)::

    schedule = warmup(cosine(3e-3, total_steps=5000, min_lr=3e-4), warmup_steps=200)
    lrs = [schedule(step) for step in range(5000)]    # plt.plot(lrs)

Each factory checks its arguments and returns a plain function; write your own the
same way (``lambda step: 1e-3 / (1 + step / 1000)`` is a schedule too).
"""

import math
import numbers

from ._checks import check_count


def _check_lr(name, value):
    if not isinstance(value, numbers.Real) or not value >= 0 or math.isinf(value):
        raise ValueError(f"{name}: expected a finite learning rate >= 0, got {value!r}")
    return float(value)


def constant(lr):
    """``lr`` at every step.

    Args:
        lr: the learning rate, a finite number >= 0.

    Returns:
        The schedule, a function ``step -> lr``.

    Raises:
        ValueError: ``lr`` is not a finite number >= 0.
    """
    lr = _check_lr("lr", lr)

    def schedule(step):
        return lr

    return schedule


def step_decay(lr, every, factor):
    """``lr`` multiplied by ``factor`` every ``every`` steps: ``lr * factor ** (step // every)``.

    As ``torch.optim.lr_scheduler.StepLR(step_size=every, gamma=factor)``, e.g.
    ``step_decay(1e-2, every=1000, factor=0.5)`` halves the rate every 1000 steps.

    Args:
        lr: the learning rate at step 0, a finite number >= 0.
        every: the number of steps between two decays, an integer >= 1.
        factor: what each decay multiplies the rate by, in ``(0, 1]``.

    Returns:
        The schedule, a function ``step -> lr``.

    Raises:
        ValueError: ``lr`` is not a finite number >= 0, ``every`` not an integer >= 1, or
            ``factor`` not in ``(0, 1]``.
    """
    lr = _check_lr("lr", lr)
    every = check_count("every", every)
    if not isinstance(factor, numbers.Real) or not 0 < factor <= 1:
        raise ValueError(f"factor: expected a number in (0, 1], got {factor!r}")

    def schedule(step):
        return lr * factor ** (step // every)

    return schedule


def cosine(lr, total_steps, min_lr=0.0):
    """Half a cosine from ``lr`` at step 0 down to ``min_lr`` at ``total_steps``, then flat.

        lr_t = min_lr + (lr - min_lr) * (1 + cos(pi * t / total_steps)) / 2

    As ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)``
    for ``t <= total_steps``; after that it stays at ``min_lr`` (torch's climbs back up).

    Args:
        lr: the learning rate at step 0, a finite number >= 0.
        total_steps: the step at which ``min_lr`` is reached, an integer >= 1.
        min_lr: the final learning rate, in ``[0, lr]``; default 0.0.

    Returns:
        The schedule, a function ``step -> lr``.

    Raises:
        ValueError: ``lr`` or ``min_lr`` is not a finite number >= 0, ``min_lr > lr``, or
            ``total_steps`` is not an integer >= 1.
    """
    lr = _check_lr("lr", lr)
    total_steps = check_count("total_steps", total_steps)
    min_lr = _check_lr("min_lr", min_lr)
    if min_lr > lr:
        raise ValueError(f"min_lr: expected at most lr={lr}, got {min_lr}")

    def schedule(step):
        t = min(step, total_steps)
        return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2

    return schedule


def warmup(schedule, warmup_steps):
    """``schedule``, with its first ``warmup_steps`` steps ramped up linearly.

        lr_t = schedule(t) * (t + 1) / warmup_steps     for t < warmup_steps
        lr_t = schedule(t)                              afterwards

    The ramp multiplies the schedule rather than delaying it, so ``schedule`` keeps its
    own step axis: ``warmup(cosine(lr, total_steps=n), 100)`` still reaches ``min_lr``
    at step ``n``. The first step already uses ``lr / warmup_steps``, not 0 (a step
    with lr 0 would be wasted).

    Args:
        schedule: a function ``step -> lr``, e.g. from :func:`cosine`.
        warmup_steps: the length of the ramp, an integer >= 1.

    Returns:
        The warmed-up schedule, a function ``step -> lr``.

    Raises:
        ValueError: ``schedule`` is not callable, or ``warmup_steps`` not an integer >= 1.
    """
    if not callable(schedule):
        raise ValueError(f"schedule: expected a function step -> lr, got {type(schedule).__name__}")
    warmup_steps = check_count("warmup_steps", warmup_steps)

    def warmed_up(step):
        factor = min(1.0, (step + 1) / warmup_steps)
        return schedule(step) * factor

    return warmed_up

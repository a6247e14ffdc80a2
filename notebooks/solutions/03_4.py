import matplotlib.pyplot as plt

from course_lib import schedules
from course_lib.exercises import optimizers as ex


def linear_decay(lr, total_steps):
    """A schedule step -> lr: lr at step 0, falling linearly to 0 at total_steps, then 0."""
    def schedule(step):
        return lr * max(0.0, 1 - step / total_steps)  # max: never negative after total_steps

    return schedule


# Warm-up, then linear decay: the ramp multiplies the decay (see schedules.warmup).
bert_like = schedules.warmup(linear_decay(1e-3, total_steps=1000), warmup_steps=100)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot([bert_like(step) for step in range(1200)])
ax.set(title="Warm-up for 100 steps, then linear decay to 0 at step 1000", xlabel="step", ylabel="learning rate")
plt.show()

ex.check_linear_decay(linear_decay)

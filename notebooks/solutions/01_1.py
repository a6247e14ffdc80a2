import numpy as np

from course_lib.exercises import activations as ex


def stable_tanh(z):
    """tanh(z), elementwise, for a float array of any shape; exp only sees numbers <= 0."""
    e = np.exp(-2 * np.abs(z))  # in (0, 1]: cannot overflow, underflows only where tanh is ±1
    return np.sign(z) * (1 - e) / (1 + e)


ex.check_stable_tanh(stable_tanh)

import numpy as np

from course_lib.exercises import optimizers as ex


def max_stable_lr(A):
    """The largest learning rate at which SGD on f = θᵀAθ / 2 still converges (a float)."""
    # In the eigenbasis of A, SGD multiplies each component by (1 - lr λ): all of them
    # shrink only if |1 - lr λ| < 1, i.e. lr < 2 / λ for every eigenvalue λ.
    return 2 / np.linalg.eigvalsh(A).max()


ex.check_max_stable_lr(max_stable_lr)

import numpy as np

from course_lib.exercises import activations as ex


def log_sigmoid(z):
    """log(sigmoid(z)), elementwise, finite and accurate for any float array."""
    # log sigmoid(z) = -log(1 + e^(-z)), and log(1 + e^u) = max(u, 0) + log(1 + e^(-|u|)) with u = -z:
    # the large part is taken out exactly, exp only sees -|z| <= 0, and log1p keeps tiny terms.
    return -(np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z))))


ex.check_log_sigmoid(log_sigmoid)

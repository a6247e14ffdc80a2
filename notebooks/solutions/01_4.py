import numpy as np

from course_lib.exercises import activations as ex


def is_softmax(f):
    """True if f behaves like a numerically sound softmax over the last axis, else False."""
    rng = np.random.default_rng(0)
    ordinary = rng.standard_normal((4, 5)) * 3  # several different rows, logits of both signs
    extreme = np.array([[1000.0, 0.0, -1000.0], [1e4, 1e4, -1e4]])  # exact answers known
    with np.errstate(all="ignore"):  # broken candidates may overflow; the tests below judge them
        p = np.asarray(f(ordinary))
        p_extreme = np.asarray(f(extreme))
    return bool(
        p.shape == ordinary.shape
        and np.all(np.isfinite(p))
        and np.all((p >= 0) & (p <= 1))  # probabilities
        and np.allclose(p.sum(axis=-1), 1)  # each row sums to 1 (the sigmoid bug fails here)
        and np.allclose(np.argsort(p, axis=-1), np.argsort(ordinary, axis=-1))  # order kept
        and np.all(np.isfinite(p_extreme))  # no nan from exp overflow
        and np.allclose(p_extreme, [[1, 0, 0], [0.5, 0.5, 0]])
    )


ex.check_is_softmax(is_softmax)

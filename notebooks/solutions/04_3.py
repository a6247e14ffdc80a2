import numpy as np

from course_lib.exercises import char_rnn as ex


def last_states(h, lengths):
    """(N, H): row n of h at step lengths[n] - 1."""
    rows = np.arange(len(lengths))
    return h[rows, np.asarray(lengths) - 1]  # one (row, step) pair per sequence


ex.check_last_states(last_states)

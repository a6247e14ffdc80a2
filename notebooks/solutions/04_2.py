import numpy as np

from course_lib.exercises import char_rnn as ex


def next_char_probabilities(logits, temperature, top_k=None):
    """Probabilities (V,) to draw the next character from, given scores logits (V,)."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:  # greedy: all the probability on the most likely character
        p = np.zeros_like(logits)
        p[np.argmax(logits)] = 1.0
        return p
    z = logits - logits.max()  # every exponent <= 0: no overflow, and the largest term is 1
    if top_k is not None and top_k < z.size:
        z[np.argsort(z)[:-top_k]] = -np.inf  # all but the k largest: exp(-inf) = 0
    e = np.exp(z / temperature)
    return e / e.sum()


ex.check_next_char_probabilities(next_char_probabilities)

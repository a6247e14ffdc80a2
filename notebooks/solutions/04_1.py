import numpy as np

from course_lib.exercises import char_rnn as ex


def bits_and_perplexity(nats):
    """(bits per character, perplexity) of a mean loss in nats (a float or an array)."""
    bits = nats / np.log(2)  # a bit is ln 2 nats
    return bits, np.exp(nats)  # perplexity: e ** nats, which is also 2 ** bits


ex.check_bits_and_perplexity(bits_and_perplexity)

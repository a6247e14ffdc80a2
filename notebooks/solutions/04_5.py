import numpy as np

from course_lib.exercises import char_rnn as ex


def greedy_text(model, vocab, prime, length):
    """prime + `length` characters, each the most likely one given everything before it."""
    logits, _, state = model.forward(vocab.encode(prime)[None, :])  # read the whole prime at once
    new_ids = []
    for _ in range(length):
        next_id = int(np.argmax(logits[0, -1]))  # the most likely next character
        new_ids.append(next_id)
        # Feed it in from the state after everything read so far.
        logits, _, state = model.forward(np.array([[next_id]]), state)
    return prime + vocab.decode(np.array(new_ids, dtype=np.int64))


ex.check_greedy_text(greedy_text)

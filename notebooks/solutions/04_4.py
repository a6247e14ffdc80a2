from course_lib.exercises import char_rnn as ex


def chunk_starts(n_chars, seq_length, num_steps):
    """The data pointer p at each of num_steps steps of min-char-rnn (a list of ints)."""
    starts, p = [], 0
    for n in range(num_steps):
        # min-char-rnn's test: start over when the chunk and its targets would not fit
        # (it also starts over when they would end exactly at the last character).
        if p + seq_length + 1 >= n_chars or n == 0:
            p = 0
        starts.append(p)
        p += seq_length
    return starts


ex.check_chunk_starts(chunk_starts)

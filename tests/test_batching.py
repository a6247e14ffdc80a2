"""course_lib.data.batching: contiguous streams for truncated BPTT, seeded minibatches,
train/validation splits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.data.batching import minibatches, num_stream_batches, stream_batches, train_val_split

# ----------------------------------------------------------------------------------
# stream_batches
# ----------------------------------------------------------------------------------


def test_stream_layout_by_hand():
    # 2 streams of S = 10 // 2 = 5 ids: [0..4] and [5..9]; 4 steps each, T = 2.
    chunks = list(stream_batches(np.arange(10), batch_size=2, seq_len=2))
    assert len(chunks) == 2 == num_stream_batches(10, 2, 2)
    (x0, y0), (x1, y1) = chunks
    assert x0.tolist() == [[0, 1], [5, 6]] and y0.tolist() == [[1, 2], [6, 7]]
    assert x1.tolist() == [[2, 3], [7, 8]] and y1.tolist() == [[3, 4], [8, 9]]


@given(
    n_ids=st.integers(20, 400),
    batch_size=st.integers(1, 6),
    seq_len=st.integers(1, 9),
    offset=st.integers(0, 5),
    drop_last=st.booleans(),
)
def test_streams_are_contiguous_across_chunks(n_ids, batch_size, seq_len, offset, drop_last):
    ids = np.arange(n_ids) * 3 + 1  # distinct values, not equal to their positions
    if (n_ids - offset) // batch_size - 1 < (seq_len if drop_last else 1):
        with pytest.raises(ValueError, match="too few"):
            list(stream_batches(ids, batch_size, seq_len, offset=offset, drop_last=drop_last))
        return
    chunks = list(stream_batches(ids, batch_size, seq_len, offset=offset, drop_last=drop_last))
    assert len(chunks) == num_stream_batches(n_ids, batch_size, seq_len, offset=offset, drop_last=drop_last)
    stream_len = (n_ids - offset) // batch_size
    for k, (x, y) in enumerate(chunks):
        assert x.shape == y.shape and x.shape[0] == batch_size and x.dtype == ids.dtype
        assert x.shape[1] == seq_len or (k == len(chunks) - 1 and not drop_last and x.shape[1] < seq_len)
        # y is x one step ahead along every stream
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
        if k > 0:
            x_prev, y_prev = chunks[k - 1]
            # chunk k of stream n continues chunk k-1 of stream n: the id after the
            # last input of chunk k-1 is the first input of chunk k.
            np.testing.assert_array_equal(x_prev[:, -1] + 3, x[:, 0])
            np.testing.assert_array_equal(y_prev[:, -1], x[:, 0])
    # Each row is the corresponding slice of ids, read along the chunks.
    rows = np.concatenate([x for x, _ in chunks], axis=1)
    for n in range(batch_size):
        start = offset + n * stream_len
        np.testing.assert_array_equal(rows[n], ids[start : start + rows.shape[1]])
    if not drop_last:  # every step of every stream is used
        assert rows.shape[1] == stream_len - 1


def test_chunks_are_copies():
    ids = np.arange(50)
    for x, y in stream_batches(ids, 2, 5):
        x[:] = -1
        y[:] = -1
    np.testing.assert_array_equal(ids, np.arange(50))


def test_carrying_state_equals_running_each_stream_in_one_go():
    # What "carry the hidden state" buys: a running sum (a toy recurrent state)
    # computed chunk by chunk, carried across chunks, equals the one computed over
    # each whole stream; a reset at the start of the call starts it from zero.
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10, size=103)
    N, T = 3, 4
    h = np.zeros(N, dtype=np.int64)  # reset: a new pass over the streams
    for x, _ in stream_batches(ids, N, T):
        h = h + x.sum(axis=1)
    S = len(ids) // N
    steps = (S - 1) // T * T
    expected = ids[: N * S].reshape(N, S)[:, :steps].sum(axis=1)
    np.testing.assert_array_equal(h, expected)


def test_stream_errors():
    with pytest.raises(ValueError, match=r"too few .* need at least 12"):
        list(stream_batches(np.arange(11), 2, 5))
    with pytest.raises(ValueError, match="1-D"):
        list(stream_batches(np.zeros((2, 10), dtype=int), 2, 2))
    with pytest.raises(ValueError, match="integer ids"):
        list(stream_batches(np.zeros(10), 2, 2))
    with pytest.raises(ValueError, match="batch_size"):
        list(stream_batches(np.arange(10), 0, 2))
    with pytest.raises(ValueError, match="seq_len"):
        list(stream_batches(np.arange(10), 2, 1.5))
    with pytest.raises(ValueError, match="offset"):
        list(stream_batches(np.arange(10), 2, 2, offset=10))


# ----------------------------------------------------------------------------------
# minibatches
# ----------------------------------------------------------------------------------


def test_minibatches_cover_every_row_once_with_matching_labels():
    X = np.arange(23 * 2).reshape(23, 2)
    y = np.arange(23)
    batches = list(minibatches(X, y, 5, rng=0))
    assert [len(b) for b, _ in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], 2 * yb)  # rows stay paired


def test_minibatches_are_reproducible_from_the_seed():
    X, y = np.arange(100), np.arange(100)
    order = lambda it: np.concatenate([yb for _, yb in it]).tolist()  # noqa: E731
    assert order(minibatches(X, y, 8, rng=7)) == order(minibatches(X, y, 8, rng=7))
    assert order(minibatches(X, y, 8, rng=7)) != order(minibatches(X, y, 8, rng=8))
    # One Generator across epochs: a new order each epoch, the same sequence each run.
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(3)
        runs.append([order(minibatches(X, y, 8, rng=rng)) for _epoch in range(2)])
    assert runs[0] == runs[1] and runs[0][0] != runs[0][1]


def test_minibatches_options_and_errors():
    X, y = np.arange(10), np.arange(10)
    assert [yb.tolist() for _, yb in minibatches(X, y, 4, shuffle=False)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(yb) for _, yb in minibatches(X, y, 4, rng=0, drop_last=True)] == [4, 4]
    with pytest.raises(ValueError, match="rng"):
        list(minibatches(X, y, 4))
    with pytest.raises(ValueError, match="same number of rows"):
        list(minibatches(X, y[:9], 4, rng=0))


# ----------------------------------------------------------------------------------
# train_val_split
# ----------------------------------------------------------------------------------


def test_split_sizes_and_pairing():
    X = np.arange(60).reshape(30, 2)
    y = np.arange(30)
    X_train, X_val, y_train, y_val = train_val_split(X, y, val_size=0.2, rng=0)
    assert X_train.shape == (24, 2) and X_val.shape == (6, 2)
    assert y_train.shape == (24,) and y_val.shape == (6,)
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(X_val[:, 0], 2 * y_val)
    assert sorted(np.concatenate([y_train, y_val]).tolist()) == list(range(30))
    again = train_val_split(X, y, val_size=0.2, rng=0)
    np.testing.assert_array_equal(again[3], y_val)
    assert [len(a) for a in train_val_split(X, y, val_size=7, rng=1)] == [23, 7, 23, 7]


def test_split_without_rng_is_contiguous():
    ids = np.arange(100)
    train, val = train_val_split(ids, val_size=0.1)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))


def test_split_errors():
    with pytest.raises(ValueError, match="both parts"):
        train_val_split(np.arange(10), val_size=10)
    with pytest.raises(ValueError, match="both parts"):
        train_val_split(np.arange(10), val_size=0.01)
    with pytest.raises(ValueError, match="fraction"):
        train_val_split(np.arange(10), val_size=1.5)
    with pytest.raises(ValueError, match="same number of rows"):
        train_val_split(np.arange(10), np.arange(9))

"""Cutting data into batches: contiguous streams for language models, shuffled
minibatches for classification, and a train/validation split.

Two ways to batch, for two kinds of data:

- A text is one long sequence; its order *is* the information. :func:`stream_batches`
  keeps it: it cuts the text into N parallel streams and walks along all of them T
  steps at a time, so a recurrent network can carry its hidden state from one chunk
  to the next (truncated backpropagation through time).
- Labelled examples (MNIST digits) are independent; their order in the file is an
  accident. :func:`minibatches` shuffles them, with a seeded generator so a run can be
  repeated exactly.
"""

import numbers

import numpy as np

from .._checks import check_count, check_ndim


def _stream_layout(n_ids, batch_size, seq_len, offset, drop_last):
    """(stream length S, full chunks K, length of a last partial chunk or 0)."""
    stream_len = (n_ids - offset) // batch_size
    steps = stream_len - 1  # the last id of a stream is only ever a target
    if steps < 1 or (drop_last and steps < seq_len):
        need = batch_size * ((seq_len if drop_last else 1) + 1)
        raise ValueError(
            f"ids: {n_ids - offset} ids (after offset {offset}) are too few for "
            f"batch_size={batch_size}, seq_len={seq_len}"
            f"{'' if drop_last else ', drop_last=False'}: need at least {need}"
        )
    full, rest = divmod(steps, seq_len)
    return stream_len, full, (0 if drop_last else rest)


def num_stream_batches(n_ids, batch_size, seq_len, *, offset=0, drop_last=True):
    """How many chunks :func:`stream_batches` yields for ``n_ids`` ids (for a
    progress bar or a learning-rate schedule).

    Args:
        n_ids: the number of ids, ``len(ids)``.
        batch_size: N, the number of parallel streams.
        seq_len: T, the number of time steps per chunk.
        offset: keyword-only; ids skipped first, as in :func:`stream_batches`; default 0.
        drop_last: keyword-only; as in :func:`stream_batches`; default True.

    Returns:
        int: the number of chunks.

    Raises:
        ValueError: ``batch_size`` or ``seq_len`` is not an integer >= 1, or the ids are
            too few for one chunk.
    """
    batch_size = check_count("batch_size", batch_size)
    seq_len = check_count("seq_len", seq_len)
    _, full, rest = _stream_layout(n_ids, batch_size, seq_len, offset, drop_last)
    return full + (1 if rest else 0)


def stream_batches(ids, batch_size, seq_len, *, offset=0, drop_last=True):
    """Yield ``(x, y)`` chunks of N parallel, contiguous streams, for truncated BPTT.

    With N = ``batch_size`` and T = ``seq_len``: the ids from ``offset`` on are cut
    into N equal streams, one per row (the few ids left over at the end are dropped)::

        stream n = ids[offset + n*S : offset + (n+1)*S],   S = (len(ids) - offset) // N

    and chunk k holds steps ``k*T .. k*T + T-1`` of every stream::

        x[n, t] = stream_n[k*T + t]
        y[n, t] = stream_n[k*T + t + 1]        # the next id: what to predict

    Row n of chunk k+1 starts exactly where row n of chunk k stopped, so the hidden
    state at the last step of chunk k is the right initial state for chunk k+1: carry
    it over (and cut the gradient there). One call walks the streams once, start to
    end, i.e. it is one epoch; the first chunk of a call starts the streams afresh,
    so that is where to reset the hidden state::

        for epoch in range(num_epochs):
            h = np.zeros((N, H))                  # new epoch: streams restart, reset h
            for x, y in stream_batches(ids, N, T):
                loss, h = train_step(x, y, h)     # h carries over to the next chunk

    The caller may reset more often (e.g. every few chunks); the chunks don't care.

    Args:
        ids: integer array ``(L,)``, e.g. ``vocab.encode(text)``.
        batch_size: N, the number of parallel streams (rows).
        seq_len: T, the number of time steps per chunk (the truncation length).
        offset: keyword-only; skip this many ids first (default 0); a different offset
            each epoch (e.g. ``rng.integers(T)``) moves the chunk boundaries, so the model
            does not always see the text cut at the same places.
        drop_last: keyword-only; if False, also yield a final shorter chunk ``(N, T')``,
            T' < T. Default True.

    Yields:
        x: ``(N, T)`` ids, same dtype as ``ids``; a fresh array (writing to it does
            not touch ``ids``).
        y: ``(N, T)`` ids, ``x`` shifted one step ahead along each stream.

    Raises:
        ValueError: ``ids`` is not a 1-D integer array; ``batch_size`` or ``seq_len`` is
            not an integer >= 1; ``offset`` is not an integer in ``[0, len(ids))``; or the
            ids are too short for one chunk.
    """
    ids = np.asarray(ids)
    check_ndim("ids", ids, 1, "(L,)")
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids: expected integer ids, got dtype {ids.dtype}")
    batch_size = check_count("batch_size", batch_size)
    seq_len = check_count("seq_len", seq_len)
    if not isinstance(offset, numbers.Integral) or not 0 <= offset < len(ids):
        raise ValueError(f"offset: expected an integer in [0, {len(ids)}), got {offset!r}")
    stream_len, full, rest = _stream_layout(len(ids), batch_size, seq_len, offset, drop_last)
    # A (N, S) view: row n is stream n. Nothing is copied until a chunk is sliced.
    streams = ids[offset : offset + batch_size * stream_len].reshape(batch_size, stream_len)
    starts = [k * seq_len for k in range(full)]
    lengths = [seq_len] * full
    if rest:
        starts.append(full * seq_len)
        lengths.append(rest)
    for start, length in zip(starts, lengths):
        x = streams[:, start : start + length].copy()
        y = streams[:, start + 1 : start + length + 1].copy()
        yield x, y


def minibatches(X, y, batch_size, *, rng=None, shuffle=True, drop_last=False):
    """Yield ``(X_batch, y_batch)`` minibatches, in shuffled order: one epoch.

    Args:
        X: array ``(n, ...)``, e.g. images ``(n, 28, 28)``.
        y: array ``(n, ...)``, e.g. labels ``(n,)``; row i belongs to ``X[i]``.
        batch_size: B, the number of examples per batch.
        rng: keyword-only; a ``np.random.Generator`` or an integer seed; required when
            ``shuffle``. A Generator passed to every epoch gives a new order each
            epoch, reproducible from its seed; an integer gives the same order each
            time. Default None.
        shuffle: keyword-only; False keeps the order (for evaluation). Default True.
        drop_last: keyword-only; drop a last batch smaller than B. Default False.

    Yields:
        X_batch ``(B, ...)`` and y_batch ``(B, ...)``, copies; the last batch may have
        fewer rows unless ``drop_last``.

    Raises:
        ValueError: ``X`` and ``y`` differ in their number of rows (or one is 0-D);
            ``batch_size`` is not an integer >= 1; ``shuffle`` without ``rng``.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"X and y: expected the same number of rows, got shapes {X.shape} and {y.shape}"
        )
    batch_size = check_count("batch_size", batch_size)
    n = len(X)
    if shuffle:
        if rng is None:
            raise ValueError(
                "rng: shuffling needs a seed or a np.random.Generator, e.g. "
                "rng=np.random.default_rng(0), so the run can be repeated"
            )
        order = np.random.default_rng(rng).permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


def train_val_split(*arrays, val_size=0.1, rng=None):
    """Split arrays along their first axis into a training and a validation part.

    Without ``rng`` the split is contiguous: the last ``val_size`` of the rows are
    the validation part. That is the right split for a text or a time series, where
    neighbouring rows are related and a shuffled split would let the validation set
    leak into training. With ``rng`` (a Generator or a seed) the rows are shuffled
    first, the usual split for independent examples such as MNIST digits.

    Args:
        *arrays: arrays with the same number of rows n.
        val_size: keyword-only; a fraction in (0, 1) of the rows, or a number of rows in
            [1, n-1]. Default 0.1.
        rng: keyword-only; None (the default) for a contiguous split; a seed or
            np.random.Generator to shuffle.

    Returns:
        ``train_0, val_0, train_1, val_1, ...`` (scikit-learn's order), e.g.
        ``X_train, X_val, y_train, y_val = train_val_split(X, y, val_size=5000, rng=0)``.
        Each part is a new array.

    Raises:
        ValueError: no array is given; the arrays differ in their number of rows (or one
            is 0-D); ``val_size`` is neither a fraction in (0, 1) nor a row count; or it
            leaves either part without a row.
    """
    if not arrays:
        raise ValueError("train_val_split needs at least one array")
    arrays = [np.asarray(a) for a in arrays]
    if any(a.ndim == 0 for a in arrays) or len({len(a) for a in arrays}) != 1:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"arrays: expected the same number of rows, got shapes {shapes}")
    n = len(arrays[0])
    if isinstance(val_size, numbers.Integral) and not isinstance(val_size, bool):
        n_val = int(val_size)
    elif isinstance(val_size, numbers.Real) and 0 < val_size < 1:
        n_val = int(round(n * val_size))
    else:
        raise ValueError(f"val_size: expected a fraction in (0, 1) or a row count, got {val_size!r}")
    if not 1 <= n_val <= n - 1:
        raise ValueError(
            f"val_size={val_size!r} gives {n_val} validation rows of {n}; "
            f"both parts need at least one row"
        )
    if rng is None:
        order = np.arange(n)
    else:
        order = np.random.default_rng(rng).permutation(n)
    train_idx, val_idx = order[: n - n_val], order[n - n_val :]
    out = []
    for a in arrays:
        out += [a[train_idx], a[val_idx]]
    return tuple(out)

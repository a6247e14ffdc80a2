"""Truncated backpropagation through time over one long text.

Derived and first used in ``notebooks/02_rnn_bptt``, then in 03 and 04:
:class:`TruncatedBPTT` cuts the text into parallel streams, walks them a chunk at a time
and carries the hidden state from chunk to chunk. It provides the batches and the step
function of :func:`course_lib.training.fit`.
"""

import numpy as np

from .._checks import check_count
from ..data.batching import stream_batches

# The course's char-rnn recipe: each stream starts again from a zero state once every this
# many chunks (see TruncatedBPTT's fresh_state_every).
FRESH_STATE_EVERY = 50


def _state_to_arrays(state):
    """A model's recurrent state (list per layer of ``h`` or ``(h, c)``) -> flat dict."""
    arrays = {}
    for layer, s in enumerate(state):
        if isinstance(s, tuple):
            for j, a in enumerate(s):
                arrays[f"state/{layer}/{j}"] = a
        else:
            arrays[f"state/{layer}"] = s
    return arrays


def _zero_rows(state, rows):
    """The state with the streams ``rows`` set to zeros: new arrays, the old ones untouched."""
    def zeroed(a):
        a = np.array(a)
        a[rows] = 0
        return a
    return [tuple(zeroed(a) for a in s) if isinstance(s, tuple) else zeroed(s) for s in state]


def _state_from_arrays(arrays):
    """Inverse of :func:`_state_to_arrays`; None when there is no state."""
    state = []
    while f"state/{len(state)}" in arrays or f"state/{len(state)}/0" in arrays:
        layer = len(state)
        if f"state/{layer}" in arrays:
            state.append(np.array(arrays[f"state/{layer}"]))
        else:
            parts = []
            while f"state/{layer}/{len(parts)}" in arrays:
                parts.append(np.array(arrays[f"state/{layer}/{len(parts)}"]))
            state.append(tuple(parts))
    return state or None


class TruncatedBPTT:
    """Train a language model on one long sequence of ids, by truncated BPTT.

    The ids are cut into ``batch_size`` parallel streams and walked ``seq_len`` steps at
    a time (:func:`course_lib.data.batching.stream_batches`). The hidden state at the end of
    one chunk is the initial state of the next, so the model sees context far beyond
    ``seq_len`` while gradients flow back at most ``seq_len`` steps. At the start of each
    epoch the streams restart from their beginning, and the state is reset to zeros.

    Fresh starts (``fresh_state_every``): each stream can also start again from a zero
    state once every so many chunks, the streams taking turns (stream n on the chunks k
    with ``k % fresh_state_every == n % fresh_state_every``), so that at every step a few
    streams practise reading from nothing. Without them a model sees a zero state only at
    the first chunk of an epoch (1 chunk in 156 for tiny-shakespeare at 64 x 100), learns
    only from states it has carried a long way, and may fail from a zero state: one
    stream read from the start of a text can fall into a regime training never visited
    and stay there. The course's char-LSTM (Adam 2e-3, seed 0) read its validation text
    that way at 6.4 nats/char after 300 steps, where any other start gave 2.2; with
    fresh starts every 50 chunks (``FRESH_STATE_EVERY``), 2.2 from every start, at no
    measurable cost. That is the char-rnn recipe's setting (the command line, notebook
    04, ``benchmarks/bench_charrnn.py``), not the default: it changes what other recipes
    do, and not always for the better (``docs/benchmarks.md``, "A model that never starts
    from nothing").

    Use :meth:`batches` and :meth:`step` as the batches and the step function of
    :func:`fit`. Everything a resumed run needs (epoch, chunk, hidden state) is in
    :meth:`state_dict`; dropout is seeded from ``(seed, epoch, chunk)``, so it needs
    no saved random state.

    Args:
        model: a model with ``loss(idx, targets, state, *, train, rng) -> (loss, grads, new_state)``,
            e.g. :class:`course_lib.models.CharRNN`.
        ids: integer array ``(L,)``, e.g. ``vocab.encode(train_text)``.
        batch_size: N, the number of parallel streams.
        seq_len: T, the truncation length.
        seed: seeds dropout, and the offsets if ``random_offsets``.
        random_offsets: start each epoch at a random offset in ``[0, seq_len)``, so the
            chunk boundaries fall at different places each epoch.
        reset_every: also reset every stream's state to zeros every this many chunks; 1
            reads every chunk as a sequence of its own (the baseline that shows what
            carrying the state buys, in ``notebooks/02_rnn_bptt``). None: only at the start
            of an epoch (and at each stream's fresh starts).
        fresh_state_every: each stream starts from a zero state once every this many
            chunks, the streams taking turns (see above), e.g. ``FRESH_STATE_EVERY``.
            None (the default): only at the start of an epoch, the classic recipe.
    """

    def __init__(self, model, ids, batch_size, seq_len, *, seed=0, random_offsets=False,
                 reset_every=None, fresh_state_every=None):
        if reset_every is not None:
            check_count("reset_every", reset_every)
        if fresh_state_every is not None:
            check_count("fresh_state_every", fresh_state_every)
        self.reset_every = reset_every
        self.fresh_state_every = fresh_state_every
        self.model = model
        self.ids = np.asarray(ids)
        self.batch_size, self.seq_len = batch_size, seq_len
        self.seed = seed
        self.random_offsets = random_offsets
        next(stream_batches(self.ids, batch_size, seq_len))  # raises now if ids are too few
        self.epoch = 0  # the current epoch
        self.chunk = 0  # chunks of this epoch already handed out
        self.state = None  # the hidden state after the last chunk; None: zeros

    def batches(self):
        """Endless ``(x, y, first)``: ``x, y`` ``(N, T)`` chunks, epoch after epoch.

        ``first`` is True for the first chunk of an epoch. Starts where the last
        handed-out chunk stopped (after :meth:`load_state_dict`: where the saved run was).
        """
        while True:
            offset = 0
            if self.random_offsets:
                offset = int(np.random.default_rng([self.seed, self.epoch]).integers(self.seq_len))
            chunks = stream_batches(self.ids, self.batch_size, self.seq_len, offset=offset)
            for k, (x, y) in enumerate(chunks):
                if k >= self.chunk:  # skip what an interrupted run already did
                    self.chunk = k + 1
                    yield x, y, k == 0
            self.epoch, self.chunk = self.epoch + 1, 0

    def step(self, batch):
        """The step function for :func:`fit`: ``(x, y, first) -> (loss, grads)``."""
        x, y, first = batch
        chunk = self.chunk - 1  # batches() has counted this one already
        if first or (self.reset_every is not None and chunk % self.reset_every == 0):
            self.state = None  # the streams restart (or the caller asked): so does the state
        elif self.fresh_state_every is not None and self.state is not None:
            k = self.fresh_state_every
            rows = np.flatnonzero(np.arange(self.batch_size) % k == chunk % k)  # their turn
            if rows.size:
                self.state = _zero_rows(self.state, rows)
        rng = np.random.default_rng([self.seed, self.epoch, self.chunk])  # for dropout
        loss, grads, self.state = self.model.loss(x, y, self.state, train=True, rng=rng)
        return loss, grads

    def state_dict(self):
        """Position and hidden state as a flat dict of arrays (for a checkpoint's ``extra``)."""
        arrays = {"epoch": np.int64(self.epoch), "chunk": np.int64(self.chunk)}
        if self.state is not None:
            arrays |= {key: np.array(a) for key, a in _state_to_arrays(self.state).items()}
        return arrays

    def load_state_dict(self, arrays):
        """Restore :meth:`state_dict`; the next batch is then the one after the saved run's."""
        if "epoch" not in arrays or "chunk" not in arrays:
            raise ValueError("arrays: not a TruncatedBPTT state, expected 'epoch' and 'chunk'")
        self.epoch, self.chunk = int(arrays["epoch"]), int(arrays["chunk"])
        self.state = _state_from_arrays(arrays)

"""min-char-rnn: Andrej Karpathy's minimal character-level vanilla RNN, in column form.

Shown in ``notebooks/04_char_rnn``. The algorithm is Karpathy's ``min-char-rnn.py``
(2015, BSD licence, https://gist.github.com/karpathy/d4dee566867f8291f086), rewritten
for the course. What stays as in the original:

- one sequence at a time (no batch), ``seq_length`` 25 characters per update, truncated BPTT,
  the hidden state carried from one chunk to the next;
- a vanilla RNN with ``hidden_size`` 100 on one-hot inputs, weights drawn from ``randn * 0.01``,
  biases zero;
- the loss summed (not averaged) over the 25 steps, every gradient clipped by value to
  ``[-5, 5]``, Adagrad with learning rate 0.1 and ``sqrt(mem + 1e-8)``;
- the data pointer, which moves 25 characters per step and starts over (with a zero hidden
  state) when the next chunk and its targets would not fit (the original's test,
  ``p + seq_length + 1 >= len(data)``, also starts over when they would end exactly at the last
  character: kept);
- ``smooth_loss``, a running mean ``0.999 * smooth_loss + 0.001 * loss`` that starts at
  the loss of a uniform guess, ``ln(V) * seq_length``.

What changes: no global state (the parameters are a dict handed to functions; the
training state lives in a :class:`MinCharRNN`), a sorted vocabulary
(:class:`course_lib.data.vocab.CharVocab`, not ``list(set(text))``, whose order changes from
run to run), seeded generators (``np.random.default_rng(seed)``) for the weights and the
samples, a softmax that subtracts the largest score first (the same numbers, without
overflow), the loss also in nats per character (``smooth_loss / seq_length``, what the
rest of the course reports), :func:`evaluate` on held-out text, and a history to plot.
The training loop, with its progress bar, is :func:`course_lib.training.minchar_loop.train`.

**Column form.** Here a vector is a column ``(n, 1)`` and a weight matrix multiplies it
from the left, as in the maths on the blackboard::

    h_t = tanh(Wxh @ x_t + Whh @ h_{t-1} + bh)        x_t (V, 1), h_t (H, 1)
    y_t = Why @ h_t + by                               y_t (V, 1), the scores
    p_t = softmax(y_t)                                 p_t (V, 1)

The rest of ``course_lib`` (:mod:`course_lib.rnn`, :mod:`course_lib.layers`) uses row form, a
batch of row vectors ``x (N, D)`` multiplied from the right: ``x @ Wx``. The two are transposes
of each other: ``(Wxh @ x).T == x.T @ Wxh.T``, so the same network in row form has
``Wx = Wxh.T (V, H)``, ``Wh = Whh.T (H, H)``, ``b = bh.ravel() (H,)``, a head ``W = Why.T (H, V)``,
``b = by.ravel() (V,)``, and ``N = 1`` (the tests check that both compute the same loss and
gradients). Row form is what batches well; column form is how the original is written.

Shapes: V vocabulary size, H hidden units, T = ``seq_length`` steps per chunk.

Parameters, a dict name -> float64 array:
    ``Wxh (H, V)``, ``Whh (H, H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``.

Use::

    from course_lib.training.minchar_loop import train
    model = train(train_text, seconds=60)     # a MinCharRNN; or num_steps=5000
    train(train_text, seconds=60, model=model)   # goes on where it stopped
    plt.plot(model.history.chars_seen, model.history.nats_per_char())
    print(model.sample_text("T", 200))
    model.evaluate(val_text)                  # mean nats per character, held-out text
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_count
from .data.vocab import CharVocab

HIDDEN_SIZE = 100  # size of the hidden layer
SEQ_LENGTH = 25  # steps to unroll the RNN for, characters per update
LEARNING_RATE = 1e-1
CLIP = 5.0  # every gradient entry is clipped to [-CLIP, CLIP]
ADAGRAD_EPS = 1e-8  # inside the square root: sqrt(mem + eps)
SMOOTHING = 0.999  # smooth_loss = SMOOTHING * smooth_loss + (1 - SMOOTHING) * loss
PARAM_NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def init_params(vocab_size, hidden_size=HIDDEN_SIZE, rng=None):
    """Fresh parameters: weights ``standard_normal * 0.01``, biases zero.

    Args:
        vocab_size: V.
        hidden_size: H; default 100.
        rng: ``np.random.Generator`` (None, the default: ``default_rng(0)``); draws Wxh,
            Whh, Why in that order.

    Returns:
        dict: float64 ``Wxh (H, V)``, ``Whh (H, H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    V, H = vocab_size, hidden_size
    return {
        "Wxh": rng.standard_normal((H, V)) * 0.01,  # input to hidden
        "Whh": rng.standard_normal((H, H)) * 0.01,  # hidden to hidden
        "Why": rng.standard_normal((V, H)) * 0.01,  # hidden to output
        "bh": np.zeros((H, 1)),
        "by": np.zeros((V, 1)),
    }


def loss_fun(params, inputs, targets, hprev, clip=CLIP):
    """Forward pass, loss and backpropagation through time over one chunk.

    Args:
        params: dict ``Wxh (H, V)``, ``Whh (H, H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``.
        inputs: T character ids.
        targets: the T ids to predict (each input's next one).
        hprev: ``(H, 1)`` hidden state carried in from the previous chunk.
        clip: clip every gradient entry to ``[-clip, clip]``; default 5.0; None: no clipping.

    Returns:
        loss: float, ``-log p(target)`` **summed** over the T steps (nats, not per char).
        grads: dict keyed like ``params``, each of its parameter's shape.
        h: ``(H, 1)`` the hidden state after the last step, to carry into the next chunk.
    """
    Wxh, Whh, Why, bh, by = (params[name] for name in PARAM_NAMES)
    H, V = Wxh.shape
    T = len(inputs)
    xs = np.zeros((T, V, 1))  # xs[t]: one-hot column of inputs[t]
    hs = np.zeros((T + 1, H, 1))  # hs[t + 1] = h_t; hs[0] = hprev
    ps = np.zeros((T, V, 1))  # ps[t]: probabilities of the next character
    hs[0] = hprev
    loss = 0.0
    for t in range(T):  # forward
        xs[t, inputs[t]] = 1
        hs[t + 1] = np.tanh(Wxh @ xs[t] + Whh @ hs[t] + bh)
        ys = Why @ hs[t + 1] + by  # (V, 1) scores
        e = np.exp(ys - ys.max())  # softmax, shifted so that exp cannot overflow
        ps[t] = e / e.sum()
        loss -= math.log(ps[t, targets[t], 0])  # cross-entropy
    grads = {name: np.zeros_like(params[name]) for name in PARAM_NAMES}
    dWxh, dWhh, dWhy, dbh, dby = (grads[name] for name in PARAM_NAMES)
    dh_next = np.zeros((H, 1))  # gradient on h_t arriving from step t + 1
    for t in reversed(range(T)):  # backward
        dy = ps[t].copy()
        dy[targets[t]] -= 1  # d loss / d scores = p - onehot(target)
        # dWhy += dy @ h_t.T, an outer product (V, 1) x (1, H). Written np.dot: NumPy's @
        # takes a slow path when the inner dimension is 1 (5x slower here), np.dot calls BLAS.
        dWhy += np.dot(dy, hs[t + 1].T)
        dby += dy
        dh = Why.T @ dy + dh_next  # from the output and from the next step
        dh_raw = (1 - hs[t + 1] ** 2) * dh  # through tanh: tanh' = 1 - h^2
        dbh += dh_raw
        dWxh += np.dot(dh_raw, xs[t].T)
        dWhh += np.dot(dh_raw, hs[t].T)
        dh_next = Whh.T @ dh_raw
    if clip is not None:
        for g in grads.values():
            np.clip(g, -clip, clip, out=g)  # mitigates exploding gradients
    return loss, grads, hs[T].copy()


def adagrad_update(params, grads, mem, learning_rate=LEARNING_RATE):
    """Karpathy's Adagrad step, in place: ``mem += g**2; p -= lr * g / sqrt(mem + 1e-8)``.

    The 1e-8 sits *inside* the square root. ``torch.optim.Adagrad`` and
    :class:`course_lib.optim.Adagrad` add their eps (1e-10) *outside*, ``sqrt(mem) + eps``.
    Both only keep a zero ``mem`` from dividing by zero, and they agree closely once the
    gradients have been larger than about 1e-3; for tinier gradients this one takes
    smaller steps (at most ``lr * g / 1e-4``).

    Args:
        params: dict name -> array, updated in place.
        grads: dict keyed and shaped like ``params``.
        mem: the sums of squared gradients (zeros at first), like ``params``; updated in place.
        learning_rate: ``lr``; default 0.1.
    """
    for name, p in params.items():
        g = grads[name]
        mem[name] += g * g
        p -= learning_rate * g / np.sqrt(mem[name] + ADAGRAD_EPS)


def sample(params, h, seed_ix, n, rng):
    """Draw ``n`` character ids from the model, feeding each one back in.

    Args:
        params: as in :func:`loss_fun`.
        h: ``(H, 1)`` hidden state to start from (not modified).
        seed_ix: id of the character read first.
        n: how many ids to draw.
        rng: ``np.random.Generator``.

    Returns:
        int64 array ``(n,)``: the drawn ids (``seed_ix`` not included).
    """
    Wxh, Whh, Why, bh, by = (params[name] for name in PARAM_NAMES)
    V = Wxh.shape[1]
    x = np.zeros((V, 1))
    x[seed_ix] = 1
    ixes = np.zeros(n, dtype=np.int64)
    for t in range(n):
        h = np.tanh(Wxh @ x + Whh @ h + bh)
        y = Why @ h + by
        e = np.exp(y - y.max())
        ix = rng.choice(V, p=(e / e.sum()).ravel())
        x = np.zeros((V, 1))
        x[ix] = 1
        ixes[t] = ix
    return ixes


def evaluate(params, ids, h0=None, chunk=SEQ_LENGTH):
    """Mean loss on a text, in nats per character: the model reads ``ids[:-1]`` and
    predicts ``ids[1:]``, the hidden state carried across the whole text.

    No gradients, so each chunk's input projections are one product: ``Wxh @ onehot(ids)``
    is ``Wxh[:, ids]``, the columns of the ids. Only the recurrence runs one character at a time.

    Args:
        params: as in :func:`loss_fun`.
        ids: integer array ``(L,)``, ``L >= 2``.
        h0: ``(H, 1)`` initial hidden state; None (the default): zeros.
        chunk: how many characters go through at once, default 25 (memory and speed only:
            the result is the same for any chunk).

    Returns:
        float: mean of ``-log p(ids[t + 1] | ids[:t + 1])`` over the ``L - 1`` predictions.
    """
    Wxh, Whh, Why, bh, by = (params[name] for name in PARAM_NAMES)
    ids = np.asarray(ids)
    h = np.zeros((Whh.shape[0], 1)) if h0 is None else np.array(h0, dtype=np.float64)
    total = 0.0
    for start in range(0, len(ids) - 1, chunk):
        inputs = ids[start:start + chunk]
        targets = ids[start + 1:start + chunk + 1]
        inputs = inputs[:len(targets)]  # the last chunk may be one short of targets
        hs = Wxh[:, inputs] + bh  # (H, C): the input projection of every step at once
        for t in range(len(inputs)):
            hs[:, t:t + 1] = h = np.tanh(hs[:, t:t + 1] + Whh @ h)
        ys = Why @ hs + by  # (V, C) scores
        ys -= ys.max(axis=0)  # log-softmax of each column, shifted against overflow
        log_p = ys - np.log(np.exp(ys).sum(axis=0))
        total -= float(log_p[targets, np.arange(len(targets))].sum())
    return total / (len(ids) - 1)


@dataclass
class MinCharHistory:
    """What training records, one entry per step (plain lists, ready for ``plt.plot``).

    Attributes:
        step: step number, 0 for the first update.
        loss: the step's loss, summed over its ``seq_length`` characters.
        smooth_loss: the running mean after that step (also summed over a chunk).
        chars_seen: characters read so far (``seq_length`` per step).
        seq_length: to convert to nats per character (default 25).
    """

    seq_length: int = SEQ_LENGTH
    step: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    smooth_loss: list = field(default_factory=list)
    chars_seen: list = field(default_factory=list)

    def __len__(self):
        return len(self.step)

    def nats_per_char(self):
        """``smooth_loss / seq_length`` at every step, as a float64 array."""
        return np.asarray(self.smooth_loss) / self.seq_length


class MinCharRNN:
    """min-char-rnn's training state: parameters, Adagrad memory, data pointer, hidden state.

    Args:
        vocab: a :class:`course_lib.data.vocab.CharVocab` (V = ``vocab.size``), else ``TypeError``.
        hidden_size: H, an integer >= 1 (else ``ValueError``); default 100.
        seq_length: T, characters per update, an integer >= 1 (else ``ValueError``); default 25.
        learning_rate: Adagrad's; default 0.1.
        seed: of ``np.random.default_rng`` (default 0), which draws the weights, then the samples.

    Attributes:
        params: dict ``Wxh (H, V)``, ``Whh (H, H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``.
        mem: Adagrad's sums of squared gradients, keyed and shaped like ``params``.
        p: data pointer, where the next chunk starts.
        hprev: ``(H, 1)`` hidden state at the end of the last chunk.
        n: steps taken.
        smooth_loss: running mean of the loss (summed over a chunk, as in the original).
        history: :class:`MinCharHistory`.
    """

    def __init__(self, vocab, hidden_size=HIDDEN_SIZE, seq_length=SEQ_LENGTH,
                 learning_rate=LEARNING_RATE, seed=0):
        if not isinstance(vocab, CharVocab):
            raise TypeError(f"vocab: expected a CharVocab, got {type(vocab).__name__}")
        self.vocab = vocab
        self.hidden_size = check_count("hidden_size", hidden_size)
        self.seq_length = check_count("seq_length", seq_length)
        self.learning_rate = float(learning_rate)
        self.rng = np.random.default_rng(seed)
        self.params = init_params(vocab.size, self.hidden_size, self.rng)
        self.mem = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.p = 0
        self.hprev = np.zeros((self.hidden_size, 1))
        self.n = 0
        self.smooth_loss = -math.log(1.0 / vocab.size) * self.seq_length  # loss at iteration 0
        self.history = MinCharHistory(seq_length=self.seq_length)

    @property
    def nats_per_char(self):
        """``smooth_loss / seq_length``: the smoothed loss per character, in nats."""
        return self.smooth_loss / self.seq_length

    def to_ids(self, text_or_ids):
        """A text (encoded with ``vocab``) or ids (checked) as an int64 array ``(L,)``.

        Args:
            text_or_ids: a ``str``, or integer ids ``(L,)``.

        Returns:
            int64 array ``(L,)``.

        Raises:
            ValueError: a character not in ``vocab``, or ids not 1-D integers in ``[0, V)``.
        """
        if isinstance(text_or_ids, str):
            return self.vocab.encode(text_or_ids)
        ids = np.asarray(text_or_ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids: expected a 1-D integer array, got shape {ids.shape}, dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab.size):
            raise ValueError(f"ids: expected ids in [0, {self.vocab.size}), "
                             f"got values from {ids.min()} to {ids.max()}")
        return ids.astype(np.int64, copy=False)

    def step(self, data):
        """One iteration of the original loop on ``data``, an int array ``(L,)``.

        Moves the data pointer (back to 0, with a zero hidden state, on the first step and
        whenever ``p + seq_length + 1 >= L``: the original's test, which skips a chunk
        that would end exactly at the last character), runs :func:`loss_fun`, updates
        ``smooth_loss``, ``history`` and the parameters (:func:`adagrad_update`).

        Args:
            data: the whole training text as ids, e.g. ``model.to_ids(text)``.

        Returns:
            loss: float, summed over the chunk.
        """
        T = self.seq_length
        if self.p + T + 1 >= len(data) or self.n == 0:
            self.hprev = np.zeros((self.hidden_size, 1))  # reset RNN memory
            self.p = 0  # go from start of data
        inputs = data[self.p:self.p + T]
        targets = data[self.p + 1:self.p + T + 1]
        loss, grads, self.hprev = loss_fun(self.params, inputs, targets, self.hprev)
        self.smooth_loss = self.smooth_loss * SMOOTHING + loss * (1 - SMOOTHING)
        adagrad_update(self.params, grads, self.mem, self.learning_rate)
        h = self.history
        h.step.append(self.n)
        h.loss.append(loss)
        h.smooth_loss.append(self.smooth_loss)
        h.chars_seen.append((self.n + 1) * T)
        self.p += T  # move data pointer
        self.n += 1
        return loss

    def sample_text(self, prime, length=200, *, h=None, seed=None):
        """Text from the model: ``prime``, then ``length`` characters drawn after it.

        The prime is read one character at a time from ``h``; its last one seeds :func:`sample`.

        Args:
            prime: a non-empty ``str`` of characters in ``vocab`` (else ``ValueError``).
            length: characters to draw; default 200.
            h: ``(H, 1)`` state to start from; None (the default): zeros.
            seed: None (the default) draws from the model's own generator (seeded at
                construction); an int draws from a fresh ``default_rng(seed)``.

        Returns:
            str: ``prime`` followed by the drawn characters.
        """
        prime_ids = self.vocab.encode(prime)
        if prime_ids.size == 0:
            raise ValueError("prime: expected at least one character")
        Wxh, Whh, bh = self.params["Wxh"], self.params["Whh"], self.params["bh"]
        h = np.zeros((self.hidden_size, 1)) if h is None else np.array(h, dtype=np.float64)
        for ix in prime_ids[:-1]:
            h = np.tanh(Wxh[:, [ix]] + Whh @ h + bh)  # Wxh @ onehot(ix)
        rng = self.rng if seed is None else np.random.default_rng(seed)
        return prime + self.vocab.decode(sample(self.params, h, prime_ids[-1], length, rng))

    def evaluate(self, text_or_ids, chunk=SEQ_LENGTH):
        """Mean nats per character on a text, from a zero state (:func:`evaluate`).

        Args:
            text_or_ids: as in :meth:`to_ids`.
            chunk: characters per chunk; default 25.

        Returns:
            float: mean nats per character.

        Raises:
            ValueError: as in :meth:`to_ids`, or fewer than 2 characters.
        """
        ids = self.to_ids(text_or_ids)
        if len(ids) < 2:
            raise ValueError("text_or_ids: need at least 2 characters (1 to read, 1 to predict)")
        return evaluate(self.params, ids, chunk=chunk)

"""Two recurrent models assembled from the course_lib kernels.

- :class:`CharRNN`, a character language model, is used in ``notebooks/02_rnn_bptt`` to
  ``04_char_rnn``.
- :class:`SequenceClassifier`, which reads an MNIST image one row per time step, is for
  ``notebooks/05_mnist_rows`` (to come).

A model here does no math of its own. Its forward pass is a chain of kernel calls (embedding,
rnn/lstm/gru or bidirectional, affine). Its backward pass calls the matching backward kernels in
the reverse order. Each cache keeps what the kernels returned. The only things these models decide
themselves are where dropout applies and how the recurrent states are chosen and wired.

Parameters are a flat dict ``model.params``, name -> np.ndarray, e.g. ``"layer0.Wx"``.
``course_lib.optim`` updates these arrays in place, so every forward reads ``self.params`` again
and nothing keeps a copy. ``backward`` returns a dict with exactly the same keys.

Initialisation is deterministic given ``seed`` (``np.random.default_rng(seed)``): each recurrent
layer as :func:`course_lib.cells.init_weights` says (``Wx`` uniform, ``Wh`` orthogonal blocks, the
LSTM's forget-gate bias 1); the embedding standard normal (``nn.Embedding``'s default); the head's
``W`` uniform (+-1/sqrt(fan_in)) and ``b`` zero. Every state component is within [-1, 1], so the
first logits are small and the first loss is close to ln(V), the loss of a uniform guess.

One-hot input (``CharRNN`` with ``embedding_dim=None``): ``onehot(idx) @ Wx == Wx[idx]``,
but the recurrent kernels take an input ``x`` and do their own ``x @ Wx``. So the
first layer is fed ``x = I[idx]``, built by ``embedding_forward`` from a fixed
identity table ``(V, V)``. That table is not a parameter. This is exactly the model
``nn.LSTM(input_size=V)`` on one-hot vectors, and ``layer0.Wx`` is ``(V, gates*H)``.
What it costs: an ``(N, T, V)`` input array and a first layer whose input width is V
rather than a small embedding width (the backward never computes that layer's ``dx``:
the input is data): at most about 15% of a step, for the LSTM (``docs/benchmarks.md``).

Dropout is inverted dropout with a fresh mask at every position ``(n, t, unit)``. It is applied to
each layer's output sequence, which is the input of the next layer, or of the head after the last
layer. It is never applied to the recurrent path ``h_{t-1} -> h_t``, so the states a layer carries,
and ``new_state`` with them, are never dropped. It is active only when ``train=True`` and
``dropout > 0``, and then it needs ``rng``, an ``np.random.Generator``. Two calls with generators
seeded the same way draw the same masks.

Shapes: N batch, T time steps, V vocabulary, E embedding width, D input features, H hidden
units, C classes, L layers.
"""

import inspect
from dataclasses import dataclass

import numpy as np

from ._checks import check_count, check_ndim
from .birnn import bidirectional_backward, bidirectional_forward
from .cells import CELLS, get_cell, init_weights, layer_backward, layer_forward
from .layers import (
    affine_backward,
    affine_forward,
    dropout_mask,
    embedding_backward,
    embedding_forward,
    temporal_affine_backward,
    temporal_affine_forward,
)
from .losses import softmax_cross_entropy


def _layer_weights(params, prefix, cell):
    """``{"Wx": params[prefix + "Wx"], ...}``: the arrays themselves, never copies."""
    return {name: params[prefix + name] for name in CELLS[cell].weights}


def _check_dropout_rng(dropout, train, rng):
    """Fail before any work if dropout is active and there is no generator to draw from."""
    if train and dropout > 0 and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: dropout={dropout} with train=True needs an np.random.Generator, "
                         f"got {type(rng).__name__}")


def _check_cell_and_dropout(cell, dropout):
    get_cell(cell)
    if not 0 <= dropout < 1:  # also refuses NaN
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")


class _Model:
    """What both models share: building a fresh model from a ``config`` dict."""

    @classmethod
    def from_config(cls, config, *, dtype=np.float32):
        """The same architecture, freshly initialised (``seed=0``), from ``model.config``."""
        config = dict(config)
        model = config.pop("model", None)
        if model != cls.__name__:
            raise ValueError(f"config: expected 'model': {cls.__name__!r}, got {model!r}")
        expected = set(inspect.signature(cls).parameters) - {"seed", "dtype"}
        if set(config) != expected:
            raise ValueError(f"config: expected the keys {sorted(expected)}, got {sorted(config)}")
        return cls(**config, dtype=dtype)


@dataclass
class CharRNNCache:
    """Kernel caches and masks, from :meth:`CharRNN.forward` for :meth:`CharRNN.backward`."""
    embed: object  # embedding_forward's cache (None for one-hot input)
    layers: list  # one recurrent kernel cache per layer
    masks: list  # one dropout mask (N, T, H) per layer output, or None
    head: object  # temporal_affine_forward's cache


class CharRNN(_Model):
    """Character language model. The input is one-hot, or an embedding when
    ``embedding_dim`` is set; then come ``num_layers`` recurrent layers (cell ``"rnn"``,
    ``"lstm"`` or ``"gru"``) and an affine head giving logits over the vocabulary.

    Used in ``notebooks/04_char_rnn``. Parameters (``D`` is ``embedding_dim``, or V for
    one-hot input; ``G = gates * H``, with gates 1 for rnn, 4 for lstm, 3 for gru):

    - ``embed.W`` ``(V, E)``, only when ``embedding_dim`` is set;
    - ``layer{l}.Wx`` ``(D, G)`` for layer 0 and ``(H, G)`` above it; ``layer{l}.Wh`` ``(H, G)``;
      ``layer{l}.b`` ``(G,)``; for gru, ``layer{l}.bx`` and ``layer{l}.bh`` instead of ``b``;
    - ``head.W`` ``(H, V)``, ``head.b`` ``(V,)``.

    The state is a list, one entry per layer: ``h (N, H)`` for rnn and gru, ``(h, c)`` for lstm.
    """

    def __init__(self, vocab_size, hidden_size, *, cell="lstm", num_layers=1, embedding_dim=None,
                 dropout=0.0, seed=0, dtype=np.float32):
        _check_cell_and_dropout(cell, dropout)
        V = self.vocab_size = check_count("vocab_size", vocab_size)
        H = self.hidden_size = check_count("hidden_size", hidden_size)
        E = self.embedding_dim = None if embedding_dim is None else check_count("embedding_dim", embedding_dim)
        self.num_layers = check_count("num_layers", num_layers)
        self.cell, self.dropout, self.dtype = cell, float(dropout), np.dtype(dtype)
        self.config = {"model": "CharRNN", "vocab_size": V, "hidden_size": H, "cell": cell,
                       "num_layers": self.num_layers, "embedding_dim": E, "dropout": self.dropout}

        rng = np.random.default_rng(seed)
        self.params = {}
        if E is not None:
            self.params["embed.W"] = rng.standard_normal((V, E)).astype(dtype)
        for l in range(self.num_layers):
            D = (V if E is None else E) if l == 0 else H
            for name, a in init_weights(rng, cell, D, H, dtype).items():
                self.params[f"layer{l}.{name}"] = a
        bound = 1 / np.sqrt(H)
        self.params["head.W"] = rng.uniform(-bound, bound, (H, V)).astype(dtype)
        self.params["head.b"] = np.zeros(V, dtype)
        # One-hot input as an embedding lookup in a fixed identity table (see module doc).
        self._onehot_table = np.eye(V, dtype=dtype) if E is None else None

    def initial_state(self, batch_size):
        """Zero state: a list of L entries, ``h (N, H)``, or ``(h, c)`` for lstm."""
        N, H = check_count("batch_size", batch_size), self.hidden_size
        zeros = lambda: np.zeros((N, H), self.dtype)  # noqa: E731
        return [(zeros(), zeros()) if self.cell == "lstm" else zeros() for _ in range(self.num_layers)]

    def _check_state(self, state, N):
        """The state as a list of per-layer states in the model's dtype, or ValueError."""
        if state is None:
            return self.initial_state(N)
        L, H = self.num_layers, self.hidden_size
        if not isinstance(state, (list, tuple)) or len(state) != L:
            got = f"length {len(state)}" if isinstance(state, (list, tuple)) else type(state).__name__
            raise ValueError(f"state: expected a list of {L} per-layer states, got {got}")
        checked = []
        for l, s in enumerate(state):
            if self.cell == "lstm":
                if not isinstance(s, (list, tuple)) or len(s) != 2:
                    raise ValueError(f"state[{l}]: layer {l} of an lstm expects an (h, c) pair, "
                                     f"got {type(s).__name__}")
                parts = dict(zip("hc", s))
            else:
                parts = {"h": s}
            for name, a in parts.items():
                if np.shape(a) != (N, H):
                    raise ValueError(f"state[{l}]: layer {l} expects {name} of shape {(N, H)}, "
                                     f"got {np.shape(a)}")
            arrays = [np.asarray(a, self.dtype) for a in parts.values()]
            checked.append(tuple(arrays) if self.cell == "lstm" else arrays[0])
        return checked

    def forward(self, idx, state=None, *, train=False, rng=None):
        """Logits for the next character at every position.

        Args:
            idx: integer ``(N, T)``, character ids in ``[0, V)``.
            state: the previous chunk's ``new_state``, or None for zeros. A list of L
                entries, ``h (N, H)``, or ``(h, c)`` for lstm.
            train: dropout is active only when True (and ``dropout > 0``); default False.
            rng: ``np.random.Generator`` for dropout masks (needed when active); default None.

        Returns:
            logits: ``(N, T, V)``.
            cache: :class:`CharRNNCache` for :meth:`backward`.
            new_state: every layer's state after the last step, in the form of ``state``
                (lstm: ``(h[:, -1], c_final)``), fresh arrays, to carry into the next chunk.

        Raises:
            ValueError: ``idx`` or ``state`` does not fit, or dropout is active without ``rng``.
        """
        _check_dropout_rng(self.dropout, train, rng)
        p = self.params  # read afresh: an optimizer updates these arrays in place
        if self.embedding_dim is None:
            x, _ = embedding_forward(idx, self._onehot_table)  # (N, T, V) one-hot rows
            embed_cache = None
        else:
            x, embed_cache = embedding_forward(idx, p["embed.W"])  # (N, T, E)
        N, T = np.shape(idx)
        if T == 0:
            raise ValueError(f"idx: expected at least one time step, got shape {np.shape(idx)}")
        states = self._check_state(state, N)

        layer_caches, masks, new_state = [], [], []
        for l in range(self.num_layers):
            w = _layer_weights(p, f"layer{l}.", self.cell)
            h, cache, final = layer_forward(self.cell, x, states[l], w)  # h (N, T, H)
            mask = dropout_mask(self.dropout, h.shape, self.dtype, rng) if train else None
            x = h if mask is None else h * mask  # the next layer's (or the head's) input
            layer_caches.append(cache)
            masks.append(mask)
            new_state.append(final)
        logits, head_cache = temporal_affine_forward(x, p["head.W"], p["head.b"])
        return logits, CharRNNCache(embed_cache, layer_caches, masks, head_cache), new_state

    def backward(self, dlogits, cache):
        """Backpropagation through the whole chunk.

        Args:
            dlogits: ``(N, T, V)`` gradient on the logits.
            cache: from :meth:`forward`.

        Returns:
            grads: dict keyed exactly like ``params``, each the shape of its parameter.
        """
        grads = {}
        dx, grads["head.W"], grads["head.b"] = temporal_affine_backward(dlogits, cache.head)
        for l in reversed(range(self.num_layers)):
            if cache.masks[l] is not None:
                dx = dx * cache.masks[l]  # a dropped unit passed nothing forward, gets nothing back
            # One-hot input is fixed data: layer 0 owes it no gradient.
            input_grad = l > 0 or cache.embed is not None
            dx, layer_grads = layer_backward(self.cell, dx, cache.layers[l], input_grad)
            for name, g in layer_grads.items():
                grads[f"layer{l}.{name}"] = g
        if cache.embed is not None:
            grads["embed.W"] = embedding_backward(dx, cache.embed)
        return {name: grads[name] for name in self.params}

    def loss(self, idx, targets, state=None, *, mask=None, train=False, rng=None):
        """Forward, cross-entropy and backward in one call.

        Args:
            idx: integer ``(N, T)`` inputs.
            targets: integer ``(N, T)``, usually the next character of each position.
            state: as in :meth:`forward`.
            mask: keyword-only; ``(N, T)``, truthy where a position counts; default None: all do.
            train: as in :meth:`forward`.
            rng: as in :meth:`forward`.

        Returns:
            loss: float, mean nats per counted position (``losses.softmax_cross_entropy``).
            grads: dict keyed like ``params``.
            new_state: as in :meth:`forward`.
        """
        logits, cache, new_state = self.forward(idx, state, train=train, rng=rng)
        loss, dlogits = softmax_cross_entropy(logits, targets, mask)
        return loss, self.backward(dlogits, cache), new_state


@dataclass
class SequenceClassifierCache:
    """Kernel caches and masks, from :meth:`SequenceClassifier.forward` for ``backward``."""
    layers: list  # one kernel cache per layer (bidirectional_forward's when bidirectional)
    masks: list  # one dropout mask per layer output (N, T, H or 2H), or None
    shape: tuple  # (N, T, width) of the last layer's output
    head: object  # affine_forward's cache


class SequenceClassifier(_Model):
    """Reads ``x (N, T, D)`` (in ``notebooks/05_mnist_rows``, to come: an MNIST image row by row:
    T=28, D=28). Then come ``num_layers`` recurrent layers (any cell, optionally
    bidirectional through ``course_lib.birnn``), and an affine head on the final state.

    Unidirectional: the head reads ``h[:, -1]`` ``(N, H)``. Bidirectional: the head reads the
    forward direction's state at ``t = T-1`` next to the backward direction's state at ``t = 0``
    ``(N, 2H)``. Each of these is its direction's final state, after reading the whole image.

    Parameters (``G = gates * H``; ``F = H``, or ``2H`` when bidirectional):
    ``layer{l}.Wx`` ``(D, G)`` for layer 0 and ``(F, G)`` above it, ``layer{l}.Wh``
    ``(H, G)``, ``layer{l}.b`` ``(G,)`` (gru: ``.bx`` and ``.bh``). When bidirectional,
    the backward direction has the same set under ``layer{l}.reverse.`` (PyTorch's
    ``_reverse``). ``head.W`` ``(F, C)``, ``head.b`` ``(C,)``.
    """

    def __init__(self, input_size, hidden_size, num_classes, *, cell="lstm", num_layers=1,
                 bidirectional=False, dropout=0.0, seed=0, dtype=np.float32):
        _check_cell_and_dropout(cell, dropout)
        D = self.input_size = check_count("input_size", input_size)
        H = self.hidden_size = check_count("hidden_size", hidden_size)
        C = self.num_classes = check_count("num_classes", num_classes)
        self.num_layers = check_count("num_layers", num_layers)
        self.bidirectional = bool(bidirectional)
        self.cell, self.dropout, self.dtype = cell, float(dropout), np.dtype(dtype)
        self.config = {"model": "SequenceClassifier", "input_size": D, "hidden_size": H,
                       "num_classes": C, "cell": cell, "num_layers": self.num_layers,
                       "bidirectional": self.bidirectional, "dropout": self.dropout}
        F = 2 * H if self.bidirectional else H  # width of each layer's output

        rng = np.random.default_rng(seed)
        self.params = {}
        for l in range(self.num_layers):
            for prefix in self._prefixes(l):
                for name, a in init_weights(rng, cell, D if l == 0 else F, H, dtype).items():
                    self.params[prefix + name] = a
        bound = 1 / np.sqrt(F)
        self.params["head.W"] = rng.uniform(-bound, bound, (F, C)).astype(dtype)
        self.params["head.b"] = np.zeros(C, dtype)

    def _prefixes(self, l):
        """Parameter name prefixes of layer l: forward direction, then backward if any."""
        return (f"layer{l}.", f"layer{l}.reverse.") if self.bidirectional else (f"layer{l}.",)

    def forward(self, x, *, train=False, rng=None):
        """Class scores for each sequence.

        Args:
            x: floating ``(N, T, D)``, ``D = input_size``; cast to the model's dtype.
            train: keyword-only, default False; dropout as in :meth:`CharRNN.forward`.
            rng: keyword-only, default None; as in :meth:`CharRNN.forward`.

        Returns:
            logits: ``(N, C)``.
            cache: :class:`SequenceClassifierCache` for :meth:`backward`.

        Raises:
            ValueError: ``x`` is not floating ``(N, T >= 1, input_size)``; dropout without ``rng``.
        """
        _check_dropout_rng(self.dropout, train, rng)
        check_ndim("x", x, 3, "(N, T, D)")
        N, T, D = np.shape(x)
        if D != self.input_size or T == 0:
            raise ValueError(f"x: expected shape (N, T >= 1, {self.input_size}), got {np.shape(x)}")
        if not np.issubdtype(np.asarray(x).dtype, np.floating):
            raise ValueError(f"x: expected a floating-point array (pixels scaled to [0, 1], e.g. "
                             f"course_lib.data.datasets.scale_pixels), got dtype {np.asarray(x).dtype}")
        x = np.asarray(x, self.dtype)
        p, H = self.params, self.hidden_size

        layer_caches, masks = [], []
        for l in range(self.num_layers):
            w = [_layer_weights(p, prefix, self.cell) for prefix in self._prefixes(l)]
            if self.bidirectional:
                h, cache = bidirectional_forward(x, self.cell, w[0], w[1])  # (N, T, 2H)
            else:
                zeros = np.zeros((N, H), self.dtype)
                state = (zeros, zeros) if self.cell == "lstm" else zeros
                h, cache, _ = layer_forward(self.cell, x, state, w[0])  # (N, T, H)
            mask = dropout_mask(self.dropout, h.shape, self.dtype, rng) if train else None
            x = h if mask is None else h * mask  # the next layer's (or the head's) input
            layer_caches.append(cache)
            masks.append(mask)

        # Each direction's final state: forward at t = T-1, backward (which read x
        # from right to left) at t = 0.
        if self.bidirectional:
            features = np.concatenate([x[:, -1, :H], x[:, 0, H:]], axis=1)  # (N, 2H)
        else:
            features = x[:, -1]  # (N, H)
        logits, head_cache = affine_forward(features, p["head.W"], p["head.b"])
        return logits, SequenceClassifierCache(layer_caches, masks, x.shape, head_cache)

    def backward(self, dlogits, cache):
        """Backward of :meth:`forward`: ``dlogits (N, C)`` -> grads dict keyed like ``params``."""
        H = self.hidden_size
        grads = {}
        dfeatures, grads["head.W"], grads["head.b"] = affine_backward(dlogits, cache.head)
        # Only the states the head read receive a gradient from it.
        dx = np.zeros(cache.shape, dfeatures.dtype)
        if self.bidirectional:
            dx[:, -1, :H] = dfeatures[:, :H]
            dx[:, 0, H:] = dfeatures[:, H:]
        else:
            dx[:, -1] = dfeatures
        for l in reversed(range(self.num_layers)):
            if cache.masks[l] is not None:
                dx = dx * cache.masks[l]
            if self.bidirectional:
                dx, g_fw, g_bw = bidirectional_backward(dx, cache.layers[l])
                layer_grads = [g_fw, g_bw]
            else:
                # Layer 0 reads the images: they owe nothing, so no dx there.
                dx, g_fw = layer_backward(self.cell, dx, cache.layers[l], input_grad=l > 0)
                layer_grads = [g_fw]
            for prefix, g in zip(self._prefixes(l), layer_grads):
                for name, a in g.items():
                    grads[prefix + name] = a
        return {name: grads[name] for name in self.params}

    def loss(self, x, y, *, train=False, rng=None):
        """Forward, cross-entropy and backward: ``x (N, T, D)``, integer labels ``y (N,)``
        -> ``(loss, grads)``; loss in nats, averaged over the batch."""
        logits, cache = self.forward(x, train=train, rng=rng)
        loss, dlogits = softmax_cross_entropy(logits, y)
        return loss, self.backward(dlogits, cache)

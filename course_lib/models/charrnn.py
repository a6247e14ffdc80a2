"""A character language model, ``CharRNN`` (``notebooks/02_rnn_bptt`` to ``04_char_rnn``).

See :mod:`course_lib.models` for what every model here shares: parameters, initialisation,
one-hot input, dropout.
"""

from dataclasses import dataclass

import numpy as np

from .._checks import check_count
from ..cells import init_weights, layer_backward, layer_forward
from ..layers import (
    dropout_mask,
    embedding_backward,
    embedding_forward,
    temporal_affine_backward,
    temporal_affine_forward,
)
from ..losses import softmax_cross_entropy
from ._base import Model, check_cell_and_dropout, check_dropout_rng, layer_weights


@dataclass
class CharRNNCache:
    """Kernel caches and masks, from :meth:`CharRNN.forward` for :meth:`CharRNN.backward`."""

    embed: object  # embedding_forward's cache (None for one-hot input)
    layers: list  # one recurrent kernel cache per layer
    masks: list  # one dropout mask (N, T, H) per layer output, or None
    head: object  # temporal_affine_forward's cache


class CharRNN(Model):
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

    Args:
        vocab_size: V, the number of characters.
        hidden_size: H, units per recurrent layer.
        cell: keyword-only, as are the rest; ``"rnn"``, ``"lstm"`` (the default) or ``"gru"``.
        num_layers: L; default 1.
        embedding_dim: E; None (the default): one-hot input.
        dropout: a probability in ``[0, 1)`` (see the module docstring); default 0.0.
        seed: of the initialisation; default 0.
        dtype: of the parameters and states; default ``np.float32``.

    Raises:
        ValueError: an unknown ``cell``, ``dropout`` outside ``[0, 1)``, or a size that is
            not an integer >= 1.
    """

    def __init__(self, vocab_size, hidden_size, *, cell="lstm", num_layers=1, embedding_dim=None,
                 dropout=0.0, seed=0, dtype=np.float32):
        check_cell_and_dropout(cell, dropout)
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
        """Zero state: a list of L entries, ``h (N, H)``, or ``(h, c)`` for lstm.

        Args:
            batch_size: N.

        Returns:
            list: the state, in the model's dtype, as :meth:`forward` takes it.

        Raises:
            ValueError: ``batch_size`` is not an integer >= 1.
        """
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
        check_dropout_rng(self.dropout, train, rng)
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
            w = layer_weights(p, f"layer{l}.", self.cell)
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

        Raises:
            ValueError: as in :meth:`forward`, or ``targets`` (or ``mask``) does not fit.
        """
        logits, cache, new_state = self.forward(idx, state, train=train, rng=rng)
        loss, dlogits = softmax_cross_entropy(logits, targets, mask)
        return loss, self.backward(dlogits, cache), new_state

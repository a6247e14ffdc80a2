"""A sequence classifier, ``SequenceClassifier``: an image read one row per time step
(for ``notebooks/05_mnist_rows``, to come).

See :mod:`course_lib.models` for what every model here shares: parameters, initialisation,
dropout.
"""

from dataclasses import dataclass

import numpy as np

from .._checks import check_count, check_ndim
from ..birnn import bidirectional_backward, bidirectional_forward
from ..cells import init_weights, layer_backward, layer_forward
from ..layers import affine_backward, affine_forward, dropout_mask
from ..losses import softmax_cross_entropy
from ._base import Model, check_cell_and_dropout, check_dropout_rng, layer_weights


@dataclass
class SequenceClassifierCache:
    """Kernel caches and masks, from :meth:`SequenceClassifier.forward` for ``backward``."""

    layers: list  # one kernel cache per layer (bidirectional_forward's when bidirectional)
    masks: list  # one dropout mask per layer output (N, T, H or 2H), or None
    shape: tuple  # (N, T, width) of the last layer's output
    head: object  # affine_forward's cache


class SequenceClassifier(Model):
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

    Args:
        input_size: D, features per time step (28 for MNIST rows).
        hidden_size: H, units per direction of a layer.
        num_classes: C.
        cell: keyword-only, as are the rest; ``"rnn"``, ``"lstm"`` (the default) or ``"gru"``.
        num_layers: L; default 1.
        bidirectional: read each sequence in both directions; default False.
        dropout: a probability in ``[0, 1)`` (see the module docstring); default 0.0.
        seed: of the initialisation; default 0.
        dtype: of the parameters; default ``np.float32``.

    Raises:
        ValueError: an unknown ``cell``, ``dropout`` outside ``[0, 1)``, or a size that is
            not an integer >= 1.
    """

    def __init__(self, input_size, hidden_size, num_classes, *, cell="lstm", num_layers=1,
                 bidirectional=False, dropout=0.0, seed=0, dtype=np.float32):
        check_cell_and_dropout(cell, dropout)
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
        check_dropout_rng(self.dropout, train, rng)
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
            w = [layer_weights(p, prefix, self.cell) for prefix in self._prefixes(l)]
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
        """Backward of :meth:`forward`: ``dlogits (N, C)`` -> grads dict keyed like ``params``.

        Args:
            dlogits: ``(N, C)`` gradient on the logits.
            cache: from :meth:`forward`.

        Returns:
            grads: dict keyed exactly like ``params``, each the shape of its parameter.
        """
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
        -> ``(loss, grads)``; loss in nats, averaged over the batch.

        Args:
            x: floating ``(N, T, D)``, as in :meth:`forward`.
            y: integer labels ``(N,)`` in ``[0, C)``.
            train: keyword-only; as in :meth:`forward`.
            rng: keyword-only; as in :meth:`forward`.

        Returns:
            loss: float, mean nats over the batch.
            grads: dict keyed like ``params``.

        Raises:
            ValueError: as in :meth:`forward`, or ``y`` does not fit.
        """
        logits, cache = self.forward(x, train=train, rng=rng)
        loss, dlogits = softmax_cross_entropy(logits, y)
        return loss, self.backward(dlogits, cache)

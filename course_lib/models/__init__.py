"""Two recurrent models assembled from the course_lib kernels (model math, no plumbing).

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

Modules: :mod:`.charrnn` (``CharRNN``), :mod:`.classifier` (``SequenceClassifier``) and
:mod:`._base`, what the two share (building from a config, dropout's checks, the
weights of one layer).
"""

from .charrnn import CharRNN, CharRNNCache
from .classifier import SequenceClassifier, SequenceClassifierCache

__all__ = ["CharRNN", "CharRNNCache", "SequenceClassifier", "SequenceClassifierCache"]

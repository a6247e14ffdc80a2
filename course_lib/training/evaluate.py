"""Evaluation: a model's mean loss (and accuracy) on held-out data, no gradients.

:func:`evaluate_lm` reads a text as parallel streams with the state carried
(``notebooks/02_rnn_bptt`` to ``04_char_rnn``); :func:`evaluate_classifier` reads
labelled examples in batches (for ``notebooks/05_mnist_rows``, to come).
"""

import numpy as np

from ..activations import log_softmax
from ..data.batching import stream_batches


def evaluate_lm(model, ids, batch_size=16, seq_len=128):
    """Mean loss of a language model over a sequence of ids, in nats per prediction.

    The ids are read as ``batch_size`` streams, ``seq_len`` steps at a time, carrying
    the hidden state from chunk to chunk (as in training, but with ``train=False``: no
    dropout, no gradients). Every id except the first of each stream is predicted once.

    Args:
        model: a model with ``forward(idx, state, *, train) -> (logits, cache, new_state)``.
        ids: integer array ``(L,)``, e.g. ``vocab.encode(val_text)``.
        batch_size: N streams; fewer means longer context per stream, more is faster.
        seq_len: T, the steps per forward call (only speed and memory depend on it).

    Returns:
        float: mean of ``-log p(next id)``; see :mod:`course_lib.training.metrics` for bits
        per character and perplexity.
    """
    total, count, state = 0.0, 0, None
    for x, y in stream_batches(ids, batch_size, seq_len, drop_last=False):
        logits, _, state = model.forward(x, state, train=False)
        log_p = log_softmax(logits)  # (N, T, V)
        picked = np.take_along_axis(log_p, y[..., None], axis=-1)
        total -= float(np.sum(picked, dtype=np.float64))
        count += y.size
    return total / count


def evaluate_classifier(model, X, y, batch_size=256):
    """Mean cross-entropy loss and accuracy of a classifier, batch by batch.

    Args:
        model: a model with ``forward(x, *, train) -> (logits (B, C), cache)``.
        X: inputs ``(n, ...)``, e.g. images read row by row ``(n, T, D)``.
        y: integer labels ``(n,)``.
        batch_size: rows per forward call (only speed and memory depend on it).

    Returns:
        ``(loss, accuracy)``: floats, the mean over all n examples.
    """
    X, y = np.asarray(X), np.asarray(y)
    total_loss, correct = 0.0, 0
    for start in range(0, len(X), batch_size):
        logits, _ = model.forward(X[start:start + batch_size], train=False)
        labels = y[start:start + batch_size]
        log_p = log_softmax(logits)
        total_loss -= float(np.sum(log_p[np.arange(len(labels)), labels], dtype=np.float64))
        correct += int(np.sum(logits.argmax(axis=-1) == labels))
    return total_loss / len(X), correct / len(X)

"""How good is a model? Losses in bits and perplexity, accuracy, confusion matrices,
and the moving average that shows a noisy loss curve's trend.

A language model's loss is the mean of ``-log p(next char)`` in **nats** (natural log),
what :func:`course_lib.losses.softmax_cross_entropy` and
:func:`course_lib.training.evaluate_lm` return. Two other units say the same thing:

- **bits per character** = nats / ln 2: the average number of bits a compressor driven
  by the model would spend per character (uniform over 65 characters: log2 65 = 6.02);
- **perplexity** = e ** nats: the model is as unsure as if it picked uniformly among
  that many characters (uniform over 65 characters: 65).

Classifiers (MNIST in ``notebooks/05_mnist_rows``, to come) are scored by accuracy, and
the confusion matrix shows which classes are mistaken for which.
"""

import math

import numpy as np

from .._checks import check_count, check_shape


def bits_per_char(nats):
    """Mean loss in nats -> bits per character: ``nats / ln 2`` (a float or an array).

    Args:
        nats: a mean loss in nats per character, a float or an array of them.

    Returns:
        The same in bits per character, a float or an array of ``nats``' shape.
    """
    return nats / math.log(2)


def perplexity(nats):
    """Mean loss in nats -> perplexity: ``exp(nats)`` (a float or an array).

    Args:
        nats: a mean loss in nats per character, a float or an array of them.

    Returns:
        The perplexity, a NumPy float or an array of ``nats``' shape.
    """
    return np.exp(nats)


def moving_average(values, window):
    """The mean of each run of ``window`` consecutive values: a noisy curve's trend.

    Args:
        values: a non-empty 1-D sequence of numbers, e.g. ``history.loss``.
        window: how many values each mean covers, an integer >= 1. A ``window`` longer
            than ``values`` is shortened to all of them (a short CI-mode run still draws
            a point).

    Returns:
        float64 array ``(len(values) - window + 1,)``: mean ``k`` covers
        ``values[k : k + window]``, so plot it at the index of its last value,
        ``k + window - 1``.

    Raises:
        ValueError: ``values`` is not a non-empty 1-D sequence, or ``window`` is not an
            integer >= 1.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values: expected a non-empty 1-D sequence, got shape {values.shape}")
    window = min(check_count("window", window), len(values))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def _labels(name, a, num_classes=None):
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name}: expected integer class labels, got dtype {a.dtype}")
    if num_classes is not None and a.size and (a.min() < 0 or a.max() >= num_classes):
        bad = a[(a < 0) | (a >= num_classes)].flat[0]
        raise ValueError(f"{name}: label {bad} is outside [0, {num_classes})")
    return a


def accuracy(logits_or_preds, y, mask=None):
    """The fraction of positions where the prediction equals the label.

    Args:
        logits_or_preds: class scores of shape ``y.shape + (C,)`` (the argmax is the
            prediction), or integer predictions of ``y``'s shape.
        y: integer labels, e.g. ``(N,)`` or ``(N, T)``.
        mask: optional, ``y``'s shape; only truthy positions count (padding). None (the
            default): every position counts.

    Returns:
        float: a Python float in ``[0, 1]``.

    Raises:
        ValueError: ``y`` is not integer; ``logits_or_preds`` is neither logits nor
            integer predictions of the shapes above; ``mask`` is not of ``y``'s shape;
            there is no position to count (empty ``y``, or a mask with no truthy
            position).
    """
    y = _labels("y", y)
    pred = np.asarray(logits_or_preds)
    if pred.ndim == y.ndim + 1 and pred.shape[:-1] == y.shape:
        pred = pred.argmax(axis=-1)
    elif pred.shape == y.shape:
        pred = _labels("preds", pred)
    else:
        raise ValueError(
            f"logits_or_preds: expected logits of shape {y.shape} + (C,) or predictions "
            f"of shape {y.shape}, got {pred.shape}"
        )
    correct = pred == y
    if mask is None:
        if correct.size == 0:
            raise ValueError("y: no labels, and the accuracy of nothing is undefined")
        return float(correct.mean())
    mask = np.asarray(mask).astype(bool)
    check_shape("mask", mask, y.shape)
    if not mask.any():
        raise ValueError("mask: counts no position, and the accuracy of nothing is undefined")
    return float(correct[mask].mean())


def confusion_matrix(y_true, y_pred, num_classes):
    """Count how often each true class is predicted as each class.

    Args:
        y_true: integer labels of any shape, each in ``[0, num_classes)``.
        y_pred: integer labels of ``y_true``'s shape, each in ``[0, num_classes)``.
        num_classes: C, an integer >= 1.

    Returns:
        M: int64 array ``(C, C)``: entry ``[i, j]`` counts the positions with true
            class i predicted as j. Rows are the truth (as scikit-learn), so the
            diagonal holds the correct predictions, ``M.sum(1)`` the class counts and
            ``M.trace() / M.sum()`` the accuracy.

    Raises:
        ValueError: ``num_classes`` is not an integer >= 1; ``y_true`` or ``y_pred``
            is not integer or holds a label outside ``[0, num_classes)``; the two
            shapes differ.
    """
    check_count("num_classes", num_classes)
    y_true = _labels("y_true", y_true, num_classes)
    y_pred = _labels("y_pred", y_pred, num_classes)
    check_shape("y_pred", y_pred, y_true.shape)
    # Pair (i, j) -> the single number i * C + j; one bincount counts every pair.
    pairs = y_true.ravel().astype(np.int64) * num_classes + y_pred.ravel()
    return np.bincount(pairs, minlength=num_classes * num_classes).reshape(num_classes, num_classes)

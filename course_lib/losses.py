"""Softmax cross-entropy, with a mask for padded sequences.

Derived in ``notebooks/01_activations_and_cross_entropy``: the gradient of
``-log softmax(z)[y]`` with respect to the logits ``z`` is ``softmax(z) - onehot(y)``,
which is why the loss and its gradient are computed together.
"""

import numpy as np

from ._checks import check_shape, float_dtype
from .activations import log_softmax


def softmax_cross_entropy(logits, y, mask=None):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    Args:
        logits: floating array ``(N, C)`` or ``(N, T, C)``; the last axis holds the C
            class scores.
        y: integer array of shape ``logits.shape[:-1]``, i.e. ``(N,)`` or ``(N, T)``;
            labels in ``[0, C)``.
        mask: optional array of ``y``'s shape (bool, or numbers read as truthy/falsy);
            only positions where it is truthy count. Masked-out positions behave like
            PyTorch's ``ignore_index``: their label is not read (so a padding label such
            as -100 is fine there) and their gradient is zero. None: every position counts.

    Returns:
        loss: Python float, the mean of ``-log softmax(logits)[y]`` over counted positions
            (what ``torch.nn.functional.cross_entropy(..., reduction="mean")`` gives).
        dlogits: array of ``logits``' shape and dtype, the gradient of ``loss``.

    Raises:
        ValueError: a label outside ``[0, C)`` at a counted position (naming the label
            and its position); ``logits`` not a 2-D or 3-D floating-point array; ``y``
            or ``mask`` of the wrong shape or dtype; a mask that counts no position, or
            ``logits`` with no position at all (the mean over nothing is undefined).
    """
    float_dtype(logits=logits)
    logits = np.asarray(logits)
    if logits.ndim not in (2, 3):
        raise ValueError(f"logits: expected a 2-D (N, C) or 3-D (N, T, C) array, got shape {logits.shape}")
    C = logits.shape[-1]
    y = np.asarray(y)
    layout = "(N,)" if logits.ndim == 2 else "(N, T)"
    check_shape("y", y, logits.shape[:-1])
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y: expected an integer array {layout} of labels, got dtype {y.dtype}")

    if mask is None:
        counted = np.ones(y.shape, dtype=bool)
    else:
        mask = np.asarray(mask)
        check_shape("mask", mask, y.shape)
        if not (mask.dtype == bool or np.issubdtype(mask.dtype, np.number)):
            raise ValueError(f"mask: expected a boolean or numeric array {layout}, got dtype {mask.dtype}")
        counted = mask.astype(bool)
    n_counted = int(np.count_nonzero(counted))
    if n_counted == 0 and mask is None:
        raise ValueError(f"logits: shape {logits.shape} holds no position to average over")
    if n_counted == 0:
        raise ValueError("mask: counts no position, and the mean over zero positions is undefined")

    bad = counted & ((y < 0) | (y >= C))
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"y: label {y[position]} at position {position} is outside [0, {C})")

    log_probs = log_softmax(logits)  # (N, C) or (N, T, C)
    # logits' shape, True at each label; all False where a masked placeholder label
    # lies outside [0, C), and those positions are dropped below anyway.
    onehot = np.arange(C) == y[..., None]
    # Summed in float64 so that a float32 loss over many positions does not drift.
    loss = -float(np.sum(log_probs[onehot & counted[..., None]], dtype=np.float64)) / n_counted

    # d(-log softmax(z)[y]) / dz = softmax(z) - onehot(y) at each counted position, and
    # the mean divides every term by the number of counted positions.
    with np.errstate(under="ignore"):  # exp of a very negative log-prob is exactly 0
        dlogits = np.exp(log_probs) - onehot
    dlogits[~counted] = 0
    dlogits /= n_counted
    return loss, dlogits

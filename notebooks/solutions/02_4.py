import numpy as np

from course_lib.exercises import rnn_bptt as ex
from course_lib.rnn import rnn_forward


def rnn_weight_grads_truncated(dh, xs, h0, Wx, Wh, b, k):
    """Weight gradients when each loss term's gradient flows back at most k steps."""
    N, T, _ = xs.shape
    hs, _ = rnn_forward(xs, h0, Wx, Wh, b)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for s in range(T):  # one loss term at a time: its gradient dh[:, s] on h_s
        grad = dh[:, s]
        for t in range(s, max(0, s - k + 1) - 1, -1):  # steps s, s-1, ..., s-k+1
            h_before = hs[:, t - 1] if t > 0 else h0
            da = grad * (1 - hs[:, t] ** 2)
            dWx += xs[:, t].T @ da
            dWh += h_before.T @ da
            db += da.sum(axis=0)
            grad = da @ Wh.T  # on to h_{t-1}; dropped after the k-th step
    return dWx, dWh, db


# How much of the full dWh each truncation keeps, on a random RNN near the edge (for the
# model trained in the notebook, pass its float64 weights and a real dh instead).
rng = np.random.default_rng(0)
N, T, D, H = 8, 64, 16, 32
xs, h0 = rng.standard_normal((N, T, D)), np.zeros((N, H))
Wx = rng.standard_normal((D, H)) / np.sqrt(D)
Wh = rng.standard_normal((H, H))
Wh *= 1.1 / np.max(np.abs(np.linalg.eigvals(Wh)))
b, dh = np.zeros(H), rng.standard_normal((N, T, H))
full = rnn_weight_grads_truncated(dh, xs, h0, Wx, Wh, b, T)[1]
for k in (1, 4, 16):
    horizon = rnn_weight_grads_truncated(dh, xs, h0, Wx, Wh, b, k)[1]
    chunked = ex.chunked_weight_grads(dh, xs, h0, Wx, Wh, b, k)[1]
    print(f"k = {k:>2}: relative error of dWh with a fixed horizon "
          f"{np.linalg.norm(horizon - full) / np.linalg.norm(full):.3f}, "
          f"with chunks of k {np.linalg.norm(chunked - full) / np.linalg.norm(full):.3f}")

ex.check_truncated_grads(rnn_weight_grads_truncated)

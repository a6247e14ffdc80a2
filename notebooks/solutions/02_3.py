import numpy as np

from course_lib.exercises import rnn_bptt as ex


def fast_rnn_backward(dh, xs, h0, hs, Wx, Wh):
    """BPTT with one loop for dL/da_t and one matrix product per weight gradient."""
    N, T, D = xs.shape
    H = Wh.shape[0]
    da = np.empty((N, T, H))
    dh_from_future = np.zeros((N, H))
    for t in reversed(range(T)):  # only what must be sequential
        da[:, t] = (dh[:, t] + dh_from_future) * (1 - hs[:, t] ** 2)
        dh_from_future = da[:, t] @ Wh.T
    h_before = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # h_{t-1} for every step
    # Stack the N*T rows: each weight gradient is then one matrix product over all steps.
    da_rows = da.reshape(N * T, H)
    dWx = xs.reshape(N * T, D).T @ da_rows
    dWh = h_before.reshape(N * T, H).T @ da_rows
    db = da_rows.sum(axis=0)
    dx = (da_rows @ Wx.T).reshape(N, T, D)
    return dx, dh_from_future, dWx, dWh, db


ex.check_fast_rnn_backward(fast_rnn_backward)

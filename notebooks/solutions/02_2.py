import numpy as np

from course_lib.exercises import rnn_bptt as ex


def step_jacobian(x, h_prev, Wx, Wh, b):
    """dh_next/dh_prev for one step of one example: x (D,), h_prev (H,) -> J (H, H)."""
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    # h_next[i] = tanh(sum_j h_prev[j] Wh[j, i] + ...), so
    # dh_next[i]/dh_prev[j] = (1 - h_next[i]**2) * Wh[j, i]: Wh transposed, row i scaled.
    return (1 - h_next**2)[:, None] * Wh.T


# For fun: the product of 50 Jacobians, dh_50/dh_0, for a W_h of spectral radius 1.5.
rng = np.random.default_rng(0)
H, D = 32, 8
Wh = rng.standard_normal((H, H))
Wh *= 1.5 / np.max(np.abs(np.linalg.eigvals(Wh)))
Wx = rng.standard_normal((D, H)) / np.sqrt(D)
b = np.zeros(H)
for input_scale in (0.1, 3.0):
    h, product = np.zeros(H), np.eye(H)
    for _ in range(50):
        x = input_scale * rng.standard_normal(D)
        product = step_jacobian(x, h, Wx, Wh, b) @ product  # chain rule: one step more
        h = np.tanh(x @ Wx + h @ Wh + b)
    largest = np.linalg.svd(product, compute_uv=False)[0]
    print(f"input scale {input_scale}: largest singular value of dh_50/dh_0 = {largest:.3g}")

ex.check_step_jacobian(step_jacobian)

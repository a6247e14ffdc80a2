import numpy as np

from course_lib.exercises import optimizers as ex


def adamw_step(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """One AdamW step: returns the new p; keeps t, m and v in the dict `state`."""
    state["t"] = t = state.get("t", 0) + 1
    p = p * (1 - lr * weight_decay)  # decoupled: the decay never goes through m or v
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
    m_hat = state["m"] / (1 - beta1**t)
    v_hat = state["v"] / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


ex.check_adamw_step(adamw_step)

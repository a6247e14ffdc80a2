# %% [markdown]
# # 02 · The vanilla RNN: forward, backprop through time, vanishing and exploding gradients
#
# A recurrent network reads a sequence one step at a time and keeps a **hidden state**,
# a vector that summarises what it has read so far. This notebook builds the simplest
# one, the vanilla (Elman) RNN, from its one-line recurrence: we run it forward, derive
# its gradient by **backpropagation through time** (BPTT) and check every formula with
# numbers. Then we look at what makes these networks hard to train: gradients that fade
# away or blow up as they travel back in time, and the two tools that keep training
# going anyway, **gradient clipping** and **truncated BPTT**.
#
# **Learning goals.** After this notebook you can
#
# - write the forward pass of a vanilla RNN, one step and a whole sequence, and state the
#   shape of every array; translate between min-char-rnn's column form and the row form
#   of `course_lib`;
# - derive BPTT step by step, implement the backward step yourself, and check it against
#   numerical gradients and against `course_lib.rnn`;
# - explain with a plot why the gradient $\partial L/\partial h_t$ vanishes or explodes
#   with distance, and how the spectral radius of $W_h$ and tanh saturation decide which;
# - clip gradients by norm or by value, say what each does to the gradient's direction,
#   and read from a training run when clipping fires;
# - train with truncated BPTT and say what is lost at the chunk boundaries and what
#   carrying the hidden state across them buys.

# %%
# On Google Colab only: fetch the course, install it and download its datasets (a minute
# or two, once per session). Anywhere else (your laptop, Binder, the tests) it does nothing.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    COURSE_DIR = "/content/rnn-course"
    if not os.path.isdir(COURSE_DIR):
        subprocess.run(["git", "clone", "--depth=1", "https://github.com/rnn-course/rnn-course", COURSE_DIR], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", COURSE_DIR], check=True)
    sys.path.insert(0, COURSE_DIR)  # an editable install is seen only after a restart
    os.chdir(f"{COURSE_DIR}/notebooks")  # where the notebooks find solutions/ and ../img/
    from course_lib.data.download import FILES, fetch

    for name in FILES:
        fetch(name)

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from course_lib import minchar
from course_lib.activations import log_softmax, softmax
from course_lib.data.batching import stream_batches, train_val_split
from course_lib.data.datasets import load_tinyshakespeare
from course_lib.data.vocab import CharVocab
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.layers import temporal_affine_backward, temporal_affine_forward
from course_lib.losses import softmax_cross_entropy
from course_lib.models import CharRNN
from course_lib.notebook import nb02_rnn_bptt as nb02
from course_lib.notebook import widgets
from course_lib.notebook.modes import by_mode
from course_lib.notebook.style import OKABE_ITO, use_course_style
from course_lib.optim import SGD, clip_grad_norm, clip_grad_value
from course_lib.rnn import (
    rnn_backward,
    rnn_backward_reference,
    rnn_forward,
    rnn_forward_reference,
    rnn_step_backward,
    rnn_step_forward,
)
from course_lib.training import NonFiniteError, TruncatedBPTT, evaluate_lm, fit

use_course_style()  # colour-blind-safe colours; COURSE_LECTURE=1 for a projector

# %% [markdown]
# ## 1. The recurrence
#
# At every time step $t$ the network reads an input $x_t$ and mixes it with its previous
# state $h_{t-1}$:
#
# $$a_t = x_t W_x + h_{t-1} W_h + b, \qquad h_t = \tanh(a_t).$$
#
# `course_lib` works on a **batch** of $N$ examples at once, one example per row:
#
# | symbol | shape | what it is |
# | --- | --- | --- |
# | $x_t$ | $(N, D)$ | the inputs at step $t$, $D$ features each |
# | $h_{t-1}, h_t$ | $(N, H)$ | the hidden states before and after the step, $H$ units |
# | $W_x$ | $(D, H)$ | input-to-hidden weights |
# | $W_h$ | $(H, H)$ | hidden-to-hidden (recurrent) weights |
# | $b$ | $(H,)$ | bias, added to every row |
# | $a_t$ | $(N, H)$ | the pre-activation |
#
# The tanh keeps every unit in $(-1, 1)$, so the state cannot grow without bound however
# long the sequence. Written by hand, one step is one line:

# %%
rng = np.random.default_rng(0)
N, D, H = 3, 4, 5  # batch size, input features, hidden units
x = rng.standard_normal((N, D))
h_prev = rng.standard_normal((N, H))
Wx = 0.5 * rng.standard_normal((D, H))
Wh = 0.5 * rng.standard_normal((H, H))
b = 0.1 * rng.standard_normal(H)

h_next = np.tanh(x @ Wx + h_prev @ Wh + b)  # by hand

# %% [markdown]
# The same step from `course_lib`, which also returns a `cache`: what the backward pass
# will need (section 3).

# %%
# NBVAL_CHECK_OUTPUT
h_next_lib, cache = rnn_step_forward(x, h_prev, Wx, Wh, b)
assert np.allclose(h_next, h_next_lib)
print("h_next:", h_next.shape, "  by hand == rnn_step_forward  OK")

# %% [markdown]
# ### Unrolling in time
#
# A sequence $x_1, \dots, x_T$ is read by applying the same step $T$ times, starting from
# an initial state $h_0$ (usually zeros). Drawn out, this **unrolled** network is an
# ordinary feed-forward graph, $T$ layers deep, in which every layer uses the *same*
# $W_x$, $W_h$ and $b$: **parameter sharing**. Two things follow. The number of
# parameters does not depend on $T$, so one network reads sequences of any length. And
# since each weight is used $T$ times, its gradient will be a sum of $T$ contributions,
# one per use (section 3).
#
# ![A vanilla RNN rolled up and unrolled in time, with the gradient flowing backwards](../img/rnn_unrolled.png)
#
# A sequence is an array $(N, T, D)$; all its hidden states form $(N, T, H)$, with
# `h[:, t - 1]` holding $h_t$ (Python counts from 0). The unrolled loop, by hand:

# %%
T = 6
xs = rng.standard_normal((N, T, D))  # N sequences of T steps
h0 = np.zeros((N, H))

h = h0
hs_by_hand = []
for t in range(T):
    h = np.tanh(xs[:, t] @ Wx + h @ Wh + b)  # the same Wx, Wh, b at every step
    hs_by_hand.append(h)
hs_by_hand = np.stack(hs_by_hand, axis=1)  # (N, T, H)

# %% [markdown]
# `course_lib.rnn` keeps exactly this loop, written with its step kernel, as
# `rnn_forward_reference`: the form to read. Its step caches, one per step, are what the
# backward pass (section 3) will need.

# %%
print(inspect.getsource(rnn_forward_reference))
hs_reference, _ = rnn_forward_reference(xs, h0, Wx, Wh, b)
assert np.allclose(hs_reference, hs_by_hand)
print("hand-written loop == rnn_forward_reference  OK")

# %% [markdown]
# `course_lib.rnn.rnn_forward`, the kernel the rest of the course trains with, computes
# the same thing, organised for speed: the input projections $x_t W_x$ of all $T$ steps
# in one matrix product, and only the part that must be sequential, $h_{t-1} W_h$ and the
# tanh, inside the loop.

# %%
# NBVAL_CHECK_OUTPUT
hs, seq_cache = rnn_forward(xs, h0, Wx, Wh, b)
assert np.allclose(hs, hs_by_hand)
print("x:", xs.shape, "-> h:", hs.shape, "  hand-written loop == rnn_forward  OK")

# The same weights read a sequence of any length: nothing in them depends on T.
n_params = Wx.size + Wh.size + b.size
for length in (3, 50):
    h_any, _ = rnn_forward(rng.standard_normal((N, length, D)), h0, Wx, Wh, b)
    print(f"T = {length:>2}: h {h_any.shape}, with the same {n_params} parameters")

# %% [markdown]
# ## 2. Column form and row form: min-char-rnn versus `course_lib`
#
# Karpathy's [min-char-rnn](https://gist.github.com/karpathy/d4dee566867f8291f086)
# (`course_lib.minchar`, shown in full in notebook 04) writes the same network the way a
# blackboard does: vectors are **columns** and a weight matrix multiplies from the left,
#
# $$h_t = \tanh(W_{xh}\, x_t + W_{hh}\, h_{t-1} + b_h), \qquad
# x_t\ (V, 1),\ h_t\ (H, 1),\ W_{xh}\ (H, V),\ W_{hh}\ (H, H),\ b_h\ (H, 1),$$
#
# one sequence at a time, with one-hot characters as inputs ($V$ the vocabulary size).
# Transpose both sides and use $(AB)^\top = B^\top A^\top$:
#
# $$h_t^\top = \tanh(x_t^\top W_{xh}^\top + h_{t-1}^\top W_{hh}^\top + b_h^\top).$$
#
# That is exactly the row form of section 1, for a batch of $N = 1$ row, with
#
# $$W_x = W_{xh}^\top\ (V, H), \qquad W_h = W_{hh}^\top\ (H, H), \qquad b = b_h^\top
# \text{ flattened to } (H,).$$
#
# The two forms are the same network, stored transposed. Row form is what batches well:
# $N$ examples are $N$ rows stacked into $x_t$ $(N, D)$, the batch is the first axis as
# everywhere in NumPy, and `x_t @ Wx` handles the whole batch in one matrix product.
# (PyTorch is in between: it *stores* `weight_ih_l0` as $(H, D)$, the column-form
# matrix, and computes `x @ weight_ih_l0.T`; so `course_lib`'s `Wx` is
# `weight_ih_l0.T`.) Let us check it with numbers: min-char-rnn's parameters, one step
# in each form.

# %%
V, H_mc, T_mc = 7, 5, 8  # vocabulary, hidden units, steps of the chunk
rng = np.random.default_rng(1)
col = {  # min-char-rnn's parameter layout (minchar.init_params), with larger weights
    "Wxh": 0.5 * rng.standard_normal((H_mc, V)),
    "Whh": 0.5 * rng.standard_normal((H_mc, H_mc)),
    "Why": 0.5 * rng.standard_normal((V, H_mc)),
    "bh": 0.1 * rng.standard_normal((H_mc, 1)),
    "by": 0.1 * rng.standard_normal((V, 1)),
}
inputs = rng.integers(V, size=T_mc)  # character ids
targets = rng.integers(V, size=T_mc)
hprev = 0.5 * rng.standard_normal((H_mc, 1))

# One step in column form: a one-hot column x (V, 1).
x_col = np.zeros((V, 1))
x_col[inputs[0]] = 1
h_col = np.tanh(col["Wxh"] @ x_col + col["Whh"] @ hprev + col["bh"])  # (H, 1)

# The same step in row form: x_col.T is a batch of one row (1, V).
h_row, _ = rnn_step_forward(x_col.T, hprev.T, col["Wxh"].T, col["Whh"].T, col["bh"].ravel())  # (1, H)

# %%
# NBVAL_CHECK_OUTPUT
print("column form h:", h_col.shape, "  row form h:", h_row.shape)
assert np.allclose(h_col.T, h_row)
print("h_col.T == h_row  OK")
# Forgetting to transpose the square W_hh raises no error: the shapes still fit.
h_wrong, _ = rnn_step_forward(x_col.T, hprev.T, col["Wxh"].T, col["Whh"], col["bh"].ravel())
print("with Whh instead of Whh.T, largest difference:", round(float(np.abs(h_wrong - h_row).max()), 4))

# %% [markdown]
# The last line is the trap to remember: $W_{xh}^\top$ has a different shape from
# $W_{xh}$, so forgetting that transpose fails loudly, but $W_{hh}$ is square, and
# forgetting *its* transpose gives a different network without any error.
#
# The same holds for a whole chunk, loss and gradients included. `minchar.loss_fun` runs
# the forward pass, the cross-entropy **summed** over the $T$ steps, and BPTT, all in
# column form. In row form the chunk is `rnn_forward` on one-hot rows, an affine head
# $\hat y_t = h_t W_y + b_y$ with $W_y = W_{hy}^\top$ (`temporal_affine_forward`), and
# `softmax_cross_entropy`, which takes the **mean**. So the losses differ by a factor $T$,
# and so do the gradients; and every row-form gradient is the transpose of its
# column-form twin.

# %%
loss_col, grads_col, _ = minchar.loss_fun(col, inputs, targets, hprev, clip=None)

onehot = np.eye(V)[inputs][None]  # (1, T, V): one sequence of one-hot rows
h_seq, rnn_cache = rnn_forward(onehot, hprev.T, col["Wxh"].T, col["Whh"].T, col["bh"].ravel())
logits, head_cache = temporal_affine_forward(h_seq, col["Why"].T, col["by"].ravel())
loss_row, dlogits = softmax_cross_entropy(logits, targets[None])
dh_seq, dWy, dby = temporal_affine_backward(dlogits, head_cache)
_, _, dWx, dWh, db = rnn_backward(dh_seq, rnn_cache)

# %%
# NBVAL_CHECK_OUTPUT
assert np.isclose(loss_col, T_mc * loss_row)
print(f"loss: min-char-rnn's sum over {T_mc} steps == {T_mc} x course_lib's mean  OK")
row_twin = {"Wxh": dWx.T, "Whh": dWh.T, "Why": dWy.T, "bh": db[:, None], "by": dby[:, None]}
for name, grad in row_twin.items():
    assert np.allclose(grads_col[name], T_mc * grad)
    print(f"d{name:<3} {str(grads_col[name].shape):<7} == {T_mc} x (row-form gradient).T  OK")

# %% [markdown]
# ## 3. Backpropagation through time
#
# ### 3.1 One step backward
#
# The backward pass of one step receives $\partial L/\partial h_t$, written `dh_next`
# $(N, H)$, and returns the gradient with respect to each input of the step. Two rules
# do all the work:
#
# - **tanh, elementwise:** $h = \tanh(a)$ has $\partial h/\partial a = 1 - \tanh^2(a) =
#   1 - h^2$, computed from the *output* $h_t$ that the forward pass already has:
#   $$\frac{\partial L}{\partial a_t} = \frac{\partial L}{\partial h_t} \odot (1 - h_t^2)
#   \qquad (N, H).$$
# - **a matrix product** $a = u\,W$, with $u$ $(N, K)$ and $W$ $(K, H)$: entry by entry,
#   $a_{nj} = \sum_k u_{nk} W_{kj}$, so
#   $\partial L/\partial W_{kj} = \sum_n u_{nk}\, \partial L/\partial a_{nj}$ and
#   $\partial L/\partial u_{nk} = \sum_j \partial L/\partial a_{nj}\, W_{kj}$, i.e.
#   $$\frac{\partial L}{\partial W} = u^\top \frac{\partial L}{\partial a}\ (K, H),
#   \qquad \frac{\partial L}{\partial u} = \frac{\partial L}{\partial a} W^\top\ (N, K).$$
#   (The shapes alone tell you where the transposes go: there is only one way to make a
#   $(K, H)$ out of $(N, K)$ and $(N, H)$.)
#
# Applied to $a_t = x_t W_x + h_{t-1} W_h + b$, with `da` $= \partial L/\partial a_t$:
#
# | gradient | formula | shape |
# | --- | --- | --- |
# | `dx` | $\partial L/\partial a_t\; W_x^\top$ | $(N, D)$ |
# | `dh_prev` | $\partial L/\partial a_t\; W_h^\top$ | $(N, H)$ |
# | `dWx` | $x_t^\top\; \partial L/\partial a_t$ | $(D, H)$ |
# | `dWh` | $h_{t-1}^\top\; \partial L/\partial a_t$ | $(H, H)$ |
# | `db` | $\sum_n \partial L/\partial a_t$ (the bias was added to every row) | $(H,)$ |
#
# Here it is as you would type it:

# %%
def step_backward(dh_next, x, h_prev, h_next, Wx, Wh):
    """Gradients of one RNN step, given dL/dh_next (N, H)."""
    da = dh_next * (1 - h_next**2)  # through the tanh
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db


# %% [markdown]
# We trust it only once it agrees with **numerical gradients**, central differences
# computed by `course_lib.gradcheck.numerical_gradient` (notebook 00 explains the check).
# As there, the loss is $L = \sum h_{next} \odot dh_{next}$ for a random `dh_next`, whose
# gradient with respect to $h_{next}$ is exactly `dh_next`.

# %%
rng = np.random.default_rng(2)
x = rng.standard_normal((N, D))
h_prev = rng.standard_normal((N, H))
dh_next = rng.standard_normal((N, H))
h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
mine = step_backward(dh_next, x, h_prev, h_next, Wx, Wh)


def one_step(_):
    """h_next, recomputed from the arrays that numerical_gradient nudges in place.

    The nudged array, passed as the argument, is one of those read here: ignore it.
    """
    return np.tanh(x @ Wx + h_prev @ Wh + b)


# %%
# NBVAL_CHECK_OUTPUT
library = rnn_step_backward(dh_next, rnn_step_forward(x, h_prev, Wx, Wh, b)[1])
for name, value, my_grad, lib_grad in zip(["x", "h_prev", "Wx", "Wh", "b"], [x, h_prev, Wx, Wh, b], mine, library):
    error = rel_error(my_grad, numerical_gradient(one_step, value, dh_next))
    assert error < 1e-7, f"d{name}: relative error {error:.1e}"
    assert np.allclose(my_grad, lib_grad)
    print(f"{'d' + name:<8} {str(my_grad.shape):<7} numerical: rel. error < 1e-7  OK   == rnn_step_backward  OK")

# %% [markdown]
# A classic slip is to take the tanh derivative at the wrong place, $1 - h_{t-1}^2$
# instead of $1 - h_t^2$. The numbers are of the right shape and size, so nothing
# looks wrong, except to the check:

# %%
# NBVAL_CHECK_OUTPUT
dWh_slip = h_prev.T @ (dh_next * (1 - h_prev**2))  # wrong: tanh' of the previous state
error = rel_error(dWh_slip, numerical_gradient(one_step, Wh, dh_next))
assert error > 1e-2
print("dWh with 1 - h_prev**2: relative error > 1e-2  caught")

# %% [markdown]
# ### 3.2 A whole sequence
#
# Over a sequence, the loss reaches $h_t$ along two paths: directly, from whatever reads
# $h_t$ at step $t$ (the output layer, the loss $L_t$), and through the future, since
# $h_t$ feeds $h_{t+1}$. So the gradient arriving at step $t$ is the sum
#
# $$\frac{\partial L}{\partial h_t} = \underbrace{g_t}_{\text{from step } t\text{'s output}}
# + \underbrace{\frac{\partial L}{\partial a_{t+1}} W_h^\top}_{\text{from step } t+1}
# \qquad (N, H),$$
#
# where $g_t$ is the upstream gradient `dh[:, t-1]` (all of them together: `dh`, shape
# $(N, T, H)$), and the second term is the `dh_prev` of step $t+1$ (zero after the last
# step). BPTT walks the steps **backwards**, $t = T, T-1, \dots, 1$, because each one
# needs the gradient that comes from the step after it. The weights are shared, so their
# gradients add up over all steps:
#
# $$\frac{\partial L}{\partial W_h} = \sum_{t=1}^{T} h_{t-1}^\top \frac{\partial L}{\partial a_t},
# \qquad \frac{\partial L}{\partial W_x} = \sum_{t=1}^{T} x_t^\top \frac{\partial L}{\partial a_t},
# \qquad \frac{\partial L}{\partial b} = \sum_{t=1}^{T} \sum_n \frac{\partial L}{\partial a_t}.$$
#
# Each term is the gradient of one *copy* of the weight in the unrolled graph: the
# gradient of a shared weight is the sum of the gradients of its copies. Our step,
# looped:

# %%
def bptt(dh, xs, h0, hs, Wx, Wh):
    """Backprop through a whole sequence with step_backward. dh, hs: (N, T, H); xs: (N, T, D)."""
    T = xs.shape[1]
    dxs = np.zeros_like(xs)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_from_future = np.zeros_like(h0)  # nothing comes back from after the last step
    for t in reversed(range(T)):
        h_before = hs[:, t - 1] if t > 0 else h0
        dh_total = dh[:, t] + dh_from_future  # the two paths into this state
        dxs[:, t], dh_from_future, dWx_t, dWh_t, db_t = step_backward(dh_total, xs[:, t], h_before, hs[:, t], Wx, Wh)
        dWx += dWx_t  # one copy of each weight per step: add their gradients
        dWh += dWh_t
        db += db_t
    return dxs, dh_from_future, dWx, dWh, db  # what comes out at the start is dL/dh0


# %% [markdown]
# Checked three times: against numerical gradients of the sequence loss
# $L = \sum_t \sum h_t \odot g_t$; against `course_lib.rnn.rnn_backward_reference`, which
# is this very loop written with `rnn_step_backward`; and against the fast
# `course_lib.rnn.rnn_backward`, which computes the same thing with the weight gradients
# as one matrix product over all steps.

# %%
rng = np.random.default_rng(3)
xs = rng.standard_normal((N, T, D))
h0 = rng.standard_normal((N, H))
dh = rng.standard_normal((N, T, H))  # an upstream gradient on every hidden state
hs, seq_cache = rnn_forward(xs, h0, Wx, Wh, b)
mine = bptt(dh, xs, h0, hs, Wx, Wh)
library = rnn_backward(dh, seq_cache)
_, reference_cache = rnn_forward_reference(xs, h0, Wx, Wh, b)
for mine_grad, reference_grad in zip(mine, rnn_backward_reference(dh, reference_cache)):
    assert np.allclose(mine_grad, reference_grad)  # the same loop, in course_lib


def whole_sequence(_):  # as one_step: the nudged array is one of those read here
    return rnn_forward(xs, h0, Wx, Wh, b)[0]


# %%
# NBVAL_CHECK_OUTPUT
for name, value, my_grad, lib_grad in zip(["x", "h0", "Wx", "Wh", "b"], [xs, h0, Wx, Wh, b], mine, library):
    error = rel_error(my_grad, numerical_gradient(whole_sequence, value, dh))
    assert error < 1e-7, f"d{name}: relative error {error:.1e}"
    assert np.allclose(my_grad, lib_grad)
    print(f"{'d' + name:<4} {str(my_grad.shape):<10} numerical: rel. error < 1e-7  OK   == rnn_backward  OK")

# %% [markdown]
# ## 4. Vanishing and exploding gradients
#
# Suppose the loss sits on the last state only, so that $g_t = 0$ for $t < T$. Then the
# backward recursion is a product. Writing $D_t = \mathrm{diag}(1 - h_t^2)$ for one
# example (a row vector $\partial L/\partial h_t$ of length $H$),
#
# $$\frac{\partial L}{\partial h_{t-1}} = \frac{\partial L}{\partial h_t}\, D_t\, W_h^\top
# \quad\Longrightarrow\quad
# \frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}
# \prod_{s=T}^{t+1} \big(D_s\, W_h^\top\big).$$
#
# A product of $T - t$ matrices, ordered from $s = T$ on the left to $s = t + 1$ on the
# right. Since $0 < 1 - h^2 \le 1$, every $D_s$ can only shrink a
# vector, and
#
# $$\Big\lVert \frac{\partial L}{\partial h_t} \Big\rVert \le
# \Big\lVert \frac{\partial L}{\partial h_T} \Big\rVert\, \sigma_{\max}(W_h)^{\,T-t},$$
#
# with $\sigma_{\max}$ the largest singular value. Without the tanh (a *linear* RNN, all
# $D_s = I$), the gradient is $\partial L/\partial h_T\, (W_h^\top)^{T-t}$, and the size of
# a matrix power is ruled by the **spectral radius** $\rho(W_h)$, the largest
# $|\lambda|$ over the eigenvalues: $\lVert A^k \rVert^{1/k} \to \rho(A)$ (Gelfand's
# formula). So the gradient behaves like $\rho^{\,T-t}$: it **vanishes** exponentially
# when $\rho < 1$ and **explodes** exponentially when $\rho > 1$. The tanh adds its
# factors $1 - h_s^2$: near 1 while the units are small, near 0 when they **saturate**
# at $\pm 1$, which happens when the inputs are large.
#
# The experiment: a random $W_h$ $(64 \times 64)$ rescaled to a chosen spectral radius,
# inputs of a chosen scale, a loss $L = \sum h_T \odot g$ with $\lVert g \rVert = 1$, and
# the norm of $\partial L/\partial h_t$ at every step on the way back. By hand:

# %%
def gradient_norms(Wh, Wx, xs, g):
    """||dL/dh_t|| for t = 0..T, for the loss L = sum(h_T * g) of an RNN with b = 0, h0 = 0."""
    N, T, _ = xs.shape
    hs, _ = rnn_forward(xs, np.zeros((N, Wh.shape[0])), Wx, Wh, np.zeros(Wh.shape[0]))
    dh = g
    norms = [np.linalg.norm(dh)]
    for t in reversed(range(T)):  # hs[:, t] is h_{t+1}
        dh = (dh * (1 - hs[:, t] ** 2)) @ Wh.T
        norms.append(np.linalg.norm(dh))
    return np.array(norms[::-1])


def random_rnn(spectral_radius, seq_len, input_scale, H=64, D=16, N=16, seed=0):
    rng = np.random.default_rng(seed)
    Wh = rng.standard_normal((H, H))
    Wh *= spectral_radius / np.max(np.abs(np.linalg.eigvals(Wh)))  # rescale to rho
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    xs = input_scale * rng.standard_normal((N, seq_len, D))
    g = rng.standard_normal((N, H))
    return Wh, Wx, xs, g / np.linalg.norm(g)


# %% [markdown]
# Two checks before we trust the curve: its first value, $\lVert\partial L/\partial h_0\rVert$,
# must be the norm of the `dh0` that `rnn_backward` returns for the same loss; and the
# widget below draws with `nb02.gradient_norms_through_time`, which must give the
# same numbers (it draws its weights from the same seed, in the same order).

# %%
# NBVAL_CHECK_OUTPUT
Wh_r, Wx_r, xs_r, g_r = random_rnn(spectral_radius=1.2, seq_len=40, input_scale=0.5)
norms_by_hand = gradient_norms(Wh_r, Wx_r, xs_r, g_r)

_, cache_r = rnn_forward(xs_r, np.zeros((16, 64)), Wx_r, Wh_r, np.zeros(64))
dh_last_only = np.zeros((16, 40, 64))
dh_last_only[:, -1] = g_r  # the loss reads h_T only
dh0_lib = rnn_backward(dh_last_only, cache_r)[1]
assert np.isclose(norms_by_hand[0], np.linalg.norm(dh0_lib))
print("||dL/dh_0|| by hand == ||dh0|| from rnn_backward  OK")

norms_widget, _ = nb02.gradient_norms_through_time(1.2, 40, 0.5)
assert np.allclose(norms_by_hand, norms_widget)
print("by hand == nb02.gradient_norms_through_time  OK")

# %% [markdown]
# ### 4.1 The spectral radius decides
#
# Small inputs first (scale 0.1), so that the inputs alone keep the units in tanh's
# linear middle. Solid: the
# tanh RNN; dashed: the linear RNN with the same $W_h$.

# %%
seq_len = 100
radii = [0.5, 0.9, 1.0, 1.1, 1.5, 2.0]
fig, ax = plt.subplots(figsize=(8, 4.5))
steps = np.arange(seq_len + 1)
for colour, rho in zip(OKABE_ITO, radii):
    norms, _ = nb02.gradient_norms_through_time(rho, seq_len, 0.1)
    linear, _ = nb02.gradient_norms_through_time(rho, seq_len, 0.1, linear=True)
    ax.semilogy(steps, norms, color=colour, linewidth=2, label=f"ρ = {rho}")
    ax.semilogy(steps, linear, color=colour, linestyle="--", linewidth=1)
ax.set_ylim(1e-20, 1e20)
ax.set(title="‖∂L/∂h_t‖ for a loss on h_T (solid: tanh RNN, dashed: linear RNN)",
       xlabel="time step t (the loss is on h_100, at the right)", ylabel="‖∂L/∂h_t‖ (log scale)")
ax.legend(title="spectral radius of W_h", ncol=2, fontsize=9)
plt.show()

# %% [markdown]
# On a log axis an exponential is a straight line, and the slope is $\log \rho$ per step.
# With $\rho = 0.5$ the gradient that reaches 100 steps back is $10^{-30}$ of what left
# the loss: whatever happened back there cannot influence learning. With $\rho = 2$ it is
# $10^{30}$ times larger in the linear RNN: one update with such a gradient throws the
# weights anywhere. The tanh bends every curve down, since its factors are all $\le 1$.
# Above $\rho = 1$ it bends them a lot even with these small inputs: a recurrence that
# stretches the state makes the state itself grow, until the tanh saturates it and
# $1 - h^2$ shrinks. The gradient of the tanh RNN still grows for $\rho = 1.5$ and $2$,
# but by $10^4$ to $10^6$ over 100 steps, not $10^{17}$ to $10^{30}$.
#
# ### 4.2 Saturation decides too
#
# Now fix $\rho = 1.5$, which explodes in the linear RNN, and make the inputs larger.
# Large inputs push the pre-activations far from 0, the units saturate near $\pm 1$,
# $1 - h^2$ drops towards 0, and the same $W_h$ now makes the gradient **vanish**. (The
# saturation widget of notebook 01 shows this for single units.)

# %%
fig = widgets.sweep(nb02.draw_gradient_norms, "input_scale", [0.03, 0.3, 3.0],
                    spectral_radius=1.5, seq_len=100, figsize_per_panel=(4.6, 3.6),
                    title="The same W_h (ρ = 1.5) with larger and larger inputs")
plt.show()

# %% [markdown]
# So a vanilla RNN lives on a knife edge: $\rho$ a little above 1 with unsaturated units
# explodes, and below 1, or with saturated units, vanishes. In both cases the gradient
# from far back is useless: the network cannot learn dependencies more than a few dozen
# steps long. This is the problem Bengio, Simard and Frasconi (1994) analysed, and the one
# LSTM (notebook 06) was designed to solve.
#
# That is also why `course_lib.models` starts $W_h$ as a random **orthogonal** matrix:
# every singular value is 1, so at the start the linear part of the recurrence neither
# shrinks nor stretches the gradient.

# %%
# NBVAL_CHECK_OUTPUT
Wh_init = CharRNN(vocab_size=65, hidden_size=128, cell="rnn", seed=0, dtype=np.float64).params["layer0.Wh"]
singular_values = np.linalg.svd(Wh_init, compute_uv=False)
rho_init = np.max(np.abs(np.linalg.eigvals(Wh_init)))
print(f"CharRNN's initial W_h {Wh_init.shape}: singular values from {singular_values.min():.4f} "
      f"to {singular_values.max():.4f}, spectral radius {rho_init:.4f}")

# %% [markdown]
# ### 4.3 Try it
#
# Move the sliders: the spectral radius of $W_h$, the sequence length $T$ and the scale
# of the inputs. Look for the spectral radius at which the tanh curve stays flat, and
# watch how it moves when the inputs grow.

# %%
nb02.gradient_norms_widget()

# %% [markdown]
# ## 5. Gradient clipping
#
# Vanishing gradients are a limit of the model; exploding ones are a hazard for
# training: one huge gradient, and a single step ruins the weights. The cheap fix
# (Mikolov 2012; Pascanu, Mikolov and Bengio 2013) is to cap the gradient before the
# update. Let $g$ be all the gradients together, one long vector, and $c$ a threshold.
#
# - **By norm:** if $\lVert g\rVert > c$, rescale it,
#   $$g \leftarrow g \cdot \frac{c}{\lVert g \rVert}.$$
#   Every entry shrinks by the same factor: the **direction is kept**, only the step gets
#   shorter. $c$ is a length, for all the parameters together.
# - **By value:** clip each entry on its own,
#   $$g_i \leftarrow \min(c, \max(-c, g_i)).$$
#   Only the large entries change, so the **direction changes**: the clipped vector leans
#   towards the diagonal of the box $[-c, c]^n$. $c$ is a bound per entry. min-char-rnn
#   does this, at $c = 5$.
#
# By hand, on a dict of gradients as `course_lib` models return them:

# %%
def clip_by_norm(grads, max_norm):
    total_norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = min(1.0, max_norm / total_norm)
    return {name: g * scale for name, g in grads.items()}


def clip_by_value(grads, clip_value):
    return {name: np.clip(g, -clip_value, clip_value) for name, g in grads.items()}


def flat(grads):
    """All the gradients as one long vector."""
    return np.concatenate([g.ravel() for g in grads.values()])


# %% [markdown]
# `course_lib.optim.clip_grad_norm` and `clip_grad_value` do the same **in place** (as
# PyTorch's `clip_grad_norm_` and `clip_grad_value_` do), and `clip_grad_norm` returns the
# norm before clipping; it divides by $\lVert g\rVert + 10^{-6}$, as PyTorch does, so it
# agrees with ours to about $10^{-6}$. Note the angle each one turns the gradient:

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(4)
grads = {"Wh": rng.standard_normal((4, 4)), "b": 3 * rng.standard_normal(4)}  # norm about 8.5
by_norm, by_value = clip_by_norm(grads, 1.0), clip_by_value(grads, 1.0)

lib_norm = {name: g.copy() for name, g in grads.items()}  # copies: the library clips in place
lib_value = {name: g.copy() for name, g in grads.items()}
norm_before = clip_grad_norm(lib_norm, 1.0)
clip_grad_value(lib_value, 1.0)
assert np.isclose(norm_before, np.linalg.norm(flat(grads)))
assert np.allclose(flat(by_norm), flat(lib_norm), rtol=1e-5)
assert np.allclose(flat(by_value), flat(lib_value))
print("by hand == clip_grad_norm, clip_grad_value  OK")
for label, clipped in (("by norm ", by_norm), ("by value", by_value)):
    turned = nb02.angle_between(flat(grads), flat(clipped))
    print(f"clipped {label}: norm {np.linalg.norm(flat(grads)):.4f} -> {np.linalg.norm(flat(clipped)):.4f}, "
          f"direction turned by {turned:.1f}°")

# %% [markdown]
# ### 5.1 In two dimensions
#
# With two parameters we can see it. Norm clipping pulls a long gradient back onto the
# circle of radius $c$, along its own direction. Value clipping pushes it into the square
# $[-c, c]^2$: a gradient that points steeply up and a little to the right comes out at
# 45°, the corner of the box, whatever its original slope. Only a gradient along an axis
# or a diagonal keeps its direction.

# %%
fig = widgets.sweep(nb02.draw_clipping_2d, "angle", [10, 45, 75], length=3.0, threshold=1.0,
                    figsize_per_panel=(4.2, 4.2), title="One gradient of length 3, clipped at 1 both ways")
plt.show()

# %% [markdown]
# Turn the gradient, stretch it, move the threshold. When does value clipping leave the
# direction alone? When does norm clipping do nothing at all?

# %%
nb02.clipping_widget()

# %% [markdown]
# ### 5.2 When clipping fires in a real training run
#
# Now a real model: a character-level language model (`course_lib.models.CharRNN` with
# `cell="rnn"`: one-hot characters in, one vanilla RNN layer, an affine head and softmax
# out; notebook 04 studies it in depth) on a slice of tiny-shakespeare. It trains with
# plain SGD at learning rate 1.0, on purpose a little too bold, three times: without
# clipping, clipping by norm at 1.0, and clipping by value at 0.05. `fit` (in
# `course_lib.training`) records the gradient norm of every step *before* clipping, and
# clips by norm when given `clip_norm`; for clipping by value we wrap the step function.
#
# Clipping by value needs a much smaller threshold than by norm: the threshold bounds one
# entry, and the norm of all the model's parameters' gradients (about 33,000 entries in
# full mode) is far larger than any one of them.

# %%
text = load_tinyshakespeare()
vocab = CharVocab.from_text(text)
ids = vocab.encode(text[: by_mode(full=300_000, ci=20_000)])
train_ids, val_ids = train_val_split(ids, val_size=0.1)  # contiguous: the last 10% for validation
print(f"{vocab.size} characters; {len(train_ids):,} for training, {len(val_ids):,} for validation")

hidden_size = by_mode(full=128, ci=32)
num_steps = by_mode(full=1500, ci=30)
val_every = by_mode(full=250, ci=15)
NORM_THRESHOLD, VALUE_THRESHOLD = 1.0, 0.05
n_params = sum(a.size for a in CharRNN(vocab.size, hidden_size, cell="rnn").params.values())
print(f"CharRNN with {hidden_size} hidden units: {n_params:,} parameters")


def train_char_rnn(clip_norm=None, clip_value=None, seq_len=64, carry_state=True, steps=num_steps,
                   validate=lambda model: evaluate_lm(model, val_ids)):
    """Train a vanilla-RNN CharRNN with SGD; returns (model, history, value-clipping stats)."""
    model = CharRNN(vocab.size, hidden_size, cell="rnn", seed=0)
    # Without carry_state every chunk starts from zeros (section 6).
    tbptt = TruncatedBPTT(model, train_ids, batch_size=32, seq_len=seq_len,
                          reset_every=None if carry_state else 1)
    optimizer = SGD(model.params, lr=1.0)
    stats = {"raw_norm": [], "clipped_fraction": [], "turned": []}

    def step(batch):
        loss, grads = tbptt.step(batch)
        if clip_value is not None:
            raw = flat(grads)
            clip_grad_value(grads, clip_value)
            stats["raw_norm"].append(float(np.linalg.norm(raw)))
            stats["clipped_fraction"].append(float(np.mean(np.abs(raw) > clip_value)))
            stats["turned"].append(nb02.angle_between(raw, flat(grads)))
        return loss, grads

    try:
        history = fit(step, tbptt.batches(), optimizer, num_steps=steps, clip_norm=clip_norm,
                      validate=lambda: validate(model), val_every=val_every)
    except NonFiniteError as error:  # fit refuses a NaN/inf step and tells us where
        print(error)
        history = error.history
    return model, history, stats


# %%
runs = {
    "no clipping": train_char_rnn(),
    f"by norm at {NORM_THRESHOLD}": train_char_rnn(clip_norm=NORM_THRESHOLD),
    f"by value at {VALUE_THRESHOLD}": train_char_rnn(clip_value=VALUE_THRESHOLD),
}

# %% [markdown]
# Most of what happens, happens early, so the step axis below is logarithmic.

# %%
fig, (ax_norm, ax_loss) = plt.subplots(1, 2, figsize=(13, 4.5))
for colour, (label, (model, history, stats)) in zip(OKABE_ITO, runs.items()):
    raw_norms = np.array(stats["raw_norm"] or history.grad_norm)  # the value run records its own
    steps_from_1 = np.array(history.step) + 1  # a log axis has no step 0
    ax_norm.loglog(steps_from_1, raw_norms, color=colour, linewidth=0.8, label=label)
    ax_loss.semilogx(steps_from_1, history.loss, color=colour, linewidth=0.8, label=label)
    if "norm" in label:
        fired = raw_norms > NORM_THRESHOLD
        ax_norm.plot(steps_from_1[fired], raw_norms[fired], "o", color=colour, markersize=4,
                     label="steps clipped by norm")
ax_norm.axhline(NORM_THRESHOLD, color="black", linestyle="--", linewidth=1, label=f"norm threshold {NORM_THRESHOLD}")
ax_norm.set(title="Gradient norm before clipping", xlabel="training step (log scale)", ylabel="‖g‖ (log scale)")
ax_norm.legend(fontsize=9)
ax_loss.axhline(np.log(vocab.size), color="grey", linestyle=":", linewidth=1, label="uniform guess, ln V")
ax_loss.set(title="Training loss", xlabel="training step (log scale)", ylabel="loss (nats per character)")
ax_loss.legend(fontsize=9)
plt.show()

for label, (model, history, stats) in runs.items():
    final_val = history.val_loss[-1] if history.val_loss else np.nan  # nan: stopped before validating
    raw_norms = np.array(stats["raw_norm"] or history.grad_norm)
    print(f"{label:<17} {len(history)} steps, final validation loss {final_val:.3f}; "
          f"the norm exceeded {NORM_THRESHOLD} on {np.mean(raw_norms > NORM_THRESHOLD):.0%} of the steps")

# %% [markdown]
# Read the left panel. In the first steps the loss surface is steep and the gradient
# norm jumps far above its usual size: the exploding gradient, in a real run. Without
# clipping, SGD takes those steps in full; they throw the weights into a region where
# the loss (right) is far *worse* than a uniform guess, and at this learning rate it
# never finds its way back. With clipping by norm the same spikes come (the curve shows
# the norm *before* clipping), but each is cut to length 1.0 before the update, and
# training goes on as if nothing happened. Clipping fires on a few percent of the steps,
# nearly all of them early: a safety net, not a change of optimizer. (On another machine the spikes can fall on other steps: the last digits of
# floating-point sums differ, and a few hundred steps of training amplify them.)
#
# Clipping by value fires much more often, and each time it bends the direction of the
# step. How much, and on how many of the entries:

# %%
model, history, stats = runs[f"by value at {VALUE_THRESHOLD}"]
fig, (ax_frac, ax_turn) = plt.subplots(1, 2, figsize=(13, 4))
steps_from_1 = np.array(history.step) + 1
ax_frac.semilogx(steps_from_1, np.array(stats["clipped_fraction"]) * 100, color=OKABE_ITO[2], linewidth=0.8)
ax_frac.set(title=f"Entries clipped by value at {VALUE_THRESHOLD}", xlabel="training step (log scale)",
            ylabel="entries clipped (%)")
ax_turn.semilogx(steps_from_1, stats["turned"], color=OKABE_ITO[3], linewidth=0.8)
ax_turn.set(title="How far value clipping turned the gradient", xlabel="training step (log scale)",
            ylabel="angle between g and clipped g (°)")
plt.show()
fired = np.mean(np.array(stats["clipped_fraction"]) > 0)
print(f"clipping by value changed the gradient on {fired:.0%} of the steps, "
      f"turning it by up to {max(stats['turned']):.0f}°")

# %% [markdown]
# A few percent of the entries at most, those of the largest gradients, are enough to
# turn the whole gradient by tens of degrees while the gradients are large: value
# clipping protects against explosions too, but it no longer follows the gradient. That is why the modern
# default is clipping by norm (`clip_norm` in `fit`, `clip_grad_norm_` in PyTorch), with
# a threshold set a little above the typical norm, as seen on a plot like the one above.
#
# ## 6. Truncated BPTT
#
# A text is one long sequence: tiny-shakespeare is a million characters. Backpropagating
# through all of it for each update would need every hidden state in memory and would
# update the weights once per pass. **Truncated BPTT** cuts the stream into chunks of
# `seq_len` steps (here 64) and does forward, backward and an update on each chunk.
# `course_lib.data.batching.stream_batches` cuts the text into 32 parallel streams and walks
# them chunk by chunk, so chunk $k + 1$ of each stream starts exactly where chunk $k$
# ended; `TruncatedBPTT` (used above) hands the final state of one chunk to the next as
# its initial state.
#
# ### 6.1 What is lost
#
# The carried state is treated as a constant: the backward pass of a chunk stops at its
# first step (`CharRNN`'s backward drops `dh0`). So the loss at step $s$ sends gradient
# to $h_t$ only if $t$ lies in the same chunk. A dependency reaching across a boundary
# can be *used* in the forward pass, through the carried state, but gradient descent
# gets no signal to *learn* it. Let us draw $\lVert\partial L_s/\partial h_t\rVert$, the gradient of
# the loss at step $s$ on the state at step $t \le s$, for the model just trained with
# norm clipping, on 64 characters of validation text, and the part truncation keeps with
# chunks of 16.
#
# The direct gradient of $L_s$ on $h_s$ comes through the head:
# $\partial L_s/\partial h_s = (p_s - \mathrm{onehot}(y_s))\, W_y^\top$; from there it
# travels back with the step of section 4, $\partial/\partial h_{t-1} =
# (\partial/\partial h_t \odot (1 - h_t^2))\, W_h^\top$.

# %%
model = runs[f"by norm at {NORM_THRESHOLD}"][0]
trained = {name: a.astype(np.float64) for name, a in model.params.items()}  # float64 for the checks
Wx_t, Wh_t, b_t, W_head, b_head = (trained[k] for k in ("layer0.Wx", "layer0.Wh", "layer0.b", "head.W", "head.b"))
span, chunk = 64, 16
x_ids, y_ids = next(stream_batches(val_ids, 8, span))  # 8 streams of 64 characters
onehot = np.eye(vocab.size)[x_ids]  # (8, 64, V)
hs, window_cache = rnn_forward(onehot, np.zeros((8, hidden_size)), Wx_t, Wh_t, b_t)
probs = softmax(hs @ W_head + b_head)  # (8, 64, V)
probs[np.arange(8)[:, None], np.arange(span), y_ids] -= 1  # p - onehot(y) = dL_s/dlogits_s
dh_direct = probs @ W_head.T  # (8, 64, H): dL_s/dh_s, for every s


def gradients_on_states(s):
    """dL_s/dh_t for t = 0 .. s (list index t), stepping back from dL_s/dh_s."""
    grads = [dh_direct[:, s]]
    for t in range(s, 0, -1):  # hs[:, t] is the state at step t; step back to t - 1
        grads.append((grads[-1] * (1 - hs[:, t] ** 2)) @ Wh_t.T)
    return grads[::-1]


reach = np.zeros((span, span))  # reach[s, t] = ||dL_s/dh_t|| over the 8 streams; 0 for t > s
for s in range(span):
    for t, grad in enumerate(gradients_on_states(s)):
        reach[s, t] = np.linalg.norm(grad)
same_chunk = (np.arange(span)[:, None] // chunk) == (np.arange(span)[None, :] // chunk)
kept = np.where(same_chunk, reach, 0.0)

# %% [markdown]
# Checked against the library, as always: `dh_direct` against the head's backward
# (`softmax_cross_entropy` takes the mean over the $8 \cdot 64$ positions, hence the
# factor), and the walk back from one loss term, one step further to the zero initial
# state, against the `dh0` that `rnn_backward` returns when only that loss sends gradient.

# %%
logits, head_cache = temporal_affine_forward(hs, W_head, b_head)
_, dlogits = softmax_cross_entropy(logits, y_ids)
assert np.allclose(temporal_affine_backward(dlogits, head_cache)[0] * y_ids.size, dh_direct)
s_check = 20
grad_first = gradients_on_states(s_check)[0]
to_initial_state = (grad_first * (1 - hs[:, 0] ** 2)) @ Wh_t.T
dh_one_loss = np.zeros_like(hs)
dh_one_loss[:, s_check] = dh_direct[:, s_check]
assert np.allclose(to_initial_state, rnn_backward(dh_one_loss, window_cache)[1])
print("dL_s/dh_s == head backward  OK;  walk back from one loss == rnn_backward's dh0  OK")

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
colour_scale = LogNorm(vmin=reach[reach > 0].min(), vmax=reach.max())
for ax, grid, title in ((axes[0], reach, "full BPTT"), (axes[1], kept, f"truncated, chunks of {chunk}")):
    image = ax.imshow(np.ma.masked_equal(grid, 0), norm=colour_scale)
    ax.set(title=f"‖∂L_s/∂h_t‖: {title}", xlabel="state h_t, step t", ylabel="loss L_s, step s")
fig.colorbar(image, ax=axes[1], label="gradient norm (log scale)")
distance = np.arange(span)
mean_by_distance = [np.mean(np.diagonal(reach, offset=-k)) for k in distance]
axes[2].semilogy(distance, mean_by_distance, color=OKABE_ITO[0])
axes[2].axvline(chunk, color="grey", linestyle="--", linewidth=1, label=f"chunk length {chunk}")
axes[2].set(title="How far back one loss reaches", xlabel="distance s − t (steps back)",
            ylabel="mean ‖∂L_s/∂h_t‖ (log scale)")
axes[2].legend()
for ax in axes[:2]:
    ax.grid(False)
plt.show()
dropped = reach[~same_chunk].sum() / reach.sum()
print(f"truncation at {chunk} drops {dropped:.1%} of the gradient norm summed over all (s, t) in this window")

# %% [markdown]
# Full BPTT fills the lower triangle; truncation keeps only the blocks on the diagonal.
# How far back a loss term reaches depends on where it falls in its chunk: the loss at
# the last step of a chunk reaches 15 steps back, the loss at the first step none at all,
# even to the state one step before. Those short cuts at the start of each chunk are
# most of what is dropped here. What truncation can never reach, dependencies longer
# than a chunk, a *vanilla* RNN could hardly learn anyway: the right panel shows its
# gradient fading by a factor of about 40 over 16 steps and $10^4$ over 40 (section 4's
# vanishing gradient, in a trained model). For an LSTM, whose gradients reach much
# further, the chunk length matters more. Exercise 4 compares this chunked truncation
# with one that gives every loss term the same horizon.
#
# ### 6.2 Carrying the state across chunks
#
# The forward pass is the other half. Carrying the final state of one chunk into the next
# gives the model the context of everything it read before, at no cost. The alternative,
# resetting to zeros at each chunk, is what you get if you cut the text into independent
# pieces. An experiment: two identical models, chunks of 16 characters, norm clipping at
# 1.0, one carrying its state and one resetting it.

# Each model is validated the way it reads text in training: the validation text in
# chunks of 16, the state carried or reset. This function also keeps the loss at each
# position of the chunk apart, which will show where the difference comes from.

# %%
def loss_by_position(model, ids, seq_len, carry_state):
    """Mean loss (nats) at each position of a chunk, the text read as 16 streams."""
    total, count, state = np.zeros(seq_len), 0, None
    for x, y in stream_batches(ids, 16, seq_len):
        logits, _, new_state = model.forward(x, state if carry_state else None)
        state = new_state
        picked = np.take_along_axis(log_softmax(logits), y[..., None], axis=-1)[..., 0]  # (16, seq_len)
        total -= picked.sum(axis=0)
        count += len(x)
    return total / count


steps_tbptt = by_mode(full=3000, ci=30)
carried = train_char_rnn(clip_norm=NORM_THRESHOLD, seq_len=chunk, steps=steps_tbptt,
                         validate=lambda model: loss_by_position(model, val_ids, chunk, True).mean())
reset = train_char_rnn(clip_norm=NORM_THRESHOLD, seq_len=chunk, steps=steps_tbptt, carry_state=False,
                       validate=lambda model: loss_by_position(model, val_ids, chunk, False).mean())

# %%
fig, (ax_val, ax_pos) = plt.subplots(1, 2, figsize=(13, 4.5))
for colour, (label, (model, history, _)) in zip(OKABE_ITO, (("state carried", carried), ("state reset", reset))):
    ax_val.plot(history.val_step, history.val_loss, "o-", color=colour, label=label)
    ax_pos.plot(np.arange(chunk), loss_by_position(model, val_ids, chunk, label == "state carried"), "o-",
                color=colour, label=f"{label} (as trained)")
ax_pos.plot(np.arange(chunk), loss_by_position(carried[0], val_ids, chunk, False), "s--", color=OKABE_ITO[0],
            alpha=0.6, label="state carried in training, reset here")
ax_val.set(title=f"Validation loss, read in chunks of {chunk} as in training", xlabel="training step",
           ylabel="loss (nats per character)")
ax_val.legend()
ax_pos.set(title=f"Validation loss at each position of a {chunk}-character chunk",
           xlabel="position in the chunk (0: the first prediction)", ylabel="loss (nats per character)")
ax_pos.legend(fontsize=9)
plt.show()
for label, (model, history, _) in (("carried", carried), ("reset", reset)):
    print(f"state {label:<8} validation loss: read as trained {history.val_loss[-1]:.3f}, "
          f"state carried through the whole text {evaluate_lm(model, val_ids):.3f}")

# %% [markdown]
# The right panel shows what carrying buys. Reset to zeros, the model makes its first
# prediction in every chunk from one character only (position 0 predicts the second
# character of the chunk from the first), its second from two; only after a few steps
# has it read enough to catch up. With the state carried, every position has the whole
# past, and the loss is flat. The shorter the chunks, the larger the share of these
# blind first steps. The dashed curve shows that a model trained with carried state
# *relies* on it: reset its state and its first predictions are worse still. The
# printout adds a twist: the model trained with resets, given a carried state when it
# is evaluated, recovers most of the gap (not all of it: the model trained with context
# also learned to use more of it).
#
# So in practice: carry the state forward, cut the gradient at the chunk boundary, and
# reset only where the text really restarts (`TruncatedBPTT` resets at each epoch). The
# gradient is truncated; the context is not.
#
# One reset is worth keeping on purpose. A model that has only ever read from carried
# states can fail badly from a zero state, not just at the first few characters: the
# course's char-LSTM, 300 steps into training, read the validation text from its first
# character at 6.4 nats per character (worse than guessing) while every other start gave
# 2.2, because the text's opening blank lines sent its cell into a regime training had
# never visited (`docs/benchmarks.md` has the whole story). So the course's char-rnn
# recipe (`python -m course_lib train`) also starts each stream from zeros once every
# 50 chunks, the streams taking turns (`TruncatedBPTT(..., fresh_state_every=50)`): that
# model keeps practising reading from nothing, at no measurable cost. It is a choice for
# that recipe, not a free lunch: on this section's vanilla RNN, trained by SGD at
# learning rate 1 and clipped by value, the same fresh starts made training worse.

# %% [markdown]
# ## 7. Exercises
#
# Each exercise ends with a checker that tells you whether your answer is right. The
# worked solution is one line away: uncomment the `# %load` line and run the cell.
#
# **Exercise 1 (quick): from min-char-rnn to `course_lib`.** Write `to_row_form(params)`
# that takes min-char-rnn's parameter dict (`Wxh (H, V)`, `Whh (H, H)`, `Why (V, H)`,
# `bh (H, 1)`, `by (V, 1)`) and returns the row-form dict `Wx (V, H)`, `Wh (H, H)`,
# `b (H,)`, `W (H, V)`, `b_out (V,)` of the same network.

# %%
from course_lib.exercises import rnn_bptt as ex


def to_row_form(params):
    """min-char-rnn's column-form parameters -> the same network in row form."""
    raise NotImplementedError("your code here")


ex.check_to_row_form(to_row_form)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/02_1.py

# %% [markdown]
# **Exercise 2: the Jacobian of one step.** For one example (no batch), write
# `step_jacobian(x, h_prev, Wx, Wh, b)` returning the $(H, H)$ matrix
# $J_{ij} = \partial h_{next,i} / \partial h_{prev,j}$. Section 4 multiplied these
# together; the checker compares yours with a numerical Jacobian. Then, for fun: draw a
# random $W_h$ with spectral radius 1.5 and a few random inputs, multiply 50 such
# Jacobians and look at the largest singular value of the product for small and large
# inputs.

# %%
def step_jacobian(x, h_prev, Wx, Wh, b):
    """dh_next/dh_prev for one step of one example: x (D,), h_prev (H,) -> J (H, H)."""
    raise NotImplementedError("your code here")


ex.check_step_jacobian(step_jacobian)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/02_2.py

# %% [markdown]
# **Exercise 3: BPTT the fast way.** `bptt` above calls `step_backward` at each step and
# adds up three weight gradients per step. Write `fast_rnn_backward(dh, xs, h0, hs, Wx, Wh)`
# that returns the same `(dx, dh0, dWx, dWh, db)` with only $\partial L/\partial a_t$
# computed inside the loop over time, and then each weight gradient as **one** matrix
# product over all steps (hint: stack the $N \cdot T$ rows). This is how
# `course_lib.rnn.rnn_backward` is organised.

# %%
def fast_rnn_backward(dh, xs, h0, hs, Wx, Wh):
    """BPTT with one loop for dL/da_t and one matrix product per weight gradient."""
    raise NotImplementedError("your code here")


ex.check_fast_rnn_backward(fast_rnn_backward)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/02_3.py

# %% [markdown]
# **Exercise 4 (project): truncation with a fixed horizon.** Chunked truncated BPTT
# (section 6) gives each loss term a horizon that depends on where it sits in its chunk.
# Another truncation, in the spirit of Williams and Peng's BPTT($h$) (1990): every loss
# $L_s$ sends its gradient back exactly $k$ steps (to $h_{s-k+1}$, or to the start of the sequence), on a
# sequence run without chunks. Write `rnn_weight_grads_truncated(dh, xs, h0, Wx, Wh, b, k)`
# that returns `(dWx, dWh, db)` of this truncation, where `dh[:, s]` is the gradient of
# $L_s$ on $h_s$. With $k \ge T$ it must equal `rnn_backward`'s. Then compare how far
# each truncation's `dWh` is from the full one, for a few $k$
# (`ex.chunked_weight_grads` computes the chunked kind).

# %%
def rnn_weight_grads_truncated(dh, xs, h0, Wx, Wh, b, k):
    """Weight gradients when each loss term's gradient flows back at most k steps."""
    raise NotImplementedError("your code here")


ex.check_truncated_grads(rnn_weight_grads_truncated)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/02_4.py

# %% [markdown]
# ## Summary
#
# - A vanilla RNN is one line, $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$, applied at every
#   step with the **same** weights. Unrolled, it is a deep feed-forward network with
#   shared weights. min-char-rnn's column form $W_{xh} x_t$ is the same network with
#   every matrix transposed; `course_lib` uses the row form because batches are rows.
# - **BPTT** is backpropagation on the unrolled graph: walk the steps backwards, add the
#   gradient from the step's own output to the one from the next step, push it through
#   $1 - h_t^2$ and $W_h^\top$; the gradient of each shared weight is the sum over steps.
#   Every formula was checked against numerical gradients and `course_lib.rnn`.
# - The gradient through $k$ steps is a product of $k$ Jacobians $D_s W_h^\top$. It
#   **explodes** like $\rho(W_h)^k$ when the spectral radius is above 1 and **vanishes**
#   when it is below, or when saturated units make $1 - h^2$ small. Either way, a vanilla
#   RNN struggles to learn dependencies more than a few dozen steps long.
# - **Clipping by norm** rescales the whole gradient and keeps its direction; **by value**
#   caps each entry and turns it. In a real run, norm clipping fires on a few steps, the
#   spikes, and that is enough to keep SGD from being thrown off a cliff.
# - **Truncated BPTT** backpropagates within chunks. It loses every gradient term that
#   crosses a boundary: short ones at the start of each chunk, and every dependency
#   longer than a chunk (which a vanilla RNN, whose gradient fades within a few dozen
#   steps, could hardly learn anyway). Carrying the hidden state across boundaries keeps
#   the context in the forward pass, for free.
#
# ## What to read next
#
# - **Notebook 03 · Optimizers**: SGD was enough here; momentum, RMSprop and Adam, and
#   learning-rate schedules, make training faster and less fragile.
# - **Notebook 04 · char-rnn**: the language model of section 5, trained properly,
#   sampled from, and looked inside; min-char-rnn in full.
# - **Notebook 06 · LSTM**: a cell whose gradient can travel through an additive path,
#   the answer to section 4.
# - Y. Bengio, P. Simard, P. Frasconi, *Learning long-term dependencies with gradient
#   descent is difficult*, IEEE Trans. Neural Networks, 1994: the vanishing gradient.
# - R. Pascanu, T. Mikolov, Y. Bengio, *On the difficulty of training recurrent neural
#   networks*, ICML 2013: exploding gradients, cliffs and clipping by norm.
# - R. J. Williams, J. Peng, *An efficient gradient-based algorithm for on-line training
#   of recurrent network trajectories*, Neural Computation, 1990: truncated BPTT.
# - P. J. Werbos, *Backpropagation through time: what it does and how to do it*, Proc.
#   IEEE, 1990.
# - *Dive into Deep Learning*, the section "Backpropagation Through Time" of its chapter
#   on recurrent neural networks: the same derivation in the column notation.
# - A. Karpathy, *The Unreasonable Effectiveness of Recurrent Neural Networks* (blog,
#   2015), and his min-char-rnn gist.

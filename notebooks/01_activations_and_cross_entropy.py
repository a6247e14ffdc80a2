# %% [markdown]
# # 01 · Activations, softmax and cross-entropy
#
# Every recurrent network in this course ends the same way: a nonlinearity squashes each
# hidden state, and a softmax turns the last layer's scores into probabilities that a
# cross-entropy loss compares with the truth. These few functions look trivial on paper,
# yet written naively they return `nan` on perfectly ordinary inputs, hide bugs behind
# plausible numbers, and decide whether gradients can flow at all. This notebook builds
# each one by hand, makes it exact for any input, and checks it against `course_lib`.
#
# **Learning goals.** After this notebook you can
#
# - plot sigmoid, tanh and ReLU with their derivatives, and explain *saturation*: why a
#   unit with a large pre-activation passes almost no gradient back;
# - say why `1 / (1 + np.exp(-z))` and `np.exp(z) / np.sum(np.exp(z))` overflow, and
#   write the stable forms (a piecewise sigmoid, log-sum-exp);
# - derive the gradient of softmax cross-entropy, $\partial J / \partial z = p - y$, and
#   confirm it with a numerical gradient check;
# - use integer or one-hot labels, the mean or the sum over a batch, and a mask for
#   padded sequences, and know what each choice changes;
# - catch a "softmax" that is secretly a sigmoid with a sum-to-one check and a gradient
#   check;
# - name the five ways a recurrent network maps inputs to outputs, and which loss shape
#   each one needs.

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
import matplotlib.pyplot as plt
import numpy as np

from course_lib import activations, losses
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.notebook import nb01_activations as nb01
from course_lib.notebook import widgets
from course_lib.notebook.modes import by_mode
from course_lib.notebook.style import use_course_style

use_course_style()  # colour-blind-safe colours; COURSE_LECTURE=1 for a projector

n_points = by_mode(full=801, ci=201)  # points on each plotted curve

# %% [markdown]
# ## 1. Three activations and their derivatives
#
# An activation acts on each number separately: for a pre-activation array $z$ of any
# shape (one row per example, e.g. $N \times H$), $f(z)$ has the same shape. The three the
# course uses:
#
# | | $f(z)$ | $f'(z)$ | range |
# | --- | --- | --- | --- |
# | sigmoid | $\sigma(z) = \dfrac{1}{1 + e^{-z}}$ | $\sigma(z)\,\bigl(1 - \sigma(z)\bigr)$ | $(0, 1)$ |
# | tanh | $\tanh(z) = \dfrac{e^{z} - e^{-z}}{e^{z} + e^{-z}}$ | $1 - \tanh^2(z)$ | $(-1, 1)$ |
# | ReLU | $\max(z, 0)$ | $1$ if $z > 0$, else $0$ | $[0, \infty)$ |
#
# The derivatives are written in terms of the *output* $f(z)$, not $z$: a backward pass
# has the output in its cache already, so $f'$ costs one multiplication. (At $z = 0$
# ReLU has no derivative; like PyTorch we use 0.)
#
# First the textbook formulas, typed as a learner would:

# %%
def sigmoid_by_hand(z):
    return 1 / (1 + np.exp(-z))


def tanh_by_hand(z):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


def relu_by_hand(z):
    return np.where(z > 0, z, 0.0)


# %% [markdown]
# On ordinary inputs they agree with `course_lib.activations`. The derivatives get two
# checks: against the library's `*_grad` helpers, and against central differences
# (`numerical_gradient` with an upstream gradient of ones gives $f'(z)$ elementwise).
# The grid has an even number of points, so it skips ReLU's kink at exactly 0. The
# tolerance is $10^{-6}$, not the usual $10^{-7}$: at $z = \pm 6$ tanh's derivative is only
# $2.5 \times 10^{-5}$, and the rounding error in the difference of two nearly equal values close to ±1,
# divided by $2h = 2 \times 10^{-5}$, is a noticeable fraction of it. Tiny derivatives are
# hard to check, a first hint of section 3.

# %%
# NBVAL_CHECK_OUTPUT
z_check = np.linspace(-6, 6, 120)  # (120,), never exactly 0
ones = np.ones_like(z_check)
cases = {
    "sigmoid": (sigmoid_by_hand, activations.sigmoid, activations.sigmoid_grad, lambda s: s * (1 - s)),
    "tanh": (tanh_by_hand, activations.tanh, activations.tanh_grad, lambda t: 1 - t**2),
    "relu": (relu_by_hand, activations.relu, activations.relu_grad, lambda r: (r > 0).astype(float)),
}
for name, (by_hand, library, library_grad, grad_from_output) in cases.items():
    out = library(z_check)
    assert np.allclose(by_hand(z_check), out)
    assert np.allclose(grad_from_output(out), library_grad(out))
    numerical = numerical_gradient(library, z_check, ones)
    assert rel_error(library_grad(out), numerical) < 1e-6
    print(f"{name:<8} f(z) and f'(z) match course_lib; f'(z) matches central differences (rel. error < 1e-6)  OK")

# %%
z = np.linspace(-6, 6, n_points)
fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(11, 4))
for name, f, f_grad in [("sigmoid", activations.sigmoid, activations.sigmoid_grad),
                        ("tanh", activations.tanh, activations.tanh_grad),
                        ("ReLU", activations.relu, activations.relu_grad)]:
    out = f(z)
    ax_f.plot(z, out, label=name)
    ax_df.plot(z, f_grad(out), label=name)
ax_f.set(title="Activations f(z)", xlabel="pre-activation z", ylabel="f(z)", ylim=(-1.2, 2.2))
ax_df.set(title="Derivatives f′(z)", xlabel="pre-activation z", ylabel="f′(z)", ylim=(-0.05, 1.1))
ax_f.legend()
ax_df.legend()
plt.show()

# %% [markdown]
# Read the right panel before going on: the sigmoid's derivative is never above
# $\tfrac14$, tanh's is 1 only at $z = 0$, and both fall towards 0 as $|z|$ grows.
# ReLU's is exactly 1 for every positive $z$ and exactly 0 for every negative one.
#
# Sigmoid and tanh are the same curve, shifted and rescaled:
# $\tanh(z) = 2\sigma(2z) - 1$, or equally $\sigma(z) = \tfrac12\bigl(1 + \tanh(z/2)\bigr)$.
# Remember the second form: it comes back as a bug in section 5.

# %%
# NBVAL_CHECK_OUTPUT
assert np.allclose(activations.tanh(z_check), 2 * activations.sigmoid(2 * z_check) - 1)
assert np.allclose(activations.sigmoid(z_check), 0.5 * (1 + activations.tanh(z_check / 2)))
print("tanh(z) = 2 sigmoid(2z) - 1 and sigmoid(z) = (1 + tanh(z/2)) / 2  OK")

# %% [markdown]
# ## 2. Why the textbook formulas overflow
#
# A float64 holds numbers up to about $1.8 \times 10^{308}$, so $e^z$ is finite only
# for $z < \ln(1.8 \times 10^{308}) \approx 709.78$. In float32, the type networks are
# trained in, the limit is $z < 88.72$. Past it, NumPy returns `inf` and warns:

# %%
np.exp(1000.0)

# %% [markdown]
# Logits of a few hundred are not exotic: a badly initialised layer, a learning rate a
# little too high, or a confident model produce them. Here is what the textbook
# formulas make of large inputs, with the warnings silenced so that the table can be
# read (each `inf` or `nan` below came with a `RuntimeWarning`):

# %%
# NBVAL_CHECK_OUTPUT
print(f"largest float64 {np.finfo(np.float64).max:.4g}: exp overflows above z = {np.log(np.finfo(np.float64).max):.2f}")
print(f"largest float32 {np.finfo(np.float32).max:.4g}: exp overflows above z = {np.log(np.finfo(np.float32).max):.2f}")
print()

z_big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    rows = {
        "1 / (1 + exp(-z))": sigmoid_by_hand(z_big),
        "exp(z) / (1 + exp(z))": np.exp(z_big) / (1 + np.exp(z_big)),
        "log(1 / (1 + exp(-z)))": np.log(sigmoid_by_hand(z_big)),
        "(e^z - e^-z)/(e^z + e^-z)": tanh_by_hand(z_big),
    }
print(f"{'z':<27}" + "".join(f"{v:>10g}" for v in z_big))
for formula, values in rows.items():
    print(f"{formula:<27}" + "".join(f"{v:>10.4g}" for v in values))

# %% [markdown]
# Three kinds of failure, all silent unless you read the warnings:
#
# - **`inf / inf = nan`**: the second sigmoid formula at $z = 1000$, and the tanh formula
#   at $z = \pm 1000$.
#   One `nan` in a forward pass turns every weight into `nan` at the next update.
# - **An answer that happens to be right, with a warning**: `1 / (1 + inf)` is 0, which
#   is the correct $\sigma(-1000)$ to double precision. Luck, not design.
# - **A log of a rounded-off zero**: $\log \sigma(-1000)$ is exactly $-1000$, but the
#   formula computes $\log 0 = -\infty$. A loss of $-\infty$ or $+\infty$ has no usable
#   gradient. This is why the library computes log-probabilities directly (below).
#
# ### 2.1 The stable sigmoid: never give `exp` a positive number
#
# $e^{-|z|}$ lies in $(0, 1]$ for every $z$: it cannot overflow. For $z \ge 0$ use
# $\sigma(z) = 1 / (1 + e^{-z})$; for $z < 0$ multiply top and bottom by $e^{z}$:
#
# $$\sigma(z) = \begin{cases} \dfrac{1}{1 + e^{-|z|}} & z \ge 0 \\[2ex] \dfrac{e^{-|z|}}{1 + e^{-|z|}} & z < 0 \end{cases}$$
#
# Both branches use the same $e^{-|z|}$, computed once. (Writing
# `np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))` does *not*
# help: `np.where` evaluates both branches for every element, overflow included.)

# %%
def sigmoid_stable(z):
    e = np.exp(-np.abs(z))  # in (0, 1]: cannot overflow
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


# %% [markdown]
# With every floating-point error turned into an exception (underflow excepted: $e^{-10^4}$
# rounding to 0 *is* the exact answer in float64), the hand-written version and
# `course_lib.activations.sigmoid` agree bit for bit at the extremes, and agree in
# float32 too:

# %%
# NBVAL_CHECK_OUTPUT
z_extreme = np.array([-1e4, -1000.0, -30.0, 0.0, 30.0, 1000.0, 1e4])
with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
    s_by_hand = sigmoid_stable(z_extreme)
    s_library = activations.sigmoid(z_extreme)
    s32 = activations.sigmoid(z_extreme.astype(np.float32))
assert np.array_equal(s_by_hand, s_library)
assert s32.dtype == np.float32 and np.allclose(s32, s_library)
for z_value, s_value in zip(z_extreme, s_library):
    print(f"sigmoid({z_value:g}) = {s_value:.4g}")
print("no overflow, hand-written == course_lib bit for bit, float32 stays float32  OK")

# %% [markdown]
# NumPy's own `np.tanh` is already exact at the extremes (`course_lib.activations.tanh`
# simply calls it); exercise 1 asks you to write the same piecewise trick for tanh.
#
# ### 2.2 Softmax and log-sum-exp
#
# The softmax turns a row of $C$ scores (logits) $z \in \mathbb{R}^{C}$ into
# probabilities $p \in (0, 1)^{C}$ that sum to 1; on a batch $Z$ of shape $(N, C)$ it
# acts on each row:
#
# $$p_c = \operatorname{softmax}(z)_c = \frac{e^{z_c}}{\sum_{k=1}^{C} e^{z_k}}.$$
#
# It does not change if the same number $m$ is subtracted from every logit of a row (the
# factor $e^{-m}$ cancels between top and bottom). With $m = \max_k z_k$ every exponent is
# $\le 0$ and the largest term is exactly $e^0 = 1$. Taking logs gives the
# **log-sum-exp**:
#
# $$\operatorname{LSE}(z) = \log \sum_k e^{z_k} = m + \log \sum_k e^{z_k - m},
# \qquad \log p_c = z_c - \operatorname{LSE}(z).$$
#
# The sum inside the log is between 1 and $C$, so the log is finite and small: the
# log-probabilities are exact even when some $p_c$ rounds to 0.

# %%
def logsumexp_by_hand(z):
    """LSE over the last axis, kept as a (..., 1) column so it broadcasts against z."""
    m = np.max(z, axis=-1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def log_softmax_by_hand(z):
    return z - logsumexp_by_hand(z)


def softmax_by_hand(z):
    return np.exp(log_softmax_by_hand(z))


# %% [markdown]
# The naive `np.exp(z) / np.sum(np.exp(z))` against the stable versions and the library,
# on three rows of logits (shape $(3, 3)$): an extreme row, three equal large logits, and
# an ordinary row.

# %%
# NBVAL_CHECK_OUTPUT
Z = np.array([[1e4, -1e4, 0.0],
              [1000.0, 1000.0, 1000.0],
              [1.0, 2.0, 3.0]])
with np.errstate(over="ignore", invalid="ignore"):
    p_naive = np.exp(Z) / np.sum(np.exp(Z), axis=-1, keepdims=True)
print("naive softmax:\n", p_naive.round(4))

with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
    p = softmax_by_hand(Z)
    log_p = log_softmax_by_hand(Z)
    assert np.allclose(p, activations.softmax(Z))
    assert np.allclose(log_p, activations.log_softmax(Z))
assert np.array_equal(log_p[0], [0.0, -2e4, -1e4])  # exact, not merely close
print("stable softmax:\n", p.round(4))
with np.printoptions(suppress=True):  # plain decimals, not 1e4 notation
    print("stable log_softmax:\n", log_p.round(4))
print("rows sum to", p.sum(axis=-1).round(4), "; hand-written == course_lib  OK")

# %% [markdown]
# Look at the first row. Its softmax is `[1, 0, 0]`: the probabilities of the second and
# third classes are below $10^{-4000}$ and round to 0. Their *log*-probabilities are
# exactly $-20000$ and $-10000$. A loss computed as `np.log(softmax(z))` would be
# $+\infty$ for a label on either class; computed from `log_softmax` it is a large,
# finite number with a useful gradient. That is why `course_lib.losses` works from
# `log_softmax`, and why PyTorch's `cross_entropy` takes logits, not probabilities.

# %% [markdown]
# ## 3. Saturation: when the derivative vanishes
#
# In a backward pass the gradient reaching a unit's pre-activation is the gradient
# reaching its output times the derivative there, elementwise (both $N \times H$):
#
# $$\frac{\partial L}{\partial z} = \frac{\partial L}{\partial h} \odot f'(z), \qquad h = f(z).$$
#
# Where $f'(z) \approx 0$ the unit is **saturated**: whatever the loss says, almost
# nothing passes back, and the weights feeding that unit barely move. The numbers:

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'z':>5} {'tanh′(z)':>11} {'sigmoid′(z)':>12} {'relu′(z)':>9}")
for z_value in [0.5, 1.0, 2.0, 5.0, 10.0, -10.0]:
    zz = np.array([z_value])
    d_tanh = activations.tanh_grad(activations.tanh(zz))[0]
    d_sigmoid = activations.sigmoid_grad(activations.sigmoid(zz))[0]
    d_relu = activations.relu_grad(activations.relu(zz))[0]
    print(f"{z_value:>5g} {d_tanh:>11.4e} {d_sigmoid:>12.4e} {d_relu:>9g}")

# %% [markdown]
# At $|z| = 5$ tanh passes back less than two ten-thousandths of the gradient; at
# $|z| = 10$, a hundred-millionth. In a recurrent network the same factor is applied once
# per time step, so a few saturated steps are enough to erase the gradient from the
# distant past: this is one half of the *vanishing gradient* problem of notebook 02.
# ReLU never saturates for $z > 0$, but a unit whose $z$ is negative for every input
# gets exactly 0 and stops learning altogether (a "dead" ReLU).
#
# How often are units saturated? Suppose a layer's pre-activations are spread like
# $z \sim \mathcal{N}(0, \sigma^2)$; the spread $\sigma$ grows with the scale of the weights
# and of the inputs. The widget draws the distribution of $f'(z)$ over 4000 such units
# (`nb01.draw_saturation`); move the scale and watch the mass pile up at 0.

# %%
nb01.saturation_widget()

# %% [markdown]
# The same at three fixed scales (what the widget shows, for readers without a live
# kernel):

# %%
widgets.sweep(nb01.draw_saturation, "input_scale", [0.5, 2.0, 8.0],
              title="tanh′(z) over 4000 units, for three spreads of z", activation="tanh")
plt.show()

# %% [markdown]
# The widget's numbers are computed by `nb01.saturation`; a quick check that they
# mean what the titles say, against the derivative written by hand:

# %%
# NBVAL_CHECK_OUTPUT
for scale in [0.5, 2.0, 8.0]:
    z_units, derivative, saturated = nb01.saturation(scale, "tanh")
    assert np.allclose(derivative, 1 - np.tanh(z_units) ** 2)
    assert saturated == np.mean(derivative < nb01.SATURATION_THRESHOLD)
    print(f"spread {scale:>3}: {saturated:6.1%} of tanh units saturated, mean tanh′ = {derivative.mean():.4f}")

# %% [markdown]
# Keeping pre-activations near the steep middle of the curve is the reason for careful
# weight initialisation (e.g. scaling weights by $1/\sqrt{\text{fan-in}}$), and one of the
# reasons the LSTM of notebook 06 exists.

# %% [markdown]
# ## 4. Softmax and cross-entropy
#
# ### 4.1 One-hot or integer labels
#
# A classifier outputs logits $Z$ of shape $(N, C)$: $N$ examples, $C$ classes. The
# softmax of each row gives probabilities $P$, also $(N, C)$. The correct classes can be
# written two ways:
#
# - **integer labels** $y \in \{0, \dots, C-1\}^{N}$, shape $(N,)$;
# - **one-hot labels** $Y \in \{0, 1\}^{N \times C}$, with $Y_{nc} = 1$ exactly when $c = y_n$.
#
# The cross-entropy between the labels and the predictions, averaged over the batch, is
#
# $$J = -\frac{1}{N} \sum_{n=1}^{N} \sum_{c=1}^{C} Y_{nc} \log P_{nc}
#     = -\frac{1}{N} \sum_{n=1}^{N} \log P_{n, y_n}.$$
#
# In the one-hot form all but one term of each inner sum is zero; the integer form just
# picks that term. The one-hot form is needed only when targets are not one-hot (e.g.
# label smoothing, exercise 3); integer labels are what `course_lib.losses` and PyTorch's
# `cross_entropy` take, and they save building an $N \times C$ array (with $C$ = 50 000
# words, that matters).

# %%
rng = np.random.default_rng(0)
N, C = 4, 3
logits = rng.standard_normal((N, C))  # (N, C)
y = np.array([0, 2, 1, 2])  # (N,) integer labels
Y = np.eye(C)[y]  # (N, C) one-hot: for example n, row y[n] of the identity

log_probs = activations.log_softmax(logits)  # (N, C)
loss_one_hot = -np.sum(Y * log_probs) / N
loss_integer = -np.mean(log_probs[np.arange(N), y])  # pick log P[n, y[n]] in each row
loss_library, dlogits_library = losses.softmax_cross_entropy(logits, y)

# %%
# NBVAL_CHECK_OUTPUT
assert np.isclose(loss_one_hot, loss_integer) and np.isclose(loss_integer, loss_library)
print("one-hot Y =\n", Y)
print(f"loss: one-hot {loss_one_hot:.4f} = integer {loss_integer:.4f} = course_lib {loss_library:.4f}  OK")
print(f"for reference, a model that guesses uniformly scores log C = {np.log(C):.4f}")

# %% [markdown]
# ### 4.2 Why the gradient is $p - y$
#
# Take one row: logits $z \in \mathbb{R}^C$, a one-hot label $y \in \{0,1\}^C$, and
# $J = -\sum_c y_c \log p_c$. From section 2.2, $\log p_c = z_c - \operatorname{LSE}(z)$,
# and the derivative of the log-sum-exp is the softmax itself:
#
# $$\frac{\partial\, \operatorname{LSE}(z)}{\partial z_k} = \frac{e^{z_k}}{\sum_j e^{z_j}} = p_k
# \quad\Longrightarrow\quad
# \frac{\partial \log p_c}{\partial z_k} = \delta_{ck} - p_k .$$
#
# So
#
# $$\frac{\partial J}{\partial z_k} = -\sum_c y_c\,(\delta_{ck} - p_k) = -y_k + p_k \sum_c y_c = p_k - y_k,$$
#
# using $\sum_c y_c = 1$. For the batch mean each row is divided by $N$:
#
# $$\frac{\partial J}{\partial Z} = \frac{P - Y}{N}, \qquad \text{shape } (N, C).$$
#
# Two things to notice. Each row of $P - Y$ sums to 0 (raising all logits of a row by
# the same amount changes nothing). And every entry lies in $[-1, 1]$: the gradient of
# the loss with respect to the logits can neither explode nor vanish; it is exactly
# "how wrong the prediction is".
#
# The derivation says $p - y$; the numbers must agree. Three ways to the same gradient:
# the formula by hand, the library, and central differences of the hand-written loss.

# %%
# NBVAL_CHECK_OUTPUT
def loss_by_hand(logits):
    """The one-hot cross-entropy of `logits` (numerical_gradient passes them, nudged)."""
    return -np.sum(Y * activations.log_softmax(logits)) / N


dlogits_by_hand = (activations.softmax(logits) - Y) / N  # (N, C)
dlogits_numerical = numerical_gradient(loss_by_hand, logits)

assert np.allclose(dlogits_by_hand, dlogits_library)
assert rel_error(dlogits_by_hand, dlogits_numerical) < 1e-7
assert np.allclose(dlogits_by_hand.sum(axis=1), 0)
print(f"dlogits: shape {dlogits_by_hand.shape}; (P - Y) / N == course_lib; "
      "relative error vs central differences < 1e-7  OK")
print("each row of dlogits sums to 0  OK")

# %% [markdown]
# ### 4.3 Why $p - y$ matters: cross-entropy undoes saturation
#
# A sigmoid output unit trained with a squared error saturates exactly when it is most
# wrong. Take one neuron, $p = \sigma(w x + b)$, one example $x = 1$ whose target is
# $y = 0$, and start it confidently wrong: $w = b = 2$, so $z = 4$ and $p = 0.98$ (the
# example of Nielsen's *Neural Networks and Deep Learning*, chapter 3).
#
# - squared error $J = \tfrac12 (p - y)^2$: $\;\partial J / \partial z = (p - y)\,\sigma'(z)$, and
#   $\sigma'(4) = 0.018$;
# - cross-entropy $J = -\log(1 - p)$: $\;\partial J / \partial z = p - y$. The $\sigma'$
#   has cancelled.
#
# A sigmoid is a two-class softmax: $\operatorname{softmax}([z, 0]) = [\sigma(z),\ 1 - \sigma(z)]$.
# So the cross-entropy gradient below comes from `losses.softmax_cross_entropy` on the
# logits $[z, 0]$ with label 1 ("the neuron should stay silent"), and its first column is
# $\sigma(z) - 0$:

# %%
x_in, target, lr = 1.0, 0.0, 0.15
n_steps = 300  # cheap in any mode: one neuron, one example
history = {}
for loss_name in ["squared error", "cross-entropy"]:
    w, b = 2.0, 2.0
    outputs, grads = [], []
    for _ in range(n_steps):
        z_neuron = w * x_in + b
        p_neuron = activations.sigmoid(np.array([z_neuron]))[0]
        if loss_name == "squared error":
            dz = (p_neuron - target) * p_neuron * (1 - p_neuron)
        else:
            _, dlogits_neuron = losses.softmax_cross_entropy(np.array([[z_neuron, 0.0]]), np.array([1]))
            dz = dlogits_neuron[0, 0]
            assert np.isclose(dz, p_neuron - target)  # p - y, as derived
        w, b = w - lr * dz * x_in, b - lr * dz
        outputs.append(p_neuron)
        grads.append(abs(dz))
    history[loss_name] = (outputs, grads)

fig, (ax_p, ax_g) = plt.subplots(1, 2, figsize=(11, 4))
for loss_name, (outputs, grads) in history.items():
    ax_p.plot(outputs, label=loss_name)
    ax_g.semilogy(grads, label=loss_name)
ax_p.set(title="Output of a neuron that starts confidently wrong", xlabel="gradient step",
         ylabel="output p (target 0)")
ax_g.set(title="Gradient reaching its pre-activation", xlabel="gradient step", ylabel="|∂J/∂z| (log scale)")
ax_p.legend()
ax_g.legend()
plt.show()

# %% [markdown]
# With the squared error the neuron hardly moves for well over a hundred steps: its gradient is
# multiplied by a tiny $\sigma'(z)$ precisely because it is so sure of the wrong answer.
# With cross-entropy the gradient is largest when the error is largest, and it learns at
# once. Softmax and cross-entropy are computed together (`softmax_cross_entropy` returns
# both the loss and $p - y$) because the pair is well behaved even where each half alone
# is not.

# %% [markdown]
# ### 4.4 The scale of the logits: temperature
#
# Dividing the logits by a **temperature** $T > 0$ before the softmax,
# $p = \operatorname{softmax}(z / T)$, keeps their order but changes how sure the
# prediction is: $T \to 0$ puts all the probability on the largest logit, $T \to \infty$
# spreads it evenly. (Multiplying logits by a scale $\alpha$ is the same with
# $T = 1/\alpha$.) Notebook 04 samples text this way. The cross-entropy of a class that
# is not the top one grows without bound as $T \to 0$: it is roughly the logit gap
# divided by $T$, so a confidently wrong model pays in proportion to its confidence.
#
# The widget shows five logits a character model might give for the character after
# "th", their softmax at temperature $T$, and the loss $-\log p_y$ for the target class
# you choose.

# %%
nb01.softmax_temperature_widget()

# %% [markdown]
# Without a live kernel: the same at three temperatures, and the loss of every class
# across all temperatures.

# %%
widgets.sweep(nb01.draw_softmax_temperature, "temperature", [0.25, 1.0, 4.0],
              title="softmax(z / T) of the logits for the character after \"th\"",
              figsize_per_panel=(4.2, 3.4), target="e")
plt.show()

temperatures = np.logspace(-1, 1, n_points)
fig, ax = plt.subplots(figsize=(7, 4))
for char in nb01.NEXT_CHAR_CLASSES:
    ax.loglog(temperatures, [nb01.softmax_temperature(T, char)[1] for T in temperatures], label=repr(char))
ax.axhline(np.log(len(nb01.NEXT_CHAR_CLASSES)), color="grey", linestyle="--", label="log 5 (uniform)")
ax.set(title="Cross-entropy of each target class against temperature", xlabel="temperature T (log scale)",
       ylabel="−log p_y (nats, log scale)")
ax.legend(title="target y", ncols=2)
plt.show()

# %% [markdown]
# The widget's function against the softmax written by hand in section 2.2, at $T = 1$:

# %%
# NBVAL_CHECK_OUTPUT
probs, loss_e = nb01.softmax_temperature(1.0, "e")
assert np.allclose(probs, softmax_by_hand(nb01.NEXT_CHAR_LOGITS))
assert np.isclose(loss_e, -np.log(probs[0]))
print("classes:", nb01.NEXT_CHAR_CLASSES)
print("p at T=1:", probs.round(4), " sum", probs.sum().round(4))
print(f"-log p('e') = {loss_e:.4f} nats")

# %% [markdown]
# ### 4.5 The mean or the sum over a batch
#
# Two conventions for a batch of $N$ examples with per-example losses
# $\ell_n = -\log P_{n, y_n}$:
#
# $$J_{\text{sum}} = \sum_n \ell_n, \quad \frac{\partial J_{\text{sum}}}{\partial Z} = P - Y;
# \qquad J_{\text{mean}} = \frac1N \sum_n \ell_n, \quad \frac{\partial J_{\text{mean}}}{\partial Z} = \frac{P - Y}{N}.$$
#
# The gradient of a weight is a sum over the batch (for logits $Z = X W$,
# $\partial J / \partial W = X^\top\, \partial J / \partial Z$). With the sum, a batch twice
# as large gives a gradient twice as large, and the learning rate has to be re-tuned
# whenever the batch size changes; with the mean it does not. The mean is also the number
# you can compare across batch sizes and data sets: nats per example (or, in notebook 04,
# per character). `course_lib.losses` and PyTorch use the mean. Karpathy's min-char-rnn
# sums over the 25 characters of a sequence, so its loss is in nats *per sequence*,
# 25 times the per-character number.
#
# Below, a linear layer $Z = XW$ ($X$: $(N, D)$, $W$: $(D, C)$) scores a batch, and then
# the same batch stacked twice:

# %%
# NBVAL_CHECK_OUTPUT
D = 5
X = rng.standard_normal((N, D))  # (N, D)
W = rng.standard_normal((D, C))  # (D, C)
batches = {"batch of 4": (X, y), "same batch twice": (np.vstack([X, X]), np.concatenate([y, y]))}
print(f"{'':<18}{'J_mean':>8}{'J_sum':>9}{'|dW| mean':>11}{'|dW| sum':>10}")
for name, (X_batch, y_batch) in batches.items():
    n = len(y_batch)
    loss_mean, dZ_mean = losses.softmax_cross_entropy(X_batch @ W, y_batch)
    # The sum convention by hand: no division by n.
    P_batch = activations.softmax(X_batch @ W)
    loss_sum = -np.sum(np.log(P_batch[np.arange(n), y_batch]))
    dZ_sum = P_batch - np.eye(C)[y_batch]
    assert np.isclose(loss_sum, n * loss_mean) and np.allclose(dZ_sum, n * dZ_mean)
    dW_mean, dW_sum = X_batch.T @ dZ_mean, X_batch.T @ dZ_sum
    print(f"{name:<18}{loss_mean:>8.4f}{loss_sum:>9.4f}{np.linalg.norm(dW_mean):>11.4f}{np.linalg.norm(dW_sum):>10.4f}")

# %% [markdown]
# Doubling the data doubles $J_{\text{sum}}$ and its weight gradient; $J_{\text{mean}}$
# and its gradient do not move. (Using `np.log(P)` here is fine only because these logits
# are small; section 2.2 says why the library uses `log_softmax`.)
#
# ### 4.6 Masks: sequences of different lengths
#
# A batch of sequences is a rectangle: logits $(N, T, C)$, labels $(N, T)$. Sequences
# shorter than $T$ are padded, and the padded positions hold logits and labels that mean
# nothing. A **mask** $m \in \{0, 1\}^{N \times T}$ marks the real positions, and the loss
# is the mean over those only:
#
# $$J = \frac{\sum_{n,t} m_{nt}\, \ell_{nt}}{\sum_{n,t} m_{nt}}, \qquad
# \frac{\partial J}{\partial Z_{nt}} = \frac{m_{nt}\,(p_{nt} - y_{nt})}{\sum_{n,t} m_{nt}}.$$
#
# Padded positions get exactly zero gradient, so they cannot pull on the weights. A
# padding label is often $-100$ (PyTorch's `ignore_index`), which is not a class: never
# use it as an index. Below, three sequences of lengths 4, 2 and 3, padded to $T = 4$:

# %%
T = 4
lengths = np.array([4, 2, 3])  # (N,) real steps per sequence
logits_seq = rng.standard_normal((len(lengths), T, C))  # (N, T, C)
mask = np.arange(T) < lengths[:, None]  # (N, T) boolean, True at real steps
y_seq = rng.integers(0, C, size=mask.shape)  # (N, T)
y_seq[~mask] = -100  # the padding label

safe_y = np.where(mask, y_seq, 0)  # any valid class will do where the mask drops the term
log_probs_seq = activations.log_softmax(logits_seq)  # (N, T, C)
nll = -np.take_along_axis(log_probs_seq, safe_y[..., None], axis=-1)[..., 0]  # (N, T)
loss_masked = np.sum(nll * mask) / np.sum(mask)
dlogits_masked = (np.exp(log_probs_seq) - np.eye(C)[safe_y]) * mask[..., None] / np.sum(mask)

loss_masked_library, dlogits_masked_library = losses.softmax_cross_entropy(logits_seq, y_seq, mask=mask)

# %%
# NBVAL_CHECK_OUTPUT
def masked_loss(logits_seq):
    return losses.softmax_cross_entropy(logits_seq, y_seq, mask=mask)[0]


assert np.isclose(loss_masked, loss_masked_library)
assert np.allclose(dlogits_masked, dlogits_masked_library)
assert np.all(dlogits_masked_library[~mask] == 0)
assert rel_error(dlogits_masked_library, numerical_gradient(masked_loss, logits_seq)) < 1e-7
print("mask =\n", mask.astype(int))
print(f"masked loss: by hand {loss_masked:.4f} = course_lib {loss_masked_library:.4f}  OK")
print("dlogits: zero at every padded position; matches central differences (rel. error < 1e-7)  OK")
print(f"two common mistakes: dividing by N*T = {mask.size} instead of {mask.sum()} gives "
      f"{np.sum(nll * mask) / mask.size:.4f};")
print(f"counting the padded steps as class 0 gives {np.mean(nll):.4f}")

# %% [markdown]
# Both mistakes give a plausible number, and both are wrong: the first shrinks the loss
# (and the gradient) in proportion to the padding, the second trains the model to
# predict class 0 after the end of every sequence. Notebook 04 meets padding for real.

# %% [markdown]
# ## 5. A known bug: the "softmax" that is a sigmoid
#
# Here is a function that is called a softmax, runs without error and returns numbers
# between 0 and 1:
#
# ```python
# def softmax(z):
#     return 0.5 * (1 + np.tanh(z / 2))
# ```
#
# By section 1 it is $\sigma(z)$, applied to each logit on its own. Nothing divides by a
# sum, so the "probabilities" of a row do not sum to 1, and the classes do not compete:
# raising one logit does not lower the others' probabilities.

# %%
def softmax_buggy(z):
    return 0.5 * (1 + np.tanh(z / 2))


# %%
# NBVAL_CHECK_OUTPUT
z_row = np.array([[2.0, 1.0, 0.1]])
assert np.allclose(softmax_buggy(z_row), activations.sigmoid(z_row))
print("buggy 'softmax':", softmax_buggy(z_row).round(4), " sum", softmax_buggy(z_row).sum().round(4))
print("real softmax:   ", activations.softmax(z_row).round(4), " sum", activations.softmax(z_row).sum().round(4))

# %% [markdown]
# Sampling a class from these "probabilities", as notebook 04 samples characters:

# %%
try:
    np.random.default_rng(0).choice(3, p=softmax_buggy(z_row)[0])
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# Sampling fails loudly, which is lucky. The loss fails quietly: it *lies*. Give all
# three classes the same large logit, so that the model cannot tell them apart. The true
# cross-entropy is $\log 3 = 1.0986$ whatever the label; the buggy one reports a nearly
# perfect model:

# %%
# NBVAL_CHECK_OUTPUT
z_equal = np.array([[5.0, 5.0, 5.0]])
label = np.array([0])
loss_reported = -np.log(softmax_buggy(z_equal)[0, label[0]])
loss_true, _ = losses.softmax_cross_entropy(z_equal, label)
print(f"logits [5, 5, 5], label 0: buggy loss {loss_reported:.4f}, true loss {loss_true:.4f}")

# %%
a = np.linspace(-4, 8, n_points)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(a, -np.log(softmax_buggy(a)), label="reported by the buggy 'softmax': −log σ(a)")
ax.plot(a, np.full_like(a, np.log(3)), label="true cross-entropy: log 3")
ax.set(title="Three classes with the same logit a: what the loss says", xlabel="common logit a",
       ylabel="loss (nats)")
ax.legend()
plt.show()

# %% [markdown]
# The buggy loss can be driven to 0 by making *every* logit large, without learning
# anything. Worse, if the backward pass is the usual $p - y$, training still runs and the
# accuracy may even look fine, because $\sigma(z) - y$ happens to be the gradient of a
# different loss (one independent yes/no classifier per class): the network optimises
# one thing while the notebook reports another.
#
# Two cheap checks catch it, and they are worth keeping in every project:
#
# 1. **Sum to one.** The rows of any softmax sum to 1.
# 2. **Gradient check.** Compare the gradient you derived for a softmax, $p - y$, with
#    central differences of the loss that is actually computed.

# %%
# NBVAL_CHECK_OUTPUT
logits_bug = np.random.default_rng(1).standard_normal((4, 3))  # (N, C)
y_bug = np.array([0, 2, 1, 1])
Y_bug = np.eye(3)[y_bug]


def mean_nll(softmax_fn):
    """The cross-entropy as the code computes it, with whatever it calls a softmax."""
    return -np.mean(np.log(softmax_fn(logits_bug)[np.arange(4), y_bug]))


verdicts = {}
for name, candidate in [("real softmax", activations.softmax), ("buggy 'softmax'", softmax_buggy)]:
    sums_to_one = np.allclose(candidate(logits_bug).sum(axis=-1), 1)
    derived = (candidate(logits_bug) - Y_bug) / 4  # the gradient section 4.2 derived for a softmax
    error = rel_error(derived, numerical_gradient(lambda _: mean_nll(candidate), logits_bug))
    verdicts[name] = (sums_to_one, error < 1e-7)
    print(f"{name:<16} sum-to-one check {'passes' if sums_to_one else 'FAILS':<7} "
          f"gradient check {'passes' if error < 1e-7 else 'FAILS (relative error > 1e-2)'}")
    assert error < 1e-7 or error > 1e-2  # a clear verdict either way

assert verdicts == {"real softmax": (True, True), "buggy 'softmax'": (False, False)}
print("the bug is caught by both checks  OK")

# %% [markdown]
# Either check alone finds the bug; exercise 4 asks you to turn them (and a few more)
# into a test that any softmax must pass.

# %% [markdown]
# ## 6. Where recurrent networks fit
#
# Everything above scores one prediction. A recurrent network reads a sequence
# $x_1, \dots, x_T$ one step at a time, carrying a hidden state $h_t$ from step to step
# with the same weights at every step; what it outputs, and where, depends on the task.
# Five patterns cover almost every use:
#
# ![Five ways a recurrent network maps inputs to outputs: one-to-one, one-to-many, many-to-one, many-to-many aligned, encoder–decoder](../img/rnn_types.png)
#
# *Figure drawn for the course by `scripts/figures/rnn_types.py`.*
#
# | pattern | example | logits | labels |
# | --- | --- | --- | --- |
# | one-to-one | classify one vector (sections 1–5); no recurrence | $(N, C)$ | $(N,)$ |
# | one-to-many | caption an image; generate text from a start, each output fed back as the next input | $(N, T, C)$ | $(N, T)$ |
# | many-to-one | classify a whole sequence: sentiment, MNIST read row by row (notebook 05) | $(N, C)$, from $h_T$ | $(N,)$ |
# | many-to-many, aligned | one output per input: the next character (notebook 04), a tag per word | $(N, T, C)$ | $(N, T)$, masked if padded |
# | encoder–decoder | read the whole input, then write an output of another length: translation | $(N, T_{out}, C)$ | $(N, T_{out})$ |
#
# The loss is the same function in every case; only the shapes change.
# `softmax_cross_entropy` takes logits of shape $(N, C)$ or $(N, T, C)$ and averages over
# every counted position:

# %%
# NBVAL_CHECK_OUTPUT
N_seq, T_seq, C_seq = 2, 6, 5
rng_seq = np.random.default_rng(2)
scores = rng_seq.standard_normal((N_seq, T_seq, C_seq))  # one output per step, (N, T, C)
targets = rng_seq.integers(0, C_seq, size=(N_seq, T_seq))  # (N, T)

loss_aligned, d_aligned = losses.softmax_cross_entropy(scores, targets)  # many-to-many
loss_last, d_last = losses.softmax_cross_entropy(scores[:, -1], targets[:, -1])  # many-to-one: last step only
decoder_steps = np.broadcast_to(np.arange(T_seq) >= 3, (N_seq, T_seq))  # (N, T): score steps 4-6 only
loss_decoder, d_decoder = losses.softmax_cross_entropy(scores, targets, mask=decoder_steps)

assert np.isclose(loss_aligned, np.mean(-np.take_along_axis(activations.log_softmax(scores), targets[..., None], -1)))
print(f"many-to-many:    logits {scores.shape}, labels {targets.shape}, dlogits {d_aligned.shape}")
print(f"many-to-one:     logits {scores[:, -1].shape}, labels {targets[:, -1].shape}, dlogits {d_last.shape}")
print(f"encoder-decoder: logits {scores.shape}, mask {decoder_steps.shape} counts {decoder_steps.sum()} "
      f"of {decoder_steps.size} positions (the decoder's)")

# %% [markdown]
# ## Exercises
#
# Each exercise cell holds a stub that runs; the checker under it says ✅ or ❌ with a hint,
# and never stops *Run All*. To see a worked solution, uncomment the `%load` line and run
# the cell: it replaces the cell with the solution from `solutions/`.
#
# **Exercise 1 (quick): a stable tanh.** Write `stable_tanh(z)` without `np.tanh`, using
# only `np.exp` of numbers $\le 0$:
# $\tanh(z) = \operatorname{sign}(z)\,\dfrac{1 - e^{-2|z|}}{1 + e^{-2|z|}}$.
# It must be exact at $z = \pm 10^4$, keep float32 as float32, and raise no overflow
# (the checker turns overflow into an error).

# %%
from course_lib.exercises import activations as ex


def stable_tanh(z):
    """tanh(z), elementwise, for a float array of any shape; exp only sees numbers <= 0."""
    raise NotImplementedError("your code here")


ex.check_stable_tanh(stable_tanh)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/01_1.py

# %% [markdown]
# **Exercise 2: log-sigmoid.** The binary cross-entropy needs $\log \sigma(z)$. Section 2
# showed `np.log(sigmoid(z))` returning $-\infty$ at $z = -1000$, where the answer is
# $-1000$. Write `log_sigmoid(z)` exact for all $z$ from $-10^4$ to $10^4$. Hint:
# $\log \sigma(z) = -\log(1 + e^{-z})$; split off the part of $-z$ that can be large, as
# log-sum-exp does ($\log(1 + e^{u}) = \max(u, 0) + \log(1 + e^{-|u|})$), and `np.log1p`
# keeps the small part accurate.

# %%
def log_sigmoid(z):
    """log(sigmoid(z)), elementwise, finite and accurate for any float array."""
    raise NotImplementedError("your code here")


ex.check_log_sigmoid(log_sigmoid)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/01_2.py

# %% [markdown]
# **Exercise 3: label smoothing.** Instead of one-hot targets, train towards
# $Q = (1 - \varepsilon)\,Y + \varepsilon / C$ (every class gets $\varepsilon / C$; this is
# PyTorch's `label_smoothing=ε`). Write `smoothed_cross_entropy(logits, y, epsilon)`
# returning `(loss, dlogits)`: the batch mean of $-\sum_c Q_{nc} \log P_{nc}$ and its
# gradient. Redo the derivation of section 4.2 first: which step used $\sum_c y_c = 1$,
# and does it still hold for $Q$? (Logits $(N, C)$, integer labels $(N,)$; at
# $\varepsilon = 0$ you must get exactly `losses.softmax_cross_entropy`.)

# %%
def smoothed_cross_entropy(logits, y, epsilon):
    """Mean cross-entropy against label-smoothed targets, and its gradient with respect to logits."""
    raise NotImplementedError("your code here")


ex.check_smoothed_cross_entropy(smoothed_cross_entropy)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/01_3.py

# %% [markdown]
# **Exercise 4: a test that every softmax must pass.** Write `is_softmax(f)`, which calls
# a candidate `f(z)` (acting on the last axis of a float array) on inputs of your choice
# and returns `True` only if it behaves like a softmax you can trust. The checker hands
# it the library's softmax and four broken ones (the sigmoid bug among them) that fail
# in different ways. Think about what section 2 and section 5 taught you: what should
# every row satisfy, and which inputs break careless code?

# %%
def is_softmax(f):
    """True if f behaves like a numerically sound softmax over the last axis, else False."""
    raise NotImplementedError("your code here")


ex.check_is_softmax(is_softmax)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/01_4.py

# %% [markdown]
# **Exercise 5 (small project): a linear softmax classifier.** `ex.toy_data("train")`
# returns 300 points $X$ of shape $(300, 2)$ in three classes $y$ $(300,)$. Train
# $\text{logits} = X W + b$ ($W$: $(2, 3)$, $b$: $(3,)$) by gradient descent on
# `losses.softmax_cross_entropy`; the chain rule gives $\partial J/\partial W =
# X^\top\, \partial J/\partial Z$ and $\partial J/\partial b = \sum_n \partial J/\partial Z_n$.
# The checker scores your $W, b$ on 300 held-out points: aim for 90% accuracy and a test
# loss below 0.12 nats (accuracy comes long before a low loss: why?). Then plot the loss
# curve, and the decision regions if you like.

# %%
X_train, y_train = ex.toy_data("train")
W_clf = np.zeros((2, 3))
b_clf = np.zeros(3)

# your training loop here

ex.check_classifier(W_clf, b_clf)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/01_5.py

# %% [markdown]
# ## Summary
#
# - Sigmoid, tanh and ReLU act elementwise; their derivatives, written from the output,
#   are $s(1-s)$, $1 - t^2$ and $[r > 0]$. Sigmoid and tanh saturate: for $|z|$ of a few
#   units their derivative is nearly 0 and the gradient through them vanishes.
# - `np.exp` overflows above 709.78 (float64) or 88.72 (float32). Stable code only ever
#   exponentiates numbers $\le 0$: the piecewise sigmoid, and the max-shifted
#   log-sum-exp behind softmax and log-softmax. Losses are computed from log-probabilities,
#   never from `np.log(softmax(z))`.
# - The gradient of softmax cross-entropy with respect to the logits is $p - y$ (divided
#   by the number of counted positions for a mean). It does not saturate, which is why
#   softmax and cross-entropy are computed as one function.
# - Integer labels and one-hot labels give the same loss; the mean makes the learning rate
#   independent of batch size; a mask removes padded positions from both the loss and the
#   gradient.
# - A sum-to-one check and a gradient check each catch a "softmax" that is really a
#   sigmoid; a loss can look excellent while being the wrong loss.
# - A recurrent network may output once or at every step; the loss is the same function
#   on logits of shape $(N, C)$ or $(N, T, C)$.
#
# ## What to read next
#
# - **Notebook 02 · The vanilla RNN and backprop through time**: the tanh of section 3
#   applied once per time step, and what that does to gradients over long sequences.
# - *Deep Learning* (Goodfellow, Bengio and Courville), §4.1 "Overflow and underflow"
#   and §6.2.2 on sigmoid and softmax output units and why they pair with the log-likelihood.
# - Michael Nielsen, *Neural Networks and Deep Learning*, chapter 3: the cross-entropy
#   cost and the learning slowdown of section 4.3.
# - CS231n notes, "Linear classification": the softmax classifier and the numerical
#   stability trick.
# - Andrej Karpathy, "The Unreasonable Effectiveness of Recurrent Neural Networks"
#   (2015): the input/output patterns of section 6, with examples of what each can learn.

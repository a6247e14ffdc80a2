# %% [markdown]
# # 03 · Optimizers: SGD, momentum, Nesterov, Adagrad, RMSprop, Adam
#
# Backpropagation tells us which way is downhill: the gradient $g$ of the loss with
# respect to every parameter. It does not tell us how far to go, or whether the last
# few gradients should count too. That is the optimizer's job, and it decides whether a
# network trains in minutes, in hours, or not at all. This notebook writes six update
# rules by hand, each a few lines of NumPy, checks them against `course_lib.optim`, and
# then watches them: on 2-D surfaces where we can see every step, and on a real
# character-level RNN.
#
# **Learning goals**
#
# - write the update rules of SGD, momentum, Nesterov, Adagrad, RMSprop and Adam in LaTeX
#   and in NumPy, and check them step for step against `course_lib.optim`;
# - explain, from a picture of the trajectory, why plain SGD zig-zags in a narrow valley
#   and stalls near a saddle, and what momentum and per-parameter step sizes change;
# - derive the largest learning rate at which SGD still converges on a quadratic;
# - show why Adagrad's effective learning rate shrinks toward zero, and how RMSprop and
#   Adam's running averages fix it;
# - compare optimizers on a char-rnn fairly (each at its own tuned learning rate), from
#   loss curves and a table;
# - build a learning-rate schedule (step decay, cosine, warm-up) and hand it to `fit`.

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

from course_lib import optim, schedules, surfaces
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.notebook import nb03_optimizers as nb03
from course_lib.notebook import widgets
from course_lib.notebook.modes import by_mode
from course_lib.notebook.style import use_course_style

use_course_style()  # colour-blind-safe colours; COURSE_LECTURE=1 for a projector

# %% [markdown]
# ## 1. Six update rules
#
# Notation for the whole notebook. $\theta$ is one parameter array, of any shape (a
# weight matrix `Wh` is $(H, H)$); $g_t = \nabla_\theta L$ is its gradient at step $t$, the
# same shape; $t = 1, 2, \dots$ counts steps; $\eta$ (a scalar) is the learning rate. Every
# operation below is **elementwise**: $g_t^2$ squares each entry, and every state array
# ($b$, $G$, $m$, $v$) has the shape of $\theta$. A model has many parameter arrays; each
# one is updated by the same rule, with its own state.
#
# ### How `course_lib.optim` is used
#
# An optimizer is built on a dict of parameter arrays (a model's `model.params`). Each
# `opt.step(grads)` takes a dict of gradients with the same keys and shapes and updates
# the parameter arrays **in place**, so a model holding those arrays sees the change:

# %%
# NBVAL_CHECK_OUTPUT
params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
opt = optim.SGD(params, lr=0.1)
W_before = params["W"]

grads = {"W": np.full((2, 3), 0.5), "b": np.array([1.0, -1.0, 0.0])}
opt.step(grads)

print("W after one step:\n", params["W"])
print("b after one step:", params["b"])
assert params["W"] is W_before  # the same array, changed in place: nothing to copy back
print("updated in place: OK")

# %% [markdown]
# ### A small problem to test the rules on
#
# A linear model $\hat Y = XW + b$ with $X$ $(64, 4)$, $W$ $(4, 2)$, $b$ $(2,)$, and the
# mean squared error $L = \frac{1}{2N}\sum_{n}\lVert \hat y_n - y_n\rVert^2$. With the
# error $E = \hat Y - Y$ $(64, 2)$, the gradients are $\partial L/\partial W = X^\top E / N$
# $(4, 2)$ and $\partial L/\partial b = \frac1N \sum_n E_n$ $(2,)$. Two parameter arrays of
# different shapes: enough to catch a rule that mixes them up.

# %%
rng = np.random.default_rng(0)
X = rng.standard_normal((64, 4))
Y = X @ rng.standard_normal((4, 2)) + 0.1 * rng.standard_normal((64, 2))


def loss_and_grads(params):
    """Mean squared error of X @ W + b against Y, and its gradients (a dict like params)."""
    err = X @ params["W"] + params["b"] - Y  # (64, 2)
    loss = 0.5 * np.mean(np.sum(err**2, axis=1))
    return loss, {"W": X.T @ err / len(X), "b": err.mean(axis=0)}


# %% [markdown]
# We check those gradients with numbers before trusting any optimizer with them:

# %%
# NBVAL_CHECK_OUTPUT
params = {"W": rng.standard_normal((4, 2)), "b": rng.standard_normal(2)}
_, grads = loss_and_grads(params)
for name in params:
    error = rel_error(grads[name], numerical_gradient(lambda _: loss_and_grads(params)[0], params[name]))
    assert error < 1e-7, f"d{name}: relative error {error:.1e}"
    print(f"d{name}: shape {grads[name].shape}, relative error < 1e-7  OK")

# %% [markdown]
# Every hand-written rule below has one signature, `rule(p, g, state, lr, ...) -> new p`:
# it gets one parameter array, its gradient and a dict `state` that it fills on its first
# call (empty dict: all state starts at 0). This helper runs a hand-written rule and a
# `course_lib` optimizer side by side from the same start, on the problem above, and
# asserts after every step that both hold the same parameters:


# %%
def side_by_side(rule, make_optimizer, num_steps=50):
    """Run `rule` (by hand) and `make_optimizer(params)` (course_lib) for num_steps steps.

    Asserts after every step that the parameters agree to 1e-12; returns the largest
    difference seen.
    """
    start = {"W": np.zeros((4, 2)), "b": np.zeros(2)}
    hand = {name: p.copy() for name, p in start.items()}
    state = {name: {} for name in start}  # each parameter array has its own state
    lib = {name: p.copy() for name, p in start.items()}
    opt = make_optimizer(lib)
    worst = 0.0
    for step in range(num_steps):
        _, g = loss_and_grads(hand)
        for name in hand:
            hand[name] = rule(hand[name], g[name], state[name])
        opt.step(loss_and_grads(lib)[1])
        for name in start:
            difference = np.max(np.abs(hand[name] - lib[name]))
            assert difference < 1e-12, f"step {step}, {name}: hand and course_lib differ by {difference:.1e}"
            worst = max(worst, difference)
    return worst


# %% [markdown]
# ### 1.1 SGD
#
# Step against the gradient, by a fixed fraction of it:
#
# $$\theta_t = \theta_{t-1} - \eta\, g_t .$$
#
# "Stochastic" because in training $g_t$ is computed on a minibatch, a noisy estimate of
# the full gradient. The step is proportional to the gradient: steep directions get big
# steps, flat ones tiny steps, which is exactly wrong in a long narrow valley (section 2).


# %%
def sgd_step(p, g, state, lr):
    return p - lr * g


# %% [markdown]
# ### 1.2 Momentum
#
# Keep a running sum of past gradients, decayed by $\mu \in [0, 1)$ (typically 0.9), and
# step along it:
#
# $$b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t, \qquad b_0 = 0.$$
#
# Why it helps: where the gradient keeps its direction, $b_t$ grows toward
# $g / (1 - \mu)$, a step $1/(1-\mu) = 10$ times larger; where it flips sign from step to
# step (the zig-zag across a valley), consecutive gradients cancel in $b_t$. Think of a
# heavy ball rolling downhill. You will also meet the form
# $v_t = \mu v_{t-1} - \eta g_t,\ \theta_t = \theta_{t-1} + v_t$: with a constant $\eta$ it
# is the same algorithm ($v_t = -\eta b_t$); PyTorch and `course_lib` use the first.


# %%
def momentum_step(p, g, state, lr, momentum=0.9):
    state["b"] = momentum * state.get("b", 0.0) + g
    return p - lr * state["b"]


# %% [markdown]
# ### 1.3 Nesterov momentum
#
# Momentum first moves by $\mu b$ anyway, so Nesterov's idea is to compute the gradient
# where that move lands, *looking ahead*, and correct from there. Written in the
# look-ahead point itself, as PyTorch and `course_lib` store it:
#
# $$b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, b_t).$$
#
# The step is the momentum step plus a peek at the next one. When the ball is about to
# overshoot, the look-ahead gradient already points back, so Nesterov brakes earlier.
# (Exercise 2 shows that this is the same algorithm as Sutskever's look-ahead form.)


# %%
def nesterov_step(p, g, state, lr, momentum=0.9):
    state["b"] = momentum * state.get("b", 0.0) + g
    return p - lr * (g + momentum * state["b"])


# %% [markdown]
# ### 1.4 Adagrad
#
# Give every parameter its own learning rate: divide by the root of the sum of all its
# squared gradients so far,
#
# $$G_t = G_{t-1} + g_t^2, \qquad \theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{G_t} + \epsilon}\, g_t, \qquad G_0 = 0,$$
#
# with $\epsilon = 10^{-10}$ against a division by zero. A parameter with large gradients
# takes small steps; a rarely-updated one (the embedding of a rare character) keeps large
# steps. The step size no longer depends on the gradient's scale, only on its history.
# The catch: $G_t$ only grows (section 3). Karpathy's min-char-rnn uses Adagrad with $\eta
# = 0.1$, but puts $\epsilon$ inside the root (`course_lib.minchar.adagrad_update`).


# %%
def adagrad_step(p, g, state, lr, eps=1e-10):
    state["G"] = state.get("G", 0.0) + g**2
    return p - lr * g / (np.sqrt(state["G"]) + eps)


# %% [markdown]
# ### 1.5 RMSprop
#
# Adagrad with a memory that fades: a running *mean* of squared gradients instead of a sum,
#
# $$v_t = \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2, \qquad \theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t, \qquad v_0 = 0,$$
#
# with $\alpha = 0.99$ (it remembers roughly the last $1/(1-\alpha) = 100$ steps) and
# $\epsilon = 10^{-8}$. $\sqrt{v_t}$ is the root mean square of recent gradients, hence
# the name. Proposed by Hinton in a lecture (2012), never in a paper.


# %%
def rmsprop_step(p, g, state, lr, alpha=0.99, eps=1e-8):
    state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g**2
    return p - lr * g / (np.sqrt(state["v"]) + eps)


# %% [markdown]
# ### 1.6 Adam
#
# Momentum and RMSprop together: a running mean $m$ of the gradients (the direction)
# and a running mean $v$ of their squares (the scale),
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \qquad m_0 = v_0 = 0,$$
#
# $$\hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},$$
#
# with $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$ (Kingma & Ba, 2015). The
# hats are the **bias correction**: starting from 0, $m_1 = 0.1\, g_1$ is ten times too
# small, and $v_1 = 0.001\, g_1^2$ a thousand times; dividing by $1 - \beta^t$ undoes
# exactly that, and fades away as $t$ grows ($\beta_2^t$ takes thousands of steps).


# %%
def adam_step(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] = t = state.get("t", 0) + 1
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
    m_hat = state["m"] / (1 - beta1**t)
    v_hat = state["v"] / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


# %% [markdown]
# ### 1.7 The same as `course_lib.optim`, step for step
#
# Each hand-written rule next to its `course_lib.optim` twin, with the same
# hyperparameters, for 50 steps. `course_lib.optim` in turn is tested against
# `torch.optim` step for step (`tests/test_optim.py`), so these six lines are also what
# PyTorch computes.

# %%
# NBVAL_CHECK_OUTPUT
pairs = {
    "SGD": (lambda p, g, s: sgd_step(p, g, s, lr=0.1),
            lambda params: optim.SGD(params, lr=0.1)),
    "Momentum": (lambda p, g, s: momentum_step(p, g, s, lr=0.05, momentum=0.9),
                 lambda params: optim.SGD(params, lr=0.05, momentum=0.9)),
    "Nesterov": (lambda p, g, s: nesterov_step(p, g, s, lr=0.05, momentum=0.9),
                 lambda params: optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True)),
    "Adagrad": (lambda p, g, s: adagrad_step(p, g, s, lr=0.5),
                lambda params: optim.Adagrad(params, lr=0.5)),
    "RMSprop": (lambda p, g, s: rmsprop_step(p, g, s, lr=0.01),
                lambda params: optim.RMSprop(params, lr=0.01)),
    "Adam": (lambda p, g, s: adam_step(p, g, s, lr=0.05),
             lambda params: optim.Adam(params, lr=0.05)),
}
for name, (rule, make_optimizer) in pairs.items():
    side_by_side(rule, make_optimizer, num_steps=50)  # asserts at every step
    print(f"{name:<9} 50 steps: hand-written == course_lib.optim (to 1e-12)  OK")

# %% [markdown]
# ### 1.8 The first step tells them apart
#
# Give each rule a gradient whose three entries differ by factors of a thousand, and look
# at the size of the first step:

# %%
# NBVAL_CHECK_OUTPUT
g = np.array([0.001, 1.0, 1000.0])
rules = {"SGD": sgd_step, "Momentum": momentum_step, "Nesterov": nesterov_step,
         "Adagrad": adagrad_step, "RMSprop": rmsprop_step, "Adam": adam_step}
print("first step −Δθ for lr = 0.1 and g =", "  ".join(f"{x:9g}" for x in g))
for name, rule in rules.items():
    step = -rule(np.zeros(3), g, {}, lr=0.1)
    print(f"{name:<9}", "  ".join(f"{s:9.4f}" for s in step))

# %% [markdown]
# SGD and momentum step by $\eta g$: a thousand times more in the steep direction than in
# the flat one. Nesterov adds the peek: $\eta (1 + \mu) g$. The adaptive rules divide by
# the gradient's own size, so their first step is $\eta$ in **every** coordinate,
# whatever the scale: Adagrad and Adam move each entry by exactly $\eta\,\mathrm{sign}(g)$.
# RMSprop moves by $10\eta$ (a hair less in the tiny entry, where $\epsilon$ starts to
# count): its $v_1 = (1 - \alpha) g^2 = 0.01\, g^2$ has no bias
# correction, so $\sqrt{v_1}$ is ten times too small. (That is one reason RMSprop's usual
# learning rates are small; Adam's correction removes the start-up effect.)
#
# ## 2. Trajectories on three surfaces
#
# With two parameters $(x, y)$ we can draw the loss as contour lines and watch every step.
# Three surfaces, each a caricature of something that happens in real networks:
#
# | surface | $f(x, y)$ | start | minimum | what it stands for |
# | --- | --- | --- | --- | --- |
# | quadratic | $\tfrac12 (x^2 + 20\, y^2)$ | $(-4, 1)$ | $(0, 0)$ | a narrow valley: curvatures 1 and 20 (condition number 20) |
# | Rosenbrock | $(1 - x)^2 + 100\,(y - x^2)^2$ | $(-1.2, 1)$ | $(1, 1)$ | a curved valley with a flat floor |
# | saddle | $10 x^2 + \tfrac14 y^4 - \tfrac12 y^2$ | $(-1, 0.001)$ | $(0, \pm 1)$ | a saddle point at $(0, 0)$, where the gradient is tiny |
#
# `course_lib.surfaces` holds them (`surfaces.SURFACES`), with their gradients, and a function
# that walks an optimizer over one: `surfaces.run_trajectory(surface, optimizer, lr, steps)`
# returns the points, an array $(\text{steps} + 1, 2)$. The optimizers are the six of
# section 1, built by `surfaces.OPTIMIZERS[name](params, lr)`: `"Momentum"` is
# `optim.SGD(params, lr, momentum=0.9)`, `"Nesterov"` adds `nesterov=True`, the adaptive
# ones keep their default hyperparameters.
#
# First the gradients. Rosenbrock's, by hand:
# $\partial f/\partial x = -2(1 - x) - 400\, x\, (y - x^2)$ and
# $\partial f/\partial y = 200\, (y - x^2)$. Checked against the surface's own gradient
# and against central differences, for all three surfaces:


# %%
def rosenbrock_grad(x, y):
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


# %%
# NBVAL_CHECK_OUTPUT
point = np.array([-0.7, 0.4])
assert np.allclose(rosenbrock_grad(*point), surfaces.SURFACES["rosenbrock"].grad(point))
print("rosenbrock: hand-written gradient == surfaces.SURFACES['rosenbrock'].grad  OK")
for name, surface in surfaces.SURFACES.items():
    numeric = numerical_gradient(lambda p: surface.f(*p), point)
    error = rel_error(surface.grad(point), numeric)
    assert error < 1e-7, f"{name}: relative error {error:.1e}"
    print(f"{name:<10}: gradient vs central differences, relative error < 1e-7  OK")

# %% [markdown]
# ### 2.1 The narrow valley: why SGD zig-zags, and the largest stable learning rate
#
# On $f = \tfrac12(\lambda_x x^2 + \lambda_y y^2)$ with curvatures $\lambda_x = 1$ and
# $\lambda_y = 20$ the gradient is $(\lambda_x x, \lambda_y y)$, so one SGD step multiplies
# each coordinate by its own factor:
#
# $$x_t = (1 - \eta\lambda_x)\, x_{t-1}, \qquad y_t = (1 - \eta\lambda_y)\, y_{t-1}.$$
#
# Both shrink only if $|1 - \eta\lambda| < 1$ for both curvatures, i.e.
# $\eta < 2/\lambda_{\max} = 0.1$. Above it the steep direction blows up. Just below it,
# $1 - \eta \lambda_y$ is close to $-1$: $y$ flips sign at every step (the zig-zag), while
# $x$ shrinks by $1 - \eta\lambda_x \approx 0.9$ per step, slowly. The steep direction
# sets the learning rate and the flat one pays for it: the larger the condition number
# $\lambda_{\max}/\lambda_{\min}$, the slower SGD. (Exercise 1: the same for any quadratic.)
#
# SGD by hand, against `surfaces.run_trajectory` and against that closed form:

# %%
# NBVAL_CHECK_OUTPUT
quadratic = surfaces.SURFACES["quadratic"]
lr, steps = 0.09, 100
p = np.array(quadratic.start)
path = [p]
for _ in range(steps):
    p = p - lr * quadratic.grad(p)
    path.append(p)
path = np.array(path)  # (steps + 1, 2)

assert np.allclose(path, surfaces.run_trajectory("quadratic", "SGD", lr, steps))
factors = 1 - lr * np.array([1.0, 20.0])  # (1 - lr λx, 1 - lr λy)
assert np.allclose(path, np.array(quadratic.start) * factors ** np.arange(steps + 1)[:, None])
print("hand-written SGD == surfaces.run_trajectory == closed form  OK")
print(f"factor per step: x {factors[0]:.2f}, y {factors[1]:.2f}   (largest stable lr: {2 / 20:.2f})")

# %% [markdown]
# Now all six, each at a learning rate that suits it (picked by hand from a grid of
# roughly powers of 3: try others in the widget of section 2.4). Left: the SGD family;
# middle: the adaptive family; right: how far the value is from the minimum, on a log
# scale, step by step.

# %%
FAMILIES = {"SGD family": ("SGD", "Momentum", "Nesterov"), "adaptive": ("Adagrad", "RMSprop", "Adam")}


def compare_on(surface, lrs, steps):
    """Draw the six optimizers' walks on one surface, and f - f_min against the step."""
    s = surfaces.SURFACES[surface]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for ax, (family, names) in zip(axes, FAMILIES.items()):
        paths = nb03.draw_trajectories(ax, surface, {name: lrs[name] for name in names}, steps)
        ax.set_title(f"{surface}: {family}")
        for name, points in paths.items():
            axes[2].semilogy(s.f(*points.T) - s.f_min, label=name, **nb03.OPTIMIZER_STYLES[name])
    axes[2].set(title=f"{s.formula}: f − f_min", xlabel="step", ylabel="f − f_min (log scale)", ylim=(1e-8, None))
    axes[2].legend(fontsize=9)
    return fig


quadratic_lrs = {"SGD": 0.09, "Momentum": 0.01, "Nesterov": 0.01, "Adagrad": 1.0, "RMSprop": 0.1, "Adam": 0.3}
compare_on("quadratic", quadratic_lrs, steps=100)
plt.show()

# %% [markdown]
# What to see:
#
# - **SGD** (lr 0.09, just under the limit 0.1) zig-zags across the valley and then crawls
#   along its floor: the straight line on the log plot is $x$ shrinking by 0.91 per step
#   (and $f$ by $0.91^2$).
# - **Momentum** damps the zig-zag (opposite gradients cancel in $b$) and gathers speed
#   along $x$, so much that it overshoots the minimum and swings back: a heavy ball with
#   too little friction. **Nesterov**'s look-ahead brakes earlier and swings less.
# - The **adaptive** rules divide each coordinate by its own gradient scale, so both
#   coordinates shrink at the same pace and the path heads diagonally for the minimum,
#   the valley's shape almost forgotten. That is exactly what they are for, with one
#   caveat: they rescale each *parameter*, so they fix a valley aligned with the axes,
#   not one that runs along a diagonal.
# - **Adam** has momentum ($\beta_1 = 0.9$) too, and overshoots like it.
#
# The number of steps each needs to get within $10^{-6}$ of the minimum value, at the
# learning rates above (a fixed computation, so the same on every machine), and one
# more line, for momentum with less momentum:

# %%
# NBVAL_CHECK_OUTPUT
for name, lr in quadratic_lrs.items():
    points = surfaces.run_trajectory("quadratic", name, lr, steps=1000)
    gaps = quadratic.f(*points.T) - quadratic.f_min
    print(f"{name:<9} lr {lr:<5g} reaches f − f_min < 1e-6 after {np.argmax(gaps < 1e-6):>3} steps")

p = np.array(quadratic.start)
opt = optim.SGD({"p": p}, lr=0.13, momentum=0.4)
for step in range(1, 1001):
    opt.step({"p": quadratic.grad(p)})
    if quadratic.f(*p) - quadratic.f_min < 1e-6:
        break
print(f"Momentum with μ = 0.4, lr 0.13 reaches f − f_min < 1e-6 after {step:>3} steps")

# %% [markdown]
# At its best learning rate plain SGD beats momentum with $\mu = 0.9$ here: for a valley
# this mild (condition number $\kappa = 20$), 0.9 is too little friction, and the ball
# keeps swinging. On a quadratic the best momentum is known,
# $\mu = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2 \approx 0.4$ with
# $\eta = 4/(\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}})^2 \approx 0.13$, and then it needs
# a number of steps proportional to $\sqrt\kappa$ where SGD's is proportional to $\kappa$:
# three times fewer steps here, and the gap grows with $\kappa$ (Goh's *Why Momentum Really Works*, at the end,
# derives this). In a network nobody knows $\kappa$, and 0.9 is the robust default.

# %% [markdown]
# ### 2.2 Rosenbrock: a curved valley with a flat floor
#
# The valley follows the parabola $y = x^2$; across it the curvature is about 200 (up to
# a few thousand where the valley is steep), along its floor less than 1. SGD's learning
# rate is capped by the steep walls at a few thousandths, and then its steps along the
# floor are tiny. 500 steps:

# %%
rosenbrock_lrs = {"SGD": 2e-3, "Momentum": 2e-3, "Nesterov": 1e-3, "Adagrad": 1.0, "RMSprop": 0.01, "Adam": 0.1}
compare_on("rosenbrock", rosenbrock_lrs, steps=500)
plt.show()

# %% [markdown]
# - **SGD** slides down into the valley in a few steps, then needs hundreds to creep
#   along the floor.
# - **Momentum** is the winner here: along the floor the gradient keeps pointing the same
#   way, so the ball accumulates speed ($b \to g/(1-\mu)$, ten times SGD's step).
# - The **adaptive** rules take steps of roughly $\eta$ per coordinate whatever the
#   gradient, so they cannot step much further along the flat floor than across the steep
#   walls. Adagrad's steps also keep shrinking (section 3). Adam, which has momentum,
#   gets furthest of the three; RMSprop, which has none, is the slowest of all here.
#
# No optimizer wins on every surface: that is why there are several.
#
# ### 2.3 The saddle: where the gradient is almost zero
#
# At $(0, 0)$ the surface curves up along $x$ (curvature 20) and down along $y$
# (curvature $-1$). We start a hair off the ridge, at $y = 0.001$, as noise would put a
# real network. Near the ridge the gradient along $y$ is about $-y$, tiny, so plain SGD
# multiplies $y$ by only $1 + \eta$ per step: with $\eta = 0.04$ (capped by the steep
# $x$-direction at $2/20 = 0.1$) it takes $\ln(1000)/\ln(1.04) \approx 176$ steps just to
# leave the saddle. In high dimensions saddle points far outnumber local minima, and
# these long plateaus are what a stuck loss curve often is.

# %%
saddle_lrs = {"SGD": 0.04, "Momentum": 0.02, "Nesterov": 0.05, "Adagrad": 0.3, "RMSprop": 0.05, "Adam": 0.1}
compare_on("saddle", saddle_lrs, steps=150)
plt.show()

# %% [markdown]
# SGD reaches the saddle in a few steps, then sits there: the flat stretch of its curve
# at $f - f_{\min} = 0.25$. Momentum and Nesterov accumulate the tiny $y$-gradients and
# leave several times sooner. The adaptive rules divide the tiny gradient by its own tiny
# scale: to them it is not small at all, and they walk off the saddle at once.
#
# ### 2.4 Try it: one optimizer, one surface, your learning rate
#
# Pick a surface, an optimizer, a learning rate and a number of steps. Things to try:
# SGD on the quadratic just above lr 0.1; momentum with a small learning rate on
# Rosenbrock; Adagrad with lr 0.1 on Rosenbrock and 1000 steps (it never arrives); any
# rule with a learning rate of 1. The title says how far from the minimum the walk ended,
# or when it diverged.

# %%
nb03.trajectory_widget()

# %% [markdown]
# The same picture as a static sweep of the learning rate (what the widget shows for SGD
# on the quadratic, at four of its settings): too small crawls, just right converges,
# close to $2/\lambda_{\max} = 0.1$ zig-zags, past it diverges.

# %%
widgets.sweep(nb03.draw_trajectory, "lr", [0.01, 0.05, 0.09, 0.105], surface="quadratic", optimizer="SGD", steps=100,
        title="SGD on the quadratic: learning rate 0.01, 0.05, 0.09, 0.105 (100 steps)",
        figsize_per_panel=(4.0, 3.4))
plt.show()

# %% [markdown]
# ## 3. Adagrad's learning rate shrinks toward zero
#
# Adagrad's effective learning rate for one parameter is $\eta / (\sqrt{G_t} + \epsilon)$,
# and $G_t = \sum_{s \le t} g_s^2$ never decreases. In training the gradients never reach
# zero (each minibatch gives a different, noisy one), so $G_t$ keeps growing about
# linearly, $G_t \approx t\, \overline{g^2}$, and the effective learning rate falls like
# $\eta / \sqrt{t\, \overline{g^2}}$: after 10,000 steps it is a hundredth of what it was
# after one. With a constant gradient $g = 1$, by the formula and from the state of a
# `course_lib` Adagrad (`opt.state["sum/<name>"]` holds $G_t$):

# %%
# NBVAL_CHECK_OUTPUT
theta = np.zeros(1)
opt = optim.Adagrad({"theta": theta}, lr=0.1)
for t in range(1, 10_001):
    opt.step({"theta": np.ones(1)})
    if t in (1, 10, 100, 1000, 10_000):
        from_state = opt.lr / (np.sqrt(opt.state["sum/theta"][0]) + opt.eps)
        by_hand = 0.1 / np.sqrt(t)
        assert np.isclose(from_state, by_hand)
        print(f"after {t:>6} steps: effective lr {from_state:.4f} = 0.1 / sqrt({t})")

# %% [markdown]
# A shrinking step is fine while the target stays put: the steps get smaller as we get
# closer. It is a problem when the model still has far to go late in training, or when
# what it should learn changes: a char-rnn reaching a new kind of text, a loss landscape
# that changes as the other layers learn.
#
# A minimal version of that: one parameter $\theta$ (shape $(1,)$) and the loss
# $\tfrac12(\theta - c_t)^2$, seen through noisy gradients $g_t = \theta - c_t + \xi_t$ with
# $\xi_t \sim \mathcal N(0, 1)$. The target is $c = 1$ for 1000 steps, then jumps to
# $c = -1$. The learning rates are chosen so that all three reach the first target
# equally fast (in about 80 steps).

# %%
num_steps, jump = 2000, 1000
noise = np.random.default_rng(1).standard_normal(num_steps)
target = np.where(np.arange(num_steps) < jump, 1.0, -1.0)


def effective_lr(opt):
    """The factor that multiplies the gradient (Adam: the momentum m̂) in this step."""
    if isinstance(opt, optim.Adagrad):
        return opt.lr / (np.sqrt(opt.state["sum/theta"]) + opt.eps)
    if isinstance(opt, optim.RMSprop):
        return opt.lr / (np.sqrt(opt.state["square_avg/theta"]) + opt.eps)
    v_hat = opt.state["exp_avg_sq/theta"] / (1 - opt.betas[1] ** opt.step_count)
    return opt.lr / (np.sqrt(v_hat) + opt.eps)


tracking = {"Adagrad": 0.1, "RMSprop": 0.01, "Adam": 0.02}
thetas, lrs_seen, grads_seen = {}, {}, {}
for name, lr in tracking.items():
    theta = np.zeros(1)
    opt = surfaces.OPTIMIZERS[name]({"theta": theta}, lr)
    thetas[name], lrs_seen[name], grads_seen[name] = [], [], []
    for t in range(num_steps):
        g = theta - target[t] + noise[t]
        opt.step({"theta": g})
        thetas[name].append(theta[0])
        lrs_seen[name].append(effective_lr(opt)[0])
        grads_seen[name].append(g[0])
    if name == "Adagrad":  # Adagrad's state is the plain sum of the squared gradients
        assert np.isclose(opt.state["sum/theta"][0], np.sum(np.square(grads_seen[name])))

fig, (ax_lr, ax_theta) = plt.subplots(1, 2, figsize=(13, 4.3))
steps_axis = np.arange(1, num_steps + 1)
for name in tracking:
    style = nb03.OPTIMIZER_STYLES[name]
    ax_lr.semilogy(steps_axis, lrs_seen[name], label=f"{name} (lr {tracking[name]:g})", **style)
    ax_theta.plot(steps_axis, thetas[name], label=name, linewidth=1, **style)
ax_lr.semilogy(steps_axis, 0.1 / np.sqrt(steps_axis * 1.0), color="grey", linestyle="-.", label="0.1 / √t")
ax_lr.set(title="Effective learning rate η / (√(accumulated g²) + ε)", xlabel="step",
          ylabel="effective lr (log scale)")
ax_theta.plot(steps_axis, target, color="black", linewidth=1, label="target c")
ax_theta.set(title="Following a target that jumps at step 1000", xlabel="step", ylabel="θ")
for ax in (ax_lr, ax_theta):
    ax.axvline(jump, color="grey", linewidth=0.5)
    ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# Left: Adagrad's effective learning rate falls along $1/\sqrt t$ and never comes back:
# by the jump it is a sixth of its value at step 30, by step 2000 a tenth. RMSprop's and
# Adam's level off at about $\eta / \mathrm{rms}(g)$, because their running means forget
# old gradients. Right after the jump they dip (the large new gradients make them
# cautious), and recover within a few hundred steps. Right: all three find the first
# target; after the jump RMSprop and Adam reach the new one within about 300 steps,
# while Adagrad is still on its way at step 2000.
#
# **The fix in one line**: replace the sum $G_t = G_{t-1} + g_t^2$ by a running mean
# $v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2$. That is RMSprop, and Adam's $v$. Adagrad is
# still a good choice when the total budget is fixed and gradients are sparse (it was made
# for rare features), which is also why min-char-rnn gets away with it.
#
# ## 4. The same char-rnn, six optimizers
#
# Now a real network: a vanilla RNN language model on tiny-shakespeare
# (`course_lib.models.CharRNN`, one layer, one-hot input; notebook 04 builds it in full),
# trained by truncated BPTT (`course_lib.training.TruncatedBPTT`) with `fit`, gradient
# norm clipped at 5 (notebook 02). Every optimizer starts from the same weights (`seed=0`)
# and sees the same batches in the same order, for the same number of steps.
#
# A fair comparison gives each optimizer its own learning rate: good learning rates
# differ by a factor of a thousand between SGD and Adam. So first a short sweep of each
# over a grid (powers of about 3), then the long runs at the best learning rate found.

# %%
from course_lib.data.batching import train_val_split
from course_lib.data.datasets import load_tinyshakespeare
from course_lib.data.vocab import CharVocab
from course_lib.models import CharRNN
from course_lib.training import NonFiniteError, TruncatedBPTT, evaluate_lm, fit
from course_lib.training.metrics import bits_per_char, moving_average

text = load_tinyshakespeare()
vocab = CharVocab.from_text(text)  # all 65 characters, in both modes
ids = vocab.encode(text[: by_mode(full=1_000_000, ci=20_000)])
train_ids, val_ids = train_val_split(ids, val_size=0.1)  # contiguous: the last 10% is held out

hidden_size = by_mode(full=128, ci=32)
batch_size, seq_len = 32, 50
num_steps = by_mode(full=2000, ci=30)  # the long runs
sweep_steps = by_mode(full=200, ci=5)  # each run of the learning-rate sweep
print(f"{len(train_ids):,} training and {len(val_ids):,} validation characters, V = {vocab.size}, H = {hidden_size}")


def train_char_rnn(optimizer, lr, num_steps, schedule=None, val_every=None, progress=True):
    """Train a fresh CharRNN (same seed, same batches every time); return (model, history)."""
    model = CharRNN(vocab.size, hidden_size, cell="rnn", seed=0)
    tbptt = TruncatedBPTT(model, train_ids, batch_size=batch_size, seq_len=seq_len)
    opt = surfaces.OPTIMIZERS[optimizer](model.params, lr)
    validate = (lambda: evaluate_lm(model, val_ids)) if val_every else None
    history = fit(tbptt.step, tbptt.batches(), opt, num_steps=num_steps, schedule=schedule, clip_norm=5.0,
                  validate=validate, val_every=val_every, progress=progress)
    return model, history


# %% [markdown]
# The sweep: each optimizer at four learning rates for `sweep_steps` steps, scored by the
# mean training loss of the last quarter of the run. A run that blows up (`fit` raises
# `NonFiniteError` on the first NaN or infinite loss) scores infinity.

# %%
from tqdm.auto import tqdm

lr_grid = {
    "SGD": [0.1, 0.3, 1.0, 3.0],
    "Momentum": [0.01, 0.03, 0.1, 0.3],
    "Nesterov": [0.01, 0.03, 0.1, 0.3],
    "Adagrad": [0.01, 0.03, 0.1, 0.3],
    "RMSprop": [3e-4, 1e-3, 3e-3, 1e-2],
    "Adam": [1e-3, 3e-3, 1e-2, 3e-2],
}
sweep_loss = {name: [] for name in lr_grid}
runs = [(name, lr) for name, lrs in lr_grid.items() for lr in lrs]
for name, lr in tqdm(runs, desc="learning-rate sweep"):
    try:
        _, history = train_char_rnn(name, lr, sweep_steps, progress=False)
        sweep_loss[name].append(np.mean(history.loss[-max(1, sweep_steps // 4):]))
    except NonFiniteError:
        sweep_loss[name].append(np.inf)
best_lr = {name: lr_grid[name][int(np.argmin(sweep_loss[name]))] for name in lr_grid}

fig, ax = plt.subplots(figsize=(7, 4))
for name in lr_grid:
    ax.semilogx(lr_grid[name], sweep_loss[name], marker="o", label=f"{name} (best {best_lr[name]:g})",
                **nb03.OPTIMIZER_STYLES[name])
ax.axhline(np.log(vocab.size), color="grey", linewidth=0.8, linestyle="-.", label=f"uniform guess ln {vocab.size}")
lowest = min(min(losses) for losses in sweep_loss.values())
ax.set_ylim(lowest - 0.2, np.log(vocab.size) + 0.5)  # worse than guessing is off the top: those rates failed
ax.set(title=f"Learning-rate sweep: loss after {sweep_steps} steps", xlabel="learning rate (log scale)",
       ylabel="training loss (nats/char)")
ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# Each curve is a valley: too small a learning rate learns slowly, too large a one
# bounces around or blows up (off the top of the plot: worse than guessing, or missing
# when `fit` stopped on an infinite loss). Notice where the valleys sit: SGD's highest,
# momentum's lower (momentum multiplies the step by up to $1/(1 - \mu) = 10$), the
# adaptive ones between $10^{-3}$ and a few $10^{-2}$, because their steps are about $\eta$
# per parameter whatever the gradient's size. A short sweep favours large learning rates
# (they win early), so it tends to pick one close to the edge of stability; it is a cheap,
# honest way to choose, not a proof.
#
# Now the long runs, each at its best learning rate, with the validation loss measured
# ten times along the way:

# %%
val_every = max(1, num_steps // 10)
histories, final_val = {}, {}
for name, lr in best_lr.items():
    model, histories[name] = train_char_rnn(name, lr, num_steps, val_every=val_every)
    final_val[name] = histories[name].val_loss[-1]


def smooth(losses, window=50):
    """The trend under the noise (metrics.moving_average), and the step each mean ends at."""
    means = moving_average(losses, window)
    return means, np.arange(len(losses) - len(means), len(losses))


fig, ax = plt.subplots(figsize=(9, 5))
for name, history in histories.items():
    style = nb03.OPTIMIZER_STYLES[name]
    loss, at = smooth(history.loss)
    ax.plot(at, loss, label=f"{name} (lr {best_lr[name]:g})", **style)
    ax.plot(history.val_step, history.val_loss, "o", color=style["color"], markersize=4)
ax.axhline(np.log(vocab.size), color="grey", linewidth=0.8, linestyle="-.", label=f"uniform guess ln {vocab.size}")
ax.set(title=f"Char-rnn (vanilla RNN, H = {hidden_size}) trained {num_steps} steps with each optimizer",
       xlabel="step", ylabel="loss (nats/char): training, smoothed; dots: validation")
ax.legend(fontsize=9)
plt.show()

# %%
print(f"{'optimizer':<10} {'lr':>7} {'train loss':>11} {'val loss':>9} {'val bits/char':>14}")
for name, history in sorted(histories.items(), key=lambda item: final_val[item[0]]):
    train_loss = np.mean(history.loss[-max(1, num_steps // 10):])  # the last 10% of the steps
    print(f"{name:<10} {best_lr[name]:>7g} {train_loss:>11.3f} {final_val[name]:>9.3f} "
          f"{bits_per_char(final_val[name]):>14.3f}")

# %% [markdown]
# How to read it (the numbers are from this run; yours will differ in the last digits):
#
# - The adaptive rules, Adam and RMSprop above all, drop fastest at the start: the
#   head's bias and the weights of rare characters get large steps right away, while
#   SGD's step on them is proportional to their small gradients.
# - Momentum and Nesterov are close to each other and ahead of plain SGD, as on the 2-D
#   surfaces; with a well-tuned learning rate they are far from hopeless, and with a
#   schedule (next section) and much longer runs SGD with momentum often generalises as
#   well as Adam.
# - Adagrad starts as fast as momentum and then falls behind: its effective learning
#   rate is shrinking.
# - Watch the validation dots, not only the training curves: a learning rate picked close
#   to the edge of stability can show a validation point far above the training loss
#   now and then, a step that went too far, which later steps repair.
# - One seed, one budget, one grid: differences of a few hundredths of a nat are within
#   the noise of such a comparison. This picture is why Adam is the usual default: good
#   results at its default-ish learning rate, with little tuning, on most problems.
#
# ## 5. Learning-rate schedules and warm-up
#
# A constant learning rate is a compromise: large is fast early but bounces around late
# (the noise of the minibatch gradients keeps it from settling), small settles but is
# slow. A **schedule** $\eta_t$ changes it over training. `course_lib.schedules` holds
# three, each a plain function `step -> lr` (step 0 is the first update), which `fit`
# calls before every step:
#
# - step decay: $\eta_t = \eta_0\, \gamma^{\lfloor t / k \rfloor}$, e.g. halve every $k$ steps;
# - cosine: $\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\,(1 + \cos(\pi t / T))$ for
#   $t \le T$, a smooth fall from $\eta_0$ to $\eta_{\min}$ at step $T$;
# - warm-up: $\eta_t \cdot \min\!\big(1, \tfrac{t + 1}{t_w}\big)$, a linear ramp over the first
#   $t_w$ steps. At the start the weights are random and Adam's $v$ rests on a handful of
#   gradients, so the first steps are the least reliable; warm-up keeps them small, and
#   then allows a larger peak learning rate than training could survive from step 0.
#
# By hand, against the library, at every step:


# %%
def cosine_by_hand(step, lr, total_steps, min_lr=0.0):
    t = min(step, total_steps)
    return min_lr + 0.5 * (lr - min_lr) * (1 + np.cos(np.pi * t / total_steps))


def warmup_by_hand(schedule, warmup_steps):
    return lambda step: schedule(step) * min(1.0, (step + 1) / warmup_steps)


# %%
# NBVAL_CHECK_OUTPUT
total, peak = 1000, 3e-3
schedule_list = {
    "constant": schedules.constant(peak),
    "step decay (×0.5 every 250)": schedules.step_decay(peak, every=250, factor=0.5),
    "cosine to 3e-4": schedules.cosine(peak, total_steps=total, min_lr=3e-4),
    "warm-up 100 + cosine": schedules.warmup(schedules.cosine(peak, total_steps=total, min_lr=3e-4), warmup_steps=100),
}
by_hand = warmup_by_hand(lambda step: cosine_by_hand(step, peak, total, min_lr=3e-4), warmup_steps=100)
assert all(np.isclose(by_hand(step), schedule_list["warm-up 100 + cosine"](step)) for step in range(total + 200))
step_decay = schedule_list["step decay (×0.5 every 250)"]
assert all(np.isclose(peak * 0.5 ** (step // 250), step_decay(step)) for step in range(total + 200))
print("step decay, warm-up + cosine by hand == course_lib.schedules, steps 0..1199  OK")
for name, schedule in schedule_list.items():
    values = "  ".join(f"{schedule(step) * 1e3:.4f}" for step in (0, 50, 250, 500, 999))
    print(f"{name:<28} {values}   (×1e-3 at steps 0, 50, 250, 500, 999)")

# %%
fig, ax = plt.subplots(figsize=(8, 4))
for name, schedule in schedule_list.items():
    ax.plot([schedule(step) for step in range(total)], label=name)
ax.set(title="Learning-rate schedules over a 1000-step run", xlabel="step", ylabel="learning rate")
ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# The same char-rnn, trained with Adam for the same number of steps, with warm-up and a
# cosine decay to a tenth of the peak, against the constant learning rate of section 4.
# `fit(schedule=...)` records the learning rate of every step in `history.lr`: we check
# that it followed the schedule.

# %%
adam_lr = best_lr["Adam"]
schedule = schedules.warmup(schedules.cosine(adam_lr, total_steps=num_steps, min_lr=adam_lr / 10),
                            warmup_steps=max(1, num_steps // 20))
model, scheduled = train_char_rnn("Adam", adam_lr, num_steps, schedule=schedule, val_every=val_every)
assert np.allclose(scheduled.lr, [schedule(step) for step in range(num_steps)])

fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(13, 4.3))
for label, history in {"constant lr": histories["Adam"], "warm-up + cosine": scheduled}.items():
    loss, at = smooth(history.loss)
    line, = ax_loss.plot(at, loss, label=f"{label}: val {history.val_loss[-1]:.3f}")
    ax_loss.plot(history.val_step, history.val_loss, "o", color=line.get_color(), markersize=4)
    ax_lr.plot(history.step, history.lr, label=label, color=line.get_color())
ax_loss.set(title="Adam on the char-rnn: constant lr vs a schedule", xlabel="step",
            ylabel="loss (nats/char): training, smoothed; dots: validation")
ax_lr.set(title="The learning rate fit used (history.lr)", xlabel="step", ylabel="learning rate")
ax_loss.legend(fontsize=9)
ax_lr.legend(fontsize=9)
plt.show()

# %% [markdown]
# The scheduled run usually ends lower: the last few hundred steps, at a small learning
# rate, let the weights settle into the bottom of the valley instead of bouncing around
# it (look at the last stretch of the training curve). The warm-up is short here; it
# matters most for large models and large peak learning rates, where the first few
# hundred steps at full speed can send a network somewhere it never comes back from.
#
# ## Exercises
#
# Each cell below runs as it is and tells you whether your answer is right. Uncomment
# the `# %load` line and run the cell to see a worked solution.
#
# **Exercise 1 (quick).** SGD on any quadratic $f(\theta) = \tfrac12 \theta^\top A \theta$,
# with $A$ $(D, D)$ symmetric positive definite, multiplies $\theta$ by $(I - \eta A)$ at
# every step. Write `max_stable_lr(A)`, the learning rate below which SGD converges from
# any start (hint: look at the eigenvalues of $A$, `np.linalg.eigvalsh`).

# %%
from course_lib.exercises import optimizers as ex


def max_stable_lr(A):
    """The largest learning rate at which SGD on f = θᵀAθ / 2 still converges (a float)."""
    raise NotImplementedError("your code here")


ex.check_max_stable_lr(max_stable_lr)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/03_1.py

# %% [markdown]
# **Exercise 2 (medium).** Sutskever et al. (2013) wrote Nesterov momentum with a velocity
# $v$ and the gradient taken at the look-ahead point $\theta + \mu v$:
#
# $$v_t = \mu\, v_{t-1} - \eta\, \nabla f(\theta_{t-1} + \mu\, v_{t-1}), \qquad \theta_t = \theta_{t-1} + v_t, \qquad v_0 = 0.$$
#
# Write one step of it. The checker runs your step next to `optim.SGD(..., nesterov=True)`
# and checks that `course_lib`'s parameters are exactly your look-ahead point
# $\theta_t + \mu v_t$ at every step. (Then show it on paper: substitute
# $\phi_t = \theta_t + \mu v_t$ and $v_t = -\eta b_t$ into the equations above and you get
# the form of section 1.3.)

# %%
def nesterov_sutskever_step(theta, v, grad_fn, lr, momentum):
    """One step of Sutskever's Nesterov momentum; grad_fn(point) gives the gradient there.

    Returns the new (theta, v), both arrays of theta's shape.
    """
    raise NotImplementedError("your code here")


ex.check_nesterov_sutskever_step(nesterov_sutskever_step)
# # %load solutions/03_2.py

# %% [markdown]
# **Exercise 3 (medium).** Adam's `weight_decay` (in `course_lib`, as in `torch.optim.Adam`)
# adds $\lambda \theta$ to the gradient, and then the division by $\sqrt{\hat v}$ shrinks
# that decay for parameters with large gradients. **AdamW** (Loshchilov & Hutter, 2019)
# decouples it: first $\theta \leftarrow \theta\,(1 - \eta\lambda)$, then the plain Adam
# step with the plain gradient. Write one AdamW step with the signature of section 1's
# rules (`state` starts as an empty dict). The checker compares 20 steps with the
# reference, which the tests compare with `torch.optim.AdamW`.

# %%
def adamw_step(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """One AdamW step: returns the new p; keeps t, m and v in the dict `state`."""
    raise NotImplementedError("your code here")


ex.check_adamw_step(adamw_step)
# # %load solutions/03_3.py

# %% [markdown]
# **Exercise 4 (quick).** Write a schedule factory `linear_decay(lr, total_steps)`: the
# learning rate falls in a straight line from `lr` at step 0 to 0 at step `total_steps`
# and stays 0 after it. Then `schedules.warmup(linear_decay(...), warmup_steps)` gives the
# warm-up-then-linear-decay schedule that BERT was trained with (the solution plots it).

# %%
def linear_decay(lr, total_steps):
    """A schedule step -> lr: lr at step 0, falling linearly to 0 at total_steps, then 0."""
    raise NotImplementedError("your code here")


ex.check_linear_decay(linear_decay)
# # %load solutions/03_4.py

# %% [markdown]
# **Exercise 5 (small project).** Get to the bottom of Rosenbrock's valley: write
# `make_optimizer(params)` returning any `course_lib.optim` optimizer (your choice of rule,
# learning rate, momentum ...) that brings the point from $(-1.2, 1)$ to within 0.01 of
# the minimum $(1, 1)$ in 500 steps. Use the widget of section 2.4 to explore first. Then,
# beyond the checker: which rule gets there in the fewest steps, and how sensitive is it
# to the learning rate?

# %%
def make_optimizer(params):
    """A course_lib.optim optimizer on params (a dict holding one array of shape (2,))."""
    raise NotImplementedError("your code here")


ex.check_rosenbrock_optimizer(make_optimizer)
# # %load solutions/03_5.py

# %% [markdown]
# ## Summary
#
# - Every optimizer here is a few lines: SGD $\theta \mathrel{-}= \eta g$; momentum and
#   Nesterov add a decaying sum of past gradients; Adagrad, RMSprop and Adam divide each
#   parameter's step by the size of its own gradients; Adam does both, with bias
#   correction. `course_lib.optim` computes exactly these, step for step (and matches
#   `torch.optim`).
# - SGD's learning rate is capped at $2/\lambda_{\max}$ by the steepest direction, and the
#   flattest direction then sets its speed: narrow valleys and saddles are slow.
#   Momentum gathers speed where gradients agree and cancels the zig-zag; per-parameter
#   scaling removes differences of scale between parameters (but not a rotated valley).
# - Adagrad's sum of squared gradients only grows, so its learning rate decays like
#   $1/\sqrt t$; running means (RMSprop, Adam) forget, and keep it level.
# - Compare optimizers at their own tuned learning rates; Adam is rarely the best by
#   much, but it is good with little tuning, which is why it is the default.
# - A schedule (warm-up, then a decay such as cosine) is a function `step -> lr` given to
#   `fit`; the decay lets training settle at the end.
#
# ## What to read next
#
# - **04 · char-rnn**: the model trained above, in full: min-char-rnn and its Adagrad,
#   sampling, validation and what the hidden units learn.
# - Gabriel Goh, [*Why Momentum Really Works*](https://distill.pub/2017/momentum/),
#   Distill 2017: momentum on quadratics, with interactive plots.
# - Sebastian Ruder, [*An overview of gradient descent optimization
#   algorithms*](https://arxiv.org/abs/1609.04747), 2016.
# - The papers: Duchi, Hazan & Singer (2011) for Adagrad; Sutskever, Martens, Dahl & Hinton,
#   *On the importance of initialization and momentum in deep learning* (2013); Kingma &
#   Ba, *Adam* (2015); Loshchilov & Hutter, *SGDR* (2017, cosine schedules) and *Decoupled
#   Weight Decay Regularization* (2019, AdamW); Goyal et al., *Accurate, Large Minibatch
#   SGD* (2017, warm-up).

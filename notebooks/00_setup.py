# %% [markdown]
# # 00 · Setup: is everything in place?
#
# Run this notebook first. It checks that your environment can run the course, and it
# shows the habit the whole course rests on: **checking every gradient with numbers**.
#
# **Goals**
#
# - confirm Python ≥ 3.11 and the libraries the notebooks import;
# - see which `course_lib` you are running, and in which `COURSE_MODE`;
# - run a gradient check on one step of a vanilla RNN, and see it catch a bug;
# - draw a plot, so you know figures show up.
#
# Run the cells from top to bottom (Shift+Enter). Nothing here downloads anything.

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

# %% [markdown]
# ## 1. The environment
#
# If a cell below fails, go back to the Quick start in the README: `make lab` builds
# the environment (`.venv/`) that has everything.

# %%
import sys

assert sys.version_info >= (3, 11), f"the course needs Python 3.11 or newer, this is {sys.version.split()[0]}"

import ipywidgets
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import tqdm

import course_lib
from course_lib.notebook.style import use_course_style

use_course_style()  # colour-blind-safe colours; COURSE_LECTURE=1 for a projector

print(f"{'python':<11} {sys.version.split()[0]}")
for module in (np, matplotlib, ipywidgets, tqdm, course_lib):
    print(f"{module.__name__:<11} {module.__version__}")

# %% [markdown]
# ## 2. Full mode or CI mode
#
# Every notebook runs in one of two modes, chosen by the environment variable
# `COURSE_MODE` before Jupyter starts:
#
# - `full` (the default): what you run, with full datasets and real training runs;
# - `ci`: what the tests run: the same code on less data and fewer steps, so that every
#   notebook finishes in seconds (`COURSE_MODE=ci make lab` shows you that version).
#
# A notebook picks its sizes with `by_mode`, so the difference between the two runs is
# always written on one line:

# %%
from course_lib.notebook.modes import by_mode, course_mode

print("COURSE_MODE:", course_mode())
n_points = by_mode(full=401, ci=101)  # points on the curves of the plot in section 4

# %% [markdown]
# ## 3. A gradient check
#
# One step of a vanilla RNN reads an input $x$ and the previous hidden state
# $h_{prev}$ (one row per example):
#
# $$h_{next} = \tanh(x W_x + h_{prev} W_h + b).$$
#
# `course_lib.rnn` holds this forward pass and its backward pass (notebook 02 derives
# both). Given $\partial L / \partial h_{next}$, the backward pass returns the gradient of
# the loss $L$ with respect to each input. We do not take that on trust: we compare it with
# **central differences**, nudging one number $\theta_i$ at a time by $\pm\varepsilon$:
#
# $$\frac{\partial L}{\partial \theta_i} \approx \frac{L(\theta + \varepsilon e_i) - L(\theta - \varepsilon e_i)}{2\varepsilon}.$$
#
# For the loss we take $L = \sum h_{next} \odot dh_{next}$ with a random array $dh_{next}$:
# its gradient with respect to $h_{next}$ is exactly $dh_{next}$, what the backward pass
# receives. Everything is float64: in float32 the difference of two nearly equal losses
# keeps too few digits for the check to mean anything.

# %%
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.rnn import rnn_step_backward, rnn_step_forward

rng = np.random.default_rng(0)
N, D, H = 3, 4, 5  # batch size, input features, hidden units
x = rng.standard_normal((N, D))
h_prev = rng.standard_normal((N, H))
# Small weights keep tanh out of saturation, where every gradient is close to 0 and a
# wrong one would look right.
Wx = 0.5 * rng.standard_normal((D, H))
Wh = 0.5 * rng.standard_normal((H, H))
b = 0.1 * rng.standard_normal(H)
dh_next = rng.standard_normal((N, H))

h_next, cache = rnn_step_forward(x, h_prev, Wx, Wh, b)
dx, dh_prev, dWx, dWh, db = rnn_step_backward(dh_next, cache)


def step(_):
    """h_next, recomputed from the arrays that numerical_gradient nudges in place.

    numerical_gradient passes the nudged array; step ignores it, as that array is one of
    the five read here.
    """
    return rnn_step_forward(x, h_prev, Wx, Wh, b)[0]


# %% [markdown]
# The verdicts below are part of the course's tests: they must read the same on every
# machine, so they print shapes and a threshold, never the raw error (its last digits
# vary between CPUs).

# %%
# NBVAL_CHECK_OUTPUT
checks = {"x": (x, dx), "h_prev": (h_prev, dh_prev), "Wx": (Wx, dWx), "Wh": (Wh, dWh), "b": (b, db)}
for name, (value, analytic) in checks.items():
    error = rel_error(analytic, numerical_gradient(step, value, dh_next))
    assert error < 1e-7, f"d{name}: relative error {error:.1e}"
    print(f"{'d' + name + ':':<9} shape {str(analytic.shape):<7} relative error < 1e-7  OK")

# %% [markdown]
# A check that cannot fail proves nothing. Here is the weight gradient with a classic
# bug, the derivative of tanh forgotten, and the same check catching it:

# %%
# NBVAL_CHECK_OUTPUT
dWx_buggy = x.T @ dh_next  # right: x.T @ (dh_next * (1 - h_next**2))
error = rel_error(dWx_buggy, numerical_gradient(step, Wx, dh_next))
assert error > 1e-2
print("dWx without tanh': relative error > 1e-2  caught")

# %% [markdown]
# ## 4. A plot
#
# The tanh of that step, and its derivative $1 - \tanh^2$, the factor the buggy version
# forgot. Where $|z|$ is large the derivative is nearly 0: a saturated unit passes almost
# no gradient back. Over many time steps that becomes the *vanishing gradient*, the
# problem the LSTM of notebook 06 was designed to solve.

# %%
from course_lib.activations import tanh, tanh_grad

z = np.linspace(-4, 4, n_points)
t = tanh(z)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(z, t, label="tanh(z)")
ax.plot(z, tanh_grad(t), label="derivative 1 − tanh(z)²")
ax.axhline(0, color="grey", linewidth=0.5)
ax.set(title="tanh and its derivative", xlabel="pre-activation z", ylabel="value")
ax.legend()
plt.show()

# %% [markdown]
# ## You are set
#
# If every cell ran and the checks read `OK`, your environment is ready. Next:
# **01 · Activations and cross-entropy**, where the functions above are built to stay
# exact even for huge inputs.

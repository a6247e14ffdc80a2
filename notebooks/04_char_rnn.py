# %% [markdown]
# # 04 · char-rnn: a character-level language model
#
# A language model reads text one character at a time and, after each character, says how
# likely every possible next character is. Trained on the collected works of one author,
# it learns spelling, punctuation, line breaks and who speaks when, from nothing but
# the task of guessing the next character. Then it can write: draw a character from its
# guess, feed it back in, and repeat. This notebook starts from Karpathy's famous
# 112-line `min-char-rnn`, runs it, makes it fast, answers the questions everyone asks
# about it with experiments, and ends by looking inside a trained network for the units
# that count characters along a line or notice a speaker's name.
#
# **Learning goals.** After this notebook you can
#
# - read min-char-rnn line by line (forward pass, BPTT, Adagrad, the data pointer) and
#   map its column form $W_{xh} x$ onto the row form $x W_x$ of `course_lib`;
# - batch the same model over parallel streams of text, and measure what that buys in
#   characters per second;
# - explain why the data pointer moves by the sequence length, what the "smooth loss"
#   is, and how padding and a mask deal with sequences shorter than the window;
# - report a language model's loss in nats, bits per character and perplexity, compare
#   it with simple baselines, choose a hidden size from validation loss, and see
#   overfitting on a plot;
# - generate text with temperature, top-k, greedy decoding and priming text;
# - find hidden units that track something readable, by correlation, and draw them.

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
import math
import time

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from course_lib import minchar, sampling
from course_lib.data.batching import stream_batches, train_val_split
from course_lib.data.datasets import load_tinyshakespeare
from course_lib.data.vocab import CharVocab
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.losses import softmax_cross_entropy
from course_lib.lstm import lstm_forward, lstm_step_forward
from course_lib.models import CharRNN
from course_lib.notebook import nb04_char_rnn as nb04
from course_lib.notebook.modes import by_mode
from course_lib.notebook.style import use_course_style
from course_lib.optim import Adagrad, Adam, clip_grad_value
from course_lib.pretrained import load_pretrained
from course_lib.training import TruncatedBPTT, evaluate_lm, fit, metrics
from course_lib.training.minchar_loop import train as train_minchar

use_course_style()  # colour-blind-safe colours; COURSE_LECTURE=1 for a projector

# %% [markdown]
# ## 1. The data: one long string
#
# *tiny-shakespeare* is 40,000 lines of Shakespeare's plays in one text file of about
# a million characters. A character-level model needs a **vocabulary**: the distinct
# characters, each given an integer id. `CharVocab` sorts them, so the ids are the same
# on every machine (the order of a Python `set` of strings changes from run to run).

# %%
# NBVAL_CHECK_OUTPUT
text = load_tinyshakespeare()
vocab = CharVocab.from_text(text)
ids = vocab.encode(text)  # int64 (L,)
V = vocab.size

print(f"{len(text):,} characters, vocabulary of V = {V}: {vocab.chars!r}")
print("ids of 'ROMEO:' ->", vocab.encode("ROMEO:"), "->", repr(vocab.decode(vocab.encode("ROMEO:"))))
print(text[:250])

# %% [markdown]
# **Training and validation parts.** We hold out the last 10% of the text to measure how
# well a model predicts text it never trained on. The split is *contiguous*, not
# shuffled: neighbouring characters are so related that a shuffled split would put half
# of every validation word in the training part, and the validation loss would flatter
# the model. The last 10% also holds other scenes and other speakers, which is the point.

# %%
# NBVAL_CHECK_OUTPUT
train_ids, val_ids = train_val_split(ids, val_size=0.1)  # the last 10%, in order
val_text = vocab.decode(val_ids)
print(f"training: {len(train_ids):,} characters   validation: {len(val_ids):,} characters")
print("validation starts:", repr(val_text[:60]))

# %% [markdown]
# Evaluating on all 111,539 validation characters takes a couple of seconds for the
# small models trained below; the experiments use a slice of it (`val_eval`) so that
# they can evaluate often.

# %%
val_eval = val_ids[: by_mode(full=20_000, ci=2_000)]  # for quick evaluations during experiments

# %% [markdown]
# ## 2. min-char-rnn, reproduced
#
# Karpathy's min-char-rnn (2015) is a vanilla RNN written in 112 lines of NumPy, one
# sequence at a time, with vectors as **columns**. At each step $t$ of a chunk of
# $T = 25$ characters it reads the one-hot column $x_t$ of the current character:
#
# $$
# \begin{aligned}
# h_t &= \tanh\!\left(W_{xh}\, x_t + W_{hh}\, h_{t-1} + b_h\right) && x_t: (V, 1),\ \ h_t: (H, 1)\\
# y_t &= W_{hy}\, h_t + b_y && y_t: (V, 1)\ \text{scores}\\
# p_t &= \operatorname{softmax}(y_t) && p_t: (V, 1)\\
# L &= -\sum_{t=1}^{T} \log p_t[\text{target}_t] && \text{summed over the chunk, in nats}
# \end{aligned}
# $$
#
# with $W_{xh}$ $(H, V)$, $W_{hh}$ $(H, H)$, $W_{hy}$ $(V, H)$, $b_h$ $(H, 1)$, $b_y$ $(V, 1)$;
# $H = 100$ hidden units. The target of each character is the next one. Training is
# truncated backpropagation through time (BPTT) over each chunk, every gradient entry
# clipped to $[-5, 5]$, and Adagrad with learning rate 0.1.
#
# `course_lib.minchar` keeps the algorithm line for line; it only removes the global
# variables and seeds the random numbers (its docstring lists every difference). Here is
# the heart of it, the forward and backward pass over one chunk:

# %%
print(inspect.getsource(minchar.loss_fun))

# %% [markdown]
# Things to notice:
#
# - `hs[t + 1] = np.tanh(Wxh @ xs[t] + Whh @ hs[t] + bh)` is the first equation above;
#   `hs[0] = hprev` is the hidden state carried in from the previous chunk.
# - In the backward loop, `dy = p - onehot(target)` is the gradient of the cross-entropy
#   with respect to the scores (notebook 01), and `dh = Why.T @ dy + dh_next` adds the two
#   ways $h_t$ influences the loss: through its own output, and through $h_{t+1}$
#   (notebook 02). `dh_next` is where BPTT carries the gradient back in time.
# - The loss is **summed** over the chunk; the rest of the course averages (nats per
#   character). Divide by 25 to compare.
#
# The update and the training loop are just as short. Adagrad divides each step by the
# root of the sum of all squared gradients seen so far (notebook 03):

# %%
print(inspect.getsource(minchar.adagrad_update))
print(inspect.getsource(minchar.MinCharRNN.step))

# %% [markdown]
# `step` is one iteration of the original's `while True:` loop: take the 25 characters
# at the data pointer `p` and their 25 successors, run `loss_fun` from the carried state
# `hprev`, update the parameters, and move `p` on by 25. When the next chunk would run
# past the end of the text, it starts over from the beginning with a zero state.
#
# Sampling feeds the model its own guesses, one character at a time:

# %%
print(inspect.getsource(minchar.sample))

# %% [markdown]
# ### Check it before trusting it
#
# Two checks, both in float64. First a **gradient check** of `loss_fun` on a small
# network (notebook 00's habit): the backward pass must agree with central differences.
# Clipping is turned off (`clip=None`), since a clipped gradient is no longer the
# derivative of anything. (The bound is $10^{-5}$ rather than notebook 00's $10^{-7}$: a
# few entries of `dWhy` are as small as $3 \cdot 10^{-5}$, and a central difference of a
# loss near 20 keeps only about five correct digits of such a number.)

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
small = minchar.init_params(V, hidden_size=6, rng=rng)
for name in small:  # larger than min-char-rnn's 0.01 start, so that every gradient matters
    small[name] += 0.3 * rng.standard_normal(small[name].shape)
inputs, targets = train_ids[:5], train_ids[1:6]
hprev = 0.5 * rng.standard_normal((6, 1))
_, grads, _ = minchar.loss_fun(small, inputs, targets, hprev, clip=None)

for name, param in small.items():
    numeric = numerical_gradient(lambda _: minchar.loss_fun(small, inputs, targets, hprev, clip=None)[0], param)
    error = rel_error(grads[name], numeric)
    assert error < 1e-5, f"d{name}: relative error {error:.1e}"
    print(f"d{name + ':':<5} shape {str(grads[name].shape):<8} relative error < 1e-5  OK")

# %% [markdown]
# Second, **column form versus row form**. `course_lib` writes every layer in row form,
# a batch of row vectors multiplied from the right: $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$
# with $x_t$ $(N, V)$ and $h_t$ $(N, H)$. Transposing the column equation,
# $(W_{xh} x_t)^\top = x_t^\top W_{xh}^\top$, shows they are the same network with
#
# $$W_x = W_{xh}^\top\ (V, H),\quad W_h = W_{hh}^\top\ (H, H),\quad W_{\text{head}} = W_{hy}^\top\ (H, V),\quad N = 1.$$
#
# So a `CharRNN` with `cell="rnn"` given the transposed weights must compute the same
# loss (times 25, sum versus mean), the same gradients (transposed) and the same final
# hidden state:

# %%
# NBVAL_CHECK_OUTPUT
H = 100
col = minchar.init_params(V, H, rng=np.random.default_rng(1))
for name in col:
    col[name] += 0.05 * np.random.default_rng(2).standard_normal(col[name].shape)
chunk_in, chunk_out = train_ids[:25], train_ids[1:26]
loss_col, grads_col, h_col = minchar.loss_fun(col, chunk_in, chunk_out, np.zeros((H, 1)), clip=None)



def to_row_form(col, dtype=np.float64):
    """min-char-rnn's column-form parameters as the parameters of CharRNN(cell="rnn")."""
    row = {"layer0.Wx": col["Wxh"].T, "layer0.Wh": col["Whh"].T, "layer0.b": col["bh"].ravel(),
           "head.W": col["Why"].T, "head.b": col["by"].ravel()}
    return {name: np.ascontiguousarray(a, dtype) for name, a in row.items()}


row_model = CharRNN(V, H, cell="rnn", dtype=np.float64)
row_model.params.update(to_row_form(col))
loss_row, grads_row, state_row = row_model.loss(chunk_in[None, :], chunk_out[None, :])  # N = 1, T = 25

assert np.isclose(loss_col, 25 * loss_row, rtol=1e-12)
print("loss: column form (sum) = 25 x row form (mean)   OK")
for col_name, row_name in [("Wxh", "layer0.Wx"), ("Whh", "layer0.Wh"), ("bh", "layer0.b"),
                           ("Why", "head.W"), ("by", "head.b")]:
    row_grad_as_column = 25 * grads_row[row_name].T.reshape(grads_col[col_name].shape)
    assert rel_error(grads_col[col_name], row_grad_as_column) < 1e-10
    print(f"d{col_name:<3} = 25 x d{row_name:<9} transposed   OK")
assert np.allclose(h_col.ravel(), state_row[0].ravel(), rtol=1e-12)
print("final hidden state: the same   OK")

# %% [markdown]
# ### Run it
#
# Now train min-char-rnn on the training part, as the original does: one chunk of 25
# characters per step, Adagrad, clipping at 5. Every few thousand steps it prints a
# sample of 200 characters, drawn from its current state. Watch the samples go from
# noise to words, line breaks and names in capitals. (On a laptop this runs at about
# 20,000 characters per second; the bar shows the smooth loss, explained in section 5.2.)

# %%
chars_to_read = by_mode(full=1_000_000, ci=20_000)  # characters each run of sections 2 and 3 reads

mc = minchar.MinCharRNN(vocab, hidden_size=100, seq_length=25, learning_rate=0.1, seed=0)
start = time.perf_counter()
train_minchar(train_ids, num_steps=chars_to_read // 25, model=mc, sample_every=by_mode(full=10_000, ci=400))
minchar_seconds = time.perf_counter() - start
print("after training:", repr(mc.sample_text("ROMEO:", 200, seed=0)))

# %% [markdown]
# ## 3. The same model, batched
#
# min-char-rnn multiplies matrices by single columns: `Whh @ h` with `h` of shape
# $(100, 1)$. Each such product costs Python and NumPy overhead for very little
# arithmetic. The fix is to process $N$ pieces of text at once, so that each product is
# a matrix times a matrix, $(N, H) \times (H, H)$.
#
# Which $N$ pieces? Chopping the text into independent chunks would throw away the
# hidden state that min-char-rnn carries from one chunk to the next. Instead,
# `stream_batches` cuts the text into $N$ long **streams**, one per row, and walks along
# all of them $T$ characters at a time. Row $n$ of each batch continues exactly where
# row $n$ of the previous batch stopped, so the hidden state can still be carried over.
# On the alphabet, with $N = 2$ streams and $T = 4$:

# %%
# NBVAL_CHECK_OUTPUT
abc = CharVocab.from_text("abcdefghijklmnopqrstuvwxyz")
for k, (x, y) in enumerate(stream_batches(abc.encode("abcdefghijklmnopqrstuvwxyz"), batch_size=2, seq_len=4)):
    print(f"batch {k}:  x = {[abc.decode(row) for row in x]}   y = {[abc.decode(row) for row in y]}")

# %% [markdown]
# Stream 0 is `a…m`, stream 1 is `n…z`; `y` is `x` shifted by one character. The batch
# shapes are $x, y$: $(N, T)$ integer ids; the model turns $x$ into one-hot rows
# $(N, T, V)$, hidden states $(N, T, H)$ and scores $(N, T, V)$.
#
# `TruncatedBPTT` feeds these batches to `CharRNN`, carrying the state, and `fit` is the
# course's training loop. Everything else stays min-char-rnn's: one vanilla RNN layer of
# $H = 100$, one-hot input, $T = 25$, the same starting weights (transposed), Adagrad
# with learning rate 0.1, every gradient entry clipped to $[-5, 5]$, float64. One
# difference is deliberate: `CharRNN.loss` is the *mean* over the batch, not the sum. Adagrad divides each gradient by the root of
# its own accumulated squares, so multiplying every gradient by a constant does not
# change its steps (apart from its tiny $\varepsilon$).
#
# Both runs read the same number of characters; the batched one reads them 16 streams
# at a time.

# %%
def batched_min_char_rnn(dtype, batch_size=16, seq_len=25, seed=0):
    """min-char-rnn's model and recipe in course_lib's batched form: (model, tbptt, optimizer, step)."""
    model = CharRNN(V, 100, cell="rnn", dtype=dtype)
    # min-char-rnn's own starting weights (0.01 x randn), not CharRNN's default initialisation.
    model.params.update(to_row_form(minchar.init_params(V, 100, np.random.default_rng(seed)), dtype))
    tbptt = TruncatedBPTT(model, train_ids, batch_size=batch_size, seq_len=seq_len)
    optimizer = Adagrad(model.params, lr=0.1)  # after the update: it keeps the arrays it is given

    def step(batch):
        loss, grads = tbptt.step(batch)
        clip_grad_value(grads, 5.0)  # as min-char-rnn: every entry into [-5, 5]
        return loss, grads

    return model, tbptt, optimizer, step


batch_size = 16
num_batched_steps = chars_to_read // (batch_size * 25)  # the same characters as min-char-rnn read
timings = {}
for dtype in (np.float64, np.float32):
    model, tbptt, optimizer, step = batched_min_char_rnn(dtype, batch_size)
    start = time.perf_counter()
    history = fit(step, tbptt.batches(), optimizer, num_steps=num_batched_steps)
    timings[dtype.__name__] = time.perf_counter() - start
    if dtype is np.float64:
        batched, batched_history = model, history  # the exact counterpart of min-char-rnn

# %% [markdown]
# The speed, in characters per second (yours will differ: it depends on the CPU, on how
# many threads NumPy's BLAS library uses, and on what else the machine is doing):

# %%
minchar_speed = chars_to_read / minchar_seconds
print(f"{'min-char-rnn (one column at a time, float64)':<46} {minchar_speed:>9,.0f} chars/s")
for name, seconds in timings.items():
    speed = chars_to_read / seconds
    print(f"{f'batched, {batch_size} streams, {name}':<46} {speed:>9,.0f} chars/s   x{speed / minchar_speed:.1f}")

# %% [markdown]
# float32 halves the memory traffic of every product, which NumPy turns into speed; the
# rest of the course trains in float32 and keeps float64 for gradient checks.
#
# Did batching change what the model learns? Below, both losses per character are
# averaged over windows of 10,000 characters (400 min-char-rnn steps, 25 batched steps)
# and drawn against the characters read (left) and against time (right).

# %%
mc_per_char = np.asarray(mc.history.loss) / 25  # min-char-rnn's loss is summed over 25 characters
window_chars = by_mode(full=10_000, ci=1_000)
runs = {  # label: (loss per character at each step, characters per step, seconds in all)
    "min-char-rnn": (mc_per_char, 25, minchar_seconds),
    f"batched, {batch_size} streams": (np.asarray(batched_history.loss), 25 * batch_size, timings["float64"]),
}
fig, (ax_chars, ax_time) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for label, (loss, chars_per_step, seconds) in runs.items():
    window = window_chars // chars_per_step  # steps per window
    chars_read = chars_per_step * (np.arange(len(loss) - window + 1) + window)  # at each window's end
    ax_chars.plot(chars_read, metrics.moving_average(loss, window), label=label)
    ax_time.plot(chars_read * seconds / chars_to_read, metrics.moving_average(loss, window), label=label)
ax_chars.set(title="Per character read: close", xlabel="characters read",
             ylabel="training loss (nats per character)")
ax_time.set(title="Per second, batching wins", xlabel="seconds (at each run's average speed)", xscale="log")
ax_chars.legend()
ax_time.legend()
plt.show()

mc_val = mc.evaluate(val_eval)
batched_val = evaluate_lm(batched, val_eval)
print(f"validation loss: min-char-rnn {mc_val:.3f}, batched {batched_val:.3f} nats per character")

# %% [markdown]
# Per character, the batched model is a little behind: it takes one step per 400
# characters where min-char-rnn takes 16, and one step can only move the weights so far.
# Per second it is far ahead: in min-char-rnn's time it could read many times more text.
# That trade (fewer steps, each averaging more text and much cheaper per character) is
# why every real training run uses batches.
#
# ## 4. Measuring a language model: nats, bits and perplexity
#
# The loss of a language model on a text of $L$ predictions is the mean negative log
# probability it gave the character that came next:
#
# $$\ell = -\frac{1}{L}\sum_{i=1}^{L} \ln p(c_{i+1} \mid c_1, \dots, c_i) \quad \text{nats per character.}$$
#
# Two other units say the same thing:
#
# - **bits per character** $= \ell / \ln 2$: what a compressor driven by the model would
#   spend per character (a plain text file spends 8);
# - **perplexity** $= e^{\ell}$: the model is as unsure as if it chose uniformly among
#   that many characters.
#
# Baselines give these numbers a scale. A uniform guess over $V = 65$ characters scores
# $\ln 65$ nats. A **unigram** model knows only how common each character is; a
# **bigram** model knows which character tends to follow which. Both are counts over the
# training part, plus one for every character or pair, so that nothing unseen gets
# probability 0 (a single 0 would make the loss infinite):

# %%
# NBVAL_CHECK_OUTPUT
unigram = np.bincount(train_ids, minlength=V) + 1.0
unigram /= unigram.sum()  # (V,) p(next character)
pairs = np.ones((V, V))  # (V, V): pairs[a, b] counts a followed by b, plus one
np.add.at(pairs, (train_ids[:-1], train_ids[1:]), 1)
bigram = pairs / pairs.sum(axis=1, keepdims=True)  # row a: p(next | current a)

baselines = {
    "uniform": math.log(V),
    "unigram": -np.mean(np.log(unigram[val_ids[1:]])),
    "bigram": -np.mean(np.log(bigram[val_ids[:-1], val_ids[1:]])),
}
print(f"{'model':<9} {'nats':>7} {'bits':>7} {'perplexity':>11}   (on the validation part)")
for name, nats in baselines.items():
    bits, ppl = nats / math.log(2), math.exp(nats)  # by hand ...
    assert np.isclose(bits, metrics.bits_per_char(nats)) and np.isclose(ppl, metrics.perplexity(nats))  # ... and library
    print(f"{name:<9} {nats:7.4f} {bits:7.4f} {ppl:11.4f}")

# %% [markdown]
# With one character of context, the bigram model is down to a perplexity of 12: as
# unsure as a choice among 12 characters, not 65. An RNN must beat that by using more
# context. The models we
# trained above, and the LSTM that `course_lib` ships (hidden size 256, trained for
# twenty minutes with the same tools; `course_lib/pretrained/README.md` tells how):

# %%
ckpt = load_pretrained("shakespeare_lstm")  # weights only: loads in a fraction of a second
lstm = ckpt.model
assert ckpt.vocab == vocab  # the same 65 characters, in the same order
print(lstm.config)

val_for_lstm = val_ids[: by_mode(full=len(val_ids), ci=5_000)]
results = {
    f"min-char-rnn, {chars_to_read:,} chars": mc_val,
    f"batched, {chars_to_read:,} chars": batched_val,
    "pretrained LSTM": evaluate_lm(lstm, val_for_lstm),
}
print(f"\n{'model':<32} {'nats':>6} {'bits':>6} {'perplexity':>11}")
for name, nats in results.items():
    print(f"{name:<32} {nats:6.3f} {metrics.bits_per_char(nats):6.3f} {metrics.perplexity(nats):11.2f}")

# %% [markdown]
# (The first two are measured on the slice `val_eval`, the LSTM on the whole validation
# part; the first 20,000 characters are a bit harder than the rest.) A perplexity near
# 5 means that, on average, the LSTM hesitates between about five characters; inside a
# word it is often sure, at the start of a word it is not.
#
# ## 5. The questions every learner asks
#
# ### 5.1 Why does the data pointer move by 25, and not by 1?
#
# Moving by 1 looks like it would squeeze more out of the text: every position would
# start a chunk. Two things go wrong.
#
# 1. **Waste.** A step costs the same whatever the stride. With stride 1, each character
#    is read 25 times before the pointer leaves it, so the same compute covers 25 times
#    less text.
# 2. **A leak.** min-char-rnn carries `hprev` from one chunk to the next. After the
#    chunk that starts at $p$, the state has read characters up to $p + 24$. With stride
#    1, the next chunk asks it to predict characters $p + 2, \dots, p + 26$: it has
#    already read most of them.

# %%
# NBVAL_CHECK_OUTPUT
T, steps = 25, 10_000
for stride in (25, 1):
    starts = stride * np.arange(steps)
    read = starts[-1] + T + 1  # characters touched: inputs and targets of every chunk
    print(f"stride {stride:>2}: {steps:,} steps read {read:,} different characters")
state_has_read = set(range(0, 25))  # the chunk at p = 0 read characters 0..24
next_targets = set(range(2, 27))  # the chunk at p = 1 predicts characters 2..26
print(f"stride  1: the carried state has already read {len(state_has_read & next_targets)} "
      f"of the next chunk's {len(next_targets)} targets")

# %% [markdown]
# Let us measure it. Here is min-char-rnn's training loop written out with a `stride`
# argument, using the library's `loss_fun` and `adagrad_update`. With `stride=25` it must
# reproduce `MinCharRNN` exactly:

# %%
def train_with_stride(stride, num_steps, *, carry_state=True, eval_every=None, hidden_size=100, seq_length=25):
    """min-char-rnn's loop, with the data pointer moving by ``stride``.

    Returns the training loss of each step (nats per character) and the validation
    loss on ``val_eval`` every ``eval_every`` steps.
    """
    params = minchar.init_params(V, hidden_size, np.random.default_rng(0))  # as MinCharRNN(seed=0)
    memory = {name: np.zeros_like(param) for name, param in params.items()}  # Adagrad's sums of squares
    p, h = 0, np.zeros((hidden_size, 1))
    train_losses, val_losses = [], []
    label = f"stride {stride}, state {'carried' if carry_state else 'reset'}"
    bar = tqdm(range(num_steps), desc=label, disable=num_steps < 1000)
    for n in bar:
        if n == 0 or p + seq_length + 1 >= len(train_ids):
            p, h = 0, np.zeros((hidden_size, 1))  # start over: the next chunk would not fit
        if not carry_state:
            h = np.zeros((hidden_size, 1))
        inputs, targets = train_ids[p:p + seq_length], train_ids[p + 1:p + seq_length + 1]
        loss, grads, h = minchar.loss_fun(params, inputs, targets, h)
        minchar.adagrad_update(params, grads, memory)
        train_losses.append(loss / seq_length)
        if eval_every and (n + 1) % eval_every == 0:
            val_losses.append(minchar.evaluate(params, val_eval))
            bar.set_postfix_str(f"val {val_losses[-1]:.3f}")
        p += stride
    return np.array(train_losses), np.array(val_losses)


# %%
# NBVAL_CHECK_OUTPUT
reference = minchar.MinCharRNN(vocab, seed=0)
train_minchar(train_ids, num_steps=200, model=reference, progress=False)
by_hand, _ = train_with_stride(25, 200)
assert np.allclose(25 * by_hand, reference.history.loss, rtol=1e-12, atol=0)
print("stride 25, written out = MinCharRNN, for 200 steps   OK")

# %% [markdown]
# Now three runs with the same number of steps: stride 25 (min-char-rnn), stride 1 with
# the state carried (the leak), and stride 1 with the state reset to zero before every
# chunk (no leak, but no context from before the chunk either).

# %%
stride_steps = by_mode(full=6_000, ci=300)
stride_eval_every = by_mode(full=500, ci=50)
stride_runs = {
    "stride 25 (min-char-rnn)": train_with_stride(25, stride_steps, eval_every=stride_eval_every),
    "stride 1, state carried": train_with_stride(1, stride_steps, eval_every=stride_eval_every),
    "stride 1, state reset": train_with_stride(1, stride_steps, carry_state=False, eval_every=stride_eval_every),
}

# %%
fig, ax = plt.subplots(figsize=(8, 5.5))
eval_steps = stride_eval_every * np.arange(1, stride_steps // stride_eval_every + 1)
for (label, (train_losses, val_losses)), color in zip(stride_runs.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
    window = stride_eval_every
    ax.plot(np.arange(window, len(train_losses) + 1), metrics.moving_average(train_losses, window), color=color,
            linestyle=":", label=f"{label}: training")
    ax.plot(eval_steps, val_losses, color=color, marker="o", label=f"{label}: validation")
ax.axhline(math.log(V), color="grey", linestyle="--", linewidth=1, label=f"uniform guess, ln {V}")
ax.set(title="Where the data pointer goes matters", xlabel="training step",
       ylabel="loss (nats per character)")
ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.15))
plt.show()

# %% [markdown]
# - **Stride 1, state carried** has the lowest *training* loss and a validation loss
#   worse than a uniform guess. It learned to read the answers out of the carried state,
#   a shortcut that does not exist on new text. A training loss that looks too good is
#   a reason to look for a leak.
# - **Stride 1, state reset** is honest but slow: in these steps it read only a few
#   thousand characters of text, and it learns (and overfits) that little text.
# - **Stride 25** reads new text at every step, with a state that has read exactly what
#   came before the chunk: the best validation loss for the same compute.
#
# ### 5.2 What is the "smooth loss"?
#
# min-char-rnn prints `smooth_loss`, not the loss of the last chunk. The loss of one
# chunk of 25 characters is noisy: an easy line, a rare name. So it keeps an
# exponential moving average,
#
# $$s_n = 0.999\, s_{n-1} + 0.001\, \ell_n, \qquad s_{-1} = 25 \ln V,$$
#
# where $\ell_n$ is the summed loss of step $n$ and the start $25 \ln V$ is the loss of
# a uniform guess. Written out, $s_n$ is a weighted mean of all the losses so far, with
# weights $0.001 \cdot 0.999^{k}$ for the loss $k$ steps ago, plus $0.999^{n+1}$ of the
# starting value. We recompute it by hand from the recorded losses:

# %%
smooth, by_hand_smooth = math.log(V) * 25, []
for loss in mc.history.loss:
    smooth = 0.999 * smooth + 0.001 * loss
    by_hand_smooth.append(smooth)
assert np.allclose(by_hand_smooth, mc.history.smooth_loss)
print(f"the smooth loss, by hand = MinCharRNN's, over {len(mc.history.loss):,} steps")

# %% [markdown]
# What that average remembers: about the last $1 / (1 - 0.999) = 1000$ steps, i.e. 25,000
# characters. The uniform start fades slowly:

# %%
# NBVAL_CHECK_OUTPUT
for n in (100, 1000, 3000, 4603):
    print(f"after {n:>4} steps, the starting value still weighs {0.999 ** n:.4f}")

# %%
steps_axis = np.arange(1, len(mc_per_char) + 1)
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(steps_axis, mc_per_char, linewidth=0.3, alpha=0.5, label="loss of each chunk / 25")
ax.plot(steps_axis, mc.history.nats_per_char(), linewidth=2, label="smooth loss / 25")
window = min(1000, len(mc_per_char) // 4)
ax.plot(steps_axis[window - 1:], metrics.moving_average(mc_per_char, window), linestyle="--",
        label=f"plain mean of the last {window} chunks")
ax.set(title="min-char-rnn's smooth loss: a running mean that lags", xlabel="training step",
       ylabel="loss (nats per character)", ylim=(1, 4.5))
ax.legend()
plt.show()

# %% [markdown]
# The smooth loss is a lagging summary of the *training* loss: while the model improves
# it sits above the current loss, and at the start it is held up by its uniform start
# (the progress bar of `fit` instead starts from 0 and divides by $1 - 0.98^n$, as Adam
# corrects its moments). Neither is a validation loss: for that, evaluate on held-out
# text, as section 4 does.
#
# ### 5.3 Sequences shorter than the window: padding and masks
#
# min-char-rnn never sees a short sequence: it starts over before the text runs out.
# But often the data comes in pieces of different lengths (lines, names, sentences),
# and a batch is one array $(N, T)$. The short pieces are **padded** on the right to the
# longest length with any id, and a **mask** $(N, T)$ marks the real positions. Four
# lines of the play, as input/target pairs:

# %%
# NBVAL_CHECK_OUTPUT
lines = text.split("\n")[1:12:3]  # four lines of different lengths
sequences = [vocab.encode(line) for line in lines]
lengths = np.array([len(s) - 1 for s in sequences])  # a line of k characters gives k - 1 predictions
T_pad = lengths.max()
PAD = 0  # any id: padded positions are never read as labels

x_pad = np.full((len(sequences), T_pad), PAD)  # (N, T) inputs
y_pad = np.full((len(sequences), T_pad), PAD)  # (N, T) targets
mask = np.zeros((len(sequences), T_pad), dtype=bool)  # (N, T) True at real positions
for n, s in enumerate(sequences):
    x_pad[n, :lengths[n]], y_pad[n, :lengths[n]], mask[n, :lengths[n]] = s[:-1], s[1:], True

for line, length in zip(lines, lengths):
    print(f"{length:>2} predictions  {line!r}")
print(f"batch {x_pad.shape}: {mask.sum()} real positions, {(~mask).sum()} padding")

# %% [markdown]
# Three facts make this work for an RNN that reads left to right:
#
# 1. The padding comes *after* the real characters, so it cannot change the outputs at
#    real positions: step $t$ only sees steps $\le t$.
# 2. The loss must skip the padding. The masked mean is
#    $\ell = \sum_{n,t} m_{nt}\,\bigl(-\log p_{nt}[y_{nt}]\bigr) / \sum_{n,t} m_{nt}$;
#    `softmax_cross_entropy(logits, y, mask)` computes it, with a zero gradient at the
#    padding.
# 3. Then the gradient of the padded batch is exactly that of the real sequences: the
#    same as running each line alone, weighted by its number of predictions.
#
# We check all three with a small untrained model in float64:

# %%
# NBVAL_CHECK_OUTPUT
pad_model = CharRNN(V, 32, cell="rnn", dtype=np.float64, seed=0)
logits_pad, _, _ = pad_model.forward(x_pad)  # (N, T, V)

# 1. Outputs at real positions do not depend on the padding after them.
for n, s in enumerate(sequences):
    alone, _, _ = pad_model.forward(s[None, :-1])
    assert np.allclose(alone[0], logits_pad[n, :lengths[n]], rtol=1e-12)
print("1. logits at real positions: the same with and without padding   OK")

# 2. The masked mean, by hand and from the library.
log_p = logits_pad - logits_pad.max(-1, keepdims=True)
log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))  # log-softmax, (N, T, V)
nll = -np.take_along_axis(log_p, y_pad[..., None], axis=-1)[..., 0]  # (N, T)
masked_by_hand = (nll * mask).sum() / mask.sum()
masked_loss, _ = softmax_cross_entropy(logits_pad, y_pad, mask)
assert np.isclose(masked_by_hand, masked_loss)
print("2. masked mean by hand = softmax_cross_entropy(..., mask)   OK")
print(f"   without the mask the mean counts {(~mask).sum()} padding positions too: "
      f"{nll.mean():.4f} instead of {masked_loss:.4f}")

# 3. Gradients: the padded, masked batch = each line alone, weighted by its length.
_, grads_batch, _ = pad_model.loss(x_pad, y_pad, mask=mask)
grads_alone = {name: 0 for name in grads_batch}
for n, s in enumerate(sequences):
    _, g, _ = pad_model.loss(s[None, :-1], s[None, 1:])
    for name in g:
        grads_alone[name] = grads_alone[name] + lengths[n] / lengths.sum() * g[name]
assert all(rel_error(grads_batch[k], grads_alone[k]) < 1e-10 for k in grads_batch)
print("3. gradients of the masked batch = weighted gradients of each line alone   OK")

# %% [markdown]
# Without the mask, 73 of these 196 positions would train the model to predict the
# padding id after every line end, and the loss would mix real and fake characters. One more
# trap: the *last* state of a padded row, `h[:, -1]`, is the state after reading the
# padding, not after the line's last character. Wherever the final state matters
# (carrying it on, or classifying a padded batch of sequences as notebook 07 does), take
# each row's state at its own length (exercise 3).
#
# ### 5.4 How big should the hidden layer be?
#
# $H$ sets the model's capacity: a vanilla RNN with one-hot input and a softmax head has
# $VH + H^2 + H + HV + V$ parameters, and each step costs about $H^2$ multiply-adds per
# character. Too small, and it cannot hold enough context; too large, and each step is
# slower and it may overfit or train less stably. There is no formula: train a few sizes
# for the same number of steps and compare **validation** loss. (This sweep uses Adam
# with learning rate 0.002 (notebook 03), float32 and 32 streams: Adagrad with learning
# rate 0.1 becomes unstable for the larger sizes.)

# %%
hidden_sizes = by_mode(full=[16, 32, 64, 128, 256, 512], ci=[8, 16])
sweep_steps = by_mode(full=1_500, ci=10)
train_eval = train_ids[-len(val_eval):]  # a training slice the size of val_eval, to compare like with like

sweep = {"params": [], "seconds": [], "train": [], "val": []}
for hidden in tqdm(hidden_sizes, desc="hidden sizes"):
    model = CharRNN(V, hidden, cell="rnn", seed=0)
    tbptt = TruncatedBPTT(model, train_ids, batch_size=32, seq_len=25)
    start = time.perf_counter()
    fit(tbptt.step, tbptt.batches(), Adam(model.params, lr=2e-3), num_steps=sweep_steps, clip_norm=5.0,
        progress=False)
    sweep["seconds"].append(time.perf_counter() - start)
    sweep["params"].append(sum(p.size for p in model.params.values()))
    sweep["train"].append(evaluate_lm(model, train_eval))
    sweep["val"].append(evaluate_lm(model, val_eval))

# %%
fig, (ax_loss, ax_cost) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(hidden_sizes, sweep["train"], marker="o", label="training slice")
ax_loss.plot(hidden_sizes, sweep["val"], marker="o", label="validation slice")
best = int(np.argmin(sweep["val"]))
ax_loss.scatter([hidden_sizes[best]], [sweep["val"][best]], s=200, facecolors="none",
                edgecolors=plt.rcParams["axes.prop_cycle"].by_key()["color"][1], label="best validation")
ax_loss.set(title=f"Loss after {sweep_steps:,} steps of 32 x 25 characters", xlabel="hidden size H",
            ylabel="loss (nats per character)")
ax_cost.plot(hidden_sizes, sweep["seconds"], marker="o", label="training time")
ax_cost.set(title="What a bigger H costs", xlabel="hidden size H", ylabel="seconds", ylim=(0, None))
for ax in (ax_loss, ax_cost):
    ax.set_xscale("log", base=2)
    ax.set_xticks(hidden_sizes, [str(h) for h in hidden_sizes])
    ax.minorticks_off()
ax_cost.legend()
ax_loss.legend()
plt.show()

print(f"{'H':>5} {'parameters':>11} {'seconds':>8} {'train':>7} {'val':>7}")
for row in zip(hidden_sizes, sweep["params"], sweep["seconds"], sweep["train"], sweep["val"]):
    print("{:>5} {:>11,} {:>8.1f} {:>7.3f} {:>7.3f}".format(*row))

# %% [markdown]
# Read the sweep from left to right. Small models are limited by capacity: training and
# validation loss are close, both high. The loss falls as $H$ grows, until a point where
# more units stop helping within this budget of steps (a vanilla RNN this big also
# becomes harder to train), while the cost keeps growing like $H^2$. Pick the size where
# validation loss stops improving, within the time you have; when training loss falls
# well below validation loss, you are at the next problem.
#
# ### 5.5 Overfitting, seen on a plot
#
# A model with enough parameters can memorise its training text instead of learning
# the language. To see it quickly, give a big model ($H = 256$, about 100,000
# parameters) only 10,000 characters to learn from, many times over, and measure both
# losses as it trains:

# %%
overfit_text = train_ids[:10_000]
overfit_steps = by_mode(full=600, ci=20)
check_every = by_mode(full=25, ci=5)

big = CharRNN(V, 256, cell="rnn", seed=0)
tbptt = TruncatedBPTT(big, overfit_text, batch_size=16, seq_len=50)
train_curve = []


def measure_training_loss(step, history):
    if (step + 1) % check_every == 0:
        train_curve.append(evaluate_lm(big, overfit_text))


overfit_history = fit(tbptt.step, tbptt.batches(), Adam(big.params, lr=2e-3), num_steps=overfit_steps,
                      clip_norm=5.0, validate=lambda: evaluate_lm(big, val_eval), val_every=check_every,
                      callback=measure_training_loss)

# %%
checked_steps = np.array(overfit_history.val_step) + 1
best = int(np.argmin(overfit_history.val_loss))
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.plot(checked_steps, train_curve, marker=".", label="the 10,000 training characters")
ax.plot(checked_steps, overfit_history.val_loss, marker=".", label="validation slice")
ax.axvline(checked_steps[best], color="grey", linestyle="--", linewidth=1,
           label=f"best validation, step {checked_steps[best]}")
ax.set(title="A big model on little text: it memorises", xlabel="training step",
       ylabel="loss (nats per character)")
ax.legend()
plt.show()
print(f"best validation loss {overfit_history.val_loss[best]:.3f} at step {checked_steps[best]}; "
      f"at the end: training {train_curve[-1]:.3f}, validation {overfit_history.val_loss[-1]:.3f}")

# %% [markdown]
# Both losses fall together at first: the model learns what is common to all of
# Shakespeare. Then the training loss keeps falling while the validation loss turns and
# climbs: the model is learning these 10,000 characters by heart, and becomes *more*
# confidently wrong on anything else. The remedies, in order of preference: more data,
# a smaller model, **early stopping** (keep the weights of the best validation loss;
# `fit(..., patience=k)` stops after $k$ validations without improvement), and dropout
# between layers (`CharRNN(dropout=...)`).
#
# ## 6. Sampling: temperature, top-k, greedy, priming
#
# To generate text, the model reads a **priming text**, gives scores (logits) $z$ $(V,)$
# for the next character, we draw one character from them, feed it in, and repeat. How
# we draw matters as much as the model:
#
# - **temperature** $\tau > 0$: $p = \operatorname{softmax}(z / \tau)$. $\tau = 1$ is the
#   model's own distribution; $\tau < 1$ sharpens it (safer, more repetitive), $\tau > 1$
#   flattens it (more surprising, more typos);
# - **greedy**: always the most likely character, the limit $\tau \to 0$;
# - **top-k**: only the $k$ most likely characters may be drawn (the others get
#   probability 0, the rest is renormalised).
#
# By hand, on five scores, then from `course_lib.sampling`:

# %%
# NBVAL_CHECK_OUTPUT
z = np.array([3.0, 2.0, 1.0, 0.0, -1.0])  # (V,) scores of five characters


def four_decimals(p):
    return "[" + " ".join(f"{value:.4f}" for value in p) + "]"



def softmax_at(z, temperature):
    e = np.exp((z - z.max()) / temperature)  # shifted: every exponent <= 0, no overflow
    return e / e.sum()


for temperature in (0.5, 1.0, 2.0):
    p = softmax_at(z, temperature)
    assert np.allclose(p, sampling.probabilities(z, temperature))
    print(f"T = {temperature}:          p = {four_decimals(p)}")
greedy = (z == z.max()).astype(float)
assert np.array_equal(greedy, sampling.probabilities(z, temperature=0))
print(f"T = 0 (greedy):   p = {four_decimals(greedy)}")
top2 = np.where(z >= np.sort(z)[-2], np.exp(z - z.max()), 0)
top2 /= top2.sum()
assert np.allclose(top2, sampling.probabilities(z, 1.0, top_k=2))
print(f"T = 1, top-k = 2: p = {four_decimals(top2)}")

# %% [markdown]
# On the pretrained LSTM, after the priming text `"ROMEO:\nI will "`, the next character
# at three temperatures, and how uncertain the distribution is (its entropy, in bits)
# as the temperature moves:

# %%
prime = "ROMEO:\nI will "
next_logits = lstm.forward(vocab.encode(prime)[None, :])[0][0, -1].astype(np.float64)  # (V,)
order = np.argsort(next_logits)[::-1][:12]  # the 12 most likely characters
labels = [repr(vocab.chars[i])[1:-1] for i in order]

fig, (ax_bars, ax_entropy) = plt.subplots(1, 2, figsize=(11, 4))
width = 0.27
for k, temperature in enumerate((0.5, 1.0, 1.5)):
    p = sampling.probabilities(next_logits, temperature)
    ax_bars.bar(np.arange(12) + (k - 1) * width, p[order], width, label=f"T = {temperature}")
ax_bars.set_xticks(np.arange(12), labels)
ax_bars.set(title=f"Next character after {prime!r}", xlabel="character", ylabel="probability")
ax_bars.legend()

temperatures = np.linspace(0.05, 2.5, 60)
entropy_bits = []
for temperature in temperatures:
    p = sampling.probabilities(next_logits, temperature)
    entropy_bits.append(-np.sum(p[p > 0] * np.log2(p[p > 0])))
ax_entropy.plot(temperatures, entropy_bits, label="entropy of the next character")
ax_entropy.axhline(math.log2(V), color="grey", linestyle="--", linewidth=1, label=f"uniform, log2 {V}")
ax_entropy.set(title="Temperature sets the uncertainty", xlabel="temperature T", ylabel="entropy (bits)")
ax_entropy.legend()
plt.show()

# %% [markdown]
# ### Try it
#
# The widget samples from the pretrained LSTM. Change the temperature, type your own
# priming text (any characters of the vocabulary; `\n` stands for a line break: try
# `JULIET:\n` or `KING`), and press **Resample** for a new draw with the same settings. Each redraw takes a few hundredths
# of a second: the LSTM was trained before class, so a lecture can start here.

# %%
nb04.sampling_widget(lstm, vocab, prime="ROMEO:", length=300, temperature=0.8)

# %% [markdown]
# The same, printed, for readers without a running kernel: one priming text at five
# settings.

# %%
for label, settings in {
    "greedy (T = 0)": dict(temperature=0.0),
    "T = 0.5": dict(temperature=0.5),
    "T = 1.0": dict(temperature=1.0),
    "T = 1.5": dict(temperature=1.5),
    "T = 1.0, top-k = 3": dict(temperature=1.0, top_k=3),
}.items():
    print(f"----- {label} -----")
    print(nb04.render_sample(lstm, vocab, prime="ROMEO:", length=250, seed=0, **settings))

# %% [markdown]
# Greedy decoding soon repeats itself: always taking the single most likely character
# leads back into the same likely phrases. Low temperatures give correct but dull text,
# high ones invent words. Top-k keeps the variety of sampling while never drawing the
# long tail of unlikely characters that produce typos.
#
# ## 7. Looking inside: what do the hidden units track?
#
# The LSTM has 256 units. Most of what they do is not readable, but some are: Karpathy,
# Johnson and Fei-Fei (2015) found cells that count along a line, or switch on inside
# quotes. (Tiny-shakespeare has no double quotes, but it has line ends, word boundaries
# and speakers' names.) We run the LSTM over a passage of validation text **once**,
# keeping for every character the hidden state $h_t$ and the cell state $c_t$ (both
# $(H,)$ per character, so $(L, H)$ for the passage); every picture below only reads
# these arrays.
#
# The model's LSTM layer is `course_lib.lstm`, with weights `layer0.Wx` $(V, 4H)$,
# `layer0.Wh` $(H, 4H)$, `layer0.b` $(4H,)$ (notebook 06 derives it). We loop its step
# kernel to keep $c_t$ at every step, and check the loop against the sequence kernel and
# against the model's own output:

# %%
def lstm_states(model, passage):
    """Hidden and cell states of a 1-layer LSTM CharRNN after each character of ``passage``.

    Returns ``h, c``: float32 ``(L, H)`` each, from a zero state.
    """
    Wx, Wh, b = (model.params[f"layer0.{name}"] for name in ("Wx", "Wh", "b"))
    x = np.eye(V, dtype=Wx.dtype)[vocab.encode(passage)]  # (L, V) one-hot rows
    h = np.zeros((1, model.hidden_size), Wx.dtype)  # N = 1
    c = np.zeros((1, model.hidden_size), Wx.dtype)
    hs, cs = [], []
    for x_t in x:
        h, c, _ = lstm_step_forward(x_t[None, :], h, c, Wx, Wh, b)
        hs.append(h[0])
        cs.append(c[0])
    return np.array(hs), np.array(cs)


# %%
# NBVAL_CHECK_OUTPUT
passage = val_text[2:502]  # 500 characters, from the first speaker of the validation part
h_passage, c_passage = lstm_states(lstm, passage)

weights = lstm.params
h_kernel, _ = lstm_forward(np.eye(V, dtype=np.float32)[vocab.encode(passage)][None],  # (1, L, V)
                           np.zeros((1, lstm.hidden_size), np.float32),
                           weights["layer0.Wx"], weights["layer0.Wh"], weights["layer0.b"])
assert np.allclose(h_passage, h_kernel[0], atol=1e-4)
logits_model = lstm.forward(vocab.encode(passage)[None, :])[0][0]  # (L, V)
assert np.allclose(h_passage @ weights["head.W"] + weights["head.b"], logits_model, atol=1e-4)
print(f"h, c: {h_passage.shape} each; the step loop = lstm_forward = the model's logits   OK")

# %% [markdown]
# ### Pick a unit
#
# Each character is coloured by one unit's value after reading it: orange below zero,
# purple above, white near zero (the cell state is shown as $\tanh(c_t)$, what the
# output gate lets through to $h_t = o_t \odot \tanh(c_t)$; both lie in $(-1, 1)$). Slide through the units: most flicker
# without a visible pattern, a few do not. The widget opens on a unit found in the next
# cell.

# %%
search_text = val_text[2:2 + by_mode(full=20_000, ci=2_000)]  # a longer passage to search in
h_search, c_search = lstm_states(lstm, search_text)
states_search = {"cell tanh(c)": np.tanh(c_search), "hidden h": h_search}


def char_features(passage):
    """Readable properties of each character of ``passage``: name -> float array (L,)."""
    chars = np.array(list(passage))
    position = np.arange(len(chars))
    newline = chars == "\n"
    letter = np.char.isalpha(chars)
    # Index of the last newline (or non-letter) strictly before each character, -1 if none.
    last_newline = np.maximum.accumulate(np.where(newline, position, -1))
    last_newline = np.concatenate([[-1], last_newline[:-1]])
    last_non_letter = np.maximum.accumulate(np.where(~letter, position, -1))
    line_of = np.cumsum(np.concatenate([[0], newline[:-1]]))  # line number of each character
    lines = passage.split("\n")
    speaker_line = np.array([ln.endswith(":") and (i == 0 or lines[i - 1] == "") for i, ln in enumerate(lines)])
    return {
        "position in the line": (position - last_newline - 1).astype(float),
        "space between words": (chars == " ").astype(float),
        "position in the word": np.where(letter, position - last_non_letter, 0).astype(float),
        "in a speaker's name": (speaker_line[line_of] & ~newline).astype(float),
        "next character is a newline": np.concatenate([newline[1:], [False]]).astype(float),
    }


def correlations(acts, feature):
    """Pearson correlation of each column of ``acts`` (L, H) with ``feature`` (L,): (H,)."""
    a = acts - acts.mean(axis=0)
    f = feature - feature.mean()
    return (f @ a) / (np.linalg.norm(f) * np.linalg.norm(a, axis=0) + 1e-12)


features = char_features(search_text)
r = correlations(states_search["hidden h"], features["position in the line"])
assert np.allclose(r[:5], [np.corrcoef(features["position in the line"], h_search[:, j])[0, 1] for j in range(5)])

best_units = {}  # feature -> (state, unit, r): the unit whose |r| is largest, in either state
print(f"{'feature':<30} {'state':<13} {'unit':>4} {'r':>6}")
for name, feature in features.items():
    candidates = []
    for state, acts in states_search.items():
        r = correlations(acts, feature)
        unit = int(np.argmax(np.abs(r)))
        candidates.append((abs(r[unit]), state, unit, r[unit]))
    _, state, unit, value = max(candidates)
    best_units[name] = (state, unit, value)
    print(f"{name:<30} {state:<13} {unit:>4} {value:>6.2f}")

# %%
states_passage = {"cell tanh(c)": np.tanh(c_passage), "hidden h": h_passage}
line_state, line_unit, _ = best_units["position in the line"]
nb04.activation_widget(passage, states_passage, unit=line_unit, state=line_state)

# %% [markdown]
# The same units, drawn for readers without a running kernel: for each feature, the unit
# that correlates best with it, over the first 280 characters of the passage.

# %%
shown = ["position in the line", "in a speaker's name", "space between words", "position in the word"]
fig, axes = plt.subplots(len(shown), 1, figsize=(9, 3.6 * len(shown)))
for ax, name in zip(axes, shown):
    state, unit, value = best_units[name]
    nb04.draw_char_activations(ax, passage[:280], states_passage[state][:280, unit], width=50,
                                  title=f"{name}: unit {unit} of {state} (r = {value:.2f} over the search passage)")
plt.show()

# %% [markdown]
# Nobody told the network about lines or speakers. A unit that ramps up along each line
# helps it decide when a line is long enough to break; a unit that lights up on a
# capitalised name followed by a colon lets it predict the newline and the speech that
# follow. Correlation finds candidates, not proof: a unit can correlate with line
# position because it tracks something that goes with it. Test a candidate on text it
# has not seen, or change its value and watch the predictions change.
#
# ## Exercises
#
# Each exercise cell holds a stub that runs; the checker under it says ✅ or ❌ with a
# hint, and never stops *Run All*. To see a worked solution, uncomment the `%load` line
# and run the cell: it replaces the cell with the solution from `solutions/`.
#
# **Exercise 1 (quick): units.** Write `bits_and_perplexity(nats)` returning the pair
# (bits per character, perplexity) for a loss in nats, a float or an array. What are
# they for a uniform guess over 65 characters?

# %%
from course_lib.exercises import char_rnn as ex


def bits_and_perplexity(nats):
    """(bits per character, perplexity) of a mean loss in nats (a float or an array)."""
    raise NotImplementedError("your code here")


ex.check_bits_and_perplexity(bits_and_perplexity)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/04_1.py

# %% [markdown]
# **Exercise 2: the sampling distribution.** Write `next_char_probabilities(logits,
# temperature, top_k=None)`: the softmax of `logits / temperature` over the `top_k`
# largest logits (all when `None`), with `temperature=0` meaning greedy (a one-hot of
# the argmax). It must not overflow for logits like `[1000, 999, 0]`, even at a
# temperature of 0.01.

# %%
def next_char_probabilities(logits, temperature, top_k=None):
    """Probabilities (V,) to draw the next character from, given scores logits (V,)."""
    raise NotImplementedError("your code here")


ex.check_next_char_probabilities(next_char_probabilities)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/04_2.py

# %% [markdown]
# **Exercise 3: the last real state of each padded row.** An RNN read a right-padded
# batch and returned all its hidden states `h` $(N, T, H)$; `lengths` $(N,)$ holds each
# row's number of real steps. Write `last_states(h, lengths)` returning the state after
# each row's last real step, $(N, H)$, without a Python loop. (Section 5.3 says why
# `h[:, -1]` is wrong.)

# %%
def last_states(h, lengths):
    """(N, H): row n of h at step lengths[n] - 1."""
    raise NotImplementedError("your code here")


ex.check_last_states(last_states)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/04_3.py

# %% [markdown]
# **Exercise 4: where does the data pointer go?** Write `chunk_starts(n_chars,
# seq_length, num_steps)`: the list of the positions where min-char-rnn's chunks start,
# one per step, on a text of `n_chars` characters. Read `MinCharRNN.step` in section 2
# carefully: when exactly does it start over? The checker compares your list with the
# real `MinCharRNN` on short texts, where it starts over often.

# %%
def chunk_starts(n_chars, seq_length, num_steps):
    """The data pointer p at each of num_steps steps of min-char-rnn (a list of ints)."""
    raise NotImplementedError("your code here")


ex.check_chunk_starts(chunk_starts)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/04_4.py

# %% [markdown]
# **Exercise 5 (small project): greedy decoding, by hand.** Write
# `greedy_text(model, vocab, prime, length)` with `model.forward` (section 3): read the
# priming text in one call, then repeatedly take the most likely character, feed it in
# **with the state the last call returned**, and collect `length` characters. Return the
# prime followed by them. The checker compares with
# `sampling.sample(..., temperature=0)` on models it builds. Then try it on the
# pretrained `lstm`: how soon does greedy text repeat itself?

# %%
def greedy_text(model, vocab, prime, length):
    """prime + `length` characters, each the most likely one given everything before it."""
    raise NotImplementedError("your code here")


ex.check_greedy_text(greedy_text)
# Worked solution: uncomment the next line and run the cell (it replaces the cell).
# # %load solutions/04_5.py

# %% [markdown]
# ## Summary
#
# - A character-level language model predicts the next character from all the previous
#   ones; its loss is the mean $-\ln p(\text{next})$ in nats, or in bits ($/\ln 2$), or
#   as a perplexity ($e^{\ell}$). A bigram table already gets about 2.5 nats; the
#   pretrained LSTM about 1.6.
# - min-char-rnn is a vanilla RNN in column form, trained by truncated BPTT on chunks
#   of 25 characters, with the hidden state carried from chunk to chunk, Adagrad and
#   clipping. The row form of `course_lib` is the same network transposed, and batching
#   parallel streams of text makes it several times faster per character without
#   changing what it learns per character.
# - The data pointer moves by the chunk length so that each step reads new text and the
#   carried state never has read the targets; a stride of 1 with a carried state leaks
#   the answers.
# - The smooth loss is an exponential moving average of the training loss over about
#   the last 1,000 steps: a lagging progress report, not a validation loss.
# - Sequences of different lengths are right-padded and masked: the padding cannot
#   change earlier outputs, and the masked loss has exactly the gradient of the real
#   sequences.
# - Choose the hidden size by validation loss; a training loss far below the validation
#   loss is overfitting, and early stopping, more data or a smaller model are the cures.
# - Sampling is a choice: temperature trades safety for variety, top-k cuts the tail,
#   greedy repeats itself, and a priming text sets the scene.
# - Some hidden units of a trained LSTM track readable properties of the text (position
#   in the line, a speaker's name); correlation finds them.
#
# ## What to read next
#
# - **Notebook 05 · MNIST row by row**: the same recurrent layers used as a classifier,
#   reading an image one row per time step.
# - **Notebook 06 · LSTM**: the cell whose units we just looked into, and why its gates
#   keep gradients alive over long texts, where the vanilla RNN of this notebook
#   struggles.
# - Andrej Karpathy, "The Unreasonable Effectiveness of Recurrent Neural Networks"
#   (2015), and his original `min-char-rnn.py` gist.
# - Andrej Karpathy, Justin Johnson and Li Fei-Fei, "Visualizing and Understanding
#   Recurrent Networks" (2015): the interpretable cells of section 7, found the same way.
# - *Dive into Deep Learning*, chapter 9 "Recurrent Neural Networks": language models,
#   perplexity, and sequence partitioning (sequential versus random).
# - Ari Holtzman et al., "The Curious Case of Neural Text Degeneration" (2019): why
#   greedy and pure sampling both fail, and nucleus (top-p) sampling.

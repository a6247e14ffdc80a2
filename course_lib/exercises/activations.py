"""Checkers for the exercises of notebook 01 · Activations, softmax and cross-entropy.

Each ``check_*`` runs the learner's answer on its own cases and returns a
:class:`~course_lib.exercises.Feedback`; it never raises. The right answers come from
``course_lib.activations`` and ``course_lib.losses``, the library the notebook derives.
"""

import numpy as np

from ..activations import log_softmax, softmax
from ..losses import softmax_cross_entropy
from ._feedback import checker, expect, expect_close

__all__ = [
    "check_stable_tanh",
    "check_log_sigmoid",
    "check_smoothed_cross_entropy",
    "check_is_softmax",
    "check_classifier",
    "toy_data",
]


def _strict():
    """Overflow and invalid operations raise; underflow to 0 is exact here and allowed."""
    return np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")


# Exercise 1 ----------------------------------------------------------------------------


@checker
def check_stable_tanh(stable_tanh):
    """``stable_tanh(z)`` without ``np.tanh``: exact for any float array, no overflow.

    Args:
        stable_tanh: the learner's function.
    """
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, 4)) * 5
    z_before, expected = z.copy(), np.tanh(z)
    with _strict():
        t = stable_tanh(z)
    expect(np.array_equal(z, z_before), "stable_tanh changed its input in place: compute into a new array.")
    expect_close(t, expected, "stable_tanh(z) for z of shape (3, 4)", rtol=1e-9)

    extremes = np.array([1e4, -1e4, 800.0, -800.0, 0.0])
    try:
        with _strict():
            t = stable_tanh(extremes)
    except FloatingPointError as error:
        expect(False, f"At z = [1e4, -1e4, 800, -800, 0] NumPy reports '{error}'. np.where(...) computes "
                      "BOTH branches for every element, so a branch you do not keep can still overflow: "
                      "give exp only numbers <= 0, e.g. exp(-2|z|).")
    expect_close(t, np.array([1.0, -1.0, 1.0, -1.0, 0.0]), "stable_tanh([1e4, -1e4, 800, -800, 0])",
                 rtol=0, atol=0)

    z32 = np.array([-3.0, 0.5, 60.0], dtype=np.float32)
    with _strict():
        t32 = np.asarray(stable_tanh(z32))
    expect(t32.dtype == np.float32, f"Float32 in should give float32 out; you return {t32.dtype}.")
    expect_close(t32, np.tanh(z32), "stable_tanh(z) in float32", rtol=1e-5)
    return "Exact at ±1e4, no overflow, shape and dtype kept."


# Exercise 2 ----------------------------------------------------------------------------


@checker
def check_log_sigmoid(log_sigmoid):
    """``log_sigmoid(z)``: ``log(sigmoid(z))`` finite and accurate for any float array.

    Args:
        log_sigmoid: the learner's function.
    """
    rng = np.random.default_rng(2)
    z = rng.standard_normal((4, 6)) * 4
    with _strict():
        got = log_sigmoid(z)
    expect_close(got, -np.logaddexp(0, -z), "log_sigmoid(z) for z of shape (4, 6)")

    extremes = np.array([-1000.0, 1000.0, -1e4, 1e4, 0.0])
    try:
        with _strict():
            got = log_sigmoid(extremes)
    except FloatingPointError as error:
        expect(False, f"At z = [-1000, 1000, -1e4, 1e4, 0] NumPy reports '{error}'. log(sigmoid(z)) takes "
                      "the log of a probability that rounded to 0; rewrite log(1 / (1 + exp(-z))) so that "
                      "exp only sees numbers <= 0.")
    expect_close(got, np.array([-1000.0, 0.0, -1e4, 0.0, -np.log(2)]),
                 "log_sigmoid([-1000, 1000, -1e4, 1e4, 0])", rtol=1e-12, atol=1e-12)
    return "log σ(z) is exact from -1e4 to 1e4: log σ(-1000) = -1000, not -inf."


# Exercise 3 ----------------------------------------------------------------------------


def _smoothed_reference(logits, y, epsilon):
    N, C = logits.shape
    q = (1 - epsilon) * np.eye(C)[y] + epsilon / C
    log_probs = log_softmax(logits)
    return -np.sum(q * log_probs) / N, (np.exp(log_probs) - q) / N


@checker
def check_smoothed_cross_entropy(smoothed_cross_entropy):
    """``smoothed_cross_entropy(logits, y, epsilon) -> (loss, dlogits)``, label smoothing.

    Args:
        smoothed_cross_entropy: the learner's function.
    """
    rng = np.random.default_rng(3)
    N, C = 5, 4
    logits = rng.standard_normal((N, C)) * 2
    y = rng.integers(0, C, size=N)
    logits_before = logits.copy()
    for epsilon in (0.0, 0.1):
        loss_ref, dlogits_ref = _smoothed_reference(logits, y, epsilon)
        result = smoothed_cross_entropy(logits, y, epsilon)
        expect(isinstance(result, tuple) and len(result) == 2,
               "Return a tuple (loss, dlogits), like course_lib.losses.softmax_cross_entropy.")
        expect(np.array_equal(logits, logits_before), "Your function changed logits in place.")
        loss, dlogits = result
        expect(np.ndim(loss) == 0, f"The loss should be one number; you return shape {np.shape(loss)}.")
        expect_close(loss, loss_ref, f"loss at epsilon = {epsilon}")
        dlogits = np.asarray(dlogits)
        if dlogits.shape == logits.shape:
            expect(not np.allclose(dlogits * N, dlogits_ref),
                   "dlogits is N times too small: the mean over the batch divides by N once, not twice.")
            expect(not np.allclose(dlogits / N, dlogits_ref),
                   f"dlogits is N = {N} times too large: the loss is a mean over the batch, so its "
                   "gradient is (P - Q) / N.")
        expect_close(dlogits, dlogits_ref, f"dlogits at epsilon = {epsilon}")
    return "It equals softmax_cross_entropy at ε = 0, and its gradient is (P − Q) / N for smoothed targets Q."


# Exercise 4 ----------------------------------------------------------------------------


def _naive_softmax(z, axis=-1):
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _sigmoid_bug(z, axis=-1):
    return 0.5 * (1 + np.tanh(z / 2))


def _wrong_axis_softmax(z, axis=-1):
    return softmax(z, axis=0)


def _no_exp_softmax(z, axis=-1):
    return z / np.sum(z, axis=axis, keepdims=True)


# name -> (candidate, is it a trustworthy softmax, what a test must look at to tell)
SOFTMAX_CANDIDATES = {
    "course_lib.activations.softmax": (softmax, True, ""),
    "0.5 * (1 + tanh(z / 2))": (_sigmoid_bug, False,
                                "rows of a softmax sum to 1: test p.sum(axis=-1) against 1"),
    "softmax over axis 0": (_wrong_axis_softmax, False,
                            "test a batch of several rows of different logits, and that each row sums to 1"),
    "z / sum(z)": (_no_exp_softmax, False, "test that every p is in [0, 1] with logits of both signs"),
    "exp(z) / sum(exp(z))": (_naive_softmax, False,
                             "test large logits such as [1000, 0] (the exact answer is [1, 0]): "
                             "the unshifted formula gives nan"),
}


@checker
def check_is_softmax(is_softmax):
    """``is_softmax(f) -> bool``: True only for a softmax one can trust.

    Args:
        is_softmax: the learner's function.
    """
    wrong = []
    for name, (candidate, right, hint) in SOFTMAX_CANDIDATES.items():
        try:
            verdict = is_softmax(candidate)
        except NotImplementedError:
            raise  # the stub: the checker says "not answered yet"
        except Exception as error:  # noqa: BLE001 - report, never raise
            expect(False, f"is_softmax raised {type(error).__name__} for the candidate `{name}`: "
                          "catch errors and return False, or choose inputs it can handle.")
        expect(isinstance(verdict, (bool, np.bool_)), f"is_softmax should return True or False; it returned {verdict!r}.")
        if bool(verdict) != right:
            wrong.append((name, right, hint))
    for name, right, hint in wrong:
        if right:
            expect(False, f"is_softmax rejects `{name}`, which is a correct softmax: loosen your test "
                          "(np.allclose, not ==) or check it on valid inputs.")
        expect(False, f"is_softmax accepts `{name}`, which is not a softmax you can trust; {hint}.")
    return f"It accepts the library's softmax and rejects all {len(SOFTMAX_CANDIDATES) - 1} broken ones."


# Exercise 5 ----------------------------------------------------------------------------

TOY_CENTRES = np.array([[0.0, 2.0], [-1.8, -1.0], [1.8, -1.0]])  # three classes in the plane


def toy_data(split="train"):
    """A 2-D, 3-class toy data set for a linear softmax classifier.

    Args:
        split: ``"train"`` (300 points, the default) or ``"test"`` (300 other points of the
            same classes).

    Returns:
        X: float64 array ``(N, 2)``, the points.
        y: int array ``(N,)``, their class in {0, 1, 2}.
    """
    seed = {"train": 10, "test": 11}[split]
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), 100)
    X = TOY_CENTRES[y] + 0.8 * rng.standard_normal((y.size, 2))
    return X, y


@checker
def check_classifier(W, b):
    """A trained linear softmax classifier ``logits = X @ W + b`` on :func:`toy_data`.

    Args:
        W: the learner's trained weights, ``(D, C) = (2, 3)``.
        b: the learner's trained bias, ``(C,) = (3,)``.
    """
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    expect(W.shape == (2, 3), f"W should have shape (D, C) = (2, 3); yours has {W.shape}.")
    expect(b.shape == (3,), f"b should have shape (C,) = (3,); yours has {b.shape}.")
    X, y = toy_data("test")
    logits = X @ W + b
    expect(np.all(np.isfinite(logits)), "Your logits contain nan or inf: is the learning rate too large?")
    loss, _ = softmax_cross_entropy(logits, y)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
    expect(accuracy >= 0.9, f"Test accuracy is {accuracy:.1%}; a trained linear classifier reaches 90% or more. "
                            "Did the training loss go down? Try more steps or a larger learning rate.")
    expect(loss < 0.12, f"Test accuracy {accuracy:.1%} is fine, but the test loss is {loss:.3f} nats; "
                        "trained to convergence this model gets about 0.09, so aim below 0.12: train longer.")
    return f"Test accuracy {accuracy:.1%}, test loss {loss:.3f} nats."

"""The one convention of every exercise checker: return a verdict, never raise."""

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The verdict on an answer: ``passed`` and a message for the learner.

    It shows as the message in a notebook, and is truthy when the answer passed, so a
    test can write ``assert check(answer)``.

    Args:
        passed: whether the answer is right.
        message: what was verified, or what to look at.
    """

    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def __str__(self):
        return ("✅ Correct. " if self.passed else "❌ Not yet. ") + self.message

    __repr__ = __str__


class _Wrong(Exception):
    """Raised by :func:`expect` inside a checker; becomes a failing :class:`Feedback`."""


def expect(condition, hint):
    """Inside a checker: if ``condition`` is false, the answer is wrong, and ``hint`` says why.

    Args:
        condition: what a right answer satisfies.
        hint: the message for the learner when it does not.

    Raises:
        _Wrong: ``condition`` is false; :func:`checker` turns it into a failing
            :class:`Feedback`.
    """
    if not condition:
        raise _Wrong(hint)


def expect_close(actual, expected, what, *, rtol=1e-6, atol=1e-9):
    """Inside a checker: ``actual`` must be an array of ``expected``'s shape, with close values.

    ``what`` names the quantity in the hint ("sigmoid(z)", "dWh").

    Args:
        actual: the learner's result (None is reported as a missing ``return``).
        expected: the right answer, an array or a number.
        what: names the quantity in the hint.
        rtol: keyword-only; relative tolerance, as in ``np.allclose``; default 1e-6.
        atol: keyword-only; absolute tolerance; default 1e-9.

    Raises:
        _Wrong: ``actual`` is None, has another shape, is not finite where ``expected``
            is, or is not close; :func:`checker` turns it into a failing :class:`Feedback`.
    """
    expect(actual is not None, f"{what} is None: does your function end with `return`?")
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    expect(actual.shape == expected.shape,
           f"{what} has shape {actual.shape}; expected {expected.shape}.")
    expect(np.all(np.isfinite(actual)) or not np.all(np.isfinite(expected)),
           f"{what} contains nan or inf where the right answer is finite.")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        where = np.unravel_index(np.argmax(np.abs(actual - expected)), expected.shape)
        raise _Wrong(f"{what} differs from the right answer: at index {tuple(int(i) for i in where)} "
                     f"you return {actual[where]:.6g}, expected {expected[where]:.6g}.")


def checker(function):
    """Turn ``function(answer, ...)`` into a checker that returns a :class:`Feedback`.

    The decorated function returns a sentence on success and calls :func:`expect` to fail.
    Whatever the learner's code raises becomes a failing verdict that names the error; a
    ``NotImplementedError`` (the stub) reads as "not answered yet".

    Args:
        function: ``function(answer, ...) -> str``, the sentence said on success.

    Returns:
        The checker: same arguments, returns a :class:`Feedback`, never raises.
    """

    @functools.wraps(function)
    def check(*args, **kwargs):
        try:
            with np.errstate(all="ignore"):
                message = function(*args, **kwargs)
        except _Wrong as wrong:
            return Feedback(False, str(wrong))
        except NotImplementedError:
            return Feedback(False, "Replace `raise NotImplementedError` with your code, then run the cell again.")
        except Exception as error:  # noqa: BLE001 - a checker reports, it never raises
            return Feedback(False, f"your code raised {type(error).__name__}: {error}")
        return Feedback(True, message or "")

    return check

"""Checkers for the notebooks' exercises: one module per notebook, one convention.

An exercise cell in a notebook holds a stub that runs without error, and ends with a
checker call::

    def stable_tanh(z):
        raise NotImplementedError("your code here")

    ex.check_stable_tanh(stable_tanh)

The checker runs the learner's code on its own cases and returns a :class:`Feedback`:
``✅`` and what was verified, or ``❌`` and what to look at. It never raises, whatever
the learner's code does (a stub, a typo, a wrong shape), so *Run All* always reaches the
end of the notebook.

The worked solution of exercise ``k`` of notebook ``NN`` is ``notebooks/solutions/NN_k.py``;
the exercise's last line, ``# %load solutions/NN_k.py``, once uncommented and run,
replaces the cell with it.

Writing a checker: decorate a function with :func:`checker`; inside, call :func:`expect`
for each condition, and return a short sentence saying what passed.
"""

from ._feedback import Feedback, checker, expect, expect_close

__all__ = ["Feedback", "checker", "expect", "expect_close"]

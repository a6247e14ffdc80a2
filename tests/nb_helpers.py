"""What the tests of every notebook share (tests/test_nbNN_*.py).

Each exercise checker is tested both ways: the worked solution in ``notebooks/solutions/``
must pass, and a plausible wrong answer must be reported as wrong, with a useful hint.
Each widget must redraw its output whenever any of its controls moves.
"""

import runpy
from pathlib import Path

import matplotlib.pyplot as plt

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def solution(notebook, k):
    """The names worked solution ``NN_k.py`` defines (running it also runs its checker call)."""
    names = runpy.run_path(str(SOLUTIONS / f"{notebook}_{k}.py"))
    plt.close("all")  # a solution may draw
    return names


def assert_wrong(feedback, hint):
    """``feedback`` reports a wrong answer, and its message contains ``hint``."""
    assert not feedback, f"a wrong answer passed: {feedback}"
    assert str(feedback).startswith("❌")
    assert hint in feedback.message, feedback.message


def stub(*args, **kwargs):
    """The learner's untouched stub."""
    raise NotImplementedError("your code here")


def assert_every_control_changes_the_output(box, new_values):
    """Set each control of widget ``box`` in turn (in display order) to the next of
    ``new_values``; the output must change every time. Every control must be covered."""
    output = box.children[-1]
    controls = [c for c in box.children[1:-1] if hasattr(c, "value")]
    assert len(controls) == len(new_values), "give one new value per control"
    for control, value in zip(controls, new_values):
        before = output.value
        control.value = value
        assert output.value != before, f"moving {control.description!r} changed nothing"

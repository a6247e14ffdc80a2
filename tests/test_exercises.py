"""The exercise convention (course_lib.exercises): checkers report, they never raise;
every solution file belongs to an exercise and every exercise has its solution.

Each notebook's own checkers are tested both ways in tests/test_nbNN_*.py.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from course_lib.exercises import Feedback, checker, expect, expect_close

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LOAD_LINE = re.compile(r"^# # %load (solutions/\S+\.py)$", re.MULTILINE)


@checker
def check_double(f):
    expect_close(f(np.arange(3.0)), 2 * np.arange(3.0), "f(x)")
    expect(callable(f), "f must be a function")
    return "f doubles its input."


def test_a_right_answer_passes():
    feedback = check_double(lambda x: 2 * x)
    assert feedback == Feedback(True, "f doubles its input.")
    assert str(feedback).startswith("✅")


@pytest.mark.parametrize("answer, hint", [
    (lambda x: x, "at index (2,) you return 2, expected 4"),
    (lambda x: None, "is None"),
    (lambda x: np.zeros(4), "has shape (4,); expected (3,)"),
    (lambda x: x / 0 * 0, "nan or inf"),
    (lambda x: undefined_name, "NameError"),  # noqa: F821 - the learner's typo
])
def test_a_wrong_answer_is_reported_with_a_hint_never_raised(answer, hint):
    feedback = check_double(answer)
    assert not feedback
    assert hint in feedback.message
    assert str(feedback).startswith("❌")


def test_the_stub_reads_as_not_answered_yet():
    def stub(x):
        raise NotImplementedError("your code here")

    assert "Replace `raise NotImplementedError`" in check_double(stub).message


def _solutions_referenced():
    referenced = {}
    for py in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        for path in LOAD_LINE.findall(py.read_text(encoding="utf-8")):
            referenced[path] = py.name
    return referenced


def test_every_load_line_names_a_solution_of_its_own_notebook():
    for path, notebook in _solutions_referenced().items():
        assert (NOTEBOOKS / path).is_file(), f"{notebook} loads {path}, which does not exist"
        assert Path(path).name[:3] == notebook[:3], f"{notebook} loads another notebook's solution {path}"


def test_every_solution_file_is_loaded_by_an_exercise():
    referenced = set(_solutions_referenced())
    for solution in sorted((NOTEBOOKS / "solutions").glob("*.py")):
        assert f"solutions/{solution.name}" in referenced, f"no exercise loads {solution.name}"

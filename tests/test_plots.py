"""The course's plot style: a colour-blind-safe cycle, and a lecture mode for projectors."""

import matplotlib as mpl
import pytest

from course_lib.notebook import style as plots


def test_the_colour_cycle_is_okabe_ito():
    colours = plots.style(lecture=False)["axes.prop_cycle"].by_key()["color"]
    assert colours == list(plots.OKABE_ITO)
    assert len(set(colours)) == 8


def test_lecture_mode_makes_text_and_lines_larger():
    normal, lecture = plots.style(lecture=False), plots.style(lecture=True)
    assert lecture["font.size"] > mpl.rcParamsDefault["font.size"]
    assert lecture["lines.linewidth"] > mpl.rcParamsDefault["lines.linewidth"]
    assert "font.size" not in normal


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("", False)])
def test_lecture_mode_follows_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(plots.LECTURE_ENV_VAR, value)
    assert plots.lecture_mode() is expected
    assert ("font.size" in plots.style()) is expected


def test_a_typo_in_the_lecture_switch_is_an_error(monkeypatch):
    monkeypatch.setenv(plots.LECTURE_ENV_VAR, "big")
    with pytest.raises(ValueError, match="COURSE_LECTURE='big'"):
        plots.lecture_mode()


def test_use_course_style_applies_the_settings():
    with mpl.rc_context():
        plots.use_course_style(lecture=True)
        assert mpl.rcParams["font.size"] == plots.style(lecture=True)["font.size"]
        assert mpl.rcParams["image.cmap"] == plots.SEQUENTIAL_CMAP


def test_every_notebook_applies_the_course_style():
    """Colour-blind-safe colours and lecture mode reach a figure only through the style."""
    from pathlib import Path

    for py in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.py")):
        assert "\nuse_course_style()" in py.read_text(encoding="utf-8"), (
            f"{py.name} never calls use_course_style() in its imports cell")

"""COURSE_MODE: the switch between a learner's full run and the quick CI run."""

import pytest

from course_lib.notebook.modes import ENV_VAR, MODES, by_mode, course_mode


def test_default_is_full(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert course_mode() == "full"


def test_empty_means_default(monkeypatch):
    # `COURSE_MODE= make lab` should behave like not setting it at all.
    monkeypatch.setenv(ENV_VAR, "")
    assert course_mode() == "full"


@pytest.mark.parametrize("mode", MODES)
def test_known_modes(monkeypatch, mode):
    monkeypatch.setenv(ENV_VAR, mode)
    assert course_mode() == mode


@pytest.mark.parametrize("bad", ["CI", "fast", "full ", "1"])
def test_unknown_mode_names_the_allowed_values(monkeypatch, bad):
    monkeypatch.setenv(ENV_VAR, bad)
    with pytest.raises(ValueError, match=r"COURSE_MODE.*allowed values: 'full', 'ci'"):
        course_mode()


def test_by_mode_picks_the_current_value(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "ci")
    assert by_mode(full=5000, ci=50) == 50
    monkeypatch.setenv(ENV_VAR, "full")
    assert by_mode(full=5000, ci=50) == 5000


def test_by_mode_reads_the_environment_at_call_time(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert by_mode(full="long", ci="short") == "long"
    monkeypatch.setenv(ENV_VAR, "ci")
    assert by_mode(full="long", ci="short") == "short"


def test_by_mode_rejects_an_unknown_mode(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "quick")
    with pytest.raises(ValueError, match="allowed values"):
        by_mode(full=1, ci=2)


def test_by_mode_needs_both_values_by_name():
    with pytest.raises(TypeError):
        by_mode(1, 2)

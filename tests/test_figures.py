"""The course's drawn figures: each ``img/<name>.png`` is made by ``scripts/figures/<name>.py``.

A script must give the same bytes on every run (nothing random, no timestamp in the PNG),
and the committed image must be its output, not a stale one.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "scripts" / "figures").glob("[!_]*.py"))  # _figure.py is their shared part


def test_there_are_figure_scripts():
    assert SCRIPTS, "no scripts/figures/*.py found"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_a_figure_script_is_deterministic_and_its_image_committed(script, tmp_path):
    outputs = [tmp_path / "a.png", tmp_path / "b.png"]
    for out in outputs:
        subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True, cwd=tmp_path)
    first, second = (out.read_bytes() for out in outputs)
    assert first.startswith(b"\x89PNG") and first == second
    committed = ROOT / "img" / f"{script.stem}.png"
    assert committed.exists(), f"img/{committed.name} is missing: run scripts/figures/{script.name}"
    # Width and height (PNG header bytes 16-24) must match; the pixels may differ in the
    # last bits between matplotlib versions.
    assert committed.read_bytes()[16:24] == first[16:24], (
        f"img/{committed.name} is stale: run scripts/figures/{script.name}")


def test_every_image_has_its_script():
    for image in sorted((ROOT / "img").glob("*.png")):
        assert (ROOT / "scripts" / "figures" / f"{image.stem}.py").exists(), (
            f"img/{image.name} has no script in scripts/figures/ (every figure is drawn for the course)")

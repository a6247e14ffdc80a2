"""The notebooks as files, checked without running them (nbval runs them).

- each ``notebooks/NN_name.ipynb`` has the same cells as its jupytext pair ``NN_name.py``
  (the file one edits), so nobody reviews one text and ships another;
- each stores the outputs of a clean top-to-bottom run, with no error in them, and every
  ``# NBVAL_CHECK_OUTPUT`` cell has an output for nbval to compare against;
- each is listed in the README's syllabus.

``jupytext --diff`` cannot be the gate (its exit status ignores differences), and
``jupytext --sync`` picks a winner by modification time, so it has no place in CI.
"""

import difflib
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pairs"
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"


def cell_listing(path):
    """The cells of a notebook in any jupytext format, as lines of text.

    Only what a reader sees counts: each cell's type and source. Outputs, execution
    counts and metadata are left out, since only the ``.ipynb`` has them.
    """
    lines = []
    for cell in jupytext.read(path).cells:
        lines.append(f"[{cell.cell_type} cell]")
        lines.extend(cell.source.splitlines())
    return lines


def pair_diff(ipynb):
    """A unified diff from the ``.py`` pair to the ``.ipynb``; empty when they agree."""
    py = Path(ipynb).with_suffix(".py")
    if not py.exists():
        return [f"{py.name} is missing: every notebook is edited as its py:percent pair"]
    return list(
        difflib.unified_diff(
            cell_listing(py), cell_listing(ipynb), fromfile=py.name, tofile=Path(ipynb).name, lineterm=""
        )
    )


def test_there_are_notebooks():
    # A glob that matches nothing would make every test below vacuous.
    assert NOTEBOOKS, "no notebooks/*.ipynb found"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_py_pair(ipynb):
    diff = pair_diff(ipynb)
    assert not diff, (
        f"{ipynb.name} and its .py pair differ. Edit the .py, then run "
        f"`make notebooks NB={ipynb.stem}`:\n" + "\n".join(diff)
    )


# The check must fail when it should: fixture pairs built from one .py, then broken.


def test_pair_check_passes_on_a_synced_pair():
    assert pair_diff(FIXTURES / "in_sync.ipynb") == []


def test_pair_check_sees_a_changed_source_line():
    diff = pair_diff(FIXTURES / "changed_line.ipynb")
    # The diff reads from the .py (-) to the .ipynb (+).
    assert "-h = np.tanh(x @ Wx)" in diff
    assert "+h = np.tanh(x @ Wx + b)" in diff


def test_pair_check_sees_a_missing_cell():
    diff = "\n".join(pair_diff(FIXTURES / "missing_cell.ipynb"))
    # The .py lost the markdown cell that the .ipynb still has.
    assert "+[markdown cell]\n+## Check the shapes" in diff


def test_pair_check_sees_a_missing_py(tmp_path):
    lonely = tmp_path / "lonely.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), lonely)
    assert pair_diff(lonely) == ["lonely.py is missing: every notebook is edited as its py:percent pair"]


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_stores_a_clean_run(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    fix = f"run `make notebooks NB={ipynb.stem}` to store a fresh full-mode run"

    counts = [c.execution_count for c in code]
    assert all(counts) and counts == sorted(counts), (
        f"{ipynb.name}: not executed top to bottom (execution counts {counts}); {fix}"
    )
    for i, cell in enumerate(code):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{ipynb.name}, code cell {i}: stored output is an error ({errors[0].ename}); {fix}"
        if CHECK_MARKER in cell.source:
            # nbval compares against the stored outputs: none stored means nothing is checked.
            assert cell.outputs, f"{ipynb.name}, code cell {i} is marked {CHECK_MARKER} but stores no output; {fix}"
    assert "widgets" not in nb.metadata, f"{ipynb.name} stores widget state in its metadata; {fix}"


def test_every_notebook_is_in_the_readme_syllabus():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Syllabus\n(.*?)(?=^## )", readme, flags=re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Syllabus' section"
    syllabus = match.group(1)
    for ipynb in NOTEBOOKS:
        link = f"(notebooks/{ipynb.name})"
        row = next((line for line in syllabus.splitlines() if link in line), None)
        assert row, f"README syllabus has no row linking {link}"
        assert "coming" not in row.lower(), f"README syllabus still marks {ipynb.name} as coming"

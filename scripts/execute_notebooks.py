"""Rebuild the course notebooks from their .py files and store a full-mode run.

    make notebooks                  # every notebooks/NN_*.py
    make notebooks NB=00_setup      # only some (names, with or without extension)

For each ``notebooks/NN_name.py`` (the file one edits) this builds ``NN_name.ipynb``,
runs it top to bottom in ``COURSE_MODE=full`` with ``notebooks/`` as the working
directory (as nbval and JupyterLab do), and writes it with its outputs. A cell that
raises stops the script with a non-zero exit, and nothing is written for that notebook.

Every cell also gets its slide type (``metadata.slideshow``) from the headings, so that
each notebook can be presented as slides with no hand-set metadata (docs/slides.md).

Why not ``jupytext --sync`` + ``jupyter nbconvert --execute``: ``--sync`` picks a side by
modification time and can overwrite a real edit after a checkout, and nbconvert's
``store_widget_state=False`` crashes on notebooks with ``interact`` (nbclient 0.11).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
COLAB_MARKER = '"google.colab" in sys.modules'  # the first code cell of every notebook
RISE = {"scroll": True}
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def notebook_sources(names):
    """The ``.py`` files to run: all ``NN_*.py`` in notebooks/, or the ones named."""
    if not names:
        return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    sources = []
    for name in names:
        py = NOTEBOOKS / f"{Path(name).stem}.py"  # accepts 00_setup, 00_setup.ipynb, notebooks/00_setup.py
        if not py.exists():
            sys.exit(f"error: no notebook source {py}")
        sources.append(py)
    return sources


def build(py):
    """The notebook of ``py``, keeping the cell ids of the existing .ipynb where cells match.

    Fresh ids on every run would show every cell as changed in ``git diff``.
    """
    nb = jupytext.read(py)
    ipynb = py.with_suffix(".ipynb")
    if ipynb.exists():
        nb = combine_inputs_with_outputs(nb, nbformat.read(ipynb, as_version=4), fmt="py:percent")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    add_slide_metadata(nb)
    # Only the kernelspec and RISE's settings: no jupytext bookkeeping, no stale widget
    # state. With scroll, a slide taller than the screen scrolls instead of being cut.
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "rise": dict(RISE)}
    return nb


def slide_type(cell, first_code_cell):
    """The reveal.js slide type of a cell, from the headings (see docs/slides.md).

    A markdown cell opening with ``# `` or ``## `` starts a slide, one with ``### `` a
    subslide (reveal.js puts those below their slide); the Colab setup cell is skipped;
    every other cell goes on the current slide.
    """
    if cell is first_code_cell and COLAB_MARKER in cell.source:
        return "skip"
    if cell.cell_type == "markdown":
        text = cell.source.lstrip()
        if text.startswith(("# ", "## ")):
            return "slide"
        if text.startswith("### "):
            return "subslide"
    return "-"


def add_slide_metadata(nb):
    """Set ``metadata.slideshow`` on every cell, for RISE and ``nbconvert --to slides``."""
    first_code_cell = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    for cell in nb.cells:
        cell.metadata["slideshow"] = {"slide_type": slide_type(cell, first_code_cell)}


def execute(nb, timeout):
    """Run ``nb`` in place in a fresh kernel, in full mode, from notebooks/."""
    os.environ["COURSE_MODE"] = "full"  # the kernel inherits this process's environment
    # One BLAS thread, as `make test`: the course's matrices are too small to gain from two,
    # and on a busy machine a second spinning BLAS thread makes a training loop ~10x slower.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    NotebookClient(
        nb,
        kernel_name=KERNELSPEC["name"],
        timeout=timeout,
        record_timing=False,  # per-cell timestamps would change every run
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute()
    # Widget views in the outputs stay; the saved widget *state* would bloat every diff.
    nb.metadata.pop("widgets", None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run, e.g. 00_setup (default: all)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default 1800)")
    args = parser.parse_args(argv)

    sources = notebook_sources(args.names)
    if not sources:
        sys.exit(f"error: no notebooks/NN_*.py found in {NOTEBOOKS}")
    for py in sources:
        start = time.perf_counter()
        print(f"{py.name}: executing in full mode ...", flush=True)
        nb = build(py)
        execute(nb, args.timeout)
        nbformat.write(nb, py.with_suffix(".ipynb"))
        print(f"{py.with_suffix('.ipynb').name}: written ({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()

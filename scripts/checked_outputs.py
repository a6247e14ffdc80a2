"""Print the stored outputs of every ``# NBVAL_CHECK_OUTPUT`` cell, to compare two runs.

    python scripts/checked_outputs.py > after.txt                     # this checkout's notebooks
    python scripts/checked_outputs.py path/to/other/notebooks > before.txt
    diff before.txt after.txt

These are the outputs nbval holds every test run to (tests/nbval_sanitize.cfg aside), so
a change that should not change what the notebooks compute, such as moving code between
modules, must leave this listing unchanged.
"""

import argparse
import json
from pathlib import Path

MARKER = "# NBVAL_CHECK_OUTPUT"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def cell_text(output):
    """What an output shows as text: a stream, a result, an error, or an image's kind."""
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return f"{output['ename']}: {output['evalue']}\n"
    data = output.get("data", {})
    if "text/plain" in data and not any(k.startswith("image/") for k in data):
        return "".join(data["text/plain"]) + "\n"
    return f"<{', '.join(sorted(data))}>\n"


def checked_outputs(folder):
    """Yield ``(notebook name, cell number, text)`` for every checked code cell."""
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        for number, cell in enumerate(code, start=1):
            if "".join(cell["source"]).lstrip().startswith(MARKER):
                yield path.name, number, "".join(cell_text(o) for o in cell.get("outputs", []))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(NOTEBOOKS), help="a folder of NN_*.ipynb")
    args = parser.parse_args(argv)
    for name, number, text in checked_outputs(args.folder):
        print(f"=== {name}, code cell {number}")
        print(text, end="" if text.endswith("\n") else "\n")


if __name__ == "__main__":
    main()

"""What every figure script in this folder shares.

A script draws one ``img/<its name>.png``; run with a path, it writes there instead
(the tests do). Importing this module first sets matplotlib's file-only backend and puts
the repository on ``sys.path``, so a script runs from a checkout without installing
``course_lib``. :func:`save` writes a PNG without a date or a "Software" tag, so its bytes
depend only on the drawing and a re-run changes nothing in git.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a file, never a window

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

from course_lib.notebook.style import use_course_style  # noqa: E402


def output_path(script, argv=None):
    """Where ``script`` (its ``__file__``) writes: the first argument, else ``img/<name>.png``.

    Also applies the course style without lecture mode: the file looks the same whoever
    runs the script.
    """
    argv = sys.argv[1:] if argv is None else argv
    use_course_style(lecture=False)
    return Path(argv[0]) if argv else ROOT / "img" / f"{Path(script).stem}.png"


def save(fig, out):
    """Write ``fig`` to ``out`` as a reproducible PNG, close it and say where it went."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {out}")

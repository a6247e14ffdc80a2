"""Run the notebooks against the newest versions the requirements allow, and name what moved.

    python scripts/check_drift.py            # what .ci/run does after the pinned run

CI first tests the exact versions in ``constraints.txt``. A learner who runs
``pip install -r requirements.txt`` (or Binder, which does just that) gets the newest
versions within the bounds instead, and one of them may have changed since. This script
builds a second environment, ``.venv-latest``, without the constraints (torch, the test
oracle, stays pinned), lists every package whose version differs from ``constraints.txt``,
and runs every notebook under nbval in CI mode there. If nothing moved, the pinned run
already covered it and the script stops early. If the notebooks fail, the failure names
the packages that moved: the first suspects.

``make constraints`` (``--write-constraints``) rewrites ``constraints.txt`` from the same
fresh resolve instead of running the notebooks, once a drift has been checked and accepted.
"""

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-latest"
TORCH = "torch==2.13.0"


def canonical(name):
    """PEP 503 name: ``Jinja2`` and ``jinja2``, ``typing_extensions`` and ``typing-extensions`` match."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text):
    """``{name: version}`` from ``pip freeze``-style lines (``name==version``), ignoring the rest."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonical(name)] = version.strip()
    return pins


def unpinned_requirements(path):
    """The lines of a requirements file, without ``-c`` (constraints) and ``-r`` (includes) lines.

    ``-e .`` becomes an absolute path, so the result can be read from anywhere.
    """
    lines = []
    for line in Path(path).read_text().splitlines():
        bare = line.split("#", 1)[0].strip()
        if bare.startswith(("-c", "-r")):
            continue
        lines.append(f"-e {ROOT}\n" if bare in ("-e .", ".") else line + "\n")
    return "".join(lines)


def moved_packages(pinned, installed):
    """Lines ``name: pinned -> installed`` for every package whose version differs."""
    lines = []
    for name in sorted(set(pinned) | set(installed)):
        before, after = pinned.get(name, "(not pinned)"), installed.get(name, "(not installed)")
        if before != after:
            lines.append(f"{name}: {before} -> {after}")
    return lines


def constraints_header(text):
    """The comment lines at the top of constraints.txt, kept when it is rewritten."""
    header = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        header.append(line)
    return "".join(header)


def main(argv=None):
    write_constraints = "--write-constraints" in (sys.argv[1:] if argv is None else argv)
    python = VENV / "bin" / "python"
    print(f"== {VENV.name}: the newest versions allowed by the requirements ({TORCH} stays pinned)", flush=True)
    venv.EnvBuilder(clear=True, with_pip=True).create(VENV)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--upgrade"]
    subprocess.run(pip + [TORCH], check=True)
    # The same requirement lines, without the pins that requirements.txt applies.
    unpinned = VENV / "requirements-unpinned.txt"
    unpinned.write_text("".join(unpinned_requirements(ROOT / name) for name in ("requirements.txt", "requirements-test.txt")))
    subprocess.run(pip + ["-r", str(unpinned)], check=True, cwd=ROOT)

    freeze = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout
    constraints = ROOT / "constraints.txt"
    moved = moved_packages(read_pins(constraints.read_text()), read_pins(freeze))
    if write_constraints:
        new = constraints.with_suffix(".txt.new")
        new.write_text(constraints_header(constraints.read_text()) + freeze)
        new.replace(constraints)  # whole or not at all
        print("constraints.txt rewritten; changes:\n  " + ("\n  ".join(moved) or "none"))
        return 0
    if not moved:
        print("No package moved since constraints.txt: the pinned run already tested these versions.")
        return 0
    print("Packages that moved since constraints.txt:\n  " + "\n  ".join(moved), flush=True)

    env = dict(os.environ, COURSE_MODE="ci", OPENBLAS_NUM_THREADS="1")
    result = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "notebooks", "tests/test_notebooks.py"], cwd=ROOT, env=env)
    if result.returncode != 0:
        print("\nerror: the notebooks fail with the newest allowed versions, and pass with "
              "constraints.txt. Packages that moved (suspects first to check):\n  " + "\n  ".join(moved),
              file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())

"""The shape of course_lib: layers whose imports run one way, kernels that need only NumPy,
modules of a readable size, and no process-wide state changed by an import.

The layers (README, "The library"), from the bottom up:

| a module in                                            | may import                          |
| ------------------------------------------------------ | ----------------------------------- |
| kernels (the contract's modules, cells, _checks, ...)  | NumPy and other kernel modules      |
| data/                                                  | NumPy, the standard library, pooch, |
|                                                        | _checks                             |
| model math (models, sampling, schedules, minchar, ...) | kernels and data/                   |
| training/                                              | all of the above, tqdm              |
| the edge: notebook/, exercises/, cli/, pretrained/     | anything, each other included       |

Nothing outside the edge imports the edge. Every layer may use the standard library,
except that kernels may not start processes (``multiprocessing``).
"""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_lib"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "layout" / "course_lib"

KERNELS = {"activations", "losses", "layers", "rnn", "lstm", "gru", "birnn", "optim", "gradcheck",
           "cells", "_checks", "_scratch"}
MODEL_MATH = {"models", "sampling", "schedules", "minchar", "surfaces"}
EDGE = {"notebook", "exercises", "cli", "pretrained", "__main__"}
ORDER = ["kernels", "data", "model math", "training", "edge"]
# Third-party packages each layer may import, beyond NumPy (which every layer may).
THIRD_PARTY = {"kernels": set(), "data": {"pooch"}, "model math": set(), "training": {"tqdm"},
               "edge": None}  # None: anything
# What no kernel may import even from the standard library: it starts processes.
NOT_IN_KERNELS = {"multiprocessing", "concurrent"}
MAX_LINES = 400


def layer_of(module):
    """The layer of ``course_lib.<...>`` (a dotted name), from its first component."""
    parts = module.split(".")
    assert parts[0] == "course_lib", module
    if len(parts) == 1:
        return "package"  # course_lib/__init__.py: loads its modules lazily, imports none
    first = parts[1]
    if first in KERNELS:
        return "kernels"
    if first == "data":
        return "data"
    if first in MODEL_MATH:
        return "model math"
    if first == "training":
        return "training"
    if first in EDGE:
        return "edge"
    raise AssertionError(f"course_lib.{first}: not in the layer table of tests/test_layout.py; "
                         f"say which layer it belongs to")


def may_import(importer, imported):
    """Whether a module of layer ``importer`` may import the course_lib module ``imported``."""
    target = layer_of(imported)
    if importer == "edge":
        return True
    if target in ("edge", "package"):
        return False
    if importer == "data":  # data/ needs only the argument checks of the kernels
        return target == "data" or imported == "course_lib._checks"
    if importer == "kernels":
        return target == "kernels"
    return ORDER.index(target) <= ORDER.index(importer)


def module_name(path, package_dir):
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path, package_dir):
    """``(line, imported module)`` for every import in a file, relative ones resolved.

    Imports anywhere count, inside functions too: an import deferred to a function still
    runs one way or the other.
    """
    name = module_name(path, package_dir)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            # `from . import rnn` imports the module course_lib.rnn, not a name of the package.
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                sub_path = package_dir.parent.joinpath(*sub.split("."))
                is_module = sub_path.with_suffix(".py").is_file() or (sub_path / "__init__.py").is_file()
                found.append((node.lineno, sub if is_module else module))
    return found


def violations(package_dir):
    """Every import that breaks the layer table, as ``"path:line: message"`` lines."""
    problems = []
    for path in sorted(package_dir.rglob("*.py")):
        importer = layer_of(module_name(path, package_dir))
        for line, imported in imports_of(path, package_dir):
            where = f"{path.relative_to(package_dir.parent)}:{line}"
            top = imported.split(".")[0]
            if top == "course_lib":
                if importer == "package":
                    problems.append(f"{where}: course_lib/__init__.py imports {imported}; it must "
                                    f"load its modules lazily (PEP 562 __getattr__)")
                elif not may_import(importer, imported):
                    problems.append(f"{where}: a module of {importer} imports {imported} "
                                    f"({layer_of(imported)}): imports run from the edge down")
            elif top in sys.stdlib_module_names or top == "__future__":
                if importer == "kernels" and top in NOT_IN_KERNELS:
                    problems.append(f"{where}: a kernel imports {imported}; kernels need only NumPy")
            elif top != "numpy":
                allowed = THIRD_PARTY.get(importer, set())
                if allowed is not None and top not in allowed:
                    problems.append(f"{where}: a module of {importer} imports {imported}; it may "
                                    f"import only {sorted(allowed | {'numpy'})} outside the standard library")
    return problems


def test_imports_run_one_way():
    assert violations(PACKAGE) == []


def test_the_import_check_catches_wrong_way_imports():
    """A small copy of the layout whose modules break the table: each break is named."""
    assert violations(FIXTURE) == [
        "course_lib/data/download.py:3: a module of data imports tqdm.auto; it may import only "
        "['numpy', 'pooch'] outside the standard library",
        "course_lib/models.py:3: a module of model math imports course_lib.notebook.widgets "
        "(edge): imports run from the edge down",
        "course_lib/rnn.py:5: a module of kernels imports course_lib.training.loop (training): "
        "imports run from the edge down",
        "course_lib/rnn.py:9: a kernel imports multiprocessing; kernels need only NumPy",
    ]


def test_every_module_is_in_the_layer_table():
    for path in PACKAGE.rglob("*.py"):
        layer_of(module_name(path, PACKAGE))  # raises, naming the module, if not


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_readable(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)}: {lines} lines; split it (at most {MAX_LINES})"


def run_python(code):
    """Run ``code`` in a fresh Python of this environment; its stdout, or fail with stderr."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def kernel_modules():
    return sorted(f"course_lib.{name}" for name in KERNELS)


def test_kernels_import_with_numpy_alone():
    """Each kernel module, imported in a Python that refuses everything but NumPy's world.

    An import hook refuses tqdm, pooch, matplotlib, ipywidgets and multiprocessing and
    records every attempt, so an import that something catches still fails the test.
    """
    out = run_python(f"""
        import importlib, sys
        REFUSED = ("tqdm", "pooch", "matplotlib", "ipywidgets", "multiprocessing")
        attempts = []

        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in REFUSED:
                    attempts.append(name)
                    raise ImportError(f"refused by the test: {{name}} (kernels need only NumPy)")
                return None

        sys.meta_path.insert(0, Refuse())
        for module in {kernel_modules()!r} + ["course_lib"]:
            importlib.import_module(module)
        assert not attempts, attempts
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in REFUSED)
        assert not loaded, loaded
        print("ok", len({kernel_modules()!r}))
    """)
    assert out.split() == ["ok", str(len(KERNELS))]


def test_import_course_lib_is_cheap_and_lazy():
    out = run_python("""
        import sys
        before = set(sys.modules)
        import course_lib
        new = sorted(m for m in set(sys.modules) - before if m.startswith("course_lib"))
        print(new)
        course_lib.rnn.rnn_step_forward  # loaded on first use
        print("numpy" in sys.modules, "course_lib.rnn" in sys.modules)
    """)
    assert out.splitlines() == ["['course_lib']", "True True"]


def test_importing_any_module_changes_no_process_wide_state():
    """Import every module of the package (and train a little): the allocator is not tuned,
    and NumPy's error settings, warning filters, signal handlers, the environment and
    matplotlib's settings are as they were."""
    modules = sorted(module_name(p, PACKAGE) for p in PACKAGE.rglob("*.py")
                     if p.name != "__main__.py")
    out = run_python(f"""
        import importlib, os, signal, warnings
        import numpy as np
        import matplotlib
        from course_lib import _scratch

        calls = []
        _scratch.keep_freed_memory = lambda: calls.append("keep_freed_memory")  # records a call
        state = lambda: (np.geterr(), list(warnings.filters), signal.getsignal(signal.SIGINT),
                         dict(os.environ), dict(matplotlib.rcParams))
        before = state()
        for module in {modules!r}:
            importlib.import_module(module)

        from course_lib.models import SequenceClassifier
        from course_lib.optim import SGD
        from course_lib.training import fit
        model = SequenceClassifier(3, 4, 2, cell="rnn")
        x, y = np.ones((2, 5, 3), np.float32), np.array([0, 1])
        fit(lambda batch: model.loss(*batch), iter([(x, y)] * 3), SGD(model.params, 0.1),
            num_steps=3, progress=False)

        after = state()
        for name, a, b in zip(("np.geterr", "warnings.filters", "SIGINT handler", "os.environ",
                               "matplotlib.rcParams"), before, after):
            assert a == b, name
        print(calls)
    """)
    assert out.strip() == "[]"

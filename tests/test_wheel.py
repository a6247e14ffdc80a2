"""A non-editable install works: the wheel holds every subpackage and data file, and
``python -m course_lib sample`` runs from it, away from the checkout."""

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_lib"
# Files that are package data: everything in course_lib/ but Python sources and caches.
DATA_SUFFIXES = {".npz", ".md", ".csv", ".json", ".txt"}


def setuptools_is_new_enough():
    """pyproject.toml's build backend (setuptools>=77) is already here: build offline."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    import setuptools

    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a clean copy of what it is made of: a build in the checkout
    would leave ``build/`` behind, and reuse it next time (with any module since deleted)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    isolation = ["--no-build-isolation"] if setuptools_is_new_enough() else []
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *isolation, "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (path,) = out.glob("course_lib-*.whl")
    return path


def source_files():
    """Every file the package is made of, relative to the repository root."""
    return sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts
                  and (p.suffix == ".py" or p.suffix in DATA_SUFFIXES))


@pytest.mark.slow
def test_wheel_holds_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in source_files() if f not in names]
    assert not missing, f"the wheel lacks {missing}: list them in pyproject.toml"
    assert "course_lib/pretrained/shakespeare_lstm.npz" in names
    assert not [n for n in names if n.split("/")[0] in ("tests", "notebooks", "scripts", "benchmarks")]


@pytest.mark.slow
def test_command_line_runs_from_the_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing can come from there
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "COURSE_KEEP_MEMORY": "0"}
    where = subprocess.run([sys.executable, "-c", "import course_lib.pretrained as p; print(p.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site)
    result = subprocess.run([sys.executable, "-m", "course_lib", "sample", "--length", "40", "--seed", "1"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) >= 40

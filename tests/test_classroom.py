"""What a class needs from the repository, checked without Binder, Colab or a projector.

- Binder (repo2docker) builds from the top-level files: no ``binder/`` folder shadows
  them, ``runtime.txt`` names the Python CI runs, ``requirements.txt`` installs the
  course with a bound on every line, and every notebook the syllabus links exists.
- Colab: every notebook starts with the same setup cell (00's first code cell), which
  clones the repository named in pyproject.toml and does nothing anywhere else; the
  README has a Binder badge under its title and a Colab badge per ready notebook.
- Slides: every cell of every stored notebook has its reveal.js slide type, derived
  from the headings by scripts/execute_notebooks.py (docs/slides.md).

The repository URL is written once, in pyproject.toml's ``[project.urls]``.
"""

import importlib.util
import os
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
OWNER, NAME = urlsplit(REPOSITORY).path.strip("/").split("/")[:2]
BINDER_URL = f"https://mybinder.org/v2/gh/{OWNER}/{NAME}/HEAD?urlpath=lab/tree/notebooks"
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BADGE = re.compile(r"\[!\[[^\]]*\]\([^)\s]+\)\]\(([^)\s]+)\)")  # [![alt](image)](link) -> link


def colab_url(name):
    return f"https://colab.research.google.com/github/{OWNER}/{NAME}/blob/main/notebooks/{name}.ipynb"


def first_code_cell(path):
    return next(cell.source for cell in jupytext.read(path).cells if cell.cell_type == "code")


COLAB_CELL = first_code_cell(ROOT / "notebooks" / "00_setup.py")


def syllabus_rows():
    """The README's syllabus table as dicts keyed by its header, e.g. row["Status"]."""
    section = re.search(r"^## Syllabus\n(.*?)(?=^## |\Z)", README, flags=re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Syllabus' section"
    lines = [line.strip() for line in section.group(1).splitlines() if line.strip().startswith("|")]
    assert len(lines) > 2, "the README's syllabus has no table"
    split = lambda line: [cell.strip() for cell in line.strip("|").split("|")]  # noqa: E731
    header = split(lines[0])
    return [dict(zip(header, split(line), strict=True)) for line in lines[2:]]


def linked_notebooks(text):
    return re.findall(r"\]\((notebooks/[^)\s]+\.ipynb)\)", text)


# -- Binder --------------------------------------------------------------------------


def test_no_binder_folder_shadows_the_top_level_files():
    for folder in ("binder", ".binder"):
        assert not (ROOT / folder).exists(), (
            f"{folder}/ exists: repo2docker would then ignore requirements.txt and runtime.txt at the top"
        )


def test_runtime_txt_names_the_python_ci_runs():
    # .ci/run (and the Makefile) pick `command -v python3.X || command -v python3`.
    ci = re.search(r"command -v python(3\.\d+)", (ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert ci, ".ci/run no longer names its Python as `command -v python3.X`"
    runtime = (ROOT / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime == f"python-{ci.group(1)}", f"runtime.txt says {runtime!r}; CI runs Python {ci.group(1)}"
    make = re.search(r"command -v python(3\.\d+)", (ROOT / "Makefile").read_text(encoding="utf-8"))
    assert make and make.group(1) == ci.group(1), "the Makefile and .ci/run pick different Pythons"


def requirement_lines(path):
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def is_bounded(requirement):
    """``==``, ``~=``, or a lower and an upper bound (``>=1,<2``)."""
    if "==" in requirement or "~=" in requirement:
        return True
    return bool(re.search(r">=?", requirement)) and bool(re.search(r"<", requirement))


def test_requirements_txt_installs_the_course_and_bounds_every_line():
    lines = requirement_lines(ROOT / "requirements.txt")
    course = [line for line in lines if line in ("-e .", ".")]
    assert course, "requirements.txt must install the course itself (`-e .`)"
    assert "-c constraints.txt" in lines, "requirements.txt must apply the tested pins (`-c constraints.txt`)"
    unbounded = [line for line in lines
                 if line not in course and line != "-c constraints.txt" and not is_bounded(line)]
    assert not unbounded, f"requirements.txt lines without bounds: {unbounded}"


def test_bound_check_sees_an_unbounded_line():
    assert is_bounded("numpy>=1.26,<3") and is_bounded("torch==2.13.0") and is_bounded("x~=1.2")
    assert not is_bounded("numpy") and not is_bounded("numpy>=1.26") and not is_bounded("numpy<3")


def test_every_notebook_the_syllabus_links_exists():
    links = linked_notebooks(README)
    assert links, "the README links no notebook"
    for link in links:
        assert (ROOT / link).is_file(), f"the README links {link}, which does not exist"
        assert (ROOT / link).with_suffix(".py").is_file(), f"{link} has no .py pair"


# -- Colab ---------------------------------------------------------------------------


def test_the_colab_cell_clones_the_repository_of_pyproject():
    assert "google.colab" in COLAB_CELL
    assert f'"{REPOSITORY}"' in COLAB_CELL, f"the Colab cell of 00_setup.py does not clone {REPOSITORY}"


def test_the_colab_cell_does_nothing_outside_colab(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path_before, modules_before = list(sys.path), set(sys.modules)
    namespace = {}
    exec(compile(COLAB_CELL, "colab_cell", "exec"), namespace)  # noqa: S102 (the course's own cell)
    assert Path.cwd() == tmp_path and sys.path == path_before
    assert set(sys.modules) == modules_before
    assert set(namespace) - {"__builtins__"} == {"sys"}
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("path", SOURCES + NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_starts_with_the_colab_cell(path):
    assert first_code_cell(path) == COLAB_CELL, (
        f"{path.name}: the first code cell must be the Colab cell of 00_setup.py, copied verbatim"
    )


def test_readme_has_the_binder_badge_under_its_title():
    lines = [line for line in README.splitlines() if line.strip()]
    assert lines[0].startswith("# "), "README.md must start with its title"
    assert BADGE.findall(lines[1]) == [BINDER_URL], f"the line under the README's title must be a badge to {BINDER_URL}"
    sections = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert sections[0] == "Quick start", "the Quick start must stay the README's first section"


def test_syllabus_has_a_colab_badge_per_ready_notebook():
    rows = syllabus_rows()
    assert {"Notebook", "Status", "Colab"} <= set(rows[0]), f"syllabus columns: {list(rows[0])}"
    ready = [row for row in rows if row["Status"].lower() == "ready"]
    assert ready, "no notebook is marked ready in the syllabus"
    for row in rows:
        links = linked_notebooks(row["Notebook"])
        badges = BADGE.findall(row["Colab"])
        if row in ready:
            assert len(links) == 1, f"ready row without a notebook link: {row}"
            name = Path(links[0]).stem
            assert badges == [colab_url(name)], f"{name}: the Colab column must be a badge linking {colab_url(name)}"
        else:
            # A badge for a notebook that is not there yet would open an error on Colab.
            assert not badges, f"a row not marked ready has a Colab badge: {row}"


# -- Slides --------------------------------------------------------------------------

SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


def _load_execute_script():
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_its_slide_type(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    fix = f"run `make notebooks NB={ipynb.stem}`, which sets them from the headings (docs/slides.md)"
    types = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]
    missing = [i for i, slide_type in enumerate(types) if slide_type not in SLIDE_TYPES]
    assert not missing, f"{ipynb.name}: cells {missing} have no slide type; {fix}"
    assert "slide" in types, f"{ipynb.name} has no slide; {fix}"
    expected = _load_execute_script()
    first_code = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    stale = [i for i, cell in enumerate(nb.cells) if types[i] != expected.slide_type(cell, first_code)]
    assert not stale, f"{ipynb.name}: cells {stale} have slide types that do not match their headings; {fix}"


def test_slide_types_follow_the_headings():
    module = _load_execute_script()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 05 · Title"),
        nbformat.v4.new_code_cell(COLAB_CELL),
        nbformat.v4.new_markdown_cell("## 1. A section"),
        nbformat.v4.new_markdown_cell("### A part of it"),
        nbformat.v4.new_markdown_cell("Some text with a # in it"),
        nbformat.v4.new_code_cell("x = 1"),
    ]
    module.add_slide_metadata(nb)
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == ["slide", "skip", "slide", "subslide", "-", "-"]


def test_there_is_something_to_check():
    # Globs that match nothing would make the parametrized tests above vacuous.
    assert SOURCES and NOTEBOOKS and os.path.isfile(ROOT / "runtime.txt")

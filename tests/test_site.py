"""The book: ``scripts/build_site.py`` (``make site``) turns the stored notebooks into a site.

One build into a temporary folder, then what a reader needs from it: a page for every
notebook, the syllabus as the first page, no broken link or missing image, plots in
the chapters, math typeset by a local MathJax (nothing loaded from the network). The
link checker and the index generator are tested on small inputs of their own, so that
they are seen to fail when they should.
"""

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build_site.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DOC_TOOLS = ("sphinx", "myst_nb", "sphinx_book_theme")
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"]


def _load_script():
    spec = importlib.util.spec_from_file_location("build_site", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_site = _load_script()


def _doc_tools_missing():
    missing = [name for name in DOC_TOOLS if importlib.util.find_spec(name) is None]
    try:
        importlib.metadata.distribution("sphinx-mathjax-offline")
    except importlib.metadata.PackageNotFoundError:
        missing.append("sphinx-mathjax-offline")
    return missing


def _require_doc_tools():
    """Skip without the book's tools, except in CI, where they must be installed."""
    missing = _doc_tools_missing()
    if missing:
        message = f"the book's tools are not installed ({', '.join(missing)}): pip install -r requirements-test.txt"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    _require_doc_tools()
    out = tmp_path_factory.mktemp("book") / "site"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"the site did not build:\n{result.stdout}\n{result.stderr}"
    return out


class _Tags(HTMLParser):
    def __init__(self, path):
        super().__init__()
        self.tags = []
        self.feed(Path(path).read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


def syllabus_links():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Syllabus\n(.*?)(?=^## |\Z)", readme, flags=re.MULTILINE | re.DOTALL).group(1)
    return re.findall(r"\]\(notebooks/([^)\s]+)\.ipynb\)", section)


# -- The built site ------------------------------------------------------------------


@pytest.mark.slow
def test_the_index_is_the_syllabus(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "Syllabus" in index
    hrefs = {attrs.get("href") for attrs in _Tags(site / "index.html").find("a")}
    for name in syllabus_links():
        assert f"notebooks/{name}.html" in hrefs, f"the index does not link the page of {name}"


@pytest.mark.slow
def test_every_notebook_has_a_page(site):
    names = {nb.stem for nb in NOTEBOOKS} | set(syllabus_links())
    assert names
    missing = [name for name in sorted(names) if not (site / "notebooks" / f"{name}.html").is_file()]
    assert not missing, f"no page for {missing}"


@pytest.mark.slow
def test_no_broken_link_or_missing_image(site):
    assert build_site.check_site(site) == []


@pytest.mark.slow
def test_math_is_typeset_by_a_local_mathjax(site):
    pages = sorted(site.rglob("*.html"))
    pages = [page for page in pages if page.relative_to(site).parts[0] not in ("_static", "_sources")]
    for page in pages:
        for attrs in _Tags(page).find("script"):
            src = attrs.get("src") or ""
            assert not re.match(r"^(https?:)?//", src), f"{page.name} loads a script from the network: {src}"
    with_math = [page for page in pages if 'class="math notranslate nohighlight"' in page.read_text(encoding="utf-8")]
    assert with_math, "no page has math: 00_setup has some"
    for page in with_math:
        sources = [attrs.get("src", "") for attrs in _Tags(page).find("script")]
        mathjax = [src for src in sources if "mathjax/" in src]
        assert mathjax, f"{page.name} has math and no MathJax script"
        script = (page.parent / mathjax[0]).resolve()
        assert script.is_file() and script.stat().st_size > 100_000, f"{page.name}: {mathjax[0]} is not MathJax"


def png_outputs(nb):
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code" and "remove-output" not in cell.metadata.get("tags", [])
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )


@pytest.mark.slow
def test_plots_are_in_the_chapters(site):
    plotted = 0
    for path in NOTEBOOKS:
        expected = png_outputs(nbformat.read(path, as_version=4))
        page = site / "notebooks" / f"{path.stem}.html"
        images = [attrs["src"] for attrs in _Tags(page).find("img") if attrs.get("src", "").endswith(".png")]
        assert len(images) >= expected, f"{page.name} shows {len(images)} PNG images; its notebook has {expected} plots"
        for src in images:
            assert (page.parent / src).is_file(), f"{page.name}: {src} is missing"
        plotted += expected
    assert plotted, "no notebook stores a plot (00_setup draws one)"


@pytest.mark.slow
def test_the_colab_cell_is_left_out_of_the_book(site):
    page = (site / "notebooks" / "00_setup.html").read_text(encoding="utf-8")
    assert "google.colab" not in page


@pytest.mark.slow
def test_the_test_suite_markers_are_left_out_of_the_book(site):
    page = (site / "notebooks" / "00_setup.html").read_text(encoding="utf-8")
    assert "NBVAL_CHECK_OUTPUT" not in page
    assert "relative error &lt; 1e-7" in page or "relative error < 1e-7" in page, "the checked cell itself stays"


@pytest.mark.slow
def test_the_build_fails_on_a_broken_link_or_a_missing_image(tmp_path):
    _require_doc_tools()
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.read(ROOT / "notebooks" / "00_setup.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "Next: [a notebook](05_not_written.ipynb), ![a figure](../img/not_drawn.png), "
            "and [the RNN kernel](../course_lib/rnn.py)."
        )
    )
    nbformat.write(nb, folder / "00_setup.ipynb")
    out = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--notebooks", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = result.stdout + result.stderr
    assert result.returncode != 0, f"the build passed with a broken link and a missing image:\n{log}"
    assert "05_not_written" in log and "not_drawn.png" in log, log
    # A link to a repository file that is not a page of the book goes to GitHub.
    assert "rnn.py" not in log, log
    page = (out / "notebooks" / "00_setup.html").read_text(encoding="utf-8")
    assert f'href="{REPOSITORY}/blob/main/course_lib/rnn.py"' in page


# -- The link checker and the index generator, on inputs made here -------------------


def _write(path, html):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><body>{html}</body></html>", encoding="utf-8")


def test_check_site_passes_a_sound_site(tmp_path):
    _write(tmp_path / "index.html", '<a href="notebooks/a.html#s1">A</a><a href="#top" id="top">top</a>')
    _write(tmp_path / "notebooks" / "a.html", '<h2 id="s1">S</h2><img src="../_images/p.png"><a href="../">home</a>')
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "p.png").write_bytes(b"\x89PNG")
    _write(tmp_path / "x.html", '<a href="https://example.org/page">external links are not followed</a>')
    assert build_site.check_site(tmp_path) == []


def test_check_site_finds_what_is_broken(tmp_path):
    _write(
        tmp_path / "index.html",
        '<a href="notebooks/missing.html">gone</a>'
        '<img src="_images/missing.png">'
        '<a href="index.html#nowhere">bad anchor</a>'
        '<a href="../outside.html">outside</a>'
        '<script src="https://cdn.example.org/tex-chtml.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/x.css">',
    )
    problems = "\n".join(build_site.check_site(tmp_path))
    for expected in ("notebooks/missing.html", "_images/missing.png", "#nowhere", "outside", "tex-chtml.js", "x.css"):
        assert expected in problems, f"the checker missed {expected}:\n{problems}"


README_SAMPLE = """# A course

[![Launch on Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/o/r/HEAD)

## Quick start

make lab

## Syllabus

| # | Notebook | Status | Colab |
| --- | --- | --- | --- |
| 00 | [00_setup](notebooks/00_setup.ipynb) | ready | [![Open in Colab](https://c.example/b.svg)](https://c.example/00) |
| 01 | 01_next | coming | |
| 02 | 02_later | coming | |

## Tests

make test
"""


def test_index_is_made_from_the_readme_syllabus():
    index = build_site.index_markdown(README_SAMPLE, ["00_setup", "01_next"])
    assert index.startswith("# A course\n")
    assert "[Launch on Binder](https://mybinder.org/v2/gh/o/r/HEAD)" in index  # badge images live on other sites
    assert "[Open in Colab](https://c.example/00)" in index
    assert "| [01_next](notebooks/01_next.ipynb) |" in index  # in the book, so linked
    assert "| 02_later |" in index  # not written yet: no link
    assert "Quick start" not in index and "make test" not in index
    assert index.rstrip().endswith("notebooks/00_setup\nnotebooks/01_next\n```")

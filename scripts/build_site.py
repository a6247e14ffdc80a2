"""Build the course as a static website, a book to read without running anything.

    make site                                 # -> _build/site/index.html
    python scripts/build_site.py --out DIR    # anywhere else

The book is every ``notebooks/NN_*.ipynb`` with the outputs stored in it (nothing is
executed), and its first page is the syllabus: ``index.md`` is generated from the README
(title, "What this is", "Syllabus", the library's module map), so the README stays
the one copy of the syllabus.
A notebook that exists is in the book (in the sidebar, in order) even while the syllabus
still lists it as coming.

The build fails on any Sphinx warning (``-W --keep-going``: a broken cross-reference, a
missing image, a notebook Sphinx cannot read), and then on what Sphinx does not see: this
script reads every generated page and fails when a local link or image points to a file
(or an anchor) that is not in the site, or when a page loads a script, a stylesheet or an
image from the network.

Why Sphinx + MyST-NB + sphinx-book-theme, with MathJax from sphinx-mathjax-offline:

- jupyter-book 2 (mystmd) downloads its theme from the internet at build time, and CI has
  no network. (Jupyter Book 1 was this same Sphinx stack with a wrapper around it.)
- Sphinx with MyST-NB renders notebooks without executing them, resolves links between
  notebooks (``[RNN](02_rnn_bptt.ipynb#section)``) as cross-references, and reports
  broken ones and missing images as warnings that ``-W`` turns into a failed build. The
  theme gives what a book needs: navigation in syllabus order, previous/next, full-text
  search (local JavaScript), Binder/Colab launch buttons and an .ipynb download on each
  page. All of it is pip packages, bounded in requirements-test.txt, and builds offline
  (checked with ``unshare -n``: no network at all).
- Math: Sphinx loads MathJax from a CDN unless ``mathjax_path`` names a local copy. The
  copy is MathJax 3.2.2's ``tex-svg.js``, shipped inside the pip package
  sphinx-mathjax-offline (its files are byte for byte npm's mathjax@3.2.2 ``es5/``):
  SVG output draws its glyphs as paths, so it needs no web fonts and renders the same
  from ``file://`` as from a server, and it is the MathJax generation JupyterLab uses.
  jupyter-server-mathjax (MathJax 2.7) was tried first: it lacks the SVG output, and its
  HTML-CSS output with STIX fonts sat formulas visibly off the text baseline in Chromium.
  npm's mathjax would add npm to the build; sphinxcontrib-katex loads KaTeX from a CDN.
- nbconvert's HTMLExporter (``mathjax_url``) could render each notebook offline too, but
  as separate pages: the index, the navigation and the check of the links between them
  would all be ours to write.

Site sources: ``site/conf.py`` (configuration) and ``site/_static/``.
"""

import argparse
import re
import shutil
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "_build" / "site"

# The README sections that make the book's first page (headings start with these).
INDEX_SECTIONS = ("What this is", "Syllabus", "The library")
COLAB_MARKER = '"google.colab" in sys.modules'  # in the first code cell of every notebook
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"  # nbval compares these cells' output (see tests/)
BADGE = re.compile(r"\[!\[([^\]]*)\]\([^)]*\)\]\(([^)]*)\)")  # [![alt](image)](link)


# -- The index: the README's syllabus ------------------------------------------------


def readme_sections(text):
    """The README as (title, {section heading: body}) for its ``## `` sections."""
    title = re.search(r"^# (.+)$", text, re.MULTILINE)
    parts = re.split(r"^## (.+)\n", text, flags=re.MULTILINE)
    preamble, rest = parts[0], parts[1:]
    sections = {"": preamble[title.end() :] if title else preamble}
    sections.update((rest[i].strip(), rest[i + 1]) for i in range(0, len(rest), 2))
    return (title.group(1).strip() if title else "Course"), sections


def book_notebooks(folder=NOTEBOOKS):
    """The notebooks of the book, in syllabus order: ``notebooks/NN_*.ipynb``."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def index_markdown(readme_text, notebook_stems):
    """``index.md``: the README's title and ``INDEX_SECTIONS``, and the toctree.

    Badges become plain links (their images live on other sites, and the book is read
    offline too); a notebook named in the syllabus without a link gets one when it is in
    the book.
    """
    title, sections = readme_sections(readme_text)
    if "Syllabus" not in sections:
        raise SystemExit("error: README.md has no '## Syllabus' section")
    stems = set(notebook_stems)

    def link_names(line):
        if not line.startswith("|"):
            return line
        cells = line.split("|")
        cells = [f" [{c.strip()}](notebooks/{c.strip()}.ipynb) " if c.strip() in stems else c for c in cells]
        return "|".join(cells)

    def plain(body):
        body = BADGE.sub(r"[\1](\2)", body)
        return "\n".join(link_names(line) for line in body.splitlines())

    out = [f"# {title}", "", plain(sections[""]).strip(), ""]
    for name, body in sections.items():
        if name.startswith(INDEX_SECTIONS):
            out += [f"## {name}", "", plain(body).strip(), ""]
    out += ["```{toctree}", ":hidden:", ":caption: Notebooks", ""]
    out += [f"notebooks/{stem}" for stem in notebook_stems]
    out += ["```", ""]
    return "\n".join(out)


def hide_colab_cell(nb):
    """Leave the Colab setup cell (the first code cell) out of the book: it does nothing there."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and COLAB_MARKER in code[0].source:
        tags = code[0].metadata.setdefault("tags", [])
        if "remove-cell" not in tags:
            tags.append("remove-cell")  # MyST-NB's tag for a cell left out of the page


def drop_test_markers(nb):
    """Remove the ``# NBVAL_CHECK_OUTPUT`` lines: they speak to the test suite, not to a reader."""
    for cell in nb.cells:
        if cell.cell_type == "code" and CHECK_MARKER in cell.source:
            cell.source = "\n".join(line for line in cell.source.split("\n") if line.strip() != CHECK_MARKER)


def stage(srcdir, folder=NOTEBOOKS):
    """Lay out Sphinx's source folder as the repository: index.md, notebooks/, img/."""
    notebooks = book_notebooks(folder)
    if not notebooks:
        raise SystemExit(f"error: no NN_*.ipynb in {folder}")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (srcdir / "index.md").write_text(index_markdown(readme, [nb.stem for nb in notebooks]), encoding="utf-8")
    (srcdir / "notebooks").mkdir()
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        hide_colab_cell(nb)
        drop_test_markers(nb)
        nbformat.write(nb, srcdir / "notebooks" / path.name)
    if (ROOT / "img").is_dir():  # figures the notebooks show with ![...](../img/...)
        shutil.copytree(ROOT / "img", srcdir / "img")
    return notebooks


# -- Checking the generated HTML -----------------------------------------------------

EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
RESOURCE_ATTRS = {("script", "src"), ("img", "src"), ("source", "src"), ("iframe", "src"), ("embed", "src")}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for attr in ("href", "src"):
            value = attrs.get(attr)
            if value is None:
                continue
            stylesheet = tag == "link" and "stylesheet" in (attrs.get("rel") or "").split()
            resource = (tag, attr) in RESOURCE_ATTRS or stylesheet
            self.refs.append((tag, attr, value.strip(), resource))


def check_site(outdir):
    """Problems in a built site: broken local links, missing files, network resources.

    Every ``href``/``src`` of every page that is not a URL must name a file in the site
    (a folder stands for its ``index.html``), and its ``#anchor``, on an HTML page, must
    be an ``id`` there. Scripts, stylesheets and images must all be local.
    """
    outdir = Path(outdir).resolve()
    pages, problems = {}, []

    def parse(path):
        if path not in pages:
            parser = _Page()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            pages[path] = parser
        return pages[path]

    for page in sorted(outdir.rglob("*.html")):
        where = page.relative_to(outdir)
        if where.parts[0] in ("_static", "_sources"):  # theme templates, copied sources
            continue
        for tag, attr, value, resource in parse(page).refs:
            if EXTERNAL.match(value):
                if resource and not value.startswith("data:"):
                    problems.append(f"{where}: <{tag} {attr}> loads {value} from the network")
                continue
            parts = urlsplit(value)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(outdir):
                problems.append(f"{where}: <{tag} {attr}={value!r}> points outside the site")
            elif not target.is_file():
                problems.append(f"{where}: <{tag} {attr}={value!r}> names a missing file")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
                problems.append(f"{where}: <{tag} {attr}={value!r}>: no such anchor")
    if not pages:
        problems.append(f"no HTML pages in {outdir}")
    return problems


# -- Building ------------------------------------------------------------------------


def build(outdir, verbose=False, notebooks=NOTEBOOKS):
    """Build the site into ``outdir`` (replaced). Returns the list of problems found."""
    from sphinx.cmd.build import build_main  # the doc tools are test requirements only

    outdir = Path(outdir).resolve()
    if outdir.exists():
        if any(outdir.iterdir()) and not (outdir / ".buildinfo").exists():
            raise SystemExit(f"error: {outdir} exists and is not a site built here; not replacing it")
        shutil.rmtree(outdir)
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        srcdir = Path(tmp) / "src"
        srcdir.mkdir()
        stage(srcdir, notebooks)
        args = ["-b", "html", "-W", "--keep-going", "-c", str(SITE), "-d", str(Path(tmp) / "doctrees")]
        status = build_main([*args, *([] if verbose else ["-q"]), str(srcdir), str(outdir)])
    if status:
        return [
            f"sphinx-build failed (exit {status}): see the warnings above. They name a temporary copy:"
            " .../src/notebooks/NN_name.ipynb is notebooks/NN_name.ipynb, and a line number"
            " like 160002 points into the 16th cell"
        ]
    return check_site(outdir)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = DEFAULT_OUT.relative_to(ROOT)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {default})")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Sphinx's progress, not only its warnings")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="take the notebooks from this folder (tests)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    problems = build(args.out, verbose=args.verbose, notebooks=args.notebooks)
    elapsed = time.perf_counter() - start
    if problems:
        print("\n".join(["The site has problems:", *(f"  {p}" for p in problems)]), file=sys.stderr)
        sys.exit(1)
    pages = len(list(Path(args.out).resolve().joinpath("notebooks").glob("*.html")))
    print(f"site: {pages} notebook pages in {args.out.resolve() / 'index.html'} ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()

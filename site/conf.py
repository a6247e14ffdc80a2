"""Sphinx configuration of the course's book (built by ``scripts/build_site.py``).

The source folder Sphinx reads is made by that script: ``index.md`` (generated from the
README's syllabus) and copies of ``notebooks/NN_*.ipynb``, laid out as in the
repository. Everything that decides how the book looks is here; nothing is fetched from
the network, neither at build time nor when the pages are read:

- the notebooks are rendered with their stored outputs (``nb_execution_mode = "off"``);
- math is typeset by a copy of MathJax 3 installed with the build tools, copied into
  ``_static/mathjax/``;
- no widget JavaScript is loaded from a CDN: a widget's place in the page says to run
  the notebook instead;
- a link from a notebook to a repository file that is not a page of the book (a module
  of ``course_lib``, a solution, the licence) points to that file on GitHub.
"""

import importlib.metadata
import posixpath
import re
import shutil
import tomllib
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
REPOSITORY = PYPROJECT["urls"]["Repository"]
BRANCH = "main"
README_TITLE = re.search(r"^# (.+)$", (ROOT / "README.md").read_text(encoding="utf-8"), re.MULTILINE)

# -- Project -------------------------------------------------------------------------
project = README_TITLE.group(1).strip() if README_TITLE else "RNN course"
author = PYPROJECT["authors"][0]["name"]
copyright = f"{author}, MIT licence"  # noqa: A001 (Sphinx's name)

root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# -- Notebooks (MyST-NB) -------------------------------------------------------------
extensions = ["myst_nb"]
nb_execution_mode = "off"  # a book of what was run: the stored outputs, never re-executed
nb_ipywidgets_js = {}  # its default loads require.js and the widget manager from CDNs
nb_merge_streams = True  # one block per cell for stdout, not one per print flush
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
myst_heading_anchors = 3  # links like [see](02_rnn_bptt.ipynb#2-the-forward-pass)

# -- Math: MathJax 3.2.2, installed locally ----------------------------------------------
# The files come from the pip package sphinx-mathjax-offline (byte for byte the es5/
# folder of npm's mathjax@3.2.2). It is not loaded as a Sphinx extension (that would
# choose the CHTML output, which needs web fonts): build-finished below copies the files
# into _static/mathjax/. tex-svg.js is TeX input and SVG output in one file, its font
# drawn as paths: it renders the same from file:// as from a server.
MATHJAX_DIST = "sphinx-mathjax-offline"
try:
    MATHJAX_DIR = Path(importlib.metadata.distribution(MATHJAX_DIST).locate_file(f"{MATHJAX_DIST}/static/mathjax"))
except importlib.metadata.PackageNotFoundError:
    MATHJAX_DIR = Path("/nonexistent")  # setup() below says what to install
MATHJAX_UNUSED = ("*chtml*", "mml-*.js", "tex-mml-*.js", "tex-svg-full.js", "node-main.js")
mathjax_path = "mathjax/tex-svg.js"  # relative to _static/
# MyST adds processHtmlClass to this, so that only the math it parsed is typeset.
mathjax3_config = {"svg": {"fontCache": "global"}}

# -- HTML ----------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_show_sourcelink = False  # the download button (.ipynb, from _sources/) is enough
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": BRANCH,
    "path_to_docs": "",  # the source folder is laid out as the repository
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    # Buttons on each notebook page: open it on Binder (JupyterLab) or Colab.
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
}

WIDGET_SCRIPT = '<script type="application/vnd.jupyter.widget-view+json">'
WIDGET_NOTE = (
    "Interactive widget: run this notebook (Binder, Colab or make lab) to use it. "
    "A static figure near it shows the same idea."
)


def replace_widget_views(app, doctree):
    """Put a short note where a notebook output is a widget (no widget state is stored)."""
    for raw in list(doctree.findall(nodes.raw)):
        if raw.get("format") == "html" and raw.astext().startswith(WIDGET_SCRIPT):
            raw.replace_self(nodes.paragraph("", WIDGET_NOTE, classes=["widget-note"]))


class RepositoryFileLinks(SphinxPostTransform):
    """A link to a repository file that is not a page of the book goes to GitHub.

    Runs before MyST resolves its references (priority 9), so only links that would
    otherwise be broken are touched, and only when the file exists in the repository:
    a link to nothing still fails the build.
    """

    default_priority = 5

    def run(self, **kwargs):
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain"):
                continue
            target = node["reftarget"]
            path, _, fragment = target.partition("#")
            if not path or "://" in path or path.startswith(("/", "mailto:")):
                continue
            # The source folder mirrors the repository, so the page's folder is the
            # notebook's folder there (the index stands for the README, at the top).
            repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(node["refdoc"]), path))
            if repo_path.startswith("..") or not (ROOT / repo_path).exists():
                continue
            kind = "tree" if (ROOT / repo_path).is_dir() else "blob"
            url = f"{REPOSITORY}/{kind}/{BRANCH}/{repo_path}" + (f"#{fragment}" if fragment else "")
            link = nodes.reference("", "", internal=False, refuri=url)
            link += node.children or [nodes.literal(target, target)]
            node.replace_self(link)


def copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        shutil.copytree(MATHJAX_DIR, target, ignore=shutil.ignore_patterns(*MATHJAX_UNUSED), dirs_exist_ok=True)


def setup(app):
    if not (MATHJAX_DIR / mathjax_path.removeprefix("mathjax/")).is_file():
        raise RuntimeError(f"MathJax not found in {MATHJAX_DIR}: pip install -r requirements-test.txt")
    app.connect("doctree-read", replace_widget_views)
    app.add_post_transform(RepositoryFileLinks)
    app.connect("build-finished", copy_mathjax)

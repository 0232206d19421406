"""Sphinx configuration for microgpt, illustrated."""

import os
from pathlib import Path

import yaml

import microgpt
from microgpt.dataset import DATA_ENV
from microgpt.sphinxext.cache import execution_cache_path

ROOT = Path(__file__).resolve().parent.parent
CITATION = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))

project = "microgpt, illustrated"
author = "microgpt-illustrated contributors"
copyright = f"{CITATION['date-released'].year}, {author}; microgpt.py by Andrej Karpathy"
release = version = microgpt.__version__

extensions = [
    "myst_nb",
    "sphinx_design",
    "sphinx_copybutton",
    "sphinxcontrib.bibtex",
    "sphinx.ext.autodoc",
    "microgpt.sphinxext",
]
exclude_patterns = ["_build", ".jupyter_cache", "_snapshots", "**.ipynb_checkpoints", "README.md"]
nitpicky = True
nitpick_ignore_regex = [  # the standard library and NumPy: no intersphinx without network at build time
    ("py:class", r"(numpy|np|random|typing|collections\.abc|pathlib|_io|io|contextlib|ast|array)\..*"),
    ("py:class", r"(TextIO|Path|Callable|Value|Tokenizer|GPTConfig|TrainConfig|SampleConfig|Run|Section)"),
    ("py:class", r"microgpt\.cli\.Parser"),  # the CLI module is not documented as an API
]

# MyST and MyST-NB: every page is a notebook executed at build time and cached
myst_enable_extensions = ["colon_fence", "deflist", "html_image"]
myst_heading_anchors = 2
nb_execution_mode = "cache"
nb_execution_raise_on_error = False  # with -W, a failing cell fails the build with a warning naming the notebook
nb_execution_show_tb = False  # the warning points at the log with the cell's traceback
nb_execution_timeout = 120
nb_merge_streams = True


_data = os.environ.get(DATA_ENV)
nb_execution_cache_path = execution_cache_path(Path(__file__).parent / ".jupyter_cache", Path(microgpt.__file__).parent,
                                               Path(_data) if _data else None)

# the papers the pages cite, listed on the cite page
bibtex_bibfiles = ["references.bib"]
bibtex_reference_style = "author_year"

# the extension
microgpt_reference = "../reference/microgpt.py"
microgpt_citation = {k: str(v) if k == "date-released" else v for k, v in CITATION.items()}
microgpt_citation["authors"] = [f"{a['family-names']}, {a['given-names']}" if "family-names" in a else a["name"]
                                for a in CITATION["authors"]]
html_baseurl = os.environ.get("READTHEDOCS_CANONICAL_URL", CITATION["url"])
_POST = ("Karpathy's post on microgpt", "http://karpathy.github.io/2026/02/12/microgpt/")
_MICROGRAD = ("micrograd, the same autograd and a training loop, step by step", "https://github.com/karpathy/micrograd")
microgpt_further_reading = {"*": [_POST], "autograd": [_MICROGRAD], "optimizer": [_MICROGRAD],
                            "training": [_MICROGRAD]}

# HTML
html_theme = "furo"
html_title = "microgpt, illustrated"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_favicon = "_static/favicon.svg"
html_copy_source = False
html_show_sourcelink = False
pygments_style = "a11y-light"  # WCAG AA contrast (accessible-pygments)
pygments_dark_style = "a11y-dark"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}


def _caption_levels(app, pagename, templatename, context, doctree):
    """Sphinx marks toctree captions role="heading" without the aria-level that role requires."""
    for key in ("furo_navigation_tree", "body"):
        if isinstance(context.get(key), str):
            context[key] = context[key].replace('class="caption" role="heading"',
                                                'class="caption" role="heading" aria-level="2"')


def setup(app):
    app.connect("html-page-context", _caption_levels, priority=900)

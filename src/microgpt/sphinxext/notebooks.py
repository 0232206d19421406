"""Every MyST notebook page is also offered as a .ipynb file, written beside its HTML page."""

from pathlib import Path

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)


def is_notebook(app, docname: str) -> bool:
    """A page written as a MyST notebook: a text file with jupytext front matter."""
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".md":
        return False
    head = path.read_text(encoding="utf-8")[:400]
    return head.startswith("---") and "jupytext:" in head


def add_download_link(app, doctree, docname):
    """A 'download as notebook' line at the top of each notebook page (HTML only)."""
    if app.builder.format != "html" or not is_notebook(app, docname):
        return
    name = Path(docname).name + ".ipynb"
    para = nodes.paragraph(classes=["mg-notebook-link"])
    para += nodes.Text("Run this page yourself: ")
    para += nodes.reference("", f"download {name}", refuri=name, classes=["mg-download"])
    para += nodes.Text(" and open it in Jupyter.")
    sections = list(doctree.findall(nodes.section))
    if sections:
        title = sections[0].next_node(nodes.title)
        sections[0].insert(sections[0].index(title) + 1, para)


def write_notebooks(app, exception):
    """Convert each notebook page to .ipynb (unexecuted) next to its HTML."""
    if exception is not None or app.builder.format != "html":
        return
    import jupytext

    for docname in sorted(app.env.found_docs):
        if not is_notebook(app, docname):
            continue
        notebook = jupytext.reads(Path(app.env.doc2path(docname)).read_text(encoding="utf-8"), fmt="md:myst")
        for i, cell in enumerate(notebook.cells):  # nbformat draws random cell ids; builds must be reproducible
            cell["id"] = f"cell-{i}"
        target = Path(app.outdir) / (docname + ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, target, fmt="ipynb")


def setup_notebooks(app):
    app.connect("doctree-resolved", add_download_link)
    app.connect("build-finished", write_notebooks)

"""Every executed code cell gets a bar: Run (in the reader's browser, the live page's runtime) or, for a cell that
needs NumPy, a pointer to the page's notebook.

MyST-NB draws a code cell as `div.cell` holding `div.cell_input` and `div.cell_output`. When a page is read, the
bar is inserted after the input, carrying the cell's source, its number and whether it needs NumPy (decided from
its code by `microgpt.cells.needs_numpy`). `_static/cells/cells.js` (loaded only on pages with such cells, and
loading the runtime only when the reader presses Run) does the rest.
"""

import html
from pathlib import Path

from docutils import nodes

from .shared import track_docs


class cell_bar(nodes.General, nodes.Element):
    """The controls of one code cell (HTML only; other builders show nothing)."""


def code_cells(doctree) -> list[nodes.container]:
    return [n for n in doctree.findall(nodes.container) if n.get("nb_element") == "cell_code"]


def cell_source(cell: nodes.container) -> str | None:
    """The code a cell shows, or None when its input is hidden (nothing for the reader to run)."""
    for child in cell.children:
        if child.get("nb_element") == "cell_code_source":
            block = child.next_node(nodes.literal_block)
            return block.astext() if block is not None else None
    return None


def hide_glue(doctree):
    """Show each cell without the `glue(...)` calls that feed the prose (build machinery, as in the notebooks);
    a cell that was nothing else loses its input."""
    from ..cells import without_glue

    for cell in code_cells(doctree):
        for child in list(cell.children):
            block = child.next_node(nodes.literal_block) if child.get("nb_element") == "cell_code_source" else None
            if block is None:
                continue
            shown = without_glue(block.astext())
            if not shown:
                cell.remove(child)
            elif shown != block.astext():
                block[:] = [nodes.Text(shown)]
                block.rawsource = shown


def mark_cells(app, doctree):
    """Insert a bar after each shown code cell's input; note the page as one with cells."""
    from ..cells import needs_numpy

    hide_glue(doctree)
    cells = [(cell, cell_source(cell)) for cell in code_cells(doctree)]
    cells = [(cell, source) for cell, source in cells if source is not None]
    if not cells:
        return
    for (cell, source), numpy in zip(cells, needs_numpy([source for _, source in cells])):
        bar = cell_bar(source=source, numpy=numpy, notebook=Path(app.env.docname).name + ".ipynb")
        position = next(i for i, child in enumerate(cell.children) if child.get("nb_element") == "cell_code_source")
        cell.insert(position + 1, bar)
    app.env.microgpt_cell_docs = getattr(app.env, "microgpt_cell_docs", set()) | {app.env.docname}


def visit_cell_bar_html(self, node):
    if node["numpy"]:
        self.body.append(
            '<div class="mg-cell-bar mg-cell-numpy" data-numpy="true"><p>This cell needs NumPy, which the Python in '
            f'your browser does not have: run it in <a href="{html.escape(node["notebook"])}">this page\'s '
            'notebook</a>.</p></div>')
    else:
        from ..cells import MAX_OUTPUT_LINES

        self.body.append(f'<div class="mg-cell-bar" data-numpy="false" data-source="{html.escape(node["source"])}" '
                         f'data-max-lines="{MAX_OUTPUT_LINES}" hidden></div>')  # cells.js draws the controls
    raise nodes.SkipNode


def skip(self, node):
    raise nodes.SkipNode


def add_page_assets(app, pagename, templatename, context, doctree):
    if pagename in getattr(app.env, "microgpt_cell_docs", set()):
        app.add_js_file("cells/cells.js", type="module")
        app.add_css_file("cells/cells.css")


def setup_cells(app):
    app.add_node(cell_bar, html=(visit_cell_bar_html, None),
                 **{b: (skip, None) for b in ("latex", "text", "man", "texinfo")})
    app.connect("doctree-read", mark_cells)
    app.connect("html-page-context", add_page_assets)
    track_docs(app, "microgpt_cell_docs")

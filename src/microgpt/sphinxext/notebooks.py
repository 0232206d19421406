"""Every page that runs code is also offered as a notebook that works outside the repository, written beside its
HTML page.

The notebook is made from the page as built, not from its MyST source: prose as plain Markdown (links absolute
to the site), the original's lines as code with their line numbers, each scene as its static picture, and each
code cell with the outputs its page shows. Its first cell says how to install the package the cells import.
Pages without code cells offer no download.
"""

import base64
import html
import json
import posixpath
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

from ..cells import without_glue
from .cells import cell_source, code_cells

logger = logging.getLogger(__name__)

NBFORMAT = {"nbformat": 4, "nbformat_minor": 5}
KERNEL = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
          "language_info": {"name": "python"}}
SVG_NS = "http://www.w3.org/2000/svg"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$|])")  # `$` is math in Jupyter's Markdown


def escape(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def code_span(text: str) -> str:
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str, language: str = "") -> str:
    ticks = "`" * max(3, max((len(m) + 1 for m in re.findall(r"^`+", text, re.M)), default=0))
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}\n\n"


class Markdown:
    """A docutils doctree, as built for HTML, to Markdown cells and code cells."""

    def __init__(self, app, docname: str):
        self.app, self.docname = app, docname
        self.cells: list[dict] = []
        self.text: list[str] = []
        self.attachments: dict = {}
        self.depth = 0
        self.exercises: list[dict] = []  # the page's exercises, for the notebook's end

    def url(self, refuri: str) -> str:
        """Links inside the site become absolute, to the hosted site (the notebook lives elsewhere)."""
        base = (self.app.config.html_baseurl or "").rstrip("/")
        if not base or re.match(r"^[a-z][a-z0-9+.-]*:", refuri) or refuri.startswith("//"):
            return refuri
        page = self.docname + (self.app.config.html_file_suffix or ".html")
        if refuri.startswith("#"):
            return f"{base}/{page}{refuri}"
        return f"{base}/{posixpath.normpath(posixpath.join(posixpath.dirname(page), refuri))}"

    def flush(self):
        text = "".join(self.text).strip()
        if text:
            cell = {"cell_type": "markdown", "metadata": {}, "source": text}
            if self.attachments:
                cell["attachments"] = self.attachments
            self.cells.append(cell)
        self.text, self.attachments = [], {}

    def markdown(self, text: str):
        self.flush()
        self.cells.append({"cell_type": "markdown", "metadata": {}, "source": text})

    def code(self, node: nodes.container):
        """A code cell: its code as the page shows it (without the glue that feeds the prose) and its outputs."""
        self.flush()
        parts = {child.get("nb_element"): child for child in node.children}
        outputs = [self.output(child, node) for child in parts.get("cell_code_output", [])]
        self.cells.append({"cell_type": "code", "execution_count": node.get("exec_count"), "metadata": {},
                           "source": without_glue(cell_source(node) or ""), "outputs": outputs})

    def output(self, node, cell) -> dict:
        """One output as the page shows it (MyST-NB has merged its streams), back in nbformat."""
        classes = set(node.get("classes", []))
        if isinstance(node, nodes.literal_block) and classes & {"stream", "stderr"}:
            return {"output_type": "stream", "name": "stderr" if "stderr" in classes else "stdout",
                    "text": node.astext()}
        if isinstance(node, nodes.literal_block) and "text_plain" in classes:
            return {"output_type": "execute_result", "execution_count": cell.get("exec_count"), "metadata": {},
                    "data": {"text/plain": node.astext()}}
        if isinstance(node, nodes.raw) and "html" in node.get("format", "").split():
            return {"output_type": "display_data", "metadata": {}, "data": {"text/html": node.astext()}}
        logger.warning(f"{self.docname}: an output of cell {cell.get('cell_index')} ({type(node).__name__} "
                       f"{sorted(classes)}) cannot go into the notebook", location=cell, type="microgpt")
        return {"output_type": "stream", "name": "stdout", "text": node.astext()}

    # blocks

    def exercise(self, node):
        """An exercise: its question, hints and solution (folded) as Markdown, then a code cell to fill in whose check
        is a plain call of microgpt.exercises.check, with the output the blank gives. Kept for the notebook's end,
        where the functions a reader writes cannot shadow the names the page's own cells use (softmax, ...)."""
        from ..exercises import check, code, get
        from .exercises import exercise_part

        ex = get(node["id"])
        title, question = node.children[0], node.children[1]
        saved, self.text = self.text, []
        self.text.append(f"**{self.inline(title)}**\n\n{self.inline_blocks(question)}\n\n")
        for part in node.findall(exercise_part):
            summary = "Solution" if part["role"] == "solution" else "Hint"
            self.text.append(f"<details><summary>{summary}</summary>\n\n{self.inline_blocks(part)}\n\n</details>\n\n")
        self.exercises.append({"cell_type": "markdown", "metadata": {}, "source": "".join(self.text).strip()})
        self.text = saved
        blank = code.function_of(ex.starter, ex.starter.split("def ", 1)[1].split("(", 1)[0]) if ex.kind == "code" \
            else None
        result = str(check(ex.id, blank, node["facts"] or {}))  # what the reader sees before filling it in
        output = {"output_type": "execute_result", "execution_count": None, "metadata": {},
                  "data": {"text/plain": result}}
        self.exercises.append({"cell_type": "code", "execution_count": None, "source": ex.notebook_cell(),
                               "metadata": {"microgpt": {"exercise": ex.id}}, "outputs": [output]})

    def block(self, node):
        from .exercises import exercise
        from .original import original_lines
        from .scene import scene_figure

        if isinstance(node, nodes.container) and node.get("nb_element") == "cell_code":
            self.code(node)
        elif isinstance(node, exercise):
            self.exercise(node)
        elif isinstance(node, (nodes.section, nodes.container, nodes.compound, nodes.document)):
            self.depth += isinstance(node, nodes.section)
            for child in node.children:
                self.block(child)
            self.depth -= isinstance(node, nodes.section)
        elif isinstance(node, nodes.title):
            self.text.append(f"{'#' * max(self.depth, 1)} {self.inline(node)}\n\n")
        elif isinstance(node, nodes.rubric):
            self.text.append(f"**{self.inline(node)}**\n\n")
        elif isinstance(node, nodes.paragraph):
            self.text.append(self.inline(node) + "\n\n")
        elif isinstance(node, nodes.literal_block):
            self.text.append(fence(node.astext(), node.get("language", "") if node.get("language") != "default"
                                   else ""))
        elif isinstance(node, original_lines):
            first, last = node["first"], node["last"]
            lines = node.astext().split("\n")
            width = len(str(last))
            numbered = "\n".join(f"{n:{width}d}  {line}".rstrip() for n, line in zip(range(first, last + 1), lines))
            title = f"microgpt.py, line {first}" if first == last else f"microgpt.py, lines {first}–{last}"
            self.text.append(f"*{title}* (the original, verbatim; line numbers on the left)\n\n")
            self.text.append(fence(numbered, "python"))
        elif isinstance(node, scene_figure):
            self.scene(node)
        elif isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
            self.text.append(self.list(node, "") + "\n")
        elif isinstance(node, nodes.definition_list):
            for item in node.children:
                term, definition = item.next_node(nodes.term), item.next_node(nodes.definition)
                self.text.append(f"**{self.inline(term)}**  \n{self.inline_blocks(definition)}\n\n")
        elif isinstance(node, nodes.math_block):
            self.text.append(f"$$\n{node.astext()}\n$$\n\n")
        elif isinstance(node, nodes.raw):
            if "html" in node.get("format", "").split():
                self.text.append(node.astext() + "\n\n")
        elif isinstance(node, nodes.Admonition):
            title = node.next_node(nodes.title)
            name = self.inline(title) if title else type(node).__name__.capitalize()
            body = "".join(self.sub(child) for child in node.children if child is not title).strip()
            self.text.append("\n".join(f"> {line}".rstrip() for line in [f"**{name}**", ""] + body.split("\n")))
            self.text.append("\n\n")
        elif isinstance(node, (nodes.target, nodes.comment, nodes.substitution_definition, nodes.system_message)):
            pass
        elif isinstance(node, nodes.Element) and node.children and all(
                isinstance(c, nodes.Body) or isinstance(c, nodes.Element) and not isinstance(c, nodes.Inline)
                for c in node.children):
            for child in node.children:  # a wrapper of blocks (a theme's or extension's div)
                self.block(child)
        elif isinstance(node, nodes.Element) and node.astext().strip():
            self.text.append(self.inline(node) + "\n\n")

    def sub(self, node) -> str:
        """Markdown of one block, on its own."""
        saved, self.text = self.text, []
        self.block(node)
        out, self.text = "".join(self.text), saved
        return out

    def inline_blocks(self, node) -> str:
        return "".join(self.sub(child) for child in node.children).strip()

    def list(self, node, indent: str) -> str:
        out = []
        for i, item in enumerate(node.children, start=node.get("start", 1)):
            marker = f"{i}. " if isinstance(node, nodes.enumerated_list) else "- "
            body = "".join(self.sub(child) if not isinstance(child, (nodes.bullet_list, nodes.enumerated_list))
                           else self.list(child, indent + " " * len(marker)) for child in item.children).strip()
            lines = body.split("\n")
            out.append(indent + marker + lines[0] + "".join(
                "\n" + (indent + " " * len(marker) + line if line and not line.startswith(indent + " ") else line)
                for line in lines[1:]))
        return "\n".join(out) + "\n"

    def scene(self, node):
        """A scene as its static picture (the figure the page shows without WebGL), with its caption."""
        picture = node["fallback"].strip()
        name = f"scene-{node['scene']}-{len(self.cells)}-{len(self.attachments)}.svg"
        if picture.startswith("<svg"):
            svg = picture if "xmlns=" in picture[:200] else picture.replace("<svg", f'<svg xmlns="{SVG_NS}"', 1)
            self.attachments[name] = {"image/svg+xml": base64.b64encode(svg.encode("utf-8")).decode("ascii")}
            self.text.append(f"![{escape(node['alt'])}](attachment:{name})\n\n")
        else:
            self.text.append(f"{picture}\n\n{escape(node['alt'])}\n\n")
        if node["caption"]:
            self.text.append(f"*{escape(node['caption'])}*\n\n")

    # inline

    def inline(self, node) -> str:
        out = []
        for child in node.children:
            if isinstance(child, nodes.Text):
                out.append(escape(child.astext()))
            elif isinstance(child, nodes.literal):
                out.append(code_span(child.astext()))
            elif isinstance(child, nodes.strong):
                out.append(f"**{self.inline(child)}**")
            elif isinstance(child, nodes.emphasis):
                out.append(f"*{self.inline(child)}*")
            elif isinstance(child, nodes.reference):
                uri = child.get("refuri") or ("#" + child["refid"] if child.get("refid") else "")
                out.append(f"[{self.inline(child)}]({self.url(uri)})" if uri else self.inline(child))
            elif isinstance(child, nodes.math):
                out.append(f"${child.astext()}$")
            elif isinstance(child, nodes.raw):
                out.append(child.astext() if "html" in child.get("format", "").split() else "")
            elif isinstance(child, nodes.image):
                out.append(f"![{escape(child.get('alt', ''))}]({self.url(child['uri'])})")
            elif isinstance(child, (nodes.target, nodes.footnote_reference, nodes.substitution_definition)):
                continue
            elif isinstance(child, nodes.Element):
                out.append(self.inline(child))
        return "".join(out).replace("\n", " ")


def install_cell(app) -> str:
    """The notebook's first cell: how to get the package its cells import."""
    from .live import runtime_manifest

    config = app.config
    base = (config.html_baseurl or "").rstrip("/")
    wheel = runtime_manifest(app)["wheel"]
    where = f"{base}/_static/live/{wheel}" if base else f"_static/live/{wheel} (beside the site's pages)"
    return (f"This notebook is a page of *{escape(config.project)}* ({base or 'the site'}), version {config.release}, "
            "with the outputs it had when the site was built. Its cells import the package `microgpt` "
            "(distribution `microgpt-illustrated`): install it into the Python that runs this notebook, "
            "from the wheel the site was built with, then restart the kernel:\n\n"
            + fence(f'pip install "{where}"', "sh")
            + "or, in a clone of the project's repository, `pip install .` in its root. The cells read `names.txt` "
            "from `$MICROGPT_DATA` if it is set, else download it once (and check its SHA-256).")


def notebook(app, doctree, docname: str) -> dict:
    md = Markdown(app, docname)
    md.markdown(install_cell(app))
    md.block(doctree)
    md.flush()
    if md.exercises:
        md.markdown("## Exercises\n\nPredict, then check: fill in each cell and run it. The checks are the ones the "
                    "page runs, computed by the port on the run the site records.")
        md.cells += md.exercises
    for i, cell in enumerate(md.cells):
        cell["id"] = f"cell-{i}"  # nbformat draws random ids; builds must be reproducible
    return {"cells": md.cells, "metadata": KERNEL, **NBFORMAT}


def write_notebook(app, doctree, docname):
    """The page's notebook beside its HTML, and a download link under its title (HTML builders, pages with code)."""
    if app.builder.format != "html" or not code_cells(doctree):
        return
    target = Path(app.outdir) / (docname + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook(app, doctree, docname), indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    name = target.name
    para = nodes.paragraph(classes=["mg-notebook-link"])
    para += nodes.Text("Run this page yourself: ")
    link = html.escape(name, quote=True)  # `download`: saved as a file, not opened as JSON text
    para += nodes.raw("", f'<a class="reference external mg-download" href="{link}" download>download {link}</a>',
                      format="html")
    para += nodes.Text(" (with its outputs) and open it in Jupyter, after installing the package as its first cell "
                       "says.")
    sections = list(doctree.findall(nodes.section))
    if sections:
        title = sections[0].next_node(nodes.title)
        sections[0].insert(sections[0].index(title) + 1, para)


def setup_notebooks(app):
    app.connect("doctree-resolved", write_notebook)

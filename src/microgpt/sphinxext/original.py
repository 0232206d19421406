"""`microgpt-original`: the original's lines, verbatim, with their true numbers; `microgpt-section-map`: the file."""

import html

from docutils import nodes
from docutils.parsers.rst import directives
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..sections import REFERENCE_LINES, SECTIONS, by_id
from .shared import add_html_node, parse_range, reference_lines, section_doc, section_ids

logger = logging.getLogger(__name__)


class original_lines(nodes.General, nodes.Element):
    """Lines first..last of the original; HTML gets anchors L<N>, other builders a literal block."""


class section_map(nodes.General, nodes.Element):
    """The whole file as its sections, each linking to its page."""


class OriginalDirective(SphinxDirective):
    """```{microgpt-original} model
    :lines: 92-107
    ```"""

    required_arguments = 1
    option_spec = {"lines": directives.unchanged_required}

    def run(self):
        section_id = self.arguments[0]
        if section_id not in section_ids():
            raise self.error(f"unknown section {section_id!r}; sections are {', '.join(section_ids())}")
        section = by_id(section_id)
        first, last = section.first, section.last
        if "lines" in self.options:
            try:
                first, last = parse_range(self.options["lines"], section.first, section.last)
            except ValueError as e:
                raise self.error(f"{e} (section {section_id!r} is lines {section.first}-{section.last})") from None
        node = original_lines(section=section_id, first=first, last=last)
        text = "\n".join(reference_lines(self.env.srcdir, self.config)[first - 1:last])
        node += nodes.literal_block(text, text, language="python", linenos=True, highlight_args={"linenostart": first})
        self.set_source_info(node)
        return [node]


def highlighted_lines(lines: tuple[str, ...]) -> list[str]:
    """Pygments HTML of the whole file, one string per line (multi-line tokens are split per line)."""
    out = highlight("\n".join(lines) + "\n", PythonLexer(), HtmlFormatter(nowrap=True))
    return out.split("\n")[:len(lines)]


def visit_original_html(self, node):
    source = reference_lines(self.builder.srcdir, self.builder.config)
    lines = highlighted_lines(source)
    first, last = node["first"], node["last"]
    own_page = self.builder.current_docname == section_doc(self.builder.config, node["section"])
    href = "" if own_page else section_uri(self.builder, node["section"])  # elsewhere, link to the line's page
    rows = []
    for n in range(first, last + 1):
        anchor = f' id="L{n}"' if own_page else ""  # L<N> only on the section's own page: one per line in the site
        # the number is drawn from data-n (no text for search excerpts or copies) and is no tab stop: the anchors
        # still work, and the block itself is one (microgpt.css: a long line wraps past its indent)
        indent = len(source[n - 1]) - len(source[n - 1].lstrip(" "))  # a wrapped line continues past it
        rows.append(f'<span class="mg-line"{anchor} data-line="{n}" style="--indent:{indent}">'
                    f'<a class="mg-ln" href="{href}#L{n}" '
                    f'aria-label="line {n}" data-n="{n}" tabindex="-1"></a>'
                    f'<span class="mg-src">{lines[n - 1] or " "}</span>\n</span>')
    rows = "".join(rows)
    title = f"microgpt.py, line {first}" if first == last else f"microgpt.py, lines {first}–{last}"
    self.body.append(
        f'<figure class="mg-original" data-section="{node["section"]}" data-first="{first}" data-last="{last}">'
        f'<figcaption class="mg-original-title">{html.escape(title)}</figcaption>'
        f'<div class="highlight"><pre>{rows}</pre></div></figure>')
    raise nodes.SkipNode


def section_uri(builder, section_id: str) -> str:
    return builder.get_relative_uri(builder.current_docname, section_doc(builder.config, section_id))


class SectionMapDirective(SphinxDirective):
    """The original's sections, in order, each a link to its page and its first line."""

    def run(self):
        node = section_map()
        items = nodes.bullet_list()
        for s in SECTIONS:
            text = f"{s.title}: lines {s.first}-{s.last} ({s.module})"
            items += nodes.list_item("", nodes.paragraph(text, text))
        node += items  # what builders other than HTML show
        self.set_source_info(node)
        return [node]


def visit_section_map_html(self, node):
    builder = self.builder
    rows, bar = [], []
    for s in SECTIONS:
        uri = section_uri(builder, s.id)
        lines = f"{s.first}–{s.last}"
        bar.append(f'<a class="mg-map-block" href="{uri}#L{s.first}" style="flex-grow:{len(s.lines)}" '
                   f'data-section="{s.id}" title="{html.escape(s.title)}: lines {lines}">\n'
                   f'<span>{html.escape(s.id)}</span></a>')
        rows.append(f'<tr>\n<td><a href="{uri}">{html.escape(s.title)}</a></td>\n'  # newlines: words apart in
                    f'<td><a href="{uri}#L{s.first}">lines {lines}</a></td>\n'  # search excerpts
                    f'<td>{len(s.lines)}</td>\n<td><code>{s.module}</code></td>\n</tr>\n')
    self.body.append(
        f'<div class="mg-map"><nav class="mg-map-bar" aria-label="microgpt.py, '
        f'{REFERENCE_LINES} lines, by section">{"".join(bar)}</nav>'
        '<div class="mg-map-scroll"><table class="mg-map-table"><thead><tr><th>Section</th>\n'
        '<th>Lines of microgpt.py</th>\n<th>Count</th>\n'
        f'<th>Ported in</th></tr></thead>\n<tbody>{"".join(rows)}</tbody></table></div></div>')
    raise nodes.SkipNode


def check_section_pages(app, env):
    """Every section has its page: citations and the map link there."""
    for s in SECTIONS:
        doc = section_doc(app.config, s.id)
        if doc not in env.found_docs:
            logger.warning(f"section {s.id!r} has no page {doc!r} (microgpt_section_doc)", type="microgpt")


def focusable_code(app, pagename, templatename, context, doctree):
    """Every code block is one tab stop: it scrolls sideways in its own box (site.css), and a keyboard must reach
    it (its line numbers are not tab stops)."""
    if "body" in context:
        body = context["body"]
        context["body"] = body.replace('<div class="highlight"><pre>', '<div class="highlight"><pre tabindex="0">')


def setup_original(app):
    add_html_node(app, original_lines, visit_original_html)
    add_html_node(app, section_map, visit_section_map_html)
    app.add_directive("microgpt-original", OriginalDirective)
    app.add_directive("microgpt-section-map", SectionMapDirective)
    app.connect("env-check-consistency", check_section_pages)
    app.connect("html-page-context", focusable_code)

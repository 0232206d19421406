"""`microgpt-cite`: how to cite one section, as BibTeX and as plain text, from CITATION.cff and the section table;
and, above it, where else to read about the section's lines (`microgpt_further_reading`)."""

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from ..sections import REFERENCE_SHA256, by_id
from .shared import section_doc, section_ids


def citation(config, section_id: str) -> tuple[str, str]:
    """(BibTeX, plain text) for a section: title, version, stable URL with its first line, the original's hash."""
    s = by_id(section_id)
    meta = config.microgpt_citation
    base = (config.microgpt_base_url or config.html_baseurl or "").rstrip("/")
    target = section_doc(config, section_id) + (config.html_file_suffix or ".html")
    url = f"{base}/{target}#L{s.first}" if base else f"{target}#L{s.first}"
    authors = meta.get("authors", [])
    year = str(meta.get("date-released", ""))[:4]
    version = meta.get("version", "")
    title = f"{meta.get('title', 'microgpt, illustrated')}: {s.title} (microgpt.py, lines {s.first}-{s.last})"
    bibtex = "\n".join([
        f"@misc{{microgpt-illustrated-{s.id},",
        f"  title = {{{{{title}}}}},",
        f"  author = {{{' and '.join(authors)}}},",
        f"  year = {{{year}}},",
        f"  version = {{{version}}},",
        f"  url = {{{url}}},",
        f"  note = {{Annotates microgpt.py by Andrej Karpathy, sha256 {REFERENCE_SHA256}}}",
        "}"])
    plain = (f"{', '.join(authors)} ({year}). {title}. Version {version}. {url} "
             f"(microgpt.py sha256 {REFERENCE_SHA256}).")
    return bibtex, plain


class CiteDirective(SphinxDirective):
    """```{microgpt-cite} model
    ```"""

    required_arguments = 1

    def run(self):
        section_id = self.arguments[0]
        if section_id not in section_ids():
            raise self.error(f"unknown section {section_id!r}; sections are {', '.join(section_ids())}")
        bibtex, plain = citation(self.config, section_id)
        box = nodes.container(classes=["mg-cite"])
        reading = [*self.config.microgpt_further_reading.get("*", []),
                   *self.config.microgpt_further_reading.get(section_id, [])]
        if reading:
            para = nodes.paragraph("", "Read further: ")
            for i, (title, url) in enumerate(reading):
                para += nodes.Text(", " if i else "")
                para += nodes.reference(title, title, refuri=url)
            para += nodes.Text(".")
            box += para
        box += nodes.rubric("", "Cite this section")
        box += nodes.literal_block(bibtex, bibtex, language="bibtex")
        box += nodes.paragraph(plain, plain)
        self.set_source_info(box)
        return [box]


def citation_roles(app, pagename, templatename, context, doctree):
    """The bibliography's entries are the items of docutils' `role="list"` (its `doc-biblioentry` role is
    deprecated in DPUB-ARIA 1.1, and a list of anything but list items fails axe's aria-required-children)."""
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def setup_cite(app):
    app.connect("html-page-context", citation_roles)
    app.add_config_value("microgpt_further_reading", {}, "env", types=[dict],
                         description='section id (or "*" for every section) -> [(title, url), ...] that explain it')
    app.add_directive("microgpt-cite", CiteDirective)

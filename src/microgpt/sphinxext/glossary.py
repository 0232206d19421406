"""Glossary terms are linked where a page first uses them: the check that finds unlinked first uses, and the
hover preview of a linked term.

The check reads the glossary page's source for its terms and every other MyST page's prose (as the figure
check reads it, without captions, alt texts and code comments, where a link cannot go) and warns, with file
and line, when a term's first use on the page is not a {term} link. The preview (`glossary.js`) shows, on
hover or focus of a term link, the definition as the built glossary page renders it: nothing is copied.
"""

import re
from functools import cache
from pathlib import Path

from sphinx.util import logging

from .figures import HIDDEN, prose_lines

logger = logging.getLogger(__name__)

GLOSSARY = re.compile(r"^(`{3,}|:{3,})\{glossary\}")
TERM_ROLE = re.compile(r"\{term\}`([^`<]*?)\s*(?:<([^>`]+)>)?`")
LINK_TEXT = re.compile(r"\[[^\]]*\]\([^)]*\)")  # a link's text cannot hold another link
HEADING = re.compile(r"^\s*#{1,6}\s")
CODE_TERM = re.compile(r"`([A-Z]{2,})`")  # an acronym in code (`BOS`) is still the term


def glossary_terms(text: str) -> list[str]:
    """The terms of the first {glossary} directive in a MyST page: its unindented body lines."""
    terms, fence = [], None
    for line in text.splitlines():
        if fence is None:
            m = GLOSSARY.match(line)
            fence = m.group(1) if m else None
        elif line.strip() == fence:
            break
        elif line.strip() and not line[0].isspace() and not line.startswith(":"):
            terms.append(line.strip())
    return terms


def term_pattern(term: str) -> re.Pattern:
    """A term, singular or plural, as a whole word: `logits` finds `logit`, `head` finds `heads`."""
    stem = re.escape(term[:-1] if term.endswith("s") and len(term) > 3 else term)
    return re.compile(rf"(?<![\w`-]){stem}(?:s|es)?(?![\w-])", re.IGNORECASE)


def unlinked_first_uses(text: str, terms: list[str], unchecked=frozenset()) -> list[tuple[int, str]]:
    """(line, term) for each term whose first use in the page's prose is not a {term} link to it."""
    patterns = {t: term_pattern(t) for t in terms if t.lower() not in unchecked}
    pending, found = dict(patterns), []
    for number, line in prose_lines(text, options=(), comments=False):
        if HEADING.match(line):
            continue
        for m in TERM_ROLE.finditer(line):  # a link is a first use, linked
            target = (m.group(2) or m.group(1)).strip().lower()
            for term in [t for t in pending if t.lower() == target]:
                pending.pop(term)
        line = CODE_TERM.sub(lambda m: f" {m.group(1)} " if m.group(1) in terms else m.group(), line)  # `BOS`
        for pattern in [LINK_TEXT, *HIDDEN]:
            line = pattern.sub(lambda m: " " * len(m.group()), line)  # same length: columns stay where they were
        for term, pattern in list(pending.items()):
            if pattern.search(line):
                found.append((number, term))
                pending.pop(term)
    return found


@cache
def _terms(path: Path, mtime: float) -> list[str]:
    return glossary_terms(path.read_text(encoding="utf-8"))


def check_glossary_links(app, docname, source):
    """Warn, at its file and line, about each glossary term whose first use on a page is not linked."""
    glossary = app.config.microgpt_glossary
    path = Path(app.env.doc2path(docname))
    if not glossary or docname == glossary or path.suffix != ".md":
        return
    glossary_path = Path(app.env.doc2path(glossary))
    if not glossary_path.is_file():
        return
    terms = _terms(glossary_path, glossary_path.stat().st_mtime)
    app.env.note_dependency(str(glossary_path))
    unchecked = {t.lower() for t in app.config.microgpt_glossary_unchecked}
    for line, term in unlinked_first_uses(source[0], terms, unchecked):
        logger.warning(f"glossary term {term!r} is first used here without a link: write {{term}}`{term}` "
                       "(or {term}`text <term>`) at its first use", location=(docname, line),
                       type="microgpt", subtype="glossary")


def add_preview(app):
    if app.builder.format == "html" and app.config.microgpt_glossary:
        app.add_js_file("microgpt/glossary.js", type="module")


def setup_glossary(app):
    app.add_config_value("microgpt_glossary", "glossary", "env", types=[str],
                         description="the page holding the glossary ('' turns the check and the preview off)")
    app.add_config_value("microgpt_glossary_unchecked", ["value"], "env", types=[list],
                         description="terms too common in their everyday sense to be checked (linked by hand)")
    app.connect("source-read", check_glossary_links)
    app.connect("builder-inited", add_preview)

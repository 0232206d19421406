"""The one mapping of scene elements to lines: every scene has one, and every scene stands on its page, which
shows every line its elements link to."""

import re

from conftest import DOCS
from microgpt.sections import by_id
from microgpt.sphinxext.scene import LINKS, SCENES

BLOCK = re.compile(r"^```\{microgpt-original\} (\w+)\n((?::\w+:.*\n)*)```", re.M)


def test_every_scene_is_mapped():
    assert set(LINKS) - {"$comment"} == set(SCENES)


def shown_lines(text: str) -> set[int]:
    """The lines of the original a page shows, from its microgpt-original blocks."""
    shown = set()
    for section_id, options in BLOCK.findall(text):
        section = by_id(section_id)
        first, last = section.first, section.last
        if m := re.search(r"^:lines: *(\d+)(?:-(\d+))?", options, re.M):
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        shown |= set(range(first, last + 1))
    return shown


def test_each_scene_stands_on_its_page_beside_every_line_it_links_to():
    placed = {}
    for page in (DOCS / "sections").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"^```\{scene\} (\w+)$", text, re.M):
            placed.setdefault(name, []).append(page.stem)
            lines = {n for ls in LINKS[name]["elements"].values() for n in ls}
            assert lines and lines <= shown_lines(text), (name, page.stem, sorted(lines - shown_lines(text)))
    assert placed == {s: [LINKS[s]["page"]] for s in SCENES}

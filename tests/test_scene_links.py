"""The one mapping of scene elements to lines: every line lies in its scene's section, every scene has one,
and every scene stands on its section's page."""

import re

from conftest import DOCS
from microgpt.sections import by_id
from microgpt.sphinxext.scene import LINKS, SCENES


def test_every_scene_is_mapped():
    assert set(LINKS) - {"$comment"} == set(SCENES)


def test_every_mapped_line_lies_in_its_scenes_section():
    for scene, spec in LINKS.items():
        if scene == "$comment":
            continue
        section = by_id(spec["section"])
        assert spec["elements"], scene
        for element, lines in spec["elements"].items():
            assert lines and all(section.first <= n <= section.last for n in lines), (scene, element, lines)


def test_each_scene_stands_on_its_sections_page():
    placed = {}
    for page in (DOCS / "sections").glob("*.md"):
        for name in re.findall(r"^```\{scene\} (\w+)$", page.read_text(encoding="utf-8"), re.M):
            placed.setdefault(name, []).append(page.stem)
    assert {name: pages for name, pages in placed.items()} == {s: [LINKS[s]["section"]] for s in SCENES}

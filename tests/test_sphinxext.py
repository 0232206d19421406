"""The extension's directives in small throwaway projects: their output, and one located error per bad input."""

import html
import json
import re
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from conftest import REFERENCE

CONF = f"""
extensions = ["microgpt.sphinxext"]
microgpt_reference = {str(REFERENCE)!r}
microgpt_section_doc = "{{id}}"
microgpt_citation = {{"title": "microgpt, illustrated", "authors": ["Contributors"], "version": "0.1.0",
                     "date-released": "2026-11-24"}}
microgpt_base_url = "https://example.org/site"
"""


def make_project(tmp_path: Path, pages: dict[str, str], conf: str = CONF) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(conf, encoding="utf-8")
    pages = {"index": ".. toctree::\n\n   " + "\n   ".join(p for p in pages if p != "index") + "\n", **pages}
    for name, text in pages.items():
        (src / f"{name}.rst").write_text(text, encoding="utf-8")
    return src


def build(src: Path, builder="html") -> tuple[SphinxTestApp, str]:
    app = SphinxTestApp(builder, srcdir=src)
    try:
        app.build()
    finally:
        app.cleanup()
    return app, app.warning.getvalue()


ALL_SECTIONS = {s: f"{s}\n{'=' * len(s)}\n\n.. microgpt-original:: {s}\n" for s in
                ("preamble", "dataset", "tokenizer", "autograd", "parameters", "model", "optimizer", "training",
                 "inference")}


def test_original_lines_anchor_on_their_own_page_only(tmp_path):
    pages = {**ALL_SECTIONS, "elsewhere": "Elsewhere\n=========\n\n.. microgpt-original:: model\n   :lines: 129\n"}
    app, warnings = build(make_project(tmp_path, pages))
    assert warnings == ""
    model = (app.outdir / "model.html").read_text(encoding="utf-8")
    assert re.findall(r'id="L(\d+)"', model) == [str(n) for n in range(92, 146)]
    other = (app.outdir / "elsewhere.html").read_text(encoding="utf-8")
    assert 'id="L129"' not in other and 'href="model.html#L129"' in other


def test_section_map_and_cite(tmp_path):
    pages = {**ALL_SECTIONS, "home": "Home\n====\n\n.. microgpt-section-map::\n\n.. microgpt-cite:: model\n"}
    app, warnings = build(make_project(tmp_path, pages))
    assert warnings == ""
    home = (app.outdir / "home.html").read_text(encoding="utf-8")
    assert home.count('class="mg-map-block"') == 9 and 'href="training.html#L151"' in home
    assert "https://example.org/site/model.html#L92" in home and "lines 92-145" in home


def test_cite_names_further_reading_for_its_section(tmp_path):
    conf = CONF + ('microgpt_further_reading = {"*": [("The post", "https://example.org/post")], '
                   '"model": [("The book", "https://example.org/book")]}\n')
    pages = {**ALL_SECTIONS, "a": "A\n=\n\n.. microgpt-cite:: model\n", "b": "B\n=\n\n.. microgpt-cite:: dataset\n"}
    app, warnings = build(make_project(tmp_path, pages, conf))
    assert warnings == ""
    a, b = ((app.outdir / f"{n}.html").read_text(encoding="utf-8") for n in "ab")
    assert re.search(r'Read further: <a [^>]*href="https://example.org/post"[^>]*>The post</a>, '
                     r'<a [^>]*href="https://example.org/book"[^>]*>The book</a>\.', a), a
    assert 'href="https://example.org/post"' in b and "The book" not in b


def test_text_builder_gets_the_lines(tmp_path):
    app, warnings = build(make_project(tmp_path, ALL_SECTIONS), builder="text")
    assert "for step in range(num_steps):" in (app.outdir / "training.txt").read_text(encoding="utf-8")
    assert warnings == ""


@pytest.mark.parametrize("body, message", [
    (".. microgpt-original:: modle\n", "unknown section 'modle'"),
    (".. microgpt-original:: model\n   :lines: 90-100\n", "line range '90-100' is outside 92-145"),
    (".. microgpt-original:: model\n   :lines: 120-110\n", "line range '120-110' runs backwards"),
    (".. microgpt-original:: model\n   :lines: ten\n", "line range 'ten' is not N or N-M"),
    (".. microgpt-original:: model\n   :colour: red\n", 'unknown option: "colour"'),
    (".. microgpt-original::\n", "1 argument(s) required, 0 supplied"),
    (".. microgpt-cite:: nowhere\n", "unknown section 'nowhere'"),
])
def test_bad_input_is_one_located_error(tmp_path, body, message):
    pages = {**ALL_SECTIONS, "bad": "Bad\n===\n\nText.\n\n" + body}
    _, warnings = build(make_project(tmp_path, pages))
    warnings = re.sub(r"\x1b\[[0-9;]*m", "", warnings)
    assert len(re.findall(r": (ERROR|WARNING|CRITICAL):", warnings)) == 1, warnings
    assert re.match(rf".*bad\.rst:\d+: ERROR: .*{re.escape(message)}", warnings, re.S), warnings
    assert "Traceback" not in warnings


def test_missing_section_page_is_a_warning(tmp_path):
    pages = {k: v for k, v in ALL_SECTIONS.items() if k != "optimizer"}
    _, warnings = build(make_project(tmp_path, pages))
    assert "section 'optimizer' has no page 'optimizer'" in warnings


def test_only_the_original_is_annotated(tmp_path):
    fake = tmp_path / "microgpt.py"
    fake.write_text(REFERENCE.read_text(encoding="utf-8").replace("42", "43"), encoding="utf-8")
    from sphinx.errors import ConfigError

    src = make_project(tmp_path, ALL_SECTIONS, CONF.replace(repr(str(REFERENCE)), repr(str(fake))))
    with pytest.raises(ConfigError, match="is not the original microgpt.py"):
        build(src)


# --- the scene directive -------------------------------------------------------------------------------------

THREE_BUILD = REFERENCE.parent.parent / "node_modules" / "three" / "build"


@pytest.fixture(scope="module")
def short_snapshots(tmp_path_factory, names_path):
    from microgpt.config import GPTConfig, SampleConfig, TrainConfig
    from microgpt.snapshot import SnapshotConfig, export

    out = tmp_path_factory.mktemp("snapshots") / "snaps"
    export(out, GPTConfig(), TrainConfig(num_steps=10), SampleConfig(num_samples=2),
           SnapshotConfig(checkpoint_every=5, probes=("emma",), temperatures=(0.5,)), data=names_path, engine="numpy")
    return out


SCENE_CONF = CONF + f"""
microgpt_snapshot_generate = False
microgpt_three_build = {str(THREE_BUILD)!r}
"""


def scene_project(tmp_path, short_snapshots, body, extra_pages=None):
    import shutil

    pages = {**ALL_SECTIONS, "scenes": "Scenes\n======\n\n" + body, **(extra_pages or {})}
    src = make_project(tmp_path, pages, SCENE_CONF)
    shutil.copytree(short_snapshots, src / "_snapshots")
    return src


GOOD = """.. scene:: training
   :snapshot: _snapshots/training.json
   :lines: 151-185
   :height: 300
   :caption: The loss.
   :alt: Loss per step.
"""


def test_scene_markup_and_assets(tmp_path, short_snapshots):
    app, warnings = build(scene_project(tmp_path, short_snapshots, GOOD))
    assert warnings == ""
    page = (app.outdir / "scenes.html").read_text(encoding="utf-8")
    figure = re.search(r'<figure class="mg-scene"[^>]*>', page).group(0)
    code = re.search(r' data-code="([^"]*)"', figure)
    assert figure.replace(code.group(0), "") == (
        '<figure class="mg-scene" data-scene="training" data-snapshot="_snapshots/training.json" '
        'data-height="300" data-time-axis="true" data-steps="10" '
        'data-links="{&quot;learning_rate&quot;:[175],&quot;loss&quot;:[162,163,164,165,166,167,168,169],'
        '&quot;step&quot;:[152,153,156,184]}" data-lines="151-185">')
    code = json.loads(html.unescape(code.group(1)))  # each linked line: where it is, and its text (the excerpt)
    assert code["175"] == ["training.html#L175",
                           "    lr_t = learning_rate * (1 - step / num_steps) # linear learning rate decay"]
    assert sorted(map(int, code)) == [152, 153, 156, 162, 163, 164, 165, 166, 167, 168, 169, 175, 184]
    assert '<p class="mg-scene-excerpt" data-scene-excerpt data-lines="" role="status" hidden></p>' in page
    assert 'role="group" aria-label="Loss per step." tabindex="0"' in page  # a tab stop before it renders
    assert ('The loss. <span class="mg-caption-source" data-caption-source>Drawn from the run recorded when this '
            'site was built (10 steps).</span>') in page
    assert 'aria-label="Loss per step."' in page and '<svg class="mg-fallback-svg"' in page
    assert 'href="training.html#L151">microgpt.py, lines 151–185</a>' in page
    assert "<script" not in page.split('<figure class="mg-scene"')[1].split("</figure>")[0]  # no inline script
    assert 'src="_static/threejs/scenes.js' in page and 'type="module"' in page
    assert "threejs/scenes.js" not in (app.outdir / "model.html").read_text(encoding="utf-8")  # only where used
    assert (app.outdir / "_snapshots" / "training.json").is_file()
    assert (app.outdir / "_static" / "threejs" / "vendor" / "three-0.187.0" / "three.module.js").is_file()
    importmap = re.search(r'<script type="importmap">(.*?)</script>', page).group(1)
    assert json.loads(importmap) == {"imports": {"three": "./_static/threejs/vendor/three-0.187.0/three.module.js"}}
    assert page.index('type="importmap"') < page.index("threejs/scenes.js")


def test_a_scene_without_caption_takes_its_pages(tmp_path, short_snapshots):
    """Placed elsewhere without a caption, a scene takes the caption, controls, alt text and lines of the scene on
    its own page; the controls show only while the scene is live (scenes.css), never a file path."""
    own = ALL_SECTIONS["training"] + "\n" + GOOD.replace(":caption: The loss.",
                                                         ":caption: The loss.\n   :controls: Move it.")
    app, warnings = build(scene_project(tmp_path, short_snapshots, ".. scene:: training\n",
                                        extra_pages={"training": own}))
    assert warnings == ""
    page = (app.outdir / "scenes.html").read_text(encoding="utf-8")
    assert 'aria-label="Loss per step."' in page and "_snapshots" not in page.split("<figcaption>")[1]
    assert '<span class="mg-caption-controls">Move it.</span>' in page
    assert 'href="training.html#L151">microgpt.py, lines 151–185</a>' in page


def test_scene_doctree(tmp_path, short_snapshots):
    """Regression check of the node the directive emits."""
    src = scene_project(tmp_path, short_snapshots, GOOD)
    app = SphinxTestApp("html", srcdir=src)
    try:
        app.build()
        tree = app.env.get_doctree("scenes")
    finally:
        app.cleanup()
    from microgpt.sphinxext.scene import scene_figure

    (node,) = list(tree.findall(scene_figure))
    assert {k: node[k] for k in ("scene", "snapshot", "height", "lines", "alt", "caption", "steps")} == {
        "scene": "training", "snapshot": "_snapshots/training.json", "height": 300, "lines": "151-185",
        "alt": "Loss per step.", "caption": "The loss.", "steps": 10}
    assert node.astext() == "Loss per step."  # what non-HTML builders show
    assert node.source.endswith("scenes.rst") and node.line == 4


def test_scene_text_fallback(tmp_path, short_snapshots):
    app, warnings = build(scene_project(tmp_path, short_snapshots, GOOD), builder="text")
    assert warnings == "" and "Loss per step." in (app.outdir / "scenes.txt").read_text(encoding="utf-8")


def mutate(path, fn):
    doc = json.loads(path.read_text(encoding="utf-8"))
    fn(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize("body, message, breakage", [
    (".. scene:: trainning\n", "unknown scene 'trainning'", None),
    (".. scene:: training\n   :snapshot: _snapshots/nope.json\n",
     "snapshot '_snapshots/nope.json' does not exist", None),
    (".. scene:: training\n   :snapshot: ../outside.json\n",
     "snapshot path '../outside.json' is outside the docs source", None),
    (".. scene:: training\n   :snapshot: _snapshots/inference.json\n",
     "scene 'training' draws a 'training' snapshot; _snapshots/inference.json is a 'inference' snapshot", None),
    (".. scene:: training\n   :colour: red\n", 'unknown option: "colour"', None),
    (".. scene:: training\n   :height: 20\n", "height must be 120-1200 pixels, got 20", None),
    (".. scene:: training\n   :height: tall\n", 'invalid option value: (option: "height"; value: \'tall\')', None),
    (".. scene::\n", "1 argument(s) required, 0 supplied", None),
    (".. scene:: training\n   :alt:\n", 'invalid option value: (option: "alt"; value: None)', None),
    (".. scene:: training\n   :lines: 190-210\n", ":lines: line range '190-210' is outside 1-200", None),
    (".. scene:: training\n",
     "snapshot _snapshots/training.json has format_version 1; this site reads format_version 3",
     lambda d: d["metadata"].__setitem__("format_version", 1)),
    (".. scene:: training\n", "snapshot _snapshots/training.json: $.loss[0]: '<NaN>' is not of type 'number'",
     lambda d: d["loss"].__setitem__(0, float("nan"))),
    (".. scene:: training\n", "snapshot _snapshots/training.json: $: 'doc' is a required property",
     lambda d: d.pop("doc")),
])
def test_scene_bad_input_is_one_located_error(tmp_path, short_snapshots, body, message, breakage):
    src = scene_project(tmp_path, short_snapshots, "Text.\n\n" + body)
    (tmp_path / "outside.json").write_text("{}", encoding="utf-8")
    if breakage:
        mutate(src / "_snapshots" / "training.json", breakage)
    _, warnings = build(src)
    warnings = re.sub(r"\x1b\[[0-9;]*m", "", warnings)
    assert len(re.findall(r": (ERROR|WARNING|CRITICAL):", warnings)) == 1, warnings
    assert re.match(rf".*scenes\.rst:\d+: ERROR: .*{re.escape(message)}", warnings, re.S), warnings
    assert "Traceback" not in warnings


def test_missing_three_says_npm_ci(tmp_path, short_snapshots):
    from sphinx.errors import ConfigError

    src = scene_project(tmp_path, short_snapshots, GOOD)
    conf = src / "conf.py"
    conf.write_text(conf.read_text().replace(repr(str(THREE_BUILD)), repr(str(tmp_path / "nothing"))))
    with pytest.raises(ConfigError, match="run `npm ci`"):
        build(src)

"""The extension's directives in small throwaway projects: their output, and one located error per bad input."""

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

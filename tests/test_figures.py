"""Figures in prose come from the computation: the check that finds typed ones, and the `computed` role."""

import re
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from conftest import DOCS, REFERENCE, ROOT, TRANSCRIPT
from microgpt.sphinxext.figures import original_constants, stray_figures

CONSTANTS = original_constants(REFERENCE)


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if not {"_build", ".jupyter_cache", "_snapshots"} & set(p.parts))


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_page_takes_its_figures_from_the_computation(page):
    found = stray_figures(page.read_text(encoding="utf-8"), CONSTANTS)
    assert found == [], "\n".join(f"{page.relative_to(ROOT)}:{line}: {figure}" for line, figure in found)


def test_the_allowed_constants_are_the_originals():
    assert {0.01, 0.85, 0.99, 1e-8, 1e-5, 0.08, 16, 4, 1000, 42, 0.5, 20} <= CONSTANTS
    assert {16 // 4, 4 * 16, 200} <= CONSTANTS  # head_dim, the MLP's width, the original's length
    assert 27 not in CONSTANTS and 32033 not in CONSTANTS  # measured from the data: never typed


PAGE = """\
---
kernelspec:
  name: python3 3.11
---

# A page 2.5

The loss falls to 2.4, about 9% of
the way, over 32,033 names and 27 tokens.
Constants may be written: 0.01, 0.85 or 85%, 1e-5, 1000 steps, 0.01/1000, 16 × 64, position 4.
Line refs are not figures: line 129, lines 161–169, lines 112 and 117, [here](model.html#L129).
Nor are names: GPT-2, UTF-8, SHA-256, Python 3.11, 3D.
Nor roles or code: {computed}`first_loss:.4f`, {glue:text}`p:.3f`, `x = 3.14`, <https://x.org/3.7>.
A bar of 10<sup>−12</sup>, and e<sup>−2.4</sup>.

::::{grid} 1 1 2 2
:gutter: 3

:::{grid-item}
:columns: 12 12 7 7
Prose in a grid: 0.123.
```{code-cell} ipython3
print(2.718)
```
:::
::::

```{scene} training
:height: 360
:caption: Falling to 2.2.
:alt: From 3.4.
```

````python
x = 1.5
```
still code: 4.5
```
````

```sh
microgpt run    # what it prints (about 1.5 minutes)
echo '#' 2.5 "#2.5"
```
"""


def test_a_typed_figure_is_found_on_its_line():
    assert stray_figures(PAGE, CONSTANTS) == [
        (6, "2.5"), (8, "2.4"), (8, "9%"), (9, "32,033"), (9, "27"), (14, "1e−12"), (14, "−2.4"),
        (21, "0.123"), (30, "2.2"), (31, "3.4"), (42, "1.5")]


def test_a_figure_in_a_code_comment_is_found():
    """Comments in code are read as prose: a typed timing there slipped past the check once."""
    page = ("```python\nrun.train(1000)  # 1000 steps, about 1.5 minutes\n```\n"
            "```{code-cell} ipython3\nx = 2.5  # 0.01\n```\n")
    assert stray_figures(page, CONSTANTS) == [(2, "1.5")]


CONF = f"""
extensions = ["myst_parser", "microgpt.sphinxext"]
microgpt_reference = {str(REFERENCE)!r}
microgpt_transcript = {str(TRANSCRIPT)!r}
microgpt_bench = {str(ROOT / "benchmarks" / "results.json")!r}
microgpt_section_doc = "index"  # one page stands for every section
"""


def build(tmp_path: Path, page: str) -> tuple[str, str]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    (src / "index.md").write_text(page, encoding="utf-8")
    app = SphinxTestApp("html", srcdir=src)
    try:
        app.build()
    finally:
        app.cleanup()
    warnings = re.sub(r"\x1b\[[0-9;]*m", "", app.warning.getvalue())
    return (app.outdir / "index.html").read_text(encoding="utf-8"), warnings


def test_computed_reads_the_transcript_and_the_bench(tmp_path):
    text = TRANSCRIPT.read_text(encoding="utf-8")
    first = re.search(r"^step +1 / +\d+ \| loss ([\d.]+)$", text, re.M).group(1)
    docs = int(re.search(r"^num docs: (\d+)$", text, re.M).group(1))
    html, warnings = build(tmp_path, "# Home\n\nFirst loss {computed}`first_loss`, of {computed}`num_docs` names, "
                                     "{computed}`first_loss:.2f` rounded, {computed}`numpy_vs_port` times.\n")
    assert warnings == ""
    assert f"First loss <span class=\"mg-computed\">{first}</span>, of " in html
    assert f"{docs:,}" in html and f"{float(first):.2f}" in html


def test_a_typed_figure_fails_the_build_at_its_line(tmp_path):
    _, warnings = build(tmp_path, "# Home\n\nThe loss is {computed}`first_loss`.\n\nIt falls to 2.4.\n")
    assert re.fullmatch(r".*index\.md:5: WARNING: figure '2\.4' is typed into the prose: .*\n", warnings, re.S)
    assert warnings.count("WARNING") == 1


def test_an_unknown_figure_is_one_located_error(tmp_path):
    _, warnings = build(tmp_path, "# Home\n\nThe loss is {computed}`frist_loss`.\n")
    assert re.match(r".*index\.md:3: ERROR: computed: unknown figure 'frist_loss'; figures are .*first_loss",
                    warnings, re.S), warnings
    assert warnings.count("ERROR") == 1 and "Traceback" not in warnings

"""Glossary terms are linked at their first use on each page: the check that finds unlinked ones."""

import re
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from conftest import DOCS, ROOT
from microgpt.sphinxext.glossary import glossary_terms, unlinked_first_uses

TERMS = glossary_terms((DOCS / "glossary.md").read_text(encoding="utf-8"))


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if not {"_build", ".jupyter_cache", "_snapshots"} & set(p.parts)
                  and p.name != "glossary.md")


def test_the_glossary_defines_the_terms_the_issue_named():
    assert {"embedding", "query", "key", "value", "head", "MLP", "ReLU", "one-hot", "argmax", "greedy decoding",
            "momentum", "bias correction", "chain rule", "computation graph", "PCA", "finite difference"} <= set(TERMS)


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_page_links_each_term_at_its_first_use(page):
    found = unlinked_first_uses(page.read_text(encoding="utf-8"), TERMS, {"value"})
    assert found == [], "\n".join(f"{page.relative_to(ROOT)}:{line}: {term}" for line, term in found)


PAGE = """\
# Attention 2

The logit of each head ({term}`attention` is linked).

```python
softmax(logits)  # code is not prose: softmax
```

```{scene} training
:caption: A softmax in a caption cannot hold a link.
```

Then softmax, and the {term}`heads <head>` again, and [a softmax link](x.md) then a later logit.
"""


def test_the_first_unlinked_use_is_found_on_its_line():
    terms = ["attention", "head", "logits", "softmax"]
    assert unlinked_first_uses(PAGE, terms) == [(3, "head"), (3, "logits"), (13, "softmax")]


def test_a_linked_first_use_passes():
    assert unlinked_first_uses("A {term}`logit <logits>`, then logits.\n", ["logits"]) == []


def test_an_unlinked_first_use_fails_the_build_at_its_line(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "microgpt.sphinxext"]\n'
                                 f'microgpt_reference = {str(ROOT / "reference" / "microgpt.py")!r}\n'
                                 'microgpt_section_doc = "index"\n', encoding="utf-8")
    (src / "index.md").write_text("# Home\n\n```{toctree}\nglossary\n```\n\nThe {term}`softmax`.\n\n"
                                  "Its logits.\n", encoding="utf-8")
    (src / "glossary.md").write_text("# Glossary\n\n```{glossary}\nlogits\n  Scores.\n\nsoftmax\n  "
                                     "Probabilities.\n```\n", encoding="utf-8")
    app = SphinxTestApp("html", srcdir=src)
    try:
        app.build()
    finally:
        app.cleanup()
    warnings = re.sub(r"\x1b\[[0-9;]*m", "", app.warning.getvalue())
    assert re.fullmatch(r".*index\.md:9: WARNING: glossary term 'logits' is first used here without a link: .*\n",
                        warnings, re.S), warnings
    assert warnings.count("WARNING") == 1
    html = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert "_static/microgpt/glossary.js" in html and (app.outdir / "_static/microgpt/glossary.js").is_file()


def test_an_acronym_in_code_is_a_use_a_function_name_is_not():
    assert unlinked_first_uses("Start at `BOS`, call `softmax`.\n", ["BOS", "softmax"]) == [(1, "BOS")]

"""The site: builds with -n -W, every line of the original anchored on its page, reproducible, notebooks work."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import DOCS, ROOT
from microgpt.sections import REFERENCE_SHA256, SECTIONS


def test_every_line_is_anchored_once_on_its_sections_page(site):
    for s in SECTIONS:
        page = (site / "sections" / f"{s.id}.html").read_text(encoding="utf-8")
        ids = [int(n) for n in re.findall(r'id="L(\d+)"', page)]
        assert ids == list(s.lines), s.id


def test_original_lines_are_verbatim(site):
    lines = (ROOT / "reference" / "microgpt.py").read_text(encoding="utf-8").splitlines()
    page = (site / "sections" / "model.html").read_text(encoding="utf-8")
    row = re.search(r'id="L129".*?<span class="mg-src">(.*?)</span></span>', page).group(1)
    text = re.sub(r"<[^>]+>", "", row)
    import html

    assert html.unescape(text) == lines[128]


def test_home_links_every_section_range(site):
    page = (site / "index.html").read_text(encoding="utf-8")
    for s in SECTIONS:
        assert f'href="sections/{s.id}.html#L{s.first}"' in page
        assert f"lines {s.first}–{s.last}" in page


def test_every_section_page_can_be_cited(site):
    for s in SECTIONS:
        page = (site / "sections" / f"{s.id}.html").read_text(encoding="utf-8")
        assert "Cite this section" in page and REFERENCE_SHA256 in page
        assert f"sections/{s.id}.html#L{s.first}" in page and f"lines {s.first}-{s.last}" in page


def test_pages_download_as_notebooks(site):
    for s in SECTIONS:
        nb = nbformat.read(site / "sections" / f"{s.id}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert any(c.cell_type == "code" for c in nb.cells), s.id
        assert f'href="{s.id}.ipynb"' in (site / "sections" / f"{s.id}.html").read_text(encoding="utf-8")


def test_executed_outputs_are_the_real_run(site):
    training = (site / "sections" / "training.html").read_text(encoding="utf-8")
    assert "step    1 / 1000 | loss 3.3660" in training and "step 1000 / 1000 | loss 2.6497" in training
    arrays = (site / "arrays.html").read_text(encoding="utf-8")
    assert "byte-identical to reference/microgpt.out.txt: True" in arrays


def test_run_it_yourself_links_the_wheel_the_site_ships_and_the_notebooks_install(site):
    page = (site / "run-it-yourself.html").read_text(encoding="utf-8")
    href = re.search(r'<a class="reference external mg-wheel" href="([^"]+\.whl)" download>', page).group(1)
    assert (site / href).is_file() and href.startswith("_static/live/wheel-")
    first_cell = "".join(nbformat.read(site / "sections" / "model.ipynb", as_version=4).cells[0].source)
    assert href in first_cell


def test_no_page_loads_anything_from_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<script[^>]+src="https?://|<link[^>]+rel="(stylesheet|preload|icon)"[^>]+href="https?://',
                             text), page.name


def test_cells_show_no_build_machinery(site):
    """glue() feeds the prose from the build: the page shows each cell without it, as its notebook does."""
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert '<span class="n">glue</span><span class="p">(' not in text and ">myst_nb<" not in text, page.name


def test_papers_are_cited_where_used_and_listed(site):
    cite = (site / "cite.html").read_text(encoding="utf-8").lower()  # the style sets titles in sentence case
    for title in ("Attention Is All You Need", "Language Models are Unsupervised Multitask Learners",
                  "Adam: A Method for Stochastic Optimization", "Root Mean Square Layer Normalization"):
        assert title.lower() in cite, title
    model = (site / "sections" / "model.html").read_text(encoding="utf-8")
    optimizer = (site / "sections" / "optimizer.html").read_text(encoding="utf-8")
    assert "Vaswani" in model and "Zhang and Sennrich" in model and "Kingma and Ba" in optimizer
    assert 'href="../cite.html#id' in model


@pytest.mark.slow
def test_two_clean_builds_are_byte_identical(site, site_rebuild):
    other = site_rebuild
    files_a = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file())
    assert files_a == files_b
    different = [p for p in files_a if (site / p).read_bytes() != (other / p).read_bytes()]
    assert different == [], "\n".join(first_difference(site / p, other / p) for p in different)


def first_difference(a, b) -> str:
    """Where two builds of a file part, with a few lines of each: what CI shows when a build is not reproducible."""
    import difflib

    lines_a, lines_b = (f.read_text(encoding="utf-8", errors="replace").splitlines() for f in (a, b))
    diff = list(difflib.unified_diff(lines_a, lines_b, "a", "b", n=2, lineterm=""))
    return f"{a.name}:\n" + "\n".join(line[:200] for line in diff[:16])


def test_a_failing_cell_fails_the_build_and_names_the_notebook(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    settings = "\n".join(line for line in conf.splitlines()
                         if line.startswith(("nb_execution_mode", "nb_execution_raise", "nb_execution_show_tb")))
    (src / "conf.py").write_text(f"extensions = ['myst_nb']\n{settings}\n"
                                 f"nb_execution_cache_path = {str(tmp_path / 'cache')!r}\n", encoding="utf-8")
    (src / "index.md").write_text("# Home\n\n```{toctree}\nbroken\n```\n", encoding="utf-8")
    (src / "broken.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n"
        "  display_name: Python 3\n---\n\n# Broken\n\n```{code-cell} ipython3\nraise ValueError('boom')\n```\n",
        encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(src),
                             str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode != 0
    assert f"{src / 'broken.md'}: WARNING: Executing notebook failed" in result.stderr
    assert "Traceback" not in result.stderr
    log = next((tmp_path / "out" / "reports").glob("broken*.log")).read_text(encoding="utf-8")
    assert "ValueError: boom" in re.sub(r"\x1b\[[0-9;]*m", "", log)  # the cell's own error, in the log


def test_cache_key_follows_the_package_source(tmp_path):
    import shutil

    import microgpt
    from microgpt.sphinxext.cache import execution_cache_path, source_key

    package = tmp_path / "microgpt"
    shutil.copytree(Path(microgpt.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    key = source_key(package)
    (package / "sphinxext" / "cite.py").write_text("# the extension does not change executed output\n")
    assert source_key(package) == key
    model = package / "model.py"
    model.write_text(model.read_text() + "\n# an edit\n")
    assert source_key(package) != key
    root = tmp_path / "cache"
    (root / key).mkdir(parents=True)
    assert Path(execution_cache_path(root, package)).name != key and not (root / key).exists()


def test_citation_file_matches_the_package():
    import yaml

    import microgpt

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(cff["version"]) == microgpt.__version__


def test_readthedocs_config_builds_with_warnings_as_errors():
    import yaml

    rtd = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text(encoding="utf-8"))
    assert rtd["sphinx"] == {"configuration": "docs/conf.py", "fail_on_warning": True}
    assert rtd["build"]["tools"]["python"] == "3.11"
    assert json.dumps(rtd).count("--group docs") == 1


def test_the_memory_snapshot_says_what_it_needs(tmp_path, monkeypatch):
    """Without Node, or with a folder that is not Pyodide, the build stops on one error naming the setting, and
    leaves no half-made snapshot behind."""
    from sphinx.errors import ConfigError

    from microgpt.sphinxext import live

    wheel = tmp_path / "port.whl"
    wheel.write_bytes(b"")
    with pytest.raises(ConfigError, match=r"^microgpt_pyodide_dir: making Pyodide's memory snapshot with "
                                          rf"{re.escape(str(tmp_path))} failed: \S"):
        live.make_memory_snapshot(tmp_path, wheel, tmp_path / "out")
    monkeypatch.setattr(live.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match=r"needs Node\.js \(`node` on PATH\)"):
        live.make_memory_snapshot(tmp_path, wheel, tmp_path / "out")
    assert not (tmp_path / "out").exists()

"""What every directive needs: the config values, the original's text, and the HTML-only static assets."""

import hashlib
import os
import shutil
from functools import cache
from pathlib import Path

from sphinx.errors import ConfigError

from ..sections import REFERENCE_LINES, REFERENCE_SHA256, SECTIONS

STATIC = Path(__file__).parent / "static"


def setup_shared(app):
    app.add_config_value("microgpt_reference", "../reference/microgpt.py", "env", types=[str],
                         description="path of the original microgpt.py, relative to the docs source folder")
    app.add_config_value("microgpt_section_doc", "sections/{id}", "env", types=[str],
                         description="docname of each section's page; {id} is the section id")
    app.add_config_value("microgpt_base_url", "", "html", types=[str],
                         description="public URL of the site, for citations (html_baseurl if empty)")
    app.add_config_value("microgpt_citation", {}, "env", types=[dict],
                         description="title, authors, version and date-released (from CITATION.cff)")
    app.connect("config-inited", check_reference)
    app.connect("config-inited", check_data)
    app.connect("builder-inited", add_static_assets)
    app.connect("build-finished", copy_static_assets)


@cache
def _read(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def reference_path(srcdir, config) -> Path:
    return (Path(srcdir) / config.microgpt_reference).resolve()


def reference_lines(srcdir, config) -> tuple[str, ...]:
    """The original's lines; index 0 is line 1."""
    return _read(reference_path(srcdir, config))


def check_reference(app, config):
    """Refuse to annotate anything but the original, byte for byte."""
    path = reference_path(app.srcdir, config)
    if not path.is_file():
        raise ConfigError(f"microgpt_reference: {path} does not exist")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != REFERENCE_SHA256 or len(_read(path)) != REFERENCE_LINES:
        raise ConfigError(f"microgpt_reference: {path} is not the original microgpt.py (sha256 {digest})")


def check_data(app, config):
    """A build that records snapshots needs names.txt: without it, stop at once with one line, not a dump."""
    from ..dataset import DATA_ENV, DataError, resolve_data_path
    from .scene import uses_scenes

    if not (config.microgpt_snapshot_generate and uses_scenes(app)):
        return
    try:
        path = resolve_data_path(hint=f"set {DATA_ENV}=/path/to/names.txt, e.g. {DATA_ENV}=names.txt nox -s docs")
    except DataError as e:
        raise SystemExit(f"microgpt: cannot build the site without names.txt: {e}") from None  # Sphinx lets it by
    os.environ[DATA_ENV] = str(path)  # the notebooks' kernels read the same file


def add_static_assets(app):
    """CSS for the original's lines, for HTML builders only (so a throwaway test project gets it too)."""
    if app.builder.format == "html":
        app.add_css_file("microgpt/microgpt.css")
        # copied before any page is written, so that Sphinx finds it there and adds its cache-busting ?v=
        shutil.copytree(STATIC, Path(app.outdir) / "_static", dirs_exist_ok=True)


def copy_static_assets(app, exception):
    """Copied by hand, not through html_static_path: changing that config would make every build a full one."""
    if exception is None and app.builder.format == "html":
        shutil.copytree(STATIC, Path(app.outdir) / "_static", dirs_exist_ok=True)


def section_doc(config, section_id: str) -> str:
    return config.microgpt_section_doc.format(id=section_id)


def parse_range(text: str, lo: int, hi: int) -> tuple[int, int]:
    """'92-107' or '129' -> (first, last), checked to lie inside lo..hi; ValueError says what is wrong."""
    parts = text.strip().split("-")
    try:
        first, last = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (0, -1)
    except ValueError:
        raise ValueError(f"line range {text!r} is not N or N-M") from None
    if len(parts) not in (1, 2):
        raise ValueError(f"line range {text!r} is not N or N-M")
    if first > last:
        raise ValueError(f"line range {text!r} runs backwards")
    if first < lo or last > hi:
        raise ValueError(f"line range {text!r} is outside {lo}-{hi}")
    return first, last


def section_ids() -> list[str]:
    return [s.id for s in SECTIONS]


def track_docs(app, attribute: str) -> None:
    """Keep env.<attribute>, the set of docnames that use a feature, right when a page is re-read and when
    parallel readers merge their environments."""

    def purge(app, env, docname):
        getattr(env, attribute, set()).discard(docname)

    def merge(app, env, docnames, other):
        setattr(env, attribute, getattr(env, attribute, set()) | (getattr(other, attribute, set()) & set(docnames)))

    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)


def _passthrough(self, node):
    """Builders other than HTML render the node's children: its plain-docutils fallback."""


def add_html_node(app, node_class, visit_html) -> None:
    """A node HTML renders itself (visit_html raises SkipNode) and every other builder shows its children."""
    others = {b: (_passthrough, _passthrough) for b in ("latex", "text", "man", "texinfo")}
    app.add_node(node_class, html=(visit_html, None), **others)

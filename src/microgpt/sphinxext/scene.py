"""`scene`: a Three.js scene drawn from the run's snapshots, beside the lines it illustrates.

    ```{scene} training
    :snapshot: _snapshots/training.json
    :lines: 151-185
    :height: 360
    :caption: The loss of every step.
    :controls: Move the step control to follow training.
    :alt: Loss per training step, falling from 3.4 to about 2.4.
    ```

The caption says what the picture shows; `:controls:` how to work the scene's controls, shown only while the
scene is live (not under its static picture, nor in the notebook); the figure adds which run it draws. A scene
placed without a caption (the scenes and live pages) takes the caption, controls, alt text and lines of the scene
on its own page (scene_links.json's "page").

The directive checks the snapshot when the page is read (it exists, lies in the docs source, follows the schema,
has this site's format version), writes plain markup with data- attributes and a static fallback drawn from the
same data, and registers the scenes' JS and CSS on the pages that use it. The build records the snapshots itself
(keyed on the package's source, like the notebooks' cache), so they are there on every build, cache hits included.
"""

import json
import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ConfigError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..sections import REFERENCE_LINES, section_of
from . import fallbacks
from .shared import add_html_node, parse_range, reference_lines, section_doc, track_docs

logger = logging.getLogger(__name__)

SCENES = {  # scene name -> the kind of snapshot file it draws
    "training": "training",
    "embeddings": "embeddings",
    "attention": "manifest",
    "sampling": "inference",
    "tokens": "manifest",
    "forward": "manifest",
    "autograd": "autograd",
    "adam": "adam",
    "model": "manifest",
}
TIME_AXIS = ("training", "embeddings", "attention", "tokens", "forward", "adam", "model")  # driven by the step control
LINKS = json.loads((Path(__file__).parent / "scene_links.json").read_text(encoding="utf-8"))


class scene_figure(nodes.General, nodes.Element):
    """A scene: HTML gets the figure the JS fills; other builders get its alt text and caption."""


def height(text: str) -> int:
    """Option converter: a height in pixels, 120 to 1200 (a trailing 'px' is allowed)."""
    value = directives.nonnegative_int(text.strip().removesuffix("px"))
    if not 120 <= value <= 1200:
        raise ValueError(f"height must be 120-1200 pixels, got {value}")
    return value


def nonempty(text: str) -> str:
    if not (text or "").strip():
        raise ValueError("must not be empty")
    return text.strip()


class SceneDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"snapshot": nonempty, "height": height, "caption": nonempty, "controls": nonempty,
                   "lines": nonempty, "alt": nonempty}

    def own_page_options(self, name: str) -> dict:
        """The options of the scene on its own page, for a scene placed elsewhere without a caption."""
        doc = section_doc(self.config, LINKS[name]["page"])
        if doc == self.env.docname or "caption" in self.options:
            return {}
        path = Path(self.env.doc2path(doc))
        self.env.note_dependency(str(path))
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        block = (re.search(rf"^```\{{scene\}} {name}\n((?::\w+:.*\n)*)```", text, re.M)  # MyST
                 or re.search(rf"^\.\. scene:: {name}\n((?:[ \t]+:\w+:.*\n)*)", text, re.M))  # reStructuredText
        return dict(re.findall(r"^\s*:(\w+): *(.*)$", block.group(1), re.M)) if block else {}

    def run(self):
        name = self.arguments[0]
        if name not in SCENES:
            raise self.error(f"unknown scene {name!r}; scenes are {', '.join(SCENES)}")
        kind = SCENES[name]
        default = f"{self.config.microgpt_snapshot_dir}/{kind}.json"
        snapshot = self.options.get("snapshot", default)
        path = self.resolve(snapshot)
        doc, manifest = self.load(path, snapshot), self.load(path.parent / "manifest.json", "manifest.json")
        if doc["metadata"]["kind"] != kind:
            raise self.error(f"scene {name!r} draws a {kind!r} snapshot; {snapshot} is a "
                             f"{doc['metadata']['kind']!r} snapshot")
        options = {**self.own_page_options(name), **self.options}
        if "controls" in options and "controls" not in self.options:  # another page's: its code is not on this one
            options["controls"] = re.sub(r", or hover a line[^.]*", "", options["controls"])
        lines = ""
        if "lines" in options:
            try:
                first, last = parse_range(options["lines"], 1, REFERENCE_LINES)
            except ValueError as e:
                raise self.error(f":lines: {e} (microgpt.py has lines 1-{REFERENCE_LINES})") from None
            lines = f"{first}-{last}"
        rel = Path(path).relative_to(Path(self.env.srcdir).resolve()).as_posix()
        alt = options.get("alt", f"The {name} scene.")
        code = {n: reference_lines(self.env.srcdir, self.config)[n - 1]
                for lines_ in LINKS[name]["elements"].values() for n in lines_}
        node = scene_figure(scene=name, snapshot=rel, height=int(options.get("height", 380)), lines=lines, alt=alt,
                            steps=doc["metadata"]["train"]["num_steps"], code=code,
                            caption=options.get("caption", ""), controls=options.get("controls", ""),
                            fallback=spaced(self.fallback(name, doc, manifest, path)))
        node += nodes.paragraph(alt, alt)  # what builders other than HTML show
        self.set_source_info(node)
        self.env.note_dependency(str(path))
        self.env.microgpt_scene_docs = getattr(self.env, "microgpt_scene_docs", set()) | {self.env.docname}
        return [node]

    def resolve(self, snapshot: str) -> Path:
        """The snapshot's path, relative to the docs source; it must stay inside it."""
        src = Path(self.env.srcdir).resolve()
        path = (src / snapshot.lstrip("/")).resolve()
        if not path.is_relative_to(src):
            raise self.error(f"snapshot path {snapshot!r} is outside the docs source ({src})")
        if not path.is_file():
            raise self.error(f"snapshot {snapshot!r} does not exist ({path}); the build records snapshots into "
                             f"{self.config.microgpt_snapshot_dir}/ (microgpt_snapshot_dir)")
        return path

    def load(self, path: Path, shown: str) -> dict:
        """Parse and check one snapshot file; every problem is one located error."""
        from ..snapshot import FORMAT_VERSION, SnapshotError, check_document

        try:
            doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda c: f"<{c}>")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise self.error(f"snapshot {shown}: cannot read: {e}") from None
        version = doc.get("metadata", {}).get("format_version") if isinstance(doc, dict) else None
        if version != FORMAT_VERSION:
            raise self.error(f"snapshot {shown} has format_version {version!r}; this site reads format_version "
                             f"{FORMAT_VERSION}: record it again")
        try:
            check_document(doc, shown)
        except SnapshotError as e:
            raise self.error(f"snapshot {e}") from None
        return doc

    def fallback(self, name: str, doc: dict, manifest: dict, path: Path) -> str:
        vocab = manifest["vocabulary"]
        if name == "training":
            return fallbacks.training(doc, vocab)
        if name == "embeddings":
            return fallbacks.embeddings(doc, vocab)
        if name == "sampling":
            return fallbacks.sampling(doc, vocab, 0.5)
        if name == "autograd":
            return fallbacks.autograd(doc)
        if name == "adam":
            return fallbacks.adam(doc)
        last = path.parent / f"checkpoints/step-{manifest['checkpoints'][-1]:04d}.json"
        checkpoint = self.load(last, last.relative_to(path.parent).as_posix())
        probe = manifest["probes"][0]
        if name == "attention":
            return fallbacks.attention(checkpoint, probe, vocab)
        if name == "tokens":
            return fallbacks.tokens(checkpoint, probe, vocab)
        if name == "model":
            return fallbacks.model(checkpoint, probe, vocab)
        return fallbacks.forward(checkpoint, probe, vocab)


def spaced(markup: str) -> str:
    """A line break after each cell and text of a static picture: a search excerpt (the page's text) reads words,
    not "wtewpelayer0.attn_wq"."""
    return re.sub(r"(</(?:td|th|tr|caption|text)>)", "\\1\n", markup)


def visit_scene_html(self, node):
    import html

    here = posixpath.dirname(self.builder.current_docname)
    url = posixpath.relpath(node["snapshot"], here or ".")
    attrs = {"data-scene": node["scene"], "data-snapshot": url, "data-height": str(node["height"]),
             "data-time-axis": "true" if node["scene"] in TIME_AXIS else "false", "data-steps": str(node["steps"]),
             "data-links": json.dumps(LINKS[node["scene"]]["elements"], sort_keys=True, separators=(",", ":"))}
    code = {}
    for n, text in sorted(node["code"].items()):  # the excerpt's lines: each links to its line on its own page
        doc = self.builder.config.microgpt_section_doc.format(id=section_of(n).id)
        page = "" if doc == self.builder.current_docname else self.builder.get_relative_uri(
            self.builder.current_docname, doc)
        code[n] = [f"{page}#L{n}", text]
    attrs["data-code"] = json.dumps(code, separators=(",", ":"))
    steps = node["steps"]
    source = (f'<span class="mg-caption-source" data-caption-source>Drawn from the run recorded when this site was '
              f'built ({steps} steps).</span>')
    caption = f'{html.escape(node["caption"])} {source}'
    if node["controls"]:
        caption += f' <span class="mg-caption-controls">{html.escape(node["controls"])}</span>'
    if node["lines"]:
        attrs["data-lines"] = node["lines"]
        first, last = (int(x) for x in node["lines"].split("-"))
        page = self.builder.get_relative_uri(self.builder.current_docname,
                                             self.builder.config.microgpt_section_doc.format(id=section_of(first).id))
        span = f"line {first}" if first == last else f"lines {first}–{last}"
        caption += f' <a class="mg-scene-lines" href="{page}#L{first}">microgpt.py, {span}</a>'
    data = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
    alt = html.escape(node["alt"])
    self.body.append(
        f'<figure class="mg-scene" {data}>'
        f'<div class="mg-scene-stage" style="height:{node["height"]}px" role="group" aria-label="{alt}" '
        'tabindex="0"></div>'
        '<p class="mg-scene-excerpt" data-scene-excerpt data-lines="" role="status" hidden></p>'
        f'<div class="mg-scene-fallback">{node["fallback"]}<p class="mg-scene-alt">{alt}</p></div>'
        f'<figcaption>{caption}</figcaption></figure>')
    raise nodes.SkipNode


def uses_scenes(app) -> bool:
    """Does any source file hold a scene directive? (Checked before reading, so only such projects pay.)"""
    pattern = re.compile(r"^\s*(```+\{scene\}|:::+\{scene\}|\.\. scene::)", re.M)
    for path in Path(app.srcdir).rglob("*"):
        if path.suffix in (".md", ".rst") and not {"_build", ".jupyter_cache"} & set(path.parts):
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                return True
    return False


def ensure_snapshots(app):
    """Record the snapshots into the docs source unless the ones there come from this package and data."""
    if not app.config.microgpt_snapshot_generate or not uses_scenes(app):
        return
    import microgpt

    from ..dataset import resolve_data_path
    from ..snapshot import export
    from .cache import source_key

    out = Path(app.srcdir) / app.config.microgpt_snapshot_dir
    data = resolve_data_path()
    key = source_key(Path(microgpt.__file__).parent, data)
    stamp = out / "source-key.txt"
    if stamp.is_file() and stamp.read_text().strip() == key and (out / "manifest.json").is_file():
        return
    logger.info(f"microgpt: recording snapshots of a full run into {out} ...")
    export(out, data=data, engine="numpy")
    stamp.write_text(key + "\n")


def three_build(app) -> tuple[Path, str]:
    """three.js's build folder (from `npm ci`) and its version."""
    build = (Path(app.confdir) / app.config.microgpt_three_build).resolve()
    package = build.parent / "package.json"
    if not (build / "three.module.js").is_file() or not package.is_file():
        raise ConfigError(f"microgpt_three_build: three.js not found at {build}; run `npm ci` in the repository root")
    return build, json.loads(package.read_text(encoding="utf-8"))["version"]


def check_three(app):
    if app.builder.format == "html" and uses_scenes(app):
        three_build(app)


def add_page_assets(app, pagename, templatename, context, doctree):
    """On pages with a scene only: an import map for three.js, the scenes' module and their styles."""
    if pagename not in getattr(app.env, "microgpt_scene_docs", set()):
        return
    _, version = three_build(app)
    static = posixpath.relpath("_static", posixpath.dirname(pagename) or ".")
    static = static if static.startswith("../") else f"./{static}"  # import maps ignore bare "_static/..."
    imports = {"three": f"{static}/threejs/vendor/three-{version}/three.module.js"}
    app.add_js_file(None, body=json.dumps({"imports": imports}), type="importmap", priority=100)
    app.add_js_file("threejs/scenes.js", type="module")
    app.add_css_file("threejs/scenes.css")


def copy_assets(app, exception):
    """Into the built site: the snapshots, and three.js in a folder named after its version."""
    if exception is not None or app.builder.format != "html" or not getattr(app.env, "microgpt_scene_docs", None):
        return
    src = Path(app.srcdir) / app.config.microgpt_snapshot_dir
    dest = Path(app.outdir) / app.config.microgpt_snapshot_dir
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("source-key.txt"))
    build, version = three_build(app)
    vendor = Path(app.outdir) / "_static" / "threejs" / "vendor"
    (vendor / f"three-{version}").mkdir(parents=True, exist_ok=True)
    for name in ("three.module.js", "three.core.js"):
        shutil.copyfile(build / name, vendor / f"three-{version}" / name)
    shutil.copyfile(build.parent / "LICENSE", vendor / f"three-{version}" / "LICENSE")


def setup_scene(app):
    app.add_config_value("microgpt_snapshot_dir", "_snapshots", "env", types=[str],
                         description="folder of the docs source the build records snapshots into")
    app.add_config_value("microgpt_snapshot_generate", True, "env", types=[bool],
                         description="record snapshots at the start of the build (off: use the files there)")
    app.add_config_value("microgpt_three_build", "../node_modules/three/build", "env", types=[str],
                         description="three.js's build folder, relative to the docs folder")
    add_html_node(app, scene_figure, visit_scene_html)
    app.add_directive("scene", SceneDirective)
    app.connect("builder-inited", ensure_snapshots)
    app.connect("builder-inited", check_three)
    app.connect("html-page-context", add_page_assets)
    app.connect("build-finished", copy_assets)
    track_docs(app, "microgpt_scene_docs")

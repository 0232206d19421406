"""`microgpt-live`: the live page's panel, and the browser runtime the build ships (Pyodide, the port's wheel, data).

The form is drawn from the CLI's own options (names, defaults, help), so the page and `microgpt run` cannot
disagree. At the end of an HTML build the runtime is copied into the site, offline and versioned:

    _static/live/vendor/pyodide-<version>/   Pyodide's core, from node_modules (package-lock.json pins it)
    _static/live/wheel-<sha256>/*.whl        the port, built from this source by its own build backend
    _static/live/snapshot-<sha256>/*.gz      Python started and the port imported, as Pyodide's memory snapshot
    _static/live/data/names.txt              the dataset, with its licence
    _static/live/runtime.json                where each file is and how many bytes it weighs

Nothing is fetched until the reader presses a button; the panel says how much will be downloaded.
"""

import hashlib
import html
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from docutils import nodes
from sphinx.errors import ConfigError
from sphinx.util.docutils import SphinxDirective

from ..sections import section_of
from .figures import sources
from .shared import add_html_node, reference_lines, section_doc, track_docs

PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json",
                 "package.json")  # package.json carries Pyodide's licence (MPL-2.0) and version
RUNTIME_DIR = "_static/live"


class live_panel(nodes.General, nodes.Element):
    """The live panel: HTML gets the form and the transcript the JS drives; other builders a note."""


class LiveDirective(SphinxDirective):
    """```{microgpt-live}
    ```"""

    def run(self):
        node = live_panel()
        text = "The live panel trains the port in your browser; it needs the HTML version of this site."
        node += nodes.paragraph(text, text)
        self.set_source_info(node)
        self.env.note_dependency(str(sources(self.env.srcdir, self.config)["bench"][0]))  # the engine's speed-up
        self.env.microgpt_live_docs = getattr(self.env, "microgpt_live_docs", set()) | {self.env.docname}
        return [node]


def print_lines(lines: tuple[str, ...]) -> list[int]:
    """The original's lines that print the transcript (found in the file, not retyped)."""
    return [n for n, text in enumerate(lines, 1) if text.lstrip().startswith("print(")]


FIELD_NOTES = {"temperature": "for Run's final samples; Generate has its own"}  # what a field applies to, on the page
NO_RUN_YET = "Resume and Reset wait for a run: start one above, or with Run or Train."  # live.js reads it here
LEAVING_STOPS = ("Your run trains in this page: leaving or reloading it stops the run after the last step it saved; "
                 "Resume here, or Train in the bar on any other page, goes on.")  # shown while it trains
QUICK_STEPS = 100  # the short preset: a run that shows the loss falling in well under a minute


def engine_field(speedup: float | None) -> str:
    """The engine: the page's two (a select, the page's choice first), and why one would pick either."""
    from ..form import PAGE_ENGINES

    options = "".join(f'<option value="{name}">{html.escape(name)}: {html.escape(text)}</option>'
                      for name, text in PAGE_ENGINES.items())
    faster = f"{speedup:.0f} times faster in the benchmark's browser runtime" if speedup else "much faster"
    why = (f"Both print the same transcript, byte for byte: floats is {faster}, scalar is the original's own "
           "autograd, the one the autograd scene counts.")
    return (f'<div class="mg-live-field mg-live-engine"><label for="mg-live-engine"><code>--engine</code></label>'
            f'<select id="mg-live-engine" name="engine" aria-describedby="mg-live-engine-help">{options}</select>'
            f'<span class="mg-live-help" id="mg-live-engine-help">{html.escape(why)}</span></div>')


def form_fields() -> str:
    """One labelled field per CLI option of the form, with the CLI's default and help."""
    from ..cli import FORM_OPTIONS
    from ..form import form_parser

    actions = {a.option_strings[0].removeprefix("--"): a for a in form_parser()._actions if a.option_strings}
    fields = []
    for name in FORM_OPTIONS:
        action = actions[name]
        mode = "numeric" if action.type is int else "decimal"
        help_text = action.help + (f"; {FIELD_NOTES[name]}" if name in FIELD_NOTES else "")
        fields.append(
            f'<div class="mg-live-field"><label for="mg-live-{name}"><code>--{name}</code></label>'
            f'<input id="mg-live-{name}" name="{name}" type="text" inputmode="{mode}" spellcheck="false" '
            f'autocomplete="off" value="{html.escape(str(action.default))}" '
            f'data-default="{html.escape(str(action.default))}" '
            f'aria-describedby="mg-live-{name}-help">'
            f'<span class="mg-live-help" id="mg-live-{name}-help">{html.escape(help_text)}</span></div>')
    return "".join(fields)


def duration(seconds: float) -> str:
    """A time as the page says it (live.js's `duration` says it the same way)."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def default_estimate() -> str:
    """The default run's size and time on the benchmark's machine: the estimate the page shows before any load."""
    from ..form import PAGE_ENGINE
    from ..live import plan

    p = plan({"engine": PAGE_ENGINE})
    per_step = p["browser_seconds_per_step"]
    return (f"{p['num_params']:,} parameters; about {per_step * 1000:.0f} ms a step {BENCH_BROWSER} "
            f"the {p['engine']} engine): {QUICK_STEPS} steps in about {duration(QUICK_STEPS * per_step)}, "
            f"{p['num_steps']:,} in about {duration(p['num_steps'] * per_step)}.")


BENCH_BROWSER = "in a browser on the benchmark's machine (headless Chromium,"  # live.js says it the same way


SHAPE_FIELDS = ("n-embd", "n-head", "n-layer", "block-size")  # the settings that change a step's graph, so its time


def estimate_data() -> str:
    """What the page estimates from before the runtime loads: the default model's plan on names.txt for each engine
    (live.plan's, from the benchmark), and which fields would change it; live.js scales it by --steps."""
    from ..form import PAGE_ENGINES
    from ..live import plan

    keep = ("num_params", "mean_nodes", "browser_seconds_per_step", "level", "message", "engine")
    engines = {e: {k: v for k, v in plan({"engine": e}).items() if k in keep} for e in PAGE_ENGINES}
    return json.dumps({"engines": engines, "shape": SHAPE_FIELDS}, sort_keys=True, separators=(",", ":"))


def visit_live_html(self, node):
    from ..config import SampleConfig, TrainConfig
    from ..form import MAX_DOCUMENTS_BYTES, MAX_GENERATE_TEMPERATURE

    builder = self.builder
    runtime = runtime_manifest(builder.app)
    lines = reference_lines(builder.srcdir, builder.config)
    printers = []
    for n in print_lines(lines):
        uri = builder.get_relative_uri(builder.current_docname, section_doc(builder.config, section_of(n).id))
        printers.append(f'<li data-line="{n}"><a class="mg-ln" href="{uri}#L{n}" aria-label="line {n}">{n}</a>'
                        f'<code>{html.escape(lines[n - 1].strip())}</code></li>')
    size = runtime["total_bytes"] / 1e6
    bench_path, read_bench = sources(builder.srcdir, builder.config)["bench"]
    speedup = read_bench(bench_path).get("floats_vs_port_pyodide", (None,))[0] if bench_path.is_file() else None
    default_temperature = SampleConfig().temperature
    self.body.append(f'''
<section class="mg-live" data-live-state="idle" aria-labelledby="mg-live-title"
  data-max-temperature="{MAX_GENERATE_TEMPERATURE:g}">
<h2 id="mg-live-title" class="mg-live-title">Run it here</h2>
<p class="mg-live-download">The first button you press, or the first field you type in and leave (or a file you
upload), downloads the Python runtime and this port, <strong>{size:.1f} MB</strong>
(<span data-live="files">{len(runtime["files"])} files</span>, then cached); nothing before. Python then checks
each setting as you leave its field, as Run does. It runs in a background thread of this page and sends nothing
anywhere.</p>
<p class="mg-live-file" id="mg-live-file" role="alert" hidden>This page was opened from a file. The live run needs
the site served over http:
run <code>nox -s docs -- --open</code>, or <code>python -m http.server -d docs/_build/html</code> and open
<code>http://127.0.0.1:8000/live.html</code>.</p>
<div class="mg-live-controls mg-live-start" role="group" aria-label="Start a run">
<button type="button" data-action="preset" data-steps="{QUICK_STEPS}">A quick run: {QUICK_STEPS} steps</button>
<button type="button" data-action="preset" data-preset="original" data-steps="{TrainConfig().num_steps}">
The original's full run:
{TrainConfig().num_steps:,} steps</button>
<button type="button" data-action="stop" hidden>Stop</button>
</div>
<p class="mg-live-why" data-live="start-why" id="mg-live-start-why" hidden></p>
<p class="mg-live-estimate" data-live="estimate" aria-live="polite"
  data-estimate="{html.escape(estimate_data())}">{html.escape(default_estimate())}</p>
<div class="mg-live-status" role="status" aria-live="polite" data-live="status"
  id="mg-live-status">Nothing has run yet.</div>
<p class="mg-live-why" data-live="leaving" id="mg-live-leaving" hidden>{LEAVING_STOPS}</p>
<progress class="mg-live-progress" data-live="progress" max="1" value="0" hidden
  aria-label="Downloading the runtime"></progress>
<div class="mg-live-error" role="alert" data-live="error" hidden></div>
<div class="mg-live-confirm" data-live="confirm" hidden>
<p data-live="confirm-text"></p>
<button type="button" data-action="confirm">Train it anyway</button>
</div>
<div class="mg-live-horizon" data-live="horizon" hidden>
<p data-live="horizon-text" id="mg-live-horizon-text"></p>
<button type="button" data-action="extend">Extend the horizon</button>
</div>
<form class="mg-live-form" novalidate aria-label="The original's settings">
<details class="mg-live-more">
<summary>Settings and documents</summary>
<p class="mg-live-locked" data-live="locked" hidden>These settings belong to your run:
<strong>Reset to change the settings.</strong></p>
<fieldset class="mg-live-settings"><legend>Settings (the options of <code>microgpt run</code>)</legend>
{form_fields()}{engine_field(speedup)}</fieldset>
<fieldset class="mg-live-docs"><legend>Documents (the original's <code>input.txt</code>)</legend>
<label for="mg-live-documents">One document per line; leave empty for names.txt
(at most {MAX_DOCUMENTS_BYTES:,} bytes)</label>
<textarea id="mg-live-documents" name="documents" rows="4" spellcheck="false"
  placeholder="empty: the names of names.txt"></textarea>
<label class="mg-live-upload">Or upload a text file <input type="file" name="upload" accept=".txt,text/plain"
  data-max-bytes="{MAX_DOCUMENTS_BYTES}"></label>
<p class="mg-live-docs-info" data-live="documents-info" aria-live="polite"></p>
<div class="mg-live-dataset-report" data-live="dataset-report" aria-live="polite"></div>
</fieldset>
</details>
<div class="mg-live-controls" role="group" aria-label="Training">
<button type="button" data-action="run">Run</button>
<button type="button" data-action="train" data-steps="1">Train 1 step</button>
<button type="button" data-action="train" data-steps="10">Train 10 steps</button>
<button type="button" data-action="train" data-steps="100">Train 100 steps</button>
<button type="button" data-action="resume" disabled aria-describedby="mg-live-controls-why">Resume</button>
<button type="button" data-action="reset" disabled aria-describedby="mg-live-controls-why">Reset</button>
<p class="mg-live-why" data-live="controls-why" id="mg-live-controls-why">{NO_RUN_YET}</p>
</div>
<div class="mg-live-controls" role="group" aria-label="Generate">
<label for="mg-live-generate-temperature">Temperature for Generate</label>
<input type="range" id="mg-live-generate-range" min="0.05" max="{MAX_GENERATE_TEMPERATURE:g}" step="0.05"
  value="{default_temperature}" aria-label="Temperature (slider)" tabindex="-1">
<input type="text" inputmode="decimal" id="mg-live-generate-temperature" name="generate-temperature"
  value="{default_temperature}" size="5" aria-describedby="mg-live-generate-help">
<span class="mg-live-help" id="mg-live-generate-help">any number in (0, {MAX_GENERATE_TEMPERATURE:g}]</span>
<button type="button" data-action="generate">Generate</button>
</div>
</form>
<div class="mg-live-out">
<div class="mg-live-transcript-box">
<h3 class="mg-live-h">What the original prints</h3>
<pre class="mg-live-transcript" data-live="transcript" tabindex="0" role="region" aria-label="Transcript"></pre>
</div>
<div class="mg-live-printers">
<h3 class="mg-live-h">printed by</h3>
<ol class="mg-live-lines">{"".join(printers)}</ol>
<p class="mg-live-rate" data-live="rate"></p>
</div>
</div>
<figure class="mg-live-curves">
<svg data-live="curves" viewBox="0 0 640 240" role="img" aria-label="Loss and learning rate per step"></svg>
<figcaption>Grey: the loss of each step. Blue: its moving average. Red, dashed: −ln(1/vocab size), the loss
of a uniform guess. Green: the learning rate (its own scale, on the right), which decays linearly to 0 at the
horizon.</figcaption>
</figure>
</section>''')
    raise nodes.SkipNode


def run_step(command: list[str], failure: str, **kwargs) -> str:
    """The stdout of a step of the build; if it fails, a ConfigError: `failure`, then the step's last line."""
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True, **kwargs).stdout
    except subprocess.CalledProcessError as e:
        raise ConfigError(f"{failure}: {((e.stderr or e.stdout).strip().splitlines() or ['no output'])[-1]}") from None


def by_digest(made: Path, dest: Path, prefix: str) -> Path:
    """`made`, copied into dest/<prefix>-<its sha256, 16 hex digits>/: new bytes, a new URL, never a stale cache."""
    target = dest / f"{prefix}-{hashlib.sha256(made.read_bytes()).hexdigest()[:16]}" / made.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(made, target)
    return target


def build_wheel(root: Path, dest: Path) -> Path:
    """The port as a wheel, by the project's own build backend (hatchling), from this source tree."""
    with tempfile.TemporaryDirectory() as tmp:
        code = "import sys, hatchling.build as b; print(b.build_wheel(sys.argv[1]))"
        out = run_step([sys.executable, "-c", code, tmp], f"microgpt_project_root: building the port's wheel in "
                       f"{root} failed", cwd=root).strip().splitlines()[-1]
        return by_digest(Path(tmp) / out, dest, "wheel")


def make_memory_snapshot(pyodide: Path, wheel: Path, dest: Path) -> Path:
    """Python started under Pyodide with the port imported, as a gzipped memory image made by Node with the
    Pyodide the site ships: the worker restores it in a fraction of the time Python takes to start."""
    node = shutil.which("node")
    if node is None:
        raise ConfigError("microgpt_pyodide_dir: making Pyodide's memory snapshot needs Node.js (`node` on PATH), "
                          "which `npm ci` needs too")
    script = Path(__file__).with_name("memory_snapshot.mjs")
    with tempfile.TemporaryDirectory() as tmp:
        made = Path(tmp) / "python.snapshot.gz"
        run_step([node, str(script), str(pyodide), str(wheel), str(made)],
                 f"microgpt_pyodide_dir: making Pyodide's memory snapshot with {pyodide} failed")
        return by_digest(made, dest, "snapshot")


def pyodide_dir(app) -> tuple[Path, str]:
    path = (Path(app.confdir) / app.config.microgpt_pyodide_dir).resolve()
    package = path / "package.json"
    if not all((path / name).is_file() for name in PYODIDE_FILES):
        raise ConfigError(f"microgpt_pyodide_dir: Pyodide not found at {path}; run `npm ci` in the repository root")
    return path, json.loads(package.read_text(encoding="utf-8"))["version"]


def runtime_manifest(app) -> dict:
    """The runtime's files and sizes, computed once per build (the panel states the total before any download)."""
    if getattr(app, "_microgpt_runtime", None) is None:
        app._microgpt_runtime = plan_runtime(app)
    return app._microgpt_runtime


def plan_runtime(app) -> dict:
    """Build the wheel into a staging folder and list every file the browser will fetch."""
    from ..dataset import resolve_data_path

    staging = Path(app.outdir).parent / f".{Path(app.outdir).name}-live"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    pyodide, version = pyodide_dir(app)
    wheel = build_wheel((Path(app.confdir) / app.config.microgpt_project_root).resolve(), staging)
    files = {f"vendor/pyodide-{version}/{name}": pyodide / name for name in PYODIDE_FILES}
    files[wheel.relative_to(staging).as_posix()] = wheel
    snapshot = make_memory_snapshot(pyodide, wheel, staging)
    files[snapshot.relative_to(staging).as_posix()] = snapshot
    files["data/names.txt"] = resolve_data_path()
    files["data/LICENSE-makemore.txt"] = Path(str(resources.files("microgpt").joinpath("LICENSE-makemore.txt")))
    fetched = [name for name in files if not name.endswith(("package.json", ".txt")) or name == "data/names.txt"]
    return {"pyodide": f"vendor/pyodide-{version}/", "pyodide_version": version,
            "wheel": wheel.relative_to(staging).as_posix(), "snapshot": snapshot.relative_to(staging).as_posix(),
            "names": "data/names.txt",
            "files": {name: files[name].stat().st_size for name in fetched},
            "total_bytes": sum(files[name].stat().st_size for name in fetched),
            "_sources": {name: str(path) for name, path in files.items()}, "_staging": str(staging)}


class wheel_link(nodes.Inline, nodes.TextElement):
    """A link to the port's wheel that the build ships: its folder is named by its digest, known when pages are
    written (an incremental build may not re-read the page that links it)."""


def wheel_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """{microgpt-wheel}`link text`: the wheel beside the site's pages (the notebooks' first cell installs it)."""
    env = inliner.document.settings.env
    env.microgpt_wheel_docs = getattr(env, "microgpt_wheel_docs", set()) | {env.docname}
    return [wheel_link(rawtext, text)], []


def visit_wheel_html(self, node):
    wheel = runtime_manifest(self.builder.app)["wheel"]
    up = "../" * self.builder.current_docname.count("/")
    self.body.append(f'<a class="reference external mg-wheel" href="{html.escape(up + RUNTIME_DIR)}/'
                     f'{html.escape(wheel)}" download>{html.escape(node.astext())}</a> '
                     f'(<code>{html.escape(Path(wheel).name)}</code>)')
    raise nodes.SkipNode


def copy_runtime(app, exception):
    """Into the built site: Pyodide, the wheel, names.txt and its licence, and runtime.json."""
    users = set().union(*(getattr(app.env, f"microgpt_{k}_docs", set())  # cells.py, exercises.py's too
                          for k in ("live", "cell", "wheel", "exercise")))
    if exception is not None or app.builder.format != "html" or not users:
        return
    runtime = runtime_manifest(app)
    dest = Path(app.outdir) / RUNTIME_DIR
    for earlier in [p for pattern in ("wheel-*", "snapshot-*", "vendor/pyodide-*") for p in dest.glob(pattern)]:
        shutil.rmtree(earlier, ignore_errors=True)  # an earlier build's wheel, snapshot or Pyodide
    for name, source in runtime["_sources"].items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest / name)
    public = {k: v for k, v in runtime.items() if not k.startswith("_")}
    (dest / "runtime.json").write_text(json.dumps(public, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    shutil.rmtree(runtime["_staging"], ignore_errors=True)


def add_page_assets(app, pagename, templatename, context, doctree):
    """The live page gets the panel's script and styles; every other page a small module that shows the reader's
    run (and loads the runtime) only if the reader has one."""
    live_docs = sorted(getattr(app.env, "microgpt_live_docs", set()))
    if pagename in live_docs:
        app.add_js_file("live/file-protocol.js")
        app.add_js_file("live/live.js", type="module")
        app.add_css_file("live/live.css")
    elif live_docs:
        uri = app.builder.get_relative_uri(pagename, live_docs[0])
        app.add_js_file("live/bar.js", type="module", **{"data-live-page": uri})


def setup_live(app):
    app.add_config_value("microgpt_pyodide_dir", "../node_modules/pyodide", "env", types=[str],
                         description="Pyodide's npm package folder, relative to the docs folder")
    app.add_config_value("microgpt_project_root", "..", "env", types=[str],
                         description="the project's root (its pyproject.toml builds the wheel), relative to docs/")
    add_html_node(app, live_panel, visit_live_html)
    app.add_directive("microgpt-live", LiveDirective)
    app.connect("html-page-context", add_page_assets)
    app.connect("build-finished", copy_runtime)
    track_docs(app, "microgpt_live_docs")
    add_html_node(app, wheel_link, visit_wheel_html)
    app.add_role("microgpt-wheel", wheel_role)
    track_docs(app, "microgpt_wheel_docs")

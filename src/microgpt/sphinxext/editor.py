"""CodeMirror 6, the code editor of the exercises and the runnable cells, from npm, offline and without a bundler.

Each package's ES module (pinned by package-lock.json) is copied into one folder of the built site named after
their versions, its bare imports (`from '@codemirror/state'`) rewritten to the sibling file (`'./codemirror-
state.js'`), so the browser loads them as plain modules with no import map. `_static/editor/editor.json` names
the folder; `_static/editor/editor.js` reads it (without the cache) and loads the editor on the first edit.
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

from sphinx.errors import ConfigError

PACKAGES = {  # import name -> its ES module inside node_modules
    "@codemirror/state": "@codemirror/state/dist/index.js",
    "@codemirror/view": "@codemirror/view/dist/index.js",
    "@codemirror/commands": "@codemirror/commands/dist/index.js",
    "@codemirror/language": "@codemirror/language/dist/index.js",
    "@codemirror/lang-python": "@codemirror/lang-python/dist/index.js",
    "@codemirror/autocomplete": "@codemirror/autocomplete/dist/index.js",
    "@codemirror/streamparser": "@codemirror/streamparser/dist/index.js",
    "@lezer/common": "@lezer/common/dist/index.js",
    "@lezer/highlight": "@lezer/highlight/dist/index.js",
    "@lezer/lr": "@lezer/lr/dist/index.js",
    "@lezer/python": "@lezer/python/dist/index.js",
    "@marijn/find-cluster-break": "@marijn/find-cluster-break/src/index.js",
    "style-mod": "style-mod/src/style-mod.js",
    "w3c-keyname": "w3c-keyname/index.js",
    "crelt": "crelt/index.js",
}
IMPORT = re.compile(r"^((?:import|export)\b[^;]*?\bfrom\s*|import\s*)(['\"])([^'\"]+)\2", re.M)


def flat(name: str) -> str:
    """'@codemirror/state' -> 'codemirror-state.js'."""
    return name.lstrip("@").replace("/", "-") + ".js"


def package_root(node_modules: Path, name: str) -> Path:
    return node_modules / name


def vendor(node_modules: Path) -> tuple[str, dict[str, str]]:
    """The folder's name (from every package's version) and its files, imports rewritten to siblings."""
    versions, files = [], {}
    for name, entry in PACKAGES.items():
        path = node_modules / entry
        meta = package_root(node_modules, name) / "package.json"
        if not path.is_file() or not meta.is_file():
            raise ConfigError(f"microgpt_node_modules: {name} not found at {path}; run `npm ci` in the repository root")
        versions.append(f"{name}@{json.loads(meta.read_text(encoding='utf-8'))['version']}")

        def local(m, name=name):
            target = m.group(3)
            if target not in PACKAGES:
                raise ConfigError(f"{name} imports {target!r}, which the editor does not vendor (editor.PACKAGES)")
            return f"{m.group(1)}{m.group(2)}./{flat(target)}{m.group(2)}"

        files[flat(name)] = IMPORT.sub(local, path.read_text(encoding="utf-8"))
    digest = hashlib.sha256("\n".join(versions).encode()).hexdigest()[:10]
    return f"codemirror-{digest}", files


def copy_editor(app, exception):
    """Into the built site, when a page has exercises or cells: the vendored modules, their licences, editor.json."""
    env = app.env
    if exception is not None or app.builder.format != "html":
        return
    if not (getattr(env, "microgpt_exercise_docs", None) or getattr(env, "microgpt_cell_docs", None)):
        return
    node_modules = (Path(app.confdir) / app.config.microgpt_node_modules).resolve()
    folder, files = vendor(node_modules)
    out = Path(app.outdir) / "_static" / "editor"
    shutil.rmtree(out / "vendor", ignore_errors=True)
    (out / "vendor" / folder).mkdir(parents=True)
    for name, text in files.items():
        (out / "vendor" / folder / name).write_text(text, encoding="utf-8")
    for name in PACKAGES:
        licence = next(package_root(node_modules, name).glob("LICENSE*"), None)
        if licence:
            shutil.copyfile(licence, out / "vendor" / folder / f"LICENSE-{flat(name)[:-3]}")
    (out / "editor.json").write_text(json.dumps({"vendor": f"vendor/{folder}/"}) + "\n", encoding="utf-8")


def setup_editor(app):
    app.add_config_value("microgpt_node_modules", "../node_modules", "env", types=[str],
                         description="npm's node_modules folder (CodeMirror), relative to the docs folder")
    app.connect("build-finished", copy_editor)

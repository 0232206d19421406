"""Figures in prose come from the computation: the `computed` role, and the check that finds hand-typed ones.

    The first loss is {computed}`first_loss`, the NumPy engine {computed}`numpy_vs_port:.0f` times faster.

`computed` reads what the build measured: the original's transcript, the benchmark results and the autograd
snapshot (cells glue their own figures with MyST-NB's `glue`). The check reads the prose of every MyST page
(text outside code, its roles and links; a scene's caption and alt text; the comments in code, which people
read as prose: `# about 1.5 minutes`) and warns, with file and line, about
each number that is neither a constant of the original, a line reference, nor a small count.
"""

import io
import json
import math
import re
import tokenize
from dataclasses import fields
from functools import cache
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

from ..config import GPTConfig, SampleConfig, TrainConfig
from ..sections import REFERENCE_LINES
from .shared import reference_path

logger = logging.getLogger(__name__)

# --- the computed role -------------------------------------------------------------------------------------------


def _transcript(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    head = dict(re.findall(r"^(num docs|vocab size|num params): (\d+)$", text, re.M))
    losses = [float(x) for x in re.findall(r"^step +\d+ / +\d+ \| loss ([\d.]+)$", text, re.M)]
    if len(head) != 3 or not losses:
        raise ValueError("no 'num docs/vocab size/num params' header or no 'step N / M | loss X' lines")
    vocab_size = int(head["vocab size"])
    return {"num_docs": (int(head["num docs"]), ","), "vocab_size": (vocab_size, "d"), "bos": (vocab_size - 1, "d"),
            "num_chars": (vocab_size - 1, "d"),
            "num_params": (int(head["num params"]), ","), "first_loss": (losses[0], ".4f"),
            "last_loss": (losses[-1], ".4f"),
            "uniform_loss": (-math.log(1 / vocab_size), ".4f"), "transcript_lines": (len(text.splitlines()), ",")}


def _bench(path: Path) -> dict:
    bench = json.loads(path.read_text(encoding="utf-8"))
    original, port, numpy = (e["us_per_step"] for e in bench["engines"][:3])  # bench.py writes them first, in order
    steps = TrainConfig().num_steps
    figures = {"original_train_minutes": (original * steps / 60e6, ".1f"),
               "port_train_minutes": (port * steps / 60e6, ".1f"), "numpy_train_s": (numpy * steps / 1e6, ".1f"),
               "original_s_per_step": (original / 1e6, ".2f"), "port_s_per_step": (port / 1e6, ".2f"),
               "numpy_ms_per_step": (numpy / 1e3, ".1f"), "port_vs_original": (original / port, ".1f"),
               "numpy_vs_port": (port / numpy, ",.0f"), "numpy_vs_original": (original / numpy, ",.0f")}
    for row in bench.get("runtimes", []):  # the engines the browser runs, in CPython and under Pyodide
        if row["engine"] == "floats":
            figures["floats_vs_port_cpython"] = (row["speedup_cpython"], ".0f")
            figures["floats_vs_port_pyodide"] = (row["speedup_pyodide"], ".0f")
            figures["floats_pyodide_ms_per_step"] = (row["pyodide_node_us_per_step"] / 1e3, ".1f")
    return figures


def _graph(path: Path) -> dict:
    graph = json.loads(path.read_text(encoding="utf-8"))["step_graph"]
    return {f"graph_{k}": (graph[k], ",") for k in ("nodes", "edges", "depth")}


def sources(srcdir, config) -> dict[str, tuple[Path, object]]:
    """Each file the role reads, and how it turns it into named figures."""
    src = Path(srcdir)
    return {"transcript": ((src / config.microgpt_transcript).resolve(), _transcript),
            "bench": ((src / config.microgpt_bench).resolve(), _bench),
            "snapshot": ((src / config.microgpt_snapshot_dir / "autograd.json").resolve(), _graph)}


@cache
def _read_source(path: Path, mtime: float, reader) -> dict:
    return reader(path)


class ComputedRole(SphinxRole):
    """{computed}`name` or {computed}`name:format`: a figure the build measured, never a typed one."""

    def run(self):
        name, _, spec = self.text.partition(":")
        known, unreadable = [], []
        for source, (path, reader) in sources(self.env.srcdir, self.config).items():
            try:
                figures = _read_source(path, path.stat().st_mtime, reader)
            except (OSError, ValueError, KeyError, TypeError) as e:
                unreadable.append(f"the {source} ({path}: {e})")
                continue
            if name in figures:
                self.env.note_dependency(str(path))
                value, default = figures[name]
                try:
                    text = format(value, spec or default)
                except ValueError as e:
                    return self.problem(f"computed: format {spec!r} for {name!r}: {e}")
                return [nodes.inline(text, text, classes=["mg-computed"])], []
            known += figures
        cannot = f"; cannot read {'; '.join(unreadable)}" if unreadable else ""
        return self.problem(f"computed: unknown figure {name!r}; figures are {', '.join(sorted(known))}{cannot}")

    def problem(self, message: str):
        msg = self.inliner.reporter.error(message, line=self.lineno)
        return [self.inliner.problematic(self.rawtext, self.rawtext, msg)], [msg]


# --- the check ----------------------------------------------------------------------------------------------------

SMALL = 10  # whole numbers up to this are counts and indices a reader checks by eye ("position 4", "two heads")
PROSE_DIRECTIVES = {"grid", "grid-item", "grid-item-card", "card", "glossary", "note", "tip", "important", "warning",
                    "seealso", "admonition", "dropdown", "tab-set", "tab-item", "margin", "sidebar", "topic"}
PROSE_OPTIONS = {"caption", "controls", "alt"}  # of any directive: read by people, so held to the same rule
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}|:{3,})\s*(?:\{([\w:-]+)\})?(.*)$")
OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")
COMMENT = re.compile(r"(?:^|\s)#\s+(.*)$")  # a comment in shell or Python code: `#` after a space, then a space
NUMBER = re.compile(r"(?<![\w.,/#−-])[−-]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][−-]?\d+)?%?(?![\w−])")
HIDDEN = [  # what in a prose line is not prose: replaced by a space before numbers are looked for
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # a role: {computed}`first_loss`, {term}`logits`, {glue:text}`key:.2f`
    re.compile(r"(`+)[^`].*?\1"),  # inline code
    re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+"),  # link targets and bare URLs
    re.compile(r"^\s*\([\w-]+\)=\s*$"),  # a MyST target, (label)=
    re.compile(r"</?[a-zA-Z][^>]*>"),  # HTML tags (their text stays)
    re.compile(r"\b[Ll]ines? \d+(?:\s*[–-]\s*\d+)?(?:(?:,| and| or| to)\s*\d+(?:\s*[–-]\s*\d+)?)*"),  # line refs
    re.compile(r"#L\d+"),
    re.compile(r"\b(?:GPT|UTF|SHA|Python|Sphinx|NumPy|CPython|x86|ES|WCAG|Pyodide)[ -]?[\d.]+\w*"),  # names
    re.compile(r"\d+D\b"),  # 3D
]


@cache
def original_constants(path: Path) -> frozenset[float]:
    """The numbers a reader may type: the original's literals, the config defaults, and the original's length."""
    text = path.read_text(encoding="utf-8")
    literals = {float(t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type == tokenize.NUMBER}
    defaults = {float(getattr(cls(), f.name)) for cls in (GPTConfig, TrainConfig, SampleConfig) for f in fields(cls)}
    derived = {GPTConfig().head_dim, 4 * GPTConfig().n_embd, REFERENCE_LINES}  # head_dim, the MLP's width (line 137)
    return frozenset(literals | defaults | {float(d) for d in derived})


def value_of(figure: str) -> float:
    text = figure.replace("−", "-").replace(",", "")
    return float(text.rstrip("%")) / (100 if text.endswith("%") else 1)


def allowed(figure: str, constants: frozenset[float]) -> bool:
    value = abs(value_of(figure))
    if any(math.isclose(value, c, rel_tol=1e-12) for c in constants):
        return True
    plain = figure.lstrip("−-")
    return plain.isdigit() and int(plain) <= SMALL


def prose_lines(text: str, options=PROSE_OPTIONS, comments: bool = True):
    """(line number, text) for each line of prose in a MyST page: no front matter, code (only its comments), directive
    bodies that are code, or directive options other than those named (a caption or alt text)."""
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":  # front matter
        start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), len(lines))
    stack = []  # open fences: (marker, prose?)
    in_options = False
    for i in range(start, len(lines)):
        line, number = lines[i], i + 1
        fence = FENCE.match(line)
        if stack and fence and not fence.group(3) and not fence.group(4).strip() \
                and fence.group(2)[0] == stack[-1][0][0] and len(fence.group(2)) >= len(stack[-1][0]):
            stack.pop()  # the innermost fence closes
            in_options = False
            continue
        option = OPTION.match(line) if in_options else None
        if option:
            if option.group(1) in options:
                yield number, option.group(2)
            continue
        in_options = False
        if stack and not stack[-1][1]:  # inside code: its comments are prose
            comment = COMMENT.search(line) if comments else None
            if comment:
                yield number, comment.group(1)
            continue
        if fence:
            stack.append((fence.group(2), fence.group(3) in PROSE_DIRECTIVES))
            in_options = bool(fence.group(3))
            continue
        yield number, line


def stray_figures(text: str, constants: frozenset[float]) -> list[tuple[int, str]]:
    """(line, figure) for each number in the prose that no computation produced and the original does not hold."""
    found = []
    for number, line in prose_lines(text):
        line = re.sub(r"\b10<sup>([−-]?\d+)</sup>", r"1e\1", line)  # 10<sup>−12</sup> is 1e-12
        line = re.sub(r"<sup>(.*?)</sup>", r" \1 ", line)  # e<sup>−2.4</sup>: the exponent is a figure
        for pattern in HIDDEN:
            line = pattern.sub(" ", line)
        found += [(number, m.group()) for m in NUMBER.finditer(line) if not allowed(m.group(), constants)]
    return found


def check_figures(app, docname, source):
    """Warn, at its file and line, about every figure typed by hand into a MyST page's prose."""
    path = Path(app.env.doc2path(docname))
    if not app.config.microgpt_check_figures or path.suffix != ".md":
        return
    constants = original_constants(reference_path(app.srcdir, app.config))
    for line, figure in stray_figures(source[0], constants):
        logger.warning(f"figure {figure!r} is typed into the prose: insert it from the computation "
                       "({computed}`name` or {glue:text}`key`), or write a constant of microgpt.py",
                       location=(docname, line), type="microgpt", subtype="figure")


def setup_figures(app):
    app.add_config_value("microgpt_transcript", "../reference/microgpt.out.txt", "env", types=[str],
                         description="what the original prints, relative to the docs source folder")
    app.add_config_value("microgpt_bench", "../benchmarks/results.json", "env", types=[str],
                         description="the benchmark's recorded results (nox -s bench -- --save), relative to docs")
    app.add_config_value("microgpt_check_figures", True, "env", types=[bool],
                         description="warn about figures typed into the prose of MyST pages")
    app.add_role("computed", ComputedRole())
    app.connect("source-read", check_figures)

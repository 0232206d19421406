"""The page's code cells, run in the reader's browser: one namespace per page, output as Jupyter shows it.

The page calls `cells.run(code, number)` through the worker (see `worker.py`) and gets back what the cell printed
(stdout and stderr, in order, its last MAX_OUTPUT_LINES lines), the value of its last expression as IPython's
plain-text display shows it, and a traceback of the reader's own code only when it fails. While the cell runs,
`emit(name, text)` (the worker's) receives each write as it happens, so the page shows output line by line (a
`print` before an endless loop included) and keeps it when the reader stops the cell. `needs_numpy` decides at
build time which cells the browser can run: its Python has no NumPy.
"""

import ast
import builtins
import inspect
import io
import linecache
import pprint
import re
import sys
import traceback
import types
from pathlib import Path

namespace: dict = {}
DISPLAY_WIDTH = 79  # IPython's PlainTextFormatter.max_width
PRETTY_TYPES = (list, tuple, dict, set, frozenset)  # pprint lays these out as IPython's pretty printer does
MAX_OUTPUT_LINES = 1000  # a cell's output keeps its last lines: 20,000 printed lines would be 780,000 px tall


def display_text(value) -> str | None:
    """What a notebook shows for a cell's last value (its text/plain); None shows nothing."""
    if value is None:
        return None
    if type(value) in PRETTY_TYPES:
        return pprint.pformat(value, width=DISPLAY_WIDTH, sort_dicts=False)
    if isinstance(value, type | types.FunctionType | types.BuiltinFunctionType):  # by dotted name, as IPython does
        module = getattr(value, "__module__", None)
        name = getattr(value, "__qualname__", value.__name__)
        name = f"{module}.{name}" if module and module != "builtins" else name
        if isinstance(value, type):
            return name
        try:
            return f"<function {name}{inspect.signature(value)}>"
        except ValueError:
            return f"<function {name}>"
    return repr(value)


class Output:
    """A cell's stdout and stderr: every write kept in order with its stream, the last MAX_OUTPUT_LINES lines only."""

    def __init__(self, emit=None):
        self.chunks: list[dict] = []  # [{"name": "stdout" | "stderr", "text": ...}], consecutive writes merged
        self.lines = 0  # newlines in chunks
        self.dropped = 0  # lines dropped from the start
        self.emit = emit

    def write(self, name: str, text: str) -> None:
        if self.chunks and self.chunks[-1]["name"] == name:
            self.chunks[-1]["text"] += text
        else:
            self.chunks.append({"name": name, "text": text})
        self.lines += text.count("\n")
        if self.lines > 2 * MAX_OUTPUT_LINES:  # trimmed now and then, not at every write
            self.trim()
        if self.emit is not None:
            self.emit(name, text)

    def trim(self) -> None:
        """Drop whole lines from the start until MAX_OUTPUT_LINES are left."""
        extra = self.lines - MAX_OUTPUT_LINES
        while extra > 0:
            text = self.chunks[0]["text"]
            count = text.count("\n")
            if count <= extra:
                self.chunks.pop(0)
            else:
                cut = -1
                for _ in range(extra):
                    cut = text.index("\n", cut + 1)
                self.chunks[0]["text"], count = text[cut + 1:], extra
            extra -= count
            self.lines -= count
            self.dropped += count

    def shown(self) -> dict:
        self.trim()
        n = self.dropped
        note = f"… {n:,} earlier line{'s' if n != 1 else ''} not shown: a cell keeps its last {MAX_OUTPUT_LINES:,}."
        return {"streams": [dict(c) for c in self.chunks], "dropped": n, "note": note if n else ""}


class Streams(io.TextIOBase):
    """stdout or stderr of a cell, written into its Output."""

    def __init__(self, output: Output, name: str):
        self.output, self.name = output, name

    def writable(self):
        return True

    def write(self, text: str) -> int:
        self.output.write(self.name, text)
        return len(text)


def split_last_expression(tree: ast.Module) -> tuple[ast.Module, ast.Expression | None]:
    """The cell's statements, and its last one apart when it is an expression (Jupyter displays its value)."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        return ast.Module(tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)
    return tree, None


def glue(name: str, variable, display: bool = True) -> None:
    """myst_nb.glue where MyST-NB is missing (the browser): the prose already holds the figure; show it if asked."""
    if display and (text := display_text(variable)) is not None:
        print(text)


def without_glue(code: str) -> str:
    """A cell as a reader runs it away from the site's build: without `from myst_nb import glue`, `glue(...)` and
    loops that only glue."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    def is_glue(node) -> bool:
        return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "glue")

    drop = set()
    for node in tree.body:
        if (isinstance(node, ast.ImportFrom) and node.module == "myst_nb" or is_glue(node)
                or isinstance(node, ast.For) and not node.orelse and all(map(is_glue, node.body))):
            drop.update(range(node.lineno, node.end_lineno + 1))
    lines = [line for n, line in enumerate(code.split("\n"), 1) if n not in drop]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def run(code: str, number: int, emit=None) -> dict:
    """Run one cell in the page's namespace: {"streams": [...], "dropped": lines, "note": what to say about them,
    "result": text or None, "error": ... or None}; `emit(name, text)` gets each write as it happens."""
    try:  # the page's cells glue figures for its prose with MyST-NB, which the browser does not have
        import myst_nb  # noqa: F401
    except ImportError:
        sys.modules["myst_nb"] = types.SimpleNamespace(glue=glue)
    filename = f"<cell {number}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)  # for the traceback
    output = Output(emit)
    result = error = None
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Streams(output, "stdout"), Streams(output, "stderr")
    try:
        tree = ast.parse(code, filename)
        body, last = split_last_expression(tree)
        namespace.setdefault("__builtins__", builtins)
        namespace.setdefault("__name__", "__main__")
        exec(compile(body, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, filename, "eval"), namespace)
            if not code.rstrip().endswith(";"):  # a trailing semicolon hides the value, as in Jupyter
                result = display_text(value)
    except BaseException as e:  # the reader's code: anything it raises is its output, never the worker's
        error = {"name": type(e).__name__, "message": str(e), "traceback": reader_traceback(e, filename)}
    finally:
        sys.stdout, sys.stderr = saved
    return {**output.shown(), "result": result, "error": error}


def reader_traceback(error: BaseException, filename: str) -> str:
    """The traceback through the reader's cell only: no frames of this module, the worker or Pyodide."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell ")]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(error)
    return "".join(lines)


def reset() -> None:
    """Start over: a fresh namespace, as a restarted kernel has."""
    namespace.clear()


API = {"run": run, "reset": reset}


# Which cells the browser can run, decided at build time from the code alone.

NUMPY_ENGINES = ("numpy",)  # values of `engine=` (microgpt.run.ENGINES) whose engine is the NumPy one


def modules_needing_numpy() -> set[str]:
    """Modules of this package that import NumPy when they are imported (directly or through each other)."""
    package = Path(__file__).parent
    imports = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports[f"microgpt.{path.stem}"] = {name for node in tree.body for name in imported(node, path.stem)}
    needing = {m for m, names in imports.items() if any(n.split(".")[0] == "numpy" for n in names)}
    while more := {m for m, names in imports.items() if m not in needing and names & needing}:
        needing |= more
    return needing


def imported(node: ast.stmt, module: str = "") -> list[str]:
    """The modules an import statement imports (relative ones resolved inside this package)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = "microgpt" if node.level else ""
        name = ".".join(filter(None, [base, node.module or ""]))
        return [name] + [f"{name}.{alias.name}" for alias in node.names]
    return []


def needs_numpy(sources: list[str]) -> list[bool]:
    """For a page's cells, in order: does each need NumPy (it imports it, asks for the NumPy engine, or uses a name
    that an earlier NumPy cell defined)?"""
    heavy = {"numpy"} | modules_needing_numpy()
    tainted: set[str] = set()
    verdicts = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            verdicts.append(False)  # the browser shows the same SyntaxError the notebook would
            continue
        nodes = list(ast.walk(tree))
        needs = (any(name.split(".")[0] in heavy or name in heavy for n in nodes for name in imported(n))
                 or any(isinstance(n, ast.keyword) and n.arg == "engine" and isinstance(n.value, ast.Constant)
                        and n.value.value in NUMPY_ENGINES for n in nodes)
                 or bool(free_names(tree) & tainted))
        bound = bound_names(tree)
        tainted = tainted | bound if needs else tainted - bound
        verdicts.append(needs)
    return verdicts


def free_names(tree: ast.Module) -> set[str]:
    """Names a cell reads before it binds them itself, statement by statement: what it takes from earlier cells."""
    free, bound = set(), set()
    for statement in tree.body:
        free |= {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound
        bound |= bound_names(ast.Module([statement], type_ignores=[]))
    return free


def bound_names(tree: ast.Module) -> set[str]:
    """Names a cell binds in the namespace: assignments, imports, definitions, loop and with targets."""
    names, todo = set(), list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)  # its body binds names of its own scope, not the page's
        elif not isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            todo.extend(ast.iter_child_nodes(node))
    return names

"""What the browser can train: the size of one training step's graph, the limits on it, and how long a run takes.

The scalar engine builds one `Value` per operation of a step and keeps them all until backward has run, so a
step's time and memory grow with its graph. The live page checks a model against these limits before it sets
it up (the CLI runs any size: it only says what the page would), and estimates a run from the site's benchmark.
"""

import functools
import json
from dataclasses import dataclass
from importlib import resources

from .config import GPTConfig

WARN_NODES = 500_000  # above: the page asks to confirm first (the default model's longest step builds 138,864)
MAX_NODES = 8_000_000  # above: the page refuses (one step's graph would need about 2 GB, a wasm32 heap's size)
MAX_DEPTH = 1_750  # above: refused; the graph's depth is how deep the browser's Python stack must go (a graph
# about 2,100 deep, n_layer 6 with n_embd 32, crashed Pyodide with "Maximum call stack size exceeded"; 1,750 trained)
BYTES_PER_NODE = 226  # peak bytes per node, forward and backward (tracemalloc, CPython 3.11, n_embd 32)
BENCH = "data/bench-results.json"  # the benchmark the build read (nox -s bench -- --save)


def graph_nodes(config: GPTConfig, vocab_size: int, positions: int) -> int:
    """Nodes of the graph one training step builds on a document with `positions` predictions (counted from
    model.py's operations: each linear is nout*(2*nin+1), attention grows with the positions before, leaves are
    the weights the step reads)."""
    n, h, layers, v, t = config.n_embd, config.n_head, config.n_layer, vocab_size, positions
    per_position = layers * (24 * n * n + 22 * n + h + 12) + v * (2 * n + 6) + 4 * n + 10
    attention = layers * (4 * n + 8 * h) * t * (t + 1) // 2
    leaves = layers * 12 * n * n + v * n + 2 * t * n
    return t * per_position + attention + leaves


def help_text() -> str:
    """What `microgpt run --help` says of these limits: they are the live page's, not the command's."""
    return (f"Any size runs here. The live page trains a model only if one training step builds at most "
            f"{MAX_NODES:,} graph nodes, at most {MAX_DEPTH:,} deep (it asks first above {WARN_NODES:,} nodes): "
            "the browser's memory and stack.")


def graph_depth(config: GPTConfig, positions: int) -> int:
    """The longest path from the loss to a leaf in one step's graph, fitted to the recorder's count (within a few
    nodes): each layer adds its chains of sums (about 9 per unit of n_embd) and the attention over the positions."""
    n, layers = config.n_embd, config.n_layer
    return 36 + 2 * n + layers * (28 + 9 * n + 2 * positions)


def positions(docs: list[str], block_size: int) -> tuple[float, int]:
    """Mean and largest number of predictions per step over the documents (line 158: BOS + doc + BOS, cut)."""
    counts = [min(block_size, len(doc) + 1) for doc in docs]
    return sum(counts) / len(counts), max(counts)


@dataclass(frozen=True)
class Plan:
    """A model's size against the limits, and the time the benchmark's machine would take per step."""

    num_params: int
    nodes: int  # per step, on the longest document
    depth: int  # of that step's graph
    mean_nodes: int  # per step, on an average document
    level: str  # "ok", "warn" (confirm first) or "refuse"
    message: str  # why, with the limit; empty when ok
    bench_seconds_per_step: float  # the port in CPython on the benchmark's machine; the browser is slower
    browser_seconds_per_step: float  # the same, scaled by how much slower the bench found the live page for the engine

    def as_dict(self) -> dict:
        return {**self.__dict__, "max_nodes": MAX_NODES, "warn_nodes": WARN_NODES, "max_depth": MAX_DEPTH}


@functools.cache
def bench() -> dict:
    """The benchmark the build read, read once per process (every plan asks it)."""
    return json.loads(resources.files("microgpt").joinpath(BENCH).read_text(encoding="utf-8"))


@functools.cache
def bench_seconds_per_node() -> float:
    """The scalar port's time per graph node on the benchmark's machine (its default model on names.txt), worked
    out once per process: it reads names.txt, and the page plans on every change of a setting."""
    from .dataset import load_docs, resolve_data_path

    engines = bench()["engines"]
    port = next(e for e in engines if "scalar port" in e["name"])
    config = GPTConfig()
    docs = load_docs(resolve_data_path())
    mean, _ = positions(docs, config.block_size)
    vocab_size = len(set("".join(docs))) + 1
    return port["us_per_step"] / 1e6 / graph_nodes(config, vocab_size, round(mean))


def engine_speedup(engine: str) -> float:
    """How many times faster than the scalar port `engine` ran in the benchmark (CPython, the same run)."""
    return next((r["speedup_cpython"] for r in bench()["runtimes"] if r["engine"] == engine), 1.0)


def browser_factor(engine: str) -> float:
    """How many times longer a step of `engine` took on the live page in headless Chromium than in CPython, in the
    benchmark (the same machine, one run); 1 when the benchmark did not time the page."""
    page = next((r for r in bench().get("browser", []) if r["engine"] == engine), None)
    cpython = next((r for r in bench()["runtimes"] if r["engine"] == engine), None)
    return 1e6 / page["steps_per_s"] / cpython["cpython_us_per_step"] if page and cpython else 1.0


def plan(config: GPTConfig, vocab_size: int, docs: list[str], num_params: int, engine: str = "scalar") -> Plan:
    """Check a model against the limits (the Value graph's, kept for every engine as a bound on its size); the
    message names the limit and why. The time per step is the benchmark's, for `engine`."""
    mean, longest = positions(docs, config.block_size)
    nodes = graph_nodes(config, vocab_size, longest)
    depth = graph_depth(config, longest)
    memory = nodes * BYTES_PER_NODE / 1e9
    seconds = bench_seconds_per_node() * graph_nodes(config, vocab_size, round(mean)) / engine_speedup(engine)
    if nodes > MAX_NODES:
        level = "refuse"
        message = (f"this model builds {nodes:,} graph nodes in a training step (about {memory:.1f} GB of memory); "
                   f"the page trains at most {MAX_NODES:,}, beyond which the browser runs out of memory or takes "
                   "minutes a step. Make it smaller (--n-embd, --n-layer, --block-size), or run it with "
                   "`microgpt run` on your own machine")
    elif depth > MAX_DEPTH:
        level = "refuse"
        message = (f"this model's training step builds a graph {depth:,} nodes deep; the page trains graphs at most "
                   f"{MAX_DEPTH:,} deep, beyond which the browser's Python runs out of stack. Use fewer layers "
                   "(--n-layer) or a smaller --n-embd, or run it with `microgpt run` on your own machine")
    elif nodes > WARN_NODES:
        level = "warn"
        message = (f"this model builds {nodes:,} graph nodes in a training step, over the {WARN_NODES:,} the page "
                   f"trains comfortably: a step takes {seconds:.1f} s on average on the benchmark's machine "
                   f"(longer in a browser) and up to {memory:.1f} GB of memory")
    else:
        level, message = "ok", ""
    return Plan(num_params, nodes, depth, graph_nodes(config, vocab_size, round(mean)), level, message, seconds,
                seconds * browser_factor(engine))

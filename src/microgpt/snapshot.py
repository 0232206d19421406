"""Record a run for the site's scenes: JSON files with a schema, rounded so two exports are byte-identical.

Files (each with a `metadata` block; `manifest.json` lists them all):
- training.json: loss, learning rate and document of every step;
- embeddings.json: wte of every checkpoint projected to 3D with one fixed PCA basis;
- checkpoints/step-NNNN.json: every matrix of state_dict and a full forward trace of each probe word at that step;
- inference.json: every sampled name, position by position: probabilities, the random draw, token, argmax;
- autograd.json: a small expression's Value graph with data and gradients, and the size of a real step's graph;
- adam.json: value, gradient, moments and update of a few parameters at every step.
"""

import functools
import hashlib
import json
import math
import random
import shutil
import tempfile
from bisect import bisect
from dataclasses import asdict
from importlib import resources
from itertools import accumulate
from pathlib import Path

import numpy as np

from . import __version__
from .autograd import Value, topological_order
from .config import ConfigError, GPTConfig, SampleConfig, SnapshotConfig, TrainConfig
from .dataset import resolve_data_path
from .inference import draw, sample
from .model import softmax
from .numpy_engine import forward
from .parameters import matrix_views, state_dict_shapes
from .run import Run
from .sections import REFERENCE_SHA256
from .training import document_tokens

FORMAT_VERSION = 1
SIGNIFICANT_DIGITS = 4


TRACE_LAYER_KEYS = ("xn", "q", "k", "v", "attn_weights", "x_attn", "attn_out", "x_mid", "xn2", "h", "h_relu",
                    "mlp_out")  # per layer, in the order gpt() computes them; x_out is added after


class SnapshotError(ValueError):
    """A snapshot file that does not follow the schema; the message names the file and the JSON path."""


# --- writing -----------------------------------------------------------------------------------------------

def rounded(x):
    """Floats to SIGNIFICANT_DIGITS significant digits, recursively; arrays to lists; -0.0 to 0.0."""
    if isinstance(x, np.ndarray):
        return rounded(x.tolist())
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if not math.isfinite(x):
            raise SnapshotError(f"a non-finite number ({x}) cannot be recorded")
        return float(f"{x:.{SIGNIFICANT_DIGITS}g}") + 0.0
    if isinstance(x, dict):
        return {str(k): rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [rounded(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    return x


def tensor(a) -> dict:
    a = np.asarray(a, dtype=float)
    return {"shape": list(a.shape), "data": a.ravel()}


def dumps(doc: dict) -> str:
    """Canonical JSON: rounded, keys sorted, compact, no NaN."""
    return json.dumps(rounded(doc), sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False) + "\n"


# --- reading and checking ----------------------------------------------------------------------------------

def schema() -> dict:
    return json.loads(resources.files("microgpt").joinpath("snapshot.schema.json").read_text(encoding="utf-8"))


@functools.cache
def validator():
    """One validator for every file checked (jsonschema is imported only when something is checked)."""
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


class _NotANumber(str):
    """What NaN/Infinity parse to: a string, so the schema's number type rejects it at its own path."""


def json_path(path) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def check_document(doc, name: str) -> None:
    """Schema, then what a schema cannot say: each tensor's data has prod(shape) numbers."""
    from jsonschema.exceptions import best_match

    error = best_match(validator().iter_errors(doc))
    if error is not None:
        raise SnapshotError(f"{name}: {json_path(error.absolute_path)}: {error.message}")

    def walk(node, path):
        if isinstance(node, dict):
            if set(node) == {"shape", "data"} and math.prod(node["shape"]) != len(node["data"]):
                raise SnapshotError(f"{name}: {json_path(path)}: shape {node['shape']} needs "
                                    f"{math.prod(node['shape'])} numbers, data has {len(node['data'])}")
            for k, v in node.items():
                walk(v, [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*path, i])

    walk(doc, [])


def load(path: Path):
    """A snapshot file, parsed and checked against the schema."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_NotANumber)
    except (OSError, UnicodeDecodeError) as e:
        raise SnapshotError(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{path}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
    check_document(doc, str(path))
    return doc


def check_dir(directory: Path) -> list[Path]:
    """Every file the manifest lists, checked; the first problem raises with its file and JSON path."""
    directory = Path(directory)
    manifest = load(directory / "manifest.json")
    if manifest["metadata"]["kind"] != "manifest":
        raise SnapshotError(f"{directory / 'manifest.json'}: $.metadata.kind: expected 'manifest'")
    paths = [directory / "manifest.json"]
    for name in manifest["files"]:
        path = directory / name
        if not path.is_file():
            raise SnapshotError(f"{path}: listed in manifest.json but missing")
        load(path)
        paths.append(path)
    return paths


# --- recording ---------------------------------------------------------------------------------------------

def checkpoint_steps(num_steps: int, every: int) -> list[int]:
    if every < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {every}")
    return sorted({*range(0, num_steps + 1, every), num_steps})


def param_index(name: str, run: Run) -> int:
    """Position in `params` of a parameter written like "wte[BOS][0]" or "lm_head[a][3]"."""
    matrix, _, rest = name.partition("[")
    row, col = rest.rstrip("]").split("][")
    shapes = state_dict_shapes(run.config, run.tokenizer.vocab_size)
    if matrix not in shapes:
        raise ValueError(f"unknown parameter matrix {matrix!r} in {name!r}")
    vocab = {"BOS": run.tokenizer.BOS, **{ch: i for i, ch in enumerate(run.tokenizer.uchars)}}
    r = vocab[row] if row in vocab and matrix in ("wte", "lm_head") else int(row)
    c = int(col)
    rows, cols = shapes[matrix]
    if not (0 <= r < rows and 0 <= c < cols):
        raise ValueError(f"{name!r} is outside {matrix}'s shape ({rows}, {cols})")
    index = np.arange(sum(nr * nc for nr, nc in shapes.values()))
    return int(matrix_views(index, run.config, run.tokenizer.vocab_size)[matrix][r, c])


def arrays_of(run: Run) -> dict:
    """The engine's parameters as float64 arrays keyed by state_dict name (a copy)."""
    return matrix_views(np.asarray(run.engine.weights(), dtype=float), run.config, run.tokenizer.vocab_size)


def trace(sd: dict, config: GPTConfig, tokens: list[int]) -> dict:
    """Every intermediate of gpt() for one document (numpy_engine.forward, checked equal to the scalar code)."""
    n = min(config.block_size, len(tokens) - 1)
    with np.errstate(all="ignore"):
        acts = forward(sd, config, tokens, n)
    layers = [{k: tensor(acts[li][k]) for k in TRACE_LAYER_KEYS} for li in range(config.n_layer)]
    for li, layer in enumerate(layers):  # x_out: what the layer hands on (the next layer's input, or lm_head's)
        layer["x_out"] = tensor(acts[li + 1]["x_in"] if li + 1 < config.n_layer else acts["x_out"])
    return {"tokens": acts["tokens"].tolist(), "targets": acts["targets"].tolist(), "x0": tensor(acts["x0"]),
            "x_norm0": tensor(acts["x_norm0"]), "layers": layers, "logits": tensor(acts["logits"]),
            "probs": tensor(acts["probs"]), "losses": acts["losses"], "loss": float(acts["loss"])}


def pca_basis(points: np.ndarray):
    """Mean, (3, C) basis with deterministic signs (largest loading positive) and explained variance ratios."""
    mean = points.mean(axis=0)
    _, s, vt = np.linalg.svd(points - mean, full_matrices=False)
    basis = vt[:3]
    for row in basis:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    var = s**2
    return mean, basis, (var[:3] / var.sum())


def label_ops(root: Value, names: dict) -> list[dict]:
    """The graph below root as nodes in topological order, each op recovered from its local gradients."""
    topo = topological_order(root)
    ids = {v: i for i, v in enumerate(topo)}
    nodes = []
    for v in topo:
        c = v._children
        if not c:
            op = "input" if v in names else "const"
        elif len(c) == 2:
            op = "+" if v._local_grads == (1, 1) else "*"
        elif v.data == math.exp(c[0].data) and v._local_grads[0] == v.data:
            op = "exp"
        elif c[0].data > 0 and v.data == math.log(c[0].data):
            op = "log"
        elif v.data == max(0, c[0].data) and v._local_grads[0] in (0.0, 1.0):
            op = "relu"
        else:
            op = "**"
        label = names.get(v, {"input": "", "const": f"{v.data:g}"}.get(op, op))
        nodes.append({"id": ids[v], "op": op, "label": label, "data": float(v.data), "grad": float(v.grad),
                      "children": [ids[ch] for ch in c], "local_grads": [float(g) for g in v._local_grads]})
    return nodes


def autograd_record(run: Run) -> dict:
    """A cross-entropy on three logits, the model's last step in miniature; and a real step's graph size."""
    logits = [Value(1.0), Value(2.0), Value(-0.5)]
    names = {v: f"logit[{i}]" for i, v in enumerate(logits)}
    loss = -softmax(logits)[1].log()
    loss.backward()
    nodes = label_ops(loss, names)

    from .scalar import ScalarEngine  # one real step's graph, as the original builds it at step 1

    engine = ScalarEngine(run.config, run.train_config, run.tokenizer.vocab_size, random.Random(run.train_config.seed))
    tokens, n = document_tokens(run.tokenizer, run.docs[0], run.config.block_size)
    step_loss = engine.loss(tokens, n)
    topo = topological_order(step_loss)
    depth = {}
    for v in topo:
        depth[v] = 1 + max((depth[c] for c in v._children), default=-1)
    return {"expression": "-log(softmax([logit[0], logit[1], logit[2]])[1])", "nodes": nodes,
            "output": nodes[-1]["id"],
            "step_graph": {"doc": run.docs[0], "nodes": len(topo), "edges": sum(len(v._children) for v in topo),
                           "leaves": sum(1 for v in topo if not v._children), "depth": depth[step_loss]}}


def sample_record(run: Run, temperature: float, num_samples: int) -> list[dict]:
    """Samples as the original draws them (inference.sample), and at each position what the draw saw."""
    seen = []  # one entry per draw, in order

    def recording_draw(rng, probs):
        state = rng.getstate()
        u = rng.random()  # the number random.choices is about to draw
        rng.setstate(state)
        token_id = draw(rng, probs)
        cum = list(accumulate(probs))
        assert bisect(cum, u * cum[-1], 0, len(probs) - 1) == token_id  # the draw explains the choice
        seen.append({"probs": probs, "draw": u, "token": token_id, "argmax": int(np.argmax(probs))})
        return token_id

    samples = []
    for _ in range(num_samples):
        start = len(seen)
        name = sample(run.engine, run.tokenizer, run.rng, temperature, run.config.block_size, draw=recording_draw)
        samples.append({"name": name, "positions": seen[start:]})
    return samples


def record(run: Run, sample: SampleConfig, snap: SnapshotConfig, progress=None) -> dict[str, dict]:
    """Train the run to its horizon, recording as it goes; returns file name -> document (without metadata)."""
    num_steps = run.train_config.num_steps
    steps = checkpoint_steps(num_steps, snap.checkpoint_every)
    probes = {w: run.tokenizer.encode(w) for w in snap.probes}
    adam_idx = {name: param_index(name, run) for name in snap.adam_params}
    files: dict[str, dict] = {}
    training = {"loss": [], "learning_rate": [], "doc": []}
    adam = {"learning_rate": [], "params": [
        {"name": name, "index": i, "value": [], "grad": [], "m": [], "v": [], "update": []}
        for name, i in adam_idx.items()]}
    wte_by_checkpoint = []

    def checkpoint(step):
        sd = arrays_of(run)
        wte_by_checkpoint.append(sd["wte"])
        files[f"checkpoints/step-{step:04d}.json"] = {
            "step": step, "state_dict": {name: tensor(w) for name, w in sd.items()},
            "traces": {w: trace(sd, run.config, t) for w, t in probes.items()}}

    def weights_now():
        w = run.engine.weights()
        for p in adam["params"]:
            p["value"].append(w[p["index"]])

    def before_update(step, engine):
        g = engine.gradient()
        for p in adam["params"]:
            p["grad"].append(g[p["index"]])

    def on_step(step, loss):
        t = run.train_config
        lr_t = run.trainer.learning_rate(step)
        training["loss"].append(loss)
        training["learning_rate"].append(lr_t)
        training["doc"].append(run.docs[step % len(run.docs)])
        adam["learning_rate"].append(lr_t)
        m, v = run.engine.moments()
        for p in adam["params"]:
            mi, vi = m[p["index"]], v[p["index"]]
            p["m"].append(mi)
            p["v"].append(vi)
            m_hat, v_hat = mi / (1 - t.beta1 ** (step + 1)), vi / (1 - t.beta2 ** (step + 1))
            p["update"].append(lr_t * m_hat / (v_hat ** 0.5 + t.eps_adam))
        weights_now()
        if step + 1 in steps:
            checkpoint(step + 1)
        if progress:
            progress(step + 1, num_steps)

    weights_now()
    checkpoint(0)
    run.trainer.train(num_steps, on_step=on_step, before_update=before_update)

    mean, basis, ratio = pca_basis(wte_by_checkpoint[-1])
    files["embeddings.json"] = {
        "checkpoints": steps,
        "pca": {"fit_step": steps[-1], "mean": tensor(mean), "basis": tensor(basis),
                "explained_variance_ratio": ratio},
        "wte_pca": tensor(np.stack([(w - mean) @ basis.T for w in wte_by_checkpoint]))}
    files["training.json"] = training
    files["adam.json"] = adam
    after_training = run.rng.getstate()
    temps = []
    for temperature in sorted({*snap.temperatures, sample.temperature}):
        run.rng.setstate(after_training)  # every temperature starts where the original's sampling starts
        temps.append({"temperature": temperature, "samples": sample_record(run, temperature, sample.num_samples)})
    files["inference.json"] = {"step": num_steps, "temperatures": temps}
    files["autograd.json"] = autograd_record(run)
    files["manifest.json"] = {
        "vocabulary": {"uchars": run.tokenizer.uchars, "BOS": run.tokenizer.BOS,
                       "vocab_size": run.tokenizer.vocab_size},
        "checkpoints": steps, "probes": list(snap.probes), "temperatures": [t["temperature"] for t in temps],
        "files": sorted(f for f in files if f != "manifest.json")}
    return files


def metadata(kind: str, run: Run, engine: str, data_sha256: str) -> dict:
    return {"format_version": FORMAT_VERSION, "kind": kind, "generator": "microgpt-illustrated",
            "version": __version__, "engine": engine, "config": asdict(run.config),
            "train": {k: v for k, v in asdict(run.train_config).items() if k != "seed"},
            "seed": run.train_config.seed, "reference_sha256": REFERENCE_SHA256, "data_sha256": data_sha256}


def export(out: Path, config=GPTConfig(), train=TrainConfig(), sample=SampleConfig(), snap=SnapshotConfig(), *,
           data=None, engine="scalar", progress=None) -> list[Path]:
    """Run, record and write every file into out (replacing what a previous export left there)."""
    data_path = resolve_data_path(data)
    data_sha256 = hashlib.sha256(data_path.read_bytes()).hexdigest()
    run = Run.setup(config, train, data=data_path, engine=engine)
    missing = [w for w in snap.probes if w not in set(run.docs)]
    if missing:
        raise ConfigError("probes", f"words not in the dataset: {', '.join(missing)}")
    bad = [w for w in snap.probes if len(w) + 1 > config.block_size]
    if bad:
        raise ConfigError("probes", f"words longer than block_size - 1 = {config.block_size - 1}: {', '.join(bad)}")
    files = record(run, sample, snap, progress)
    texts = {}
    for name, body in files.items():
        kind = "checkpoint" if name.startswith("checkpoints/") else name.removesuffix(".json")
        doc = {"metadata": metadata(kind, run, engine, data_sha256), **body}
        text = dumps(doc)
        check_document(json.loads(text), name)  # never write what the schema rejects
        texts[name] = text
    return write_all(Path(out), texts)


def write_all(out: Path, texts: dict[str, str]) -> list[Path]:
    """Write into a fresh sibling folder, then swap it in: a reader never sees half an export."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        for name, text in texts.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text, encoding="utf-8")
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
            out.rename(old / "previous")
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(out / name for name in texts)

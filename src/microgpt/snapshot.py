"""Snapshot files: a recorded run as JSON with a schema, rounded so two exports are byte-identical; writing them.

`recorder.Recorder` records (in plain Python, so the browser's worker runs the same code); this module turns its
documents into canonical JSON, checks them and writes them. Files (each with a `metadata` block;
`manifest.json` lists them all):

- training.json: loss, learning rate and document of every step, and two yardsticks for the loss: uniform
  guessing and a bigram model counted on the run's names, scored on names it never trains on (`microgpt.bigram`);
- embeddings.json: wte of every checkpoint projected to 3D with one PCA basis (recorder.py says which);
- checkpoints/step-NNNN.json: every weight, exact (repr of each float, not rounded), and a full forward trace of
  each probe word at that step;
- inference.json: every sampled name, position by position: probabilities, the random draw, token, argmax;
- autograd.json: a small expression's Value graph with data and gradients, and the size of a real step's graph;
- adam.json: value, gradient, moments and update of a few parameters at every step.

Every step's loss is written as the transcript prints it (4 decimals); every other float is rounded to
SIGNIFICANT_DIGITS significant digits.
"""

import functools
import hashlib
import json
import math
import shutil
import sys
import tempfile
from dataclasses import asdict
from importlib import resources
from pathlib import Path

from . import __version__
from .config import GPTConfig, SampleConfig, SnapshotConfig, TrainConfig
from .dataset import resolve_data_path
from .model import DivergedError
from .parameters import state_dict_shapes
from .recorder import Exact, Printed, Recorder
from .run import Run
from .sections import REFERENCE_SHA256
from .tokenizer import Tokenizer
from .trace import trace, word_tokens

FORMAT_VERSION = 3
SIGNIFICANT_DIGITS = 4


class SnapshotError(ValueError):
    """A snapshot file that does not follow the schema; the message names the file and the JSON path."""


# --- canonical JSON ----------------------------------------------------------------------------------------

def finite(x: float) -> float:
    if not math.isfinite(x):
        raise DivergedError(f"a number of the run is {x}, which cannot be recorded")
    return x


def rounded(x):
    """Floats to SIGNIFICANT_DIGITS significant digits, recursively, -0.0 to 0.0; Exact lists as they are, Printed
    lists to the transcript's 4 decimals."""
    if isinstance(x, Exact):
        return [finite(float(v)) for v in x]
    if isinstance(x, Printed):
        return [round(finite(float(v)), 4) + 0.0 for v in x]
    if isinstance(x, float):
        r = float(f"{finite(float(x)):.{SIGNIFICANT_DIGITS}g}") + 0.0
        return r if math.isfinite(r) else x  # above 1.797e308, rounding up would overflow: x as it is
    if isinstance(x, dict):
        return {str(k): rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [rounded(v) for v in x]
    return x


def dumps(doc: dict) -> str:
    """Canonical JSON: rounded (but Exact lists, written with repr, which round-trips), keys sorted, no NaN."""
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
    """Schema, then what a schema cannot say: each tensor's data has prod(shape) numbers; a checkpoint has
    every matrix of its config's model, in its shape.

    Tensors' data (most of the numbers) are checked here rather than by jsonschema, which takes ~20 µs a
    number; the verdict and the message are the schema's. Under Pyodide the schema part is skipped: jsonschema
    is not in Pyodide's core and the browser installs nothing more. What the exporter writes there equals
    what it writes in CPython, where every file is checked before it is written (a test proves it: byte for
    byte but the exact weights, whose last bits follow the runtime's libm).
    """
    light = check_tensors(doc, name, [])
    if sys.platform != "emscripten":
        from jsonschema.exceptions import best_match

        error = best_match(validator().iter_errors(light))
        if error is not None:
            raise SnapshotError(f"{name}: {json_path(error.absolute_path)}: {error.message}")
    if doc["metadata"]["kind"] == "checkpoint":
        check_state_dict(doc, name)


def is_number(x) -> bool:
    return type(x) in (int, float)


def check_tensors(node, name: str, path: list):
    """node with each tensor's data checked (numbers, prod(shape) of them) and left out: what the schema sees."""
    if isinstance(node, dict):
        shape, data = node.get("shape"), node.get("data")
        if (set(node) == {"shape", "data"} and isinstance(shape, list) and all(type(n) is int for n in shape)
                and isinstance(data, list)):
            for i, x in enumerate(data):
                if not is_number(x):
                    raise SnapshotError(f"{name}: {json_path([*path, 'data', i])}: {x!r} is not of type 'number'")
            if math.prod(shape) != len(data):
                raise SnapshotError(f"{name}: {json_path(path)}: shape {shape} needs {math.prod(shape)} numbers, "
                                    f"data has {len(data)}")
            return {"shape": shape, "data": []}
        return {k: check_tensors(v, name, [*path, k]) for k, v in node.items()}
    if isinstance(node, list):
        return [check_tensors(v, name, [*path, i]) for i, v in enumerate(node)]
    return node


def check_state_dict(doc: dict, name: str) -> None:
    """A checkpoint's state_dict: the names and shapes of its metadata.config's model (vocab_size from wte)."""
    sd = doc["state_dict"]
    expected = state_dict_shapes(GPTConfig(**doc["metadata"]["config"]), sd["wte"]["shape"][0])
    missing = [m for m in expected if m not in sd]
    if missing:
        raise SnapshotError(f"{name}: $.state_dict: {missing[0]!r} is missing (the model has {', '.join(expected)})")
    for m, tensor in sd.items():
        if m not in expected:
            raise SnapshotError(f"{name}: $.state_dict.{m}: not a matrix of this model (it has {', '.join(expected)})")
        if tensor["shape"] != list(expected[m]):
            raise SnapshotError(f"{name}: $.state_dict.{m}.shape: {tensor['shape']}, expected {list(expected[m])}")


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


def trace_word(checkpoint: dict, uchars: list[str], word: str) -> dict:
    """A word traced through a checkpoint file's exact weights (uchars from the manifest); WordError if it can't be."""
    config = GPTConfig(**checkpoint["metadata"]["config"])
    tokens = word_tokens(Tokenizer(list(uchars)), word, config.block_size)
    sd = {name: [t["data"][r * t["shape"][1]:(r + 1) * t["shape"][1]] for r in range(t["shape"][0])]
          for name, t in checkpoint["state_dict"].items()}
    return trace(sd, config, tokens)


# --- writing files ------------------------------------------------------------------------------------

def metadata(kind: str, run: Run, data_sha256: str) -> dict:
    return {"format_version": FORMAT_VERSION, "kind": kind, "generator": "microgpt-illustrated",
            "version": __version__, "engine": run.engine.name, "config": asdict(run.config),
            "train": {**{k: v for k, v in asdict(run.train_config).items() if k != "seed"},
                      "num_steps": run.trainer.num_steps},  # the horizon now: a live run may have extended it
            "seed": run.train_config.seed, "reference_sha256": REFERENCE_SHA256, "data_sha256": data_sha256}


def texts(recorder: Recorder, data_sha256: str, names=None) -> dict[str, str]:
    """Files (all, or those named) at the recorder's step as canonical JSON, each checked: what gets written."""
    out = {}
    for name in names or [*recorder.names(), "manifest.json"]:
        kind = "checkpoint" if name.startswith("checkpoints/") else name.removesuffix(".json")
        try:
            document = recorder.document(name)
        except (ArithmeticError, ValueError) as e:  # math's errors on floats that overflowed
            raise DivergedError(f"the run's numbers overflow ({e})") from None
        text = dumps({"metadata": metadata(kind, recorder.run, data_sha256), **document})
        check_document(json.loads(text), name)  # never write what the schema rejects
        out[name] = text
    return out


def export(out: Path, config=GPTConfig(), train=TrainConfig(), sample=SampleConfig(), snap=SnapshotConfig(), *,
           data=None, engine="scalar", progress=None) -> list[Path]:
    """Run, record and write every file into out (replacing what a previous export left there)."""
    data_path = resolve_data_path(data)
    data_sha256 = hashlib.sha256(data_path.read_bytes()).hexdigest()
    recorder = Recorder(Run.setup(config, train, data=data_path, engine=engine), snap, sample)
    recorder.train(train.num_steps, on_step=progress and (lambda step, loss: progress(step + 1, train.num_steps)))
    return write_all(Path(out), texts(recorder, data_sha256))


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

"""The live page's Python side, as its Web Worker calls it (see microgpt.worker): one run at a time.

The browser runs this under Pyodide; the worker only forwards calls and results. The run is a
`microgpt.session.Session`, its form parsed by `microgpt.form`, its save and restore in `microgpt.saved`.
"""

import json
import random

from . import limits, saved
from .config import GPTConfig, TrainConfig
from .form import PASTED, PageError, generate_temperature, parse_engine, parse_settings
from .parameters import state_dict_shapes
from .scalar import ScalarEngine
from .session import Session, fresh_sample, from_the_weights, read_documents, report
from .tokenizer import Tokenizer
from .trace import WordError, read_word

_session: Session | None = None


def written(documents_path: str | None) -> bytes | None:
    """The documents the page wrote into Pyodide's file system, if the reader gave any."""
    if documents_path is None:
        return None
    with open(documents_path, "rb") as f:
        return f.read()


def plan(form: dict, documents_path: str | None = None, name: str = PASTED) -> dict:
    """The settings checked before anything is set up: parameters, the graph of a step against the page's limits,
    the benchmark's time per step, the steps planned, and the dataset report. A bad field raises PageError, as
    `start` would."""
    config, train, _ = parse_settings(form)
    raw, docs = read_documents(written(documents_path), name)
    vocab_size = len(set("".join(docs))) + 1  # the tokenizer's uchars and BOS (line 26)
    num_params = sum(rows * cols for rows, cols in state_dict_shapes(config, vocab_size).values())
    engine = parse_engine(form)
    return {**limits.plan(config, vocab_size, docs, num_params, engine).as_dict(), "engine": engine,
            "num_steps": train.num_steps,
            "vocab_size": vocab_size, "dataset_report": report(raw, config.block_size, name)}


def start(form: dict, documents_path: str | None = None, name: str = PASTED) -> dict:
    """A new run from the form (and the file the page wrote, if the reader gave documents): lines 12-90. A model
    above the page's limit is refused before it is set up (setting it up alone would take minutes)."""
    global _session
    checked = plan(form, documents_path, name)
    if checked["level"] == "refuse":
        raise PageError("n-embd", checked["message"])
    _session = Session(form, written(documents_path), name)
    docs = _session.run.docs
    return {**_session.status(), "lines": _session.header(), "num_docs": len(docs), "preview": docs[:5],
            "vocab_size": _session.run.tokenizer.vocab_size, "dataset_report": _session.dataset_report,
            "engine": _session.run.engine.name}


def dataset_report(form: dict, documents_path: str | None = None, name: str = PASTED) -> dict:
    """What the documents (the file the page wrote, else names.txt) will do to a model of the form's block_size,
    before any run: microgpt.dataset_report's JSON, the one `start` and `restore` return too."""
    config, _, _ = parse_settings(form)
    raw, _ = read_documents(written(documents_path), name)
    return report(raw, config.block_size, name)


def save() -> str:
    """The current run as text, whole."""
    return current().save()


def save_parts(stored: list[int]) -> str:
    """The current run for the page's store, after every step: {"run": the run as text without the checkpoints
    in `stored` (the store has them), "checkpoints": step -> the new ones}, as JSON."""
    session, stored = current(), frozenset(stored)
    return json.dumps({"run": session.save(stored), "checkpoints": saved.checkpoints(session, stored)})


def restore(text: str, kept: dict[str, str] | None = None) -> dict:
    """The run a page saved (with the checkpoints kept apart): its status, transcript and history, to draw."""
    global _session
    _session = Session.restore(text, kept)
    return {**_session.status(), "lines": _session.lines, "history": _session.history, "form": _session.form,
            "vocab_size": _session.run.tokenizer.vocab_size, "sampling": _session.sampler is not None,
            "dataset_report": _session.dataset_report,
            "engine": _session.run.engine.name}


def trace_checkpoint(checkpoint_text: str, uchars: list[str], word: str) -> dict:
    """A word typed by the reader, traced through a recorded checkpoint's exact weights."""
    from .snapshot import trace_word

    try:
        word, note = read_word(uchars, word)
        return {**trace_word(json.loads(checkpoint_text), uchars, word), "word": word, "note": note}
    except WordError as e:
        raise PageError("word", str(e)) from None


@from_the_weights
def sample_checkpoint(checkpoint_text: str, uchars: list[str], temperature, seed: int) -> dict:
    """A fresh name from a recorded checkpoint's exact weights, at any temperature."""
    temperature = generate_temperature(temperature)
    checkpoint = json.loads(checkpoint_text)
    config = GPTConfig(**checkpoint["metadata"]["config"])
    tokenizer = Tokenizer(list(uchars))
    engine = ScalarEngine(config, TrainConfig(), tokenizer.vocab_size, random.Random(0))
    for name, rows in engine.state_dict.items():
        data = checkpoint["state_dict"][name]["data"]
        for p, w in zip((p for row in rows for p in row), data):
            p.data = w
    return fresh_sample(engine, tokenizer, config, temperature, seed)


def current() -> Session:
    if _session is None:
        raise PageError("run", "no run yet: press Run or Train first")
    return _session


def reset() -> dict:
    """Forget the run."""
    global _session
    _session = None
    return {}


API = {
    "plan": plan, "start": start, "reset": reset, "save": save, "save_parts": save_parts, "restore": restore,
    "dataset_report": dataset_report,
    "train": lambda steps, seconds=None: current().train(steps, seconds),
    "extend": lambda num_steps: current().extend(num_steps),
    "generate": lambda temperature: current().generate(temperature),
    "check_temperature": generate_temperature,  # before Generate sets up a run it would not sample from
    "start_sampling": lambda: current().start_sampling(),
    "document": lambda name: current().document(name),
    "trace": lambda word, step=None: current().trace(word, step),
    "sample": lambda temperature, seed: current().sample(temperature, seed),
    "step_graph": lambda: current().step_graph(),
    "trace_checkpoint": trace_checkpoint, "sample_checkpoint": sample_checkpoint,
    "sample_next": lambda: current().sample_next(),
}

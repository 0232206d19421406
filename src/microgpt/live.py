"""The live page's Python side: a run set up from the page's form and driven a few steps per call.

The browser runs this module under Pyodide in a Web Worker; the worker only forwards calls and results.
Everything the page shows is decided here, in CPython-tested code: the settings are parsed by the CLI's own
options (same defaults, limits and error messages as `microgpt run`), the documents by the dataset's own
parser, and the transcript lines are the ones `microgpt.run.run` prints, in the same order.
"""

import argparse
import base64
import hashlib
import json
import math
import random
import struct
from array import array
from types import SimpleNamespace

from .cli import FORM_OPTIONS, Parser, add_form_options, config_error_message, configs
from .config import ConfigError, GPTConfig, SampleConfig, SnapshotConfig, TrainConfig
from .dataset import DataError, parse_docs, resolve_data_path
from .inference import sample
from .optimizer import HorizonError
from .recorder import Recorder, pca_basis, sample_record, step_graph
from .run import Run
from .scalar import ScalarEngine, gc_paused
from .snapshot import texts
from .tokenizer import Tokenizer
from .trace import WordError, read_word
from .training import NonFiniteLossError, document_tokens

MAX_DOCUMENTS_BYTES = 1_000_000  # pasted or uploaded documents; names.txt is 228,145 bytes
MAX_GENERATE_TEMPERATURE = 2.0  # Generate takes any temperature in (0, MAX_GENERATE_TEMPERATURE]
INFERENCE_HEADER = ["", "--- inference (new, hallucinated names) ---"]  # line 188's print: a blank line first
SAVE_FORMAT = 1  # of Session.save's text
ADAM_TRACES = ("value", "grad", "m", "v", "update")  # what the recorder keeps of each traced parameter


def _pack(floats) -> str:
    """Doubles as base64 of their IEEE 754 bytes: every bit kept."""
    return base64.b64encode(struct.pack(f"<{len(floats)}d", *floats)).decode()


def _unpack(text: str, count: int | None = None) -> list[float]:
    raw = base64.b64decode(text)
    if count is not None and len(raw) != 8 * count:
        raise ValueError(f"{len(raw) // 8} numbers where the model has {count}")
    return list(struct.unpack(f"<{len(raw) // 8}d", raw))


class PageError(ValueError):
    """Something on the page is wrong: `field` names the form field, the message says what and how to fix it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def form_parser() -> Parser:
    """The CLI's run options alone, raising instead of exiting, so a form field gets the CLI's message."""
    parser = Parser(prog="microgpt run", exit_on_error=False, add_help=False)
    add_form_options(parser)
    return parser


def parse_settings(form: dict):
    """The form's fields (named after FORM_OPTIONS) as the three configs; a bad field raises PageError."""
    unknown = sorted(set(form) - set(FORM_OPTIONS))
    if unknown:
        raise PageError(unknown[0], f"unknown setting {unknown[0]!r}; settings are {', '.join(FORM_OPTIONS)}")
    argv = [f"--{name}={str(form[name]).strip()}" for name in FORM_OPTIONS if name in form]
    try:
        args = form_parser().parse_args(argv)
    except argparse.ArgumentError as e:
        raise PageError(e.argument_name.split("/")[0].removeprefix("--"), str(e)) from None
    try:
        return configs(args)
    except ConfigError as e:
        option, message = config_error_message(e)
        raise PageError(option.removeprefix("--"), message) from None


def parse_documents(raw: bytes, name: str = "documents") -> list[str]:
    """Pasted or uploaded documents: names.txt's parser and errors, under a size cap."""
    if len(raw) > MAX_DOCUMENTS_BYTES:
        raise PageError("documents", f"{name}: {len(raw):,} bytes is over the page's cap of "
                                     f"{MAX_DOCUMENTS_BYTES:,} bytes")
    try:
        return parse_docs(raw, name)
    except DataError as e:
        raise PageError("documents", str(e)) from None


def generate_temperature(value) -> float:
    """A temperature for Generate or the sampling scene: any number in (0, MAX_GENERATE_TEMPERATURE]."""
    try:
        temperature = float(value)
    except (TypeError, ValueError):
        raise PageError("generate-temperature", f"temperature must be a number, got {value!r}") from None
    if not (math.isfinite(temperature) and 0 < temperature <= MAX_GENERATE_TEMPERATURE):
        raise PageError("generate-temperature",
                        f"temperature must be in (0, {MAX_GENERATE_TEMPERATURE:g}], got {temperature:g}")
    return temperature


def fresh_sample(engine, tokenizer, config, temperature: float, seed: int) -> dict:
    """One name drawn as inference.json records it (probabilities, draw, token, argmax at every position)."""
    run = SimpleNamespace(engine=engine, tokenizer=tokenizer, config=config, rng=random.Random(int(seed)))
    return {"temperature": temperature, **sample_record(run, temperature, 1)[0]}


def step_line(step: int, num_steps: int, loss: float) -> str:
    """Line 184's print."""
    return f"step {step+1:4d} / {num_steps:4d} | loss {loss:.4f}"


def snapshot_config(run: Run) -> SnapshotConfig:
    """What the scenes record of a live run: the site's probes and traced parameters where the documents allow,
    else the first documents that fit the block, and the parameters of the first character instead of 'a'."""
    default, fits = SnapshotConfig(), lambda w: len(w) + 1 <= run.config.block_size
    docs = set(run.docs)
    probes = default.probes
    if not all(w in docs and fits(w) for w in probes):
        probes = tuple(dict.fromkeys(w for w in run.docs if fits(w)))[:len(probes)]  # none fit: the reader types one
    uchars = run.tokenizer.uchars
    if "a" in uchars:
        return SnapshotConfig(probes=probes)
    first = next((ch for ch in uchars if ch not in "[]"), None)
    params = tuple(p.replace("[a]", f"[{first}]") for p in default.adam_params if first or "[a]" not in p)
    return SnapshotConfig(probes=probes, adam_params=params)


class Session:
    """One run on the page: set up, then train, extend and generate in small calls; every call returns lines."""

    def __init__(self, form: dict, documents: bytes | None = None, name: str = "documents", data=None):
        self.form, self.documents, self.name = dict(form), documents, name  # what a saved run is rebuilt from
        config, train, self.sample_config = parse_settings(form)
        try:
            if documents is not None:
                docs = parse_documents(documents, name)
            else:
                path = resolve_data_path(data)
                raw = path.read_bytes()
                docs = parse_docs(raw, str(path))
        except (DataError, OSError) as e:
            raise PageError("documents", str(e)) from None
        self.data_sha256 = hashlib.sha256(documents if documents is not None else raw).hexdigest()
        self.run = Run.setup(config, train, docs=docs)
        self.recorder = Recorder(self.run, snapshot_config(self.run), self.sample_config)
        self.sampler = None  # the names still to draw for the current Generate
        self.lines = self.header()  # everything printed so far
        self._graphs = {}  # token count -> the size of the graph a step on such a document builds

    @property
    def history(self) -> list[tuple[float, float]]:
        """(loss, learning rate) of every step so far, as the recorder kept them."""
        training = self.recorder.training
        return list(zip(training["loss"], training["learning_rate"]))

    def header(self) -> list[str]:
        """Lines 21, 27 and 90's prints."""
        r = self.run
        return [f"num docs: {len(r.docs)}", f"vocab size: {r.tokenizer.vocab_size}",
                f"num params: {r.engine.num_params}"]

    def status(self) -> dict:
        trainer = self.run.trainer
        return {"step": trainer.step, "num_steps": trainer.num_steps, "at_horizon": trainer.step >= trainer.num_steps}

    def train(self, steps: int) -> dict:
        """Up to `steps` more steps, never past the horizon; a non-finite loss stops with the model as it was."""
        trainer = self.run.trainer
        todo = max(0, min(int(steps), trainer.num_steps - trainer.step))
        done, error = [], None

        def on_step(step, loss):
            done.append({"step": step + 1, "loss": loss, "learning_rate": trainer.learning_rate(step),
                         "line": step_line(step, trainer.num_steps, loss)})

        try:
            for _ in range(todo):
                self.recorder.train(1, on_step=on_step)
                self.lines.append(done[-1]["line"])
        except NonFiniteLossError as e:
            error = (f"Training stopped at {e}. The model is as it was after step {trainer.step}; "
                     "lower the learning rate and press Reset, or Generate from the model as it is.")
        return {**self.status(), "steps": done, "lines": [d["line"] for d in done], "error": error}

    def extend(self, num_steps) -> dict:
        """Plan a longer schedule from here: the learning rate decays towards the new horizon."""
        try:
            num_steps = int(num_steps)
            self.run.trainer.extend(num_steps)
        except (ValueError, HorizonError) as e:
            raise PageError("steps", f"cannot extend the horizon to {num_steps!r}: {e}") from None
        return self.status()

    def generate(self, temperature) -> dict:
        """Generate at any temperature in (0, MAX_GENERATE_TEMPERATURE]: line 188's header, names to follow."""
        temperature = generate_temperature(temperature)
        return self.start_sampling(SampleConfig(temperature=temperature, num_samples=self.sample_config.num_samples))

    def start_sampling(self, config: SampleConfig | None = None) -> dict:
        """Line 188: the inference header (the form's settings unless given); the names follow from `sample_next`."""
        config = config or self.sample_config
        self.sampler = (config, 0) if config.num_samples else None
        self.lines += INFERENCE_HEADER
        return {"lines": list(INFERENCE_HEADER), "temperature": config.temperature}

    def sample_next(self) -> dict:
        """Line 189-200 for one name: drawn from the run's one random stream, as the original draws it."""
        if self.sampler is None:
            return {"lines": [], "done": True}
        config, index = self.sampler  # index < num_samples: the last name clears the sampler
        r = self.run
        name = sample(r.engine, r.tokenizer, r.rng, config.temperature, r.config.block_size)
        done = index + 1 >= config.num_samples
        self.sampler = None if done else (config, index + 1)
        self.lines.append(f"sample {index+1:2d}: {name}")
        return {"lines": [self.lines[-1]], "name": name, "done": done}

    def save(self) -> str:
        """The whole run as text, bit for bit: settings, documents, weights, Adam's buffers, step, horizon, random
        state, the recorded history and the transcript. `Session.restore` rebuilds it on another page."""
        engine, trainer = self.run.engine, self.run.trainer
        version, internal, gauss_next = self.run.rng.getstate()
        return json.dumps({
            "format": SAVE_FORMAT, "form": self.form, "name": self.name,
            "documents": None if self.documents is None else base64.b64encode(self.documents).decode(),
            "step": trainer.step, "num_steps": trainer.num_steps, "rng": [version, list(internal), gauss_next],
            "weights": _pack(engine.weights()), "m": _pack(engine.adam.m), "v": _pack(engine.adam.v),
            "lines": self.lines,
            "recorder": self._save_recorder(),
            "sampler": None if self.sampler is None else [self.sampler[0].temperature, self.sampler[0].num_samples,
                                                          self.sampler[1]]})

    @classmethod
    def restore(cls, text: str) -> "Session":
        """A run saved by `save`, exactly as it was."""
        try:
            saved = json.loads(text)
            if saved.get("format") != SAVE_FORMAT:
                raise ValueError(f"format {saved.get('format')!r}, expected {SAVE_FORMAT}")
            documents = None if saved["documents"] is None else base64.b64decode(saved["documents"])
            session = cls(saved["form"], documents, saved["name"])
            engine, trainer = session.run.engine, session.run.trainer
            weights, m, v = (_unpack(saved[k], engine.num_params) for k in ("weights", "m", "v"))
            for p, w in zip(engine.params, weights):
                p.data = w
            engine.adam.m[:], engine.adam.v[:] = m, v
            trainer.step, trainer.num_steps = saved["step"], saved["num_steps"]
            version, internal, gauss_next = saved["rng"]
            session.run.rng.setstate((version, tuple(internal), gauss_next))
            session.lines = saved["lines"]
            session._restore_recorder(saved["recorder"])
            if saved["sampler"]:
                temperature, num_samples, index = saved["sampler"]
                session.sampler = (SampleConfig(temperature=temperature, num_samples=num_samples), index)
        except PageError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, struct.error) as e:
            raise PageError("run", f"the saved run cannot be restored ({e}); press Reset to start again") from None
        return session

    def _save_recorder(self) -> dict:
        rec = self.recorder
        return {"loss": _pack(rec.training["loss"]), "learning_rate": _pack(rec.training["learning_rate"]),
                "adam": {f"{p['name']}/{k}": _pack(p[k]) for p in rec.adam["params"] for k in ADAM_TRACES},
                "weights": {str(step): _pack(w) for step, w in rec.weights.items()}}

    def _restore_recorder(self, saved: dict) -> None:
        """What the recorder kept, set back; the PCA chain is fitted again, in its order, from the kept weights."""
        rec = self.recorder
        rec.training["loss"], rec.training["learning_rate"] = _unpack(saved["loss"]), _unpack(saved["learning_rate"])
        docs = self.run.docs
        rec.training["doc"] = [docs[i % len(docs)] for i in range(len(rec.training["loss"]))]
        rec.adam["learning_rate"] = list(rec.training["learning_rate"])
        for p in rec.adam["params"]:
            for k in ADAM_TRACES:
                p[k] = _unpack(saved["adam"][f"{p['name']}/{k}"])
        rec.weights = {int(step): array("d", _unpack(w, self.run.engine.num_params))
                       for step, w in saved["weights"].items()}
        rec.fits = []
        for step in sorted(s for s in rec.weights if s % rec.snap.checkpoint_every == 0):
            rec.fits.append((step, pca_basis(rec.wte(step), rec.fits[-1][1][1] if rec.fits else None)))

    # --- what the scenes ask for ---------------------------------------------------------------------------

    def document(self, name: str) -> str:
        """A scene's snapshot file for the run so far, as the exporter writes it (the same schema and bytes)."""
        try:
            return texts(self.recorder, self.data_sha256, [name])[name]
        except KeyError as e:
            raise PageError("snapshot", str(e.args[0])) from None

    def trace(self, word: str, step: int | None = None) -> dict:
        """Every intermediate of gpt() for a word the reader typed, through the weights at a step of this run."""
        if step is not None and step not in self.recorder.weights:
            raise PageError("step", f"no checkpoint of your run at step {step}")
        try:
            word, note = read_word(self.run.tokenizer.uchars, word)
            return {**self.recorder.trace_word(word, step), "word": word, "note": note}
        except WordError as e:
            raise PageError("word", str(e)) from None

    def step_graph(self) -> dict:
        """The graph the last step built (its document's), as the autograd scene reports it; before any step,
        the first step's. The graph's shape depends on the config and the document's token count only, never on
        the weights: each count is built once (building it costs about as much as a training step)."""
        r = self.run
        step = max(r.trainer.step - 1, 0)
        doc = r.docs[step % len(r.docs)]
        _, n = document_tokens(r.tokenizer, doc, r.config.block_size)
        if n not in self._graphs:
            with gc_paused():
                self._graphs[n] = step_graph(r.engine, r.tokenizer, doc, r.config.block_size)
        return {"step": step + 1, **self._graphs[n], "doc": doc}

    def sample(self, temperature, seed: int) -> dict:
        """A fresh name at any temperature, drawn with its own random stream (the run's own is left alone)."""
        temperature = generate_temperature(temperature)
        return fresh_sample(self.run.engine, self.run.tokenizer, self.run.config, temperature, seed)

    def transcript(self) -> list[str]:
        """The rest of the original at once, as `microgpt run` prints it: train to the horizon, then sample (the
        page's Run makes the same calls a step and a name at a time)."""
        result = self.train(self.run.trainer.num_steps)
        lines = result["lines"]
        if result["error"]:
            return lines
        lines += self.start_sampling()["lines"]
        while self.sampler is not None:
            lines += self.sample_next()["lines"]
        return lines


# --- what the page's worker calls (see microgpt.worker) ----------------------------------------------------

_session: Session | None = None


def start(form: dict, documents_path: str | None = None, name: str = "documents") -> dict:
    """A new run from the form (and the file the page wrote, if the reader gave documents): lines 12-90."""
    global _session
    raw = None
    if documents_path is not None:
        with open(documents_path, "rb") as f:
            raw = f.read()
    _session = Session(form, raw, name)
    docs = _session.run.docs
    return {**_session.status(), "lines": _session.header(), "num_docs": len(docs), "preview": docs[:5],
            "vocab_size": _session.run.tokenizer.vocab_size}


def save() -> str:
    """The current run as text, for the page to keep in sessionStorage."""
    return current().save()


def restore(text: str) -> dict:
    """The run another page saved: its status, transcript and history, to draw."""
    global _session
    _session = Session.restore(text)
    return {**_session.status(), "lines": _session.lines, "history": _session.history, "form": _session.form,
            "vocab_size": _session.run.tokenizer.vocab_size, "sampling": _session.sampler is not None}


def trace_checkpoint(checkpoint_text: str, uchars: list[str], word: str) -> dict:
    """A word typed by the reader, traced through a recorded checkpoint's exact weights."""
    from .snapshot import trace_word

    try:
        word, note = read_word(uchars, word)
        return {**trace_word(json.loads(checkpoint_text), uchars, word), "word": word, "note": note}
    except WordError as e:
        raise PageError("word", str(e)) from None


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
    "start": start, "reset": reset, "save": save, "restore": restore,
    "train": lambda steps: current().train(steps),
    "extend": lambda num_steps: current().extend(num_steps),
    "generate": lambda temperature: current().generate(temperature),
    "start_sampling": lambda: current().start_sampling(),
    "document": lambda name: current().document(name),
    "trace": lambda word, step=None: current().trace(word, step),
    "sample": lambda temperature, seed: current().sample(temperature, seed),
    "step_graph": lambda: current().step_graph(),
    "trace_checkpoint": trace_checkpoint, "sample_checkpoint": sample_checkpoint,
    "sample_next": lambda: current().sample_next(),
}

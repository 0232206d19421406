"""A live run: set up from the page's form, then trained, extended and sampled a few steps per call.

Everything the page shows is decided here, in CPython-tested code: the transcript lines are the ones
`microgpt.run.run` prints, in the same order.
"""

import functools
import hashlib
import json
import random
import time
from types import SimpleNamespace

from . import saved
from .config import SampleConfig, SnapshotConfig
from .dataset import DataError, parse_docs, read_data
from .dataset_report import dataset_report
from .form import PASTED, PageError, generate_temperature, parse_documents, parse_engine, parse_settings
from .inference import sample
from .optimizer import HorizonError
from .recorder import Recorder, sample_record, step_graph
from .run import Run
from .scalar import ScalarEngine, gc_paused
from .snapshot import texts
from .trace import WordError, read_word
from .training import NonFiniteLossError, document_tokens

INFERENCE_HEADER = ["", "--- inference (new, hallucinated names) ---"]  # line 188's print: a blank line first


def read_documents(documents: bytes | None, name: str, data=None) -> tuple[bytes, list[str]]:
    """The reader's documents, else names.txt (`data`, else where the CLI finds it): their bytes, and the documents."""
    if documents is not None:
        return documents, list(_parsed(documents, name, True))
    try:
        path, raw = read_data(data)
        return raw, list(_parsed(raw, str(path), False))
    except DataError as e:
        raise PageError("documents", str(e)) from None


@functools.lru_cache(maxsize=4)
def _parsed(raw: bytes, name: str, pasted: bool) -> tuple[str, ...]:
    """The documents of these bytes, parsed once: Run parses the same ones for its plan, its check and its set-up."""
    return tuple(parse_documents(raw, name) if pasted else parse_docs(raw, name))


def report(raw: bytes, block_size: int, name: str) -> dict:
    """microgpt.dataset_report's (a fresh copy), computed once for the same documents, block_size and name: Run asks
    for it at its plan, its check and its set-up."""
    return json.loads(_report(raw, block_size, name))


@functools.lru_cache(maxsize=4)
def _report(raw: bytes, block_size: int, name: str) -> str:
    return json.dumps(dataset_report(raw, block_size, name))


def from_the_weights(method):
    """A call that computes with the run's weights: where they have overflowed (training diverged, at a learning
    rate too high for this model; no other setting makes them), it says so as the learning rate's error."""

    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ArithmeticError as e:  # DivergedError, or an OverflowError on the way to one
            raise PageError("learning-rate", f"Training diverged: {e}. Lower it and press Reset.") from None

    return call


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

    def __init__(self, form: dict, documents: bytes | None = None, name: str = PASTED, data=None):
        config, train, self.sample_config = parse_settings(form)
        engine = parse_engine(form)
        self.form = {**form, "engine": engine}  # what a saved run is rebuilt from, its engine always named
        self.documents, self.name = documents, name
        raw, docs = read_documents(documents, name, data)
        self.data_sha256 = hashlib.sha256(raw).hexdigest()
        self.dataset_report = report(raw, config.block_size, name)  # what the documents do to the model
        self.run = Run.setup(config, train, docs=docs, engine=engine)
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

    def train(self, steps: int, seconds: float | None = None) -> dict:
        """Up to `steps` more steps, never past the horizon; a non-finite loss stops with the model as it was.

        With `seconds`, no new step starts once that much time has passed (at least one runs): the page asks for
        about a frame's worth of steps per call, however fast the engine, and still gets every step's line.
        """
        trainer = self.run.trainer
        todo = max(0, min(int(steps), trainer.num_steps - trainer.step))
        done, error = [], None
        deadline = None if seconds is None else time.perf_counter() + float(seconds)

        def on_step(step, loss):
            done.append({"step": step + 1, "loss": loss, "learning_rate": trainer.learning_rate(step),
                         "line": step_line(step, trainer.num_steps, loss)})

        try:
            for _ in range(todo):
                self.recorder.train(1, on_step=on_step)
                self.lines.append(done[-1]["line"])
                if deadline is not None and time.perf_counter() >= deadline:
                    break
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

    @from_the_weights
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

    def save(self, stored=frozenset()) -> str:
        """The whole run as text, bit for bit (microgpt.saved); `Session.restore` rebuilds it on another page.
        The checkpoints of the steps in `stored` are left out: the page keeps them apart (saved.checkpoints)."""
        return saved.dump(self, stored)

    @classmethod
    def restore(cls, text: str, kept: dict[str, str] | None = None) -> "Session":
        """A run saved by `save`, exactly as it was (`kept`: the checkpoints kept apart)."""
        return saved.load(text, cls, kept)

    # --- what the scenes ask for ---------------------------------------------------------------------------

    @from_the_weights
    def document(self, name: str) -> str:
        """A scene's snapshot file for the run so far, as the exporter writes it (the same schema and bytes)."""
        try:
            return texts(self.recorder, self.data_sha256, [name])[name]
        except KeyError as e:
            raise PageError("snapshot", str(e.args[0])) from None

    @from_the_weights
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
        the weights: each count is built once (building it costs about as much as a training step), on the
        weights of step 0 (the run's own may have diverged: a learning rate too high for them). A run on the float
        engine builds no graph: `engine` says which engine trained the run; the size is the Value graph's."""
        r = self.run
        step = max(r.trainer.step - 1, 0)
        doc = r.docs[step % len(r.docs)]
        _, n = document_tokens(r.tokenizer, doc, r.config.block_size)
        if n not in self._graphs:
            engine = ScalarEngine(r.config, r.train_config, r.tokenizer.vocab_size, random.Random(r.train_config.seed))
            with gc_paused():
                self._graphs[n] = step_graph(engine, r.tokenizer, doc, r.config.block_size)
        return {"step": step + 1, **self._graphs[n], "doc": doc, "engine": r.engine.name}

    @from_the_weights
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

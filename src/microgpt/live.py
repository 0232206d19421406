"""The live page's Python side: a run set up from the page's form and driven a few steps per call.

The browser runs this module under Pyodide in a Web Worker; the worker only forwards calls and results.
Everything the page shows is decided here, in CPython-tested code: the settings are parsed by the CLI's own
options (same defaults, limits and error messages as `microgpt run`), the documents by the dataset's own
parser, and the transcript lines are the ones `microgpt.run.run` prints, in the same order.
"""

import argparse
import math

from .cli import FORM_OPTIONS, Parser, add_form_options, config_error_message, configs
from .config import ConfigError, SampleConfig
from .dataset import DataError, load_docs, parse_docs
from .inference import sample
from .optimizer import HorizonError
from .run import Run
from .training import NonFiniteLossError

MAX_DOCUMENTS_BYTES = 1_000_000  # pasted or uploaded documents; names.txt is 228,145 bytes
MAX_GENERATE_TEMPERATURE = 2.0  # Generate takes any temperature in (0, MAX_GENERATE_TEMPERATURE]
INFERENCE_HEADER = ["", "--- inference (new, hallucinated names) ---"]  # line 188's print: a blank line first


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


def step_line(step: int, num_steps: int, loss: float) -> str:
    """Line 184's print."""
    return f"step {step+1:4d} / {num_steps:4d} | loss {loss:.4f}"


class Session:
    """One run on the page: set up, then train, extend and generate in small calls; every call returns lines."""

    def __init__(self, form: dict, documents: bytes | None = None, name: str = "documents", data=None):
        config, train, self.sample_config = parse_settings(form)
        try:
            docs = parse_documents(documents, name) if documents is not None else load_docs(data)
        except DataError as e:
            raise PageError("documents", str(e)) from None
        self.run = Run.setup(config, train, docs=docs)
        self.sampler = None  # the names still to draw for the current Generate

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
                trainer.train(1, on_step=on_step)
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
        try:
            temperature = float(temperature)
        except (TypeError, ValueError):
            raise PageError("generate-temperature", f"temperature must be a number, got {temperature!r}") from None
        if not (math.isfinite(temperature) and 0 < temperature <= MAX_GENERATE_TEMPERATURE):
            raise PageError("generate-temperature",
                            f"temperature must be in (0, {MAX_GENERATE_TEMPERATURE:g}], got {temperature:g}")
        return self.start_sampling(SampleConfig(temperature=temperature, num_samples=self.sample_config.num_samples))

    def start_sampling(self, config: SampleConfig | None = None) -> dict:
        """Line 188: the inference header (the form's settings unless given); the names follow from `sample_next`."""
        config = config or self.sample_config
        self.sampler = (config, 0) if config.num_samples else None
        return {"lines": list(INFERENCE_HEADER), "temperature": config.temperature}

    def sample_next(self) -> dict:
        """Line 189-200 for one name: drawn from the run's one random stream, as the original draws it."""
        if self.sampler is None:
            return {"lines": [], "done": True}
        config, index = self.sampler
        if index >= config.num_samples:
            self.sampler = None
            return {"lines": [], "done": True}
        r = self.run
        name = sample(r.engine, r.tokenizer, r.rng, config.temperature, r.config.block_size)
        self.sampler = (config, index + 1)
        done = index + 1 >= config.num_samples
        if done:
            self.sampler = None
        return {"lines": [f"sample {index+1:2d}: {name}"], "name": name, "done": done}

    def transcript(self, steps: int | None = None) -> list[str]:
        """The whole original from here, all at once: what `microgpt run` prints (used by tests and Run)."""
        lines = []
        while not self.status()["at_horizon"]:
            result = self.train(steps or self.run.trainer.num_steps)
            lines += result["lines"]
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
    "start": start, "reset": reset,
    "train": lambda steps: current().train(steps),
    "extend": lambda num_steps: current().extend(num_steps),
    "generate": lambda temperature: current().generate(temperature),
    "start_sampling": lambda: current().start_sampling(),
    "sample_next": lambda: current().sample_next(),
}

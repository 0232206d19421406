"""The live page's form: its settings parsed by the CLI's own options, its documents by the dataset's parser.

Every bad field is a PageError: its field, and a message the page shows after the field's label, so it does not
repeat it (`--n-embd: 15 is not divisible by n_head=4`, where `microgpt run` says `argument --n-embd: ...`).
"""

import argparse
import math

from .cli import FORM_OPTIONS, Parser, add_form_options, config_error_option, configs
from .config import ConfigError
from .dataset import DataError, parse_docs
from .run import DEFAULT_ENGINE

MAX_DOCUMENTS_BYTES = 1_000_000  # pasted or uploaded documents; names.txt is 228,145 bytes
MAX_GENERATE_TEMPERATURE = 2.0  # Generate takes any temperature in (0, MAX_GENERATE_TEMPERATURE]
PAGE_ENGINES = {  # the engines the browser can run (it has no NumPy), the page's choice first, as the form names them
    "floats": "fast: the same model on lists of floats, its gradients written out by hand",
    "scalar": "the original's Value graph: the very code the lines show, and slower",
}
PAGE_ENGINE = next(iter(PAGE_ENGINES))  # what a reader wants first: the whole run, soon
FIELDS = (*FORM_OPTIONS, "engine")  # the form's fields: the CLI's options, and the engine (the CLI's --engine)
PASTED = "documents"  # the name the page gives the text in its box (an uploaded file keeps its own)


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
    unknown = sorted(set(form) - set(FIELDS))
    if unknown:
        raise PageError(unknown[0], f"not a setting; the settings are {', '.join(FIELDS)}")
    argv = [f"--{name}={str(form[name]).strip()}" for name in FORM_OPTIONS if name in form]
    try:
        args = form_parser().parse_args(argv)
    except argparse.ArgumentError as e:
        raise PageError(e.argument_name.split("/")[0].removeprefix("--"), e.message) from None
    try:
        return configs(args)
    except ConfigError as e:
        raise PageError(config_error_option(e).removeprefix("--"), e.detail) from None


def parse_engine(form: dict) -> str:
    """The form's engine: one the browser runs; a form without one (older saved runs) means the CLI's default."""
    engine = str(form.get("engine", DEFAULT_ENGINE)).strip()
    if engine not in PAGE_ENGINES:
        raise PageError("engine", f"invalid choice: {engine!r} (the page runs "
                                  f"{' or '.join(map(repr, PAGE_ENGINES))})")
    return engine


def parse_documents(raw: bytes, name: str = PASTED) -> list[str]:
    """Pasted or uploaded documents: names.txt's parser and errors, under a size cap."""
    name = "the text" if name == PASTED else name
    if len(raw) > MAX_DOCUMENTS_BYTES:
        raise PageError("documents", f"{name} is {len(raw):,} bytes, over the page's cap of "
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
        raise PageError("generate-temperature", f"must be a number, got {value!r}") from None
    if not (math.isfinite(temperature) and 0 < temperature <= MAX_GENERATE_TEMPERATURE):
        raise PageError("generate-temperature", f"must be in (0, {MAX_GENERATE_TEMPERATURE:g}], got {temperature:g}")
    return temperature

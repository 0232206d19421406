"""The one table of the original's sections: where each starts and ends, and which module ports it.

Each range after the first starts at the original's own comment header; together they cover lines 1-200.
The site, its line anchors and its citations read this table; nobody retypes a line number.
"""

from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Section:
    id: str  # stable slug: page name and citation key
    title: str
    first: int  # first line in reference/microgpt.py, 1-based
    last: int  # last line, inclusive
    module: str  # the port's module that implements it

    @property
    def lines(self) -> range:
        return range(self.first, self.last + 1)


SECTIONS = (
    Section("preamble", "Preamble: imports and the seed", 1, 13, "microgpt.config"),
    Section("dataset", "The dataset", 14, 22, "microgpt.dataset"),
    Section("tokenizer", "The tokenizer", 23, 28, "microgpt.tokenizer"),
    Section("autograd", "Autograd: the Value", 29, 73, "microgpt.autograd"),
    Section("parameters", "The parameters", 74, 91, "microgpt.parameters"),
    Section("model", "The model: linear, softmax, rmsnorm and gpt()", 92, 145, "microgpt.model"),
    Section("optimizer", "Adam, the optimizer", 146, 150, "microgpt.optimizer"),
    Section("training", "The training loop", 151, 185, "microgpt.training"),
    Section("inference", "Inference", 186, 200, "microgpt.inference"),
)

REFERENCE_LINES = 200  # lines in reference/microgpt.py
REFERENCE_SHA256 = "4fda8f9395d5660baa014f7724aa9f3b21f3e73c14cea231da458676751fbd5c"


def section_of(line: int) -> Section:
    """The section that holds a line of the original."""
    for s in SECTIONS:
        if s.first <= line <= s.last:
            return s
    raise ValueError(f"line {line} is outside reference/microgpt.py (1-{REFERENCE_LINES})")


def by_id(section_id: str) -> Section:
    for s in SECTIONS:
        if s.id == section_id:
            return s
    raise KeyError(f"no section {section_id!r}; sections are {', '.join(s.id for s in SECTIONS)}")


@cache
def original_lines() -> tuple[str, ...]:
    """The original's lines, as the package ships it (data/microgpt.py)."""
    return tuple(resources.files("microgpt").joinpath("data/microgpt.py").read_text(encoding="utf-8").splitlines())


def line_of(code: str) -> int:
    """The one line of the original that holds `code`: text cites a line by what it says, never by a typed number."""
    found = [i + 1 for i, line in enumerate(original_lines()) if code in line]
    if len(found) != 1:
        raise ValueError(f"{code!r} is on {len(found)} lines of microgpt.py ({found}); cite text found on one line")
    return found[0]

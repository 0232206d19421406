"""The four kinds of exercise and how each checks an answer: a number within a tolerance, a reading of a scene's
document, a function against the port's, a prediction against a run made on the spot."""

import math
from collections.abc import Callable
from dataclasses import dataclass

from .context import Context
from .feedback import Feedback, error, fmt, right, wrong

KINDS = ("number", "scene", "code", "experiment")


@dataclass(frozen=True)
class Exercise:
    """One exercise; question, hints and solution are Markdown, formatted with the facts of the recorded run."""

    id: str  # stable: page, then what it asks (the page's data-exercise)
    kind: str  # one of KINDS
    title: str
    question: str
    hints: tuple[str, ...]
    solution: str
    facts: Callable[[Context], dict]  # the computed values the check compares with (JSON-serializable)
    judge: Callable  # (answer, facts) -> Feedback
    label: str = "Your answer"  # the answer field's label
    starter: str = ""  # code: the editable cell's first text
    choices: tuple[str, ...] = ()  # experiment: the predictions to choose from
    scene: str | None = None  # scene: the scene whose document the question reads
    live: bool = True  # the facts depend on the run: the page can check against the reader's own run
    build_facts: bool = True  # the page carries the build's facts (False: its Check runs the experiment itself)
    imports: str = ""  # code: what a notebook imports for the reader's function (the page gives it)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if not self.hints:
            raise ValueError(f"{self.id}: an exercise needs at least one hint")

    @property
    def page(self) -> str:
        return self.id.split("-")[0]

    def check(self, answer, facts: dict) -> Feedback:
        try:
            return self.judge(answer, facts)
        except AnswerError as e:
            return error(str(e))

    def notebook_cell(self) -> str:
        """The exercise as a notebook's code cell: the blank to fill in and its check, a plain function call."""
        head = "from microgpt import exercises\n"
        if self.kind == "code":
            name = self.starter.split("def ", 1)[1].split("(", 1)[0]
            imports = f"import math\nimport random\n\n{head}from microgpt.autograd import Value\n{self.imports}"
            return f'{imports}\n\n{self.starter}\n\nexercises.check("{self.id}", {name})\n'
        if self.kind == "experiment":
            options = ", ".join(repr(c) for c in self.choices)
            return f'{head}\nprediction = None  # one of {options}\nexercises.check("{self.id}", prediction)\n'
        return f'{head}\nanswer = None  # {self.label.lower()}\nexercises.check("{self.id}", answer)\n'

    def render(self, text: str, facts: dict | None) -> str:
        """Text with the facts filled in ({name} or {name:.4f})."""
        return text.format(**(facts or {}))


class AnswerError(ValueError):
    """An answer that cannot be read (not a number, not one of the choices): the message says what to type."""


BLANK = "put your answer in place of None"


def parse_number(answer) -> float:
    if answer is None:
        raise AnswerError(BLANK)
    if isinstance(answer, bool):
        raise AnswerError("type a number, e.g. 3.3")
    if isinstance(answer, (int, float)):
        value = float(answer)
    else:
        text = str(answer).strip().replace(",", "").replace("−", "-")
        if not text:
            raise AnswerError("type a number first")
        try:
            value = float(text)
        except ValueError:
            raise AnswerError(f"{text!r} is not a number; type digits, e.g. 3.3 or 0.004 or 1e-3") from None
    if not math.isfinite(value):
        raise AnswerError("type a finite number")
    return value


@dataclass(frozen=True)
class Misconception:
    """A typical wrong answer: its value (from the facts), how near counts as it, and what it means."""

    value: Callable[[dict], float]
    message: str  # formatted with the facts
    tolerance: float = 1e-9
    relative: bool = False


def near(a: float, b: float, tolerance: float, relative: bool) -> bool:
    return abs(a - b) <= (tolerance * abs(b) if relative else tolerance) + 1e-12


def number(key: str, tolerance: float, relative: bool = False, misconceptions=(), unit: str = "") -> Callable:
    """A judge for a number: right within the tolerance of facts[key]; a known misconception says what it means."""
    def judge(answer, facts: dict) -> Feedback:
        value = parse_number(answer)
        expected = facts[key]
        how = f"within {tolerance:.0%}" if relative else ("exactly" if tolerance == 0 else f"within {fmt(tolerance)}")
        if near(value, expected, tolerance, relative):
            if fmt(value) == fmt(expected):  # "Right: 0 (checked exactly).", not "0: your 0 is right"
                return right(f"{fmt(expected)}{unit} (checked {how}).")
            return right(f"{fmt(expected)}{unit}; your {fmt(value)} is near enough (checked {how}).")
        for m in misconceptions:
            if near(value, m.value(facts), m.tolerance, m.relative):
                return wrong(m.message.format(**facts, answer=fmt(value)))
        side = "high" if value > expected else "low"
        return wrong(f"{fmt(value)} is too {side} (checked {how}). Try a hint.")
    return judge


def choice(key: str, choices: tuple[str, ...], explain: str) -> Callable:
    """A judge for a prediction among choices: right if it is facts[key]; the message shows what the run did."""
    def judge(answer, facts: dict) -> Feedback:
        if answer is None:
            raise AnswerError(f"{BLANK}: one of {', '.join(repr(c) for c in choices)}")
        text = str(answer).strip().lower()
        if text not in [c.lower() for c in choices]:
            raise AnswerError(f"choose one of: {', '.join(choices)}")
        outcome = explain.format(**facts)
        if text == facts[key].lower():
            return right(f"you predicted {facts[key]}. {outcome}")
        return wrong(f"you predicted {text}, but it was {facts[key]}. {outcome}")
    return judge


def text_answer(key: str, what: str, misconceptions: dict | None = None) -> Callable:
    """A judge for a word or a character read off a scene: compared without case or surrounding quotes."""
    def judge(answer, facts: dict) -> Feedback:
        if answer is None:
            raise AnswerError(BLANK)
        given = str(answer).strip().strip("'\"").strip()
        if not given:
            raise AnswerError(f"type {what} first")
        expected = str(facts[key])
        if given.lower() == expected.lower():
            return right(f"{expected!r}.")
        for key_wrong, message in (misconceptions or {}).items():
            if given.lower() == str(facts.get(key_wrong, "")).lower():
                return wrong(message.format(**facts, answer=given))
        return wrong(f"not {given!r}. Try a hint.")
    return judge

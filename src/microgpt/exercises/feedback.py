"""What a check says: right, wrong or error, and one message in words that teaches."""

from dataclasses import dataclass

RESULTS = ("right", "wrong", "error")


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer; `result` is one of RESULTS (the page's data-result)."""

    result: str
    message: str

    def __post_init__(self):
        if self.result not in RESULTS:
            raise ValueError(f"result must be one of {RESULTS}, got {self.result!r}")

    @property
    def right(self) -> bool:
        return self.result == "right"

    def as_dict(self) -> dict:
        return {"result": self.result, "message": self.message}

    def __str__(self):
        return f"{self.result.capitalize()}: {self.message}"

    def _repr_pretty_(self, p, cycle):  # what Jupyter shows for check(...) as a cell's last value
        p.text(str(self))

    __repr__ = __str__


def right(message: str) -> Feedback:
    return Feedback("right", message)


def wrong(message: str) -> Feedback:
    return Feedback("wrong", message)


def error(message: str) -> Feedback:
    return Feedback("error", message)


def fmt(x) -> str:
    """A number as the messages show it: 4 significant digits, ints as they are."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return repr(x) if isinstance(x, str) else str(x)
    if isinstance(x, int):
        return str(x)
    return f"{x:.4g}"

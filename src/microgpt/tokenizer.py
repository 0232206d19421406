"""Lines 23-27: every unique character is a token; one extra token, BOS, marks where a name starts and ends."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Tokenizer:
    """The vocabulary: `uchars` are token ids 0..n-1, `BOS` is n."""

    uchars: list[str]  # unique characters in the dataset, sorted

    @classmethod
    def from_docs(cls, docs: list[str]) -> "Tokenizer":
        return cls(sorted(set("".join(docs))))

    @property
    def BOS(self) -> int:
        """Token id of the Beginning of Sequence token: one past the characters."""
        return len(self.uchars)

    @property
    def vocab_size(self) -> int:
        """Total number of unique tokens, +1 is for BOS."""
        return len(self.uchars) + 1

    def encode(self, doc: str) -> list[int]:
        """A document surrounded by BOS on both sides (line 157)."""
        return [self.BOS] + [self.uchars.index(ch) for ch in doc] + [self.BOS]

    def decode(self, tokens) -> str:
        """Characters of the tokens, BOS left out."""
        return "".join(self.uchars[t] for t in tokens if t != self.BOS)

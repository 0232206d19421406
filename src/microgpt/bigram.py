"""The loss's yardsticks: uniform guessing, and a bigram model counted on the names a run trains on.

Plain Python: the training page's cell, the recorded run's snapshot and the reader's run in the browser (no
NumPy there) all call these functions, so the figure in the prose and the line in the training scene are one
number.
"""

import math

from .training import document_tokens

HELD_OUT = 1000  # how many documents after the trained ones the bigram is scored on (the names never trained on)


def held_out(docs: list[str], num_trained: int, count: int = HELD_OUT) -> list[str]:
    """The `count` documents after the first num_trained, less any that are among those: names never trained on."""
    trained = set(docs[:num_trained])
    return [name for name in docs[num_trained:num_trained + count] if name not in trained]


def pairs(tokenizer, name: str, block_size: int):
    """The (previous, next) token pairs a training step on this name predicts (lines 157-158's BOS and cut)."""
    tokens, n = document_tokens(tokenizer, name, block_size)
    return zip(tokens[:n], tokens[1:n + 1])


def bigram(tokenizer, names, block_size: int) -> list[list[float]]:
    """p(next | previous) from letter-pair counts, each count plus one: (vocab_size, vocab_size)."""
    vocab_size = tokenizer.vocab_size
    counts = [[1.0] * vocab_size for _ in range(vocab_size)]  # plus one: no pair has probability 0
    for name in names:
        for a, b in pairs(tokenizer, name, block_size):
            counts[a][b] += 1
    return [[c / total for c in row] for row, total in zip(counts, map(sum, counts))]


def bigram_loss(tokenizer, p: list[list[float]], names: list[str], block_size: int) -> float:
    """The mean over names of each name's mean -log p, as line 169 averages a name."""
    total = 0.0
    for name in names:
        losses = [-math.log(p[a][b]) for a, b in pairs(tokenizer, name, block_size)]
        total += sum(losses) / len(losses)
    return total / len(names)


def yardsticks(tokenizer, docs: list[str], block_size: int, num_trained: int) -> dict:
    """The training scene's two lines for a run that trains on docs[:num_trained]: uniform guessing, -ln(1/V); and
    the bigram counted on those names, scored on the next HELD_OUT it never trains on (None when there are none)."""
    unseen = held_out(docs, num_trained)
    loss = bigram_loss(tokenizer, bigram(tokenizer, docs[:num_trained], block_size), unseen, block_size) if unseen \
        else None
    return {"uniform": -math.log(1 / tokenizer.vocab_size), "bigram": loss,
            "counted": min(num_trained, len(docs)), "held_out": len(unseen)}

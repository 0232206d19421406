"""Lines 74-90: the model's knowledge, every weight a `Value` drawn from a Gaussian in the original's order."""

import random

from .autograd import Value
from .config import GPTConfig


def matrix(rng: random.Random, nout: int, nin: int, std: float = 0.08) -> list[list[float]]:
    """An (nout, nin) matrix of Gaussian draws, row by row (line 80); both engines start from these floats."""
    return [[rng.gauss(0, std) for _ in range(nin)] for _ in range(nout)]


def state_dict_shapes(config: GPTConfig, vocab_size: int) -> dict[str, tuple[int, int]]:
    """Name -> (rows, cols) of every parameter matrix, in the order they are drawn (lines 81-88)."""
    n_embd = config.n_embd
    shapes = {"wte": (vocab_size, n_embd), "wpe": (config.block_size, n_embd), "lm_head": (vocab_size, n_embd)}
    for i in range(config.n_layer):
        shapes[f"layer{i}.attn_wq"] = (n_embd, n_embd)
        shapes[f"layer{i}.attn_wk"] = (n_embd, n_embd)
        shapes[f"layer{i}.attn_wv"] = (n_embd, n_embd)
        shapes[f"layer{i}.attn_wo"] = (n_embd, n_embd)
        shapes[f"layer{i}.mlp_fc1"] = (4 * n_embd, n_embd)
        shapes[f"layer{i}.mlp_fc2"] = (n_embd, 4 * n_embd)
    return shapes


def layout(config: GPTConfig, vocab_size: int) -> dict[str, tuple[int, int, int]]:
    """Name -> (offset, rows, cols) of each matrix in `params` (line 89): matrices in order, row-major."""
    spans, offset = {}, 0
    for name, (rows, cols) in state_dict_shapes(config, vocab_size).items():
        spans[name] = (offset, rows, cols)
        offset += rows * cols
    return spans


def matrix_views(flat, config: GPTConfig, vocab_size: int) -> dict:
    """Name -> (rows, cols) view into a flat array laid out like `params`."""
    return {name: flat[offset:offset + rows * cols].reshape(rows, cols)
            for name, (offset, rows, cols) in layout(config, vocab_size).items()}


def unflatten(flat, config: GPTConfig, vocab_size: int) -> dict[str, list[list[float]]]:
    """Name -> rows of floats from a flat sequence laid out like `params`: matrix_views without NumPy."""
    return {name: [[float(w) for w in flat[offset + r * cols:offset + (r + 1) * cols]] for r in range(rows)]
            for name, (offset, rows, cols) in layout(config, vocab_size).items()}


def init_weights(config: GPTConfig, vocab_size: int, rng: random.Random) -> dict[str, list[list[float]]]:
    """Every parameter matrix as floats, drawn in the original's order and keyed by its names."""
    return {name: matrix(rng, rows, cols) for name, (rows, cols) in state_dict_shapes(config, vocab_size).items()}


def init_state_dict(config: GPTConfig, vocab_size: int, rng: random.Random) -> dict[str, list[list[Value]]]:
    """The scalar engine's parameters: every weight a leaf Value of the graph (line 81)."""
    weights = init_weights(config, vocab_size, rng)
    return {name: [[Value(w) for w in row] for row in mat] for name, mat in weights.items()}


def flatten(state_dict: dict[str, list[list[Value]]]) -> list[Value]:
    """Flatten params into a single list[Value] (line 89); Adam's buffers follow this order."""
    return [p for mat in state_dict.values() for row in mat for p in row]

"""Lines 186-200: generate names one token at a time, each drawn at random from the model's probabilities."""

import random

from .config import SampleConfig
from .tokenizer import Tokenizer


def draw(rng: random.Random, probs: list[float]) -> int:
    """Line 196: a token drawn at random in proportion to its probability (not the most likely one)."""
    return rng.choices(range(len(probs)), weights=probs)[0]


def sample(engine, tokenizer: Tokenizer, rng: random.Random, temperature: float, block_size: int,
           draw=draw) -> str:
    """One name: start from BOS, stop at BOS or when the block is full (draw(rng, probs) picks each token)."""
    cache = engine.new_cache()
    token_id = tokenizer.BOS
    sample = []
    for pos_id in range(block_size):
        probs = engine.next_token_probs(token_id, pos_id, cache, temperature)
        token_id = draw(rng, probs)
        if token_id == tokenizer.BOS:
            break
        sample.append(tokenizer.uchars[token_id])
    return "".join(sample)


def samples(engine, tokenizer: Tokenizer, rng: random.Random, config: SampleConfig, block_size: int):
    """Line 189: yields config.num_samples names, one after another from the same random stream."""
    for _ in range(config.num_samples):
        yield sample(engine, tokenizer, rng, config.temperature, block_size)

"""The whole original, start to finish: set up in its order, train, sample, and print its transcript."""

import random
import sys
from dataclasses import dataclass
from typing import TextIO

from .config import GPTConfig, SampleConfig, TrainConfig
from .dataset import load_docs
from .inference import samples
from .tokenizer import Tokenizer
from .training import Trainer


def make_engine(name: str, config: GPTConfig, train: TrainConfig, vocab_size: int, rng: random.Random):
    """The engine called `name`, its parameters drawn from rng."""
    if name == "scalar":
        from .scalar import ScalarEngine

        return ScalarEngine(config, train, vocab_size, rng)
    if name == "numpy":
        from .numpy_engine import NumpyEngine

        return NumpyEngine(config, train, vocab_size, rng)
    if name == "floats":
        from .float_engine import FloatEngine

        return FloatEngine(config, train, vocab_size, rng)
    raise ValueError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")


ENGINES = ("scalar", "numpy", "floats")
DEFAULT_ENGINE = "scalar"  # the original's Value graph: what `microgpt run` uses unless told otherwise


@dataclass
class Run:
    """Everything the original builds before its training loop, in the order it builds it."""

    config: GPTConfig
    train_config: TrainConfig
    docs: list[str]
    tokenizer: Tokenizer
    engine: object
    trainer: Trainer
    rng: random.Random  # the one random stream: shuffle, init, then sampling

    @classmethod
    def setup(cls, config=GPTConfig(), train=TrainConfig(), *, data=None, docs=None, engine=DEFAULT_ENGINE) -> "Run":
        """Lines 12-90: seed, load and shuffle the docs, build the vocabulary, draw the parameters."""
        rng = random.Random(train.seed)  # random.seed(42): let there be order among chaos
        docs = list(docs) if docs is not None else load_docs(data)
        rng.shuffle(docs)
        tokenizer = Tokenizer.from_docs(docs)
        model = make_engine(engine, config, train, tokenizer.vocab_size, rng)
        trainer = Trainer(docs, tokenizer, model, train, config.block_size)
        return cls(config, train, docs, tokenizer, model, trainer, rng)

    def samples(self, config=SampleConfig()) -> list[str]:
        """Lines 188-200: names babbled by the model as it is now."""
        return list(self.iter_samples(config))

    def iter_samples(self, config=SampleConfig()):
        """The same names, each yielded as soon as it is drawn."""
        return samples(self.engine, self.tokenizer, self.rng, config, self.config.block_size)


def run(config=GPTConfig(), train=TrainConfig(), sample=SampleConfig(), *, data=None, engine=DEFAULT_ENGINE,
        out: TextIO | None = None, progress=None) -> Run:
    """Print exactly what the original prints for these settings; progress(step, num_steps) after each step."""
    out = out or sys.stdout
    r = Run.setup(config, train, data=data, engine=engine)
    print(f"num docs: {len(r.docs)}", file=out)
    print(f"vocab size: {r.tokenizer.vocab_size}", file=out)
    print(f"num params: {r.engine.num_params}", file=out)

    def on_step(step, loss):
        print(f"step {step+1:4d} / {train.num_steps:4d} | loss {loss:.4f}", file=out)
        if progress:
            progress(step + 1, train.num_steps)

    r.trainer.train(train.num_steps, on_step=on_step)
    print("\n--- inference (new, hallucinated names) ---", file=out)
    for sample_idx, name in enumerate(r.iter_samples(sample)):
        print(f"sample {sample_idx+1:2d}: {name}", file=out)
    return r

"""The original's constants (lines 12, 75-78, 147, 152, 187-189), as dataclasses with their defaults."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class GPTConfig:
    """Shape of the model: lines 75-78 of the original."""

    n_embd: int = 16  # embedding dimension
    n_head: int = 4  # number of attention heads
    n_layer: int = 1  # number of layers
    block_size: int = 16  # maximum sequence length

    def __post_init__(self):
        for name in ("n_embd", "n_head", "n_layer", "block_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(name, f"must be an integer >= 1, got {value!r}")
        if self.n_embd % self.n_head:
            raise ConfigError("n_embd", f"{self.n_embd} is not divisible by n_head={self.n_head}")

    @property
    def head_dim(self) -> int:
        """Dimension of each head (line 79)."""
        return self.n_embd // self.n_head


@dataclass(frozen=True)
class TrainConfig:
    """Seed, Adam and the schedule: lines 12, 147 and 152 of the original."""

    seed: int = 42  # random.seed(42): one stream drives shuffle, init and sampling
    learning_rate: float = 0.01  # peak learning rate, decayed linearly to 0 at num_steps
    beta1: float = 0.85  # Adam first-moment decay
    beta2: float = 0.99  # Adam second-moment decay
    eps_adam: float = 1e-8  # Adam denominator guard
    num_steps: int = 1000  # the schedule's horizon: lr reaches 0 here

    def __post_init__(self):
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError("seed", f"must be an integer, got {self.seed!r}")
        if not _positive_finite(self.learning_rate):
            raise ConfigError("learning_rate", f"must be a positive finite number, got {self.learning_rate!r}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not (_finite(value) and 0 <= value < 1):
                raise ConfigError(name, f"must be in [0, 1), got {value!r}")
        if not _positive_finite(self.eps_adam):
            raise ConfigError("eps_adam", f"must be a positive finite number, got {self.eps_adam!r}")
        if not isinstance(self.num_steps, int) or isinstance(self.num_steps, bool) or self.num_steps < 0:
            raise ConfigError("num_steps", f"must be an integer >= 0, got {self.num_steps!r}")


@dataclass(frozen=True)
class SampleConfig:
    """Inference settings: lines 187 and 189 of the original.

    Any positive finite temperature samples. One so small that the original's arithmetic overflows (1 / temperature,
    or the logits divided by it), where the original stops with an error, samples greedily: the most likely token
    every time, which is where its draws tend as the temperature falls (`microgpt.model.coldest`).
    """

    temperature: float = 0.5  # in (0, 1], control the "creativity" of generated text, low to high
    num_samples: int = 20  # how many names to babble

    def __post_init__(self):
        if not _positive_finite(self.temperature):
            raise ConfigError("temperature", f"must be a positive finite number, got {self.temperature!r}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples < 0:
            raise ConfigError("num_samples", f"must be an integer >= 0, got {self.num_samples!r}")


@dataclass(frozen=True)
class SnapshotConfig:
    """What `microgpt snapshot` records besides the run itself."""

    checkpoint_every: int = 10  # a checkpoint at step 0, every this many steps, and the last step
    probes: tuple[str, ...] = ("emma", "olivia", "ava")  # words traced at every checkpoint (must be in the dataset)
    temperatures: tuple[float, ...] = (0.2, 0.5, 1.0)  # sampled after training, each from the same state
    adam_params: tuple[str, ...] = ("wte[BOS][0]", "wte[a][0]", "layer0.attn_wq[0][0]", "lm_head[a][0]")

    def __post_init__(self):
        every = self.checkpoint_every
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ConfigError("checkpoint_every", f"must be an integer >= 1, got {every!r}")


class ConfigError(ValueError):
    """A setting out of range; `field` names it so the CLI can name its option."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field} {message}")
        self.field = field
        self.detail = message


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _positive_finite(x) -> bool:
    return _finite(x) and x > 0

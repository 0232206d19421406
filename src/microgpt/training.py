"""Lines 151-184: one document per step, forward to the loss, backward, Adam; resumable in pieces."""

from collections.abc import Callable

from .config import TrainConfig
from .optimizer import HorizonError, learning_rate_at
from .tokenizer import Tokenizer


class NonFiniteLossError(FloatingPointError):
    """Training produced a non-finite loss or gradient; the model was left as it was before that step."""

    def __init__(self, step: int, what: str):
        super().__init__(f"step {step + 1}: {what}; the parameters were not updated")
        self.step = step


def document_tokens(tokenizer: Tokenizer, doc: str, block_size: int) -> tuple[list[int], int]:
    """Lines 157-158: BOS + doc + BOS, and how many next-token predictions fit the block."""
    tokens = tokenizer.encode(doc)
    n = min(block_size, len(tokens) - 1)
    return tokens, n


class Trainer:
    """The training loop as an object: train 100 steps, look, train 100 more, bit-identical to one call.

    `step` counts the steps done; `num_steps` is the schedule's horizon, where the learning rate
    reaches 0. Going past it is never silent: `extend()` plans a longer schedule, or
    `train(..., after_horizon="zero")` keeps training with a learning rate of 0.
    """

    def __init__(self, docs: list[str], tokenizer: Tokenizer, engine, train: TrainConfig, block_size: int):
        self.docs, self.tokenizer, self.engine, self.config = docs, tokenizer, engine, train
        self.block_size = block_size
        self.step = 0  # steps done so far
        self.num_steps = train.num_steps  # the schedule's horizon

    def extend(self, num_steps: int) -> None:
        """Plan a longer schedule: the decay is recomputed towards the new horizon from the next step on."""
        if num_steps < self.step:
            raise HorizonError(f"new horizon {num_steps} is before the {self.step} steps already done")
        self.num_steps = num_steps

    def learning_rate(self, step: int, after_horizon: str = "error") -> float:
        """The rate for a step: the original's decay, or 0 past the horizon if asked for."""
        if after_horizon == "zero" and step >= self.num_steps:
            return 0.0
        if after_horizon not in ("error", "zero"):
            raise ValueError(f"after_horizon must be 'error' or 'zero', got {after_horizon!r}")
        return learning_rate_at(step, self.num_steps, self.config.learning_rate)

    def train(self, steps: int, *, after_horizon: str = "error",
              on_step: Callable[[int, float], None] | None = None,
              before_update: Callable[[int, object], None] | None = None) -> list[float]:
        """Run `steps` more steps; returns their losses.

        on_step(step, loss) runs after each step; before_update(step, engine) between backward and Adam,
        when the gradients are there to look at.
        """
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        if after_horizon == "error" and self.step + steps > self.num_steps:
            raise HorizonError(
                f"training {steps} more steps from step {self.step} passes the horizon of {self.num_steps} "
                f"steps, where the learning rate reaches 0; call extend({self.step + steps}) for a longer "
                "schedule, or train(..., after_horizon='zero') to keep the rate at 0"
            )
        losses = []
        for _ in range(steps):
            step = self.step
            lr_t = self.learning_rate(step, after_horizon)
            doc = self.docs[step % len(self.docs)]
            tokens, n = document_tokens(self.tokenizer, doc, self.block_size)
            loss = self.engine.forward_backward(tokens, n, step)  # raises if not finite: nothing updated
            if before_update:
                before_update(step, self.engine)
            self.engine.update(lr_t, step)
            self.step += 1
            losses.append(loss)
            if on_step:
                on_step(step, loss)
        return losses

"""The scalar engine: the original's `Value` graph, `gpt()` and Adam behind the interface training and sampling use."""

import gc
import math
import random
from contextlib import contextmanager

from .autograd import Value
from .config import GPTConfig, TrainConfig
from .model import coldest, gpt, softmax
from .optimizer import Adam
from .parameters import flatten, init_state_dict
from .training import NonFiniteLossError


@contextmanager
def gc_paused():
    """Suspend the cyclic garbage collector while a graph is built and walked.

    Each step allocates tens of thousands of Values and no reference cycles, so reference counting frees them
    all; the collector would only rescan the live graph again and again (`nox -s bench` measures the cost).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ScalarEngine:
    """Parameters as Values, gradients by `Value.backward()`: every float exactly as the original computes it."""

    name = "scalar"

    def __init__(self, config: GPTConfig, train: TrainConfig, vocab_size: int, rng: random.Random):
        self.config = config
        self.state_dict = init_state_dict(config, vocab_size, rng)
        self.params = flatten(self.state_dict)  # list[Value], the order Adam's buffers follow
        self.adam = Adam(self.params, train)

    @property
    def num_params(self) -> int:
        return len(self.params)

    def new_cache(self) -> tuple[list, list]:
        """An empty KV cache: per layer, the keys and values of the positions seen so far (line 161)."""
        n_layer = self.config.n_layer
        return [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]

    def loss(self, tokens: list[int], n: int) -> Value:
        """Lines 161-169: mean cross-entropy of predicting tokens[1:n+1], as one graph ending in the loss."""
        keys, values = self.new_cache()
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            logits = gpt(token_id, pos_id, keys, values, self.state_dict, self.config)
            probs = softmax(logits)
            loss_t = -probs[target_id].log()
            losses.append(loss_t)
        return (1 / n) * sum(losses)  # final average loss over the document sequence. May yours be low.

    def forward_backward(self, tokens: list[int], n: int, step: int) -> float:
        """Lines 161-172: the loss and every parameter's gradient; raises if either is not finite."""
        with gc_paused():
            try:
                loss = self.loss(tokens, n)
            except (ValueError, OverflowError, ZeroDivisionError) as e:  # log(0) or exp overflow
                raise NonFiniteLossError(step, f"the loss is not finite ({e})") from None
            if not math.isfinite(loss.data):
                raise NonFiniteLossError(step, f"loss is {loss.data}")
            loss.backward()
            loss_data = loss.data
            del loss  # free the graph while the collector is still paused: freeing it is part of the step
        if not all(math.isfinite(p.grad) for p in self.params):
            for p in self.params:
                p.grad = 0
            raise NonFiniteLossError(step, "a gradient is not finite")
        return loss_data

    def update(self, lr_t: float, step: int) -> None:
        """Lines 175-182: one Adam step, gradients cleared; one that is not finite changes nothing and raises."""
        try:
            self.adam.update(lr_t, step)
        except FloatingPointError as e:
            for p in self.params:
                p.grad = 0
            raise NonFiniteLossError(step, str(e)) from None

    def weights(self) -> list[float]:
        """Every parameter's value, flat in `params` order."""
        return [p.data for p in self.params]

    def gradient(self) -> list[float]:
        return [float(p.grad) for p in self.params]

    def moments(self) -> tuple[list[float], list[float]]:
        return list(self.adam.m), list(self.adam.v)

    def load_state(self, weights, m, v) -> None:
        """Every parameter and Adam's buffers from flat sequences in `params` order (a saved run's)."""
        for p, w in zip(self.params, weights, strict=True):
            p.data = w
        self.adam.m[:], self.adam.v[:] = m, v

    def next_token_probs(self, token_id: int, pos_id: int, cache, temperature: float) -> list[float]:
        """Line 194-195: the next token's probabilities at this temperature, extending the cache; at one so small
        that the original's arithmetic overflows, the limit it tends to (`coldest`)."""
        keys, values = cache
        with gc_paused():
            logits = gpt(token_id, pos_id, keys, values, self.state_dict, self.config)
            try:
                probs = [p.data for p in softmax([l / temperature for l in logits])]
                if all(map(math.isfinite, probs)):
                    return probs
            except OverflowError:  # 1 / temperature overflows
                pass
            return coldest([l.data for l in logits])  # where the original stops with an error

"""Lines 146-149 and 174-182: Adam with its two moment buffers, and the linear learning-rate decay."""

import math

from .config import TrainConfig


class HorizonError(ValueError):
    """A step at or past the schedule's horizon, where the original's decay would turn negative."""


def learning_rate_at(step: int, num_steps: int, learning_rate: float) -> float:
    """Line 175: linear decay from learning_rate at step 0 towards 0 at num_steps.

    The original never asks past its horizon; an earlier port did, and its negative rate made the
    loss explode. Here a step outside [0, num_steps) is an error, never a negative rate.
    """
    if not 0 <= step < num_steps:
        raise HorizonError(
            f"step {step} is outside the schedule's horizon of {num_steps} steps; "
            "extend the horizon or train with after_horizon='zero'"
        )
    return learning_rate * (1 - step / num_steps)  # linear learning rate decay


class Adam:
    """Adam over a flat list of Values, with the original's arithmetic, one parameter at a time."""

    def __init__(self, params: list, train: TrainConfig):
        self.params = params
        self.beta1, self.beta2, self.eps_adam = train.beta1, train.beta2, train.eps_adam
        self.m = [0.0] * len(params)  # first moment buffer
        self.v = [0.0] * len(params)  # second moment buffer

    def update(self, lr_t: float, step: int) -> None:
        """Move every parameter against its gradient (step counts from 0), then clear the gradient.

        All or nothing: where the original would write an infinite weight (or stop on a gradient whose square
        overflows), this raises FloatingPointError with every parameter and buffer as it was.
        """
        beta1, beta2, eps_adam, m, v = self.beta1, self.beta2, self.eps_adam, self.m, self.v
        before = m[:], v[:], [p.data for p in self.params]
        try:
            for i, p in enumerate(self.params):
                m[i] = beta1 * m[i] + (1 - beta1) * p.grad
                v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
                m_hat = m[i] / (1 - beta1 ** (step + 1))
                v_hat = v[i] / (1 - beta2 ** (step + 1))
                p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps_adam)
                p.grad = 0
        except OverflowError:
            self._put_back(*before)
            raise FloatingPointError("a gradient's square overflows") from None
        if not math.isfinite(sum(p.data for p in self.params)):  # finite if every weight is (and none near 1e308)
            self._put_back(*before)
            raise FloatingPointError("the update is not finite")

    def _put_back(self, m: list[float], v: list[float], weights: list[float]) -> None:
        self.m[:], self.v[:] = m, v
        for p, w in zip(self.params, weights):
            p.data = w

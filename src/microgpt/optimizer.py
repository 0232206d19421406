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
        beta1, beta2, eps_adam = self.beta1, self.beta2, self.eps_adam
        m, v, data = [], [], []
        try:
            for i, p in enumerate(self.params):
                m.append(beta1 * self.m[i] + (1 - beta1) * p.grad)
                v.append(beta2 * self.v[i] + (1 - beta2) * p.grad ** 2)
                m_hat = m[i] / (1 - beta1 ** (step + 1))
                v_hat = v[i] / (1 - beta2 ** (step + 1))
                data.append(p.data - lr_t * m_hat / (v_hat ** 0.5 + eps_adam))
        except OverflowError:
            raise FloatingPointError("a gradient's square overflows") from None
        if not all(map(math.isfinite, data)):
            raise FloatingPointError("the update is not finite")
        self.m[:], self.v[:] = m, v
        for p, d in zip(self.params, data):
            p.data, p.grad = d, 0

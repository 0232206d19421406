"""The same model, written with arrays: one document's positions at once, heads batched, backward by hand.

Each function mirrors a piece of the scalar code (model.py, autograd.py, optimizer.py) and computes the same
floats up to rounding (summation order differs): losses and gradients agree with the scalar engine to ~1e-15,
and the printed transcript is byte-identical. Where the scalar code divides a Value, it multiplies by the
reciprocal (`Value.__truediv__` is `self * other**-1`); so does this file, to stay as close as it can.

Shapes: n positions, C = n_embd, H = n_head, D = head_dim, V = vocab_size.
"""

import functools
import math
import random

import numpy as np

from .config import GPTConfig, TrainConfig
from .model import coldest
from .parameters import init_weights, matrix_views
from .training import NonFiniteLossError


def rmsnorm(x):
    """Each row of x scaled to unit root-mean-square: (n, C) -> (n, C), and the scale (n, 1) for backward."""
    ms = np.add.reduce(x * x, axis=-1, keepdims=True) * (1 / x.shape[-1])
    scale = (ms + 1e-5) ** -0.5
    return x * scale, scale


def rmsnorm_backward(y, scale, dy):
    """d rmsnorm, from its output y = x * scale: scale * dy, less the part of dy that would change the row's RMS."""
    return scale * (dy - y * (np.add.reduce(dy * y, axis=-1, keepdims=True) * (1 / y.shape[-1])))


def softmax(logits):
    """Softmax over the last axis; masked (-inf) entries get probability 0."""
    exps = np.exp(logits - np.maximum.reduce(logits, axis=-1, keepdims=True))
    return exps * np.add.reduce(exps, axis=-1, keepdims=True) ** -1


@functools.cache
def causal_mask(n: int):
    """(n, n): 0 where position t may attend to key s <= t, -inf where the key lies in the future."""
    return np.triu(np.full((n, n), -np.inf), k=1)


def one_hot(ids, size: int):
    """(len(ids), size): row t is 1 at column ids[t]."""
    return identity(size)[ids]


@functools.cache
def identity(size: int):
    return np.eye(size)


def forward(sd: dict, config: GPTConfig, tokens, n: int) -> dict:
    """gpt() at positions 0..n-1 at once, every intermediate kept (backward and the snapshots read them).

    Position t attends to positions 0..t only (the causal mask), exactly what the scalar KV cache sees.
    """
    C, H, D = config.n_embd, config.n_head, config.head_dim
    tokens = np.asarray(tokens)
    ids = tokens[:n]
    acts = {"tokens": ids, "x0": sd["wte"][ids] + sd["wpe"][:n]}  # (n, C) joint token and position embedding
    x, acts["scale0"] = rmsnorm(acts["x0"])
    acts["x_norm0"] = x
    for li in range(config.n_layer):
        a = acts[li] = {"x_in": x}
        # 1) Multi-head attention block
        a["xn"], a["scale"] = rmsnorm(x)  # (n, C)
        a["w_qkv"] = np.concatenate([sd[f"layer{li}.attn_w{c}"] for c in "qkv"])  # (3C, C): q, k, v in one product
        qkv = a["xn"] @ a["w_qkv"].T  # (n, 3C)
        a["q"], a["k"], a["v"] = qkv[:, :C], qkv[:, C:2 * C], qkv[:, 2 * C:]
        qh, kh, vh = a["heads"] = qkv.reshape(n, 3, H, D).transpose(1, 2, 0, 3)  # (H, n, D) each
        a["attn_weights"] = softmax((qh @ kh.transpose(0, 2, 1)) * (D**0.5) ** -1 + causal_mask(n))  # (H, n, n)
        a["x_attn"] = (a["attn_weights"] @ vh).transpose(1, 0, 2).reshape(n, C)  # (n, C), heads side by side
        a["attn_out"] = a["x_attn"] @ sd[f"layer{li}.attn_wo"].T  # (n, C)
        x = a["attn_out"] + x  # residual connection
        # 2) MLP block
        a["x_mid"] = x
        a["xn2"], a["scale2"] = rmsnorm(x)
        a["h"] = a["xn2"] @ sd[f"layer{li}.mlp_fc1"].T  # (n, 4C)
        a["h_relu"] = np.maximum(a["h"], 0)
        a["mlp_out"] = a["h_relu"] @ sd[f"layer{li}.mlp_fc2"].T  # (n, C)
        x = a["mlp_out"] + x  # residual connection
    acts["x_out"] = x
    acts["logits"] = x @ sd["lm_head"].T  # (n, V)
    acts["probs"] = softmax(acts["logits"])
    if len(tokens) > n:  # targets known: the loss (at inference there is none)
        acts["targets"] = tokens[1:n + 1]
        acts["losses"] = -np.log(acts["probs"][np.arange(n), acts["targets"]])  # (n,) loss at each position
        acts["loss"] = (1 / n) * np.add.reduce(acts["losses"])
    return acts


def backward(sd: dict, grads: dict, config: GPTConfig, acts: dict) -> None:
    """The chain rule through forward(), by hand: fills grads (same keys and shapes as sd) with d loss."""
    C, H, D = config.n_embd, config.n_head, config.head_dim
    n = len(acts["tokens"])
    dlogits = (acts["probs"] - one_hot(acts["targets"], acts["probs"].shape[1])) * (1 / n)  # d loss / d logits
    grads["lm_head"][...] = dlogits.T @ acts["x_out"]
    dx = dlogits @ sd["lm_head"]  # (n, C)
    for li in reversed(range(config.n_layer)):
        a = acts[li]
        # 2) MLP block, backwards
        grads[f"layer{li}.mlp_fc2"][...] = dx.T @ a["h_relu"]
        dh = (dx @ sd[f"layer{li}.mlp_fc2"]) * (a["h"] > 0)  # relu passes gradient where it passed the value
        grads[f"layer{li}.mlp_fc1"][...] = dh.T @ a["xn2"]
        dx = dx + rmsnorm_backward(a["xn2"], a["scale2"], dh @ sd[f"layer{li}.mlp_fc1"])
        # 1) Multi-head attention block, backwards
        grads[f"layer{li}.attn_wo"][...] = dx.T @ a["x_attn"]
        dout = (dx @ sd[f"layer{li}.attn_wo"]).reshape(n, H, D).transpose(1, 0, 2)  # (H, n, D)
        qh, kh, vh = a["heads"]  # (H, n, D) each, as forward() split them
        w = a["attn_weights"]  # (H, n, n)
        dw = dout @ vh.transpose(0, 2, 1)
        dlogit = w * (dw - np.add.reduce(dw * w, axis=-1, keepdims=True)) * (D**0.5) ** -1  # softmax, 1/sqrt(D)
        dqkv = np.empty((3, H, n, D))  # d q, d k, d v, per head
        np.matmul(dlogit, kh, out=dqkv[0])
        np.matmul(dlogit.transpose(0, 2, 1), qh, out=dqkv[1])
        np.matmul(w.transpose(0, 2, 1), dout, out=dqkv[2])
        dqkv = dqkv.transpose(2, 0, 1, 3).reshape(n, 3 * C)
        dw_qkv = dqkv.T @ a["xn"]  # (3C, C)
        for i, c in enumerate("qkv"):
            grads[f"layer{li}.attn_w{c}"][...] = dw_qkv[i * C:(i + 1) * C]
        dx = dx + rmsnorm_backward(a["xn"], a["scale"], dqkv @ a["w_qkv"])
    dx0 = rmsnorm_backward(acts["x_norm0"], acts["scale0"], dx)
    np.matmul(one_hot(acts["tokens"], len(grads["wte"])).T, dx0, out=grads["wte"])  # a repeated token sums both
    grads["wpe"][:n] = dx0
    grads["wpe"][n:] = 0.0


class NumpyEngine:
    """The model's parameters in one flat float64 vector, in the scalar engine's `params` order."""

    name = "numpy"

    def __init__(self, config: GPTConfig, train: TrainConfig, vocab_size: int, rng: random.Random):
        self.config, self.train = config, train
        weights = init_weights(config, vocab_size, rng)  # the same gauss draws, in the same order
        self.flat = np.array([w for mat in weights.values() for row in mat for w in row])  # (num_params,)
        self.grad = np.zeros_like(self.flat)
        self.m = np.zeros_like(self.flat)  # first moment buffer
        self.v = np.zeros_like(self.flat)  # second moment buffer
        self.state_dict = matrix_views(self.flat, config, vocab_size)  # keyed by the original's names
        self.grads = matrix_views(self.grad, config, vocab_size)

    @property
    def num_params(self) -> int:
        return self.flat.size

    def forward_backward(self, tokens, n: int, step: int) -> float:
        """The loss of one document, its gradients in self.grad; raises if either is not finite."""
        with np.errstate(all="ignore"):  # reported below, with the step
            acts = forward(self.state_dict, self.config, tokens, n)
            loss = float(acts["loss"])
            if not math.isfinite(loss):
                raise NonFiniteLossError(step, f"loss is {loss}")
            backward(self.state_dict, self.grads, self.config, acts)
        if not math.isfinite(np.add.reduce(self.grad)):  # a sum is finite only if every term is
            raise NonFiniteLossError(step, "a gradient is not finite")
        return loss

    def weights(self) -> np.ndarray:
        return self.flat.copy()

    def gradient(self) -> np.ndarray:
        return self.grad.copy()

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.m.copy(), self.v.copy()

    def load_state(self, weights, m, v) -> None:
        """Every parameter and Adam's buffers from flat sequences in `params` order (a saved run's)."""
        self.flat[:], self.m[:], self.v[:] = weights, m, v

    def update(self, lr_t: float, step: int) -> None:
        """optimizer.Adam.update on all parameters at once: the same arithmetic, elementwise, all or nothing."""
        t = self.train
        with np.errstate(all="ignore"):  # reported below, with the step
            m = t.beta1 * self.m + (1 - t.beta1) * self.grad
            v = t.beta2 * self.v + (1 - t.beta2) * self.grad ** 2
            m_hat = m / (1 - t.beta1 ** (step + 1))
            v_hat = v / (1 - t.beta2 ** (step + 1))
            flat = self.flat - lr_t * m_hat / (v_hat ** 0.5 + t.eps_adam)
        if not np.isfinite(v).all():  # all or nothing, as Adam.update
            raise NonFiniteLossError(step, "a gradient's square overflows")
        if not np.isfinite(flat).all():
            raise NonFiniteLossError(step, "the update is not finite")
        self.m[:], self.v[:], self.flat[:] = m, v, flat

    def new_cache(self) -> list[int]:
        """The tokens so far: forward() over them is what the scalar KV cache holds."""
        return []

    def next_token_probs(self, token_id: int, pos_id: int, cache: list[int], temperature: float) -> list[float]:
        """Probabilities of the next token at this temperature (lines 194-195), for the last position; at one so
        small that the original's arithmetic overflows, the limit it tends to (model.coldest)."""
        cache.append(token_id)  # position pos_id
        with np.errstate(all="ignore"):  # an overflow falls back to coldest, which says if the logits overflowed
            logits = forward(self.state_dict, self.config, cache, len(cache))["logits"][-1]
            try:
                probs = softmax(logits * temperature**-1)
                if np.isfinite(probs).all():
                    return probs.tolist()
            except OverflowError:  # 1 / temperature overflows
                pass
        return coldest(logits.tolist())  # where the original stops with an error

"""Lines 92-144: the model, a stateless function from a token, its position and the KV cache to logits.

GPT-2 with minor differences: layernorm -> rmsnorm, no biases, GeLU -> ReLU. Every expression is the
original's, so the graph it builds (and so every float) is the original's too.
"""

import math

from .autograd import Value
from .config import GPTConfig


def linear(x: list[Value], w: list[list[Value]]) -> list[Value]:
    """Matrix-vector product: (nout, nin) @ (nin,) -> (nout,)."""
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits: list[Value]) -> list[Value]:
    """Probabilities from logits; subtracting the max keeps exp() from overflowing and changes nothing else."""
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


class DivergedError(FloatingPointError):
    """The model's numbers are not finite, or a probability is 0 (training diverged): it cannot be sampled, traced or
    recorded. Only a learning rate too high for the model does this."""


def coldest(logits: list[float]) -> list[float]:
    """softmax(logits / temperature) as the temperature falls to 0: all the probability on the most likely token
    (shared by ties). The port samples from it where the original's arithmetic overflows (1 / temperature, or
    the logits divided by it) and the original stops with an error: its draws tend to this as the temperature falls."""
    if not all(map(math.isfinite, logits)):
        raise DivergedError("the model's logits are not finite, so there is nothing to sample from")
    top = max(logits)
    winners = [float(l == top) for l in logits]
    return [w / sum(winners) for w in winners]


def rmsnorm(x: list[Value]) -> list[Value]:
    """Rescale x to unit root-mean-square, so activations keep one scale from layer to layer."""
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def gpt(token_id: int, pos_id: int, keys: list, values: list, state_dict: dict, config: GPTConfig) -> list[Value]:
    """Logits over the next token, (vocab_size,); appends this position's k and v to the cache (keys, values)."""
    n_head, head_dim = config.n_head, config.head_dim
    tok_emb = state_dict["wte"][token_id]  # token embedding, (n_embd,)
    pos_emb = state_dict["wpe"][pos_id]  # position embedding, (n_embd,)
    x = [t + p for t, p in zip(tok_emb, pos_emb)]  # joint token and position embedding
    x = rmsnorm(x)

    for li in range(config.n_layer):
        # 1) Multi-head attention block
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, state_dict[f"layer{li}.attn_wq"])  # (n_embd,)
        k = linear(x, state_dict[f"layer{li}.attn_wk"])  # (n_embd,)
        v = linear(x, state_dict[f"layer{li}.attn_wv"])  # (n_embd,)
        keys[li].append(k)  # keys[li]: (pos_id + 1, n_embd)
        values[li].append(v)
        x_attn = []
        for h in range(n_head):
            hs = h * head_dim
            q_h = q[hs:hs + head_dim]  # (head_dim,)
            k_h = [ki[hs:hs + head_dim] for ki in keys[li]]  # (T, head_dim)
            v_h = [vi[hs:hs + head_dim] for vi in values[li]]  # (T, head_dim)
            attn_logits = [sum(q_h[j] * k_h[t][j] for j in range(head_dim)) / head_dim**0.5 for t in range(len(k_h))]
            attn_weights = softmax(attn_logits)  # (T,): how much this position reads from each earlier one
            head_out = [sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(head_dim)]
            x_attn.extend(head_out)
        x = linear(x_attn, state_dict[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, x_residual)]
        # 2) MLP block
        x_residual = x
        x = rmsnorm(x)
        x = linear(x, state_dict[f"layer{li}.mlp_fc1"])  # (4 * n_embd,)
        x = [xi.relu() for xi in x]
        x = linear(x, state_dict[f"layer{li}.mlp_fc2"])  # (n_embd,)
        x = [a + b for a, b in zip(x, x_residual)]

    logits = linear(x, state_dict["lm_head"])  # (vocab_size,)
    return logits

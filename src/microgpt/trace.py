"""gpt() on plain floats, every intermediate kept: what the scenes show of one word, in any runtime, without NumPy.

Each expression is model.py's, evaluated on floats in the order the `Value` graph evaluates it (a division by
a Value is a multiplication by its reciprocal; sums run left to right from 0, never through the builtin
`sum`, which compensates float sums from Python 3.12 on), so the logits equal gpt()'s bit for bit.
"""

import math

from .config import GPTConfig
from .model import DivergedError
from .tokenizer import Tokenizer

LAYER_KEYS = ("xn", "q", "k", "v", "attn_weights", "x_attn", "attn_out", "x_mid", "xn2", "h", "h_relu", "mlp_out",
              "x_out")  # per layer, in the order gpt() computes them


class WordError(ValueError):
    """A word that cannot be traced: a character outside the vocabulary, or longer than the block."""


def total(xs) -> float:
    """Left-to-right sum from 0, as sum() adds Values."""
    s = 0
    for x in xs:
        s = s + x
    return s


def linear(x: list[float], w: list[list[float]]) -> list[float]:
    return [total(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits: list[float]) -> list[float]:
    max_val = max(logits)
    exps = [math.exp(val - max_val) for val in logits]
    inv = total(exps) ** -1
    return [e * inv for e in exps]


def rmsnorm(x: list[float]) -> list[float]:
    ms = total(xi * xi for xi in x) * len(x) ** -1
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def tensor(rows) -> dict:
    """Nested lists of floats as {shape, data}: row-major, as the snapshot format stores tensors."""
    shape, data = [], rows
    while isinstance(data, list):
        shape.append(len(data))
        data = data[0] if data else None
    flat = rows
    for _ in shape[1:]:
        flat = [x for row in flat for x in row]
    return {"shape": shape, "data": flat}


def trace(state_dict: dict[str, list[list[float]]], config: GPTConfig, tokens: list[int]) -> dict:
    """gpt() at positions 0..n-1 of one document (n = min(block_size, len(tokens) - 1)), every intermediate kept.

    Position t attends to positions 0..t (the KV cache); attention weights are (n_head, n, n), 0 past t.
    """
    n, n_head, head_dim = min(config.block_size, len(tokens) - 1), config.n_head, config.head_dim
    out = {"x0": [], "x_norm0": [], "logits": [], "probs": [], "losses": []}
    layers = [{k: [] for k in LAYER_KEYS} for _ in range(config.n_layer)]
    for a in layers:
        a["attn_weights"] = [[[0.0] * n for _ in range(n)] for _ in range(n_head)]
    keys, values = [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]
    for pos_id in range(n):
        token_id = tokens[pos_id]
        x = [t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])]
        out["x0"].append(x)
        x = rmsnorm(x)
        out["x_norm0"].append(x)
        for li, a in enumerate(layers):
            # 1) Multi-head attention block
            x_residual = x
            x = rmsnorm(x)
            a["xn"].append(x)
            q = linear(x, state_dict[f"layer{li}.attn_wq"])
            k = linear(x, state_dict[f"layer{li}.attn_wk"])
            v = linear(x, state_dict[f"layer{li}.attn_wv"])
            a["q"].append(q), a["k"].append(k), a["v"].append(v)
            keys[li].append(k)
            values[li].append(v)
            x_attn = []
            for h in range(n_head):
                hs = h * head_dim
                q_h = q[hs:hs + head_dim]
                k_h = [ki[hs:hs + head_dim] for ki in keys[li]]
                v_h = [vi[hs:hs + head_dim] for vi in values[li]]
                attn_logits = [total(q_h[j] * k_h[t][j] for j in range(head_dim)) * (head_dim**0.5) ** -1
                               for t in range(len(k_h))]
                attn_weights = softmax(attn_logits)
                a["attn_weights"][h][pos_id][:pos_id + 1] = attn_weights
                x_attn.extend(total(attn_weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(head_dim))
            a["x_attn"].append(x_attn)
            x = linear(x_attn, state_dict[f"layer{li}.attn_wo"])
            a["attn_out"].append(x)
            x = [p + r for p, r in zip(x, x_residual)]
            a["x_mid"].append(x)
            # 2) MLP block
            x_residual = x
            x = rmsnorm(x)
            a["xn2"].append(x)
            x = linear(x, state_dict[f"layer{li}.mlp_fc1"])
            a["h"].append(x)
            x = [xi if xi > 0 else 0.0 for xi in x]  # relu
            a["h_relu"].append(x)
            x = linear(x, state_dict[f"layer{li}.mlp_fc2"])
            a["mlp_out"].append(x)
            x = [p + r for p, r in zip(x, x_residual)]
            a["x_out"].append(x)
        logits = linear(x, state_dict["lm_head"])
        out["logits"].append(logits)
        out["probs"].append(softmax(logits))
        target = out["probs"][-1][tokens[pos_id + 1]]
        if not target > 0:  # 0 or nan: only a model whose training diverged gives it
            raise DivergedError(f"the next token's probability is {target}, so its loss is not finite")
        out["losses"].append(-math.log(target))
    return {"tokens": tokens[:n], "targets": tokens[1:n + 1], "x0": tensor(out["x0"]),
            "x_norm0": tensor(out["x_norm0"]), "layers": [{k: tensor(a[k]) for k in LAYER_KEYS} for a in layers],
            "logits": tensor(out["logits"]), "probs": tensor(out["probs"]), "losses": out["losses"],
            "loss": total(out["losses"]) * (1 / n)}


def word_tokens(tokenizer: Tokenizer, word: str, block_size: int) -> list[int]:
    """BOS + word + BOS, or a WordError naming the first unknown character, or saying the word is too long."""
    unknown = [ch for ch in word if ch not in tokenizer.uchars]
    if unknown:
        raise WordError(f"{unknown[0]!r} is not in the vocabulary ({''.join(tokenizer.uchars)})")
    if not word:
        raise WordError("the word is empty")
    if len(word) + 1 > block_size:
        raise WordError(f"{word!r} has {len(word)} characters; block_size = {block_size} fits at most "
                        f"{block_size - 1} (one position predicts the closing BOS)")
    return tokenizer.encode(word)

"""The same model on lists of floats, backward written out by hand: no NumPy and no `Value`, so the browser runs it.

The forward pass is model.py's, expression for expression, on floats in the order the `Value` graph evaluates
them (as trace.py does): a division by a Value is a multiplication by its reciprocal, sums run left to right from
0. Up to CPython 3.11 the builtin `sum` of floats does exactly that, so the loss and the sampling probabilities
equal the scalar engine's bit for bit; from 3.12 on `sum` compensates its rounding (Pyodide runs 3.14), so they
agree to the last bit or so. The backward pass is the chain rule written out, as numpy_engine.py writes it with
arrays: its sums run in another order than `Value.backward()`'s, so gradients agree to ~1e-15, as the NumPy
engine's do, and the printed transcript is the original's byte for byte.

Speed comes from building no graph (no object per operation, nothing to walk, nothing for the garbage collector)
and from doing every inner product in C: `sum(map(mul, a, b))` (no Python frame per term) and, from 3.12 on,
`math.sumprod(a, b)` for the short ones, mapped over a matrix's rows (no bytecode per row either). Under Pyodide,
whose interpreter runs as WebAssembly, sumprod takes about half the time of sum(map(mul)) up to ~30 terms (it
makes no float object per product) and more beyond (its extended-precision sum costs more per term). It rounds
once, so like 3.12's compensated `sum` it agrees with the `Value` graph's sums to the last bit or so.

Shapes: n positions of one document, C = n_embd, H = n_head, D = head_dim, V = vocab_size. A matrix is a list of
rows (nout, nin), as the original's `state_dict` holds it; `[t]` indexes positions.
"""

import math
import sys
from itertools import chain, repeat
from operator import mul

from .config import GPTConfig, TrainConfig
from .model import coldest
from .parameters import init_weights, layout
from .training import NonFiniteLossError

if sys.version_info >= (3, 12):
    from math import sumprod as dot  # a . b

    SHORT = 32  # up to this many terms sumprod is the faster inner product under Pyodide

    def dots(a, rows) -> list[float]:
        """[a . row for row in rows]"""
        if len(a) <= SHORT:
            return list(map(dot, repeat(a), rows))
        return [sum(map(mul, a, row)) for row in rows]
else:
    def dot(a, b) -> float:
        """a . b: the products summed left to right, as a sum of Values adds them."""
        return sum(map(mul, a, b))

    def dots(a, rows) -> list[float]:
        """[a . row for row in rows]"""
        return [sum(map(mul, a, row)) for row in rows]


def linear(x: list[float], w: list[list[float]]) -> list[float]:
    """Lines 94-95: (nout, nin) @ (nin,) -> (nout,), each row's products summed left to right."""
    return dots(x, w)


def softmax(logits: list[float]) -> list[float]:
    """Lines 97-101: probabilities from logits, (V,) -> (V,)."""
    max_val = max(logits)
    exps = [math.exp(val - max_val) for val in logits]
    inv = sum(exps) ** -1  # e / total is e * total**-1 on Values
    return [e * inv for e in exps]


def rmsnorm(x: list[float]) -> tuple[list[float], float]:
    """Lines 103-106: x scaled to unit root-mean-square, and the scale (backward needs it)."""
    ms = dot(x, x) * len(x) ** -1
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x], scale


def rmsnorm_backward(y: list[float], scale: float, dy: list[float]) -> list[float]:
    """d rmsnorm, from its output y = x * scale: scale * dy, less the part of dy that would change the row's RMS."""
    c = dot(dy, y) * len(y) ** -1
    return [scale * (g - yi * c) for g, yi in zip(dy, y)]


def add(a: list[float], b: list[float]) -> list[float]:
    """Elementwise a + b: the residual connections (lines 134 and 141) and gradients meeting at a node."""
    return [x + y for x, y in zip(a, b)]


def weight_grad(dys: list[list[float]], xs: list[list[float]]) -> list[list[float]]:
    """d W of y[t] = W @ x[t] summed over positions: dys (n, nout), xs (n, nin) -> (nout, nin)."""
    xcols = list(zip(*xs))  # (nin, n)
    return [dots(dcol, xcols) for dcol in zip(*dys)]


def input_grad(dys: list[list[float]], w: list[list[float]]) -> list[list[float]]:
    """d x[t] of y[t] = W @ x[t]: W.T @ dy[t] for every position, dys (n, nout) -> (n, nin)."""
    wcols = list(zip(*w))  # (nin, nout)
    return [dots(dy, wcols) for dy in dys]


class Cache:
    """The KV cache of lines 161 and 190 (keys and values per layer), cut per head as attention reads it."""

    def __init__(self, config: GPTConfig):
        H, D, L = config.n_head, config.head_dim, config.n_layer
        self.k = [[[] for _ in range(H)] for _ in range(L)]  # [li][h]: (T, D), one key per position so far
        self.vcols = [[[[] for _ in range(D)] for _ in range(H)] for _ in range(L)]  # [li][h][j]: (T,), value column


def gpt(sd: dict, config: GPTConfig, token_id: int, pos_id: int, cache: Cache, acts: dict | None = None):
    """Lines 108-144 at one position: logits (V,); appends this position's keys and values to the cache.

    With `acts`, every intermediate backward needs is appended to its lists (one entry per position).
    """
    H, D = config.n_head, config.head_dim
    inv_sqrt_d = (D**0.5) ** -1  # `/ head_dim**0.5` on a Value
    x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]  # (C,) joint token and position embedding
    x, scale0 = rmsnorm(x)
    if acts is not None:
        acts["x_norm0"].append(x), acts["scale0"].append(scale0)
    for li in range(config.n_layer):
        # 1) Multi-head attention block
        x_residual = x
        xn, scale = rmsnorm(x)
        q = linear(xn, sd[f"layer{li}.attn_wq"])  # (C,)
        k = linear(xn, sd[f"layer{li}.attn_wk"])  # (C,)
        v = linear(xn, sd[f"layer{li}.attn_wv"])  # (C,)
        x_attn, weights = [], []
        for h in range(H):
            hs = h * D
            keys, vcols = cache.k[li][h], cache.vcols[li][h]
            keys.append(k[hs:hs + D])  # keys: (T, D)
            for j in range(D):
                vcols[j].append(v[hs + j])  # vcols: (D, T)
            q_h = q[hs:hs + D]
            attn_weights = softmax([logit * inv_sqrt_d for logit in dots(q_h, keys)])  # (T,)
            weights.append(attn_weights)
            x_attn += dots(attn_weights, vcols)  # head_out, (D,)
        x = add(linear(x_attn, sd[f"layer{li}.attn_wo"]), x_residual)
        # 2) MLP block
        x_mid = x
        xn2, scale2 = rmsnorm(x)
        hidden = linear(xn2, sd[f"layer{li}.mlp_fc1"])  # (4C,)
        h_relu = [xi if xi > 0 else 0.0 for xi in hidden]
        x = add(linear(h_relu, sd[f"layer{li}.mlp_fc2"]), x_mid)
        if acts is not None:
            a = acts["layers"][li]
            for key, value in (("xn", xn), ("scale", scale), ("q", q), ("attn_weights", weights),
                               ("x_attn", x_attn), ("xn2", xn2), ("scale2", scale2), ("h_relu", h_relu)):
                a[key].append(value)
    if acts is not None:
        acts["x_out"].append(x)
    return linear(x, sd["lm_head"])  # (V,)


LAYER_ACTS = ("xn", "scale", "q", "attn_weights", "x_attn", "xn2", "scale2", "h_relu")  # per layer, per position


def forward(sd: dict, config: GPTConfig, tokens: list[int], n: int) -> tuple[float, dict]:
    """Lines 161-169: the mean loss of predicting tokens[1:n+1], and the intermediates backward() reads."""
    cache = Cache(config)
    acts = {"x_norm0": [], "scale0": [], "x_out": [], "probs": [], "cache": cache,
            "layers": [{key: [] for key in LAYER_ACTS} for _ in range(config.n_layer)]}
    total = 0
    for pos_id in range(n):
        probs = softmax(gpt(sd, config, tokens[pos_id], pos_id, cache, acts))
        acts["probs"].append(probs)
        total = total + -math.log(probs[tokens[pos_id + 1]])  # loss_t; the losses summed left to right
    return total * (1 / n), acts


def attention_backward(config: GPTConfig, cache: Cache, a: dict, li: int, dx_attn: list[list[float]]):
    """d q, d k, d v, each (n, C), from d x_attn (n, C) back through every head's softmax-weighted average."""
    H, D = config.n_head, config.head_dim
    inv_sqrt_d = (D**0.5) ** -1
    n = len(dx_attn)
    dq, dk, dv = [[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)]  # heads appended in order
    for h in range(H):
        hs = h * D
        keys, vcols = cache.k[li][h], cache.vcols[li][h]  # (n, D), (D, n)
        kcols, values = list(zip(*keys)), list(zip(*vcols))  # (D, n), (n, D)
        qcols = list(zip(*(q[hs:hs + D] for q in a["q"])))  # (D, n)
        douts = [row[hs:hs + D] for row in dx_attn]  # (n, D): d head_out
        dlogits, weights = [], []  # (n, n) each, 0 past the diagonal (key s > query t)
        for t, dout in enumerate(douts):
            w = a["attn_weights"][t][h]  # (t+1,)
            dw = dots(dout, values[:t + 1])
            c = dot(dw, w)
            pad = [0.0] * (n - 1 - t)  # the keys after t
            dlogit = [ws * (g - c) * inv_sqrt_d for ws, g in zip(w, dw)] + pad  # softmax, then `/ head_dim**0.5`
            dq[t] += dots(dlogit, kcols)
            dlogits.append(dlogit)
            weights.append(w + pad)
        dout_cols = list(zip(*douts))  # (D, n)
        for s, (dl_col, w_col) in enumerate(zip(zip(*dlogits), zip(*weights))):  # key and value s, over queries t
            dk[s] += dots(dl_col, qcols)
            dv[s] += dots(w_col, dout_cols)
    return dq, dk, dv


def backward(sd: dict, config: GPTConfig, tokens: list[int], acts: dict) -> dict:
    """Line 172's loss.backward() by hand, through forward(): d loss for each matrix of sd, keyed and shaped alike."""
    n = len(acts["probs"])
    grads = {}
    inv_n = 1 / n
    dlogits = []  # (n, V): (probs - one_hot(target)) / n
    for t, probs in enumerate(acts["probs"]):
        d = [p * inv_n for p in probs]
        d[tokens[t + 1]] = (probs[tokens[t + 1]] - 1) * inv_n
        dlogits.append(d)
    grads["lm_head"] = weight_grad(dlogits, acts["x_out"])
    dx = input_grad(dlogits, sd["lm_head"])  # (n, C)
    for li in reversed(range(config.n_layer)):
        a = acts["layers"][li]
        # 2) MLP block, backwards
        fc1, fc2 = sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"]
        grads[f"layer{li}.mlp_fc2"] = weight_grad(dx, a["h_relu"])
        dh = [[g if r > 0 else 0.0 for g, r in zip(dr, hr)]  # relu passes gradient where it passed the value
              for dr, hr in zip(input_grad(dx, fc2), a["h_relu"])]
        grads[f"layer{li}.mlp_fc1"] = weight_grad(dh, a["xn2"])
        dx = [add(d, rmsnorm_backward(y, s, dy))
              for d, y, s, dy in zip(dx, a["xn2"], a["scale2"], input_grad(dh, fc1))]
        # 1) Multi-head attention block, backwards
        grads[f"layer{li}.attn_wo"] = weight_grad(dx, a["x_attn"])
        dq, dk, dv = attention_backward(config, acts["cache"], a, li, input_grad(dx, sd[f"layer{li}.attn_wo"]))
        w_qkv = sd[f"layer{li}.attn_wq"] + sd[f"layer{li}.attn_wk"] + sd[f"layer{li}.attn_wv"]  # (3C, C)
        dqkv = [q + k + v for q, k, v in zip(dq, dk, dv)]  # (n, 3C)
        dw_qkv = weight_grad(dqkv, a["xn"])
        C = config.n_embd
        for i, c in enumerate("qkv"):
            grads[f"layer{li}.attn_w{c}"] = dw_qkv[i * C:(i + 1) * C]
        dx = [add(d, rmsnorm_backward(y, s, dy))
              for d, y, s, dy in zip(dx, a["xn"], a["scale"], input_grad(dqkv, w_qkv))]
    dx0 = [rmsnorm_backward(y, s, dy) for y, s, dy in zip(acts["x_norm0"], acts["scale0"], dx)]
    C = config.n_embd
    wte = [[0.0] * C for _ in sd["wte"]]
    for t, d in enumerate(dx0):
        wte[tokens[t]] = add(wte[tokens[t]], d)  # a repeated token gathers both gradients
    grads["wte"] = wte
    grads["wpe"] = dx0 + [[0.0] * C for _ in range(len(sd["wpe"]) - n)]
    return grads


class FloatEngine:
    """The model's parameters as lists of floats, in the scalar engine's `params` order, with Adam's buffers."""

    name = "floats"

    def __init__(self, config: GPTConfig, train: TrainConfig, vocab_size: int, rng):
        self.config, self.train = config, train
        weights = init_weights(config, vocab_size, rng)  # the same gauss draws, in the same order
        self.spans = layout(config, vocab_size)  # name -> (offset, rows, cols) in the flat list
        self.flat = [w for mat in weights.values() for row in mat for w in row]  # (num_params,)
        self.grad = [0.0] * len(self.flat)
        self.m = [0.0] * len(self.flat)  # first moment buffer
        self.v = [0.0] * len(self.flat)  # second moment buffer
        self.state_dict = weights  # keyed by the original's names; rebuilt from flat after each update

    @property
    def num_params(self) -> int:
        return len(self.flat)

    def set_weights(self, flat) -> None:
        """Every parameter from a flat sequence in `params` order (a restored run's)."""
        self._set_flat([float(w) for w in flat])

    def _set_flat(self, flat: list[float]) -> None:
        self.flat = flat
        self.state_dict = {name: [self.flat[offset + r * cols:offset + (r + 1) * cols] for r in range(rows)]
                           for name, (offset, rows, cols) in self.spans.items()}

    def forward_backward(self, tokens: list[int], n: int, step: int) -> float:
        """Lines 161-172: the loss of one document, its gradients in self.grad; raises if either is not finite."""
        try:
            loss, acts = forward(self.state_dict, self.config, tokens, n)
        except (ValueError, OverflowError, ZeroDivisionError) as e:  # log(0) or exp overflow
            raise NonFiniteLossError(step, f"the loss is not finite ({e})") from None
        if not math.isfinite(loss):
            raise NonFiniteLossError(step, f"loss is {loss}")
        grads = backward(self.state_dict, self.config, tokens, acts)
        grad = list(chain.from_iterable(chain.from_iterable(grads[name] for name in self.spans)))
        if not math.isfinite(sum(grad)):  # finite if every gradient is (and none near 1e308)
            raise NonFiniteLossError(step, "a gradient is not finite")
        self.grad = grad
        return loss

    def update(self, lr_t: float, step: int) -> None:
        """Lines 175-182 on all parameters, one list at a time: optimizer.Adam's arithmetic, elementwise; all or
        nothing, as Adam.update: an overflowing gradient square or a weight that is not finite changes nothing."""
        t = self.train
        beta1, beta2, eps_adam = t.beta1, t.beta2, t.eps_adam
        c1, c2 = 1 - beta1, 1 - beta2
        b1, b2 = 1 - beta1 ** (step + 1), 1 - beta2 ** (step + 1)
        grad, self.grad = self.grad, [0.0] * len(self.flat)  # cleared, whatever happens next
        m = [beta1 * mi + c1 * g for mi, g in zip(self.m, grad)]
        try:
            v = [beta2 * vi + c2 * g ** 2 for vi, g in zip(self.v, grad)]
        except OverflowError:
            raise NonFiniteLossError(step, "a gradient's square overflows") from None
        flat = [p - lr_t * (mi / b1) / ((vi / b2) ** 0.5 + eps_adam) for p, mi, vi in zip(self.flat, m, v)]
        if not math.isfinite(sum(flat)):  # finite if every weight is (and none near 1e308)
            raise NonFiniteLossError(step, "the update is not finite")
        self.m, self.v = m, v
        self._set_flat(flat)

    def weights(self) -> list[float]:
        return list(self.flat)

    def gradient(self) -> list[float]:
        return list(self.grad)

    def moments(self) -> tuple[list[float], list[float]]:
        return list(self.m), list(self.v)

    def load_state(self, weights, m, v) -> None:
        """Every parameter and Adam's buffers from flat sequences in `params` order (a saved run's)."""
        if not len(weights) == len(m) == len(v) == self.num_params:
            raise ValueError(f"{len(weights)}, {len(m)} and {len(v)} numbers where the model has {self.num_params}")
        self.set_weights(weights)
        self.m, self.v = [float(x) for x in m], [float(x) for x in v]

    def new_cache(self) -> Cache:
        return Cache(self.config)

    def next_token_probs(self, token_id: int, pos_id: int, cache: Cache, temperature: float) -> list[float]:
        """Lines 194-195: the next token's probabilities at this temperature, extending the cache; at one so small
        that the original's arithmetic overflows, the limit it tends to (`coldest`), as the scalar engine does."""
        logits = gpt(self.state_dict, self.config, token_id, pos_id, cache)
        try:
            inv = temperature ** -1  # `l / temperature` on a Value
            probs = softmax([l * inv for l in logits])
            if all(map(math.isfinite, probs)):
                return probs
        except OverflowError:  # 1 / temperature, or exp, overflows
            pass
        return coldest(logits)  # where the original stops with an error

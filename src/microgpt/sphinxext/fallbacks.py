"""Static pictures of each scene, drawn at build time from the same snapshot: what a reader without WebGL sees."""

import html
import math

import numpy as np


def _polyline(xs, ys, x0, x1, y0, y1, box) -> str:
    """SVG points of the finite (x, y) pairs mapped into box = (left, top, width, height)."""
    left, top, width, height = box
    points = []
    for x, y in zip(xs, ys):
        if math.isfinite(y):
            px = left + (x - x0) / max(x1 - x0, 1e-12) * width
            py = top + height - (min(max(y, y0), y1) - y0) / max(y1 - y0, 1e-12) * height
            points.append(f"{px:.1f},{py:.1f}")
    return " ".join(points)


def _level(y: float, n: int, y0, y1, box) -> str:
    """A horizontal line at loss y across the n steps."""
    return _polyline([1, n], [y, y], 1, n, y0, y1, box)


def training(doc: dict, vocab: dict) -> str:
    """Loss per step with its moving average and the two yardsticks (uniform guessing, the bigram); the learning
    rate beneath."""
    loss = [x if isinstance(x, (int, float)) else math.nan for x in doc["loss"]]
    lr = doc["learning_rate"]
    sticks = doc["yardsticks"]
    uniform, bigram = sticks["uniform"], sticks["bigram"]
    steps = list(range(1, len(loss) + 1))
    finite = [x for x in loss if math.isfinite(x)] + [uniform] + ([] if bigram is None else [bigram])
    y0, y1 = min(finite) - 0.1, max(finite) + 0.1
    avg = np.convolve(np.nan_to_num(loss, nan=uniform), np.ones(25) / 25, mode="valid").tolist()
    top, bottom = (40, 42, 560, 160), (40, 230, 560, 60)
    legend = [f"dashed: uniform guessing, −ln(1/{vocab['vocab_size']}) = {uniform:.2f}"]
    lines = f'<polyline class="mg-fb-base" points="{_level(uniform, len(loss), y0, y1, top)}"/>'
    if bigram is not None:
        legend.append(f"dotted: a bigram model, {bigram:.2f} on {sticks['held_out']:,} names it never counted")
        lines += f'<polyline class="mg-fb-bigram" points="{_level(bigram, len(loss), y0, y1, top)}"/>'
    legend_svg = "".join(f'<text x="40" y="{23 + 12 * i}">{html.escape(text)}</text>' for i, text in enumerate(legend))
    return (
        '<svg class="mg-fallback-svg" viewBox="0 0 620 310" role="img" aria-label="Loss and learning rate per step">'
        f'<polyline class="mg-fb-raw" points="{_polyline(steps, loss, 1, len(loss), y0, y1, top)}"/>'
        f'<polyline class="mg-fb-avg" points="{_polyline(steps[24:], avg, 1, len(loss), y0, y1, top)}"/>'
        f"{lines}"
        f'<polyline class="mg-fb-lr" points="{_polyline(steps, lr, 1, len(loss), 0, max(lr or [1]), bottom)}"/>'
        f'<text x="40" y="10">loss (y: {y0:.2f} to {y1:.2f})</text>'
        f"{legend_svg}"
        f'<text x="40" y="225">learning rate, {max(lr or [0]):g} to 0</text>'
        f'<text x="40" y="305">step 1</text><text x="600" y="305" text-anchor="end">step {len(loss)}</text>'
        "</svg>")


def _label(manifest_vocab: dict, t: int) -> str:
    return "BOS" if t == manifest_vocab["BOS"] else manifest_vocab["uchars"][t]


def embeddings(doc: dict, vocab: dict) -> str:
    """The 27 tokens at the last checkpoint, on the first two principal components."""
    shape = doc["wte_pca"]["shape"]
    pts = np.array(doc["wte_pca"]["data"]).reshape(shape)[-1]
    lo, hi = pts[:, :2].min(axis=0), pts[:, :2].max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    marks = []
    for t, (x, y, _) in enumerate(pts):
        px, py = 30 + (x - lo[0]) / span[0] * 540, 280 - (y - lo[1]) / span[1] * 250
        label = _label(vocab, t)
        kind = "bos" if label == "BOS" else "vowel" if label in "aeiou" else "consonant"
        marks.append(f'<circle class="mg-fb-{kind}" cx="{px:.1f}" cy="{py:.1f}" r="5"/>'
                     f'<text x="{px + 7:.1f}" y="{py + 4:.1f}">{html.escape(label)}</text>')
    return ('<svg class="mg-fallback-svg" viewBox="0 0 600 300" role="img" '
            f'aria-label="Token embeddings after step {doc["checkpoints"][-1]}, first two principal components">'
            f"{''.join(marks)}</svg>")


def attention(checkpoint: dict, probe: str, vocab: dict) -> str:
    """Each head's attention weights for the probe word at a checkpoint, as tables."""
    trace = checkpoint["traces"][probe]
    w = checkpoint["traces"][probe]["layers"][0]["attn_weights"]
    heads, n, _ = w["shape"]
    weights = np.array(w["data"]).reshape(w["shape"])
    names = [_label(vocab, t) for t in trace["tokens"]]
    tables = []
    for h in range(heads):
        head = "".join(f"<th scope=col>{html.escape(c)}</th>" for c in names)
        rows = "".join(
            f"<tr><th scope=row>{html.escape(names[i])}</th>"
            + "".join(f"<td>{weights[h, i, j]:.2f}</td>" if j <= i else "<td></td>" for j in range(n)) + "</tr>"
            for i in range(n))
        tables.append(f'<table class="mg-fb-table"><caption>head {h}</caption><thead><tr><th></th>{head}</tr>'
                      f"</thead><tbody>{rows}</tbody></table>")
    return f'<div class="mg-fb-tables">{"".join(tables)}</div>'


def sampling(doc: dict, vocab: dict, temperature: float) -> str:
    """The names sampled at a temperature, each character with the probability it had when drawn."""
    chosen = min(doc["temperatures"], key=lambda t: abs(t["temperature"] - temperature))
    rows = []
    for i, s in enumerate(chosen["samples"]):
        cells = "".join(f"<td>{html.escape(_label(vocab, p['token']))}<br>"
                        f"<small>{_probability(p['probs'][p['token']])}</small></td>" for p in s["positions"])
        rows.append(f"<tr><th scope=row>{i + 1}: {html.escape(s['name'])}</th>{cells}</tr>")
    return (f'<table class="mg-fb-table"><caption>samples at temperature {chosen["temperature"]:g}: each character '
            f'and the probability it was drawn with</caption><tbody>{"".join(rows)}</tbody></table>')


def _probability(p: float) -> str:
    """Two significant digits: a rare draw shows as 0.0031, never as a misleading 0.00."""
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def _vector(values, k: int = 6) -> str:
    head = " ".join(f"{v:+.2f}" for v in values[:k])
    return f"{head} …" if len(values) > k else head


def _row(t: dict, r: int) -> list:
    width = t["shape"][-1]
    return t["data"][r * width:(r + 1) * width]


def _table(caption: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th scope=col>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<table class="mg-fb-table"><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def tokens(checkpoint: dict, probe: str, vocab: dict) -> str:
    """Each position of the probe word: character, token id, and the start of wte, wpe, their sum, rmsnorm."""
    tr, sd = checkpoint["traces"][probe], checkpoint["state_dict"]
    rows = [[_label(vocab, tok), str(tok), _vector(_row(sd["wte"], tok), 3), _vector(_row(sd["wpe"], t), 3),
             _vector(_row(tr["x0"], t), 3), _vector(_row(tr["x_norm0"], t), 3)] for t, tok in enumerate(tr["tokens"])]
    return _table(f"“{probe}” at step {checkpoint['step']}: the first numbers of each vector",
                  ["char", "token", "wte[token]", "wpe[pos]", "x = sum", "rmsnorm(x)"], rows)


def forward(checkpoint: dict, probe: str, vocab: dict) -> str:
    """gpt() at the probe word's first position, block by block."""
    tr = checkpoint["traces"][probe]
    layer = tr["layers"][0]
    blocks = [("wte + wpe", tr["x0"]), ("rmsnorm", tr["x_norm0"]), ("rmsnorm", layer["xn"]), ("q", layer["q"]),
              ("k", layer["k"]), ("v", layer["v"]), ("heads' output", layer["x_attn"]), ("attn_wo", layer["attn_out"]),
              ("+ residual", layer["x_mid"]), ("rmsnorm", layer["xn2"]), ("mlp_fc1", layer["h"]),
              ("relu", layer["h_relu"]), ("mlp_fc2", layer["mlp_out"]), ("+ residual", layer["x_out"]),
              ("lm_head: logits", tr["logits"]), ("softmax: probabilities", tr["probs"])]
    rows = [[name, str(t["shape"][-1]), _vector(_row(t, 0))] for name, t in blocks]
    return _table(f"“{probe}” at step {checkpoint['step']}, position 0 (reading BOS)", ["block", "size", "values"],
                  rows)


def autograd(doc: dict) -> str:
    """The expression's nodes in topological order with their data and gradients, and a real step's graph size."""
    rows = [[str(n["id"]), n["label"] or n["op"], f"{n['data']:.4g}", f"{n['grad']:.4g}",
             " ".join(map(str, n["children"]))] for n in doc["nodes"]]
    g = doc["step_graph"]
    caption = (f"{doc['expression']}: every Value, children first. The loss of one real training step is the root "
               f"of a graph of {g['nodes']:,} Values, {g['edges']:,} edges, {g['depth']:,} deep.")
    return _table(caption, ["id", "op", "data", "grad", "children"], rows)


def adam(doc: dict) -> str:
    """Each recorded parameter at a few steps: value, gradient, moments, update, learning rate."""
    n = len(doc["learning_rate"])
    steps = sorted({0, n // 4, n // 2, 3 * n // 4, n - 1}) if n else []
    rows = [[p["name"], str(i + 1), f"{p['value'][i + 1]:.4g}", f"{p['grad'][i]:.3g}", f"{p['m'][i]:.3g}",
             f"{p['v'][i]:.3g}", f"{p['update'][i]:.3g}", f"{doc['learning_rate'][i]:.3g}"]
            for p in doc["params"] for i in steps]
    return _table("Adam, step by step", ["parameter", "step", "value", "grad", "m", "v", "update", "lr"], rows)


def _png(rgb: np.ndarray) -> str:
    """An (h, w, 3) array of 0-255 as a base64 PNG data URL (no imaging library needed)."""
    import base64
    import struct
    import zlib

    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _diverging(t: np.ndarray) -> np.ndarray:
    """shared.js's diverging(): blue below zero, white at zero, orange above; t in [-1, 1] -> 0-255 RGB."""
    v = np.clip(t, -1, 1)[..., None]
    neg = 1 + v * np.array([0.82, 0.55, 0.2])
    pos = 1 - v * np.array([0.1, 0.6, 0.95])
    return np.round(255 * np.where(v < 0, neg, pos))


def model(checkpoint: dict, probe: str, vocab: dict) -> str:
    """Every matrix of state_dict at a checkpoint, one pixel a weight, in the order gpt() uses them."""
    sd = checkpoint["state_dict"]
    names = ["wte", "wpe", *sorted(k for k in sd if k.startswith("layer")), "lm_head"]
    order = ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")
    names[2:-1] = sorted(names[2:-1], key=lambda k: (k.split(".")[0], order.index(k.split(".")[1])))
    mats = [np.array(sd[k]["data"]).reshape(sd[k]["shape"]) for k in names]
    gap, scale = 4, 3
    height = max(m.shape[0] for m in mats)
    width = sum(m.shape[1] for m in mats) + gap * (len(mats) - 1)
    image = np.full((height, width, 3), 255.0)
    marks, x = [], 0
    for i, (name, m) in enumerate(zip(names, mats)):
        image[:m.shape[0], x:x + m.shape[1]] = _diverging(m / max(np.abs(m).max(), 1e-12))
        cx, y = (x + m.shape[1] / 2) * scale, height * scale + (14 if i % 2 == 0 else 28)
        marks.append(f'<text x="{cx:.1f}" y="{y}" text-anchor="middle">{html.escape(name)}</text>')
        x += m.shape[1] + gap
    w, h = width * scale, height * scale + 34
    return (f'<svg class="mg-fallback-svg" viewBox="-40 0 {w + 80} {h}" role="img" aria-label="Every weight matrix '
            f'of state_dict after step {checkpoint["step"]}, one cell a weight, blue negative, orange positive">'
            f'<image href="{_png(image)}" x="0" y="0" width="{w}" height="{height * scale}" '
            f'style="image-rendering: pixelated"/>{"".join(marks)}</svg>')

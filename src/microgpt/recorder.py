"""Record a run for the site's scenes, in plain Python: the same code records at build time and in the browser.

A `Recorder` drives a run's training and keeps what the scenes show; at any step, `files()` gives the
documents for the steps so far (what `microgpt snapshot` writes, or what the live page shows), and
`checkpoint(step)` the weights of one checkpoint, exact, with every probe word traced through them.

Checkpoints fall at step 0, every `checkpoint_every` steps, and at the current step, so a run recorded to
step S gives the same documents whether it trained there in one call or in many.

The embeddings' axes are a PCA of wte. A PCA's axes have no sign of their own and a fresh fit at every step
would flip them at random, so the fits form one chain over the regular checkpoints (steps 0, k, 2k, ...): the
first fit turns each axis so its largest loading is positive, each later fit turns each axis to point the way
the previous fit's did. The documents at step S use the chain's fit at S (a last link when S is not a multiple
of k): every checkpoint's wte in one basis, and as the reader trains, the points move rather than flip. Two
axes whose variances cross do trade places.
"""

import math
import random
from array import array
from bisect import bisect
from itertools import accumulate

from .autograd import Value, topological_order
from .bigram import yardsticks
from .config import ConfigError, SampleConfig, SnapshotConfig
from .inference import draw, sample
from .model import softmax
from .parameters import layout, unflatten
from .run import Run
from .trace import tensor, trace, word_tokens
from .training import document_tokens


class Exact(list):
    """Floats to write exactly (repr, never rounded): a checkpoint's weights, so a word can be traced from them."""


class Printed(list):
    """Losses to write as the transcript prints them (4 decimals): a scene that shows one shows the transcript's."""


def param_index(name: str, run: Run) -> int:
    """Position in `params` of a parameter written like "wte[BOS][0]" or "lm_head[a][3]"."""
    matrix, _, rest = name.partition("[")
    row, col = rest.rstrip("]").split("][")
    spans = layout(run.config, run.tokenizer.vocab_size)
    if matrix not in spans:
        raise ValueError(f"unknown parameter matrix {matrix!r} in {name!r}")
    vocab = {"BOS": run.tokenizer.BOS, **{ch: i for i, ch in enumerate(run.tokenizer.uchars)}}
    r = vocab[row] if row in vocab and matrix in ("wte", "lm_head") else int(row)
    c = int(col)
    offset, rows, cols = spans[matrix]
    if not (0 <= r < rows and 0 <= c < cols):
        raise ValueError(f"{name!r} is outside {matrix}'s shape ({rows}, {cols})")
    return offset + r * cols + c


# --- PCA, in plain Python ----------------------------------------------------------------------------------

def symmetric_eigen(a: list[list[float]], sweeps: int = 50) -> tuple[list[float], list[list[float]]]:
    """Eigenvalues and eigenvectors (columns of V) of a symmetric matrix, by cyclic Jacobi rotations.

    Only ``+ - * /`` and sqrt, all correctly rounded in IEEE arithmetic: the same bits in every runtime.
    """
    n = len(a)
    a = [row[:] for row in a]
    v = [[float(i == j) for j in range(n)] for i in range(n)]
    scale = math.fsum(x * x for row in a for x in row)
    for _ in range(sweeps):
        off = math.fsum(a[p][q] * a[p][q] for p in range(n) for q in range(n) if p != q)
        if off <= 1e-30 * scale:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if a[p][q] == 0.0:
                    continue
                theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + math.sqrt(theta * theta + 1))
                c = 1 / math.sqrt(t * t + 1)
                s = t * c
                for k in range(n):  # A <- A J (columns p and q)
                    akp, akq = a[k][p], a[k][q]
                    a[k][p], a[k][q] = c * akp - s * akq, s * akp + c * akq
                for k in range(n):  # A <- J^T A (rows p and q)
                    apk, aqk = a[p][k], a[q][k]
                    a[p][k], a[q][k] = c * apk - s * aqk, s * apk + c * aqk
                for k in range(n):
                    vkp, vkq = v[k][p], v[k][q]
                    v[k][p], v[k][q] = c * vkp - s * vkq, s * vkp + c * vkq
    return [a[i][i] for i in range(n)], v


def pca_basis(points: list[list[float]], previous: list[list[float]] | None = None):
    """Mean, basis (up to 3 rows of C) and explained variance ratios of points (rows); signs as the module says."""
    rows, cols = len(points), len(points[0])
    mean = [math.fsum(p[j] for p in points) / rows for j in range(cols)]
    centred = [[x - m for x, m in zip(p, mean)] for p in points]
    cov = [[math.fsum(p[i] * p[j] for p in centred) for j in range(cols)] for i in range(cols)]
    values, vectors = symmetric_eigen(cov)
    order = sorted(range(cols), key=lambda i: -values[i])[:min(3, rows, cols)]
    basis = [[vectors[k][i] for k in range(cols)] for i in order]
    for axis, row in enumerate(basis):
        if previous is not None:
            flip = math.fsum(x * y for x, y in zip(row, previous[axis])) < 0
        else:
            flip = row[max(range(cols), key=lambda j: abs(row[j]))] < 0
        if flip:
            basis[axis] = [-x for x in row]
    var = math.fsum(x * x for p in centred for x in p)
    ratio = [max(values[i], 0.0) / var if var > 0 else 0.0 for i in order]
    return mean, basis, ratio


def project(points: list[list[float]], mean: list[float], basis: list[list[float]]) -> list[list[float]]:
    """(points - mean) @ basis.T"""
    return [[math.fsum((x - m) * b for x, m, b in zip(p, mean, axis)) for axis in basis] for p in points]


# --- the records -------------------------------------------------------------------------------------------

def label_ops(root: Value, names: dict) -> list[dict]:
    """The graph below root as nodes in topological order, each op recovered from its local gradients."""
    topo = topological_order(root)
    ids = {v: i for i, v in enumerate(topo)}
    nodes = []
    for v in topo:
        c = v._children
        if not c:
            op = "input" if v in names else "const"
        elif len(c) == 2:
            op = "+" if v._local_grads == (1, 1) else "*"
        elif v.data == math.exp(c[0].data) and v._local_grads[0] == v.data:
            op = "exp"
        elif c[0].data > 0 and v.data == math.log(c[0].data):
            op = "log"
        elif v.data == max(0, c[0].data) and v._local_grads[0] in (0.0, 1.0):
            op = "relu"
        else:
            op = "**"
        label = names.get(v, {"input": "", "const": f"{v.data:g}"}.get(op, op))
        nodes.append({"id": ids[v], "op": op, "label": label, "data": float(v.data), "grad": float(v.grad),
                      "children": [ids[ch] for ch in c], "local_grads": [float(g) for g in v._local_grads]})
    return nodes


def autograd_record(run: Run) -> dict:
    """A cross-entropy on three logits, the model's last step in miniature; and a real step's graph size."""
    logits = [Value(1.0), Value(2.0), Value(-0.5)]
    names = {v: f"logit[{i}]" for i, v in enumerate(logits)}
    loss = -softmax(logits)[1].log()
    loss.backward()
    nodes = label_ops(loss, names)

    from .scalar import ScalarEngine  # one real step's graph, as the original builds it at step 1

    engine = ScalarEngine(run.config, run.train_config, run.tokenizer.vocab_size, random.Random(run.train_config.seed))
    return {"expression": "-log(softmax([logit[0], logit[1], logit[2]])[1])", "nodes": nodes,
            "output": nodes[-1]["id"],
            "step_graph": step_graph(engine, run.tokenizer, run.docs[0], run.config.block_size)}


def step_graph(engine, tokenizer, doc: str, block_size: int) -> dict:
    """The size of the Value graph one training step builds on a document: nodes, edges, leaves, depth."""
    tokens, n = document_tokens(tokenizer, doc, block_size)
    step_loss = engine.loss(tokens, n)
    topo = topological_order(step_loss)
    depth = {}
    for v in topo:
        depth[v] = 1 + max((depth[c] for c in v._children), default=-1)
    return {"doc": doc, "nodes": len(topo), "edges": sum(len(v._children) for v in topo),
            "leaves": sum(1 for v in topo if not v._children), "depth": depth[step_loss]}


def sample_record(run: Run, temperature: float, num_samples: int) -> list[dict]:
    """Samples as the original draws them (inference.sample), and at each position what the draw saw."""
    seen = []  # one entry per draw, in order

    def recording_draw(rng, probs):
        state = rng.getstate()
        u = rng.random()  # the number random.choices is about to draw
        rng.setstate(state)
        token_id = draw(rng, probs)
        cum = list(accumulate(probs))
        assert bisect(cum, u * cum[-1], 0, len(probs) - 1) == token_id  # the draw explains the choice
        seen.append({"probs": probs, "draw": u, "token": token_id,
                     "argmax": max(range(len(probs)), key=probs.__getitem__)})
        return token_id

    samples = []
    for _ in range(num_samples):
        start = len(seen)
        name = sample(run.engine, run.tokenizer, run.rng, temperature, run.config.block_size, draw=recording_draw)
        samples.append({"name": name, "positions": seen[start:]})
    return samples


class Recorder:
    """Trains a run and records it; `files()` at any step gives the documents (without metadata) for the steps so far.

    Drive the run's training through `train()` only: the recorder sees each step's gradients before Adam uses
    them. Documents are built when asked for, from what was kept: losses, Adam's traces for a few parameters,
    and the weights of every checkpoint (a flat array of doubles each).
    """

    def __init__(self, run: Run, snap=SnapshotConfig(), sample=SampleConfig()):
        if run.trainer.step != 0:
            raise ValueError(f"a Recorder starts with the run, at step 0; this run is at step {run.trainer.step}")
        docs = set(run.docs)
        missing = [w for w in snap.probes if w not in docs]
        if missing:
            raise ConfigError("probes", f"words not in the dataset: {', '.join(missing)}")
        too_long = [w for w in snap.probes if len(w) + 1 > run.config.block_size]
        if too_long:
            raise ConfigError("probes", f"words longer than block_size - 1 = {run.config.block_size - 1}: "
                                        f"{', '.join(too_long)}")
        self.run, self.snap, self.sample = run, snap, sample
        self.adam_index = {name: param_index(name, run) for name in snap.adam_params}
        self.training = {"loss": Printed(), "learning_rate": [], "doc": []}
        self.adam = {"learning_rate": [], "params": [
            {"name": name, "index": i, "value": [], "grad": [], "m": [], "v": [], "update": []}
            for name, i in self.adam_index.items()]}
        self.weights = {}  # checkpoint step -> every weight, flat in `params` order
        self.fits = []  # the PCA chain: (step, (mean, basis, ratio)) at each regular checkpoint
        self._autograd = None
        self._yardsticks = None  # (horizon, the yardsticks for it): a live run's horizon may be extended
        self._keep()

    @property
    def step(self) -> int:
        return self.run.trainer.step

    def checkpoints(self) -> list[int]:
        """Step 0, every checkpoint_every steps, and the current step."""
        return sorted({*range(0, self.step + 1, self.snap.checkpoint_every), self.step})

    def train(self, steps: int, *, after_horizon: str = "error", on_step=None) -> list[float]:
        """Trainer.train, recording each step; on_step(step, loss) runs after the recorder has kept the step."""
        if self.step != len(self.training["loss"]):
            raise RuntimeError(f"the run is at step {self.step} but the recorder saw {len(self.training['loss'])} "
                               "steps: train through the recorder only")
        trainer, t = self.run.trainer, self.run.train_config

        def before_update(step, engine):
            g = engine.gradient()
            for p in self.adam["params"]:
                p["grad"].append(float(g[p["index"]]))

        def recording_step(step, loss):
            lr_t = trainer.learning_rate(step, after_horizon)
            self.training["loss"].append(loss)
            self.training["learning_rate"].append(lr_t)
            self.training["doc"].append(self.run.docs[step % len(self.run.docs)])
            self.adam["learning_rate"].append(lr_t)
            m, v = self.run.engine.moments()
            for p in self.adam["params"]:
                mi, vi = float(m[p["index"]]), float(v[p["index"]])
                p["m"].append(mi)
                p["v"].append(vi)
                m_hat, v_hat = mi / (1 - t.beta1 ** (step + 1)), vi / (1 - t.beta2 ** (step + 1))
                p["update"].append(lr_t * m_hat / (v_hat ** 0.5 + t.eps_adam))
            self._keep()
            if on_step:
                on_step(step, loss)

        return trainer.train(steps, after_horizon=after_horizon, on_step=recording_step, before_update=before_update)

    def _keep(self):
        """After a step (or at the start): Adam's traced values, and the weights (a regular checkpoint's for good,
        any other step's until the next step). The PCA chain is fitted when a document needs it (`fit`)."""
        w = self.run.engine.weights()
        for p in self.adam["params"]:
            p["value"].append(float(w[p["index"]]))
        if self.step - 1 in self.weights and (self.step - 1) % self.snap.checkpoint_every:
            del self.weights[self.step - 1]  # the last step's checkpoint, now neither regular nor current
        self.weights[self.step] = array("d", map(float, w))

    def state_dict(self, step: int) -> dict[str, list[list[float]]]:
        """A checkpoint's weights as rows of floats, keyed by state_dict name."""
        return unflatten(self.weights[step], self.run.config, self.run.tokenizer.vocab_size)

    def wte(self, step: int) -> list[list[float]]:
        vocab_size, n_embd = self.run.tokenizer.vocab_size, self.run.config.n_embd
        w = self.weights[step]
        return [list(w[r * n_embd:(r + 1) * n_embd]) for r in range(vocab_size)]

    def fit(self):
        """The PCA chain's fit at the current step: (fit step, (mean, basis, ratio)).

        The chain's links at the regular checkpoints not fitted yet are fitted first, in order, from their kept
        weights: the same fits as fitting each as training passes it, paid only by a run whose embeddings are shown.
        """
        k = self.snap.checkpoint_every
        for at in range(self.fits[-1][0] + k if self.fits else 0, self.step + 1, k):
            self.fits.append((at, pca_basis(self.wte(at), self.fits[-1][1][1] if self.fits else None)))
        step, fit = self.fits[-1]
        if step == self.step:
            return step, fit
        return self.step, pca_basis(self.wte(self.step), fit[1])

    def trace_word(self, word: str, step: int | None = None) -> dict:
        """A word traced through a checkpoint's weights (the current step's by default); WordError if it can't be."""
        config = self.run.config
        tokens = word_tokens(self.run.tokenizer, word, config.block_size)
        return trace(self.state_dict(self.step if step is None else step), config, tokens)

    # --- the documents -------------------------------------------------------------------------------------

    def checkpoint(self, step: int) -> dict:
        """One checkpoint: every weight exactly, and every probe word traced through them."""
        sd = self.state_dict(step)
        probes = {w: self.run.tokenizer.encode(w) for w in self.snap.probes}
        return {"step": step,
                "state_dict": {name: {"shape": [len(rows), len(rows[0])], "data": Exact(x for r in rows for x in r)}
                               for name, rows in sd.items()},
                "traces": {w: trace(sd, self.run.config, tokens) for w, tokens in probes.items()}}

    def embeddings(self) -> dict:
        step, (mean, basis, ratio) = self.fit()
        steps = self.checkpoints()
        return {"checkpoints": steps,
                "pca": {"fit_step": step, "mean": tensor(mean), "basis": tensor(basis),
                        "explained_variance_ratio": ratio},
                "wte_pca": tensor([project(self.wte(s), mean, basis) for s in steps])}

    def inference(self) -> dict:
        """Samples at every temperature from the run's random state now, which is left as it was."""
        rng = self.run.rng
        now = rng.getstate()
        temps = []
        for temperature in self.temperatures():
            rng.setstate(now)  # every temperature starts where the original's sampling starts
            temps.append({"temperature": temperature,
                          "samples": sample_record(self.run, temperature, self.sample.num_samples)})
        rng.setstate(now)
        return {"step": self.step, "temperatures": temps}

    def temperatures(self) -> list[float]:
        return sorted({*self.snap.temperatures, self.sample.temperature})

    def training_record(self) -> dict:
        """Every step's loss, learning rate and document, and the yardsticks for the run's horizon (bigram.py)."""
        horizon = self.run.trainer.num_steps
        if self._yardsticks is None or self._yardsticks[0] != horizon:
            r = self.run
            self._yardsticks = (horizon, yardsticks(r.tokenizer, r.docs, r.config.block_size, horizon))
        return {**self.training, "yardsticks": self._yardsticks[1]}

    def autograd(self) -> dict:
        if self._autograd is None:
            self._autograd = autograd_record(self.run)
        return self._autograd

    def manifest(self) -> dict:
        tok = self.run.tokenizer
        return {"vocabulary": {"uchars": tok.uchars, "BOS": tok.BOS, "vocab_size": tok.vocab_size},
                "checkpoints": self.checkpoints(), "probes": list(self.snap.probes),
                "temperatures": self.temperatures(), "files": sorted(self.names())}

    def names(self) -> list[str]:
        """The files besides manifest.json."""
        return [*(f"checkpoints/step-{s:04d}.json" for s in self.checkpoints()), "embeddings.json", "training.json",
                "adam.json", "inference.json", "autograd.json"]

    def document(self, name: str) -> dict:
        """One file's contents (without metadata) at the current step, by its name in the manifest."""
        if name.startswith("checkpoints/step-"):
            step = int(name.removeprefix("checkpoints/step-").removesuffix(".json"))
            if step not in self.weights:
                raise KeyError(f"no checkpoint at step {step}; checkpoints: {self.checkpoints()}")
            return self.checkpoint(step)
        builders = {"manifest.json": self.manifest, "embeddings.json": self.embeddings,
                    "training.json": self.training_record, "adam.json": lambda: self.adam,
                    "inference.json": self.inference, "autograd.json": self.autograd}
        if name not in builders:
            raise KeyError(f"no snapshot file {name!r}")
        return builders[name]()

    def files(self) -> dict[str, dict]:
        """Every file at the current step: name -> contents without metadata."""
        return {name: self.document(name) for name in [*self.names(), "manifest.json"]}

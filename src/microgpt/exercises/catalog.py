"""Every exercise of the site, page by page, in the order the pages teach. Facts are computed, never typed."""

import ast
import math
import sys

from ..autograd import Value
from ..model import softmax
from ..optimizer import Adam, learning_rate_at
from ..parameters import state_dict_shapes
from ..sections import line_of, original_lines
from . import code, experiments
from .kinds import Exercise, Misconception, choice, number, text_answer

OUTCOMES = experiments.OUTCOMES


def original_imports() -> list[str]:
    """The modules the original imports, read from its source."""
    tree = ast.parse("\n".join(original_lines()))
    return [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]


def run_facts(c) -> dict:
    """What most number questions need: the run's settings and sizes."""
    r = c.run
    return {"vocab_size": r.tokenizer.vocab_size, "num_params": r.engine.num_params, "n_embd": r.config.n_embd,
            "num_docs": len(r.docs), "BOS": r.tokenizer.BOS, "block_size": r.config.block_size,
            "n_head": r.config.n_head, "learning_rate": r.train_config.learning_rate,
            "num_steps": r.train_config.num_steps}


def imports_facts(c) -> dict:
    names = original_imports()
    return {"imports": len(names), "names": ", ".join(names),
            "third_party": sum(1 for n in names if n.split(".")[0] not in sys.stdlib_module_names)}


def docs_facts(c) -> dict:
    docs = c.run.docs
    longest = max(docs, key=len)
    return {"num_docs": len(docs), "longest": len(longest), "longest_name": longest}


def matrix_facts(c) -> dict:
    r = c.run
    rows, cols = state_dict_shapes(r.config, r.tokenizer.vocab_size)["layer0.mlp_fc1"]
    return {**run_facts(c), "fc1": rows * cols, "rows": rows, "cols": cols, "square": cols * cols}


def cache_facts(c) -> dict:
    position = 4
    return {"position": position, "keys": position + 1, "n_layer": c.run.config.n_layer}


def untrained_facts(c) -> dict:
    v = c.run.tokenizer.vocab_size
    return {"loss": c.untrained_loss(), "uniform": math.log(v), "vocab_size": v, "doc": c.run.docs[0],
            "p_uniform": 1 / v}


def schedule_facts(c) -> dict:
    t = c.run.train_config
    step = 600
    return {"step": step, "lr": learning_rate_at(step, t.num_steps, t.learning_rate),
            "growing": t.learning_rate * step / t.num_steps, "learning_rate": t.learning_rate,
            "num_steps": t.num_steps}


def training_scene_facts(c) -> dict:
    doc = c.document("training.json")
    step = min(500, len(doc["loss"]))
    rows = [[s, f"{doc['loss'][s - 1]:.4f}", doc["doc"][s - 1]] for s in range(max(step - 2, 1), step + 1)]
    return {"step": step, "loss": doc["loss"][step - 1], "first": doc["loss"][0], "doc": doc["doc"][step - 1],
            "table": {"caption": f"the training scene's document, steps {rows[0][0]}-{step}",
                      "header": ["step", "loss", "name"], "rows": rows}}


def graph_facts(c) -> dict:
    graph = c.session.step_graph() if c.session is not None else c.document("autograd.json")["step_graph"]
    return {"nodes": graph["nodes"], "doc": graph["doc"], "leaves": graph["leaves"]}


def autograd_scene_facts(c) -> dict:
    nodes = {n["label"]: n for n in c.document("autograd.json")["nodes"]}
    target = nodes["logit[1]"]
    probability = next(n for n in c.document("autograd.json")["nodes"] if n["op"] == "*")["data"]
    return {"grad": target["grad"], "p": probability, "data": target["data"], "other": nodes["logit[0]"]["grad"]}


def adam_scene_facts(c) -> dict:
    param = next(p for p in c.document("adam.json")["params"] if p["name"] == "layer0.attn_wq[0][0]")
    lr = c.document("adam.json")["learning_rate"][0]
    return {"name": param["name"], "grad": param["grad"][0], "update": param["update"][0], "lr": lr,
            "sgd": lr * param["grad"][0]}


def first_update_facts(c) -> dict:
    t = c.run.train_config
    p = Value(0.5)
    p.grad = 1e-4
    Adam([p], t).update(t.learning_rate, 0)
    return {"move": 0.5 - p.data, "learning_rate": t.learning_rate, "sgd": t.learning_rate * 1e-4}


def embeddings_facts(c) -> dict:
    doc = c.document("embeddings.json")
    uchars = c.run.tokenizer.uchars
    steps, count, dims = doc["wte_pca"]["shape"]
    last = doc["wte_pca"]["data"][(steps - 1) * count * dims:]
    points = [last[i * dims:(i + 1) * dims] for i in range(count)]
    a = uchars.index("a") if "a" in uchars else 0
    others = [i for i in range(count) if i != a]
    plane = [p[:2] for p in points]  # PC1 and PC2: what the scene shows face on, and its static picture
    nearest = min(others, key=lambda i: math.dist(plane[i], plane[a]))
    farthest = max(others, key=lambda i: math.dist(plane[i], plane[a]))
    label = (lambda i: "BOS" if i == len(uchars) else uchars[i])
    return {"letter": label(a), "step": doc["checkpoints"][-1], "nearest": label(nearest),
            "farthest": label(farthest)}


def sampling_facts(c) -> dict:
    doc = c.document("inference.json")
    temps = doc["temperatures"]
    t = min(temps, key=lambda t: abs(t["temperature"] - 0.5))
    sample = t["samples"][0]
    position = sample["positions"][0]
    return {"temperature": t["temperature"], "draw": position["draw"], "letter": sample["name"][:1] or "BOS",
            "name": sample["name"], "argmax_letter": c.run.tokenizer.uchars[position["argmax"]]
            if position["argmax"] < len(c.run.tokenizer.uchars) else "BOS"}


def temperature_facts(c) -> dict:
    logits = [2.0, 1.0, 0.0]
    return {"p": softmax([Value(x / 0.5) for x in logits])[0].data, "p1": softmax([Value(x) for x in logits])[0].data}


PAGES = {}


def add(exercise: Exercise) -> None:
    PAGES.setdefault(exercise.page, []).append(exercise)


def code_exercise(id, title, question, hints, solution, check, starter, **extra) -> Exercise:
    """A function to write, checked by `check(answer)` on inputs of its own: no facts of the run, so not live."""
    return Exercise(id, "code", title, question, hints, solution, lambda c: {},
                    lambda answer, facts: check(answer), label="Your code", starter=starter, live=False, **extra)


# --- preamble ------------------------------------------------------------------------------------------------
add(Exercise(
    "preamble-third-party", "number", "Nothing to install",
    "The original imports {imports} modules ({names}). How many of them must be installed from outside Python's "
    "standard library?",
    ("Which of them ship with every Python?",),
    "All of {names} come with Python, so the answer is **{third_party}**: the whole GPT needs nothing else.",
    imports_facts, number("third_party", 0, misconceptions=[
        Misconception(lambda f: f["imports"], "{answer} is how many modules it imports; are any of them not part "
                      "of Python itself?")]), live=False))

add(code_exercise(
    "preamble-shuffle", "The seeded shuffle",
    "Write `shuffled(docs, seed)`: the names in the order the original trains on them with that seed "
    f"(lines {line_of('random.seed(42)')} and {line_of('random.shuffle(docs)')}). Run it twice with the same seed: "
    "the order must be the same.",
    ("`random.seed(seed)` fixes the stream; `random.shuffle(docs)` then always makes the same order.",
     "Shuffle a copy and return it; `random.Random(seed)` is a generator of your own with the same stream."),
    "```python\ndef shuffled(docs, seed):\n    docs = list(docs)\n    random.Random(seed).shuffle(docs)\n"
    "    return docs\n```\nA seeded generator gives the same numbers every run, so the same order.",
    code.check_shuffled, starter="def shuffled(docs, seed):\n    ...\n"))

add(Exercise(
    "preamble-seed", "experiment", "Another seed",
    f"Change `random.seed(42)` to the next seed and train both runs for {experiments.STEPS} steps. Compared with the "
    "original, will the mean loss of those steps (the loss measures how badly the model predicted each next letter; "
    "lower is better) be higher, lower, or about the same "
    f"(within {experiments.SAME_OTHER_NAMES})?",
    ("The seed changes the order of the names and every initial weight, but not what the model is or how it "
     "learns.", "Both runs start near the loss of uniform guessing and learn the same common letters first; what "
     "differs is which names their steps happen to read."),
    "The mean loss comes out **{outcome}**. {report} A different seed gives other names in another order and "
    "other small random weights. What stays fixed is the model and how it learns: the loss falls the same way, "
    "from the same starting level, and what moves the mean is which names each run's steps happen to read.",
    experiments.seed, choice("outcome", OUTCOMES, "{report}"), label="Your prediction", choices=OUTCOMES,
    build_facts=False))

# --- dataset -------------------------------------------------------------------------------------------------
add(Exercise(
    "dataset-num-docs", "number", "How much of the data training reads",
    f"Training runs {{num_steps}} steps, one name each (line {line_of('doc = docs[step % len(docs)]')}). What "
    "fraction of the dataset's names does it read? The first line the original prints, `num docs`, says how many "
    "there are. Within 10%.",
    ("Each non-blank line of names.txt is one document; the transcript's first line counts them.",
     "One name per step: the number of steps over the number of names."),
    "{num_steps} / {num_docs} = **{fraction:.3f}**: training reads about one entry in {every:.0f}, each once, and "
    "never sees the rest. What it learns must carry over to names it never read (the training page measures how "
    "well).", lambda c: {**docs_facts(c), "num_steps": c.run.train_config.num_steps,
                         "fraction": c.run.train_config.num_steps / len(c.run.docs),
                         "every": len(c.run.docs) / c.run.train_config.num_steps},
    number("fraction", 0.1, relative=True, misconceptions=[Misconception(
        lambda f: 1.0, "{answer} would be every name: {num_steps} steps of one name each read only a part of the "
        "{num_docs}", 0.05)])))

add(Exercise(
    "dataset-longest", "number", "The longest name",
    "How many letters has the longest name in the dataset? (The block holds {block_size} tokens, BOS included.)",
    ("`max(docs, key=len)` finds it.",),
    "`{longest_name}`, **{longest}** letters: `max(len(d) for d in docs)`.",
    lambda c: {**docs_facts(c), "block_size": c.run.config.block_size}, number("longest", 0, misconceptions=[
        Misconception(lambda f: f["block_size"], "{answer} is the block size: names can be longer; training cuts "
                      "them to the block")])))

add(code_exercise(
    "dataset-docs-from", "Reading the file",
    f"Write `docs_from(text)`: the list of documents line {line_of('docs = [l.strip()')} makes from the file's text.",
    ("Strip the text, split it on newlines, strip each line.", "Drop lines that are empty once stripped."),
    "```python\ndef docs_from(text):\n    return [l.strip() for l in text.strip().split('\\n') if l.strip()]\n```",
    code.check_docs_from, starter="def docs_from(text):\n    ...\n"))

# --- tokenizer -----------------------------------------------------------------------------------------------
add(Exercise(
    "tokenizer-vocab-size", "number", "The vocabulary",
    "How many tokens does the vocabulary hold for this dataset?",
    ("Every distinct character is a token.", "Is there a token that is not a character?"),
    "**{vocab_size}**: the {uchars} distinct characters, and one more for BOS.",
    lambda c: {"vocab_size": c.run.tokenizer.vocab_size, "uchars": len(c.run.tokenizer.uchars)},
    number("vocab_size", 0, misconceptions=[Misconception(
        lambda f: f["uchars"], "{answer} counts the characters only: one more token marks where a name starts "
        "and ends")])))

add(Exercise(
    "tokenizer-bos", "number", "BOS's id",
    "Which token id does BOS get?",
    ("Characters get ids 0, 1, 2, … in sorted order.", "BOS comes after the last character."),
    "**{BOS}**, one past the last character (`BOS = len(uchars)`).",
    lambda c: {"BOS": c.run.tokenizer.BOS}, number("BOS", 0, misconceptions=[Misconception(
        lambda f: 0, "0 is the first character's id; BOS is added after all of them")])))

add(code_exercise(
    "tokenizer-encode", "Encode a name",
    f"Write `encode(name, uchars)`: the name's token ids, as line {line_of('tokens = [BOS] +')} builds them.",
    ("A character's id is its index in `uchars`; BOS is `len(uchars)`.", "BOS goes on both sides."),
    "```python\ndef encode(name, uchars):\n    BOS = len(uchars)\n    return [BOS] + [uchars.index(ch) for ch in name]"
    " + [BOS]\n```", code.check_encode, starter="def encode(name, uchars):\n    ...\n"))

# --- autograd ------------------------------------------------------------------------------------------------
add(code_exercise(
    "autograd-mul", "The product's local gradients",
    "Write `mul(self, other)`, the body of `Value.__mul__`: the product as a new `Value` with its two children and "
    "their local gradients. A plain number as `other` must work too.",
    ("`Value(data, children, local_grads)`.", "d(a·b)/da = b and d(a·b)/db = a: each gets the *other's* value."),
    "```python\ndef mul(self, other):\n    other = other if isinstance(other, Value) else Value(other)\n"
    "    return Value(self.data * other.data, (self, other), (other.data, self.data))\n```",
    code.check_mul, starter="def mul(self, other):\n    ...\n"))

add(Exercise(
    "autograd-graph-nodes", "number", "How big is one step's graph",
    "How many `Value` nodes does one training step's graph hold, from the parameters to the loss? Predict within "
    "25%.",
    ("The parameters the name's positions read are leaves, and so is every constant; every +, *, exp, log makes "
     "one more node.",
     "A position's forward pass does a few thousand multiplications; a name has several positions."),
    "**{nodes}** nodes for the name `{doc}` ({leaves} of them leaves). Every operation of every position is kept "
    "until backward has used it.", graph_facts, number("nodes", 0.25, relative=True, misconceptions=[
        Misconception(lambda f: 4192, "{answer} is about the parameters only; the graph also holds every "
                      "intermediate result of every position", 0.2, True)])))

add(Exercise(
    "autograd-scene-grad", "scene", "Read the graph",
    "In the autograd scene, the loss is −log of softmax's probability of `logit[1]`. Before you look at its "
    "gradient: what is the gradient of the loss with respect to `logit[1]`?",
    ("The probability of the target is shown on the `*` node before the log.",
     "For cross-entropy after softmax, d loss / d logit = probability − 1 for the target, probability for others."),
    "p = {p:.4f}, so the gradient is p − 1 = **{grad:.4f}**: raising the right logit lowers the loss.",
    autograd_scene_facts, number("grad", 0.01, misconceptions=[
        Misconception(lambda f: f["p"], "{answer} is the probability itself; for the target logit subtract 1",
                      0.01)]), scene="autograd", live=False))

# --- parameters ----------------------------------------------------------------------------------------------
add(Exercise(
    "parameters-num-params", "number", "Count the parameters",
    "How many parameters does the model have? Work it out from the shapes "
    f"(line {line_of('num params:')} prints it).",
    ("wte and lm_head: vocab_size × n_embd each; wpe: block_size × n_embd.",
     "Per layer: four n_embd × n_embd attention matrices, and the MLP's 4·n_embd × n_embd twice."),
    "**{num_params}** = 2·{vocab_size}·{n_embd} + {block_size}·{n_embd} + 4·{n_embd}² + 2·4·{n_embd}².",
    run_facts, number("num_params", 0)))

add(Exercise(
    "parameters-fc1", "number", "One matrix",
    "How many numbers does `layer0.mlp_fc1` hold?",
    ("It takes n_embd numbers in and gives 4·n_embd out.",),
    "{rows} × {cols} = **{fc1}**: the MLP widens each vector fourfold.",
    matrix_facts, number("fc1", 0, misconceptions=[Misconception(
        lambda f: f["square"], "{answer} would be a square n_embd × n_embd matrix; the MLP's first layer is four "
        "times wider")])))

add(Exercise(
    "parameters-nearest", "scene", "Neighbours in the embedding",
    "In the embeddings scene at its last step ({step}), which letter sits nearest to `{letter}` in the plane of "
    "the first two components, PC1 and PC2 (the scene seen face on; without WebGL, the picture under it)?",
    ("Move the step control to the end, look at the scene face on, and find `{letter}`.",
     "Vowels often end up near each other: they play similar roles in names."),
    "`{nearest}`, nearest to `{letter}` at step {step}; the farthest is `{farthest}`.",
    embeddings_facts, text_answer("nearest", "a letter", {"farthest": "{answer} is the farthest from {letter}, "
                                                           "not the nearest"}), label="A letter", scene="embeddings"))

# --- model ---------------------------------------------------------------------------------------------------
add(code_exercise(
    "model-softmax", "softmax",
    "Write `softmax(logits)`: a list of `Value`s in, probabilities (Values summing to 1) out, safe for large "
    "logits.",
    ("exp of each logit, divided by the sum of the exps.",
     "exp(1000) overflows: subtract the largest logit's `.data` from every logit first; the result is the same."),
    "```python\ndef softmax(logits):\n    max_val = max(val.data for val in logits)\n"
    "    exps = [(val - max_val).exp() for val in logits]\n    total = sum(exps)\n"
    "    return [e / total for e in exps]\n```", code.check_softmax, starter="def softmax(logits):\n    ...\n"))

add(code_exercise(
    "model-rmsnorm", "rmsnorm",
    "Write `rmsnorm(x)`: x scaled so that its root mean square is 1 (with the original's 1e-5 inside the root).",
    ("Mean of the squares, plus 1e-5, to the power −0.5: that is the scale.", "Multiply every x by the scale."),
    "```python\ndef rmsnorm(x):\n    ms = sum(xi * xi for xi in x) / len(x)\n    scale = (ms + 1e-5) ** -0.5\n"
    "    return [xi * scale for xi in x]\n```", code.check_rmsnorm, starter="def rmsnorm(x):\n    ...\n"))

add(code_exercise(
    "model-linear", "linear",
    "Write `linear(x, w)`: w has nout rows of nin numbers; the result has one number per row.",
    ("Each output is one row of w dotted with x.",),
    "```python\ndef linear(x, w):\n    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]\n```",
    code.check_linear, starter="def linear(x, w):\n    ...\n"))

add(Exercise(
    "model-kv-cache", "number", "The KV cache",
    "While `gpt()` processes the token at `pos_id = {position}` (counting from 0), how many keys are in "
    "`keys[0]` once it has appended its own?",
    ("Every position appends one key per layer.", "Positions 0 to {position} have each appended one."),
    "**{keys}**: positions 0 to {position}, this one included: attention reads itself too.",
    cache_facts, number("keys", 0, misconceptions=[Misconception(
        lambda f: f["position"], "{answer} leaves out the current position's own key, appended just before "
        "attention reads the cache")]), live=False))

add(Exercise(
    "model-one-head", "experiment", "One head instead of four",
    "Set `n_head = 1`: one head looks at all `n_embd` dimensions at once, instead of `n_head` heads looking at "
    f"`head_dim` each. Same number of parameters. Over the first {experiments.STEPS} steps, will the mean loss be "
    "higher, lower or "
    f"about the same (within {experiments.SAME})?",
    ("The parameter count does not change with the number of heads.",
     "Early in training the model mostly learns letter frequencies, which need no attention at all."),
    "The mean loss comes out **{outcome}**. {report} The number of heads changes how attention splits its "
    "vectors, not how many weights there are; early losses are dominated by learning which letters are common, "
    "which needs no attention.",
    experiments.one_head, choice("outcome", OUTCOMES, "{report}"), label="Your prediction", choices=OUTCOMES,
    build_facts=False))

# --- optimizer -----------------------------------------------------------------------------------------------
add(code_exercise(
    "optimizer-adam", "One Adam update",
    "Write `adam_update(p, grad, m, v, step, lr)`: one step of "
    f"lines {line_of('m[i] = beta1')}–{line_of('p.data -= lr_t')} for one parameter "
    "(beta1 = 0.85, beta2 = 0.99, eps = 1e-8); return the new `(p, m, v)`.",
    ("m and v are running averages: `m = beta1 * m + (1 - beta1) * grad`, likewise v with grad².",
     "Bias-correct with `1 - beta ** (step + 1)`, then `p -= lr * m_hat / (v_hat ** 0.5 + eps)`."),
    "```python\ndef adam_update(p, grad, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):\n"
    "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad ** 2\n"
    "    m_hat = m / (1 - beta1 ** (step + 1))\n    v_hat = v / (1 - beta2 ** (step + 1))\n"
    "    p -= lr * m_hat / (v_hat ** 0.5 + eps)\n    return p, m, v\n```",
    code.check_adam_update, starter="def adam_update(p, grad, m, v, step, lr):\n    ...\n"))

add(Exercise(
    "optimizer-first-step", "number", "Adam's first step",
    "At the first step, a parameter's gradient is 0.0001. How far does Adam move it (learning rate "
    "{learning_rate})?",
    ("At step 0, m_hat = grad and v_hat = grad² after bias correction.", "m_hat / sqrt(v_hat) = ±1."),
    "**{move:.6g}**: m_hat / sqrt(v_hat) is grad / |grad| = 1, so the first step moves every parameter by the "
    "learning rate, however small its gradient.", first_update_facts, number("move", 0.0001, misconceptions=[
        Misconception(lambda f: f["sgd"], "{answer} is learning rate × gradient, plain gradient descent; Adam "
                      "divides by the gradient's typical size", 1e-7)])))

add(Exercise(
    "optimizer-no-zero-grad", "experiment", "Forget to clear the gradients",
    f"Delete line {line_of('p.grad = 0')}, `p.grad = 0`: every step's gradients now add to all the earlier ones. "
    f"Over the first {experiments.STEPS} steps, "
    f"will the mean loss be higher, lower or about the same (within {experiments.SAME})?",
    ("`backward()` adds to `.grad`, it never overwrites.",
     "After k steps each parameter's gradient is the sum of k steps' gradients: old names keep pushing."),
    "The mean loss comes out **{outcome}**. {report} Without clearing, each update follows the sum of every "
    "gradient so far, old names included; Adam's normalisation hides the size but not the direction, so each step "
    "fits the name in front of it less and the names already seen more.",
    experiments.no_zero_grad, choice("outcome", OUTCOMES, "{report}"), label="Your prediction", choices=OUTCOMES,
    build_facts=False))

# --- training ------------------------------------------------------------------------------------------------
add(Exercise(
    "training-untrained-loss", "number", "The untrained loss",
    "Before any update, what loss does step 1 print? Predict to within 0.1.",
    ("An untrained model spreads its probability almost evenly over the {vocab_size} tokens.",
     "The loss of uniform guessing is −ln(1/{vocab_size}) = ln {vocab_size}; step 1's loss is that of one name."),
    "Uniform guessing gives ln {vocab_size} = {uniform:.4f}, and that is what the untrained model scores on average "
    "over many names: its small random weights spread the probability almost evenly. Step 1 printed **{loss:.4f}** "
    "for one name, `{doc}`: which name comes first moves the first loss more than the weights' small unevenness "
    "does (*What the final loss means*, below, measures both).",
    untrained_facts, number("loss", 0.1, misconceptions=[Misconception(
        lambda f: 1 / f["vocab_size"], "{answer} is the probability uniform guessing gives each token; the loss is "
        "−ln of the probability of the right one", 0.005)])))

add(Exercise(
    "training-lr-600", "number", "The learning rate at step 600",
    f"The learning rate decays linearly (line {line_of('lr_t = learning_rate')}). "
    "What is `lr_t` at step = {step} (counting from 0)?",
    ("`lr_t = learning_rate * (1 - step / num_steps)`.",),
    "{learning_rate} × (1 − {step}/{num_steps}) = **{lr:.6g}**.", schedule_facts, number("lr", 1e-6, misconceptions=[
        Misconception(lambda f: f["growing"], "{answer} is the part already used up: the rate decays, "
                      "1 − step/num_steps of it is left", 1e-6)])))

add(code_exercise(
    "training-position-loss", "The loss of one position",
    "Write `position_loss(logits, target)`: the cross-entropy at one position "
    f"(lines {line_of('probs = softmax(logits)')}–{line_of('loss_t = -probs')}), a `Value`. The "
    "model's `softmax` is there to use (in a notebook: `from microgpt.model import softmax`).",
    ("Probabilities by softmax, then the probability of the target.", "The loss is −log of it."),
    "```python\ndef position_loss(logits, target):\n    probs = softmax(logits)\n"
    "    return -probs[target].log()\n```", code.check_position_loss,
    starter="def position_loss(logits, target):\n    ...\n",
    imports="from microgpt.model import softmax\n"))

add(Exercise(
    "training-scene-loss", "scene", "Read the loss curve",
    "Move the training scene's step control to step {step}. What is that step's loss (the grey curve)? Within 0.01.",
    ("The scene's readout shows the step's loss and the name it trained on; without WebGL, open the table of "
     "the scene's numbers below.",),
    "Step {step} trained on `{doc}`: loss **{loss:.4f}** (step 1's was {first:.4f}).", training_scene_facts,
    number("loss", 0.01), scene="training"))

add(Exercise(
    "training-lr-tenfold", "experiment", "Ten times the learning rate",
    f"Set the learning rate ten times higher. Over the first {experiments.STEPS} steps, will the mean loss be "
    "higher, lower or about "
    f"the same (within {experiments.SAME}) as with the original's rate?",
    ("Adam moves every parameter by about the learning rate at each step, whatever its gradient.",
     "Compare a step of ten times the rate with the size of the weights themselves "
     f"(line {line_of('matrix = lambda')} draws them with a "
     "small standard deviation)."),
    "Each Adam step moves every parameter by about the learning rate; at ten times the rate a single step is "
    "larger than the initial weights themselves, so the model overshoots what each name teaches it, step after "
    "step, instead of settling. The mean loss comes out **{outcome}**. {report} That is far above even the loss "
    "of uniform guessing, ln {vocab_size} = {uniform:.3f}: the model predicts worse than if it had learned "
    "nothing.",
    experiments.learning_rate, choice("outcome", OUTCOMES, "{report}"), label="Your prediction", choices=OUTCOMES,
    build_facts=False))

add(Exercise(
    "training-adam-scene", "scene", "Adam's first move",
    "In the Adam scene, choose `{name}` and look at step 1: its gradient is tiny ({grad:.3g}). How far does its "
    "value move (the update, within 0.0005)?",
    ("Adam divides m_hat by sqrt(v_hat): at step 1 both come from the same gradient.",),
    "**{update:.4g}**: at the first step m_hat / sqrt(v_hat) = ±1, so the move is the learning rate ({lr:.4g}), "
    "not lr × gradient ({sgd:.3g}).", adam_scene_facts, number("update", 0.0005, misconceptions=[
        Misconception(lambda f: f["sgd"], "{answer} is lr × gradient, as plain gradient descent would move; "
                      "Adam's step does not shrink with the gradient", 1e-5)]), scene="adam"))

# --- inference -----------------------------------------------------------------------------------------------
add(Exercise(
    "inference-temperature", "number", "Temperature sharpens",
    "Logits [2, 1, 0] at temperature 0.5: what is the probability of the first token "
    f"(line {line_of('softmax([l / temperature')})?",
    ("Divide each logit by the temperature, then softmax.",),
    "softmax([4, 2, 0])[0] = **{p:.4f}** (at temperature 1 it would be {p1:.4f}): a low temperature sharpens.",
    temperature_facts, number("p", 0.005, misconceptions=[Misconception(
        lambda f: f["p1"], "{answer} is the probability at temperature 1; divide the logits by 0.5 first",
        0.005)]), live=False))

add(code_exercise(
    "inference-pick", "Where the draw lands",
    "Write `pick(probs, r)`: the token `random.choices` picks when its random number is r (0 ≤ r < 1): the first "
    "token whose running total of probabilities exceeds r × the total.",
    ("Add the probabilities up one by one.", "Stop at the first running total *greater* than r × total."),
    "```python\ndef pick(probs, r):\n    total, running = sum(probs), 0.0\n    for i, p in enumerate(probs):\n"
    "        running += p\n        if running > r * total:\n            return i\n    return len(probs) - 1\n```",
    code.check_pick, starter="def pick(probs, r):\n    ...\n"))

add(Exercise(
    "inference-scene-draw", "scene", "Read a draw",
    "In the sampling scene, at temperature {temperature}, the first sample's first position: the draw is "
    "{draw:.4f}. Which letter does it land on?",
    ("Walk the bars from the first letter, adding their probabilities; stop when the total passes the draw.",
     "Without WebGL, the table under the scene lists each sample's letters, in the order they were drawn."),
    "`{letter}`: the first letter of `{name}`. The most likely letter was `{argmax_letter}`; the draw is random, "
    "not the argmax.", sampling_facts, text_answer("letter", "a letter", {"argmax_letter": (
        "{answer} is the most likely letter, but the draw does not take the most likely one: it lands where the "
        "running total passes {draw:.4f}")}), label="A letter", scene="sampling", live=False))

EXERCISES = {e.id: e for exercises in PAGES.values() for e in exercises}


def by_page(page: str) -> list[Exercise]:
    return PAGES.get(page, [])



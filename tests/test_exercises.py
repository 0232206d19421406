"""Every exercise: its worked solution passes, a typical wrong answer fails with its own message, bad input errs."""

import ast
import json
import re
from collections import Counter

import pytest

from conftest import ROOT, TRANSCRIPT
from microgpt import exercises
from microgpt.config import GPTConfig
from microgpt.exercises import Context, check, experiments
from microgpt.exercises.kinds import KINDS
from microgpt.run import Run
from microgpt.sections import SECTIONS

# exercise id -> (a typical wrong answer, words its message must hold)
WRONG = {
    "preamble-third-party": ("imports", "modules it imports"),
    "preamble-shuffle": ("def shuffled(docs, seed):\n    return sorted(docs)\n", "sorted"),
    "preamble-seed": (None, "but it was"),
    "dataset-num-docs": (1, "every name"),
    "dataset-longest": (16, "block size"),
    "dataset-docs-from": ("def docs_from(text):\n    return [l.strip() for l in text.split('\\n')]\n", "empty name"),
    "tokenizer-vocab-size": (26, "counts the characters only"),
    "tokenizer-bos": (0, "first character's id"),
    "tokenizer-encode": ("def encode(name, uchars):\n    return [len(uchars)] + [uchars.index(c) for c in name]\n",
                         "must close the name"),
    "autograd-mul": ("def mul(self, other):\n    other = other if isinstance(other, Value) else Value(other)\n"
                     "    return Value(self.data * other.data, (self, other), (self.data, other.data))\n", "swapped"),
    "autograd-graph-nodes": (4192, "parameters only"),
    "autograd-scene-grad": ("p", "probability itself"),
    "parameters-num-params": (4000, "too low"),
    "parameters-fc1": (256, "square"),
    "parameters-nearest": ("farthest", "farthest"),
    "model-softmax": ("def softmax(logits):\n    exps = [l.exp() for l in logits]\n    total = sum(exps)\n"
                      "    return [e / total for e in exps]\n", "subtract the maximum"),
    "model-rmsnorm": ("def rmsnorm(x):\n    ms = sum(xi * xi for xi in x) / len(x)\n"
                      "    return [xi * ms ** -0.5 for xi in x]\n", "divides by zero"),
    "model-linear": ("def linear(x, w):\n    return [sum(w[i][j] * x[i] for i in range(len(w))) "
                     "for j in range(len(w[0]))]\n", "one per column"),
    "model-kv-cache": (4, "current position's own key"),
    "model-one-head": (None, "but it was"),
    "optimizer-adam": ("def adam_update(p, grad, m, v, step, lr):\n    m = 0.85 * m + 0.15 * grad\n"
                       "    v = 0.99 * v + 0.01 * grad ** 2\n    p -= lr * m / (v ** 0.5 + 1e-8)\n    return p, m, v\n",
                       "bias correction"),
    "optimizer-first-step": (1e-6, "plain gradient descent"),
    "optimizer-no-zero-grad": (None, "but it was"),
    "training-untrained-loss": ("p_uniform", "probability uniform guessing gives"),
    "training-lr-600": (0.006, "already used up"),
    "training-position-loss": ("def position_loss(logits, target):\n    m = max(l.data for l in logits)\n"
                               "    exps = [(l - m).exp() for l in logits]\n"
                               "    return (exps[target] / sum(exps)).log()\n", "negative of the right one"),
    "training-scene-loss": ("first", "too"),
    "training-lr-tenfold": (None, "but it was"),
    "training-adam-scene": ("sgd", "plain gradient descent"),
    "inference-temperature": ("p1", "temperature 1"),
    "inference-pick": ("def pick(probs, r):\n    total = 0\n    for i, p in enumerate(probs):\n        total += p\n"
                       "        if total >= r:\n            return i\n", "probability 0"),
    "inference-scene-draw": ("argmax_letter", "most likely letter"),
}
DOCUMENTS = ("training.json", "autograd.json", "adam.json", "embeddings.json", "inference.json")


@pytest.fixture(scope="module")
def context(export_30, names_path):
    """The site's settings, with the documents of a short recorded run (the site's own take minutes to record)."""
    docs = {name: json.loads((export_30 / name).read_text(encoding="utf-8")) for name in DOCUMENTS}
    return Context(run=Run.setup(data=names_path), documents=docs)


@pytest.fixture(scope="module")
def facts(context, names_path):
    """Every exercise's facts; experiments on a small model (the site's take seconds a step in CPython)."""
    small = Context(run=Run.setup(GPTConfig(n_embd=8, n_head=2, block_size=8), data=names_path))
    return {e.id: e.facts(small if e.kind == "experiment" else context) for e in exercises.EXERCISES.values()}


def solution_of(exercise, facts: dict):
    """The worked solution's answer: the code it shows, or the computed value it reveals."""
    if exercise.kind == "code":
        return re.search(r"```python\n(.*?)```", exercise.solution, re.S).group(1)
    if exercise.kind == "experiment":
        return facts["outcome"]
    key = {"autograd-scene-grad": "grad", "training-scene-loss": "loss", "training-adam-scene": "update",
           "parameters-nearest": "nearest", "inference-scene-draw": "letter", "inference-temperature": "p",
           "optimizer-first-step": "move", "training-untrained-loss": "loss", "training-lr-600": "lr",
           "model-kv-cache": "keys", "autograd-graph-nodes": "nodes", "parameters-fc1": "fc1",
           "preamble-third-party": "third_party", "dataset-num-docs": "fraction", "dataset-longest": "longest",
           "tokenizer-vocab-size": "vocab_size", "tokenizer-bos": "BOS", "parameters-num-params": "num_params"}
    return facts[key[exercise.id]]


def wrong_of(exercise, facts: dict):
    answer, _ = WRONG[exercise.id]
    if exercise.kind == "experiment":
        return next(c for c in exercise.choices if c != facts["outcome"])
    if isinstance(answer, str) and answer in facts:
        value = facts[answer]
        return round(value, 6) if isinstance(value, float) else value
    return answer


def test_every_page_has_three_exercises_and_every_kind_is_used():
    pages = Counter(e.page for e in exercises.EXERCISES.values())
    assert set(pages) == {s.id for s in SECTIONS} and min(pages.values()) >= 3, pages
    assert set(Counter(e.kind for e in exercises.EXERCISES.values())) == set(KINDS)
    assert set(WRONG) == set(exercises.EXERCISES)


@pytest.mark.parametrize("exercise_id", sorted(exercises.EXERCISES))
def test_the_solution_passes_and_a_typical_wrong_answer_fails_with_its_message(exercise_id, facts):
    exercise = exercises.get(exercise_id)
    f = facts[exercise_id]
    json.dumps(f, allow_nan=False)  # the page carries them as JSON
    good = check(exercise_id, solution_of(exercise, f), f)
    assert good.result == "right", good
    bad = check(exercise_id, wrong_of(exercise, f), f)
    assert bad.result == "wrong", bad
    assert WRONG[exercise_id][1] in bad.message, bad
    for text in (exercise.question, *exercise.hints, exercise.solution):  # the page renders them with the facts
        assert exercise.render(text, f)


@pytest.mark.parametrize("exercise_id", ["training-untrained-loss", "model-softmax", "preamble-seed"])
def test_unreadable_answers_are_errors_that_say_what_to_type(exercise_id, facts):
    exercise = exercises.get(exercise_id)
    result = check(exercise_id, "three point three" if exercise.kind != "code" else "def softmax(:", facts[exercise_id])
    assert result.result == "error", result
    assert re.search(r"not a number|line 1|choose one of", result.message), result


def test_the_untrained_loss_is_the_first_step_of_the_recorded_run(context, export_30):
    training = json.loads((export_30 / "training.json").read_text(encoding="utf-8"))
    assert exercises.get("training-untrained-loss").facts(context)["loss"] == pytest.approx(training["loss"][0],
                                                                                              abs=1e-4)


def test_softmax_reports_the_first_failing_case_in_words():
    naive = ("def softmax(logits):\n    total = sum(l.exp() for l in logits)\n"
             "    return [l.exp() / total for l in logits]\n")
    result = check("model-softmax", naive)
    assert result.result == "wrong" and "[1000, 0]" in result.message, result
    plain = ("def softmax(logits):\n    m = max(l.data for l in logits)\n"
             "    e = [math.exp(l.data - m) for l in logits]\n    return [x / sum(e) for x in e]\n")
    result = check("model-softmax", plain)
    assert result.result == "wrong" and "not Values" in result.message, result


def test_a_function_works_as_well_as_its_source():
    def softmax(logits):
        m = max(v.data for v in logits)
        exps = [(v - m).exp() for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    assert check("model-softmax", softmax).right


def test_an_unknown_exercise_names_the_page_s_exercises():
    with pytest.raises(KeyError, match="model-softmax"):
        check("model-nope", 1)


@pytest.mark.parametrize("exercise_id", sorted(e.id for e in exercises.EXERCISES.values() if e.kind == "code"))
def test_the_starter_code_is_wrong_in_words(exercise_id):
    exercise = exercises.get(exercise_id)
    result = check(exercise_id, exercise.starter)
    assert result.result == "wrong" and "None" in result.message, result


def test_no_exercise_types_a_line_number_of_the_original():
    """An exercise cites a line by its text (sections.line_of), so a typed number cannot drift from the original."""
    typed = re.compile(r"\b[Ll]ines? \d")
    for path in sorted((ROOT / "src" / "microgpt" / "exercises").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree) if isinstance(
            n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body and isinstance(n.body[0], ast.Expr)}
        found = [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)
                 and isinstance(n.value, str) and id(n) not in docstrings and typed.search(n.value)]
        assert not found, f"{path.name}: typed line numbers {found}; write line_of(text of the line) instead"


# what the solution of each experiment explains, on the site's settings
EXPLAINED = {"preamble-seed": "about the same", "model-one-head": "about the same",
             "optimizer-no-zero-grad": "higher", "training-lr-tenfold": "higher"}


@pytest.fixture(scope="module")
def site_context(names_path):
    """The recorded run's settings, as the build and the page's Check make them."""
    return Context(run=Run.setup(data=names_path))


def test_an_experiment_s_unchanged_run_is_the_original_s_first_steps(site_context):
    losses, stopped = experiments.losses(site_context, experiments.STEPS)
    printed = [line.split("| loss ")[1] for line in TRANSCRIPT.read_text().splitlines() if "| loss " in line]
    assert not stopped and [f"{loss:.4f}" for loss in losses] == printed[:experiments.STEPS]


def test_without_clearing_the_float_engine_adds_gradients_as_the_value_graph_does(site_context):
    floats, _ = experiments.losses(site_context, 4, change=experiments.keep_gradients)
    values, _ = experiments.losses(site_context, 4, change=experiments.keep_gradients, engine="scalar")
    assert floats == pytest.approx(values, abs=1e-12)
    cleared, _ = experiments.losses(site_context, 4)
    assert floats[:2] == cleared[:2] and floats[2:] != pytest.approx(cleared[2:], abs=1e-6)  # from the 2nd update on


@pytest.mark.parametrize("exercise_id", sorted(EXPLAINED))
def test_an_experiment_s_solution_states_what_the_page_s_check_computes(exercise_id, site_context, names_path,
                                                                       monkeypatch):
    """The build's solution names the outcome and both means; the worker's Check (its own run) finds the same."""
    exercise = exercises.get(exercise_id)
    facts = exercise.facts(site_context)
    assert facts["outcome"] == EXPLAINED[exercise_id], facts
    solution = exercise.render(exercise.solution, facts)
    assert f"**{facts['outcome']}**" in solution and re.search(r"was \d\.\d{3} .* and \d\.\d{3} ", solution)
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    monkeypatch.setattr(exercises, "recorded", Context)  # a fresh recorded run, as a new page's worker makes
    checked = exercises._check_page(exercise_id, facts["outcome"], None)
    assert checked["result"] == "right" and facts["report"] in checked["message"] and facts["report"] in solution
    if exercise_id == "training-lr-tenfold":  # "far above even the loss of uniform guessing"
        assert facts["after"] > facts["uniform"] + 1


def test_a_right_number_is_said_once():
    """Exact: the number and how it was checked; near enough: both numbers (never "0: your 0 is right")."""
    from microgpt.exercises.kinds import number

    exact, near = number("n", 0), number("loss", 0.01)
    assert exact("0", {"n": 0}).message == "0 (checked exactly)."
    assert near("3.3", {"loss": 3.2958}).message == "3.296; your 3.3 is near enough (checked within 0.01)."

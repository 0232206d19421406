"""Break it and watch: train the run as it is and with one thing changed, side by side, and compare.

Both runs start from the same settings and documents (the recorded run's, or the reader's own), so the one change
is the only difference. Runs are short: the reader waits for them in the page. They train on the float engine, whose
losses are the original's (its transcripts are byte for byte the scalar engine's) at a tenth of the time a step.
"""

import math
import random
from dataclasses import replace

from ..run import Run
from ..training import NonFiniteLossError
from .context import Context

SAME = 0.02  # mean losses closer than this count as "about the same" (both runs train on the same names)
SAME_OTHER_NAMES = 0.1  # ... when the change also changes which names the runs see: one name's loss varies more
OUTCOMES = ("higher", "lower", "about the same")
STEPS = 20  # each run: a few seconds in the browser
ENGINE = "floats"  # the scalar engine's losses, without building a graph: what the page's Check waits for


def keep_gradients(run: Run) -> None:
    """Line 182 deleted: Adam no longer sets p.grad = 0, so each step's gradients add to all earlier ones."""
    engine = run.engine
    if engine.name == "floats":  # its update clears the gradient, and forward_backward writes a fresh one
        forward_backward, update = engine.forward_backward, engine.update

        def forward_backward_adding(tokens, n, step):
            grad = engine.grad
            loss = forward_backward(tokens, n, step)
            engine.grad = [g + new for g, new in zip(grad, engine.grad)]  # backward() adds to .grad
            return loss

        def update_keeping(lr_t, step):
            grad = engine.grad
            update(lr_t, step)
            engine.grad = grad

        engine.forward_backward, engine.update = forward_backward_adding, update_keeping
        return
    adam, params = engine.adam, engine.params  # the scalar engine: backward() already adds to p.grad
    update = adam.update

    def update_keeping(lr_t, step):
        grads = [p.grad for p in params]
        update(lr_t, step)
        for p, g in zip(params, grads):
            p.grad = g

    adam.update = update_keeping


def file_order(run: Run) -> list[str]:
    """The run's documents as it read them, before `random.shuffle(docs)`: what each run of an experiment shuffles."""
    order = list(range(len(run.docs)))
    random.Random(run.train_config.seed).shuffle(order)  # the same swaps as on the documents: they depend on the count
    docs = [""] * len(order)
    for doc, i in zip(run.docs, order):
        docs[i] = doc
    return docs


def losses(context: Context, steps: int, config=None, train=None, change=None,
           engine: str = ENGINE) -> tuple[list[float], str]:
    """The first `steps` losses of a fresh run with these settings; and how it ended, if it stopped early."""
    base = context.run
    run = Run.setup(config or base.config, train or base.train_config, docs=file_order(base), engine=engine)
    if change:
        change(run)
    out = []
    try:
        run.trainer.train(min(steps, run.trainer.num_steps), on_step=lambda step, loss: out.append(loss))
    except NonFiniteLossError as e:
        return out, f" (training stopped at {e})"
    return out, ""


def compare(context: Context, steps: int, what: str, same: float = SAME, **changed) -> dict:
    """Facts of an experiment: the mean loss of both runs over the steps, and which way the change moved it."""
    before, _ = losses(context, steps)
    vocab_size = context.run.tokenizer.vocab_size
    after, stopped = losses(context, steps, **changed)
    mean_before = sum(before) / len(before)
    mean_after = sum(after) / len(after) if after else float("inf")
    if stopped or mean_after - mean_before > same:
        outcome = "higher"
    elif mean_before - mean_after > same:
        outcome = "lower"
    else:
        outcome = "about the same"
    after_text = f"{mean_after:.3f}" if after else "no loss at all"
    return {"outcome": outcome, "steps": steps, "before": round(mean_before, 4), "what": what,
            "vocab_size": vocab_size, "uniform": math.log(vocab_size),  # the loss of uniform guessing
            "after": round(mean_after, 4) if after else None,
            "report": f"Over the first {steps} steps the mean loss was {mean_before:.3f} as the original runs and "
                      f"{after_text} {what}{stopped}."}


def seed(context: Context) -> dict:
    train = context.run.train_config
    return compare(context, STEPS, f"with seed {train.seed + 1}", SAME_OTHER_NAMES,
                   train=replace(train, seed=train.seed + 1))


def one_head(context: Context) -> dict:
    config = context.run.config
    return compare(context, STEPS, "with one head", config=replace(config, n_head=1))


def learning_rate(context: Context) -> dict:
    train = context.run.train_config
    return compare(context, STEPS, f"with learning_rate {train.learning_rate * 10:g}",
                   train=replace(train, learning_rate=train.learning_rate * 10))


def no_zero_grad(context: Context) -> dict:
    return compare(context, STEPS, "without p.grad = 0", change=keep_gradients)

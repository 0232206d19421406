"""Training in pieces: bit-identical to one run, honest about the schedule's horizon, stopped by non-finite losses."""

import math

import pytest

from microgpt.config import GPTConfig, TrainConfig
from microgpt.optimizer import HorizonError, learning_rate_at
from microgpt.run import Run
from microgpt.training import NonFiniteLossError

TINY = GPTConfig(n_embd=8, n_head=2, n_layer=1, block_size=8)


def weights(run):
    return [p.data for p in run.engine.params]


def setup(names_docs, **train):
    return Run.setup(TINY, TrainConfig(**train), docs=names_docs[:200])


def test_schedule_never_negative_and_reaches_zero_only_at_the_horizon():
    rates = [learning_rate_at(s, 10, 0.01) for s in range(10)]
    assert rates[0] == 0.01 and all(r > 0 for r in rates)
    assert rates == sorted(rates, reverse=True)
    for step in (10, 11, -1):
        with pytest.raises(HorizonError, match="horizon"):
            learning_rate_at(step, 10, 0.01)


def test_pieces_equal_one_call(names_docs):
    whole = setup(names_docs, num_steps=30)
    whole_losses = whole.trainer.train(30)
    pieces = setup(names_docs, num_steps=30)
    piece_losses = [loss for _ in range(3) for loss in pieces.trainer.train(10)]
    assert piece_losses == whole_losses
    assert weights(pieces) == weights(whole)
    assert pieces.samples() == whole.samples()


def test_second_press_of_train_100_does_not_explode(names_docs):
    """The bug seen in an earlier port: a second 'train N steps' went past the horizon with a negative rate."""
    run = setup(names_docs, num_steps=20)
    run.trainer.train(20)
    before = weights(run)
    with pytest.raises(HorizonError, match=r"extend\(40\)"):
        run.trainer.train(20)
    assert weights(run) == before and run.trainer.step == 20

    held = run.trainer.train(20, after_horizon="zero")  # explicit: keep lr at 0
    assert all(math.isfinite(loss) for loss in held)
    assert weights(run) == before  # a zero rate moves nothing

    run.trainer.extend(60)  # explicit: a longer schedule
    assert all(math.isfinite(loss) for loss in run.trainer.train(20))
    assert weights(run) != before


def test_extend_cannot_go_back(names_docs):
    run = setup(names_docs, num_steps=5)
    run.trainer.train(5)
    with pytest.raises(HorizonError):
        run.trainer.extend(3)


def test_non_finite_loss_names_the_step_and_keeps_the_model(names_docs):
    run = setup(names_docs, num_steps=50, learning_rate=1e9)
    with pytest.raises(NonFiniteLossError, match=r"^step (\d+): .*the parameters were not updated") as e:
        run.trainer.train(50)
    step = e.value.step
    assert run.trainer.step == step and 0 < step < 50
    assert all(math.isfinite(w) for w in weights(run))
    assert all(p.grad == 0 for p in run.engine.params)



@pytest.mark.parametrize("engine", ["scalar", "numpy", "floats"])
@pytest.mark.parametrize("grad, weight, what", [(1e200, 0.5, "a gradient's square overflows"),
                                                (-1.0, 1e308, "the update is not finite")])
def test_an_update_that_overflows_changes_nothing(names_docs, engine, grad, weight, what):
    """Where the original's Adam would stop on an OverflowError or write an infinite weight, the port's raises
    with every weight and buffer as it was."""
    run = Run.setup(TINY, TrainConfig(num_steps=3, learning_rate=1e308), docs=names_docs[:20], engine=engine)
    e = run.engine
    if engine == "scalar":
        for p in e.params:
            p.data, p.grad = weight, grad
    elif engine == "numpy":
        e.flat[:], e.grad[:] = weight, grad
    else:
        e.set_weights([weight] * e.num_params)
        e.grad = [grad] * e.num_params
    before = list(e.weights()), [list(b) for b in e.moments()]
    with pytest.raises(NonFiniteLossError, match=f"^step 1: {what}; the parameters were not updated"):
        e.update(1e308, 0)
    assert (list(e.weights()), [list(b) for b in e.moments()]) == before

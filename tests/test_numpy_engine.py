"""The NumPy engine against the scalar engine (losses, gradients, transcripts) and against finite differences."""

import random

import numpy as np
import pytest

from conftest import MODEL_CONFIGS as CONFIGS
from microgpt.cli import main
from microgpt.config import GPTConfig, TrainConfig
from microgpt.numpy_engine import NumpyEngine, backward, forward
from microgpt.run import Run
from microgpt.training import NonFiniteLossError, document_tokens


def both(config, docs, **train):
    train = TrainConfig(**train)
    return Run.setup(config, train, docs=docs), Run.setup(config, train, docs=docs, engine="numpy")


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_first_step_gradients_match_the_scalar_engine(config, names_docs):
    scalar, arrays = both(config, names_docs[:300])
    assert np.array_equal(scalar.engine.weights(), arrays.engine.weights())  # the same gauss draws
    for doc in scalar.docs[:3]:
        tokens, n = document_tokens(scalar.tokenizer, doc, config.block_size)
        loss_s = scalar.engine.forward_backward(tokens, n, 0)
        loss_a = arrays.engine.forward_backward(tokens, n, 0)
        assert abs(loss_s - loss_a) <= 1e-12
        np.testing.assert_allclose(arrays.engine.gradient(), scalar.engine.gradient(), rtol=0, atol=1e-12)
        scalar.engine.update(0.0, 0)  # clears the scalar gradients


@pytest.mark.parametrize("config, steps", [(CONFIGS[1], 40), (CONFIGS[2], 25), (CONFIGS[3], 2)], ids=str)
def test_losses_and_weights_track_the_scalar_engine(config, steps, names_docs):
    scalar, arrays = both(config, names_docs[:300], num_steps=steps, learning_rate=0.02)
    np.testing.assert_allclose(arrays.trainer.train(steps), scalar.trainer.train(steps), rtol=0, atol=1e-12)
    np.testing.assert_allclose(arrays.engine.weights(), scalar.engine.weights(), rtol=0, atol=1e-12)
    assert arrays.samples() == scalar.samples()


@pytest.mark.slow
def test_full_run_losses_within_1e_12(names_path, full_default_run):
    """All 1000 default steps, each loss within 1e-12 of the scalar engine's (its run is shared with test_cli)."""
    arrays = Run.setup(data=names_path, engine="numpy")
    losses_s, losses_a = full_default_run.losses, arrays.trainer.train(1000)
    assert len(losses_s) == len(losses_a) == 1000
    assert max(abs(a - s) for a, s in zip(losses_a, losses_s)) <= 1e-12
    np.testing.assert_allclose(arrays.engine.weights(), full_default_run.weights, rtol=0, atol=1e-12)


def test_gradients_against_finite_differences():
    config = GPTConfig(n_embd=6, n_head=2, n_layer=2, block_size=6)
    engine = NumpyEngine(config, TrainConfig(), vocab_size=5, rng=random.Random(3))
    tokens = [4, 0, 1, 0, 2, 3, 4]  # a repeated token: its wte row gathers two gradients
    n = 6
    backward(engine.state_dict, engine.grads, config, forward(engine.state_dict, config, tokens, n))
    grad = engine.gradient()
    h = 1e-6
    for i in range(engine.num_params):
        x = engine.flat[i]
        engine.flat[i] = x + h
        up = forward(engine.state_dict, config, tokens, n)["loss"]
        engine.flat[i] = x - h
        down = forward(engine.state_dict, config, tokens, n)["loss"]
        engine.flat[i] = x
        assert grad[i] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("argv", [
    ["--steps", "5", "--samples", "5"],
    ["--seed", "3", "--n-embd", "12", "--n-head", "3", "--n-layer", "2", "--block-size", "10", "--steps", "20",
     "--learning-rate", "0.03", "--temperature", "1.2", "--samples", "8"],
])
def test_cli_transcript_equals_the_scalar_engine(capsys, names_path, argv):
    assert main(["run", "--data", str(names_path), *argv]) == 0
    scalar = capsys.readouterr().out
    assert main(["run", "--data", str(names_path), "--engine", "numpy", *argv]) == 0
    assert capsys.readouterr().out == scalar


def test_non_finite_loss_names_the_step(names_docs):
    run = Run.setup(GPTConfig(n_embd=8, n_head=2, block_size=8), TrainConfig(num_steps=50, learning_rate=1e9),
                    docs=names_docs[:200], engine="numpy")
    with pytest.raises(NonFiniteLossError, match=r"^step \d+: "):
        run.trainer.train(50)
    assert np.isfinite(run.engine.weights()).all()

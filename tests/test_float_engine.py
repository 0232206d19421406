"""The float engine against the original's transcript, the scalar engine (losses, gradients, transcripts) and finite
differences."""

import math
import random
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MODEL_CONFIGS, TRANSCRIPT
from microgpt.cli import main
from microgpt.config import GPTConfig, TrainConfig
from microgpt.float_engine import FloatEngine, backward, forward
from microgpt.parameters import init_state_dict
from microgpt.run import Run
from microgpt.scalar import ScalarEngine
from microgpt.training import NonFiniteLossError, document_tokens

# The builtin sum adds floats left to right up to CPython 3.11, as a sum of Values does; from 3.12 it compensates.
PLAIN_SUM = sys.version_info < (3, 12)


def both(config, docs, **train):
    train = TrainConfig(**train)
    return Run.setup(config, train, docs=docs), Run.setup(config, train, docs=docs, engine="floats")


def test_full_default_run_is_the_transcript(names_path):
    """The whole original, 1000 steps and 20 samples, byte for byte (seconds, not minutes)."""
    result = subprocess.run([sys.executable, "-m", "microgpt", "run", "--data", str(names_path), "--engine", "floats"],
                            capture_output=True, check=True, timeout=600)
    assert result.stdout == TRANSCRIPT.read_bytes()


@pytest.mark.parametrize("config", MODEL_CONFIGS, ids=str)
def test_first_step_loss_and_gradients_match_the_scalar_engine(config, names_docs):
    scalar, floats = both(config, names_docs[:300])
    assert floats.engine.weights() == scalar.engine.weights()  # the same gauss draws
    for doc in scalar.docs[:3]:
        tokens, n = document_tokens(scalar.tokenizer, doc, config.block_size)
        loss_s = scalar.engine.forward_backward(tokens, n, 0)
        loss_f = floats.engine.forward_backward(tokens, n, 0)
        assert loss_f == loss_s if PLAIN_SUM else abs(loss_f - loss_s) <= 1e-14
        assert max(map(abs, map(float.__sub__, floats.engine.gradient(), scalar.engine.gradient()))) <= 1e-14
        scalar.engine.update(0.0, 0)  # clears the scalar gradients


@given(seed=st.integers(0, 2**32 - 1), n_head=st.integers(1, 3), head_dim=st.integers(1, 4),
       n_layer=st.integers(1, 3), block_size=st.integers(1, 9), vocab_size=st.integers(2, 6), data=st.data())
def test_gradients_match_the_scalar_engine_on_random_inputs(seed, n_head, head_dim, n_layer, block_size, vocab_size,
                                                            data):
    config = GPTConfig(n_embd=n_head * head_dim, n_head=n_head, n_layer=n_layer, block_size=block_size)
    tokens = data.draw(st.lists(st.integers(0, vocab_size - 1), min_size=2, max_size=block_size + 1))
    n = min(block_size, len(tokens) - 1)
    scalar = ScalarEngine(config, TrainConfig(), vocab_size, random.Random(seed))
    floats = FloatEngine(config, TrainConfig(), vocab_size, random.Random(seed))
    loss_s = scalar.forward_backward(tokens, n, 0)
    loss_f = floats.forward_backward(tokens, n, 0)
    assert loss_f == loss_s if PLAIN_SUM else loss_f == pytest.approx(loss_s, rel=1e-14)
    for g_f, g_s in zip(floats.gradient(), scalar.gradient(), strict=True):
        assert g_f == pytest.approx(g_s, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("config, steps", [(MODEL_CONFIGS[1], 40), (MODEL_CONFIGS[2], 25)], ids=str)
def test_losses_weights_and_samples_track_the_scalar_engine(config, steps, names_docs):
    scalar, floats = both(config, names_docs[:300], num_steps=steps, learning_rate=0.02)
    losses_s, losses_f = scalar.trainer.train(steps), floats.trainer.train(steps)
    assert max(abs(a - b) for a, b in zip(losses_f, losses_s, strict=True)) <= 1e-12
    assert max(abs(a - b) for a, b in zip(floats.engine.weights(), scalar.engine.weights(), strict=True)) <= 1e-12
    m_f, v_f = floats.engine.moments()
    m_s, v_s = scalar.engine.moments()
    assert max(abs(a - b) for a, b in zip(m_f + v_f, m_s + v_s, strict=True)) <= 1e-12
    assert floats.samples() == scalar.samples()


def test_gradients_against_finite_differences():
    config = GPTConfig(n_embd=6, n_head=2, n_layer=2, block_size=6)
    engine = FloatEngine(config, TrainConfig(), vocab_size=5, rng=random.Random(3))
    tokens = [4, 0, 1, 0, 2, 3, 4]  # a repeated token: its wte row gathers two gradients
    n = 6
    engine.forward_backward(tokens, n, 0)
    grad = engine.gradient()
    flat, h = engine.weights(), 1e-6

    def loss_at(i, x):
        engine.set_weights(flat[:i] + [x] + flat[i + 1:])
        return forward(engine.state_dict, config, tokens, n)[0]

    for i, x in enumerate(flat):
        assert grad[i] == pytest.approx((loss_at(i, x + h) - loss_at(i, x - h)) / (2 * h), rel=1e-5, abs=1e-8)


def test_backward_leaves_unused_rows_at_zero():
    config = GPTConfig(n_embd=4, n_head=2, block_size=8)
    engine = FloatEngine(config, TrainConfig(), vocab_size=5, rng=random.Random(1))
    tokens = [4, 1, 1, 4]
    loss, acts = forward(engine.state_dict, config, tokens, 3)
    grads = backward(engine.state_dict, config, tokens, acts)
    assert [any(row) for row in grads["wte"]] == [False, True, False, False, True]
    assert [any(row) for row in grads["wpe"]] == [True] * 3 + [False] * 5
    assert {name: (len(m), len(m[0])) for name, m in grads.items()} == \
        {name: (len(m), len(m[0])) for name, m in init_state_dict(config, 5, random.Random(1)).items()}


@pytest.mark.parametrize("argv", [
    ["--steps", "5", "--samples", "5"],
    ["--seed", "3", "--n-embd", "12", "--n-head", "3", "--n-layer", "2", "--block-size", "10", "--steps", "20",
     "--learning-rate", "0.03", "--temperature", "1.2", "--samples", "8"],
    ["--seed", "7", "--n-embd", "8", "--n-head", "2", "--n-layer", "3", "--block-size", "6", "--steps", "60",
     "--learning-rate", "0.02", "--temperature", "0.9", "--samples", "10"],
], ids=["defaults", "two-layers", "three-layers-small"])
def test_cli_transcript_equals_the_scalar_engine(capsys, names_path, argv):
    assert main(["run", "--data", str(names_path), *argv]) == 0
    scalar = capsys.readouterr().out
    assert main(["run", "--data", str(names_path), "--engine", "floats", *argv]) == 0
    assert capsys.readouterr().out == scalar


def test_transcript_on_a_non_ascii_dataset_equals_the_scalar_engine(capsys, tmp_path):
    data = tmp_path / "words.txt"
    data.write_text("zoë\r\nłukasz\nanna\n\nbo\n日本語\nçà\n", encoding="utf-8")
    argv = ["run", "--data", str(data), "--n-embd", "4", "--n-head", "2", "--steps", "30", "--samples", "6",
            "--temperature", "1.2"]
    assert main(argv) == 0
    scalar = capsys.readouterr().out
    assert main([*argv, "--engine", "floats"]) == 0
    assert capsys.readouterr().out == scalar


def test_non_finite_loss_names_the_step_and_leaves_the_weights(names_docs):
    run = Run.setup(GPTConfig(n_embd=8, n_head=2, block_size=8), TrainConfig(num_steps=50, learning_rate=1e9),
                    docs=names_docs[:200], engine="floats")
    with pytest.raises(NonFiniteLossError, match=r"^step \d+: ") as e:
        run.trainer.train(50)
    assert run.trainer.step == e.value.step
    assert all(map(math.isfinite, run.engine.weights()))


def test_a_temperature_too_small_to_divide_by_samples_greedily(names_docs):
    """Where 1 / temperature overflows (the original stops there), both engines draw from the limit, `coldest`."""
    scalar, floats = both(GPTConfig(n_embd=8, n_head=2, block_size=8), names_docs[:100])
    probs = [r.engine.next_token_probs(r.tokenizer.BOS, 0, r.engine.new_cache(), 1e-320) for r in (scalar, floats)]
    assert probs[0] == probs[1] and sorted(probs[1])[-1] == 1.0 and sum(probs[1]) == 1.0

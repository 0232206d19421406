"""The model's functions against finite differences, on a tiny configuration."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgpt.autograd import Value
from microgpt.config import GPTConfig, TrainConfig
from microgpt.model import linear, rmsnorm, softmax
from microgpt.scalar import ScalarEngine

H = 1e-6
vec = st.lists(st.floats(-2, 2), min_size=2, max_size=6)


def numeric_grad(f, xs, i):
    up = [x + H if j == i else x for j, x in enumerate(xs)]
    down = [x - H if j == i else x for j, x in enumerate(xs)]
    return (f([Value(x) for x in up]).data - f([Value(x) for x in down]).data) / (2 * H)


def check_vector_fn(fn, xs, weights):
    """d(sum_k weights[k] * fn(x)[k]) / dx by backward() vs central differences."""
    f = lambda vals: sum(w * o for w, o in zip(weights, fn(vals)))
    vals = [Value(x) for x in xs]
    f(vals).backward()
    for i in range(len(xs)):
        assert vals[i].grad == pytest.approx(numeric_grad(f, xs, i), rel=1e-5, abs=1e-6)


@given(vec, st.integers(0, 1000))
def test_softmax(xs, seed):
    rng = random.Random(seed)
    probs = softmax([Value(x) for x in xs])
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    check_vector_fn(softmax, xs, [rng.uniform(-1, 1) for _ in xs])


@given(vec.filter(lambda xs: sum(x * x for x in xs) > 0.1), st.integers(0, 1000))
def test_rmsnorm(xs, seed):
    rng = random.Random(seed)
    out = rmsnorm([Value(x) for x in xs])
    assert sum(o.data**2 for o in out) / len(xs) == pytest.approx(1.0, rel=1e-3)
    check_vector_fn(rmsnorm, xs, [rng.uniform(-1, 1) for _ in xs])


@given(vec, st.integers(0, 1000))
def test_linear(xs, seed):
    rng = random.Random(seed)
    w = [[Value(rng.uniform(-1, 1)) for _ in xs] for _ in range(3)]
    check_vector_fn(lambda v: linear(v, w), xs, [rng.uniform(-1, 1) for _ in range(3)])


@pytest.mark.parametrize("config", [GPTConfig(n_embd=4, n_head=2, n_layer=2, block_size=4),
                                    GPTConfig(n_embd=6, n_head=3, n_layer=1, block_size=5)])
def test_gpt_loss_gradients(config):
    """Every parameter's gradient of one document's loss, through gpt(), against central differences."""
    engine = ScalarEngine(config, TrainConfig(), vocab_size=5, rng=random.Random(0))
    tokens, n = [4, 0, 1, 2, 3, 4], min(config.block_size, 5)
    engine.loss(tokens, n).backward()
    for p in engine.params:
        grad, x = p.grad, p.data
        p.data = x + H
        up = engine.loss(tokens, n).data
        p.data = x - H
        down = engine.loss(tokens, n).data
        p.data = x
        assert grad == pytest.approx((up - down) / (2 * H), rel=1e-4, abs=1e-7)

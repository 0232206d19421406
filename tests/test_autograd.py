"""Every Value operation against central finite differences; the topological order against the original's."""

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgpt.autograd import Value, topological_order

H = 1e-6
safe = st.floats(min_value=-3, max_value=3, allow_nan=False).filter(lambda x: abs(x) > 0.1)
positive = st.floats(min_value=0.1, max_value=5)


def check(f, *xs, tol=1e-6):
    """f's gradients by backward() equal central differences at xs."""
    vals = [Value(x) for x in xs]
    out = f(*vals)
    assert out.data == pytest.approx(f(*[Value(x) for x in xs]).data)
    out.backward()
    for i, x in enumerate(xs):
        up = f(*[Value(x + H if j == i else y) for j, y in enumerate(xs)]).data
        down = f(*[Value(x - H if j == i else y) for j, y in enumerate(xs)]).data
        assert vals[i].grad == pytest.approx((up - down) / (2 * H), rel=tol, abs=tol)


@given(safe, safe)
def test_binary_ops(a, b):
    check(lambda x, y: x + y, a, b)
    check(lambda x, y: x * y, a, b)
    check(lambda x, y: x - y, a, b)
    check(lambda x, y: x / y, a, b)


@given(safe, st.sampled_from([2, 3, -1, -0.5, 0.5]))
def test_pow(a, k):
    if k != int(k):
        a = abs(a)
    check(lambda x: x**k, a)


@given(positive)
def test_log(a):
    check(lambda x: x.log(), a)


@given(safe)
def test_exp_relu_neg(a):
    check(lambda x: x.exp(), a)
    check(lambda x: x.relu(), a)
    check(lambda x: -x, a)


@given(safe, safe)
def test_reflected_ops_with_numbers(a, b):
    check(lambda x: b + x, a)
    check(lambda x: b - x, a)
    check(lambda x: b * x, a)
    check(lambda x: b / x, a)


@given(st.lists(safe, min_size=2, max_size=6))
def test_shared_subexpressions_accumulate(xs):
    check(lambda *v: sum(vi * vi.exp() for vi in v) * v[0], *xs, tol=1e-5)


def original_topo(root):
    """Lines 60-68 of the original, verbatim: the order the port must keep."""
    topo = []
    visited = set()
    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._children:
                build_topo(child)
            topo.append(v)
    build_topo(root)
    return topo


@given(st.integers(0, 2**32 - 1))
def test_topological_order_is_the_originals(seed):
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(0.5, 2)) for _ in range(4)]
    for _ in range(30):
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.choice([lambda x, y: x + y, lambda x, y: x * y, lambda x, _: x.relu(), lambda x, _: -x])
        nodes.append(op(a, b))
    root = sum(nodes[-5:])
    assert [id(v) for v in topological_order(root)] == [id(v) for v in original_topo(root)]


def test_deep_graph_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(50_000):  # the original's recursive build_topo would raise RecursionError
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    assert math.isclose(y.data, 1.0)

"""Hidden checks of the code exercises: the reader's function against the port's own, case by case.

Each checker runs the cases in order (small hand-picked ones, random ones from a fixed seed, then edge cases) and
stops at the first the reader's function gets wrong, described in words: the input, what came back, what the
port returns, and, where the failure matches a known mistake, what to change. Where the function builds Values,
gradients are compared too, by running backward() through the reader's graph.
"""

import math
import random
import traceback

from ..autograd import Value
from ..config import TrainConfig
from ..dataset import parse_docs
from ..inference import draw
from ..model import linear, rmsnorm, softmax
from ..optimizer import Adam
from ..sections import line_of
from ..tokenizer import Tokenizer
from .feedback import Feedback, error, fmt, right, wrong

TOLERANCE = 1e-9  # relative: the reader's arithmetic may group sums differently from the port's


class CaseFailed(Exception):
    """The first hidden case the reader's function got wrong; the message says which and how."""


def function_of(answer, name: str, given: dict | None = None):
    """The reader's function: given as a function (Jupyter) or as source code defining `name` (the page), run
    with Value, math and random (and `given`: the port's helpers the exercise builds on) already imported."""
    if callable(answer):
        return answer
    if not isinstance(answer, str) or not answer.strip():
        raise CaseFailed(f"write a function called {name} (def {name}(...):) and check again")
    namespace = {"Value": Value, "math": math, "random": random, **(given or {})}
    try:
        exec(compile(answer, "<your code>", "exec"), namespace)
    except SyntaxError as e:
        raise CaseFailed(f"line {e.lineno}: {e.msg}") from None
    except Exception as e:
        raise CaseFailed(f"your code raised {type(e).__name__} when it was defined: {e}") from None
    if not callable(namespace.get(name)):
        raise CaseFailed(f"your code does not define a function called {name}")
    return namespace[name]


def call(f, what: str, *args):
    """Call the reader's function; an exception becomes the case's failure, with the line of their code."""
    try:
        return f(*args)
    except Exception as e:
        where = [fr for fr in traceback.extract_tb(e.__traceback__) if fr.filename == "<your code>"]
        line = f" (line {where[-1].lineno})" if where else ""
        raise CaseFailed(f"for {what} your function raised {type(e).__name__}: {e}{line}") from None


def close(a, b) -> bool:
    return isinstance(a, (int, float)) and math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-12)


def data(x):
    """A Value's number (or a float as it is): what the reader's function returned, to compare."""
    return x.data if isinstance(x, Value) else x


def values(xs: list[float]) -> list[Value]:
    return [Value(x) for x in xs]


def show(xs) -> str:
    return "[" + ", ".join(fmt(data(x)) for x in xs) + "]"


def compare_vectors(got, want, what: str, name: str) -> None:
    """Same length, same numbers (as Values or floats)."""
    if not isinstance(got, (list, tuple)):
        raise CaseFailed(f"for {what} your {name} returns {type(got).__name__}, not a list")
    if len(got) != len(want):
        raise CaseFailed(f"for {what} your {name} returns {len(got)} numbers where it should return {len(want)}")
    got_data = [data(g) for g in got]
    if any(not isinstance(g, (int, float)) or math.isnan(g) for g in got_data):
        raise CaseFailed(f"for {what} your {name} returns {show(got)}, which holds nan or something not a number")
    if not all(close(g, w) for g, w in zip(got_data, want)):
        if show(got) == show(want):  # close, but not to the port's precision: show the digits that differ
            got, want = [f"{g:.12g}" for g in got_data], [f"{w:.12g}" for w in want]
            raise CaseFailed(f"for {what} your {name} returns [{', '.join(got)}]; expected [{', '.join(want)}]")
        raise CaseFailed(f"for {what} your {name} returns {show(got)}; expected {show(want)}")


def compare_gradients(inputs_mine, inputs_port, what: str, name: str) -> None:
    """The gradients backward() left on the inputs of two graphs, one built by the reader, one by the port."""
    for i, (mine, port) in enumerate(zip(inputs_mine, inputs_port)):
        if not close(float(mine.grad), float(port.grad)):
            raise CaseFailed(f"for {what} the values come out right but the gradient of input {i} through your "
                             f"{name} is {fmt(float(mine.grad))}, expected {fmt(float(port.grad))}: build the result "
                             "from Value operations only (no .data in the arithmetic), so backward() can follow it")


def run_cases(answer, name: str, cases, success: str, given: dict | None = None) -> Feedback:
    """Run every case; right with `success`, or wrong naming the first failing case."""
    try:
        f = function_of(answer, name, given)
        for case in cases:
            case(f)
    except CaseFailed as e:
        message = str(e)
        return error(message) if message.startswith(("line ", "write ", "your code")) else wrong(message)
    except Exception as e:  # what the function returned broke the comparison itself
        return wrong(f"your {name} returned something that cannot be compared with the port's result "
                     f"({type(e).__name__}: {e}); check what it returns")
    return right(success)


def random_vectors(seed: int, count: int, lo: int = 2, hi: int = 6) -> list[list[float]]:
    rng = random.Random(seed)
    return [[round(rng.gauss(0, 2), 3) for _ in range(rng.randint(lo, hi))] for _ in range(count)]


def weighted_sum(xs: list[Value], seed: int) -> Value:
    """A loss that depends on every output differently, so every gradient is tested."""
    rng = random.Random(seed)
    return sum((x * rng.uniform(-1, 1) for x in xs), Value(0.0))


# --- softmax, rmsnorm, linear, the loss of one position: functions of Values, checked with their gradients ---

def vector_function(f, port, xs: list[float], name: str, extra=()):
    """Check f(Values of xs, *extra) against port, values then gradients of a weighted sum of the outputs."""
    what = f"the input {show(xs)}"
    mine, theirs = values(xs), values(xs)
    got = call(f, what, mine, *extra)
    want = port(theirs, *extra)
    compare_vectors(got, [w.data for w in want], what, name)
    if all(isinstance(g, Value) for g in got):
        weighted_sum(got, 7).backward()
        weighted_sum(want, 7).backward()
        compare_gradients(mine, theirs, what, name)
    else:
        raise CaseFailed(f"for {what} your {name} returns plain numbers, not Values: backward() could not reach "
                         "the inputs. Use Value operations (x * y, x.exp(), x ** -0.5) on the Values you are given")


def check_softmax(answer) -> Feedback:
    def big(f):
        xs = [1000.0, 0.0]
        try:
            got = f(values(xs))
            bad = any(isinstance(data(g), float) and math.isnan(data(g)) for g in got)
        except OverflowError:
            raise CaseFailed("for logits [1000, 0] your softmax overflows (e**1000 does not fit in a float); "
                             "subtract the maximum logit from every logit first: it changes nothing else") from None
        except Exception:
            bad = False
        if bad:
            raise CaseFailed("for logits [1000, 0] your softmax returns nan; subtract the maximum first")
        vector_function(f, softmax, xs, "softmax")

    cases = [lambda f: vector_function(f, softmax, [1.0, 2.0, 3.0], "softmax")]
    cases += [lambda f, xs=xs: vector_function(f, softmax, xs, "softmax") for xs in random_vectors(1, 5)]
    cases += [big, lambda f: vector_function(f, softmax, [-1000.0, -1001.0, -999.0], "softmax")]
    return run_cases(answer, "softmax", cases, "your softmax matches the port's on every hidden case, large logits "
                     "included, and its gradients flow back to the logits.")


def check_rmsnorm(answer) -> Feedback:
    def zeros(f):
        try:
            f(values([0.0, 0.0, 0.0, 0.0]))
        except ZeroDivisionError:
            raise CaseFailed("for x = [0, 0, 0, 0] your rmsnorm divides by zero; add the small 1e-5 to the mean "
                             "square before taking the root") from None
        except Exception:
            pass
        vector_function(f, rmsnorm, [0.0, 0.0, 0.0, 0.0], "rmsnorm")

    def centred(f):  # a layernorm-like mistake: subtracting the mean
        xs = [1.0, 2.0, 3.0, 4.0]
        got = call(f, "the input [1, 2, 3, 4]", values(xs))
        mean = sum(xs) / len(xs)
        if isinstance(got, list) and len(got) == 4 and close(sum(data(g) for g in got), 0.0) and mean:
            raise CaseFailed("for x = [1, 2, 3, 4] your rmsnorm's outputs sum to 0: it subtracts the mean, as "
                             "layernorm does. rmsnorm only rescales: divide by the root of the mean of x²")
        vector_function(f, rmsnorm, xs, "rmsnorm")

    cases = [zeros, centred]
    cases += [lambda f, xs=xs: vector_function(f, rmsnorm, xs, "rmsnorm") for xs in random_vectors(2, 5)]
    return run_cases(answer, "rmsnorm", cases, "your rmsnorm matches the port's, zero vector included, and its "
                     "gradients flow back to x.")


def check_linear(answer) -> Feedback:
    def case(f, seed, nout, nin):
        rng = random.Random(seed)
        x = [round(rng.gauss(0, 1), 3) for _ in range(nin)]
        w = [[round(rng.gauss(0, 1), 3) for _ in range(nin)] for _ in range(nout)]
        what = f"x = {show(x)} and w of {nout} rows, {nin} columns"
        xm, xp = values(x), values(x)
        wm, wp = [values(r) for r in w], [values(r) for r in w]
        got = call(f, what, xm, wm)
        want = linear(xp, wp)
        if isinstance(got, list) and len(got) == nin != nout:
            raise CaseFailed(f"for {what} your linear returns {nin} numbers, one per column: each output is one "
                             "row of w dotted with x, so there are as many outputs as rows")
        compare_vectors(got, [v.data for v in want], what, "linear")
        if not all(isinstance(g, Value) for g in got):
            raise CaseFailed(f"for {what} your linear returns plain numbers, not Values")
        weighted_sum(got, 3).backward()
        weighted_sum(want, 3).backward()
        compare_gradients(xm + [v for r in wm for v in r], xp + [v for r in wp for v in r], what, "linear")

    cases = [lambda f: case(f, 0, 2, 3), lambda f: case(f, 1, 3, 2), lambda f: case(f, 2, 4, 4),
             lambda f: case(f, 3, 1, 5)]
    return run_cases(answer, "linear", cases, "your linear matches the port's for square and non-square w, and "
                     "its gradients reach both x and w.")


def port_position_loss(logits: list[Value], target: int) -> Value:
    """Lines 166-167: the loss of one position, -log p(target)."""
    return -softmax(logits)[target].log()


def check_position_loss(answer) -> Feedback:
    def case(f, xs, target):
        what = f"logits {show(xs)} and target {target}"
        mine, theirs = values(xs), values(xs)
        got = call(f, what, mine, target)
        want = port_position_loss(theirs, target)
        if not isinstance(got, Value):
            raise CaseFailed(f"for {what} your loss is {type(got).__name__}, not a Value: build it from Values")
        if close(got.data, -want.data) and want.data:
            raise CaseFailed(f"for {what} your loss is {fmt(got.data)}, the negative of the right one: the loss is "
                             "minus the log of the probability (log of a number below 1 is negative)")
        if not close(got.data, want.data):
            raise CaseFailed(f"for {what} your loss is {fmt(got.data)}; expected {fmt(want.data)}")
        got.backward()
        want.backward()
        compare_gradients(mine, theirs, what, "loss")

    def big(f):
        try:
            f(values([1000.0, 0.0]), 0)
        except OverflowError:
            raise CaseFailed("for logits [1000, 0] and target 0 your loss overflows: use a softmax that subtracts "
                             "the maximum logit first (the model's softmax does)") from None
        except Exception:
            pass
        case(f, [1000.0, 0.0], 0)

    cases = [lambda f: case(f, [1.0, 2.0, -0.5], 1), lambda f: case(f, [0.0, 0.0, 0.0], 2)]
    cases += [lambda f, xs=xs: case(f, xs, len(xs) - 1) for xs in random_vectors(3, 4)] + [big]
    return run_cases(answer, "position_loss", cases, "your loss matches the port's, large logits included, and "
                     "its gradient with respect to each logit is the port's (probability minus 1 for the target).",
                     given={"softmax": softmax})


def check_mul(answer) -> Feedback:
    def case(f, a, b):
        what = f"a = {fmt(a)} and b = {fmt(b)}"
        am, bm, ap, bp = Value(a), Value(b), Value(a), Value(b)
        out = call(f, what, am, bm)
        if not isinstance(out, Value):
            raise CaseFailed(f"for {what} your mul returns {type(out).__name__}, not a Value")
        if not close(out.data, a * b):
            raise CaseFailed(f"for {what} your a*b is {fmt(out.data)}; expected {fmt(a * b)}")
        grads = [float(g) for g in out._local_grads]
        if len(out._children) != 2 or len(grads) != 2:
            raise CaseFailed(f"for {what} your Value has {len(out._children)} children and {len(grads)} local "
                             "gradients; a product has two of each: (self, other) and their local derivatives")
        if a != b and close(grads[0], a) and close(grads[1], b):
            raise CaseFailed(f"for {what} your local gradients are ({fmt(a)}, {fmt(b)}), swapped: d(a·b)/da is b's "
                             "value and d(a·b)/db is a's")
        (call(f, f"mul(mul({what}), a)", out, am)).backward()
        ((ap * bp) * ap).backward()
        compare_gradients([am, bm], [ap, bp], f"(a·b)·a with {what}", "mul")

    def number(f):
        a = Value(2.0)
        out = call(f, "a Value times the plain number 3", a, 3)
        if not isinstance(out, Value) or not close(out.data, 6.0):
            raise CaseFailed("for a Value times the plain number 3 your mul does not return Value(6.0): wrap a "
                             "number that is not a Value first, as __add__ does")
        out.backward()
        if not close(float(a.grad), 3.0):
            raise CaseFailed(f"for 2 times the plain number 3 the gradient of 2 is {fmt(a.grad)}; expected 3")

    cases = [lambda f: case(f, 2.0, -3.0), lambda f: case(f, 0.5, 4.0), lambda f: case(f, -1.5, -1.5), number]
    return run_cases(answer, "mul", cases, "your __mul__ computes the product, keeps both children, and its local "
                     "gradients make backward() agree with the port's through a graph that uses a twice.")


def check_adam_update(answer) -> Feedback:
    t = TrainConfig()

    def case(f, p, grads, lr):
        """Several steps in a row, feeding back what the reader's function returned."""
        port = Value(p)
        adam = Adam([port], t)
        m = v = 0.0
        mine = p
        for step, g in enumerate(grads):
            what = f"p = {fmt(mine)}, grad = {fmt(g)}, m = {fmt(m)}, v = {fmt(v)}, step = {step}, lr = {fmt(lr)}"
            got = call(f, what, mine, g, m, v, step, lr)
            port.grad = g
            adam.update(lr, step)
            if not (isinstance(got, (list, tuple)) and len(got) == 3):
                raise CaseFailed(f"for {what} your adam_update returns {got!r}; return the three numbers (p, m, v)")
            want = (port.data, adam.m[0], adam.v[0])
            if not all(close(float(x), y) for x, y in zip(got, want)):
                m_raw = t.beta1 * m + (1 - t.beta1) * g
                v_raw = t.beta2 * v + (1 - t.beta2) * g ** 2
                if close(float(got[0]), mine - lr * m_raw / (v_raw ** 0.5 + t.eps_adam)):
                    raise CaseFailed(f"for {what} your p is {fmt(float(got[0]))}, expected {fmt(want[0])}: the "
                                     "moments need their bias correction, m / (1 - beta1**(step+1)) and "
                                     "v / (1 - beta2**(step+1)), or the first steps are far too small")
                if close(float(got[0]), mine - lr * g):
                    raise CaseFailed(f"for {what} your p is {fmt(float(got[0]))}, plain gradient descent; Adam "
                                     "moves by lr * m_hat / (sqrt(v_hat) + eps)")
                raise CaseFailed(f"for {what} your adam_update returns (p, m, v) = "
                                 f"({', '.join(fmt(float(x)) for x in got)}); expected "
                                 f"({', '.join(fmt(y) for y in want)})")
            mine, m, v = (float(x) for x in got)

    cases = [lambda f: case(f, 0.5, [0.1], 0.01), lambda f: case(f, -0.2, [0.3, -0.1, 0.05, 0.0], 0.01),
             lambda f: case(f, 0.08, [1e-4, 2e-4], 0.004)]
    return run_cases(answer, "adam_update", cases, "your adam_update gives the port's p, m and v step after step, "
                     "bias correction included.")


def check_encode(answer) -> Feedback:
    def case(f, name, uchars):
        what = f"the name {name!r} with uchars {''.join(uchars)!r}"
        got = call(f, what, name, uchars)
        want = Tokenizer(uchars).encode(name)
        if isinstance(got, list) and got == want[:-1]:
            raise CaseFailed(f"for {what} your tokens are {got}: BOS (= {len(uchars)}) must close the name too, so "
                             "the model learns where names end")
        if got != want:
            raise CaseFailed(f"for {what} your tokens are {got!r}; expected {want}")

    abc = list("abcdefghijklmnopqrstuvwxyz")
    cases = [lambda f: case(f, "emma", abc), lambda f: case(f, "zoe", abc), lambda f: case(f, "", abc),
             lambda f: case(f, "bad", ["a", "b", "d"])]
    return run_cases(answer, "encode", cases, "your encode puts BOS on both sides and numbers each character by "
                     "its place in uchars, for any vocabulary.")


def check_docs_from(answer) -> Feedback:
    def case(f, text):
        what = f"the text {text!r}"
        got = call(f, what, text)
        want = parse_docs(text.encode())
        if isinstance(got, list) and "" in got:
            raise CaseFailed(f"for {what} your list holds an empty name: drop lines that are blank once stripped")
        if got != want:
            raise CaseFailed(f"for {what} your documents are {got!r}; expected {want!r}")

    cases = [lambda f: case(f, "emma\nolivia\nava\n"), lambda f: case(f, "emma\n\n  olivia \n"),
             lambda f: case(f, "\nava\r\nmia\r\n")]
    return run_cases(answer, "docs_from", cases, f"your docs_from reads names as line {line_of('docs = [l.strip()')} "
                     "does: stripped, one per line, blank lines dropped.")


def check_shuffled(answer) -> Feedback:
    def case(f, docs, seed):
        what = f"{len(docs)} names and seed {seed}"
        got = call(f, what, list(docs), seed)
        want = list(docs)
        random.Random(seed).shuffle(want)  # line 12 and 20: one seeded stream, shuffled in place
        if not isinstance(got, list):
            raise CaseFailed(f"for {what} your shuffled returns {type(got).__name__}; return the list of names")
        if got == sorted(docs) and got != want:
            raise CaseFailed(f"for {what} your list is sorted; shuffle it with a generator seeded with the seed")
        if got != want:
            raise CaseFailed(f"for {what} your order starts {got[:3]!r}; the original's starts {want[:3]!r}: seed "
                             "a generator with the seed, then shuffle (random.seed(seed); random.shuffle(docs))")

    names = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "charlotte", "amelia"]
    cases = [lambda f: case(f, names, 42), lambda f: case(f, names, 7), lambda f: case(f, names[:3], 42)]
    return run_cases(answer, "shuffled", cases, "your shuffled gives the original's order for every seed: the "
                     "same seed, the same names in the same order, every time.")


class Fixed(random.Random):
    """A generator whose next random() is r: what random.choices sees when the draw is r."""

    def __init__(self, r: float):
        super().__init__(0)
        self.r = r

    def random(self):
        return self.r


def check_pick(answer) -> Feedback:
    def case(f, probs, r):
        what = f"probs {show(probs)} and r = {fmt(r)}"
        got = call(f, what, list(probs), r)
        want = draw(Fixed(r), probs)  # the port's own draw (random.choices) with this r
        if got != want and probs[got if isinstance(got, int) and 0 <= got < len(probs) else 0] == 0:
            raise CaseFailed(f"for {what} your pick returns {got!r}, a token of probability 0: the draw lands on "
                             "the first token whose running total is greater than r (>, not >=)")
        if got != want:
            raise CaseFailed(f"for {what} your pick returns {got!r}; the draw lands on {want}")

    cases = [lambda f: case(f, [0.2, 0.5, 0.3], 0.1), lambda f: case(f, [0.2, 0.5, 0.3], 0.65),
             lambda f: case(f, [0.2, 0.5, 0.3], 0.75), lambda f: case(f, [0.0, 0.5, 0.5], 0.0),
             lambda f: case(f, [0.25, 0.25, 0.5], 0.5)]
    return run_cases(answer, "pick", cases, "your pick lands where random.choices does, ties and zero "
                     "probabilities included.")

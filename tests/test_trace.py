"""trace(): gpt() on floats equals gpt() on Values bit for bit, and the NumPy engine's forward() to rounding."""

import random

import numpy as np
import pytest

from microgpt.config import GPTConfig, TrainConfig
from microgpt.model import gpt
from microgpt.numpy_engine import forward
from microgpt.parameters import matrix_views
from microgpt.scalar import ScalarEngine
from microgpt.tokenizer import Tokenizer
from microgpt.trace import LAYER_KEYS, WordError, read_word, trace, word_tokens

CONFIGS = [GPTConfig(), GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=5)]
TOKENS = [26, 4, 12, 12, 0, 5, 7, 26]  # longer than the second config's block: trace stops at block_size


@pytest.fixture(params=CONFIGS, ids=["default", "two-layers-short-block"])
def model(request):
    engine = ScalarEngine(request.param, TrainConfig(), 27, random.Random(1))
    return request.param, engine


def floats(engine) -> dict:
    return {name: [[v.data for v in row] for row in m] for name, m in engine.state_dict.items()}


def test_logits_and_loss_equal_gpt_bit_for_bit(model):
    config, engine = model
    tr = trace(floats(engine), config, TOKENS)
    n = min(config.block_size, len(TOKENS) - 1)
    keys, values = [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]
    logits = [l.data for pos in range(n) for l in gpt(TOKENS[pos], pos, keys, values, engine.state_dict, config)]
    assert tr["logits"]["data"] == logits
    assert tr["loss"] == engine.loss(TOKENS, n).data
    assert tr["tokens"] == TOKENS[:n] and tr["targets"] == TOKENS[1:n + 1]


def test_every_intermediate_equals_numpy_forward(model):
    config, engine = model
    tr = trace(floats(engine), config, TOKENS)
    n = len(tr["tokens"])
    acts = forward(matrix_views(np.array(engine.weights()), config, 27), config, TOKENS, n)
    expected = {k: acts[k] for k in ("x0", "x_norm0", "logits", "probs")}
    for li in range(config.n_layer):
        x_out = acts[li + 1]["x_in"] if li + 1 < config.n_layer else acts["x_out"]
        expected |= {f"{li}.{k}": x_out if k == "x_out" else acts[li][k] for k in LAYER_KEYS}
    got = {k: tr[k] for k in ("x0", "x_norm0", "logits", "probs")}
    got |= {f"{li}.{k}": t for li, layer in enumerate(tr["layers"]) for k, t in layer.items()}
    assert got.keys() == expected.keys()
    for k, t in got.items():
        assert t["shape"] == list(expected[k].shape), k
        np.testing.assert_allclose(t["data"], expected[k].ravel(), rtol=0, atol=1e-14, err_msg=k)
    np.testing.assert_allclose(tr["losses"], acts["losses"], rtol=1e-14)


def test_word_tokens():
    tok = Tokenizer(list("abcdefghijklmnopqrstuvwxyz"))
    assert word_tokens(tok, "emma", 16) == [26, 4, 12, 12, 0, 26]
    with pytest.raises(WordError, match=r"^'É' is not in the vocabulary \(abcdefghijklmnopqrstuvwxyz\): type a word "
                                        r"made of those characters only; try 'emema'$"):
        word_tokens(tok, "emÉma", 16)
    assert word_tokens(tok, " Emma", 16) == word_tokens(tok, "emma", 16)  # as people type it
    with pytest.raises(WordError, match=r"'abcdefghijklmnop' has 16 characters; block_size = 16 fits at most 15"):
        word_tokens(tok, "abcdefghijklmnop", 16)
    with pytest.raises(WordError, match="empty"):
        word_tokens(tok, "", 16)


def test_words_as_people_type_them():
    lower = list("abcdefghijklmnopqrstuvwxyz")
    assert read_word(lower, "emma") == ("emma", "")
    assert read_word(lower, "Emma") == ("emma", "'Emma' read as 'emma': the vocabulary's letters are all lowercase")
    assert read_word(lower, "EMMA ") == ("emma", "'EMMA' read as 'emma': the vocabulary's letters are all lowercase")
    assert read_word(list("ABC"), "abc")[0] == "ABC"
    with pytest.raises(WordError, match=r"^'1', '-' are not in the vocabulary \(abcdefghijklmnopqrstuvwxyz\): type a "
                                        r"word made of those characters only$"):
        read_word(lower, "an1-e")
    mixed = list("Eaem")  # both cases: the typed case is the reader's meaning, nothing is folded
    with pytest.raises(WordError, match=r"'M' is not in the vocabulary"):
        read_word(mixed, "EMma")

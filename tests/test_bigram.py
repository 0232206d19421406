"""The loss's yardsticks (microgpt.bigram): one figure in the training page's cell, in the recorded snapshot the
training scene draws, and counted on the reader's own documents and horizon for a live run."""

import json
import math
import re

import numpy as np
import pytest

from microgpt.bigram import HELD_OUT, held_out, yardsticks
from microgpt.run import Run
from microgpt.session import Session
from microgpt.snapshot import rounded
from microgpt.training import document_tokens


@pytest.fixture(scope="module")
def run(names_path):
    return Run.setup(data=names_path, engine="numpy")  # the recorded run's documents, shuffled as it shuffles them


def numpy_bigram_loss(run, counted, scored) -> float:
    """Independently, with a NumPy count matrix: each name's mean -log p, averaged over the names."""
    V, block = run.tokenizer.vocab_size, run.config.block_size
    counts = np.ones((V, V))
    for name in counted:
        tokens, n = document_tokens(run.tokenizer, name, block)
        np.add.at(counts, (tokens[:n], tokens[1:n + 1]), 1)
    logp = np.log(counts / counts.sum(axis=1, keepdims=True))
    means = []
    for name in scored:
        tokens, n = document_tokens(run.tokenizer, name, block)
        means.append(-logp[tokens[:n], tokens[1:n + 1]].mean())
    return float(np.mean(means))


def test_the_bigram_equals_an_independent_count(run):
    sticks = yardsticks(run.tokenizer, run.docs, run.config.block_size, 1000)
    unseen = [name for name in run.docs[1000:2000] if name not in set(run.docs[:1000])]
    assert sticks["held_out"] == len(unseen) and sticks["counted"] == 1000
    assert sticks["bigram"] == pytest.approx(numpy_bigram_loss(run, run.docs[:1000], unseen), rel=1e-13)
    assert sticks["uniform"] == math.log(run.tokenizer.vocab_size)
    assert sticks["bigram"] < sticks["uniform"]


def test_held_out_leaves_out_the_names_trained_on():
    docs = ["ab", "ba", "ab", "cd", "ba", "ef"]
    assert held_out(docs, 2) == ["cd", "ef"]
    assert held_out(docs, 2, count=2) == ["cd"]
    assert held_out(docs, 6) == [] and held_out(docs, 60) == []


def test_a_run_that_trains_on_every_document_has_no_bigram(run):
    few = run.docs[:50]
    for steps in (50, 120):  # 120 steps go round the 50 documents: every one is trained on
        assert yardsticks(run.tokenizer, few, run.config.block_size, steps) == {
            "uniform": math.log(run.tokenizer.vocab_size), "bigram": None, "counted": 50, "held_out": 0}


def test_the_recorded_snapshot_carries_the_yardsticks(site, run):
    training = json.loads((site / "_snapshots" / "training.json").read_text(encoding="utf-8"))
    expected = yardsticks(run.tokenizer, run.docs, run.config.block_size, training["metadata"]["train"]["num_steps"])
    assert training["yardsticks"] == rounded(expected)


def test_the_scene_draws_the_figure_the_cell_prints(site):
    """The training page's cell and the scene's document: the same bigram, on the same held-out names."""
    page = (site / "sections" / "training.html").read_text(encoding="utf-8")
    printed = re.search(r"bigram counted on the 1000 training names: (\d\.\d{3}) on (\d+) names it did not count",
                        page)
    assert printed, "the training page's bigram cell printed nothing to compare with"
    sticks = json.loads((site / "_snapshots" / "training.json").read_text(encoding="utf-8"))["yardsticks"]
    assert (f"{sticks['bigram']:.3f}", sticks["held_out"]) == (printed[1], int(printed[2]))
    assert re.search(rf"uniform guessing: {sticks['uniform']:.3f}", page)


def test_a_live_run_counts_its_own_documents_and_horizon(names_path):
    session = Session({"steps": "30", "seed": "7"}, data=names_path)
    session.train(5)
    r = session.run
    sticks = json.loads(session.document("training.json"))["yardsticks"]
    assert sticks == rounded(yardsticks(r.tokenizer, r.docs, r.config.block_size, 30))
    assert sticks["counted"] == 30 and HELD_OUT - 10 < sticks["held_out"] <= HELD_OUT
    session.extend(300)  # a longer schedule trains on more names: the bigram counts them too
    longer = json.loads(session.document("training.json"))["yardsticks"]
    assert longer == rounded(yardsticks(r.tokenizer, r.docs, r.config.block_size, 300)) and longer["counted"] == 300


def test_a_live_run_on_the_readers_documents(tmp_path):
    names = b"anna\nbob\nclara\ndave\nemma\n"
    few = Session({"steps": "3", "n-embd": "4", "n-head": "2"}, names)  # 2 documents never trained on
    sticks = json.loads(few.document("training.json"))["yardsticks"]
    r = few.run
    assert sticks["uniform"] == rounded(math.log(r.tokenizer.vocab_size))
    assert sticks["held_out"] == 2 and sticks["bigram"] == rounded(numpy_bigram_loss(r, r.docs[:3], r.docs[3:]))
    every = Session({"steps": "5", "n-embd": "4", "n-head": "2"}, names)
    assert json.loads(every.document("training.json"))["yardsticks"]["bigram"] is None  # none left to score on


def test_the_static_picture_shows_the_yardsticks(site):
    """Without WebGL: both lines and a legend with their figures; a run with no bigram draws none."""
    from microgpt.sphinxext.fallbacks import training as picture

    doc = json.loads((site / "_snapshots" / "training.json").read_text(encoding="utf-8"))
    vocab = json.loads((site / "_snapshots" / "manifest.json").read_text(encoding="utf-8"))["vocabulary"]
    svg = picture(doc, vocab)
    sticks = doc["yardsticks"]
    assert svg.count('class="mg-fb-bigram"') == 1 and svg.count('class="mg-fb-base"') == 1
    assert f"−ln(1/{vocab['vocab_size']}) = {sticks['uniform']:.2f}" in svg
    assert f"a bigram model, {sticks['bigram']:.2f} on {sticks['held_out']:,} names it never counted" in svg
    doc["yardsticks"]["bigram"] = None
    assert "mg-fb-bigram" not in picture(doc, vocab) and "bigram" not in picture(doc, vocab)
    page = (site / "sections" / "training.html").read_text(encoding="utf-8")
    assert 'class="mg-fb-bigram"' in page  # the page's own static picture

"""The recorder: its plain-Python PCA against NumPy's, and recording in pieces equal to recording in one go."""

import json

import numpy as np
import pytest

from microgpt.config import GPTConfig, SampleConfig, SnapshotConfig, TrainConfig
from microgpt.recorder import Recorder, pca_basis, symmetric_eigen
from microgpt.run import Run
from microgpt.snapshot import rounded, texts, trace_word
from microgpt.trace import WordError

SMALL = GPTConfig(n_embd=8, n_head=2, block_size=8)
SNAP = SnapshotConfig(checkpoint_every=10, probes=("emma", "ava"), temperatures=(0.7,))
SHA = "0" * 64


def recorder(names_docs, steps=25) -> Recorder:
    run = Run.setup(SMALL, TrainConfig(num_steps=steps), docs=names_docs)
    return Recorder(run, SNAP, SampleConfig(num_samples=3))


def test_symmetric_eigen_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(27, 16))
    a = x.T @ x
    values, vectors = symmetric_eigen(a.tolist())
    v = np.array(vectors)
    np.testing.assert_allclose(a @ v, v * values, atol=1e-12)
    np.testing.assert_allclose(v.T @ v, np.eye(16), atol=1e-14)
    np.testing.assert_allclose(sorted(values), np.linalg.eigvalsh(a), rtol=1e-12)


def test_pca_against_numpy_svd():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(27, 16)) * np.linspace(2, 0.1, 16)  # distinct variances along each axis
    mean, basis, ratio = pca_basis(points.tolist())
    _, s, vt = np.linalg.svd(points - points.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(mean, points.mean(axis=0), atol=1e-15)
    np.testing.assert_allclose(ratio, (s**2)[:3] / (s**2).sum(), rtol=1e-12)
    for row, ref in zip(basis, vt[:3]):
        np.testing.assert_allclose(np.abs(row), np.abs(ref), atol=1e-12)
        assert row[np.argmax(np.abs(row))] > 0  # a first fit: the largest loading is positive


def test_pca_chain_keeps_each_axis_pointing_the_same_way():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(27, 16)) * np.linspace(2, 0.1, 16)
    _, first, _ = pca_basis(points.tolist())
    flipped = [[-x for x in row] for row in first]
    moved = (points + 0.01 * rng.normal(size=points.shape)).tolist()
    for previous in (first, flipped):
        _, basis, _ = pca_basis(moved, previous)
        for row, prev in zip(basis, previous):
            assert np.dot(row, prev) > 0.99


def test_recording_in_pieces_equals_recording_in_one_go(names_docs):
    pieces, whole = recorder(names_docs), recorder(names_docs)
    seen = []
    pieces.train(7)
    assert pieces.checkpoints() == [0, 7]
    early = texts(pieces, SHA)  # documents on the way (samples included) change nothing that follows
    assert json.loads(early["manifest.json"])["checkpoints"] == [0, 7] and "checkpoints/step-0007.json" in early
    pieces.train(18, on_step=lambda step, loss: seen.append(step))
    assert seen == list(range(7, 25))
    whole.train(25)
    assert pieces.checkpoints() == [0, 10, 20, 25] and sorted(pieces.weights) == [0, 10, 20, 25]
    assert texts(pieces, SHA) == texts(whole, SHA)
    assert pieces.run.samples(SampleConfig(num_samples=5)) == whole.run.samples(SampleConfig(num_samples=5))


def test_a_run_trained_outside_the_recorder_is_refused(names_docs):
    rec = recorder(names_docs)
    rec.run.trainer.train(1)
    with pytest.raises(RuntimeError, match="the run is at step 1 but the recorder saw 0 steps"):
        rec.train(1)
    with pytest.raises(ValueError, match="starts with the run, at step 0; this run is at step 1"):
        Recorder(rec.run, SNAP)


def test_a_word_traced_from_a_checkpoint_file_is_its_recorded_trace(names_docs):
    rec = recorder(names_docs, steps=12)
    rec.train(12)
    files = texts(rec, SHA)
    uchars = json.loads(files["manifest.json"])["vocabulary"]["uchars"]
    for step in (0, 10, 12):
        checkpoint = json.loads(files[f"checkpoints/step-{step:04d}.json"])
        for word, recorded in checkpoint["traces"].items():  # rounded in the file, exact from either source
            assert trace_word(checkpoint, uchars, word) == rec.trace_word(word, step)
            assert texts_of_trace(trace_word(checkpoint, uchars, word)) == texts_of_trace(recorded)
    assert rec.trace_word("zoe")["tokens"][1:] == [uchars.index(c) for c in "zoe"]
    with pytest.raises(WordError, match="'1' is not in the vocabulary"):
        rec.trace_word("a1")


def texts_of_trace(trace: dict) -> str:
    return json.dumps(rounded(trace), sort_keys=True)


def test_probes_are_checked(names_docs):
    run = Run.setup(SMALL, TrainConfig(num_steps=1), docs=names_docs)
    with pytest.raises(ValueError, match="probes words not in the dataset: zzzzqx"):
        Recorder(run, SnapshotConfig(probes=("emma", "zzzzqx")))
    with pytest.raises(ValueError, match="longer than block_size - 1 = 7: christopher"):
        Recorder(run, SnapshotConfig(probes=("christopher",)))

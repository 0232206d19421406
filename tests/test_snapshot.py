"""Snapshots: deterministic, engine-independent, within budget, and every bad file named with its JSON path."""

import gzip
import json
import math

import numpy as np
import pytest

from microgpt.cli import main
from microgpt.config import GPTConfig, SampleConfig, TrainConfig
from microgpt.run import Run
from microgpt.snapshot import SnapshotConfig, SnapshotError, check_dir, export

SHORT = dict(train=TrainConfig(num_steps=20), sample=SampleConfig(num_samples=4),
             snap=SnapshotConfig(checkpoint_every=10, probes=("emma", "ava"), temperatures=(0.5, 1.0)))


@pytest.fixture(scope="module")
def short_numpy(tmp_path_factory, names_path):
    out = tmp_path_factory.mktemp("snap") / "numpy"
    export(out, data=names_path, engine="numpy", **SHORT)
    return out


@pytest.fixture(scope="module")
def full_default(tmp_path_factory, names_path):
    out = tmp_path_factory.mktemp("snap") / "full"
    export(out, data=names_path, engine="numpy")
    return out


def files(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*.json"))}


def read(directory, name):
    return json.loads((directory / name).read_text(encoding="utf-8"))


def test_scalar_and_numpy_engines_write_the_same_bytes(short_numpy, tmp_path, names_path):
    export(tmp_path / "scalar", data=names_path, engine="scalar", **SHORT)
    a, b = files(short_numpy), files(tmp_path / "scalar")
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].replace(b'"engine":"numpy"', b'"engine":"scalar"') == b[name], name


def test_two_exports_are_byte_identical(short_numpy, tmp_path, names_path):
    export(tmp_path / "again", data=names_path, engine="numpy", **SHORT)
    assert files(tmp_path / "again") == files(short_numpy)


def test_contents_agree_with_the_run(short_numpy, names_path):
    run = Run.setup(GPTConfig(), SHORT["train"], data=names_path, engine="numpy")
    losses = run.trainer.train(20)
    names = run.samples(SHORT["sample"])
    training = read(short_numpy, "training.json")
    assert training["loss"] == [float(f"{x:.4g}") for x in losses]
    assert training["doc"] == run.docs[:20]
    inference = read(short_numpy, "inference.json")
    at_half = next(t for t in inference["temperatures"] if t["temperature"] == 0.5)
    assert [s["name"] for s in at_half["samples"]] == names  # the original's own samples
    manifest = read(short_numpy, "manifest.json")
    assert manifest["checkpoints"] == [0, 10, 20] and manifest["vocabulary"]["vocab_size"] == 27
    last = read(short_numpy, "checkpoints/step-0020.json")
    assert last["traces"]["emma"]["tokens"] == [26, 4, 12, 12, 0]
    assert last["state_dict"].keys() == run.engine.state_dict.keys()  # every matrix, by its state_dict name
    for name, w in run.engine.state_dict.items():
        assert last["state_dict"][name]["shape"] == list(w.shape), name
        assert np.allclose(last["state_dict"][name]["data"], w.ravel(), rtol=1e-3, atol=1e-12), name


def test_pca_uses_one_basis_for_every_checkpoint(short_numpy):
    emb = read(short_numpy, "embeddings.json")
    mean, basis = np.array(emb["pca"]["mean"]["data"]), np.array(emb["pca"]["basis"]["data"]).reshape(3, -1)
    points = np.array(emb["wte_pca"]["data"]).reshape(emb["wte_pca"]["shape"])
    for k, step in enumerate(emb["checkpoints"]):
        wte = np.array(read(short_numpy, f"checkpoints/step-{step:04d}.json")["state_dict"]["wte"]["data"])
        assert np.allclose((wte.reshape(27, -1) - mean) @ basis.T, points[k], atol=2e-3)
    for row in basis:
        assert row[np.argmax(np.abs(row))] > 0  # deterministic signs


def test_sampling_records_explain_each_choice(short_numpy):
    for t in read(short_numpy, "inference.json")["temperatures"]:
        for s in t["samples"]:
            for pos in s["positions"]:
                cum = np.cumsum(pos["probs"])
                assert int(np.searchsorted(cum, pos["draw"] * cum[-1], side="right")) == pos["token"]


def test_autograd_record_matches_the_chain_rule(short_numpy):
    rec = read(short_numpy, "autograd.json")
    nodes = {n["id"]: n for n in rec["nodes"]}
    assert nodes[rec["output"]]["grad"] == 1
    logits = [1.0, 2.0, -0.5]
    probs = np.exp(logits) / np.exp(logits).sum()
    inputs = sorted((n for n in rec["nodes"] if n["op"] == "input"), key=lambda n: n["label"])
    assert [n["grad"] for n in inputs] == pytest.approx(probs - np.eye(3)[1], abs=1e-3)
    assert {n["op"] for n in rec["nodes"]} >= {"input", "+", "*", "exp", "log", "**"}
    graph = rec["step_graph"]
    assert graph["nodes"] > 50_000 and graph["depth"] > 100 and graph["edges"] > graph["nodes"]


def test_adam_record(short_numpy):
    adam = read(short_numpy, "adam.json")
    assert len(adam["learning_rate"]) == 20 and adam["learning_rate"][0] == 0.01
    assert all(lr > 0 for lr in adam["learning_rate"])
    for p in adam["params"]:
        assert len(p["value"]) == 21 and len(p["grad"]) == len(p["m"]) == len(p["update"]) == 20
        assert p["value"][1] == pytest.approx(p["value"][0] - p["update"][0], rel=1e-3, abs=1e-6)


def test_default_export_fits_the_budget(full_default):
    assert len(check_dir(full_default)) == 107
    for path in full_default.rglob("*.json"):
        assert len(gzip.compress(path.read_bytes())) <= 150_000, path.name
    assert read(full_default, "training.json")["loss"][-1] == 2.65  # the transcript's last step: 2.6497


MUTATIONS = {
    "missing key": (lambda d: d.pop("loss"), "$: 'loss' is a required property"),
    "wrong type": (lambda d: d.__setitem__("loss", "low"), "$.loss: 'low' is not of type 'array'"),
    "NaN": (lambda d: d["loss"].__setitem__(3, math.nan), "$.loss[3]: 'NaN' is not of type 'number'"),
    "format version": (lambda d: d["metadata"].__setitem__("format_version", 2),
                       "$.metadata.format_version: 1 was expected"),
}


@pytest.mark.parametrize("mutate, message", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_mutated_files_are_located(short_numpy, tmp_path, mutate, message):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(short_numpy, bad)
    doc = read(bad, "training.json")
    mutate(doc)
    (bad / "training.json").write_text(json.dumps(doc), encoding="utf-8")  # json writes NaN as NaN
    with pytest.raises(SnapshotError) as e:
        check_dir(bad)
    assert str(e.value) == f"{bad / 'training.json'}: {message}"


def test_wrong_shape_is_located(short_numpy, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(short_numpy, bad)
    doc = read(bad, "checkpoints/step-0010.json")
    doc["state_dict"]["wpe"]["shape"] = [16, 15]
    (bad / "checkpoints/step-0010.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"step-0010.json: \$\.state_dict\.wpe: shape \[16, 15\] needs 240"):
        check_dir(bad)


def test_cli_check(short_numpy, tmp_path, capsys):
    assert main(["snapshot", "--check", str(short_numpy)]) == 0
    assert capsys.readouterr().out.startswith(f"{len(check_dir(short_numpy))} files in ")
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    assert main(["snapshot", "--check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.json:1:2: not JSON" in err


def test_cli_rejects_unknown_probe(tmp_path, names_path, capsys):
    code = main(["snapshot", "--out", str(tmp_path / "s"), "--data", str(names_path), "--probes", "emma,zzzzqx",
                 "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "--probes" in err and "zzzzqx" in err
    assert not (tmp_path / "s").exists()

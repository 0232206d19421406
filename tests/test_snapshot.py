"""Snapshots: deterministic, engine-independent, within budget, and every bad file named with its JSON path."""

import gzip
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, python_without_numpy
from microgpt.cli import main
from microgpt.config import GPTConfig, SampleConfig, TrainConfig
from microgpt.run import Run
from microgpt.snapshot import SnapshotConfig, SnapshotError, check_dir, dumps, export

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


def assert_same_but_exact_weights(a: dict, b: dict, engines=("scalar", "scalar"), rtol=1e-12):
    """Two exports' files: byte for byte, but each checkpoint's exact weights only within rtol (the last bits
    of a float depend on the engine's summation order and on the runtime's libm), the rest of it byte for byte."""
    assert a.keys() == b.keys()
    for name in a:
        x, y = (f.replace(f'"engine":"{e}"'.encode(), b'"engine":"?"') for f, e in zip((a[name], b[name]), engines))
        if not name.startswith("checkpoints/"):
            assert x == y, name
            continue
        x, y = json.loads(x), json.loads(y)
        wx, wy = x.pop("state_dict"), y.pop("state_dict")
        assert dumps(x) == dumps(y), name
        assert wx.keys() == wy.keys()
        for m in wx:
            assert wx[m]["shape"] == wy[m]["shape"]
            np.testing.assert_allclose(wx[m]["data"], wy[m]["data"], rtol=rtol, atol=1e-15, err_msg=f"{name} {m}")


def test_scalar_and_numpy_engines_agree(short_numpy, tmp_path, names_path):
    export(tmp_path / "scalar", data=names_path, engine="scalar", **SHORT)
    assert_same_but_exact_weights(files(short_numpy), files(tmp_path / "scalar"), ("numpy", "scalar"))


def test_two_exports_are_byte_identical(short_numpy, tmp_path, names_path):
    export(tmp_path / "again", data=names_path, engine="numpy", **SHORT)
    assert files(tmp_path / "again") == files(short_numpy)


def test_contents_agree_with_the_run(short_numpy, names_path):
    run = Run.setup(GPTConfig(), SHORT["train"], data=names_path, engine="numpy")
    losses = run.trainer.train(20)
    names = run.samples(SHORT["sample"])
    training = read(short_numpy, "training.json")
    assert [f"{x:.4f}" for x in training["loss"]] == [f"{x:.4f}" for x in losses]  # as the transcript prints
    assert training["doc"] == run.docs[:20]
    inference = read(short_numpy, "inference.json")
    at_half = next(t for t in inference["temperatures"] if t["temperature"] == 0.5)
    assert [s["name"] for s in at_half["samples"]] == names  # the original's own samples
    manifest = read(short_numpy, "manifest.json")
    assert manifest["checkpoints"] == [0, 10, 20] and manifest["vocabulary"]["vocab_size"] == 27
    last = read(short_numpy, "checkpoints/step-0020.json")
    assert last["traces"]["emma"]["tokens"] == [26, 4, 12, 12, 0]
    assert {m: t["data"] for m, t in last["state_dict"].items()} == {
        m: w.ravel().tolist() for m, w in run.engine.state_dict.items()}  # every weight, exactly


def test_pca_uses_one_basis_for_every_checkpoint(short_numpy):
    emb = read(short_numpy, "embeddings.json")
    mean, basis = np.array(emb["pca"]["mean"]["data"]), np.array(emb["pca"]["basis"]["data"]).reshape(3, -1)
    points = np.array(emb["wte_pca"]["data"]).reshape(emb["wte_pca"]["shape"])
    assert emb["pca"]["fit_step"] == emb["checkpoints"][-1] == 20
    for k, step in enumerate(emb["checkpoints"]):
        wte = np.array(read(short_numpy, f"checkpoints/step-{step:04d}.json")["state_dict"]["wte"]["data"])
        assert np.allclose((wte.reshape(27, -1) - mean) @ basis.T, points[k], atol=2e-3)
    _, s, vt = np.linalg.svd(wte.reshape(27, -1) - wte.reshape(27, -1).mean(axis=0), full_matrices=False)
    assert np.allclose(np.abs(basis), np.abs(vt[:3]), atol=1e-4)  # the PCA of the last checkpoint, up to signs
    assert emb["pca"]["explained_variance_ratio"] == [float(f"{r:.4g}") for r in (s**2)[:3] / (s**2).sum()]


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
    transcript = (ROOT / "reference" / "microgpt.out.txt").read_text(encoding="utf-8").splitlines()
    steps = [line for line in transcript if line.startswith("step ")]
    loss = read(full_default, "training.json")["loss"]
    assert [f"step {i + 1:4d} / {len(loss)} | loss {x:.4f}" for i, x in enumerate(loss)] == steps  # byte for byte


MUTATIONS = {
    "missing key": (lambda d: d.pop("loss"), "$: 'loss' is a required property"),
    "wrong type": (lambda d: d.__setitem__("loss", "low"), "$.loss: 'low' is not of type 'array'"),
    "NaN": (lambda d: d["loss"].__setitem__(3, math.nan), "$.loss[3]: 'NaN' is not of type 'number'"),
    "format version": (lambda d: d["metadata"].__setitem__("format_version", 1),
                       "$.metadata.format_version: 3 was expected"),
    "no yardsticks": (lambda d: d.pop("yardsticks"), "$: 'yardsticks' is a required property"),
    "a yardstick missing": (lambda d: d["yardsticks"].pop("bigram"), "$.yardsticks: 'bigram' is a required property"),
    "a negative loss": (lambda d: d["yardsticks"].__setitem__("bigram", -1),
                        "$.yardsticks.bigram: -1 is less than or equal to the minimum of 0"),
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


def transposed(sd, name):
    sd[name]["shape"] = sd[name]["shape"][::-1]


CHECKPOINT_MUTATIONS = {
    "shape and data disagree": (lambda sd: sd["wpe"].__setitem__("shape", [16, 15]),
                                r"\$\.state_dict\.wpe: shape \[16, 15\] needs 240 numbers, data has 256"),
    "not a number": (lambda sd: sd["wte"]["data"].__setitem__(3, "x"),
                     r"\$\.state_dict\.wte\.data\[3\]: 'x' is not of type 'number'"),
    "required matrix missing": (lambda sd: sd.pop("lm_head"), r"\$\.state_dict: 'lm_head' is a required property"),
    "layer matrix missing": (lambda sd: sd.pop("layer0.mlp_fc2"),
                             r"\$\.state_dict: 'layer0.mlp_fc2' is missing \(the model has wte, wpe, lm_head, "),
    "a layer the model lacks": (lambda sd: sd.__setitem__("layer1.attn_wq", sd["layer0.attn_wq"]),
                                r"\$\.state_dict\.layer1\.attn_wq: not a matrix of this model"),
    "transposed": (lambda sd: transposed(sd, "layer0.mlp_fc1"),
                   r"\$\.state_dict\.layer0\.mlp_fc1\.shape: \[16, 64\], expected \[64, 16\]"),
}


@pytest.mark.parametrize("mutate, message", CHECKPOINT_MUTATIONS.values(), ids=CHECKPOINT_MUTATIONS.keys())
def test_bad_checkpoint_is_located(short_numpy, tmp_path, mutate, message):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(short_numpy, bad)
    doc = read(bad, "checkpoints/step-0010.json")
    mutate(doc["state_dict"])
    (bad / "checkpoints/step-0010.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"step-0010.json: " + message):
        check_dir(bad)


def test_cli_check(short_numpy, tmp_path, capsys):
    assert main(["snapshot", "--check", str(short_numpy)]) == 0
    assert capsys.readouterr().out.startswith(f"{len(check_dir(short_numpy))} files in ")
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    assert main(["snapshot", "--check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.json:1:2: not JSON" in err


def test_cli_rejects_a_checkpoint_every_below_1(tmp_path, names_path, capsys):
    code = main(["snapshot", "--out", str(tmp_path / "s"), "--data", str(names_path), "--checkpoint-every", "0"])
    assert (code, capsys.readouterr().err) == (
        2, "microgpt snapshot: error: argument --checkpoint-every: must be an integer >= 1, got 0\n")
    assert not (tmp_path / "s").exists()


def test_cli_rejects_unknown_probe(tmp_path, names_path, capsys):
    code = main(["snapshot", "--out", str(tmp_path / "s"), "--data", str(names_path), "--probes", "emma,zzzzqx",
                 "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "--probes" in err and "zzzzqx" in err
    assert not (tmp_path / "s").exists()


# --- one exporter, two runtimes: without NumPy, and under Pyodide in Node --------------------------------------

RUNTIME_CASES = {
    "default": ["--steps", "30", "--checkpoint-every", "10"],
    "other": ["--steps", "12", "--checkpoint-every", "5", "--seed", "7", "--n-embd", "8", "--n-head", "2",
              "--n-layer", "2", "--block-size", "8", "--probes", "ava,zoe", "--temperatures", "0.3,1.7",
              "--temperature", "0.9", "--samples", "3", "--learning-rate", "0.02"],
}


@pytest.fixture(scope="module", params=RUNTIME_CASES, ids=RUNTIME_CASES)
def cpython_export(request, tmp_path_factory, names_path):
    """`microgpt snapshot --engine scalar` in this CPython, NumPy importable: (argv, its files)."""
    out = tmp_path_factory.mktemp("cpython") / request.param
    argv = ["snapshot", "--engine", "scalar", "--data", str(names_path), *RUNTIME_CASES[request.param]]
    assert main([*argv, "--out", str(out)]) == 0
    return argv, files(out)


def test_export_without_numpy_writes_the_same_bytes(cpython_export, tmp_path):
    argv, expected = cpython_export
    out = tmp_path / "out"
    code = (f"from microgpt.cli import main\ncode = main({[*argv, '--out', str(out)]!r})\n"
            "assert not [m for m in sys.modules if m.startswith('numpy') and sys.modules[m]]\nsys.exit(code)")
    result = python_without_numpy(code)
    assert result.returncode == 0, result.stderr
    assert files(out) == expected


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The port as a wheel, built from this source by the project's build backend, as the docs build makes it."""
    from microgpt.sphinxext.live import build_wheel

    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def test_export_under_pyodide_writes_what_cpython_writes(cpython_export, wheel, tmp_path, names_path):
    """Every rounded figure byte for byte; the exact weights within 1e-12, as Pyodide's libm (musl's, in
    WebAssembly) and the host's (glibc's) differ in the last bit of some cos, log and exp, so gauss() draws and
    then training differ there: the weights of step 0 already differ in the last bit of about 1 in 40."""
    pyodide = ROOT / "node_modules" / "pyodide"
    assert (pyodide / "pyodide.mjs").is_file(), "Pyodide is missing: run `npm ci` in the repository root"
    argv, expected = cpython_export
    out = tmp_path / "out"
    code = f"from microgpt.cli import main\nassert main({[*argv, '--out', str(out)]!r}) == 0\n"
    result = subprocess.run(["node", ROOT / "tests" / "pyodide" / "run.mjs", pyodide, wheel, tmp_path,
                             names_path.parent], input=code, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(f"wrote {len(expected)} files to {out}")
    assert_same_but_exact_weights(files(out), expected)

"""The port under Pyodide in Node, from the site's own copy of Pyodide and of the wheel: the same bytes as CPython."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, TRANSCRIPT
from microgpt.cli import main

RUN = ROOT / "tests" / "pyodide" / "run.mjs"
CONFIGS = {  # id -> (options, dataset: None for names.txt, else the file's bytes)
    "defaults-20-steps": (["--steps", "20"], None),
    "small-deep": (["--seed", "7", "--n-embd", "8", "--n-head", "2", "--n-layer", "2", "--block-size", "8",
                    "--learning-rate", "0.02", "--steps", "6", "--temperature", "0.9", "--samples", "5"], None),
    "non-ascii-data": (["--n-embd", "4", "--n-head", "2", "--steps", "5", "--samples", "3", "--temperature", "1.2"],
                       "zoë\r\nłukasz\nanna\n\nbo\n日本語\nçà\n".encode()),
}
PAGE_CALLS = [("live.start", [{"steps": "3", "samples": "2"}]), ("live.train", [3]), ("live.start_sampling", []),
              ("live.sample_next", []), ("live.sample_next", []), ("live.generate", [1.7]), ("live.sample_next", [])]


@pytest.fixture(scope="module")
def runtime(site) -> tuple[Path, Path, Path]:
    """The built site's Pyodide folder, wheel and memory snapshot, as runtime.json lists them."""
    live = site / "_static" / "live"
    manifest = json.loads((live / "runtime.json").read_text())
    return live / manifest["pyodide"], live / manifest["wheel"], live / manifest["snapshot"]


def under_pyodide(runtime, code: str, *mounts: Path, snapshot=True) -> subprocess.CompletedProcess:
    """Python restored from the snapshot, as the worker does (snapshot=False: started, as where the worker
    cannot unzip the snapshot)."""
    node = shutil.which("node")
    assert node, "Node is needed for the Pyodide tests"
    pyodide, wheel, memory = runtime
    restore = ["--snapshot", str(memory)] if snapshot else []
    return subprocess.run([node, str(RUN), str(pyodide), str(wheel), *restore, *map(str, mounts)], input=code,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("engine", ["scalar", "floats"])
@pytest.mark.parametrize("argv, dataset", CONFIGS.values(), ids=CONFIGS.keys())
def test_microgpt_run_under_pyodide_prints_what_cpython_prints(runtime, capsys, names_path, tmp_path, argv, dataset,
                                                               engine):
    """Either engine under Pyodide prints the scalar engine's transcript in CPython."""
    data = names_path
    if dataset is not None:
        data = tmp_path / "words.txt"
        data.write_bytes(dataset)
    argv = ["run", "--data", str(data), *argv]
    assert main(argv) == 0
    expected = capsys.readouterr().out
    result = under_pyodide(runtime, f"from microgpt.cli import main\nmain({[*argv, '--engine', engine]!r})\n",
                           data.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_the_whole_original_under_pyodide_by_the_float_engine(runtime, names_path):
    """1000 steps and 20 samples in the browser's runtime (seconds with the float engine), with Python started
    rather than restored: byte for byte."""
    argv = ["run", "--data", str(names_path), "--engine", "floats"]
    result = under_pyodide(runtime, f"from microgpt.cli import main\nmain({argv!r})\n", names_path.parent,
                           snapshot=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TRANSCRIPT.read_text(encoding="utf-8")


def test_the_pages_calls_under_pyodide(runtime, names_path, monkeypatch):
    """The live page's calls, through microgpt.worker as the Web Worker makes them: the same JSON."""
    from microgpt import live
    from microgpt.worker import call

    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    expected = "".join(call(name, json.dumps(args)) + "\n" for name, args in PAGE_CALLS)
    live.reset()
    code = (f"import json, os\nos.environ['MICROGPT_DATA'] = {str(names_path)!r}\n"
            "from microgpt.worker import call\n"
            f"for name, args in {PAGE_CALLS!r}:\n    print(call(name, json.dumps(args)))\n")
    result = under_pyodide(runtime, code, names_path.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected

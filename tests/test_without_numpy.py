"""The scalar path needs no NumPy: the browser's Python has none. Run it where `import numpy` fails."""

import pytest

from conftest import python_without_numpy
from microgpt.cli import main

SCALAR_PATH = ("config", "dataset", "tokenizer", "autograd", "parameters", "model", "optimizer", "training",
               "inference", "scalar", "float_engine", "run", "cli", "live", "sections", "reference", "trace",
               "recorder", "snapshot", "exercises", "bigram")


def test_numpy_is_really_blocked():
    result = python_without_numpy("import microgpt.numpy_engine")
    assert result.returncode != 0 and "numpy" in result.stderr


def test_scalar_path_imports_without_numpy():
    imports = "; ".join(f"import microgpt.{m}" for m in SCALAR_PATH)
    loaded = "print(sorted(m for m, mod in sys.modules.items() if m.startswith('numpy') and mod))"
    result = python_without_numpy(f"{imports}; {loaded}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


@pytest.mark.parametrize("engine", ["scalar", "floats"])
def test_cli_run_without_numpy_prints_what_it_prints_with_it(capsys, names_path, engine):
    """The scalar engine's transcript, by either engine the browser can run."""
    argv = ["run", "--data", str(names_path), "--steps", "20", "--samples", "5", "--n-layer", "2"]
    assert main(argv) == 0
    expected = capsys.readouterr().out
    result = python_without_numpy(f"from microgpt.cli import main; sys.exit(main({[*argv, '--engine', engine]!r}))")
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_live_session_without_numpy(capsys, names_path):
    assert main(["run", "--data", str(names_path), "--steps", "4", "--samples", "2"]) == 0
    expected = capsys.readouterr().out
    code = ("from microgpt.session import Session\n"
            f"s = Session({{'steps': '4', 'samples': '2'}}, data={str(names_path)!r})\n"
            "print('\\n'.join(s.header() + s.transcript()))")
    result = python_without_numpy(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected

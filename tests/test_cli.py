"""`microgpt run` prints what the original prints, for any settings; bad options are one located line."""

import subprocess
import sys

import pytest

from conftest import REFERENCE, TRANSCRIPT
from microgpt.cli import main
from microgpt.config import GPTConfig, SampleConfig, TrainConfig
from microgpt.reference import constants_of, run_reference

VARIANTS = {
    "defaults-3-steps": ["--steps", "3", "--samples", "4"],
    "small-deep": ["--seed", "7", "--n-embd", "8", "--n-head", "2", "--n-layer", "2", "--block-size", "8",
                   "--learning-rate", "0.02", "--steps", "6", "--temperature", "0.9", "--samples", "5"],
    "one-head-long-block": ["--seed", "1", "--n-embd", "6", "--n-head", "1", "--block-size", "20",
                            "--steps", "4", "--temperature", "1.3", "--samples", "3"],
    "no-steps": ["--steps", "0", "--samples", "2"],
}


def run_cli(capsys, argv):
    code = main(["run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def constants_for(argv):
    from microgpt.cli import build_parser, configs

    return constants_of(*configs(build_parser().parse_args(["run", *argv])))


@pytest.mark.parametrize("argv", VARIANTS.values(), ids=VARIANTS.keys())
def test_equals_the_edited_original(capsys, tmp_path, names_path, argv):
    code, out, _ = run_cli(capsys, ["--data", str(names_path), *argv])
    assert code == 0
    assert out == run_reference(REFERENCE, names_path, tmp_path, **constants_for(argv))


def test_equals_the_original_on_other_data(capsys, tmp_path):
    data = tmp_path / "words.txt"
    data.write_text("zoë\r\nłukasz\nanna\n\nbo\n", encoding="utf-8")
    argv = ["--n-embd", "4", "--n-head", "2", "--steps", "5", "--samples", "3"]
    code, out, _ = run_cli(capsys, ["--data", str(data), *argv])
    assert code == 0
    assert out == run_reference(REFERENCE, data, tmp_path / "ref", **constants_for(argv))


def test_prefix_of_the_transcript(capsys, names_path):
    """With default settings, the first lines are the transcript's: setup and the first step."""
    code, out, _ = run_cli(capsys, ["--data", str(names_path), "--steps", "0", "--samples", "0"])
    assert code == 0
    assert TRANSCRIPT.read_text(encoding="utf-8").startswith(out.split("\n\n")[0])


@pytest.mark.slow
def test_full_default_run_is_the_transcript(full_default_run):
    """The whole original, 1000 steps and 20 samples (minutes; run once per session): byte for byte."""
    assert full_default_run.transcript == TRANSCRIPT.read_bytes()


def test_python_m_microgpt_runs_without_a_progress_bar_off_a_terminal(names_path):
    result = subprocess.run([sys.executable, "-m", "microgpt", "run", "--data", str(names_path), "--steps", "2",
                             "--samples", "1"], capture_output=True, check=True)
    assert result.stdout.startswith(b"num docs: ") and b"step    2 /    2" in result.stdout
    assert result.stderr == b""  # not a terminal: no progress bar


@pytest.mark.parametrize("argv, option", [
    (["--n-embd", "10", "--n-head", "4"], "--n-embd"),
    (["--n-embd", "0"], "--n-embd"),
    (["--n-head", "0"], "--n-head"),
    (["--n-layer", "-1"], "--n-layer"),
    (["--block-size", "0"], "--block-size"),
    (["--steps", "-5"], "--steps"),
    (["--samples", "-1"], "--samples"),
    (["--temperature", "0"], "--temperature"),
    (["--temperature", "-0.5"], "--temperature"),
    (["--learning-rate", "nan"], "--learning-rate"),
    (["--learning-rate", "inf"], "--learning-rate"),
    (["--learning-rate", "0"], "--learning-rate"),
    (["--learning-rate", "fast"], "--learning-rate"),
    (["--steps", "1.5"], "--steps"),
    (["--engine", "gpu"], "--engine"),
    (["--data", "/nonexistent/names.txt"], "--data"),
])
def test_bad_options_exit_2_with_one_line(capsys, argv, option):
    with pytest.raises(SystemExit) as e:
        sys.exit(main(["run", *argv]))
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == ""
    assert err.count("\n") == 1 and option in err and "Traceback" not in err, err


@pytest.mark.parametrize("content, what", [(b"", "empty"), (b"\n \n", "only whitespace"), (b"a\xfe\n", "UTF-8")])
def test_bad_data_files(capsys, tmp_path, content, what):
    data = tmp_path / "bad.txt"
    data.write_bytes(content)
    code = main(["run", "--data", str(data), "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--data" in err and str(data) in err and what in err


def test_module_entry_point(names_path):
    result = subprocess.run([sys.executable, "-m", "microgpt", "run", "--data", str(names_path), "--steps", "0",
                             "--samples", "0"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("num docs: 32033\nvocab size: 27\nnum params: 4192\n")


def test_defaults_come_from_the_config():
    from microgpt.cli import build_parser, configs

    assert configs(build_parser().parse_args(["run"])) == (GPTConfig(), TrainConfig(), SampleConfig())

"""`microgpt run` prints what the original prints, for any settings; bad options are one located line."""

import contextlib
import io
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
def test_full_default_run_is_the_transcript(names_path):
    """The whole original, 1000 steps and 20 samples (minutes): byte for byte."""
    result = subprocess.run([sys.executable, "-m", "microgpt", "run", "--data", str(names_path)],
                            capture_output=True, check=True)
    assert result.stdout == TRANSCRIPT.read_bytes()
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


def test_a_diverging_run_is_one_line_naming_the_learning_rate(capsys, names_path):
    code, out, err = run_cli(capsys, ["--data", str(names_path), "--learning-rate", "1.0", "--steps", "5"])
    assert code == 2 and out.startswith("num docs: 32033\n") and "step    1 /    5" in out
    assert err == ("microgpt run: error: argument --learning-rate: training stopped at step 2: the loss is not "
                   "finite (math domain error); the parameters were not updated; try a value below 1\n")


@pytest.mark.parametrize("engine", ["scalar", "numpy"])
def test_a_temperature_too_small_to_divide_by_samples_greedily(capsys, tmp_path, names5, engine):
    """1 / 1e-320 overflows, where the original stops with an OverflowError: the port draws from the limit the
    original's draws tend to, the most likely token, and so prints what the original prints at 1e-200."""
    argv = ["--n-embd", "8", "--n-head", "2", "--steps", "3", "--samples", "4", "--engine", engine]
    code, out, err = run_cli(capsys, ["--data", str(names5), "--temperature", "1e-320", *argv])
    assert code == 0 and err == ""
    assert out == run_reference(REFERENCE, names5, tmp_path, **constants_for([*argv, "--temperature", "1e-200"]))


def test_the_temperature_help_says_what_a_tiny_one_does(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "samples greedily" in " ".join(capsys.readouterr().out.split())


def option_values():
    """Every setting over the range the parser accepts (sizes kept tiny): the values an argv may carry."""
    positive = st.floats(min_value=0, exclude_min=True, allow_infinity=False)  # subnormals to 1.8e308
    return st.fixed_dictionaries({
        "--seed": st.integers(-2**80, 2**80), "--n-embd": st.integers(1, 6), "--n-head": st.integers(1, 3),
        "--n-layer": st.integers(1, 2), "--block-size": st.integers(1, 6),
        "--learning-rate": positive | st.sampled_from([1.0, 1e6, 1e300]), "--steps": st.integers(0, 3),
        "--temperature": positive | st.sampled_from([5e-324, 1e-320, 1e-308, 1.7975e308]),
        "--samples": st.integers(0, 2),
        "--engine": st.sampled_from(["scalar", "numpy"])})


def run_quietly(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse's own errors
            code = e.code
    return code, out.getvalue(), err.getvalue()


def assert_one_line_naming_an_option(code, err, command, argv):
    """Notes on the data aside, nothing on stderr, or one line naming an option the user gave."""
    err = "".join(line for line in err.splitlines(keepends=True) if not line.startswith(f"microgpt {command}: note: "))
    if code == 0:
        assert err == ""
        return
    assert code == 2 and err.count("\n") == 1, err
    option = re.match(fr"microgpt {command}: error: argument (--[a-z-]+): ", err)
    assert option and option[1] in argv, err


@settings(max_examples=40)
@given(option_values())
def test_every_setting_completes_or_is_one_line_naming_the_option(names5, values):
    """No value the parser accepts reaches a traceback: the run completes or stops with one line naming an option
    (a warning or an exception would fail the test: pytest turns warnings into errors)."""
    argv = [str(x) for kv in values.items() for x in kv]
    code, out, err = run_quietly(["run", "--data", str(names5), *argv])
    assert_one_line_naming_an_option(code, err, "run", argv)
    if code == 0:
        assert out.count("\nsample ") == values["--samples"]


@settings(max_examples=6)
@given(option_values())
def test_every_setting_of_a_snapshot_completes_or_is_one_line(names5, tmp_path_factory, values):
    argv = [str(x) for kv in values.items() for x in kv]
    out_dir = tmp_path_factory.mktemp("snap") / "out"
    code, _, err = run_quietly(["snapshot", "--out", str(out_dir), "--data", str(names5), *argv])
    assert_one_line_naming_an_option(code, err, "snapshot", argv + ["--probes"])
    assert out_dir.exists() == (code == 0)  # nothing half-written


@pytest.mark.parametrize("command", ["run", "snapshot"])
def test_the_dataset_report_goes_to_stderr_and_stdout_stays_the_originals(capsys, tmp_path, command):
    from microgpt.dataset_report import dataset_report

    data = tmp_path / "odd.txt"
    data.write_bytes("\ufeffemma\r\nolivia\njose\u0301\nava\n".encode() + b"x" * 20 + b"\n")
    argv = ["--n-embd", "4", "--n-head", "1", "--steps", "2", "--samples", "2", "--data", str(data)]
    out_dir = ["--out", str(tmp_path / "snap"), "--probes", "olivia,ava"] if command == "snapshot" else []
    assert main([command, *argv, *out_dir]) == 0
    out, err = capsys.readouterr()
    notes = dataset_report(data.read_bytes(), 16)["notes"]
    assert len(notes) == 4 and err == "".join(f"microgpt {command}: note: {note}\n" for note in notes)
    if command == "run":
        assert out == run_reference(REFERENCE, data, tmp_path / "ref", **constants_for(argv[:-2]))

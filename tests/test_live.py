"""microgpt.live, the live page's Python side: the CLI's transcript, options and errors, driven a step per call."""

import json
import math

import pytest

from microgpt.cli import FORM_OPTIONS, main
from microgpt.live import MAX_DOCUMENTS_BYTES, PageError, Session, parse_settings
from microgpt.worker import call

CONFIGS = {
    "defaults-20": {"steps": "20", "samples": "5"},
    "small-deep": {"seed": "7", "n-embd": "8", "n-head": "2", "n-layer": "2", "block-size": "8",
                   "learning-rate": "0.02", "steps": "6", "temperature": "0.9", "samples": "4"},
}
UNICODE_DOCS = "zoë\r\nłukasz\nanna\n\nbo\n日本\n".encode()


def cli_output(capsys, argv) -> str:
    assert main(["run", *argv]) == 0
    return capsys.readouterr().out


def argv_of(form: dict) -> list[str]:
    return [f"--{k}={v}" for k, v in form.items()]


def page_output(session: Session) -> str:
    return "".join(line + "\n" for line in session.header() + session.transcript())


@pytest.mark.parametrize("form", CONFIGS.values(), ids=CONFIGS.keys())
def test_session_prints_what_the_cli_prints(capsys, names_path, form):
    assert page_output(Session(form, data=names_path)) == cli_output(capsys, ["--data", str(names_path),
                                                                               *argv_of(form)])


def test_pasted_documents_read_as_a_data_file(capsys, tmp_path):
    form = {"n-embd": "4", "n-head": "2", "steps": "5", "samples": "3"}
    data = tmp_path / "docs.txt"
    data.write_bytes(UNICODE_DOCS)
    assert page_output(Session(form, UNICODE_DOCS)) == cli_output(capsys, ["--data", str(data), *argv_of(form)])


def test_training_in_calls_equals_one_run(names_path):
    pieces, whole = Session({"steps": "30"}, data=names_path), Session({"steps": "30"}, data=names_path)
    lines = [line for k in (1, 10, 19) for line in pieces.train(k)["lines"]]
    assert lines == whole.train(30)["lines"]
    assert pieces.run.engine.weights() == whole.run.engine.weights()


def test_the_form_is_the_clis_options():
    from microgpt.live import form_parser

    names = [a.option_strings[0] for a in form_parser()._actions if a.option_strings]
    assert names == [f"--{name}" for name in FORM_OPTIONS]


BAD = [("seed", "x"), ("n-embd", "10"), ("n-embd", "0"), ("n-head", "0"), ("n-layer", "-1"), ("block-size", "0"),
       ("steps", "-5"), ("steps", "1.5"), ("samples", "-1"), ("temperature", "0"), ("learning-rate", "nan"),
       ("learning-rate", "fast"), ("learning-rate", ""), ("seed", "")]


@pytest.mark.parametrize("field, value", BAD)
def test_a_bad_setting_gets_the_clis_message(capsys, field, value):
    with pytest.raises(SystemExit) as exit_:
        raise SystemExit(main(["run", f"--{field}={value}"]))  # argparse's own errors exit from inside main
    assert exit_.value.code == 2
    cli_error = capsys.readouterr().err
    with pytest.raises(PageError) as e:
        parse_settings({field: value})
    assert e.value.field == field
    assert cli_error == f"microgpt run: error: {e.value}\n"


def test_unknown_setting():
    with pytest.raises(PageError, match="unknown setting 'rate'") as e:
        parse_settings({"rate": "1"})
    assert e.value.field == "rate"


@pytest.mark.parametrize("raw, message", [
    (b"", "documents: no documents: the file is empty"),
    (b" \n\t\n", "documents: no documents: the file contains only whitespace"),
    (b"ok\na\xfeb\n", "documents:2: not valid UTF-8 (byte offset 4: invalid start byte, byte 0xfe)"),
    (b"a\n" * (MAX_DOCUMENTS_BYTES // 2 + 1), f"documents: {MAX_DOCUMENTS_BYTES + 2:,} bytes is over the page's cap"),
])
def test_bad_documents(raw, message):
    with pytest.raises(PageError) as e:
        Session({}, raw)
    assert e.value.field == "documents" and str(e.value).startswith(message)


def test_train_twice_stops_at_the_horizon_then_extends(names_path):
    s = Session({"steps": "150"}, data=names_path)
    first, second = s.train(100), s.train(100)
    assert len(first["steps"]) == 100 and len(second["steps"]) == 50
    assert second["at_horizon"] and s.train(100)["steps"] == []
    losses = [d["loss"] for d in first["steps"] + second["steps"]]
    assert sum(losses[-50:]) / 50 < sum(losses[:50]) / 50  # the loss keeps falling
    rates = [d["learning_rate"] for d in first["steps"] + second["steps"]]
    assert min(rates) > 0 and rates == sorted(rates, reverse=True)
    assert s.extend(300) == {"step": 150, "num_steps": 300, "at_horizon": False}
    third = s.train(10)["steps"]
    assert [d["step"] for d in third] == list(range(151, 161)) and third[-1]["line"].startswith("step  160 /  300")
    with pytest.raises(PageError, match="before the 160 steps already done"):
        s.extend(100)


def test_a_non_finite_loss_stops_with_the_model_as_it_was(names_path):
    s = Session({"learning-rate": "1e6", "steps": "50"}, data=names_path)
    before, result = None, None
    for _ in range(50):
        before = s.run.engine.weights()
        result = s.train(1)
        if result["error"]:
            break
    assert result["error"].startswith(f"Training stopped at step {result['step'] + 1}: ")
    assert s.run.engine.weights() == before and all(math.isfinite(w) for w in before)
    assert s.generate(1.0)["lines"][1] == "--- inference (new, hallucinated names) ---"
    assert s.sample_next()["lines"][0].startswith("sample  1: ")  # the page is still usable


@pytest.mark.parametrize("temperature", ["0", "-1", "2.01", "nan", "inf", "hot"])
def test_generate_takes_temperatures_in_0_2(names_path, temperature):
    s = Session({"steps": "1"}, data=names_path)
    with pytest.raises(PageError) as e:
        s.generate(temperature)
    assert e.value.field == "generate-temperature"


def test_generate_any_temperature_then_the_names(names_path):
    s = Session({"steps": "2", "samples": "3"}, data=names_path)
    head = s.generate("2")
    names = [s.sample_next() for _ in range(3)]
    assert head["lines"] == ["", "--- inference (new, hallucinated names) ---"]
    assert [n["done"] for n in names] == [False, False, True]
    assert [n["lines"][0][:10] for n in names] == ["sample  1:", "sample  2:", "sample  3:"]


def test_worker_calls(names_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    assert json.loads(call("live.reset", "[]")) == {"result": {}}
    assert json.loads(call("live.train", "[1]"))["error"]["field"] == "run"
    started = json.loads(call("live.start", json.dumps([{"steps": "2"}])))["result"]
    assert started["lines"][0] == "num docs: 32033" and started["num_steps"] == 2
    assert json.loads(call("live.train", "[5]"))["result"]["step"] == 2
    assert json.loads(call("live.start", json.dumps([{"n-head": "3"}])))["error"] == {
        "field": "n-embd", "message": "argument --n-embd: 16 is not divisible by n_head=3"}
    missing = json.loads(call("live.fly", "[]"))["error"]
    assert "microgpt.live does not offer" in missing["message"]

"""microgpt.live, the live page's Python side: the CLI's transcript, options and errors, driven a step per call."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import option_values

from microgpt import live
from microgpt.cli import FORM_OPTIONS, main
from microgpt.form import MAX_DOCUMENTS_BYTES, MAX_GENERATE_TEMPERATURE, PageError, parse_settings
from microgpt.session import Session
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
    from microgpt.form import form_parser

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
    assert cli_error == f"microgpt run: error: argument --{field}: {e.value}\n"  # the page puts --{field}: first


def test_unknown_setting():
    with pytest.raises(PageError, match="^not a setting; the settings are seed, ") as e:
        parse_settings({"rate": "1"})
    assert e.value.field == "rate"


@pytest.mark.parametrize("raw, message", [
    (b"", "the text is empty: no documents to train on"),
    (b" \n\t\n", "the text contains only whitespace: no documents to train on"),
    (b"ok\na\xfeb\n", "the text:2: not valid UTF-8 (byte offset 4: invalid start byte, byte 0xfe)"),
    (b"a\n" * (MAX_DOCUMENTS_BYTES // 2 + 1), f"the text is {MAX_DOCUMENTS_BYTES + 2:,} bytes, over the page's cap"),
])
def test_bad_documents(raw, message):
    with pytest.raises(PageError) as e:
        Session({}, raw)
    assert e.value.field == "documents" and str(e.value).startswith(message)
    with pytest.raises(PageError) as e:
        Session({}, raw, "mine.txt")
    assert str(e.value).startswith(message.replace("the text", "mine.txt"))


def test_train_twice_stops_at_the_horizon_then_extends(names_path):
    s = Session({"steps": "150", "engine": "floats"}, data=names_path)  # the horizon, not the engine, under test
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
        "field": "n-embd", "message": "16 is not divisible by n_head=3"}
    missing = json.loads(call("live.fly", "[]"))["error"]
    assert "microgpt.live does not offer" in missing["message"]


def test_a_saved_run_continues_bit_for_bit(names_path, monkeypatch):
    """Train 20, carry the run to another page (a new Session from the saved text), train 10: as one 30-step run."""
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    whole = Session({"steps": "30", "samples": "4"})
    first = Session({"steps": "30", "samples": "4"})
    first.train(20)
    first.generate(1.3)
    first.sample_next()
    whole.train(20)
    whole.generate(1.3)
    whole.sample_next()
    second = Session.restore(first.save())
    assert second.lines == first.lines
    for s in (second, whole):
        s.sample_next()
        s.train(10)
    assert second.lines == whole.lines and second.history == whole.history
    assert second.run.engine.weights() == whole.run.engine.weights()
    assert (second.run.engine.adam.m, second.run.engine.adam.v) == (whole.run.engine.adam.m, whole.run.engine.adam.v)
    assert second.save() == whole.save()


def test_a_saved_run_with_its_own_documents(tmp_path):
    docs = UNICODE_DOCS
    s = Session({"n-embd": "4", "n-head": "2", "steps": "8"}, docs, "mine.txt")
    s.train(3)
    t = Session.restore(s.save())
    assert t.run.docs == s.run.docs and t.name == "mine.txt"
    assert t.train(5)["lines"] == s.train(5)["lines"]


def test_a_run_saved_in_parts_after_every_step_restores_bit_for_bit(names_path, monkeypatch):
    """As the page's worker saves: after each step the run without the checkpoints the store holds, and the new
    regular checkpoints once each; restored from both, the run goes on as one."""
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    whole = Session({"steps": "30", "n-embd": "8", "n-head": "2"})
    live.start({"steps": "30", "n-embd": "8", "n-head": "2"})
    store, text, sizes = {}, None, []
    for _ in range(23):
        live.API["train"](1)
        parts = json.loads(live.save_parts(sorted(int(s) for s in store)))
        assert not set(parts["checkpoints"]) & set(store)  # each written once
        store.update(parts["checkpoints"])
        text = parts["run"]
        sizes.append(len(text))
    assert sorted(store, key=int) == ["0", "10", "20"] and max(sizes) < 2 * min(sizes)  # no checkpoint in it twice
    restored = live.restore(text, store)
    assert restored["step"] == 23
    whole.train(30)
    live.API["train"](7)
    assert live.current().run.engine.weights() == whole.run.engine.weights()
    assert live.current().save() == whole.save()


def test_a_save_holds_the_current_steps_weights_once(names_path):
    """The current step's checkpoint is the model's weights: saved as those, and restored from them, exactly."""
    s = Session({"steps": "30", "engine": "floats"}, data=names_path)
    s.train(13)
    saved = json.loads(s.save())
    assert 13 in saved["recorder"]["steps"] and "13" not in saved["recorder"]["weights"]
    restored = Session.restore(s.save())
    assert list(restored.recorder.weights[13]) == s.run.engine.weights() == list(s.recorder.weights[13])
    assert restored.document("checkpoints/step-0013.json") == s.document("checkpoints/step-0013.json")


@pytest.mark.parametrize("text", ["", "{}", '{"format": 1}', "[1]"])
def test_a_damaged_save_is_one_message(text):
    with pytest.raises(PageError, match="cannot be restored"):
        Session.restore(text)


def test_the_live_runs_documents_are_the_exporters(export_30, names_path):
    s = Session({"steps": "30"}, data=names_path)
    s.train(30)
    for path in sorted(export_30.rglob("*.json")):
        name = path.relative_to(export_30).as_posix()
        assert s.document(name) == path.read_text(encoding="utf-8"), name


def test_a_restored_run_gives_the_same_documents(names_path):
    whole, first = Session({"steps": "25"}, data=names_path), Session({"steps": "25"}, data=names_path)
    whole.train(25)
    first.train(12)
    second = Session.restore(first.save())
    second.train(13)
    for name in ["manifest.json", "training.json", "adam.json", "embeddings.json", "checkpoints/step-0020.json",
                 "checkpoints/step-0025.json"]:
        assert second.document(name) == whole.document(name), name


def test_typed_words(names_path, export_30):
    s = Session({"steps": "30"}, data=names_path)
    s.train(30)
    with pytest.raises(PageError, match="'É' is not in the vocabulary") as e:
        s.trace("Émile")
    assert e.value.field == "word"
    with pytest.raises(PageError, match="'abcdefghijklmnopq' has 17 characters; block_size = 16 fits at most 15"):
        s.trace("abcdefghijklmnopq")
    typed = s.trace("emma", 30)
    recorded = json.loads((export_30 / "checkpoints" / "step-0030.json").read_text())
    assert typed["loss"] == recorded["traces"]["emma"]["loss"] or math.isclose(
        typed["loss"], recorded["traces"]["emma"]["loss"], rel_tol=1e-3)  # the file rounds to 4 digits
    from microgpt.live import trace_checkpoint

    uchars = json.loads((export_30 / "manifest.json").read_text())["vocabulary"]["uchars"]
    assert trace_checkpoint((export_30 / "checkpoints/step-0030.json").read_text(), uchars, "emma") == typed
    with pytest.raises(PageError, match="not in the vocabulary"):
        trace_checkpoint((export_30 / "checkpoints/step-0030.json").read_text(), uchars, "<b>")


def test_a_fresh_sample_leaves_the_runs_random_stream_alone(names_path, export_30):
    s = Session({"steps": "3", "samples": "2"}, data=names_path)
    s.train(3)
    state = s.run.rng.getstate()
    drawn = s.sample(1.7, 123)
    assert s.run.rng.getstate() == state and drawn["temperature"] == 1.7
    assert "".join(s.run.tokenizer.uchars[p["token"]] for p in drawn["positions"][:-1]) == drawn["name"][:len(
        drawn["positions"]) - 1]
    assert s.sample(1.7, 123) == drawn  # the seed decides the draw
    from microgpt.live import sample_checkpoint

    manifest = json.loads((export_30 / "manifest.json").read_text())
    recorded = sample_checkpoint((export_30 / "checkpoints/step-0030.json").read_text(),
                                 manifest["vocabulary"]["uchars"], "0.5", 7)
    assert recorded["positions"] and all(0 <= p["draw"] < 1 for p in recorded["positions"])
    with pytest.raises(PageError):
        s.sample(2.5, 1)


def test_the_last_steps_graph(names_path):
    s = Session({"steps": "5"}, data=names_path)
    first = s.step_graph()
    s.train(1)
    assert s.step_graph() == first  # before any step: the first step's; after it: the same graph
    s.train(1)
    assert s.step_graph()["step"] == 2 and s.step_graph()["doc"] == s.run.docs[1]


def test_a_steps_graph_depends_only_on_the_documents_token_count(names_path):
    """What lets Session.step_graph build each token count's graph once: the weights never change its shape."""
    from microgpt.recorder import step_graph

    s = Session({"steps": "30", "n-embd": "8", "n-head": "2"}, data=names_path)
    r = s.run
    doc = next(d for d in r.docs[1:] if len(d) == len(r.docs[0]))
    before = step_graph(r.engine, r.tokenizer, r.docs[0], r.config.block_size)
    s.train(20)
    after = step_graph(r.engine, r.tokenizer, doc, r.config.block_size)
    assert {**before, "doc": doc} == after
    s.train(1)
    assert s.step_graph() == {"step": 21, **step_graph(r.engine, r.tokenizer, r.docs[20], r.config.block_size),
                              "engine": "scalar"}


# --- the float engine: the same run, faster --------------------------------------------------------------------

def test_the_float_engine_prints_what_the_value_graph_prints(names_path):
    form = CONFIGS["small-deep"]
    floats = Session({**form, "engine": "floats"}, data=names_path)
    assert floats.form["engine"] == "floats" and Session(form, data=names_path).form["engine"] == "scalar"
    assert page_output(floats) == page_output(Session({**form, "engine": "scalar"}, data=names_path))


@pytest.mark.parametrize("engine", ["numpy", "fast", ""])
def test_the_page_runs_only_the_engines_the_browser_has(names_path, engine):
    with pytest.raises(PageError, match=r"^invalid choice: .* \(the page runs 'floats' or 'scalar'\)$") as e:
        Session({"steps": "3", "engine": engine}, data=names_path)
    assert e.value.field == "engine"


def test_a_saved_run_restores_with_its_engine_and_continues_bit_for_bit(names_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    form = {"steps": "30", "samples": "3", "engine": "floats"}
    whole, first = Session(form), Session(form)
    whole.train(18)
    first.train(18)
    second = Session.restore(first.save())
    assert second.run.engine.name == "floats" and second.form == first.form
    assert second.train(12)["lines"] == whole.train(12)["lines"]
    assert second.run.engine.weights() == whole.run.engine.weights()
    assert second.run.engine.moments() == whole.run.engine.moments()
    assert second.transcript() == whole.transcript()
    assert second.save() == whole.save()


def test_the_scenes_documents_are_the_same_with_either_engine(names_path):
    """What the scenes show of the reader's run (numbers rounded for display) does not depend on the engine."""
    scalar = Session({"steps": "20"}, data=names_path)
    floats = Session({"steps": "20", "engine": "floats"}, data=names_path)
    for s in (scalar, floats):
        s.train(20)
    for name in ["manifest.json", "training.json", "adam.json", "embeddings.json", "inference.json"]:
        assert floats.document(name).replace('"floats"', '"scalar"') == scalar.document(name), name
    for step in (10, 20):  # a checkpoint's weights are exact: equal to the last bit or so
        f, s = (json.loads(x.document(f"checkpoints/step-{step:04d}.json")) for x in (floats, scalar))
        for name, tensor in s.pop("state_dict").items():
            assert f["state_dict"][name]["data"] == pytest.approx(tensor["data"], rel=0, abs=1e-12)
        del f["state_dict"], f["metadata"]["engine"], s["metadata"]["engine"]
        assert f == s
    f, s = floats.trace("emma", 20), scalar.trace("emma", 20)
    assert f["tokens"] == s["tokens"] and f["probs"]["data"] == pytest.approx(s["probs"]["data"], rel=1e-12)
    f, s = floats.sample(0.7, 5), scalar.sample(0.7, 5)
    assert f["name"] == s["name"] and [p["token"] for p in f["positions"]] == [p["token"] for p in s["positions"]]
    probs = [[x for p in d["positions"] for x in p["probs"]] for d in (f, s)]
    assert probs[0] == pytest.approx(probs[1], rel=1e-12)


def test_the_float_engines_step_graph_says_it_is_the_value_graphs(names_path):
    scalar = Session({"steps": "5"}, data=names_path)
    floats = Session({"steps": "5", "engine": "floats"}, data=names_path)
    for s in (scalar, floats):
        s.train(3)
    assert floats.step_graph() == {**scalar.step_graph(), "engine": "floats"}


def test_a_time_budget_batches_steps_and_keeps_every_line(names_path):
    s, whole = Session({"steps": "40", "engine": "floats"}, data=names_path), Session({"steps": "40"}, data=names_path)
    one = s.train(40, 0)  # no time left after the first step
    assert [d["step"] for d in one["steps"]] == [1]
    lines = one["lines"]
    while not s.status()["at_horizon"]:
        lines += s.train(40, 60)["lines"]
    assert lines == whole.train(40)["lines"]


@pytest.mark.parametrize("documents", [
    "<b>bold</b>\n<img src=x onerror=alert(1)>\n", "[[]]\n]]\n", "zzz\nxyxyxyxyxyxyxyxyxyxyx\n"])
def test_any_documents_are_recorded(documents):
    from microgpt.snapshot import check_document

    s = Session({"steps": "12", "samples": "2"}, documents.encode())
    s.train(12)
    for name in s.recorder.names() + ["manifest.json"]:
        check_document(json.loads(s.document(name)), name)


def page_call(name: str, *args):
    """A worker call as the page makes it: its result, or its error, which must be one message for a field."""
    answer = json.loads(call(name, json.dumps(args)))
    if "error" in answer:
        error = answer["error"]
        assert set(error) == {"field", "message"}, error  # a "traceback" key means a bug reached the page
        message, field = error["message"], error["field"]
        assert "\n" not in message and not message.lower().startswith((field, f"--{field}")), error  # one prefix
    return answer


@settings(max_examples=20)
@given(option_values(), st.floats(min_value=0, max_value=MAX_GENERATE_TEMPERATURE, exclude_min=True),
       st.integers(0, 2**32))
def test_every_setting_on_the_page_completes_or_is_one_message(names5, values, temperature, seed):
    """The page's calls on any settings its form accepts: each answers, or says what to change, in one line."""
    form = {option.removeprefix("--"): str(value) for option, value in values.items() if option != "--engine"}
    started = page_call("live.start", form, str(names5), "names5.txt")
    if "error" in started:
        assert started["error"]["field"] in FORM_OPTIONS
        return
    trained = page_call("live.train", int(form["steps"]))["result"]
    assert trained["error"] is None or "\n" not in trained["error"]
    answers = [page_call("live.start_sampling")]
    while "error" not in answers[-1] and not answers[-1]["result"].get("done"):
        answers.append(page_call("live.sample_next"))
    answers += [page_call("live.generate", temperature), page_call("live.sample", temperature, seed),
                page_call("live.step_graph"), page_call("live.trace", "ava"),
                *(page_call("live.document", name) for name in live.current().recorder.names())]
    assert all(a["error"]["field"] in ("learning-rate", "word") for a in answers if "error" in a)
    assert "error" not in page_call("live.restore", page_call("live.save")["result"])


def test_the_page_gets_the_dataset_report(tmp_path, names_path, monkeypatch):
    from microgpt.dataset_report import dataset_report

    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    documents = tmp_path / "documents"
    documents.write_bytes(UNICODE_DOCS + "e\u0301\n".encode())
    form = {"block-size": "4", "steps": "1"}
    expected = dataset_report(documents.read_bytes(), 4)
    assert expected["truncated"] == 2 and "U+0301" in expected["notes"][1]  # łukasz, anna
    before = page_call("live.dataset_report", form, str(documents))["result"]
    started = page_call("live.start", form, str(documents))["result"]
    restored = page_call("live.restore", page_call("live.save")["result"])["result"]
    assert before == started["dataset_report"] == restored["dataset_report"] == expected
    assert page_call("live.dataset_report", {})["result"] == dataset_report(names_path.read_bytes(), 16)
    bad = page_call("live.dataset_report", {"block-size": "0"})["error"]
    assert bad["field"] == "block-size"


def test_the_worker_trains_within_a_time_budget(names_path, monkeypatch):
    """live.train(steps, seconds), as the page calls it: no new step once the budget is spent (at least one runs)."""
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    assert "result" in json.loads(call("live.start", json.dumps([{"steps": "5", "engine": "floats"}])))
    assert [s["step"] for s in json.loads(call("live.train", "[5, 0]"))["result"]["steps"]] == [1]
    assert [s["step"] for s in json.loads(call("live.train", "[5, 60]"))["result"]["steps"]] == [2, 3, 4, 5]

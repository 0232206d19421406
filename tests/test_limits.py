"""microgpt.limits: a step's graph counted without building it, and the live page's limits on it."""

import pytest

from microgpt import limits, live
from microgpt.form import PageError
from microgpt.session import Session
from microgpt.training import document_tokens

DOCS = "abcdefghijklmnopqrst\nbca\ncab"


@pytest.mark.parametrize("n_embd, n_head, n_layer, block_size", [(8, 2, 1, 4), (16, 4, 1, 16), (24, 4, 2, 16),
                                                                 (32, 8, 2, 8)])
def test_graph_nodes_counts_the_step_graph_the_recorder_builds(n_embd, n_head, n_layer, block_size):
    form = {"n-embd": n_embd, "n-head": n_head, "n-layer": n_layer, "block-size": block_size}
    session = Session(form, DOCS.encode())
    graph = session.step_graph()
    _, positions = document_tokens(session.run.tokenizer, graph["doc"], block_size)
    counted = limits.graph_nodes(session.run.config, session.run.tokenizer.vocab_size, positions)
    assert abs(counted - graph["nodes"]) <= 0.01 * graph["nodes"]
    assert abs(limits.graph_depth(session.run.config, positions) - graph["depth"]) <= 0.05 * graph["depth"]


def test_plan_checks_a_model_against_the_limits_before_it_is_set_up(names_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    default = live.plan({})
    assert default["level"] == "ok" and default["num_params"] == Session({}).run.engine.num_params
    assert default["nodes"] <= limits.WARN_NODES < limits.MAX_NODES
    wide = live.plan({"n-embd": "128"})
    assert wide["level"] == "warn" and f"{limits.WARN_NODES:,}" in wide["message"]
    deep = live.plan({"n-embd": "32", "n-layer": "6"})
    assert deep["level"] == "refuse" and f"at most {limits.MAX_DEPTH:,} deep" in deep["message"]
    assert live.plan({"n-embd": "32", "n-layer": "4"})["level"] == "warn"  # the browser tests' slow model
    huge = live.plan({"n-embd": "1024", "steps": "2"})
    assert huge["level"] == "refuse" and f"at most {limits.MAX_NODES:,}" in huge["message"]
    live.reset()
    with pytest.raises(PageError) as refused:
        live.start({"n-embd": "1024", "steps": "2"})  # refused before the 12.6M parameters are drawn
    assert refused.value.field == "n-embd" and live._session is None
    assert huge["bench_seconds_per_step"] > wide["bench_seconds_per_step"] > default["bench_seconds_per_step"] > 0


def test_the_clis_help_states_the_pages_limits(capsys):
    from microgpt.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert f"{limits.MAX_NODES:,} graph nodes" in " ".join(capsys.readouterr().out.split())


def test_the_browser_estimate_is_the_benchmarks_page_speed(names_path, monkeypatch):
    """The page's estimate for an engine is CPython's time scaled by how much slower the benchmark found the live
    page in Chromium for that engine: for the default model it is the page's own measured time per step."""
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    bench = limits.bench()
    for page in bench["browser"]:
        cpython = next(r for r in bench["runtimes"] if r["engine"] == page["engine"])
        assert limits.browser_factor(page["engine"]) == 1e6 / page["steps_per_s"] / cpython["cpython_us_per_step"]
        p = live.plan({"engine": page["engine"]})
        assert p["browser_seconds_per_step"] == p["bench_seconds_per_step"] * limits.browser_factor(page["engine"])
        assert p["browser_seconds_per_step"] > p["bench_seconds_per_step"]

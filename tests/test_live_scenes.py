"""The scenes on the reader's run (Debian's Chromium): switched to "your run", every scene reads the worker's
documents for the steps so far, follows training, traces any word and samples at any temperature (with WebGL);
without WebGL, every scene keeps its static picture of the recorded run, and says so.

Every test fails on a console error, an uncaught page error or a request to another host (LivePage).
"""

import json

import pytest
from test_browser import drawn_yardsticks
from test_live_browser import LEGS, LOAD_TIMEOUT, SMALL, live  # noqa: F401  (fixtures)

SCENES = ["model", "tokens", "forward", "attention", "embeddings", "autograd", "training", "adam", "sampling"]
TOL = 1e-12  # exact weights, relative (absolute near 0): Pyodide's libm may differ from CPython's in the last bits


def train_30(page, **settings):
    page.fill(steps=30, **settings)
    for _ in range(3):
        page.press("Train 10 steps")
        page.wait("done")


def same_document(name, worker: str, cpython: str):
    """Byte for byte, but a checkpoint's exact weights, which must agree to TOL."""
    if worker == cpython:
        return
    assert name.startswith("checkpoints/"), name
    a, b = json.loads(worker), json.loads(cpython)
    for matrix, tensor in b["state_dict"].items():
        got = a["state_dict"][matrix]
        assert got["shape"] == tensor["shape"]
        worst = max(abs(x - y) / max(abs(y), 1) for x, y in zip(got["data"], tensor["data"]))
        assert worst <= TOL, (name, matrix, worst)
    a.pop("state_dict"), b.pop("state_dict")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True), name


def scene(page, name):
    figure = page.page.locator(f'figure[data-scene="{name}"]')
    figure.scroll_into_view_if_needed()
    page.page.wait_for_function("f => f.dataset.state === 'live' || f.dataset.state === 'fallback'",
                                arg=figure.element_handle(), timeout=LOAD_TIMEOUT)
    return figure


def readout(figure):
    return figure.locator(".mg-readout").first.text_content()


@LEGS
def test_every_scene_on_your_run(live, export_30, webgl):  # noqa: F811
    page = live(webgl)
    if not webgl:  # the static pictures whatever the run: a short one shows it (its documents: the other leg's)
        page.fill(steps=10, samples=0, **SMALL)
        page.press("Train 10 steps")
        page.wait("done")
        page.page.goto(page.page.url.replace("live.html", "scenes.html"))
        page.page.wait_for_function("document.querySelector('.mg-live-bar')?.dataset.liveState === 'done'",
                                    timeout=LOAD_TIMEOUT)
        for name in SCENES:  # nothing to switch, nothing broken, and the captions say so
            figure = scene(page, name)
            assert figure.get_attribute("data-state") == "fallback"
            assert "the run recorded when this site was built" in figure.locator("[data-caption-source]").inner_text()
            assert not figure.locator(".mg-caption-controls").is_visible()  # no controls there to speak of
        assert scene(page, "training").locator(".mg-scene-fallback polyline.mg-fb-bigram").count() == 1
        return
    train_30(page, engine="scalar")  # the exporter's engine: byte for byte (the float engine's agree to rounding)
    worker = page.page.evaluate("""async () => {
        const rt = (await import('./_static/live/runtime.js')).runtime();
        const manifest = JSON.parse(await rt.call('live.document', ['manifest.json']));
        const out = {};
        for (const name of [...manifest.files, 'manifest.json']) out[name] = await rt.call('live.document', [name]);
        return out;
    }""")
    cpython = {p.relative_to(export_30).as_posix(): p.read_text(encoding="utf-8") for p in export_30.rglob("*.json")}
    assert sorted(worker) == sorted(cpython)
    for name in cpython:
        same_document(name, worker[name], cpython[name])

    page.page.goto(page.page.url.replace("live.html", "scenes.html"))
    page.page.wait_for_function("document.querySelector('.mg-live-bar')?.dataset.liveState === 'done'",
                                timeout=LOAD_TIMEOUT)
    switch = page.page.locator(".mg-source")
    assert switch.is_visible() and "your run (step 30)" in switch.text_content()
    assert page.page.locator('.mg-source input[value="live"]').is_checked()  # a reader with a run sees it
    most = 0
    for name in SCENES:
        figure = scene(page, name)
        page.page.wait_for_function("f => f.dataset.source === 'live' && f.querySelector('.mg-readout')"
                                    "?.textContent.includes('step 30')", arg=figure.element_handle(),
                                    timeout=LOAD_TIMEOUT)
        most = max(most, page.page.locator("figure.mg-scene canvas").count())
        caption = figure.locator("figcaption").inner_text()  # names the run it draws, with its steps
        assert "Drawn from your run, trained 30 of 30 steps." in caption and "recorded" not in caption, caption
    assert most <= 4  # the context cap holds
    assert "Your run's step 30 (on " in readout(scene(page, "autograd"))
    # the yardsticks of your run: the bigram counted on the 30 names it trains on (the worker's document, which
    # is CPython's byte for byte, above), not the recorded run's 1000
    sticks = json.loads(worker["training.json"])["yardsticks"]
    assert sticks["counted"] == 30
    drawn = drawn_yardsticks(scene(page, "training"))
    assert drawn["bigram"][0] == sticks["bigram"] and drawn["uniform"][0] == sticks["uniform"]
    assert drawn["bigram"][1] > 0.2 and f"bigram model, {sticks['bigram']:.2f}" in drawn["legend"], drawn
    assert page.page.locator("#mg-step-range").get_attribute("max") == "30"

    page.page.locator('.mg-source input[value="recorded"]').check()
    figure = scene(page, "training")
    page.page.wait_for_function("f => f.dataset.source === 'recorded' && f.dataset.state === 'live'",
                                arg=figure.element_handle(), timeout=LOAD_TIMEOUT)
    assert "step 1000" in readout(figure)
    recorded = page.page.evaluate("fetch('_snapshots/training.json').then(r => r.json())")["yardsticks"]
    assert recorded["counted"] == 1000 and recorded["bigram"] != sticks["bigram"]
    assert drawn_yardsticks(figure)["bigram"][0] == recorded["bigram"]


def type_word(figure, word):
    field = figure.get_by_label("Word", exact=True)
    field.fill(word)
    field.press("Enter")


@pytest.mark.parametrize("run", ["live", "recorded"])
def test_any_word_and_any_temperature(live, run):  # noqa: F811
    page = live(True)
    if run == "live":
        train_30(page)
        page.page.goto(page.page.url.replace("live.html", "sections/tokenizer.html"))
    else:
        page.page.goto(page.page.url.replace("live.html", "sections/tokenizer.html"))
    step = "30" if run == "live" else "1000"
    figure = scene(page, "tokens")
    page.page.wait_for_function("([f, s]) => f.dataset.source === s", arg=[figure.element_handle(), run],
                                timeout=LOAD_TIMEOUT)
    type_word(figure, "zoë<b>")
    message = figure.locator(".mg-scene-message")
    page.page.wait_for_function("m => m.textContent.includes('not in the vocabulary')", arg=message.element_handle(),
                                timeout=LOAD_TIMEOUT)
    assert message.text_content().startswith("'ë', '<', '>' are not in the vocabulary")
    assert figure.get_by_label("Word", exact=True).get_attribute("aria-invalid") == "true"
    type_word(figure, "Quinn")  # as people type it: the case folded, with a note
    page.page.wait_for_function("([f, s]) => f.querySelector('.mg-readout').textContent"
                                ".startsWith(`“quinn” at step ${s}`)", arg=[figure.element_handle(), step],
                                timeout=LOAD_TIMEOUT)
    assert figure.get_by_label("Word", exact=True).input_value() == "quinn"
    assert message.text_content() == "'Quinn' read as 'quinn': the vocabulary's letters are all lowercase"
    type_word(figure, "abcdefghijklmnopq")
    page.page.wait_for_function("m => m.textContent.includes('block_size')", arg=message.element_handle(),
                                timeout=LOAD_TIMEOUT)
    assert "'abcdefghijklmnopq' has 17 characters; block_size = 16 fits at most 15" in message.text_content()
    type_word(figure, "quinn")
    page.page.wait_for_function("([f, s]) => f.querySelector('.mg-readout').textContent"
                                ".startsWith(`“quinn” at step ${s}`)", arg=[figure.element_handle(), step],
                                timeout=LOAD_TIMEOUT)
    page.page.wait_for_function("m => m.textContent === ''", arg=message.element_handle(), timeout=LOAD_TIMEOUT)

    page.page.goto(page.page.url.replace("tokenizer.html", "inference.html"))
    figure = scene(page, "sampling")
    page.page.wait_for_function("([f, s]) => f.dataset.source === s && f.dataset.state === 'live'",
                                arg=[figure.element_handle(), run], timeout=LOAD_TIMEOUT)
    temperature = figure.get_by_label("Temperature", exact=True)  # one control: a new value draws a fresh name
    temperature.fill("1.7")
    temperature.press("Enter")
    page.page.wait_for_function("f => f.querySelector('.mg-readout').textContent"
                                ".includes('temperature 1.7, position 0')", arg=figure.element_handle(),
                                timeout=LOAD_TIMEOUT)
    shown = readout(figure)
    assert f"a fresh name from {'your run' if run == 'live' else 'the recorded run'} at step {step}" in shown
    temperature.fill("2.5")
    figure.get_by_role("button", name="Draw a fresh name").click()
    page.page.wait_for_function("f => f.querySelector('.mg-scene-message').textContent.includes('(0, 2]')",
                                arg=figure.element_handle(), timeout=LOAD_TIMEOUT)


def test_scenes_follow_training_as_it_happens(live):  # noqa: F811
    """Each step reaches every visible scene; prints the time from the step's end to the frame that shows it."""
    page = live(True)
    page.page.set_viewport_size({"width": 1280, "height": 4000})  # the live page's three scenes, all in view
    page.fill(steps=40, samples=0, engine="scalar")  # a step per call (the float engine's calls bring several)
    page.press("Train 10 steps")
    page.wait("done")
    for name in ("training", "embeddings", "attention"):
        scene(page, name)
    page.page.evaluate("performance.clearMeasures()")
    page.press("Train 10 steps")
    page.wait("done")
    page.page.wait_for_function("names => names.every(n => performance.getEntriesByName(`mg-live-scene ${n}`)"
                                ".some(m => m.detail.step === 20))", arg=["training", "embeddings", "attention"],
                                timeout=LOAD_TIMEOUT)  # the last step's frame, in every scene
    measures = page.page.evaluate("performance.getEntriesByType('measure')"
                                  ".filter(m => m.name.startsWith('mg-live-scene'))"
                                  ".map(m => [m.name.split(' ')[1], m.detail.step, m.duration])")
    for name in ("training", "embeddings", "attention"):
        steps = sorted(s for n, s, _ in measures if n == name)
        assert steps[-1] == 20 and len(steps) >= 5, (name, steps)  # it followed the run, step by step
        times = sorted(d for n, _, d in measures if n == name)
        print(f"{name}: step to frame, median {times[len(times) // 2]:.0f} ms, worst {times[-1]:.0f} ms "
              f"over {len(times)} steps")
    for figure in page.page.locator("figure.mg-scene").all():
        assert "step 20" in readout(figure) or "at step 20" in readout(figure)

"""The site in Firefox and WebKit (Debian's firefox-esr and WebKitGTK), as test_browser and test_live_browser test it
in Chromium: the live page's runs, a bad setting, runnable cells and Stop, every scene kind with and without WebGL,
and a phone-sized window.

Every test fails on a console error, an uncaught error or a request to a host other than the local server (the
`engine` fixtures in conftest.py); drivers in tests/engines/.
"""

import io

import pytest
from PIL import Image
from test_browser import SCENE_PAGES  # the pages of every scene kind, as Chromium's tests visit them

from microgpt.cli import main

SMALL = {"n-embd": 8, "n-head": 2, "block-size": 8}  # where the scenario, not the default model, is under test
SMALL_ARGS = [f"--{k}={v}" for k, v in SMALL.items()]
LIVE_STATE = "states => states.includes(document.querySelector('.mg-live').dataset.liveState)"
TRANSCRIPT = "() => document.querySelector('[data-live=transcript]').textContent"
RUNNABLE = 'div.cell:has(> .mg-cell-bar[data-numpy="false"])'


def cli(capsys, names_path, *argv) -> str:
    assert main(["run", "--data", str(names_path), *argv]) == 0
    return capsys.readouterr().out


def fill(browser, **settings):
    browser.js("() => { document.querySelector('.mg-live-more').open = true }")  # the settings, one tap away
    for name, value in settings.items():
        browser.fill(f'.mg-live [name="{name}"]', value)


def press(browser, action, **data):
    extra = "".join(f'[data-{k}="{v}"]' for k, v in data.items())
    browser.click(f'.mg-live button[data-action="{action}"]{extra}')


def settle(browser, *states):
    try:
        browser.wait(LIVE_STATE, list(states))
    except TimeoutError as e:  # what the reader would see instead
        seen = browser.js("""() => [document.querySelector('.mg-live').dataset.liveState,
          document.querySelector('[data-live=status]').textContent,
          document.querySelector('[data-live=transcript]').textContent.slice(-200)]""")
        raise TimeoutError(f"{e}: the page is {seen[0]!r}, says {seen[1]!r}, its transcript ends {seen[2]!r}") from None


def error(browser) -> str:
    return browser.js("() => { const e = document.querySelector('[data-live=error]');"
                      " return e.offsetParent === null ? '' : e.textContent; }")


def test_run_prints_the_clis_transcript(engine, server, capsys, names_path):
    engine.open(f"{server}/live.html")
    fill(engine, steps=5)
    press(engine, "run")
    settle(engine, "done", "error")
    assert error(engine) == ""
    assert engine.js(TRANSCRIPT) == cli(capsys, names_path, "--steps", "5")


def test_train_twice_past_the_horizon_stops_there_and_extends(engine, server):
    engine.open(f"{server}/live.html")
    fill(engine, steps=15, **SMALL)
    for _ in range(2):
        press(engine, "train", steps=10)
        settle(engine, "done")
    lines = engine.js(TRANSCRIPT).splitlines()
    assert sum(line.startswith("step ") for line in lines) == 15 and lines[-1].startswith("step   15 /   15")
    assert "horizon of 15 steps" in engine.js("() => document.querySelector('[data-live=horizon]').textContent")
    press(engine, "extend")
    engine.wait("() => document.querySelector('[data-live=horizon]').hidden")  # the new horizon is planned
    settle(engine, "done")
    press(engine, "train", steps=1)
    engine.wait(f"() => ({TRANSCRIPT})().includes('step   16 /   30')")
    settle(engine, "done")


def test_a_bad_setting_gets_its_message_on_the_field_in_a_phone_sized_window(engine, server):
    engine.open(f"{server}/live.html", width=390, height=844)
    assert engine.js("() => document.documentElement.scrollWidth <= innerWidth")  # nothing wider than the phone
    fill(engine, **{"n-embd": 10})
    press(engine, "train", steps=1)
    settle(engine, "error")
    assert error(engine) == "--n-embd: 10 is not divisible by n_head=4"
    assert engine.js("() => document.querySelector('[name=n-embd]').getAttribute('aria-invalid')") == "true"
    assert engine.js(TRANSCRIPT) == ""


def cell_state(engine, i):
    return engine.js(f"() => document.querySelectorAll('{RUNNABLE}')[{i}].dataset.liveState")


def cell_output(engine, i):
    return engine.js(f"() => document.querySelectorAll('{RUNNABLE}')[{i}]"
                     ".querySelector('[data-live=output]').innerText")


def test_runnable_cells_reproduce_their_build_output_and_stop_works(engine, server):
    engine.open(f"{server}/sections/tokenizer.html")
    count = engine.js(f"() => document.querySelectorAll('{RUNNABLE}').length")
    assert count >= 2
    # the cells have no ids: name them here, to click their buttons by CSS in every driver
    cells = engine.js(f"() => [...document.querySelectorAll('{RUNNABLE}')].map((c, i) => c.id = `test-cell-${{i}}`)")
    for i, cell in enumerate(cells):
        built = cell_output(engine, i)
        engine.click(f"#{cell} .mg-cell-run")
        engine.wait(f"() => ['done', 'error'].includes(document.getElementById('{cell}').dataset.liveState)")
        # WebKit's innerText ends the build-time output's <pre> with one more blank line than the new output's
        assert (cell_state(engine, i), cell_output(engine, i).rstrip("\n")) == ("done", built.rstrip("\n")), cell
    last = cells[-1]
    engine.click(f"#{last} .mg-cell-edit")
    editor = f"#{last} .cm-content, #{last} textarea"  # the code editor, or the plain field it falls back to
    engine.wait(f"() => !!document.querySelector('{editor}')")  # loaded on the first edit
    engine.type(editor, "print('first')\nwhile True: pass")
    engine.click(f"#{last} .mg-cell-run")
    engine.wait(f"() => document.getElementById('{last}').dataset.liveState === 'running'")
    engine.wait(f"() => document.getElementById('{last}').querySelector('[data-live=output]').innerText"
                ".includes('first')")  # printed while it runs
    engine.click(f"#{last} .mg-cell-stop")
    engine.wait(f"() => document.getElementById('{last}').dataset.liveState === 'stopped'", timeout=30)
    output = cell_output(engine, len(cells) - 1)
    assert output.startswith("first") and "Stopped. What it printed is kept above." in output


def blank(png: bytes) -> bool:
    """A picture of one flat colour (or nearly): nothing was drawn."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) < 8


def each_scene(browser, server, state):
    """Every scene kind scrolled into view, until it reaches `state`; yields its selector."""
    for page, scenes in SCENE_PAGES.items():
        browser.goto(f"{server}/{page}")
        for scene in scenes:
            figure = f'figure.mg-scene[data-scene="{scene}"]'
            browser.js(f"() => document.querySelector('{figure}').scrollIntoView({{block: 'center'}})")
            browser.wait(f"() => document.querySelector('{figure}').dataset.state === '{state}'", timeout=60)
            yield scene, figure


DRAWN = """f => {  // a frame drawn, nothing under way (data-busy), and no new frame since the last two looks
  const fig = document.querySelector(f), frames = fig.querySelector(".mg-scene-stage").dataset.frames;
  const calm = !Number(fig.dataset.busy || 0) && Number(frames) > 0 && frames === fig.mgFrames;
  fig.mgFrames = frames;
  fig.mgCalm = calm ? fig.mgCalm + 1 : 0;
  return fig.mgCalm >= 2;
}"""


def test_every_scene_kind_draws(engine, server):
    engine.open(f"{server}/index.html", width=1400, height=900)
    drawn = []
    for scene, figure in each_scene(engine, server, "live"):
        engine.js("f => { document.querySelector(f).mgCalm = 0; }", figure)
        engine.wait(DRAWN, figure, timeout=60)  # its picture done: a state, however slow software WebGL is
        if not blank(engine.screenshot(f"{figure} .mg-scene-stage")):
            drawn.append(scene)
    assert drawn == [s for scenes in SCENE_PAGES.values() for s in scenes]


def test_without_webgl_every_scene_kind_shows_its_fallback(engine_without_webgl, server):
    browser = engine_without_webgl
    browser.open(f"{server}/index.html", width=1400, height=900)
    assert not browser.js("() => document.createElement('canvas').getContext('webgl2')")
    for _, figure in each_scene(browser, server, "fallback"):
        assert browser.js("f => getComputedStyle(document.querySelector(f + ' .mg-scene-fallback')).display !== 'none'",
                          figure)


@pytest.fixture(autouse=True)
def _name_the_engine(request):
    """Which engine and version a failure happened in, in the report."""
    for name in ("engine", "engine_without_webgl"):
        if name in request.fixturenames:
            browser = request.getfixturevalue(name)
            request.node.user_properties.append(("engine", f"{browser.name} {browser.version}"))


def test_a_browser_without_webassembly_is_told_so(chromium, server):
    """Where an engine lacks what the runtime needs, the page says which, at Run (Chromium with it taken away)."""
    page = chromium(False).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script("delete window.WebAssembly")
    page.goto(f"{server}/live.html")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("document.querySelector('.mg-live').dataset.liveState === 'error'", timeout=60_000)
    message = page.locator('[data-live="error"]').text_content()
    assert "This browser cannot run the live runtime: it has no WebAssembly." in message, message
    assert errors == []

"""The live page in Debian's Chromium: the port trains in a worker and prints the CLI's transcript.

Every test fails on a console error, an uncaught page error or any request to a host other than the local server.
Run prints the CLI's transcript in both legs (with software WebGL, and with none: the page works without it); each
other behaviour is tested once, in one leg: the run's course (training, pausing, following the reader) with WebGL,
where the page's scenes follow it; the form's messages without WebGL, where nothing draws.
"""

import pytest
from test_browser import TO_CENTER

from microgpt import limits
from microgpt.cli import main
from microgpt.form import MAX_DOCUMENTS_BYTES, PageError, generate_temperature

LEGS = pytest.mark.parametrize("webgl", [True, False], ids=["webgl", "no-webgl"])
DEVICES = pytest.mark.parametrize("device", ["phone", "laptop"])
CONTEXTS = {"phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
            "laptop": {"viewport": {"width": 1440, "height": 900}}}
RUNNABLE = 'div.cell:has(> .mg-cell-bar[data-numpy="false"])'
SLOW = {"n_embd": 32, "n_layer": 4}  # a step of seconds in a browser (the page asks first): Stop must end the worker
LOAD_TIMEOUT = 60_000  # ms: the runtime's first load, on a loaded CI machine
SMALL = {"n_embd": 8, "n_head": 2, "block_size": 8}  # where the scenario, not the default model, is under test:
SMALL_ARGS = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]  # the same schedule, faster steps


class LivePage:
    """live.html in a fresh browser, watching for errors and for requests that leave 127.0.0.1."""

    def __init__(self, chromium, server, webgl, url="live.html", device=None):
        self.browser = chromium(webgl)
        self.device = device
        self.context = self.browser.new_context(**CONTEXTS.get(device, {"viewport": {"width": 1280, "height": 900}}))
        self.page = self.context.new_page()
        self.server = server
        self.problems = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("request", self.check_host)
        self.page.goto(f"{server}/{url}")
        self.panel = self.page.locator(".mg-live")

    def check_host(self, request):
        if not request.url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            self.problems.append(f"request to another host: {request.url}")

    def fill(self, **settings):
        self.page.evaluate("document.querySelector('.mg-live-more').open = true")  # the settings, one tap away
        for name, value in settings.items():
            if name == "engine":
                self.page.select_option('[name="engine"]', value)
            else:
                self.page.fill(f'[name="{name.replace("_", "-")}"]', str(value))

    def press(self, name, within=None):
        self.tap((within or self.page).get_by_role("button", name=name, exact=True))

    def tap(self, locator):
        """A tap on a phone, a click on a laptop."""
        if self.device == "phone":
            locator.scroll_into_view_if_needed()
            locator.tap()
        else:
            locator.click()

    def goto(self, path):
        self.page.goto(f"{self.server}/{path}")

    def status(self):
        return self.page.locator('.mg-live [data-live="status"]').text_content()

    def measures(self, name):
        return self.page.evaluate("n => performance.getEntriesByName(n).map(m => m.duration)", name)

    def wait(self, *states, timeout=LOAD_TIMEOUT):
        self.page.wait_for_function("states => states.includes(document.querySelector('.mg-live').dataset.liveState)",
                                    arg=list(states), timeout=timeout)

    def state(self):
        return self.panel.get_attribute("data-live-state")

    def transcript(self):
        return self.page.locator('[data-live="transcript"]').text_content()

    def error(self):
        box = self.page.locator('[data-live="error"]')
        return box.text_content() if box.is_visible() else ""

    def close(self):
        self.context.close()
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def live(request, chromium, server):
    pages = []

    def open_(webgl=True, url="live.html", device=None):
        pages.append(LivePage(chromium, server, webgl, url, device))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def cli(capsys, names_path, *argv) -> str:
    assert main(["run", "--data", str(names_path), *argv]) == 0
    return capsys.readouterr().out


SAID = """() => {  // every text the status and the rate take, from now on
  window.mgSaid = new Set();
  const panel = document.querySelector(".mg-live");
  new MutationObserver(() => {
    for (const el of panel.querySelectorAll("[data-live=status], [data-live=rate]")) window.mgSaid.add(el.textContent);
  }).observe(panel, {subtree: true, childList: true, characterData: true});
}"""


@LEGS
def test_run_prints_the_clis_transcript(live, capsys, names_path, webgl):
    page = live(webgl)
    assert page.state() == "idle" and page.transcript() == ""
    page.page.evaluate(SAID)
    page.fill(steps=20)
    page.press("Run")
    page.wait("done", "error")
    assert page.error() == ""
    assert page.transcript() == cli(capsys, names_path, "--steps", "20")
    said = page.page.evaluate("[...window.mgSaid]")  # every status and rate the run showed
    assert [text for text in said if "Infinity" in text or "NaN" in text] == []


def test_train_100_twice_stops_at_the_horizon_and_extends(live):
    page = live(webgl=True)
    page.fill(steps=150, **SMALL)
    page.press("Train 100 steps")
    page.wait("done")
    page.press("Train 100 steps")
    page.wait("done")
    lines = page.transcript().splitlines()
    losses = [float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("step ")]
    assert len(losses) == 150 and lines[-1].startswith("step  150 /  150")
    assert sum(losses[-50:]) / 50 < sum(losses[:50]) / 50  # the loss keeps falling
    horizon = page.page.locator('[data-live="horizon"]')
    assert horizon.is_visible() and "horizon of 150 steps" in horizon.text_content()
    rates = page.page.locator('[data-live="curves"]').get_attribute("aria-label")
    assert "learning rate" in rates and float(rates.rsplit(" ", 1)[1]) >= 0
    page.press("Extend the horizon")
    page.wait("done")
    page.press("Train 10 steps")
    page.wait("done")
    assert page.transcript().splitlines()[-1].startswith("step  160 /  300")


def test_pause_and_resume(live, capsys, names_path):
    page = live(webgl=True)
    page.fill(steps=40, samples=3, engine="scalar", **SMALL)  # a step per call: Pause lands mid-run
    page.press("Run")
    page.page.wait_for_function("document.querySelector('[data-live=transcript]').textContent.includes('step    5')",
                                timeout=LOAD_TIMEOUT)
    page.press("Stop")
    page.wait("paused")
    paused = page.transcript()
    page.page.evaluate("async () => (await import('./_static/live/runtime.js')).runtime()"
                       ".call('live.check_temperature', [1])")  # a round trip: the worker answered all calls before
    assert page.transcript() == paused and "sample" not in paused  # nothing runs while paused
    page.press("Resume")
    page.wait("done")
    assert page.transcript() == cli(capsys, names_path, "--steps", "40", "--samples", "3", *SMALL_ARGS)


@DEVICES
def test_the_buttons_hold_still_while_a_run_starts_and_ends(live, device):
    """The reader opens the settings and presses Run: above the buttons the status, the progress bar, the documents'
    lines (a second later) and the settings' lock change as the run loads, trains and ends, and the row of buttons
    stays where it was on the screen, so Stop, which appears beside Run, is where the reader aims."""
    page = live(webgl=False, device=device)
    page.fill(steps=20, samples=1, **SMALL)
    row = page.page.locator('.mg-live-controls:has(button[data-action="run"])')
    row.evaluate(TO_CENTER)
    page.page.evaluate("""row => { window.rowAt = []; new MutationObserver(() => rowAt.push(
        row.getBoundingClientRect().top)).observe(document.querySelector('.mg-live'),
        {childList: true, subtree: true, attributes: true, characterData: true}); }""", row.element_handle())
    before = row.evaluate("el => el.getBoundingClientRect().top")
    page.press("Run")
    page.wait("done")
    assert page.page.locator('[data-live="documents-info"]').text_content().startswith("The first after the shuffle")
    assert page.page.locator('[data-live="dataset-report"]').text_content()
    moved = [round(top - before, 1) for top in page.page.evaluate("rowAt")]
    assert max(map(abs, moved)) < 1, moved  # a scroll lands on whole pixels: what is left under one is no move
    # the run over, Stop's place beside Run stays empty: a press aimed at Stop a moment late lands on no button
    assert page.page.evaluate("""() => { const stop = document.querySelector('.mg-live button[data-action=stop]');
      const box = stop.getBoundingClientRect();
      const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
      return stop.previousElementSibling.dataset.action === 'run' && box.width > 0 && !hit.closest('button'); }""")


def test_the_rate_counts_the_steps_in_its_time(live):
    """The steps of one call come back together, with one stamp: the rate is the steps after the first call's,
    over the time since it (three calls of two steps, a second apart: 4 steps in 2 s)."""
    page = live(webgl=False)
    rate = page.page.evaluate("""async () => { const run = (await import('./_static/live/run.js')).liveRun();
      run.stamps = [0, 0, 1000, 1000, 2000, 2000]; const rate = run.stepsPerSecond(); run.stamps = [5, 5];
      return [rate, run.stepsPerSecond()]; }""")
    assert rate == [2, None]


def test_a_bad_setting_and_bad_documents_each_get_one_message(live):
    page = live(webgl=False)
    page.fill(n_embd=10)
    page.press("Train 1 step")
    page.wait("error")
    assert page.error() == "--n-embd: 10 is not divisible by n_head=4"
    assert page.page.get_attribute('[name="n-embd"]', "aria-invalid") == "true"
    assert page.page.locator('.mg-live-field:has([name="n-embd"]) [data-live="error"]').is_visible()  # beside it
    assert page.transcript() == ""
    page.press("A quick run: 100 steps")  # keeps what the reader typed: the same message, nothing trained
    page.wait("error")
    assert page.error() == "--n-embd: 10 is not divisible by n_head=4" and page.transcript() == ""
    assert page.page.input_value('[name="n-embd"]') == "10" and page.page.input_value('[name="steps"]') == "100"
    assert page.status() == "Nothing ran: fix the setting and try again."
    page.fill(n_embd=16, steps=1000)  # fixed: the message goes, and the status no longer asks for the fix
    page.page.wait_for_function("() => document.querySelector('[data-live=error]').hidden", timeout=10_000)
    assert page.status() == "Python is loaded: it checks each setting as you leave its field."
    page.page.fill('[name="generate-temperature"]', "0")
    page.press("Generate")
    page.wait("error")
    assert page.page.locator('.mg-live-controls:has([name="generate-temperature"]) [data-live="error"]').is_visible()
    page.page.fill('[name="generate-temperature"]', "0.5")
    page.page.fill('[name="documents"]', " \n\t \n")
    page.press("Train 1 step")
    page.wait("error")
    assert page.error() == "Documents: the text contains only whitespace: no documents to train on"
    page.page.fill('[name="documents"]', "")
    page.page.set_input_files('[name="upload"]', files=[{"name": "bad.txt", "mimeType": "text/plain",
                                                        "buffer": b"anna\nbo\xfeb\n"}])
    page.press("Train 1 step")
    page.wait("error")
    assert page.error() == ("Documents: bad.txt:2: not valid UTF-8 (byte offset 7: invalid start byte, byte 0xfe)")
    page.page.set_input_files('[name="upload"]', files=[{"name": "big.txt", "mimeType": "text/plain",
                                                        "buffer": b"ab\n" * (MAX_DOCUMENTS_BYTES // 3 + 1)}])
    page.press("Train 1 step")
    page.wait("error")
    assert "over the page's cap" in page.error()


def test_documents_are_shown_as_text(live):
    page = live(webgl=False)
    documents = "<b>bold</b>\n<img src=x onerror=\"window.pwned=1\">\n<script>window.pwned=2</script>"
    page.fill(steps=3, samples=5)
    page.page.fill('[name="documents"]', documents)
    page.press("Run")
    page.wait("done")
    info = page.page.locator('[data-live="documents-info"]').text_content()
    assert "3 documents" in page.page.locator('[data-live="dataset-report"]').text_content()
    assert "<b>bold</b>" in info or "<img" in info or "<script>" in info
    assert page.page.locator(".mg-live b, .mg-live img, .mg-live-transcript *").count() == 0
    assert page.page.evaluate("window.pwned") is None
    assert page.transcript().startswith("num docs: 3\n")


def test_a_non_finite_loss_stops_training_and_the_page_stays_usable(live):
    page = live(webgl=False)
    page.fill(learning_rate="1e6", steps=50)
    page.press("Train 100 steps")
    page.wait("error")
    message = page.error()
    last = page.transcript().splitlines()[-1]
    step = int(last.split()[1]) + 1
    assert message.startswith(f"--learning-rate: Training stopped at step {step}: "), message
    page.page.fill('[name="generate-temperature"]', "1.7")
    page.press("Generate")
    page.wait("done")
    assert page.transcript().splitlines()[-20].startswith("sample  1: ")


def test_opened_from_a_file_the_page_says_how_to_serve_it(chromium, site):
    browser = chromium(False)
    try:
        page = browser.new_page()
        page.goto((site / "live.html").as_uri())
        message = page.locator(".mg-live-file")
        assert message.is_visible() and "served over http" in message.text_content()
        assert page.get_by_role("button", name="Run", exact=True).is_disabled()
        assert page.locator(".mg-live").get_attribute("data-live-state") == "error"
    finally:
        chromium.close_contexts()


def test_the_engine_is_the_readers_choice_and_stays_with_the_run(live, capsys, names_path):
    """The fast engine by default; a run restores with the engine it was trained by, which cannot change under it."""
    page = live()
    engine = page.page.locator('[name="engine"]')
    assert engine.input_value() == "floats"
    assert "byte for byte" in page.page.locator("#mg-live-engine-help").text_content()
    page.fill(steps=30, samples=2, engine="scalar", **SMALL)
    page.press("Train 10 steps")
    page.wait("done")
    assert engine.is_disabled()  # the run's: Reset to change it
    page.page.reload()
    page.wait("done")
    assert engine.input_value() == "scalar" and engine.is_disabled()
    page.press("Run")
    page.wait("done")
    assert page.transcript() == cli(capsys, names_path, "--steps", "30", "--samples", "2", *SMALL_ARGS)
    page.press("Reset")
    page.wait("idle")
    assert not engine.is_disabled()


def test_the_run_follows_the_reader_to_another_page(live, capsys, names_path):
    """Train 20 steps on the live page, open a section page, train 10 more there: one uninterrupted 30-step run."""
    page = live(webgl=True)
    page.fill(steps=30, samples=0, **SMALL)
    for _ in range(2):
        page.press("Train 10 steps")
        page.wait("done")
    page.page.goto(page.page.url.replace("live.html", "sections/model.html"))
    bar = page.page.locator(".mg-live-bar")
    page.page.wait_for_function("document.querySelector('.mg-live-bar')?.dataset.liveState === 'done'",
                                timeout=LOAD_TIMEOUT)
    assert "step 20 of 30" in bar.locator('[data-live="status"]').text_content()
    bar.get_by_role("button", name="Train 10 steps").click()
    page.page.wait_for_function("document.querySelector('.mg-live-bar').dataset.liveState === 'done' && "
                                "document.querySelector('.mg-live-bar [data-live=status]').textContent"
                                ".includes('step 30')", timeout=LOAD_TIMEOUT)
    expected = cli(capsys, names_path, "--steps", "30", "--samples", "0", *SMALL_ARGS)
    shown = bar.locator('[data-live="transcript"]').text_content()
    assert shown == expected.split("\n\n--- inference")[0] + "\n"
    trained_on = page.page.evaluate("async () => (await import('../_static/live/run.js')).pageTitle()")
    page.page.goto(page.page.url.replace("sections/model.html", "sections/tokenizer.html"))  # only shows the run
    page.page.wait_for_function("document.querySelector('.mg-live-bar')?.dataset.liveState === 'done'",
                                timeout=LOAD_TIMEOUT)
    page.page.goto(page.page.url.replace("sections/tokenizer.html", "live.html"))
    page.wait("done")
    assert page.transcript() == shown
    assert f"restored from “{trained_on}”: step 30 of 30" in page.status()  # where it was trained, not last shown
    page.press("Reset")
    page.wait("idle")
    page.page.goto(page.page.url.replace("live.html", "sections/model.html"))  # bar.js has decided by "load"
    assert not page.page.evaluate("async () => (await import('../_static/live/store.js')).hasSaved()")
    assert page.page.locator(".mg-live-bar").count() == 0  # Reset forgets the run



def test_the_live_pages_hooks_and_defaults(site):
    """The form is the CLI's: one field per option, named after it, holding its default; the contract's hooks."""
    import html
    import re

    from microgpt.cli import FORM_OPTIONS, build_parser

    page = (site / "live.html").read_text(encoding="utf-8")
    defaults = vars(build_parser().parse_args(["run"]))
    for name in FORM_OPTIONS:
        field = re.search(rf'<input id="mg-live-{name}" name="{name}"[^>]*value="([^"]*)"', page)
        assert field and html.unescape(field.group(1)) == str(defaults[name.replace("-", "_")]), name
    engine = re.search(r'<select id="mg-live-engine" name="engine"[^>]*>(.*?)</select>', page)
    assert engine and re.findall(r'<option value="(\w+)"', engine.group(1)) == ["floats", "scalar"]  # first: chosen
    assert '<textarea id="mg-live-documents" name="documents"' in page
    assert 'data-live="transcript"' in page and 'data-live-state="idle"' in page
    assert re.search(r'<button type="button" data-action="run">Run</button>', page)
    assert "runtime" in page and re.search(r"<strong>\d+\.\d MB</strong>", page)


def wait_bar(page, *states, timeout=LOAD_TIMEOUT):
    page.wait_for_function("s => s.includes(document.querySelector('.mg-live-bar')?.dataset.liveState)",
                           arg=list(states), timeout=timeout)


@DEVICES
def test_a_cells_stop_leaves_the_run_in_the_bar_and_its_scene(live, device):
    """A run in the bar; a cell prints, then loops; the bar trains meanwhile; Stop the cell: what it printed stays,
    the run is intact and the scene still shows it, with no error anywhere."""
    page = live(device=device)
    page.fill(steps=300, samples=0, **SMALL)
    page.press("Train 10 steps")
    page.wait("done")
    page.goto("sections/autograd.html")
    p = page.page
    bar, cell = p.locator(".mg-live-bar"), p.locator(RUNNABLE).first
    wait_bar(p, "done")
    page.tap(cell.get_by_role("button", name="Edit the code"))
    cell.get_by_role("textbox").fill("print('first')\nwhile True: pass")
    page.tap(cell.get_by_role("button", name="Run cell", exact=True))
    p.wait_for_function("c => c.querySelector('[data-live=output]').textContent.includes('first')",
                        arg=cell.element_handle(), timeout=LOAD_TIMEOUT)
    assert cell.get_attribute("data-live-state") == "running"  # shown while the cell still runs
    page.press("Train 10 steps", within=bar)  # the run has its own worker: it trains while the cell loops
    p.wait_for_function("document.querySelector('.mg-live-bar [data-live=status]').textContent.includes('step 20 of')"
                        " && document.querySelector('.mg-live-bar').dataset.liveState === 'done'", timeout=LOAD_TIMEOUT)
    page.press("Stop", within=cell)
    assert cell.get_attribute("data-live-state") == "stopped"
    assert cell.locator('[data-live="output"]').inner_text().startswith("first\n")
    print(f"{device}: a cell's Stop to its runtime idle: {cell.locator('.mg-cell-status').inner_text()}")
    assert bar.get_attribute("data-live-state") == "done" and not bar.locator('[data-live="error"]').is_visible()
    assert "step 20 of 300" in bar.locator('[data-live="status"]').text_content()
    figure = p.locator('figure[data-scene="autograd"]')
    figure.scroll_into_view_if_needed()
    p.wait_for_function("f => f.dataset.state === 'live' && f.dataset.source === 'live'", arg=figure.element_handle(),
                        timeout=LOAD_TIMEOUT)
    page.press("Train 10 steps", within=bar)  # and the run goes on
    p.wait_for_function("document.querySelector('.mg-live-bar [data-live=status]').textContent.includes('step 30 of')"
                        " && document.querySelector('.mg-live-bar').dataset.liveState === 'done'", timeout=LOAD_TIMEOUT)


@DEVICES
def test_a_model_too_large_is_refused_and_a_slow_one_stops_within_2_s(live, device):
    page = live(device=device)
    page.fill(n_embd=1024, steps=2)
    page.press("Run")
    page.wait("error")
    assert page.error().startswith("--n-embd: this model builds 417,171,648 graph nodes in a training step")
    assert f"at most {limits.MAX_NODES:,}" in page.error() and page.transcript() == ""
    assert page.page.locator('[data-live="estimate"]').text_content().startswith("12,654,592 parameters")
    page.fill(n_embd=SLOW["n_embd"], n_layer=SLOW["n_layer"], steps=20)
    page.page.select_option('[name="engine"]', "scalar")  # the Value graph: a step of seconds
    page.press("Train 10 steps")
    page.wait("idle")  # a question, not an error
    confirm = page.page.locator('[data-live="confirm"]')
    assert confirm.is_visible() and f"over the {limits.WARN_NODES:,}" in confirm.text_content()
    page.press("Train it anyway")
    page.page.wait_for_function("document.querySelector('.mg-live [data-live=status]').textContent"
                                ".includes('Training: step 2 of 10')", timeout=LOAD_TIMEOUT)
    page.press("Stop")  # mid-step: the step takes seconds, so Stop ends the worker
    page.page.wait_for_function("performance.getEntriesByName('mg-live-stop').length > 0", timeout=5000)
    stop_ms = page.measures("mg-live-stop")[0]
    page.wait("paused")
    # measured as the restore ends, which may follow the state: a fresh runtime's load, then this large model set up
    # again from its save (a loaded machine took over a minute once)
    page.page.wait_for_function("performance.getEntriesByName('mg-live-restore').length > 0",
                                timeout=3 * LOAD_TIMEOUT)
    restore_ms = page.measures("mg-live-restore")[0]
    print(f"{device}: Stop to the runtime idle {stop_ms:.0f} ms; restart to the run back {restore_ms:.0f} ms")
    assert stop_ms <= 2000
    assert page.status() == "Restored your run at step 1 of 20. Resume goes on." and page.error() == ""
    assert page.transcript().splitlines()[-1].startswith("step    1 /   20")


@DEVICES
def test_a_reload_mid_training_loses_at_most_the_step_in_flight(live, device):
    page = live(device=device)
    page.fill(steps=300, samples=0, **SMALL)
    page.press("Train 100 steps")
    page.page.wait_for_function("document.querySelector('[data-live=transcript]').textContent.includes('step   20')",
                                timeout=LOAD_TIMEOUT)
    shown = page.transcript().count("\nstep ")
    page.page.reload()
    page.wait("done", "paused")
    restored = int(page.status().split("step ")[1].split(" ")[0])
    assert shown - 1 <= restored and "restored from this page" in page.status(), (shown, page.status())
    assert page.transcript().count("\nstep ") == restored


@DEVICES
def test_the_horizon_answers_on_the_live_page_and_in_the_bar(live, device):
    page = live(device=device)
    page.fill(steps=10, samples=0, **SMALL)
    page.press("Train 10 steps")
    page.wait("done")
    train = page.page.get_by_role("button", name="Train 10 steps")
    assert train.is_disabled()
    reason = page.page.locator("#" + train.get_attribute("aria-describedby"))
    assert reason.is_visible() and "planned horizon of 10 steps" in reason.text_content()
    assert page.page.get_by_role("button", name="Extend the horizon").is_visible()
    page.goto("sections/model.html")
    bar = page.page.locator(".mg-live-bar")
    wait_bar(page.page, "done")
    train = bar.get_by_role("button", name="Train 10 steps")
    assert train.is_disabled() and "planned horizon of 10 steps" in bar.locator('[data-live="horizon"]').text_content()
    page.press("Extend the horizon", within=bar)
    page.page.wait_for_function("document.querySelector('.mg-live-bar [data-live=status]').textContent"
                                ".includes('step 10 of 20') && document.querySelector('.mg-live-bar').dataset.liveState"
                                " === 'done'", timeout=LOAD_TIMEOUT)
    assert train.is_enabled() and not bar.get_by_role("button", name="Extend the horizon").is_visible()
    page.press("Train 10 steps", within=bar)
    page.page.wait_for_function("document.querySelector('.mg-live-bar [data-live=status]').textContent"
                                ".includes('step 20 of 20')", timeout=LOAD_TIMEOUT)


@DEVICES
def test_the_main_action_is_on_the_first_screen_and_the_settings_lock(live, device):
    page = live(device=device)
    height = page.page.viewport_size["height"]
    for name in ("A quick run: 100 steps", "The original's full run: 1,000 steps"):
        box = page.page.get_by_role("button", name=name).bounding_box()
        assert box["y"] + box["height"] <= height, (name, box)
    assert "4,192 parameters" in page.page.locator('[data-live="estimate"]').text_content()
    page.fill(steps=5, samples=0, **SMALL)
    page.press("Train 1 step")
    page.wait("done")
    locked = page.page.locator('[data-live="locked"]')
    assert locked.is_visible() and "Reset to change the settings" in locked.text_content()
    assert page.page.get_attribute('[name="steps"]', "readonly") is not None
    assert "Run's final samples" in page.page.locator("#mg-live-temperature-help").text_content()
    report = page.page.locator('[data-live="dataset-report"]')  # beside the documents
    assert report.text_content().startswith("The documents: 32,033 documents") and report.is_visible()
    assert page.page.get_by_label("Temperature for Generate", exact=True).is_visible()


DISABLED_WITHOUT_A_WORD = """panel => [...panel.querySelectorAll('button')].filter(b => b.disabled && b.offsetParent)
  .filter(b => { const why = document.getElementById(b.getAttribute('aria-describedby') || '');
                 return !why || !why.offsetParent || !why.textContent.trim(); })
  .map(b => b.textContent.trim())"""


@DEVICES
def test_every_disabled_control_says_why_and_a_restored_run_goes_on(live, device):
    """A newcomer: the first screen's buttons; a run, Stop, a reload: every disabled button names a visible reason,
    and the restored run trains on (Resume) within its horizon."""
    page = live(device=device)
    assert page.page.evaluate(DISABLED_WITHOUT_A_WORD, page.panel.element_handle()) == []  # Resume, Reset: no run
    page.fill(steps=300, samples=0, engine="scalar")  # the original's model on its Value graph: Stop finds it training
    page.press("Train 100 steps")
    page.page.wait_for_function("document.querySelector('[data-live=transcript]').textContent.includes('step   20')",
                                timeout=LOAD_TIMEOUT)
    page.press("Stop")
    page.wait("paused")
    assert page.page.evaluate(DISABLED_WITHOUT_A_WORD, page.panel.element_handle()) == []
    preset = page.page.get_by_role("button", name="A quick run: 100 steps")
    why = page.page.locator("#" + preset.get_attribute("aria-describedby"))
    assert preset.is_disabled() and why.is_visible() and "Reset" in why.text_content()
    page.page.reload()
    page.wait("done", "paused")
    before = int(page.status().split("step ")[1].split(" ")[0])
    assert page.page.evaluate(DISABLED_WITHOUT_A_WORD, page.panel.element_handle()) == []
    resume = page.page.get_by_role("button", name="Resume", exact=True)
    assert resume.is_enabled()
    page.press("Resume")
    page.page.wait_for_function(f"document.querySelector('[data-live=transcript]').textContent"
                                f".includes('step  {before + 5:3d} /')", timeout=LOAD_TIMEOUT)
    page.press("Stop")
    page.wait("paused")
    assert page.page.evaluate(DISABLED_WITHOUT_A_WORD, page.panel.element_handle()) == []


def estimate_text(form: dict) -> str:
    """The estimate live.js shows for live.plan(form), at the benchmark's speed (a browser with none measured)."""
    from microgpt.live import plan
    from microgpt.sphinxext.live import BENCH_BROWSER, duration

    p = plan(form)
    return (f"{p['num_params']:,} parameters; about {round(p['browser_seconds_per_step'] * 1000)} ms a step "
            f"{BENCH_BROWSER} the {p['engine']} engine): "
            f"{p['num_steps']:,} steps in about {duration(p['num_steps'] * p['browser_seconds_per_step'])}.")


def test_the_estimate_before_the_runtime_loads(live):
    """Before any download: the estimate follows the engine and --steps as the reader types, from the figures the
    page was built with (live.plan's); the first field the reader leaves loads the runtime, and the estimate is
    then Python's, for the model in the form."""
    page = live()
    requests = []
    page.page.on("request", lambda r: requests.append(r.url))
    estimate = page.page.locator('[data-live="estimate"]')
    page.fill(engine="scalar")  # a choice among the page's engines: nothing to check, nothing loads
    page.fill(steps=40)  # typed, not left yet
    page.page.wait_for_function("([el, t]) => el.textContent === t", timeout=5000,
                                arg=[estimate.element_handle(), estimate_text({"engine": "scalar", "steps": "40"})])
    assert not [u for u in requests if "/vendor/pyodide" in u or "/wheel-" in u]
    page.fill(n_layer=2)  # --steps left: the runtime loads, and Python plans the new model
    page.page.wait_for_function("([el, t]) => el.textContent === t", timeout=LOAD_TIMEOUT, arg=[
        estimate.element_handle(), estimate_text({"engine": "scalar", "steps": "40", "n-layer": "2"})])
    assert [u for u in requests if "/wheel-" in u] and page.state() == "idle"
    assert [u for u in requests if "/snapshot-" in u]  # Python was restored from the build's snapshot, not started


@DEVICES
def test_a_bad_setting_is_reported_as_the_reader_leaves_its_field(live, device, capsys, names_path):
    """A newcomer types a bad --n-embd and leaves the field: Python's message (the one Run gives) is on the field,
    with nothing pressed (leaving the field loaded the runtime, its progress said in the status while the buttons
    hold still); fixing it clears the message; Run then trains."""
    page = live(webgl=False, device=device)
    p = page.page
    p.evaluate("""() => { const s = document.querySelector('[data-live=status]'); window.said = []; window.runAt = [];
      const run = document.querySelector('.mg-live button[data-action=run]');
      new MutationObserver(() => { said.push(s.textContent); runAt.push(run.getBoundingClientRect().top + scrollY); })
        .observe(s, {childList: true, subtree: true}); }""")
    field = p.locator('[name="n-embd"]')
    page.fill(n_embd=15)
    assert field.get_attribute("aria-invalid") is None  # typing: not judged yet
    leave(page, "#mg-live-n-embd-help")
    p.wait_for_function("el => el.getAttribute('aria-invalid') === 'true'", arg=field.element_handle(),
                        timeout=LOAD_TIMEOUT)
    beside = p.locator('.mg-live-field:has([name="n-embd"]) [data-live="error"]')
    assert beside.is_visible() and beside.text_content() == "--n-embd: 15 is not divisible by n_head=4"
    assert page.state() == "idle" and page.transcript() == ""
    said = p.evaluate("said")
    total = p.evaluate("fetch('_static/live/runtime.json').then(r => r.json()).then(r => r.total_bytes)")
    first = next(i for i, t in enumerate(said) if t.startswith("Downloading the Python runtime and the port: "))
    assert f"of {total / 1e6:.1f} MB" in said[first], said
    assert len(set(p.evaluate("runAt")[first:])) == 1  # Run held still while the load spoke, however it wrapped
    assert page.status() == "Python is loaded: it checks each setting as you leave its field."
    page.fill(n_embd=16)  # fixed: the message goes while the reader is still in the field
    p.wait_for_function("el => !el.hasAttribute('aria-invalid')", arg=field.element_handle(), timeout=10_000)
    assert page.error() == "" and p.locator("[aria-invalid]").count() == 0
    page.fill(steps=3, samples=2, **SMALL)
    page.press("Run")
    page.wait("done", "error")
    assert page.error() == ""
    assert page.transcript() == cli(capsys, names_path, "--steps", "3", "--samples", "2", *SMALL_ARGS)
    # Generate's temperature, with the run there: the same, beside its own field
    temperature = p.locator('[name="generate-temperature"]')
    temperature.fill("0")
    leave(page, "#mg-live-generate-help")
    p.wait_for_function("el => el.getAttribute('aria-invalid') === 'true'", arg=temperature.element_handle(),
                        timeout=10_000)
    with pytest.raises(PageError) as bad:
        generate_temperature("0")
    assert p.locator('.mg-live-controls:has([name="generate-temperature"]) [data-live="error"]').text_content() == \
        f"Temperature: {bad.value}"
    temperature.fill("0.5")
    p.wait_for_function("el => !el.hasAttribute('aria-invalid')", arg=temperature.element_handle(), timeout=10_000)
    assert page.error() == "" and page.state() == "done"


def leave(page, beside):
    """The reader leaves the focused field: Tab on a laptop; on a phone, a tap beside it (closing its keyboard)."""
    if page.device == "phone":
        page.tap(page.page.locator(beside))
    else:
        page.page.keyboard.press("Tab")


def test_the_bar_says_your_run_once(live):
    """The run bar's messages on another page (restored, trained, stopped) each name the run once."""
    page = live()
    page.fill(steps=300, samples=0, engine="scalar")  # the original's model on its Value graph: Stop finds it training
    page.press("Train 10 steps")
    page.wait("done")
    page.goto("sections/model.html")
    bar = page.page.locator(".mg-live-bar")
    wait_bar(page.page, "done")
    seen = []
    text = bar.locator(".mg-live-bar-text")
    seen.append(text.inner_text())
    assert "restored from" in seen[-1]
    page.press("Train 100 steps", within=bar)
    page.page.wait_for_function("document.querySelector('.mg-live-bar [data-live=status]').textContent"
                                ".startsWith('Training')", timeout=LOAD_TIMEOUT)
    seen.append(text.inner_text())
    page.press("Stop", within=bar)
    wait_bar(page.page, "paused", "done")
    seen.append(text.inner_text())
    assert all(t.lower().count("your run") <= 1 for t in seen), seen
    assert seen[-1].startswith("Your run: step ")


def test_a_scene_says_which_step_it_shows_while_your_run_trains(live):
    """While the reader's run trains, a scene that redraws between steps says which step it shows; not after."""
    page = live()
    page.fill(steps=300, samples=0, engine="scalar")  # the original's model, its Value graph: 100 steps take seconds
    page.press("Train 10 steps")
    page.wait("done")
    page.goto("sections/parameters.html")
    p = page.page
    wait_bar(p, "done")
    figure = p.locator('figure[data-scene="embeddings"]')
    figure.scroll_into_view_if_needed()
    p.wait_for_function("f => f.dataset.state === 'live' && f.dataset.source === 'live'", arg=figure.element_handle(),
                        timeout=LOAD_TIMEOUT)
    note = figure.locator("[data-scene-wait]")
    page.press("Train 100 steps", within=p.locator(".mg-live-bar"))
    figure.scroll_into_view_if_needed()  # back from the bar at the top of the page
    p.wait_for_function("n => n && !n.hidden && /^Showing step \\d+; your run is training, now at step \\d+\\./"
                        ".test(n.textContent)", arg=note.element_handle(timeout=LOAD_TIMEOUT), timeout=LOAD_TIMEOUT)
    wait_bar(p, "done")
    assert note.is_hidden()


IN_VIEW = """el => { const r = el.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }"""


@DEVICES
def test_stop_leaves_resume_where_stop_was_and_the_page_said_leaving_stops_it(live, device):
    """A newcomer starts the original's full run from the first screen: beside Stop, one sentence says that the run
    trains in this page and what leaving does; Stop puts Resume where Stop was, on screen and enabled, and it goes
    on; once the run ends, the sentence goes."""
    from microgpt.sphinxext.live import LEAVING_STOPS

    page = live(webgl=False, device=device)
    page.fill(engine="scalar")  # the original's model on its Value graph: Stop finds it training
    page.page.evaluate("document.querySelector('.mg-live-more').open = false")
    page.press("The original's full run: 1,000 steps")
    page.page.wait_for_function("document.querySelector('[data-live=transcript]').textContent.includes('step    3')",
                                timeout=LOAD_TIMEOUT)
    leaving = page.page.locator('[data-live="leaving"]')
    stop = page.page.get_by_role("button", name="Stop", exact=True)
    assert leaving.is_visible() and leaving.text_content() == LEAVING_STOPS
    assert leaving.evaluate(IN_VIEW) and stop.evaluate(IN_VIEW)
    page.press("Stop")
    page.wait("paused")
    resume = page.page.get_by_role("button", name="Resume", exact=True)
    assert resume.is_enabled() and resume.evaluate(IN_VIEW), resume.bounding_box()
    assert not leaving.is_visible()
    stopped_at = page.transcript().count("\nstep ")
    page.press("Resume")
    page.page.wait_for_function("n => document.querySelector('[data-live=transcript]').textContent"
                                ".split('\\nstep ').length - 1 > n + 1", arg=stopped_at, timeout=LOAD_TIMEOUT)
    assert leaving.is_visible() and stop.evaluate(IN_VIEW)
    page.press("Stop")
    page.wait("paused")
    assert resume.is_enabled() and resume.evaluate(IN_VIEW), resume.bounding_box()


COVERED_LINES = """pre => { const box = pre.getBoundingClientRect();
  const top = box.top + pre.clientTop, bottom = top + pre.clientHeight;  // the transcript's scrolled window
  const range = document.createRange(); range.selectNodeContents(pre);
  return [...range.getClientRects()].filter(r => r.width > 0 && r.bottom > Math.max(top, 0)
      && r.top < Math.min(bottom, innerHeight))  // the lines the reader sees, even in part
    .filter(r => r.top < top - 1 || r.bottom > bottom + 1 || [r.top + 2, r.bottom - 2].some(y => {
      const hit = document.elementFromPoint(r.left + 2, y); return !hit || !pre.contains(hit); }))
    .map(r => [r.top, r.bottom, top, bottom]); }"""


def test_no_line_of_the_transcript_is_hidden_on_a_phone(live):
    """On a phone, after a run the reader scrolls to the transcript: each line in view is whole and on top (no
    heading or half-cut line at the transcript's top edge), with the transcript scrolled to its end."""
    page = live(webgl=False, device="phone")
    page.fill(steps=20, samples=10, **SMALL)
    page.press("Run")
    page.wait("done")
    pre = page.page.locator('[data-live="transcript"]')
    pre.scroll_into_view_if_needed()
    page.page.wait_for_function("pre => pre.scrollTop > 0 && pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 1",
                                arg=pre.element_handle())  # the last lines drawn, the box follows them
    assert pre.evaluate(COVERED_LINES) == []


def test_the_estimate_says_what_python_found(live):
    """A newcomer sets --block-size 0 and a negative learning rate and presses Run at once: the estimate says what
    Python found (not that it will check); each fix, once left, gives Python's next finding, then the model's size
    and time."""
    from microgpt.live import plan

    page = live(webgl=False, device="laptop")
    estimate = page.page.locator('[data-live="estimate"]')
    form = {"block-size": "0", "learning-rate": "-5", "steps": "30", "samples": "3"}
    page.fill(block_size=0, learning_rate=-5, steps=30, samples=3)
    page.press("Run")
    page.page.wait_for_function("document.querySelector('[data-live=status]').textContent.startsWith('Nothing ran')",
                                timeout=LOAD_TIMEOUT)
    for fixed in ({}, {"block-size": "16"}):
        form |= fixed
        with pytest.raises(PageError) as bad:
            plan(form)
        expected = (f"--{bad.value.field}: {str(bad.value).rstrip('.')}. "
                    "Fix it, and Python gives the model's size and time.")
        if fixed:
            page.page.fill('[name="block-size"]', "16")
            page.page.keyboard.press("Tab")
        page.page.wait_for_function("([el, t]) => el.textContent === t", arg=[estimate.element_handle(), expected],
                                    timeout=10_000)
        assert "once you leave" not in estimate.text_content()
    page.page.fill('[name="learning-rate"]', "0.01")
    page.page.keyboard.press("Tab")
    page.page.wait_for_function("el => el.textContent.includes('parameters; about')", arg=estimate.element_handle(),
                                timeout=10_000)

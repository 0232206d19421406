"""The live page in Debian's Chromium (both legs): the port trains in a worker and prints the CLI's transcript.

Every test fails on a console error, an uncaught page error or any request to a host other than the local server.
"""

import pytest
from test_browser import launch, playwright, server  # noqa: F401  (fixtures)

from microgpt.cli import main
from microgpt.form import MAX_DOCUMENTS_BYTES

LEGS = pytest.mark.parametrize("webgl", [True, False], ids=["webgl", "no-webgl"])
LOAD_TIMEOUT = 60_000  # ms: the runtime's first load, on a loaded CI machine
SMALL = {"n_embd": 8, "n_head": 2, "block_size": 8}  # where the scenario, not the default model, is under test:
SMALL_ARGS = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]  # the same schedule, faster steps


class LivePage:
    """live.html in a fresh browser, watching for errors and for requests that leave 127.0.0.1."""

    def __init__(self, playwright, server, webgl, url="live.html"):  # noqa: F811
        self.browser = launch(playwright, webgl)
        self.page = self.browser.new_page(viewport={"width": 1280, "height": 900})
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
        for name, value in settings.items():
            if name == "engine":
                self.page.select_option('[name="engine"]', value)
            else:
                self.page.fill(f'[name="{name.replace("_", "-")}"]', str(value))

    def press(self, name):
        self.page.get_by_role("button", name=name, exact=True).click()

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
        self.browser.close()
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def live(request, playwright, server):  # noqa: F811
    pages = []

    def open_(webgl=True, url="live.html"):
        pages.append(LivePage(playwright, server, webgl, url))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def cli(capsys, names_path, *argv) -> str:
    assert main(["run", "--data", str(names_path), *argv]) == 0
    return capsys.readouterr().out


@LEGS
def test_run_prints_the_clis_transcript(live, capsys, names_path, webgl):
    page = live(webgl)
    assert page.state() == "idle" and page.transcript() == ""
    page.fill(steps=20)
    page.press("Run")
    page.wait("done", "error")
    assert page.error() == ""
    assert page.transcript() == cli(capsys, names_path, "--steps", "20")


@LEGS
def test_train_100_twice_stops_at_the_horizon_and_extends(live, webgl):
    page = live(webgl)
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


@LEGS
def test_pause_and_resume(live, capsys, names_path, webgl):
    page = live(webgl)
    page.fill(steps=40, samples=3, engine="scalar", **SMALL)  # a step per call: Pause lands mid-run
    page.press("Run")
    page.page.wait_for_function("document.querySelector('[data-live=transcript]').textContent.includes('step    5')",
                                timeout=LOAD_TIMEOUT)
    page.press("Pause")
    page.wait("paused")
    paused = page.transcript()
    page.page.wait_for_timeout(1000)
    assert page.transcript() == paused and "sample" not in paused  # nothing runs while paused
    page.press("Resume")
    page.wait("done")
    assert page.transcript() == cli(capsys, names_path, "--steps", "40", "--samples", "3", *SMALL_ARGS)


@LEGS
def test_a_bad_setting_and_bad_documents_each_get_one_message(live, webgl):
    page = live(webgl)
    page.fill(n_embd=10)
    page.press("Train 1 step")
    page.wait("error")
    assert page.error() == "--n-embd: 10 is not divisible by n_head=4"
    assert page.page.get_attribute('[name="n-embd"]', "aria-invalid") == "true"
    assert page.transcript() == ""
    page.fill(n_embd=16)
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


@LEGS
def test_documents_are_shown_as_text(live, webgl):
    page = live(webgl)
    documents = "<b>bold</b>\n<img src=x onerror=\"window.pwned=1\">\n<script>window.pwned=2</script>"
    page.page.fill('[name="documents"]', documents)
    page.fill(steps=3, samples=5)
    page.press("Run")
    page.wait("done")
    info = page.page.locator('[data-live="documents-info"]').text_content()
    assert "3 documents" in info and ("<b>bold</b>" in info or "<img" in info or "<script>" in info)
    assert page.page.locator(".mg-live b, .mg-live img, .mg-live-transcript *").count() == 0
    assert page.page.evaluate("window.pwned") is None
    assert page.transcript().startswith("num docs: 3\n")


@LEGS
def test_a_non_finite_loss_stops_training_and_the_page_stays_usable(live, webgl):
    page = live(webgl)
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


def test_opened_from_a_file_the_page_says_how_to_serve_it(playwright, site):  # noqa: F811
    browser = launch(playwright, False)
    try:
        page = browser.new_page()
        page.goto((site / "live.html").as_uri())
        message = page.locator(".mg-live-file")
        assert message.is_visible() and "served over http" in message.text_content()
        assert page.get_by_role("button", name="Run", exact=True).is_disabled()
        assert page.locator(".mg-live").get_attribute("data-live-state") == "error"
    finally:
        browser.close()


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


@LEGS
def test_the_run_follows_the_reader_to_another_page(live, capsys, names_path, webgl):
    """Train 20 steps on the live page, open a section page, train 10 more there: one uninterrupted 30-step run."""
    page = live(webgl)
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
    page.page.goto(page.page.url.replace("sections/model.html", "live.html"))
    page.wait("done")
    assert page.transcript() == shown
    page.press("Reset")
    page.wait("idle")
    page.page.goto(page.page.url.replace("live.html", "sections/model.html"))
    page.page.wait_for_timeout(500)
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

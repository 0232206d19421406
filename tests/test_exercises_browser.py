"""Exercises in Debian's Chromium, as a reader does them: type, Check, read the verdict; hints, solutions, progress.

A sample covering every kind and every page, at 390 px with touch and at 1440 px; the verdicts come from
microgpt.exercises running in the page's worker, so they are compared with the same module in CPython. One test
trains a short run of the reader's own with other settings and checks that an answer about it changed with it.
"""

import json
import re

import pytest
from test_exercises import WRONG, solution_of, wrong_of
from test_live_browser import LOAD_TIMEOUT, SMALL, LivePage

from microgpt import exercises
from microgpt.config import GPTConfig
from microgpt.run import Run

WIDTHS = {"390": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
          "1440": {"viewport": {"width": 1440, "height": 900}}}
CHECK_TIMEOUT = 120_000  # ms: the first check loads the runtime; an experiment trains two runs
SAMPLE = {  # page -> one exercise; together every kind and every page
    "preamble": "preamble-third-party", "dataset": "dataset-docs-from", "tokenizer": "tokenizer-vocab-size",
    "autograd": "autograd-scene-grad", "parameters": "parameters-nearest", "model": "model-softmax",
    "optimizer": "optimizer-first-step", "training": "training-untrained-loss", "inference": "inference-scene-draw",
}
SMALL_SAMPLE = ("tokenizer", "model", "inference")  # at 390 px: number, code, scene (the experiment runs at 1440)


class Reader:
    """A reader in a fresh browser at one width, failing on any console or page error."""

    def __init__(self, chromium, server, width, webgl=False):
        self.browser = chromium(webgl)
        self.context = self.browser.new_context(**WIDTHS[width], accept_downloads=True)
        self.page = self.context.new_page()
        self.server = server
        self.problems = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def open(self, page):
        self.page.goto(f"{self.server}/{page}")

    def exercise(self, exercise_id):
        return self.page.locator(f'[data-exercise="{exercise_id}"]')

    def answer(self, exercise_id, answer) -> tuple[str, str]:
        """Type (or choose) the answer, press Check, wait for the verdict: (data-result, text)."""
        box = self.exercise(exercise_id)
        field = box.locator("[data-exercise-answer]")
        field.scroll_into_view_if_needed()
        kind = box.get_attribute("data-exercise-kind")
        if kind == "experiment":
            field.select_option(str(answer))
        elif kind == "code" and box.get_attribute("data-editor-state") != "ready":
            field.focus()  # the code editor takes the field's place: type into it once it is there, not before
            self.page.wait_for_function("el => el.dataset.editorState === 'ready'", arg=box.element_handle())
            box.locator("[data-exercise-answer]").fill(str(answer))
        else:
            field.fill(str(answer))
        box.get_by_role("button", name="Check").click()
        result = box.locator("[data-exercise-result]")
        self.page.wait_for_function("el => ['right', 'wrong', 'error'].includes(el.dataset.result)",
                                    arg=result.element_handle(), timeout=CHECK_TIMEOUT)
        return result.get_attribute("data-result"), result.text_content()

    def facts(self, exercise_id) -> dict:
        raw = self.exercise(exercise_id).get_attribute("data-exercise-facts")
        return json.loads(raw) if raw else {}

    def close(self):
        self.context.close()
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def reader(chromium, server):
    readers = []

    def open_(width, webgl=False):
        readers.append(Reader(chromium, server, width, webgl))
        return readers[-1]

    yield open_
    for r in readers:
        r.close()


def work_through(r, exercise_id):
    """A typical wrong answer gets its own message; the worked solution is right; the verdicts are CPython's."""
    ex = exercises.get(exercise_id)
    facts = r.facts(exercise_id)
    bad = wrong_of(ex, facts)
    result, text = r.answer(exercise_id, bad)
    assert result == "wrong" and WRONG[exercise_id][1] in text, (exercise_id, text)
    assert exercises.check(exercise_id, bad, facts).message in text
    result, text = r.answer(exercise_id, solution_of(ex, facts))
    assert result == "right", (exercise_id, text)


@pytest.mark.parametrize("width", ["390", "1440"])
def test_a_sample_of_every_kind_on_every_page(reader, width, site):
    r = reader(width)
    first = True
    for page, exercise_id in SAMPLE.items():
        if width == "390" and page not in SMALL_SAMPLE:
            continue
        r.open(f"sections/{page}.html")
        announced = first and first_check_announced(r, exercise_id, site)  # what the first Check downloads
        first = False
        count = r.page.locator("[data-exercise]").count()
        assert count == len(exercises.by_page(page)) >= 3, page
        box = r.exercise(exercise_id)
        assert box.locator("label").first.text_content() and box.get_by_role("button", name="Hint").is_visible()
        if width == "390":  # nothing wider than the screen
            assert r.page.evaluate("document.documentElement.scrollWidth") <= 390
        work_through(r, exercise_id)
        if announced:
            announced()
        if box.get_attribute("data-exercise-kind") == "code":  # the code editor took the textarea's place
            assert box.locator(".cm-editor [data-exercise-answer]").count() == 1
            assert box.locator("textarea").count() == 0
    if width == "1440":  # an experiment: both runs train in the worker
        r.open("sections/preamble.html")
        result, text = r.answer("preamble-seed", "about the same")
        assert result in ("right", "wrong") and re.search(r"mean loss was \d\.\d{3} .* and \d\.\d{3} with seed", text)


def first_check_announced(r, exercise_id, site):
    """Before the first Check, the note beside it gives the runtime's size, which is the files the site ships; the
    check to make after it: Check showed the download as it went, and the note went once Python was loaded."""
    runtime = json.loads((site / "_static/live/runtime.json").read_text())
    assert sum((site / "_static/live" / name).stat().st_size for name in runtime["files"]) == runtime["total_bytes"]
    box = r.exercise(exercise_id)
    note = box.locator("[data-exercise-download]")
    note.scroll_into_view_if_needed()
    assert note.is_visible() and int(note.get_attribute("data-bytes")) == runtime["total_bytes"]
    assert f"a {runtime['total_bytes'] / 1e6:.1f} MB download" in note.text_content()
    assert "later Checks and pages" in note.text_content()
    assert box.get_by_role("button", name="Check").get_attribute("aria-describedby") == note.get_attribute("id")
    r.page.evaluate("""el => { window.said = []; new MutationObserver(() => said.push(el.textContent))
      .observe(el, {childList: true, subtree: true}); }""", box.locator("[data-exercise-result]").element_handle())

    def after():
        said = r.page.evaluate("said")
        assert any(re.fullmatch(rf"Downloading the Python runtime that checks answers: \d+\.\d of "
                                rf"{runtime['total_bytes'] / 1e6:.1f} MB…", t) for t in said), said
        assert not note.is_visible()

    return after


@pytest.mark.parametrize("width", ["390", "1440"])
def test_code_typed_before_the_editor_is_ready_is_kept(reader, width):
    """On a slowed page (a phone's CPU), a reader taps the code box and types at once, while the code editor is still
    loading: what was typed, where it was typed, is in the editor once it takes the box's place, with the focus."""
    r = reader(width)
    r.context.new_cdp_session(r.page).send("Emulation.setCPUThrottlingRate", {"rate": 6})
    r.open("sections/model.html")
    box = r.page.locator('[data-exercise-kind="code"]').first
    field = box.locator("textarea[data-exercise-answer]")
    starter = field.input_value()
    field.scroll_into_view_if_needed()
    field.tap() if width == "390" else field.click()
    r.page.keyboard.press("Control+End")
    r.page.keyboard.type("softmax = None  # typed at once", delay=100)  # 3 s: the editor arrives mid-typing
    r.page.wait_for_function("el => el.dataset.editorState === 'ready'", arg=box.element_handle())
    code = box.locator(".cm-editor [data-exercise-answer]")
    assert code.count() == 1 and box.locator("textarea").count() == 0
    assert code.inner_text() == starter + "softmax = None  # typed at once"  # (a line of the editor per line)
    assert r.page.evaluate("() => document.activeElement.closest('.cm-editor') !== null")  # still typing there
    r.page.keyboard.type("!")
    assert code.inner_text().rstrip().endswith("# typed at once!")


def test_hints_solution_and_progress_survive_a_reload_export_import_and_reset(reader, tmp_path):
    r = reader("390")
    r.open("sections/tokenizer.html")
    box = r.exercise("tokenizer-bos")
    box.get_by_role("button", name="Hint").click()
    hints = box.locator('[data-exercise-part="hint"]')
    assert hints.nth(0).is_visible() and not hints.nth(1).is_visible()
    solution = box.locator('[data-exercise-part="solution"]')
    assert not solution.is_visible()
    box.get_by_role("button", name="Show solution").click()
    assert solution.is_visible() and str(r.facts("tokenizer-bos")["BOS"]) in solution.text_content()
    assert r.answer("tokenizer-bos", 0)[0] == "wrong"
    assert r.answer("tokenizer-vocab-size", r.facts("tokenizer-vocab-size")["vocab_size"])[0] == "right"
    summary = r.page.locator('[data-exercise-summary="page"] .mg-exercise-tally')
    assert summary.text_content().startswith("Exercises on this page: 1 of 3 right, 2 tried")
    r.page.reload()
    assert r.exercise("tokenizer-bos").locator("[data-exercise-result]").get_attribute("data-result") == "wrong"
    assert r.exercise("tokenizer-bos").locator("[data-exercise-answer]").input_value() == "0"
    with r.page.expect_download() as download:
        r.page.get_by_role("button", name="Export results").click()
    exported = tmp_path / "results.json"
    download.value.save_as(exported)
    saved = json.loads(exported.read_text())
    assert saved["pages"]["tokenizer"]["tokenizer-vocab-size"]["result"] == "right"
    r.page.get_by_role("button", name="Reset this page").click()
    assert summary.text_content().startswith("Exercises on this page: 0 of 3 right, 0 tried")
    assert r.exercise("tokenizer-bos").locator("[data-exercise-result]").get_attribute("data-result") == ""
    r.page.set_input_files('[aria-label="Results file to import"]', str(exported))
    r.page.wait_for_function("() => document.querySelector('.mg-exercise-tally').textContent.includes('Imported')")
    assert summary.text_content().startswith("Exercises on this page: 1 of 3 right, 2 tried")
    r.open("index.html")
    home = r.page.locator('[data-exercise-summary="site"]')
    assert re.search(r"1 of \d+ right, 2 tried", home.locator(".mg-exercise-tally").text_content())
    assert "The tokenizer: 1 of 3 right" in home.locator("li").all_text_contents()


def test_without_webgl_a_scene_question_reads_the_static_table(reader):
    r = reader("1440", webgl=False)
    r.open("sections/inference.html")
    fallback = r.page.locator('.mg-scene[data-scene="sampling"] .mg-scene-fallback')
    assert fallback.is_visible()
    facts = r.facts("inference-scene-draw")
    assert f"1: {facts['name']}" in fallback.text_content()  # the draw the question asks about is in the table
    assert r.answer("inference-scene-draw", facts["letter"])[0] == "right"
    r.open("sections/training.html")
    box = r.exercise("training-scene-loss")
    box.locator("summary").click()
    facts = r.facts("training-scene-loss")
    row = box.locator("tbody tr").last
    assert row.locator("td").first.text_content() == str(facts["step"])
    assert r.answer("training-scene-loss", row.locator("td").nth(1).text_content())[0] == "right"


def test_an_answer_about_your_run_changes_with_its_settings(chromium, server, names_path):
    live = LivePage(chromium, server, False)
    try:
        live.fill(steps=2, **SMALL)
        live.press("Run")
        live.wait("done", timeout=LOAD_TIMEOUT)
        live.page.goto(live.page.url.replace("live.html", "sections/parameters.html"))
        box = live.page.locator('[data-exercise="parameters-num-params"]')
        recorded = json.loads(box.get_attribute("data-exercise-facts"))["num_params"]
        yours = Run.setup(GPTConfig(**SMALL), data=names_path).engine.num_params
        assert yours != recorded
        field = box.locator("[data-exercise-answer]")
        result = box.locator("[data-exercise-result]")
        for source, answer, verdict in [("recorded", recorded, "right"), ("live", recorded, "wrong"),
                                        ("live", yours, "right")]:
            box.locator(f'input[type="radio"][value="{source}"]').check()
            field.fill(str(answer))
            box.get_by_role("button", name="Check").click()
            live.page.wait_for_function("el => ['right', 'wrong', 'error'].includes(el.dataset.result)",
                                        arg=result.element_handle(), timeout=CHECK_TIMEOUT)
            assert result.get_attribute("data-result") == verdict, (source, answer, result.text_content())
            live.page.evaluate("el => { el.dataset.result = '' }", result.element_handle())
    finally:
        live.close()

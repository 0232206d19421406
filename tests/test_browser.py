"""Every page of the built site in Debian's Chromium, with software WebGL and without WebGL.

Both legs: no console errors, no uncaught page errors, no serious or critical axe-core violations, and a page
weight within budget. With WebGL every scene draws (non-blank once live) and the step control changes it;
without WebGL every scene shows its static fallback.
"""

import gzip
import io
import json

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGE_BUDGET = 800_000  # bytes, gzipped, a first view (three.js, and checkpoints whose weights are exact)
SNAPSHOT_BUDGET = 150_000
REPORT = {}
SCENE_PAGES = {"sections/model.html": ["model", "attention", "forward"], "sections/tokenizer.html": ["tokens"],
               "sections/parameters.html": ["embeddings"], "sections/autograd.html": ["autograd"],
               "sections/optimizer.html": ["adam"], "sections/training.html": ["training"],
               "sections/inference.html": ["sampling"]}


def pages(site):
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def blank(png: bytes) -> bool:
    """A picture of one flat colour (or nearly): nothing was drawn."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) < 8


class Visit:
    """One page in a fresh browser context: console and page errors, and every response's gzipped size."""

    def __init__(self, browser, url):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.errors, self.sizes = [], {}
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("response", self.record)
        self.page.goto(url, wait_until="load")

    def record(self, response):
        try:
            self.sizes[response.url] = len(gzip.compress(response.body()))
        except Exception:  # a response without a body (redirect, aborted)
            pass

    def scenes(self):
        return self.page.locator("figure.mg-scene")

    def axe(self):
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"] if v["impact"] in ("serious", "critical")]

    def close(self):
        self.context.close()


def wait_state(figure, states, timeout=60_000):  # generous: a state, on a loaded 2-core machine
    figure.page.wait_for_function(
        "([f, states]) => states.includes(f.dataset.state)", arg=[figure.element_handle(), states], timeout=timeout)


SETTLED = """f => {  // live, nothing under way (data-busy), and no frame drawn over the last three animation frames
  const frames = f.querySelector(".mg-scene-stage").dataset.frames;
  const calm = f.dataset.state === "live" && !Number(f.dataset.busy || 0) && frames !== undefined
    && frames === f.mgFrames;
  f.mgFrames = frames;
  f.mgCalm = calm ? f.mgCalm + 1 : 0;
  return f.mgCalm >= 3;
}"""


def settle(figure, timeout=60_000):
    """Until the scene shows what it will show, after whatever was done to it: a state, not a time, so a slow
    machine only makes the wait longer (an animation draws a frame every frame; a load keeps data-busy up)."""
    handle = figure.element_handle()
    handle.evaluate("f => { f.mgFrames = undefined; f.mgCalm = 0; }")
    figure.page.wait_for_function(SETTLED, arg=handle, polling="raf", timeout=timeout)


STILL = """() => {  // the page has not scrolled over the last ten animation frames
  window.mgStill = scrollY === window.mgLastY ? (window.mgStill || 0) + 1 : 0;
  window.mgLastY = scrollY;
  return window.mgStill >= 10;
}"""


# at once, not smoothly (Furo's default): a wait for a scene to stop waited 1.5 s for a long page's smooth scroll
TO_BOTTOM = "() => window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})"
TO_CENTER = "el => el.scrollIntoView({block: 'center', behavior: 'instant'})"  # the element, mid-screen


def still(page):
    """Until the page has not scrolled for ten frames (a smooth scroll, Furo's default, or a swipe's fling over)."""
    page.evaluate("() => { window.mgStill = 0; window.mgLastY = undefined; }")
    page.wait_for_function(STILL, polling="raf", timeout=30_000)


def frames(page, n):
    """Lets n animation frames pass: time for an animation to show itself, counted in the page's frames."""
    page.evaluate("n => new Promise(done => { const tick = () => --n > 0 ? requestAnimationFrame(tick) : done(); "
                  "requestAnimationFrame(tick); })", n)


def wait_lit(page, lines, timeout=10_000):
    """Until exactly these lines of the original are lit (they light at once; the wait is for a loaded machine)."""
    page.wait_for_function("lines => JSON.stringify([...document.querySelectorAll('.mg-line.mg-lit')]"
                           ".map(l => Number(l.dataset.line)).sort((a, b) => a - b)) === JSON.stringify(lines)",
                           arg=sorted(lines), timeout=timeout)


@pytest.mark.parametrize("webgl", [True, False], ids=["webgl", "no-webgl"])
def test_every_page(site, server, chromium, webgl):
    browser = chromium(webgl)
    problems = []
    try:
        for name in pages(site):
            visit = Visit(browser, f"{server}/{name}")
            try:
                for i in range(visit.scenes().count()):
                    figure = visit.scenes().nth(i)
                    figure.scroll_into_view_if_needed()
                    if webgl:
                        check_scene(visit, figure, name, problems)
                    else:
                        wait_state(figure, ["fallback"])
                        if not figure.locator(".mg-scene-fallback").is_visible():
                            problems.append(f"{name}: scene {i} shows no fallback without WebGL")
                problems += [f"{name}: {e}" for e in visit.errors]
                if webgl or visit.scenes().count():  # without scenes, both legs show the same page: checked once
                    problems += [f"{name}: axe: {v}" for v in visit.axe()]
                weight = sum(visit.sizes.values())
                REPORT.setdefault(name, {})["webgl" if webgl else "no-webgl"] = weight
                if weight > PAGE_BUDGET:
                    problems.append(f"{name}: {weight} bytes gzipped on first view, budget {PAGE_BUDGET}")
            finally:
                visit.close()
    finally:
        chromium.close_contexts()
    print(json.dumps(REPORT, indent=1, sort_keys=True))
    assert not problems, "\n".join(problems)


def check_scene(visit, figure, name, problems):
    try:
        settle(figure)
    except Exception:
        problems.append(f"{name}: scene {figure.get_attribute('data-scene')} is {figure.get_attribute('data-state')}, "
                        f"busy {figure.get_attribute('data-busy')}, not live and drawn, after 60 s")
        return
    stage = figure.locator(".mg-scene-stage")
    before = stage.screenshot()
    if blank(before):
        problems.append(f"{name}: scene {figure.get_attribute('data-scene')} is blank")
    if figure.get_attribute("data-time-axis") == "true":
        step = visit.page.locator("#mg-step-range")
        step.focus()
        step.press("Home")  # the keyboard moves the step control to step 0
        settle(figure)
        if stage.screenshot() == before:
            problems.append(f"{name}: moving the step control did not change scene "
                            f"{figure.get_attribute('data-scene')}")
        step.press("End")


def test_snapshots_within_budget(site):
    snapshots = list((site / "_snapshots").rglob("*.json"))
    assert len(snapshots) > 100
    sizes = {p.relative_to(site).as_posix(): len(gzip.compress(p.read_bytes())) for p in snapshots}
    largest = max(sizes, key=sizes.get)
    print(f"largest snapshot: {largest}, {sizes[largest]} bytes gzipped")
    assert sizes[largest] <= SNAPSHOT_BUDGET


@pytest.fixture
def webgl_browser(chromium):
    return chromium(True)


def live_scene(browser, url, scene, height=900, **context):
    page = browser.new_context(viewport={"width": 1400, "height": height}, **context).new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    figure = page.locator(f'figure[data-scene="{scene}"]')
    figure.scroll_into_view_if_needed()
    settle(figure)
    return page, figure, errors


def test_lost_context_shows_the_fallback_and_recovers(server, webgl_browser):
    page, figure, errors = live_scene(webgl_browser, f"{server}/sections/training.html", "training")
    page.evaluate("f => { window.lose = f.querySelector('canvas').getContext('webgl2')"
                  ".getExtension('WEBGL_lose_context'); window.lose.loseContext(); }", figure.element_handle())
    wait_state(figure, ["fallback"])
    assert figure.locator(".mg-scene-fallback").is_visible()
    page.evaluate("() => window.lose.restoreContext()")
    settle(figure)
    assert not blank(figure.locator(".mg-scene-stage").screenshot())
    assert errors == []


def test_reduced_motion_shows_no_animation_without_user_action(server, webgl_browser):
    for name, scenes in SCENE_PAGES.items():
        for scene in scenes:
            page, figure, errors = live_scene(webgl_browser, f"{server}/{name}", scene, reduced_motion="reduce")
            stage = figure.locator(".mg-scene-stage")
            first, drawn = stage.screenshot(), stage.get_attribute("data-frames")
            frames(page, 90)  # an animation would draw in every one of them
            assert stage.get_attribute("data-frames") == drawn and stage.screenshot() == first, (name, scene)
            play = page.locator(".mg-step button")
            assert play.count() == 0 or play.get_attribute("aria-pressed") == "false"  # nothing plays by itself
            assert errors == []
            page.context.close()


def test_scene_controls_work_from_the_keyboard(server, webgl_browser):
    page, figure, errors = live_scene(webgl_browser, f"{server}/sections/parameters.html", "embeddings")
    stage = figure.locator(".mg-scene-stage")
    before = stage.screenshot()
    stage.focus()
    assert page.evaluate("() => document.activeElement.classList.contains('mg-scene-stage')")
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    settle(figure)
    assert stage.screenshot() != before  # the arrow keys turn the scene

    page, figure, errors = live_scene(webgl_browser, f"{server}/sections/inference.html", "sampling")
    stage = figure.locator(".mg-scene-stage")
    before = stage.screenshot()
    figure.get_by_role("button", name="Next position ▶").press("Enter")
    settle(figure)
    assert stage.screenshot() != before
    temperature = figure.get_by_label("Temperature", exact=True)  # the one control for it
    temperature.fill("1")
    temperature.press("Enter")  # a temperature the site recorded: its recorded samples, no runtime to load
    page.wait_for_function("f => f.querySelector('.mg-readout').textContent.startsWith('temperature 1,')",
                           arg=figure.element_handle(), timeout=3000)
    assert temperature.input_value() == "1"

    # the view of a 3D scene, turned away, comes back with "Reset view"
    page, figure, errors = live_scene(webgl_browser, f"{server}/sections/parameters.html", "embeddings")
    stage = figure.locator(".mg-scene-stage")
    first = stage.screenshot()
    stage.focus()
    for _ in range(8):
        page.keyboard.press("ArrowUp")
    settle(figure)
    assert stage.screenshot() != first
    figure.get_by_role("button", name="Reset view").press("Enter")
    settle(figure)
    assert stage.screenshot() == first
    assert errors == []


@pytest.mark.parametrize("name", SCENE_PAGES)
def test_lines_and_scene_elements_light_each_other(server, webgl_browser, name):
    for scene in SCENE_PAGES[name]:  # a window as tall as the page keeps the lines and the scene on screen together
        page, figure, errors = live_scene(webgl_browser, f"{server}/{name}", scene, height=4000)
        page.set_viewport_size({"width": 1400, "height": page.evaluate("document.documentElement.scrollHeight")})
        wait_state(figure, ["live"])
        links = json.loads(figure.get_attribute("data-links"))
        assert sorted(figure.evaluate("f => f.mgScene.elements()")) == sorted(links), scene
        lit_lines = page.locator(".mg-line.mg-lit")
        for element, lines in links.items():
            # a line of the original (shown on this page) -> the elements it computes (two may share a line)
            page.mouse.move(0, 0)
            page.locator(f'.mg-line[data-line="{lines[0]}"]').first.hover()
            lit = figure.locator(f'.mg-element.mg-lit[data-element="{element}"]')
            assert lit.count() >= 1, (scene, element, lines[0])
            # an element of the scene, focused -> its lines, lit
            handle = figure.locator(f'.mg-element[data-element="{element}"]').first
            handle.focus()
            wait_lit(page, lines)
            assert sorted(int(x) for x in lit_lines.evaluate_all("ls => ls.map(l => l.dataset.line)")) == sorted(lines)
            handle.blur()
        # selected -> its lines stay lit, and the scene's excerpt links to them on this page
        element, lines = next(iter(links.items()))
        figure.locator(f'.mg-element[data-element="{element}"]').first.press("Enter")
        excerpt = figure.locator("[data-scene-excerpt]")
        assert excerpt.get_attribute("data-lines") == ",".join(map(str, lines))
        excerpt.get_by_role("link").click()
        page.wait_for_function("n => { const r = document.querySelector(`.mg-line[data-line='${n}']`)"
                               ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
                               arg=lines[0], timeout=30_000)
        assert sorted(int(x) for x in lit_lines.evaluate_all("ls => ls.map(l => l.dataset.line)")) == sorted(lines)
        assert errors == []


def test_mount_and_unmount_thirty_times_leaks_nothing(server, chromium):
    browser = chromium(True)
    try:
        page = browser.new_context(viewport={"width": 1200, "height": 500}).new_page()
        messages = []
        page.on("console", lambda m: m.type in ("error", "warning") and "GPU stall" not in m.text
                and messages.append(m.text))
        page.goto(f"{server}/sections/training.html")
        figure = page.locator('figure[data-scene="training"]')
        baseline = None
        for _ in range(30):
            figure.scroll_into_view_if_needed()
            settle(figure)  # built, its step loaded and drawn: each mount measured at the same point
            page.evaluate("f => { window.mounted = f.mgScene; }", figure.element_handle())
            memory = page.evaluate("() => window.mounted.memory()")
            baseline = baseline or memory
            assert memory == baseline  # each mount makes the same, no more
            page.evaluate(TO_BOTTOM)  # far away: disposed
            wait_state(figure, ["idle"])
            assert page.evaluate("() => window.mounted.memory()") == {"geometries": 0, "textures": 0}
            assert page.locator("figure.mg-scene canvas").count() == 0
        assert baseline["geometries"] > 0
        assert messages == []  # no context-loss or too-many-contexts warnings
    finally:
        chromium.close_contexts()


MOST_CANVASES = """window.mgMostCanvases = 0;  // the most scene canvases ever in the page at once
new MutationObserver(() => {
  window.mgMostCanvases = Math.max(window.mgMostCanvases, document.querySelectorAll("figure.mg-scene canvas").length);
}).observe(document, {childList: true, subtree: true});"""


def test_a_page_with_every_scene_stays_within_the_context_cap(server, chromium):
    browser = chromium(True)
    try:
        page = browser.new_context(viewport={"width": 1200, "height": 6000}).new_page()  # every scene in view
        messages = []
        page.on("console", lambda m: m.type in ("error", "warning") and "GPU stall" not in m.text
                and messages.append(m.text))
        page.add_init_script(MOST_CANVASES)
        page.goto(f"{server}/scenes.html")
        assert page.locator("figure.mg-scene").count() == 9
        page.wait_for_function("() => document.querySelectorAll('figure.mg-scene[data-state=\"live\"]').length === 4"
                               " && [...document.querySelectorAll('figure.mg-scene')].every(f => !Number(f.dataset.busy"
                               " || 0))", timeout=60_000)  # every start done, the cap's evictions too
        assert page.locator('figure.mg-scene[data-state="live"]').count() == 4
        assert page.evaluate("window.mgMostCanvases") <= 4
        assert messages == []
    finally:
        chromium.close_contexts()


@pytest.mark.parametrize("name", SCENE_PAGES)
def test_every_scene_control_works_from_the_keyboard(server, webgl_browser, name):
    for scene in SCENE_PAGES[name]:
        page, figure, errors = live_scene(webgl_browser, f"{server}/{name}", scene)
        stage = figure.locator(".mg-scene-stage")
        controls = figure.locator(".mg-scene-options button, .mg-scene-options select")
        for i in range(controls.count()):
            control = controls.nth(i)
            if control.is_disabled():  # e.g. "previous" at the first position: nothing it could do
                continue
            if control.inner_text() in ("Turn", "Reset view"):  # a mode for touch, and the way back: tested above
                continue
            before = stage.screenshot()
            control.focus()
            assert page.evaluate("el => document.activeElement === el", control.element_handle())
            if control.evaluate("el => el.tagName") == "SELECT":
                if control.locator("option").count() < 2:
                    continue
                control.press("ArrowDown")
            else:
                control.press("Enter")
            settle(figure)
            assert stage.screenshot() != before, (scene, control.inner_text()[:40])
        assert errors == []


# Legible at every width: the text inside a scene, and the page around it.
SCREENSHOTS = ROOT / "artefacts" / "screenshots"  # git-ignored: a record of every scene at two widths
TEXT_BOXES = """stage => {
  const boxes = [];
  const walker = document.createTreeWalker(stage, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement, style = getComputedStyle(el);
    if (!n.data.trim() || el.closest("[hidden]") || style.visibility === "hidden") continue;
    if (Number(style.opacity) < 0.1) continue; // faded: crowded out by another label
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width && r.height) boxes.push([n.data.slice(0, 24), r.left, r.top, r.right, r.bottom]);
    }
  }
  return boxes;
}"""


LABEL_BOXES = """stage => {
  const boxes = [];
  for (const el of stage.querySelectorAll(".mg-labels .mg-label")) {
    if (el.hidden || el.classList.contains("mg-inside") || !el.textContent.trim()) continue; // inside: its cell's text
    if (Number(getComputedStyle(el).opacity) < 0.1) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    for (const r of range.getClientRects()) {
      if (r.width && r.height) boxes.push([el.textContent.slice(0, 24), r.left, r.top, r.right, r.bottom]);
    }
  }
  return boxes;
}"""


def covering(stage):
    """Labels drawn over a shape of the scene (a dot, a node, a bar, a cell): the text's box on a picture of the
    scene without its labels holds solid ink, what is left of it after a 3x3 erosion: more than a thin line crossing
    it leaves (a few pixels where it runs at a shallow angle), less than any dot, node or bar."""
    from PIL import ImageChops, ImageFilter

    origin = stage.bounding_box()
    boxes = stage.evaluate(LABEL_BOXES)
    stage.evaluate("s => { s.querySelector('.mg-labels').style.visibility = 'hidden'; }")
    image = Image.open(io.BytesIO(stage.screenshot())).convert("RGB")
    stage.evaluate("s => { s.querySelector('.mg-labels').style.visibility = ''; }")
    background = max(image.getcolors(1 << 20))[1]
    ink = ImageChops.difference(image, Image.new("RGB", image.size, background)).convert("L")
    solid = ink.point(lambda v: 255 if v > 20 else 0).filter(ImageFilter.MinFilter(3))
    covered = []
    for text, left, top, right, bottom in boxes:
        box = (int(left - origin["x"]) + 1, int(top - origin["y"]) + 1, int(right - origin["x"]) - 1,
               int(bottom - origin["y"]) - 1)
        if box[2] > box[0] and box[3] > box[1] and sum(solid.crop(box).histogram()[1:]) > 12:
            covered.append(text)
    return covered


def crossing(figure, boxes):
    """Labels a drawn line (a graph's edge, a frame, an axis) passes through: each segment of every line object
    of the scene, on screen, against each text box shrunk by a pixel."""
    lines = figure.evaluate("f => f.mgScene.lines()")
    inside = figure.locator("canvas").bounding_box()

    def crosses(seg, box):
        x1, y1, x2, y2 = seg
        left, top, right, bottom = box[1] + 1, box[2] + 1, box[3] - 1, box[4] - 1
        t0, t1 = 0.0, 1.0
        for p, q in ((x1 - x2, x1 - left), (x2 - x1, right - x1), (y1 - y2, y1 - top), (y2 - y1, bottom - y1)):
            if p == 0:
                if q < 0:
                    return False
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
        return True

    within = [b for b in boxes if b[1] >= inside["x"] - 1 and b[3] <= inside["x"] + inside["width"] + 1]
    return sorted({b[0] for b in within for seg in lines if crosses(seg, b)})


def overlapping(boxes):
    """Pairs of text boxes that overlap by more than a pixel each way."""
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 1]




@pytest.mark.parametrize("width", [390, 768, 1440, 1920])
def test_no_text_in_a_scene_overlaps_other_text(server, webgl_browser, width):
    page = webgl_browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{server}/scenes.html")
    figures = page.locator("figure.mg-scene")
    problems = []
    for i in range(figures.count()):
        figure = figures.nth(i)
        name = figure.get_attribute("data-scene")
        figure.scroll_into_view_if_needed()
        settle(figure)
        stage = figure.locator(".mg-scene-stage")
        pairs = overlapping(stage.evaluate(TEXT_BOXES))
        problems += [f"{name} at {width} px: {a!r} overlaps {b!r}" for a, b in pairs]
        problems += [f"{name} at {width} px: {a!r} covers a drawn shape" for a in covering(stage)]
        problems += [f"{name} at {width} px: a drawn line crosses {a!r}"
                     for a in crossing(figure, stage.evaluate(LABEL_BOXES))]
        if name == "embeddings":  # each row's letter and each axis's title shown, placed clear of the rest
            faded = figure.locator(".mg-label.mg-crowded").all_text_contents()
            problems += [f"embeddings at {width} px: {a!r} has no room" for a in faded]
        readout, canvas = figure.locator(".mg-readout"), figure.locator("canvas").bounding_box()
        if readout.count() and readout.bounding_box()["y"] + readout.bounding_box()["height"] > canvas["y"] + 0.5:
            problems.append(f"{name} at {width} px: the readout covers the canvas")
        options = figure.locator(".mg-scene-options")
        if options.evaluate("el => el.scrollWidth > el.clientWidth + 1"):
            problems.append(f"{name} at {width} px: the controls do not fit the width")
        if width in (390, 1440):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            figure.screenshot(path=SCREENSHOTS / f"{name}-{width}.png")
    page.context.close()
    assert not problems, "\n".join(problems)


WIDTHS = [360, 390, 768, 1024, 1280, 1312, 1366, 1440, 1536, 1600, 1680, 1760, 1920, 2560]
CUT_LINES = """() => [...document.querySelectorAll('.mg-original pre')].flatMap((pre) => {
  const right = pre.getBoundingClientRect().right;  // the original's lines wrap: none ends past its box
  return [...pre.querySelectorAll('.mg-src')].filter((s) => s.getBoundingClientRect().right > right + 1)
    .map((s) => s.closest('.mg-line').dataset.line);
})"""


def test_no_page_is_wider_than_the_window(site, server, webgl_browser):
    """Nor is any part of an article scrolled sideways at 360-1440 px: a wide table or code block scrolls in its
    own box (NO_SIDEWAYS, below), which a page-width check alone misses."""
    page = webgl_browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    wider = []
    for name in pages(site):
        page.goto(f"{server}/{name}")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            frames(page, 3)  # the resize observed, each scene's redraw asked for, drawn: what the reader sees
            scroll = page.evaluate("() => document.documentElement.scrollWidth")
            if scroll > width:
                wider.append(f"{name} at {width} px is {scroll} px wide")
            if 360 <= width <= 1440:
                wider += [f"{name} at {width} px: {problem}" for problem in page.evaluate(NO_SIDEWAYS)]
            wider += [f"{name} at {width} px: line {n} runs past its box" for n in page.evaluate(CUT_LINES)]
    page.context.close()
    assert not wider, "\n".join(wider)


def test_model_scene_steps_through_the_forward_pass(server, webgl_browser):
    page, figure, errors = live_scene(webgl_browser, f"{server}/sections/model.html", "model")
    stage = figure.locator(".mg-scene-stage")
    stages = figure.get_by_label("Stage").locator("option").count()
    assert stages >= 8 and figure.evaluate("f => f.mgScene.stage()") == 0
    shots = [stage.screenshot()]
    stage.focus()
    for s in range(1, stages):
        page.keyboard.press("]")  # the keyboard moves the camera to the next stage
        settle(figure)  # the camera's flight over
        assert figure.evaluate("f => f.mgScene.stage()") == s
        shots.append(stage.screenshot())
    assert len(set(shots)) == stages
    page.keyboard.press("[")
    assert figure.evaluate("f => f.mgScene.stage()") == stages - 2
    # frame time with software WebGL over the whole model, turning the camera one key a frame (printed, not
    # asserted: the machines are shared)
    figure.get_by_label("Stage").select_option(label="The whole model")
    settle(figure)
    frames = page.evaluate("""stage => new Promise(done => {
      const times = []; let last = performance.now();
      const tick = now => { times.push(now - last); last = now;
        stage.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowLeft", bubbles: true}));
        if (times.length < 40) requestAnimationFrame(tick); else done(times.slice(5).sort((a, b) => a - b)); };
      requestAnimationFrame(tick); })""", stage.element_handle())
    print(f"model scene: median frame {frames[len(frames) // 2]:.1f} ms while turning (software WebGL)")
    # a click on a matrix lights the lines that make it
    box = page.locator("canvas").first.bounding_box()
    figure.get_by_label("Stage").select_option(label="Scores out")
    settle(figure)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    lit = page.locator(".mg-line.mg-lit").evaluate_all("ls => ls.map(l => Number(l.dataset.line))")
    assert lit and all(97 <= n <= 145 for n in lit)
    assert errors == []


@pytest.mark.parametrize("width", [390, 1440])
def test_a_glossary_term_previews_its_definition(server, webgl_browser, width):
    """A reader points at (1440 px) or tabs to (390 px, touch) a term's link: its definition shows beside it, the
    glossary's own; Escape hides it; the link still leads to the glossary."""
    touch = width == 390
    context = webgl_browser.new_context(viewport={"width": width, "height": 900}, has_touch=touch, is_mobile=touch)
    page = context.new_page()
    page.goto(f"{server}/sections/optimizer.html")
    link = page.locator("a.reference.internal[href*='#term-momentum']").first
    link.scroll_into_view_if_needed()
    if touch:
        link.focus()  # a tap would follow the link: the keyboard reader's way in
    else:
        link.hover()
    preview = page.locator("#mg-term-preview")
    preview.wait_for(state="visible", timeout=10000)
    glossary = page.context.new_page()
    glossary.goto(f"{server}/glossary.html")
    definition = glossary.locator("#term-momentum ~ dd").first.inner_text()
    assert preview.inner_text() == definition and preview.get_attribute("role") == "tooltip"
    assert link.get_attribute("aria-describedby") == "mg-term-preview"
    box, view = preview.bounding_box(), page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"]
    page.keyboard.press("Escape")
    preview.wait_for(state="hidden", timeout=5000)
    link.click()
    page.wait_for_url("**/glossary.html#term-momentum", timeout=10000)
    context.close()


# The reader's path, as a reader takes it: on a phone (390 px, touch) and on a laptop (1440 px).
READERS = {390: {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
           768: {"viewport": {"width": 768, "height": 1024}}, 1024: {"viewport": {"width": 1024, "height": 768}},
           1440: {"viewport": {"width": 1440, "height": 900}}}
LIT = "() => [...document.querySelectorAll('.mg-line.mg-lit')].map(l => Number(l.dataset.line))"


def reader(browser, width, url):
    page = browser.new_context(**READERS[width]).new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def on_screen(page, locator) -> bool:
    return page.evaluate("el => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }",
                         locator.element_handle())


@pytest.mark.parametrize("width", [390, 1440])
def test_a_selected_element_keeps_its_lines_lit_and_shows_them(server, webgl_browser, width):
    """Select a label whose lines are off screen: they stay lit, whatever scrolls, until Escape; the scene shows
    their numbers and first line, with a link to them."""
    page, errors = reader(webgl_browser, width, f"{server}/sections/autograd.html")
    figure = page.locator('figure[data-scene="autograd"]')
    figure.scroll_into_view_if_needed()
    wait_state(figure, ["live"])
    handle = figure.locator('.mg-element[data-element="data"]')  # "Value: data and grad"
    lines = json.loads(figure.get_attribute("data-links"))["data"]
    first = page.locator(f'.mg-line[data-line="{lines[0]}"]')
    assert not on_screen(page, first)  # the lines need a scroll: the case that failed
    handle.tap() if width == 390 else handle.click()
    wait_lit(page, lines)
    assert page.evaluate(LIT) == lines
    assert handle.get_attribute("aria-pressed") == "true"
    excerpt = figure.locator("[data-scene-excerpt]")
    assert excerpt.is_visible() and excerpt.get_attribute("data-lines") == ",".join(map(str, lines))
    code = json.loads(figure.get_attribute("data-code"))[str(lines[0])][1].strip()
    assert code and code in excerpt.inner_text()
    page.evaluate(TO_BOTTOM)  # the scene is disposed
    wait_state(figure, ["idle"])  # disposed: the selection outlives its scene
    assert page.evaluate(LIT) == lines
    page.evaluate("() => window.scrollTo({top: 0, behavior: 'instant'})")
    excerpt.get_by_role("link").click()  # to the lines themselves
    page.wait_for_function("el => { const r = el.getBoundingClientRect(); "
                           "return r.top >= 0 && r.bottom <= innerHeight; }",
                           arg=first.element_handle(), timeout=3000)
    page.keyboard.press("Escape")
    assert page.evaluate(LIT) == [] and excerpt.is_hidden()
    assert errors == []
    page.context.close()


def swipe(cdp, x, y, dy, moves=8):
    """One finger from (x, y) dy px down (up if negative), in real touch events through the compositor."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, moves + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y + dy * k / moves}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("width", [390, 1440])
def test_a_scene_that_stops_keeps_its_room(server, webgl_browser, width):
    """A scene stops once the reader has scrolled past it (its controls go with it): its figure keeps its height,
    so nothing moves above the reader (scroll anchoring moved the page back by as much, under a swipe)."""
    page, errors = reader(webgl_browser, width, f"{server}/scenes.html")
    figure = page.locator('figure.mg-scene[data-scene="model"]')  # a 3D scene: the most controls
    figure.locator(".mg-scene-stage").evaluate(TO_CENTER)
    settle(figure)
    height = figure.evaluate("f => f.getBoundingClientRect().height")
    page.evaluate(TO_BOTTOM)
    wait_state(figure, ["idle"])
    assert figure.evaluate("f => f.getBoundingClientRect().height") == height
    assert errors == []
    page.context.close()


@pytest.mark.parametrize("width", [390, 1440])
def test_a_scene_back_in_view_before_it_started_starts(server, webgl_browser, width):
    """The reader scrolls to a scene, away while it still loads, and back: it starts (it stayed blank, its first
    start given up and the second refused for the first's sake; on a loaded machine, seen in CI)."""
    page, errors = reader(webgl_browser, width, f"{server}/scenes.html")
    held = []
    page.route("**/_snapshots/autograd.json", lambda route: held.append(route))  # its data: once the reader is back
    figure = page.locator('figure.mg-scene[data-scene="autograd"]')
    for where in (TO_CENTER, TO_BOTTOM, TO_CENTER):
        figure.evaluate(where)
        still(page)
    page.wait_for_function("() => true")  # lets Playwright hand over the held request
    assert len(held) == 1 and figure.get_attribute("data-state") == "idle"
    held[0].continue_()
    wait_state(figure, ["live"])
    assert errors == []
    page.context.close()


def test_a_swipe_over_every_scene_scrolls_the_page(server, webgl_browser):
    """One finger, vertically, over the middle of each scene (real touch events through the compositor, which
    honours touch-action): the page scrolls."""
    page, errors = reader(webgl_browser, 390, f"{server}/scenes.html")
    cdp = page.context.new_cdp_session(page)
    figures = page.locator("figure.mg-scene")
    stuck = []
    for i in range(figures.count()):
        figure = figures.nth(i)
        figure.scroll_into_view_if_needed()
        stage = figure.locator(".mg-scene-stage")
        stage.evaluate(TO_CENTER)
        settle(figure)
        still(page)  # the last swipe's fling over: this swipe alone moves the page now
        box = stage.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        before = page.evaluate("scrollY")
        swipe(cdp, x, y, -120)
        try:  # the compositor scrolls the page: wait for it, however slow (a stuck page never gets there)
            page.wait_for_function("y => scrollY >= y", arg=before + 60, timeout=10_000)
        except PlaywrightTimeout:
            stuck.append(figure.get_attribute("data-scene"))
    assert stuck == []
    assert errors == []
    page.context.close()


@pytest.mark.parametrize("width", [390, 1440])
def test_tab_reaches_the_training_scene_within_ten_stops(server, webgl_browser, width):
    """From the top: Tab to "Skip to content", Enter, then Tab: the scene (its controls or the picture itself)
    is reached within ten stops, before it has rendered too."""
    page, errors = reader(webgl_browser, width, f"{server}/sections/training.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    stops = 0
    while stops < 10:
        stops += 1
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('figure[data-scene=\"training\"]')"):
            break
    else:
        pytest.fail(f"after 10 stops, focus is on {page.evaluate('document.activeElement.outerHTML.slice(0, 120)')}")
    print(f"training scene reached at {width} px after {stops} stops")
    assert errors == []
    page.context.close()


def drawn_yardsticks(figure) -> dict:
    """The training scene's yardsticks as drawn: name -> (its loss, the share of the canvas's width its row shows in
    its warm colour, on a picture without the labels) and the legend's text, checked to be in view, none faded."""
    figure.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # drawn
    drawn = figure.evaluate("f => f.mgScene.yardsticks()")
    stage = figure.locator(".mg-scene-stage")
    stage.evaluate("s => { s.querySelector('.mg-labels').style.visibility = 'hidden'; }")
    image = Image.open(io.BytesIO(figure.locator("canvas").screenshot())).convert("RGB")
    stage.evaluate("s => { s.querySelector('.mg-labels').style.visibility = ''; }")
    width, height = image.size
    out = {}
    for name, line in drawn.items():  # red (uniform guessing) and orange (the bigram): nothing else drawn is warm
        row = round(line["y"] * height)
        warm = sum(any(r > g + 60 and r > b + 60 for r, g, b in (image.getpixel((x, y)) for y in
                                                                 range(max(row - 2, 0), min(row + 3, height))))
                   for x in range(width))
        out[name] = (line["value"], warm / width)
    legend = figure.locator(".mg-label.mg-yardstick")
    texts = legend.all_text_contents()
    assert all(legend.nth(i).is_visible() for i in range(legend.count()))
    assert figure.locator(".mg-label.mg-yardstick.mg-crowded").count() == 0  # none faded by a label it would cover
    return {**out, "legend": " / ".join(texts)}


@pytest.mark.parametrize("webgl", [True, False], ids=["webgl", "no-webgl"])
@pytest.mark.parametrize("width", [390, 1440])
def test_the_training_scene_shows_the_losss_yardsticks(site, server, chromium, webgl, width):
    """A reader opens the training page: the scene draws uniform guessing and the bigram (the page's cell's
    figure, from the snapshot) as lines across the steps, with a legend that gives both; without WebGL, its
    static picture does."""
    sticks = json.loads((site / "_snapshots" / "training.json").read_text(encoding="utf-8"))["yardsticks"]
    page, errors = reader(chromium(webgl), width, f"{server}/sections/training.html")
    figure = page.locator('figure[data-scene="training"]')
    figure.scroll_into_view_if_needed()
    if webgl:
        wait_state(figure, ["live"])
        settle(figure)
        drawn = drawn_yardsticks(figure)
        assert drawn["uniform"][0] == sticks["uniform"] and drawn["bigram"][0] == sticks["bigram"]
        assert drawn["uniform"][1] > 0.3 and drawn["bigram"][1] > 0.2, drawn  # a line across the plot, each
        assert f"= {sticks['uniform']:.2f}" in drawn["legend"] and f"bigram model, {sticks['bigram']:.2f}" in \
            drawn["legend"]
    else:
        wait_state(figure, ["fallback"])
        picture = figure.locator(".mg-scene-fallback svg")
        assert picture.is_visible() and picture.locator("polyline.mg-fb-bigram").get_attribute("points")
        assert f"a bigram model, {sticks['bigram']:.2f} on {sticks['held_out']:,} names" in picture.text_content()
    assert errors == []
    page.context.close()


NO_SIDEWAYS = """() => {
  const out = [];
  const article = document.querySelector("article") || document.body;
  for (let el = article; el; el = el.parentElement) {  // the article and what holds it never scroll sideways
    const style = getComputedStyle(el);
    if (el.scrollWidth > el.clientWidth + 1 && (style.overflowX !== "visible" || el === document.documentElement))
      out.push(`${el.tagName}.${el.className} scrolls ${el.scrollWidth - el.clientWidth} px sideways`);
  }
  for (const el of article.querySelectorAll("*")) {  // nor does anything in it cut its content off
    const style = getComputedStyle(el);
    if (el.closest(".mg-labels, [hidden]") || style.textOverflow === "ellipsis") continue;
    const scene = el.closest("[data-scene]")?.dataset.scene, where = scene ? ` (scene ${scene})` : "";
    if (el.scrollWidth > el.clientWidth + 1 && ["hidden", "clip"].includes(style.overflowX))
      out.push(`${el.tagName}.${el.className}${where} cuts ${el.scrollWidth - el.clientWidth} px off`);
  }
  return out;
}"""


@pytest.mark.parametrize("width", [390, 1440])
def test_an_excerpt_shows_the_lines_of_its_range(server, webgl_browser, width):
    """Select an element whose lines are a short range: the scene shows each of them; a long range: its first
    lines, how many more, and the link to all of them."""
    page, errors = reader(webgl_browser, width, f"{server}/sections/autograd.html")
    figure = page.locator('figure[data-scene="autograd"]')
    figure.scroll_into_view_if_needed()
    wait_state(figure, ["live"])
    links, code = json.loads(figure.get_attribute("data-links")), json.loads(figure.get_attribute("data-code"))
    excerpt = figure.locator("[data-scene-excerpt]")
    for element, shown in (("backward", 4), ("data", 3)):
        lines = sorted(links[element])
        handle = figure.locator(f'.mg-element[data-element="{element}"]')
        handle.tap() if width == 390 else handle.click()
        rows = excerpt.locator(".mg-excerpt-line[data-line]")
        assert rows.evaluate_all("rs => rs.map(r => Number(r.dataset.line))") == lines[:shown]
        for i, n in enumerate(lines[:shown]):
            assert code[str(n)][1].strip() in rows.nth(i).inner_text()
        more = len(lines) - shown
        assert (f"{more} more line" in excerpt.inner_text()) == (more > 0)
        assert excerpt.get_by_role("link").inner_text() == f"microgpt.py lines {lines[0]}–{lines[-1]}"
        assert excerpt.evaluate("el => el.scrollWidth <= el.clientWidth + 1")  # wraps at spaces, no sideways pan
    assert errors == []
    page.context.close()


def ink_box(png: bytes):
    """The box around what is drawn on a picture (everything but its background colour)."""
    from PIL import ImageChops

    image = Image.open(io.BytesIO(png)).convert("RGB")
    background = max(image.getcolors(1 << 20))[1]
    return ImageChops.difference(image, Image.new("RGB", image.size, background)).convert("L").point(
        lambda v: 255 if v > 20 else 0).getbbox(), image.size


STAGE_TITLES = """s => [...s.querySelectorAll('.mg-labels .mg-title')].map(l => {
  const r = l.getBoundingClientRect(), c = s.querySelector('canvas').getBoundingClientRect();
  return {text: l.textContent, shown: !l.hidden && Number(getComputedStyle(l).opacity) > 0.1,
          size: parseFloat(getComputedStyle(l).fontSize),
          inside: r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom,
          left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""


def stacked(titles):
    """Pairs of titles, one over the other, less than a line apart: they read as one heading."""
    return [(a["text"], b["text"]) for i, a in enumerate(titles) for b in titles[i + 1:]
            if min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1
            and max(a["top"], b["top"]) - min(a["bottom"], b["bottom"]) < max(a["size"], b["size"])]


@pytest.mark.parametrize(("url", "width"), [("index.html", 390), ("index.html", 1440), ("sections/model.html", 390),
                                            ("sections/model.html", 768), ("sections/model.html", 1440)])
def test_the_model_scene_is_legible(server, webgl_browser, url, width):
    """The model on the home page at 390 px (touch) and 1440 px, and on its section's page at 768 px too: the whole
    model fills the home page's picture (not a thin strip), every label shown is at least 12 px, the overview shows
    every stage's title whole, over no other text and no two stacked so close they read as one, its readout says
    in words how to turn it, and choosing a stage names its blocks."""
    page, errors = reader(webgl_browser, width, f"{server}/{url}")
    figure = page.locator('figure[data-scene="model"]')
    figure.scroll_into_view_if_needed()
    wait_state(figure, ["live"])
    settle(figure)
    stage = figure.locator(".mg-scene-stage")
    titles = stage.evaluate(STAGE_TITLES)
    stages = figure.get_by_label("Stage").locator("option").all_text_contents()[1:]  # after "The whole model"
    assert [t["text"] for t in titles] == stages
    assert [t["text"] for t in titles if not (t["shown"] and t["inside"] and t["size"] >= 12)] == []
    assert [pair for pair in overlapping(stage.evaluate(TEXT_BOXES)) if set(pair) & set(stages)] == []
    assert stacked(titles) == []
    turn = figure.get_by_role("button", name="Turn", exact=True).text_content()  # the readout says how, in words:
    assert f"press {turn}, then drag" in figure.locator(".mg-readout").text_content()  # the button, then what to do
    sizes = stage.evaluate("""s => [...s.querySelectorAll('.mg-labels .mg-label')]
      .filter(l => !l.hidden && l.textContent.trim() && Number(getComputedStyle(l).opacity) > 0.1)
      .map(l => { const style = getComputedStyle(l), r = l.getBoundingClientRect();  // a line's thickness:
                  return [l.textContent, parseFloat(style.fontSize),  // across it, in either writing mode
                          style.writingMode.startsWith('vertical') ? r.width : r.height]; })""")
    assert sizes and all(size >= 12 and across >= 14 for _, size, across in sizes), sizes
    canvas = figure.locator("canvas")
    stage.evaluate("s => { s.querySelector('.mg-labels').style.visibility = 'hidden'; }")
    box, (w, h) = ink_box(canvas.screenshot())
    stage.evaluate("s => { s.querySelector('.mg-labels').style.visibility = ''; }")
    print(f"model scene at {width} px: canvas {w}x{h}, the model drawn {box[2] - box[0]}x{box[3] - box[1]}; "
          f"{len(sizes)} labels shown, {min(s for _, s, _ in sizes)} px and up")
    assert (box[2] - box[0]) >= 0.45 * w
    if url == "index.html":  # a picture, not a strip (the section page's canvas at 1440 px is taller than the model
        assert (box[3] - box[1]) >= 0.45 * h  # laid out in one row, whose width sets its size)
    figure.get_by_label("Stage").select_option(label="Scores out")
    settle(figure)
    shown = stage.evaluate("""s => [...s.querySelectorAll('.mg-labels .mg-element')]
      .filter(l => !l.hidden && Number(getComputedStyle(l).opacity) > 0.1).map(l => l.textContent)""")
    assert {"lm_head", "logits", "softmax"} <= set(shown), shown
    assert errors == []
    page.context.close()


def tab_to(page, locator, most=80) -> int:
    """From the top of the page: "Skip to content", then Tab until the focus is on this element (the stops)."""
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    for stops in range(1, most + 1):
        page.keyboard.press("Tab")
        if page.evaluate("el => document.activeElement === el", locator.element_handle()):
            return stops
    pytest.fail(f"after {most} stops, focus is on {page.evaluate('document.activeElement.outerHTML.slice(0, 120)')}")


def place(stage) -> float:
    """Where the scene is in the window, once the page is still (the focus's smooth scroll over): a key that
    scrolled the page would move it (scroll anchoring keeps it put when something above it changes size, so
    scrollY alone may change without a scroll)."""
    still(stage.page)
    return stage.evaluate("s => s.getBoundingClientRect().top")


def key_help(stage) -> str:
    """The sentence that says which keys the scene answers: its description."""
    return stage.evaluate("s => document.getElementById(s.getAttribute('aria-describedby')).textContent")


def focused_scene(browser, width, url, name):
    """A reader opens the page and tabs to the scene: once it is live, its figure and its stage, focused."""
    page, errors = reader(browser, width, url)
    figure = page.locator(f'figure[data-scene="{name}"]')
    stage = figure.locator(".mg-scene-stage")
    print(f"{name} scene reached at {width} px after {tab_to(page, stage)} stops")
    settle(figure)
    return page, figure, stage, errors


@pytest.mark.parametrize("width", [390, 1440])
def test_keys_on_a_focused_scene_do_what_a_pointer_does(server, webgl_browser, width):
    """Tab to a scene and press keys: the arrow keys turn a 3D scene's view and [ and ] move its training step, the
    arrow keys move a 2D scene's step, Page Down goes to the model's next stage; each scene's description says so;
    the page never scrolls; in a text field or on a control outside the scene, the keys stay theirs."""
    page, figure, stage, errors = focused_scene(webgl_browser, width, f"{server}/sections/parameters.html",
                                                "embeddings")
    assert "arrow keys turn the view" in key_help(stage) and "[ and ] move the training step" in key_help(stage)
    view, step, y = stage.get_attribute("data-view"), int(figure.get_attribute("data-step")), place(stage)
    for key in ("ArrowLeft", "ArrowLeft", "ArrowUp"):
        page.keyboard.press(key)
    assert stage.get_attribute("data-view") != view
    page.keyboard.press("[")
    assert int(figure.get_attribute("data-step")) < step
    page.keyboard.press("Home")
    assert figure.get_attribute("data-step") == "0"
    page.keyboard.press("End")
    assert figure.get_attribute("data-step") == str(step)
    assert place(stage) == y
    view = stage.get_attribute("data-view")
    figure.get_by_role("slider").focus()  # the step control, outside the picture: its arrow keys are its own
    page.keyboard.press("ArrowLeft")
    assert figure.get_attribute("data-step") == str(step - 1) and stage.get_attribute("data-view") == view
    page.context.close()

    page, figure, stage, errors_2d = focused_scene(webgl_browser, width, f"{server}/sections/training.html", "training")
    assert "arrow keys move the training step" in key_help(stage)
    step, y = int(figure.get_attribute("data-step")), place(stage)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowDown")
    assert int(figure.get_attribute("data-step")) < step
    page.keyboard.press("Home")
    settle(figure)
    assert figure.get_attribute("data-step") == "0" and figure.locator(".mg-readout").inner_text().startswith("step 0")
    assert place(stage) == y
    page.context.close()

    page, figure, stage, errors_model = focused_scene(webgl_browser, width, f"{server}/index.html", "model")
    assert "Page Down" in key_help(stage)
    chosen, y = figure.get_by_label("Stage"), place(stage)
    page.keyboard.press("PageDown")
    assert chosen.input_value() == "1"
    settle(figure)
    view = stage.get_attribute("data-view")
    page.keyboard.press("ArrowRight")
    assert stage.get_attribute("data-view") != view
    assert place(stage) == y
    word = figure.get_by_label("Word", exact=True)  # a text field: the arrow keys move its caret
    word.focus()
    view = stage.get_attribute("data-view")
    for key in ("ArrowLeft", "PageDown"):
        page.keyboard.press(key)
    assert stage.get_attribute("data-view") == view and chosen.input_value() == "1"
    assert errors + errors_2d + errors_model == []
    page.context.close()


UNDER_PILL = """() => {  // what the reader sees under Furo's "Back to top": text and controls it covers
  const pill = document.querySelector(".back-to-top"), box = pill.getBoundingClientRect();
  const under = (r) => r.width && r.height && r.left < box.right - 1 && box.left < r.right - 1 &&
    r.top < box.bottom - 1 && box.top < r.bottom - 1;
  const shown = (el, r) => {  // el is what is painted there (not something scrolled under the header)
    const x = (Math.max(r.left, box.left) + Math.min(r.right, box.right)) / 2;
    const y = (Math.max(r.top, box.top) + Math.min(r.bottom, box.bottom)) / 2;
    const top = document.elementsFromPoint(x, y).find((e) => !pill.contains(e));
    return Boolean(top) && (top === el || el.contains(top) || top.contains(el));
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.data.trim() || pill.contains(n)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (under(r) && shown(n.parentElement, r)) out.push(`text ${n.data.trim().slice(0, 30)}`);
    }
  }
  for (const el of document.querySelectorAll("a, button, input, select, textarea, summary, label, [tabindex]")) {
    const r = el.getBoundingClientRect();
    if (!pill.contains(el) && under(r) && shown(el, r)) out.push(el.outerHTML.slice(0, 60));
  }
  return out;
}"""


@pytest.mark.parametrize("width", [390, 1024, 1440])
def test_back_to_top_covers_nothing(server, webgl_browser, width):
    """On a long page at 390 px (touch), 1024 px and 1440 px: swipe (or wheel) down a long way, then back up a
    little, four times: Furo's "Back to top" shows (a link that says so) and covers no text and no control."""
    page, errors = reader(webgl_browser, width, f"{server}/sections/training.html")
    if width == 390:
        cdp = page.context.new_cdp_session(page)
        for _ in range(6):  # a finger up: the page scrolls down (how far a swipe's fling goes depends on the load)
            swipe(cdp, 195, 700, -600)
            still(page)
            if page.evaluate("scrollY") > 1500:
                break
    else:
        page.mouse.move(width / 2, 450)
        page.mouse.wheel(0, 1800)
    still(page)
    assert page.evaluate("scrollY") > 1500
    covered = []
    for _ in range(4):
        if width == 390:
            swipe(cdp, 195, 300, 150)  # and back a little
        else:
            page.mouse.wheel(0, -150)
        page.get_by_role("link", name="Back to top").wait_for(state="visible", timeout=10_000)
        still(page)
        covered += page.evaluate(UNDER_PILL)
        assert page.evaluate("""() => { const pill = document.querySelector(".back-to-top"),  // and nothing covers it
          r = pill.getBoundingClientRect(); return pill.contains(document.elementFromPoint(r.x + r.width / 2,
          r.y + r.height / 2)); }""")
    assert covered == []
    assert errors == []
    page.context.close()

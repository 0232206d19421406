"""Every page of the built site in Debian's Chromium, with software WebGL and without WebGL.

Both legs: no console errors, no uncaught page errors, no serious or critical axe-core violations, and a page
weight within budget. With WebGL every scene draws (non-blank within 5 s) and the step control changes it;
without WebGL every scene shows its static fallback.
"""

import functools
import gzip
import http.server
import io
import json
import threading
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PAGE_BUDGET = 700_000  # bytes, gzipped, everything a first view loads (three.js included)
SNAPSHOT_BUDGET = 150_000
REPORT = {}


@pytest.fixture(scope="module")
def server(site):
    """The built site on 127.0.0.1, on a free port."""
    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    with sync_playwright() as p:
        yield p


def launch(playwright, webgl: bool):
    if webgl:  # Playwright adds --enable-unsafe-swiftshader itself: software WebGL
        return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[*FLAGS, "--disable-3d-apis"],
                                      ignore_default_args=["--enable-unsafe-swiftshader"])


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


def wait_state(figure, states, timeout=5000):
    figure.page.wait_for_function(
        "([f, states]) => states.includes(f.dataset.state)", arg=[figure.element_handle(), states], timeout=timeout)


@pytest.mark.parametrize("webgl", [True, False], ids=["webgl", "no-webgl"])
def test_every_page(site, server, playwright, webgl):
    browser = launch(playwright, webgl)
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
                visit.page.wait_for_timeout(200)
                problems += [f"{name}: {e}" for e in visit.errors]
                problems += [f"{name}: axe: {v}" for v in visit.axe()]
                weight = sum(visit.sizes.values())
                REPORT.setdefault(name, {})["webgl" if webgl else "no-webgl"] = weight
                if weight > PAGE_BUDGET:
                    problems.append(f"{name}: {weight} bytes gzipped on first view, budget {PAGE_BUDGET}")
            finally:
                visit.close()
    finally:
        browser.close()
    print(json.dumps(REPORT, indent=1, sort_keys=True))
    assert not problems, "\n".join(problems)


def check_scene(visit, figure, name, problems):
    try:
        wait_state(figure, ["live"])
    except Exception:
        problems.append(f"{name}: scene {figure.get_attribute('data-scene')} is {figure.get_attribute('data-state')}, "
                        "not live, after 5 s")
        return
    stage = figure.locator(".mg-scene-stage")
    visit.page.wait_for_timeout(300)
    before = stage.screenshot()
    if blank(before):
        problems.append(f"{name}: scene {figure.get_attribute('data-scene')} is blank")
    if figure.get_attribute("data-time-axis") == "true":
        step = visit.page.locator("#mg-step-range")
        step.focus()
        step.press("Home")  # the keyboard moves the step control to step 0
        visit.page.wait_for_timeout(400)
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

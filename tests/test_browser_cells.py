"""The pages' code cells, run in Debian's Chromium under Pyodide: every cell with software WebGL, the rest without.

On every page with runnable cells: each cell, run in order, prints what it printed at build time (no exceptions:
the pages' runnable cells print no timings or addresses), then editing, errors, Stop, Reset and the keyboard.
Pyodide loads once per page, on the first Run, never before.
"""

import re

import pytest
import test_browser
from test_browser import pages

RUNNABLE = 'div.cell:has(> .mg-cell-bar[data-numpy="false"])'
RUNTIME = re.compile(r"_static/live/(vendor/|wheel-|data/|runtime\.json)")  # what the first Run downloads


class Visit(test_browser.Visit):
    """One page in a shared browser context (so Pyodide downloads once per leg): errors, and every URL requested."""

    def __init__(self, context, url):
        self.context = context
        self.page = context.new_page()
        self.errors, self.requests = [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.context.on("request", lambda r: self.requests.append(r.url))  # the worker's requests too
        self.page.goto(url, wait_until="load")

    def close(self):
        self.page.close()


def cell_pages(site):
    return [name for name in pages(site) if 'data-numpy="false"' in (site / name).read_text(encoding="utf-8")]


def wait_done(cell, timeout=60_000):
    cell.page.wait_for_function("c => ['done', 'error'].includes(c.dataset.liveState)", arg=cell.element_handle(),
                                timeout=timeout)


def output(cell) -> str:
    return cell.locator('[data-live="output"]').inner_text()


def run(cell):
    cell.get_by_role("button", name="Run cell", exact=True).click()
    wait_done(cell)
    status = cell.locator(".mg-cell-status").inner_text()
    return float(re.search(r"in ([\d.]+) s", status).group(1))


def test_every_runnable_cell_reproduces_its_build_output(site, server, chromium):
    browser = chromium(True)  # the reader's usual browser; the cells without WebGL: tokenizer_page, below
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # one HTTP cache: Pyodide downloads once
    problems, times = [], {}
    try:
        for name in cell_pages(site):
            visit = Visit(context, f"{server}/{name}")
            try:
                cells = visit.page.locator(RUNNABLE)
                early = [u for u in visit.requests if RUNTIME.search(u)]
                assert early == [], f"{name}: the runtime loaded before Run"
                for i in range(cells.count()):
                    cell = cells.nth(i)
                    built = output(cell)
                    times[f"{name}, runnable cell {i + 1}"] = run(cell)
                    if cell.get_attribute("data-live-state") != "done" or output(cell) != built:
                        problems.append(f"{name}: runnable cell {i + 1} printed {output(cell)!r}, built {built!r}")
                assert sum(u.endswith("pyodide.asm.wasm") for u in visit.requests) == 1  # one load per page
                problems += [f"{name}: axe: {v}" for v in visit.axe()]
                problems += [f"{name}: {e}" for e in visit.errors]
            finally:
                visit.close()
    finally:
        chromium.close_contexts()
    slowest = max(times, key=times.get)
    print(f"{len(times)} runnable cells; slowest: {slowest}, {times[slowest]:.2f} s")
    assert len(times) >= 10
    assert not problems, "\n".join(problems)


@pytest.fixture
def tokenizer_page(server, chromium):
    browser = chromium(False)
    visit = Visit(browser.new_context(viewport={"width": 1400, "height": 900}), f"{server}/sections/tokenizer.html")
    yield visit
    assert visit.errors == []


def test_edit_error_restore_stop_and_reset(tokenizer_page):
    page = tokenizer_page.page
    first, second = page.locator(RUNNABLE).nth(0), page.locator(RUNNABLE).nth(1)
    built = output(second)
    run(first)

    # an edited cell's new output replaces the build-time one; the build-time output can be restored
    second.get_by_role("button", name="Edit the code").click()
    second.get_by_role("textbox").fill('print(tokenizer.encode("ava"))')
    run(second)
    assert output(second) == "[26, 0, 21, 0, 26]\n" and second.get_attribute("data-live-state") == "done"
    second.get_by_role("button", name="Show the build-time output").click()
    assert output(second) == built

    # an error: a short traceback through the reader's code only
    second.get_by_role("textbox").fill("def f(x):\n    return 1 / x\nf(0)")
    run(second)
    assert second.get_attribute("data-live-state") == "error"
    traceback = output(second)
    assert traceback.startswith("Traceback (most recent call last):") and traceback.strip().endswith(
        "ZeroDivisionError: division by zero")
    assert traceback.count('File "<cell ') == 2 and "pyodide" not in traceback and "microgpt" not in traceback

    # output streams: a progress line shows its last state, 20,000 lines keep the last 1,000 with a note
    second.get_by_role("textbox").fill("for i in range(20000): print(i)\nfor i in range(3): print(f'{i}%', end='\\r')")
    run(second)
    shown = output(second)
    assert shown.startswith("… 19,000 earlier lines not shown: a cell keeps its last 1,000.\n19000\n")
    assert shown.rstrip("\n").endswith("\n19999\n2%") and shown.count("\n") <= 1002

    # Stop ends a runaway cell: what it printed before stays, the cells' worker is restarted and the page says so
    second.get_by_role("textbox").fill("print('first')\nwhile True: pass")
    second.get_by_role("button", name="Run cell", exact=True).click()
    page.wait_for_function("c => c.querySelector('[data-live=output]').textContent.includes('first')",
                           arg=second.element_handle(), timeout=60_000)
    assert second.get_attribute("data-live-state") == "running"  # the first line, before the loop ends
    second.get_by_role("button", name="Stop").click()
    assert second.get_attribute("data-live-state") == "stopped"
    stopped = output(second)
    assert stopped.startswith("first\n") and "the names the cells of this page defined are gone" in stopped
    note = second.locator(".mg-cell-stopped pre")  # a sentence, which wraps in its box: no sideways scroll to read it
    assert note.evaluate("el => el.scrollWidth <= el.clientWidth + 1 && el.getClientRects().length === 1")
    second.get_by_role("textbox").fill("print(tokenizer)")
    second.get_by_role("button", name="Run cell", exact=True).click()  # cell 1 has not run in the new namespace
    second.get_by_role("button", name="Run the earlier cells first").click()
    wait_done(second)
    assert output(second).startswith("Tokenizer(") and first.get_attribute("data-live-state") == "done"

    # Reset: every cell's code and output as built, a fresh namespace
    second.get_by_role("button", name="Reset all cells").click()
    assert [c.get_attribute("data-live-state") for c in page.locator(RUNNABLE).all()] == ["idle", "idle"]
    assert output(second) == built and second.get_by_role("textbox").count() == 0
    second.get_by_role("button", name="Run cell", exact=True).click()
    second.get_by_role("button", name="Run only this cell").click()
    wait_done(second)
    assert "NameError: name 'tokenizer' is not defined" in output(second)


def test_keyboard_only(tokenizer_page):
    page = tokenizer_page.page
    first = page.locator(RUNNABLE).nth(0)
    for _ in range(300):  # Tab from the top of the page to the first cell's editor button
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Edit the code":
            break
    else:
        pytest.fail("Tab never reached the first cell's Edit button")
    page.keyboard.press("Enter")  # the code editor (CodeMirror, loaded on the first edit) takes the focus
    page.wait_for_function("() => document.activeElement.closest('.mg-editor') !== null")
    page.keyboard.press("Control+End")
    page.keyboard.type("\nfor c in 'ab':\n")
    page.keyboard.press("Tab")  # indents inside the editor
    page.keyboard.type("print(c, 6 / 3)")  # "/" is the page's search shortcut outside a code field, not in it
    assert re.search(r"\n {4,}print\(c, 6 / 3\)", first.get_by_role("textbox").inner_text())  # indented: a block
    page.keyboard.press("Shift+Enter")  # runs the cell
    wait_done(first)
    assert output(first).endswith("a 2.0\nb 2.0\n")
    page.keyboard.press("Escape")  # leaves the editor: Tab is no trap
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Run cell"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.tagName") == "BUTTON"
    second = page.locator(RUNNABLE).nth(1)
    second.get_by_role("button", name="Run cell", exact=True).focus()
    page.keyboard.press("Enter")
    wait_done(second)
    assert second.get_attribute("data-live-state") == "done"


@pytest.mark.parametrize("width", [390, 1440])
def test_enter_after_a_colon_indents_and_the_help_fits_the_device(server, chromium, width):
    """A phone (touch, no Tab key) and a laptop: Enter after a line ending in ":" indents the next line by 4; the
    help names the keys on the laptop and the Indent/Dedent buttons on the phone, which shift the line."""
    touch = width == 390
    context = chromium(False).new_context(viewport={"width": width, "height": 844 if touch else 900},
                                          has_touch=touch, is_mobile=touch)
    visit = Visit(context, f"{server}/sections/tokenizer.html")
    page = visit.page
    exercise_keys = page.locator(".mg-exercise-keys").first
    exercise_keys.scroll_into_view_if_needed()
    shown = exercise_keys.inner_text()
    assert ("Tab" in shown) != touch and ("Indent and Dedent buttons" in shown) == touch, shown
    cell = page.locator(RUNNABLE).first
    edit = cell.get_by_role("button", name="Edit the code")
    edit.scroll_into_view_if_needed()
    edit.tap() if touch else edit.click()
    page.wait_for_function("() => document.activeElement.closest('.mg-editor') !== null")
    keys = page.locator("#mg-cell-keys").text_content()
    assert ("Tab" in keys) != touch and ("Indent and Dedent buttons" in keys) == touch, keys
    assert cell.get_by_role("textbox").get_attribute("aria-describedby") == "mg-cell-keys"
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("for c in 'ab':")
    page.keyboard.press("Enter")  # the Python language's indentation: 4 spaces in
    page.keyboard.type("print(c)")
    code = cell.get_by_role("textbox")
    assert re.search(r"\nfor c in 'ab':\n {4}print\(c\)$", code.inner_text()), code.inner_text()
    dedent, indent = cell.get_by_role("button", name="← Dedent"), cell.get_by_role("button", name="Indent →")
    assert dedent.is_visible() == touch and indent.is_visible() == touch
    if touch:
        dedent.tap()
        assert re.search(r"\nprint\(c\)$", code.inner_text())
        indent.tap()
        assert re.search(r"\n {4}print\(c\)$", code.inner_text())
        assert page.evaluate("() => document.activeElement.closest('.mg-editor') !== null"), page.evaluate(
            "() => document.activeElement.outerHTML.slice(0, 200)")  # the code kept the focus
        cell.get_by_role("button", name="Run cell", exact=True).tap()
        wait_done(cell)
        assert output(cell).endswith("a\nb\n")
    assert visit.errors == []
    context.close()

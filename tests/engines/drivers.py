"""Firefox and WebKit behind one small interface, for the engine legs (Chromium has Playwright).

Firefox: Debian's firefox-esr through npm puppeteer-core (firefox.mjs beside this file). WebKit: Debian's WebKitGTK
MiniBrowser through WebKitWebDriver and Selenium. Neither downloads a browser. Both run on an Xvfb display (WebGL in
Firefox; MiniBrowser has no headless mode), and send any request for another host to a recording proxy.
"""

import base64
import http.server
import json
import os
import queue
import subprocess
import threading
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIREFOX = Path("/usr/bin/firefox-esr")
WEBKIT_DRIVER = Path("/usr/bin/WebKitWebDriver")
MINIBROWSER = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
COMMAND_TIMEOUT = 180  # s: one driver command (a page load, a click) on a loaded 2-core machine


class Xvfb:
    """A virtual X display for the session; Xvfb picks a free display number itself (-displayfd)."""

    def __init__(self):
        read, write = os.pipe()
        self.process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1440x1100x24",
                                         "-nolisten", "tcp"], pass_fds=[write], stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            self.display = f":{f.readline().strip()}"

    def close(self):
        self.process.terminate()
        self.process.wait(30)


class Elsewhere(http.server.BaseHTTPRequestHandler):
    """The browsers' proxy: every request to another host lands here, is recorded, and is refused."""

    seen: list = []
    browsers_own = ("firefox.settings.services.mozilla.com:443",)  # Firefox's remote settings: not the page's

    def refuse(self):
        if self.path not in self.browsers_own:
            self.seen.append(f"{self.command} {self.path}")
        self.send_error(403, "the tests allow no host but 127.0.0.1")

    do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = do_CONNECT = refuse

    def log_message(self, *args):
        pass


class Proxy:
    def __init__(self):
        self.requests = Elsewhere.seen
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Driver:
    """What the engine legs do with a browser; `wait` polls a JS predicate, so it works the same everywhere."""

    name = ""

    def wait(self, fn, *args, timeout=120):
        """Until fn(*args) is truthy in the page; timeout in seconds, generous for a loaded machine."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(fn, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: {fn} still false after {timeout} s")
            time.sleep(0.25)


class Firefox(Driver):
    name = "firefox"

    def __init__(self, display: str, proxy: int, webgl: bool):
        node = ["node", str(HERE / "firefox.mjs"), json.dumps({"webgl": webgl, "proxy": proxy,
                                                                 "executable": str(FIREFOX)})]
        self.process = subprocess.Popen(node, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE,
                                        env={**os.environ, "DISPLAY": display})
        self.answers = queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()
        self.version = self.answer()["ready"]

    def read(self):
        for line in self.process.stdout:
            self.answers.put(json.loads(line))
        self.answers.put({"error": f"firefox.mjs ended (exit code {self.process.wait()})"})

    def answer(self):
        try:
            return self.answers.get(timeout=COMMAND_TIMEOUT)
        except queue.Empty:
            raise TimeoutError(f"firefox.mjs gave no answer in {COMMAND_TIMEOUT} s") from None

    def send(self, op, **fields):
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        answer = self.answer()
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["value"]

    def open(self, url, width=1280, height=900):
        self.send("open", url=url, width=width, height=height)

    def goto(self, url):
        self.send("goto", url=url)

    def js(self, fn, *args):
        return self.send("eval", fn=fn, args=list(args))

    def fill(self, selector, text):
        self.send("fill", selector=selector, text=str(text))

    def type(self, selector, text):
        self.send("type", selector=selector, text=str(text))

    def click(self, selector):
        self.send("click", selector=selector)

    def screenshot(self, selector) -> bytes:
        return base64.b64decode(self.send("screenshot", selector=selector))

    def problems(self) -> list[str]:
        return self.send("problems")

    def close(self):
        try:
            self.send("quit")
        except RuntimeError:
            pass  # it ended while answering
        self.process.wait(60)
        self.process.stdin.close()
        self.process.stdout.close()


class WebKit(Driver):
    """MiniBrowser has no console access over WebDriver: the test server puts a recorder in every page
    (window.__errs, conftest.ERROR_RECORDER), read before each navigation and on demand."""

    name = "webkit"

    def __init__(self, display: str, proxy: int, webgl: bool):
        from selenium import webdriver

        options = webdriver.WebKitGTKOptions()
        options.binary_location = str(MINIBROWSER)
        options.add_argument("--automation")  # MiniBrowser must be told it is driven
        options.add_argument(f"--proxy=http://127.0.0.1:{proxy}")
        options.add_argument("--ignore-host=127.0.0.1")
        options.add_argument(f"--enable-webgl={'true' if webgl else 'false'}")
        service = webdriver.WebKitGTKService(executable_path=str(WEBKIT_DRIVER),
                                             env={**os.environ, "DISPLAY": display})
        with warnings.catch_warnings():  # Selenium's WebKitGTK class passes a deprecated argument to its own base
            warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
            self.driver = webdriver.WebKitGTK(options=options, service=service)
        self.driver.set_page_load_timeout(COMMAND_TIMEOUT)
        self.driver.set_script_timeout(COMMAND_TIMEOUT)
        self.version = self.driver.capabilities.get("browserVersion")
        self.found = []

    def harvest(self):
        try:
            self.found += self.driver.execute_script("const e = window.__errs ?? []; window.__errs = []; return e;")
        except Exception as e:  # noqa: BLE001  (no page yet)
            if "about:blank" not in self.driver.current_url:
                self.found.append(f"could not read the page's errors: {e}")

    def open(self, url, width=1280, height=900):
        """One window for the session: forget its tab's state (the live run is keyed in sessionStorage), as a
        new tab would, then load url at this size."""
        self.harvest()
        if self.driver.current_url.startswith("http"):
            # cleared from a page of the site that runs nothing: the page left behind saves its run as it goes
            # (visibilitychange), which would otherwise put a key back after the clear
            origin = "/".join(self.driver.current_url.split("/")[:3])
            self.driver.get(f"{origin}/_static/live/runtime.json")
            self.driver.execute_script("sessionStorage.clear()")
        self.driver.set_window_rect(0, 0, width, height)
        self.driver.get(url)

    def goto(self, url):
        self.harvest()
        self.driver.get(url)

    def js(self, fn, *args):
        return self.driver.execute_script(f"return ({fn})(...arguments)", *args)

    def element(self, selector):
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.CSS_SELECTOR, selector)
        # WebKitWebDriver does not scroll a field into view before typing: "element not interactable"
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
        return element

    def fill(self, selector, text):
        """As a reader does: select what the field holds and type over it (WebDriver's clear() leaves the field
        at once, so its change event, and the check it starts, would come before the typing)."""
        from selenium.webdriver.common.keys import Keys

        element = self.element(selector)
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.DELETE)
        element.send_keys(str(text))

    def type(self, selector, text):
        """Into a code editor (contenteditable): select all, then type as a reader does."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        self.element(selector).click()
        actions = ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
        for i, line in enumerate(text.split("\n")):  # WebKit's driver types "\n" as nothing: Enter is a key
            actions = (actions.send_keys(Keys.ENTER) if i else actions).send_keys(line)
        actions.perform()

    def click(self, selector):
        self.element(selector).click()

    def screenshot(self, selector) -> bytes:
        return self.element(selector).screenshot_as_png

    def problems(self) -> list[str]:
        self.harvest()
        found, self.found = self.found, []
        return found

    def close(self):
        self.driver.quit()


class Chromium(Driver):
    """Debian's Chromium through Playwright, behind the same interface (for benchmarks/bench.py)."""

    name = "chromium"

    def __init__(self, display: str, proxy: int, webgl: bool):
        from playwright.sync_api import sync_playwright

        from conftest import CHROMIUM, CHROMIUM_FLAGS

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_FLAGS, f"--proxy-server=127.0.0.1:{proxy}",
                                                                  *([] if webgl else ["--disable-3d-apis"])])
        self.version = self.browser.version
        self.page = None

    def open(self, url, width=1280, height=900):
        if self.page:
            self.page.close()
        self.page = self.browser.new_page(viewport={"width": width, "height": height})
        self.page.goto(url)

    def goto(self, url):
        self.page.goto(url)

    def js(self, fn, *args):
        return self.page.evaluate(f"args => ({fn})(...args)", list(args))

    def fill(self, selector, text):
        self.page.fill(selector, str(text))

    def type(self, selector, text):
        self.page.click(selector)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)

    def click(self, selector):
        self.page.click(selector)

    def screenshot(self, selector) -> bytes:
        return self.page.locator(selector).screenshot()

    def problems(self) -> list[str]:
        return []

    def close(self):
        self.browser.close()
        self.playwright.stop()


ENGINES = {"firefox": Firefox, "webkit": WebKit}

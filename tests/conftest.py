import functools
import http.server
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import settings

from microgpt.config import GPTConfig
from microgpt.dataset import DATA_ENV, resolve_data_path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "microgpt.py"
TRANSCRIPT = ROOT / "reference" / "microgpt.out.txt"
SHARED_NAMES = ROOT.parent / "shared" / "data" / "names.txt"
DOCS = ROOT / "docs"
EPOCH = "1764000000"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MODEL_CONFIGS = [  # the default and shapes around it (one head, several layers, wide, long blocks)
    GPTConfig(),
    GPTConfig(n_embd=8, n_head=1, n_layer=1, block_size=4),
    GPTConfig(n_embd=12, n_head=3, n_layer=2, block_size=8),
    GPTConfig(n_embd=32, n_head=8, n_layer=3, block_size=24),
    GPTConfig(n_embd=4, n_head=2, n_layer=4, block_size=64),
]

settings.register_profile("default", deadline=None, print_blob=True)
settings.load_profile("default")


WITHOUT_NUMPY = "import sys; sys.modules['numpy'] = None  # `import numpy` now raises ImportError\n"


def python_without_numpy(code: str) -> subprocess.CompletedProcess:
    """Python code run in a fresh interpreter where `import numpy` fails, as in the browser."""
    return subprocess.run([sys.executable, "-c", WITHOUT_NUMPY + code], capture_output=True, text=True)


@pytest.fixture(scope="session")
def names_path() -> Path:
    """names.txt: $MICROGPT_DATA, else ../shared/data/names.txt, else the package's cache or download."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    if SHARED_NAMES.is_file():
        return SHARED_NAMES
    return resolve_data_path()


@pytest.fixture(scope="session")
def names5(tmp_path_factory) -> Path:
    """Five names, the site's probes among them: a dataset that keeps each run of a property test small."""
    path = tmp_path_factory.mktemp("data") / "names5.txt"
    path.write_text("emma\nolivia\nava\nisabella\nsophia\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def names_docs(names_path):
    from microgpt.dataset import load_docs

    return load_docs(names_path)


def sphinx_command(out: Path, cache: Path, *extra) -> list[str]:
    return [sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-b", "html", "-d", str(out / ".doctrees"),
            "-D", f"nb_execution_cache_path={cache}", *extra, str(DOCS), str(out / "html")]


BUILD_ENV = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}


def build_site(out: Path, cache: Path, *extra) -> subprocess.CompletedProcess:
    """A clean build of the real site with its own jupyter cache, as `nox -s docs` runs it."""
    return subprocess.run(sphinx_command(out, cache, *extra), capture_output=True, text=True, env=BUILD_ENV)


@pytest.fixture(scope="session")
def site_builds(request, tmp_path_factory) -> dict:
    """The session's clean builds: "a" for every test, and "b" beside it (started at the same time, on the other
    core) only when a collected test compares two clean builds (it asks for `site_rebuild`)."""
    tmp = tmp_path_factory.mktemp("site")
    names = ["a"] + (["b"] if any("site_rebuild" in getattr(i, "fixturenames", ()) for i in request.session.items)
                     else [])
    started = {}
    for n in names:  # output to files: a pipe nobody reads until the end would fill up and stall the build
        with open(tmp / f"{n}.out", "w") as stdout, open(tmp / f"{n}.err", "w") as stderr:
            started[n] = subprocess.Popen(sphinx_command(tmp / n, tmp / f"cache-{n}"), stdout=stdout, stderr=stderr,
                                          env=BUILD_ENV)
    yield {n: (tmp / n, process) for n, process in started.items()}
    for process in started.values():
        process.kill()
        process.wait()


def finished_build(builds: dict, name: str) -> Path:
    out, process = builds[name]
    process.wait()
    stdout, stderr = (out.with_suffix(s).read_text(encoding="utf-8") for s in (".out", ".err"))
    assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    assert "WARNING:" not in stderr, stderr  # Sphinx warnings (the kernel logs its own noise)
    return out / "html"


@pytest.fixture(scope="session")
def site(site_builds) -> Path:
    """The site, built once per test session from scratch with -n -W."""
    return finished_build(site_builds, "a")


@pytest.fixture(scope="session")
def site_rebuild(site_builds) -> Path:
    """A second clean build of the site, made beside the first (for the reproducibility check)."""
    return finished_build(site_builds, "b")


@pytest.fixture(scope="session")
def export_30(tmp_path_factory, names_path):
    """`microgpt snapshot --engine scalar --steps 30 --checkpoint-every 10`, as CPython writes it."""
    from microgpt.cli import main

    out = tmp_path_factory.mktemp("snap") / "out"
    assert main(["snapshot", "--out", str(out), "--data", str(names_path), "--engine", "scalar", "--steps", "30",
                 "--checkpoint-every", "10"]) == 0
    return out


@pytest.fixture(scope="session")
def full_default_run(names_path):
    """The whole default run of the scalar engine, as `microgpt run` prints it (minutes): run once per session.

    transcript: what the CLI printed (bytes); losses: every step's loss, unrounded; weights: the trained parameters.
    """
    from types import SimpleNamespace

    from microgpt.cli import main
    from microgpt.run import Run
    from microgpt.training import Trainer

    runs, losses, out = [], [], io.StringIO()
    setup, train = Run.setup.__func__, Trainer.train
    with pytest.MonkeyPatch.context() as mp:  # watch the CLI's own Run and Trainer as they work
        mp.setattr(Run, "setup", classmethod(lambda cls, *a, **k: runs.append(setup(cls, *a, **k)) or runs[-1]))
        mp.setattr(Trainer, "train", lambda self, *a, **k: losses.extend(train(self, *a, **k)) or losses)
        mp.setattr(sys, "stdout", out)
        assert main(["run", "--data", str(names_path)]) == 0
    return SimpleNamespace(transcript=out.getvalue().encode(), losses=losses, weights=runs[0].engine.weights())


# One server, one Playwright and one Chromium per leg for the whole session, shared by every browser test module.

ERROR_RECORDER = b"""<script>(() => {
  const errs = window.__errs = [];
  for (const level of ["error", "warn"]) {
    const orig = console[level].bind(console);
    console[level] = (...a) => { errs.push(`console.${level}: ${a.map(String).join(" ")}`); orig(...a); };
  }
  addEventListener("error", (e) => errs.push(`error: ${e.message} (${e.filename}:${e.lineno})`), true);
  addEventListener("unhandledrejection", (e) => errs.push(`unhandledrejection: ${e.reason?.message ?? e.reason}`));
})();</script>"""


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """The built site as a static host serves it, but every page records its errors in window.__errs from its
    first byte: WebKitWebDriver cannot read the console, so the WebKit leg reads them there."""

    def send_head(self):
        path = self.translate_path(self.path)
        if not path.endswith(".html") or not os.path.isfile(path):
            return super().send_head()
        body = Path(path).read_bytes()
        i = body.find(b"<head>")
        body = body[: i + 6] + ERROR_RECORDER + body[i + 6:] if i >= 0 else ERROR_RECORDER + body
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args):
        pass


def serve(handler) -> tuple[http.server.ThreadingHTTPServer, int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, httpd.server_address[1]


@pytest.fixture(scope="session")
def server(site):
    """The built site on 127.0.0.1, on a free port, for every browser test of the session."""
    httpd, port = serve(functools.partial(SiteHandler, directory=str(site)))
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    with sync_playwright() as p:
        yield p


def launch(playwright, webgl: bool):
    """A fresh Chromium: with software WebGL, or with no WebGL at all."""
    if webgl:  # Playwright adds --enable-unsafe-swiftshader itself: software WebGL
        return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=[*CHROMIUM_FLAGS, "--disable-3d-apis"],
                                      ignore_default_args=["--enable-unsafe-swiftshader"])


class Chromiums:
    """One Chromium per leg (webgl True/False), launched on first use and kept for the session."""

    def __init__(self, playwright):
        self.playwright, self.browsers = playwright, {}

    def __call__(self, webgl: bool = True):
        if webgl not in self.browsers or not self.browsers[webgl].is_connected():
            self.browsers[webgl] = launch(self.playwright, webgl)
        return self.browsers[webgl]

    def close_contexts(self):
        """What a test left open (pages, their WebGL contexts and workers) goes before the next test."""
        for browser in self.browsers.values():
            for context in browser.contexts:
                context.close()


@pytest.fixture(scope="session")
def chromiums(playwright):
    browsers = Chromiums(playwright)
    yield browsers
    for browser in browsers.browsers.values():
        browser.close()


@pytest.fixture
def chromium(chromiums):
    """chromium(webgl) is the session's browser for that leg; the contexts a test opens are closed after it."""
    yield chromiums
    chromiums.close_contexts()


# Firefox and WebKit (tests/engines/drivers.py): one browser per engine and leg for the session, on one Xvfb display.


@pytest.fixture(scope="session")
def xvfb():
    from engines.drivers import Xvfb

    display = Xvfb()
    yield display.display
    display.close()


@pytest.fixture(scope="session")
def elsewhere():
    """The recording proxy the other engines send any request for another host to."""
    from engines.drivers import Proxy

    proxy = Proxy()
    yield proxy
    proxy.close()


def engine_browser(request, xvfb, elsewhere, webgl: bool):
    from engines.drivers import ENGINES

    browser = ENGINES[request.param](xvfb, elsewhere.port, webgl)
    yield browser
    browser.close()


@pytest.fixture(scope="session", params=["firefox", "webkit"])
def engine_webgl(request, xvfb, elsewhere):
    yield from engine_browser(request, xvfb, elsewhere, True)


@pytest.fixture(scope="session", params=["firefox", "webkit"])
def engine_no_webgl(request, xvfb, elsewhere):
    yield from engine_browser(request, xvfb, elsewhere, False)


def watched(browser, elsewhere):
    browser.problems()
    start = len(elsewhere.requests)
    yield browser
    assert browser.problems() == [], f"{browser.name}: console or page errors"
    assert elsewhere.requests[start:] == [], f"{browser.name}: requests to other hosts"


@pytest.fixture
def engine(engine_webgl, elsewhere):
    """Firefox, then WebKit, with WebGL: the test fails on a console error or a request to another host."""
    yield from watched(engine_webgl, elsewhere)


@pytest.fixture
def engine_without_webgl(engine_no_webgl, elsewhere):
    """Firefox, then WebKit, with WebGL turned off in the browser."""
    yield from watched(engine_no_webgl, elsewhere)

import functools
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
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

# One BLAS thread per process, set before any test imports NumPy (jobs and kernels inherit it): the workers, browsers
# and builds already take every core and the matrices here are small, so OpenBLAS's threads only spun, doubling a
# NumPy test's CPU for the same wall time (the live run's documents: 15.5 s of CPU against 7.2).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

settings.register_profile("default", deadline=None, print_blob=True)
settings.load_profile("default")


WITHOUT_NUMPY = "import sys; sys.modules['numpy'] = None  # `import numpy` now raises ImportError\n"


def python_without_numpy(code: str) -> subprocess.CompletedProcess:
    """Python code run in a fresh interpreter where `import numpy` fails, as in the browser."""
    return subprocess.run([sys.executable, "-c", WITHOUT_NUMPY + code], capture_output=True, text=True)


def data_path() -> Path:
    """names.txt: $MICROGPT_DATA, else ../shared/data/names.txt, else the package's cache or download."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    if SHARED_NAMES.is_file():
        return SHARED_NAMES
    return resolve_data_path()


@pytest.fixture(scope="session")
def names_path() -> Path:
    return data_path()


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


def sphinx_command(out: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-b", "html", "-d", str(out / ".doctrees"),
            "-D", f"nb_execution_cache_path={cache}", str(DOCS), str(out / "html")]


BUILD_ENV = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}


JOB = """import json, os, shutil, subprocess, sys
if os.fork():
    os._exit(0)  # the test process's child returns at once: the job below is nobody's child, nobody's zombie
os.setsid()  # a session of its own, which close() ends with its kernels
name, fresh, command = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
with open(name + ".pid", "w") as f:
    f.write(str(os.getpid()))
for attempt in (1, 2):  # once more if a kernel lost its port (below); the second attempt's outcome stands
    with open(name + ".out", "w") as out, open(name + ".err", "w") as err:
        code = subprocess.call(command, stdout=out, stderr=err)
    with open(name + ".err", encoding="utf-8", errors="replace") as err:
        if code == 0 or "Address already in use" not in err.read():
            break
    for path in fresh:  # from nothing again: what the first attempt left
        shutil.rmtree(path, ignore_errors=True)
with open(name + ".rc.tmp", "w") as f:
    f.write(str(code))
os.replace(name + ".rc.tmp", name + ".rc")
"""  # starts a job's command, and writes its exit code where every test process of the run can read it. A Jupyter
# kernel can die at its start, once in several runs here, when another process takes one of the ports its manager
# picked for it before the kernel binds them (jupyter_client#487, #154: Address already in use); the builds' kernels
# start side by side, so a build that failed that way runs again, from nothing.


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Background:
    """The session's slow jobs, each in a process of its own, started as soon as collection shows which the
    tests need: the clean site build "a" (every test of the built site), a second clean build "b" (only for the
    reproducibility check: `site_rebuild`) and the scalar port's whole default run (`full_default_run`, minutes).
    "b" and the run go at a lower priority: they fill the cores the tests leave idle, and never slow the tests.
    The tests that need the site run after those that need none (pytest_collection_modifyitems), so the first
    build goes on while they run.

    With pytest-xdist every worker shares one folder of jobs (named after the run's id): the first worker to claim a
    job starts it, and any worker waits for its exit code there; the controller ends them all when the run ends."""

    LOW = 10  # nice: a tenth of a core against a test; all of an idle one

    def __init__(self, run_id: str):
        self.tmp = Path(tempfile.gettempdir()) / f"microgpt-tests-{run_id}"
        self.tmp.mkdir(exist_ok=True)

    def start(self, name, command, low=False, fresh=()):
        """fresh: what the job writes besides its output, removed before a second attempt (JOB)."""
        try:  # the claim: exactly one process of the run creates the lock file
            os.close(os.open(self.tmp / f"{name}.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        # JOB writes the job's output to files: a pipe nobody reads until the end would fill up and stall the job
        subprocess.run([sys.executable, "-c", JOB, str(self.tmp / name), json.dumps([str(p) for p in fresh]),
                        *command], env=BUILD_ENV, check=True, preexec_fn=(lambda: os.nice(self.LOW)) if low else None)

    def build(self, name):
        """A clean build of the real site with its own jupyter cache, as `nox -s docs` runs it."""
        out, cache = self.tmp / name, self.tmp / f"cache-{name}"
        self.start(name, sphinx_command(out, cache), low=name != "a", fresh=(out, cache))
        return out

    def default_run(self, names: Path):
        out = self.tmp / "default-run.json"
        self.start("default-run", [sys.executable, str(Path(__file__).parent / "default_run.py"), str(names),
                                   str(out)], low=True)
        return out

    def finished(self, name, timeout=3600) -> str:
        """Waits for a job; its stderr. The job must have succeeded."""
        rc, pid = self.tmp / f"{name}.rc", self.tmp / f"{name}.pid"
        for _ in range(timeout * 4):
            if rc.exists() or pid.exists() and not alive(int(pid.read_text())) and not rc.exists():
                break
            time.sleep(0.25)  # polls a file another process writes: not a wait on this test's own work
        assert rc.exists(), f"the background job {name!r} died or did not end within {timeout} s"
        stdout, stderr = ((self.tmp / f"{name}{s}").read_text(encoding="utf-8") for s in (".out", ".err"))
        assert rc.read_text() == "0", stdout[-3000:] + stderr[-3000:]
        return stderr

    def close(self):
        """Ends every job the run started (the controller's last act, or a run without workers)."""
        for pid in self.tmp.glob("*.pid"):
            try:
                os.killpg(int(pid.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


BACKGROUND = pytest.StashKey[Background]()
NEEDS_SITE = ("site", "site_rebuild", "full_default_run")  # fixtures whose tests run last, in this order


def needs(item, fixture) -> bool:
    return fixture in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(session, config, items):
    """Tests that need no built site first, then those that do, then those that need the full default run: whole
    modules move (their module-scoped fixtures are made once), each keeping its own order. Under pytest-xdist's
    --dist loadgroup each test goes to the next free worker, but a module with module-scoped fixtures stays whole on
    one worker (an xdist_group), which makes them once."""
    modules = {}
    for item in items:
        modules.setdefault(item.module.__name__ if hasattr(item, "module") else "", []).append(item)

    def rank(module):
        return max((i + 1 for item in modules[module] for i, f in enumerate(NEEDS_SITE) if needs(item, f)),
                   default=0)

    items[:] = [item for module in sorted(modules, key=rank) for item in modules[module]]
    # set on each xdist worker; the groups take with pytest <9.2 only (pyproject.toml: pytest-xdist#1386)
    for item in items if getattr(config.option, "loadgroup", False) else ():
        if any(d.scope == "module" for defs in item._fixtureinfo.name2fixturedefs.values() for d in defs):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def pytest_configure(config):
    """One folder of background jobs per run, named after pytest-xdist's run id, which every worker is given."""
    if hasattr(config, "workerinput"):
        run_id = config.workerinput["testrunuid"]
    else:
        run_id = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
        if hasattr(config.option, "testrunuid"):
            config.option.testrunuid = run_id  # xdist hands this one to its workers
    config.stash[BACKGROUND] = Background(run_id)


def pytest_collection_finish(session):
    """Starts what the collected tests will wait for (nothing for --collect-only)."""
    if session.config.option.collectonly:
        return
    background = session.config.stash[BACKGROUND]
    if any(needs(item, "site") for item in session.items):
        background.build("a")
    if any(needs(item, "site_rebuild") for item in session.items):
        background.build("b")
    if any(needs(item, "full_default_run") for item in session.items):
        background.default_run(data_path())


def pytest_unconfigure(config):
    if BACKGROUND in config.stash and not hasattr(config, "workerinput"):  # the controller, or a run without workers
        config.stash[BACKGROUND].close()


def background(request) -> Background:
    """The session's jobs (a fixture asked for by name, not collected, starts its job on first use)."""
    return request.config.stash[BACKGROUND]


def finished_build(request, name: str) -> Path:
    jobs = background(request)
    out = jobs.build(name)
    stderr = jobs.finished(name)
    assert "WARNING:" not in stderr, stderr  # Sphinx warnings (the kernel logs its own noise)
    return out / "html"


@pytest.fixture(scope="session")
def site(request) -> Path:
    """The site, built once per test session from scratch with -n -W."""
    return finished_build(request, "a")


@pytest.fixture(scope="session")
def site_rebuild(request) -> Path:
    """A second clean build of the site, made beside the first (for the reproducibility check)."""
    return finished_build(request, "b")


@pytest.fixture(scope="session")
def export_30(tmp_path_factory, names_path):
    """`microgpt snapshot --engine scalar --steps 30 --checkpoint-every 10`, as CPython writes it."""
    from microgpt.cli import main

    out = tmp_path_factory.mktemp("snap") / "out"
    assert main(["snapshot", "--out", str(out), "--data", str(names_path), "--engine", "scalar", "--steps", "30",
                 "--checkpoint-every", "10"]) == 0
    return out


@pytest.fixture(scope="session")
def full_default_run(request, names_path):
    """The whole default run of the scalar engine, as `microgpt run` prints it (minutes): run once per session, in
    its own process from the session's start (tests/default_run.py).

    transcript: what the CLI printed (bytes); losses: every step's loss, unrounded; weights: the trained parameters.
    """
    from types import SimpleNamespace

    jobs = background(request)
    out = jobs.default_run(names_path)
    jobs.finished("default-run")
    run = json.loads(out.read_text(encoding="utf-8"))
    return SimpleNamespace(transcript=run["transcript"].encode(), losses=run["losses"], weights=run["weights"])


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


ACTION_TIMEOUT = 60_000  # ms: a click or a fill waits this long for a page kept busy by a loaded 2-core machine


def launch(playwright, webgl: bool):
    """A fresh Chromium: with software WebGL, or with no WebGL at all."""
    if webgl:  # Playwright adds --enable-unsafe-swiftshader itself: software WebGL
        return patient(playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS))
    return patient(playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=[*CHROMIUM_FLAGS, "--disable-3d-apis"],
                                              ignore_default_args=["--enable-unsafe-swiftshader"]))


def patient(browser):
    """Every context and page the browser makes waits ACTION_TIMEOUT for an action (Playwright's default: 30 s)."""
    new_context, new_page = browser.new_context, browser.new_page

    def context(*args, **kwargs):
        made = new_context(*args, **kwargs)
        made.set_default_timeout(ACTION_TIMEOUT)
        return made

    def page(*args, **kwargs):
        made = new_page(*args, **kwargs)
        made.set_default_timeout(ACTION_TIMEOUT)
        return made

    browser.new_context, browser.new_page = context, page
    return browser


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


# Firefox and WebKit (tests/engines/drivers.py): one browser per engine and leg for the module that uses them (a page
# left open in a session-long browser kept a core busy for the rest of the suite), on one Xvfb display.


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


@pytest.fixture(scope="module", params=["firefox", "webkit"])
def engine_webgl(request, xvfb, elsewhere):
    yield from engine_browser(request, xvfb, elsewhere, True)


@pytest.fixture(scope="module", params=["firefox", "webkit"])
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

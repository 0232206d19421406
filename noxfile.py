"""The project's verbs: `nox -s docs`, `nox -s serve`, `nox -s tests`, `nox -s bench`, `nox -s run`, `nox -s lint`."""

import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")
SHARED_NAMES = ROOT.parent / "shared" / "data" / "names.txt"

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"  # uv when it is installed: 3-4x faster installs
nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"


def data_env() -> dict:
    """Point the package at a local names.txt when there is one (CI's ../shared), else let it download."""
    if os.environ.get("MICROGPT_DATA"):
        return {"MICROGPT_DATA": os.environ["MICROGPT_DATA"]}
    return {"MICROGPT_DATA": str(SHARED_NAMES)} if SHARED_NAMES.is_file() else {}


def npm_ci(session):
    """three.js, Pyodide (and axe-core for the browser tests), exactly as package-lock.json pins them."""
    session.run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", external=True)


def install(session, *groups, editable=False):
    package = ["-e", "."] if editable else ["."]
    session.install(*package, *(req for g in groups for req in nox.project.dependency_groups(PYPROJECT, g)))


@nox.session
def tests(session):
    """Run the test suite against the installed package (slow tests included; `-- -m "not slow"` skips them)."""
    install(session, "test")
    npm_ci(session)
    # every core (at most 4): each test to the next free worker, in the order conftest.py gives them
    parallel = ["-n", "auto", "--maxprocesses=4", "--dist=loadgroup", "--no-loadscope-reorder"]
    session.run("pytest", *parallel, *session.posargs, env=data_env())


DOCS, BUILD = ROOT / "docs", ROOT / "docs" / "_build"


def sphinx_args(builder_dir: Path) -> list[str]:
    return ["-n", "-W", "--keep-going", "-b", "html", "-d", str(BUILD / "doctrees"), str(DOCS), str(builder_dir)]


@nox.session
def docs(session):
    """Build the site from scratch into docs/_build/html (`-- --open` serves it on 127.0.0.1 and opens it)."""
    install(session, "docs")
    npm_ci(session)
    shutil.rmtree(BUILD, ignore_errors=True)
    session.run("sphinx-build", *sphinx_args(BUILD / "html"), env=data_env())
    session.log(f"Built the site from scratch in {BUILD / 'html'}")
    if "--open" in session.posargs:
        open_site(session, BUILD / "html")


def open_site(session, site: Path, port: int = 8000):
    """Serve the built site over http (the live page's runtime cannot start from file://) and open it."""
    import functools
    import http.server
    import webbrowser

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    try:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # 8000 is taken: any free port
    url = f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    session.log(f"Serving the site at {url} (Ctrl+C stops)")
    webbrowser.open(url)
    with httpd:
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


@nox.session
def serve(session):
    """Serve the site on http://127.0.0.1:8000, rebuilding once per edit of docs/ or src/."""
    install(session, "serve", editable=True)  # edits of src/ show up without a reinstall
    npm_ci(session)
    session.run(
        "sphinx-autobuild", *sphinx_args(BUILD / "html"), "--host", "127.0.0.1", "--port", "8000",
        "--watch", str(ROOT / "src"), "--watch", str(ROOT / "reference"),
        "--ignore", str(BUILD), "--ignore", str(DOCS / ".jupyter_cache"),
        "--ignore", str(DOCS / "_snapshots"), "--re-ignore", r".*\.ipynb_checkpoints.*",
        *session.posargs, env=data_env())


@nox.session
def bench(session):
    """Time a training step of the original, each engine and the port under Pyodide, side by side; print ratios.

    With a built site in docs/_build/html (nox -s docs), it also times live.html in headless Chromium, then in
    each engine side by side (Chromium, Firefox, WebKit: time from Run to the first step, steps per second).
    """
    install(session, "test")
    npm_ci(session)
    env = data_env()
    data = env.get("MICROGPT_DATA") or session.run(
        "python", "-c", "from microgpt.dataset import resolve_data_path; print(resolve_data_path())",
        silent=True).strip()
    site = ["--site", str(BUILD / "html")] if (BUILD / "html" / "live.html").is_file() else []
    session.run("python", "benchmarks/bench.py", "--data", data, *site, *session.posargs)


@nox.session
def run(session):
    """Train and sample, printing exactly what microgpt.py prints (options after --, e.g. -- --steps 100)."""
    install(session)
    session.run("microgpt", "run", *session.posargs, env=data_env())


@nox.session
def lint(session):
    """ruff over everything but the original, which is never reformatted."""
    session.install("ruff")
    session.run("ruff", "check", ".", *session.posargs)

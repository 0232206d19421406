import os
import subprocess
import sys
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


def build_site(out: Path, cache: Path, *extra) -> subprocess.CompletedProcess:
    """A clean build of the real site with its own jupyter cache, as `nox -s docs` runs it."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-b", "html", "-d", str(out / ".doctrees"),
         "-D", f"nb_execution_cache_path={cache}", *extra, str(DOCS), str(out / "html")],
        capture_output=True, text=True, env=env)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built once per test session from scratch with -n -W."""
    tmp = tmp_path_factory.mktemp("site")
    result = build_site(tmp / "a", tmp / "cache-a")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "WARNING:" not in result.stderr, result.stderr  # Sphinx warnings (the kernel logs its own noise)
    return tmp / "a" / "html"


@pytest.fixture(scope="session")
def export_30(tmp_path_factory, names_path):
    """`microgpt snapshot --engine scalar --steps 30 --checkpoint-every 10`, as CPython writes it."""
    from microgpt.cli import main

    out = tmp_path_factory.mktemp("snap") / "out"
    assert main(["snapshot", "--out", str(out), "--data", str(names_path), "--engine", "scalar", "--steps", "30",
                 "--checkpoint-every", "10"]) == 0
    return out

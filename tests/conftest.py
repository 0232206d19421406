import os
from pathlib import Path

import pytest
from hypothesis import settings

from microgpt.dataset import DATA_ENV, resolve_data_path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "microgpt.py"
TRANSCRIPT = ROOT / "reference" / "microgpt.out.txt"
SHARED_NAMES = ROOT.parent / "shared" / "data" / "names.txt"

settings.register_profile("default", deadline=None, print_blob=True)
settings.load_profile("default")


@pytest.fixture(scope="session")
def names_path() -> Path:
    """names.txt: $MICROGPT_DATA, else ../shared/data/names.txt, else the package's cache or download."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    if SHARED_NAMES.is_file():
        return SHARED_NAMES
    return resolve_data_path()


@pytest.fixture(scope="session")
def names_docs(names_path):
    from microgpt.dataset import load_docs

    return load_docs(names_path)

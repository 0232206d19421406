"""jupyter-cache hashes only a notebook's code; this keys the cache on the package and data the code runs too."""

import hashlib
import shutil
from pathlib import Path


def source_key(package: Path, data: Path | None = None) -> str:
    """A hash of the package's Python and JSON files (the extension itself excepted) and of the data file."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        parts = set(path.relative_to(package).parts)
        if path.suffix in (".py", ".json") and not parts & {"__pycache__", "sphinxext"}:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    if data is not None and data.is_file():
        digest.update(data.read_bytes())
    return digest.hexdigest()[:16]


def execution_cache_path(root: Path, package: Path, data: Path | None = None) -> str:
    """root/<key>: a new folder whenever the package or data change; folders of older keys are removed."""
    key = source_key(package, data)
    if root.is_dir():
        for stale in root.iterdir():
            if stale.name != key:
                shutil.rmtree(stale, ignore_errors=True)
    return str(root / key)

"""Lines 14-21: find names.txt, read it exactly as the original does, shuffle it.

Where the data comes from, first match wins:
1. an explicit path (``--data PATH`` or ``load_docs(path)``);
2. the environment variable ``MICROGPT_DATA``;
3. the per-user cache file (``$XDG_CACHE_HOME/microgpt/names.txt``, else ``~/.cache/microgpt/names.txt``);
4. a download from ``NAMES_URL``, checked against ``NAMES_SHA256`` before it is written to the cache.

How a file is read: as the original's ``open('input.txt').read()`` reads it in a UTF-8 locale, then its
``.strip().split('\\n')``, each line stripped, empty lines dropped:

- it is decoded as UTF-8; invalid UTF-8 is a ``ValueError`` naming the file, line and byte offset;
- a leading UTF-8 byte-order mark is a character, as the original's ``open()`` keeps it: U+FEFF is not
  whitespace, so it stays glued to the first document and becomes a token (``dataset_report`` says so);
- ``\\r\\n`` and lone ``\\r`` end lines, like the original's text-mode ``open()`` (universal newlines); other
  line separators (``\\x0b``, ``\\x0c``, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028, U+2029) do not: they are
  whitespace, stripped at a document's ends and kept inside it;
- a NUL or any other non-whitespace character is kept: it becomes a token of the vocabulary;
- a very long line is one document; training reads at most its first ``block_size`` tokens;
- a single document is valid: every training step uses it;
- an empty or whitespace-only file is a ``ValueError`` naming the file.
"""

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/refs/heads/master/names.txt"
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
DATA_ENV = "MICROGPT_DATA"
HINT = f"pass a local copy of names.txt with --data PATH or {DATA_ENV}=PATH"  # how the CLI takes the file


class DataError(ValueError):
    """The data file is missing, undecodable or holds no documents."""


def cache_path() -> Path:
    """Where a verified download of names.txt is kept between runs."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "microgpt" / "names.txt"


def resolve_data_path(path=None, *, url=NAMES_URL, sha256=NAMES_SHA256, hint=HINT) -> Path:
    """Pick the data file: explicit path, then $MICROGPT_DATA, then the cache, else download."""
    if path is not None:
        return _existing(Path(path), "the given data path")
    if os.environ.get(DATA_ENV):
        return _existing(Path(os.environ[DATA_ENV]), f"${DATA_ENV}")
    cached = cache_path()
    if cached.is_file():
        return cached
    download(url, cached, sha256, hint)
    return cached


def download(url: str, dest: Path, sha256: str, hint: str = HINT) -> None:
    """Fetch url, check its sha256, and only then move it into place atomically."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            payload = response.read()
    except (urllib.error.URLError, OSError) as e:
        if isinstance(e, urllib.error.HTTPError):
            e.close()  # an HTTPError holds the open response
        reason = getattr(e, "reason", e)
        raise DataError(f"could not download {url} ({reason}); {hint}") from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise DataError(f"download from {url} has sha256 {digest}, expected {sha256}; nothing was written")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def parse_docs(raw: bytes, name: str = "<data>") -> list[str]:
    """Line 19 of the original, on bytes decoded as UTF-8 (a BOM kept) with universal newlines."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(
            f"{name}:{line}: not valid UTF-8 (byte offset {e.start}: {e.reason}, byte 0x{raw[e.start]:02x})"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # what text-mode open() does
    docs = [l.strip() for l in text.strip().split("\n") if l.strip()]  # list[str] of documents
    if not docs:
        what = "is empty" if not raw else "contains only whitespace"
        raise DataError(f"{name} {what}: no documents to train on")
    return docs


def read_data(path=None) -> tuple[Path, bytes]:
    """The data file, resolved, and its bytes."""
    resolved = resolve_data_path(path)
    try:
        return resolved, resolved.read_bytes()
    except OSError as e:
        raise DataError(f"{resolved}: cannot read: {e.strerror}") from None


def load_docs(path=None) -> list[str]:
    """The documents, in file order (the training loop shuffles them with the run's seed)."""
    resolved, raw = read_data(path)
    return parse_docs(raw, str(resolved))


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: no such file ({what})")
    return path

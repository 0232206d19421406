"""Where names.txt comes from, and how a file is read: as the original reads it, bad input named."""

import hashlib
import http.server
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import REFERENCE
from microgpt import dataset
from microgpt.dataset import DataError, download, load_docs, parse_docs, resolve_data_path


def original_parse(text: str) -> list[str]:
    """Line 19 of the original, verbatim, on already-decoded text."""
    return [l.strip() for l in text.strip().split('\n') if l.strip()]


def test_names_parse_as_the_original(names_path):
    text = names_path.read_text(encoding="utf-8")
    assert parse_docs(names_path.read_bytes()) == original_parse(text)
    assert len(load_docs(names_path)) == 32033


@pytest.mark.parametrize("raw, docs", [
    (b"ann\r\nbob\r\n", ["ann", "bob"]),  # CRLF: the \r never reaches a document
    (b"ann\rbob\r", ["ann", "bob"]),  # lone CR ends a line, as in text-mode open()
    (b"\xef\xbb\xbfann\nbob\n", ["\ufeffann", "bob"]),  # BOM: a character to the original's open(), kept
    (b"\xef\xbb\xbf\n ann", ["\ufeff", "ann"]),  # ... and not whitespace: a document of its own here
    ("a\x0bb\x1cc\x85d\u2028e\n\x0cf\u2029".encode(), ["a\x0bb\x1cc\x85d\u2028e", "f"]),  # only \n splits
    (b"a\x00n\nbob", ["a\x00n", "bob"]),  # NUL: kept, it becomes a token
    (b"  ann  \n\n\t\nbob", ["ann", "bob"]),  # surrounding whitespace and blank lines go
    (b"solo", ["solo"]),  # one document is a dataset
    ("zoë\nłukasz\n".encode(), ["zoë", "łukasz"]),  # UTF-8, whatever the locale
    (b"x" * 100_000, ["x" * 100_000]),  # a very long line is one document
])
def test_parse_cases(raw, docs):
    assert parse_docs(raw, "f.txt") == docs


def test_parse_matches_original_text_mode_open(tmp_path):
    raw = b"ann\r\nbob\rcid\n\n  dee \r\n"
    path = tmp_path / "x.txt"
    path.write_bytes(raw)
    with open(path, encoding="utf-8") as f:  # the original's open(), in text mode
        assert parse_docs(raw) == original_parse(f.read())


# Pieces of text the original reads differently from a naive reader: line ends of every kind, whitespace that
# str.strip() removes but split('\n') keeps inside a line, invisible and combining code points, a BOM anywhere.
PIECES = ["a", "b", "é", "e\u0301", "\u0301", "\ufeff", "\x00", "日", "😀", " ", "\t", "\xa0", "\u3000",
          "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029"]
DIFF_ARGV = ["--n-embd", "4", "--n-head", "1", "--block-size", "6", "--steps", "2", "--samples", "2"]
DIFF_CONSTANTS = {"n_embd": 4, "n_head": 1, "block_size": 6, "num_steps": 2, "num_samples": 2}
UTF8 = {**os.environ, "PYTHONUTF8": "1"}  # the original opens input.txt in the locale's encoding: a UTF-8 one


def text_with_a_document():
    """Text the original accepts: at least one line that is not whitespace (else it divides by zero docs)."""
    part = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
    return st.tuples(st.booleans(), part, st.sampled_from("ab日"), part).map(
        lambda t: ("\ufeff" if t[0] else "") + t[1] + t[2] + t[3])


@settings(max_examples=12)
@given(text_with_a_document())
@example("\ufeffemma\nolivia\n")  # the file: the original prints vocab size: 9
@example("\ufeff\r\n\u2028ann\x85\rbo\x1cb\r\n\ne\u0301\n")
def test_the_port_reads_files_as_the_original(text):
    """The edited original and `microgpt run` on the same file: the same bytes out (setup lines, 2 steps, 2 names)."""
    from microgpt.reference import edited_source

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "input.txt").write_bytes(text.encode())
        source = edited_source(REFERENCE.read_text(encoding="utf-8"), **DIFF_CONSTANTS)
        (work / "microgpt.py").write_text(source, encoding="utf-8")
        original = subprocess.run([sys.executable, "microgpt.py"], cwd=work, capture_output=True, env=UTF8)
        port = subprocess.run([sys.executable, "-m", "microgpt", "run", "--data", work / "input.txt", *DIFF_ARGV],
                              capture_output=True, env=UTF8)  # not in `work`, where -m would find the original
    assert original.returncode == 0, original.stderr.decode()
    assert port.returncode == 0, port.stderr.decode()
    assert port.stdout == original.stdout


@pytest.mark.parametrize("raw, message", [
    (b"", "f.txt is empty: no documents to train on"),
    (b" \n\t\r\n  ", "f.txt contains only whitespace: no documents to train on"),
    (b"ann\nb\xffb\n", "f.txt:2: not valid UTF-8 (byte offset 5"),
])
def test_bad_input_is_a_located_value_error(raw, message):
    with pytest.raises(ValueError) as e:
        parse_docs(raw, "f.txt")
    assert str(e.value).startswith(message)


def test_long_line_trains_on_the_first_block(tmp_path):
    from microgpt.config import GPTConfig, TrainConfig
    from microgpt.run import Run

    r = Run.setup(GPTConfig(n_embd=4, n_head=1, block_size=4), TrainConfig(num_steps=1), docs=["abcdefghij" * 50])
    assert len(r.trainer.train(1)) == 1


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv(dataset.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_explicit_path_wins(clean_env, monkeypatch):
    mine, env = clean_env / "mine.txt", clean_env / "env.txt"
    mine.write_text("ann\n"); env.write_text("bob\n")
    monkeypatch.setenv(dataset.DATA_ENV, str(env))
    assert resolve_data_path(mine) == mine
    assert resolve_data_path() == env
    monkeypatch.delenv(dataset.DATA_ENV)
    dataset.cache_path().parent.mkdir(parents=True)
    dataset.cache_path().write_text("cid\n")
    assert resolve_data_path() == dataset.cache_path()


def test_missing_explicit_path(clean_env):
    with pytest.raises(DataError, match="nope.txt: no such file"):
        resolve_data_path(clean_env / "nope.txt")


@pytest.fixture
def server():
    """A local HTTP server: path -> bytes served, to stand in for GitHub."""
    files = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield files, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_then_caches(clean_env, server):
    files, base = server
    files["/names.txt"] = payload = b"ann\nbob\n"
    good = hashlib.sha256(payload).hexdigest()
    path = resolve_data_path(url=base + "/names.txt", sha256=good)
    assert path == dataset.cache_path() and path.read_bytes() == payload
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_download_with_wrong_checksum_writes_nothing(clean_env, server):
    files, base = server
    files["/names.txt"] = b"tampered\n"
    with pytest.raises(DataError, match="expected 00+; nothing was written"):
        resolve_data_path(url=base + "/names.txt", sha256="0" * 64)
    assert not dataset.cache_path().exists()


def test_offline_says_how_to_pass_a_path(clean_env, server):
    _, base = server
    with pytest.raises(DataError) as e:
        download(base + "/missing.txt", clean_env / "out.txt", "0" * 64)
    message = str(e.value)
    assert "\n" not in message and "--data PATH" in message and "MICROGPT_DATA=PATH" in message
    assert not (clean_env / "out.txt").exists()


def test_the_report_on_names_has_nothing_to_say(names_path):
    from microgpt.dataset_report import dataset_report

    raw = names_path.read_bytes()
    docs = original_parse(raw.decode("utf-8"))
    report = dataset_report(raw, 16)
    assert report["notes"] == [] and not report["truncated"] and not report["bom"]
    assert report["num_docs"] == len(docs) and report["distinct_docs"] == len(set(docs))
    assert report["vocab_size"] == len(set("".join(docs))) + 1
    assert report["summary"] == f"{len(docs):,} documents ({len(set(docs)):,} distinct), {report['vocab_size']} tokens"
    longest = max(map(len, docs))
    assert report["fitting_block_size"] == longest + 1  # names.txt fits the original's block_size
    assert dataset_report(raw, longest)["truncated"] == sum(len(d) == longest for d in docs)


ODD = "\ufeffemma\r\nolivia\rjose\u0301\nzoe\u200b\nab\u2028cd\x85\n" + "x" * 40 + "\n"


def test_the_report_names_what_the_model_will_learn_unseen():
    from microgpt.dataset_report import dataset_report

    report = dataset_report(ODD.encode(), 16, "odd.txt")
    assert report["truncated"] == 1 and report["longest"] == 40 and report["fitting_block_size"] == 41
    assert report["bom"]
    assert [(c["code_point"], c["kind"], c["documents"]) for c in report["invisible"]] == [
        ("U+0301 COMBINING ACUTE ACCENT", "a combining mark", 1),
        ("U+200B ZERO WIDTH SPACE", "a format character", 1),
        ("U+2028 LINE SEPARATOR", "a line separator", 1),
        ("U+FEFF ZERO WIDTH NO-BREAK SPACE", "a format character", 1)]  # U+0085 ends a line: stripped, not kept
    assert [(s["code_point"], s["count"], s["ends_lines"]) for s in report["separators"]] == [
        ("U+000D U+000A CRLF", 1, True), ("U+000D CR", 1, True), ("U+0085", 1, False),
        ("U+2028 LINE SEPARATOR", 1, False)]
    notes = report["notes"]
    assert len(notes) == 5 and notes[0].startswith("1 document is longer than block_size 16 allows (the longest, "
                                                   "'xxxxxxxxxxxxxxxxxxxx…', has 40 characters)")
    assert "--block-size 41 would fit them all" in notes[0] and "U+FEFF" in notes[1] and "U+0301" in notes[2]
    docs = original_parse(ODD.replace("\r\n", "\n").replace("\r", "\n"))  # what text-mode open() reads
    assert report["summary"] == f"6 documents (6 distinct), {len(set(''.join(docs))) + 1} tokens"
    assert parse_docs(ODD.encode()) == docs  # said, not changed


def test_plurals():
    from microgpt.dataset_report import plural

    assert [plural(n, "document") for n in (0, 1, 2, 32033)] == [
        "0 documents", "1 document", "2 documents", "32,033 documents"]

"""The files the whole site annotates are the originals, byte for byte."""

import hashlib

from conftest import REFERENCE, ROOT, TRANSCRIPT
from microgpt.sections import REFERENCE_LINES, REFERENCE_SHA256


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reference_source_is_the_original():
    assert sha256(REFERENCE) == REFERENCE_SHA256
    assert len(REFERENCE.read_text(encoding="utf-8").splitlines()) == REFERENCE_LINES


def test_reference_transcript_is_the_original():
    assert sha256(TRANSCRIPT) == "afba81c45f1b2d6e4debeba6d37e27fa94484042b8d06a0abf7af224d2f6dd3f"
    assert len(TRANSCRIPT.read_text(encoding="utf-8").splitlines()) == 1025


def test_provenance_names_both_hashes():
    readme = (ROOT / "reference" / "README.md").read_text(encoding="utf-8")
    assert REFERENCE_SHA256 in readme
    assert sha256(TRANSCRIPT) in readme

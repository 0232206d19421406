"""What a data file will do to the model, said before training: the run itself stays the original's.

The original reads any text silently. Some of it changes the model in ways a reader cannot see in the file:
a document longer than the block is cut, a byte-order mark or a combining mark becomes a token of its own, and
only some line separators end a line. `dataset_report` finds each of these; the CLI prints its notes on stderr
(stdout stays the original's), the live page shows them beside the documents.
"""

import unicodedata

from .dataset import parse_docs

BOM = "\ufeff"
# str.splitlines() ends a line at each of these; the original's split('\n') at none: they are whitespace to strip()
OTHER_SEPARATORS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
INVISIBLE = {"Cc": "a control character", "Cf": "a format character", "Co": "a private-use character",
             "Cn": "an unassigned code point", "Zl": "a line separator", "Zp": "a paragraph separator",
             "Zs": "a space other than U+0020", "Mn": "a combining mark", "Mc": "a combining mark",
             "Me": "a combining mark"}  # Unicode general categories that draw nothing, or draw onto another character


def plural(count: int, word: str) -> str:
    """'1 document', '2 documents', '32,033 documents'."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def code_point(ch: str) -> str:
    """'U+0301 COMBINING ACUTE ACCENT'."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def dataset_report(raw: bytes, block_size: int, name: str = "<data>") -> dict:
    """The documents as the original reads them, and what in them the model will learn without a reader seeing it.

    JSON-ready: counts, the findings by kind, and `notes`, one sentence per finding (none for names.txt at the
    default block_size). A file the original cannot read raises the dataset's DataError.
    """
    docs = parse_docs(raw, name)
    text = raw.decode("utf-8")
    vocab = sorted(set("".join(docs)))
    longest = max(docs, key=len)
    crlf = text.count("\r\n")
    report = {
        "num_docs": len(docs), "distinct_docs": len(set(docs)), "vocab_size": len(vocab) + 1,
        "summary": f"{plural(len(docs), 'document')} ({len(set(docs)):,} distinct), {plural(len(vocab) + 1, 'token')}",
        "block_size": block_size,
        "truncated": sum(len(d) + 1 > block_size for d in docs),  # BOS + doc + BOS: block_size predictions at most
        "longest": len(longest), "fitting_block_size": len(longest) + 1,
        "bom": text.startswith(BOM),
        "invisible": [{"code_point": code_point(ch), "kind": INVISIBLE[unicodedata.category(ch)],
                       "documents": sum(ch in d for d in docs)}
                      for ch in vocab if unicodedata.category(ch) in INVISIBLE and ch != " "],
        "separators": [{"code_point": cp, "count": n, "ends_lines": ends} for cp, n, ends in [
            ("U+000D U+000A CRLF", crlf, True), ("U+000D CR", text.count("\r") - crlf, True),
            *((code_point(ch), text.count(ch), False) for ch in OTHER_SEPARATORS)] if n],
    }
    report["notes"] = notes(report, longest)
    return report


def notes(report: dict, longest: str) -> list[str]:
    """One sentence per finding, for a reader: what the model will do with it."""
    out = []
    if report["truncated"]:
        shown = longest if len(longest) <= 24 else longest[:20] + "…"
        out.append(f"{plural(report['truncated'], 'document')} {'is' if report['truncated'] == 1 else 'are'} "
                   f"longer than block_size {report['block_size']} allows (the longest, {shown!r}, has "
                   f"{plural(report['longest'], 'character')}): training learns only the first "
                   f"{plural(report['block_size'], 'character')} of each, never where it ends; --block-size "
                   f"{report['fitting_block_size']} would fit them all.")
    if report["bom"]:
        out.append("The file starts with a byte-order mark (U+FEFF): the original keeps it as a character, so it "
                   "is a token of the vocabulary, glued to the first document.")
    if report["invisible"]:
        listed = "; ".join(f"{c['code_point']}, {c['kind']}, in {plural(c['documents'], 'document')}"
                           for c in report["invisible"])
        out.append(f"Invisible code points, each a token of its own: {listed}.")
    ending = [f"{s['code_point']} ({plural(s['count'], 'time')})" for s in report["separators"] if s["ends_lines"]]
    if ending:
        out.append(f"Lines also end with {' and '.join(ending)}: the original's open() reads each as a line end.")
    other = [f"{s['code_point']} ({plural(s['count'], 'time')})" for s in report["separators"] if not s["ends_lines"]]
    if other:
        out.append(f"Line separators that do not end a line: {'; '.join(other)}. The original splits at U+000A "
                   "only: these are whitespace, stripped at a document's ends and kept inside one.")
    return out

import importlib

import pytest

from conftest import REFERENCE
from microgpt.sections import REFERENCE_LINES, SECTIONS, by_id, line_of, original_lines, section_of

LINES = REFERENCE.read_text(encoding="utf-8").splitlines()


def test_ranges_cover_the_file_in_order_without_overlap():
    covered = [n for s in SECTIONS for n in s.lines]
    assert covered == list(range(1, REFERENCE_LINES + 1))


def test_each_range_starts_at_the_originals_own_header():
    assert SECTIONS[0].first == 1 and LINES[0] == '"""'
    for s in SECTIONS[1:]:
        assert LINES[s.first - 1].startswith("# "), (s.id, LINES[s.first - 1])
        assert not LINES[s.first - 2].startswith("#"), f"{s.id} starts inside a longer comment header"


def test_each_range_ends_before_the_next_header():
    for s, nxt in zip(SECTIONS, SECTIONS[1:]):
        assert s.last == nxt.first - 1


def test_modules_exist_and_ids_are_unique():
    assert len({s.id for s in SECTIONS}) == len(SECTIONS)
    for s in SECTIONS:
        importlib.import_module(s.module)


def test_lookups():
    assert section_of(129).id == "model"
    assert by_id("training").first == 151


def test_a_line_is_found_by_its_text_in_the_original_the_package_ships():
    assert original_lines() == tuple(LINES)
    assert line_of("num params:") == 90 and LINES[89].startswith('print(f"num params')
    with pytest.raises(ValueError, match=r"'p.grad' is on \d+ lines of microgpt.py"):
        line_of("p.grad")
    with pytest.raises(ValueError, match="is on 0 lines"):
        line_of("not in the original")

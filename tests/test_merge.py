"""wiki.merge: line-based three-way merge where only overlapping changes conflict."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wiki.merge import BOTH, CONFLICT, OURS, SAME, THEIRS, merge3, split_lines

BASE = "eins\nzwei\ndrei\nvier\nfünf\n"


def edit(text: str, **changes: str | None) -> str:
    """``text`` with lines replaced by name (``zwei="2"``) or deleted (``zwei=None``)."""
    out = []
    for line in split_lines(text):
        key = line.rstrip("\n")
        if key in changes:
            if changes[key] is not None:
                out.append(changes[key] + "\n")
        else:
            out.append(line)
    return "".join(out)


def test_split_lines_keeps_newlines_and_only_splits_on_newline():
    assert split_lines("") == []
    assert split_lines("a") == ["a"]
    assert split_lines("a\n") == ["a\n"]
    assert split_lines("a\r\nb\x0cc\n\nd") == ["a\r\n", "b\x0cc\n", "\n", "d"]
    assert split_lines(b"a\nb") == [b"a\n", b"b"]


def test_adjacent_line_edits_merge():
    ours = edit(BASE, zwei="ZWEI")
    theirs = edit(BASE, drei="DREI")
    result = merge3(BASE, ours, theirs)
    assert result.clean
    assert result.text() == "eins\nZWEI\nDREI\nvier\nfünf\n"
    assert [c.kind for c in result.chunks] == [SAME, OURS, THEIRS, SAME]


def test_edits_on_first_and_last_line_merge():
    result = merge3(BASE, edit(BASE, eins="1"), edit(BASE, fünf="5"))
    assert result.text() == "1\nzwei\ndrei\nvier\n5\n"


def test_same_line_conflicts():
    ours = edit(BASE, drei="meins")
    theirs = edit(BASE, drei="deins")
    result = merge3(BASE, ours, theirs)
    assert not result.clean
    [conflict] = result.conflicts
    assert conflict.kind == CONFLICT
    assert conflict.base == ("drei\n",)
    assert conflict.ours == ("meins\n",) and conflict.theirs == ("deins\n",)
    assert conflict.merged is None
    with pytest.raises(ValueError):
        result.text()
    assert result.text("ours") == ours
    assert result.text("theirs") == theirs
    assert result.with_markers() == (
        "eins\nzwei\n<<<<<<< ours\nmeins\n=======\ndeins\n>>>>>>> theirs\nvier\nfünf\n"
    )


def test_overlapping_ranges_conflict_as_one_region():
    ours = edit(BASE, zwei="2", drei="3")
    theirs = edit(BASE, drei="III", vier="IV")
    result = merge3(BASE, ours, theirs)
    [conflict] = result.conflicts
    assert conflict.base == ("zwei\n", "drei\n", "vier\n")
    assert conflict.ours == ("2\n", "3\n", "vier\n")
    assert conflict.theirs == ("zwei\n", "III\n", "IV\n")
    # the text around the conflict is kept
    assert result.text("ours") == "eins\n2\n3\nvier\nfünf\n"


def test_identical_edits_merge_once():
    ours = edit(BASE, zwei="ZWEI", vier=None)
    result = merge3(BASE, ours, ours)
    assert result.clean and result.text() == ours
    assert BOTH in {c.kind for c in result.chunks}


def test_identical_change_next_to_a_one_sided_change():
    ours = edit(BASE, zwei="ZWEI", vier="VIER")
    theirs = edit(BASE, zwei="ZWEI")
    assert merge3(BASE, ours, theirs).text() == ours


def test_insertions_at_the_same_spot_conflict_unless_identical():
    ours = BASE.replace("drei\n", "drei\nneu A\n")
    theirs = BASE.replace("drei\n", "drei\nneu B\n")
    result = merge3(BASE, ours, theirs)
    [conflict] = result.conflicts
    assert conflict.base == () and conflict.ours == ("neu A\n",)
    assert conflict.theirs == ("neu B\n",)
    assert merge3(BASE, ours, ours).text() == ours


def test_insertions_at_different_spots_merge():
    ours = BASE.replace("zwei\n", "zwei\nA\n")
    theirs = BASE.replace("drei\n", "drei\nB\n")
    assert merge3(BASE, ours, theirs).text() == "eins\nzwei\nA\ndrei\nB\nvier\nfünf\n"


def test_insertion_next_to_an_edit_merges():
    ours = BASE.replace("drei\n", "drei\nneu\n")  # inserted after "drei"
    before = merge3(BASE, ours, edit(BASE, drei="DREI"))
    after = merge3(BASE, ours, edit(BASE, vier="VIER"))
    assert before.text() == "eins\nzwei\nDREI\nneu\nvier\nfünf\n"
    assert after.text() == "eins\nzwei\ndrei\nneu\nVIER\nfünf\n"


def test_insertion_inside_a_changed_range_conflicts():
    ours = BASE.replace("drei\n", "drei\nneu\n")  # between "drei" and "vier"
    theirs = edit(BASE, drei="3", vier="4")
    assert not merge3(BASE, ours, theirs).clean


def test_deletion_against_edit():
    deleted = edit(BASE, drei=None)
    assert not merge3(BASE, deleted, edit(BASE, drei="DREI")).clean
    assert merge3(BASE, deleted, edit(BASE, vier="VIER")).text() == "eins\nzwei\nVIER\nfünf\n"
    assert merge3(BASE, edit(BASE, zwei="2"), deleted).text() == "eins\n2\nvier\nfünf\n"
    # both deleting the same line is the same change
    assert merge3(BASE, deleted, deleted).text() == deleted
    # deleting a range while the other side edits a line inside it
    assert not merge3(BASE, edit(BASE, zwei=None, drei=None, vier=None), edit(BASE, drei="3")).clean


def test_empty_base():
    assert merge3("", "", "").text() == ""
    assert merge3("", "neu\n", "").text() == "neu\n"
    assert merge3("", "", "neu\n").text() == "neu\n"
    assert merge3("", "gleich\n", "gleich\n").text() == "gleich\n"
    result = merge3("", "meins\n", "deins\n")
    assert not result.clean and result.conflicts[0].base == ()


def test_emptied_on_one_side():
    assert merge3(BASE, "", BASE).text() == ""
    assert not merge3(BASE, "", edit(BASE, drei="3")).clean


def test_trailing_newline():
    base = "a\nb\nc"
    # the last line without "\n" is a line of its own: appending after it changes it
    assert merge3(base, "A\nb\nc", "a\nb\nc\nd").text() == "A\nb\nc\nd"
    assert merge3(base, "a\nb\nc\n", "A\nb\nc").text() == "A\nb\nc\n"
    # both changing the last line (one only adds the newline) is a conflict, as in git
    result = merge3(base, "a\nb\nc\n", "a\nb\nC")
    assert not result.clean
    assert result.with_markers() == ("a\nb\n<<<<<<< ours\nc\n=======\nC\n>>>>>>> theirs\n")


def test_bytes_and_markers_like_git():
    result = merge3(b"x\ny\n", b"x\nours\n", b"x\ntheirs\n")
    assert result.with_markers() == b"x\n<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\n"
    assert merge3(b"x\ny\n", b"X\ny\n", b"x\nY\n").text() == b"X\nY\n"


def test_long_text_with_many_changes_is_fast():
    import time

    base = "".join(f"Zeile {i}\n" for i in range(20000))
    ours = "".join(f"Zeile {i}\n" for i in range(20000) if i % 2)
    theirs = "".join(f"Zeile {i}\n" if i % 3 else f"geändert {i}\n" for i in range(20000))
    start = time.perf_counter()
    result = merge3(base, ours, theirs)
    assert time.perf_counter() - start < 5
    assert not result.clean  # line 0 is deleted by one side and changed by the other
    assert "geändert 3\n" in result.text("ours") and "Zeile 2\n" not in result.text("ours")


# ---- properties ----------------------------------------------------------------------------------

LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "d", "ä\n"]), max_size=12)
TEXTS = LINES.map("".join)


def partition_holds(result, base, ours, theirs):
    for side, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        assert "".join(line for c in result.chunks for line in getattr(c, side)) == text
    for chunk in result.chunks:
        if chunk.kind == SAME:
            assert chunk.base == chunk.ours == chunk.theirs
        elif chunk.kind == OURS:
            assert chunk.theirs == chunk.base != chunk.ours
        elif chunk.kind == THEIRS:
            assert chunk.ours == chunk.base != chunk.theirs
        elif chunk.kind == BOTH:
            assert chunk.ours == chunk.theirs
        else:
            assert chunk.ours != chunk.theirs


@settings(max_examples=300, deadline=None)
@given(TEXTS, TEXTS, TEXTS)
def test_chunks_cover_all_three_texts(base, ours, theirs):
    partition_holds(merge3(base, ours, theirs), base, ours, theirs)


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS)
def test_when_only_one_side_changes_the_result_is_that_side(base, changed):
    assert merge3(base, changed, base).text() == changed
    assert merge3(base, base, changed).text() == changed


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS)
def test_merging_the_same_change_twice_gives_it(base, changed):
    assert merge3(base, changed, changed).text() == changed


@st.composite
def disjoint_edits(draw):
    """A base of distinct lines and two sides that change different lines and gaps.

    Each base line is changed (replaced or deleted) by at most one side; each gap between lines
    gets insertions from at most one side, and never inside a run of lines the other side
    changes (that would overlap). Adjacent changes of both sides are what this is about.
    """
    n = draw(st.integers(0, 14))
    base = [f"b{i}\n" for i in range(n)]
    owner = draw(st.lists(st.sampled_from([None, 0, 1]), min_size=n, max_size=n))
    deleted = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    gaps = draw(st.lists(st.sampled_from([None, 0, 1]), min_size=n + 1, max_size=n + 1))
    sides: list[list[str]] = [[], []]
    merged: list[str] = []
    for gap in range(n + 1):
        who = gaps[gap]
        if who is not None:
            other = 1 - who
            inside = 0 < gap < n and owner[gap - 1] == other and owner[gap] == other
            if not inside:
                line = f"insert{who}-{gap}\n"
                sides[who].append(line)
                merged.append(line)
        if gap == n:
            break
        line = base[gap]
        for side in (0, 1):
            if owner[gap] == side:
                if not deleted[gap]:
                    new = f"side{side}-{gap}\n"
                    sides[side].append(new)
                    merged.append(new)
            else:
                sides[side].append(line)
        if owner[gap] is None:
            merged.append(line)
    return "".join(base), "".join(sides[0]), "".join(sides[1]), "".join(merged)


@settings(max_examples=400, deadline=None)
@given(disjoint_edits())
def test_a_clean_merge_contains_every_non_conflicting_change(case):
    base, ours, theirs, expected = case
    result = merge3(base, ours, theirs)
    assert result.clean, result.chunks
    assert result.text() == expected
    assert merge3(base, theirs, ours).text() == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10), st.data())
def test_different_changes_of_one_line_always_conflict(n, data):
    base = [f"b{i}\n" for i in range(n)]
    line = data.draw(st.integers(0, n - 1))
    ours, theirs = base[:], base[:]
    ours[line] = "ours\n"
    theirs[line] = data.draw(st.sampled_from(["theirs\n", ""]))  # edit or delete
    result = merge3("".join(base), "".join(ours), "".join(theirs))
    assert not result.clean
    assert result.text("ours") == "".join(ours)
    assert result.text("theirs") == "".join(theirs)

"""GFM tables for the page renderer (no Flask).

Replaces the block rules of mistune's ``table`` plugin (its renderers stay) with the GFM rules:
a header row and a delimiter row with the same number of cells, leading and trailing pipes
optional; body rows run until a blank line or the start of another block, a line without pipes
included; a row with fewer cells is padded with empty cells, extra cells are dropped; ``\\|``
is a pipe in the cell text, inside code spans too. A table without body rows has no
``<tbody>``.
"""

from __future__ import annotations

import re
from typing import Any

import mistune

# A header line and a delimiter row, each with a pipe (a lone ``---`` makes a setext heading);
# written without nested or adjacent repeats that could backtrack, cells checked in parse_table.
TABLE_PATTERN = (
    r"^ {0,3}(?P<table_head>[^\n|]*\|[^\n]*)\n"
    r"(?P<table_align>(?=[^\n]*\|) {0,3}[|: \t]*-[|:\- \t]*)(?:\n|$)"
)
# Empty cells added to short rows, per table: a wide header over many one-cell lines must not
# grow the output quadratically (cmark-gfm limits this too); the table ends when it is used up.
PAD_LIMIT = 10_000
_ALIGN_RE = re.compile(r"(:?)-+(:?)")
# Lines that start another block and so end the table body.
_BLOCK_START_RE = re.compile(
    r" {0,3}(?:>|#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|(?:[*_-][ \t]*){3,}$|[-+*][ \t]|\d{1,9}[.)][ \t])"
)


def split_cells(line: str) -> list[str]:
    """The cells of a table row: outer pipes optional, ``\\|`` a pipe inside a cell."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not _escaped(text, len(text) - 1):
        text = text[:-1]
    cells, start = [], 0
    for pos, char in enumerate(text):
        if char == "|" and not _escaped(text, pos):
            cells.append(text[start:pos])
            start = pos + 1
    cells.append(text[start:])
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _escaped(text: str, pos: int) -> bool:
    count = 0
    while pos > count and text[pos - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _align(cell: str) -> str | None:
    m = _ALIGN_RE.fullmatch(cell)
    if not m:
        return None
    left, right = bool(m.group(1)), bool(m.group(2))
    return "center" if left and right else "left" if left else "right" if right else None


def _cells(texts: list[str], aligns: list[str | None], head: bool) -> list[dict[str, Any]]:
    return [
        {"type": "table_cell", "text": text, "attrs": {"align": align, "head": head}}
        for text, align in zip(texts, aligns, strict=True)
    ]


def parse_table(block: Any, m: re.Match[str], state: Any) -> int | None:
    """A GFM table at the cursor, or None (then the lines are read as other blocks)."""
    head = split_cells(m.group("table_head"))
    delimiter = split_cells(m.group("table_align"))
    if not all(_ALIGN_RE.fullmatch(cell) for cell in delimiter):
        return None
    aligns = [_align(cell) for cell in delimiter]
    if len(head) != len(aligns):
        return None
    rows = []
    pos = m.end()
    budget = PAD_LIMIT
    while pos < state.cursor_max:
        end = state.src.find("\n", pos)
        end = state.cursor_max if end == -1 else end + 1
        line = state.src[pos:end].rstrip("\n")
        if not line.strip() or _BLOCK_START_RE.match(line):
            break
        cells = split_cells(line)[: len(aligns)]
        missing = len(aligns) - len(cells)
        if missing > budget:
            break
        budget -= missing
        cells += [""] * missing
        rows.append({"type": "table_row", "children": _cells(cells, aligns, head=False)})
        pos = end
    children = [{"type": "table_head", "children": _cells(head, aligns, head=True)}]
    if rows:
        children.append({"type": "table_body", "children": rows})
    state.append_token({"type": "table", "children": children})
    return pos


def gfm_table_plugin(md: mistune.Markdown) -> None:
    """mistune plugin: GFM table parsing (after mistune's ``table``, whose renderers it keeps)."""
    md.block.register("table", TABLE_PATTERN, parse_table, before="paragraph")
    if "nptable" in md.block.rules:
        md.block.rules.remove("nptable")

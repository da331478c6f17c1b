"""Three-way merge of texts, line by line (no Flask, no git).

The rule is that of ``diff3`` / ``git merge-file`` with a 0-line context:

* Each side's changes against the base are found with :class:`difflib.SequenceMatcher` (after
  anchoring on lines that are unique on both sides, as patience diff does). A change
  replaces the base lines ``[i1, i2)`` (an empty range for a pure insertion before line ``i1``).
* Changes of the two sides **conflict only when their base ranges overlap**: they share a base
  line, one side inserts strictly inside the range the other side replaces, or both insert at
  the same position. Such a stretch is a conflict unless both sides produce the same lines there.
* Everything else merges cleanly: changes on adjacent lines, an insertion right before or after
  a range the other side changed, a deletion next to an edit, identical changes on both sides.
  (``git merge-file`` instead treats changes on adjacent lines as a conflict.)

Lines keep their ``\\n``; a last line without one is a different line than the same text with
one, so adding or removing the final newline is a change of the last line. Works on ``str`` or
on ``bytes`` (all three arguments of the same type).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Generic, Literal, TypeVar

__all__ = ["BOTH", "CONFLICT", "OURS", "SAME", "THEIRS", "Chunk", "Merge", "merge3", "split_lines"]

T = TypeVar("T", str, bytes)

SAME = "same"  # neither side changed this stretch
OURS = "ours"  # only our side changed it
THEIRS = "theirs"  # only their side changed it
BOTH = "both"  # both sides made the same change
CONFLICT = "conflict"  # both sides changed it differently
Kind = Literal["same", "ours", "theirs", "both", "conflict"]

# A change of one side: base range [i1, i2) and the lines that replace it.
_Change = tuple[int, int, tuple]


def split_lines(text: T) -> list[T]:
    """``text`` as lines that keep their ``\\n`` (only ``\\n`` separates lines)."""
    if not text:
        return []
    nl = "\n" if isinstance(text, str) else b"\n"
    parts = text.split(nl)
    lines = [part + nl for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


@dataclass(frozen=True)
class Chunk(Generic[T]):
    """One stretch of the merge, as lines of the base and of both sides."""

    kind: Kind
    base: tuple[T, ...]
    ours: tuple[T, ...]
    theirs: tuple[T, ...]

    @property
    def conflict(self) -> bool:
        return self.kind == CONFLICT

    @property
    def differs(self) -> bool:
        """True if the two sides read differently here."""
        return self.ours != self.theirs

    @property
    def merged(self) -> tuple[T, ...] | None:
        """The merged lines of this stretch; None for a conflict."""
        if self.kind == CONFLICT:
            return None
        return self.theirs if self.kind == THEIRS else self.ours


@dataclass(frozen=True)
class Merge(Generic[T]):
    """The result: consecutive chunks that together cover the base and both sides."""

    chunks: tuple[Chunk[T], ...]
    empty: T  # "" or b"", to join lines of the right type

    @property
    def clean(self) -> bool:
        return not any(chunk.conflict for chunk in self.chunks)

    @property
    def conflicts(self) -> list[Chunk[T]]:
        return [chunk for chunk in self.chunks if chunk.conflict]

    def text(self, prefer: Literal["ours", "theirs"] | None = None) -> T:
        """The merged text; conflicting stretches from side ``prefer`` (ValueError if None)."""
        out: list[T] = []
        for chunk in self.chunks:
            lines = chunk.merged
            if lines is None:
                if prefer is None:
                    raise ValueError("the merge has conflicts")
                lines = chunk.ours if prefer == OURS else chunk.theirs
            out.extend(lines)
        return self.empty.join(out)

    def with_markers(self, ours: str = "ours", theirs: str = "theirs") -> T:
        """The merged text with conflicts written as ``git merge-file`` writes them (for tools)."""
        conv = (lambda s: s) if isinstance(self.empty, str) else (lambda s: s.encode("utf-8"))
        nl = conv("\n")
        out: list[T] = []
        for chunk in self.chunks:
            if not chunk.conflict:
                out.extend(chunk.merged)
                continue
            for marker, lines in (
                (f"<<<<<<< {ours}", chunk.ours),
                ("=======", chunk.theirs),
            ):
                if out and not out[-1].endswith(nl):
                    out.append(nl)
                out.append(conv(marker) + nl)
                out.extend(lines)
            if out and not out[-1].endswith(nl):
                out.append(nl)
            out.append(conv(f">>>>>>> {theirs}") + nl)
        return self.empty.join(out)


# Above this many line pairs a region without unique common lines is not handed to difflib
# (quadratic; this runs under the write lock) but taken as one change: more conflicts, never a
# wrong merge.
_DIFFLIB_MAX_PAIRS = 1_000_000


def _anchors(a: list, b: list, alo: int, ahi: int, blo: int, bhi: int) -> list[tuple[int, int]]:
    """Lines unique in both regions, as (i, j) pairs in a longest increasing run (patience)."""
    count: dict = {}
    for i in range(alo, ahi):
        count[a[i]] = (count[a[i]][0] + 1, i) if a[i] in count else (1, i)
    seen: dict = {}
    for j in range(blo, bhi):
        line = b[j]
        if line in count and count[line][0] == 1:
            seen[line] = (seen[line][0] + 1, j) if line in seen else (1, j)
    pairs = sorted((count[line][1], j) for line, (n, j) in seen.items() if n == 1)
    # Longest increasing subsequence of the j's (patience sorting), then walk it back.
    tails: list[int] = []
    tail_at: list[int] = []
    prev = [-1] * len(pairs)
    for k, (_i, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pos] = j
            tail_at[pos] = k
        prev[k] = tail_at[pos - 1] if pos else -1
    out = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = prev[k]
    return out[::-1]


def _changes(base: list, other: list) -> list[_Change]:
    """The changes that turn ``base`` into ``other``, in base order.

    Patience-style: common prefix and suffix are skipped, lines unique on both sides anchor the
    rest, and only the stretches between anchors go to :class:`difflib.SequenceMatcher` (which
    is quadratic on long inputs).
    """
    out: list[_Change] = []
    stack = [(0, len(base), 0, len(other))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        while alo < ahi and blo < bhi and base[alo] == other[blo]:
            alo, blo = alo + 1, blo + 1
        while alo < ahi and blo < bhi and base[ahi - 1] == other[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
        if alo == ahi and blo == bhi:
            continue
        if alo == ahi or blo == bhi:
            out.append((alo, ahi, tuple(other[blo:bhi])))
            continue
        anchors = _anchors(base, other, alo, ahi, blo, bhi)
        if anchors:
            for i, j in anchors:
                stack.append((alo, i, blo, j))
                alo, blo = i + 1, j + 1
            stack.append((alo, ahi, blo, bhi))
            continue
        if (ahi - alo) * (bhi - blo) > _DIFFLIB_MAX_PAIRS:
            out.append((alo, ahi, tuple(other[blo:bhi])))
            continue
        matcher = SequenceMatcher(None, base[alo:ahi], other[blo:bhi])
        out.extend(
            (alo + i1, alo + i2, tuple(other[blo + j1 : blo + j2]))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        )
    out.sort(key=lambda change: (change[0], change[1]))
    return out


def _overlaps(start: int, end: int, change: _Change) -> bool:
    """True if ``change`` conflicts with a stretch ``[start, end)`` of the other side's changes."""
    i1, i2 = change[0], change[1]
    if start == end == i1 == i2:
        return True  # both insert at the same position
    return i1 < end and start < i2  # a shared line, or an insertion strictly inside


def _apply(base: list, start: int, end: int, changes: list[_Change]) -> tuple:
    """``base[start:end]`` with ``changes`` (inside that stretch, in order) applied."""
    out: list = []
    pos = start
    for i1, i2, lines in changes:
        out.extend(base[pos:i1])
        out.extend(lines)
        pos = i2
    out.extend(base[pos:end])
    return tuple(out)


def merge3(base: T, ours: T, theirs: T) -> Merge[T]:
    """Merge the changes ``base → ours`` and ``base → theirs`` (see the module's rule)."""
    base_lines, our_lines, their_lines = split_lines(base), split_lines(ours), split_lines(theirs)
    tagged = [(*c, 0) for c in _changes(base_lines, our_lines)]
    tagged += [(*c, 1) for c in _changes(base_lines, their_lines)]
    tagged.sort(key=lambda c: (c[0], c[1], c[3]))
    chunks: list[Chunk] = []
    pos = 0
    k = 0
    while k < len(tagged):
        start, end = tagged[k][0], tagged[k][1]
        group = [tagged[k]]
        k += 1
        while k < len(tagged) and _overlaps(start, end, tagged[k]):
            group.append(tagged[k])
            end = max(end, tagged[k][1])
            k += 1
        if pos < start:
            same = tuple(base_lines[pos:start])
            chunks.append(Chunk(SAME, same, same, same))
        sides = [[c[:3] for c in group if c[3] == side] for side in (0, 1)]
        mine = _apply(base_lines, start, end, sides[0])
        other = _apply(base_lines, start, end, sides[1])
        if not sides[1]:
            kind = OURS
        elif not sides[0]:
            kind = THEIRS
        else:
            kind = BOTH if mine == other else CONFLICT
        chunks.append(Chunk(kind, tuple(base_lines[start:end]), mine, other))
        pos = end
    if pos < len(base_lines):
        same = tuple(base_lines[pos:])
        chunks.append(Chunk(SAME, same, same, same))
    return Merge(tuple(chunks), base[:0])

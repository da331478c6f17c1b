"""Highlighted excerpts: the part of a page's text with the most query words, marked up.

A stem such as ``beschluss`` is turned into one regular expression that finds the written
forms it may come from (``Beschluss``, ``Beschlüsse``, ``BESCHLUESSE`` …), so that a text is
scanned once in C; every candidate is then confirmed with the same analysis as the index.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

from markupsafe import Markup, escape

from wiki.search.analysis import fold, stem

_VARIANTS = {"a": "(?:ä|ae|a)", "o": "(?:ö|oe|o)", "u": "(?:ü|ue|u)"}
#: How much of a long text is searched for the excerpt.
SCAN_LIMIT = 30_000


def _pattern(folded: str) -> str:
    out = []
    i = 0
    while i < len(folded):
        if folded.startswith("ss", i):
            out.append("(?:ss|ß)")
            i += 2
            continue
        ch = folded[i]
        out.append(_VARIANTS.get(ch, re.escape(ch)))
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def _matcher(stems: tuple[str, ...], prefixes: tuple[str, ...]):
    parts = sorted({_pattern(s) for s in (*stems, *prefixes) if s}, key=len, reverse=True)
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")\w*", re.I)


class Highlighter:
    """Finds the words of one query in texts."""

    def __init__(self, stems, prefixes):
        self.stems = frozenset(stems)
        self.prefixes = tuple(sorted(set(prefixes)))
        self.regex = _matcher(tuple(sorted(self.stems)), self.prefixes)

    def matches(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, key) of every query word in ``text``."""
        if self.regex is None or not text:
            return []
        found = []
        for match in self.regex.finditer(text, 0, SCAN_LIMIT):
            word = match.group(0)
            key = stem(word.lower())
            if key in self.stems:
                found.append((match.start(), match.end(), key))
                continue
            folded = fold(word)
            for prefix in self.prefixes:
                if folded.startswith(prefix):
                    found.append((match.start(), match.end(), prefix))
                    break
        return found

    def mark(self, text: str) -> Markup:
        """All of ``text`` with the query words in ``<mark>``."""
        return _render(text, 0, len(text), self.matches(text))

    def snippet(self, text: str, width: int = 240) -> Markup:
        """The excerpt of about ``width`` characters with the most distinct query words."""
        text = text.replace("\n", " ")
        found = self.matches(text)
        if not found:
            end = _cut_end(text, min(len(text), width))
            return _render(text, 0, end, [])
        best_start, best_score = 0, (-1, 0)
        starts = [m[0] for m in found]
        for anchor, _, _ in found[:60]:
            window_start = max(0, anchor - width // 4)
            window_end = window_start + width
            window = found[bisect_left(starts, window_start) : bisect_right(starts, window_end)]
            score = (len({key for _, e, key in window if e <= window_end}), len(window))
            if score > best_score:
                best_score, best_start = score, window_start
        start = _cut_start(text, best_start)
        end = _cut_end(text, min(len(text), start + width))
        inside = [m for m in found if m[0] >= start and m[1] <= end]
        return _render(text, start, end, inside)


def _cut_start(text: str, start: int) -> int:
    if start <= 0:
        return 0
    space = text.find(" ", start)
    return space + 1 if 0 <= space < start + 30 else start


def _cut_end(text: str, end: int) -> int:
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", end - 30, end)
    return space if space > 0 else end


def _render(text: str, start: int, end: int, found) -> Markup:
    parts = ["…" if start > 0 else ""]
    pos = start
    for s, e, _ in found:
        if s < pos:
            continue
        parts.append(str(escape(text[pos:s])))
        parts.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    parts.append(str(escape(text[pos:end])))
    if end < len(text):
        parts.append("…")
    return Markup("".join(parts))

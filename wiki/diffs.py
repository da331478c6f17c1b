"""Line diffs with word-level highlighting, as plain data for templates (no Flask)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

WORD_RE = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
CONTEXT = 3


@dataclass
class Row:
    """One diff row: kind ``ctx``/``add``/``del``/``gap``, line numbers and HTML of the line."""

    kind: str
    old_no: int | None
    new_no: int | None
    html: Markup


def _words(line: str) -> list[str]:
    return WORD_RE.findall(line)


def _highlight(old: str, new: str) -> tuple[Markup, Markup]:
    """Both lines with the changed words wrapped in ``<del>`` / ``<ins>``."""
    a, b = _words(old), _words(new)
    out_old, out_new = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        old_part, new_part = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if tag == "equal":
            out_old.append(old_part)
            out_new.append(new_part)
            continue
        if i2 > i1:
            out_old.append(Markup("<del>") + old_part + Markup("</del>"))
        if j2 > j1:
            out_new.append(Markup("<ins>") + new_part + Markup("</ins>"))
    return Markup("").join(out_old), Markup("").join(out_new)


def diff_rows(old_text: str, new_text: str, context: int = CONTEXT) -> list[Row]:
    """Rows of an inline diff between two texts, with ``context`` unchanged lines around changes."""
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    rows: list[Row] = []
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(Row("gap", None, None, Markup("…")))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    rows.append(Row("ctx", i1 + k + 1, j1 + k + 1, escape(old_lines[i1 + k])))
                continue
            pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            dels, adds = [], []
            for k in range(pairs):
                old_html, new_html = _highlight(old_lines[i1 + k], new_lines[j1 + k])
                dels.append(Row("del", i1 + k + 1, None, old_html))
                adds.append(Row("add", None, j1 + k + 1, new_html))
            for k in range(i1 + pairs, i2):
                dels.append(Row("del", k + 1, None, escape(old_lines[k])))
            for k in range(j1 + pairs, j2):
                adds.append(Row("add", None, k + 1, escape(new_lines[k])))
            rows.extend(dels)
            rows.extend(adds)
    return rows

"""Rewrite wikilinks in markdown source when a page moves (no Flask)."""

from __future__ import annotations

import re

from wiki.pages import is_valid_path, resolve_target

# What the renderer reads as a wikilink (wiki.markup): not inside more brackets, not before "(".
WIKILINK_RE = re.compile(r"(?<!\[)\[\[([^\[\]|#\n]+)(#[^\[\]|\n]*)?(\|[^\[\]\n]*)?\]\](?!\()")
CODE_RE = re.compile(r"(^```.*?^```[ \t]*$|^~~~.*?^~~~[ \t]*$|`[^`\n]+`)", re.M | re.S)


def rewrite_links(text: str, current: str, old: str, new: str) -> str:
    """Point wikilinks in ``text`` (page ``current``) that lead to ``old`` or below to ``new``."""

    def replace(match: re.Match) -> str:
        target, anchor, label = match.group(1), match.group(2) or "", match.group(3) or ""
        resolved = resolve_target(target, current)
        if resolved == old or resolved.startswith(old + "/"):
            moved = new + resolved[len(old) :]
            if not label and target.strip() != moved:
                label = "|" + target.strip()
            return f"[[{moved}{anchor}{label}]]"
        return match.group(0)

    parts = CODE_RE.split(text)
    # Odd indexes are code (the split pattern has one group); leave them untouched.
    return "".join(p if i % 2 else WIKILINK_RE.sub(replace, p) for i, p in enumerate(parts))


def extract_links(text: str, current: str) -> set[str]:
    """Page paths that ``text`` (page ``current``) links to with wikilinks, outside code.

    Used for the ``links`` projection without rendering the page (reindexing 10,000 pages
    would otherwise spend most of its time in the markdown renderer).
    """
    parts = CODE_RE.split(text)
    found = set()
    for index, part in enumerate(parts):
        if index % 2:
            continue
        for match in WIKILINK_RE.finditer(part):
            path = resolve_target(match.group(1), current)
            if path and is_valid_path(path):
                found.add(path)
    return found

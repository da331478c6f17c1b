"""The search schema (core fields plus the plugins'), its fingerprint and the index documents."""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import datetime

from whoosh import fields

from wiki import pages as P
from wiki.search.analysis import (
    ANALYSIS_VERSION,
    CompoundParts,
    FoldedKeywords,
    FoldedText,
    StemmedText,
)

#: Bump when the core fields, the document layout or the index format change (existing
#: indexes are rebuilt). 2: posting blocks packed (``store.PackedCodec``).
SCHEMA_VERSION = 2
#: How much more a word in the title counts than one in the body.
TITLE_BOOST = 4.0
#: Longest plain text kept per page for snippets (characters).
MAX_STORED_TEXT = 100_000

#: Field name → what it is; plugins may not reuse these names.
CORE_FIELDS = (
    "path",
    "title",
    "title_raw",
    "body",
    "parts",
    "content",
    "tags",
    "type",
    "space",
    "visibility",
    "updated",
    "year",
    "author",
    "within",
)
#: The value of ``space`` for pages outside every space.
NO_SPACE = ""


def core_fields() -> dict[str, fields.FieldType]:
    """The core fields of the search schema."""
    return {
        "path": fields.ID(stored=True, unique=True, sortable=True),
        "title": StemmedText(stored=True),
        "title_raw": FoldedText(),
        "body": StemmedText(),
        "parts": CompoundParts(),
        "content": fields.STORED(),
        "tags": FoldedKeywords(stored=True),
        "type": fields.ID(stored=True, sortable=True),
        "space": fields.ID(stored=True, sortable=True),
        "visibility": fields.ID(stored=True),
        "updated": fields.DATETIME(stored=True, sortable=True),
        "year": fields.ID(sortable=True),
        "author": fields.ID(stored=True),
        "within": fields.KEYWORD(scorable=False, lowercase=False),
    }


def plugin_fields(pm) -> dict[str, fields.FieldType]:
    """The fields the plugins add (``wiki_search_fields``); clashing names are refused."""
    result: dict[str, fields.FieldType] = {}
    for group in pm.hook.wiki_search_fields():
        for name, field in (group or {}).items():
            if name in CORE_FIELDS or name.startswith("_") or not re.fullmatch(r"[a-z_]+", name):
                raise ValueError(f"search field name {name!r} is reserved or invalid")
            if not isinstance(field, fields.FieldType):
                raise TypeError(f"search field {name!r} is not a whoosh field")
            result[name] = field
    return result


def make_schema(extra: dict[str, fields.FieldType]) -> fields.Schema:
    """The whoosh schema of core and plugin fields."""
    return fields.Schema(**core_fields(), **extra)


def describe_field(field: fields.FieldType) -> list:
    """A stable description of a field's configuration (for the fingerprint)."""
    fmt = field.format
    analyzer = getattr(field, "analyzer", None)
    return [
        f"{type(field).__module__}.{type(field).__qualname__}",
        type(fmt).__name__ if fmt else None,
        getattr(fmt, "field_boost", None),
        bool(field.stored),
        bool(field.unique),
        bool(field.scorable),
        type(field.column_type).__name__ if field.column_type else None,
        type(analyzer).__name__ if analyzer is not None else None,
        getattr(field, "numtype", None).__name__ if getattr(field, "numtype", None) else None,
        getattr(field, "bits", None),
    ]


def fingerprint(extra: dict[str, fields.FieldType], plugin_names) -> str:
    """A short hash of everything that shapes the index: versions, fields and plugins."""
    data = {
        "schema": SCHEMA_VERSION,
        "analysis": ANALYSIS_VERSION,
        "core": {name: describe_field(f) for name, f in core_fields().items()},
        "plugins": sorted(plugin_names),
        "plugin_fields": {name: describe_field(f) for name, f in sorted(extra.items())},
    }
    raw = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:20]


# -- plain text of a page ---------------------------------------------------------------------

_WIKILINK_RE = re.compile(r"\[\[([^\[\]|\n]+?)(?:\|([^\[\]\n]+?))?\]\]")
_IMAGE_RE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK_RE = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_REF_LINK_RE = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_LINK_DEF_RE = re.compile(r"\[[^\]\n]+\]:[ \t]+\S")
_FOOTNOTE_RE = re.compile(r"\[\^[^\]\s]+\]:?")
_TAG_RE = re.compile(r"<[^>\n]{0,500}>")
_AUTOLINK_RE = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_LINE_START_RE = re.compile(r"(?:#{1,6}\s+|>\s?|:\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)+")
_TABLE_RULE_RE = re.compile(r"\|?\s*:?-{3,}[-|\s:]*")
_UNDERSCORE_RE = re.compile(r"(?<!\w)_+|_+(?!\w)")
#: Emphasis and code marks are dropped, table bars and tabs become spaces.
_MARKS = (("*", ""), ("`", ""), ("~~", ""), ("==", ""), ("|", " "), ("\t", " "), ("\r", " "))
_LINE_MARKS = "#>-*+0123456789|:`~["


def _wikilink_text(match: re.Match) -> str:
    return match.group(2) or match.group(1).split("#", 1)[0]


def plain_text(markdown: str) -> str:
    """Readable text of a page body: markup, link targets and HTML dropped, entities decoded."""
    text = markdown
    if "[" in text:
        text = _WIKILINK_RE.sub(_wikilink_text, text)
        if "](" in text:
            text = _IMAGE_RE.sub(r"\1", text)
            text = _LINK_RE.sub(r"\1", text)
        if "][" in text:
            text = _REF_LINK_RE.sub(r"\1", text)
        if "[^" in text:
            text = _FOOTNOTE_RE.sub(" ", text)
    if "<" in text:
        text = _AUTOLINK_RE.sub(r"\1", text)
        text = _TAG_RE.sub(" ", text)
    lines = []
    for line in text.split("\n"):
        line = line.strip().rstrip("\\").rstrip()
        if not line:
            continue
        if line[0] in _LINE_MARKS:
            if line.startswith(("```", "~~~")) or _TABLE_RULE_RE.fullmatch(line):
                continue
            if line[0] == "[" and _LINK_DEF_RE.match(line):
                continue
            match = _LINE_START_RE.match(line)
            if match:
                line = line[match.end() :]
        lines.append(line)
    text = "\n".join(lines)
    for mark, replacement in _MARKS:
        if mark in text:
            text = text.replace(mark, replacement)
    if "_" in text:
        text = _UNDERSCORE_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return "\n".join(joined for line in text.split("\n") if (joined := " ".join(line.split())))


def within_values(path: str, space: str | None) -> str:
    """What ``in:`` matches for a page: the page, its ancestors, its space and enclosing ones."""
    values = [*P.parent_paths(path), path]
    if space:
        parts = space.split("/")
        values += ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return " ".join(dict.fromkeys(v for v in values if v and " " not in v))


def core_document(page, row) -> dict:
    """The index document of ``page`` with visibility and space from its projection ``row``."""
    text = plain_text(page.body)
    title = row.title or page.title
    tags = list(page.tags)
    updated: datetime = row.updated_at
    body = f"{text}\n{' '.join(tags)}" if tags else text
    return {
        "path": page.path,
        "title": title,
        "title_raw": title,
        "body": body,
        "parts": body,
        "content": text[:MAX_STORED_TEXT],
        "tags": tags,
        "type": row.type or "page",
        "space": row.space or NO_SPACE,
        "visibility": row.effective_visibility,
        "updated": updated,
        "year": str(updated.year),
        "author": row.author or "",
        "within": within_values(page.path, row.space),
    }


def full_document(page, row, pm, extra: dict[str, fields.FieldType], session=None) -> dict:
    """Core fields plus what the plugins add for their declared fields (never core fields)."""
    doc = core_document(page, row)
    texts = [t for t in pm.hook.wiki_search_text(page=page, session=session) if t]
    if texts:
        doc["body"] = doc["parts"] = "\n".join([doc["body"], *texts])
    if extra:
        for part in pm.hook.wiki_search_document(page=page, session=session):
            for name, value in (part or {}).items():
                if name in extra and value is not None:
                    doc[name] = value
    return doc

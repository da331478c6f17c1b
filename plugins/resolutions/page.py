"""A resolution's page view: the header table ("Rahmendaten"), typed links in both directions,
the last versions, and the Beschlusstext with line numbers (``?zeilen=1``).

Everything here runs inside a page view (request context, the reader's principal). Whatever
names another page passes the reader's permissions: a linked resolution the reader may not read
shows as its bare id, exactly like an id no resolution has.
"""

from __future__ import annotations

import html
import secrets
import textwrap
import threading
from dataclasses import dataclass, field, replace

import mistune
from flask import render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from plugins.resolutions import resolution_of
from plugins.resolutions import schema as S
from plugins.resolutions.models import ResolutionLink, ResolutionRow
from wiki import api as P
from wiki.api import MARKDOWN_BUILTINS as BUILTIN_PLUGINS
from wiki.api import BadRevision, PageRow, PageSection, get_db, read_clause

#: Characters per line of the numbered Beschlusstext (as printed by convention tools).
LINE_WIDTH = 80
#: Versions listed under the text.
VERSIONS = 5
#: Deeper indentation (nested lists, quotes) is not indented further.
MAX_INDENT = 24

#: Relations in display order: outgoing kinds and the inverse names of incoming ones.
RELATIONS = ("replaces", "replaced_by", "amends", "amended_by", "implements", "implemented_by",
             "forwarded_from", "forwarded_to", "related")  # fmt: skip


# -- sections -----------------------------------------------------------------------------------


def sections(plugin, page, principal) -> list:
    """The header before the text and the links and versions after it; nothing for a page that
    is no valid resolution (the core shows its problems)."""
    res = resolution_of(page)
    if res is None:
        return []
    rev = viewed_rev(plugin)
    commit = rev or plugin.state.store.head()
    numbered = bool(request.args.get("zeilen"))
    header = render_template(
        "resolutions/header.html",
        res=res,
        space=space_of(plugin, page),
        submitted_time=submitted_time(res.submitted),
        votes=votes_of(res),
        topics=[(t, url_for("resolutions.archive", topic=t)) for t in res.topics],
        source_url=res.source.get("url") if S.URL_RE.fullmatch(res.source.get("url", "")) else "",
        numbered=numbered,
        toggle_url=page_url(page.path, rev, numbered=not numbered),
        cite_url=page_url(page.path, commit, numbered=numbered) if commit else "",
    )
    after = render_template(
        "resolutions/links.html",
        path=page.path,
        groups=linked(plugin, res, page.path, principal),
        versions=versions(plugin, page.path, principal),
    )
    # Both depend only on the pages at HEAD (and the projections made from them).
    return [
        PageSection(Markup(header), "before", cacheable=True),
        PageSection(Markup(after), "after", cacheable=True),
    ]


def viewed_rev(plugin) -> str | None:
    """The full sha of the ``?rev=`` being viewed (the view has checked it), else None."""
    rev = request.args.get("rev")
    if not rev:
        return None
    try:
        return plugin.state.store.resolve(rev)
    except (BadRevision, ValueError):
        return None


def page_url(path: str, rev: str | None, numbered: bool = False, line: int | None = None) -> str:
    """The page (at ``rev``), with line numbers if ``numbered``, at line ``line``."""
    args: dict = {}
    if rev:
        args["rev"] = rev
    if numbered or line:
        args["zeilen"] = 1
    if line:
        args["_anchor"] = f"z{line}"
    return url_for("pages.view", path=path, **args)


def line_url(path: str, commit: str, line: int) -> str:
    """The citation link of one line: ``/<path>?rev=<commit>&zeilen=1#z<line>``."""
    return page_url(path, commit, numbered=True, line=line)


@dataclass
class SpaceInfo:
    path: str
    title: str
    url: str | None  # None if the reader may not read the space's page


def space_of(plugin, page) -> SpaceInfo | None:
    """The space the page lives in, titled and linked if the reader may read its page."""
    from wiki.api import page_titles

    db = get_db()
    row = db.get(PageRow, page.path)
    if row is not None:
        space = row.space
    else:  # a past revision of a deleted page
        space = plugin.state.content.ref_for(db, page.path, page).space
    if not space:
        return None
    title, readable = page_titles([space]).get(space, (space, False))
    if not readable:
        return SpaceInfo(space, space, None)
    return SpaceInfo(space, title, url_for("pages.view", path=space))


def submitted_time(when) -> str:
    """The time of day of a submission in the reader's locale ("" for a bare date); local time
    as written, never converted."""
    if when is None or (when.hour, when.minute, when.second) == (0, 0, 0):
        return ""
    from babel.dates import format_time
    from flask_babel import get_locale

    return format_time(when.time(), "short", locale=get_locale())


def votes_of(res: S.Resolution) -> str | list[tuple[str, int]] | None:
    """``"unanimous"``, [(vote key, count)] in the usual order, or None."""
    if res.unanimous:
        return "unanimous"
    if not res.votes:
        return None
    return [(key, res.votes[key]) for key in S.VOTE_KEYS if key in res.votes]


# -- linked resolutions -------------------------------------------------------------------------


@dataclass
class Linked:
    """One end of a link as the reader may see it (``path`` None: hidden or unknown)."""

    rid: str
    title: str = ""
    path: str | None = None
    outcome: str = ""


def relation_label(relation: str):
    from plugins.resolutions.labels import INVERSE_LINK_LABELS, LINK_LABELS

    if relation in LINK_LABELS:
        return LINK_LABELS[relation]
    for kind, inverse in S.LINK_TYPES.items():
        if inverse == relation:
            return INVERSE_LINK_LABELS[kind]
    return relation


def linked(plugin, res: S.Resolution, path: str, principal) -> list[tuple[object, list[Linked]]]:
    """[(label, [Linked])]: the page's own links and those of readable resolutions to it.

    An outgoing link to a resolution the reader may not read shows just the id from this page's
    front matter (like an unknown id); an incoming link from such a resolution is left out.
    """
    db = get_db()
    allowed = read_clause(
        plugin.state.acl.read_filter(principal), PageRow.effective_visibility, PageRow.space
    )
    shown = (ResolutionRow.rid, ResolutionRow.title, ResolutionRow.path, ResolutionRow.outcome)
    found: dict[tuple[str, str], dict[str, Linked]] = {}

    def add(relation: str, item: Linked) -> None:
        found.setdefault((relation, S.key_of(item.rid)), {}).setdefault(item.path or "", item)

    keys = {S.key_of(dst) for targets in res.links.values() for dst in targets}
    targets: dict[str, list[Linked]] = {}
    if keys:
        rows = db.execute(
            select(ResolutionRow.rid_key, *shown)
            .join(PageRow, PageRow.path == ResolutionRow.path)
            .where(ResolutionRow.rid_key.in_(sorted(keys)), ResolutionRow.path != path, allowed)
            .order_by(ResolutionRow.path)
        )
        for key, rid, title, target, outcome in rows:
            targets.setdefault(key, []).append(Linked(rid, title, target, outcome))
    for kind in S.LINK_TYPES:
        for dst in res.links.get(kind, []):
            for item in targets.get(S.key_of(dst)) or [Linked(dst)]:
                add(kind, item)
    rows = db.execute(
        select(ResolutionLink.kind, *shown)
        .join(ResolutionRow, ResolutionRow.path == ResolutionLink.path)
        .join(PageRow, PageRow.path == ResolutionRow.path)
        .where(ResolutionLink.dst_key == res.key, ResolutionLink.path != path, allowed)
        .order_by(ResolutionRow.decided, ResolutionRow.rid_key)
    )
    for kind, rid, title, source, outcome in rows:
        if kind in S.LINK_TYPES:
            add(S.LINK_TYPES[kind], Linked(rid, title, source, outcome))
    groups = []
    for relation in RELATIONS:
        items = [
            item
            for (rel, _key), by_path in found.items()
            if rel == relation
            for item in by_path.values()
        ]
        if items:
            groups.append((relation_label(relation), items))
    return groups


# -- versions -----------------------------------------------------------------------------------


def versions(plugin, path: str, principal) -> list[tuple[object, bool]]:
    """[(Revision, exists)] of the last versions the reader may read, newest first; messages
    of commits that touched pages the reader may not read are withheld."""
    from wiki.api import unreadable_commits

    # Judged like every past revision: at the path and time it had (wiki.revisions).
    found, _more = plugin.state.revisions.history(get_db(), principal, path, 0, VERSIONS)
    hidden = unreadable_commits(principal, [e.revision.sha for e in found])
    entries = []
    for entry in found:
        revision = entry.revision
        if revision.sha in hidden:
            revision = replace(revision, message="")
        entries.append((revision, entry.page is not None))
    return entries


# -- line numbers -------------------------------------------------------------------------------


@dataclass
class Block:
    """A block of the plain Beschlusstext: ``kind`` paragraph, heading, item, quote or code;
    ``lines`` are (number, text) once numbered."""

    kind: str
    lines: list = field(default_factory=list)
    level: int = 0


def numbered_body(plugin, page) -> Markup | None:
    """The page text with the Beschlusstext as numbered lines of at most ``LINE_WIDTH``
    characters; the other sections rendered as usual. None for a page that is no valid
    resolution (the usual rendering then)."""
    from wiki.api import finish_html

    if resolution_of(page) is None:
        return None
    body = page.body
    matches = list(S.SECTION_RE.finditer(body))
    index = next((i for i, m in enumerate(matches) if m.group(1).strip() == "Beschlusstext"), None)
    if index is None:
        return None
    start = matches[index].end()
    end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
    # The rest is rendered in one piece (heading ids and the table of contents stay as usual);
    # a random paragraph marks where the numbered text goes.
    marker = "zeilen" + secrets.token_hex(12)
    rendered = plugin.state.renderer.render(
        body[:start] + f"\n\n{marker}\n\n" + body[end:], page.path
    )
    before, found, after = finish_html(rendered, page).partition(f"<p>{marker}</p>")
    if not found:
        return None
    blocks = number(text_blocks(body[start:end], page.path))
    commit = viewed_rev(plugin) or plugin.state.store.head()
    return Markup(
        render_template(
            "resolutions/numbered.html",
            before=Markup(before),
            after=Markup(after),
            blocks=blocks,
            cite_url=page_url(page.path, commit, numbered=True) if commit else "",
        )
    )


def number(blocks: list[Block]) -> list[Block]:
    """The blocks with their lines numbered continuously from 1."""
    n = 0
    for block in blocks:
        numbered = []
        for text in block.lines:
            n += 1
            numbered.append((n, text))
        block.lines = numbered
    return blocks


_local = threading.local()


def _parser() -> mistune.Markdown:
    """A markdown parser giving tokens, with the wiki's syntax (one per thread)."""
    md = getattr(_local, "md", None)
    if md is None:
        md = mistune.create_markdown(renderer=None, plugins=list(BUILTIN_PLUGINS))
        _local.md = md
    return md


def text_blocks(markdown: str, path: str) -> list[Block]:
    """``markdown`` as plain text blocks wrapped at ``LINE_WIDTH`` (not yet numbered):
    paragraphs, headings, list items with "– " or "1. ", quotes, code lines, table rows."""
    out: list[Block] = []
    _blocks(_parser()(markdown or ""), out, "", path, "paragraph")
    return [b for b in out if b.lines]


def wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    """Lines of at most ``LINE_WIDTH`` characters; hard line breaks (newlines) are kept."""
    lines: list[str] = []
    for segment in text.split("\n"):
        words = " ".join(segment.split())
        if not words:
            continue
        lines.extend(
            textwrap.wrap(
                words,
                width=LINE_WIDTH,
                initial_indent=first if not lines else rest,
                subsequent_indent=rest,
            )
        )
    return lines


def _indent(indent: str) -> str:
    return indent[:MAX_INDENT]


def _blocks(tokens, out: list[Block], indent: str, path: str, kind: str) -> None:
    for token in tokens:
        name = token["type"]
        if name in ("paragraph", "block_text", "def_list_head"):
            out.append(Block(kind, wrap(_inline(token.get("children", []), path), indent, indent)))
        elif name == "heading":
            level = int((token.get("attrs") or {}).get("level", 3))
            text = _inline(token.get("children", []), path)
            out.append(Block("heading", wrap(text, indent, indent), level))
        elif name == "list":
            attrs = token.get("attrs") or {}
            start = attrs.get("start") or 1
            for i, item in enumerate(token.get("children", [])):
                marker = f"{start + i}. " if attrs.get("ordered") else "– "
                if item["type"] == "task_list_item":
                    marker += "[x] " if (item.get("attrs") or {}).get("checked") else "[ ] "
                _item(item.get("children", []), out, indent, marker, path)
        elif name == "footnotes":
            for i, item in enumerate(token.get("children", []), start=1):
                index = (item.get("attrs") or {}).get("index", i)
                _item(item.get("children", []), out, indent, f"[{index}] ", path)
        elif name == "block_quote":
            _blocks(token.get("children", []), out, _indent(indent + "  "), path, "quote")
        elif name == "def_list_item":
            _blocks(token.get("children", []), out, _indent(indent + "  "), path, kind)
        elif name == "block_code":
            width = max(LINE_WIDTH - len(indent), 1)
            lines = []
            for line in token.get("raw", "").rstrip("\n").split("\n"):
                line = line.expandtabs(4).rstrip()
                chunks = [line[i : i + width] for i in range(0, len(line), width)] or [""]
                lines.extend(indent + chunk for chunk in chunks)
            out.append(Block("code", lines))
        elif name == "block_html":
            out.append(Block(kind, wrap(token.get("raw", ""), indent, indent)))
        elif name == "table":
            for part in token.get("children", []):
                rows = [part] if part["type"] == "table_head" else part.get("children", [])
                for row in rows:
                    cells = [_inline(c.get("children", []), path) for c in row.get("children", [])]
                    text = " | ".join(" ".join(c.split()) for c in cells)
                    out.append(Block(kind, wrap(text, indent, indent)))
        elif name in ("blank_line", "thematic_break"):
            continue
        elif "children" in token:
            _blocks(token["children"], out, indent, path, kind)
        elif token.get("raw"):
            out.append(Block(kind, wrap(token["raw"], indent, indent)))


def _item(children, out: list[Block], indent: str, marker: str, path: str) -> None:
    """A list item: its first text after the marker, wrapped lines aligned under the text."""
    hang = _indent(indent + " " * len(marker))
    if children and children[0]["type"] in ("paragraph", "block_text"):
        text = _inline(children[0].get("children", []), path)
        lines = wrap(text, _indent(indent) + marker, hang)
        out.append(Block("item", lines or [(_indent(indent) + marker).rstrip()]))
        children = children[1:]
    else:
        out.append(Block("item", [(_indent(indent) + marker).rstrip()]))
    _blocks(children, out, hang, path, "item")


def _inline(tokens, path: str) -> str:
    """Plain text of inline tokens (link texts, wikilink labels; hard breaks as newlines)."""
    parts = []
    for token in tokens:
        name = token["type"]
        if name == "text":
            parts.append(html.unescape(token.get("raw", "")))
        elif name in ("codespan", "inline_html"):
            parts.append(token.get("raw", ""))
        elif name == "softbreak":
            parts.append(" ")
        elif name == "linebreak":
            parts.append("\n")
        elif name == "wikilink":
            parts.append(_wikilink_text(token.get("raw", ""), path))
        elif name == "footnote_ref":
            parts.append(f"[{(token.get('attrs') or {}).get('index', token.get('raw', ''))}]")
        elif "children" in token:
            parts.append(_inline(token["children"], path))
        elif token.get("raw"):
            parts.append(token["raw"])
    return "".join(parts)


def _wikilink_text(raw: str, path: str) -> str:
    """The text a wikilink shows (as :class:`wiki.markup.WikiHTMLRenderer` renders it)."""
    body = html.unescape(raw)
    target, bar, label = body.partition("|")
    page = target.partition("#")[0].strip()
    try:
        valid = bool(page) and P.is_valid_path(P.resolve_target(page, path))
    except P.BadName:
        valid = False
    if not valid:
        return "[[" + body + "]]"
    return label.strip() if bar and label.strip() else page

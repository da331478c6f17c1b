"""Markdown to HTML for wiki pages (no Flask).

The output of :meth:`Renderer.render` depends only on the page text, the page path and the
renderer configuration, so it can be cached per ``(path, blob sha, Renderer.VERSION)``. Things
that depend on the request are applied afterwards on the cached HTML:

* :func:`mark_links` marks wikilinks to pages the reader cannot see (or that do not exist),
* :func:`fill_widgets` replaces widget placeholders with their per-request HTML.

Security model: raw HTML in the markdown is always shown escaped, every attribute value is
escaped, and link/image URLs must pass :func:`is_safe_url` (no scheme that runs code or reads
local data: ``javascript:``, ``vbscript:``, ``data:``, ``file:`` and their kin); anything else is
replaced by ``#harmful-link``.

Wikilink syntax: ``[[Target]]``, ``[[Target|Label]]``, ``[[Target#Anchor]]`` and
``[[Target#Anchor|Label]]``. The target is turned into a page path by
:func:`wiki.pages.resolve_target` (``./x`` is a subpage of the current page, ``../x`` a sibling,
everything else is absolute), the anchor is slugified like heading ids. Without a label the
link text is the target as written, without the ``#anchor`` part. A target that does not give a
valid page path is shown as plain text.

Widgets: a fenced code block whose info string names a registered widget kind is parsed as YAML
and rendered as ``<div class="widget" data-widget-index="N"></div>``; ``Rendered.widgets[N]``
holds kind, data and (for broken YAML) a German error message.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import mistune
from mistune.util import escape as escape_text
from mistune.util import safe_entity, striptags, unescape, unikey

from .autolink import autolink_plugin
from .gfm_strike import strike_plugin
from .gfm_table import gfm_table_plugin
from .pages import (
    BadName,
    YamlProblem,
    check_filename,
    check_path,
    is_valid_path,
    load_yaml,
    resolve_target,
    slugify,
)

if TYPE_CHECKING:
    from markupsafe import Markup

__all__ = [
    "HARMFUL_LINK",
    "LAYOUT_IDS",
    "RenderCache",
    "RenderContext",
    "Rendered",
    "Renderer",
    "Widget",
    "WikiHTMLRenderer",
    "fill_widgets",
    "is_safe_url",
    "mark_links",
]

HARMFUL_LINK = "#harmful-link"
#: Schemes that run code, read local or browser-internal data, or start Windows protocol
#: handlers known to be abused (``ms-msdt:``, ``search-ms:``); every other scheme is a link
#: (``irc:``, ``webcal:``, ``xmpp:``), as CommonMark and GitLab render them.
UNSAFE_SCHEMES = frozenset(
    {
        "javascript",
        "vbscript",
        "livescript",
        "mocha",
        "data",
        "file",
        "blob",
        "filesystem",
        "view-source",
        "jar",
        "mhtml",
        "res",
        "its",
        "shell",
        "search",
        "search-ms",
    }
)
_TASK_BOX = '<input disabled="" type="checkbox"> '
_NOT_SCHEME_RE = re.compile(r"[^a-z0-9+.-]+")
BUILTIN_PLUGINS = (
    "table",
    "footnotes",
    "strikethrough",
    "url",
    "task_lists",
    "def_list",
    "abbr",
    "mark",
)
HEADING_FALLBACK = "abschnitt"
# Element ids of the page layout (templates/base.html); headings never take them.
LAYOUT_IDS = frozenset(
    {"inhalt", "site-search-q", "error-search-q", "editor-text", "live-preview", "toc-title"}
)
NEW_PAGE_TITLE = "Seite existiert noch nicht"
_ENV_KEY = "verbandswiki"

# Whitespace and control characters: browsers drop some of them anywhere inside a URL, so they
# are removed before the scheme is looked at.
_URL_JUNK_RE = re.compile(r"[\x00-\x20\x7f-\x9f\s\u200b-\u200f\u2028\u2029\ufeff]+")
_URL_HEAD_RE = re.compile(r"[/?#]")
_FILES_RE = re.compile(r"^(?:\./)?_files/(.*)$", re.S)
_RESERVED_ID_RE = re.compile(r"fn(?:ref)?-\d+")
# Not inside more brackets: CommonMark reads ``[[[foo]]]`` as text (or ``[`` + ``[[foo]]`` + ``]``);
# not before ``(``: ``[[x]](url)`` is a link with the text ``[x]``.
_WIKILINK_PATTERN = r"(?<!\[)\[\[(?P<wikilink_body>[^\[\]\n]{1,500})\]\](?!\()"
_WIKILINK_TAG_RE = re.compile(r'<a class="wikilink" href="([^"<>]*)" data-page="([^"<>]*)">')
_WIDGET_RE = re.compile(r'<div class="widget" data-widget-index="(\d+)"></div>')


def _attr(value: object) -> str:
    """Escape a value for a double-quoted HTML attribute (``&<>"'``)."""
    return html.escape(str(value), quote=True)


def is_safe_url(url: str) -> bool:
    """False if ``url`` has one of the :data:`UNSAFE_SCHEMES` (or an ``ms-…`` handler scheme).

    The check decodes HTML entities and percent-encoding (repeatedly), drops whitespace and
    control characters and ignores case before it looks for a scheme, so tricks like
    ``&#106;avascript:``, ``%6Aavascript:`` or ``java\\tscript:`` are refused. A scheme is what
    stands before the first colon if no ``/``, ``?`` or ``#`` comes first, judged by its scheme
    characters only (letters, digits, ``+``, ``-``, ``.``): ``foo):`` is a harmless relative
    link, ``java\ufffdscript:`` is refused.
    """
    text = url
    for _ in range(5):
        decoded = html.unescape(unquote(text))
        if decoded == text:
            break
        text = decoded
    text = _URL_JUNK_RE.sub("", text).lower()
    head = _URL_HEAD_RE.split(text, maxsplit=1)[0]
    if ":" not in head:
        return True
    # Browsers read a head that is no scheme (``foo):``) as a relative path; to be safe against
    # characters some parser might drop (``java\ufffdscript:``), the letters are judged too.
    scheme = _NOT_SCHEME_RE.sub("", head.split(":", 1)[0])
    return scheme not in UNSAFE_SCHEMES and not scheme.startswith("ms-")


@dataclass
class Widget:
    """A widget block: its kind, the parsed YAML (or None) and a German error message."""

    kind: str
    data: object
    error: str | None = None


@dataclass
class Rendered:
    """The cacheable result of rendering one page."""

    html: str
    toc: list[tuple[int, str, str]] = field(default_factory=list)  # (level, id, plain text)
    links: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)
    widgets: list[Widget] = field(default_factory=list)
    #: ``html`` as Markup, made by the first view that shows it unchanged and shared by the
    #: views' caches from then on (one copy of the text per page, not one per reader).
    markup: Markup | None = field(default=None, repr=False, compare=False)


@dataclass
class RenderContext:
    """What one rendering collects; lives in ``state.env``, never on a shared object."""

    path: str
    toc: list[tuple[int, str, str]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)
    widgets: list[Widget] = field(default_factory=list)
    in_link: int = 0  # > 0 while link text or image alt text is rendered
    #: base → the last suffix tried, so n duplicate headings cost O(n), not O(n²).
    suffixes: dict[str, int] = field(default_factory=dict)
    #: footnote number → references so far (the second one gets ``fnref-N.2``).
    footnote_refs: dict[int, int] = field(default_factory=dict)

    def unique_id(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3`` … whichever is still free in this document.

        Footnote ids (``fn-N``, ``fnref-N``) and :data:`LAYOUT_IDS` count as taken.
        """
        n = self.suffixes.get(base, 1)
        candidate = base if n == 1 else f"{base}-{n}"
        while (
            candidate in self.ids or candidate in LAYOUT_IDS or _RESERVED_ID_RE.fullmatch(candidate)
        ):
            n += 1
            candidate = f"{base}-{n}"
        self.suffixes[base] = n
        self.ids.add(candidate)
        return candidate

    def url(self, url: str) -> str:
        """The href/src for a markdown URL: documents rewritten, unsafe URLs neutralised."""
        match = _FILES_RE.match(url)
        if match:
            name, hash_, fragment = match.group(1).partition("#")
            name = unquote(name)
            try:
                check_filename(name)
            except BadName:
                return HARMFUL_LINK
            self.documents.add(name)
            return f"/-/files/{self.path}/{name}{hash_}{fragment}"
        return url if is_safe_url(url) else HARMFUL_LINK


def _context(state: Any) -> RenderContext:
    return state.env[_ENV_KEY]


def _yaml_error(kind: str, exc: YamlProblem) -> str:
    where = f" (Zeile {exc.line + 1} des Bausteins)" if exc.line is not None else ""
    if exc.kind == "alias":
        return (
            f"Die Angaben im Baustein „{kind}“ dürfen keine Anker und Verweise („&“, „*“) "
            f"enthalten{where}."
        )
    return f"Die Angaben im Baustein „{kind}“ sind kein gültiges YAML{where}."


class WikiHTMLRenderer(mistune.HTMLRenderer):
    """HTML renderer for wiki pages: safe URLs, heading ids, wikilinks, documents, widgets.

    Everything collected while rendering goes to the :class:`RenderContext` in ``state.env``.
    Plugin render functions (registered with ``md.renderer.register``) can read the context of
    the rendering in progress from :attr:`context`; the instance belongs to one thread.
    """

    def __init__(self, widget_kinds: Iterable[str] = ()) -> None:
        super().__init__(escape=True)
        self.widget_kinds = frozenset(widget_kinds)
        self.context: RenderContext | None = None

    def __call__(self, tokens: Iterable[dict[str, Any]], state: Any) -> str:
        outer = self.context
        self.context = _context(state)
        try:
            return self.render_tokens(tokens, state)
        finally:
            self.context = outer

    def render_token(self, token: dict[str, Any], state: Any) -> str:
        kind = token["type"]
        if kind == "heading":
            return self._heading(token, state)
        if kind == "link":
            return self._link(token, state)
        if kind == "image":
            return self._image(token, state)
        if kind == "wikilink":
            return self._wikilink(token, state)
        if kind == "block_code":
            return self._block_code(token, state)
        if kind == "footnote_ref":
            return self._footnote_ref(token, state)
        return super().render_token(token, state)

    # -- generic escaping: never trust mistune defaults for attributes -----------------------

    def escape_attribute(self, value: object) -> str:
        return _attr(html.unescape(str(value)))

    def task_list_item(self, text: str, checked: bool = False) -> str:
        """A GFM task-list item, as the GFM spec writes it (a disabled checkbox, then a space)."""
        box = '<input checked="" disabled="" type="checkbox"> ' if checked else _TASK_BOX
        if text.startswith("<p>"):
            return "<li><p>" + box + text[3:] + "</li>\n"
        return "<li>" + box + text + "</li>\n"

    def safe_url(self, url: str) -> str:
        return _attr(url if is_safe_url(url) else HARMFUL_LINK)

    def sanitize_url(self, url: str) -> str:
        return url if is_safe_url(url) else HARMFUL_LINK

    def text(self, text: str) -> str:
        # Character references (``&amp;``, ``&nbsp;``) count as text, the result is escaped.
        return safe_entity(text)

    def inline_html(self, html_text: str) -> str:
        return escape_text(html_text)

    def block_html(self, html_text: str) -> str:
        return "<p>" + escape_text(html_text.strip()) + "</p>\n"

    # -- our tokens ---------------------------------------------------------------------------

    def _heading(self, token: dict[str, Any], state: Any) -> str:
        ctx = _context(state)
        inner = self.render_tokens(token["children"], state)
        level = int(token["attrs"]["level"])
        text = " ".join(html.unescape(striptags(inner)).split())
        hid = ctx.unique_id(slugify(text) or HEADING_FALLBACK)
        ctx.toc.append((level, hid, text))
        anchor = f'<a class="anchor" href="#{_attr(hid)}" aria-hidden="true">#</a>'
        return f'<h{level} id="{_attr(hid)}">{inner}{anchor}</h{level}>\n'

    def _link(self, token: dict[str, Any], state: Any) -> str:
        attrs = token["attrs"]
        ctx = _context(state)
        href = ctx.url(attrs["url"])
        out = '<a href="' + _attr(href) + '"'
        if attrs.get("title"):
            out += ' title="' + self.escape_attribute(attrs["title"]) + '"'
        ctx.in_link += 1
        try:
            text = self.render_tokens(token["children"], state)
        finally:
            ctx.in_link -= 1
        return out + ">" + text + "</a>"

    def _image(self, token: dict[str, Any], state: Any) -> str:
        attrs = token["attrs"]
        ctx = _context(state)
        src = ctx.url(attrs["url"])
        ctx.in_link += 1  # alt text is plain text: no wikilinks there
        try:
            alt = striptags(self.render_tokens(token["children"], state))
        finally:
            ctx.in_link -= 1
        out = '<img src="' + _attr(src) + '" alt="' + self.escape_attribute(alt) + '"'
        if attrs.get("title"):
            out += ' title="' + self.escape_attribute(attrs["title"]) + '"'
        return out + " />"

    def _wikilink(self, token: dict[str, Any], state: Any) -> str:
        ctx = _context(state)
        body = unescape(token["raw"])  # character references count as the characters
        target, bar, label = body.partition("|")
        page, _, anchor = target.partition("#")
        page = page.strip()
        path = resolve_target(page, ctx.path) if page else ""
        if not is_valid_path(path):
            return escape_text("[[" + body + "]]")
        label = label.strip() if bar and label.strip() else page
        if ctx.in_link:  # no links inside links: keep the text only
            return escape_text(label)
        ctx.links.add(path)
        anchor = slugify(anchor)
        href = "/" + path + ("#" + anchor if anchor else "")
        return (
            f'<a class="wikilink" href="{_attr(href)}" data-page="{_attr(path)}">'
            f"{escape_text(label)}</a>"
        )

    def _footnote_ref(self, token: dict[str, Any], state: Any) -> str:
        # Every reference needs its own id; mistune gives a repeated one the same ``fnref-N``.
        # The dot keeps ``fnref-N.M`` apart from heading ids, which slugify never gives a dot.
        ctx = _context(state)
        index = int(token["attrs"]["index"])
        count = ctx.footnote_refs[index] = ctx.footnote_refs.get(index, 0) + 1
        ref_id = f"fnref-{index}" if count == 1 else f"fnref-{index}.{count}"
        return f'<sup class="footnote-ref" id="{ref_id}"><a href="#fn-{index}">{index}</a></sup>'

    def _block_code(self, token: dict[str, Any], state: Any) -> str:
        code = token["raw"]
        info = (token.get("attrs") or {}).get("info") or ""
        kind = info.split(None, 1)[0] if info.strip() else ""
        if kind not in self.widget_kinds:
            if token.get("style") == "indent" and code:
                code += "\n"  # mistune strips it; CommonMark keeps the final line break
            return self.block_code(code, info or None)
        ctx = _context(state)
        try:
            data, error = load_yaml(code), None
        except YamlProblem as exc:  # user input must never break rendering
            data, error = None, _yaml_error(kind, exc)
        ctx.widgets.append(Widget(kind=kind, data=data, error=error))
        return f'<div class="widget" data-widget-index="{len(ctx.widgets) - 1}"></div>\n'

    def block_code(self, code: str, info: str | None = None) -> str:
        lang = html.unescape(info.strip()).split(None, 1)[0] if info and info.strip() else ""
        cls = f' class="language-{_attr(lang)}"' if lang else ""
        return f"<pre><code{cls}>{escape_text(code)}</code></pre>\n"


def _parse_wikilink(inline: Any, m: re.Match[str], state: Any) -> int | None:
    body = m.group("wikilink_body")
    src = state.src
    if unikey(body) in state.env.get("ref_links", {}):
        return None  # ``[[ref]]`` with a defined ``[ref]``: CommonMark's ``[`` + link + ``]``
    if src.startswith(":", m.end()) and (m.start() == 0 or src[m.start() - 1] == "\n"):
        return None  # ``[[x]]: /url`` reads as a (failed) link reference definition
    state.append_token({"type": "wikilink", "raw": body})
    return m.end()


def wikilink_plugin(md: mistune.Markdown) -> None:
    """mistune plugin: ``[[target#anchor|label]]`` (rendered by :class:`WikiHTMLRenderer`)."""
    try:
        md.inline.register(
            "wikilink", _WIKILINK_PATTERN, _parse_wikilink, before="link", start_chars="["
        )
    except TypeError:  # mistune without start_chars support
        md.inline.register("wikilink", _WIKILINK_PATTERN, _parse_wikilink, before="link")


#: Every syntax plugin of the page renderer, in order: mistune's built-ins, then the wiki's GFM
#: autolinks, tables and strikethrough, and wikilinks (parsers for other output use the same).
SYNTAX_PLUGINS = (
    *BUILTIN_PLUGINS,
    autolink_plugin,
    gfm_table_plugin,
    strike_plugin,
    wikilink_plugin,
)


class Renderer:
    """Thread-safe markdown renderer for wiki pages.

    ``plugins`` are extra mistune plugin callables (each is applied once per thread, so they
    must be side-effect free apart from configuring the given Markdown instance);
    ``widget_kinds`` are the fence info strings rendered as widgets. With ``hard_wrap`` every
    line break in a paragraph is kept (``<br />``), as mail readers expect.
    """

    VERSION = 3  # 2: CommonMark fixes, GFM autolinks, tables, ~x~; 3: only code schemes removed

    def __init__(
        self,
        plugins: Iterable[Callable[..., Any]] = (),
        widget_kinds: Iterable[str] = (),
        hard_wrap: bool = False,
    ) -> None:
        self.plugins = tuple(plugins)
        self.widget_kinds = frozenset(widget_kinds)
        self.hard_wrap = hard_wrap
        self._local = threading.local()

    def _markdown(self) -> mistune.Markdown:
        md = getattr(self._local, "md", None)
        if md is None:
            md = mistune.create_markdown(
                escape=True,
                hard_wrap=self.hard_wrap,
                renderer=WikiHTMLRenderer(self.widget_kinds),
                plugins=[*SYNTAX_PLUGINS, *self.plugins],
            )
            self._local.md = md
        return md

    def render(self, text: str, path: str) -> Rendered:
        """Render markdown ``text`` (without front matter) of page ``path``."""
        check_path(path)
        md = self._markdown()
        state = md.block.state_cls()
        ctx = RenderContext(path=path)
        state.env[_ENV_KEY] = ctx
        out, _ = md.parse(text or "", state)
        return Rendered(
            html=str(out),
            toc=ctx.toc,
            links=ctx.links,
            documents=ctx.documents,
            widgets=ctx.widgets,
        )


def mark_links(html_text: str, visible: Callable[[str], bool]) -> str:
    """Point wikilinks to pages that ``visible(path)`` rejects to the editor (class ``new``).

    Returns ``html_text`` itself when every link stays as it is."""
    seen: dict[str, bool] = {}
    changed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal changed
        path = html.unescape(match.group(2))
        if path not in seen:
            seen[path] = bool(visible(path))
        if seen[path]:
            return match.group(0)
        changed = True
        return (
            f'<a class="wikilink new" href="/-/edit/{_attr(path)}" data-page="{_attr(path)}"'
            f' title="{NEW_PAGE_TITLE}">'
        )

    result = _WIKILINK_TAG_RE.sub(replace, html_text)
    return result if changed else html_text


#: The start of a site-relative ``href``/``src`` in HTML this module wrote (attribute values are
#: always quoted and escaped, so ``>`` cannot occur inside a tag).
_LOCAL_URL_RE = re.compile(r'(<(?:a|img)\s[^>]*?(?:href|src)=")/(?!/)')


def absolute_urls(html_text: str, base_url: str) -> str:
    """Make site-relative links and images (``/path``) absolute under ``base_url``."""
    base = base_url.rstrip("/") + "/"
    return _LOCAL_URL_RE.sub(lambda m: m.group(1) + base, html_text)


def render_mail_html(renderer: Renderer, text: str, path: str, base_url: str) -> str:
    """Markdown ``text`` (written at ``path``) as HTML for an e-mail: rendered like a page but
    with every line break kept, links absolute under ``base_url`` and widgets left out (their
    live parts exist only in the wiki)."""
    mail = Renderer(renderer.plugins, renderer.widget_kinds, hard_wrap=True)
    rendered = mail.render(text, path)
    html_text = rendered.html
    if rendered.widgets:
        html_text = fill_widgets(html_text, lambda _index: "")
    return absolute_urls(html_text, base_url)


def fill_widgets(html_text: str, fill: Callable[[int], str]) -> str:
    """Replace every widget placeholder ``N`` with ``fill(N)`` (trusted HTML)."""
    return _WIDGET_RE.sub(lambda m: fill(int(m.group(1))), html_text)


class RenderCache:
    """Thread-safe LRU cache ``(path, blob sha, Renderer.VERSION) -> Rendered``."""

    def __init__(self, maxsize: int = 2000) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Rendered | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Rendered) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

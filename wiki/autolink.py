"""GFM extended autolinks for the page renderer (no Flask).

Replaces mistune's ``url`` rule with the GFM rules: ``www.``, ``http://``, ``https://`` and
``ftp://`` links and bare e-mail addresses; trailing punctuation stays outside the link, a
closing parenthesis only belongs to the link while it balances one inside it
(``…/Verein_(Recht)``), a trailing entity-like ``&hl;`` is left out. CommonMark wins where
they disagree: a URL right after ``<`` (``<https://foo.bar/baz bim>``) stays text, as the
CommonMark spec has it.
"""

from __future__ import annotations

import re
from typing import Any

import mistune
from mistune.util import escape_url

# Start of line, whitespace, or one of ``*_~(`` before the link (GFM).
URL_PATTERN = r"(?<![^\s*_~(])(?:https?://|ftp://|www\.)[^\s<]+"
# The part from ``@`` on: the rule starts at ``@`` so that mistune's fast text scan keeps
# working (a rule starting at any letter would make plain text slow); parse_email takes the
# local part back from the text token before it.
EMAIL_PATTERN = r"@[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)+"
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")

_DOMAIN_RE = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")
_TRAILING_PUNCT = "?!.,:*_~'\""
_ENTITY_RE = re.compile(r"&[A-Za-z0-9]+;")
_OPEN_ANGLE_RE = re.compile(r"<[ \t]*\Z")


def _valid_domain(domain: str) -> bool:
    parts = domain.split(".")
    return len(parts) >= 2 and all(parts) and "_" not in "".join(parts[-2:])


def trim_url(text: str) -> str:
    """``text`` without the trailing characters GFM leaves outside an extended autolink."""
    end = len(text)
    unbalanced = text.count(")") - text.count("(")  # counted once: linear on long input
    while end:
        last = text[end - 1]
        if last in _TRAILING_PUNCT:
            end -= 1
        elif last == ")" and unbalanced > 0:
            end -= 1
            unbalanced -= 1
        elif (
            last == ";"
            and (amp := text.rfind("&", 0, end)) > 0
            and _ENTITY_RE.fullmatch(text, amp, end)
        ):
            end = amp
        else:
            break
    return text[:end]


def _link(inline: Any, state: Any, text: str, url: str, end: int) -> int:
    if state.in_link or state.depth >= inline.max_nested_level:
        inline.process_text(text, state)
        return end
    state.append_token(
        {
            "type": "link",
            "children": [{"type": "text", "raw": text}],
            "attrs": {"url": escape_url(url)},
            "_autolink": text,
        }
    )
    return end


def parse_url(inline: Any, m: re.Match[str], state: Any) -> int | None:
    """An extended ``www.``/``http(s)://``/``ftp://`` autolink, or None to leave the text alone."""
    start = m.start()
    if _OPEN_ANGLE_RE.search(state.src, max(0, start - 64), start):
        return None
    text = m.group(0)
    if state.brackets and "]" in text:  # inside link text: stop at the closing bracket
        text = text[: text.index("]")]
    text = trim_url(text)
    rest = text[4:] if text.startswith("www.") else text.split("://", 1)[1]
    domain = _DOMAIN_RE.match(rest)
    if not domain or not _valid_domain(domain.group(0)):
        return None
    url = "http://" + text if text.startswith("www.") else text
    return _link(inline, state, text, url, start + len(text))


def parse_email(inline: Any, m: re.Match[str], state: Any) -> int | None:
    """A bare e-mail address (``mailto:`` link), or None when GFM would not link it."""
    if state.in_link:
        return None
    src, start = state.src, m.start()
    local_start = start
    while local_start > 0 and src[local_start - 1] in _LOCAL_CHARS:
        local_start -= 1
    local = src[local_start:start]
    if not local or (local_start and src[local_start - 1] in "@\\"):
        return None
    domain = m.group(0).rstrip(".")
    if domain[-1] in "-_" or "." not in domain:
        return None
    # The local part is the end of the text tokens before (mistune may have split it there).
    tokens, first, before = state.tokens, len(state.tokens), ""
    while first and len(before) < len(local) and tokens[first - 1].get("type") == "text":
        first -= 1
        before = tokens[first]["raw"] + before
    if not before.endswith(local):  # it came through an escape or a character reference
        return None
    del tokens[first:]
    if len(before) > len(local):
        inline.process_text(before[: -len(local)], state)
    text = local + domain
    return _link(inline, state, text, "mailto:" + text, start + len(domain))


def autolink_plugin(md: mistune.Markdown) -> None:
    """mistune plugin: GFM extended autolinks (use instead of mistune's ``url``)."""
    for name, pattern, func, chars in (
        ("url_link", URL_PATTERN, parse_url, ("h", "f", "w")),
        ("email_link", EMAIL_PATTERN, parse_email, ("@",)),
    ):
        try:
            md.inline.register(name, pattern, func, start_chars=chars)
        except TypeError:  # mistune without start_chars support
            md.inline.register(name, pattern, func)

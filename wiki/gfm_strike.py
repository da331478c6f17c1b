"""GFM strikethrough with one tilde (``~text~``) next to mistune's ``~~text~~`` (no Flask)."""

from __future__ import annotations

import re
from typing import Any

import mistune

SINGLE_TILDE_PATTERN = r"(?<![~\\])~(?=[^\s~])"
_CLOSE_RE = re.compile(r"(?<=[^\s~\\])~(?!~)")
_NO_CLOSE_KEY = "gfm_strike_no_close_after"


def parse_single_tilde(inline: Any, m: re.Match[str], state: Any) -> int | None:
    """``~text~`` as strikethrough; the closing tilde is single and follows no space."""
    if state.depth >= inline.max_nested_level:
        return None
    pos = m.end()
    # Once no closer follows some position, none follows a later one: keeps many lone tildes
    # linear instead of one search to the end per tilde.
    no_close = state.env.setdefault(_NO_CLOSE_KEY, {})
    if pos >= no_close.get(state.src, len(state.src) + 1):
        return None
    close = _CLOSE_RE.search(state.src, pos + 1)
    if close is None:
        no_close[state.src] = pos
        return None
    new_state = state.copy()
    new_state.src = state.src[pos : close.start()]
    children = inline.render(new_state)
    state.append_token({"type": "strikethrough", "children": children})
    return close.end()


def strike_plugin(md: mistune.Markdown) -> None:
    """mistune plugin: ``~text~`` (after mistune's ``strikethrough``, whose renderer it uses)."""
    try:
        md.inline.register(
            "strikethrough_single",
            SINGLE_TILDE_PATTERN,
            parse_single_tilde,
            before="link",
            start_chars="~",
        )
    except TypeError:  # mistune without start_chars support
        md.inline.register(
            "strikethrough_single", SINGLE_TILDE_PATTERN, parse_single_tilde, before="link"
        )

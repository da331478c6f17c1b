"""Built-in plugin: the core page type ``page``."""

from __future__ import annotations

from wiki.hookspecs import hookimpl


def validate_page(new, old, ctx):
    """Plain pages need nothing beyond the core front matter checks."""
    return []


@hookimpl
def wiki_page_types():
    return {"page": validate_page}

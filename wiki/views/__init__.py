"""Thin blueprints over the core services."""

from __future__ import annotations


def register(app) -> None:
    """Register the core blueprints (pages last: it owns the catch-all page route)."""
    from wiki.views import account, admin, api, files, history, pages, search

    for module in (account, admin, api, files, history, search, pages):
        app.register_blueprint(module.bp)
    app.extensions["csrf"].exempt(api.bp)

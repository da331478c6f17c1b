"""Thin blueprints over the core services."""

from __future__ import annotations


def register(app) -> None:
    """Register the core blueprints (pages last: it owns the catch-all page route)."""
    from wiki.views import account, admin, api, common, files, history, language, pages, search

    for module in (account, admin, api, files, history, language, search, pages):
        app.register_blueprint(module.bp)
    app.jinja_env.globals["page_title_of"] = common.page_title
    app.extensions["csrf"].exempt(api.bp)

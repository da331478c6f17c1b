"""Polls and forms: ``poll`` and ``form`` blocks in pages become votes and surveys.

Definitions live in the page (git); votes, tokens and submissions only in the ``polls_*`` tables.
"""

from __future__ import annotations

from pathlib import Path

from plugins.polls import models  # noqa: F401  (the tables join the metadata)
from wiki.api import hookimpl

HERE = Path(__file__).resolve().parent


@hookimpl
def wiki_migration_folders():
    return [HERE / "migrations" / "versions"]


@hookimpl
def wiki_blueprints():
    from plugins.polls import api, exports, forms_views, print_views, views

    return [
        views.make_blueprint(),
        exports.make_blueprint(),
        forms_views.make_blueprint(),
        print_views.make_blueprint(),
        api.make_blueprint(),
    ]


@hookimpl
def wiki_template_folders():
    return [HERE / "templates"]

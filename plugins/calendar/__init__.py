"""Calendars: ``termin`` blocks in pages become events, a calendar per chapter, feeds and RSVPs.

Definitions live in the page (git); RSVPs and iCalendar bookkeeping only in ``calendar_*`` tables.
"""

from __future__ import annotations

from pathlib import Path

from plugins.calendar import models  # noqa: F401  (the tables join the metadata)
from wiki.api import hookimpl

HERE = Path(__file__).resolve().parent


@hookimpl
def wiki_migration_folders():
    return [HERE / "migrations" / "versions"]


@hookimpl
def wiki_blueprints():
    from plugins.calendar import feeds, rsvp_views, views

    return [views.make_blueprint(), feeds.make_blueprint(), rsvp_views.make_blueprint()]


@hookimpl
def wiki_template_folders():
    return [HERE / "templates"]

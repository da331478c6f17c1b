"""Calendars: ``termin`` blocks in pages become events, a calendar per chapter, feeds and RSVPs.

Definitions live in the page (git); RSVPs and iCalendar bookkeeping only in ``calendar_*`` tables.
The block syntax is in :mod:`plugins.calendar.definitions`, the projection in
:mod:`plugins.calendar.projection`, the one iCalendar builder in :mod:`plugins.calendar.ical`.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import delete, select, update

from plugins.calendar import (
    models,  # noqa: F401  (the tables join the metadata)
    projection,
)
from plugins.calendar.definitions import ID_RE, block_text, parse
from plugins.calendar.models import EventRow, Places, Rsvp
from wiki.api import SYNC_SESSION_KEY, hookimpl, page_file, path_of_file

HERE = Path(__file__).resolve().parent


class CalendarPlugin:
    """The per-app part of the plugin."""

    def __init__(self, state):
        self.state = state

    # -- the block --------------------------------------------------------------------------

    @hookimpl
    def wiki_widget_kinds(self):
        return [projection.KIND]

    @hookimpl
    def wiki_validate_page(self, new, old, ctx):
        """Every ``termin`` block valid, its id unique in the page and in the wiki."""
        from flask_babel import gettext as _

        if new is None:
            return None
        problems: list[str] = []
        ids: list[str] = []
        for widget in projection.blocks(self.state, new):
            if widget.error:
                problems.append(_("Termin: %(error)s", error=widget.error))
                continue
            event, found = parse(widget.data)
            ident = widget.data.get("id") if isinstance(widget.data, dict) else None
            label = ident if isinstance(ident, str) and ID_RE.fullmatch(ident) else None
            for problem in found:
                if label:
                    problems.append(_("Termin „%(id)s“: %(problem)s", id=label, problem=problem))
                else:
                    problems.append(_("Termin: %(problem)s", problem=problem))
            if event is None:
                continue
            if event.id in ids:
                problems.append(
                    _("Die Termin-Kennung „%(id)s“ steht zweimal auf der Seite.", id=event.id)
                )
            ids.append(event.id)
        for ident in self._taken(ctx, new.path, ids):
            problems.append(_("Die Termin-Kennung „%(id)s“ ist nicht verfügbar.", id=ident))
        return problems or None

    def _taken(self, ctx, path: str, ids: list[str]) -> list[str]:
        """Those of ``ids`` another page defines at HEAD (projection) or in this commit.
        Pages this commit writes count with their new text, removed or moved ones not at all."""
        if not ids:
            return []
        taken = set()
        for filename, data in ctx.changes.items():
            other = path_of_file(filename)
            if data is None or other in (None, path) or b"```termin" not in data:
                continue
            from wiki.api import Page

            other_page = Page.parse(other, data)
            taken.update(e.id for e in projection.events_of(self.state, other_page))
        query = select(EventRow.id, EventRow.path).where(
            EventRow.id.in_(ids), EventRow.path != path
        )
        if ctx.session.info.get(SYNC_SESSION_KEY):
            rows = ctx.session.execute(query).all()
        else:
            self.state.syncer.ensure_current()  # another process may have committed one
            with self.state.sessions() as session:
                rows = session.execute(query).all()
        taken.update(ident for ident, other in rows if page_file(other) not in ctx.changes)
        return [ident for ident in ids if ident in taken]

    @hookimpl
    def wiki_render_widget(self, kind, data, page, principal, session):
        if kind != projection.KIND:
            return None
        from plugins.calendar.views import render_widget

        return render_widget(self.state, data, page, principal, session)

    @hookimpl
    def wiki_event_block(self, title, start, end, all_day, ident):
        """A ``termin`` block for a chosen date (date polls), with an id nobody uses yet."""
        base = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", str(ident or "termin").lower()))
        base = base.strip("-")[:56] or "termin"
        with self.state.sessions() as session:
            used = set(session.scalars(select(EventRow.id).where(EventRow.id.like(f"{base}%"))))
        candidate, number = base, 1
        while candidate in used:
            number += 1
            candidate = f"{base}-{number}"
        return block_text(title, start, end, all_day, candidate)

    # -- projection -------------------------------------------------------------------------

    @hookimpl
    def wiki_page_changed(self, page, old_path, commit, session):
        projection.page_changed(self.state, session, page, old_path, commit)

    @hookimpl
    def wiki_page_deleted(self, path, commit, session):
        projection.page_deleted(session, path)

    @hookimpl
    def wiki_reindex(self, session):
        projection.reindex(session)

    @hookimpl
    def wiki_check(self, head, session):
        return projection.check(self.state, session)

    # -- pages, menu, dashboard --------------------------------------------------------------

    @hookimpl
    def wiki_nav_items(self, principal):
        from flask_babel import gettext as _

        from wiki.api import NavItem

        return [NavItem(_("Kalender"), "/-/calendar")]

    @hookimpl
    def wiki_page_sections(self, page, principal):
        if page.type != "space":
            return None
        from plugins.calendar import feeds

        return feeds.upcoming_section(page, principal)

    @hookimpl
    def wiki_dashboard_sections(self, principal):
        from plugins.calendar import feeds

        return feeds.dashboard_section(principal)

    # -- member data (GDPR) ------------------------------------------------------------------

    @hookimpl
    def wiki_user_data(self, user_id, session):
        rows = session.scalars(
            select(Rsvp).where(Rsvp.user_id == user_id).order_by(Rsvp.event_id, Rsvp.occurrence)
        )
        return {
            "calendar": [
                {
                    "event": row.event_id,
                    "occurrence": row.occurrence,
                    "answer": row.answer,
                    "updated_at": row.updated_at.isoformat() if row.updated_at else None,
                }
                for row in rows
            ]
        }

    @hookimpl
    def wiki_user_deleted(self, user_id, session):
        """The user's answers go; places they held become free again."""
        held = session.execute(
            select(Rsvp.event_id, Rsvp.occurrence).where(
                Rsvp.user_id == user_id, Rsvp.answer == "zusage"
            )
        ).all()
        for event_id, occurrence in held:
            session.execute(
                update(Places)
                .where(
                    Places.event_id == event_id,
                    Places.occurrence == occurrence,
                    Places.taken > 0,
                )
                .values(taken=Places.taken - 1)
            )
        session.execute(delete(Rsvp).where(Rsvp.user_id == user_id))


def make_plugin(state) -> CalendarPlugin:
    """The plugin object of one app."""
    return CalendarPlugin(state)


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


@hookimpl
def wiki_translation_dirs():
    return [HERE / "translations"]


@hookimpl
def wiki_cli(cli):
    from plugins.calendar import cli as commands

    commands.register(cli)


@hookimpl(trylast=True)
def wiki_demo(state, say):
    from plugins.calendar.demo import create

    create(state, say)

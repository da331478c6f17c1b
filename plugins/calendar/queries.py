"""Which events a reader may see: one SQL condition from the one permission decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from plugins.calendar.models import EventRow
from wiki.api import read_clause, state


def in_space(space: str, children: bool = True):
    """Events of ``space`` (and, with ``children``, of every space inside it)."""
    own = EventRow.space == space
    if not children:
        return own
    pattern = space.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    return or_(own, EventRow.space.like(pattern, escape="\\"))


def visible_events(
    session,
    principal,
    space: str | None = None,
    children: bool = True,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[EventRow]:
    """Events ``principal`` may read (their page's visibility and space, through
    ``read_clause``), optionally of one space (with its sub-spaces) and only those that can
    have an occurrence in [start, end) (naive UTC; from the ``first_utc``/``last_utc`` bounds).
    """
    allowed = read_clause(state().acl.read_filter(principal), EventRow.visibility, EventRow.space)
    query = select(EventRow).where(allowed)
    if space is not None:
        query = query.where(in_space(space, children))
    if end is not None:
        query = query.where(EventRow.first_utc < end)
    if start is not None:
        query = query.where(or_(EventRow.last_utc.is_(None), EventRow.last_utc > start))
    return list(session.scalars(query.order_by(EventRow.first_utc, EventRow.id)))


def readable_event(session, principal, ident: str) -> EventRow | None:
    """One event if ``principal`` may read its page, else None (answer 404 then)."""
    allowed = read_clause(state().acl.read_filter(principal), EventRow.visibility, EventRow.space)
    return session.scalar(select(EventRow).where(and_(EventRow.id == ident, allowed)))

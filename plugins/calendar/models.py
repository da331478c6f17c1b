"""Tables of the calendar plugin (``calendar_*``).

``calendar_events`` is a projection of the ``termin`` blocks in pages (rebuilt from git by
``verbandswiki reindex``). ``calendar_state`` (the SEQUENCE of each event, bumped on every edit of
its definition), RSVPs, the places taken and sent reminders are member data and state that git
does not know: they exist only here, keyed by the event's stable ``id``, and survive a reindex.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wiki.api import Base, utcnow


class EventRow(Base):
    """One ``termin`` block as committed. ``start``/``end`` are wall-clock times in ``tz``
    (midnight and the exclusive end day for all-day events); ``first_utc``/``last_utc`` bound
    every occurrence in UTC (``last_utc`` None: repeats without end), so a window query needs
    no expansion of events that cannot fall into it. ``definition`` is the normalised block
    (JSON); ``digest`` its hash, compared with ``calendar_state`` to count SEQUENCE."""

    __tablename__ = "calendar_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    space: Mapped[str | None] = mapped_column(String(255), index=True)
    visibility: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    start: Mapped[datetime] = mapped_column(DateTime)
    end: Mapped[datetime] = mapped_column(DateTime)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    tz: Mapped[str] = mapped_column(String(64))
    first_utc: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_utc: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    rrule: Mapped[str | None] = mapped_column(Text)  # RFC 5545 RRULE value, without "RRULE:"
    exdates: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of ISO dates/times
    location: Mapped[str] = mapped_column(String(300), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    rsvp: Mapped[bool] = mapped_column(Boolean, default=False)
    rsvp_max: Mapped[int | None] = mapped_column(Integer)
    definition: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    commit: Mapped[str] = mapped_column(String(40))


class EventState(Base):
    """An event's iCalendar bookkeeping: SEQUENCE (bumped when ``digest`` changes), when it was
    first seen (CREATED) and last changed (LAST-MODIFIED)."""

    __tablename__ = "calendar_state"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Rsvp(Base):
    """One reader's answer for one occurrence (``occurrence``: its local start as ISO text,
    ``2026-12-07`` or ``2026-12-07T19:00``). ``answer``: zusage, vielleicht or absage."""

    __tablename__ = "calendar_rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "occurrence", "user_id", name="uq_calendar_rsvps"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    occurrence: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Places(Base):
    """Places taken ("zusage") of one occurrence with a limit: taken with one conditional
    ``UPDATE … SET taken = taken + 1 WHERE taken < max``, so the cap holds under any race."""

    __tablename__ = "calendar_places"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    occurrence: Mapped[str] = mapped_column(String(32), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(Base):
    """A reminder mail already queued for one occurrence (sent once)."""

    __tablename__ = "calendar_reminders"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    occurrence: Mapped[str] = mapped_column(String(32), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

"""Answers to events (zusage, vielleicht, absage) per occurrence, with an atomic cap.

RSVPs are member data: they live only in ``calendar_rsvps``, keyed by the event's stable id and
the occurrence key (its local start as ISO text, ``2026-12-07`` or ``2026-12-07T19:00``), and
survive a reindex. An event with ``anmeldung: {max: n}`` counts the places taken per occurrence
in ``calendar_places``; a place is taken with one conditional
``UPDATE … SET taken = taken + 1 WHERE taken < max`` in the same transaction that records the
answer, and given back in the same transaction when a ``zusage`` changes to something else, so
the cap holds however many people answer at once.

Who sees what: every reader of the event's page sees the counts; logged-in readers answer;
organisers — the board of the event's chapter (or of a chapter enclosing it) and admins, and
for a page outside any chapter whoever may edit it — see the names and export them. Plain
members of a chapter never see who else answered, even where they may edit pages (membership
in a political organisation is special-category personal data).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext
from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from plugins.calendar import video
from plugins.calendar.ical import Occurrence, TooMany, next_occurrences, occurrences
from plugins.calendar.models import Places, Rsvp
from wiki.api import EDIT, MANAGE, READ, PageRef, User, content, state, utcnow

#: The answers, in the order the widget offers them.
ANSWERS = ("zusage", "vielleicht", "absage")
LABELS = {
    "zusage": lazy_gettext("Zusage"),
    "vielleicht": lazy_gettext("Vielleicht"),
    "absage": lazy_gettext("Absage"),
}
#: Occurrences the widget offers for an answer.
WIDGET_OCCURRENCES = 3
KEY_RE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")
#: Attempts of one answer when a concurrent first answer wins a unique constraint.
ATTEMPTS = 3


class RsvpError(Exception):
    """An answer that cannot be recorded; ``str()`` is the German message, ``status`` the HTTP
    status (400 bad input, 404 no such thing for this reader, 409 full)."""

    def __init__(self, message, status: int = 400):
        super().__init__(str(message))
        self.status = status


class Full(RsvpError):
    """Every place of the occurrence is taken."""

    def __init__(self):
        super().__init__(
            lazy_gettext(
                "Leider sind alle Plätze vergeben. Du kannst „Vielleicht“ oder „Absage“ wählen."
            ),
            409,
        )


# -- who may do what ---------------------------------------------------------------------------


def page_ref(session, event):
    """The permission view of the event's page (None if the page is gone)."""
    return content().ref(session, event.path)


def may_read(session, event, principal) -> bool:
    """Whether ``principal`` may read the event's page (and so the event)."""
    ref = page_ref(session, event)
    return ref is not None and state().acl.can(principal, READ, ref)


def is_organiser(principal, ref) -> bool:
    """Board of the event's chapter or one enclosing it, admins; outside chapters: page editors."""
    if ref is None or not principal.logged_in:
        return False
    acl = state().acl
    if not acl.can(principal, READ, ref):
        return False
    return acl.can(principal, MANAGE if ref.space else EDIT, ref)


def space_room_ref(space: str) -> PageRef:
    """The permission view of a chapter's standing video room: a members-only page of the
    chapter (whoever may read that joins; whoever may manage the chapter moderates)."""
    return PageRef(space, "members", space)


def may_join_space_room(principal, space: str | None) -> bool:
    """Whether ``principal`` sees and may enter the standing room of chapter ``space``."""
    config = state().config
    if not space or not config.get("CALENDAR_SPACE_ROOMS", True):
        return False
    if video.configured(config) is None or not principal.logged_in:
        return False
    return state().acl.can(principal, READ, space_room_ref(space))


def space_room_url(principal, space: str | None) -> str:
    """The join link of the chapter's standing video room, "" unless the reader may enter it."""
    if not may_join_space_room(principal, space):
        return ""
    from flask import url_for

    return url_for("calendar_rsvp.space_room", space=space)


# -- occurrences -------------------------------------------------------------------------------


def parse_key(key: str) -> datetime | date | None:
    """The local start an occurrence key names (a date for all-day events), None if malformed."""
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        return None
    try:
        return datetime.fromisoformat(key) if "T" in key else date.fromisoformat(key)
    except ValueError:
        return None


def find_occurrence(event, key: str):
    """The occurrence of ``event`` with ``key`` (expanded with the calendar's own expansion
    over that local day), or None."""
    start = parse_key(key)
    if start is None or isinstance(start, datetime) == bool(event.all_day):
        return None
    zone = ZoneInfo(event.tz)
    day = start.date() if isinstance(start, datetime) else start
    low = datetime(day.year, day.month, day.day, tzinfo=zone)
    try:
        found = occurrences([event], low, low + timedelta(days=1))
    except TooMany:
        return None
    return next((o for o in found if o.key == key), None)


def is_past(occurrence, now: datetime | None = None) -> bool:
    """True once a timed occurrence has begun, or after the day of an all-day one."""
    now = now or datetime.now(UTC)
    if occurrence.all_day:
        return occurrence.start < now.astimezone(ZoneInfo(occurrence.event.tz)).date()
    return occurrence.start <= now


def upcoming(event, now: datetime | None = None, count: int = WIDGET_OCCURRENCES) -> list:
    """The next ``count`` occurrences that have not begun yet."""
    now = now or datetime.now(UTC)
    try:
        found = next_occurrences(event, now, count + 1)
    except TooMany:
        return []
    return [o for o in found if not is_past(o, now)][:count]


# -- reading -----------------------------------------------------------------------------------


def counts(session, event_id: str, keys) -> dict[str, dict[str, int]]:
    """``{key: {answer: n}}`` for the occurrences ``keys`` (every answer present, maybe 0)."""
    keys = list(keys)
    result = {key: dict.fromkeys(ANSWERS, 0) for key in keys}
    if not keys:
        return result
    rows = session.execute(
        select(Rsvp.occurrence, Rsvp.answer, func.count())
        .where(Rsvp.event_id == event_id, Rsvp.occurrence.in_(keys))
        .group_by(Rsvp.occurrence, Rsvp.answer)
    )
    for key, answer, number in rows:
        if answer in ANSWERS:
            result[key][answer] = number
    return result


def mine(session, event_id: str, keys, user_id: int | None) -> dict[str, str]:
    """``{key: answer}`` of one user for the occurrences ``keys``."""
    if user_id is None or not keys:
        return {}
    rows = session.execute(
        select(Rsvp.occurrence, Rsvp.answer).where(
            Rsvp.event_id == event_id, Rsvp.user_id == user_id, Rsvp.occurrence.in_(list(keys))
        )
    )
    return dict(rows.all())


def places_left(event, zusagen: int) -> int | None:
    """Free places of an occurrence with ``zusagen`` yes-answers (None: no limit)."""
    if event.rsvp_max is None:
        return None
    return max(0, event.rsvp_max - zusagen)


def attendees(session, event_id: str) -> list[dict]:
    """Every answer to the event with the name of whoever gave it, by occurrence and name
    (for organisers only)."""
    rows = session.execute(
        select(Rsvp.occurrence, Rsvp.answer, Rsvp.updated_at, User.display_name, User.deleted_at)
        .join(User, User.id == Rsvp.user_id)
        .where(Rsvp.event_id == event_id)
        .order_by(Rsvp.occurrence, User.display_name, Rsvp.id)
    )
    return [
        {"occurrence": key, "answer": answer, "updated_at": updated, "name": name}
        for key, answer, updated, name, deleted in rows
        if deleted is None
    ]


def occurrence_label(occurrence) -> str:
    """When an occurrence takes place, for people (as the event's widget says it)."""
    from plugins.calendar.views import display_zone, when

    return when(occurrence, display_zone())


def key_label(event, key: str) -> str:
    """When the occurrence ``key`` takes place, for people (the attendee list, the CSV); also
    for keys the event no longer has (its time was changed after people answered)."""
    start = parse_key(key)
    if start is None or isinstance(start, datetime) == bool(event.all_day):
        return key
    if isinstance(start, datetime):
        start = start.replace(tzinfo=ZoneInfo(event.tz))
    return occurrence_label(Occurrence(event, start, start + (event.end - event.start), key))


def widget_context(session, event, principal, now: datetime | None = None) -> dict:
    """What the event's widget shows this reader: the next occurrences with their own answer,
    the counts and free places, whether they may answer, and (organisers) the attendee list."""
    from flask import url_for

    from plugins.calendar import video

    # A row built from the block alone (a preview, a past revision, a duplicate id) is not the
    # event the routes act on: it shows neither answers nor the video room.
    current = inspect(event).persistent
    ref = page_ref(session, event) if current else None
    organiser = is_organiser(principal, ref)
    items = []
    if event.rsvp and current:
        found = upcoming(event, now)
        keys = [o.key for o in found]
        numbers = counts(session, event.id, keys)
        answers = mine(session, event.id, keys, principal.user_id)
        for occ in found:
            left = places_left(event, numbers[occ.key]["zusage"])
            items.append(
                {
                    "key": occ.key,
                    "label": occurrence_label(occ),
                    "mine": answers.get(occ.key),
                    "counts": numbers[occ.key],
                    "left": left,
                    "full": left == 0,
                }
            )
    joinable = current and bool(event.online) and video.configured(state().config) is not None
    return {
        "enabled": bool(event.rsvp) and current,
        "may_answer": bool(event.rsvp) and current and principal.logged_in,
        "logged_in": principal.logged_in,
        "organiser": organiser,
        "max": event.rsvp_max,
        "occurrences": items,
        "answers": [(value, LABELS[value]) for value in ANSWERS],
        "labels": LABELS,
        "action": url_for("calendar_rsvp.rsvp", event_id=event.id),
        "attendees_url": (
            url_for("calendar_rsvp.attendees", event_id=event.id) if organiser else None
        ),
        "join_url": url_for("calendar_rsvp.join", event_id=event.id) if joinable else None,
    }


# -- writing -----------------------------------------------------------------------------------


def answer(session, event, key: str, principal, value: str, now: datetime | None = None) -> str:
    """Record ``principal``'s answer ``value`` for the occurrence ``key`` and commit.

    Only logged-in readers of the event's page, only real occurrences that have not begun; a
    ``zusage`` takes a place of a limited event atomically (:class:`Full`, status 409, when
    none is left; nothing is changed then). Raises :class:`RsvpError` for everything refused.
    """
    if not principal.logged_in or not may_read(session, event, principal):
        raise RsvpError(lazy_gettext("Diesen Termin gibt es nicht."), 404)
    if not event.rsvp:
        raise RsvpError(lazy_gettext("Für diesen Termin gibt es keine Anmeldung."), 404)
    if value not in ANSWERS:
        raise RsvpError(lazy_gettext("Bitte „Zusage“, „Vielleicht“ oder „Absage“ wählen."))
    occurrence = find_occurrence(event, key)
    if occurrence is None:
        raise RsvpError(lazy_gettext("Zu diesem Zeitpunkt findet der Termin nicht statt."))
    if is_past(occurrence, now):
        raise RsvpError(
            lazy_gettext("Dieser Termin hat schon begonnen; eine Antwort ist nicht mehr möglich.")
        )
    for attempt in range(ATTEMPTS):
        try:
            _record(session, event, occurrence.key, principal.user_id, value)
            session.commit()
            return value
        except Full:
            session.rollback()
            raise
        except IntegrityError:
            # A concurrent first answer of the same person (or a first place counter) won;
            # the next attempt finds that row and updates it instead.
            session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _record(session, event, key: str, user_id: int, value: str) -> None:
    """Write the answer and move the place counter in the current transaction.

    The first statement that writes opens the transaction (SQLite takes its write lock there,
    so everything after it is serialised); each change of the answer is a conditional UPDATE
    on the row, so two requests of one person cannot both take or both give back a place.
    """
    now = utcnow()
    mine_where = (Rsvp.event_id == event.id, Rsvp.occurrence == key, Rsvp.user_id == user_id)
    row_id = session.scalar(select(Rsvp.id).where(*mine_where))
    gained = lost = False
    if row_id is None:
        session.execute(
            insert(Rsvp).values(
                event_id=event.id,
                occurrence=key,
                user_id=user_id,
                answer=value,
                created_at=now,
                updated_at=now,
            )
        )
        gained = value == "zusage"
    elif value == "zusage":
        gained = _set(session, row_id, value, now, Rsvp.answer != "zusage")
    else:
        lost = _set(session, row_id, value, now, Rsvp.answer == "zusage")
        if not lost:
            _set(session, row_id, value, now)
    if gained and not _take_place(session, event, key, user_id):
        raise Full()
    if lost:
        session.execute(
            update(Places)
            .where(Places.event_id == event.id, Places.occurrence == key, Places.taken > 0)
            .values(taken=Places.taken - 1)
            .execution_options(synchronize_session=False)
        )


def _set(session, row_id: int, value: str, now: datetime, *condition) -> bool:
    result = session.execute(
        update(Rsvp)
        .where(Rsvp.id == row_id, *condition)
        .values(answer=value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _take_place(session, event, key: str, user_id: int) -> bool:
    """Take one place of the occurrence; False if the event's limit is reached."""
    where = (Places.event_id == event.id, Places.occurrence == key)
    stmt = update(Places).where(*where).values(taken=Places.taken + 1)
    if event.rsvp_max is not None:
        stmt = stmt.where(Places.taken < event.rsvp_max)
    if session.execute(stmt.execution_options(synchronize_session=False)).rowcount == 1:
        return True
    if session.scalar(select(Places.taken).where(*where)) is not None:
        return False  # the counter exists and is at the limit
    # The first place of this occurrence: start the counter with the yes-answers given before
    # it existed (the event had no limit then), not counting this person's own.
    before = session.scalar(
        select(func.count()).where(
            Rsvp.event_id == event.id,
            Rsvp.occurrence == key,
            Rsvp.answer == "zusage",
            Rsvp.user_id != user_id,
        )
    )
    if event.rsvp_max is not None and before >= event.rsvp_max:
        return False
    session.execute(insert(Places).values(event_id=event.id, occurrence=key, taken=before + 1))
    return True

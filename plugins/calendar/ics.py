"""The VCALENDAR around events: one RFC 5545 object per feed or download, built with icalendar.

Events themselves come from ``ical.vevent`` (one builder for feeds, downloads and the views'
expansion). Here: PRODID and VERSION once, CALSCALE, the calendar's name for Apple (``X-WR-
CALNAME``) and RFC 7986 (``NAME``), how often subscribers should refresh (``REFRESH-INTERVAL``,
Outlook's ``X-PUBLISHED-TTL``), a VTIMEZONE for every TZID used, and no METHOD: a feed is a
published calendar, not an iTIP message (with ``METHOD:PUBLISH`` Outlook imports a copy instead of
subscribing, and Google ignores updates). icalendar writes CRLF line ends and folds lines at 75
octets without splitting a UTF-8 sequence (``tests/plugins/test_calendar_feeds.py`` checks both).

Serialising is most of a feed's cost, so feeds keep each event's serialised VEVENT (a
:class:`Part`) per version of the event and put them after the calendar's own components.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from icalendar import Calendar, Event, Timezone, vDuration

PRODID = "-//Verbandswiki//Kalender//DE"
#: How often calendar programs should fetch a subscribed feed again.
REFRESH = timedelta(hours=1)
#: VTIMEZONE transitions are written up to here at least (later if an event starts later).
TZ_LAST = date(2038, 1, 1)
END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True)
class Part:
    """One VEVENT as icalendar serialised it, with what the calendar around it needs: the
    TZIDs it uses and the day it starts. Feeds keep these per event version (serialising is
    most of a feed's cost, and an event's VEVENT is the same in every feed that carries it)."""

    ical: bytes
    tzids: frozenset[str]
    first: date | None


def part(event: Event) -> Part:
    """The serialised form of ``event``."""
    holder = Calendar()
    holder.add_component(event)
    start = event.get("DTSTART")
    return Part(
        event.to_ical(), frozenset(holder.get_used_tzids()), _day(start.dt) if start else None
    )


def calendar_bytes(
    events: Iterable[Event | Part],
    name: str,
    *,
    description: str | None = None,
    source: str | None = None,
    refresh: timedelta = REFRESH,
) -> bytes:
    """One VCALENDAR with ``events`` (icalendar ``Event`` components or their :class:`Part`)
    as UTF-8 bytes.

    ``name`` is the calendar's name shown by subscribing programs, ``source`` the feed's own
    address (RFC 7986 SOURCE; leave it out for personal addresses that carry a token). The
    calendar's own properties and its VTIMEZONEs are one icalendar ``Calendar``; the VEVENTs,
    serialised by icalendar too, follow its last component."""
    parts = [event if isinstance(event, Part) else part(event) for event in events]
    calendar = Calendar.new(
        prodid=PRODID,
        calscale="GREGORIAN",
        name=name,
        description=description,
        source=source,
        refresh_interval=refresh,
    )
    # Calendar.new invents a random UID per call: a feed fetched twice would differ for nothing.
    calendar.pop("UID", None)
    # RFC 7986 requires the VALUE parameter on REFRESH-INTERVAL (its default type is not DURATION).
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    for timezone in timezones(parts):
        calendar.add_component(timezone)
    frame = calendar.to_ical()
    if not frame.endswith(END):  # pragma: no cover - icalendar always ends so
        raise ValueError("unexpected end of a serialised calendar")
    return frame[: -len(END)] + b"".join(p.ical for p in parts) + END


def timezones(parts: list[Part]) -> list[Timezone]:
    """A VTIMEZONE for every TZID the events use, as ``Calendar.add_missing_timezones`` makes
    them (``Timezone.from_tzid``; unknown zones are left out), transitions limited to the years
    of the events, onsets corrected (:func:`_onsets_before_the_change`)."""
    tzids = sorted(set().union(*(p.tzids for p in parts))) if parts else []
    starts = [p.first for p in parts if p.first is not None]
    first, last = _tz_range(starts)
    return [tz for tz in (_timezone(tzid, first, last) for tzid in tzids) if tz is not None]


@lru_cache(maxsize=64)
def _timezone(tzid: str, first: date, last: date) -> Timezone | None:
    """One VTIMEZONE (shared between calendars: never changed after it is made)."""
    try:
        timezone = Timezone.from_tzid(tzid, first_date=first, last_date=last)
    except ValueError:
        return None
    _onsets_before_the_change(timezone)
    return timezone


def _onsets_before_the_change(timezone) -> None:
    """RFC 5545 (3.6.5): an observance's DTSTART and RDATEs are local times in the offset
    *before* the change (TZOFFSETFROM). icalendar 7.3 writes the wall-clock time after it when
    clocks go forward (``DTSTART:20260329T030000`` for Berlin instead of ``020000``), which puts
    each spring change an hour late for programs that read the VTIMEZONE rather than the TZID."""
    for observance in timezone.subcomponents:
        gap = observance["TZOFFSETTO"].td - observance["TZOFFSETFROM"].td
        if gap <= timedelta(0):
            continue
        start = observance.decoded("DTSTART") - gap
        observance.pop("DTSTART")
        observance.add("DTSTART", start)
        if "RDATE" in observance:
            lists = observance.pop("RDATE")
            lists = lists if isinstance(lists, list) else [lists]
            observance.add("RDATE", [d.dt - gap for values in lists for d in values.dts])


def _tz_range(starts: list[date]) -> tuple[date, date]:
    """Dates that enclose every start: VTIMEZONE transitions are written only between them
    (from 1970 on they would make up most of a small feed)."""
    if not starts:
        return date(1970, 1, 1), TZ_LAST
    first = min(starts).replace(month=1, day=1) - timedelta(days=1)
    last = max(TZ_LAST, max(starts).replace(month=1, day=1) + timedelta(days=732))
    return first, last


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value

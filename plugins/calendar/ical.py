"""The one iCalendar builder of an event, and the expansion of events into occurrences.

Feeds, the .ics of one event and the calendar views all start from :func:`vevent`; the views
expand exactly those VEVENTs with ``recurring_ical_events`` (:func:`occurrences`), so a feed
reader and the month grid agree on every occurrence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import recurring_ical_events
from flask import has_request_context
from icalendar import Calendar, Event, vRecur

from plugins.calendar.definitions import (
    exdate_values,
    expand_rule,
    occurrence_key,
    parse_rule,
)

#: Most occurrences a view expands; beyond it the view answers 413.
CAP = 500
#: Most rule steps computed for one request (a dense rule far from its start is expensive to
#: walk up to the window even if few of its occurrences fall into it).
BUDGET = 200_000


class TooMany(Exception):
    """The window holds more occurrences than the cap (or costs too much to compute)."""

    def __init__(self, cap: int):
        super().__init__(cap)
        self.cap = cap


def _in_zone(moment: datetime | date, zone: ZoneInfo) -> datetime | date:
    """``moment`` as the wall clock of ``zone`` shows it. Through UTC: converting to the zone a
    time already carries changes nothing in Python, so a time in the hour skipped by the spring
    change (02:30 on the last Sunday of March) would stay 02:30 instead of 03:30 (RFC 5545)."""
    if not isinstance(moment, datetime):
        return moment
    return moment.astimezone(UTC).astimezone(zone)


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an event: ``start``/``end`` aware datetimes in the event's zone, or
    dates (all-day, ``end`` exclusive); ``key`` identifies it for RSVPs and reminders."""

    event: object  # EventRow
    start: datetime | date
    end: datetime | date
    key: str

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    def sort_key(self) -> datetime:
        return utc_of(self.start, self.event.tz)

    def start_in(self, zone: ZoneInfo) -> datetime | date:
        """The start as shown to a reader in ``zone`` (all-day: the date itself)."""
        return _in_zone(self.start, zone)

    def end_in(self, zone: ZoneInfo) -> datetime | date:
        return _in_zone(self.end, zone)

    def days(self, zone: ZoneInfo) -> list[date]:
        """The days (in ``zone``) this occurrence touches."""
        first = self.start_in(zone)
        last = self.end_in(zone)
        if isinstance(first, datetime):
            first_day = first.date()
            last_day = (last - timedelta(microseconds=1)).date() if last > first else first_day
        else:
            first_day, last_day = first, last - timedelta(days=1)
        return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def utc_of(value: datetime | date, tz: str) -> datetime:
    """Naive UTC of an aware datetime or of midnight of a date in ``tz``."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC).replace(tzinfo=None)


def event_times(row) -> tuple[datetime | date, datetime | date]:
    """DTSTART and DTEND of a row: dates for all-day events, else aware in ``row.tz``."""
    if row.all_day:
        return row.start.date(), row.end.date()
    zone = ZoneInfo(row.tz)
    return row.start.replace(tzinfo=zone), row.end.replace(tzinfo=zone)


def as_utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def page_url(row) -> str | None:
    """The absolute URL of the event's anchor on its page (in a request only)."""
    if not has_request_context():
        return None
    from wiki.api import external_url

    return external_url("pages.view", path=row.path) + f"#termin-{row.id}"


def vevent(row, state=None, host: str = "localhost", url: str | None = None) -> Event:
    """The VEVENT of an event row; ``state`` is its EventState (SEQUENCE, CREATED,
    LAST-MODIFIED) or None. RRULE/EXDATE are kept, never expanded. No video room here."""
    event = Event()
    event.add("uid", f"{row.id}@{host}")
    modified = state.modified_at if state is not None else None
    event.add("dtstamp", as_utc(modified) or datetime.now(UTC).replace(microsecond=0))
    event.add("sequence", state.sequence if state is not None else 0)
    start, end = event_times(row)
    event.add("dtstart", start)
    event.add("dtend", end)
    if row.rrule:
        event.add("rrule", vRecur.from_ical(row.rrule))
        exdates = exdate_values(row.tz, row.all_day, json.loads(row.exdates or "[]"))
        if exdates:
            event.add("exdate", exdates)
    event.add("summary", row.title)
    if row.location:
        event.add("location", row.location)
    if row.description:
        event.add("description", row.description)
    url = url or page_url(row)
    if url:
        event.add("url", url)
    if state is not None:
        event.add("created", as_utc(state.created_at))
        event.add("last-modified", as_utc(state.modified_at))
    return event


def _bare_vevent(row) -> Event:
    """What the expansion needs of a row (no URL, no bookkeeping)."""
    event = Event()
    event.add("uid", row.id)
    start, end = event_times(row)
    event.add("dtstart", start)
    event.add("dtend", end)
    if row.rrule:
        event.add("rrule", vRecur.from_ical(row.rrule))
        exdates = exdate_values(row.tz, row.all_day, json.loads(row.exdates or "[]"))
        if exdates:
            event.add("exdate", exdates)
    return event


#: Rule parts that multiply occurrences within a day or a year (walked, not estimated).
DENSE_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND", "BYYEARDAY", "BYWEEKNO", "BYSETPOS")


@lru_cache(maxsize=1024)
def rule_parts(text: str):
    """The parts of an RRULE value (read-only; memoised: the same rules recur per request)."""
    return parse_rule(text)


def rough_bound(rule, days: float) -> float | None:
    """An upper bound of a rule's occurrences in ``days`` days, or None if it is not cheap to
    tell (dense or unusual rules are walked instead)."""
    freq = rule.get("FREQ", [""])[0]
    if any(part in rule for part in DENSE_PARTS):
        return None
    interval = int(rule.get("INTERVAL", [1])[0])
    byday = rule.get("BYDAY", [])
    if freq == "WEEKLY":
        return (days / (7 * interval) + 1) * max(1, len(byday))
    if freq == "MONTHLY" and not (byday and "BYMONTHDAY" in rule):
        per_month = len(rule.get("BYMONTHDAY", [])) or sum(
            1 if str(day)[:1] in "+-0123456789" else 5 for day in byday
        )
        return (days / (28 * interval) + 1) * max(1, per_month)
    if freq == "YEARLY" and len(rule) <= 3 + ("UNTIL" in rule) + ("COUNT" in rule):
        return days / (365 * interval) + 1
    return None


def walk(row, start: datetime, end: datetime, budget: list[int]) -> int:
    """Occurrences of one rule starting in the window (plus its duration), by walking the
    rule lazily with dateutil; raises TooMany when the shared ``budget`` of steps runs out."""
    first, last = event_times(row)
    zone = ZoneInfo(row.tz)
    if row.all_day:
        duration = timedelta(days=(last - first).days)
        low = (start.astimezone(zone) - duration).replace(tzinfo=None)
        high = end.astimezone(zone).replace(tzinfo=None)
    else:
        low, high = start - (last.astimezone(UTC) - first.astimezone(UTC)), end
    count = 0
    for moment in expand_rule(row.rrule, first):
        budget[0] -= 1
        if budget[0] < 0:
            raise TooMany(CAP)
        if moment >= high:
            break
        if moment >= low:
            count += 1
    return count


def estimate(rows, start: datetime, end: datetime, cap: int) -> None:
    """Raise TooMany before expanding if the window holds more than ``cap`` occurrences or
    walking the rules up to it costs more than :data:`BUDGET` steps. Plain weekly, monthly
    and yearly rules are bounded by arithmetic; the rest is walked lazily with dateutil."""
    days = (end - start).total_seconds() / 86400
    budget = [BUDGET]
    total = 0.0
    cheap = []
    for row in rows:
        if not row.rrule:
            total += 1
            continue
        span = days + (row.end - row.start).total_seconds() / 86400 + 1
        bound = rough_bound(rule_parts(row.rrule), span)
        if bound is None:
            total += walk(row, start, end, budget)
        else:
            cheap.append((row, bound))
        if total > cap:
            raise TooMany(cap)
    if total + sum(bound for _row, bound in cheap) <= cap:
        return
    for row, _bound in cheap:
        total += walk(row, start, end, budget)
        if total > cap:
            raise TooMany(cap)


class _Starts(recurring_ical_events.CalendarQuery):
    """The library's query, answering with its occurrences (start, end, uid) instead of a
    copied component per occurrence (which costs more than the expansion itself)."""

    def _occurrences_to_components(self, occurrences):
        return occurrences


#: Most entries kept in a memo of expansions before it starts afresh.
MEMO_SIZE = 5000


def _expand(rows, start: datetime, end: datetime, memo: dict | None = None) -> list:
    """(row, start, end) of every occurrence: single events directly (their one occurrence
    is DTSTART–DTEND), repeating ones through ``recurring_ical_events``. ``memo`` keeps the
    occurrences of a repeating event per (id, digest of its definition, window)."""
    found = []
    repeating = {}
    for row in rows:
        if row.rrule:
            cached = memo.get((row.id, row.digest, start, end)) if memo is not None else None
            if cached is not None:  # one lookup: another thread may clear the memo meanwhile
                found.extend((row, first, last) for first, last in cached)
            else:
                repeating[row.id] = row
            continue
        first, last = event_times(row)
        if utc_of(first, row.tz) < utc_of(end, row.tz) and utc_of(last, row.tz) > utc_of(
            start, row.tz
        ):
            found.append((row, first, last))
    if repeating:
        calendar = Calendar()
        for row in repeating.values():
            calendar.add_component(_bare_vevent(row))
        query = recurring_ical_events.of(calendar, calendar_query=_Starts)
        fresh: dict[str, list] = {ident: [] for ident in repeating}
        for occurrence in query.between(start, end):
            fresh[str(occurrence.uid)].append((occurrence.start, occurrence.end))
        for ident, times in fresh.items():
            row = repeating[ident]
            found.extend((row, first, last) for first, last in times)
            if memo is not None:
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                memo[(ident, row.digest, start, end)] = tuple(times)
    return found


def occurrences(
    rows, start: datetime, end: datetime, cap: int = CAP, cache: dict | None = None
) -> list[Occurrence]:
    """Every occurrence of ``rows`` overlapping [start, end) (aware datetimes), in order.

    Expanded by ``recurring_ical_events`` over the same VEVENTs the feeds carry; raises
    :class:`TooMany` when there would be more than ``cap``. ``cache`` (a dict kept per app)
    remembers the expansion of each repeating event per window.
    """
    rows = list(rows)
    if not rows:
        return []
    estimate(rows, start, end, cap)
    found = _expand(rows, start, end, cache)
    if len(found) > cap:
        raise TooMany(cap)
    out = []
    for row, first, last in found:
        if not row.all_day:
            zone = ZoneInfo(row.tz)
            first, last = first.astimezone(zone), last.astimezone(zone)
        out.append(Occurrence(row, first, last, occurrence_key(first, row.tz)))
    out.sort(key=lambda o: (o.sort_key(), o.event.title, o.event.id))
    return out


def first_occurrence(row) -> Occurrence:
    """The occurrence at DTSTART (shown for events that are over)."""
    first, last = event_times(row)
    return Occurrence(row, first, last, occurrence_key(first, row.tz))


def next_occurrences(row, after: datetime, count: int = 3) -> list[Occurrence]:
    """The next ``count`` occurrences of one event that end after ``after`` (for its widget);
    none for a rule too expensive to walk up to ``after`` (see :data:`BUDGET`)."""
    if after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    if row.rrule:
        try:
            estimate([row], after, after + timedelta(days=31), cap=10**9)
        except TooMany:
            return []
    calendar = Calendar()
    calendar.add_component(_bare_vevent(row))
    out = []
    for component in recurring_ical_events.of(calendar).after(after):
        first, last = component.start, component.end
        if not row.all_day:
            zone = ZoneInfo(row.tz)
            first, last = first.astimezone(zone), last.astimezone(zone)
        out.append(Occurrence(row, first, last, occurrence_key(first, row.tz)))
        if len(out) >= count:
            break
    return out

"""Calendar pages: everything the reader may see, per chapter; month grid and agenda.

``GET /-/calendar`` and ``GET /-/calendar/<space>`` (``?monat=2026-12``, ``?ansicht=liste``,
``?untergliederungen=0``), and the ``termin`` widget on its page. Occurrences are expanded only
inside the shown month, at most :data:`plugins.calendar.ical.CAP` (else 413).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from plugins.calendar import ical, rsvp
from plugins.calendar.definitions import parse, parse_rule
from plugins.calendar.models import EventRow
from plugins.calendar.queries import visible_events
from wiki.api import (
    PageRow,
    current_principal,
    get_db,
    readable_ref,
    render_markdown,
    space_labels,
    valid_path_or_404,
)

MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
#: Next occurrences shown in an event's widget.
WIDGET_NEXT = 3
WEEKDAY_LABELS = (_l("Mo"), _l("Di"), _l("Mi"), _l("Do"), _l("Fr"), _l("Sa"), _l("So"))
ORDINAL_LABELS = {
    1: _l("jeden 1."), 2: _l("jeden 2."), 3: _l("jeden 3."), 4: _l("jeden 4."),
    5: _l("jeden 5."), -1: _l("jeden letzten"),
}  # fmt: skip
DAY_NAMES = {
    "MO": _l("Montag"), "TU": _l("Dienstag"), "WE": _l("Mittwoch"), "TH": _l("Donnerstag"),
    "FR": _l("Freitag"), "SA": _l("Samstag"), "SU": _l("Sonntag"),
}  # fmt: skip


def display_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("WIKI_TIMEZONE", "Europe/Berlin"))


# -- text of times and rules ----------------------------------------------------------------------


class Texts:
    """Dates and times in the reader's locale, each distinct value formatted once per request
    (a month of a busy chapter shows hundreds of occurrences at a handful of times)."""

    def __init__(self):
        self._memo: dict = {}

    def time(self, moment: datetime) -> str:
        """The short time (19:00) of an aware datetime already in the display zone."""
        key = ("t", moment.hour, moment.minute)
        if key not in self._memo:
            self._memo[key] = format_time(moment, "short")
        return self._memo[key]

    def day(self, value: date, fmt: str = "full") -> str:
        key = ("d", value, fmt)
        if key not in self._memo:
            self._memo[key] = format_date(value, fmt)
        return self._memo[key]


def when(occurrence: ical.Occurrence, zone: ZoneInfo, texts: Texts | None = None) -> str:
    """Like "Montag, 7. Dezember 2026, 19:00–21:00" (all-day: the days), in ``zone``."""
    texts = texts or Texts()
    start, end = occurrence.start_in(zone), occurrence.end_in(zone)
    if occurrence.all_day:
        last = end - timedelta(days=1)
        if last <= start:
            return texts.day(start)
        return f"{texts.day(start, 'medium')} – {texts.day(last, 'medium')}"
    if start.date() == end.date():
        return f"{texts.day(start.date())}, {texts.time(start)}–{texts.time(end)}"
    return (
        f"{texts.day(start.date(), 'medium')}, {texts.time(start)}"
        f" – {texts.day(end.date(), 'medium')}, {texts.time(end)}"
    )


def clock(occurrence: ical.Occurrence, zone: ZoneInfo, texts: Texts | None = None) -> str:
    """The start time for a grid or list line ("19:00"; "ganztägig")."""
    if occurrence.all_day:
        return _("ganztägig")
    return (texts or Texts()).time(occurrence.start_in(zone))


def repeat_text(row) -> str:
    """The rule in words: "wöchentlich", "monatlich, jeden 1. Montag", "… bis 30.06.2027"."""
    if not row.rrule:
        return ""
    rule = parse_rule(row.rrule)
    freq = rule.get("FREQ", [""])[0]
    interval = int(rule.get("INTERVAL", [1])[0])
    known = {"FREQ", "INTERVAL", "UNTIL", "COUNT", "BYDAY", "BYMONTHDAY"}
    byday = [str(day) for day in rule.get("BYDAY", [])]
    text = None
    if set(rule) <= known:
        if freq == "DAILY" and not byday and "BYMONTHDAY" not in rule:
            text = _("täglich") if interval == 1 else _("alle %(n)d Tage", n=interval)
        elif freq == "WEEKLY" and not byday and "BYMONTHDAY" not in rule:
            text = _("wöchentlich") if interval == 1 else _("alle %(n)d Wochen", n=interval)
        elif freq == "MONTHLY" and interval == 1 and len(byday) == 1 and byday[0][-2:] in DAY_NAMES:
            number = byday[0][:-2].lstrip("+")
            if number.lstrip("-").isdigit() and int(number) in ORDINAL_LABELS:
                text = _(
                    "monatlich, %(nth)s %(day)s",
                    nth=ORDINAL_LABELS[int(number)],
                    day=DAY_NAMES[byday[0][-2:]],
                )
        elif freq == "MONTHLY" and interval == 1 and not byday and "BYMONTHDAY" in rule:
            text = _("monatlich am %(day)s.", day=rule["BYMONTHDAY"][0])
        elif freq == "YEARLY" and interval == 1 and not byday and "BYMONTHDAY" not in rule:
            text = _("jährlich")
    if text is None:
        text = _("nach der Regel %(rule)s", rule=row.rrule)
    if "UNTIL" in rule:
        until = rule["UNTIL"][0]
        if isinstance(until, datetime):
            until = until.astimezone(ZoneInfo(row.tz)).date()
        text = _("%(rule)s bis %(day)s", rule=text, day=format_date(until, "medium"))
    elif "COUNT" in rule:
        text = _("%(rule)s, %(n)d-mal", rule=text, n=int(rule["COUNT"][0]))
    return text


def anchor_url(row) -> str:
    return url_for("pages.view", path=row.path) + f"#termin-{row.id}"


# -- the widget -----------------------------------------------------------------------------------


def widget_row(session, event, page) -> EventRow:
    """The projected row of the event if it is this page's current one, else a transient row
    from the block (a page being previewed, a past revision, a pushed duplicate)."""
    row = session.get(EventRow, event.id)
    if row is not None and row.path == page.path and row.digest == event.digest():
        return row
    return EventRow(path=page.path, space=None, visibility="", commit="", **event.to_row_values())


def render_widget(state, data, page, principal, session) -> str:
    """The event on its page: when, where, the next dates, "In meinen Kalender", and what the
    RSVP and video parts add (their templates are included when they exist)."""
    event, problems = parse(data)
    if event is None:
        return render_template("calendar/widget.html", problems=[str(p) for p in problems])
    row = widget_row(session, event, page)
    zone, texts = display_zone(), Texts()
    now = datetime.now(ZoneInfo("UTC"))
    upcoming = ical.next_occurrences(row, now, WIDGET_NEXT)
    first = upcoming[0] if upcoming else ical.first_occurrence(row)
    from plugins.calendar import rsvp as answers

    rsvp = answers.widget_context(session, row, principal)
    return render_template(
        "calendar/widget.html",
        problems=None,
        event=row,
        first=first,
        occurrences=upcoming,
        when=lambda o: when(o, zone, texts),
        repeat=repeat_text(row),
        description=render_markdown(row.description, page.path) if row.description else "",
        ics_url=url_for("calendar_feeds.event_ics", event_id=row.id),
        rsvp=rsvp,
        principal=principal,
        page=page,
    )


# -- month grid and agenda ------------------------------------------------------------------------


@dataclass
class Entry:
    """One occurrence on one day of the grid or in the list."""

    occurrence: ical.Occurrence
    url: str
    time: str
    when: str
    nested: bool
    space: str | None


def month_of(text: str | None, zone: ZoneInfo) -> date:
    """The first day of ``?monat=JJJJ-MM`` (this month if empty); 400 if malformed."""
    if not text:
        today = datetime.now(zone).date()
        return today.replace(day=1)
    match = MONTH_RE.fullmatch(text.strip())
    if not match or not 1 <= int(match[2]) <= 12 or not 1900 <= int(match[1]) <= 2200:
        abort(400, _("Ungültiger Monat: bitte JJJJ-MM angeben, z. B. 2026-12."))
    return date(int(match[1]), int(match[2]), 1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def month_weeks(first: date) -> list[list[date]]:
    """Weeks (Monday first) that cover the month of ``first``."""
    start = first - timedelta(days=first.weekday())
    end = next_month(first)
    weeks = []
    while start < end:
        weeks.append([start + timedelta(days=n) for n in range(7)])
        start += timedelta(days=7)
    return weeks


def space_page(space: str) -> PageRow:
    """The definition page of a space the reader may read; 404 otherwise."""
    valid_path_or_404(space)
    readable_ref(space)
    row = get_db().get(PageRow, space)
    if row is None or row.type != "space":
        abort(404)
    return row


def expansions() -> dict:
    """The app's memo of expanded repeating events (:func:`plugins.calendar.ical.occurrences`)."""
    from wiki.api import state

    return state().extra.setdefault("calendar_expansions", {})


def subscribe_url(space: str | None) -> str:
    """The subscription page (feeds), for this chapter if one is shown."""
    return url_for("calendar_feeds.subscribe", **({"gliederung": space} if space else {}))


def show(space: str | None):
    """The month grid or the agenda of the reader's events (of ``space``)."""
    zone = display_zone()
    first = month_of(request.args.get("monat"), zone)
    children = request.args.get("untergliederungen", "1") != "0"
    space_row = space_page(space) if space is not None else None
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    end_day = next_month(first)
    end = datetime(end_day.year, end_day.month, 1, tzinfo=zone)
    utc = ZoneInfo("UTC")
    rows = visible_events(
        get_db(),
        current_principal(),
        space=space,
        children=children,
        start=start.astimezone(utc).replace(tzinfo=None),
        end=end.astimezone(utc).replace(tzinfo=None),
    )
    try:
        found = ical.occurrences(rows, start, end, cache=expansions())
    except ical.TooMany as error:
        abort(
            413,
            _(
                "In diesem Monat liegen zu viele Termine (mehr als %(cap)d), um sie anzuzeigen. "
                "Das liegt meist an einer Wiederholungsregel, die sehr oft zutrifft (etwa "
                "mehrmals am Tag). Bitte die Regel des Termins ändern oder die Gliederung "
                "einzeln aufrufen.",
                cap=error.cap,
            ),
        )
    labels = space_labels({row.space for row in rows if row.space})
    agenda = request.args.get("ansicht") == "liste"
    texts = Texts()
    urls = {row.id: anchor_url(row) for row in rows}
    entries = [
        Entry(
            occurrence=o,
            url=urls[o.event.id],
            time=clock(o, zone, texts),
            when=when(o, zone, texts) if agenda else "",
            nested=space is not None and o.event.space != space,
            space=o.event.space and labels.get(o.event.space, o.event.space),
        )
        for o in found
    ]
    by_day: dict[date, list[Entry]] = {}
    for entry in entries:
        for day in entry.occurrence.days(zone):
            if first <= day < end_day:
                by_day.setdefault(day, []).append(entry)
    args = {"untergliederungen": "0"} if not children else {}
    if agenda:
        args["ansicht"] = "liste"

    def link(month: date | None = None, **extra) -> str:
        values = args | extra
        if month is not None:
            values["monat"] = f"{month:%Y-%m}"
        values = {k: v for k, v in values.items() if v is not None}
        if space is None:
            return url_for("calendar.index", **values)
        return url_for("calendar.space", space=space, **values)

    return render_template(
        "calendar/agenda.html" if agenda else "calendar/month.html",
        agenda=agenda,
        space=space,
        space_row=space_row,
        title=space_row.title if space_row else _("Kalender"),
        first=first,
        month_label=format_date(first, "MMMM yyyy"),
        weeks=month_weeks(first),
        weekdays=WEEKDAY_LABELS,
        by_day=by_day,
        entries=entries,
        today=datetime.now(zone).date(),
        children=children,
        previous_url=link(previous_month(first)),
        next_url=link(next_month(first)),
        grid_url=link(first, ansicht=None),
        list_url=link(first, ansicht="liste"),
        toggle_url=link(first, untergliederungen=None if not children else "0"),
        subscribe_url=subscribe_url(space),
        room_url=rsvp.space_room_url(current_principal(), space),
        format_day=texts.day,
    )


def make_blueprint() -> Blueprint:
    """Routes under ``/-/calendar``."""
    bp = Blueprint(
        "calendar",
        __name__,
        url_prefix="/-/calendar",
        static_folder="static",
        static_url_path="/static",
    )

    @bp.get("", strict_slashes=False)
    def index():
        """Everything the reader may see."""
        return show(None)

    @bp.get("/<path:space>")
    def space(space):
        """One chapter's calendar (with its sub-spaces unless ``?untergliederungen=0``)."""
        return show(space)

    return bp

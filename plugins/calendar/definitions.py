"""A ``termin`` block: parse and validate the YAML of one event, normalise it.

Syntax (German keys, YAML)::

    id: stammtisch              # stable, [a-z0-9-]{1,64}, unique in the wiki
    titel: Stammtisch
    beginn: 2026-12-07 19:00    # a date alone = all-day
    ende: 21:00                 # same day; or "2026-12-08 01:00"; all-day: last day
    ganztägig: ja               # optional for a date-only beginn
    zeitzone: Europe/Berlin     # default
    ort: Café Mitte
    online: ja
    wiederholung: wöchentlich   # täglich, wöchentlich, alle-2-wochen, monatlich,
                                # monatlich-datum, "jeden 1. Montag", jährlich, or an RRULE
    bis: 2027-06-30             # or anzahl: 20
    ausnahmen: [2026-12-28]     # dates (or "YYYY-MM-DD HH:MM" for one occurrence)
    beschreibung: Offen für alle.
    anmeldung: ja               # or  anmeldung: {max: 20}

``monatlich`` repeats on the start's weekday of the month (the 1st Monday; from the 29th on the
last such weekday), ``monatlich-datum`` on the start's day of the month (months without that
day are skipped, as RFC 5545 says).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import lazy_gettext as _l

ID_RE = re.compile(r"[a-z0-9-]{1,64}")
DEFAULT_TZ = "Europe/Berlin"
MAX_COUNT = 1000
MAX_TITLE = 300
MAX_TEXT = 10_000
TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")
DATE_TEXT_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DATETIME_TEXT_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
TRUE = ("ja", "yes", "true", "wahr", "1")
FALSE = ("nein", "no", "false", "falsch", "0")
KEYS = {
    "id", "titel", "beginn", "ende", "ganztägig", "ganztaegig", "zeitzone", "ort", "online",
    "wiederholung", "bis", "anzahl", "ausnahmen", "beschreibung", "anmeldung",
}  # fmt: skip
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = {
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
    "sonnabend": 5, "sonntag": 6,
}  # fmt: skip
ORDINALS = {"1.": 1, "2.": 2, "3.": 3, "4.": 4, "5.": 5, "ersten": 1, "zweiten": 2,
            "dritten": 3, "vierten": 4, "letzten": -1}  # fmt: skip
PRESETS = {
    "täglich": "FREQ=DAILY",
    "taeglich": "FREQ=DAILY",
    "wöchentlich": "FREQ=WEEKLY",
    "woechentlich": "FREQ=WEEKLY",
    "alle-2-wochen": "FREQ=WEEKLY;INTERVAL=2",
    "alle 2 wochen": "FREQ=WEEKLY;INTERVAL=2",
    "zweiwöchentlich": "FREQ=WEEKLY;INTERVAL=2",
    "monatlich": "MONTHLY-WEEKDAY",
    "monatlich-datum": "MONTHLY-DAY",
    "jährlich": "FREQ=YEARLY",
    "jaehrlich": "FREQ=YEARLY",
}
NTH_RE = re.compile(r"jede[nrs]?\s+(\S+)\s+(\w+)")
#: Frequencies a calendar has no business with (and that make expansion explode).
REFUSED_FREQ = ("SECONDLY", "MINUTELY", "HOURLY")


@cache
def zone_names() -> frozenset[str]:
    """Every IANA time zone name the system knows."""
    return frozenset(available_timezones())


@dataclass(frozen=True)
class EventDef:
    """One valid ``termin`` block, normalised.

    ``start``/``end`` are aware datetimes in ``tz``, or dates for all-day events (``end`` is the
    exclusive day after the last one, as iCalendar's DTEND). ``rrule`` is an RFC 5545 RRULE
    value (UNTIL in UTC, or a date for all-day events); ``exdates`` are ISO texts of the
    occurrences left out (``2026-12-24`` or ``2026-12-24T19:00``, local time in ``tz``).
    """

    id: str
    title: str
    start: datetime | date
    end: datetime | date
    all_day: bool
    tz: str
    location: str = ""
    online: bool = False
    rrule: str | None = None
    exdates: tuple[str, ...] = ()
    description: str = ""
    rsvp: bool = False
    rsvp_max: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local_start(self) -> datetime:
        """The start as naive wall-clock time (midnight for all-day events)."""
        return naive(self.start)

    def local_end(self) -> datetime:
        return naive(self.end)

    def duration(self) -> timedelta:
        return self.local_end() - self.local_start()

    def to_utc(self, value: datetime | date) -> datetime:
        """A wall-clock value of this event as naive UTC."""
        if not isinstance(value, datetime):
            value = datetime.combine(value, time())
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        return value.astimezone(UTC).replace(tzinfo=None)

    def first_utc(self) -> datetime:
        return self.to_utc(self.start)

    def last_utc(self) -> datetime | None:
        """The end of the last occurrence in naive UTC (an upper bound), None if endless."""
        if not self.rrule:
            return self.to_utc(self.end)
        rule = parse_rule(self.rrule)
        if "UNTIL" in rule:
            until = rule["UNTIL"][0]
            if isinstance(until, datetime):
                end = until.astimezone(UTC).replace(tzinfo=None)
                return end + (self.to_utc(self.end) - self.to_utc(self.start))
            return self.to_utc(until) + self.duration()
        if "COUNT" in rule:
            starts = list(expand_rule(self.rrule, self.start))  # COUNT ≤ MAX_COUNT
            last = starts[-1] if starts else None
            if last is None:
                return self.to_utc(self.end)
            return self.to_utc(last) + (self.to_utc(self.end) - self.to_utc(self.start))
        return None

    def definition(self) -> dict:
        """The normalised block as JSON-able data (what the digest covers)."""
        return {
            "id": self.id,
            "title": self.title,
            "start": iso(self.start),
            "end": iso(self.end),
            "all_day": self.all_day,
            "tz": self.tz,
            "location": self.location,
            "online": self.online,
            "rrule": self.rrule,
            "exdates": list(self.exdates),
            "description": self.description,
            "rsvp": self.rsvp,
            "rsvp_max": self.rsvp_max,
        }

    def digest(self) -> str:
        text = json.dumps(self.definition(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_row_values(self) -> dict:
        """The ``calendar_events`` columns this block defines (path, space, visibility and
        commit come from the page)."""
        definition = self.definition()
        return {
            "id": self.id,
            "title": self.title,
            "start": self.local_start(),
            "end": self.local_end(),
            "all_day": self.all_day,
            "tz": self.tz,
            "first_utc": self.first_utc(),
            "last_utc": self.last_utc(),
            "rrule": self.rrule,
            "exdates": json.dumps(list(self.exdates)),
            "location": self.location,
            "online": self.online,
            "description": self.description,
            "rsvp": self.rsvp,
            "rsvp_max": self.rsvp_max,
            "definition": json.dumps(definition, sort_keys=True, ensure_ascii=False),
            "digest": self.digest(),
        }


def naive(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


def iso(value: datetime | date) -> str:
    """``2026-12-07`` for dates, ``2026-12-07T19:00`` for wall-clock times (seconds if any)."""
    if isinstance(value, datetime):
        text = value.replace(tzinfo=None).isoformat(timespec="seconds")
        return text[:-3] if text.endswith(":00") else text
    return value.isoformat()


def occurrence_key(value: datetime | date, tz: str) -> str:
    """The key of one occurrence (RSVPs, reminders): its local start as ISO text."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(tz))
    return iso(value)


def parse_rule(text: str) -> dict:
    """An RRULE value as icalendar's ``vRecur`` (a dict of lists)."""
    from icalendar import vRecur

    return vRecur.from_ical(text)


def expand_rule(text: str, start: datetime | date):
    """dateutil's lazy iteration of the rule from ``start`` (dates as midnight datetimes)."""
    from dateutil.rrule import rrulestr

    dtstart = start if isinstance(start, datetime) else datetime.combine(start, time())
    return rrulestr(text, dtstart=dtstart)


# -- parsing --------------------------------------------------------------------------------------


def flag(value) -> bool | None:
    """ja/nein (YAML 1.1 does not know "ja"), true/false; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    return None


def to_date(value) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = DATE_TEXT_RE.fullmatch(value.strip())
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def to_datetime(value, zone: ZoneInfo) -> datetime | None:
    """A wall-clock time in ``zone`` (aware); YAML datetimes with an offset are converted."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(zone).replace(microsecond=0)
        return value.replace(tzinfo=zone, microsecond=0)
    if isinstance(value, str):
        match = DATETIME_TEXT_RE.fullmatch(value.strip())
        if match:
            try:
                return datetime(
                    int(match[1]), int(match[2]), int(match[3]), int(match[4]), int(match[5]),
                    int(match[6] or 0), tzinfo=zone,
                )  # fmt: skip
            except ValueError:
                return None
    return None


def to_time(value) -> time | None:
    """``21:00`` — also as YAML 1.1 reads it unquoted (sexagesimal: 21*60 = 1260)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    if isinstance(value, str):
        match = TIME_RE.fullmatch(value.strip())
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2]))
    return None


def exists(value: datetime) -> bool:
    """False for wall-clock times skipped by a daylight saving change (02:30 in March)."""
    back = value.astimezone(UTC).astimezone(value.tzinfo)
    return back.replace(tzinfo=None) == value.replace(tzinfo=None)


def text_field(data: dict, key: str, limit: int, problems: list) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        problems.append(_l("„%(key)s“ muss ein Text sein.", key=key))
        return ""
    value = value.strip()
    if len(value) > limit:
        problems.append(_l("„%(key)s“ ist zu lang (höchstens %(n)s Zeichen).", key=key, n=limit))
    return value


def parse(data) -> tuple[EventDef | None, list]:
    """The event of a ``termin`` block, or None and every problem (German, translatable)."""
    if not isinstance(data, dict):
        return None, [_l("Ein Termin braucht Felder wie „id“, „titel“ und „beginn“.")]
    problems: list = []
    for key in sorted(set(map(str, data)) - KEYS):
        problems.append(_l("Unbekanntes Feld „%(key)s“ im Termin.", key=key))
    ident = data.get("id")
    if not isinstance(ident, str) or not ID_RE.fullmatch(ident):
        problems.append(
            _l("„id“ fehlt oder ist ungültig: erlaubt sind 1–64 Kleinbuchstaben, Ziffern und „-“.")
        )
        ident = None
    title = text_field(data, "titel", MAX_TITLE, problems)
    if not title:
        problems.append(_l("„titel“ fehlt."))
    tz = data.get("zeitzone", DEFAULT_TZ)
    if not isinstance(tz, str) or tz not in zone_names():
        problems.append(_l("Unbekannte Zeitzone „%(tz)s“ (z. B. Europe/Berlin).", tz=tz))
        tz = DEFAULT_TZ
    zone = ZoneInfo(tz)
    start, end, all_day = parse_times(data, zone, problems)
    location = text_field(data, "ort", MAX_TITLE, problems)
    description = text_field(data, "beschreibung", MAX_TEXT, problems)
    online = False
    if "online" in data:
        online = flag(data["online"])
        if online is None:
            problems.append(_l("„online“ muss „ja“ oder „nein“ sein."))
            online = False
    rsvp, rsvp_max = parse_rsvp(data.get("anmeldung"), problems)
    rrule = exdates = None
    if start is not None:
        rrule = parse_repeat(data, start, all_day, problems)
        exdates = parse_exdates(data.get("ausnahmen"), start, all_day, rrule, zone, problems)
    if problems:
        return None, problems
    event = EventDef(
        id=ident, title=title, start=start, end=end, all_day=all_day, tz=tz, location=location,
        online=online, rrule=rrule, exdates=tuple(exdates or ()), description=description,
        rsvp=rsvp, rsvp_max=rsvp_max,
    )  # fmt: skip
    return event, []


def parse_times(data: dict, zone: ZoneInfo, problems: list):
    """(start, end, all_day); start None after a problem."""
    raw_all_day = data.get("ganztägig", data.get("ganztaegig"))
    all_day = flag(raw_all_day) if raw_all_day is not None else None
    if raw_all_day is not None and all_day is None:
        problems.append(_l("„ganztägig“ muss „ja“ oder „nein“ sein."))
        return None, None, False
    raw_start = data.get("beginn")
    day = to_date(raw_start)
    if raw_start is None:
        problems.append(_l("„beginn“ fehlt (z. B. 2026-12-07 19:00 oder 2026-12-07)."))
        return None, None, False
    if day is not None and all_day is not False:
        return all_day_span(day, data.get("ende"), problems)
    if all_day:
        problems.append(_l("Ein ganztägiger Termin braucht als „beginn“ nur ein Datum."))
        return None, None, True
    start = to_datetime(raw_start, zone)
    if start is None:
        problems.append(
            _l("„beginn“ ist kein gültiger Zeitpunkt (JJJJ-MM-TT HH:MM, z. B. 2026-12-07 19:00).")
        )
        return None, None, False
    if not exists(start):
        problems.append(_l("„beginn“: Diese Uhrzeit gibt es wegen der Zeitumstellung nicht."))
        return None, None, False
    raw_end = data.get("ende")
    if raw_end is None:
        problems.append(_l("„ende“ fehlt (z. B. 21:00), oder „ganztägig: ja“ angeben."))
        return None, None, False
    end = to_datetime(raw_end, zone)
    if end is None:
        clock = to_time(raw_end)
        if clock is None:
            problems.append(_l("„ende“ ist keine gültige Uhrzeit oder kein gültiger Zeitpunkt."))
            return None, None, False
        end = datetime.combine(start.date(), clock, tzinfo=zone)
    if not exists(end):
        problems.append(_l("„ende“: Diese Uhrzeit gibt es wegen der Zeitumstellung nicht."))
        return None, None, False
    if end.astimezone(UTC) <= start.astimezone(UTC):
        problems.append(_l("„ende“ muss nach „beginn“ liegen."))
        return None, None, False
    if end - start > timedelta(days=366):
        problems.append(_l("Ein Termin darf höchstens ein Jahr dauern."))
        return None, None, False
    return start, end, False


def all_day_span(day: date, raw_end, problems: list):
    """All-day: ``ende`` is the last day (inclusive); stored exclusive as in iCalendar."""
    last = day
    if raw_end is not None:
        last = to_date(raw_end)
        if last is None:
            problems.append(_l("„ende“ eines ganztägigen Termins muss ein Datum sein."))
            return None, None, True
        if last < day:
            problems.append(_l("„ende“ darf nicht vor „beginn“ liegen."))
            return None, None, True
        if (last - day).days > 366:
            problems.append(_l("Ein Termin darf höchstens ein Jahr dauern."))
            return None, None, True
    return day, last + timedelta(days=1), True


def parse_rsvp(value, problems: list) -> tuple[bool, int | None]:
    if value is None:
        return False, None
    if isinstance(value, dict):
        limit = value.get("max")
        if set(value) - {"max"} or isinstance(limit, bool) or not isinstance(limit, int):
            problems.append(_l("„anmeldung“: „ja“ oder „max: Zahl“ angeben."))
            return False, None
        if not 1 <= limit <= 100_000:
            problems.append(_l("„anmeldung“: „max“ muss zwischen 1 und 100000 liegen."))
            return False, None
        return True, limit
    answer = flag(value)
    if answer is None:
        problems.append(_l("„anmeldung“: „ja“ oder „max: Zahl“ angeben."))
        return False, None
    return answer, None


def parse_repeat(data: dict, start, all_day: bool, problems: list) -> str | None:
    """The normalised RRULE of ``wiederholung`` (+ ``bis``/``anzahl``), or None."""
    value = data.get("wiederholung")
    until, count = data.get("bis"), data.get("anzahl")
    if isinstance(value, dict):
        unknown = set(map(str, value)) - {"regel", "bis", "anzahl"}
        if unknown:
            problems.append(_l("„wiederholung“: unbekanntes Feld „%(key)s“.", key=min(unknown)))
            return None
        until = value.get("bis", until)
        count = value.get("anzahl", count)
        value = value.get("regel")
    if value is None:
        if until is not None or count is not None:
            problems.append(_l("„bis“ und „anzahl“ gehören zu einer „wiederholung“."))
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(_l("„wiederholung“ ist ungültig."))
        return None
    rule = preset_rule(value.strip(), start, problems)
    if rule is None:
        return None
    if until is not None and count is not None:
        problems.append(_l("Bitte entweder „bis“ oder „anzahl“ angeben, nicht beides."))
        return None
    if until is not None:
        last = to_date(until)
        if last is None:
            problems.append(_l("„bis“ muss ein Datum sein (JJJJ-MM-TT)."))
            return None
        rule.pop("COUNT", None)
        rule["UNTIL"] = [until_value(last, start, all_day)]
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            problems.append(_l("„anzahl“ muss eine Zahl von 1 bis %(n)s sein.", n=MAX_COUNT))
            return None
        rule.pop("UNTIL", None)
        rule["COUNT"] = [count]
    return finish_rule(rule, start, all_day, problems)


def until_value(last: date, start, all_day: bool):
    """UNTIL for ``bis: <last day>``: the date (all-day) or the end of that day in UTC."""
    if all_day:
        return last
    local = datetime.combine(last, time(23, 59, 59), tzinfo=start.tzinfo)
    return local.astimezone(UTC)


def preset_rule(value: str, start, problems: list):
    """A preset, "jeden 1. Montag" or a raw RRULE as icalendar ``vRecur``; None on problems."""
    from icalendar import vRecur

    key = value.lower()
    preset = PRESETS.get(key)
    weekday = start.weekday()
    nth = (start.day - 1) // 7 + 1
    if preset == "MONTHLY-WEEKDAY":
        ordinal = -1 if nth == 5 else nth
        return vRecur({"FREQ": "MONTHLY", "BYDAY": f"{ordinal}{WEEKDAYS[weekday]}"})
    if preset == "MONTHLY-DAY":
        return vRecur({"FREQ": "MONTHLY", "BYMONTHDAY": start.day})
    if preset:
        return vRecur.from_ical(preset)
    match = NTH_RE.fullmatch(key)
    if match and match[1] in ORDINALS and match[2] in WEEKDAY_NAMES:
        ordinal, day = ORDINALS[match[1]], WEEKDAY_NAMES[match[2]]
        last = (start + timedelta(days=7)).month != start.month
        if day != weekday or (ordinal != nth and not (ordinal == -1 and last)):
            problems.append(
                _l("„beginn“ muss selbst auf „%(rule)s“ fallen (der erste Termin).", rule=value)
            )
            return None
        return vRecur({"FREQ": "MONTHLY", "BYDAY": f"{ordinal}{WEEKDAYS[day]}"})
    text = value[6:] if value.upper().startswith("RRULE:") else value
    if "FREQ=" not in text.upper():
        problems.append(
            _l(
                "Unbekannte „wiederholung“ „%(value)s“: erlaubt sind täglich, wöchentlich, "
                "alle-2-wochen, monatlich, monatlich-datum, „jeden 1. Montag“, jährlich oder "
                "eine RRULE (z. B. FREQ=WEEKLY;BYDAY=MO,TH).",
                value=value,
            )
        )
        return None
    try:
        rule = vRecur.from_ical(text.upper())
    except (ValueError, TypeError):
        problems.append(_l("Die RRULE „%(value)s“ ist ungültig.", value=value))
        return None
    return rule


def finish_rule(rule, start, all_day: bool, problems: list) -> str | None:
    """Check a rule (frequency, UNTIL type, dateutil accepts it) and serialise it."""
    from icalendar import vRecur

    freq = rule.get("FREQ", [None])[0]
    if freq in REFUSED_FREQ:
        problems.append(
            _l(
                "„wiederholung“: Termine, die sich jede Sekunde, Minute oder Stunde wiederholen, "
                "sind nicht möglich (höchstens täglich)."
            )
        )
        return None
    if "UNTIL" in rule and "COUNT" in rule:
        problems.append(_l("Bitte entweder „bis“ oder „anzahl“ angeben, nicht beides."))
        return None
    if "COUNT" in rule and not 1 <= int(rule["COUNT"][0]) <= MAX_COUNT:
        problems.append(_l("„anzahl“ muss eine Zahl von 1 bis %(n)s sein.", n=MAX_COUNT))
        return None
    if "UNTIL" in rule:
        until = rule["UNTIL"][0]
        if all_day and isinstance(until, datetime):
            rule["UNTIL"] = [until.date()]
        elif not all_day and not isinstance(until, datetime):
            rule["UNTIL"] = [until_value(until, start, all_day)]
        elif not all_day and until.tzinfo is None:
            rule["UNTIL"] = [until.replace(tzinfo=start.tzinfo).astimezone(UTC)]
        elif not all_day:
            rule["UNTIL"] = [until.astimezone(UTC)]
    text = vRecur(rule).to_ical().decode("ascii")
    try:
        expand_rule(text, start)
    except (ValueError, TypeError, KeyError) as error:
        problems.append(_l("Die RRULE ist ungültig: %(error)s", error=str(error)))
        return None
    return text


def parse_exdates(value, start, all_day: bool, rrule, zone: ZoneInfo, problems: list):
    """``ausnahmen``: ISO texts of the occurrences left out (see :class:`EventDef`)."""
    if value is None:
        return []
    if not rrule:
        problems.append(_l("„ausnahmen“ gibt es nur bei einer „wiederholung“."))
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        day = to_date(item)
        if day is not None:
            out.append(iso(day if all_day else datetime.combine(day, start.timetz())))
            continue
        moment = None if all_day else to_datetime(item, zone)
        if moment is None:
            problems.append(_l("„ausnahmen“: „%(value)s“ ist kein Datum.", value=str(item)))
            continue
        out.append(iso(moment))
    return sorted(set(out))


def exdate_values(event_tz: str, all_day: bool, exdates) -> list:
    """``exdates`` texts as dates or aware datetimes (for EXDATE and expansion)."""
    zone = ZoneInfo(event_tz)
    out = []
    for text in exdates:
        if all_day:
            out.append(date.fromisoformat(text))
        else:
            out.append(datetime.fromisoformat(text).replace(tzinfo=zone))
    return out


def block_text(title: str, start, end, all_day: bool, ident: str) -> str:
    """A fenced ``termin`` block for these values (the ``wiki_event_block`` hook)."""
    lines = ["```termin", f"id: {ident}", f"titel: {json.dumps(str(title), ensure_ascii=False)}"]
    if all_day:
        lines += [f"beginn: {start.isoformat()}", "ganztägig: ja"]
        if end is not None and end != start:
            lines.append(f"ende: {end.isoformat()}")
    else:
        tz = getattr(start.tzinfo, "key", None) or DEFAULT_TZ
        zone = ZoneInfo(tz)
        start = start.astimezone(zone)
        stop = end.astimezone(zone) if end is not None else start + timedelta(hours=1)
        lines += [
            f'beginn: "{start:%Y-%m-%d %H:%M}"',
            f'ende: "{stop:%Y-%m-%d %H:%M}"',
            f"zeitzone: {tz}",
        ]
    lines.append("```")
    return "\n".join(lines) + "\n"

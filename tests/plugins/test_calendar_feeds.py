"""The calendar feeds: RFC 5545 form, agreement with the views over a year, and the canary.

Every feed is parsed back with icalendar and expanded with recurring_ical_events; its occurrences
are compared, month by month through 2026 (both daylight saving changes, a rule of another time
zone with other change dates, a daily rule through the skipped hour), with what the month grid
and the agenda show. A members-only event (the canary) never reaches a public feed, view, search
or the API for non-members, but does reach its members' personal feed until the token is revoked.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import yaml
from babel.dates import format_date
from conftest import PAGES, Spaces, make_calendar_app, page_text
from icalendar import Calendar

BERLIN = ZoneInfo("Europe/Berlin")
HOST = "wiki.test"  # WIKI_BASE_URL of the test apps
YEAR = 2026
CANARY = "Kanarienvogel"
LONG_TEXT = (
    "Grüße aus Thüringen! Wir feiern im Stadtpark – mit Bratwürsten, Äpfeln und Öko-Limonade. "
    "Bitte bringt Decken mit 🧺🍉🎉, Kinder 👩‍👩‍👧‍👦 sind herzlich willkommen; Eintritt 0 €. "
) * 4
PUBLIC_PAGE = "lv/kv-a/oeffentlich"
OV_PAGE = "lv/kv-a/ov/fest"
MEMBERS_PAGE = "lv/kv-a/protokoll"
BOARD_PAGE = "lv/kv-a/vorstand"
B_PAGE = "lv/kv-b/protokoll"
SEQUENCE_PAGE = "lv/kv-a/sequenz"

#: page → {event id: block fields}
EVENTS = {
    PUBLIC_PAGE: {
        "sommerfest-a": {
            "titel": "Sommerfest im Stadtpark – Grüße, Äpfel & Öko-Limo 🍉🎉 " * 3,
            "beginn": "2026-07-04 15:00",
            "ende": "22:00",
            "ort": "Stadtpark Süd, Größenweg 1",
            "beschreibung": LONG_TEXT,
        },
        "stammtisch-a": {
            "titel": "Stammtisch A",
            "beginn": "2026-01-06 19:00",
            "ende": "21:00",
            "wiederholung": "wöchentlich",
            "ausnahmen": ["2026-03-31", "2026-12-29"],
        },
        "monatstreffen": {
            "titel": "Monatstreffen",
            "beginn": "2026-01-05 18:30",
            "ende": "20:00",
            "wiederholung": "monatlich",
        },
        "offene-tuer": {
            "titel": "Tage der offenen Tür",
            "beginn": "2026-05-01",
            "ende": "2026-05-02",
            "ganztägig": "ja",
        },
        "gruendungstag": {
            "titel": "Gründungstag",
            "beginn": "2026-02-14",
            "ganztägig": "ja",
            "wiederholung": "jährlich",
        },
        "nachtwanderung": {
            "titel": "Nachtwanderung zur Zeitumstellung",
            "beginn": "2026-10-24 23:00",
            "ende": "2026-10-25 03:30",
        },
        "fruehschicht": {
            "titel": "Frühschicht",
            "beginn": "2026-03-26 02:30",
            "ende": "03:00",
            "wiederholung": "täglich",
            "anzahl": 7,
        },
        "ny-call": {
            "titel": "Call mit New York",
            "beginn": "2026-01-07 12:00",
            "ende": "13:00",
            "zeitzone": "America/New_York",
            "wiederholung": "wöchentlich",
            "bis": "2026-12-31",
        },
        "silvester": {
            "titel": "Silvester",
            "beginn": "2026-12-31 22:00",
            "ende": "2027-01-01 01:00",
        },
    },
    OV_PAGE: {"ov-fest": {"titel": "Fest des Ortsverbands", "beginn": "2026-06-20"}},
    MEMBERS_PAGE: {
        "geheimtreffen": {
            "titel": f"{CANARY} Geheimtreffen",
            "beginn": "2026-01-05 20:00",
            "ende": "21:00",
            "wiederholung": "wöchentlich",
            "ort": f"Hinterzimmer {CANARY}",
        }
    },
    BOARD_PAGE: {
        "vorstand-a": {"titel": "Vorstandssitzung A", "beginn": "2026-12-14 19:00", "ende": "21:00"}
    },
    B_PAGE: {"treffen-b": {"titel": "Treffen B", "beginn": "2026-12-15 19:00", "ende": "21:00"}},
    SEQUENCE_PAGE: {
        "sequenz": {"titel": "Versionstest", "beginn": "2026-09-01 10:00", "ende": "11:00"}
    },
}
PUBLIC_IDS = set(EVENTS[PUBLIC_PAGE]) | set(EVENTS[OV_PAGE]) | {"sequenz"}
#: title, body and visibility of the pages not in the spaces tree
NEW_PAGES = {
    OV_PAGE: ("public", "Fest", "Alle sind eingeladen."),
    SEQUENCE_PAGE: ("public", "Versionen", "Ein Termin, der sich ändert."),
}


def termin(ident: str, fields: dict) -> str:
    body = yaml.safe_dump({"id": ident, **fields}, allow_unicode=True, sort_keys=False)
    return f"```termin\n{body}```\n"


def page_with_events(path: str, events: dict, note: str = "") -> str:
    visibility, title, body = PAGES.get(path) or NEW_PAGES[path]
    blocks = "\n".join(termin(ident, fields) for ident, fields in events.items())
    return page_text(title, f"{body}{note}\n\n{blocks}", visibility)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_calendar_app(
        tmp_path_factory.mktemp("calendar-feeds"),
    )
    files = {f"{path}.md": page_with_events(path, events) for path, events in EVENTS.items()}
    Spaces(app).commit(files, "Termine")
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture(scope="module")
def spaces(app):
    return Spaces(app)


@pytest.fixture(scope="module")
def clients(spaces):
    return {role: spaces.login(role) for role in ("anon", "user", "member_a", "member_b")}


@pytest.fixture(scope="module")
def tokens(spaces):
    """Personal feed tokens of member_a and member_b."""
    from wiki.auth import issue_token
    from wiki.db import User

    with spaces.app.app_context(), spaces.state.sessions() as session:
        out = {
            role: issue_token(session, session.get(User, spaces.user_id(role)), "feed", "Kalender")
            for role in ("member_a", "member_b")
        }
        session.commit()
    return out


def fetch(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def uids(body: bytes) -> set[str]:
    return {str(event["UID"]).split("@")[0] for event in parse(body).walk("VEVENT")}


# -- the form of a feed -------------------------------------------------------------------------


def test_site_feed_is_rfc5545(clients):
    response = fetch(clients["anon"], "/-/calendar.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert 'filename="kalender.ics"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"].startswith("public")
    body = response.data
    # CRLF only, and every line at most 75 octets, never cut inside a UTF-8 sequence
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    lines = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # strict: a split multi-byte character fails here
    folded = [line for line in lines if line.startswith(b" ")]
    assert any(re.search(rb"[\x80-\xff]", line) for line in folded), "multi-byte text is folded"
    # the calendar's own properties, once each; no METHOD
    names = [line.split(b":")[0].split(b";")[0] for line in lines if not line.startswith(b" ")]
    assert names[:2] == [b"BEGIN", b"VERSION"] and names.count(b"VERSION") == 1
    assert names.count(b"PRODID") == 1 and names.count(b"CALSCALE") == 1
    assert b"METHOD" not in names
    assert b"VERSION:2.0" in lines and b"CALSCALE:GREGORIAN" in lines
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert b"X-PUBLISHED-TTL:PT1H" in lines
    calendar = parse(body)
    assert str(calendar["NAME"]) == str(calendar["X-WR-CALNAME"]) == "Termine – Verbandswiki"
    assert "UID" not in calendar  # no random calendar UID that changes on every fetch
    assert str(calendar["SOURCE"]) == f"http://{HOST}/-/calendar.ics"
    # long multi-byte texts survive folding unchanged
    summer = next(e for e in calendar.walk("VEVENT") if str(e["UID"]) == f"sommerfest-a@{HOST}")
    fields = EVENTS[PUBLIC_PAGE]["sommerfest-a"]
    assert str(summer["SUMMARY"]) == fields["titel"].strip()
    assert str(summer["DESCRIPTION"]) == fields["beschreibung"].strip()
    assert str(summer["LOCATION"]) == fields["ort"]


def test_every_tzid_has_its_vtimezone(clients):
    body = fetch(clients["anon"], "/-/calendar.ics").data
    calendar = parse(body)
    used = set(re.findall(rb"TZID=([^:;]+)", body))
    assert used == {b"Europe/Berlin", b"America/New_York"}
    defined = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert defined == {u.decode() for u in used}
    assert calendar.get_missing_tzids() == set()
    # each VTIMEZONE comes before the events (Outlook reads in order) and knows both changes
    text = body.decode()
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")
    for tz in calendar.walk("VTIMEZONE"):
        kinds = {component.name for component in tz.subcomponents}
        assert kinds == {"STANDARD", "DAYLIGHT"}
        # read as a program without a time zone database would: the VTIMEZONE alone gives the
        # same offsets as the IANA zone until 2038, around every change (spring ones included)
        # and in the middle of every month
        vtimezone, zone = tz.to_tz(lookup_tzid=False), ZoneInfo(str(tz["TZID"]))
        moments = [
            datetime(y, m, 15, 12, tzinfo=UTC) for y in range(2026, 2038) for m in range(1, 13)
        ]
        hour = datetime(2026, 1, 1, tzinfo=UTC)
        while hour < datetime(2038, 1, 1, tzinfo=UTC):
            if (
                hour.astimezone(zone).utcoffset()
                != (hour + timedelta(hours=1)).astimezone(zone).utcoffset()
            ):
                moments += [hour + timedelta(minutes=m) for m in range(-60, 180, 30)]
            hour += timedelta(hours=1)
        assert len(moments) > 144 + 12 * 2 * 6
        wrong = [
            m
            for m in moments
            if m.astimezone(vtimezone).utcoffset() != m.astimezone(zone).utcoffset()
        ]
        assert not wrong, (str(tz["TZID"]), wrong[:3])
    berlin = next(tz for tz in calendar.walk("VTIMEZONE") if tz["TZID"] == "Europe/Berlin")
    assert b"DTSTART:20260329T020000" in berlin.to_ical()  # local time before the change


def test_events_are_published_not_expanded(clients):
    calendar = parse(fetch(clients["anon"], "/-/calendar.ics").data)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{ident}@{HOST}" for ident in PUBLIC_IDS}  # one VEVENT per event
    weekly = events[f"stammtisch-a@{HOST}"]
    assert weekly["RRULE"].to_ical() == b"FREQ=WEEKLY"
    assert weekly.decoded("DTSTART") == datetime(2026, 1, 6, 19, tzinfo=BERLIN)
    assert weekly["DTSTART"].params["TZID"] == "Europe/Berlin"
    exdates = sorted(d.dt for d in weekly["EXDATE"].dts)
    assert exdates == [
        datetime(2026, 3, 31, 19, tzinfo=BERLIN),
        datetime(2026, 12, 29, 19, tzinfo=BERLIN),
    ]
    for event in events.values():
        assert event.get("DTSTAMP") is not None and int(event["SEQUENCE"]) == 0
        assert str(event["URL"]).startswith(f"http://{HOST}/lv/kv-a/")


def test_all_day_events_have_an_exclusive_date_end(clients):
    body = fetch(clients["anon"], "/-/calendar.ics").data
    text = body.decode().replace("\r\n ", "")
    block = text[text.rindex("BEGIN:VEVENT", 0, text.index("UID:offene-tuer@")) :]
    block = block[: block.index("END:VEVENT")]
    assert "DTSTART;VALUE=DATE:20260501\r\n" in block
    assert "DTEND;VALUE=DATE:20260503\r\n" in block  # the day after the last day
    single = parse(body)
    ov = next(e for e in single.walk("VEVENT") if str(e["UID"]) == f"ov-fest@{HOST}")
    assert ov.decoded("DTSTART") == date(2026, 6, 20)
    assert ov.decoded("DTEND") == date(2026, 6, 21)


def test_uid_is_stable_and_sequence_counts_edits(spaces, clients):
    def sequence_event():
        calendar = parse(fetch(clients["anon"], "/-/calendar/lv/kv-a.ics").data)
        return next(e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith("sequenz@"))

    before = sequence_event()
    assert str(before["UID"]) == f"sequenz@{HOST}" and int(before["SEQUENCE"]) == 0
    events = EVENTS[SEQUENCE_PAGE]
    # text around the block changes: the event does not, nor its SEQUENCE
    spaces.commit({f"{SEQUENCE_PAGE}.md": page_with_events(SEQUENCE_PAGE, events, " Neu.")})
    assert int(sequence_event()["SEQUENCE"]) == 0
    for n, start in enumerate(["2026-09-01 11:00", "2026-09-02 11:00"], 1):
        moved = {"sequenz": {**events["sequenz"], "beginn": start, "ende": "12:00"}}
        spaces.commit({f"{SEQUENCE_PAGE}.md": page_with_events(SEQUENCE_PAGE, moved)})
        after = sequence_event()
        assert str(after["UID"]) == f"sequenz@{HOST}"
        assert int(after["SEQUENCE"]) == n
        assert after.decoded("DTSTART") == datetime.fromisoformat(start).replace(tzinfo=BERLIN)
        assert after.decoded("LAST-MODIFIED") >= before.decoded("DTSTAMP")


def test_conditional_requests_and_personal_caching(clients, tokens):
    client = clients["anon"]
    first = fetch(client, "/-/calendar/lv/kv-a.ics")
    etag = first.headers["ETag"]
    again = client.get("/-/calendar/lv/kv-a.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    personal = fetch(client, f"/-/calendar.ics?token={tokens['member_a']}")
    assert personal.headers["Cache-Control"].startswith("private")
    assert personal.headers["Referrer-Policy"] == "no-referrer"
    calendar = parse(personal.data)
    assert str(calendar["NAME"]) == "Meine Termine – Verbandswiki"
    assert "SOURCE" not in calendar  # the secret address is not repeated in the file


def test_space_feed_and_sub_spaces(clients):
    anon = clients["anon"]
    own = parse(fetch(anon, "/-/calendar/lv/kv-a.ics").data)
    assert str(own["X-WR-CALNAME"]) == "Termine – Kreisverband A"
    assert uids(fetch(anon, "/-/calendar/lv/kv-a.ics").data) == PUBLIC_IDS - {"ov-fest"}
    nested = fetch(anon, "/-/calendar/lv/kv-a.ics?untergliederungen=1").data
    assert uids(nested) == PUBLIC_IDS
    assert uids(fetch(anon, "/-/calendar/lv/kv-a/ov.ics").data) == {"ov-fest"}
    assert uids(fetch(anon, "/-/calendar/lv/kv-b.ics").data) == set()
    response = fetch(anon, "/-/calendar/lv/kv-a/ov.ics")
    assert 'filename="lv-kv-a-ov.ics"' in response.headers["Content-Disposition"]


def test_one_event_download(clients, tokens):
    response = fetch(clients["anon"], "/-/calendar/event/stammtisch-a.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="stammtisch-a.ics"'
    calendar = parse(response.data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"stammtisch-a@{HOST}" and "RRULE" in event
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert "METHOD" not in calendar
    fetch(clients["anon"], "/-/calendar/event/geheimtreffen.ics", 404)
    fetch(clients["member_b"], "/-/calendar/event/geheimtreffen.ics", 404)
    mine = fetch(clients["member_a"], "/-/calendar/event/geheimtreffen.ics")
    assert CANARY in parse(mine.data).walk("VEVENT")[0]["SUMMARY"]
    assert mine.headers["Cache-Control"].startswith("private")
    fetch(clients["anon"], f"/-/calendar/event/geheimtreffen.ics?token={tokens['member_a']}")


# -- feeds and views agree over a year ----------------------------------------------------------


def day_labels() -> dict[str, date]:
    """The day headings of the views (German ``full`` dates) → dates, for 2026 and around."""
    first = date(YEAR - 1, 12, 1)
    days = (first + timedelta(days=n) for n in range(400))
    return {format_date(day, "full", locale="de"): day for day in days}


CELL_RE = re.compile(r'<td class="calendar-day[^"]*">(.*?)</td>', re.S)
DATE_RE = re.compile(r'<span class="calendar-date">(.*?)</span>', re.S)
ENTRY_RE = re.compile(r'#termin-([a-z0-9-]+)">\s*<span class="calendar-time">(.*?)</span>', re.S)
AGENDA_DAY_RE = re.compile(
    r'<section class="calendar-agenda-day">\s*<h2[^>]*>(.*?)</h2>(.*?)</section>', re.S
)


def grid_entries(page: str, labels: dict[str, date]) -> set[tuple[date, str, str]]:
    """(day, event id, time) of every entry in a month grid."""
    out = set()
    for cell in CELL_RE.findall(page):
        label = DATE_RE.search(cell)
        for ident, clock in ENTRY_RE.findall(cell):
            out.add((labels[html.unescape(label[1]).strip()], ident, html.unescape(clock)))
    return out


def agenda_entries(page: str, labels: dict[str, date]) -> set[tuple[date, str, str]]:
    out = set()
    for heading, body in AGENDA_DAY_RE.findall(page):
        day = labels[html.unescape(heading).strip()]
        out |= {(day, ident, html.unescape(clock)) for ident, clock in ENTRY_RE.findall(body)}
    return out


def feed_entries(calendar: Calendar, month: date) -> set[tuple[date, str, str]]:
    """The same triples from the feed: expanded by recurring_ical_events in the month, each
    occurrence on every day (in Berlin) it touches, with its start time in Berlin."""
    start = datetime(month.year, month.month, 1, tzinfo=BERLIN)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    end = datetime(following.year, following.month, 1, tzinfo=BERLIN)
    out = set()
    for event in recurring_ical_events.of(calendar).between(start, end):
        ident = str(event["UID"]).split("@")[0]
        first, last = event.start, event.end
        if isinstance(first, datetime):
            # through UTC: astimezone() to the zone a value already has changes nothing, and a
            # time in the skipped hour (02:30 on 29 March) means 03:30 (RFC 5545, 3.3.5)
            first, last = (
                first.astimezone(UTC).astimezone(BERLIN),
                last.astimezone(UTC).astimezone(BERLIN),
            )
            clock = first.strftime("%H:%M")
            days = [first.date()]
            final = (last - timedelta(microseconds=1)).date() if last > first else first.date()
        else:
            clock = "ganztägig"
            days = [first]
            final = last - timedelta(days=1)
        while days[-1] < final:
            days.append(days[-1] + timedelta(days=1))
        out |= {(day, ident, clock) for day in days if month <= day < following}
    return out


@pytest.mark.parametrize(
    ("role", "feed", "view"),
    [
        ("anon", "/-/calendar.ics", "/-/calendar"),
        ("member_a", "/-/calendar.ics?token={token}", "/-/calendar"),
        ("anon", "/-/calendar/lv/kv-a.ics?untergliederungen=1", "/-/calendar/lv/kv-a"),
        (
            "member_a",
            "/-/calendar/lv/kv-a.ics?token={token}",
            "/-/calendar/lv/kv-a?untergliederungen=0",
        ),
    ],
)
def test_feed_occurrences_match_the_views_for_a_year(clients, tokens, role, feed, view):
    """Month by month through 2026: the grid and the agenda show exactly what a calendar
    program computes from the feed (DST on 29 March and 25 October; New York changes on
    8 March and 1 November; a daily 02:30 through the skipped hour)."""
    client = clients[role]
    calendar = parse(fetch(client, feed.format(token=tokens.get(role, ""))).data)
    labels = day_labels()
    seen = set()
    separator = "&" if "?" in view else "?"
    for number in range(1, 13):
        month = date(YEAR, number, 1)
        expected = feed_entries(calendar, month)
        grid = fetch(client, f"{view}{separator}monat={month:%Y-%m}").get_data(as_text=True)
        agenda = fetch(client, f"{view}{separator}monat={month:%Y-%m}&ansicht=liste")
        assert grid_entries(grid, labels) == expected, month
        assert agenda_entries(agenda.get_data(as_text=True), labels) == expected, month
        seen |= expected
    idents = {ident for _day, ident, _clock in seen}
    assert ("geheimtreffen" in idents) == (role == "member_a")
    # the cases the comparison is there for did occur
    ny = {day: clock for day, ident, clock in seen if ident == "ny-call"}
    assert ny[date(2026, 3, 4)] == "18:00"  # both in winter time
    assert ny[date(2026, 3, 11)] == "17:00"  # New York already in summer time
    assert ny[date(2026, 4, 1)] == "18:00"  # both in summer time
    assert ny[date(2026, 10, 28)] == "17:00"  # Berlin back in winter time, New York not
    stammtisch = {day: clock for day, ident, clock in seen if ident == "stammtisch-a"}
    assert stammtisch[date(2026, 3, 24)] == stammtisch[date(2026, 4, 7)] == "19:00"
    assert date(2026, 3, 31) not in stammtisch and date(2026, 12, 29) not in stammtisch
    assert {day for day, ident, _c in seen if ident == "nachtwanderung"} == {
        date(2026, 10, 24),
        date(2026, 10, 25),
    }
    assert sum(1 for _d, ident, _c in seen if ident == "fruehschicht") >= 6


# -- the canary -----------------------------------------------------------------------------------


PUBLIC_FEEDS = [
    "/-/calendar.ics",
    "/-/calendar/lv.ics?untergliederungen=1",
    "/-/calendar/lv/kv-a.ics",
    "/-/calendar/lv/kv-a.ics?untergliederungen=1",
]
VIEWS = [
    "/-/calendar?monat=2026-12",
    "/-/calendar?monat=2026-12&ansicht=liste",
    "/-/calendar/lv/kv-a?monat=2026-12",
    "/-/calendar/lv?monat=2026-12&ansicht=liste",
    "/lv/kv-a",  # the space overview with its upcoming events
]


@pytest.mark.parametrize("role", ["anon", "user", "member_a", "member_b"])
def test_canary_never_in_public_feeds(clients, role):
    for url in PUBLIC_FEEDS:
        body = fetch(clients[role], url).data.decode()
        assert CANARY not in body.replace("\r\n ", ""), url
        assert "geheimtreffen" not in body and "vorstand-a" not in body


@pytest.mark.parametrize("role", ["anon", "user", "member_b"])
def test_canary_hidden_from_non_members(spaces, clients, tokens, role):
    client = clients[role]
    for url in VIEWS:
        assert CANARY not in fetch(client, url).get_data(as_text=True), url
    if role != "anon":
        assert CANARY not in fetch(client, "/-/me").get_data(as_text=True)
    spaces.state.search.wait_idle()
    found = fetch(client, f"/-/search?q={CANARY}").get_data(as_text=True)
    assert MEMBERS_PAGE not in found and "Protokoll Kreisverband A" not in found
    api = fetch(client, f"/-/api/v1/search?q={CANARY}").get_json()
    assert MEMBERS_PAGE not in str(api)
    fetch(client, f"/-/api/v1/pages/{MEMBERS_PAGE}", 404)
    fetch(client, "/-/calendar/event/geheimtreffen.ics", 404)
    if role == "member_b":
        personal = fetch(client, f"/-/calendar.ics?token={tokens['member_b']}").data.decode()
        assert CANARY not in personal.replace("\r\n ", "")
        assert "treffen-b@" in personal  # member_b's own members-only event is there


def test_canary_reaches_members(spaces, clients, tokens):
    """The same places do show it to a member of A: the canary tests can fail."""
    member = clients["member_a"]
    for url in VIEWS:
        assert CANARY in fetch(member, url).get_data(as_text=True), url
    assert CANARY in fetch(member, "/-/me").get_data(as_text=True)
    spaces.state.search.wait_idle()
    assert MEMBERS_PAGE in fetch(member, f"/-/search?q={CANARY}").get_data(as_text=True)
    for url in (
        "/-/calendar.ics",
        "/-/calendar/lv/kv-a.ics",
        "/-/calendar/lv.ics?untergliederungen=1",
    ):
        sep = "&" if "?" in url else "?"
        body = fetch(clients["anon"], f"{url}{sep}token={tokens['member_a']}").data.decode()
        assert CANARY in body.replace("\r\n ", ""), url
        assert "vorstand-a@" not in body  # the board's event stays with the board
    # without the token the same client gets the public feed, even when logged in
    assert CANARY not in fetch(member, "/-/calendar.ics").data.decode().replace("\r\n ", "")


# -- personal addresses: made on the subscription page, revoked on the account page -----------


TOKEN_RE = re.compile(r'value="(https?://[^"]+[?;]token=[^"]+)"')


def test_subscription_page_for_visitors(clients):
    page = fetch(clients["anon"], "/-/calendar/subscribe?gliederung=lv/kv-a").get_data(as_text=True)
    for url in (
        f"http://{HOST}/-/calendar.ics",
        f"webcal://{HOST}/-/calendar.ics",
        f"http://{HOST}/-/calendar/lv/kv-a.ics",
        f"webcal://{HOST}/-/calendar/lv/kv-a.ics?untergliederungen=1",
    ):
        assert f'value="{url}"' in page, url
    for program in ("Outlook", "Google", "Apple", "Thunderbird"):
        assert program in page
    assert "token=" not in page and '<form method="post"' not in page
    assert "/-/login?next=" in page
    assert "/-/calendar/static/calendar-copy.js" in page
    assert 'data-copy="feed-1-https"' in page and " hidden data-copy" in page


def test_personal_address_until_revoked(spaces):
    client = spaces.login("member_a")
    page = fetch(client, "/-/calendar/subscribe").get_data(as_text=True)
    assert "Persönliche Adresse erzeugen" in page and 'name="csrf_token"' in page
    response = client.form("/-/calendar/subscribe?gliederung=lv/kv-a")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    addresses = TOKEN_RE.findall(page)
    assert len(addresses) == 3  # site, space, space with sub-spaces
    assert f"webcal://{HOST}/-/calendar.ics?token=" in page
    token = parse_qs(urlsplit(html.unescape(addresses[0])).query)["token"][0]
    feed = f"/-/calendar.ics?token={token}"
    assert CANARY in fetch(spaces.app.test_client(), feed).data.decode().replace("\r\n ", "")
    # the token is listed on the account page, where it is revoked
    account = fetch(client, "/-/account").get_data(as_text=True)
    token_ids = re.findall(r'name="token_id" value="(\d+)"', account)
    assert token_ids
    for token_id in token_ids:
        client.form("/-/account", {"action": "revoke", "token_id": token_id})
    fetch(spaces.app.test_client(), feed, 404)
    fetch(spaces.app.test_client(), f"/-/calendar/event/geheimtreffen.ics?token={token}", 404)


def test_visitors_cannot_make_personal_addresses(spaces):
    from wiki.db import Token

    with spaces.state.sessions() as session:
        before = session.query(Token).count()
    response = spaces.login("anon").form("/-/calendar/subscribe")
    assert response.status_code == 302 and "/-/login" in response.headers["Location"]
    with spaces.state.sessions() as session:
        assert session.query(Token).count() == before


# -- upcoming events ------------------------------------------------------------------------------


def test_upcoming_events_on_space_overview_and_dashboard(clients):
    overview = fetch(clients["anon"], "/lv/kv-a").get_data(as_text=True)
    section = overview[overview.index('class="calendar-upcoming"') :]
    assert "Nächste Termine" in section and "Stammtisch A" in section
    assert 'href="/-/calendar/lv/kv-a"' in section
    assert 'href="/-/calendar/subscribe?gliederung=lv/kv-a"' in section
    items = re.findall(r"<li>.*?</li>", section.split("</ul>")[0], re.S)
    assert 0 < len(items) <= 5
    assert "/lv/kv-a/oeffentlich#termin-" in section
    dashboard = fetch(clients["member_a"], "/-/me").get_data(as_text=True)
    mine = dashboard[dashboard.index('class="calendar-upcoming"') :]
    assert "Meine nächsten Termine" in mine and CANARY in mine
    assert 'href="/-/calendar"' in mine
    assert "calendar-upcoming" not in fetch(clients["anon"], "/lv/kv-a/oeffentlich").get_data(
        as_text=True
    )


# -- the VCALENDAR builder alone ------------------------------------------------------------------


def test_calendar_bytes_without_events_and_from_parts():
    from icalendar import Event

    from plugins.calendar import ics

    empty = parse(ics.calendar_bytes([], "Leer"))
    assert str(empty["VERSION"]) == "2.0" and str(empty["PRODID"]) == ics.PRODID
    assert not empty.walk("VEVENT") and not empty.walk("VTIMEZONE")
    event = Event()
    event.add("uid", "a@wiki.test")
    event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
    event.add("dtstart", datetime(2026, 8, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo")))
    event.add("summary", "Ä" * 80)
    # an event and its cached serialised form give the same calendar
    assert ics.calendar_bytes([event], "K") == ics.calendar_bytes([ics.part(event)], "K")
    calendar = parse(ics.calendar_bytes([ics.part(event)], "K"))
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    assert str(calendar.walk("VEVENT")[0]["SUMMARY"]) == "Ä" * 80

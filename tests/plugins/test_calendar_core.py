"""Calendar core: the ``termin`` block (presets, validation at save), the projection (space,
visibility, SEQUENCE across edits, moves and reindex, ``check``), VEVENTs and DST, the widget,
the date-poll hook, member data and the demo."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import (
    Spaces,
    make_calendar_app,
    page_text,
    save,
    termin_block,
)
from sqlalchemy import func, select

from plugins.calendar import ical
from plugins.calendar.definitions import block_text, parse
from plugins.calendar.models import EventRow, EventState, Places, Rsvp

BERLIN = ZoneInfo("Europe/Berlin")


def event_of(text: str):
    event, problems = parse(yaml.safe_load(text))
    assert event is not None, [str(p) for p in problems]
    return event


def problems_of(text: str) -> list[str]:
    event, problems = parse(yaml.safe_load(text))
    assert event is None
    return [str(p) for p in problems]


class Row:
    """An EventRow stand-in for the pure functions (columns from ``to_row_values``)."""

    def __init__(self, event, path="seite"):
        self.path = path
        for name, value in event.to_row_values().items():
            setattr(self, name, value)


BASE = "id: t\ntitel: Treffen\nbeginn: 2026-12-07 19:00\nende: 21:00\n"


# -- definitions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repeat", "rule"),
    [
        ("wöchentlich", "FREQ=WEEKLY"),
        ("alle-2-wochen", "FREQ=WEEKLY;INTERVAL=2"),
        ("monatlich", "FREQ=MONTHLY;BYDAY=1MO"),  # 7 Dec 2026 is the first Monday
        ("jeden 1. Montag", "FREQ=MONTHLY;BYDAY=1MO"),
        ("monatlich-datum", "FREQ=MONTHLY;BYMONTHDAY=7"),
        ("jährlich", "FREQ=YEARLY"),
        ("täglich", "FREQ=DAILY"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("RRULE:FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR"),
    ],
)
def test_presets_become_rrules(repeat, rule):
    assert event_of(BASE + f"wiederholung: {repeat}\n").rrule == rule


def test_monthly_from_the_29th_on_is_the_last_weekday():
    event = event_of(BASE.replace("2026-12-07", "2026-11-30") + "wiederholung: monatlich\n")
    assert event.rrule == "FREQ=MONTHLY;BYDAY=-1MO"  # the fifth Monday: "the last" each month
    fourth = event_of(BASE.replace("2026-12-07", "2026-12-28") + "wiederholung: monatlich\n")
    assert fourth.rrule == "FREQ=MONTHLY;BYDAY=4MO"
    last = event_of(
        BASE.replace("2026-12-07", "2026-12-28") + "wiederholung: jeden letzten Montag\n"
    )
    assert last.rrule == "FREQ=MONTHLY;BYDAY=-1MO"


def test_until_and_count():
    until = event_of(BASE + "wiederholung: wöchentlich\nbis: 2027-01-31\n")
    # The end of 31 January in Berlin (UTC+1) in UTC, as RFC 5545 wants with a TZID start.
    assert until.rrule == "FREQ=WEEKLY;UNTIL=20270131T225959Z"
    count = event_of(BASE + "wiederholung:\n  regel: monatlich\n  anzahl: 3\n")
    assert count.rrule == "FREQ=MONTHLY;COUNT=3;BYDAY=1MO"
    assert count.last_utc() == datetime(2027, 2, 1, 20, 0)  # 1 Feb 2027, 21:00 Berlin
    all_day = event_of(
        "id: f\ntitel: Fest\nbeginn: 2026-12-24\nwiederholung: jährlich\nbis: 2030-12-31\n"
    )
    assert all_day.rrule == "FREQ=YEARLY;UNTIL=20301231"
    assert (
        until.last_utc() is not None
        and event_of(BASE + "wiederholung: wöchentlich\n").last_utc() is None
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("titel: X\nbeginn: 2026-12-07 19:00\nende: 21:00\n", "„id“"),
        ("id: Gross\ntitel: X\nbeginn: 2026-12-07 19:00\nende: 21:00\n", "„id“"),
        ("id: a\nbeginn: 2026-12-07 19:00\nende: 21:00\n", "„titel“ fehlt"),
        ("id: a\ntitel: X\n", "„beginn“ fehlt"),
        ("id: a\ntitel: X\nbeginn: 2026-12-07 19:00\n", "„ende“ fehlt"),
        ("id: a\ntitel: X\nbeginn: 2026-12-07 19:00\nende: 18:00\n", "nach „beginn“"),
        ("id: a\ntitel: X\nbeginn: 2026-13-07 19:00\nende: 21:00\n", "kein gültiger Zeitpunkt"),
        (BASE + "zeitzone: Mars/Olympus\n", "Unbekannte Zeitzone"),
        (BASE + "wiederholung: FREQ=HOURLY\n", "jede Sekunde, Minute oder Stunde"),
        (BASE + "wiederholung: FREQ=MINUTELY;COUNT=5\n", "jede Sekunde, Minute oder Stunde"),
        (BASE + "wiederholung: FREQ=SECONDLY\n", "jede Sekunde, Minute oder Stunde"),
        (BASE + "wiederholung: FREQ=WEEKLY;BYFOO=1\n", "RRULE ist ungültig"),
        (BASE + "wiederholung: manchmal\n", "Unbekannte „wiederholung“"),
        (BASE + "wiederholung: jeden 2. Montag\n", "muss selbst auf"),
        (BASE + "wiederholung: wöchentlich\nanzahl: 5000\n", "„anzahl“"),
        (BASE + "wiederholung: wöchentlich\nanzahl: 3\nbis: 2027-01-01\n", "nicht beides"),
        (BASE + "bis: 2027-01-01\n", "gehören zu einer"),
        (BASE + "ausnahmen: [2026-12-14]\n", "nur bei einer"),
        (BASE + "wiederholung: wöchentlich\nausnahmen: [morgen]\n", "kein Datum"),
        (BASE + "anmeldung:\n  max: 0\n", "„max“"),
        (BASE + "anmeldung: vielleicht\n", "„anmeldung“"),
        (BASE + "online: gern\n", "„online“"),
        (BASE + "farbe: rot\n", "Unbekanntes Feld „farbe“"),
        ("id: a\ntitel: X\nbeginn: 2026-03-29 02:30\nende: 04:00\n", "Zeitumstellung"),
        ("id: a\ntitel: X\nbeginn: 2026-12-24\nende: 2026-12-20\n", "nicht vor „beginn“"),
        ("- eine Liste\n", "braucht Felder"),
    ],
)
def test_invalid_blocks_name_the_problem(text, needle):
    problems = problems_of(text)
    assert any(needle in problem for problem in problems), problems


def test_fields_are_normalised():
    event = event_of(
        BASE + "ort: Café Mitte\nonline: ja\nanmeldung:\n  max: 12\nbeschreibung: Hallo\n"
        "zeitzone: America/New_York\n"
    )
    assert (event.location, event.online, event.rsvp, event.rsvp_max) == (
        "Café Mitte",
        True,
        True,
        12,
    )
    assert event.tz == "America/New_York"
    assert event.first_utc() == datetime(2026, 12, 8, 0, 0)  # 19:00 in New York
    # "ende: 21:00" unquoted is sexagesimal YAML (1260); it still means 21:00.
    assert event_of(BASE).end == datetime(2026, 12, 7, 21, 0, tzinfo=BERLIN)
    assert event_of(BASE + "anmeldung: ja\n").rsvp_max is None


def test_all_day_end_is_exclusive_in_row_and_vevent():
    event = event_of("id: f\ntitel: Fest\nbeginn: 2026-12-24\nende: 2026-12-26\n")
    assert event.all_day and event.end == date(2026, 12, 27)
    row = Row(event)
    assert row.end == datetime(2026, 12, 27)
    text = ical.vevent(row, None, "wiki.test").to_ical().decode()
    assert "DTSTART;VALUE=DATE:20261224" in text
    assert "DTEND;VALUE=DATE:20261227" in text
    found = ical.occurrences(
        [row], datetime(2026, 12, 1, tzinfo=BERLIN), datetime(2027, 1, 1, tzinfo=BERLIN)
    )
    assert len(found) == 1 and found[0].key == "2026-12-24"
    assert found[0].days(BERLIN) == [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)]
    one_day = Row(event_of("id: g\ntitel: Tag\nbeginn: 2026-12-24\nganztägig: ja\n"))
    assert one_day.end == datetime(2026, 12, 25)


def test_weekly_event_stays_at_19_local_across_dst():
    row = Row(
        event_of(
            "id: w\ntitel: W\nbeginn: 2026-03-02 19:00\nende: 21:00\nwiederholung: wöchentlich\n"
        )
    )
    found = ical.occurrences(
        [row], datetime(2026, 3, 1, tzinfo=BERLIN), datetime(2026, 11, 30, tzinfo=BERLIN)
    )
    assert len(found) == 39  # every Monday from 2 March to 23 November
    assert {o.start.astimezone(BERLIN).hour for o in found} == {19}
    utc_hours = {o.start.date(): o.start.astimezone(ZoneInfo("UTC")).hour for o in found}
    assert utc_hours[date(2026, 3, 23)] == 18  # CET, before 29 March
    assert utc_hours[date(2026, 3, 30)] == 17  # CEST
    assert utc_hours[date(2026, 10, 19)] == 17
    assert utc_hours[date(2026, 10, 26)] == 18  # CET again after 25 October
    assert found[4].key == "2026-03-30T19:00"


def test_vevent_keeps_the_rule_and_exceptions():
    event = event_of(
        BASE + 'wiederholung: wöchentlich\nausnahmen: [2026-12-28, "2027-01-04 19:00"]\n'
        "ort: Saal\nbeschreibung: Mit Essen\n"
    )
    row = Row(event, path="lv/seite")
    state = EventState(
        event_id="t", sequence=3, digest=event.digest(),
        created_at=datetime(2026, 1, 1, 10), modified_at=datetime(2026, 2, 1, 11),
    )  # fmt: skip
    vevent = ical.vevent(row, state, "wiki.test", url="https://wiki.test/lv/seite#termin-t")
    text = vevent.to_ical().decode()
    assert "UID:t@wiki.test" in text and "SEQUENCE:3" in text
    assert "DTSTART;TZID=Europe/Berlin:20261207T190000" in text
    assert "RRULE:FREQ=WEEKLY" in text
    assert "EXDATE;TZID=Europe/Berlin:20261228T190000,20270104T190000" in text
    assert "DTSTAMP:20260201T110000Z" in text and "CREATED:20260101T100000Z" in text
    assert "LAST-MODIFIED:20260201T110000Z" in text
    assert "LOCATION:Saal" in text and "DESCRIPTION:Mit Essen" in text
    assert "URL:https://wiki.test/lv/seite#termin-t" in text
    found = ical.occurrences(
        [row], datetime(2026, 12, 1, tzinfo=BERLIN), datetime(2027, 1, 31, tzinfo=BERLIN)
    )
    keys = ["2026-12-07", "2026-12-14", "2026-12-21", "2027-01-11", "2027-01-18", "2027-01-25"]
    assert [o.key for o in found] == [f"{key}T19:00" for key in keys]


def test_event_block_text_parses_back():
    start = datetime(2027, 5, 1, 18, 30, tzinfo=BERLIN)
    event = event_of(
        block_text("Sommerfest „draußen“: ja", start, None, False, "fest")
        .split("\n", 1)[1]
        .rsplit("```", 1)[0]
    )
    assert (event.id, event.title, event.start) == ("fest", "Sommerfest „draußen“: ja", start)
    assert event.end == datetime(2027, 5, 1, 19, 30, tzinfo=BERLIN)
    day = block_text("Tag", date(2027, 5, 1), date(2027, 5, 2), True, "tag")
    event = event_of(day.split("\n", 1)[1].rsplit("```", 1)[0])
    assert event.all_day and event.end == date(2027, 5, 3)


# -- saving, projection, SEQUENCE ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cal(tmp_path_factory):
    app = make_calendar_app(tmp_path_factory.mktemp("calendar-core"))
    yield Spaces(app)
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture(scope="module")
def member(cal):
    return cal.login("member_a")


def rows(cal, **where):
    with cal.state.sessions() as session:
        query = select(EventRow)
        for name, value in where.items():
            query = query.where(getattr(EventRow, name) == value)
        result = session.scalars(query).all()
        session.expunge_all()
        return result


def sequence(cal, ident):
    with cal.state.sessions() as session:
        return session.get(EventState, ident).sequence


def count_rows(cal) -> int:
    with cal.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(EventRow))


def test_saved_event_is_projected_with_space_and_visibility(cal, member):
    text = page_text("Treffen", "Text\n\n" + termin_block("kv-a-treffen", ort="Café"))
    assert save(member, "lv/kv-a/treffen-core", text).status_code == 302
    (row,) = rows(cal, id="kv-a-treffen")
    assert (row.path, row.space, row.visibility) == ("lv/kv-a/treffen-core", "lv/kv-a", "members")
    assert row.start == datetime(2026, 12, 7, 19) and row.first_utc == datetime(2026, 12, 7, 18)
    assert row.commit == cal.head()
    page = member.get("/lv/kv-a/treffen-core").get_data(as_text=True)
    assert 'id="termin-kv-a-treffen"' in page
    assert 'href="/-/calendar/event/kv-a-treffen.ics"' in page and "In meinen Kalender" in page
    assert "Café" in page


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        (termin_block("kaputt", wiederholung="FREQ=MINUTELY"), "Termin „kaputt“: „wiederholung“"),
        (termin_block("kaputt", ende="18:00"), "Termin „kaputt“: „ende“ muss nach"),
        (termin_block("Kaputt"), "Termin: „id“"),
        ("```termin\nid: [kaputt\n```\n", "Termin:"),
        (termin_block("doppelt") + termin_block("doppelt"), "steht zweimal"),
    ],
)
def test_invalid_block_is_refused_and_changes_nothing(cal, member, block, needle):
    before, count = cal.head(), count_rows(cal)
    response = save(member, "lv/kv-a/kaputt", page_text("Kaputt", block))
    assert response.status_code == 400
    assert needle in response.get_data(as_text=True)
    assert cal.head() == before and count_rows(cal) == count


def test_ids_are_unique_across_the_wiki(cal, member):
    assert (
        save(member, "lv/kv-a/erster", page_text("Erster", termin_block("einmalig"))).status_code
        == 302
    )
    before = cal.head()
    board_b = cal.login("board_b")
    response = save(board_b, "lv/kv-b/zweiter", page_text("Zweiter", termin_block("einmalig")))
    assert response.status_code == 400
    assert "Die Termin-Kennung „einmalig“ ist nicht verfügbar." in response.get_data(as_text=True)
    assert cal.head() == before
    assert [r.path for r in rows(cal, id="einmalig")] == ["lv/kv-a/erster"]
    # The page itself may be saved again with its own event.
    again = page_text("Erster", "Neu.\n\n" + termin_block("einmalig"))
    assert save(member, "lv/kv-a/erster", again).status_code == 302


def test_sequence_counts_edits_of_the_definition_only_and_survives_reindex(cal, member):
    path = "lv/kv-a/sequenz"
    assert save(member, path, page_text("S", termin_block("seq"))).status_code == 302
    assert sequence(cal, "seq") == 0
    save(member, path, page_text("S", "Anderer Text.\n\n" + termin_block("seq")))
    assert sequence(cal, "seq") == 0  # the definition did not change
    save(member, path, page_text("S", termin_block("seq", ort="Saal 2")))
    save(member, path, page_text("S", termin_block("seq", ort="Saal 3")))
    assert sequence(cal, "seq") == 2
    with cal.app.app_context():
        cal.state.syncer.reindex()
    assert sequence(cal, "seq") == 2
    (row,) = rows(cal, id="seq")
    assert row.location == "Saal 3"
    save(member, path, page_text("S", termin_block("seq", ort="Saal 4")))
    assert sequence(cal, "seq") == 3


def test_move_keeps_the_id_and_the_sequence(cal, member):
    assert save(member, "lv/kv-a/umzug", page_text("U", termin_block("umzug"))).status_code == 302
    with cal.app.test_request_context():
        cal.state.content.rename(
            cal.principal("admin"), "lv/kv-a/umzug", "lv/kv-a/ov/umzug", "Umzug"
        )
    (row,) = rows(cal, id="umzug")
    assert (row.path, row.space) == ("lv/kv-a/ov/umzug", "lv/kv-a/ov")
    assert sequence(cal, "umzug") == 0


def test_delete_drops_the_row_but_keeps_the_sequence(cal, member):
    save(member, "lv/kv-a/weg", page_text("W", termin_block("weg", ort="A")))
    save(member, "lv/kv-a/weg", page_text("W", termin_block("weg", ort="B")))
    with cal.app.test_request_context():
        cal.state.content.delete(cal.principal("member_a"), "lv/kv-a/weg", cal.head(), "Weg")
    assert rows(cal, id="weg") == []
    save(member, "lv/kv-a/weg-neu", page_text("W", termin_block("weg", ort="C")))
    assert sequence(cal, "weg") == 2  # a feed reader must see the new version as newer


def test_pushed_invalid_block_is_not_projected_and_shows_the_problem(cal):
    cal.commit({"lv/kv-a/gepusht.md": page_text("G", termin_block("gepusht", ende="10:00"))})
    assert rows(cal, id="gepusht") == []
    page = cal.login("member_a").get("/lv/kv-a/gepusht").get_data(as_text=True)
    assert "Dieser Termin ist fehlerhaft" in page and "„ende“ muss nach „beginn“ liegen." in page


def test_check_reports_drift(cal, member):
    save(member, "lv/kv-a/drift", page_text("D", termin_block("drift")))
    with cal.app.app_context():
        assert not [p for p in cal.state.syncer.check() if "event" in p]
    with cal.state.sessions() as session:
        session.get(EventRow, "drift").title = "Verfälscht"
        session.commit()
    with cal.app.app_context():
        assert "event drift: title differs from git" in cal.state.syncer.check()
    with cal.state.sessions() as session:
        session.delete(session.get(EventRow, "drift"))
        session.commit()
    with cal.app.app_context():
        assert "event drift is in git but not in the projection" in cal.state.syncer.check()
        cal.state.syncer.reindex()
        assert not [p for p in cal.state.syncer.check() if "event" in p]


def test_event_block_hook_gives_a_free_id(cal, member):
    save(member, "lv/kv-a/umfrage", page_text("U", termin_block("sommerfest")))
    hook = cal.state.pm.hook.wiki_event_block
    start, end = datetime(2027, 6, 5, 15, tzinfo=BERLIN), datetime(2027, 6, 5, 22, tzinfo=BERLIN)
    text = hook(title="Sommerfest", start=start, end=end, all_day=False, ident="Sommerfest")
    assert text.startswith("```termin\nid: sommerfest-2\n")
    assert (
        save(
            member, "lv/kv-a/umfrage", page_text("U", termin_block("sommerfest") + "\n" + text)
        ).status_code
        == 302
    )
    (row,) = rows(cal, id="sommerfest-2")
    assert row.start == datetime(2027, 6, 5, 15) and row.end == datetime(2027, 6, 5, 22)


def test_member_data_export_and_erasure(cal):
    user_id = cal.user_id("member_b")
    with cal.state.sessions() as session:
        session.add(
            Rsvp(event_id="x", occurrence="2026-12-07T19:00", user_id=user_id, answer="zusage")
        )
        session.add(Places(event_id="x", occurrence="2026-12-07T19:00", taken=1))
        session.commit()
        data = cal.state.pm.hook.wiki_user_data(user_id=user_id, session=session)
        (mine,) = [d for d in data if d and "calendar" in d]
        assert mine["calendar"][0]["answer"] == "zusage"
        cal.state.pm.hook.wiki_user_deleted(user_id=user_id, session=session)
        session.commit()
        assert (
            session.scalar(select(func.count()).select_from(Rsvp).where(Rsvp.user_id == user_id))
            == 0
        )
        assert session.get(Places, ("x", "2026-12-07T19:00")).taken == 0


def test_demo_events(cal):
    from plugins.calendar.demo import create

    said = []
    with cal.app.app_context():
        create(cal.state, said.append)
    demo = rows(cal, commit=cal.head())
    assert {r.id for r in demo} == {"offenes-treffen-th", "landeskongress-th",
                                    "stammtisch-erfurt-nord", "vorstand-jena"}  # fmt: skip
    by_id = {r.id: r for r in demo}
    assert by_id["offenes-treffen-th"].rrule == "FREQ=WEEKLY"
    assert by_id["landeskongress-th"].all_day and by_id["stammtisch-erfurt-nord"].rsvp_max == 12
    assert json.loads(by_id["offenes-treffen-th"].exdates)
    assert said == ["Demo-Termine: unter /-/calendar"]


def test_event_follows_its_space_definition_without_a_new_sequence(cal, member):
    from conftest import space_text

    save(member, "lv/kv-a/folgt", page_text("F", termin_block("folgt")))
    assert rows(cal, id="folgt")[0].visibility == "members"
    cal.commit({"lv/kv-a.md": space_text("lv/kv-a", default_visibility="internal")})
    try:
        assert rows(cal, id="folgt")[0].visibility == "internal"
        assert sequence(cal, "folgt") == 0
        assert "folgt" in cal.login("user").get("/-/calendar?monat=2026-12").get_data(as_text=True)
    finally:
        cal.commit({"lv/kv-a.md": space_text("lv/kv-a")})
    assert rows(cal, id="folgt")[0].visibility == "members"


def test_widget_with_registration_renders(cal, member):
    block = termin_block("mit-anmeldung", anmeldung="{max: 5}", online="ja")
    assert save(member, "lv/kv-a/anmeldung", page_text("A", block)).status_code == 302
    page = member.get("/lv/kv-a/anmeldung")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="termin-mit-anmeldung"' in html and "höchstens 5 Plätze" in html

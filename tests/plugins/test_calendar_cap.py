"""RRULE bombs: views expand only the requested month, at most 500 occurrences, else 413 with an
explanation; dense rules far from their start cost a bounded amount of work."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import Spaces, make_calendar_app, page_text, termin_block

from plugins.calendar import ical
from plugins.calendar.definitions import parse

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = ",".join(str(h) for h in range(24))
BOMB = f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE=0,30"  # 48 a day: about 1500 a month


class Row:
    """An EventRow stand-in (columns from ``to_row_values``)."""

    def __init__(self, text: str):
        event, problems = parse(yaml.safe_load(text))
        assert event is not None, [str(p) for p in problems]
        self.path = "seite"
        for name, value in event.to_row_values().items():
            setattr(self, name, value)


def row(repeat: str, start: str = "2026-12-01 08:00", end: str = "08:15", extra: str = "") -> Row:
    return Row(f"id: r\ntitel: R\nbeginn: {start}\nende: {end}\nwiederholung: {repeat}\n{extra}")


def window(start: tuple, end: tuple):
    return datetime(*start, tzinfo=BERLIN), datetime(*end, tzinfo=BERLIN)


def test_daily_for_years_is_fine_for_a_month_but_not_for_years():
    daily = row("täglich", extra="bis: 2036-12-31\n")
    assert len(ical.occurrences([daily], *window((2030, 3, 1), (2030, 4, 1)))) == 31
    with pytest.raises(ical.TooMany):
        ical.occurrences([daily], *window((2027, 1, 1), (2036, 1, 1)))


@pytest.mark.parametrize(
    "repeat",
    [
        "täglich",
        "wöchentlich",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU",
        "FREQ=MONTHLY;BYMONTHDAY=" + ",".join(str(day) for day in range(1, 29)),
    ],
)
def test_the_cap_is_exact(repeat):
    """Exactly ``cap`` occurrences pass, one more is refused (walked and estimated rules)."""
    rule = row(repeat, start="2026-01-01 08:00")
    span = window((2026, 2, 1), (2026, 3, 1))
    count = len(ical.occurrences([rule], *span, cap=500))
    assert count in (4, 28)
    assert len(ical.occurrences([rule] * 1, *span, cap=count)) == count
    with pytest.raises(ical.TooMany):
        ical.occurrences([rule], *span, cap=count - 1)


def test_many_events_together_hit_the_cap():
    events = []
    for n in range(17):
        event = row("täglich", start="2026-12-01 08:00")
        event.id = f"r{n}"
        events.append(event)
    assert len(ical.occurrences(events[:16], *window((2026, 12, 1), (2027, 1, 1)))) == 496
    with pytest.raises(ical.TooMany):
        ical.occurrences(events, *window((2026, 12, 1), (2027, 1, 1)))


def test_dense_rule_far_from_its_start_costs_bounded_work():
    bomb = row(BOMB, start="2026-12-01 00:00", end="00:10")
    started = time.perf_counter()
    with pytest.raises(ical.TooMany):
        ical.occurrences([bomb], *window((2040, 1, 1), (2040, 1, 2)))
    assert time.perf_counter() - started < 5
    # One day near its start is fine: 48 occurrences.
    assert len(ical.occurrences([bomb], *window((2026, 12, 2), (2026, 12, 3)))) == 48


@pytest.fixture(scope="module")
def cal(tmp_path_factory):
    app = make_calendar_app(tmp_path_factory.mktemp("calendar-cap"))
    spaces = Spaces(app)
    spaces.commit(
        {
            "lv/kv-a/bombe.md": page_text(
                "Bombe",
                termin_block("bombe", beginn="2026-12-01 00:00", ende="00:10", wiederholung=BOMB),
                "public",
            ),
            "lv/kv-b/taeglich.md": page_text(
                "Täglich",
                termin_block(
                    "taeglich",
                    beginn="2026-01-01 07:00",
                    ende="07:30",
                    wiederholung="täglich",
                    bis="2036-12-31",
                ),  # fmt: skip
                "public",
            ),
        }
    )
    yield spaces
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def test_a_month_with_a_bomb_is_413_with_an_explanation(cal):
    client = cal.login("anon")
    for url in ("/-/calendar?monat=2026-12", "/-/calendar/lv?monat=2027-01&ansicht=liste",
                "/-/calendar/lv/kv-a?monat=2026-12"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 413, url
        text = response.get_data(as_text=True)
        assert "zu viele Termine (mehr als 500)" in text
        assert "Wiederholungsregel" in text
    # Before the bomb starts, and in a chapter without it, the calendar works.
    assert client.get("/-/calendar?monat=2026-11").status_code == 200
    html = client.get("/-/calendar/lv/kv-b?monat=2030-03&ansicht=liste").get_data(as_text=True)
    assert html.count("#termin-taeglich") == 31
    # The bomb's own page still shows the event with its next three occurrences.
    page = client.get("/lv/kv-a/bombe").get_data(as_text=True)
    assert 'id="termin-bombe"' in page


def test_next_occurrences_of_a_dense_old_rule_are_skipped_quickly():
    old_bomb = row(BOMB, start="2000-01-01 00:00", end="00:10")  # 48 a day for 27 years
    started = time.perf_counter()
    assert ical.next_occurrences(old_bomb, datetime(2026, 12, 1, tzinfo=BERLIN)) == []
    assert time.perf_counter() - started < 5
    weekly = row("wöchentlich", start="2016-01-04 19:00", end="21:00")
    found = ical.next_occurrences(weekly, datetime(2026, 12, 1, tzinfo=BERLIN))
    assert [o.key for o in found] == ["2026-12-07T19:00", "2026-12-14T19:00", "2026-12-21T19:00"]

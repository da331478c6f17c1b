"""A date poll's chosen slot becomes an event of the real calendar plugin (hook
``wiki_event_block``): the block is appended to the poll's page, projected, and shown in the
chapter's calendar at the slot's time."""

from __future__ import annotations

import pytest
from conftest import PAGES, Spaces, make_polls_app, page_text
from sqlalchemy import select

from plugins.calendar.models import EventRow

PUBLIC = "lv/kv-a/oeffentlich"
POLL = """
```poll
id: klausur
titel: Wann ist die Klausurtagung?
typ: termin
optionen:
  sa: 2030-03-09 10:00 - 17:00
  so: 2030-03-10
wer: angemeldet
ergebnis: immer
```
"""


@pytest.fixture
def spaces(tmp_path):
    helper = Spaces(make_polls_app(tmp_path, calendar=True))
    visibility, title, body = PAGES[PUBLIC]
    helper.commit({f"{PUBLIC}.md": page_text(title, body + "\n" + POLL, visibility)}, "Umfrage")
    yield helper
    helper.state.search.wait_idle()
    helper.state.search.close()
    helper.state.store.close()
    helper.state.engine.dispose()


def test_the_chosen_slot_becomes_a_calendar_event(spaces):
    board = spaces.login("board_a")
    assert (
        board.form("/-/polls/klausur/vote", {"slot-sa": "ja", "slot-so": "nein"}).status_code == 302
    )
    assert "Als Termin eintragen" in board.get("/-/polls/klausur/slips").get_data(as_text=True)
    response = board.form("/-/polls/klausur/event", {"termin": "sa"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/{PUBLIC}")
    with spaces.state.sessions() as session:
        rows = session.scalars(select(EventRow).where(EventRow.path == PUBLIC)).all()
    assert [(r.title, r.start.isoformat(), r.end.isoformat()) for r in rows] == [
        ("Wann ist die Klausurtagung?", "2030-03-09T10:00:00", "2030-03-09T17:00:00")
    ]
    month = spaces.login("member_a").get("/-/calendar/lv/kv-a?monat=2030-03")
    assert "Wann ist die Klausurtagung?" in month.get_data(as_text=True)
    # the whole-day slot becomes an all-day event with its own id
    assert board.form("/-/polls/klausur/event", {"termin": "so"}).status_code == 302
    with spaces.state.sessions() as session:
        ids = session.scalars(select(EventRow.id).where(EventRow.all_day.is_(True))).all()
    assert len(ids) == 1 and ids[0] != rows[0].id

"""The permission matrix of the calendar plugin: every route of its three blueprints × role.

The app has the spaces tree of ``tests/plugins/conftest.py`` and the calendar plugin, with events
on a public page of ``lv/kv-a``, on its members-only page and on its board page. Each entry of
``CASES`` is (endpoint, request, expected status per role in ``ROLES`` order); the request is a
path (GET) or ``"METHOD path"`` with ``{placeholders}`` filled by the ``world`` fixture (personal
feed tokens). Every endpoint of the blueprints ``calendar``, ``calendar_feeds`` and
``calendar_rsvp`` needs a case (``test_every_calendar_route_is_in_the_matrix``), and every POST
route refuses a request without CSRF token.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import Spaces, make_calendar_app, page_text
from matrix_support import (
    cases_of,
    csrf_problems,
    matrix_problems,
    misrouted,
    missing_routes,
    page_problems,
    stale_endpoints,
)

ROLES = ("anon", "user", "member_a", "board_a", "member_b", "board_b", "admin")
BLUEPRINTS = ("calendar", "calendar_feeds", "calendar_rsvp")

EVERYONE = (200, 200, 200, 200, 200, 200, 200)
NOBODY = (404, 404, 404, 404, 404, 404, 404)
NO_GET = (405, 405, 405, 405, 405, 405, 405)
LOGGED_IN = (302, 200, 200, 200, 200, 200, 200)
MEMBERS_A = (404, 404, 200, 200, 404, 404, 200)
BOARD_A = (404, 404, 404, 200, 404, 404, 200)
BAD_REQUEST = (400, 400, 400, 400, 400, 400, 400)
SPACE_MISSING = (302, 404, 404, 404, 404, 404, 404)
#: Attendee lists: login first; 404 for those who may not read the page; organisers (the board
#: of the event's space or above, admins) see them, other readers get 403.
ORGANISE_PUBLIC_A = (302, 403, 403, 200, 403, 403, 200)
ORGANISE_MEMBERS_A = (302, 404, 403, 200, 404, 404, 200)
ORGANISE_BOARD_A = (302, 404, 404, 200, 404, 404, 200)
#: Answering (a redirect back to the event): login first; 404 for those who may not read it.
ANSWER = (302, 302, 302, 302, 302, 302, 302)
ANSWER_MEMBERS_A = (302, 404, 302, 302, 404, 404, 302)
#: Dates relative to today: answers are taken only for occurrences still ahead.
SOON = date.today() + timedelta(days=30)
#: The next Tuesday at least two days ahead (the weekly Stammtisch meets on Tuesdays).
TUESDAY = date.today() + timedelta(days=(1 - date.today().weekday()) % 7 or 7)
if TUESDAY - date.today() < timedelta(days=2):
    TUESDAY += timedelta(days=7)
ABSAGE = f"answer=absage&occurrence={SOON:%Y-%m-%d}T18:00"
ABSAGE_WEEKLY = f"answer=absage&occurrence={TUESDAY:%Y-%m-%d}T19:00"
#: Into the video room of an online event on the members page of A (a redirect).
JOIN_MEMBERS_A = (404, 404, 303, 303, 404, 404, 303)

PUBLIC_PAGE = "lv/kv-a/oeffentlich"
MEMBERS_PAGE = "lv/kv-a/protokoll"
BOARD_PAGE = "lv/kv-a/vorstand"
#: event id → (page, block fields)
EVENTS = {
    "sommerfest-a": (
        PUBLIC_PAGE,
        {
            "titel": "Sommerfest Kreisverband A",
            "beginn": "2026-07-04 15:00",
            "ende": "22:00",
            "ort": "Stadtpark",
        },
    ),
    "stammtisch-a": (
        PUBLIC_PAGE,
        {
            "titel": "Stammtisch A",
            "beginn": "2026-01-06 19:00",
            "ende": "21:00",
            "wiederholung": "wöchentlich",
            "anmeldung": "ja",
        },
    ),
    "mv-a": (
        MEMBERS_PAGE,
        {
            "titel": "Mitgliederversammlung A",
            "beginn": f"{SOON:%Y-%m-%d} 18:00",
            "ende": "20:00",
            "online": "ja",
            "anmeldung": {"max": 20},
        },
    ),
    "vorstand-a": (
        BOARD_PAGE,
        {"titel": "Vorstandssitzung A", "beginn": f"{SOON:%Y-%m-%d} 19:00", "ende": "21:00"},
    ),
}

CASES = [
    # -- calendar: month grid and agenda (events filtered per reader: test_calendar_views.py)
    ("calendar.index", "/-/calendar", EVERYONE),
    ("calendar.index", "/-/calendar?monat=2026-12&ansicht=liste", EVERYONE),
    ("calendar.index", "/-/calendar?monat=Dezember", BAD_REQUEST),
    ("calendar.space", "/-/calendar/lv/kv-a?monat=2026-12", EVERYONE),
    ("calendar.space", "/-/calendar/lv?untergliederungen=0&ansicht=liste", EVERYONE),
    ("calendar.space", "/-/calendar/lv/nirgends", NOBODY),
    ("calendar.space", "/-/calendar/hilfe", NOBODY),
    ("calendar.space", f"/-/calendar/{MEMBERS_PAGE}", NOBODY),
    ("calendar.static", "/-/calendar/static/calendar-copy.js", EVERYONE),
    # -- calendar_rsvp: answers need an account; lists only for organisers; video for readers
    ("calendar_rsvp.rsvp", f"FORM /-/calendar/event/mv-a/rsvp?{ABSAGE}", ANSWER_MEMBERS_A),
    ("calendar_rsvp.rsvp", f"FORM /-/calendar/event/stammtisch-a/rsvp?{ABSAGE_WEEKLY}", ANSWER),
    ("calendar_rsvp.rsvp", f"FORM /-/calendar/event/gibt-es-nicht/rsvp?{ABSAGE}", SPACE_MISSING),
    ("calendar_rsvp.attendees", "/-/calendar/event/stammtisch-a/attendees", ORGANISE_PUBLIC_A),
    ("calendar_rsvp.attendees", "/-/calendar/event/mv-a/attendees", ORGANISE_MEMBERS_A),
    ("calendar_rsvp.attendees", "/-/calendar/event/vorstand-a/attendees", ORGANISE_BOARD_A),
    ("calendar_rsvp.attendees", "/-/calendar/event/gibt-es-nicht/attendees", SPACE_MISSING),
    ("calendar_rsvp.attendees_csv", "/-/calendar/event/mv-a/attendees.csv", ORGANISE_MEMBERS_A),
    (
        "calendar_rsvp.attendees_csv",
        "/-/calendar/event/stammtisch-a/attendees.csv",
        ORGANISE_PUBLIC_A,
    ),
    ("calendar_rsvp.join", "/-/calendar/event/mv-a/join", JOIN_MEMBERS_A),
    ("calendar_rsvp.join", "/-/calendar/event/sommerfest-a/join", NOBODY),  # not online
    ("calendar_rsvp.join", "/-/calendar/event/gibt-es-nicht/join", NOBODY),
    ("calendar_rsvp.space_room", "/-/calendar/room/lv/kv-a/join", JOIN_MEMBERS_A),
    ("calendar_rsvp.space_room", "/-/calendar/room/lv/nirgends/join", NOBODY),
    ("calendar_rsvp.space_room", f"/-/calendar/room/{MEMBERS_PAGE}/join", NOBODY),
    # -- calendar_feeds: feeds without token are public for everyone
    ("calendar_feeds.site_feed", "/-/calendar.ics", EVERYONE),
    ("calendar_feeds.site_feed", "/-/calendar.ics?token={token_a}", EVERYONE),
    ("calendar_feeds.site_feed", "/-/calendar.ics?token=falsch", NOBODY),
    ("calendar_feeds.site_feed", "/-/calendar.ics?token=", NOBODY),
    ("calendar_feeds.site_feed", "/-/calendar.ics?token={revoked}", NOBODY),
    ("calendar_feeds.site_feed", "/-/calendar.ics?token={api_token}", NOBODY),  # not a feed token
    ("calendar_feeds.space_feed", "/-/calendar/lv/kv-a.ics", EVERYONE),
    ("calendar_feeds.space_feed", "/-/calendar/lv.ics?untergliederungen=1", EVERYONE),
    ("calendar_feeds.space_feed", "/-/calendar/lv/kv-a.ics?token={token_a}", EVERYONE),
    ("calendar_feeds.space_feed", "/-/calendar/lv/kv-a.ics?token=falsch", NOBODY),
    ("calendar_feeds.space_feed", "/-/calendar/lv/nirgends.ics", NOBODY),
    ("calendar_feeds.space_feed", "/-/calendar/hilfe.ics", NOBODY),  # a page, no space
    ("calendar_feeds.space_feed", f"/-/calendar/{MEMBERS_PAGE}.ics", NOBODY),
    # one event: its page's readers (the session, or a token)
    ("calendar_feeds.event_ics", "/-/calendar/event/sommerfest-a.ics", EVERYONE),
    ("calendar_feeds.event_ics", "/-/calendar/event/stammtisch-a.ics", EVERYONE),
    ("calendar_feeds.event_ics", "/-/calendar/event/mv-a.ics", MEMBERS_A),
    ("calendar_feeds.event_ics", "/-/calendar/event/mv-a.ics?token={token_a}", EVERYONE),
    ("calendar_feeds.event_ics", "/-/calendar/event/mv-a.ics?token={token_b}", NOBODY),
    ("calendar_feeds.event_ics", "/-/calendar/event/vorstand-a.ics", BOARD_A),
    ("calendar_feeds.event_ics", "/-/calendar/event/gibt-es-nicht.ics", NOBODY),
    ("calendar_feeds.subscribe", "/-/calendar/subscribe", EVERYONE),
    ("calendar_feeds.subscribe", "/-/calendar/subscribe?gliederung=lv/kv-a", EVERYONE),
    ("calendar_feeds.subscribe", f"/-/calendar/subscribe?gliederung={MEMBERS_PAGE}", NOBODY),
    ("calendar_feeds.subscribe", "/-/calendar/subscribe?gliederung=lv/nirgends", NOBODY),
]


def termin(ident: str, fields: dict) -> str:
    """A fenced ``termin`` block."""
    import yaml

    body = yaml.safe_dump({"id": ident, **fields}, allow_unicode=True, sort_keys=False)
    return f"```termin\n{body}```\n"


def event_pages() -> dict[str, str]:
    """The pages of ``EVENTS`` (the spaces tree's pages with the blocks added)."""
    from conftest import PAGES

    out = {}
    for page in {page for page, _fields in EVENTS.values()}:
        visibility, title, body = PAGES[page]
        blocks = "\n".join(termin(i, f) for i, (p, f) in EVENTS.items() if p == page)
        out[f"{page}.md"] = page_text(title, f"{body}\n\n{blocks}", visibility)
    return out


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_calendar_app(
        tmp_path_factory.mktemp("calendar-matrix"),
        CALENDAR_VIDEO="jitsi",
        CALENDAR_JITSI_URL="https://meet.example.org",
    )
    Spaces(app).commit(event_pages(), "Termine")
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
def world(spaces):
    """Real objects for the placeholders of ``CASES``: feed tokens of member_a and member_b,
    a revoked one and an API token of member_a."""
    from wiki.auth import issue_token
    from wiki.db import User, utcnow

    values = {}
    with spaces.app.app_context(), spaces.state.sessions() as session:
        member_a = session.get(User, spaces.user_id("member_a"))
        member_b = session.get(User, spaces.user_id("member_b"))
        values["token_a"] = issue_token(session, member_a, "feed", "Kalender")
        values["token_b"] = issue_token(session, member_b, "feed", "Kalender")
        values["revoked"] = issue_token(session, member_a, "feed", "alt")
        values["api_token"] = issue_token(session, member_a, "api", "Skript")
        session.flush()
        from wiki.auth import token_hash
        from wiki.db import Token

        token = session.query(Token).filter_by(token_hash=token_hash(values["revoked"])).one()
        token.revoked_at = utcnow()
        session.commit()
    return values


def calendar_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in BLUEPRINTS]


def test_the_events_are_projected(spaces, app):
    """The matrix means something only if the events exist."""
    from plugins.calendar.models import EventRow

    with spaces.state.sessions() as session:
        ids = {row.id for row in session.query(EventRow)}
    assert ids == set(EVENTS)


@pytest.fixture(scope="module")
def matrix(world):
    return cases_of(CASES, world)


def test_every_calendar_route_is_in_the_matrix(app, matrix):
    missing = missing_routes(calendar_rules(app), matrix)
    assert not missing, (
        f"{len(missing)} calendar route(s) missing from tests/plugins/test_calendar_matrix.py; "
        "add a case with the expected status per role to CASES:\n" + "\n".join(missing)
    )


def test_the_matrix_names_only_existing_routes(app, matrix):
    stale = stale_endpoints(app, matrix)
    assert not stale, f"CASES name endpoints that no longer exist: {stale}"


def test_each_case_reaches_its_endpoint(app, matrix):
    """A case must test the route it is filed under (not another one matching the URL)."""
    wrong = misrouted(app, matrix)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(spaces, matrix, role):
    problems = matrix_problems(spaces.login(role), matrix, ROLES.index(role))
    assert not problems, f"{role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["anon", "member_a", "admin"])
def test_pages_have_csrf_tokens_and_no_inline_code(spaces, matrix, role):
    """Every POST form carries a CSRF token; no inline scripts, styles or event handlers."""
    problems = page_problems(spaces.login(role), matrix)
    assert not problems, "\n".join(problems)


def test_every_post_route_refuses_a_missing_csrf_token(spaces, matrix):
    """Each calendar route that accepts POST answers 400 ("Sicherheitstoken") without the
    token, and nothing changes: neither git nor the calendar's tables nor the feed tokens."""
    from plugins.calendar.models import Places, Rsvp
    from wiki.db import Token

    posting = sorted(r.endpoint for r in calendar_rules(spaces.app) if "POST" in r.methods)
    assert "calendar_feeds.subscribe" in posting

    def counts():
        with spaces.state.sessions() as session:
            return tuple(session.query(t).count() for t in (Rsvp, Places, Token))

    head, before = spaces.head(), counts()
    data = {"antwort": "zusage", "occurrence": f"{SOON:%Y-%m-%d}T18:00"}
    problems = csrf_problems(spaces.login("board_a"), matrix, posting, data)
    assert not problems, "\n".join(problems)
    assert spaces.head() == head
    assert counts() == before

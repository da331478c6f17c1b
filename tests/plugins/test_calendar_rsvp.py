"""RSVPs: answering per occurrence, the atomic cap, who sees names, and the reminder mails.

The events are placed relative to today (the plugin refuses answers to occurrences that have
begun), on the members page of ``lv/kv-a`` (readers: members and board of A and of the
Ortsverband below it, admins) and on a public page of A.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import PAGES, Spaces, make_calendar_app, page_text, termin_block
from sqlalchemy import func, select

from plugins.calendar.models import Places, Reminder, Rsvp
from wiki.db import MailMessage

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = datetime.now(BERLIN)
SOON = (TODAY + timedelta(days=20)).replace(hour=19, minute=0, second=0, microsecond=0)
PAST = (TODAY - timedelta(days=20)).replace(hour=19, minute=0, second=0, microsecond=0)
#: An occurrence about half a day ahead: inside the reminder window.
TOMORROW = (TODAY + timedelta(hours=12)).replace(minute=0, second=0, microsecond=0)
if TOMORROW.hour == 2:  # never inside the hour a spring DST change skips
    TOMORROW += timedelta(hours=1)
MEMBERS_PAGE = "lv/kv-a/protokoll"
PUBLIC_PAGE = "lv/kv-a/oeffentlich"


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def key(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def event(ident: str, start: datetime, **fields) -> str:
    end = stamp(start + timedelta(hours=2))
    return termin_block(ident, titel=fields.pop("titel", ident.title()), beginn=stamp(start),
                        ende=end, **fields)  # fmt: skip


MEMBER_EVENTS = [
    event("mv", SOON, titel="Mitgliederversammlung", anmeldung="{max: 10}"),
    event("rennen", SOON, titel="Seminar", anmeldung="{max: 10}"),
    event("klein", SOON, titel="Kleine Runde", anmeldung="{max: 1}"),
    event("morgen", TOMORROW, titel="Aktionstag", ort="Marktplatz", anmeldung="ja"),
    event("ohne", SOON, titel="Ohne Anmeldung"),
]
PUBLIC_EVENTS = [
    event("offen", SOON, titel="Offenes Treffen", wiederholung="wöchentlich", anmeldung="ja"),
    event("vorbei", PAST, titel="Vergangenes Treffen", anmeldung="ja"),
]


def with_events(page: str, blocks: list[str]) -> str:
    visibility, title, body = PAGES[page]
    return page_text(title, body + "\n\n" + "\n".join(blocks), visibility)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_calendar_app(tmp_path_factory.mktemp("calendar-rsvp"))
    Spaces(app).commit(
        {
            f"{MEMBERS_PAGE}.md": with_events(MEMBERS_PAGE, MEMBER_EVENTS),
            f"{PUBLIC_PAGE}.md": with_events(PUBLIC_PAGE, PUBLIC_EVENTS),
        },
        "Termine",
    )
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
    cache = {}

    def get(role):
        if role not in cache:
            cache[role] = spaces.login(role)
        return cache[role]

    return get


def answers(spaces, event_id: str) -> dict[str, str]:
    """``{handle: answer}`` of every RSVP to ``event_id``."""
    from wiki.db import User

    with spaces.state.sessions() as session:
        rows = session.execute(
            select(User.handle, Rsvp.answer)
            .join(User, User.id == Rsvp.user_id)
            .where(Rsvp.event_id == event_id)
        )
        return dict(rows.all())


def taken(spaces, event_id: str, occurrence: str) -> int | None:
    with spaces.state.sessions() as session:
        return session.scalar(
            select(Places.taken).where(Places.event_id == event_id, Places.occurrence == occurrence)
        )


def rsvp_count(spaces) -> int:
    with spaces.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(Rsvp))


def post(client, event_id: str, occurrence: str, answer: str):
    return client.form(
        f"/-/calendar/event/{event_id}/rsvp", {"occurrence": occurrence, "answer": answer}
    )


# -- answering ----------------------------------------------------------------------------------


def test_a_member_answers_and_returns_to_the_event(spaces, clients):
    response = post(clients("member_a"), "mv", key(SOON), "zusage")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/{MEMBERS_PAGE}#termin-mv")
    page = clients("member_a").get(response.headers["Location"]).get_data(as_text=True)
    assert "Danke für deine Zusage!" in page
    assert "1 Zusage" in page and "9 Plätze frei" in page
    assert 'aria-pressed="true"' in page
    assert answers(spaces, "mv") == {"mia": "zusage"}
    assert taken(spaces, "mv", key(SOON)) == 1
    # changing the answer gives the place back in the same step
    assert post(clients("member_a"), "mv", key(SOON), "vielleicht").status_code == 302
    assert answers(spaces, "mv") == {"mia": "vielleicht"}
    assert taken(spaces, "mv", key(SOON)) == 0
    assert post(clients("member_a"), "mv", key(SOON), "zusage").status_code == 302
    assert taken(spaces, "mv", key(SOON)) == 1


def test_organisers_see_names_members_only_counts(spaces, clients):
    post(clients("board_a"), "mv", key(SOON), "absage")
    post(clients("member_a"), "mv", key(SOON), "zusage")
    # a member reading the page (here of the Ortsverband inside A) sees counts, no names
    page = clients("member_ov").get(f"/{MEMBERS_PAGE}").get_data(as_text=True)
    assert "1 Zusage" in page and "1 Absage" in page
    assert "Mia Mitglied A" not in page and "Bea Vorstand A" not in page
    assert "/-/calendar/event/mv/attendees" not in page
    for role in ("member_a", "member_ov"):
        assert clients(role).get("/-/calendar/event/mv/attendees").status_code == 403
        assert clients(role).get("/-/calendar/event/mv/attendees.csv").status_code == 403
    # the board of A and admins see the list (the board of the Landesverband above A may not
    # read A's members page: 404; on A's public page it is an organiser too)
    board_page = clients("board_a").get(f"/{MEMBERS_PAGE}").get_data(as_text=True)
    assert "/-/calendar/event/mv/attendees" in board_page
    assert clients("board_lv").get("/-/calendar/event/mv/attendees").status_code == 404
    assert clients("board_lv").get("/-/calendar/event/offen/attendees").status_code == 200
    assert clients("member_a").get("/-/calendar/event/offen/attendees").status_code == 403
    for role in ("board_a", "admin"):
        listing = clients(role).get("/-/calendar/event/mv/attendees")
        assert listing.status_code == 200, role
        html = listing.get_data(as_text=True)
        assert "Mia Mitglied A" in html and "Bea Vorstand A" in html
        assert listing.headers["Cache-Control"] == "private, no-store"
    export = clients("board_a").get("/-/calendar/event/mv/attendees.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.get_data().decode("utf-8")
    assert text.startswith("\ufeffTermin;Beginn (ISO);Name;Antwort\r\n")
    assert f";{key(SOON)};Mia Mitglied A;Zusage\r\n" in text
    assert f";{key(SOON)};Bea Vorstand A;Absage\r\n" in text
    assert 'filename="anmeldungen-mv.csv"' in export.headers["Content-Disposition"]


def test_readers_of_other_chapters_get_404_and_nothing_changes(spaces, clients):
    head, before = spaces.head(), rsvp_count(spaces)
    for role in ("member_b", "board_b", "user"):
        response = post(clients(role), "mv", key(SOON), "zusage")
        assert response.status_code == 404, role
        assert clients(role).get("/-/calendar/event/mv/attendees").status_code == 404
    assert post(clients("member_a"), "gibt-es-nicht", key(SOON), "zusage").status_code == 404
    anonymous = spaces.app.test_client().form(
        "/-/calendar/event/offen/rsvp", {"occurrence": key(SOON), "answer": "zusage"}
    )
    assert anonymous.status_code == 302 and "/-/login" in anonymous.headers["Location"]
    assert rsvp_count(spaces) == before and spaces.head() == head


@pytest.mark.parametrize(
    ("event_id", "occurrence", "answer", "message"),
    [
        ("offen", key(SOON), "ja", "Bitte „Zusage“, „Vielleicht“ oder „Absage“ wählen."),
        ("offen", key(SOON), "", "Bitte „Zusage“, „Vielleicht“ oder „Absage“ wählen."),
        ("offen", key(SOON + timedelta(days=1)), "zusage", "findet der Termin nicht statt"),
        ("offen", key(SOON - timedelta(hours=1)), "zusage", "findet der Termin nicht statt"),
        ("offen", SOON.strftime("%Y-%m-%d"), "zusage", "findet der Termin nicht statt"),
        ("offen", "morgen um sieben", "zusage", "findet der Termin nicht statt"),
        ("offen", "2026-02-30T19:00", "zusage", "findet der Termin nicht statt"),
        ("vorbei", key(PAST), "zusage", "hat schon begonnen"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(
    spaces, clients, event_id, occurrence, answer, message
):
    head, before = spaces.head(), rsvp_count(spaces)
    response = post(clients("member_a"), event_id, occurrence, answer)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rsvp_count(spaces) == before and spaces.head() == head


def test_a_later_occurrence_of_a_series_can_be_answered(spaces, clients):
    later = key(SOON + timedelta(days=14))
    assert post(clients("user"), "offen", later, "vielleicht").status_code == 302
    assert answers(spaces, "offen") == {"alice": "vielleicht"}


def test_an_event_without_rsvp_has_no_answers(spaces, clients):
    assert post(clients("member_a"), "ohne", key(SOON), "zusage").status_code == 404
    page = clients("member_a").get(f"/{MEMBERS_PAGE}").get_data(as_text=True)
    assert "/-/calendar/event/ohne/rsvp" not in page
    assert "/-/calendar/event/mv/rsvp" in page


def test_a_full_event_says_so_and_keeps_the_cap(spaces, clients):
    occurrence = key(SOON)
    assert post(clients("member_a"), "klein", occurrence, "zusage").status_code == 302
    full = post(clients("board_a"), "klein", occurrence, "zusage")
    assert full.status_code == 409
    assert "alle Plätze vergeben" in full.get_data(as_text=True)
    assert answers(spaces, "klein") == {"mia": "zusage"}
    page = clients("board_a").get(f"/{MEMBERS_PAGE}").get_data(as_text=True)
    assert "ausgebucht" in page
    # other answers still work; a place given back can be taken
    assert post(clients("board_a"), "klein", occurrence, "vielleicht").status_code == 302
    assert post(clients("member_a"), "klein", occurrence, "absage").status_code == 302
    assert taken(spaces, "klein", occurrence) == 0
    assert post(clients("board_a"), "klein", occurrence, "zusage").status_code == 302
    assert answers(spaces, "klein") == {"mia": "absage", "bea": "zusage"}
    assert taken(spaces, "klein", occurrence) == 1


@pytest.mark.slow
def test_thirty_parallel_signups_for_ten_places(spaces):
    """30 members press "Zusage" at the same moment: exactly 10 get a place."""
    handles = [f"renner{n}" for n in range(30)]
    for handle in handles:
        spaces.create_user(handle, f"Renner {handle}", space="lv/kv-a")
    prepared = []
    for handle in handles:
        client = spaces.login(handle)
        prepared.append((client, client.csrf_token()))
    start = threading.Barrier(len(prepared))
    statuses: list[int] = []
    errors: list[str] = []

    def sign_up(client, token):
        try:
            start.wait(timeout=60)
            response = client.post(
                "/-/calendar/event/rennen/rsvp",
                data={"occurrence": key(SOON), "answer": "zusage", "csrf_token": token},
            )
            statuses.append(response.status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=sign_up, args=pair) for pair in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sorted(statuses) == [302] * 10 + [409] * 20
    assert list(answers(spaces, "rennen").values()).count("zusage") == 10
    assert len(answers(spaces, "rennen")) == 10  # a refused answer leaves no row
    assert taken(spaces, "rennen", key(SOON)) == 10


# -- reminders ----------------------------------------------------------------------------------


def test_reminders_go_once_to_those_who_said_yes(spaces, clients):
    from plugins.calendar.cli import send_reminders
    from wiki.db import User

    occurrence = key(TOMORROW)
    assert post(clients("member_a"), "morgen", occurrence, "zusage").status_code == 302
    assert post(clients("board_a"), "morgen", occurrence, "absage").status_code == 302
    assert post(clients("member_ov"), "morgen", occurrence, "vielleicht").status_code == 302
    # a yes of someone who may no longer read the page (membership ended) gets no mail
    with spaces.state.sessions() as session:
        session.add(
            Rsvp(
                event_id="morgen",
                occurrence=occurrence,
                user_id=spaces.user_id("member_b"),
                answer="zusage",
            )
        )
        session.commit()
        mails_before = session.scalar(select(func.count()).select_from(MailMessage))

    with spaces.app.test_request_context():
        first = send_reminders()
    assert first == [("morgen", occurrence, 1)]
    with spaces.app.test_request_context():
        assert send_reminders() == []

    with spaces.state.sessions() as session:
        mails = session.scalars(
            select(MailMessage).order_by(MailMessage.id).offset(mails_before)
        ).all()
        reminded = session.scalars(select(Reminder.event_id)).all()
        mia = session.scalar(select(User).where(User.handle == "mia"))
    assert [m.recipient for m in mails] == [mia.email]
    assert "Erinnerung: Aktionstag" in mails[0].subject
    assert "Hallo Mia Mitglied A," in mails[0].body
    assert "Wo: Marktplatz" in mails[0].body and "Wann: " in mails[0].body
    assert f"http://wiki.test/{MEMBERS_PAGE}#termin-morgen" in mails[0].body
    assert reminded == ["morgen"]  # the events three weeks ahead are not due yet


def test_the_remind_command(spaces, monkeypatch):
    import click
    from click.testing import CliRunner

    from plugins.calendar import cli as calendar_cli

    group = click.Group("verbandswiki")
    calendar_cli.register(group)
    calendar_cli.register(group)  # twice is harmless
    monkeypatch.setattr(calendar_cli, "synced_app", lambda instance: spaces.app)
    result = CliRunner().invoke(group, ["calendar", "remind", "--instance", "x"])
    assert result.exit_code == 0, result.output
    assert "Termin(e) in die Warteschlange gestellt." in result.output
    bad = CliRunner().invoke(group, ["calendar", "remind", "--hours", "0"])
    assert bad.exit_code == 2

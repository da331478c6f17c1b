"""Printing and organising polls: slips (tokens shown once, only HMACs stored, never cached),
personal codes mailed to the members of a chapter, a date poll's slot as a calendar event, and
the JSON API with the permissions of the pages."""

from __future__ import annotations

import json
import re

import pytest
from conftest import PAGES, Spaces, make_spaces_app, page_text
from sqlalchemy import func, select, update

from plugins.polls import tokens
from plugins.polls.models import PollState, PollToken
from wiki.api import hookimpl
from wiki.db import MailMessage, User, utcnow

BASE = "http://wiki.test"
PUBLIC = "lv/kv-a/oeffentlich"
MEMBERS = "lv/kv-a/protokoll"
BLOCKS = {
    PUBLIC: """
```poll
id: druck
titel: Druckfrage
typ: ja-nein
wer: alle
ergebnis: immer
```

```poll
id: spaeter
titel: Ergebnis erst am Schluss
typ: ja-nein
wer: alle
ergebnis: nach-schluss
```

```poll
id: zu
titel: Schon geschlossen
typ: ja-nein
wer: token
```

```poll
id: treffen
titel: Wann treffen wir uns?
typ: termin
optionen:
  di: 2030-03-05 18:00 - 20:00
  tag: 2030-03-09
wer: angemeldet
ergebnis: immer
```
""",
    MEMBERS: """
```poll
id: brief
titel: Briefwahl im Kreisverband
typ: ja-nein
wer: mitglieder
geheim: ja
ergebnis: nach-schluss
```
""",
}
CODE_RE = re.compile(r"<code>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){4})</code>")


@pytest.fixture(scope="module")
def spaces(tmp_path_factory):
    app = make_spaces_app(
        tmp_path_factory.mktemp("polls-print"),
        WIKI_PLUGINS=["plugins.spaces", "plugins.polls"],
        WIKI_BASE_URL=BASE,
        WIKI_MAIL_WORKER=False,
    )
    helper = Spaces(app)
    files = {}
    for path, blocks in BLOCKS.items():
        visibility, title, body = PAGES[path]
        files[f"{path}.md"] = page_text(title, body + "\n" + blocks, visibility)
    helper.commit(files, "Umfragen")
    yield helper
    helper.state.search.wait_idle()
    helper.state.search.close()
    helper.state.store.close()
    helper.state.engine.dispose()


def token_rows(spaces, poll_id: str) -> list[PollToken]:
    with spaces.state.sessions() as session:
        return session.scalars(select(PollToken).where(PollToken.poll_id == poll_id)).all()


def mail_count(spaces) -> int:
    with spaces.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(MailMessage))


# -- slips ------------------------------------------------------------------------------------


def test_slips_are_shown_once_and_only_their_hmacs_are_stored(spaces):
    client = spaces.login("board_a")
    form = client.get("/-/polls/druck/slips")
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert "Ausgegeben: 0 · davon benutzt: 0" in form.get_data(as_text=True)
    response = client.form("/-/polls/druck/slips", {"anzahl": "9", "je_seite": "8"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    codes = CODE_RE.findall(html)
    assert len(codes) == len(set(codes)) == 9
    # 8 slips a page: two sheets, the second with one slip; each slip has its QR code
    sheets = re.findall(r'<section class="polls-sheet polls-sheet-8"(.*?)</section>', html, re.S)
    assert [sheet.count('class="polls-slip"') for sheet in sheets] == [8, 1]
    assert html.count("<svg") == 9
    assert "nur jetzt angezeigt" in html and "Ausgegeben: 9 · davon benutzt: 0" in html
    rows = token_rows(spaces, "druck")
    assert len(rows) == 9
    stored = {row.hash for row in rows}
    for code in codes:
        assert tokens.normalise(code) not in " ".join(stored)
    with spaces.app.app_context():
        assert {tokens.digest("druck", code) for code in codes} == stored
    # ten a page on request
    ten = client.form("/-/polls/druck/slips", {"anzahl": "10", "je_seite": "10"})
    assert ten.get_data(as_text=True).count('class="polls-slip"') == 10
    assert len(token_rows(spaces, "druck")) == 19


@pytest.mark.parametrize("count", ["0", "501", "-3", "zwei", "", "1e3", "٣"])
def test_bad_slip_counts_are_refused_and_change_nothing(spaces, count):
    client = spaces.login("board_a")
    before, head = len(token_rows(spaces, "druck")), spaces.head()
    response = client.form("/-/polls/druck/slips", {"anzahl": count})
    assert response.status_code == 400
    assert "Bitte eine Anzahl von 1 bis 500 angeben." in response.get_data(as_text=True)
    assert len(token_rows(spaces, "druck")) == before and spaces.head() == head


def test_a_closed_poll_gets_no_new_slips(spaces):
    with spaces.app.app_context(), spaces.state.sessions() as session:
        session.execute(
            update(PollState).where(PollState.poll_id == "zu").values(closed_at=utcnow())
        )
        session.commit()
    response = spaces.login("member_a").form("/-/polls/zu/slips", {"anzahl": "3"})
    assert response.status_code == 400
    assert "geschlossen" in response.get_data(as_text=True)
    assert token_rows(spaces, "zu") == []


def test_only_organisers_print_slips(spaces):
    assert spaces.login("user").get("/-/polls/druck/slips").status_code == 403
    assert spaces.login("member_b").form("/-/polls/druck/slips", {"anzahl": "1"}).status_code == (
        403
    )
    assert spaces.login("member_b").get("/-/polls/brief/slips").status_code == 404
    assert spaces.login("anon").get("/-/polls/druck/slips").status_code == 302


# -- personal codes ---------------------------------------------------------------------------


def test_members_get_personal_codes_by_mail_once(spaces):
    client = spaces.login("board_a")
    mails = mail_count(spaces)
    page = client.get("/-/polls/brief/slips").get_data(as_text=True)
    assert "Codes an die Mitglieder schicken" in page
    response = client.form("/-/polls/brief/member-tokens", {})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "3 Mitglieder haben jetzt einen persönlichen Code bekommen." in html
    # the organiser never sees the members' codes
    assert not CODE_RE.search(html)
    members = {spaces.user_id(role) for role in ("member_a", "board_a", "member_ov")}
    rows = token_rows(spaces, "brief")
    assert {row.user_id for row in rows} == members and len(rows) == 3
    with spaces.state.sessions() as session:
        sent = session.scalars(select(MailMessage).order_by(MailMessage.id)).all()[mails:]
        addresses = {m.recipient for m in sent}
        users = session.scalars(select(User).where(User.id.in_(members))).all()
        assert addresses == {u.email for u in users}
    with spaces.app.app_context():
        code = tokens.member_token("brief", spaces.user_id("member_ov"))
    mail = next(m for m in sent if m.recipient == "otto@example.org")
    assert f"{BASE}/-/polls/brief/token#t={code}" in mail.body and "Briefwahl" in mail.subject
    # a second round issues and mails nothing new
    again = client.form("/-/polls/brief/member-tokens", {})
    assert "3 Mitglieder hatten schon einen." in again.get_data(as_text=True)
    assert len(token_rows(spaces, "brief")) == 3
    assert mail_count(spaces) == mails + 3
    # the member votes with the mailed code, once
    voter = spaces.login("anon")
    first = voter.form("/-/polls/brief/vote", {"token": code, "choice": "ja"})
    # the page is members-only: a visitor without account cannot even see the poll
    assert first.status_code == 404
    otto = spaces.login("member_ov")
    assert code in otto.get("/-/me").get_data(as_text=True)  # shown again on the dashboard
    assert otto.form("/-/polls/brief/vote", {"token": code, "choice": "ja"}).status_code == 302
    assert otto.form("/-/polls/brief/vote", {"token": code, "choice": "ja"}).status_code == 409


def test_personal_codes_only_for_member_or_token_polls(spaces):
    mails, head, issued = mail_count(spaces), spaces.head(), len(token_rows(spaces, "druck"))
    response = spaces.login("board_a").form("/-/polls/druck/member-tokens", {})
    assert response.status_code == 400
    assert "„wer: token“" in response.get_data(as_text=True)
    assert len(token_rows(spaces, "druck")) == issued and mail_count(spaces) == mails
    assert spaces.head() == head
    assert spaces.login("member_a").form("/-/polls/brief/member-tokens", {}).status_code == 200
    assert spaces.login("member_b").form("/-/polls/brief/member-tokens", {}).status_code == 404


# -- a date poll's slot as a calendar event -----------------------------------------------------


class Calendar:
    """Stands in for a calendar plugin: records the calls of ``wiki_event_block``."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def wiki_event_block(self, title, start, end, all_day, ident):
        self.calls.append((title, start, end, all_day, ident))
        return f"```termin\nid: {ident}\ntitel: {title}\n```"


def test_without_a_calendar_the_event_route_is_missing(spaces):
    client = spaces.login("board_a")
    assert "Als Termin eintragen" not in client.get("/-/polls/treffen/slips").get_data(as_text=True)
    assert client.form("/-/polls/treffen/event", {"termin": "di"}).status_code == 404


def test_a_slot_becomes_an_event_on_the_page(spaces):
    calendar = Calendar()
    spaces.state.pm.register(calendar, name="test-calendar")
    try:
        client = spaces.login("board_a")
        vote = {"slot-di": "nein", "slot-tag": "ja"}
        assert client.form("/-/polls/treffen/vote", vote).status_code == 302
        tools = client.get("/-/polls/treffen/slips").get_data(as_text=True)
        assert "Als Termin eintragen" in tools
        # the slot with the most yes is marked and chosen in advance
        assert re.search(r'value="tag" required checked> [^<]*<span class="badge">', tools)
        assert not re.search(r'value="di" required checked', tools)
        head = spaces.head()
        bad = client.form("/-/polls/treffen/event", {"termin": "fr"})
        assert bad.status_code == 400 and spaces.head() == head
        assert "einen der Termine" in bad.get_data(as_text=True)
        assert spaces.login("user").form("/-/polls/treffen/event", {"termin": "di"}).status_code
        assert spaces.head() == head and calendar.calls == []
        assert client.form("/-/polls/druck/event", {"termin": "di"}).status_code == 404
        response = client.form("/-/polls/treffen/event", {"termin": "di"})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/{PUBLIC}")
        (title, start, end, all_day, ident) = calendar.calls[0]
        assert title == "Wann treffen wir uns?" and ident == "treffen-di" and not all_day
        assert start.isoformat() == "2030-03-05T17:00:00+00:00"
        assert end.isoformat() == "2030-03-05T19:00:00+00:00"
        assert spaces.head() != head
        with spaces.app.app_context():
            text = spaces.state.store.read(f"{PUBLIC}.md").decode()
            message = spaces.state.store.history(f"{PUBLIC}.md")[0].message
        assert text.rstrip().endswith(
            "```termin\nid: treffen-di\ntitel: Wann treffen wir uns?\n```"
        )
        assert "id: treffen\n" in text  # the poll stays
        assert message.startswith("Termin aus Umfrage „Wann treffen wir uns?“")
        # a whole day goes as a date
        client.form("/-/polls/treffen/event", {"termin": "tag"})
        assert calendar.calls[1][1].isoformat() == "2030-03-09" and calendar.calls[1][3]
    finally:
        spaces.state.pm.unregister(calendar)


# -- JSON API -----------------------------------------------------------------------------------


def ids(response) -> set[str]:
    return {item["id"] for item in response.get_json()["polls"]}


def test_the_api_lists_what_the_reader_may_read(spaces):
    anon = spaces.login("anon").get("/-/api/v1/polls")
    assert anon.status_code == 200 and anon.mimetype == "application/json"
    assert ids(anon) == {"druck", "spaeter", "zu", "treffen"}
    assert ids(spaces.login("member_a").get("/-/api/v1/polls")) == {
        "druck", "spaeter", "zu", "treffen", "brief",
    }  # fmt: skip
    paged = spaces.login("member_a").get("/-/api/v1/polls?per_page=2&page=3").get_json()
    assert paged["total"] == 5 and len(paged["polls"]) == 1 and not paged["has_next"]
    bad = spaces.login("anon").get("/-/api/v1/polls?per_page=1000")
    assert bad.status_code == 400 and "per_page" in bad.get_json()["error"]


def test_the_api_answers_one_poll_with_results_when_visible(spaces):
    data = spaces.login("anon").get("/-/api/v1/polls/druck").get_json()
    assert data["title"] == "Druckfrage" and data["type"] == "ja-nein"
    assert [o["key"] for o in data["options"]] == ["ja", "nein", "enthaltung"]
    assert data["url"] == f"{BASE}/-/polls/druck" and data["results_visible"] is True
    assert data["result"]["ballots"] == 0 and data["result"]["withheld"] is False
    assert {c["key"] for c in data["result"]["counts"]} == {"ja", "nein", "enthaltung"}
    assert "tokens" not in data
    organiser = spaces.login("board_a").get("/-/api/v1/polls/druck").get_json()
    assert organiser["organiser"] is True
    assert organiser["tokens"]["issued"] == len(token_rows(spaces, "druck"))
    later = spaces.login("anon").get("/-/api/v1/polls/spaeter").get_json()
    assert later["results_visible"] is False and "result" not in later
    slots = spaces.login("anon").get("/-/api/v1/polls/treffen").get_json()["slots"]
    assert slots["di"] == {"start": "2030-03-05T17:00:00+00:00", "end": "2030-03-05T19:00:00+00:00"}
    hidden = spaces.login("member_b").get("/-/api/v1/polls/brief")
    missing = spaces.login("member_b").get("/-/api/v1/polls/gibt-es-nicht")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert hidden.mimetype == "application/json"


def test_the_api_takes_a_bearer_token(spaces):
    from wiki.auth import issue_token

    with spaces.app.app_context(), spaces.state.sessions() as session:
        user = session.get(User, spaces.user_id("member_a"))
        raw = issue_token(session, user, "api", "Test")
        session.commit()
    client = spaces.app.test_client()
    response = client.get("/-/api/v1/polls/brief", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert json.loads(response.data)["id"] == "brief"
    assert client.get("/-/api/v1/polls/brief").status_code == 404

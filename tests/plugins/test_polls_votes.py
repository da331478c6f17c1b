"""Polls: voting on every path (account, slip token, member token), answers per type,
eligibility, result visibility, closing and reopening, the dashboard and personal data."""

from __future__ import annotations

import json

import pytest
from conftest import Spaces, make_polls_app, page_text, poll_block, save, space_text
from sqlalchemy import select

from plugins.polls import tokens
from plugins.polls.models import PollState, PollToken, Vote

PAGE = "lv/kv-a/fest"


@pytest.fixture
def app(tmp_path):
    app = make_polls_app(tmp_path, calendar=False)
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture
def spaces(app):
    return Spaces(app)


def add_poll(spaces, poll_id="fest", path=PAGE, visibility=None, **fields) -> None:
    client = spaces.login("board_a")
    body = "Bitte abstimmen.\n\n" + poll_block(poll_id, **fields)
    response = save(client, path, page_text("Sommerfest", body, visibility))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]


def vote(client, poll_id="fest", **data):
    return client.form(f"/-/polls/{poll_id}/vote", data)


def answers(spaces, poll_id="fest") -> list[dict]:
    with spaces.state.sessions() as session:
        rows = session.scalars(select(Vote.answer).where(Vote.poll_id == poll_id))
        return [json.loads(text) for text in rows]


def version(spaces, poll_id="fest") -> int:
    with spaces.state.sessions() as session:
        return session.get(PollState, poll_id).version


def state_of(spaces, poll_id="fest") -> PollState:
    with spaces.state.sessions() as session:
        return session.get(PollState, poll_id)


def issue(spaces, n=1, poll_id="fest", user_id=None) -> list[str]:
    with spaces.app.app_context(), spaces.state.sessions() as session:
        raw = tokens.issue(session, poll_id, n, user_id)
        session.commit()
        return raw


# -- answers per type -----------------------------------------------------------------------------


def test_single_choice_vote_can_be_changed_until_close(spaces):
    add_poll(spaces)
    client = spaces.login("member_a")
    response = vote(client, choice="fr")
    assert response.status_code == 302
    assert answers(spaces) == [{"choice": "fr"}]
    assert version(spaces) == 1
    page = client.get("/-/polls/fest").get_data(as_text=True)
    assert "Stimme ändern" in page and 'value="fr" required checked' in page
    assert vote(client, choice="sa").status_code == 302
    assert answers(spaces) == [{"choice": "sa"}]
    assert version(spaces) == 2
    spaces.login("board_a").form("/-/polls/fest/close", {})
    response = vote(client, choice="fr")
    assert response.status_code == 403
    assert "Die Abstimmung ist beendet." in response.get_data(as_text=True)
    assert answers(spaces) == [{"choice": "sa"}]


def test_vote_from_the_widget_returns_to_the_page(spaces):
    add_poll(spaces)
    response = vote(spaces.login("member_a"), choice="fr", zurueck="seite")
    assert response.headers["Location"].endswith(f"/{PAGE}#abstimmung-fest")


@pytest.mark.parametrize(
    ("fields", "data", "expected", "message"),
    [
        ({}, {"choice": "so"}, None, "genau eine der Optionen"),
        ({}, {}, None, "genau eine der Optionen"),
        (
            {"typ": "ja-nein", "optionen": None},
            {"choice": "enthaltung"},
            {"choice": "enthaltung"},
            "",
        ),
        (
            {"typ": "mehrfach", "optionen": "{a: A, b: B, c: C}", "min": 2, "max": 2},
            {"choices": ["c", "a"]},
            {"choices": ["a", "c"]},
            "",
        ),
        (
            {"typ": "mehrfach", "optionen": "{a: A, b: B, c: C}", "min": 2, "max": 2},
            {"choices": ["a"]},
            None,
            "mindestens 2 und höchstens 2",
        ),
        (
            {"typ": "mehrfach", "optionen": "{a: A, b: B, c: C}"},
            {"choices": ["a", "a"]},
            None,
            "jede höchstens einmal",
        ),
        (
            {"typ": "rangfolge", "optionen": "{a: A, b: B, c: C}"},
            {"rank-a": "2", "rank-c": "1"},
            {"ranking": ["c", "a"]},
            "",
        ),
        (
            {"typ": "rangfolge", "optionen": "{a: A, b: B, c: C}"},
            {"rank-a": "1", "rank-b": "1"},
            None,
            "Jeder Rang darf nur einmal",
        ),
        (
            {"typ": "rangfolge", "optionen": "{a: A, b: B, c: C}"},
            {"rank-a": "7"},
            None,
            "Rang aus der Liste",
        ),
        (
            {"typ": "punkte", "optionen": "{a: A, b: B}"},
            {"score-a": "5", "score-b": "0"},
            {"scores": {"a": 5, "b": 0}},
            "",
        ),
        (
            {"typ": "punkte", "optionen": "{a: A, b: B}"},
            {"score-a": "6"},
            None,
            "0 bis 5",
        ),
        (
            {"typ": "termin", "optionen": "{a: '2026-07-01 18:00', b: '2026-07-02'}"},
            {"slot-a": "vielleicht"},
            {"slots": {"a": "vielleicht", "b": "nein"}},
            "",
        ),
        (
            {"typ": "termin", "optionen": "{a: '2026-07-01 18:00', b: '2026-07-02'}"},
            {"slot-a": "gern"},
            None,
            "„ja“, „vielleicht“ oder „nein“",
        ),
    ],
)
def test_answers_are_checked_per_type(spaces, fields, data, expected, message):
    add_poll(spaces, **fields)
    client = spaces.login("member_a")
    response = vote(client, **data)
    if expected is None:
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
        assert answers(spaces) == []
        assert version(spaces) == 0
    else:
        assert response.status_code == 302, response.get_data(as_text=True)[:1000]
        assert answers(spaces) == [expected]


def test_vote_form_renders_every_type(spaces):
    kinds = {
        "ja-nein": ({"optionen": None}, 'name="choice" value="enthaltung"'),
        "mehrfach": ({}, 'name="choices"'),
        "rangfolge": ({}, 'name="rank-fr"'),
        "punkte": ({}, 'name="score-sa"'),
        "termin": (
            {"optionen": "{fr: '2026-07-01 18:00 - 20:00', sa: '2026-07-02'}"},
            'name="slot-fr"',
        ),
    }
    for n, (kind, (extra, marker)) in enumerate(kinds.items()):
        add_poll(spaces, f"p{n}", path=f"lv/kv-a/p{n}", typ=kind, **extra)
        html = spaces.login("member_a").get(f"/-/polls/p{n}").get_data(as_text=True)
        assert marker in html, kind


# -- eligibility ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("angemeldet", ["user", "member_a"], {"anon": "Bitte melde dich zum Abstimmen an."}),
        ("mitglieder", ["member_a", "board_a", "member_ov"],
         {"user": "nur Mitglieder dieser Gliederung", "board_lv": "nur Mitglieder"}),
        ("vorstand", ["board_a"], {"member_a": "nur der Vorstand", "board_lv": "nur der Vorstand"}),
        ("token", [], {"member_a": "Code vom Stimmzettel", "board_a": "Code vom Stimmzettel"}),
        ("alle", ["user"], {"anon": "Stimmzettel-Code"}),
    ],
)  # fmt: skip
def test_who_may_vote(spaces, who, allowed, refused):
    add_poll(spaces, path="lv/kv-a/oeffentlich", visibility="public", wer=who)
    for role in allowed:
        assert vote(spaces.login(role), choice="fr").status_code == 302, role
    for role, message in refused.items():
        response = vote(spaces.login(role), choice="fr")
        assert response.status_code in (400, 403), role
        assert message in response.get_data(as_text=True), role
    assert len(answers(spaces)) == len(allowed)


def test_csrf_is_required(spaces):
    add_poll(spaces)
    client = spaces.login("member_a")
    assert client.post("/-/polls/fest/vote", data={"choice": "fr"}).status_code == 400
    assert answers(spaces) == []


# -- tokens ---------------------------------------------------------------------------------------


def test_token_format():
    raw = tokens.new_token()
    assert len(raw) == 24 and raw.count("-") == 4
    assert tokens.normalise(raw.lower().replace("-", " ")) == raw.replace("-", "")
    assert not set(raw) & set("ILOU")
    assert tokens.normalise("zu kurz") is None


def test_slip_token_votes_once_without_an_account(spaces):
    add_poll(spaces, path="lv/kv-a/oeffentlich", visibility="public", wer="token")
    raw, other = issue(spaces, 2)
    anon = spaces.login("anon")
    landing = anon.get("/-/polls/fest/token")
    html = landing.get_data(as_text=True)
    assert landing.status_code == 200 and 'name="token"' in html and "token.js" in html
    assert anon.get("/-/polls/static/token.js").status_code == 200
    response = vote(anon, choice="fr", token=raw.lower())
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert answers(spaces) == [{"choice": "fr"}]
    replay = vote(spaces.login("anon"), choice="sa", token=raw)
    assert replay.status_code == 409
    assert "schon benutzt" in replay.get_data(as_text=True)
    unknown = vote(anon, choice="sa", token="ABCD-EFGH-JKMN-PQRS-TVWX")
    assert unknown.status_code == 403
    assert answers(spaces) == [{"choice": "fr"}]
    with spaces.app.app_context(), spaces.state.sessions() as session:
        assert tokens.counts(session, "fest") == (2, 1)
        stored = session.scalars(select(PollToken.hash)).all()
    assert raw not in "".join(stored) and raw.replace("-", "") not in "".join(stored)
    organiser = spaces.login("board_a").get("/-/polls/fest").get_data(as_text=True)
    assert "Codes: 2 ausgegeben, 1 benutzt." in organiser
    # A token of one poll is worthless for another.
    add_poll(spaces, "zwei", path="lv/kv-a/zwei", wer="token")
    assert vote(spaces.login("member_a"), "zwei", choice="fr", token=other).status_code == 403


def test_bad_answer_with_a_token_leaves_it_unused(spaces):
    add_poll(spaces, wer="token")
    (raw,) = issue(spaces)
    client = spaces.login("member_a")
    response = vote(client, choice="nichts", token=raw)
    assert response.status_code == 400
    assert f'value="{raw}"' in response.get_data(as_text=True)  # typed code kept in the form
    assert vote(client, choice="sa", token=raw).status_code == 302
    assert answers(spaces) == [{"choice": "sa"}]


def test_member_token_counts_as_the_member(spaces):
    add_poll(spaces, wer="mitglieder")
    member = spaces.user_id("member_a")
    (raw,) = issue(spaces, user_id=member)
    assert issue(spaces, user_id=member) == [raw]  # derived again, not a second token
    with spaces.app.app_context():
        assert tokens.member_token("fest", member) == raw
    client = spaces.login("member_a")
    me = client.get("/-/me").get_data(as_text=True)
    assert raw in me and "/-/polls/fest/token#t=" in me
    # Slips need a readable page like every other path: the members page is 404 to others.
    assert vote(spaces.login("anon"), choice="fr", token=raw).status_code == 404
    assert vote(client, choice="fr", token=raw).status_code == 302
    assert vote(client, choice="fr", token=raw).status_code == 409
    # The token's vote is the member's: the account changes it instead of voting again.
    response = vote(client, choice="sa")
    assert response.status_code == 302
    assert answers(spaces) == [{"choice": "sa"}]
    with spaces.state.sessions() as session:
        assert session.scalar(select(Vote.user_id)) == member


def test_dashboard_lists_open_polls_i_may_vote_in(spaces):
    add_poll(spaces, wer="mitglieder")
    add_poll(spaces, "vorstand", path="lv/kv-a/vorstand-umfrage", wer="vorstand")
    me = spaces.login("member_a").get("/-/me").get_data(as_text=True)
    assert "/-/polls/fest" in me and "/-/polls/vorstand" not in me
    vote(spaces.login("member_a"), choice="fr")
    assert "/-/polls/fest" not in spaces.login("member_a").get("/-/me").get_data(as_text=True)


# -- results, closing, reopening ------------------------------------------------------------------


def test_results_after_own_vote_or_after_close(spaces):
    # A working group whose pages only its board edits: members read, vote, organise nothing.
    spaces.commit(
        {
            "lv/kv-a/ak.md": space_text(
                "lv/kv-a/ak", name="AK", code="AK", kind="arbeitskreis",
                default_visibility="internal", edit="board",
            ),
            "lv/kv-a/ak/umfrage.md": page_text("Umfrage", poll_block("fest", wer="angemeldet")),
        }
    )  # fmt: skip
    marker = "Das Ergebnis siehst du, sobald du abgestimmt hast."
    client = spaces.login("member_a")
    assert marker in client.get("/-/polls/fest").get_data(as_text=True)
    assert vote(client, choice="fr").status_code == 302
    assert marker not in client.get("/-/polls/fest").get_data(as_text=True)
    assert marker in spaces.login("user").get("/-/polls/fest").get_data(as_text=True)
    spaces.login("board_a").form("/-/polls/fest/close", {})
    assert marker not in spaces.login("user").get("/-/polls/fest").get_data(as_text=True)


def test_token_voter_sees_results_after_voting(spaces):
    add_poll(spaces, path="lv/kv-a/oeffentlich", visibility="public", wer="alle")
    (raw,) = issue(spaces)
    anon = spaces.login("anon")
    marker = "Das Ergebnis siehst du, sobald du abgestimmt hast."
    assert marker in anon.get("/-/polls/fest").get_data(as_text=True)
    assert vote(anon, choice="fr", token=raw).status_code == 302
    assert marker not in anon.get("/-/polls/fest").get_data(as_text=True)
    assert marker in spaces.login("anon").get("/-/polls/fest").get_data(as_text=True)


def test_results_after_close_only_and_no_reopen_once_shown(spaces):
    add_poll(spaces, ergebnis="nach-schluss")
    board = spaces.login("board_a")
    vote(spaces.login("member_a"), choice="fr")
    marker = "Das Ergebnis wird nach dem Schluss gezeigt."
    assert marker in board.get("/-/polls/fest").get_data(as_text=True)  # organisers too
    assert spaces.login("member_a").form("/-/polls/fest/close", {}).status_code == 302  # editor
    assert board.form("/-/polls/fest/reopen", {}).status_code == 302  # nobody saw results yet
    assert vote(spaces.login("member_ov"), choice="sa").status_code == 302
    assert board.form("/-/polls/fest/close", {}).status_code == 302
    assert marker not in board.get("/-/polls/fest").get_data(as_text=True)
    with spaces.state.sessions() as session:
        assert session.get(PollState, "fest").results_shown
    response = board.form("/-/polls/fest/reopen", {})
    assert response.status_code == 409
    assert "Die Ergebnisse wurden schon gezeigt" in response.get_data(as_text=True)


def test_only_organisers_close(spaces):
    add_poll(spaces, path="lv/kv-a/oeffentlich", visibility="public", wer="angemeldet")
    assert spaces.login("user").form("/-/polls/fest/close", {}).status_code == 403
    assert spaces.login("anon").form("/-/polls/fest/close", {}).status_code == 403
    with spaces.state.sessions() as session:
        assert session.get(PollState, "fest").closed_at is None


def test_closing_time_from_the_block(spaces):
    add_poll(spaces, schluss="2020-01-01 12:00")
    response = vote(spaces.login("member_a"), choice="fr")
    assert response.status_code == 403
    assert answers(spaces) == []


# -- personal data --------------------------------------------------------------------------------


def test_user_data_and_deletion_keep_the_count(spaces):
    add_poll(spaces)
    vote(spaces.login("member_a"), choice="fr")
    user_id = spaces.user_id("member_a")
    state = spaces.state
    with state.sessions() as session:
        (data,) = [
            d
            for d in state.pm.hook.wiki_user_data(user_id=user_id, session=session)
            if d and "polls" in d
        ]
        assert [v["poll"] for v in data["polls"]["votes"]] == ["fest"]
        state.pm.hook.wiki_user_deleted(user_id=user_id, session=session)
        session.commit()
    with state.sessions() as session:
        assert session.scalars(select(Vote.user_id)).all() == [None]
    assert answers(spaces) == [{"choice": "fr"}]


def test_ended_poll_with_shown_results_cannot_be_extended(spaces):
    add_poll(spaces, ergebnis="nach-schluss")
    assert vote(spaces.login("member_a"), choice="fr").status_code == 302
    add_poll(spaces, ergebnis="nach-schluss", schluss="2020-01-01 12:00")  # ended
    assert not state_of(spaces).results_shown
    spaces.login("member_a").get("/-/polls/fest")  # the ended poll shows its results
    assert state_of(spaces).results_shown
    board = spaces.login("board_a")
    before = spaces.head()
    body = "Bitte abstimmen.\n\n" + poll_block(
        "fest", ergebnis="nach-schluss", schluss="2099-01-01"
    )
    response = save(board, PAGE, page_text("Sommerfest", body))
    assert response.status_code == 400
    assert "„schluss“ kann nicht mehr verlängert werden" in response.get_data(as_text=True)
    assert spaces.head() == before

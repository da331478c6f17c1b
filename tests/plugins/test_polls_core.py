"""Polls: block definitions, validation inside the commit, projection, frozen fields, 404s."""

from __future__ import annotations

import pytest
import yaml
from conftest import Spaces, make_polls_app, page_text, poll_block, save
from sqlalchemy import func, select

from plugins.polls.definitions import Definition, parse
from plugins.polls.models import PollDef, PollState, Vote

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


def text(*blocks: str, title: str = "Sommerfest", visibility=None) -> str:
    return page_text(title, "Wir planen.\n\n" + "\n".join(blocks), visibility)


def rows(spaces, model=PollDef) -> list:
    with spaces.state.sessions() as session:
        return session.scalars(select(model)).all()


def db_state(spaces) -> tuple:
    """Everything the polls tables hold, to show a refused save changed nothing."""
    with spaces.state.sessions() as session:
        return tuple(
            sorted(
                tuple(str(getattr(row, c.key)) for c in model.__table__.columns)
                for row in session.scalars(select(model))
            )
            for model in (PollDef, PollState, Vote)
        )


def vote(client, poll_id, **data):
    return client.form(f"/-/polls/{poll_id}/vote", data)


# -- definitions (pure) ---------------------------------------------------------------------------


def test_every_field_is_parsed_and_survives_json():
    data = yaml.safe_load(
        """
id: wahl-2026
titel: Vorstandswahl
frage: Wen wählst du?
typ: rangfolge
methode: stv
sitze: 2
optionen: {anna: Anna, ben: Ben, cem: Cem}
wer: mitglieder
geheim: ja
ergebnis: nach-schluss
schluss: 2026-06-01 18:30
"""
    )
    definition, problems = parse("poll", data)
    assert problems == []
    assert (definition.title, definition.question, definition.type) == (
        "Vorstandswahl", "Wen wählst du?", "rangfolge",
    )  # fmt: skip
    assert list(definition.options) == ["anna", "ben", "cem"]
    assert (definition.method, definition.seats, definition.who) == ("stv", 2, "mitglieder")
    assert (definition.secret, definition.results) == ("ja", "nach-schluss")
    # 18:30 summer time in Berlin is 16:30 UTC.
    assert definition.closes_at.isoformat() == "2026-06-01T16:30:00+00:00"
    assert Definition.from_json(definition.to_json()) == definition


def test_date_poll_slots_are_berlin_time():
    data = yaml.safe_load(
        "id: treffen\nfrage: Wann?\ntyp: termin\noptionen:\n"
        "  a: 2026-01-15 19:00 - 21:00\n  b: 2026-01-16\n"
    )
    definition, problems = parse("poll", data)
    assert problems == []
    start, end = definition.slots["a"]
    assert (start.hour, end.hour) == (18, 20)  # winter time: UTC+1
    assert definition.slots["b"][1] is None
    assert Definition.from_json(definition.to_json()) == definition


def test_yes_no_has_fixed_options_and_points_have_defaults():
    definition, problems = parse("poll", {"id": "jn", "frage": "Ja?", "typ": "ja-nein"})
    assert problems == []
    assert list(definition.options) == ["ja", "nein", "enthaltung"]
    _, problems = parse("poll", {"id": "jn", "frage": "Ja?", "typ": "ja-nein", "optionen": ["x"]})
    assert any("feste Optionen" in p for p in problems)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("frage: x\noptionen: {a: A, b: B}", "„id“ fehlt"),
        ("id: Gross\nfrage: x\noptionen: {a: A, b: B}", "Kleinbuchstaben"),
        ("id: x\noptionen: {a: A, b: B}", "Frage"),
        ("id: x\nfrage: x\ntyp: wahl\noptionen: {a: A, b: B}", "„typ“ muss eines von"),
        ("id: x\nfrage: x\noptionen: {a: A}", "mindestens zwei Optionen"),
        ("id: x\nfrage: x\noptionen: {A B: A, b: B}", "Schlüssel „A B“"),
        ("id: x\nfrage: x\noptionen: {a: A, b: B}\nfarbe: rot", "Unbekanntes Feld „farbe“"),
        ("id: x\nfrage: x\noptionen: {a: A, b: B}\nschluss: morgen", "„schluss“"),
        ("id: x\nfrage: x\noptionen: {a: A, b: B}\nwer: jeder", "„wer“"),
        ("id: x\nfrage: x\noptionen: {a: A, b: B}\ngeheim: halb", "„geheim“"),
        ("id: x\nfrage: x\noptionen: {a: A, b: B}\nergebnis: nie", "„ergebnis“"),
        ("id: x\nfrage: x\ntyp: mehrfach\noptionen: {a: A, b: B}\nmin: 2\nmax: 1", "„min“"),
        ("id: x\nfrage: x\ntyp: mehrfach\noptionen: {a: A, b: B}\nmax: 3", "„max“"),
        ("id: x\nfrage: x\noptionen: {a: A, b: B}\nmin: 1", "nur bei „typ: mehrfach“"),
        (
            "id: x\nfrage: x\ntyp: rangfolge\nmethode: stv\nsitze: 5\noptionen: {a: A, b: B}",
            "„sitze“",
        ),
        ("id: x\nfrage: x\ntyp: rangfolge\nmethode: los\noptionen: {a: A, b: B}", "„methode“"),
        ("id: x\nfrage: x\ntyp: termin\noptionen: {a: bald, b: 2026-01-01}", "Termin „a“"),
        (
            "id: x\nfrage: x\ntyp: termin\noptionen: {a: 2026-01-01 10:00 - 09:00, b: 2026-01-02}",
            "Termin „a“",
        ),
        ("- eine Liste", "name: wert"),
    ],
)
def test_bad_definitions_name_the_problem(yaml_text, expected):
    definition, problems = parse("poll", yaml.safe_load(yaml_text))
    assert definition is None
    assert any(expected in p for p in problems), problems


# -- validation inside the commit -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (poll_block("fest", typ="wahl"), "„typ“ muss eines von"),
        (poll_block("Fest"), "Kleinbuchstaben"),
        ("```poll\nid: fest\nfrage: [unclosed\n```\n", ""),
        (
            poll_block("fest", wer="mitglieder").replace("fest", "fest", 1) + poll_block("fest"),
            "doppelt",
        ),
    ],
)
def test_bad_blocks_are_refused_and_change_nothing(spaces, block, expected):
    client = spaces.login("member_a")
    before, tables = spaces.head(), db_state(spaces)
    response = save(client, PAGE, text(block))
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert spaces.head() == before
    assert db_state(spaces) == tables


def test_members_poll_needs_a_space(spaces):
    client = spaces.login("user")
    before = spaces.head()
    response = save(client, "ohne-gliederung", text(poll_block("frei", wer="mitglieder")))
    assert response.status_code == 400
    assert "braucht eine Seite in einer Gliederung" in response.get_data(as_text=True)
    assert spaces.head() == before


def test_ids_are_unique_across_the_wiki(spaces):
    client = spaces.login("member_a")
    assert save(client, PAGE, text(poll_block("fest"))).status_code == 302
    before, tables = spaces.head(), db_state(spaces)
    response = save(client, "lv/kv-a/anderes", text(poll_block("fest")))
    assert response.status_code == 400
    assert "Die Kennung „fest“ ist nicht verfügbar." in response.get_data(as_text=True)
    assert spaces.head() == before
    assert db_state(spaces) == tables
    # Saving the same page again keeps its own id.
    assert save(client, PAGE, text(poll_block("fest", titel="Neu"))).status_code == 302


def test_projection_follows_save_rename_delete_and_reindex(spaces):
    client = spaces.login("member_a")
    save(client, PAGE, text(poll_block("fest"), poll_block("essen", frage="Was essen wir?")))
    assert {(r.id, r.path, r.space, r.visibility) for r in rows(spaces)} == {
        ("fest", PAGE, "lv/kv-a", "members"),
        ("essen", PAGE, "lv/kv-a", "members"),
    }
    assert vote(client, "fest", choice="fr").status_code == 302
    response = client.form(f"/-/rename/{PAGE}", {"new_path": "lv/kv-a/sommerfest"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert {r.path for r in rows(spaces)} == {"lv/kv-a/sommerfest"}
    assert len(rows(spaces, Vote)) == 1  # votes are keyed by id: a move keeps them
    page = client.get("/-/polls/fest").get_data(as_text=True)
    assert "lv/kv-a/sommerfest" in page
    with spaces.app.app_context():
        spaces.state.syncer.reindex()
    assert {r.id for r in rows(spaces)} == {"fest", "essen"}
    assert len(rows(spaces, Vote)) == 1
    with spaces.app.app_context(), spaces.state.sessions() as session:
        problems = spaces.state.pm.hook.wiki_check(head=spaces.head(), session=session)
    assert [p for group in problems for p in group or () if "poll" in p] == []
    assert client.form("/-/delete/lv/kv-a/sommerfest", {}).status_code == 302
    assert rows(spaces) == []
    assert len(rows(spaces, Vote)) == 1  # member data outlives the definition
    assert client.get("/-/polls/fest").status_code == 404


def test_check_reports_a_stale_projection(spaces):
    client = spaces.login("member_a")
    save(client, PAGE, text(poll_block("fest")))
    with spaces.state.sessions() as session:
        session.get(PollDef, "fest").title = "falsch"
        session.commit()
    with spaces.app.app_context(), spaces.state.sessions() as session:
        problems = spaces.state.pm.hook.wiki_check(head=spaces.head(), session=session)
    assert "poll fest: title differs from git" in [p for g in problems for p in g or ()]


def test_pushed_invalid_block_shows_an_error_box_and_sync_goes_on(spaces):
    spaces.commit({f"{PAGE}.md": text(poll_block("fest", typ="wahl"), poll_block("gut"))})
    assert {r.id for r in rows(spaces)} == {"gut"}
    html = spaces.login("member_a").get(f"/{PAGE}").get_data(as_text=True)
    assert "widget-error" in html and "„typ“ muss eines von" in html
    assert 'id="abstimmung-gut"' in html


def test_pushed_duplicate_id_keeps_the_first_page(spaces):
    spaces.commit({f"{PAGE}.md": text(poll_block("fest"))})
    spaces.commit({"lv/kv-a/kopie.md": text(poll_block("fest"))})
    assert [(r.id, r.path) for r in rows(spaces)] == [("fest", PAGE)]
    html = spaces.login("member_a").get("/lv/kv-a/kopie").get_data(as_text=True)
    assert "Die Kennung „fest“ ist nicht verfügbar." in html


# -- frozen fields --------------------------------------------------------------------------------


FROZEN_CHANGES = [
    ({"typ": "mehrfach"}, "„typ“ kann nach der ersten Stimmabgabe"),
    ({"optionen": "{fr: Freitag, so: Sonntag}"}, "Schlüssel der Optionen"),
    ({"wer": "angemeldet"}, "„wer“ kann nach der ersten Stimmabgabe"),
    ({"geheim": "verborgen"}, "„geheim“ kann nach der ersten Stimmabgabe"),
    ({"ergebnis": "immer"}, "„ergebnis: nach-schluss“ kann nach der ersten Stimmabgabe"),
]


@pytest.mark.parametrize(("change", "expected"), FROZEN_CHANGES)
def test_first_vote_freezes_fields(spaces, change, expected):
    client = spaces.login("member_a")
    fields = {"wer": "mitglieder", "ergebnis": "nach-schluss"}
    save(client, PAGE, text(poll_block("fest", **fields)))
    # Before any vote everything may change.
    assert save(client, PAGE, text(poll_block("fest", **fields | change))).status_code == 302
    save(client, PAGE, text(poll_block("fest", **fields)))
    assert vote(client, "fest", choice="fr").status_code == 302
    before, tables = spaces.head(), db_state(spaces)
    response = save(client, PAGE, text(poll_block("fest", **fields | change)))
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert spaces.head() == before
    assert db_state(spaces) == tables


def test_labels_may_change_and_results_may_tighten_after_votes(spaces):
    client = spaces.login("member_a")
    save(client, PAGE, text(poll_block("fest", wer="mitglieder")))
    assert vote(client, "fest", choice="fr").status_code == 302
    changed = poll_block(
        "fest", wer="mitglieder", optionen="{sa: Samstagabend, fr: Freitagabend}",
        ergebnis="nach-schluss", titel="Neuer Titel",
    )  # fmt: skip
    assert save(client, PAGE, text(changed)).status_code == 302
    assert rows(spaces)[0].title == "Neuer Titel"


def test_frozen_fields_hold_after_a_move(spaces):
    client = spaces.login("member_a")
    save(client, PAGE, text(poll_block("fest", wer="mitglieder", geheim="ja")))
    assert vote(client, "fest", choice="fr").status_code == 302
    assert client.form(f"/-/rename/{PAGE}", {"new_path": "lv/kv-a/neu"}).status_code == 302
    before = spaces.head()
    # At the new path there is no "old" page to compare with; the frozen state still holds.
    response = save(client, "lv/kv-a/neu", text(poll_block("fest", wer="mitglieder")))
    assert response.status_code == 400
    assert "„geheim“ kann nach der ersten Stimmabgabe" in response.get_data(as_text=True)
    # Neither may the block reappear elsewhere with the secret ballot loosened.
    client.form("/-/delete/lv/kv-a/neu", {})
    response = save(client, "lv/kv-a/wieder", text(poll_block("fest", wer="mitglieder")))
    assert response.status_code == 400
    assert spaces.head() != before  # the delete went through, the loosening did not
    assert [r.id for r in rows(spaces)] == []


# -- permissions: 404 like a missing page ---------------------------------------------------------


def test_unreadable_polls_are_404_everywhere(spaces):
    client = spaces.login("member_a")
    save(client, PAGE, text(poll_block("fest", wer="angemeldet")))
    outsider = spaces.login("member_b")
    missing = outsider.get("/-/polls/gibt-es-nicht")
    assert missing.status_code == 404
    for url in ("/-/polls/fest", "/-/polls/fest/token", f"/{PAGE}"):
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert "Wann feiern wir" not in response.get_data(as_text=True)
    for url in ("/-/polls/fest/vote", "/-/polls/fest/close", "/-/polls/fest/reopen"):
        assert outsider.form(url, {"choice": "fr"}).status_code == 404, url
    assert spaces.login("anon").get("/-/polls/fest").status_code == 404
    assert rows(spaces, Vote) == []
    assert "fest" not in outsider.get("/-/polls").get_data(as_text=True)
    assert "/-/polls/fest" in client.get("/-/polls").get_data(as_text=True)


def test_widget_is_rendered_per_reader(spaces):
    save(spaces.login("member_a"), PAGE, text(poll_block("fest", wer="vorstand")))
    member = spaces.login("member_a").get(f"/{PAGE}").get_data(as_text=True)
    board = spaces.login("board_a").get(f"/{PAGE}").get_data(as_text=True)
    assert "Abstimmen darf nur der Vorstand" in member and 'name="choice"' not in member
    assert 'name="choice"' in board


def test_list_and_nav(spaces):
    client = spaces.login("member_a")
    save(client, PAGE, text(poll_block("fest")))
    save(client, "lv/kv-a/oeffentlich", text(poll_block("offen", wer="alle"), visibility="public"))
    anon = spaces.login("anon").get("/-/polls").get_data(as_text=True)
    assert "/-/polls/offen" in anon and "/-/polls/fest" not in anon
    assert 'href="/-/polls/"' in anon  # the menu entry "Umfragen"
    with spaces.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PollState)) == 2


def test_form_blocks_are_checked_and_projected(spaces):
    client = spaces.login("member_a")
    form = (
        "```form\nid: befragung\ntitel: Befragung\n"
        "fragen:\n  - key: wunsch\n    frage: Was?\n    typ: text\n```\n"
    )
    assert save(client, PAGE, text(form)).status_code == 302
    (row,) = rows(spaces)
    assert (row.id, row.kind, row.type) == ("befragung", "form", "form")
    definition = Definition.from_json(row.definition)
    assert [q.key for q in definition.questions] == ["wunsch"]
    assert Definition.from_json(definition.to_json()) == definition
    response = save(client, PAGE, text(form.replace("fragen:", "farben:")))
    assert response.status_code == 400
    assert "„fragen“ fehlt" in response.get_data(as_text=True)

"""Forms of the polls plugin (```` ```form ```` blocks): parsing the questions, the widget,
submissions (required answers, once per person or code, anonymous forms), the organisers'
summary and the CSV export.

One app serves the module; each test uses forms of its own, so the tests do not see each
other's submissions.
"""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import PAGES, Spaces, make_spaces_app, page_text, save
from sqlalchemy import func, select

from plugins.polls import forms, forms_check
from plugins.polls.definitions import parse
from plugins.polls.models import PollDef, PollToken, Submission, Voter

MEMBERS_PAGE = "lv/kv-a/protokoll"  # members of lv/kv-a (and admins) read it, its members edit
PUBLIC_PAGE = "lv/kv-a/oeffentlich"  # everyone reads it, members of lv/kv-a edit it

SURVEY = """
```form
id: {id}
titel: Befragung {id}
beschreibung: Zwei Minuten für *deine* Meinung.
wer: {wer}
geheim: {geheim}
mehrfach_antworten: {mehrfach}
fragen:
  - key: name
    frage: Wie heißt dein Projekt?
    typ: text
    pflicht: ja
  - key: thema
    frage: Welches Thema zuerst?
    typ: einfach
    pflicht: ja
    optionen:
      klima: Klima
      bildung: Bildung
  - key: themen
    frage: Was noch?
    typ: mehrfach
    max: 2
    optionen:
      klima: Klima
      bildung: Bildung
      wohnen: Wohnen
  - key: alter
    frage: Wie alt bist du?
    typ: zahl
    min: 14
    max: 35
  - key: tag
    frage: Wann hast du Zeit?
    typ: datum
  - key: zufrieden
    frage: Wie zufrieden bist du?
    typ: skala
    min_text: gar nicht
    max_text: sehr
  - key: notiz
    frage: Sonst noch etwas?
    typ: langtext
```
"""

#: form id → (page, wer, geheim, mehrfach_antworten)
FORMS = {
    "named": (MEMBERS_PAGE, "mitglieder", "nein", "nein"),
    "anon": (MEMBERS_PAGE, "mitglieder", "ja", "nein"),
    "hidden": (MEMBERS_PAGE, "mitglieder", "verborgen", "nein"),
    "again": (MEMBERS_PAGE, "mitglieder", "nein", "ja"),
    "board": (MEMBERS_PAGE, "vorstand", "nein", "nein"),
    "race": (MEMBERS_PAGE, "mitglieder", "nein", "nein"),
    "race-anon": (MEMBERS_PAGE, "mitglieder", "ja", "nein"),
    "slips": (PUBLIC_PAGE, "token", "ja", "nein"),
    "open": (PUBLIC_PAGE, "alle", "nein", "nein"),
    "open-again": (PUBLIC_PAGE, "alle", "ja", "ja"),
    "inject": (PUBLIC_PAGE, "angemeldet", "nein", "nein"),
}
CLOSED = """
```form
id: closed
titel: Vorbei
schluss: 2020-01-01 12:00
fragen:
  - key: text
    frage: Zu spät?
    typ: text
```
"""

GOOD = {"q-name": "Sommercamp", "q-thema": "klima"}


def block_data(**values) -> dict:
    """The parsed YAML of a ``SURVEY`` block."""
    return yaml.safe_load(SURVEY.format(**values).split("```form\n")[1].split("```")[0])


@pytest.fixture(scope="module")
def spaces(tmp_path_factory):
    app = make_spaces_app(
        tmp_path_factory.mktemp("polls-forms"), WIKI_PLUGINS=["plugins.spaces", "plugins.polls"]
    )
    helper = Spaces(app)
    blocks = {MEMBERS_PAGE: [CLOSED], PUBLIC_PAGE: []}
    for form_id, (page, wer, geheim, mehrfach) in FORMS.items():
        blocks[page].append(SURVEY.format(id=form_id, wer=wer, geheim=geheim, mehrfach=mehrfach))
    files = {}
    for path, texts in blocks.items():
        visibility, title, body = PAGES[path]
        files[f"{path}.md"] = page_text(title, body + "\n" + "\n".join(texts), visibility)
    helper.commit(files, "Formulare")
    with helper.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PollDef)) == len(FORMS) + 1
    yield helper
    state = helper.state
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture(scope="module")
def clients(spaces):
    roles = ("anon", "user", "member_a", "board_a", "member_b", "member_ov", "admin")
    return {role: spaces.login(role) for role in roles}


def submissions(spaces, form_id: str) -> list[Submission]:
    with spaces.state.sessions() as session:
        rows = session.scalars(select(Submission).where(Submission.poll_id == form_id)).all()
        session.expunge_all()
        return list(rows)


def voters(spaces, form_id: str) -> list[str]:
    with spaces.state.sessions() as session:
        return list(session.scalars(select(Voter.voter).where(Voter.poll_id == form_id)))


def submit(client, form_id: str, data: dict):
    return client.form(f"/-/polls/{form_id}/submit", data)


def text(response) -> str:
    return response.get_data(as_text=True)


# -- parsing ---------------------------------------------------------------------------------------


def test_a_form_block_parses_into_questions():
    data = block_data(id="x", wer="alle", geheim="ja", mehrfach="ja")
    definition, problems = parse("form", data)
    assert problems == []
    assert definition.kind == "form" and definition.multiple_answers is True
    assert definition.question == "Zwei Minuten für *deine* Meinung."
    by_key = {q.key: q for q in definition.questions}
    assert [q.key for q in definition.questions] == list(by_key)
    assert by_key["name"].required and not by_key["themen"].required
    assert by_key["thema"].options == (("klima", "Klima"), ("bildung", "Bildung"))
    assert (by_key["themen"].min, by_key["themen"].max) == (None, 2)
    assert (by_key["alter"].min, by_key["alter"].max) == (14, 35)
    skala = by_key["zufrieden"]
    assert list(skala.scale) == [1, 2, 3, 4, 5]
    assert (skala.min_text, skala.max_text) == ("gar nicht", "sehr")
    again = type(definition).from_json(definition.to_json())
    assert again == definition


@pytest.mark.parametrize(
    ("fragen", "problem"),
    [
        (None, "„fragen“ fehlt"),
        ([], "„fragen“ fehlt"),
        ([{"frage": "Ohne Schlüssel", "typ": "text"}], "Frage 1: „key“ fehlt"),
        ([{"key": "Groß", "frage": "x", "typ": "text"}], "Frage 1: „key“ fehlt oder ist ungültig"),
        ([{"key": "a", "frage": "x", "typ": "text"}] * 2, "Frage „a“: Der Schlüssel kommt doppelt"),
        ([{"key": "a", "typ": "text"}], "Frage „a“: „frage“ fehlt"),
        ([{"key": "a", "frage": "x", "typ": "slider"}], "Frage „a“: „typ“ muss eines von"),
        ([{"key": "a", "frage": "x", "typ": "einfach"}], "Frage „a“: Das Feld „optionen“ fehlt"),
        (
            [{"key": "a", "frage": "x", "typ": "einfach", "optionen": {"eins": "Eins"}}],
            "mindestens zwei Optionen",
        ),
        (
            [{"key": "a", "frage": "x", "typ": "text", "optionen": {"a": "A", "b": "B"}}],
            "„optionen“ gibt es nur bei",
        ),
        ([{"key": "a", "frage": "x", "typ": "zahl", "min": 5, "max": 1}], "„min“ ist größer"),
        ([{"key": "a", "frage": "x", "typ": "zahl", "min": "viel"}], "„min“ muss eine Zahl sein"),
        ([{"key": "a", "frage": "x", "typ": "skala", "max": 20}], "Skala hat 2 bis 11 Stufen"),
        ([{"key": "a", "frage": "x", "typ": "skala", "min": 1.5}], "muss eine ganze Zahl sein"),
        ([{"key": "a", "frage": "x", "typ": "text", "min": 1}], "„min“ und „max“ gibt es nur"),
        (
            [{"key": "a", "frage": "x", "typ": "text", "max_text": "y"}],
            "gibt es nur bei „typ: skala“",
        ),
        ([{"key": "a", "frage": "x", "typ": "text", "pflicht": "oft"}], "„pflicht“ muss „ja“"),
        ([{"key": "a", "frage": "x", "typ": "text", "farbe": "rot"}], "Unbekanntes Feld „farbe“"),
        (["nur ein Text"], "Frage 1: „key“ fehlt"),
    ],
)
def test_bad_questions_are_named(fragen, problem):
    data = {"id": "f", "fragen": fragen} if fragen is not None else {"id": "f"}
    questions, problems = forms.parse_questions(data)
    assert any(problem in str(p) for p in problems), problems
    definition, all_problems = parse("form", data)
    assert definition is None and any(problem in str(p) for p in all_problems)


def test_mehrfach_antworten_must_be_ja_or_nein():
    data = {
        "id": "f",
        "mehrfach_antworten": "oft",
        "fragen": [{"key": "a", "frage": "x", "typ": "text"}],
    }
    definition, problems = parse("form", data)
    assert definition is None and any("mehrfach_antworten" in str(p) for p in problems)


def test_an_invalid_form_is_refused_at_save_and_git_is_unchanged(spaces, clients):
    client = clients["member_a"]
    before = spaces.head()
    body = "```form\nid: kaputt\nfragen:\n  - key: a\n    frage: Was?\n    typ: slider\n```\n"
    response = save(client, "lv/kv-a/kaputt", page_text("Kaputt", body))
    assert response.status_code == 400
    assert "Frage „a“: „typ“ muss eines von" in text(response)
    assert spaces.head() == before
    with spaces.state.sessions() as session:
        assert session.get(PollDef, "kaputt") is None


def test_a_valid_form_is_saved_and_projected(spaces, clients):
    client = clients["member_a"]
    body = (
        "```form\nid: neu-gespeichert\nfragen:\n  - key: a\n    frage: Was?\n    typ: text\n```\n"
    )
    response = save(client, "lv/kv-a/neu-gespeichert", page_text("Neu", body))
    assert response.status_code == 302
    with spaces.state.sessions() as session:
        row = session.get(PollDef, "neu-gespeichert")
        assert row.kind == "form" and row.path == "lv/kv-a/neu-gespeichert"


# -- answers -------------------------------------------------------------------------------------


def test_check_answers_normalises_and_names_problems():
    data = block_data(id="x", wer="alle", geheim="ja", mehrfach="ja")
    questions = parse("form", data)[0].questions
    from werkzeug.datastructures import MultiDict

    good = MultiDict(
        [
            ("q-name", "  Sommer   camp "),
            ("q-thema", "bildung"),
            ("q-themen", "wohnen"),
            ("q-themen", "klima"),
            ("q-alter", "17,5"),
            ("q-tag", "24.12.2030"),
            ("q-zufrieden", "4"),
            ("q-notiz", "Zeile 1\r\nZeile 2\n"),
        ]
    )
    checked = forms_check.check_answers(questions, good)
    assert checked.errors == {}
    assert checked.answers == {
        "name": "Sommer camp",
        "thema": "bildung",
        "themen": ["klima", "wohnen"],  # in the order of the block
        "alter": 17.5,
        "tag": "2030-12-24",
        "zufrieden": 4,
        "notiz": "Zeile 1\nZeile 2",
    }
    bad = MultiDict(
        [
            ("q-thema", "sport"),
            ("q-themen", "klima"),
            ("q-themen", "bildung"),
            ("q-themen", "wohnen"),
            ("q-alter", "12"),
            ("q-tag", "31.02.2030"),
            ("q-zufrieden", "6"),
            ("q-notiz", "x" * 5001),
        ]
    )
    checked = forms_check.check_answers(questions, bad)
    assert checked.answers == {}
    assert checked.errors == {
        "name": "Bitte beantworte diese Frage.",
        "thema": "Bitte eine der angebotenen Optionen wählen.",
        "themen": "Bitte höchstens 2 Optionen wählen.",
        "alter": "Bitte einen Wert von 14 bis 35 angeben.",
        "tag": "Bitte ein gültiges Datum angeben (JJJJ-MM-TT oder TT.MM.JJJJ).",
        "zufrieden": "Bitte einen Punkt der Skala wählen.",
        "notiz": "Bitte höchstens 5000 Zeichen.",
    }
    errors = forms_check.check_answers(questions, MultiDict([("q-alter", "1e9")])).errors
    assert errors["alter"] == "Bitte eine Zahl angeben (z. B. 12 oder 3,5)."
    errors = forms_check.check_answers(questions, MultiDict([("q-themen", "golf")])).errors
    assert errors["themen"] == "Bitte nur die angebotenen Optionen wählen."


# -- the widget ------------------------------------------------------------------------------------


def test_the_widget_is_a_plain_accessible_form(spaces, clients):
    html = text(clients["member_a"].get(f"/{MEMBERS_PAGE}"))
    start = html.index('id="form-named"')
    widget = html[start : html.index("</section>", start)]
    assert 'action="/-/polls/named/submit"' in widget and 'name="csrf_token"' in widget
    assert "<em>deine</em>" in widget  # the description is rendered markdown
    assert '<legend>Welches Thema zuerst? <span class="required">' in widget
    assert 'type="radio" id="form-named-thema-klima" name="q-thema" value="klima"' in widget
    assert 'type="checkbox" id="form-named-themen-wohnen"' in widget
    assert '<label for="form-named-zufrieden-5">5 – sehr</label>' in widget
    assert 'type="number" id="form-named-alter" name="q-alter" step="any"' in widget
    assert 'type="date"' in widget and "<textarea" in widget
    assert "<script" not in widget and "style=" not in widget
    assert "Antworten ansehen" in widget  # member_a edits the page: an organiser
    anon_widget = text(clients["member_a"].get(f"/{MEMBERS_PAGE}"))
    assert "ohne Namen und ohne Zeitpunkt" in anon_widget[anon_widget.index('id="form-anon"') :]


def test_required_answers_missing_re_show_the_form_and_store_nothing(spaces, clients):
    response = submit(
        clients["member_a"], "named", {"q-name": "", "q-alter": "99", "q-notiz": "Bleibt <b>"}
    )
    assert response.status_code == 400
    html = text(response)
    assert "Bitte beantworte diese Frage." in html
    assert "Bitte einen Wert von 14 bis 35 angeben." in html
    assert 'value="99"' in html and "Bleibt &lt;b&gt;</textarea>" in html  # kept, escaped
    assert submissions(spaces, "named") == [] and voters(spaces, "named") == []


def test_one_submission_per_person(spaces, clients):
    client = clients["member_a"]
    response = submit(
        client, "named", GOOD | {"q-themen": ["klima", "wohnen"], "q-tag": "2030-05-01"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/{MEMBERS_PAGE}#form-named")
    [row] = submissions(spaces, "named")
    assert row.user_id == spaces.user_id("member_a") and row.created_at is not None
    assert row.once_key == f"u{row.user_id}"
    assert json.loads(row.answers) == {
        "name": "Sommercamp",
        "thema": "klima",
        "themen": ["klima", "wohnen"],
        "tag": "2030-05-01",
    }
    page = text(client.get(f"/{MEMBERS_PAGE}"))
    widget = page[page.index('id="form-named"') :]
    assert "Du hast dieses Formular bereits beantwortet." in widget[: widget.index("</section>")]
    again = submit(client, "named", GOOD | {"q-name": "Noch einmal"})
    assert again.status_code == 409
    assert "Du hast dieses Formular bereits beantwortet." in text(again)
    assert len(submissions(spaces, "named")) == 1


def test_the_database_refuses_a_second_submission_in_a_race(spaces, clients, monkeypatch):
    """Two requests that both passed the "already answered?" check: the unique keys decide."""
    from plugins.polls import access

    monkeypatch.setattr(access, "has_voted", lambda *args: False)
    for form_id in ("race", "race-anon"):
        assert submit(clients["board_a"], form_id, GOOD).status_code == 302
        second = submit(clients["board_a"], form_id, GOOD)
        assert second.status_code == 409
        assert "bereits beantwortet" in text(second)
        assert len(submissions(spaces, form_id)) == 1
        assert voters(spaces, form_id) == [f"u{spaces.user_id('board_a')}"]


def test_mehrfach_antworten_allows_several_submissions(spaces, clients):
    for name in ("Eins", "Zwei"):
        assert submit(clients["member_ov"], "again", GOOD | {"q-name": name}).status_code == 302
    rows = submissions(spaces, "again")
    assert sorted(json.loads(r.answers)["name"] for r in rows) == ["Eins", "Zwei"]
    assert {r.once_key for r in rows} == {None} and voters(spaces, "again") == []


def test_an_anonymous_form_stores_no_user_and_no_time(spaces, clients):
    client = clients["member_a"]
    assert submit(client, "anon", GOOD | {"q-zufrieden": "5"}).status_code == 302
    [row] = submissions(spaces, "anon")
    assert (row.user_id, row.created_at, row.once_key) == (None, None, None)
    assert json.loads(row.answers) == {"name": "Sommercamp", "thema": "klima", "zufrieden": 5}
    assert voters(spaces, "anon") == [f"u{spaces.user_id('member_a')}"]
    again = submit(client, "anon", GOOD)
    assert again.status_code == 409 and len(submissions(spaces, "anon")) == 1


def test_eligibility_and_closing(spaces, clients):
    refused = submit(clients["member_a"], "board", GOOD)
    assert refused.status_code == 403
    assert "Ausfüllen darf nur der Vorstand dieser Gliederung." in text(refused)
    assert submit(clients["member_b"], "named", GOOD).status_code == 404  # page unreadable
    assert submit(clients["anon"], "named", GOOD).status_code == 404
    closed = submit(clients["member_a"], "closed", {"q-text": "x"})
    assert closed.status_code == 409 and "geschlossen" in text(closed)
    assert submit(clients["member_a"], "gibt-es-nicht", GOOD).status_code == 404
    for form_id in ("board", "closed"):
        assert submissions(spaces, form_id) == []


def test_polls_are_not_forms(spaces, clients):
    body = "```poll\nid: nur-poll\ntyp: ja-nein\nfrage: Ja?\n```\n"
    spaces.commit({"lv/kv-a/nur-poll.md": page_text("Poll", body, "public")})
    assert submit(clients["member_a"], "nur-poll", {"q-a": "x"}).status_code == 404
    assert clients["board_a"].get("/-/polls/nur-poll/answers").status_code == 404


def test_token_forms(spaces, clients):
    from plugins.polls import tokens

    with spaces.app.test_request_context(), spaces.state.sessions() as session:
        first, second = tokens.issue(session, "slips", 2)
        session.commit()
    anon = clients["anon"]
    page = text(anon.get(f"/{PUBLIC_PAGE}"))
    widget = page[page.index('id="form-slips"') :]
    assert 'name="token"' in widget[: widget.index("</section>")]
    missing = submit(anon, "slips", GOOD)
    assert missing.status_code == 400 and "Zugangscode ist ungültig" in text(missing)
    wrong = submit(anon, "slips", GOOD | {"token": "AAAA-BBBB-CCCC-DDDD"})
    assert wrong.status_code == 400 and 'value="AAAA-BBBB-CCCC-DDDD"' in text(wrong)
    assert submit(anon, "slips", GOOD | {"token": first}).status_code == 302
    reused = submit(clients["user"], "slips", GOOD | {"token": first})
    assert reused.status_code == 400 and "schon benutzt" in text(reused)
    bad_answer = submit(anon, "slips", {"q-name": "", "token": second})
    assert bad_answer.status_code == 400
    [row] = submissions(spaces, "slips")
    assert (row.user_id, row.created_at) == (None, None)
    with spaces.state.sessions() as session:
        used = dict(
            session.execute(
                select(PollToken.id, PollToken.used).where(PollToken.poll_id == "slips")
            ).all()
        )
    assert sorted(used.values()) == [False, True]  # the second code survived the bad answer
    assert voters(spaces, "slips") == [f"t{next(i for i, u in used.items() if u)}"]


def test_visitors_of_a_public_form(spaces, clients):
    anon = clients["anon"]
    refused = submit(anon, "open", GOOD)
    assert refused.status_code == 403 and "Zugangscode" in text(refused)
    assert submissions(spaces, "open") == []
    login_first = submit(anon, "inject", GOOD)
    assert login_first.status_code == 403
    assert "Bitte melde dich an, um das Formular auszufüllen." in text(login_first)
    assert submit(clients["user"], "open", GOOD).status_code == 302
    for _n in range(2):  # several answers allowed: nothing to count once
        assert submit(anon, "open-again", GOOD).status_code == 302
    rows = submissions(spaces, "open-again")
    assert (
        len(rows) == 2
        and {r.user_id for r in rows} == {None}
        and voters(spaces, "open-again") == []
    )


# -- summary and CSV -----------------------------------------------------------------------------


def test_summary_for_organisers(spaces, clients):
    for role, answers in (
        (
            "member_a",
            {
                "q-thema": "klima",
                "q-themen": ["klima", "wohnen"],
                "q-alter": "20",
                "q-zufrieden": "2",
            },
        ),
        (
            "board_a",
            {"q-thema": "bildung", "q-themen": "wohnen", "q-alter": "31", "q-zufrieden": "5"},
        ),
        (
            "member_ov",
            {"q-thema": "klima", "q-notiz": "Mehr <Pizza>\nbitte", "q-tag": "2030-06-01"},
        ),
    ):
        answers = answers | {"q-name": f"Projekt von {role}"}
        assert submit(clients[role], "hidden", answers).status_code == 302, role
    response = clients["board_a"].get("/-/polls/hidden/answers")
    assert response.status_code == 200
    html = text(response)
    assert "3 Antworten" in html
    assert "Klima: 2 (66,67 %)" in html  # the chart's text alternative
    assert '<svg class="poll-chart-svg" role="img"' in html
    assert "<dt>Mittelwert</dt><dd>25,5</dd>" in html and "<dd>31</dd>" in html
    assert "Mehr &lt;Pizza&gt;<br>bitte" in html
    assert "01.06.2030 (1)" in html
    # verborgen: who took part (by name), but no name next to an answer
    assert "Bea Vorstand A, Mia Mitglied A, Otto Ortsverband" in html
    assert "Otto Ortsverband</span>:" not in html
    for role, status in (("member_b", 404), ("user", 404)):
        assert clients[role].get("/-/polls/hidden/answers").status_code == status, role
        assert clients[role].get("/-/polls/hidden/answers.csv").status_code == status, role
    assert clients["anon"].get("/-/polls/hidden/answers").status_code == 302
    assert clients["member_a"].get("/-/polls/inject/answers").status_code == 200
    assert clients["user"].get("/-/polls/inject/answers").status_code == 403  # reads, no organiser


def test_csv_names_only_for_named_forms_and_neutralises_formulas(spaces, clients):
    evil = {
        "q-name": '=HYPERLINK("http://evil.test";"klick")',
        "q-thema": "klima",
        "q-notiz": "@SUM(A1)",
    }
    assert submit(clients["member_a"], "inject", evil).status_code == 302
    response = clients["board_a"].get("/-/polls/inject/answers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeffName;Zeitpunkt;Wie heißt dein Projekt?;Welches Thema zuerst?")
    row = body.splitlines()[1]
    assert row.startswith("Mia Mitglied A;")
    assert "'=HYPERLINK" in row and "'@SUM(A1)" in row and ";Klima;" in row
    assert "\n=" not in body and ";=" not in body and ';"=' not in body
    anonymous = clients["board_a"].get("/-/polls/anon/answers.csv").get_data().decode("utf-8")
    assert anonymous.startswith("\ufeffWie heißt dein Projekt?;")
    assert "Mia" not in anonymous and "Sommercamp" in anonymous


def test_a_removed_form_is_gone(spaces, clients):
    """The routes follow the projection: a form removed from its page answers 404."""
    body = "```form\nid: weg\nfragen:\n  - key: a\n    frage: Was?\n    typ: text\n```\n"
    spaces.commit({"lv/kv-a/weg.md": page_text("Weg", body, "public")})
    assert submit(clients["member_a"], "weg", {"q-a": "x"}).status_code == 302
    assert clients["member_a"].get("/-/polls/weg/answers").status_code == 200
    spaces.commit({"lv/kv-a/weg.md": None})
    assert clients["member_a"].get("/-/polls/weg/answers").status_code == 404
    assert submit(clients["member_a"], "weg", {"q-a": "y"}).status_code == 404
    assert len(submissions(spaces, "weg")) == 1  # member data stays, keyed by the id

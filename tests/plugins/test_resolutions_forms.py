"""The resolution forms: "Neuer Beschluss" (``/-/resolutions/new``) and "Metadaten bearbeiten"
(``/-/resolutions/edit/<path>``) — proposals, validation without commits, permissions, similar
resolutions as the reader may see them, and edits that keep what the user did not touch."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from conftest import Spaces, log_in, make_resolutions_app, make_test_app, resolution_text
from sqlalchemy import select

from plugins.resolutions import schema as S
from plugins.resolutions.models import ResolutionRow
from wiki.db import PageRow
from wiki.pages import Page, split_front_matter

NEW = "/-/resolutions/new"
KMV_PATH = "lv/kv-a/beschluesse/2023/kva-kmv-2023-a2"


@pytest.fixture
def app(tmp_path):
    app = make_resolutions_app(tmp_path)
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def kmv(**changes) -> dict:
    """A complete "Neuer Beschluss" form for a Kreismitgliederversammlung of kv-a."""
    data = {
        "space": "lv/kv-a",
        "title": "Sichere Radwege im Kreis",
        "body": "Kreismitgliederversammlung",
        "event": "KMV Frühjahr 2023",
        "agenda_item": "5 Anträge",
        "number": "A2",
        "submitted_date": "2023-03-20",
        "submitted_time": "18:30",
        "decided": "2023-04-15",
        "initiators": "Kreisvorstand\nMia Mitglied",
        "outcome": "angenommen",
        "votes_yes": "40",
        "votes_no": "3",
        "votes_abstain": "2",
        "topics": "Verkehr, Umwelt",
        "link_related": "LaKo-2022-A1",
        "beschlusstext": "Der Kreisverband setzt sich für sichere Radwege ein.",
        "begruendung": "Weil es nötig ist.",
        "save": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def text_at(spaces: Spaces, path: str, rev: str | None = None) -> str | None:
    data = spaces.state.store.read(f"{path}.md", rev)
    return None if data is None else data.decode("utf-8")


def commit_message(spaces: Spaces, path: str) -> str:
    return spaces.state.store.history(f"{path}.md", limit=1)[0].summary


class FormFields(HTMLParser):
    """The fields of the resolution form as a browser would submit them (no buttons)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.data: dict[str, str] = {}
        self.inputs: set[str] = set()
        self._in_form = False
        self._textarea = None
        self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "resolution-form" in (attrs.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            self.inputs.add(name)
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            else:
                self.data[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self.inputs.add(name)
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self.inputs.add(name)
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in attrs or self._select not in self.data:
                self.data[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea" and self._textarea:
            value = self.data[self._textarea]
            self.data[self._textarea] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


# -- Neuer Beschluss ----------------------------------------------------------------------------


def test_new_form_offers_the_spaces_the_user_may_edit(app):
    spaces = Spaces(app)
    html = spaces.login("member_b").get(NEW).get_data(as_text=True)
    fields = FormFields(html)
    assert {"title", "body", "event", "outcome", "beschlusstext", "rid"} <= fields.inputs
    assert {"validity", "valid_until", "visibility", "space", "topics"} <= fields.inputs
    assert {"votes_yes", "votes_no", "votes_abstain", "votes_invalid", "unanimous"} <= fields.inputs
    assert {"link_" + kind for kind in S.LINK_TYPES} <= fields.inputs
    assert 'value="lv/kv-b"' in html
    assert 'value="lv"' in html
    assert 'value="lv/kv-a"' not in html  # member_b may not create pages there
    assert 'name="csrf_token"' in html


def test_new_form_without_spaces_the_user_may_edit_offers_the_top_level(app):
    html = log_in(app, "user").get(NEW).get_data(as_text=True)
    assert 'value="lv/kv-a"' not in html and 'value="lv"' not in html
    assert "ohne Gliederung" in html


def test_check_proposes_an_id_without_code_at_the_top_level_space(app):
    spaces = Spaces(app)
    before = spaces.head()
    client = spaces.login("board_lv")
    data = kmv(space="lv", body="Landeskonferenz", number="A1", decided="2022-03-19",
               submitted_date="", submitted_time="", save=None, check="1")  # fmt: skip
    response = client.form(NEW, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert FormFields(html).data["rid"] == "LaKo-2022-A1"
    assert "lv/beschluesse/2022/lako-2022-a1" in html
    assert spaces.head() == before


def test_check_proposes_an_id_with_the_code_of_a_kreisverband(app):
    spaces = Spaces(app)
    before = spaces.head()
    response = spaces.login("member_a").form(NEW, kmv(save=None, check="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    fields = FormFields(html)
    assert fields.data["rid"] == "KVA-KMV-2023-A2"
    assert KMV_PATH in html
    assert spaces.head() == before


def test_an_untouched_proposal_follows_changes(app):
    spaces = Spaces(app)
    client = spaces.login("member_a")
    html = client.form(NEW, kmv(save=None, check="1")).get_data(as_text=True)
    data = FormFields(html).data
    assert data["rid"] == data["proposed"] == "KVA-KMV-2023-A2"
    data.update(number="A7", save="1")
    response = client.form(NEW, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert text_at(spaces, "lv/kv-a/beschluesse/2023/kva-kmv-2023-a7") is not None


def test_save_creates_a_valid_resolution_page(app):
    spaces = Spaces(app)
    before = spaces.head()
    response = spaces.login("member_a").form(NEW, kmv())
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/" + KMV_PATH)
    assert spaces.head() != before
    assert commit_message(spaces, KMV_PATH) == "Beschluss KVA-KMV-2023-A2 angelegt"
    page = Page.parse(KMV_PATH, text_at(spaces, KMV_PATH))
    assert page.problems == []
    assert S.check(page.meta, page.body) == []
    meta = page.meta
    assert meta["type"] == "resolution"
    assert meta["id"] == "KVA-KMV-2023-A2"
    assert meta["decided"] == date(2023, 4, 15)
    assert meta["submitted"] == "2023-03-20 18:30"
    assert meta["votes"] == {"yes": 40, "no": 3, "abstain": 2}
    assert meta["validity"] == "in_kraft"  # the default for adopted resolutions
    assert meta["initiators"] == ["Kreisvorstand", "Mia Mitglied"]
    assert meta["topics"] == ["Verkehr", "Umwelt"]
    assert meta["links"] == {"related": ["LaKo-2022-A1"]}
    assert "visibility" not in meta  # the space's default (members)
    sections = S.sections(page.body)
    assert sections["Beschlusstext"] == "Der Kreisverband setzt sich für sichere Radwege ein."
    assert sections["Begründung"] == "Weil es nötig ist."
    with spaces.state.sessions() as session:
        row = session.get(PageRow, KMV_PATH)
        assert row.problems == ""
        assert row.space == "lv/kv-a" and row.effective_visibility == "members"
        assert session.get(ResolutionRow, KMV_PATH).rid == "KVA-KMV-2023-A2"


def test_validity_is_ignored_for_outcomes_other_than_adopted(app):
    spaces = Spaces(app)
    data = kmv(outcome="abgelehnt", validity="in_kraft", title="Ein abgelehnter Antrag")
    response = spaces.login("member_a").form(NEW, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    meta, _body = split_front_matter(text_at(spaces, KMV_PATH))
    assert meta["outcome"] == "abgelehnt" and "validity" not in meta


def test_unanimous_and_german_dates(app):
    spaces = Spaces(app)
    data = kmv(votes_yes="", votes_no="", votes_abstain="", unanimous="1", decided="15.04.2023",
               submitted_date="", submitted_time="", validity="vorlaeufig")  # fmt: skip
    response = spaces.login("member_a").form(NEW, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    meta, _body = split_front_matter(text_at(spaces, KMV_PATH))
    assert meta["votes"] == "unanimous"
    assert meta["decided"] == date(2023, 4, 15)
    assert meta["validity"] == "vorlaeufig"
    assert "submitted" not in meta


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "Bitte einen Titel angeben."),
        ({"body": ""}, "Bitte angeben, wer beschlossen hat"),
        ({"number": "A1!!"}, "„Antragsnummer“ muss die Antragsnummer sein"),
        ({"decided": "2023-02-30"}, "„Beschlossen am“: „2023-02-30“ ist kein gültiges Datum"),
        ({"submitted_date": "gestern"}, "„Eingereicht“: „gestern“ ist kein gültiges Datum"),
        ({"submitted_time": "25:00"}, "„25:00“ ist keine Uhrzeit"),
        ({"submitted_date": "", "submitted_time": "18:00"}, "Zur Uhrzeit fehlt das Datum"),
        ({"decided": "", "submitted_date": "", "submitted_time": ""}, "„Beschlossen am“ (Beschl"),
        ({"decided": "2023-03-01"}, "„Beschlossen am“ liegt vor „Eingereicht“"),
        ({"outcome": ""}, "Bitte das Ergebnis auswählen."),
        ({"outcome": "gewonnen"}, "Unbekanntes Ergebnis „gewonnen“"),
        ({"validity": "ewig"}, "Unbekannte Gültigkeit „ewig“"),
        ({"visibility": "geheim"}, "Unbekannte Sichtbarkeit „geheim“"),
        ({"votes_yes": "viele"}, "„Ja“: bitte eine ganze Zahl ab 0 eintragen"),
        ({"votes_no": "-3"}, "„Nein“: bitte eine ganze Zahl ab 0 eintragen"),
        ({"unanimous": "1"}, "entweder „einstimmig“ ankreuzen oder Stimmen eintragen"),
        ({"valid_until": "bald"}, "„Gültig bis“: „bald“ ist kein gültiges Datum"),
        ({"link_replaces": "LaKo 2019 A3!"}, "„A3!“ ist keine gültige Beschluss-Kennung"),
        ({"link_related": "KVA-KMV-2023-A2"}, "nicht mit sich selbst verknüpft"),
        ({"rid": "Kennung mit Leerzeichen"}, "„Kennung“ muss eine Kennung"),
        ({"title": "x" * 301}, "„Titel“ muss ein Text mit höchstens 300 Zeichen"),
        ({"beschlusstext": "  "}, "Bitte den Beschlusstext angeben."),
        ({"space": "gibt/es/nicht"}, "Unbekannte Gliederung"),
    ],
)
def test_every_invalid_field_is_refused_without_a_commit(app, changes, message):
    spaces = Spaces(app)
    before = spaces.head()
    data = kmv(**changes)
    response = spaces.login("member_a").form(NEW, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html
    assert message in html
    assert spaces.head() == before
    kept = FormFields(html).data
    for name in ("title", "event", "beschlusstext", "begruendung", "initiators"):
        assert kept[name] == data[name].replace("\r\n", "\n")  # the input is kept


def test_every_problem_is_listed_at_once(app):
    spaces = Spaces(app)
    data = kmv(title="", decided="morgen", votes_yes="x", outcome="")
    html = spaces.login("member_a").form(NEW, data).get_data(as_text=True)
    assert "Bitte einen Titel angeben." in html
    assert "„morgen“ ist kein gültiges Datum" in html
    assert "„Ja“: bitte eine ganze Zahl" in html
    assert "Bitte das Ergebnis auswählen." in html


def test_a_taken_id_is_not_available(app):
    spaces = Spaces(app)
    # The other resolution lives in kv-b, which member_a may not even read.
    spaces.commit({"lv/kv-b/beschluesse/kvb-x.md": resolution_text("KVA-KMV-2023-A2")})
    before = spaces.head()
    response = spaces.login("member_a").form(NEW, kmv())
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html
    assert "Die Kennung „KVA-KMV-2023-A2“ ist nicht verfügbar." in html
    assert spaces.head() == before
    # Another spelling of the same id is taken too.
    response = spaces.login("member_a").form(NEW, kmv(rid="kva-kmv-2023-a2"))
    assert response.status_code == 400
    assert "ist nicht verfügbar" in response.get_data(as_text=True)
    assert spaces.head() == before


def test_a_taken_page_name_is_not_available(app):
    spaces = Spaces(app)
    spaces.commit({f"{KMV_PATH}.md": "---\ntitle: Schon da\n---\nText\n"})
    before = spaces.head()
    response = spaces.login("member_a").form(NEW, kmv())
    html = response.get_data(as_text=True)
    assert response.status_code == 409, html
    assert "nicht verfügbar" in html
    assert spaces.head() == before


@pytest.mark.parametrize("token", [None, "forged"])
def test_missing_or_forged_csrf_token_commits_nothing(app, token):
    spaces = Spaces(app)
    client = spaces.login("member_a")
    before = spaces.head()
    data = kmv()
    if token:
        data["csrf_token"] = token
    response = client.post(NEW, data=data)
    assert response.status_code == 400
    assert spaces.head() == before


def test_anonymous_visitors_are_sent_to_the_login(app):
    spaces = Spaces(app)
    client = spaces.login("anon")
    response = client.get(NEW)
    assert response.status_code == 302
    assert "/-/login" in response.headers["Location"]
    spaces.commit({f"{KMV_PATH}.md": resolution_text("KVA-KMV-2023-A2", visibility="public")})
    response = client.get(f"/-/resolutions/edit/{KMV_PATH}")
    assert response.status_code == 302
    assert "/-/login" in response.headers["Location"]


def test_a_space_without_edit_rights_is_refused(app):
    spaces = Spaces(app)
    before = spaces.head()
    response = spaces.login("member_b").form(NEW, kmv())
    html = response.get_data(as_text=True)
    assert response.status_code == 403, html
    assert "Keine Berechtigung" in html
    assert spaces.head() == before


def test_a_visibility_the_user_may_not_read_is_refused(app):
    spaces = Spaces(app)
    before = spaces.head()
    response = spaces.login("member_a").form(NEW, kmv(visibility="board"))
    assert response.status_code == 403, response.get_data(as_text=True)
    assert spaces.head() == before


# -- Ähnliche Beschlüsse ------------------------------------------------------------------------


def similar_archive(spaces: Spaces) -> None:
    spaces.commit(
        {
            "lv/beschluesse/2021/lako-2021-a5.md": resolution_text(
                "LaKo-2021-A5",
                title="Kostenloser Nahverkehr für alle",
                decided="2021-03-20",
                outcome="abgelehnt",
                visibility="public",
                text="Busse und Bahnen sollen nichts kosten.",
            ),
            "lv/kv-a/beschluesse/2022/kva-kmv-2022-a9.md": resolution_text(
                "KVA-KMV-2022-A9",
                title="Nahverkehr im Kreis kostenlos machen",
                body="Kreismitgliederversammlung",
                decided="2022-05-01",
                outcome="abgelehnt",
                text="Geheime Überlegungen von A.",
            ),
            "lv/beschluesse/2020/lako-2020-a2.md": resolution_text(
                "LaKo-2020-A2",
                title="Mehr Geld für Jugendzentren",
                decided="2020-03-20",
                visibility="public",
            ),
        }
    )
    spaces.state.search.wait_idle()


def test_similar_resolutions_include_rejected_ones_the_user_may_read(app):
    spaces = Spaces(app)
    similar_archive(spaces)
    data = kmv(space="lv/kv-b", title="Nahverkehr: kostenloser Nahverkehr jetzt!", save=None,
               check="1")  # fmt: skip
    html = spaces.login("member_b").form(NEW, data).get_data(as_text=True)
    assert "Ähnliche Beschlüsse" in html
    assert "Kostenloser Nahverkehr für alle" in html
    assert "LaKo-2021-A5" in html
    assert "similar-rejected" in html
    # Never a resolution the user may not read, nor an unrelated one.
    assert "KVA-KMV-2022-A9" not in html
    assert "Nahverkehr im Kreis kostenlos machen" not in html
    assert "Jugendzentren" not in html

    html = spaces.login("member_a").form(NEW, data | {"space": "lv/kv-a"}).get_data(as_text=True)
    assert "KVA-KMV-2022-A9" in html and "LaKo-2021-A5" in html


def test_similar_resolutions_after_a_failed_save(app):
    spaces = Spaces(app)
    similar_archive(spaces)
    data = kmv(title="Kostenloser Nahverkehr", outcome="")
    response = spaces.login("member_a").form(NEW, data)
    assert response.status_code == 400
    assert "LaKo-2021-A5" in response.get_data(as_text=True)


def test_query_words_never_trigger_the_query_language(app):
    from plugins.resolutions.forms import similar_query

    assert similar_query('"Nahverkehr" -Busse titel:Bahn OR AND Wahlalter* für 2022') == (
        "Nahverkehr OR Busse OR titel OR Bahn OR Wahlalter"
    )
    assert similar_query("a b c") == ""
    words = similar_query(" ".join(f"Wort{c}x" for c in "abcdefghij"))
    assert words.count(" OR ") == 7
    spaces = Spaces(app)
    data = kmv(title='"Nahverkehr" -"', save=None, check="1")
    response = spaces.login("member_a").form(NEW, data)
    assert response.status_code == 200


# -- Metadaten bearbeiten -----------------------------------------------------------------------

#: A hand-written resolution: flow lists, a comment, a time, a preamble, an extra section and
#: fields the form does not show (source, tags) — a save without changes keeps all of it.
HANDWRITTEN = """---
type: resolution
id: KVA-KMV-2023-A2
# Nummer wie im Antragsbuch
number: A2
title: Sichere Radwege im Kreis
body: Kreismitgliederversammlung
event: KMV Frühjahr 2023
submitted: 2023-03-20 18:30
decided: 2023-04-15
initiators: [Kreisvorstand, Mia Mitglied]
outcome: angenommen
votes: {"yes": 40, "no": 3, abstain: 2}
validity: in_kraft
topics: [Verkehr, Umwelt]
links: {related: [LaKo-2022-A1]}
tags: [radverkehr]
source: {system: antragsgruen, url: "https://antraege.example.org/a2", id: "123"}
---
Vorbemerkung der Protokollführung.

## Beschlusstext

Der Kreisverband setzt sich für sichere Radwege ein.

Zweiter Absatz.

## Begründung

Weil es nötig ist.

## Anhang

Liste der Straßen.
"""
EDIT = f"/-/resolutions/edit/{KMV_PATH}"


@pytest.fixture
def edited(app):
    spaces = Spaces(app)
    spaces.commit({f"{KMV_PATH}.md": HANDWRITTEN})
    return spaces


def form_of(client, url=EDIT) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return FormFields(response.get_data(as_text=True)).data


def test_edit_redirects_to_the_form_and_quelltext_shows_the_editor(edited):
    client = edited.login("member_a")
    response = client.get(f"/-/edit/{KMV_PATH}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(EDIT)
    response = client.get(f"/-/edit/{KMV_PATH}?quelltext=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="editor-text"' in html
    assert "Der Kreisverband setzt sich" in html
    assert f"/-/edit/{KMV_PATH}?quelltext=1" in client.get(EDIT).get_data(as_text=True)


def test_edit_form_is_prefilled(edited):
    client = edited.login("member_a")
    html = client.get(EDIT).get_data(as_text=True)
    fields = FormFields(html)
    data = fields.data
    assert "rid" not in fields.inputs  # shown, not editable
    assert "KVA-KMV-2023-A2" in html
    assert data["base"] == edited.head()
    assert data["title"] == "Sichere Radwege im Kreis"
    assert data["body"] == "Kreismitgliederversammlung"
    assert data["number"] == "A2"
    assert data["submitted_date"] == "2023-03-20" and data["submitted_time"] == "18:30"
    assert data["decided"] == "2023-04-15"
    assert data["initiators"] == "Kreisvorstand\nMia Mitglied"
    assert data["outcome"] == "angenommen" and data["validity"] == "in_kraft"
    assert (data["votes_yes"], data["votes_no"], data["votes_abstain"]) == ("40", "3", "2")
    assert "unanimous" not in data
    assert data["topics"] == "Verkehr, Umwelt"
    assert data["link_related"] == "LaKo-2022-A1"
    assert data["visibility"] == ""
    assert data["beschlusstext"] == (
        "Der Kreisverband setzt sich für sichere Radwege ein.\n\nZweiter Absatz."
    )
    assert data["begruendung"] == "Weil es nötig ist."
    assert data["protokollnotiz"] == ""


def test_a_save_without_changes_keeps_the_text(edited):
    client = edited.login("member_a")
    before = edited.head()
    data = form_of(client) | {"save": "1"}
    response = client.form(EDIT, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert text_at(edited, KMV_PATH) == HANDWRITTEN
    assert edited.head() == before  # nothing to commit


def test_a_changed_field_keeps_fields_the_form_does_not_show(edited):
    client = edited.login("member_a")
    data = form_of(client) | {"outcome_detail": "mit Änderungen aus Ä1", "save": "1"}
    response = client.form(EDIT, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert commit_message(edited, KMV_PATH) == "Beschluss KVA-KMV-2023-A2 bearbeitet"
    text = text_at(edited, KMV_PATH)
    meta, body = split_front_matter(text)
    old_meta, old_body = split_front_matter(HANDWRITTEN)
    assert body == old_body
    assert meta == old_meta | {"outcome_detail": "mit Änderungen aus Ä1"}
    assert list(meta).index("outcome_detail") == list(meta).index("outcome") + 1
    assert meta["source"]["id"] == "123" and meta["tags"] == ["radverkehr"]
    assert S.check(meta, body) == []


def test_a_changed_section_keeps_the_rest_of_the_body(edited):
    client = edited.login("member_a")
    data = form_of(client) | {
        "begruendung": "Eine bessere Begründung.",
        "protokollnotiz": "Einstimmig zur Kenntnis genommen.",
        "message": "Begründung ergänzt",
        "save": "1",
    }
    response = client.form(EDIT, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    text = text_at(edited, KMV_PATH)
    assert text.startswith(HANDWRITTEN.split("## Begründung")[0])  # front matter and all before
    assert "## Begründung\n\nEine bessere Begründung.\n\n## Anhang\n\nListe der Straßen.\n" in text
    assert text.endswith("## Protokollnotiz\n\nEinstimmig zur Kenntnis genommen.\n")
    assert commit_message(edited, KMV_PATH) == "Begründung ergänzt"


def test_a_rejected_outcome_drops_the_validity(edited):
    client = edited.login("member_a")
    data = form_of(client) | {"outcome": "abgelehnt", "save": "1"}
    response = client.form(EDIT, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    meta, _body = split_front_matter(text_at(edited, KMV_PATH))
    assert meta["outcome"] == "abgelehnt" and "validity" not in meta


def test_a_forged_id_never_reaches_git(edited):
    client = edited.login("member_a")
    data = form_of(client) | {"rid": "KVA-ANDERS-1", "id": "KVA-ANDERS-1", "save": "1"}
    data["title"] = "Sichere Radwege überall"
    response = client.form(EDIT, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    meta, _body = split_front_matter(text_at(edited, KMV_PATH))
    assert meta["id"] == "KVA-KMV-2023-A2"
    assert meta["title"] == "Sichere Radwege überall"


def test_an_invalid_edit_shows_the_form_again(edited):
    client = edited.login("member_a")
    before = edited.head()
    data = form_of(client) | {"decided": "2023-01-01", "votes_no": "drei", "save": "1"}
    response = client.form(EDIT, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "„Beschlossen am“ liegt vor „Eingereicht“" in html
    assert "„Nein“: bitte eine ganze Zahl" in html
    assert FormFields(html).data["votes_no"] == "drei"
    assert edited.head() == before


def test_a_stale_base_merges_changes_to_other_parts(app):
    spaces = Spaces(app)
    text = resolution_text(
        "KVA-KMV-2023-A2",
        title="Sichere Radwege",
        body="Kreismitgliederversammlung",
        decided="2023-04-15",
        text="Erster Absatz.\n\nZweiter Absatz.\n\nDritter Absatz.",
    )
    spaces.commit({f"{KMV_PATH}.md": text})
    client = spaces.login("member_a")
    data = form_of(client)
    old = text_at(spaces, KMV_PATH)
    spaces.commit({f"{KMV_PATH}.md": old.replace("Dritter Absatz.", "Dritter Absatz, geändert.")})
    other = spaces.head()
    response = client.form(EDIT, data | {"title": "Sichere Radwege für alle", "save": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert spaces.head() != other
    meta, body = split_front_matter(text_at(spaces, KMV_PATH))
    assert meta["title"] == "Sichere Radwege für alle"
    assert "Dritter Absatz, geändert." in body


def test_a_conflict_keeps_the_input(edited):
    client = edited.login("member_a")
    data = form_of(client)
    edited.commit(
        {f"{KMV_PATH}.md": HANDWRITTEN.replace("title: Sichere Radwege im Kreis", "title: Von Bea")}
    )
    other = edited.head()
    response = client.form(EDIT, data | {"title": "Von Mia", "save": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409, html
    assert "Von Mia" in html
    assert edited.head() == other
    assert "title: Von Bea" in text_at(edited, KMV_PATH)


def test_edit_permissions(edited):
    # kv-a pages are members-only: member_b may not even know the page.
    assert edited.login("member_b").get(EDIT).status_code == 404
    public = "lv/kv-a/beschluesse/2023/kva-kmv-2023-a3"
    edited.commit({f"{public}.md": resolution_text("KVA-KMV-2023-A3", visibility="public")})
    client = edited.login("member_b")
    assert client.get(f"/-/resolutions/edit/{public}").status_code == 403
    before = edited.head()
    data = form_of(edited.login("member_a"), f"/-/resolutions/edit/{public}")
    del data["csrf_token"]  # member_b's own token is filled in
    response = client.form(f"/-/resolutions/edit/{public}", data | {"title": "Neu", "save": "1"})
    assert response.status_code == 403
    assert edited.head() == before
    assert edited.login("member_a").get("/-/resolutions/edit/lv/gibt-es-nicht").status_code == 404


def test_a_broken_resolution_goes_to_the_text_editor(app):
    spaces = Spaces(app)
    broken = "lv/kv-a/beschluesse/kaputt"
    spaces.commit({f"{broken}.md": "---\ntype: resolution\ntitle: Kaputt\n---\nText\n"})
    response = spaces.login("member_a").get(f"/-/resolutions/edit/{broken}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/-/edit/{broken}?quelltext=1")


def test_edit_check_lists_similar_resolutions_but_not_itself(edited):
    similar_archive(edited)
    client = edited.login("member_a")
    data = form_of(client) | {"title": "Kostenloser Nahverkehr und Radwege", "check": "1"}
    response = client.form(EDIT, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "LaKo-2021-A5" in html
    similar = html.split("Ähnliche Beschlüsse", 1)[1].split("</section>")[0]
    assert f'href="/{KMV_PATH}"' not in similar
    assert "Sichere Radwege im Kreis" in text_at(edited, KMV_PATH)


def test_without_the_spaces_plugin_only_the_top_level_is_offered(tmp_path):
    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.resolutions"])
    try:
        client = log_in(app, "user")
        html = client.get(NEW).get_data(as_text=True)
        assert "ohne Gliederung" in html
        data = kmv(space="", body="Landeskonferenz", number="A1", decided="2022-03-19",
                   submitted_date="", submitted_time="", link_related="")  # fmt: skip
        response = client.form(NEW, data)
        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.headers["Location"].endswith("/beschluesse/2022/lako-2022-a1")
        with app.app_context():
            state = app.extensions["wiki"]
            with state.sessions() as session:
                assert session.scalar(select(ResolutionRow.rid)) == "LaKo-2022-A1"
    finally:
        state = app.extensions["wiki"]
        state.search.wait_idle()
        state.search.close()
        state.store.close()
        state.engine.dispose()


def test_check_warns_about_a_taken_id(app):
    spaces = Spaces(app)
    spaces.commit({"lv/kv-b/beschluesse/kvb-x.md": resolution_text("KVA-KMV-2023-A2")})
    before = spaces.head()
    response = spaces.login("member_a").form(NEW, kmv(save=None, check="1"))
    assert response.status_code == 200
    assert "Die Kennung „KVA-KMV-2023-A2“ ist nicht verfügbar." in response.get_data(as_text=True)
    assert spaces.head() == before


# -- sections -----------------------------------------------------------------------------------


def test_replace_sections_changes_only_what_changed():
    from plugins.resolutions.forms import replace_sections

    body = "Vorwort.\n\n## Beschlusstext\n\nAlt.\n\n## Anhang\n\nBleibt.\n"
    same = {"Beschlusstext": "Alt.", "Begründung": "", "Protokollnotiz": ""}
    assert replace_sections(body, same) is body
    changed = replace_sections(body, same | {"Beschlusstext": "Neu.\n\nMehr."})
    assert changed == "Vorwort.\n\n## Beschlusstext\n\nNeu.\n\nMehr.\n\n## Anhang\n\nBleibt.\n"
    added = replace_sections(body, same | {"Begründung": "Darum.", "Protokollnotiz": "Notiz."})
    assert S.sections(added) == {
        "": "Vorwort.",
        "Beschlusstext": "Alt.",
        "Begründung": "Darum.",
        "Anhang": "Bleibt.",
        "Protokollnotiz": "Notiz.",
    }
    assert added.startswith("Vorwort.\n\n## Beschlusstext\n\nAlt.\n\n## Anhang\n\nBleibt.\n")
    texts = {"Beschlusstext": "A", "Begründung": "B", "Protokollnotiz": "P"}
    ordered = replace_sections("## Beschlusstext\n\nA\n\n## Protokollnotiz\n\nP\n", texts)
    assert ordered == "## Beschlusstext\n\nA\n\n## Begründung\n\nB\n\n## Protokollnotiz\n\nP\n"


def test_replace_sections_removes_emptied_and_repeated_sections():
    from plugins.resolutions.forms import replace_sections

    body = "## Beschlusstext\n\nA\n\n## Begründung\n\nB1\n\n## Begründung\n\nB2\n"
    texts = {"Beschlusstext": "A", "Begründung": "", "Protokollnotiz": ""}
    assert replace_sections(body, texts) == "## Beschlusstext\n\nA\n"
    merged = replace_sections(body, texts | {"Begründung": "B"})
    assert merged == "## Beschlusstext\n\nA\n\n## Begründung\n\nB\n"
    assert S.section_heading_counts(merged) == {"Beschlusstext": 1, "Begründung": 1}

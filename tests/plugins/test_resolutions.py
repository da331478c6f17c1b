"""The resolutions database: validation inside the commit, the projection, the archive with its
facets, id lookup, exports and the API — always as the reader may see them."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from conftest import Spaces, log_in, make_resolutions_app, resolution_text
from sqlalchemy import select, update

from plugins.resolutions.models import (
    ResolutionInitiator,
    ResolutionLink,
    ResolutionRow,
    ResolutionTopic,
)

ATOM = "{http://www.w3.org/2005/Atom}"

#: path → text of the test archive: lv (internal by default), kv-a and kv-b (members by default).
ARCHIVE = {
    "lv/beschluesse/2022/lako-2022-a1": resolution_text(
        "LaKo-2022-A1",
        title="Kostenloser Nahverkehr",
        number="A1",
        event="Landeskonferenz 2022",
        visibility="public",
        topics=["Verkehr", "Soziales"],
        initiators=["Landesvorstand"],
        links={"replaces": ["LaKo-2019-A3"]},
        text="Busse und Bahnen sollen für junge Menschen kostenlos sein.",
    ),
    "lv/beschluesse/2019/lako-2019-a3": resolution_text(
        "LaKo-2019-A3",
        title="Azubiticket",
        number="A3",
        decided="2019-03-16",
        validity="ersetzt",
        visibility="public",
        topics=["Verkehr"],
        text="Ein Ticket für Auszubildende.",
    ),
    "lv/beschluesse/2022/lako-2022-a4": resolution_text(
        "LaKo-2022-A4",
        title="Wahlalter 14",
        number="A4",
        event="Landeskonferenz 2022",
        outcome="abgelehnt",
        visibility="public",
        topics=["Demokratie"],
        text="Das Wahlalter soll sinken.",
    ),
    "lv/kv-a/beschluesse/2023/kva-kmv-2023-a1": resolution_text(
        "KVA-KMV-2023-A1",
        title="Radwege in A-Stadt",
        body="Kreismitgliederversammlung",
        number="A1",
        decided="2023-10-07",
        topics=["Verkehr"],
        initiators=["Mia Mitglied"],
        text="Geschützte Radwege auf allen Hauptstraßen.",
    ),
    "lv/kv-a/ov/beschluesse/2024/ova-mv-2024-a1": resolution_text(
        "OVA-MV-2024-A1",
        title="Treffpunkt im Stadtteil",
        body="Mitgliederversammlung",
        decided="2024-02-01",
        visibility="internal",
        topics=["Ortsarbeit"],
        text="Ein Raum für unsere Treffen.",
    ),
    "lv/kv-b/beschluesse/2023/kvb-kmv-2023-a1": resolution_text(
        "KVB-KMV-2023-A1",
        title="Geheimer Haushalt B",
        body="Kreismitgliederversammlung",
        number="A1",
        decided="2023-06-01",
        topics=["Verkehr", "Finanzen"],
        links={"related": ["LaKo-2022-A1"]},
        text="Nur für Mitglieder von B.",
    ),
}
HIDDEN_B = "Geheimer Haushalt B"


def make_app(tmp_path):
    app = make_resolutions_app(tmp_path)
    Spaces(app).commit({f"{path}.md": text for path, text in ARCHIVE.items()}, "Archiv")
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture
def spaces(app):
    return Spaces(app)


def edit(client, path, text, base=""):
    return client.form(f"/-/edit/{path}?quelltext=1", {"text": text, "base": base, "message": "x"})


# -- validation --------------------------------------------------------------------------------

BAD_FIELDS = [
    ({"id": "LaKo 2022/A1"}, "„id“ muss eine Kennung"),
    ({"id": "x" * 65}, "„id“ muss eine Kennung"),
    ({"title": ""}, "„title“ muss ein Text"),
    ({"body": ""}, "„body“ muss ein Text"),
    ({"body": ["Landeskonferenz"]}, "„body“ muss ein Text"),
    ({"event": "x" * 201}, "„event“ muss ein Text"),
    ({"number": "A1; DROP"}, "„number“ muss die Antragsnummer"),
    ({"submitted": "gestern"}, "„submitted“ muss ein Datum"),
    ({"decided": "19.03.2022"}, "„decided“ muss ein Datum"),
    ({"decided": "2022-02-30"}, "„decided“ muss ein Datum"),
    ({"decided": None}, "Bitte „decided“"),
    ({"submitted": "2022-04-01 10:00"}, "„decided“ liegt vor „submitted“"),
    ({"initiators": [{"name": "x"}]}, "„initiators“ muss eine Liste"),
    ({"topics": "x" * 201}, "„topics“ muss eine Liste"),
    ({"outcome": "durchgefallen"}, "„outcome“ muss einer dieser Werte"),
    ({"votes": {"yes": -1}}, "„votes“ muss"),
    ({"votes": {"ja": 3}}, "„votes“ muss"),
    ({"votes": "viele"}, "„votes“ muss"),
    ({"validity": "ewig"}, "„validity“ muss einer dieser Werte"),
    ({"validity": None}, "braucht „validity“"),
    ({"outcome": "abgelehnt", "+": "validity: in_kraft"}, "nur für angenommene"),
    ({"valid_until": "bald"}, "„valid_until“ muss ein Datum"),
    ({"links": {"ersetzt": ["LaKo-2019-A3"]}}, "„links“ muss"),
    ({"links": {"replaces": ["kein gültiges id"]}}, "„links“ muss"),
    ({"links": {"related": ["LaKo-2030-A9"]}, "id": "LaKo-2030-A9"}, "mit sich selbst"),
    ({"source": {"url": "javascript:alert(1)"}}, "„source“ muss"),
    ({"source": {"system": "x", "owner": "y"}}, "„source“ muss"),
    ({"+": "farbe: rot"}, "Unbekannte Felder: farbe"),
]


@pytest.mark.parametrize("fields,message", BAD_FIELDS)
def test_each_invalid_field_is_refused_with_its_message(app, spaces, fields, message):
    admin = log_in(app, "admin")
    before = spaces.head()
    rid = fields.pop("id", "LaKo-2030-A9")
    extra_line = fields.pop("+", None)  # a line the text builder would not write
    meta = {"decided": "2022-03-19"} | fields
    text = resolution_text(rid, **meta)
    if extra_line:
        text = text.replace("type: resolution\n", f"type: resolution\n{extra_line}\n")
    if "validity" in fields and fields["validity"] is None:
        text = text.replace("validity: in_kraft\n", "")
    response = edit(admin, "lv/beschluesse/2030/neu", text)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert spaces.head() == before


def test_the_beschlusstext_section_is_required(app, spaces):
    admin = log_in(app, "admin")
    before = spaces.head()
    text = resolution_text("LaKo-2030-A9").replace("## Beschlusstext", "## Antrag")
    response = edit(admin, "lv/beschluesse/2030/neu", text)
    assert response.status_code == 400
    assert "„## Beschlusstext“" in response.get_data(as_text=True)
    assert spaces.head() == before


@pytest.mark.parametrize("rid", ["LaKo-2022-A1", "lako-2022-a1", "LAKO-2022-A1"])
def test_a_taken_id_is_not_available_even_when_hidden(app, spaces, rid):
    """Also an id taken by a resolution the saver may not read: "nicht verfügbar", no more."""
    member_b = log_in(app, "member_b")
    before = spaces.head()
    response = edit(member_b, "lv/kv-b/neu", resolution_text(rid))
    assert response.status_code == 400
    assert f"Die Kennung „{rid}“ ist nicht verfügbar." in response.get_data(as_text=True)
    assert spaces.head() == before
    member_a = log_in(app, "member_a")
    response = edit(member_a, "lv/kv-a/neu", resolution_text("KVB-KMV-2023-A1"))
    assert response.status_code == 400
    assert "nicht verfügbar" in response.get_data(as_text=True)
    assert HIDDEN_B not in response.get_data(as_text=True)
    assert spaces.head() == before


def test_an_umlaut_id_clashes_with_its_transliteration(app, spaces):
    admin = log_in(app, "admin")
    assert edit(admin, "lv/ae", resolution_text("LaKo-2022-Ä1")).status_code == 302
    response = edit(admin, "lv/ae2", resolution_text("LaKo-2022-Ae1"))
    assert response.status_code == 400


def test_the_id_cannot_change(app, spaces):
    admin = log_in(app, "admin")
    path = "lv/beschluesse/2022/lako-2022-a4"
    before = spaces.head()
    text = ARCHIVE[path].replace("id: LaKo-2022-A4", "id: LaKo-2022-A5")
    response = edit(admin, path, text, base=before)
    assert response.status_code == 400
    assert "kann nicht geändert werden" in response.get_data(as_text=True)
    assert spaces.head() == before
    # other fields may change
    text = ARCHIVE[path].replace("Wahlalter 14", "Wahlalter 14 (neu)")
    assert edit(admin, path, text, base=before).status_code == 302


def test_rename_keeps_the_id_and_delete_frees_it(app, spaces):
    admin = log_in(app, "admin")
    path = "lv/beschluesse/2022/lako-2022-a4"
    response = admin.form(
        f"/-/rename/{path}", {"new_path": "lv/beschluesse/alt/a4", "message": "m"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.extensions["wiki"].sessions() as session:
        row = session.scalars(
            select(ResolutionRow).where(ResolutionRow.rid == "LaKo-2022-A4")
        ).one()
        assert row.path == "lv/beschluesse/alt/a4"
    response = admin.form("/-/delete/lv/beschluesse/alt/a4", {"message": "weg"})
    assert response.status_code == 302
    assert edit(admin, "lv/neu-a4", resolution_text("LaKo-2022-A4")).status_code == 302


def test_concurrent_projection_lag_does_not_allow_a_duplicate(app, spaces):
    """A resolution committed without a sync (another process, a push) still blocks its id."""
    state = app.extensions["wiki"]
    from wiki.storage import Author

    state.store.commit(
        {"lv/fremd.md": resolution_text("LaKo-2031-A1").encode()},
        base=state.store.head(),
        author=Author("u-system", "system@example.org"),
        message="ohne Sync",
    )
    before = spaces.head()
    response = edit(log_in(app, "admin"), "lv/eigen", resolution_text("LaKo-2031-A1"))
    assert response.status_code == 400
    assert spaces.head() == before


def test_a_pushed_duplicate_is_listed_as_a_problem(app, spaces):
    spaces.commit({"lv/doppelt.md": resolution_text("LaKo-2022-A1")}, "Push")
    response = log_in(app, "admin").get("/-/problems")
    assert "lv/doppelt" in response.get_data(as_text=True)


# -- projection ----------------------------------------------------------------------------------


def snapshot(state):
    with state.sessions() as session:
        rows = {
            r.path: {c.name: getattr(r, c.name) for c in ResolutionRow.__table__.columns}
            for r in session.scalars(select(ResolutionRow))
        }
        links = sorted(
            (link.path, link.src_key, link.kind, link.dst, link.dst_key)
            for link in session.scalars(select(ResolutionLink))
        )
        topics = sorted((t.path, t.topic) for t in session.scalars(select(ResolutionTopic)))
        people = sorted((i.path, i.name) for i in session.scalars(select(ResolutionInitiator)))
    return rows, links, topics, people


def test_the_projection_equals_a_rebuild(app, spaces):
    state = app.extensions["wiki"]
    admin = log_in(app, "admin")
    path = "lv/beschluesse/2022/lako-2022-a4"
    edit(admin, path, ARCHIVE[path].replace("Demokratie", "Jugend"), base=spaces.head())
    admin.form(f"/-/rename/{path}", {"new_path": "lv/alt-a4", "message": "m"})
    admin.form("/-/delete/lv/beschluesse/2019/lako-2019-a3", {"message": "m"})
    edit(
        admin, "lv/kv-a/beschluesse/2023/kva-kmv-2023-a1", "# Kein Beschluss mehr\n", spaces.head()
    )
    before = snapshot(state)
    assert "lv/alt-a4" in before[0] and "lv/beschluesse/2019/lako-2019-a3" not in before[0]
    assert "lv/kv-a/beschluesse/2023/kva-kmv-2023-a1" not in before[0]
    assert ("lv/alt-a4", "Jugend") in before[2]
    assert state.syncer.check() == []
    state.syncer.reindex()
    assert snapshot(state) == before


def test_check_reports_a_projection_that_differs_from_git(app):
    state = app.extensions["wiki"]
    with state.sessions() as session:
        session.execute(update(ResolutionRow).values(outcome="abgelehnt"))
        session.add(ResolutionTopic(path="lv/beschluesse/2022/lako-2022-a1", topic="Erfunden"))
        session.commit()
    problems = state.syncer.check()
    assert any("outcome differs" in p for p in problems)
    assert any("topics or initiators differ" in p for p in problems)


def test_a_changed_space_visibility_reaches_the_archive(app, spaces):
    """Re-projection after a space definition changes (the resolution's blob does not)."""
    anon = app.test_client()
    assert "Radwege in A-Stadt" not in anon.get("/-/resolutions/").get_data(as_text=True)
    from conftest import space_text

    spaces.commit({"lv/kv-a.md": space_text("lv/kv-a", default_visibility="public")}, "offen")
    assert "Radwege in A-Stadt" in anon.get("/-/resolutions/").get_data(as_text=True)


# -- archive -------------------------------------------------------------------------------------


def api(client, **args):
    response = client.get("/-/api/v1/resolutions", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def facet(data, name):
    return {f["value"]: f["count"] for f in data["facets"][name]}


def test_the_default_view_is_the_current_position(app):
    data = api(app.test_client())
    assert {r["id"] for r in data["resolutions"]} == {"LaKo-2022-A1"}
    data = api(app.test_client(), scope="all")
    assert {r["id"] for r in data["resolutions"]} == {
        "LaKo-2022-A1",
        "LaKo-2019-A3",
        "LaKo-2022-A4",
    }
    html = app.test_client().get("/-/resolutions/").get_data(as_text=True)
    assert "Kostenloser Nahverkehr" in html and "Wahlalter 14" not in html
    html = app.test_client().get("/-/resolutions/?scope=all").get_data(as_text=True)
    assert "Wahlalter 14" in html and "Azubiticket" in html


def test_facet_counts_only_count_what_the_reader_may_see(app):
    anon = api(app.test_client(), scope="all")
    assert facet(anon, "topic") == {"Verkehr": 2, "Soziales": 1, "Demokratie": 1}
    assert facet(anon, "year") == {"2022": 2, "2019": 1}
    assert anon["total"] == 3
    member_a = api(log_in(app, "member_a"), scope="all")
    # + the kv-a resolution (members) and the OV's (internal): never B's
    assert facet(member_a, "topic") == {
        "Verkehr": 3,
        "Soziales": 1,
        "Demokratie": 1,
        "Ortsarbeit": 1,
    }
    assert "Finanzen" not in facet(member_a, "topic")
    member_b = api(log_in(app, "member_b"), scope="all")
    assert facet(member_b, "topic")["Finanzen"] == 1
    admin = api(log_in(app, "admin"), scope="all")
    assert admin["total"] == 6
    assert facet(admin, "outcome") == {"angenommen": 5, "abgelehnt": 1}
    assert facet(admin, "validity") == {"in_kraft": 4, "ersetzt": 1}


def test_facets_are_counted_with_the_other_filters(app):
    admin = log_in(app, "admin")
    data = api(admin, scope="all", topic="Verkehr")
    assert data["total"] == 4
    # the topic facet itself keeps its alternatives; the others follow the filter
    assert facet(data, "topic")["Demokratie"] == 1
    assert facet(data, "outcome") == {"angenommen": 4}
    data = api(admin, scope="all", topic=["Verkehr", "Demokratie"])
    assert data["total"] == 5
    data = api(admin, scope="all", topic="Verkehr", year="2023")
    assert {r["id"] for r in data["resolutions"]} == {"KVA-KMV-2023-A1", "KVB-KMV-2023-A1"}
    data = api(admin, scope="all", body="Kreismitgliederversammlung", outcome="angenommen")
    assert data["total"] == 2


def test_chapters_as_a_tree_including_sub_chapters(app):
    admin = log_in(app, "admin")
    data = api(admin, scope="all")
    chapters = {f["value"]: (f["count"], f["total"]) for f in data["facets"]["chapter"]}
    assert chapters["lv"] == (3, 6)
    assert chapters["lv/kv-a"] == (1, 2)
    assert chapters["lv/kv-a/ov"] == (1, 1)
    assert api(admin, scope="all", chapter="lv/kv-a")["total"] == 2
    assert api(admin, scope="all", chapter="lv/kv-a", sub="0")["total"] == 1
    assert api(admin, scope="all", chapter="lv", sub="0")["total"] == 3
    assert api(admin, scope="all", chapter="lv")["total"] == 6
    html = admin.get("/-/resolutions/?scope=all&chapter=lv/kv-a").get_data(as_text=True)
    assert "Nur diese Gliederung, ohne Untergliederungen" in html
    assert "Treffpunkt im Stadtteil" in html


def test_full_text_is_intersected_with_the_facets(app):
    admin = log_in(app, "admin")
    data = api(admin, scope="all", q="Radwege")
    assert [r["id"] for r in data["resolutions"]] == ["KVA-KMV-2023-A1"]
    assert facet(data, "topic") == {"Verkehr": 1}
    # metadata is searchable as text too (event, initiators)
    assert api(admin, scope="all", q="Landesvorstand")["total"] == 1
    data = api(admin, scope="all", q="Verkehr OR Ticket", chapter="lv", sub="0")
    assert {r["id"] for r in data["resolutions"]} <= {"LaKo-2022-A1", "LaKo-2019-A3"}
    # what the reader may not see is never a hit
    assert api(app.test_client(), scope="all", q="Haushalt")["total"] == 0


def test_a_typed_id_jumps_to_the_resolution(app):
    client = app.test_client()
    for q in ("LaKo-2022-A1", "lako-2022-a1", "A1 2022", "2022 A1"):
        response = client.get("/-/resolutions/", query_string={"q": q})
        assert response.status_code == 302, q
        assert response.location.endswith("/lv/beschluesse/2022/lako-2022-a1")
    response = client.get("/-/resolutions/LaKo-2022-A1")
    assert response.status_code == 302
    # a hidden resolution does not jump and is not found
    response = client.get("/-/resolutions/", query_string={"q": "KVB-KMV-2023-A1"})
    assert response.status_code == 200
    assert HIDDEN_B not in response.get_data(as_text=True)
    assert client.get("/-/resolutions/KVB-KMV-2023-A1").status_code == 404
    assert log_in(app, "member_b").get("/-/resolutions/KVB-KMV-2023-A1").status_code == 302
    # several matches are listed
    admin = log_in(app, "admin")
    response = admin.get("/-/resolutions/", query_string={"q": "A1 2023", "scope": "all"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Mehrere Beschlüsse passen" in html
    assert "KVA-KMV-2023-A1" in html and "KVB-KMV-2023-A1" in html


@pytest.mark.parametrize(
    "query,message",
    [
        ("year=zwanzig", "keine Jahreszahl"),
        ("outcome=vielleicht", "Unbekanntes Ergebnis"),
        ("validity=bald", "Unbekannte Gültigkeit"),
        ("sort=zufall", "Unbekannte Sortierung"),
        ("page=0", "Ungültige Seitenzahl"),
        ("scope=nix", "Unbekannter Umfang"),
        ("q=%22offen", "Anführungszeichen"),
    ],
)
def test_bad_filters_get_a_clear_message(app, query, message):
    client = app.test_client()
    for url in (f"/-/resolutions/?{query}", f"/-/resolutions/export.csv?{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True)
    response = client.get(f"/-/api/v1/resolutions?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_sorting_and_pagination(app):
    admin = log_in(app, "admin")
    data = api(admin, scope="all", per_page=2)
    assert data["total"] == 6 and data["has_next"]
    assert [r["id"] for r in data["resolutions"]] == ["OVA-MV-2024-A1", "KVA-KMV-2023-A1"]
    page3 = api(admin, scope="all", per_page=2, page=3)
    assert [r["id"] for r in page3["resolutions"]] == ["LaKo-2022-A4", "LaKo-2019-A3"]
    assert not page3["has_next"]
    numbered = api(admin, scope="all", sort="number", year="2022")
    assert [r["id"] for r in numbered["resolutions"]] == ["LaKo-2022-A1", "LaKo-2022-A4"]
    html = admin.get("/-/resolutions/?scope=all&year=2022&topic=Verkehr").get_data(as_text=True)
    # every filter lives in the URL: the export links carry it
    assert "export.csv?year=2022&amp;topic=Verkehr&amp;scope=all" in html


# -- exports -------------------------------------------------------------------------------------


def test_csv_export_of_the_current_filter(app):
    response = app.test_client().get("/-/resolutions/export.csv?scope=all&topic=Verkehr")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert {r["Kennung"] for r in rows} == {"LaKo-2022-A1", "LaKo-2019-A3"}
    first = next(r for r in rows if r["Kennung"] == "LaKo-2022-A1")
    assert first["Ergebnis"] == "angenommen"
    assert first["Themen"] == "Verkehr; Soziales"
    assert first["Verknüpfungen"] == "replaces: LaKo-2019-A3"
    assert "kostenlos" in first["Beschlusstext"]
    assert first["Seite"].endswith("/lv/beschluesse/2022/lako-2022-a1")


def test_csv_cells_are_neutralised(app, spaces):
    spaces.commit(
        {
            "lv/formel.md": resolution_text(
                "LaKo-2032-A1", title="=HYPERLINK(1)", decided="2032-01-01", visibility="public"
            )
        }
    )
    text = app.test_client().get("/-/resolutions/export.csv?year=2032").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert row["Titel"] == "'=HYPERLINK(1)"


def test_json_export_and_atom_feed(app):
    client = app.test_client()
    data = json.loads(client.get("/-/resolutions/export.json?scope=all").get_data(as_text=True))
    assert data["filters"] == {"scope": "all"}
    assert {r["id"] for r in data["resolutions"]} == {
        "LaKo-2022-A1",
        "LaKo-2019-A3",
        "LaKo-2022-A4",
    }
    item = next(r for r in data["resolutions"] if r["id"] == "LaKo-2022-A1")
    assert item["links"] == {"replaces": ["LaKo-2019-A3"]}
    assert item["texts"]["Beschlusstext"].startswith("Busse und Bahnen")
    response = client.get("/-/resolutions/feed.atom?scope=all&year=2022")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.get_data())
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert sorted(titles) == ["LaKo-2022-A1: Kostenloser Nahverkehr", "LaKo-2022-A4: Wahlalter 14"]
    self_link = root.find(f"{ATOM}link[@rel='self']").get("href")
    assert "year=2022" in self_link and "scope=all" in self_link


def test_exports_never_contain_hidden_resolutions(app):
    client = app.test_client()
    for url in ("export.csv", "export.json", "feed.atom", "beschlussbuch"):
        body = client.get(f"/-/resolutions/{url}?scope=all").get_data(as_text=True)
        assert HIDDEN_B not in body and "Radwege in A-Stadt" not in body, url
    body = (
        log_in(app, "member_b").get("/-/resolutions/export.json?scope=all").get_data(as_text=True)
    )
    assert HIDDEN_B in body


def test_the_feed_reads_with_a_personal_feed_token(app):
    from wiki.auth import issue_token
    from wiki.db import User

    state = app.extensions["wiki"]
    with state.sessions() as session:
        user = session.get(User, Spaces(app).user_id("member_b"))
        token = issue_token(session, user, "feed", "Feed")
        session.commit()
    client = app.test_client()
    body = client.get(f"/-/resolutions/feed.atom?token={token}").get_data(as_text=True)
    assert HIDDEN_B in body
    assert client.get("/-/resolutions/feed.atom?token=falsch").status_code == 404


def test_the_beschlussbuch(app):
    response = app.test_client().get("/-/resolutions/beschlussbuch?scope=all&topic=Verkehr")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Beschlussbuch" in html
    assert 'href="#b-lako-2022-a1"' in html and 'id="b-lako-2022-a1"' in html
    assert "Busse und Bahnen" in html  # the rendered text
    assert "Thema" in html and "Verkehr" in html  # the filter on the cover
    assert "Wahlalter 14" not in html


# -- API -----------------------------------------------------------------------------------------


def test_api_one_resolution_with_links_both_ways(app):
    client = app.test_client()
    data = client.get("/-/api/v1/resolutions/LaKo-2022-A1").get_json()
    assert data["id"] == "LaKo-2022-A1" and data["outcome"] == "angenommen"
    assert data["links"] == {"replaces": ["LaKo-2019-A3"]}
    assert data["linked_from"] == []  # B's link is hidden from anonymous readers
    member_b = log_in(app, "member_b")
    data = member_b.get("/-/api/v1/resolutions/LaKo-2022-A1").get_json()
    assert data["linked_from"] == [{"kind": "related", "id": "KVB-KMV-2023-A1"}]
    assert client.get("/-/api/v1/resolutions/KVB-KMV-2023-A1").status_code == 404
    assert client.get("/-/api/v1/resolutions/gibt-es-nicht").status_code == 404
    assert client.get("/-/api/v1/resolutions?per_page=1000").status_code == 400


def test_api_reads_with_a_bearer_token(app):
    from wiki.auth import issue_token
    from wiki.db import User

    state = app.extensions["wiki"]
    with state.sessions() as session:
        user = session.get(User, Spaces(app).user_id("member_b"))
        token = issue_token(session, user, "api", "API")
        session.commit()
    response = app.test_client().get(
        "/-/api/v1/resolutions?scope=all", headers={"Authorization": f"Bearer {token}"}
    )
    assert "KVB-KMV-2023-A1" in {r["id"] for r in response.get_json()["resolutions"]}


def test_the_readme_example_validates():
    """The page shown in the README's resolutions section is a valid resolution."""
    from pathlib import Path

    from plugins.resolutions import schema as S
    from wiki.pages import Page

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("```markdown\n---\ntype: resolution") + len("```markdown\n")
    page = Page.parse("beispiel", readme[start : readme.index("\n```\n", start)])
    assert page.problems == [] and S.check(page.meta, page.body) == []
    assert S.normalise("beispiel", page.meta, page.body).votes == {
        "yes": 52, "no": 3, "abstain": 4, "invalid": 0
    }  # fmt: skip


def test_a_search_in_the_current_position_points_to_the_other_matches(app):
    html = app.test_client().get("/-/resolutions/?q=Wahlalter").get_data(as_text=True)
    assert "Keine Beschlüsse gefunden" in html
    assert "1 weiterer Treffer außerhalb der geltenden Beschlusslage" in html
    assert "/-/resolutions/?q=Wahlalter&amp;scope=all" in html


def test_the_wiki_search_knows_resolutions(app):
    """``typ:beschluss`` (German for the type ``resolution``) and the id field in /-/search."""
    client = app.test_client()
    html = client.get("/-/search?q=typ:beschluss+Nahverkehr").get_data(as_text=True)
    assert 'href="/lv/beschluesse/2022/lako-2022-a1"' in html
    assert (
        client.get("/-/search?q=typ:seite+Nahverkehr")
        .get_data(as_text=True)
        .count('href="/lv/beschluesse/')
        == 0
    )
    html = client.get("/-/search?q=kennung:LaKo-2022-A4").get_data(as_text=True)
    assert 'href="/lv/beschluesse/2022/lako-2022-a4"' in html
    assert 'href="/lv/beschluesse/2022/lako-2022-a1"' not in html


def test_the_csv_export_reads_back_through_the_csv_import(app):
    """An exported selection is a valid import file: same ids, fields, links and texts."""
    from plugins.resolutions.csvimport import parse_csv

    text = log_in(app, "admin").get("/-/resolutions/export.csv?scope=all").get_data(as_text=True)
    items = {item.meta["id"]: item for item in parse_csv(text)}
    assert len(items) == 6
    assert all(not item.problem and not item.warnings[1:] for item in items.values())
    first = items["LaKo-2022-A1"]
    assert first.meta["outcome"] == "angenommen" and first.meta["validity"] == "in_kraft"
    assert first.meta["topics"] == ["Verkehr", "Soziales"]
    assert first.meta["initiators"] == ["Landesvorstand"]
    assert first.meta["links"] == {"replaces": ["LaKo-2019-A3"]}
    assert first.texts["Beschlusstext"].startswith("Busse und Bahnen")
    assert items["LaKo-2022-A4"].meta["outcome"] == "abgelehnt"

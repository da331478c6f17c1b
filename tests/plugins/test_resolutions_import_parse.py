"""Parsing Antragsgrün exports and CSV tables into import items (no app needed)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from plugins.resolutions import antragsgruen as AG
from plugins.resolutions import schema as S
from plugins.resolutions.antragsgruen import (
    STATUS_OUTCOMES,
    ImportItem,
    html_to_markdown,
    outcome_for_label,
    parse_date_text,
    parse_datetime_text,
    parse_html,
    parse_json,
    parse_path,
    parse_votes,
    status_id_for_label,
)
from plugins.resolutions.csvimport import parse_csv
from wiki.pages import split_front_matter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
AGF = FIXTURES / "antragsgruen"
HOST = "https://antraege.jugend-thueringen.example"
A1_SLUG = "Fur-einen-kostenlosen-Nahverkehr-48213"


def read(name: str) -> str:
    return (AGF / name).read_text(encoding="utf-8")


def one(items: list[ImportItem]) -> ImportItem:
    assert len(items) == 1, [i.label for i in items]
    return items[0]


def by_label(items: list[ImportItem], start: str) -> ImportItem:
    found = [i for i in items if i.label.startswith(start)]
    assert len(found) == 1, (start, [i.label for i in items])
    return found[0]


def schema_problems(item: ImportItem, rid: str = "Test-2022-1") -> list[str]:
    """Validate an item as the importer would: add an id (and a body if none was found),
    write the page text and check what comes back from its front matter."""
    meta = dict(item.meta)
    meta["id"] = rid
    meta.setdefault("body", "Testgremium")
    if not meta.get("decided") and not meta.get("submitted"):
        meta["decided"] = date(2022, 3, 19)
    text = S.page_text(meta, item.texts)
    loaded, body = split_front_matter(text)
    return S.check(loaded, body)


def no_raw_html(markdown: str) -> bool:
    """No unescaped ``<`` (mistune would otherwise see HTML)."""
    return re.search(r"(?<!\\)<", markdown) is None


# -- the full motion view page ----------------------------------------------------------------


def test_motion_view_page_fields():
    item = one(parse_html(read("motion_a1_view.html")))
    assert item.system == "antragsgruen"
    assert item.problem is None
    assert item.source_id == A1_SLUG  # the page has no numeric id: the URL slug
    assert item.source_url == f"{HOST}/ljk22/{A1_SLUG}"  # from <link rel="canonical">
    assert item.label == "A1 Für einen kostenlosen Nahverkehr"
    meta = item.meta
    assert meta["number"] == "A1"
    assert meta["title"] == "Für einen kostenlosen Nahverkehr"
    assert meta["event"] == "Landesjugendkonferenz 2022"
    assert meta["agenda_item"] == "6. Antragsberatung"
    assert meta["submitted"] == datetime(2022, 3, 1, 18, 0)
    assert "decided" not in meta
    # "(dort beschlossen am: …)" is dropped, a person's chapter kept; hidden contact data ignored
    assert meta["initiators"] == ["Landesvorstand", "Mia Beispiel (KV Erfurt)"]
    assert meta["outcome"] == "angenommen"
    assert meta["validity"] == "in_kraft"
    assert meta["topics"] == ["Verkehr", "Soziales"]
    assert meta["source"] == {"system": "antragsgruen", "id": A1_SLUG, "url": item.source_url}
    # Antragsgrün names the event, not the body: derived, with a warning
    assert meta["body"] == "Landesjugendkonferenz"
    assert any("Gremium aus der Veranstaltung" in w for w in item.warnings)
    assert any("Bild" in w for w in item.warnings)  # the image section is not imported
    assert schema_problems(item) == []


def test_motion_view_page_text():
    item = one(parse_html(read("motion_a1_view.html")))
    assert list(item.texts) == ["Beschlusstext", "Begründung"]
    text = item.texts["Beschlusstext"]
    # printed lines are joined again: wrapped after a space, or after a hyphen …
    assert "setzt sich dafür ein" in text
    assert "**Schüler\\*innen, Auszubildenden und Studierenden**" in text
    assert "Bus-und-Bahn-Ticket für Stadt- und Regionalverkehr." in text
    # … but a line without either ended in a real line break
    assert "Regionalverkehr.\\\nFinanziert wird das aus Landesmitteln." in text
    assert "- ein landesweites Jugendticket zum Nulltarif,\n- dichtere Takte" in text
    # the hidden amendment diff, bookmarks, comments and the supporter list are not text
    for foreign in ("junge Menschen", "Ä1", "Gute Idee", "Jonas Probe", "kein Text", "Zeile"):
        assert foreign not in text
    reason = item.texts["Begründung"]
    assert "Mobilität ist *Teilhabe*." in reason
    assert "**kein Monatsticket**" in reason
    assert "[Studie des Landesjugendrings](https://www.example.org/studie_nahverkehr.pdf)" in reason
    assert "per Mail an den Vorstand." in reason  # mailto: keeps only the text
    assert "\\[\\[FAQ\\]\\]" in reason  # no wikilink from the source
    assert "\\<b\\>nicht fett\\</b\\>" in reason and no_raw_html(reason)
    assert "\\*Hinweise\\*" in reason


def test_resolution_page_alone_uses_the_original_motions_id():
    item = one(parse_html(read("beschluss_a1_view.html")))
    assert item.source_id == A1_SLUG  # from the "Basierend auf" link, not its own slug
    assert item.source_url == f"{HOST}/ljk22/Fur-einen-kostenlosen-Nahverkehr-fur-alle-26517"
    meta = item.meta
    assert meta["number"] == "A1"  # a resolution's heading has no prefix; the link has it
    assert meta["title"] == "Für einen kostenlosen Nahverkehr für alle"
    assert meta["body"] == "Landesjugendkonferenz"
    assert meta["decided"] == date(2022, 3, 19)
    assert meta["votes"] == {"yes": 40, "no": 3, "abstain": 2}
    assert meta["outcome_detail"] == "Nach zweiter Lesung"  # the voting comment
    assert meta["outcome"] == "angenommen" and meta["validity"] == "in_kraft"
    assert "initiators" not in meta  # "Beschluss durch" is the body, not an initiator
    assert item.texts["Beschlusstext"].startswith("Der Jugendverband setzt sich")
    assert "### Umsetzung" in item.texts["Beschlusstext"]
    assert "1. Der Landesvorstand bringt" in item.texts["Beschlusstext"]
    assert "2. Wir werben" in item.texts["Beschlusstext"]
    assert schema_problems(item) == []


def test_motion_and_resolution_pages_become_one_item(tmp_path):
    for name in ("beschluss_a1_view.html", "motion_a1_view.html"):
        shutil.copy(AGF / name, tmp_path / name)
    item = one(parse_path(tmp_path))
    assert item.source_id == A1_SLUG
    assert item.source_url == f"{HOST}/ljk22/{A1_SLUG}"
    meta = item.meta
    assert meta["title"] == "Für einen kostenlosen Nahverkehr für alle"
    assert meta["initiators"] == ["Landesvorstand", "Mia Beispiel (KV Erfurt)"]
    assert meta["submitted"] == datetime(2022, 3, 1, 18, 0)
    assert meta["decided"] == date(2022, 3, 19)
    assert meta["body"] == "Landesjugendkonferenz"
    assert meta["votes"] == {"yes": 40, "no": 3, "abstain": 2}
    assert meta["topics"] == ["Verkehr", "Soziales", "Klima"]
    assert meta["outcome"] == "angenommen" and meta["validity"] == "in_kraft"
    # the resolution's text, the motion's reason
    assert item.texts["Beschlusstext"].startswith("Der Jugendverband setzt sich")
    assert "Landesmitteln" not in item.texts["Beschlusstext"]
    assert item.texts["Begründung"].startswith("Mobilität ist *Teilhabe*.")
    assert not any("Gremium aus der Veranstaltung" in w for w in item.warnings)
    assert schema_problems(item) == []


# -- plainhtml and English installations ------------------------------------------------------


def test_plainhtml_export():
    url = f"{HOST}/ljk22/Mehr-Mitbestimmung-an-Schulen-51100/plainhtml"
    item = one(parse_html(read("motion_a2_plainhtml.html"), url=url))
    assert item.source_id == "Mehr-Mitbestimmung-an-Schulen-51100"
    assert item.source_url == url
    meta = item.meta
    assert (meta["number"], meta["title"]) == ("A2", "Mehr Mitbestimmung an Schulen")
    assert meta["initiators"] == ["Kreisverband Jena"]
    assert meta["agenda_item"] == "6. Antragsberatung"
    assert meta["topics"] == ["Bildung", "Demokratie"]  # one per line in plainhtml
    assert meta["outcome"] == "offen" and "validity" not in meta
    assert any("keinen Status" in w for w in item.warnings)
    assert any("Verfahrensvorschlag: Ablehnung" in w for w in item.warnings)
    text = item.texts["Beschlusstext"]
    assert text.startswith("Die Landesjugendkonferenz fordert:\n\n1. Schüler\\*innenvertretungen")
    assert "**eigenes Budget**" in text
    assert "Bildungsministerium.\\\nBericht zur nächsten Konferenz." in text
    assert item.texts["Begründung"].endswith("> „Schule ist ein Lernort für Demokratie.“")


def test_plainhtml_without_url_falls_back_to_the_number():
    item = one(parse_html(read("motion_a2_plainhtml.html")))
    assert item.source_id == "A2"
    assert any("Weder Antragsgrün-ID noch Adresse" in w for w in item.warnings)


def test_english_installation():
    item = one(parse_html(read("motion_m3_english.html")))
    assert item.source_id == "315"  # …/motion/315: a numeric id in the URL
    meta = item.meta
    assert meta["number"] == "M3"
    assert meta["event"] == "Youth Assembly 2022"
    assert meta["agenda_item"] == "4. Motions"
    assert meta["initiators"] == ["Alex Example (Youth Council Lyon)", "Youth Board"]
    assert meta["outcome"] == "ueberwiesen"
    assert meta["referred_to"] == "State board"
    assert meta["submitted"] == datetime(2022, 3, 1, 18, 0)  # 03/01/2022: month first
    assert meta["topics"] == ["Transport", "Education"]
    assert item.texts == {
        "Beschlusstext": "The Youth Assembly calls for free public transport for all trainees.",
        "Begründung": "Trainees earn *very little*.",
    }
    assert not any("board@example.org" in w for w in item.warnings)
    assert schema_problems(item) == []


@pytest.mark.parametrize(
    "label, key",
    [
        ("Antragsteller*in", "initiators"),
        ("Antragsteller*innen", "initiators"),
        ("Antragsteller/innen", "initiators"),
        ("AntragstellerInnen", "initiators"),
        ("Antragsteller:innen", "initiators"),
        ("Antragstellende", "initiators"),
        ("Proposed by", "initiators"),
        ("Initiators", "initiators"),
        ("Proposers", "initiators"),
        ("Beschluss durch", "body"),
        ("Deciding body", "body"),
        ("Beschlossen am", "decided"),
        ("Decided on", "decided"),
        ("Abstimmungsergebnis", "votes"),
        ("Voting result", "votes"),
        ("Themenbereiche", "topics"),
        ("Tags", "topics"),
        ("Veranstaltung", "event"),
        ("Consultation", "event"),
        ("Tagesordnungspunkt", "agenda_item"),
        ("Eingereicht", "submitted"),
        ("Basierend auf", "parent"),
    ],
)
def test_row_labels_are_tolerant_and_bilingual(label, key):
    tr = AG._Node("tr", {}, None)
    assert AG._row_key(tr, label) == key


def test_row_classes_win_over_labels():
    tr = AG._Node("tr", {"class": "statusRow"}, None)
    assert AG._row_key(tr, "Stand der Dinge") == "status"
    tr = AG._Node("tr", {"class": "votingResultRow"}, None)
    assert AG._row_key(tr, "Ergebnis der Wahl") == "votes"


def test_unknown_status_label_is_kept_as_detail():
    page = read("motion_m3_english.html").replace(
        "Referred <small>(State board)</string><td>", "Sent back to the board<td>"
    )
    item = one(parse_html(page))
    assert item.meta["outcome"] == "offen"
    assert item.meta["outcome_detail"] == "Sent back to the board"
    assert any("nicht erkannt" in w for w in item.warnings)


def test_not_an_antragsgruen_page():
    item = one(parse_html("<html><body><p>Hallo</p></body></html>"))
    assert item.problem and "Keine Antragsgrün" in item.problem
    assert item.warnings == []
    untitled = '<table class="motionDataTable"><tr><th>Status:</th><td>Abgelehnt</td></tr></table>'
    item = one(parse_html(untitled, url=f"{HOST}/ljk22/Ohne-Titel-1"))
    assert item.problem == "Kein Titel gefunden."
    assert item.meta["outcome"] == "abgelehnt"


# -- REST JSON --------------------------------------------------------------------------------


def test_consultation_json():
    items = parse_json(json.loads(read("consultation.json")))
    # the resolutions 140 and 141 were merged into their motions 101 and 106
    expected = ["101", "102", "103", "104", "105", "106", "107", "amendment-210"]
    assert [i.source_id for i in items] == expected
    assert all(i.meta["event"] == "Landesjugendkonferenz 2023" for i in items)

    a1 = items[0]
    assert a1.meta["outcome"] == "angenommen" and a1.meta["validity"] == "in_kraft"
    assert a1.texts["Beschlusstext"] == (
        "Thüringen soll bis 2035 **klimaneutral** werden. Der Landesvorstand legt dazu einen "
        "Plan vor."
    )
    assert a1.texts["Begründung"] == "Die Klimakrise wartet nicht."
    assert a1.meta["initiators"] == ["Landesvorstand", "Mia Beispiel (KV Erfurt)"]
    assert a1.meta["body"] == "Landesjugendkonferenz"
    assert a1.meta["submitted"] == datetime(2023, 2, 20, 18, 4, 11)
    assert a1.meta["decided"] == date(2023, 3, 18)
    assert any("Veröffentlichungsdatum" in w for w in a1.warnings)
    assert a1.source_url == f"{HOST}/ljk23/Klimaneutral-bis-2035-11873"

    a3 = by_label(items, "A3 ")
    assert a3.meta["outcome"] == "ueberwiesen" and a3.meta["referred_to"] == "Landesvorstand"
    a5 = by_label(items, "A5 ")
    assert a5.meta["outcome"] == "vertagt"
    assert a5.texts["Beschlusstext"].startswith("Jugendzentren brauchen eine verlässliche")
    assert a5.texts["Angaben"] == "- **Kosten:** 250.000 € jährlich"
    a6 = by_label(items, "A6 ")
    assert a6.meta["outcome"] == "angenommen_geaendert"  # the motion was "Modifiziert übernommen"
    assert a6.meta["validity"] == "vorlaeufig"  # the resolution is preliminary
    assert a6.texts["Beschlusstext"].startswith("An jeder weiterführenden Schule")
    assert a6.texts["Begründung"] == "Sozialarbeit verhindert Schulabbrüche."

    a7 = by_label(items, "A7 ")
    assert a7.texts == {"Beschlusstext": ""}
    assert a7.meta["initiators"] == ["KV Eisenach", "Tom Beispiel"]
    assert any("Übersichtseintrag ohne Texte" in w and "url_json" not in w for w in a7.warnings)
    amendment = items[-1]
    assert amendment.meta["outcome"] == "nicht_zugelassen"
    assert amendment.label == "S1-001 zu S1: Satzung"
    for item in items:
        assert item.problem is None
        assert schema_problems(item) == [], item.label


def test_custom_status_string_is_open_with_detail():
    item = by_label(parse_json(json.loads(read("consultation.json"))), "A4 ")
    assert item.meta["outcome"] == "offen"
    assert item.meta["outcome_detail"] == "Nichtbefassung"
    assert "validity" not in item.meta
    assert any("vermutlich „nichtbefassung“" in w for w in item.warnings)


def test_motion_detail_json():
    item = one(parse_path(AGF / "motion_b1.json"))
    assert item.source_id == "310"
    meta = item.meta
    assert meta["outcome"] == "erledigt"
    assert meta["outcome_detail"] == "erledigt durch A1: Klimaneutral bis 2035"
    assert meta["initiators"] == ["Noah Entwurf", "AG Bildung"]  # an organisation by its name
    assert meta["submitted"] == datetime(2023, 2, 23, 12, 0)
    assert "body" not in meta and "event" not in meta  # a single motion has no consultation
    assert item.texts["Beschlusstext"] == (
        "Alle Schüler\\*innen in Thüringen sollen ein kostenloses, gesundes Mittagessen "
        "erhalten.\n\n- regional\n- vegetarisch als Standard"
    )
    reason = item.texts["Begründung"]
    assert reason == (
        f"Hunger *lernt* schlecht.\n\nSiehe hier und [Konzept]({HOST}/ljk23/page/essen)."
    )
    assert item.texts["Begründung der Dringlichkeit"] == "Der Haushalt wird im April beraten."
    assert list(item.texts)[0] == "Beschlusstext"


def test_json_text_and_list_input():
    detail = json.loads(read("motion_b1.json"))
    assert one(parse_json(json.dumps(detail))).source_id == "310"
    assert [i.source_id for i in parse_json([detail, {**detail, "id": 311}])] == ["310", "311"]
    assert parse_json({"unrelated": True}) == []


def test_resolution_paired_by_explicit_parent_id():
    motion = json.loads(read("motion_b1.json"))
    motion["status_id"], motion["status_title"] = 3, "Eingereicht"
    resolution = {
        **motion,
        "id": 999,
        "prefix": "",
        "title": "Kostenloses Schulessen für alle",
        "status_id": 26,
        "status_title": "Beschluss",
        "parent_motion_id": 310,
        "initiators": [{"type": "organization", "name": "", "organization": "LJK"}],
        "sections": [{"type": "TextSimple", "title": "Beschlusstext", "html": "<p>Beschluss.</p>"}],
    }
    item = one(parse_json([resolution, motion]))
    assert item.source_id == "310"
    assert item.meta["number"] == "B1"
    assert item.meta["title"] == "Kostenloses Schulessen für alle"
    assert item.meta["body"] == "LJK"
    assert item.meta["initiators"] == ["Noah Entwurf", "AG Bildung"]
    assert item.texts["Beschlusstext"] == "Beschluss."
    assert item.texts["Begründung"].startswith("Hunger")
    assert item.meta["outcome"] == "angenommen"


def test_final_resolution_wins_over_preliminary_one():
    data = json.loads(read("consultation.json"))
    extra = dict(data["motion_links"][7], id=150, status_id=25)
    data["motion_links"].append(extra)
    a1 = parse_json(data)[0]
    assert a1.source_id == "101" and a1.meta["validity"] == "in_kraft"
    assert any("Weiterer Beschluss" in w for w in a1.warnings)
    assert len(parse_json(data)) == 8


def test_same_number_in_another_event_is_not_merged():
    data = json.loads(read("consultation.json"))
    resolution = dict(data["motion_links"][7], id=240)
    other = {"title": "Landesjugendkonferenz 2024", "motion_links": [resolution]}
    items = parse_json([data, other])
    assert len(items) == 9
    alone = items[-1]
    assert alone.source_id == "240" and alone.meta["event"] == "Landesjugendkonferenz 2024"


def test_userdata_export_fields():
    item = one(
        parse_json(
            {
                "title": "Jugendbeteiligung",
                "title_prefix": "C2",
                "url": f"{HOST}/ljk21/Jugendbeteiligung-1234",
                "initiators": [{"type": "person", "name": "Mia Beispiel", "organization": ""}],
                "sections": [
                    {"section_title": "Titel", "section_type": 0, "data": "Jugendbeteiligung"},
                    {"section_title": "Antragstext", "section_type": 1, "data": "<p>Mehr!</p>"},
                ],
                "date_creation": "2021-05-02 10:00:00",
                "date_resolution": "2021-06-12 00:00:00",
                "status": 10,
                "status_string": "Landesausschuss",
            }
        )
    )
    assert item.source_id == "Jugendbeteiligung-1234"
    assert item.meta["number"] == "C2"
    assert item.meta["submitted"] == datetime(2021, 5, 2, 10, 0)
    assert item.meta["decided"] == date(2021, 6, 12)
    assert item.meta["referred_to"] == "Landesausschuss"
    assert item.texts == {"Beschlusstext": "Mehr!"}


# -- statuses ---------------------------------------------------------------------------------


def test_status_table_matches_antragsgruen():
    # models/db/IMotion.php: every STATUS_* constant with its number
    expected = {
        -3: "STATUS_WITHDRAWN_INVISIBLE", -2: "STATUS_DELETED", -1: "STATUS_WITHDRAWN",
        1: "STATUS_DRAFT", 2: "STATUS_SUBMITTED_UNSCREENED", 3: "STATUS_SUBMITTED_SCREENED",
        4: "STATUS_ACCEPTED", 5: "STATUS_REJECTED", 6: "STATUS_MODIFIED_ACCEPTED",
        7: "STATUS_MODIFIED", 8: "STATUS_ADOPTED", 9: "STATUS_COMPLETED", 10: "STATUS_REFERRED",
        11: "STATUS_VOTE", 12: "STATUS_PAUSED", 13: "STATUS_MISSING_INFORMATION",
        14: "STATUS_DISMISSED", 15: "STATUS_COLLECTING_SUPPORTERS", 16: "STATUS_DRAFT_ADMIN",
        17: "STATUS_PROCESSED", 18: "STATUS_SUBMITTED_UNSCREENED_CHECKED",
        19: "STATUS_MERGING_DRAFT_PUBLIC", 20: "STATUS_MERGING_DRAFT_PRIVATE",
        21: "STATUS_PROPOSED_MODIFIED_AMENDMENT", 22: "STATUS_OBSOLETED_BY_AMENDMENT",
        23: "STATUS_CUSTOM_STRING", 24: "STATUS_INLINE_REPLY",
        25: "STATUS_RESOLUTION_PRELIMINARY", 26: "STATUS_RESOLUTION_FINAL", 27: "STATUS_MOVED",
        28: "STATUS_PROPOSED_MOVE_TO_OTHER_MOTION", 29: "STATUS_QUORUM_MISSED",
        30: "STATUS_QUORUM_REACHED", 31: "STATUS_PROPOSED_MODIFIED_MOTION",
        32: "STATUS_OBSOLETED_BY_MOTION",
    }  # fmt: skip
    assert {k: v.constant for k, v in STATUS_OUTCOMES.items()} == expected


@pytest.mark.parametrize("status_id", sorted(STATUS_OUTCOMES))
def test_every_status_maps_to_a_valid_outcome(status_id):
    rule = STATUS_OUTCOMES[status_id]
    assert rule.outcome in S.OUTCOMES
    match = AG.outcome_for_status(status_id, None)
    assert match.outcome == rule.outcome
    if rule.outcome in S.ADOPTED:
        assert match.validity in S.VALIDITIES
    else:
        assert match.validity is None
    assert status_id_for_label(rule.de) in (status_id, None) or rule.de == "Eingereicht"
    assert status_id_for_label(rule.en) is not None


@pytest.mark.parametrize(
    "status_id, outcome, validity",
    [
        (4, "angenommen", "in_kraft"),
        (5, "abgelehnt", None),
        (6, "angenommen_geaendert", "in_kraft"),
        (8, "angenommen", "in_kraft"),
        (9, "erledigt", None),
        (10, "ueberwiesen", None),
        (12, "vertagt", None),
        (14, "nicht_zugelassen", None),
        (-1, "zurueckgezogen", None),
        (3, "offen", None),
        (11, "offen", None),
        (13, "offen", None),
        (1, "offen", None),
        (23, "offen", None),
        (25, "angenommen", "vorlaeufig"),
        (26, "angenommen", "in_kraft"),
        (22, "erledigt", None),
        (32, "erledigt", None),
        (27, "erledigt", None),
    ],
)
def test_status_mapping(status_id, outcome, validity):
    rule = STATUS_OUTCOMES[status_id]
    assert (rule.outcome, rule.validity if outcome in S.ADOPTED else None) == (outcome, validity)


def test_fixture_covers_every_status_and_all_validate():
    entries = json.loads(read("statuses.json"))
    assert sorted(e["status_id"] for e in entries) == sorted(STATUS_OUTCOMES)
    items = parse_path(AGF / "statuses.json")
    assert len(items) == len(entries)
    by_status = {e["status_id"]: item for e, item in zip(entries, items, strict=True)}
    for status_id, item in by_status.items():
        rule = STATUS_OUTCOMES[status_id]
        assert item.meta["outcome"] == rule.outcome, status_id
        if rule.problem:
            assert item.problem, status_id
            continue
        assert item.problem is None, status_id
        assert schema_problems(item) == [], (status_id, item.meta)
    assert by_status[10].meta["referred_to"] == "Landesausschuss"
    assert by_status[23].meta["outcome_detail"] == "An die Herbstkonferenz verwiesen"
    assert by_status[22].meta["outcome_detail"] == "erledigt durch S1-003 zu S1"
    assert by_status[27].meta["outcome_detail"].startswith("verschoben")
    assert "outcome_detail" not in by_status[15].meta  # "(Berechtigung: …)" is no status text
    assert by_status[25].meta["validity"] == "vorlaeufig"
    assert by_status[26].meta["body"] == "Landesjugendkonferenz"
    assert "initiators" not in by_status[26].meta


@pytest.mark.parametrize(
    "label, outcome, extra",
    [
        ("Angenommen", "angenommen", {}),
        ("ANGENOMMEN", "angenommen", {}),
        ("Accepted", "angenommen", {}),
        ("Abgelehnt", "abgelehnt", {}),
        ("Rejected", "abgelehnt", {}),
        ("Modifiziert übernommen", "angenommen_geaendert", {}),
        ("Accepted (modified)", "angenommen_geaendert", {}),
        ("Übernahme", "angenommen", {}),
        ("Überweisung (Landesvorstand)", "ueberwiesen", {"referred_to": "Landesvorstand"}),
        ("Ueberweisung", "ueberwiesen", {}),
        ("Referred (State board)", "ueberwiesen", {"referred_to": "State board"}),
        ("überwiesen an Landesausschuss", "ueberwiesen", {"referred_to": "Landesausschuss"}),
        ("Erledigt", "erledigt", {}),
        ("Completed", "erledigt", {}),
        ("Erledigt durch: A3", "erledigt", {"outcome_detail": "erledigt durch A3"}),
        ("Handled by another motion", "erledigt", {}),
        ("Zurückgezogen", "zurueckgezogen", {}),
        ("zurueckgezogen", "zurueckgezogen", {}),
        ("Withdrawn", "zurueckgezogen", {}),
        ("Nicht zugelassen", "nicht_zugelassen", {}),
        ("Dismissed", "nicht_zugelassen", {}),
        ("Pausiert", "vertagt", {}),
        ("Vertagt", "vertagt", {}),
        ("Paused", "vertagt", {}),
        ("Nichtbefassung", "nichtbefassung", {}),
        ("Eingereicht", "offen", {}),
        ("Geprüft", "offen", {}),
        ("Published", "offen", {}),
        ("Abstimmung", "offen", {}),
        ("Informationen fehlen", "offen", {}),
        ("Unterstützer*innen sammeln", "offen", {}),
        ("Entwurf", "offen", {}),
        ("Beschluss", "angenommen", {"validity": "in_kraft"}),
        ("Beschluss (vorläufig)", "angenommen", {"validity": "vorlaeufig"}),
        ("Resolution (preliminary)", "angenommen", {"validity": "vorlaeufig"}),
        ("Sonstiger Status (Vertagt auf 2024)", "offen", {"outcome_detail": "Vertagt auf 2024"}),
        ("angenommen mit Änderungen", "angenommen_geaendert", {}),
        ("angenommen_geaendert", "angenommen_geaendert", {"validity": "in_kraft"}),
    ],
)
def test_outcome_for_label(label, outcome, extra):
    match = outcome_for_label(label)
    assert match is not None and match.outcome == outcome
    for key, value in extra.items():
        assert getattr(match, key) == value
    if outcome not in S.ADOPTED:
        assert match.validity is None


def test_unknown_labels():
    assert outcome_for_label("vielleicht später") is None
    assert outcome_for_label("") is None
    assert status_id_for_label("Zurückgezogen") == -1
    assert status_id_for_label("zurueckgezogen") == -1
    assert status_id_for_label("Unterstützerinnen sammeln") == 15
    assert status_id_for_label("Beschluss (vorläufig)") == 25
    assert status_id_for_label("Irgendwas") is None


# -- HTML to markdown -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html, expected",
    [
        ("<p>Eins</p><p>Zwei</p>", "Eins\n\nZwei"),
        ("<p>Eins<br>Zwei</p>", "Eins\\\nZwei"),
        ("<p><strong>fett</strong> und <em>kursiv</em> und <b>b</b> <i>i</i></p>",
         "**fett** und *kursiv* und **b** *i*"),
        ("<p><strong> mit Leerzeichen </strong>weiter</p>", "**mit Leerzeichen** weiter"),
        ("<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>", "- a\n- b\n  - c"),
        ('<ol start="3"><li>drei</li><li>vier</li></ol>', "3. drei\n4. vier"),
        ("<h2>Ziele</h2><p>Text</p>", "### Ziele\n\nText"),
        ("<h4>Klein</h4>", "### Klein"),
        ('<p><a href="https://example.org/x">Link</a></p>', "[Link](https://example.org/x)"),
        ('<p><a href="http://example.org/a b">Leer</a></p>', "[Leer](http://example.org/a%20b)"),
        ('<p><a href="ftp://example.org/">FTP</a> <a href="/relativ">rel</a></p>', "FTP rel"),
        ("<p>2022. war ein Jahr</p>", "2022\\. war ein Jahr"),  # a list item for CommonMark
        ("<p>19.03.2022 war ein Tag</p>", "19.03.2022 war ein Tag"),
        ("<p>1. Punkt</p>", "1\\. Punkt"),
        ("<p># keine Überschrift</p>", "\\# keine Überschrift"),
        ("<p>- kein Punkt</p>", "\\- kein Punkt"),
        ("<p>a_b *c* [d](e) `f` |g|</p>", "a\\_b \\*c\\* \\[d\\](e) \\`f\\` \\|g\\|"),
        ("<p>~~h~~</p>", "\\~\\~h\\~\\~"),
        ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "\\<script\\>alert(1)\\</script\\>"),
        ("<p>&amp;lt; bleibt</p>", "\\&lt; bleibt"),
        ("<blockquote><p>Zitat</p><p>weiter</p></blockquote>", "> Zitat\n>\n> weiter"),
        ("<p><del>alt</del> <s>weg</s></p>", "~~alt~~ ~~weg~~"),
        ('<dl class="tabularData"><dt>Alter:</dt><dd>23</dd></dl>', "- **Alter:** 23"),
        ("<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>",
         "| A | B |\n| --- | --- |\n| 1 | 2 |"),
        ("Text ohne <span class='underline'>Tags</span>", "Text ohne Tags"),
        ("<p>a<span class=\"lineNumber\" data-line-number=\"4\"></span>b</p>", "ab"),
    ],
)  # fmt: skip
def test_html_to_markdown(html, expected):
    assert html_to_markdown(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script><p>ok</p>",
        "<p>ok<script type='text/javascript'>document.cookie</script></p>",
        "<style>p { color: red }</style><p>ok</p>",
        '<p onclick="alert(1)">ok</p>',
        '<p>ok<img src="x" onerror="alert(1)"></p>',
        '<p><a href="javascript:alert(1)">ok</a></p>',
        '<iframe src="https://evil.example"></iframe><p>ok</p>',
        "<p>ok</p><form><input value='secret'><button>Senden</button></form>",
        "<svg><script>alert(1)</script></svg><p>ok</p>",
        "<noscript><p>nein</p></noscript><p>ok</p>",
        "<p>ok<!-- <script>alert(1)</script> --></p>",
        "<p>ok</p><template><p>nein</p></template>",
    ],
)
def test_markdown_never_passes_script_or_html(html):
    md = html_to_markdown(html)
    assert md == "ok"
    assert "script" not in md and "alert" not in md and no_raw_html(md)


def test_markdown_text_from_scripts_in_fixtures_is_dropped():
    for item in parse_path(AGF):
        for text in item.texts.values():
            assert "alert" not in text and "Modernizr" not in text and no_raw_html(text)


def test_markdown_renders_as_the_original_text():
    from wiki.markup import Renderer

    renderer = Renderer()
    items = parse_path(AGF)
    a1 = next(i for i in items if i.source_id == A1_SLUG)
    reason = renderer.render(a1.texts["Begründung"], "beschluesse/test").html
    assert "Siehe [[FAQ]] &amp; *Hinweise* &lt;b&gt;nicht fett&lt;/b&gt;." in reason
    assert '<a href="https://www.example.org/studie_nahverkehr.pdf">' in reason
    b1 = next(i for i in items if i.source_id == "310")
    html = renderer.render(b1.texts["Beschlusstext"], "beschluesse/test").html
    assert "Alle Schüler*innen in Thüringen" in html and "<li>regional</li>" in html
    for item in items:
        for text in item.texts.values():
            rendered = renderer.render(text, "beschluesse/test").html
            assert "<script" not in rendered and "onerror" not in rendered


# -- votes and dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, votes",
    [
        ("Ja: 40, Nein: 3, Enthaltungen: 2", {"yes": 40, "no": 3, "abstain": 2}),
        ("Ja: 40, Nein: 3, Enthaltungen: 2, Ungültig: 1",
         {"yes": 40, "no": 3, "abstain": 2, "invalid": 1}),
        ("40:3:2", {"yes": 40, "no": 3, "abstain": 2}),
        ("40 : 3 : 2 : 1", {"yes": 40, "no": 3, "abstain": 2, "invalid": 1}),
        ("12/30", {"yes": 12, "no": 30}),
        ("einstimmig", "unanimous"),
        ("Einstimmig angenommen", "unanimous"),
        ("unanimously adopted", "unanimous"),
        ("Yes: 4, No: 3, Abstention: 1", {"yes": 4, "no": 3, "abstain": 1}),
        ("Yes: 4, No: 3, Abstentions: 1, Invalid: 0",
         {"yes": 4, "no": 3, "abstain": 1, "invalid": 0}),
        ("40 Ja, 3 Nein, 2 Enthaltungen", {"yes": 40, "no": 3, "abstain": 2}),
        ("Ja 40 / Nein 3 / Enth. 2", {"yes": 40, "no": 3, "abstain": 2}),
        ("Dafür: 17; Dagegen: 2", {"yes": 17, "no": 2}),
        ("Ja-Stimmen: 9, Nein-Stimmen: 1", {"yes": 9, "no": 1}),
        ("große Mehrheit", None),
        ("einstimmig bei 2 Enthaltungen", None),
        ("Ja: 4, Ja: 5", None),
        ("Ja: 4 und viele mehr", None),
        ("", None),
    ],
)  # fmt: skip
def test_parse_votes(text, votes):
    assert parse_votes(text) == votes


@pytest.mark.parametrize(
    "text, month_first, expected",
    [
        ("19.03.2022", False, datetime(2022, 3, 19)),
        ("19.3.22", False, datetime(2022, 3, 19)),
        ("19.03.2022, 14:30", False, datetime(2022, 3, 19, 14, 30)),
        ("19.03.2022 14:30 Uhr", False, datetime(2022, 3, 19, 14, 30)),
        ("2022-03-19", False, datetime(2022, 3, 19)),
        ("2022-03-19 14:30:05", False, datetime(2022, 3, 19, 14, 30, 5)),
        ("2015-03-30T03:27:20+02:00", False, datetime(2015, 3, 30, 3, 27, 20)),
        ("03/19/2022", True, datetime(2022, 3, 19)),
        ("03/01/2022, 18:00", True, datetime(2022, 3, 1, 18, 0)),
        ("03/01/2022", False, datetime(2022, 1, 3)),
        ("19/03/2022", True, datetime(2022, 3, 19)),
        ("19. März 2022", False, datetime(2022, 3, 19)),
        ("March 19, 2022", True, datetime(2022, 3, 19)),
        ("19-03-2022", False, datetime(2022, 3, 19)),
        ("31.04.2022", False, None),
        ("19.03.2022, 25:00", False, None),
        ("gestern", False, None),
        ("", False, None),
    ],
)
def test_dates(text, month_first, expected):
    assert parse_datetime_text(text, month_first=month_first) == expected
    day = parse_date_text(text, month_first=month_first)
    assert day == (expected.date() if expected else None)


# -- files and directories --------------------------------------------------------------------


def test_parse_path_sniffs_content_and_reports_bad_files(tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(AGF / "motion_b1.json", tmp_path / "sub" / "b1.JSON")
    (tmp_path / "kaputt.json").write_text("{nicht json", encoding="utf-8")
    (tmp_path / "notiz.html").write_text("einfach Text", encoding="utf-8")
    (tmp_path / "ignoriert.txt").write_text("{}", encoding="utf-8")
    items = parse_path(tmp_path)
    assert [i.label for i in items] == ["kaputt.json", "notiz.html", "B1 Kostenloses Schulessen"]
    assert "Ungültiges JSON" in items[0].problem
    assert "Weder JSON noch HTML" in items[1].problem
    assert items[2].problem is None
    # a single file is read by its content, whatever its name
    disguised = tmp_path / "export.txt"
    disguised.write_text(read("motion_a1_view.html"), encoding="utf-8")
    assert one(parse_path(disguised)).source_id == A1_SLUG


def test_parse_path_whole_fixture_directory():
    items = parse_path(AGF)
    ids = [i.source_id for i in items]
    assert len(ids) == len(set(ids))
    assert A1_SLUG in ids and "101" in ids and "310" in ids and "315" in ids


# -- CSV --------------------------------------------------------------------------------------


def csv_items() -> list[ImportItem]:
    return parse_csv((FIXTURES / "resolutions.csv").read_text(encoding="utf-8"))


def test_csv_fixture_rows():
    items = csv_items()
    assert len(items) == 8  # the blank row is skipped
    first = items[0]
    assert first.system == "csv" and first.problem is None
    assert first.source_id == "LaKo-2019-A3"
    assert first.source_url == "https://archiv.jugend-thueringen.example/2019/a3"
    assert first.meta == {
        "id": "LaKo-2019-A3",
        "number": "A3",
        "title": "Jugendverbandsarbeit absichern",
        "body": "Landeskonferenz",
        "event": "Landeskonferenz 2019",
        "agenda_item": "5 Anträge",
        "submitted": datetime(2019, 3, 1),
        "decided": date(2019, 3, 16),
        "initiators": ["Landesvorstand", "KV Erfurt"],
        "outcome": "angenommen_geaendert",
        "validity": "in_kraft",
        "valid_until": date(2024, 12, 31),
        "votes": {"yes": 40, "no": 3, "abstain": 2},
        "outcome_detail": "mit Änderungen aus Ä2",
        "topics": ["Finanzen", "Jugendarbeit"],
        "source": {
            "system": "csv",
            "id": "LaKo-2019-A3",
            "url": "https://archiv.jugend-thueringen.example/2019/a3",
        },
    }
    assert first.texts == {
        "Beschlusstext": "Die Landeskonferenz fordert eine\nverlässliche Förderung der "
        "Jugendverbände.\n\nDazu gehören:\n- Personalstellen\n- Sachmittel",
        "Begründung": "Ohne Förderung keine Jugendarbeit.",
        "Protokollnotiz": "Einstimmig ohne Debatte aufgerufen.",
    }
    assert first.warnings == []

    a4 = by_label(items, "A4 ")
    assert a4.source_id == "Landeskonferenz 2019/A4"  # number + event without a Kennung
    assert a4.meta["outcome"] == "abgelehnt" and a4.meta["decided"] == date(2019, 3, 16)
    assert a4.meta["votes"] == {"yes": 12, "no": 30, "abstain": 4}
    a5 = by_label(items, "A5 ")
    assert a5.meta["outcome"] == "ueberwiesen" and a5.meta["referred_to"] == "Landesvorstand"
    assert a5.meta["votes"] == "unanimous"
    a6 = by_label(items, "A6 ")
    assert a6.meta["outcome"] == "nichtbefassung"
    assert a6.meta["outcome_detail"] == "große Mehrheit"  # unreadable votes kept as detail
    assert any("große Mehrheit" in w for w in a6.warnings)
    lavo = by_label(items, "7 ")
    assert lavo.meta["outcome"] == "zurueckgezogen" and "validity" not in lavo.meta
    assert lavo.meta["submitted"] == datetime(2021, 6, 1, 19, 30)
    assert any("nur für angenommene" in w for w in lavo.warnings)
    for item in items:
        if item.problem is None:
            assert schema_problems(item, item.meta.get("id") or "Test-2019-1") == [], item.label


def test_csv_bad_rows_have_problems():
    items = csv_items()
    bad = {i.label: i.problem for i in items if i.problem}
    assert set(bad) == {"A7 Nachtbusse", "A8", "3 Corona-Hilfen für Jugendgruppen"}
    assert "Ergebnis „vorläufig beschlossen?“ nicht erkannt" in bad["A7 Nachtbusse"]
    assert "Titel fehlt" in bad["A8"]
    assert "Beschlussdatum „31.04.2020“ nicht lesbar" in bad["3 Corona-Hilfen für Jugendgruppen"]
    assert bad["A8"].startswith("Zeile 7:")


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_csv_delimiters_and_bom(delimiter, bom):
    rows = [
        ["Titel", "Ergebnis", "Beschlossen", "Antragsteller", "Themen", "Beschlusstext"],
        ["Mehr Bänke, bitte", "angenommen", "2023-05-01", "Max; Moritz", "Stadt; Park",
         "Zeile 1\nZeile 2"],
    ]  # fmt: skip

    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, "\n", '"', ";", ",")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = bom + "\r\n".join(delimiter.join(cell(c) for c in row) for row in rows) + "\r\n"
    item = one(parse_csv(text))
    assert item.problem is None
    assert item.meta["title"] == "Mehr Bänke, bitte"
    assert item.meta["outcome"] == "angenommen" and item.meta["validity"] == "in_kraft"
    assert item.meta["decided"] == date(2023, 5, 1)
    assert item.meta["initiators"] == ["Max", "Moritz"]
    assert item.meta["topics"] == ["Stadt", "Park"]
    assert item.texts["Beschlusstext"] == "Zeile 1\nZeile 2"
    assert item.source_id == "2023-05-01/Mehr Bänke, bitte"
    assert any("erneutes Einlesen" in w for w in item.warnings)


def test_csv_english_headers_and_labels():
    text = (
        "ID,Number,Title,Body,Event,Decided,Outcome,Referred_To,Votes,Validity,Topics,Text,URL\n"
        "LMV-2022-B2,B2,Jugendquote,Landesmitgliederversammlung,LMV 2022,19.11.2022,"
        "überwiesen,Landesausschuss,Yes: 4; No: 3; Abstention: 1,,Jugend,Text,ftp://x\n"
        "LMV-2022-B3,B3,Wahlrecht,Landesmitgliederversammlung,LMV 2022,19.11.2022,"
        "Beschluss (vorläufig),,,,,,\n"
        "LMV-2022-B4,B4,Archiv,Landesmitgliederversammlung,LMV 2022,19.11.2022,"
        "angenommen,,,historisch,,,\n"
    )
    b2, b3, b4 = parse_csv(text)
    assert b2.meta["outcome"] == "ueberwiesen" and b2.meta["referred_to"] == "Landesausschuss"
    assert b2.meta["votes"] == {"yes": 4, "no": 3, "abstain": 1}
    assert b2.source_url is None and any("keine http" in w for w in b2.warnings)
    assert b3.meta["outcome"] == "angenommen" and b3.meta["validity"] == "vorlaeufig"
    assert b4.meta["validity"] == "historisch"
    assert any("Kein Beschlusstext" in w for w in b3.warnings)


@pytest.mark.parametrize(
    "label, outcome",
    [
        ("angenommen", "angenommen"),
        ("Angenommen mit Änderungen", "angenommen_geaendert"),
        ("abgelehnt", "abgelehnt"),
        ("überwiesen", "ueberwiesen"),
        ("erledigt", "erledigt"),
        ("Nichtbefassung", "nichtbefassung"),
        ("vertagt", "vertagt"),
        ("zurückgezogen", "zurueckgezogen"),
        ("nicht zugelassen", "nicht_zugelassen"),
        ("offen", "offen"),
        ("nicht_zugelassen", "nicht_zugelassen"),
    ],
)
def test_csv_outcome_labels(label, outcome):
    text = f"Titel;Ergebnis;Beschlossen\nEin Antrag;{label};01.02.2023\n"
    item = one(parse_csv(text))
    assert item.problem is None and item.meta["outcome"] == outcome
    assert ("validity" in item.meta) == (outcome in S.ADOPTED)


def test_csv_without_required_columns():
    item = one(parse_csv("Nummer;Text\nA1;Hallo\n"))
    assert item.problem and "Titel" in item.problem and "Ergebnis" in item.problem


def test_csv_unknown_columns_and_dates():
    text = "Titel;Ergebnis;Farbe;Eingereicht\nA;angenommen;blau;gestern\nB;abgelehnt;;\n"
    first, second = parse_csv(text)
    assert any("Farbe" in w for w in first.warnings)
    assert "Eingangsdatum „gestern“ nicht lesbar" in first.problem
    assert "weder Beschluss- noch Eingangsdatum" in second.problem
    assert parse_csv("") == [] and parse_csv("\ufeff") == []

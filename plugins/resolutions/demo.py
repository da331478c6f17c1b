"""Demo resolutions for ``verbandswiki init --demo``: decisions of the demo chapters across
several years, with different outcomes and validities and typed links between them (these ten and
the ones in :mod:`plugins.resolutions.demo_data`).

Runs after the spaces demo (``trylast``), so the resolutions land in the demo chapters; without
the spaces plugin they are filed under ``beschluesse/`` at the top level.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from plugins.resolutions import schema as S
from plugins.resolutions.demo_data import MORE
from wiki.api import Page, PageRow, commit_demo

#: (space, front matter, Beschlusstext, Begründung)
RESOLUTIONS = (
    (
        "thueringen",
        {
            "id": "LaKo-2019-A3",
            "number": "A3",
            "title": "Ein Azubiticket für ganz Thüringen",
            "body": "Landeskongress",
            "event": "Landeskongress 2019",
            "agenda_item": "5 Antragsberatung",
            "submitted": datetime(2019, 2, 20, 18, 0),
            "decided": date(2019, 3, 16),
            "initiators": ["Kreisverband Erfurt"],
            "outcome": "angenommen",
            "votes": {"yes": 41, "no": 2, "abstain": 3},
            "validity": "ersetzt",
            "topics": ["Verkehr", "Ausbildung"],
            "visibility": "public",
        },
        "Der Landesverband fordert ein landesweit gültiges Ticket für Auszubildende zum Preis "
        "von höchstens 30 Euro im Monat. Wir tragen diese Forderung in Gespräche mit den "
        "Verkehrsverbünden und der Landesregierung.",
        "Auszubildende pendeln oft weit und verdienen wenig.",
    ),
    (
        "thueringen",
        {
            "id": "LaKo-2022-A1",
            "number": "A1",
            "title": "Kostenloser Nahverkehr für junge Menschen",
            "body": "Landeskongress",
            "event": "Landeskongress 2022",
            "agenda_item": "6 Antragsberatung",
            "submitted": datetime(2022, 2, 28, 20, 15),
            "decided": date(2022, 3, 19),
            "initiators": ["Landesvorstand", "Kreisverband Jena"],
            "outcome": "angenommen",
            "votes": {"yes": 52, "no": 3, "abstain": 4},
            "validity": "in_kraft",
            "topics": ["Verkehr", "Soziales"],
            "links": {"replaces": ["LaKo-2019-A3"]},
            "visibility": "public",
        },
        "Der Landesverband setzt sich dafür ein, dass Schüler*innen, Auszubildende, "
        "Studierende und Freiwilligendienstleistende den öffentlichen Nahverkehr in ganz "
        "Thüringen kostenlos nutzen können.\n\n"
        "Dazu wollen wir:\n\n"
        "- das Azubiticket zu einem Jugendticket weiterentwickeln,\n"
        "- die Finanzierung über das Land sichern,\n"
        "- Busverbindungen im ländlichen Raum auch abends und am Wochenende ausbauen.",
        "Mobilität ist Voraussetzung für Bildung, Ausbildung und Teilhabe. Dieser Beschluss "
        "ersetzt den Beschluss LaKo-2019-A3.",
    ),
    (
        "thueringen",
        {
            "id": "LaKo-2022-A4",
            "number": "A4",
            "title": "Wahlalter 14 bei Kommunalwahlen",
            "body": "Landeskongress",
            "event": "Landeskongress 2022",
            "agenda_item": "6 Antragsberatung",
            "decided": date(2022, 3, 19),
            "initiators": ["Ortsverband Erfurt-Nord"],
            "outcome": "abgelehnt",
            "votes": {"yes": 20, "no": 31, "abstain": 5},
            "topics": ["Demokratie"],
            "visibility": "public",
        },
        "Der Landesverband fordert, das aktive Wahlrecht bei Kommunalwahlen auf 14 Jahre "
        "abzusenken.",
        "",
    ),
    (
        "thueringen",
        {
            "id": "LaKo-2023-A2",
            "number": "A2",
            "title": "Mehr Schulsozialarbeit an allen Schulen",
            "body": "Landeskongress",
            "event": "Landeskongress 2023",
            "agenda_item": "7 Anträge",
            "decided": date(2023, 4, 22),
            "initiators": ["Arbeitskreis Bildung"],
            "outcome": "angenommen_geaendert",
            "outcome_detail": "mit Änderungsantrag Ä1 (Finanzierung)",
            "votes": "unanimous",
            "validity": "in_kraft",
            "topics": ["Bildung", "Soziales"],
            "visibility": "public",
        },
        "Jede Schule in Thüringen braucht mindestens eine volle Stelle für Schulsozialarbeit. "
        "Das Land finanziert diese Stellen dauerhaft und nicht nur über befristete Programme.",
        "",
    ),
    (
        "thueringen",
        {
            "id": "LaVo-2024-01",
            "number": "01",
            "title": "Kampagne „Jugendticket jetzt“",
            "body": "Landesvorstand",
            "event": "Sitzung des Landesvorstands am 10. Januar 2024",
            "decided": date(2024, 1, 10),
            "initiators": ["Landesvorstand"],
            "outcome": "angenommen",
            "votes": {"yes": 7, "no": 0, "abstain": 1},
            "validity": "umgesetzt",
            "topics": ["Verkehr", "Kampagnen"],
            "links": {"implements": ["LaKo-2022-A1"]},
            "visibility": "internal",
        },
        "Der Landesvorstand startet im Frühjahr eine Kampagne für das Jugendticket mit "
        "Aktionstagen in allen Kreisverbänden.",
        "",
    ),
    (
        "thueringen/erfurt",
        {
            "id": "EF-KMV-2023-A1",
            "number": "A1",
            "title": "Sichere Radwege in Erfurt",
            "body": "Kreismitgliederversammlung",
            "event": "Kreismitgliederversammlung Herbst 2023",
            "decided": date(2023, 10, 7),
            "initiators": ["Mia Mitglied"],
            "outcome": "angenommen",
            "votes": {"yes": 18, "no": 1, "abstain": 0},
            "validity": "in_kraft",
            "topics": ["Verkehr"],
            "links": {"forwarded_to": ["LaKo-2024-A5"]},
            "visibility": "public",
        },
        "Der Kreisverband fordert geschützte Radwege auf allen Hauptstraßen in Erfurt und "
        "leitet den Antrag an den Landeskongress weiter.",
        "",
    ),
    (
        "thueringen",
        {
            "id": "LaKo-2024-A5",
            "number": "A5",
            "title": "Radverkehr im ländlichen Raum",
            "body": "Landeskongress",
            "event": "Landeskongress 2024",
            "decided": date(2024, 3, 23),
            "initiators": ["Kreisverband Erfurt"],
            "outcome": "ueberwiesen",
            "referred_to": "Landesvorstand",
            "topics": ["Verkehr"],
            "links": {"forwarded_from": ["EF-KMV-2023-A1"]},
            "visibility": "public",
        },
        "Der Landesverband setzt sich für ein Radwegenetz zwischen den Dörfern und den "
        "nächsten Bahnhöfen ein.",
        "",
    ),
    (
        "thueringen/jena",
        {
            "id": "J-KMV-2021-A2",
            "number": "A2",
            "title": "Solidarität mit den Beschäftigten des Universitätsklinikums",
            "body": "Kreismitgliederversammlung",
            "event": "Kreismitgliederversammlung 2021",
            "decided": date(2021, 11, 13),
            "initiators": ["Jan Mitglied"],
            "outcome": "angenommen",
            "votes": "unanimous",
            "validity": "historisch",
            "topics": ["Arbeit", "Gesundheit"],
            "visibility": "members",
        },
        "Der Kreisverband Jena unterstützt die Beschäftigten des Universitätsklinikums in "
        "ihrer Tarifauseinandersetzung.",
        "",
    ),
    (
        "thueringen/erfurt/nord",
        {
            "id": "EF-N-MV-2025-A1",
            "number": "A1",
            "title": "Ein Treffpunkt im Stadtteil",
            "body": "Mitgliederversammlung",
            "event": "Mitgliederversammlung Herbst 2025",
            "submitted": datetime(2025, 10, 1, 19, 30),
            "initiators": ["Mia Mitglied"],
            "outcome": "offen",
            "topics": ["Ortsarbeit"],
            "visibility": "members",
        },
        "Der Ortsverband sucht einen festen Raum für seine Treffen im Erfurter Norden.",
        "",
    ),
    (
        "thueringen",
        {
            "id": "LaKo-2025-A7",
            "number": "A7",
            "title": "Landeskongress nur noch digital",
            "body": "Landeskongress",
            "event": "Landeskongress 2025",
            "decided": date(2025, 3, 29),
            "initiators": ["Kreisverband Jena"],
            "outcome": "zurueckgezogen",
            "outcome_detail": "von den Antragsteller*innen vor der Abstimmung zurückgezogen",
            "topics": ["Satzung"],
            "visibility": "internal",
        },
        "Der Landeskongress tagt künftig ausschließlich digital.",
        "",
    ),
)


def demo_files(spaces: set[str]) -> dict[str, bytes]:
    """The demo resolutions as files (the chapter only if it exists)."""
    files = {}
    for space, meta, text, reason in RESOLUTIONS + MORE:
        where = space if space in spaces else None
        path = S.propose_path(where, S.year_of(meta), meta["id"])
        text = S.page_text(meta, {"Beschlusstext": text, "Begründung": reason})
        page = Page.parse(path, text)
        problems = page.problems or S.check(page.meta, page.body)
        if problems:  # the demo data is fixed; this guards against schema changes
            raise ValueError(f"demo resolution {meta['id']}: {problems}")
        files[f"{path}.md"] = text.encode("utf-8")
    return files


def create(state, say) -> None:
    """Commit the demo resolutions in one commit (once)."""
    with state.sessions() as session:
        spaces = set(session.scalars(select(PageRow.path).where(PageRow.type == "space")))
    files = demo_files(spaces)
    if not commit_demo(state, files, "Demo-Beschlüsse angelegt"):
        return
    say(f"Demo-Beschlüsse: {len(files)} unter /-/resolutions/")

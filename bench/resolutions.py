"""Benchmark of the resolutions archive on a large instance; prints a markdown table to stdout.

Builds an instance with the plugins ``plugins.spaces`` and ``plugins.resolutions``: 30 chapters
(a Landesverband ``lv``, six Kreisverbände ``lv/kv-N`` with three or four Ortsverbände
``lv/kv-N/ov-M`` each) and ``--resolutions`` resolution pages (default 5,000; ``--quick``: 500)
over 20 years (2005–2024): conferences, board meetings and members' meetings with motions
A1…A40 and amendments Ä1…, realistic outcomes and validities (rejected, referred, replaced,
expired …), one to three of 40 topics, initiators out of about 230 people and chapters, typed
links, visibilities public/internal/members/board and a Beschlusstext of two to six sentences.
The pages are written with ``git fast-import`` in 200 commits in date order. Then, in one run
(progress goes to stderr):

1. the initial sync (projection and search index) and, alone, the search index build;
2. accounts as the tests create them: anonymous, a logged-in user without membership, a member
   of an Ortsverband, a board member of a Kreisverband, an admin;
3. ``--queries`` filter combinations (default 200), the principals taking turns:
   ``Archive.query`` with all 8 facets (page 1; a first pass, reported, then the measured one),
   the same through ``/-/resolutions/`` (Flask test client, template included) and through the
   JSON API ``/-/api/v1/resolutions``;
4. as many full-text queries with filters: ``SearchService.scores`` and then ``Archive.query``
   with those hits (the search part is reported separately too);
5. the CSV export of every resolution as admin (median of 3, size) and the id lookups
   ``/-/resolutions/<id>`` and ``/-/api/v1/resolutions/<id>``.

``--profile`` adds where the faceted queries spend their time: every SQL statement replayed
alone on sqlite3 and summed by kind, SQLAlchemy's compile count, the query plans of the default
view and a cProfile (top 18 by own time).

Usage::

    .venv/bin/python bench/resolutions.py --quick
    .venv/bin/python bench/resolutions.py > bench/out/resolutions.md
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import io
import random
import re
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Report,
    add_workdir_options,
    environment,
    fast_import,
    log,
    ms,
    pct,
    profile_text,
    run_in_workdir,
    timed,
)

PASSWORD = "bench-password-123"
CSRF_RE = re.compile(r'name="csrf(?:-token" content|_token" value)="([^"]+)"')
FIRST_YEAR, LAST_YEAR = 2005, 2024
TODAY = date(2025, 1, 15)  # "now" for validities: fixed, so a seed gives the same data
COMMITS = 200
TARGET_FACETED = 0.010  # issue 13

# --------------------------------------------------------------------------------------------
# chapters

LV = ("lv", "Landesverband Thüringen", "TH", "Thüringen")
KREISE = [  # (name, code, weight, [(Ortsverband, code)])
    ("Erfurt", "EF", 1.4, [("Erfurt-Nord", "EF-N"), ("Erfurt-Süd", "EF-S"),
                           ("Erfurt-Mitte", "EF-M"), ("Erfurt-Ost", "EF-O")]),
    ("Jena", "J", 1.3, [("Jena-Nord", "J-N"), ("Jena-Lobeda", "J-LO"), ("Jena-Winzerla", "J-WI"),
                        ("Jena-Ost", "J-O")]),
    ("Weimar", "WE", 1.0, [("Weimar-Nord", "WE-N"), ("Weimar-West", "WE-W"), ("Apolda", "AP"),
                           ("Bad Berka", "BB")]),
    ("Gotha", "GTH", 0.8, [("Gotha-Stadt", "GTH-ST"), ("Waltershausen", "WAH"),
                           ("Ohrdruf", "OHR"), ("Friedrichroda", "FRI")]),
    ("Gera", "G", 0.9, [("Gera-Nord", "G-N"), ("Gera-Lusan", "G-L"), ("Ronneburg", "RON"),
                        ("Bad Köstritz", "BK")]),
    ("Eichsfeld", "EIC", 0.6, [("Heiligenstadt", "HIG"), ("Leinefelde-Worbis", "LW"),
                               ("Dingelstädt", "DIN")]),
]  # fmt: skip


@dataclass
class Chapter:
    path: str
    name: str
    code: str
    kind: str  # landesverband, kreisverband, ortsverband
    place: str
    weight: float
    founded: int
    default_visibility: str

    @property
    def subject(self) -> str:
        """How the chapter names itself in a resolution ("Der Kreisverband Erfurt")."""
        return {
            "landesverband": "Der Landesverband",
            "kreisverband": f"Der {self.name}",
            "ortsverband": f"Der {self.name}",
        }[self.kind]

    @property
    def board(self) -> str:
        return {
            "landesverband": "Landesvorstand",
            "kreisverband": f"Kreisvorstand {self.place}",
            "ortsverband": f"Ortsvorstand {self.place}",
        }[self.kind]


def make_chapters(rng: random.Random) -> list[Chapter]:
    """30 chapters; Landesverband 25 % of the resolutions, Kreisverbände 35 %, Ortsverbände 40 %."""
    path, name, code, place = LV
    chapters = [Chapter(path, name, code, "landesverband", place, 0.25, FIRST_YEAR, "internal")]
    kv_total = sum(k[2] for k in KREISE)
    ov_total = sum(k[2] * len(k[3]) for k in KREISE)
    for n, (place, code, weight, ovs) in enumerate(KREISE, 1):
        kv = f"lv/kv-{n}"
        chapters.append(
            Chapter(
                kv,
                f"Kreisverband {place}",
                code,
                "kreisverband",
                place,
                0.35 * weight / kv_total,
                FIRST_YEAR,
                "members",
            )
        )
        for m, (ov_place, ov_code) in enumerate(ovs, 1):
            share = 0.40 * weight / ov_total * rng.uniform(0.6, 1.4)
            founded = FIRST_YEAR if rng.random() < 0.5 else rng.randint(FIRST_YEAR, 2013)
            chapters.append(
                Chapter(
                    f"{kv}/ov-{m}",
                    f"Ortsverband {ov_place}",
                    ov_code,
                    "ortsverband",
                    ov_place,
                    share,
                    founded,
                    "members",
                )
            )
    return chapters


def space_text(chapter: Chapter) -> bytes:
    """The definition page of a chapter's space (as ``tests/plugins/conftest.py`` writes it)."""
    meta = {
        "title": chapter.name,
        "type": "space",
        "name": chapter.name,
        "code": chapter.code,
        "kind": chapter.kind,
        "default_visibility": chapter.default_visibility,
        "edit": "members",
        "visibility": "public",
    }
    head = "".join(f"{k}: {v}\n" for k, v in meta.items())
    return f"---\n{head}---\n# {chapter.name}\n\nDas ist der {chapter.name}.\n".encode()


# --------------------------------------------------------------------------------------------
# vocabulary

TOPICS = [
    "Verkehr", "Klimaschutz", "Energie", "Bildung", "Soziales", "Wohnen", "Gesundheit",
    "Digitalisierung", "Demokratie", "Kultur", "Sport", "Jugend", "Senioren", "Gleichstellung",
    "Migration", "Integration", "Umwelt", "Landwirtschaft", "Tierschutz", "Wirtschaft", "Arbeit",
    "Ausbildung", "Haushalt", "Finanzen", "Satzung", "Organisation", "Mitgliederwerbung",
    "Öffentlichkeitsarbeit", "Kampagnen", "Frieden", "Europa", "Kommunalpolitik",
    "Stadtentwicklung", "Ländlicher Raum", "Datenschutz", "Inklusion", "Antifaschismus",
    "Nachhaltigkeit", "Wasser", "Ehrenamt",
]  # fmt: skip
#: (title, topics); {ort} is the chapter's place, {jahr} the year.
TITLES = [
    ("Für einen kostenlosen Nahverkehr", ["Verkehr", "Soziales"]),
    ("Sichere Radwege in {ort}", ["Verkehr", "Stadtentwicklung"]),
    ("Ein Sozialticket für {ort}", ["Verkehr", "Soziales"]),
    ("Busverbindungen im ländlichen Raum ausbauen", ["Verkehr", "Ländlicher Raum"]),
    ("Reaktivierung stillgelegter Bahnstrecken", ["Verkehr", "Klimaschutz"]),
    ("Tempo 30 vor Schulen und Kitas", ["Verkehr", "Bildung"]),
    ("Klimaneutrales {ort} bis 2035", ["Klimaschutz", "Energie"]),
    ("Solardächer auf allen öffentlichen Gebäuden", ["Energie", "Klimaschutz"]),
    ("Bürgerenergiegenossenschaften unterstützen", ["Energie", "Wirtschaft"]),
    ("Mehr Schulsozialarbeit an allen Schulen", ["Bildung", "Soziales"]),
    ("Kostenloses Mittagessen in Kitas und Schulen", ["Bildung", "Soziales"]),
    ("Digitale Ausstattung der Schulen in {ort}", ["Bildung", "Digitalisierung"]),
    ("Gute Ausbildung statt Warteschleifen", ["Ausbildung", "Arbeit"]),
    ("Bezahlbarer Wohnraum in {ort}", ["Wohnen", "Soziales"]),
    ("Zweckentfremdung von Wohnraum verhindern", ["Wohnen", "Stadtentwicklung"]),
    ("Ein Jugendzentrum für {ort}", ["Jugend", "Kultur"]),
    ("Wahlalter 14 bei Kommunalwahlen", ["Demokratie", "Jugend"]),
    ("Bürgerhaushalt für {ort}", ["Demokratie", "Kommunalpolitik", "Haushalt"]),
    ("Transparenz im Stadtrat von {ort}", ["Demokratie", "Kommunalpolitik"]),
    ("Haushaltsplan {jahr}", ["Haushalt", "Finanzen"]),
    ("Nachtragshaushalt {jahr}", ["Haushalt", "Finanzen"]),
    ("Entlastung des Vorstands für das Jahr {vorjahr}", ["Finanzen", "Organisation"]),
    ("Änderung der Beitragsordnung", ["Finanzen", "Satzung"]),
    ("Änderung der Satzung: Digitale Mitgliederversammlungen", ["Satzung", "Digitalisierung"]),
    ("Änderung der Satzung: Amtszeit des Vorstands", ["Satzung", "Organisation"]),
    ("Geschäftsordnung für Versammlungen", ["Satzung", "Organisation"]),
    ("Quotierte Redelisten", ["Gleichstellung", "Organisation"]),
    ("Gleichstellungsplan für den Verband", ["Gleichstellung", "Organisation"]),
    ("Barrierefreie Veranstaltungen", ["Inklusion", "Organisation"]),
    ("Einfache Sprache in unseren Publikationen", ["Inklusion", "Öffentlichkeitsarbeit"]),
    ("Mitgliederkampagne {jahr}", ["Mitgliederwerbung", "Kampagnen"]),
    ("Neumitglieder gut begleiten", ["Mitgliederwerbung", "Ehrenamt"]),
    ("Ehrenamt stärken, Aufwand entschädigen", ["Ehrenamt", "Finanzen"]),
    ("Kampagne zur Landtagswahl {jahr}", ["Kampagnen", "Öffentlichkeitsarbeit"]),
    ("Kommunalwahlprogramm für {ort}", ["Kommunalpolitik", "Kampagnen"]),
    ("Social-Media-Richtlinie", ["Öffentlichkeitsarbeit", "Digitalisierung"]),
    ("Datenschutz bei der Mitgliederverwaltung", ["Datenschutz", "Digitalisierung"]),
    ("Freie Software in der Verwaltung", ["Digitalisierung", "Datenschutz"]),
    ("Breitbandausbau im ländlichen Raum", ["Digitalisierung", "Ländlicher Raum"]),
    ("Hausarztversorgung auf dem Land sichern", ["Gesundheit", "Ländlicher Raum"]),
    ("Kein Verkauf des Klinikums {ort}", ["Gesundheit", "Kommunalpolitik"]),
    ("Pflegekräfte entlasten", ["Gesundheit", "Arbeit"]),
    ("Tarifbindung bei öffentlichen Aufträgen", ["Arbeit", "Wirtschaft"]),
    ("Regionale Wirtschaftskreisläufe stärken", ["Wirtschaft", "Nachhaltigkeit"]),
    ("Ökologische Landwirtschaft fördern", ["Landwirtschaft", "Umwelt"]),
    ("Artgerechte Tierhaltung", ["Tierschutz", "Landwirtschaft"]),
    ("Blühstreifen an Feldrändern", ["Umwelt", "Landwirtschaft"]),
    ("Schutz des Grundwassers", ["Wasser", "Umwelt"]),
    ("Trinkwasser bleibt in öffentlicher Hand", ["Wasser", "Kommunalpolitik"]),
    ("Nachhaltige Beschaffung im Verband", ["Nachhaltigkeit", "Organisation"]),
    ("Willkommenskultur in {ort}", ["Migration", "Integration"]),
    ("Sprachkurse für alle Geflüchteten", ["Integration", "Bildung"]),
    ("Gegen Rechtsextremismus in {ort}", ["Antifaschismus", "Demokratie"]),
    ("Gedenkstättenfahrten für Schulklassen", ["Antifaschismus", "Bildung"]),
    ("Für Abrüstung und zivile Konfliktlösung", ["Frieden", "Europa"]),
    ("Städtepartnerschaften in Europa beleben", ["Europa", "Kultur"]),
    ("Freie Kulturszene in {ort} fördern", ["Kultur", "Haushalt"]),
    ("Sportstätten sanieren", ["Sport", "Kommunalpolitik"]),
    ("Seniorenbeirat für {ort}", ["Senioren", "Demokratie"]),
    ("Treffpunkte für Ältere im Quartier", ["Senioren", "Stadtentwicklung"]),
]
OBJECTIVES = [
    "alle Schulen in {ort} eine volle Stelle für Schulsozialarbeit erhalten",
    "der Nahverkehr auch abends und am Wochenende verlässlich fährt",
    "Wohnungen in {ort} für Menschen mit kleinen Einkommen bezahlbar bleiben",
    "neue Radwege baulich vom Autoverkehr getrennt werden",
    "die Landesregierung die Förderung der Jugendverbände dauerhaft absichert",
    "öffentliche Gebäude bis {ziel} mit Solaranlagen ausgestattet werden",
    "Versammlungen des Verbands barrierefrei zugänglich sind",
    "Mitglieder ohne Internetzugang nicht von Entscheidungen ausgeschlossen werden",
    "die Hausarztversorgung im ländlichen Raum gesichert wird",
    "Aufträge der öffentlichen Hand nur an tarifgebundene Betriebe gehen",
    "Geflüchtete vom ersten Tag an einen Sprachkurs besuchen können",
    "das Trinkwasser in öffentlicher Hand bleibt",
    "der Kreistag einen Bürgerhaushalt einführt",
    "Ehrenamtliche ihre Auslagen unkompliziert erstattet bekommen",
    "die Kulturförderung in {ort} nicht gekürzt wird",
]
DEMANDS = [
    "ein landesweites Sozialticket einzuführen",
    "die Mittel für Schulsozialarbeit zu verdoppeln",
    "einen Aktionsplan gegen Rechtsextremismus vorzulegen",
    "stillgelegte Bahnstrecken zu reaktivieren",
    "die Kita-Gebühren schrittweise abzuschaffen",
    "den Breitbandausbau in allen Ortsteilen abzuschließen",
    "ein Programm für bezahlbares Wohnen aufzulegen",
    "die Sanierung der Sportstätten in den Haushalt aufzunehmen",
    "einen Seniorenbeirat einzurichten",
    "freie Software in der Verwaltung zu bevorzugen",
]
SENTENCES = [
    "{wir} setzt sich dafür ein, dass {ziel}.",
    "{wir} fordert die Landesregierung auf, {forderung}.",
    "{wir} fordert den Stadtrat von {ort} auf, {forderung}.",
    "Dazu suchen wir das Gespräch mit Verbänden, Gewerkschaften und Initiativen vor Ort.",
    "Der Vorstand wird beauftragt, bis zur nächsten Versammlung einen Bericht vorzulegen.",
    "Für die Umsetzung stellen wir im Haushalt {jahr} bis zu {betrag} Euro bereit.",
    "Wir unterstützen die Initiative „{thema} in {ort}“ ideell und mit Material.",
    "Die Geschäftsstelle koordiniert die Umsetzung gemeinsam mit dem Arbeitskreis {thema}.",
    "Der Beschluss wird auf der Internetseite und im Mitgliederrundbrief veröffentlicht.",
    "Wir werben in Bündnissen und bei unseren Partnerorganisationen für diese Position.",
    "Bis Ende {jahr} soll eine erste Bilanz gezogen werden.",
    "Die Mitglieder werden über den Stand der Umsetzung regelmäßig informiert.",
    "Dabei achten wir besonders auf die Belange von Menschen mit Behinderungen.",
    "Die Kreisverbände werden gebeten, eigene Aktionen vor Ort zu planen.",
    "Das Thema {thema} wird Schwerpunkt unserer Bildungsarbeit im kommenden Jahr.",
    "Eine Arbeitsgruppe erarbeitet dazu bis zum Herbst einen Vorschlag.",
]
REASONS = [
    "Die bisherigen Angebote reichen nicht aus.",
    "Viele Mitglieder haben uns in den letzten Monaten darauf angesprochen.",
    "Andere Landesverbände haben damit gute Erfahrungen gemacht.",
    "Der Antrag greift eine Debatte aus dem Arbeitskreis {thema} auf.",
    "Gerade in {ort} zeigt sich, wie dringend das Anliegen ist.",
    "Ohne eine verlässliche Finanzierung bleibt jede Forderung folgenlos.",
    "Die Kosten sind überschaubar, der Nutzen ist groß.",
    "Wir wollen als Verband mit gutem Beispiel vorangehen.",
]
NOTES = [
    "Die Antragskommission wird mit redaktionellen Änderungen beauftragt.",
    "Der Antrag wurde in geänderter Fassung abgestimmt; siehe Protokoll.",
    "Die Versammlung war beschlussfähig.",
    "Zwei Delegierte gaben eine persönliche Erklärung zu Protokoll.",
]
FIRST_NAMES = [
    "Anna", "Ben", "Clara", "Deniz", "Emil", "Fatma", "Greta", "Hanno", "Ida", "Jonas", "Kemal",
    "Lea", "Mira", "Nils", "Olga", "Paul", "Rosa", "Sami", "Tilda", "Uwe", "Vera", "Wiebke",
    "Yusuf", "Zoe", "Karin", "Thomas", "Sabine", "Michael", "Petra", "Andreas",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun",
    "Zimmermann", "Krüger", "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Köhler",
    "Yılmaz", "Kaya", "Nowak", "Sommer",
]  # fmt: skip
WORKING_GROUPS = [
    f"Arbeitskreis {t}"
    for t in (
        "Verkehr",
        "Bildung",
        "Soziales",
        "Umwelt",
        "Digitales",
        "Frieden",
        "Gleichstellung",
        "Kommunalpolitik",
        "Wohnen",
        "Gesundheit",
        "Europa",
        "Satzung",
    )
]
MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
#: chapter kind → (body, weight, conference?, seasons (name, month range))
BODIES = {
    "landesverband": [
        ("Landeskonferenz", 0.55, True, [("Frühjahr", (3, 4)), ("Herbst", (10, 11))]),
        ("Landesausschuss", 0.10, True, [("Sommer", (6, 6)), ("Winter", (12, 12))]),
        ("Landesvorstand", 0.35, False, []),
    ],
    "kreisverband": [
        ("Kreismitgliederversammlung", 0.65, True, [("Frühjahr", (3, 5)), ("Herbst", (9, 11))]),
        ("Kreisvorstand", 0.35, False, []),
    ],
    "ortsverband": [
        ("Mitgliederversammlung", 0.75, True, [("", (2, 11))]),
        ("Ortsvorstand", 0.25, False, []),
    ],
}
AGENDA = [
    "5 Antragsberatung",
    "6 Antragsberatung",
    "7 Anträge",
    "4 Anträge und Beschlüsse",
    "8 Satzungsänderungen",
    "6 Haushalt und Finanzen",
]
OUTCOME_MAIN = {
    "angenommen": 46,
    "angenommen_geaendert": 18,
    "abgelehnt": 13,
    "ueberwiesen": 7,
    "erledigt": 5,
    "zurueckgezogen": 4,
    "vertagt": 3,
    "nichtbefassung": 2,
    "nicht_zugelassen": 2,
}
OUTCOME_AMENDMENT = {"angenommen": 35, "abgelehnt": 30, "erledigt": 25, "zurueckgezogen": 10}
OUTCOME_BOARD = {"angenommen": 86, "angenommen_geaendert": 4, "abgelehnt": 5, "vertagt": 5}
#: Budgets: valid until the end of their year.
BUDGETS = {n for n, (title, _t) in enumerate(TITLES) if "haushalt" in title and "{jahr}" in title}
FORMER = {"umgesetzt": 35, "historisch": 30, "aufgehoben": 10, "abgelaufen": 10, "ersetzt": 15}


def choice(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


# --------------------------------------------------------------------------------------------
# the resolutions


@dataclass
class Event:
    chapter: Chapter
    body: str
    conference: bool
    name: str
    day: date
    session: str | None
    agenda: str
    motions: list = field(default_factory=list)  # main motions (Items) so far
    amendments: int = 0


@dataclass
class Item:
    event: Event
    number: str
    amends: Item | None = None
    rid: str = ""
    meta: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    path: str = ""
    template: int = 0

    @property
    def decided(self) -> date:
        return self.event.day


def people(rng: random.Random) -> list[str]:
    """160 people (Zipf-weighted when drawn as initiators)."""
    names = {f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(200)}
    return sorted(names)[:160]


def plan(count: int, rng: random.Random, chapters: list[Chapter]) -> list[Item]:
    """``count`` resolutions in chronological order with ids, paths, metadata and texts."""
    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    events: dict[tuple, Event] = {}
    items: list[Item] = []
    weights = [c.weight for c in chapters]
    while len(items) < count:
        chapter = rng.choices(chapters, weights)[0]
        allowed = [y for y in years if y >= chapter.founded]
        year = rng.choices(allowed, [1 + 0.1 * (y - FIRST_YEAR) for y in allowed])[0]
        bodies = BODIES[chapter.kind]
        body, _w, conference, seasons = rng.choices(bodies, [b[1] for b in bodies])[0]
        if body == "Landeskonferenz" and year < 2010:
            body = "Landesmitgliederversammlung"  # delegates only since 2010
        if conference:
            slot = rng.randrange(len(seasons))
            key = (chapter.path, body, year, slot)
            if key not in events:
                season, (first, last) = seasons[slot]
                day = saturday(rng, year, rng.randint(first, last))
                name = f"{body} {season} {year}" if season else f"{body} {year}"
                session = season[0] if slot else None  # "LaKo-2019-H-A1" for the autumn
                events[key] = Event(chapter, body, True, name, day, session, rng.choice(AGENDA))
        else:
            month = rng.randint(1, 12)
            key = (chapter.path, body, year, month)
            if key not in events:
                day = date(year, month, rng.randint(1, 28))
                genitive = {
                    "Landesvorstand": "Landesvorstands",
                    "Kreisvorstand": "Kreisvorstands",
                    "Ortsvorstand": "Ortsvorstands",
                }[body]
                name = f"Sitzung des {genitive} am {day.day}. {MONTHS[month - 1]} {year}"
                events[key] = Event(chapter, body, False, name, day, None, "")
        event = events[key]
        if not event.conference:
            items.append(Item(event, ""))  # numbered per board and year below
            continue
        share = {"landesverband": 0.2, "kreisverband": 0.1}.get(chapter.kind, 0.0)
        if event.motions and (rng.random() < share or len(event.motions) >= 40):
            event.amendments += 1
            items.append(Item(event, f"Ä{event.amendments}", amends=rng.choice(event.motions)))
        else:
            item = Item(event, f"A{len(event.motions) + 1}")
            event.motions.append(item)
            items.append(item)
    items.sort(
        key=lambda i: (i.event.day, i.event.name, i.amends is not None, int(i.number[1:] or 0))
    )
    board_numbers: dict[tuple, int] = {}
    for item in items:
        event = item.event
        if not event.conference:
            key = (event.chapter.path, event.body, event.day.year)
            board_numbers[key] = board_numbers.get(key, 0) + 1
            item.number = f"{board_numbers[key]:02d}"
    from plugins.resolutions import schema as S

    seen: set[str] = set()
    for item in items:
        event = item.event
        rid = S.propose_id(
            event.chapter.code, event.body, event.day.year, item.number, event.session
        )
        while S.key_of(rid) in seen:
            rid += "x"
        seen.add(S.key_of(rid))
        item.rid = rid
        item.path = S.propose_path(event.chapter.path, event.day.year, rid)
    describe(items, rng, chapters)
    return items


def saturday(rng: random.Random, year: int, month: int) -> date:
    day = date(year, month, rng.randint(1, 22))
    return day + timedelta(days=(5 - day.weekday()) % 7)


def describe(items: list[Item], rng: random.Random, chapters: list[Chapter]) -> None:
    """Metadata and texts of every item, oldest first (links point back in time)."""
    from plugins.resolutions import schema as S

    persons = people(rng)
    person_weights = [1 / (rank + 3) for rank in range(len(persons))]
    groups = [c.name for c in chapters] + WORKING_GROUPS
    adopted_by_chapter: dict[str, list[Item]] = {}
    replaced: set[str] = set()
    by_path = {c.path: c for c in chapters}
    for item in items:
        event, chapter = item.event, item.event.chapter
        year = event.day.year
        place = chapter.place
        if item.amends is not None:
            main = item.amends
            template = main.template
            title = f"{item.number} zu {main.number}: {main.meta['title']}"[:300]
            topics = list(main.meta["topics"])
            outcome = choice(rng, OUTCOME_AMENDMENT)
        else:
            template = rng.randrange(len(TITLES))
            raw, base_topics = TITLES[template]
            title = raw.format(ort=place, jahr=year, vorjahr=year - 1)
            topics = list(base_topics[: rng.randint(1, len(base_topics))])
            if rng.random() < 0.3:
                extra = rng.choice(TOPICS)
                if extra not in topics:
                    topics.append(extra)
            topics = topics[:3]
            outcome = choice(rng, OUTCOME_MAIN if event.conference else OUTCOME_BOARD)
            if event.day > date(LAST_YEAR, 9, 1) and event.conference and rng.random() < 0.4:
                outcome = "offen"
        item.template = template
        meta: dict = {
            "id": item.rid,
            "number": item.number,
            "title": title,
            "body": event.body,
            "event": event.name,
        }
        if event.agenda:
            meta["agenda_item"] = event.agenda
        if event.conference:
            meta["submitted"] = datetime.combine(
                event.day - timedelta(days=rng.randint(7, 45)), datetime.min.time()
            ).replace(hour=rng.randint(8, 23), minute=rng.choice([0, 15, 30, 45]))
        if outcome != "offen":
            meta["decided"] = event.day
        if event.conference:
            count = rng.randint(1, 3)
            choices = []
            for _ in range(count):
                if rng.random() < 0.65:
                    choices.append(rng.choices(persons, person_weights)[0])
                else:
                    choices.append(rng.choice(groups + [chapter.board]))
            meta["initiators"] = list(dict.fromkeys(choices))
        else:
            meta["initiators"] = [chapter.board]
        meta["outcome"] = outcome
        if outcome == "angenommen_geaendert":
            meta["outcome_detail"] = rng.choice(
                [
                    f"mit Änderungen aus Ä{rng.randint(1, 6)}",
                    "in der Fassung der Antragskommission",
                    "mit redaktionellen Änderungen",
                ]
            )
        elif outcome == "erledigt":
            meta["outcome_detail"] = rng.choice(
                ["durch Annahme eines weitergehenden Antrags", "durch Übernahme in den Leitantrag"]
            )
        elif outcome == "ueberwiesen":
            meta["referred_to"] = rng.choice([chapter.board, *WORKING_GROUPS[:6]])
        votes = votes_for(rng, outcome, chapter, event)
        if votes is not None:
            meta["votes"] = votes
        links: dict[str, list[str]] = {}
        if item.amends is not None:
            links["amends"] = [item.amends.rid]
        if outcome in S.ADOPTED:
            meta["validity"] = validity_for(rng, item, year)
            if template in BUDGETS:
                meta["valid_until"] = date(year, 12, 31)
                if year < TODAY.year and meta["validity"] in S.CURRENT:
                    meta["validity"] = "abgelaufen"
            elif rng.random() < 0.04:
                meta["valid_until"] = event.day + timedelta(days=365 * rng.randint(2, 5))
                if meta["valid_until"] < TODAY and meta["validity"] in S.CURRENT:
                    meta["validity"] = "abgelaufen"
            earlier = adopted_by_chapter.get(chapter.path, [])
            if item.amends is None and earlier and rng.random() < 0.08:
                same = [e for e in earlier if e.template == template] or earlier
                old = rng.choice(same[-30:])
                if old.rid not in replaced:
                    replaced.add(old.rid)
                    links["replaces"] = [old.rid]
                    old.meta["validity"] = "ersetzt"
                    old.meta.pop("valid_until", None)
            if not event.conference and rng.random() < 0.12:
                parents = [chapter.path] + [p for p in by_path if chapter.path.startswith(p + "/")]
                sources = [
                    e
                    for p in parents
                    for e in adopted_by_chapter.get(p, [])
                    if e.event.conference and e.decided.year >= year - 3
                ]
                if sources:
                    links["implements"] = [rng.choice(sources).rid]
            if item.amends is None:
                adopted_by_chapter.setdefault(chapter.path, []).append(item)
        if chapter.kind == "kreisverband" and event.conference and rng.random() < 0.03:
            below = [
                e
                for p, es in adopted_by_chapter.items()
                if p.startswith(chapter.path + "/")
                for e in es[-20:]
            ]
            if below:
                links["forwarded_from"] = [rng.choice(below).rid]
        if rng.random() < 0.03 and len(adopted_by_chapter) > 1:
            pool = rng.choice(list(adopted_by_chapter.values()))
            other = rng.choice(pool[-50:])
            if other is not item:
                links.setdefault("related", []).append(other.rid)
        meta["topics"] = topics
        if links:
            meta["links"] = links
        if chapter.kind == "landesverband" and event.conference and year >= 2015:
            number = rng.randint(100, 99999)
            meta["source"] = {
                "system": "antragsgruen",
                "id": str(number),
                "url": f"https://antraege.example.org/lv/motion/{number}",
            }
        visibility = visibility_for(rng, event)
        if visibility:
            meta["visibility"] = visibility
        item.meta = meta
        item.texts = texts_for(rng, item, topics)
        problems = S.check(meta, S.page_text(meta, item.texts).split("---\n", 2)[2])
        if problems:
            raise AssertionError(f"{item.rid}: {problems}")


def votes_for(rng: random.Random, outcome: str, chapter: Chapter, event: Event):
    if rng.random() < 0.1:
        return None  # not recorded (older minutes)
    if not event.conference:
        size = rng.randint(5, 9)
    elif event.body == "Landesmitgliederversammlung":
        size = rng.randint(100, 300)
    else:
        size = {"landesverband": (80, 140), "kreisverband": (20, 70), "ortsverband": (6, 30)}
        size = rng.randint(*size[chapter.kind])
    if outcome in ("angenommen", "angenommen_geaendert"):
        if rng.random() < 0.15:
            return "unanimous"
        yes = round(size * rng.uniform(0.55, 0.95))
    elif outcome == "abgelehnt":
        yes = round(size * rng.uniform(0.1, 0.45))
    elif outcome == "ueberwiesen" and rng.random() < 0.5:
        yes = round(size * rng.uniform(0.5, 0.9))
    else:
        return None
    rest = size - yes
    no = round(rest * rng.uniform(0.3, 0.8))
    if outcome == "abgelehnt":
        no = max(no, yes + 1)
    return {"yes": yes, "no": no, "abstain": max(0, size - yes - no)}


def validity_for(rng: random.Random, item: Item, year: int) -> str:
    if item.amends is not None:
        return "historisch" if rng.random() < 0.8 else "umgesetzt"
    age = TODAY.year - year
    if item.event.conference:
        current = max(0.12, 0.9 - 0.05 * age)
    else:
        current = 0.6 if age <= 1 else 0.15
    if rng.random() < current:
        return "in_kraft" if rng.random() < 0.9 else "vorlaeufig"
    return choice(rng, {k: v for k, v in FORMER.items() if k != "ersetzt"})


def visibility_for(rng: random.Random, event: Event) -> str | None:
    if event.conference:
        return choice(rng, {"public": 55, "internal": 25, "members": 15, "": 5}) or None
    return choice(rng, {"members": 40, "internal": 30, "public": 20, "board": 5, "": 5}) or None


def texts_for(rng: random.Random, item: Item, topics: list[str]) -> dict[str, str]:
    event, chapter = item.event, item.event.chapter
    year = event.day.year
    fill = {
        "wir": chapter.board if not event.conference else chapter.subject,
        "ort": chapter.place,
        "jahr": year + 1,
        "thema": topics[0],
        "betrag": f"{rng.randint(2, 60) * 250:,}".replace(",", "."),
    }
    if item.amends is not None:
        line = rng.randint(3, 60)
        sentences = [
            f"In Zeile {line} wird „{rng.choice(OBJECTIVES).format(ort=chapter.place, ziel=2030)}“ "
            f"ersetzt durch „{rng.choice(OBJECTIVES).format(ort=chapter.place, ziel=2035)}“.",
            f"Nach Zeile {line + rng.randint(1, 9)} wird eingefügt: "
            f"„{rng.choice(SENTENCES[3:]).format(**fill)}“",
            f"Die Zeilen {line + 10} bis {line + 12} werden gestrichen.",
        ]
        texts = {"Beschlusstext": " ".join(sentences[: rng.randint(2, 3)])}
    else:
        count = rng.randint(2, 6)
        sentences = [
            rng.choice(SENTENCES[:3]).format(
                **fill,
                ziel=rng.choice(OBJECTIVES).format(
                    ort=chapter.place, ziel=year + rng.randint(5, 12)
                ),
                forderung=rng.choice(DEMANDS),
            )
        ]
        for template in rng.sample(SENTENCES[3:], count - 1):
            sentences.append(template.format(**fill))
        if count >= 5:
            cut = rng.randint(2, count - 2)
            text = " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
        else:
            text = " ".join(sentences)
        texts = {"Beschlusstext": text}
    if rng.random() < 0.5:
        texts["Begründung"] = " ".join(
            r.format(thema=topics[0], ort=chapter.place)
            for r in rng.sample(REASONS, rng.randint(1, 3))
        )
    if rng.random() < 0.08:
        texts["Protokollnotiz"] = rng.choice(NOTES)
    return texts


def history(items: list[Item], chapters: list[Chapter], seed: dict[str, bytes], rng: random.Random):
    """``COMMITS`` commits in date order for ``fast_import``; the first one also carries the
    starter pages and the 30 space definitions."""
    from plugins.resolutions import schema as S

    keepers = [f"{rng.getrandbits(48):012x}" for _ in range(12)]
    per = -(-len(items) // COMMITS)
    last = 0
    for number in range(0, len(items), per):
        batch = items[number : number + per]
        files = []
        if number == 0:
            files += list(seed.items())
            files += [(c.path + ".md", space_text(c)) for c in chapters]
        for item in batch:
            files.append((item.path + ".md", S.page_text(item.meta, item.texts).encode("utf-8")))
        day = max(i.decided for i in batch) + timedelta(days=rng.randint(1, 10))
        when = int(datetime(day.year, day.month, day.day, 19).timestamp()) + rng.randint(0, 7200)
        when = max(when, last + 60)
        last = when
        events = list(dict.fromkeys(i.event.name for i in batch))
        message = f"Beschlüsse eingetragen: {', '.join(events[:2])}"
        if len(events) > 2:
            message += f" und {len(events) - 2} weitere"
        keeper = rng.choice(keepers)
        yield when, f"u-{keeper} <{keeper}@noreply.invalid>", message, files


# --------------------------------------------------------------------------------------------
# queries


@dataclass
class Vocabulary:
    """Values that occur in the data, for filters that find something."""

    years: list[int]
    chapters: list[str]
    bodies: list[str]
    events: list[str]
    topics: list[str]
    initiators: list[str]
    words: list[str]
    rids: list[str]


def vocabulary(items: list[Item]) -> Vocabulary:
    words = set(TOPICS)
    for title, _topics in TITLES:
        words.update(w.strip("„“:,") for w in title.split() if len(w) > 6 and "{" not in w)
    words.update(place for _n, _c, _w, ovs in KREISE for place, _code in ovs)
    return Vocabulary(
        years=sorted({i.decided.year for i in items}),
        chapters=sorted({i.event.chapter.path for i in items}),
        bodies=sorted({i.event.body for i in items}),
        events=[i.event.name for i in items],  # weighted by size
        topics=[t for i in items for t in i.meta["topics"]],
        initiators=[n for i in items for n in i.meta["initiators"]],
        words=sorted(words),
        rids=[i.rid for i in items],
    )


def filter_args(rng: random.Random, vocab: Vocabulary, families: int) -> list[tuple[str, str]]:
    """URL arguments of ``families`` different filters (values from the data)."""
    from plugins.resolutions import schema as S

    makers = {
        "year": lambda: [("year", str(y)) for y in rng.sample(vocab.years, rng.choice([1, 1, 2]))],
        "chapter": lambda: (
            [("chapter", rng.choice(vocab.chapters))]
            + ([("sub", "0")] if rng.random() < 0.2 else [])
        ),
        "body": lambda: [("body", rng.choice(vocab.bodies))],
        "event": lambda: [("event", rng.choice(vocab.events))],
        "outcome": lambda: [("outcome", o) for o in rng.sample(S.OUTCOMES, rng.choice([1, 1, 2]))],
        "validity": lambda: [("validity", v) for v in rng.sample(S.VALIDITIES, rng.choice([1, 2]))],
        "topic": lambda: [
            ("topic", t) for t in {rng.choice(vocab.topics) for _ in range(rng.choice([1, 1, 2]))}
        ],
        "initiator": lambda: [("initiator", rng.choice(vocab.initiators))],
        "scope": lambda: [("scope", "all")],
        "sort": lambda: [("sort", "number")],
    }
    chosen = rng.sample(list(makers), families)
    args: list[tuple[str, str]] = []
    for name in chosen:
        args += makers[name]()
    return args


def filter_combinations(rng: random.Random, vocab: Vocabulary, count: int) -> list[list]:
    """``count`` argument lists: the default view, scope only, then one to four filters."""
    combos: list[list] = [[], [("scope", "all")]]
    while len(combos) < count:
        combos.append(filter_args(rng, vocab, rng.choices([1, 2, 3, 4], [35, 35, 20, 10])[0]))
    return combos[:count]


def text_query(rng: random.Random, vocab: Vocabulary) -> str:
    word = rng.choice(vocab.words)
    kind = rng.random()
    if kind < 0.45:
        return word
    if kind < 0.65:
        return f"{word} {rng.choice(vocab.words)}"
    if kind < 0.75:
        return max(word.split(), key=len)[:5] + "*"
    if kind < 0.85:
        return rng.choice(vocab.initiators).split()[-1]
    if kind < 0.92:
        return f"{word} OR {rng.choice(vocab.words)}"
    return f'"{rng.choice(["öffentliche Gebäude", "Stadtrat von", "bezahlbar bleiben"])}"'


def text_combinations(rng: random.Random, vocab: Vocabulary, count: int) -> list[list]:
    combos = []
    for _ in range(count):
        families = rng.choices([0, 1, 2], [40, 40, 20])[0]
        args = filter_args(rng, vocab, families) if families else []
        combos.append([("q", text_query(rng, vocab)), *args])
    return combos


def url(path: str, args: list[tuple[str, str]]) -> str:
    return path + ("?" + urlencode(args) if args else "")


# --------------------------------------------------------------------------------------------
# SQL analysis for --profile


class SqlLog:
    """Records every SQL statement per query (engine events) and whether SQLAlchemy found it in
    its compiled-statement cache; :meth:`replay` then times each statement alone on a plain
    sqlite3 connection, ``execute`` and ``fetchall`` (SQLite computes a GROUP BY walking an
    index while rows are fetched, so timing ``execute`` alone would miss part of it)."""

    GROUP_RE = re.compile(r"GROUP BY (CASE|[\w.]+)")
    NAMES = {"CASE": "chapter (CASE pages.space)", "topic": "topic (JOIN topics)",
             "name": "initiator (JOIN initiators)"}  # fmt: skip

    def __init__(self, engine):
        self.engine = engine
        self.query = 0
        self.statements: list[tuple[int, str, str, object]] = []
        self.compiled = 0

    @classmethod
    def label(cls, statement: str) -> str:
        if "UNION ALL" in statement:
            return "total and every facet (one UNION ALL)"
        match = cls.GROUP_RE.search(statement)
        if match:
            column = match.group(1).split(".")[-1]
            return "facet " + cls.NAMES.get(column, column)
        if statement.lstrip().upper().startswith("SELECT COUNT(*)"):
            return "total count(*)"
        if "ORDER BY" in statement and "LIMIT" in statement:
            return "rows of page 1 (ORDER BY … LIMIT)"
        return "other: " + " ".join(statement.split())[:70]

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self.record)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self.record)

    def record(self, conn, cursor, statement, parameters, context, executemany):
        from sqlalchemy.engine.interfaces import CacheStats

        self.statements.append((self.query, self.label(statement), statement, parameters))
        if getattr(context, "cache_hit", None) is CacheStats.CACHE_MISS:
            self.compiled += 1

    def replay(self, database: str) -> tuple[dict[str, list[float]], dict[int, float]]:
        """Seconds by statement kind and the SQLite time of each query."""
        by_label: dict[str, list[float]] = {}
        by_query: dict[int, float] = {}
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            for query, label, statement, parameters in self.statements:
                start = time.perf_counter()
                conn.execute(statement, parameters).fetchall()
                took = time.perf_counter() - start
                by_label.setdefault(label, []).append(took)
                by_query[query] = by_query.get(query, 0.0) + took
        finally:
            conn.close()
        return by_label, by_query

    def plans(self, query: int) -> str:
        """``EXPLAIN QUERY PLAN`` of every statement of one query."""
        blocks = []
        with self.engine.connect() as conn:
            for number, label, statement, parameters in self.statements:
                if number != query:
                    continue
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                depth: dict[int, int] = {0: 0}
                lines = []
                for node, parent, _unused, detail in rows:
                    depth[node] = depth.get(parent, 0) + 1
                    lines.append("  " * depth[node] + detail)
                blocks.append(f"{label}:\n" + "\n".join(lines))
        return "\n\n".join(blocks)


def sql_table(by_label: dict[str, list[float]], queries: int) -> str:
    total = sum(sum(v) for v in by_label.values()) or 1.0
    lines = [
        "| SQL statement | statements | per query (mean) | p50 | max | share |",
        "|---|---|---|---|---|---|",
    ]
    for label, values in sorted(by_label.items(), key=lambda kv: -sum(kv[1])):
        lines.append(
            f"| {label} | {len(values)} | {ms(sum(values) / queries)} | {ms(pct(values, 0.5))} "
            f"| {ms(max(values))} | {sum(values) / total * 100:.0f} % |"
        )
    count = sum(len(v) for v in by_label.values())
    lines.append(f"| all | {count} | {ms(total / queries)} |  |  | 100 % |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# the run


def login(app, handle: str | None):
    """A test client; logged in through the login form unless ``handle`` is None."""
    client = app.test_client()
    if handle is None:
        return client
    page = client.get("/-/login").get_data(as_text=True)
    match = CSRF_RE.search(page)
    if not match:
        raise RuntimeError("no CSRF token on the login page")
    response = client.post(
        "/-/login", data={"handle": handle, "password": PASSWORD, "csrf_token": match.group(1)}
    )
    if response.status_code != 302:
        raise RuntimeError(f"login of {handle} failed: HTTP {response.status_code}")
    return client


def setup_users(app, chapters: list[Chapter]):
    """The five principals and their test clients: (name, principal, client)."""
    from sqlalchemy import select

    from plugins.spaces.directory import add_member
    from wiki.acl import ANONYMOUS
    from wiki.auth import principal_for
    from wiki.cli import create_user
    from wiki.db import User, get_db

    state = app.extensions["wiki"]
    ov = next(c.path for c in chapters if c.kind == "ortsverband")
    kv = next(c.path for c in chapters if c.kind == "kreisverband" and not ov.startswith(c.path))
    accounts = [
        ("user (no membership)", "leser", False, None, None),
        (f"member of {ov}", "ov-mitglied", False, ov, "member"),
        (f"board of {kv}", "kv-vorstand", False, kv, "board"),
        ("admin", "admin", True, None, None),
    ]
    with app.app_context(), state.sessions() as session:
        for _label, handle, admin, space, role in accounts:
            user = create_user(
                session, handle, handle.title(), f"{handle}@example.org", PASSWORD, admin
            )
            if space:
                add_member(session, user.id, space, role)
        session.commit()
    result = [("anonymous", ANONYMOUS, login(app, None))]
    for label, handle, _admin, _space, _role in accounts:
        with app.test_request_context():
            user = get_db().scalar(select(User).where(User.handle == handle))
            principal = principal_for(user)
        result.append((label, principal, login(app, handle)))
    return result


def check_clients(state, principals) -> None:
    """Each client is seen as its principal: the API counts what the archive counts for it."""
    from werkzeug.datastructures import MultiDict

    from plugins.resolutions.archive import Archive, Filters

    everything = Filters.from_args(MultiDict([("scope", "all")]))
    for name, principal, client in principals:
        with state.sessions() as session:
            expected = Archive(session, state.acl.read_filter(principal)).query(everything).total
        answer = client.get("/-/api/v1/resolutions?scope=all").get_json()
        if answer["total"] != expected:
            raise RuntimeError(f"{name}: the API answers {answer['total']}, expected {expected}")
        log(f"  {name}: may read {expected} resolutions")


def build(args, workdir: Path, report: Report):
    """The instance, its history and the initial sync: (app, items, chapters)."""
    from sqlalchemy import func, select

    from plugins.resolutions.models import ResolutionRow
    from wiki import create_app
    from wiki.cli import seed_files, write_instance_config
    from wiki.db import PageRow
    from wiki.migrate import upgrade

    instance = workdir / "instance"
    write_instance_config(instance)
    app = create_app(
        {
            "WIKI_INSTANCE": str(instance),
            "WIKI_MAIL_WORKER": False,
            "WIKI_PASSWORD_METHOD": "pbkdf2:sha256:1",
            "WIKI_PLUGINS": ["plugins.spaces", "plugins.resolutions"],
            "SPACES_DIRECTORY_REQUIRES_2FA": False,
        }
    )
    state = app.extensions["wiki"]
    upgrade(state)
    state.store.init()
    rng = random.Random(args.seed)
    chapters = make_chapters(rng)
    log(f"generating {args.resolutions} resolutions in {len(chapters)} chapters")
    items = plan(args.resolutions, rng, chapters)
    repo = Path(state.store.repo_path)
    log(f"writing {COMMITS} commits with git fast-import")
    took = timed(lambda: fast_import(repo, history(items, chapters, seed_files(), rng)))
    report.add(
        "setup: generate and fast-import",
        f"{took:.1f} s ({len(items)} resolutions, {len(chapters)} chapters, {COMMITS} commits)",
    )
    log("initial sync (projection and search index)")
    with app.app_context():
        took = timed(state.syncer.sync)
        state.search.wait_idle()
    report.add("initial sync: projection + search index", f"{took:.1f} s")
    log("search index build alone (SearchService.rebuild)")
    took = timed(state.search.rebuild)
    status = state.search.status()
    report.add(
        "  of which search index build (rebuild alone)",
        f"{took:.1f} s, {status['bytes'] / 1024 / 1024:.1f} MB",
    )
    with state.sessions() as session:
        projected = session.scalar(select(func.count()).select_from(ResolutionRow))
        in_spaces = session.scalar(
            select(func.count())
            .select_from(ResolutionRow)
            .join(PageRow, PageRow.path == ResolutionRow.path)
            .where(PageRow.space.is_not(None))
        )
    if projected != len(items) or in_spaces != len(items):
        raise RuntimeError(
            f"{projected} resolutions projected, {in_spaces} in a space, {len(items)} written"
        )
    return app, items, chapters


class GcWatch:
    """The full (generation 2) garbage collections while active, and their pauses."""

    def __init__(self):
        self.pauses: list[float] = []
        self._start = 0.0

    def __enter__(self):
        gc.callbacks.append(self.callback)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self.callback)

    def callback(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._start)


def faceted(state, principals, combos, report: Report) -> list[float]:
    """``Archive.query`` with every facet, the principals taking turns. Two passes: in the first
    SQLAlchemy compiles each statement shape once (reported), the second is the measurement."""
    from werkzeug.datastructures import MultiDict

    from plugins.resolutions.archive import Archive, Filters

    passes = []
    for _ in range(2):
        durations, names, totals = [], [], []
        watch = GcWatch()
        with watch:
            for i, args in enumerate(combos):
                name, principal, _client = principals[i % len(principals)]
                with state.sessions() as session:
                    start = time.perf_counter()
                    filters = Filters.from_args(MultiDict(args))
                    result = Archive(session, state.acl.read_filter(principal)).query(filters)
                    durations.append(time.perf_counter() - start)
                if len(result.facets) != 8:
                    raise RuntimeError(f"{len(result.facets)} facets instead of 8")
                names.append(name)
                totals.append(result.total)
        passes.append((durations, names, totals))
    first = passes[0][0]
    durations, names, totals = passes[1]
    p50 = pct(durations, 0.5)
    report.add(
        f"faceted query (Archive.query, 8 facets, page 1), {len(durations)} combinations p50 / p95",
        f"{ms(p50)} / {ms(pct(durations, 0.95))}",
        f"p50 ≤ {ms(TARGET_FACETED)}",
        p50 <= TARGET_FACETED,
    )
    for name in dict.fromkeys(names):
        values = [d for d, n in zip(durations, names, strict=True) if n == name]
        report.add(
            f"  as {name} ({len(values)})",
            f"p50 {ms(pct(values, 0.5))}, p95 {ms(pct(values, 0.95))}",
        )
    report.add(
        "  first pass (statements compiled for the first time) p50 / p95",
        f"{ms(pct(first, 0.5))} / {ms(pct(first, 0.95))}",
    )
    report.add(
        "  matching resolutions per query: median / max",
        f"{statistics.median(totals):.0f} / {max(totals)}",
    )
    pauses = watch.pauses
    report.add(
        "  full garbage collections in the measured pass",
        f"{len(pauses)}"
        + (f", {ms(min(pauses))} … {ms(max(pauses))} each" if pauses else "")
        + f" ({len(gc.get_objects()) / 1000:.0f}k objects tracked)",
    )
    return durations


def http_route(principals, path: str, combos, warm: int, expect=(200,)) -> tuple[list, list]:
    """GET ``path`` with each argument list, the principals' clients taking turns (the first
    ``warm`` requests are not measured). Never inside an app context: a request would reuse
    it, and with it ``g`` (database session, logged-in user) of the first request."""
    durations, errors = [], []
    for i, args in enumerate(combos[:warm] + combos):
        _name, _principal, client = principals[i % len(principals)]
        target = url(path, args)
        start = time.perf_counter()
        response = client.get(target)
        response.get_data()
        took = time.perf_counter() - start
        if response.status_code not in expect:
            errors.append(f"{target}: HTTP {response.status_code}")
        if i >= warm:
            durations.append(took)
    return durations, errors


def add_http(
    report: Report,
    label: str,
    values: list[float],
    errors: list[str],
    base: list[float] | None = None,
) -> None:
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:2]}")
    p50 = pct(values, 0.5)
    text = f"{ms(p50)} / {ms(pct(values, 0.95))}"
    if base:
        text += f" ({p50 / pct(base, 0.5):.1f}× the direct query)"
    report.add(f"{label}, {len(values)} requests p50 / p95", text)


def full_text(state, principals, combos, report: Report) -> None:
    """``SearchService.scores`` and ``Archive.query`` with the hits (an unmeasured pass
    first, as for the faceted queries)."""
    from werkzeug.datastructures import MultiDict

    from plugins.resolutions import schema as S
    from plugins.resolutions.archive import Archive, Filters

    for _ in range(2):
        search, total, hits_count = [], [], []
        for i, args in enumerate(combos):
            _name, principal, _client = principals[i % len(principals)]
            with state.sessions() as session:
                start = time.perf_counter()
                filters = Filters.from_args(MultiDict(args))
                hits = state.search.scores(principal, filters.q, page_type=S.TYPE)
                middle = time.perf_counter()
                result = Archive(session, state.acl.read_filter(principal), hits).query(filters)
                end = time.perf_counter()
            search.append(middle - start)
            total.append(end - start)
            hits_count.append(result.total)
    p50 = pct(total, 0.5)
    report.add(
        f"full text + facets (scores + Archive.query), {len(total)} queries p50 / p95",
        f"{ms(p50)} / {ms(pct(total, 0.95))}",
    )
    archive = [t - s for t, s in zip(total, search, strict=True)]
    report.add(
        "  of which full-text search (SearchService.scores) p50 / p95",
        f"{ms(pct(search, 0.5))} / {ms(pct(search, 0.95))} "
        f"({sum(search) / sum(total) * 100:.0f} % of the time)",
    )
    report.add(
        "  of which Archive.query with the hits p50 / p95",
        f"{ms(pct(archive, 0.5))} / {ms(pct(archive, 0.95))}",
    )
    report.add(
        "  resolutions found per query: median / max",
        f"{statistics.median(hits_count):.0f} / {max(hits_count)}",
    )


def export(principals, report: Report, expected: int) -> None:
    admin = next(client for name, _p, client in principals if name == "admin")
    durations, size, rows = [], 0, 0
    for _ in range(3):
        start = time.perf_counter()
        response = admin.get("/-/resolutions/export.csv?scope=all")
        data = response.get_data()
        durations.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(f"export.csv: HTTP {response.status_code}")
        size = len(data)
        text = data.decode("utf-8").lstrip("\ufeff")
        rows = sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=";")) - 1
    took = statistics.median(durations)
    report.add(
        "CSV export of all resolutions as admin (median of 3)",
        f"{took:.2f} s, {size / 1024 / 1024:.1f} MB, {rows} rows ({rows / took:.0f} rows/s)",
    )
    if rows != expected:
        raise RuntimeError(f"export.csv has {rows} rows, expected {expected}")


def lookups(principals, rids: list[str], report: Report) -> None:
    for label, prefix, ok in (
        ("id lookup /-/resolutions/<id>", "/-/resolutions/", 302),
        ("API /-/api/v1/resolutions/<id>", "/-/api/v1/resolutions/", 200),
    ):
        durations, statuses = [], {}
        for i, rid in enumerate(rids):
            _name, _principal, client = principals[i % len(principals)]
            start = time.perf_counter()
            response = client.get(prefix + rid)
            response.get_data()
            durations.append(time.perf_counter() - start)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if set(statuses) - {ok, 404}:
            raise RuntimeError(f"{label}: unexpected answers {statuses}")
        report.add(
            f"{label}, {len(durations)} requests p50 / p95",
            f"{ms(pct(durations, 0.5))} / {ms(pct(durations, 0.95))} "
            f"({statuses.get(ok, 0)}× {ok}, {statuses.get(404, 0)}× 404)",
        )


def profile(state, principals, combos, report: Report, measured: list[float]) -> None:
    """Where the faceted queries spend their time: SQLite per statement (recorded, replayed),
    SQLAlchemy's statement compilation, query plans of the default view, and a cProfile."""
    from werkzeug.datastructures import MultiDict

    from plugins.resolutions.archive import Archive, Filters

    def queries(sql: SqlLog | None = None, profiler: cProfile.Profile | None = None) -> None:
        for i, args in enumerate(combos):
            _name, principal, _client = principals[i % len(principals)]
            if sql:
                sql.query = i
            with state.sessions() as session:
                if profiler:
                    profiler.enable()
                filters = Filters.from_args(MultiDict(args))
                Archive(session, state.acl.read_filter(principal)).query(filters)
                if profiler:
                    profiler.disable()

    with SqlLog(state.engine) as sql:
        queries(sql)
    database = state.engine.url.database
    if state.engine.dialect.name == "sqlite" and database:
        by_label, by_query = sql.replay(database)
        totals = [by_query.get(i, 0.0) for i in range(len(combos))]
        shares = [t / d for t, d in zip(totals, measured, strict=False) if d]
        cache = getattr(state.engine, "_compiled_cache", None)
        report.notes.append(
            f"SQL of the {len(combos)} faceted queries, each statement replayed alone on "
            "sqlite3 (execute + fetchall): per query p50 "
            f"{ms(pct(totals, 0.5))}, p95 {ms(pct(totals, 0.95))}, mean "
            f"{ms(statistics.fmean(totals))}; SQLite's share of the measured time per query: "
            f"p50 {pct(shares, 0.5) * 100:.0f} %. SQLAlchemy compiled {sql.compiled} of "
            f"{len(sql.statements)} statements anew although every combination had run before "
            f"(compiled cache: {len(cache) if cache is not None else '?'} entries, "
            f"capacity {getattr(cache, 'capacity', '?')}).\n\n" + sql_table(by_label, len(combos))
        )
        slowest = sorted(range(len(combos)), key=lambda i: -totals[i])[:5]
        report.notes.append(
            "Queries with the most SQL time:\n\n"
            + "\n".join(
                f"- {ms(totals[i])} SQL, {ms(measured[i]) if i < len(measured) else '?'} in all, "
                f"as {principals[i % len(principals)][0]}: `{url('', combos[i]) or '(default)'}`"
                for i in slowest
            )
        )
    report.notes.append(
        "Query plans of the first combination (the default view) as anonymous "
        "(EXPLAIN QUERY PLAN):\n\n```\n" + sql.plans(0) + "\n```"
    )
    profiler = cProfile.Profile()
    queries(profiler=profiler)
    report.notes.append(
        f"Profile of {len(combos)} faceted queries (cProfile, by own time):\n\n"
        "```\n" + profile_text(profiler, 18) + "\n```"
    )


def run(args, workdir: Path) -> Report:
    report = Report()
    app, items, chapters = build(args, workdir, report)
    state = app.extensions["wiki"]
    try:
        log("accounts and logins")
        principals = setup_users(app, chapters)
        check_clients(state, principals)
        rng = random.Random(args.seed + 1)
        vocab = vocabulary(items)
        combos = filter_combinations(rng, vocab, args.queries)
        texts = text_combinations(rng, vocab, args.queries)
        count = len(items)
        rids = [i.rid for i in random.Random(args.seed + 2).sample(items, min(args.queries, count))]
        summary = statistics_line(items)
        del items, vocab  # the benchmark's own objects must not slow the wiki's GC down
        # As a worker does after start-up (create_app), with the projection now built.
        from wiki import freeze_startup_objects

        freeze_startup_objects()
        warm = min(20, args.queries)
        direct: list[float] = []
        log(f"{len(combos)} faceted queries (Archive.query)")
        try:
            direct = faceted(state, principals, combos, report)
        except Exception as exc:
            report.error("faceted query", exc)
        log("the same through /-/resolutions/")
        try:
            values, errors = http_route(principals, "/-/resolutions/", combos, warm)
            add_http(
                report,
                "archive page /-/resolutions/ (test client, template)",
                values,
                errors,
                direct,
            )
        except Exception as exc:
            report.error("archive page /-/resolutions/", exc)
        log("the same through the JSON API")
        try:
            values, errors = http_route(principals, "/-/api/v1/resolutions", combos, warm)
            add_http(report, "JSON API list /-/api/v1/resolutions", values, errors, direct)
        except Exception as exc:
            report.error("JSON API list", exc)
        log(f"{len(texts)} full-text queries with facets")
        try:
            full_text(state, principals, texts, report)
        except Exception as exc:
            report.error("full text + facets", exc)
        log("CSV export")
        try:
            export(principals, report, count)
        except Exception as exc:
            report.error("CSV export", exc)
        log("id lookups")
        try:
            lookups(principals, rids, report)
        except Exception as exc:
            report.error("id lookups", exc)
        if args.profile:
            log("profile of the faceted queries")
            try:
                profile(state, principals, combos, report, direct)
            except Exception as exc:
                report.error("profile", exc)
    finally:
        state.search.wait_idle()
        state.search.close()
        state.store.close()
        state.engine.dispose()
    report.notes.insert(0, summary)
    report.notes.insert(
        0,
        environment(
            f"{count} resolutions in {len(chapters)} chapters, {COMMITS} commits over "
            f"{LAST_YEAR - FIRST_YEAR + 1} years; {args.queries} filter combinations and "
            f"{args.queries} full-text queries, 5 principals taking turns.",
            extra=[f"SQLite {sqlite3.sqlite_version}"],
        ),
    )
    return report


def statistics_line(items: list[Item]) -> str:
    def shares(values) -> str:
        counts: dict[str, int] = {}
        for value in values:
            counts[value] = counts.get(value, 0) + 1
        return ", ".join(
            f"{k} {v * 100 / len(items):.0f} %"
            for k, v in sorted(counts.items(), key=lambda kv: -kv[1])
        )

    links = sum(1 for i in items if i.meta.get("links"))
    return (
        f"Data: outcomes {shares(i.meta['outcome'] for i in items)}; validities "
        f"{shares(i.meta.get('validity', '–') for i in items)}; visibilities "
        f"{shares(i.meta.get('visibility', 'default') for i in items)}; {links} with links."
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolutions", type=int, help="resolutions (default 5000)")
    parser.add_argument("--quick", action="store_true", help="500 resolutions")
    parser.add_argument(
        "--queries",
        type=int,
        default=200,
        help="filter combinations and full-text queries each (default 200)",
    )
    add_workdir_options(parser)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile and SQL times of the faceted queries"
    )
    parser.add_argument("--seed", type=int, default=20240701)
    args = parser.parse_args(argv)
    args.resolutions = args.resolutions or (500 if args.quick else 5000)
    if args.resolutions < COMMITS:
        parser.error(f"--resolutions must be at least {COMMITS}")
    if args.queries < 10:
        parser.error("--queries must be at least 10")
    return args


def main(argv=None) -> int:
    return run_in_workdir(run, parse_args(argv), "wiki-resolutions-bench-")


if __name__ == "__main__":
    sys.exit(main())

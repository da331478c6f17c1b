"""More demo resolutions (``verbandswiki init --demo``): decisions of the demo Landesverband, its
Kreisverbände Erfurt and Jena and the Ortsverband Erfurt-Nord from 2019 to 2026, with every
outcome and validity and typed links, so that the archive's facets and the Beschlussbuch show
something. Bodies, people and texts are invented, except the resolution in :data:`REAL`.

Entries have the form of :data:`plugins.resolutions.demo.RESOLUTIONS`:
``(space, front matter, Beschlusstext, Begründung)``.
"""

from __future__ import annotations

from datetime import date, datetime

LV, EF, JENA, NORD = "thueringen", "thueringen/erfurt", "thueringen/jena", "thueringen/erfurt/nord"
LAKO = "Landeskongress"

#: The resolution „Digitalisierung betrifft uns auch selbst“ of the Landeskongress Thüringen 2022.
#: Its full wording and its metadata (number, date, initiators, votes) were not available when
#: this demo was written: the page summarises its demands, quotes only what is known verbatim and
#: says so, instead of inventing a text.
REAL_ID = "LaKo-2022-Digitalisierung"
REAL_NOTE = (
    "> **Hinweis der Demo:** Titel und Veranstaltung stammen von einem echten Beschluss eines "
    "Jugendverbands (Landeskongress Thüringen 2022). Sein vollständiger Wortlaut und seine "
    "Rahmendaten (Antragsnummer, Datum, Antragsteller\\*innen, Abstimmung) lagen beim Anlegen "
    "der Demo nicht vor. Unten stehen seine Kernforderungen als Zusammenfassung; nur die Stellen "
    "in Anführungszeichen sind wörtlich. Datum und Antragsteller\\*innen sind Demo-Angaben. Wer "
    "den Originaltext hat, trägt ihn mit `verbandswiki resolutions import` (Antragsgrün-Export) "
    "oder über „Bearbeiten“ hier ein."
)
#: The demands of the resolution, summarised (quotes are verbatim).
REAL_DEMANDS = (
    "Kernforderungen (Zusammenfassung, nicht der Wortlaut):\n\n"
    "1. Eine durchsuchbare Datenbank der Beschlüsse aller Konferenzen und Gremien, damit "
    "nachvollziehbar ist, welches Gremium was beschlossen hat.\n"
    "2. Ein zentraler Weg, auf dem Vorsitzende der Gliederungen ihre eigenen Mitglieder "
    "erreichen.\n"
    "3. „digitale Methoden (E-Mail ausgenommen) für Mitgliederbefragungen als Option (z.B. QR "
    "Code)“.\n"
    "4. Selbst verwaltete Software für jede Gliederung: Wiki, Dokumentenablage, „Erstellen und "
    "Teilen von Kalendern“, „Umfragen- und Formularerstellung“, Videokonferenzen und eine "
    "öffentliche Webseite – bedienbar von einfachen Mitgliedern.\n"
    "5. Datenschutz, der von Anfang an mitgedacht und nicht nachträglich angebaut wird."
)
REAL = (
    LV,
    {
        "id": REAL_ID,
        "title": "Digitalisierung betrifft uns auch selbst",
        "body": LAKO,
        "event": "Landeskongress Thüringen 2022",
        "decided": date(2022, 3, 19),
        "initiators": ["Landesvorstand (Demo-Angabe)"],
        "outcome": "angenommen",
        "outcome_detail": "Demo: Wortlaut und Rahmendaten nicht belegt, siehe Hinweis im Text",
        "validity": "in_kraft",
        "topics": ["Digitalisierung", "Verbandsarbeit", "Mitgliederbeteiligung"],
        "visibility": "public",
    },
    REAL_NOTE + "\n\n" + REAL_DEMANDS,
    "",
)


def res(space, rid, title, body, event, outcome, text, reason="", **meta):
    """One demo entry; ``number`` defaults to the last part of the id."""
    fields = {"id": rid, "number": rid.rsplit("-", 1)[1], "title": title, "body": body}
    fields.update(event=event, outcome=outcome, **meta)
    fields.setdefault("visibility", "public")
    return space, fields, text, reason


def lako(year, number, title, outcome, text, reason="", **meta):
    """A motion of the Landeskongress of ``year``."""
    return res(
        LV,
        f"LaKo-{year}-{number}",
        title,
        LAKO,
        f"Landeskongress {year}",
        outcome,
        text,
        reason,
        **meta,
    )


MORE = (
    REAL,
    lako(
        2019,
        "A1",
        "Antragsrecht für alle Mitglieder",
        "angenommen",
        "Jedes Mitglied kann Anträge an den Landeskongress stellen; dafür genügen die "
        "Unterschriften von fünf Mitgliedern.",
        "Bisher konnten nur Gliederungen und Gremien Anträge stellen.",
        decided=date(2019, 3, 16),
        initiators=["Ortsverband Erfurt-Nord"],
        votes={"yes": 38, "no": 6, "abstain": 2},
        validity="ersetzt",
        topics=["Mitgliederbeteiligung", "Satzung"],
    ),
    lako(
        2019,
        "A7",
        "Klimanotstand für Thüringen",
        "angenommen_geaendert",
        "Wir fordern den Landtag auf, den Klimanotstand zu erklären und jedes Gesetz auf seine "
        "Folgen für das Klima zu prüfen.",
        decided=date(2019, 3, 16),
        initiators=["Landesarbeitskreis Umwelt"],
        outcome_detail="mit Änderungsantrag Ä2 (Klimacheck für Gesetze)",
        votes={"yes": 44, "no": 1, "abstain": 3},
        validity="historisch",
        topics=["Klimaschutz"],
    ),
    lako(
        2020,
        "A2",
        "Landeskongress auch digital",
        "angenommen",
        "Solange Versammlungen in Präsenz nicht möglich sind, kann der Landesvorstand den "
        "Landeskongress als Online-Versammlung einberufen.",
        "Übergangsregel für die Pandemie.",
        decided=date(2020, 9, 26),
        initiators=["Landesvorstand"],
        votes="unanimous",
        validity="abgelaufen",
        valid_until=date(2022, 12, 31),
        topics=["Satzung", "Digitalisierung"],
    ),
    lako(
        2021,
        "A3",
        "Klimaneutraler Verband bis 2030",
        "angenommen",
        "Der Landesverband wird bis 2030 klimaneutral: Anreise mit Bus und Bahn, vegetarische "
        "Verpflegung, Ökostrom in der Geschäftsstelle und eine jährliche Klimabilanz.",
        decided=date(2021, 4, 17),
        initiators=["Landesarbeitskreis Umwelt", "Kreisverband Jena"],
        votes={"yes": 47, "no": 4, "abstain": 6},
        validity="in_kraft",
        topics=["Klimaschutz", "Verbandsarbeit"],
        links={"related": ["LaKo-2019-A7"]},
    ),
    lako(
        2021,
        "A6",
        "Finanzordnung: Reisekosten für Ehrenamtliche",
        "angenommen",
        "Ehrenamtliche erhalten Fahrtkosten für Bahn und Bus in voller Höhe erstattet, für das "
        "Auto 20 Cent je Kilometer.",
        decided=date(2021, 4, 17),
        initiators=["Landesschatzmeister*in"],
        votes={"yes": 51, "no": 0, "abstain": 2},
        validity="ersetzt",
        topics=["Finanzen"],
    ),
    lako(
        2022,
        "A6",
        "Eigene Server statt Datenkraken",
        "erledigt",
        "Der Landesverband betreibt seine Kommunikation auf eigenen oder gemeinnützigen Servern.",
        decided=date(2022, 3, 19),
        initiators=["Kreisverband Jena"],
        outcome_detail="durch Annahme von „Digitalisierung betrifft uns auch selbst“",
        topics=["Digitalisierung", "Datenschutz"],
        links={"related": [REAL_ID]},
    ),
    lako(
        2022,
        "A9",
        "Arbeitskreis Kultur auflösen",
        "nichtbefassung",
        "Der Landesarbeitskreis Kultur wird aufgelöst.",
        decided=date(2022, 3, 19),
        initiators=["Mia Mitglied"],
        outcome_detail="Nichtbefassung auf Geschäftsordnungsantrag",
        votes={"yes": 30, "no": 12, "abstain": 5},
        topics=["Verbandsarbeit"],
    ),
    lako(
        2023,
        "S1",
        "Satzungsänderung: Antragsrecht und Online-Teilnahme",
        "angenommen_geaendert",
        "§ 7 der Satzung wird neu gefasst: Anträge stellen können Gliederungen, Gremien und "
        "jeweils fünf Mitglieder gemeinsam. Mitglieder können an Versammlungen auch online "
        "teilnehmen und abstimmen.",
        "Setzt den Beschluss „Digitalisierung betrifft uns auch selbst“ in der Satzung um.",
        decided=date(2023, 4, 22),
        agenda_item="4 Satzungsänderungen",
        initiators=["Landesvorstand"],
        outcome_detail="mit Änderungsantrag Ä1 (Quorum)",
        votes={"yes": 56, "no": 3, "abstain": 1},
        validity="in_kraft",
        topics=["Satzung", "Mitgliederbeteiligung", "Digitalisierung"],
        links={"replaces": ["LaKo-2019-A1"], "implements": [REAL_ID]},
    ),
    lako(
        2023,
        "A5",
        "Stundentakt für jedes Dorf",
        "vertagt",
        "Jeder Ort in Thüringen mit mehr als 200 Einwohner*innen wird mindestens stündlich "
        "mit Bus oder Bahn angebunden.",
        decided=date(2023, 4, 22),
        initiators=["Kreisverband Erfurt"],
        outcome_detail="aus Zeitgründen auf den nächsten Landeskongress vertagt",
        topics=["ÖPNV", "Ländlicher Raum"],
    ),
    lako(
        2023,
        "A8",
        "Politische Bildung ab Klasse 5",
        "angenommen",
        "Politische Bildung wird ab Klasse 5 an allen Schularten ein eigenes Fach mit zwei "
        "Wochenstunden.",
        decided=date(2023, 4, 22),
        initiators=["Arbeitskreis Bildung"],
        votes={"yes": 49, "no": 2, "abstain": 2},
        validity="in_kraft",
        topics=["Bildung", "Jugendbeteiligung"],
    ),
    lako(
        2024,
        "A1",
        "Finanzordnung 2024",
        "angenommen",
        "Die Finanzordnung wird neu gefasst (siehe Anlage). Fahrtkosten werden pauschal "
        "erstattet; Gliederungen erhalten einen festen Anteil der Beiträge.",
        decided=date(2024, 3, 23),
        initiators=["Landesvorstand"],
        votes="unanimous",
        validity="in_kraft",
        topics=["Finanzen"],
        links={"replaces": ["LaKo-2021-A6"]},
    ),
    lako(
        2024,
        "A2",
        "Stundentakt für jedes Dorf (neue Fassung)",
        "angenommen_geaendert",
        "Wir setzen uns für einen Stundentakt im ländlichen Raum ein, mit Rufbussen dort, wo "
        "Linienbusse nicht wirtschaftlich fahren.",
        decided=date(2024, 3, 23),
        initiators=["Kreisverband Erfurt"],
        outcome_detail="Rufbusse ergänzt (Ä3)",
        votes={"yes": 40, "no": 8, "abstain": 4},
        validity="in_kraft",
        topics=["ÖPNV", "Ländlicher Raum"],
        links={"related": ["LaKo-2023-A5"]},
    ),
    lako(
        2024,
        "A3",
        "Jugendbeteiligung in jeder Gemeinde verbindlich",
        "angenommen",
        "Gemeinden beteiligen Kinder und Jugendliche bei allen Planungen, die sie betreffen; "
        "die Kommunalordnung schreibt das verbindlich vor.",
        decided=date(2024, 3, 23),
        initiators=["Kreisverband Jena"],
        votes={"yes": 55, "no": 0, "abstain": 1},
        validity="in_kraft",
        topics=["Jugendbeteiligung", "Kommunalpolitik"],
    ),
    lako(
        2024,
        "A8",
        "Mitgliedsbeitrag abschaffen",
        "nicht_zugelassen",
        "Der Mitgliedsbeitrag wird abgeschafft.",
        decided=date(2024, 3, 23),
        initiators=["Jan Mitglied"],
        outcome_detail="nach Antragsschluss eingereicht; Dringlichkeit nicht anerkannt",
        topics=["Finanzen"],
    ),
    lako(
        2025,
        "A1",
        "Leitantrag: Jung, digital, beteiligt",
        "angenommen",
        "Wir machen Beteiligung einfach: Anträge online, Versammlungen hybrid, Beschlüsse "
        "öffentlich und durchsuchbar.",
        decided=date(2025, 3, 29),
        agenda_item="3 Leitantrag",
        initiators=["Landesvorstand"],
        votes={"yes": 61, "no": 2, "abstain": 3},
        validity="in_kraft",
        topics=["Mitgliederbeteiligung", "Digitalisierung", "Jugendbeteiligung"],
        links={"related": [REAL_ID]},
    ),
    lako(
        2025,
        "A4",
        "Deutschlandticket für junge Menschen für 29 Euro",
        "angenommen",
        "Junge Menschen bis 27 Jahre erhalten das Deutschlandticket für 29 Euro im Monat.",
        decided=date(2025, 3, 29),
        initiators=["Kreisverband Erfurt", "Kreisverband Jena"],
        votes={"yes": 58, "no": 1, "abstain": 0},
        validity="in_kraft",
        topics=["ÖPNV", "Soziales"],
        links={"related": ["LaKo-2022-A1"]},
    ),
    lako(
        2026,
        "A2",
        "Mehr Geld für Jugendverbandsarbeit",
        "offen",
        "Das Land erhöht die Förderung der Jugendverbände um ein Drittel.",
        submitted=datetime(2026, 11, 20, 18, 0),
        initiators=["Landesvorstand"],
        topics=["Finanzen", "Jugendbeteiligung"],
    ),
    res(
        LV,
        "LaVo-2020-04",
        "Regeln für Präsenztreffen in der Pandemie",
        "Landesvorstand",
        "Sitzung des Landesvorstands am 10. Juni 2020",
        "angenommen",
        "Treffen in Präsenz finden mit Abstand, Lüften und Teilnahmeliste statt.",
        decided=date(2020, 6, 10),
        initiators=["Landesvorstand"],
        votes={"yes": 6, "no": 0, "abstain": 0},
        validity="aufgehoben",
        topics=["Verbandsarbeit"],
        visibility="internal",
    ),
    res(
        LV,
        "LaVo-2022-09",
        "Arbeitsgruppe Digitale Werkzeuge",
        "Landesvorstand",
        "Sitzung des Landesvorstands am 11. Mai 2022",
        "angenommen",
        "Eine Arbeitsgruppe prüft, welche Werkzeuge der Verband für Wiki, Anträge und "
        "Abstimmungen nutzt, und legt bis Jahresende einen Vorschlag vor.",
        decided=date(2022, 5, 11),
        initiators=["Landesvorstand"],
        votes="unanimous",
        validity="umgesetzt",
        topics=["Digitalisierung", "Verbandsarbeit"],
        links={"implements": [REAL_ID]},
        visibility="internal",
    ),
    res(
        LV,
        "LaVo-2023-03",
        "Haushalt 2023",
        "Landesvorstand",
        "Sitzung des Landesvorstands am 18. Januar 2023",
        "angenommen",
        "Der Haushaltsplan 2023 wird mit Einnahmen und Ausgaben von je 48.500 Euro beschlossen.",
        decided=date(2023, 1, 18),
        initiators=["Landesschatzmeister*in"],
        votes={"yes": 7, "no": 0, "abstain": 1},
        validity="abgelaufen",
        valid_until=date(2023, 12, 31),
        topics=["Finanzen"],
        visibility="members",
    ),
    res(
        LV,
        "LaVo-2025-11",
        "Datenschutzkonzept für das Mitgliederwiki",
        "Landesvorstand",
        "Sitzung des Landesvorstands am 3. September 2025",
        "angenommen",
        "Das Wiki speichert Mitgliedsdaten nur in der Datenbank, nie in der Versionsgeschichte; "
        "Vorstände sehen Kontaktdaten nur mit Zwei-Faktor-Anmeldung.",
        decided=date(2025, 9, 3),
        initiators=["Arbeitsgruppe Digitale Werkzeuge"],
        votes="unanimous",
        validity="vorlaeufig",
        valid_until=date(2026, 12, 31),
        outcome_detail="vorläufig bis zur Bestätigung durch den Landeskongress",
        topics=["Datenschutz", "Digitalisierung"],
        links={"implements": [REAL_ID]},
    ),
    res(
        EF,
        "EF-KMV-2019-A2",
        "Ein Jugendparlament für Erfurt",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung Herbst 2019",
        "angenommen",
        "Der Kreisverband setzt sich für ein gewähltes Jugendparlament mit eigenem Budget und "
        "Rederecht im Stadtrat ein.",
        decided=date(2019, 11, 9),
        initiators=["Kreisvorstand Erfurt"],
        votes={"yes": 21, "no": 0, "abstain": 1},
        validity="umgesetzt",
        topics=["Jugendbeteiligung", "Kommunalpolitik"],
    ),
    res(
        EF,
        "EF-KMV-2021-A1",
        "Nachtbusse am Wochenende",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung Frühjahr 2021",
        "angenommen_geaendert",
        "Freitags und samstags fahren die Erfurter Stadtbahnen und Busse die ganze Nacht im "
        "Stundentakt.",
        decided=date(2021, 3, 13),
        initiators=["Ortsverband Erfurt-Nord"],
        outcome_detail="auf Freitag und Samstag beschränkt",
        votes={"yes": 17, "no": 2},
        validity="in_kraft",
        topics=["ÖPNV"],
        links={"forwarded_to": ["LaKo-2022-A1"]},
    ),
    res(
        EF,
        "EF-KMV-2022-A3",
        "Klimaschutzkonzept der Stadt nachschärfen",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung Herbst 2022",
        "ueberwiesen",
        "Die Stadt Erfurt soll ihr Klimaschutzkonzept auf Klimaneutralität bis 2035 ausrichten.",
        decided=date(2022, 10, 15),
        initiators=["Mia Mitglied"],
        referred_to="Kreisvorstand",
        topics=["Klimaschutz", "Kommunalpolitik"],
    ),
    res(
        EF,
        "EF-KV-2024-05",
        "Budget für den Kommunalwahlkampf",
        "Kreisvorstand",
        "Sitzung des Kreisvorstands am 6. Februar 2024",
        "angenommen",
        "Für den Kommunalwahlkampf 2024 stehen 3.000 Euro zur Verfügung, davon 1.000 Euro für "
        "Aktionen der Ortsverbände.",
        decided=date(2024, 2, 6),
        initiators=["Kreisvorstand Erfurt"],
        votes="unanimous",
        validity="abgelaufen",
        valid_until=date(2024, 5, 26),
        topics=["Finanzen", "Wahlkampf"],
        visibility="board",
    ),
    res(
        EF,
        "EF-KMV-2025-A2",
        "Kreissatzung an die Landessatzung anpassen",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung Frühjahr 2025",
        "angenommen",
        "Die Kreissatzung übernimmt das Antragsrecht für Mitglieder und die Online-Teilnahme "
        "aus der Landessatzung.",
        decided=date(2025, 4, 5),
        initiators=["Kreisvorstand Erfurt"],
        votes={"yes": 23, "no": 0, "abstain": 2},
        validity="in_kraft",
        topics=["Satzung"],
        links={"implements": ["LaKo-2023-S1"]},
    ),
    res(
        EF,
        "EF-KMV-2026-A1",
        "Trinkbrunnen in der Innenstadt",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung Winter 2026",
        "offen",
        "Die Stadt stellt in der Innenstadt und an allen Schulen Trinkbrunnen auf.",
        submitted=datetime(2026, 11, 28, 21, 5),
        initiators=["Ortsverband Erfurt-Nord"],
        topics=["Kommunalpolitik", "Klimaschutz"],
    ),
    res(
        JENA,
        "J-KMV-2019-A1",
        "Fahrradstraßen in der Innenstadt",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung 2019",
        "angenommen",
        "Die Hauptachsen für den Radverkehr in der Jenaer Innenstadt werden Fahrradstraßen.",
        decided=date(2019, 5, 18),
        initiators=["Jan Mitglied"],
        votes={"yes": 15, "no": 3, "abstain": 1},
        validity="umgesetzt",
        topics=["Verkehr"],
    ),
    res(
        JENA,
        "J-KMV-2020-A3",
        "Solidarität mit den Klimastreiks",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung 2020",
        "angenommen",
        "Der Kreisverband ruft seine Mitglieder auf, sich an den Schul- und Klimastreiks zu "
        "beteiligen.",
        decided=date(2020, 2, 22),
        initiators=["Kreisvorstand Jena"],
        votes="unanimous",
        validity="historisch",
        topics=["Klimaschutz"],
    ),
    res(
        JENA,
        "J-KMV-2023-A2",
        "Mietobergrenze in Wohnheimen",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung 2023",
        "abgelehnt",
        "Zimmer in Wohnheimen kosten höchstens so viel wie die Wohnkostenpauschale im BAföG.",
        decided=date(2023, 6, 10),
        initiators=["Hochschulgruppe"],
        votes={"yes": 9, "no": 14, "abstain": 3},
        topics=["Wohnen", "Soziales"],
    ),
    res(
        JENA,
        "J-KMV-2024-A4",
        "Mitgliederbefragung vor jeder Versammlung",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung 2024",
        "angenommen",
        "Vor jeder Kreismitgliederversammlung fragt der Kreisvorstand alle Mitglieder online, "
        "welche Themen auf die Tagesordnung sollen, und leitet den Antrag an den Landeskongress "
        "weiter.",
        decided=date(2024, 11, 16),
        initiators=["Jan Mitglied"],
        votes={"yes": 19, "no": 1, "abstain": 0},
        validity="in_kraft",
        topics=["Mitgliederbeteiligung", "Digitalisierung"],
        links={"forwarded_to": ["LaKo-2025-A1"]},
    ),
    res(
        JENA,
        "J-KMV-2025-A1",
        "Unibibliothek rund um die Uhr",
        "Kreismitgliederversammlung",
        "Kreismitgliederversammlung 2025",
        "angenommen",
        "Die Universitätsbibliothek öffnet in der Prüfungszeit rund um die Uhr.",
        decided=date(2025, 5, 24),
        initiators=["Hochschulgruppe"],
        votes={"yes": 20, "no": 0, "abstain": 2},
        validity="in_kraft",
        topics=["Bildung"],
    ),
    res(
        NORD,
        "EF-N-MV-2022-A1",
        "Den Spielplatz im Viertel sanieren",
        "Mitgliederversammlung",
        "Mitgliederversammlung Frühjahr 2022",
        "angenommen",
        "Der Ortsverband sammelt Unterschriften für die Sanierung des Spielplatzes und bringt "
        "das Anliegen in den Ortsteilrat.",
        decided=date(2022, 4, 2),
        initiators=["Mia Mitglied"],
        votes="unanimous",
        validity="umgesetzt",
        topics=["Kommunalpolitik"],
    ),
    res(
        NORD,
        "EF-N-MV-2024-A2",
        "Infostand an jedem ersten Samstag",
        "Mitgliederversammlung",
        "Mitgliederversammlung Frühjahr 2024",
        "angenommen",
        "Der Ortsverband steht an jedem ersten Samstag im Monat mit einem Infostand vor dem "
        "Einkaufszentrum.",
        decided=date(2024, 3, 9),
        initiators=["Ortsvorstand"],
        votes={"yes": 8, "no": 0, "abstain": 1},
        validity="in_kraft",
        topics=["Verbandsarbeit"],
        visibility="members",
    ),
    res(
        NORD,
        "EF-N-MV-2026-A1",
        "Sichere Schulwege im Erfurter Norden",
        "Mitgliederversammlung",
        "Mitgliederversammlung Frühjahr 2026",
        "angenommen",
        "Vor allen Schulen im Stadtteil gilt Tempo 30; gefährliche Kreuzungen bekommen Ampeln "
        "oder Zebrastreifen.",
        decided=date(2026, 3, 14),
        initiators=["Ortsvorstand"],
        votes={"yes": 11, "no": 0, "abstain": 0},
        validity="in_kraft",
        topics=["Verkehr", "Kommunalpolitik"],
        links={"related": ["EF-KMV-2023-A1"]},
    ),
)

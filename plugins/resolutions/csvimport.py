"""Import resolutions from a spreadsheet (CSV) – e.g. an archive kept in a table before the wiki.

The first row names the columns; names are matched case-insensitively, German or English
(spaces, ``-`` and ``_`` do not matter), unknown columns are ignored with a warning. The
delimiter (``;``, ``,`` or tab) is detected from the header row; UTF-8 with or without BOM.

Columns (``Spalte`` / English name: content):

- ``Kennung`` / ``id``: resolution id such as ``LaKo-2022-A1`` (optional, else one is proposed)
- ``Nummer`` / ``number``: motion number, e.g. ``A1`` (also ``Antragsnummer``, ``Nr``)
- ``Titel`` / ``title``: **required**
- ``Gremium`` / ``body``: deciding body, e.g. ``Landeskonferenz`` (also ``Beschluss durch``)
- ``Veranstaltung`` / ``event``: e.g. ``Landeskonferenz 2022``
- ``Tagesordnungspunkt`` / ``agenda_item`` (also ``TOP``)
- ``Eingereicht`` / ``submitted``: ``TT.MM.JJJJ`` or ``JJJJ-MM-TT``, optionally with a time
- ``Beschlossen`` / ``decided``: ``TT.MM.JJJJ`` or ``JJJJ-MM-TT`` (also ``Beschlussdatum``)
- ``Antragsteller`` / ``initiators``: several separated by ``;`` or line breaks
  (also ``Antragsteller*innen``, ``Antragstellende``)
- ``Ergebnis`` / ``outcome``: **required**; a code (``angenommen``, ``angenommen_geaendert``,
  ``abgelehnt``, ``ueberwiesen``, ``erledigt``, ``nichtbefassung``, ``vertagt``,
  ``zurueckgezogen``, ``nicht_zugelassen``, ``offen``) or its wording (``angenommen mit
  Änderungen``, ``überwiesen an Landesvorstand``, ``Nichtbefassung``, Antragsgrün's status
  names …; also column ``Status``)
- ``Ergebnis-Details`` / ``outcome_detail``: e.g. ``mit Änderungen aus Ä2``
- ``Überwiesen an`` / ``referred_to``: for ``überwiesen``
- ``Abstimmung`` / ``votes``: ``Ja: 40, Nein: 3, Enthaltungen: 2``, ``40:3:2``, ``einstimmig``
  (also ``Abstimmungsergebnis``)
- ``Gültigkeit`` / ``validity``: only for adopted resolutions: ``in Kraft`` (default),
  ``vorläufig``, ``umgesetzt``, ``ersetzt``, ``aufgehoben``, ``abgelaufen``, ``historisch``
  (or the codes)
- ``Gültig bis`` / ``valid_until``: a date
- ``Themen`` / ``topics``: separated by ``;`` (also ``Thema``)
- ``Verknüpfungen`` / ``links``: ``replaces: LaKo-2019-A3; related: A-1, B-2`` (link kinds as in
  the front matter; what the CSV export writes)
- ``Beschlusstext`` / ``text``: the resolution text (markdown or plain text)
- ``Begründung`` / ``reason``
- ``Protokollnotiz`` / ``note``
- ``Quelle`` / ``url``: address (http/https) of the source

Rows without a title, without a recognised result, or with neither a decision nor a submission
date cannot be imported: they become items with ``problem`` set (reported as skipped). Blank
rows are ignored. ``source_id`` is the Kennung, else ``<Veranstaltung>/<Nummer>``, else
``<Jahr>/<Nummer>``, else ``<Datum>/<Titel>``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from plugins.resolutions import schema
from plugins.resolutions.antragsgruen import (
    ImportItem,
    outcome_for_label,
    parse_date_text,
    parse_datetime_text,
    parse_votes,
)

SYSTEM = "csv"

_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("Kennung", "id", "Beschluss-Kennung"),
    "number": ("Nummer", "number", "Antragsnummer", "Nr", "Nr.", "Antragsnr"),
    "title": ("Titel", "title"),
    "body": ("Gremium", "body", "Beschluss durch", "Beschlussgremium"),
    "event": ("Veranstaltung", "event"),
    "agenda_item": ("Tagesordnungspunkt", "agenda_item", "TOP", "agenda item"),
    "submitted": ("Eingereicht", "submitted", "Eingereicht am", "Eingang"),
    "decided": ("Beschlossen", "decided", "Beschlossen am", "Beschlussdatum", "Datum"),
    "initiators": ("Antragsteller", "initiators", "Antragsteller*innen", "Antragsteller*in",
                   "Antragsteller/innen", "AntragstellerInnen", "Antragstellende",
                   "Initiator*innen"),
    "outcome": ("Ergebnis", "outcome", "Status"),
    "outcome_detail": ("Ergebnis-Details", "outcome_detail", "Ergebnisdetails", "Details"),
    "referred_to": ("Überwiesen an", "referred_to", "Ueberwiesen an"),
    "votes": ("Abstimmung", "votes", "Abstimmungsergebnis"),
    "validity": ("Gültigkeit", "validity", "Gueltigkeit"),
    "valid_until": ("Gültig bis", "valid_until", "Gueltig bis"),
    "topics": ("Themen", "topics", "Thema", "Themenbereiche"),
    "links": ("Verknüpfungen", "links", "Verknuepfungen"),
    "text": ("Beschlusstext", "text", "Text"),
    "reason": ("Begründung", "reason", "Begruendung"),
    "note": ("Protokollnotiz", "note"),
    "url": ("Quelle", "url", "source", "Link"),
}  # fmt: skip

_VALIDITY_LABELS = {
    "in kraft": "in_kraft",
    "gültig": "in_kraft",
    "gueltig": "in_kraft",
    "vorläufig": "vorlaeufig",
    "vorlaeufig": "vorlaeufig",
    "umgesetzt": "umgesetzt",
    "erledigt": "umgesetzt",
    "ersetzt": "ersetzt",
    "aufgehoben": "aufgehoben",
    "abgelaufen": "abgelaufen",
    "historisch": "historisch",
}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-*/]+", "", (name or "").replace("\ufeff", "").strip().casefold())


_HEADER_MAP = {_key(alias): column for column, aliases in _COLUMNS.items() for alias in aliases}


def column_for_header(header: str) -> str | None:
    """Our column for a CSV header (``Überwiesen an`` → ``referred_to``), or None."""
    return _HEADER_MAP.get(_key(header))


def _delimiter(text: str) -> str:
    """The delimiter of the header row: the most frequent of ``;``, ``,`` and tab outside
    quotes (``;`` wins ties – it is what German spreadsheet programs write)."""
    first, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        elif not quoted:
            first.append(ch)
    line = "".join(first)
    counts = {d: line.count(d) for d in (";", ",", "\t")}
    best = max(counts.values())
    if best == 0:
        return ";"
    return next(d for d in (";", ",", "\t") if counts[d] == best)


def _split(value: str, seps: str) -> list[str]:
    result: list[str] = []
    for part in re.split(f"[{re.escape(seps)}]", value or ""):
        part = " ".join(part.split())
        if part and part not in result:
            result.append(part)
    return result


def validity_for_label(label: str) -> str | None:
    """Our validity code for ``in Kraft``, ``vorläufig``, … or a code; None if unknown."""
    text = " ".join((label or "").split())
    if text in schema.VALIDITIES:
        return text
    return _VALIDITY_LABELS.get(text.casefold().replace("_", " "))


def _text(value: str) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _links(text: str, warnings: list[str]) -> dict[str, list[str]]:
    """``replaces: LaKo-2019-A3; related: A, B`` (what the CSV export writes) → links."""
    links: dict[str, list[str]] = {}
    for part in _split(text, ";\n"):
        kind, _, ids = part.partition(":")
        kind = kind.strip()
        targets = [t for t in _split(ids, ",") if schema.valid_id(t)]
        if kind not in schema.LINK_TYPES or not targets:
            warnings.append(f"Verknüpfung „{part}“ nicht lesbar; ignoriert.")
            continue
        links.setdefault(kind, []).extend(t for t in targets if t not in links[kind])
    return links


def _row_item(row: dict[str, str], line: int) -> ImportItem:
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    problems: list[str] = []
    get = {k: " ".join((v or "").split()) for k, v in row.items()}

    rid = get.get("id", "")
    if rid:
        if schema.valid_id(rid):
            meta["id"] = rid
        else:
            warnings.append(f"Kennung „{rid}“ ist ungültig und wurde nicht übernommen.")
    number = get.get("number", "")
    if number:
        if schema.NUMBER_RE.fullmatch(number):
            meta["number"] = number
        else:
            warnings.append(f"Nummer „{number}“ hat kein gültiges Format.")
    title = get.get("title", "")
    if title:
        meta["title"] = title
    else:
        problems.append("Titel fehlt")
    for name in ("body", "event", "agenda_item"):
        if get.get(name):
            meta[name] = get[name]

    submitted = decided = None
    if get.get("submitted"):
        submitted = parse_datetime_text(get["submitted"])
        if submitted is None:
            problems.append(f"Eingangsdatum „{get['submitted']}“ nicht lesbar")
        else:
            meta["submitted"] = submitted
    if get.get("decided"):
        decided = parse_date_text(get["decided"])
        if decided is None:
            problems.append(f"Beschlussdatum „{get['decided']}“ nicht lesbar")
        else:
            meta["decided"] = decided
    if not get.get("submitted") and not get.get("decided"):
        problems.append("weder Beschluss- noch Eingangsdatum")

    initiators = _split(row.get("initiators", ""), ";\n")
    if initiators:
        meta["initiators"] = initiators

    outcome_text = get.get("outcome", "")
    match = outcome_for_label(outcome_text) if outcome_text else None
    if not outcome_text:
        problems.append("Ergebnis fehlt")
    elif match is None:
        problems.append(f"Ergebnis „{outcome_text}“ nicht erkannt")
    outcome = match.outcome if match else None
    if outcome:
        meta["outcome"] = outcome
    detail = get.get("outcome_detail") or (match.outcome_detail if match else None)
    referred = get.get("referred_to") or (match.referred_to if match else None)
    if referred:
        if outcome == "ueberwiesen":
            meta["referred_to"] = referred
        else:
            warnings.append(f"„Überwiesen an: {referred}“ passt nicht zum Ergebnis; ignoriert.")

    validity_text = get.get("validity", "")
    validity = validity_for_label(validity_text) if validity_text else None
    if validity_text and validity is None:
        warnings.append(f"Gültigkeit „{validity_text}“ nicht erkannt.")
    if outcome in schema.ADOPTED:
        meta["validity"] = validity or (match.validity if match else None) or "in_kraft"
    elif validity_text:
        warnings.append("Gültigkeit gibt es nur für angenommene Beschlüsse; ignoriert.")
    if get.get("valid_until"):
        until = parse_date_text(get["valid_until"])
        if until is None:
            warnings.append(f"„Gültig bis“ „{get['valid_until']}“ nicht lesbar; ignoriert.")
        else:
            meta["valid_until"] = until

    votes_text = get.get("votes", "")
    if votes_text:
        votes = parse_votes(votes_text)
        if votes is None:
            warnings.append(f"Abstimmungsergebnis „{votes_text}“ nicht lesbar.")
            if not detail:
                detail = votes_text
        else:
            meta["votes"] = votes
    if detail:
        meta["outcome_detail"] = detail

    topics = _split(row.get("topics", ""), ";\n")
    if topics:
        meta["topics"] = topics
    links = _links(row.get("links", ""), warnings)
    if links:
        meta["links"] = links

    url = get.get("url", "")
    if url and not schema.URL_RE.fullmatch(url):
        warnings.append(f"Quelle „{url}“ ist keine http(s)-Adresse; ignoriert.")
        url = ""

    year = decided or (submitted.date() if isinstance(submitted, datetime) else None) or None
    if rid:
        source_id = rid
    elif number and get.get("event"):
        source_id = f"{get['event']}/{number}"
    elif number and year:
        source_id = f"{year.year}/{number}"
    else:
        source_id = "/".join(p for p in (year.isoformat() if year else "", title) if p)
        source_id = source_id or f"zeile-{line}"
        warnings.append("Weder Kennung noch Nummer: erneutes Einlesen erkennt die Zeile nicht.")
    source: dict[str, str] = {"system": SYSTEM, "id": source_id}
    if url:
        source["url"] = url
    meta["source"] = source

    texts = {"Beschlusstext": _text(row.get("text", ""))}
    if _text(row.get("reason", "")):
        texts["Begründung"] = _text(row["reason"])
    if _text(row.get("note", "")):
        texts["Protokollnotiz"] = _text(row["note"])
    if not texts["Beschlusstext"] and outcome in schema.ADOPTED:
        warnings.append("Kein Beschlusstext.")

    label = " ".join(p for p in (number, title) if p) or f"Zeile {line}"
    problem = None
    if problems:
        problem = f"Zeile {line}: " + "; ".join(problems) + "."
    return ImportItem(
        system=SYSTEM,
        source_id=source_id,
        source_url=url or None,
        meta=meta,
        texts=texts,
        warnings=warnings,
        label=label,
        problem=problem,
    )


def decode(raw: bytes) -> tuple[str, str | None]:
    """Text of an exported file and a warning when it was not UTF-8: spreadsheets on Windows
    save CSV as Windows-1252 (Latin-1 with „“ and €), which is read as such then."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "Latin-1"
    return text, (
        f"Die Datei ist nicht UTF-8-kodiert und wurde als {encoding} gelesen; "
        "bitte Umlaute im Ergebnis prüfen."
    )


def parse_csv(text: str) -> list[ImportItem]:
    """Items from CSV text (see the module docstring for the columns). A file without a
    title column or without an outcome column gives a single item with ``problem`` set."""
    text = (text or "").lstrip("\ufeff")
    if not text.strip():
        return []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return []
    columns: list[str | None] = []
    unknown: list[str] = []
    for name in header:
        column = column_for_header(name)
        if column is not None and column in columns:
            unknown.append(f"{name} (doppelt)")
            column = None
        elif column is None and name.strip():
            unknown.append(name.strip())
        columns.append(column)
    missing = [c for c in ("title", "outcome") if c not in columns]
    if missing:
        names = ", ".join(f"„{_COLUMNS[c][0]}“" for c in missing)
        return [
            ImportItem(
                system=SYSTEM,
                source_id="csv",
                source_url=None,
                meta={},
                texts={},
                warnings=[],
                label="CSV-Datei",
                problem=f"Die Tabelle hat keine Spalte {names} (erste Zeile = Spaltennamen).",
            )
        ]
    items: list[ImportItem] = []
    try:
        for line, cells in enumerate(reader, start=2):
            if not any((c or "").strip() for c in cells):
                continue
            row: dict[str, str] = {}
            for column, value in zip(columns, cells, strict=False):
                if column:
                    row[column] = value
            item = _row_item(row, line)
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                item.warnings.append("Mehr Zellen als Spalten; die überzähligen wurden ignoriert.")
            items.append(item)
    except csv.Error as exc:
        items.append(
            ImportItem(
                system=SYSTEM,
                source_id=f"zeile-{reader.line_num}",
                source_url=None,
                meta={},
                texts={},
                warnings=[],
                label=f"Zeile {reader.line_num}",
                problem=f"CSV-Fehler in Zeile {reader.line_num}: {exc}",
            )
        )
    if unknown and items:
        items[0].warnings.append("Unbekannte Spalten ignoriert: " + ", ".join(unknown) + ".")
    return items

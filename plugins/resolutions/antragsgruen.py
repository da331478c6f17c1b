"""Parse Antragsgrün exports into :class:`ImportItem` records (the parsing half of the importer).

Antragsgrün (https://github.com/CatoTH/antragsgruen) is the motion/amendment tool of many German
party conventions. This module reads three kinds of its output, without network access and with
the standard library only (``html.parser``, ``json``):

**Motion view page** (``views/motion/view.php`` with ``_view_motiondata.php`` and
``_view_text.php``, ``showSimpleTextSection.php``)::

    <h1>A1: Titel</h1>                          (resolutions: the title without prefix)
    <div class="motionData"><div class="content">
      <table class="motionDataTable">           (the "Rahmendaten")
        <tr><th scope="row">Veranstaltung:</th><td><a …>Landesjugendkonferenz 2022</a></td></tr>
        <tr><th>Tagesordnungspunkt:</th><td>6. Antragsberatung</td></tr>
        <tr><th>Antragsteller*innen:</th><td>Name <small>(Gliederung)</small><br>…</td></tr>
        <tr class="statusRow"><th>Status:</th><td>Überweisung <small>(Landesvorstand)</string>
        <tr class="votingResultRow"><th>Abstimmungsergebnis:</th><td>Ja: 40, Nein: 3, …</td></tr>
        <tr class="proposedStatusRow"><th>Verfahrensvorschlag:</th><td class="str">…</td></tr>
        <tr><th>Beschluss durch:</th><td>Landesjugendkonferenz</td></tr>   (resolutions)
        <tr><th>Beschlossen am:</th><td>19.03.2022</td></tr>
        <tr><th>Eingereicht:</th><td>01.03.2022, 18:00</td></tr>
        <tr><th>Themenbereiche:</th><td>Verkehr, Soziales</td></tr>
        <tr class="replacesMotion"><th>Basierend auf:</th><td><a href="…">A1: Titel</a>…</td></tr>
      </table></div></div>
    <section class="motionTextHolder sectionType1 motionTextHolder1" id="section_2">
      <h2 class="green">Antragstext</h2>              (older versions: h3.green)
      <div class="paragraph lineNumbers">
        <ul class="bookmarks">…</ul>                  (amendment bookmarks: skipped)
        <div class="text motionTextFormattings textOrig"><p>
          <span class="lineNumber" data-line-number="1" aria-hidden="true"></span>Text …<br>
          <span class="lineNumber" data-line-number="2" aria-hidden="true"></span>… </p></div>
        <div class="text motionTextFormattings textAmendment hidden amendment7">…</div> (skipped)
        <section class="commentHolder">…</section>    (skipped)
      </div></section>

Rows are identified by their ``tr`` class first (``statusRow``, ``votingResultRow``,
``proposedStatusRow``, ``replacesMotion``), the others by their (German or English, tolerant)
label. The status cell is ``getFormattedStatus()``: the status name, optionally followed by the
free-text ``statusString`` in ``<small>(…)``. With line numbers, Antragsgrün ends every printed
line with ``<br>`` before the next ``lineNumber`` span; a line that ends in a space or hyphen was
wrapped, one that does not was a real line break (``components/LineSplitter.php``).

**plainhtml export** (``views/motion/plain_html.php``): ``<h1>A1: Titel</h1>``, a plain
``<table>`` of ``getDataTable()`` rows (Antragsteller*in(nen) / Gremium, Beschlussdatum of an
initiating organisation, Tagesordnungspunkt, Thema/Themen, Status only for invisible statuses,
Verfahrensvorschlag) and one ``<section><h2>Abschnitt</h2>…</section>`` per text section.

**REST API JSON** (``docs/openapi.yaml``, ``models/api/imotion/MotionDetails.php``,
``views/consultation/rest_get.php``): a motion is
``{type: "motion"|"amendment", id, agenda_item, prefix, title, title_with_intro,
title_with_prefix, status_id, status_title (HTML), date_published (ISO 8601), supporters,
initiators: [{type: person|organization, name, organization}], initiators_html,
sections: [{type: Title|TextSimple|TextHTML|Image|TabularData|PDFAttachment|…, title, html,
layout_right}], proposed_procedure: {status_id, status_title}|null, amendment_links, url_json,
url_html}``; the consultation is ``{title, title_short, motion_links: […], page_links, url_json,
url_html}`` where ``motion_links`` normally only carry ``status_id``/``status_title`` and URLs.
Entries of a consultation file that include ``sections`` are read as details; others give an
item without text and a warning. Hand-assembled files may use the keys ``motions`` and
``resolutions`` instead. The personal data export (``getUserdataExportObject()``: ``title_prefix``,
``status``, ``status_string``, ``date_creation``, ``date_resolution``, ``sections`` with
``section_title``/``data``) is read as well.

**Statuses** are the ``STATUS_*`` constants of ``models/db/IMotion.php`` with the names of
``messages/{de,en}/structure.php``; :data:`STATUS_OUTCOMES` maps each to our outcome.
Resolutions are ordinary motions with status 25 (Beschluss (vorläufig)) or 26 (Beschluss),
created from the original by "Änderungsanträge einpflegen" with ``parentMotionId`` = the
original and the same ``titlePrefix``. The REST API does not show ``parentMotionId``: a
resolution is paired with its original by an explicit ``parent_motion_id``/``parentMotionId``
field if present, else by the view page's "Basierend auf" link, else by the same prefix.
A pair becomes ONE item: the resolution's text as Beschlusstext, the original's id, number,
initiators and Begründung, the resolution's body, date and votes.

Statuses that are internal to Antragsgrün (deleted, merging drafts, proposed modifications,
inline replies) give items with ``problem`` set. Free-text statuses (23, "Sonstiger Status")
become ``offen`` with the text as ``outcome_detail``; a status shown on a page that matches no
known name is kept the same way, with a warning.

Ids: JSON items use the numeric motion id (amendments: ``amendment-<id>``); view pages carry no
id, so a numeric URL segment, a ``motionId=<n>``/``/motion/<n>`` link, else the URL slug (the
last path segment of ``url`` or of the page's canonical link) is used; a resolution alone uses
its "Basierend auf" link. Dates: ``19.03.2022``, ``19.03.2022, 14:30``, ``19.03.2022 14:30
Uhr``, ``03/19/2022`` (English pages: month first), ISO 8601 (offset dropped, local time kept).
The REST API has no resolution date: a resolution's publication date is used, with a warning.
Antragsgrün names the event, not the deciding body, of ordinary motions: without a "Beschluss
durch" row the body is derived from the event (``Landesjugendkonferenz 2022`` →
``Landesjugendkonferenz``), with a warning. Section HTML becomes markdown through
:func:`html_to_markdown`; image, PDF and video sections are left out with a warning.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from plugins.resolutions import schema

SYSTEM = "antragsgruen"


@dataclass
class ImportItem:
    """One decision to import: front matter (``meta``), body sections (``texts``) and notes."""

    system: str
    source_id: str
    source_url: str | None
    meta: dict[str, Any]
    texts: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    label: str = ""
    #: Why this item cannot be imported at all (the caller reports it as skipped), else None.
    problem: str | None = None
    #: The source id was built from event and number, and the source named no event: an event
    #: given on the command line (``--event``) then belongs in front of it (``event/A2``).
    id_lacks_event: bool = False


# -- statuses ---------------------------------------------------------------------------------


class StatusRule(NamedTuple):
    """How one Antragsgrün status becomes our outcome."""

    constant: str
    de: str
    en: str
    outcome: str
    validity: str | None = None
    detail: str | None = None
    problem: str | None = None


_INTERNAL = "interner Zwischenstand von Antragsgrün, kein eigenständiger Antrag"

#: Antragsgrün status id (``IMotion::STATUS_*``) → rule. Every id of ``models/db/IMotion.php``.
STATUS_OUTCOMES: dict[int, StatusRule] = {
    -3: StatusRule("STATUS_WITHDRAWN_INVISIBLE", "Zurückgezogen (unsichtbar)",
                   "Withdrawn (invisible)", "zurueckgezogen"),
    -2: StatusRule("STATUS_DELETED", "Gelöscht", "Deleted", "offen",
                   problem="in Antragsgrün gelöscht"),
    -1: StatusRule("STATUS_WITHDRAWN", "Zurückgezogen", "Withdrawn", "zurueckgezogen"),
    1: StatusRule("STATUS_DRAFT", "Entwurf", "Draft", "offen"),
    2: StatusRule("STATUS_SUBMITTED_UNSCREENED", "Eingereicht (ungeprüft)",
                  "Submitted (unpublished)", "offen"),
    3: StatusRule("STATUS_SUBMITTED_SCREENED", "Eingereicht", "Published", "offen"),
    4: StatusRule("STATUS_ACCEPTED", "Angenommen", "Accepted", "angenommen", "in_kraft"),
    5: StatusRule("STATUS_REJECTED", "Abgelehnt", "Rejected", "abgelehnt"),
    6: StatusRule("STATUS_MODIFIED_ACCEPTED", "Modifiziert übernommen", "Accepted (modified)",
                  "angenommen_geaendert", "in_kraft"),
    7: StatusRule("STATUS_MODIFIED", "Modifiziert", "Modified", "erledigt",
                  detail="durch eine neue Fassung ersetzt"),
    8: StatusRule("STATUS_ADOPTED", "Übernahme", "Adopted", "angenommen", "in_kraft"),
    9: StatusRule("STATUS_COMPLETED", "Erledigt", "Completed", "erledigt"),
    10: StatusRule("STATUS_REFERRED", "Überweisung", "Referred", "ueberwiesen"),
    11: StatusRule("STATUS_VOTE", "Abstimmung", "Vote", "offen"),
    12: StatusRule("STATUS_PAUSED", "Pausiert", "Paused", "vertagt"),
    13: StatusRule("STATUS_MISSING_INFORMATION", "Informationen fehlen", "Missing information",
                   "offen"),
    14: StatusRule("STATUS_DISMISSED", "Nicht zugelassen", "Dismissed", "nicht_zugelassen"),
    15: StatusRule("STATUS_COLLECTING_SUPPORTERS", "Unterstützer*innen sammeln",
                   "Call for supporters", "offen"),
    16: StatusRule("STATUS_DRAFT_ADMIN", "Entwurf (Admin)", "Draft (Admin)", "offen"),
    17: StatusRule("STATUS_PROCESSED", "Behandelt", "Processed", "erledigt", detail="behandelt"),
    18: StatusRule("STATUS_SUBMITTED_UNSCREENED_CHECKED",
                   "Eingereicht (geprüft, unveröffentlicht)",
                   "Submitted (reviewed, not yet published)", "offen"),
    19: StatusRule("STATUS_MERGING_DRAFT_PUBLIC", "Einpflegen: Zwischenstand (öffentlich)",
                   "Merging Draft (public)", "offen", problem=_INTERNAL),
    20: StatusRule("STATUS_MERGING_DRAFT_PRIVATE", "Einpflegen: Zwischenstand (unsichtbar)",
                   "Merging Draft (invisible)", "offen", problem=_INTERNAL),
    21: StatusRule("STATUS_PROPOSED_MODIFIED_AMENDMENT", "Vorgeschlagene Änderung (ÄA)",
                   "Proposed modification (amend)", "offen", problem=_INTERNAL),
    22: StatusRule("STATUS_OBSOLETED_BY_AMENDMENT", "Erledigt durch anderen ÄA",
                   "Handled by another amendment", "erledigt",
                   detail="erledigt durch einen anderen Änderungsantrag"),
    23: StatusRule("STATUS_CUSTOM_STRING", "Sonstiger Status", "Custom status", "offen"),
    24: StatusRule("STATUS_INLINE_REPLY", "Antwort", "Response", "offen",
                   problem="Antwort auf einen Antrag, kein eigener Beschluss"),
    25: StatusRule("STATUS_RESOLUTION_PRELIMINARY", "Beschluss (vorläufig)",
                   "Resolution (preliminary)", "angenommen", "vorlaeufig"),
    26: StatusRule("STATUS_RESOLUTION_FINAL", "Beschluss", "Resolution", "angenommen",
                   "in_kraft"),
    27: StatusRule("STATUS_MOVED", "Verschoben", "Moved", "erledigt",
                   detail="verschoben (an anderer Stelle weiterbehandelt)"),
    28: StatusRule("STATUS_PROPOSED_MOVE_TO_OTHER_MOTION",
                   "Vorgeschlagene Verschiebung von anderem Antrag",
                   "Proposed move from other motion", "offen", problem=_INTERNAL),
    29: StatusRule("STATUS_QUORUM_MISSED", "Quorum verfehlt", "Quorum missed", "abgelehnt",
                   detail="Quorum verfehlt"),
    30: StatusRule("STATUS_QUORUM_REACHED", "Quorum erreicht", "Quorum reached", "offen",
                   detail="Quorum erreicht"),
    31: StatusRule("STATUS_PROPOSED_MODIFIED_MOTION", "Vorgeschlagene Änderung (Antrag)",
                   "Proposed modification (motion)", "offen", problem=_INTERNAL),
    32: StatusRule("STATUS_OBSOLETED_BY_MOTION", "Erledigt durch anderen Antrag",
                   "Handled by another motion", "erledigt",
                   detail="erledigt durch einen anderen Antrag"),
}  # fmt: skip

RESOLUTION_STATUSES = (25, 26)
STATUS_REFERRED = 10
STATUS_CUSTOM_STRING = 23
STATUS_MODIFIED_ACCEPTED = 6
STATUS_COLLECTING_SUPPORTERS = 15
_OBSOLETED = (22, 32)


def _fold(text: str) -> str:
    """Comparison form of a label: case-folded, umlauts spelled out, gender marks and
    punctuation removed, single spaces (``Antragsteller*innen`` → ``antragstellerinnen``)."""
    text = unicodedata.normalize("NFC", text or "").casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = re.sub(r"[*:/_·()\[\]„“”\"'’.!?]", "", text)
    text = text.replace("-", " ").replace("–", " ")
    return re.sub(r"\s+", " ", text).strip()


# Status names as they appear on pages (German and English, old and new wordings).
_STATUS_LABELS: dict[str, int] = {}
for _sid, _rule in STATUS_OUTCOMES.items():
    _STATUS_LABELS.setdefault(_fold(_rule.de), _sid)
    _STATUS_LABELS.setdefault(_fold(_rule.en), _sid)
for _label, _sid in {
    "Geprüft": 3, "Eingereicht": 3, "Submitted": 3, "Screened": 3, "Veröffentlicht": 3,
    "Submitted (unscreened)": 2, "Unbestätigt": 1, "Unconfirmed": 1,
    "Modifizierte Übernahme": 6, "Modified accepted": 6, "Accepted (modified)": 6,
    "Übernommen": 8, "Überwiesen": 10, "Überwiesen an": 10, "Überweisen": 10,
    "Weitergeleitet an": 10, "Weiterleiten an": 10, "Referred to": 10, "Refer to": 10,
    "Vertagt": 12, "Abstimmen": 11, "Voting": 11, "Unterstützerinnen sammeln": 15,
    "Collecting supporters": 15, "Erledigt durch": 32, "Handled by": 32,
    "Vorläufiger Beschluss": 25, "Preliminary resolution": 25, "Beschlossen": 26,
    "Resolved": 26, "Verschoben zu": 27, "Moved to": 27,
}.items():  # fmt: skip
    _STATUS_LABELS.setdefault(_fold(_label), _sid)

# Outcomes Antragsgrün has no status for (used by HTML labels and the CSV import).
_OUTCOME_LABELS: dict[str, str] = {
    _fold(k): v
    for k, v in {
        "angenommen": "angenommen", "beschlossen": "angenommen", "adopted": "angenommen",
        "accepted": "angenommen", "angenommen_geaendert": "angenommen_geaendert",
        "angenommen mit Änderungen": "angenommen_geaendert",
        "mit Änderungen angenommen": "angenommen_geaendert",
        "geändert angenommen": "angenommen_geaendert",
        "in geänderter Fassung angenommen": "angenommen_geaendert",
        "modifiziert angenommen": "angenommen_geaendert",
        "angenommen (geändert)": "angenommen_geaendert",
        "accepted with changes": "angenommen_geaendert", "abgelehnt": "abgelehnt",
        "rejected": "abgelehnt", "ueberwiesen": "ueberwiesen", "überwiesen": "ueberwiesen",
        "referred": "ueberwiesen", "erledigt": "erledigt", "completed": "erledigt",
        "nichtbefassung": "nichtbefassung", "Nicht-Befassung": "nichtbefassung",
        "nicht befasst": "nichtbefassung", "no decision": "nichtbefassung",
        "vertagt": "vertagt", "postponed": "vertagt", "zurueckgezogen": "zurueckgezogen",
        "zurückgezogen": "zurueckgezogen", "withdrawn": "zurueckgezogen",
        "nicht_zugelassen": "nicht_zugelassen", "nicht zugelassen": "nicht_zugelassen",
        "unzulässig": "nicht_zugelassen", "dismissed": "nicht_zugelassen", "offen": "offen",
        "open": "offen", "pending": "offen",
    }.items()
}  # fmt: skip


class OutcomeMatch(NamedTuple):
    """What a status (id or label) means for us."""

    outcome: str
    validity: str | None
    outcome_detail: str | None
    referred_to: str | None
    status_id: int | None


def status_id_for_label(label: str) -> int | None:
    """The Antragsgrün status id whose German or English name is ``label`` (tolerant of case,
    umlaut spelling, gender marks and punctuation), or None."""
    return _STATUS_LABELS.get(_fold(label))


def _split_status_text(text: str) -> tuple[str, str | None]:
    """``"Überweisung (Landesvorstand)"`` → (``Überweisung``, ``Landesvorstand``);
    ``"Erledigt durch: A3"`` → (``Erledigt durch``, ``A3``); else (text, None)."""
    text = " ".join((text or "").split())
    if _fold(text) in _STATUS_LABELS or _fold(text) in _OUTCOME_LABELS:
        return text, None
    match = re.fullmatch(r"(.+?)\s*\((.+)\)", text)
    if match and (_fold(match[1]) in _STATUS_LABELS or _fold(match[1]) in _OUTCOME_LABELS):
        return match[1].strip(), match[2].strip()
    if ":" in text:
        head, tail = text.split(":", 1)
        if _fold(head) in _STATUS_LABELS or _fold(head) in _OUTCOME_LABELS:
            return head.strip(), tail.strip() or None
    words = text.split(" ")
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n])
        if _fold(head) in _STATUS_LABELS or _fold(head) in _OUTCOME_LABELS:
            return head, " ".join(words[n:]).strip() or None
    return text, None


def outcome_for_status(status_id: int, detail: str | None = None) -> OutcomeMatch | None:
    """Our outcome for an Antragsgrün status id and its free text (``statusString``)."""
    rule = STATUS_OUTCOMES.get(status_id)
    if rule is None:
        return None
    detail = (detail or "").strip() or None
    if status_id == STATUS_COLLECTING_SUPPORTERS:
        detail = None  # the <small> there names the support policy, not a status text
    referred_to = None
    outcome_detail = detail
    if status_id == STATUS_REFERRED:
        referred_to, outcome_detail = detail, None
    elif status_id in _OBSOLETED:
        outcome_detail = f"erledigt durch {detail}" if detail else rule.detail
    elif rule.detail:
        outcome_detail = f"{rule.detail}: {detail}" if detail else rule.detail
    validity = rule.validity if rule.outcome in schema.ADOPTED else None
    return OutcomeMatch(rule.outcome, validity, outcome_detail, referred_to, status_id)


def outcome_for_label(label: str) -> OutcomeMatch | None:
    """Our outcome for a status as shown on a page or written in a spreadsheet: Antragsgrün's
    German and English status names (optionally with ``(detail)`` or ``: detail``), our outcome
    codes and common German wordings (``angenommen mit Änderungen``, ``Nichtbefassung``,
    ``überwiesen an X``). None if the label is not recognised."""
    text = " ".join((label or "").split())
    if not text:
        return None
    if text in schema.OUTCOMES:
        outcome = text
        return OutcomeMatch(outcome, "in_kraft" if outcome in schema.ADOPTED else None, None,
                            None, None)  # fmt: skip
    head, detail = _split_status_text(text)
    folded = _fold(head)
    if folded in _STATUS_LABELS:
        status_id = _STATUS_LABELS[folded]
        if status_id == STATUS_CUSTOM_STRING and detail is None:
            return outcome_for_status(status_id, None)
        return outcome_for_status(status_id, detail)
    if folded in _OUTCOME_LABELS:
        outcome = _OUTCOME_LABELS[folded]
        referred = detail if outcome == "ueberwiesen" else None
        validity = "in_kraft" if outcome in schema.ADOPTED else None
        return OutcomeMatch(outcome, validity, None if referred else detail, referred, None)
    match = re.fullmatch(r"(?:überwiesen|ueberwiesen|referred)\s+(?:an|to)\s+(.+)", text, re.I)
    if match:
        return OutcomeMatch("ueberwiesen", None, None, match[1].strip(), STATUS_REFERRED)
    return None


# -- dates and votes --------------------------------------------------------------------------

_MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "jaenner": 1, "februar": 2, "feb": 2, "february": 2,
    "maerz": 3, "mrz": 3, "mar": 3, "march": 3, "april": 4, "apr": 4, "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11, "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}  # fmt: skip
_TIME = r"(?:\s*,?\s*(?:um\s+|at\s+)?(\d{1,2})[:.](\d{2})(?::(\d{2}))?(?:\s*(uhr|h|am|pm))?)?"
_DATE_PATTERNS = (
    ("ymd", re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})"
                       r"(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?", re.I)),
    ("dmy", re.compile(r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4}|\d{2})" + _TIME, re.I)),
    ("slash", re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})" + _TIME, re.I)),
    ("dmy", re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})" + _TIME, re.I)),
    ("dnamey", re.compile(r"(\d{1,2})\.?\s+([a-zäöü]+)\.?\s+(\d{4})" + _TIME, re.I)),
    ("namedy", re.compile(r"([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})" + _TIME, re.I)),
)  # fmt: skip


def _when(text: str, month_first: bool) -> tuple[date, tuple[int, int, int] | None] | None:
    text = " ".join(str(text or "").split())
    for kind, pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        g = match.groups()
        try:
            if kind == "ymd":
                day = date(int(g[0]), int(g[1]), int(g[2]))
                clock = (int(g[3]), int(g[4]), int(g[5] or 0)) if g[3] else None
                return day, clock
            if kind == "dmy":
                year = int(g[2]) + (2000 if len(g[2]) == 2 else 0)
                day = date(year, int(g[1]), int(g[0]))
            elif kind == "slash":
                a, b = int(g[0]), int(g[1])
                if (month_first and a <= 12) or b > 12:
                    a, b = b, a
                day = date(int(g[2]), b, a)
            elif kind == "dnamey":
                month = _MONTHS.get(_fold(g[1]))
                if not month:
                    continue
                day = date(int(g[2]), month, int(g[0]))
            else:
                month = _MONTHS.get(_fold(g[0]))
                if not month:
                    continue
                day = date(int(g[2]), month, int(g[1]))
        except ValueError:
            return None
        clock = None
        if g[3]:
            hour, minute, second = int(g[3]), int(g[4]), int(g[5] or 0)
            suffix = (g[6] or "").lower()
            if suffix == "pm" and hour < 12:
                hour += 12
            elif suffix == "am" and hour == 12:
                hour = 0
            if hour > 23 or minute > 59 or second > 59:
                return None
            clock = (hour, minute, second)
        return day, clock
    return None


def parse_date_text(text: Any, *, month_first: bool = False) -> date | None:
    """A date from ``19.03.2022``, ``19.3.22``, ``2022-03-19``, ``19. März 2022``,
    ``03/19/2022`` (``month_first`` decides ambiguous slash dates) – a time is allowed and
    ignored; None if ``text`` is not exactly a date."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    found = _when(str(text or ""), month_first)
    return found[0] if found else None


def parse_datetime_text(text: Any, *, month_first: bool = False) -> datetime | None:
    """Like :func:`parse_date_text` with an optional time (``19.03.2022, 14:30``,
    ``19.03.2022 14:30 Uhr``, ``2015-03-30T03:27:20+02:00`` – the local time is kept, the
    offset dropped); a plain date gives midnight."""
    if isinstance(text, datetime):
        return text.replace(tzinfo=None, microsecond=0)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day)
    found = _when(str(text or ""), month_first)
    if not found:
        return None
    day, clock = found
    hour, minute, second = clock or (0, 0, 0)
    return datetime(day.year, day.month, day.day, hour, minute, second)


_VOTE_WORDS = {
    "yes": r"ja(?:[- ]?stimmen)?|dafür|dafuer|pro|zustimmungen|zustimmung|yes|ayes|aye|for"
           r"|in favou?r",
    "no": r"nein(?:[- ]?stimmen)?|dagegen|contra|gegenstimmen|gegenstimme|ablehnungen"
          r"|ablehnung|no|nays|nay|against",
    "abstain": r"stimmenthaltungen|stimmenthaltung|enthaltungen|enthaltung|enthalten|enth\.?"
               r"|abstentions|abstention|abstained|abstain",
    "invalid": r"ungültige?|ungueltige?|invalid",
}  # fmt: skip
_VOTE_WORD_RE = "|".join(f"(?P<{k}>{v})" for k, v in _VOTE_WORDS.items())
_VOTE_AFTER = re.compile(rf"(?<![\w])(?:{_VOTE_WORD_RE})(?![\w])\s*[:=]?\s*(?P<n>\d+)", re.I)
_VOTE_BEFORE = re.compile(rf"(?P<n>\d+)\s*(?:{_VOTE_WORD_RE})(?![\w])", re.I)
_VOTE_FILLER = re.compile(
    r"(?i)\b(?:stimmen|stimme|votes|vote|bei|und|and|mit|with|davon|sowie)\b|[\s,;/|.()–+-]"
)
_VOTE_COLON = re.compile(r"(\d+)\s*[:/|]\s*(\d+)(?:\s*[:/|]\s*(\d+))?(?:\s*[:/|]\s*(\d+))?")
_UNANIMOUS = re.compile(
    r"(?i)(?:einstimmig|einmütig|unanimous(?:ly)?|unanimity)"
    r"(?:\s+(?:angenommen|beschlossen|abgelehnt|adopted|accepted|rejected))?\.?"
)


def parse_votes(text: Any) -> dict[str, int] | str | None:
    """A vote result as our ``votes`` value: ``{"yes": 40, "no": 3, "abstain": 2}`` from
    ``Ja: 40, Nein: 3, Enthaltungen: 2``, ``40 Ja / 3 Nein``, ``40:3:2`` (yes:no:abstain
    [:invalid]) or ``Yes: 4, No: 3, Abstention: 1``; ``"unanimous"`` from ``einstimmig``;
    None if the text says something else (e.g. ``große Mehrheit``)."""
    if isinstance(text, dict):
        return text or None
    text = " ".join(str(text or "").split())
    if not text:
        return None
    if _UNANIMOUS.fullmatch(text):
        return "unanimous"
    match = _VOTE_COLON.fullmatch(text)
    if match:
        keys = ("yes", "no", "abstain", "invalid")
        return {k: int(v) for k, v in zip(keys, match.groups(), strict=True) if v is not None}
    counts: dict[str, int] = {}
    rest = text
    for pattern in (_VOTE_AFTER, _VOTE_BEFORE):
        for found in pattern.finditer(rest):
            key = next(k for k in _VOTE_WORDS if found.group(k))
            if key in counts:
                return None
            counts[key] = int(found["n"])
        rest = pattern.sub(" ", rest)
    if not counts or _VOTE_FILLER.sub("", rest):
        return None
    return counts


# -- a small HTML tree ------------------------------------------------------------------------

_VOID = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr".split()
)
_P_CLOSERS = frozenset(
    "address article aside blockquote div dl fieldset figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr main nav ol p pre section table ul".split()
)
_SCOPE = frozenset("td th table caption html body template".split())


class _Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node | str] = []
        self.parent = parent

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def has_class(self, *names: str) -> bool:
        return bool(self.classes.intersection(names))

    def elements(self) -> Iterator[_Node]:
        """Every element below this one (document order)."""
        for child in self.children:
            if isinstance(child, _Node):
                yield child
                yield from child.elements()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[_Node]:
        return [
            n
            for n in self.elements()
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
        ]

    def find(self, tag: str | None = None, cls: str | None = None) -> _Node | None:
        for n in self.elements():
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes):
                return n
        return None

    def child_elements(self, tag: str | None = None) -> list[_Node]:
        return [c for c in self.children if isinstance(c, _Node) and tag in (None, c.tag)]

    def inside(self, tag: str | None = None, cls: str | None = None) -> bool:
        node = self.parent
        while node is not None:
            if (tag is None or node.tag == tag) and (cls is None or cls in node.classes):
                return True
            node = node.parent
        return False


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {}, None)
        self.stack = [self.root]

    def _close_to(self, tags: Iterable[str], boundary: Iterable[str]) -> None:
        tags, boundary = set(tags), set(boundary)
        for i in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[i].tag
            if tag in tags:
                del self.stack[i:]
                return
            if tag in boundary:
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _P_CLOSERS:
            self._close_to({"p"}, _SCOPE | {"div", "li", "section", "blockquote", "button"})
        if tag == "li":
            self._close_to({"li"}, _SCOPE | {"ul", "ol"})
        elif tag in ("dt", "dd"):
            self._close_to({"dt", "dd"}, _SCOPE | {"dl"})
        elif tag == "tr":
            self._close_to({"tr"}, {"table", "tbody", "thead", "tfoot"})
        elif tag in ("td", "th"):
            self._close_to({"td", "th"}, {"tr", "table"})
        elif tag in ("tbody", "thead", "tfoot"):
            self._close_to({"tbody", "thead", "tfoot"}, {"table"})
        node = _Node(tag, {k.lower(): (v or "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() not in _VOID and self.stack[-1].tag == tag.lower():
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _VOID:
            return
        boundary = set() if tag in _SCOPE | {"tr", "tbody", "thead", "tfoot"} else _SCOPE
        self._close_to({tag}, boundary)

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _parse_tree(text: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(text or "")
    builder.close()
    return builder.root


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Elements whose content is never text of the motion.
_DROP_TAGS = frozenset(
    "script style template noscript iframe object embed svg math form input button select "
    "textarea nav head title meta link img video audio canvas map".split()
)
_DROP_CLASSES = frozenset(
    "lineNumber bookmarks textAmendment commentHolder hidden sr-only contactDetails "
    "contactShow glyphicon privateNote privateNotes privateParagraphNoteHolder "
    "privateParagraph privateNoteOpener changesLink".split()
)


def _dropped(node: _Node) -> bool:
    return node.tag in _DROP_TAGS or bool(node.classes & _DROP_CLASSES)


def _plain(node: _Node | str, br: str = "\n", keep_lines: bool = False) -> str:
    """The visible text of ``node`` (``<br>`` → ``br``), whitespace collapsed per line;
    with ``keep_lines`` line breaks in the text count as ``<br>`` (plainhtml cells)."""
    parts: list[str] = []

    def walk(n: _Node | str) -> None:
        if isinstance(n, str):
            n = _CONTROL.sub("", n)
            parts.append(n.replace("\n", "\x00") if keep_lines else n)
            return
        if _dropped(n) or n.tag == "caption":
            return
        if n.tag == "br":
            parts.append("\x00")
            return
        for child in n.children:
            walk(child)

    walk(node)
    lines = [" ".join(line.split()) for line in "".join(parts).split("\x00")]
    if keep_lines:
        lines = [line for line in lines if line]
    return br.join(lines).strip(br + " ")


# -- HTML → markdown --------------------------------------------------------------------------

_BR = "\x01"  # hard line break placeholder inside an inline run
_BLOCKS = frozenset(
    "p div section article header footer main aside figure figcaption address center "
    "fieldset details summary".split()
)
_HEADINGS = {"h1": "###", "h2": "###", "h3": "###", "h4": "###", "h5": "####", "h6": "####"}
_INLINE_WRAP = {"strong": "**", "b": "**", "em": "*", "i": "*", "del": "~~", "s": "~~",
                "strike": "~~"}  # fmt: skip
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def _escape(text: str) -> str:
    """Markdown-escape free text so it stays text (no emphasis, links, wikilinks, HTML)."""
    text = _CONTROL.sub("", text).replace("\\", "\\\\")
    text = re.sub(r"([*_`\[\]<>|])", r"\\\1", text)
    text = text.replace("~~", "\\~\\~")
    return _ENTITY_LIKE.sub("\\&", text)


_LINE_START = re.compile(r"^(\s*)(?:(#|>|[-+=])(?=\s|$|#)|(\d+)([.)])(?=\s|$))")


def _escape_line_start(line: str) -> str:
    """Escape what would make a line a heading, quote, list item or setext underline."""

    def fix(m: re.Match[str]) -> str:
        if m[2]:
            return m[1] + "\\" + m[2]
        return m[1] + m[3] + "\\" + m[4]

    return _LINE_START.sub(fix, line, count=1)


def _safe_url(url: str) -> str | None:
    url = (url or "").strip()
    if not re.match(r"(?i)https?://[^\s/]", url):
        return None
    return re.sub(r"[\s()<>]", lambda m: f"%{ord(m[0]):02X}", url)


class _Markdown:
    """Converts a subtree to simple markdown (see :func:`html_to_markdown`)."""

    def __init__(self, base_url: str | None = None) -> None:
        self.blocks: list[str] = []
        self.runs: list[list[str]] = [[]]
        self.base_url = base_url

    # inline runs
    @property
    def run(self) -> list[str]:
        return self.runs[-1]

    def flush(self) -> None:
        text = "".join(self.run)
        self.run.clear()
        text = re.sub(r"[ \t\r\n\f\v]+", " ", text)
        text = re.sub(rf" ?{_BR} ?", _BR, text).strip(" " + _BR)
        text = re.sub(f"{_BR}+", _BR, text)
        text = re.sub(r"(?<![\\*])\*\* \*\*(?!\*)", " ", text)  # adjacent bold runs
        if text:
            lines = [_escape_line_start(line) for line in text.split(_BR)]
            self.blocks.append("\\\n".join(lines))

    def render_inline(self, node: _Node) -> str:
        self.runs.append([])
        self.children(node)
        return "".join(self.runs.pop())

    # tree walk
    def children(self, node: _Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                self.run.append(_escape(child))
            else:
                self.element(child)

    def element(self, node: _Node) -> None:
        tag = node.tag
        if "lineNumber" in node.classes:
            self._line_number()
            return
        if _dropped(node):
            return
        if tag == "br":
            self.run.append(_BR)
        elif tag in _HEADINGS:
            self.flush()
            text = re.sub(rf"\s*{_BR}\s*", " ", self.render_inline(node))
            text = " ".join(text.split())
            if text:
                self.blocks.append(f"{_HEADINGS[tag]} {text}")
        elif tag in ("ul", "ol"):
            self.flush()
            block = self._list(node)
            if block:
                self.blocks.append(block)
        elif tag == "blockquote":
            self.flush()
            inner = self._sub(node)
            if inner:
                self.blocks.append("\n".join(f"> {ln}" if ln else ">" for ln in inner.split("\n")))
        elif tag == "pre":
            self.flush()
            code = _plain(node).replace("```", "ʼʼʼ")
            if code:
                self.blocks.append(f"```\n{code}\n```")
        elif tag == "hr":
            self.flush()
            self.blocks.append("---")
        elif tag == "dl":
            self.flush()
            block = self._definitions(node)
            if block:
                self.blocks.append(block)
        elif tag == "table":
            self.flush()
            block = self._table(node)
            if block:
                self.blocks.append(block)
        elif tag in _BLOCKS or tag in ("li", "dt", "dd", "tr", "td", "th"):
            self.flush()
            self.children(node)
            self.flush()
        elif tag in _INLINE_WRAP:
            self._wrap(node, _INLINE_WRAP[tag])
        elif tag == "a":
            self._link(node)
        else:  # span, u, ins, small, sup, sub, abbr, mark, font, code, …
            self.children(node)

    def _line_number(self) -> None:
        """A line number span: the ``<br>`` before it was a wrap if the line ended in a space
        or hyphen (Antragsgrün's LineSplitter), else a real line break."""
        for depth in range(len(self.runs) - 1, -1, -1):
            run = self.runs[depth]
            idx = len(run) - 1
            while idx >= 0 and run[idx] != _BR and not run[idx].strip():
                idx -= 1
            if idx < 0:
                continue
            if run[idx] == _BR:
                before = "".join("".join(r) for r in self.runs[:depth]) + "".join(run[:idx])
                before = before.replace(_BR, "\n")
                if not before.strip() or before[-1] in " \t\n\u00a0":
                    del run[idx]
                elif before[-1] == "-":
                    del run[idx:]
            return

    def _wrap(self, node: _Node, mark: str) -> None:
        inner = self.render_inline(node)
        core = inner.strip(" \t\r\n" + _BR)
        if not core.replace(_BR, "").strip():
            self.run.append(inner)
            return
        lead = inner[: len(inner) - len(inner.lstrip(" \t\r\n"))]
        trail = inner[len(inner.rstrip(" \t\r\n")) :]
        self.run.append(f"{lead and ' '}{mark}{core}{mark}{trail and ' '}")

    def _link(self, node: _Node) -> None:
        href = node.attrs.get("href") or ""
        if self.base_url and href and not re.match(r"(?i)[a-z][a-z0-9+.-]*:", href):
            href = urljoin(self.base_url, href)
        url = _safe_url(href)
        inner = self.render_inline(node)
        if url is None:
            self.run.append(inner)
            return
        label = " ".join(inner.replace(_BR, " ").split())
        self.run.append(f"[{label}]({url})" if label else url)

    def _sub(self, node: _Node) -> str:
        """The children of ``node`` as markdown blocks of their own."""
        sub = _Markdown(self.base_url)
        sub.children(node)
        sub.flush()
        return "\n\n".join(sub.blocks)

    def _list(self, node: _Node) -> str:
        ordered = node.tag == "ol"
        try:
            number = int(node.attrs.get("start") or 1)
        except ValueError:
            number = 1
        items = []
        for child in node.children:
            if isinstance(child, str):
                if not child.strip():
                    continue
                wrapper = _Node("li", {}, node)
                wrapper.children.append(child)
                child = wrapper
            if child.tag == "br" or _dropped(child):
                continue
            if child.tag != "li":
                wrapper = _Node("li", {}, node)
                wrapper.children.append(child)
                child = wrapper
            sub = _Markdown(self.base_url)
            sub.children(child)
            sub.flush()
            marker = f"{number}. " if ordered else "- "
            number += 1
            pad = " " * len(marker)
            parts = []
            for i, block in enumerate(sub.blocks):
                nested = block.startswith(("- ", "1. ")) or re.match(r"\d+\. ", block)
                if i > 0:
                    parts.append("\n" if nested else "\n\n")
                parts.append(block)
            text = "".join(parts)
            lines = text.split("\n")
            body = "\n".join([marker + lines[0]] + [pad + ln if ln else "" for ln in lines[1:]])
            items.append(body if text else marker.rstrip())
        return "\n".join(items)

    def _definitions(self, node: _Node) -> str:
        lines, term = [], None
        for child in node.child_elements():
            if child.tag == "dt":
                if term:
                    lines.append(f"- **{term}**")
                term = " ".join(self.render_inline(child).replace(_BR, " ").split())
            elif child.tag == "dd":
                value = " ".join(self.render_inline(child).replace(_BR, " ").split())
                lines.append(f"- **{term}** {value}" if term else f"- {value}")
                term = None
        if term:
            lines.append(f"- **{term}**")
        return "\n".join(lines)

    def _table(self, node: _Node) -> str:
        rows = []
        for tr in node.find_all("tr"):
            cells = [c for c in tr.child_elements() if c.tag in ("td", "th")]
            if cells:
                rows.append(
                    [
                        " ".join(self.render_inline(c).replace(_BR, " ").split()) or " "
                        for c in cells
                    ]
                )
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [" "] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)


def _to_markdown(nodes: Iterable[_Node | str], base_url: str | None = None) -> str:
    md = _Markdown(base_url)
    for node in nodes:
        if isinstance(node, str):
            md.run.append(_escape(node))
        else:
            md.element(node)
    md.flush()
    return "\n\n".join(md.blocks).strip()


def html_to_markdown(html: str, base_url: str | None = None) -> str:
    """Simple markdown from an HTML fragment: paragraphs, line breaks, (nested) lists,
    bold/italic/strikethrough, ``###`` headings, ``[text](url)`` links (http/https only),
    definition lists as lists, tables as pipe tables. Line number spans, amendment markup,
    scripts, styles, forms and hidden parts are dropped; the text is escaped so that no HTML,
    wikilink or markdown syntax from the source survives."""
    return _to_markdown(_parse_tree(html).children, base_url)


# -- records ----------------------------------------------------------------------------------


@dataclass
class _Record:
    """One Antragsgrün motion (or resolution) as read, before merging."""

    source_id: str
    url: str | None = None
    kind: str = "motion"
    numeric_id: str | None = None
    slug: str | None = None
    prefix: str | None = None
    title: str | None = None
    event: str | None = None
    agenda_item: str | None = None
    initiators: list[str] = field(default_factory=list)
    body: str | None = None
    submitted: datetime | None = None
    decided: date | None = None
    votes: dict[str, int] | str | None = None
    votes_text: str | None = None
    vote_comment: str | None = None
    topics: list[str] = field(default_factory=list)
    status_id: int | None = None
    status_text: str | None = None
    status_detail: str | None = None
    proposal: str | None = None
    texts: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None
    parent_id: str | None = None
    parent_url: str | None = None
    parent_prefix: str | None = None
    parent_title: str | None = None
    has_text: bool = True
    modified: bool = False
    id_lacks_event: bool = False

    @property
    def is_resolution(self) -> bool:
        return self.status_id in RESOLUTION_STATUSES


_MAIN_TEXT = {
    _fold(x)
    for x in ("Antragstext", "Beschlusstext", "Beschluss", "Text", "Motion text",
              "Resolution text", "Decided text", "Resolution", "Satzungstext", "Statutes",
              "Antrag", "Inhalt", "Wortlaut")
}  # fmt: skip
_REASON = {_fold(x) for x in ("Begründung", "Reason", "Justification", "Motivation")}
_NOTE = {_fold(x) for x in ("Protokollnotiz", "Protokollnotizen", "Minutes note")}
_PROPOSAL_PREFIXES = ("verfahrensvorschlag", "proposed procedure")


def _add_texts(rec: _Record, sections: list[tuple[str, str]]) -> None:
    """Assign (title, markdown) sections to Beschlusstext / Begründung / own headings."""
    texts: dict[str, str] = {}
    pending_main: list[tuple[str, str]] = []
    for title, text in sections:
        title = " ".join((title or "").replace("#", "").split())
        text = text.strip()
        if not text:
            continue
        folded = _fold(title)
        if folded in _REASON and "Begründung" not in texts:
            texts["Begründung"] = text
        elif folded in _NOTE and "Protokollnotiz" not in texts:
            texts["Protokollnotiz"] = text
        elif folded in _MAIN_TEXT and "Beschlusstext" not in texts:
            texts["Beschlusstext"] = text
        else:
            pending_main.append((title, text))
    for title, text in pending_main:
        if "Beschlusstext" not in texts:
            texts["Beschlusstext"] = text
            continue
        name = title or "Weiterer Abschnitt"
        if name in texts or name in schema.SECTIONS:
            n = 2
            while f"{name} ({n})" in texts:
                n += 1
            name = f"{name} ({n})"
        texts[name] = text
    rec.texts = texts


def _split_title(h1: str) -> tuple[str | None, str]:
    """``"A1: Titel"`` → (``A1``, ``Titel``)."""
    h1 = " ".join(h1.split())
    match = re.fullmatch(r"([^\s:][^:]{0,31}?):\s+(.+)", h1)
    if match and re.search(r"\d", match[1]) and " " not in match[1]:
        return match[1], match[2]
    return None, h1


def _clean_name(text: str) -> str:
    """An initiator without Antragsgrün's ``(dort beschlossen am: …)`` suffix."""
    text = re.sub(
        r"\s*\((?:dort beschlossen am|beschlossen am|beschlossen|decided on|resolution date)"
        r"\s*:?[^)]*\)\s*$",
        "",
        text,
        flags=re.I,
    )
    return " ".join(text.split()).strip(" ,;")


def _names(text: str, seps: str = "\n") -> list[str]:
    result: list[str] = []
    for part in re.split(f"[{re.escape(seps)}]", text or ""):
        name = _clean_name(part)
        if name and name not in result:
            result.append(name)
    return result


def _topics(text: str) -> list[str]:
    result: list[str] = []
    for part in re.split(r"[\n,;]", text or ""):
        part = " ".join(part.split())
        if part and part not in result:
            result.append(part)
    return result


def _slug_of(url: str | None) -> tuple[str | None, str | None]:
    """(numeric id, slug) from a motion URL: ``…?motionId=12``/``…/motion/12`` give an id,
    otherwise the last path segment is the slug (a purely numeric one is the id)."""
    if not url:
        return None, None
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    for key in ("motionId", "motion_id", "id"):
        if query.get(key) and query[key][0].isdigit():
            return query[key][0], None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if segments and segments[0] == "rest":
        segments = segments[1:]
    while segments and segments[-1] in ("view", "plainhtml", "pdf", "rest", "odt"):
        segments.pop()
    if not segments:
        return None, None
    if segments[-1].isdigit():
        if len(segments) > 1 and re.fullmatch(r".+-\d+", segments[-2]):
            return None, f"amendment-{segments[-1]}"  # <motion slug>/<amendment id>
        return segments[-1], None
    return None, segments[-1]


def _url_key(url: str | None) -> str | None:
    number, slug = _slug_of(url)
    return number or slug


# -- HTML pages -------------------------------------------------------------------------------

_ROW_LABELS: dict[str, str] = {}
for _key, _labels in {
    "event": ("Veranstaltung", "Consultation", "Event", "Konferenz", "Versammlung"),
    "agenda_item": ("Tagesordnungspunkt", "TOP", "Agenda item", "Agenda"),
    "initiators": ("Antragsteller*in", "Antragsteller*innen", "Antragsteller", "Antragstellerin",
                   "Antragstellende", "Antragstellende Person", "Initiator*in", "Initiator*innen",
                   "Einreicher*in", "Einreicher*innen", "Proposer", "Proposers", "Proposed by",
                   "Initiator", "Initiators", "Initiator(s)", "Submitted by", "Gremium",
                   "Organization", "Organisation"),
    "status": ("Status", "Stand", "Ergebnis"),
    "votes": ("Abstimmungsergebnis", "Abstimmung", "Voting result", "Vote result", "Votes",
              "Voting"),
    "body": ("Beschluss durch", "Beschlossen durch", "Beschlussfassendes Gremium",
             "Deciding body", "Decided by", "Resolution by"),
    "decided": ("Beschlossen am", "Entschieden am", "Decided on", "Decided", "Beschlossen"),
    "org_date": ("Beschlussdatum", "Resolution date"),
    "submitted": ("Eingereicht", "Eingereicht am", "Angelegt", "Angelegt am", "Submitted",
                  "Submitted on", "Created", "Created on"),
    "topics": ("Themenbereich", "Themenbereiche", "Thema", "Themen", "Schlagworte", "Tag",
               "Tags", "Topic", "Topics"),
    "parent": ("Basierend auf", "Based on"),
    "replaces": ("Ersetzt", "Replaces"),
    "proposal": ("Verfahrensvorschlag", "Proposed procedure"),
}.items():  # fmt: skip
    for _label in _labels:
        _ROW_LABELS[_fold(_label)] = _key
_ROW_CLASSES = {
    "statusRow": "status",
    "votingResultRow": "votes",
    "proposedStatusRow": "proposal",
    "replacesMotion": "replaces",
    "mergingDraft": "ignore",
    "privateNotes": "ignore",
}


def _row_key(tr: _Node, th_text: str) -> str | None:
    for cls, key in _ROW_CLASSES.items():
        if cls in tr.classes:
            if key == "replaces" and _ROW_LABELS.get(_fold(th_text)) == "parent":
                return "parent"
            return key
    folded = _fold(th_text)
    if folded in _ROW_LABELS:
        return _ROW_LABELS[folded]
    if re.fullmatch(r"(antragsteller|initiator|einreicher)(in|innen)?( person(en)?)?", folded):
        return "initiators"
    return None


def _status_cell(td: _Node) -> tuple[str, str | None]:
    """(status name, free-text detail) of a formatted status cell: ``<small>(…)`` holds the
    detail, a link (``Erledigt durch: <a>A3</a>``) is part of the detail."""
    main: list[str] = []
    small: list[str] = []

    def walk(n: _Node | str, into: list[str]) -> None:
        if isinstance(n, str):
            into.append(n)
            return
        if _dropped(n):
            return
        target = small if n.tag == "small" else into
        for child in n.children:
            walk(child, target)

    walk(td, main)
    label = " ".join("".join(main).split())
    detail = " ".join("".join(small).split()).strip()
    if detail.startswith("(") and detail.endswith(")"):
        detail = detail[1:-1].strip()
    if not detail:
        label, split_detail = _split_status_text(label)
        return label, split_detail
    return label, detail


def _html_lang(root: _Node) -> str:
    html = root.find("html")
    return ((html.attrs.get("lang") if html else "") or "").lower()[:2]


def _page_url(root: _Node, url: str | None) -> str | None:
    if url:
        return url
    for link in root.find_all("link"):
        if "canonical" in (link.attrs.get("rel") or "").lower().split() and link.attrs.get("href"):
            return link.attrs["href"]
    for meta in root.find_all("meta"):
        if meta.attrs.get("property") == "og:url" and meta.attrs.get("content"):
            return meta.attrs["content"]
    return None


def _record_id(rec: _Record, root: _Node | None = None) -> None:
    """Fill ``numeric_id``/``slug``/``source_id`` of an HTML record: a numeric id from the URL
    or from ``motionId=<n>``/``/motion/<n>`` links on the page, else the URL slug."""
    number, slug = _slug_of(rec.url)
    if number is None and root is not None:
        found = set()
        for a in root.find_all("a"):
            href = a.attrs.get("href") or ""
            match = re.search(r"[?&]motionId=(\d+)", href) or re.search(
                r"/motion/(\d+)(?:[/?#]|$)", href
            )
            foreign = a.inside(cls="replacesMotion") or a.inside(cls="motionReplacedBy")
            if match and not foreign:
                found.add(match[1])
        if len(found) == 1:
            number = found.pop()
    rec.numeric_id, rec.slug = number, slug
    if number or slug:
        rec.source_id = number or slug or ""
        return
    rec.source_id = "/".join(p for p in (rec.event, rec.prefix or rec.title) if p) or "unbekannt"
    rec.id_lacks_event = not rec.event
    if not rec.is_resolution or not rec.parent_url:
        rec.warnings.append(
            "Weder Antragsgrün-ID noch Adresse der Seite bekannt; Veranstaltung und "
            "Antragsnummer dienen als Kennung (beim Einlesen die URL angeben)."
        )


def _apply_status(rec: _Record, label: str, detail: str | None) -> None:
    """Status from the name shown on a page (and its ``statusString`` detail)."""
    rec.status_text = " ".join(label.split()) or None
    rec.status_detail = detail
    rec.status_id = status_id_for_label(label)
    if rec.status_id is None and detail is None:
        head, split_detail = _split_status_text(label)
        rec.status_id = status_id_for_label(head)
        if rec.status_id is not None:
            rec.status_text, rec.status_detail = head, split_detail


def _read_table_rows(
    rec: _Record,
    rows: list[tuple[_Node, str, _Node]],
    base: str | None,
    month_first: bool,
    plain: bool = False,
) -> None:
    """Fill ``rec`` from the (tr, label, td) rows of a motion data table (``plain``: of the
    plainhtml export, whose cells separate values by line breaks)."""
    for tr, th_text, td in rows:
        key = _row_key(tr, th_text)
        text = _plain(td, keep_lines=plain)
        if key == "ignore" or key == "org_date":
            continue  # org_date: an initiating organisation's own decision, not ours
        if key is None:
            if text:
                shown = " ".join(text.split())
                rec.warnings.append(f"Angabe „{th_text}: {shown}“ nicht übernommen.")
        elif key == "event":
            rec.event = " ".join(text.split()) or None
        elif key == "agenda_item":
            rec.agenda_item = " ".join(text.split()) or None
        elif key == "initiators":
            rec.initiators = _names(text)
        elif key == "status":
            label, detail = _status_cell(td)
            _apply_status(rec, label, detail)
        elif key == "votes":
            small = td.find("small")
            if small is not None:
                rec.votes_text = _plain(small, " ")
                rest = [c for c in td.children if c is not small]
                comment = " ".join(_plain(c, " ") if isinstance(c, _Node) else c for c in rest)
                rec.vote_comment = " ".join(comment.split()) or None
            else:
                rec.votes_text = _plain(td, " ") or None
        elif key == "body":
            rec.body = ", ".join(_names(text, "\n,")) or None
        elif key == "decided":
            rec.decided = parse_date_text(text, month_first=month_first)
            if rec.decided is None and text:
                rec.warnings.append(f"Beschlussdatum „{text}“ nicht lesbar.")
        elif key == "submitted":
            rec.submitted = parse_datetime_text(text, month_first=month_first)
            if rec.submitted is None and text:
                rec.warnings.append(f"Eingangsdatum „{text}“ nicht lesbar.")
        elif key == "topics":
            rec.topics = _topics(text)
        elif key == "proposal":
            rec.proposal = " ".join(text.split()) or None
        elif key in ("parent", "replaces"):
            link = td.find("a")
            if link is None:
                continue
            href = link.attrs.get("href") or ""
            target = urljoin(base, href) if base else href
            prefix, title = _split_title(_plain(link, " "))
            if key == "parent" or rec.parent_url is None:
                rec.parent_url, rec.parent_prefix, rec.parent_title = target, prefix, title


def _table_rows(table: _Node) -> list[tuple[_Node, str, _Node]]:
    rows = []
    for tr in table.find_all("tr"):
        th = next((c for c in tr.child_elements() if c.tag == "th"), None)
        td = next((c for c in tr.child_elements() if c.tag == "td"), None)
        if th is None or td is None:
            continue
        rows.append((tr, _plain(th, " ").rstrip(":").strip(), td))
    return rows


def _section_type(node: _Node) -> int | None:
    for cls in node.classes:
        match = re.fullmatch(r"sectionType(\d+)", cls)
        if match:
            return int(match[1])
    return None


def _ancestors(node: _Node) -> Iterator[_Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _full_page_sections(root: _Node, base: str | None, rec: _Record) -> list[tuple[str, str]]:
    """(title, markdown) of the ``section.sectionTypeN`` blocks of a motion view page."""
    sections = []
    for sec in root.elements():
        kind = _section_type(sec)
        if kind is None or kind == 0 or sec.tag not in ("section", "div"):
            continue
        if any(_section_type(a) is not None for a in _ancestors(sec)):
            continue
        heading = next(
            (h for h in sec.find_all() if h.tag in ("h2", "h3") and h.has_class("green")), None
        ) or next((h for h in sec.child_elements() if h.tag in ("h2", "h3")), None)
        title = _plain(heading, " ") if heading is not None else ""
        title = title or sec.attrs.get("aria-label") or ""
        if kind in (3, 5, 6, 7):
            rec.warnings.append(f"Abschnitt „{title or kind}“ (Bild/PDF/Video) nicht übernommen.")
            continue
        if _fold(title).startswith(_PROPOSAL_PREFIXES):
            continue
        holders = [n for n in sec.find_all("div") if n.has_class("textOrig")]
        nodes: list[_Node | str] = list(holders) or [c for c in sec.children if c is not heading]
        sections.append((title, _to_markdown(nodes, base)))
    return sections


def _plain_page_sections(body: _Node, base: str | None, rec: _Record) -> list[tuple[str, str]]:
    """(title, markdown) of the ``<section><h2>…</h2>…</section>`` blocks of plainhtml."""
    sections = []
    for sec in body.find_all("section"):
        heading = next((h for h in sec.child_elements() if h.tag in ("h2", "h3")), None)
        title = _plain(heading, " ") if heading is not None else ""
        if _fold(title).startswith(_PROPOSAL_PREFIXES):
            rec.warnings.append(f"Abschnitt „{title}“ (Verfahrensvorschlag) nicht übernommen.")
            continue
        nodes = [c for c in sec.children if c is not heading]
        sections.append((title, _to_markdown(nodes, base)))
    return sections


_ENGLISH_ROWS = {
    _fold(x)
    for x in ("Consultation", "Agenda item", "Proposer", "Proposers", "Submitted",
              "Decided on", "Voting result", "Deciding body", "Based on", "Tags", "Topics",
              "Resolution date", "Organization")
}  # fmt: skip


def _records_from_html(text: str, url: str | None = None) -> list[_Record]:
    root = _parse_tree(text)
    page_url = _page_url(root, url)
    data_table = root.find("table", "motionDataTable")
    holders = [s for s in root.elements() if _section_type(s) is not None]
    h1 = root.find("h1")
    rec = _Record(source_id="", url=page_url)
    if data_table is not None or holders:
        rows = _table_rows(data_table) if data_table is not None else []
        if data_table is None:
            rec.warnings.append("Keine Rahmendaten-Tabelle (motionDataTable) gefunden.")
        plain = False
    else:
        rows = [row for table in root.find_all("table") for row in _table_rows(table)]
        if h1 is None or not (rows or root.find("section")):
            rec.source_id = url or "html"
            rec.problem = "Keine Antragsgrün-Antragsseite erkannt (weder Ansicht noch plainhtml)."
            return [rec]
        plain = True
    english = _html_lang(root) == "en" or any(_fold(r[1]) in _ENGLISH_ROWS for r in rows)
    _read_table_rows(rec, rows, page_url, english, plain)
    if plain:
        sections = _plain_page_sections(root, page_url, rec)
    else:
        sections = _full_page_sections(root, page_url, rec)
    rec.prefix, title = _split_title(_plain(h1, " ") if h1 is not None else "")
    rec.title = title or None
    if rec.is_resolution and rec.prefix is None:
        rec.prefix = rec.parent_prefix
    if rec.status_text is None:
        rec.warnings.append(
            "Die Seite nennt keinen Status (plainhtml zeigt ihn meist nicht); Ergebnis „offen“ "
            "– bitte prüfen."
        )
    _add_texts(rec, sections)
    _record_id(rec, root)
    if rec.is_resolution and rec.parent_url:
        rec.parent_id = _url_key(rec.parent_url)
    return [rec]


# -- JSON -------------------------------------------------------------------------------------


def _status_title_parts(html: str | None) -> tuple[str, str | None]:
    if not html:
        return "", None
    root = _parse_tree(html)
    return _status_cell(root)


def _json_initiators(data: dict) -> tuple[list[str], list[str]]:
    """(all names, organisation names) of a REST ``initiators`` list."""
    names, orgs = [], []
    for person in data.get("initiators") or []:
        if not isinstance(person, dict):
            continue
        kind = person.get("type") or person.get("person_type")
        name = " ".join(str(person.get("name") or "").split())
        orga = " ".join(str(person.get("organization") or "").split())
        if kind == "organization":
            text = orga or name
            if text:
                orgs.append(text)
        else:
            text = f"{name} ({orga})" if name and orga else name or orga
        if text and text not in names:
            names.append(text)
    if not names and data.get("initiators_html"):
        plain = _plain(_parse_tree(str(data["initiators_html"])), " ")
        names = _names(plain, ",\n")
    return names, orgs


def _json_sections(data: dict, base: str | None, rec: _Record) -> list[tuple[str, str]] | None:
    raw = data.get("sections")
    if not isinstance(raw, list):
        return None
    sections = []
    for sec in raw:
        if not isinstance(sec, dict):
            continue
        kind = sec.get("type", sec.get("section_type"))
        title = str(sec.get("title") or sec.get("section_title") or "")
        html = sec.get("html", sec.get("data"))
        if kind in ("Title", 0):
            continue
        if kind in ("Image", "PDFAttachment", "PDFAlternative", "VideoEmbed", 3, 5, 6, 7):
            rec.warnings.append(f"Abschnitt „{title or kind}“ (Bild/PDF/Video) nicht übernommen.")
            continue
        if not isinstance(html, str):
            continue
        if kind in ("TabularData", 4) and html.lstrip().startswith("{"):
            rec.warnings.append(f"Abschnitt „{title}“ (Tabellendaten) nicht übernommen.")
            continue
        sections.append((title, html_to_markdown(html, base)))
    return sections


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _record_from_json(data: dict, event: str | None, consultation_url: str | None) -> _Record:
    kind = data.get("type") if data.get("type") in ("motion", "amendment") else "motion"
    raw_id = data.get("id")
    url = data.get("url_html") or data.get("url")
    url = str(url) if isinstance(url, str) and url else None
    rec = _Record(source_id="", url=url, kind=kind)
    if raw_id is not None and str(raw_id).strip():
        rec.numeric_id = str(raw_id).strip()
        rec.source_id = f"amendment-{rec.numeric_id}" if kind == "amendment" else rec.numeric_id
    else:
        number, slug = _slug_of(url)
        rec.numeric_id, rec.slug = number, slug
        rec.source_id = number or slug or ""
        if not rec.source_id:
            rec.problem = "Eintrag ohne Antragsgrün-ID und ohne Adresse."
            rec.source_id = str(data.get("title") or "unbekannt")
    if rec.slug is None and url:
        rec.slug = _slug_of(url)[1]
    rec.prefix = str(data.get("prefix") or data.get("title_prefix") or "").strip() or None
    title = str(data.get("title") or "").strip()
    if not title and data.get("title_with_prefix"):
        rec.prefix, title = _split_title(str(data["title_with_prefix"]))
    rec.title = title or None
    rec.event = str(data.get("consultation") or "").strip() or event
    rec.agenda_item = str(data.get("agenda_item") or "").strip() or None
    rec.initiators, orgs = _json_initiators(data)
    status_id = _as_int(data.get("status_id", data.get("status")))
    label, detail = _status_title_parts(data.get("status_title") or data.get("status_formatted"))
    if data.get("status_string"):
        detail = str(data["status_string"]).strip() or detail
    rec.status_text = label or None
    if status_id is not None and status_id in STATUS_OUTCOMES:
        rec.status_id, rec.status_detail = status_id, detail
    elif label:
        _apply_status(rec, label, detail)
        if status_id is not None:
            rec.warnings.append(f"Unbekannte Status-ID {status_id}; Statustext verwendet.")
    elif status_id is not None:
        rec.warnings.append(f"Unbekannte Status-ID {status_id} – als „offen“ übernommen.")
    published = data.get("date_published") or data.get("date_publication")
    created = data.get("date_creation") or published
    resolution_date = data.get("date_resolution")
    if rec.is_resolution:
        rec.body = ", ".join(orgs or rec.initiators) or None
        rec.initiators = []
        when = parse_date_text(resolution_date) if resolution_date else None
        if when is None and published:
            when = parse_date_text(published)
            if when:
                rec.warnings.append(
                    "Beschlussdatum aus dem Veröffentlichungsdatum des Beschlusses übernommen "
                    "(die API nennt das Beschlussdatum nicht) – bitte prüfen."
                )
        rec.decided = when
    else:
        rec.submitted = parse_datetime_text(created) if created else None
        if resolution_date:
            rec.decided = parse_date_text(resolution_date)
    proposal = data.get("proposed_procedure")
    if isinstance(proposal, dict) and proposal.get("status_title"):
        rec.proposal = _plain(_parse_tree(str(proposal["status_title"])), " ") or None
    parent = data.get("parent_motion_id", data.get("parentMotionId"))
    if parent not in (None, ""):
        rec.parent_id = str(parent)
    sections = _json_sections(data, url or consultation_url, rec)
    if sections is None:
        rec.has_text = False
        rec.warnings.append(
            "Nur ein Übersichtseintrag ohne Texte (Beschlusstext fehlt); die Details stehen unter "
            + (str(data.get("url_json")) if data.get("url_json") else "url_json")
            + " und können als eigene Datei importiert werden."
        )
        sections = []
    _add_texts(rec, sections)
    if kind == "amendment":
        rec.warnings.append(
            "Änderungsantrag: der Text ist die beantragte Änderung, nicht der geänderte Antrag."
        )
    return rec


def _records_from_json(data: Any) -> list[_Record]:
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    if isinstance(data, list):
        records = []
        for entry in data:
            records += _records_from_json(entry) if isinstance(entry, (list, dict)) else []
        return records
    if not isinstance(data, dict):
        return []
    lists = [k for k in ("motion_links", "motions", "resolutions") if isinstance(data.get(k), list)]
    if lists and not data.get("sections"):
        event = str(data.get("title") or "").strip() or None
        url = data.get("url_html") if isinstance(data.get("url_html"), str) else None
        records = []
        for key in lists:
            for entry in data[key]:
                if isinstance(entry, dict):
                    records.append(_record_from_json(entry, event, url))
        return records
    if any(k in data for k in ("status_id", "sections", "title_with_prefix", "prefix",
                               "title_prefix", "status")):  # fmt: skip
        return [_record_from_json(data, None, None)]
    return []


# -- merging and items ------------------------------------------------------------------------


def _fill(target: _Record, other: _Record) -> None:
    for name in ("url", "prefix", "title", "event", "agenda_item", "body", "submitted", "decided",
                 "votes_text", "vote_comment", "proposal"):  # fmt: skip
        if getattr(target, name) in (None, "") and getattr(other, name) not in (None, ""):
            setattr(target, name, getattr(other, name))
    if not target.initiators:
        target.initiators = list(other.initiators)
    for topic in other.topics:
        if topic not in target.topics:
            target.topics.append(topic)


def _dedupe(records: list[_Record]) -> list[_Record]:
    """The same motion read twice (list entry and detail file) becomes one record."""
    result: list[_Record] = []
    by_key: dict[tuple[str, bool], _Record] = {}
    for rec in records:
        key = (rec.source_id, rec.is_resolution)
        if not rec.source_id or key not in by_key:
            result.append(rec)
            by_key[key] = rec
            continue
        kept = by_key[key]
        if rec.has_text and not kept.has_text:
            result[result.index(kept)] = rec
            by_key[key] = rec
            rec, kept = kept, rec
        _fill(kept, rec)
        if kept.status_id is None and rec.status_id is not None:
            kept.status_id, kept.status_detail = rec.status_id, rec.status_detail
        kept.warnings = [w for w in kept.warnings if not w.startswith("Nur ein Übersichtseintrag")]
    return result


def _find_original(res: _Record, originals: list[_Record]) -> tuple[_Record | None, str | None]:
    if res.parent_id:
        for rec in originals:
            if res.parent_id in (rec.source_id, rec.numeric_id, rec.slug):
                return rec, None
    if res.parent_url:
        key = _url_key(res.parent_url)
        for rec in originals:
            if key and key in (rec.numeric_id, rec.slug, _url_key(rec.url)):
                return rec, None
    prefix = (res.parent_prefix or res.prefix or "").casefold()
    if not prefix:
        return None, None
    same = [r for r in originals if (r.prefix or "").casefold() == prefix]
    if res.event:
        same = [r for r in same if not r.event or r.event == res.event]
    if len(same) > 1 and res.agenda_item:
        same = [r for r in same if r.agenda_item == res.agenda_item] or same
    if len(same) == 1:
        return same[0], None
    if len(same) > 1:
        return None, (
            f"Mehrere Anträge mit der Nummer {res.prefix or res.parent_prefix}; der Beschluss "
            "wurde keinem zugeordnet."
        )
    return None, None


def _merge_pair(orig: _Record, res: _Record) -> _Record:
    merged = _Record(**{**orig.__dict__})
    merged.initiators = list(orig.initiators)
    merged.topics = list(orig.topics)
    merged.warnings = list(orig.warnings) + [w for w in res.warnings if w not in orig.warnings]
    merged.status_id, merged.status_detail = res.status_id, res.status_detail
    merged.status_text = res.status_text
    merged.title = res.title or orig.title
    merged.body = res.body or orig.body
    merged.decided = res.decided or orig.decided
    merged.votes_text = res.votes_text or orig.votes_text
    merged.vote_comment = res.vote_comment or orig.vote_comment
    merged.event = orig.event or res.event
    merged.agenda_item = orig.agenda_item or res.agenda_item
    merged.proposal = None
    merged.modified = orig.status_id == STATUS_MODIFIED_ACCEPTED
    for topic in res.topics:
        if topic not in merged.topics:
            merged.topics.append(topic)
    texts = dict(res.texts)
    if not texts.get("Beschlusstext") and orig.texts.get("Beschlusstext"):
        texts["Beschlusstext"] = orig.texts["Beschlusstext"]
        merged.warnings.append(
            "Der Beschluss enthält keinen Text; der Antragstext wurde übernommen."
        )
    for name, text in orig.texts.items():
        if name != "Beschlusstext" and name not in texts:
            texts[name] = text
    merged.texts = texts
    merged.has_text = res.has_text or orig.has_text
    merged.problem = orig.problem or res.problem
    return merged


def _merge(records: list[_Record]) -> list[_Record]:
    records = _dedupe(records)
    originals = [r for r in records if not r.is_resolution]
    resolutions = [r for r in records if r.is_resolution]
    # Final resolutions first: they win over preliminary ones for the same motion.
    resolutions.sort(key=lambda r: 0 if r.status_id == 26 else 1)
    replaced: dict[int, _Record] = {}
    used: dict[int, _Record] = {}
    standalone: list[_Record] = []
    for res in resolutions:
        orig, warning = _find_original(res, originals)
        if orig is None:
            if warning:
                res.warnings.append(warning)
            if res.parent_id:
                res.source_id = res.parent_id
            standalone.append(res)
            continue
        if id(orig) in used:
            used[id(orig)].warnings.append(
                f"Weiterer Beschluss zu diesem Antrag ({res.status_text or 'Beschluss'}, "
                f"{res.url or res.source_id}) nicht übernommen."
            )
            continue
        merged = _merge_pair(orig, res)
        used[id(orig)] = merged
        replaced[id(orig)] = merged
    seen = {r.source_id for r in originals}
    lonely = {id(r) for r in standalone}
    result = []
    for rec in records:
        if not rec.is_resolution:
            result.append(replaced.get(id(rec), rec))
        elif id(rec) in lonely:
            if rec.source_id in seen:
                rec.warnings.append(
                    "Ein Eintrag mit derselben Kennung existiert bereits; bitte Zuordnung prüfen."
                )
            result.append(rec)
    return result


def body_from_event(event: str) -> str | None:
    """The deciding body named by an event: ``Landesjugendkonferenz 2022`` →
    ``Landesjugendkonferenz``, ``44. Bundesdelegiertenkonferenz`` → ``Bundesdelegiertenkonferenz``
    (Antragsgrün names the event, not the body, for ordinary motions)."""
    text = " ".join((event or "").split())
    text = re.sub(r"^\d+\.\s*", "", text)
    text = re.sub(r"\s*\([^)]*\)$", "", text)
    text = re.sub(r"(?:\s+[\d./-]*\d[\d./-]*)+$", "", text)
    text = text.strip(" -–,")
    return text[: schema.TEXT_LIMITS["body"]] or None


def _item(rec: _Record) -> ImportItem:
    warnings = list(rec.warnings)
    meta: dict[str, Any] = {}
    if rec.prefix:
        if schema.NUMBER_RE.fullmatch(rec.prefix):
            meta["number"] = rec.prefix
        else:
            warnings.append(f"Antragsnummer „{rec.prefix}“ hat kein gültiges Format.")
    if rec.title:
        meta["title"] = rec.title
    for name in ("body", "event", "agenda_item"):
        value = getattr(rec, name)
        if value:
            meta[name] = value
    if not rec.body and rec.event:
        body = body_from_event(rec.event)
        if body:
            meta["body"] = body
            warnings.append(f"Gremium aus der Veranstaltung abgeleitet („{body}“) – bitte prüfen.")
    if rec.submitted:
        meta["submitted"] = rec.submitted
    if rec.decided:
        meta["decided"] = rec.decided
    if rec.initiators:
        meta["initiators"] = list(rec.initiators)
    # status
    problem = rec.problem
    match = None
    if rec.status_id is not None:
        match = outcome_for_status(rec.status_id, rec.status_detail)
        rule = STATUS_OUTCOMES[rec.status_id]
        if rule.problem and not problem:
            problem = f"Status „{rule.de}“: {rule.problem}."
    elif rec.status_text:
        full = rec.status_text + (f" ({rec.status_detail})" if rec.status_detail else "")
        match = outcome_for_label(full)
        if match is None:
            warnings.append(f"Status „{full}“ nicht erkannt – als „offen“ übernommen.")
            match = OutcomeMatch("offen", None, full, None, None)
    if match is None:
        match = OutcomeMatch("offen", None, None, None, None)
    outcome, validity = match.outcome, match.validity
    if outcome == "angenommen" and rec.modified:
        outcome = "angenommen_geaendert"
    meta["outcome"] = outcome
    detail = match.outcome_detail
    if rec.status_id == STATUS_CUSTOM_STRING:
        if detail:
            hint = outcome_for_label(detail)
            if hint and hint.status_id != STATUS_CUSTOM_STRING and hint.outcome != "offen":
                warnings.append(
                    f"Sonstiger Status „{detail}“ – vermutlich „{hint.outcome}“; bitte prüfen."
                )
        else:
            warnings.append("Sonstiger Status ohne Text – als „offen“ übernommen.")
    if match.referred_to:
        meta["referred_to"] = match.referred_to
    elif outcome == "ueberwiesen":
        warnings.append("Überwiesen, aber das Ziel der Überweisung ist nicht angegeben.")
    if outcome in schema.ADOPTED:
        meta["validity"] = validity or "in_kraft"
    # votes
    if rec.votes_text:
        votes = parse_votes(rec.votes_text)
        if votes is None:
            warnings.append(f"Abstimmungsergebnis „{rec.votes_text}“ nicht lesbar.")
            if not detail:
                detail = rec.votes_text
        else:
            meta["votes"] = votes
    if rec.vote_comment:
        if not detail:
            detail = rec.vote_comment
        elif rec.vote_comment not in detail:
            warnings.append(f"Kommentar zur Abstimmung „{rec.vote_comment}“ nicht übernommen.")
    if detail:
        meta["outcome_detail"] = detail
    if rec.proposal and outcome == "offen":
        warnings.append(f"Verfahrensvorschlag: {rec.proposal} (nicht als Ergebnis übernommen).")
    if rec.topics:
        meta["topics"] = list(rec.topics)
    source = {"system": SYSTEM, "id": rec.source_id}
    url = rec.url if rec.url and schema.URL_RE.fullmatch(rec.url) else None
    if url:
        source["url"] = url
    meta["source"] = source
    texts = dict(rec.texts)
    if not texts.get("Beschlusstext"):
        texts["Beschlusstext"] = ""
        if rec.has_text and not problem:
            warnings.append("Kein Antrags- oder Beschlusstext gefunden.")
    texts = {"Beschlusstext": texts.pop("Beschlusstext"), **texts}
    if not rec.title and not problem:
        problem = "Kein Titel gefunden."
    if rec.title and rec.prefix and rec.title.startswith(rec.prefix):
        label = rec.title
    else:
        label = " ".join(p for p in (rec.prefix, rec.title) if p) or rec.source_id
    return ImportItem(
        system=SYSTEM,
        source_id=rec.source_id,
        source_url=url,
        meta=meta,
        texts=texts,
        warnings=warnings,
        label=label,
        problem=problem,
        id_lacks_event=rec.id_lacks_event and not rec.event,
    )


def _items(records: list[_Record]) -> list[ImportItem]:
    return [_item(rec) for rec in _merge(records)]


# -- public entry points ----------------------------------------------------------------------


def parse_html(text: str, url: str | None = None) -> list[ImportItem]:
    """Items from one Antragsgrün page: the motion view (``motionDataTable``) or the
    ``plainhtml`` export, detected automatically. ``url`` is the page address (for the id,
    the source link and relative links); the page's canonical link is used otherwise."""
    return _items(_records_from_html(text, url))


def parse_json(data: Any) -> list[ImportItem]:
    """Items from REST API JSON (a parsed object or its text): one motion, a list of motions,
    or a consultation object (``motion_links``, or ``motions``/``resolutions``) with the
    motions included. Entries without ``sections`` give items without text and a warning."""
    return _items(_records_from_json(data))


def _decode(raw: bytes) -> str:
    from plugins.resolutions.csvimport import decode

    return decode(raw)[0]


def _records_from_file(path: Path) -> list[_Record]:
    try:
        text = _decode(path.read_bytes())
    except OSError as exc:
        return [_Record(str(path), title=path.name, problem=f"Datei nicht lesbar: {exc}")]
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            return [_Record(str(path), title=path.name, problem=f"Ungültiges JSON: {exc}")]
        records = _records_from_json(data)
        if not records:
            return [_Record(str(path), title=path.name, problem="Kein Antragsgrün-JSON erkannt.")]
        return records
    if stripped.startswith("<"):
        records = _records_from_html(text)
        for rec in records:
            if rec.problem:
                rec.title = path.name
        return records
    return [_Record(str(path), title=path.name, problem="Weder JSON noch HTML.")]


def parse_path(path: Path | str) -> list[ImportItem]:
    """Items from a file (JSON or HTML, recognised by content) or a directory (every
    ``*.json``, ``*.html``, ``*.htm`` below it, sorted by path). All files are read before
    motions and resolutions are paired, so they may come from different files."""
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in (".json", ".html", ".htm")
        )
    else:
        files = [path]
    records: list[_Record] = []
    for file in files:
        records += _records_from_file(file)
    return _items(records)

"""The ``resolution`` page type: fields, validation, normalisation, ids and paths (no Flask).

A resolution is an ordinary page with ``type: resolution`` and this front matter::

    id: LaKo-2022-A1            # stable, unique, immutable once saved
    number: A1                  # as at the event
    title: Für einen kostenlosen Nahverkehr
    body: Landeskonferenz       # the deciding body ("Beschluss durch")
    event: Landeskonferenz 2022
    agenda_item: 6 Antragsberatung
    submitted: 2022-03-01 18:00
    decided: 2022-03-19
    initiators: [Landesvorstand, Max Muster]
    outcome: angenommen         # see OUTCOMES
    outcome_detail: mit Änderungen aus Ä2
    referred_to: Landesvorstand # for "ueberwiesen"
    votes: {yes: 40, no: 3, abstain: 2}   # or: votes: unanimous
    validity: in_kraft          # see VALIDITIES; only for adopted resolutions
    valid_until: 2026-12-31
    topics: [Verkehr, Soziales]
    links: {replaces: [LaKo-2019-A3], related: [KV-EF-2021-A2]}
    source: {system: antragsgruen, url: https://…, id: "123"}

and the body sections ``## Beschlusstext`` (required), ``## Begründung`` and ``## Protokollnotiz``.
The chapter is the space the page lives in. Messages are German (shown to the person saving).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from wiki.api import (
    DATE_RE,  # noqa: F401 (re-exported: the forms use S.DATE_RE)
    DATETIME_RE,  # noqa: F401
    parse_date,
    parse_datetime,
    slugify,
)

TYPE = "resolution"

OUTCOMES = (
    "angenommen",
    "angenommen_geaendert",
    "abgelehnt",
    "ueberwiesen",
    "erledigt",
    "nichtbefassung",
    "vertagt",
    "zurueckgezogen",
    "nicht_zugelassen",
    "offen",
)
#: Outcomes that make the text the organisation's position (only these have a validity).
ADOPTED = ("angenommen", "angenommen_geaendert")
VALIDITIES = ("in_kraft", "vorlaeufig", "umgesetzt", "ersetzt", "aufgehoben", "abgelaufen",
              "historisch")  # fmt: skip
#: The current position ("geltende Beschlusslage").
CURRENT = ("in_kraft", "vorlaeufig")
#: Typed links and the name of the same link seen from the other end.
LINK_TYPES = {
    "replaces": "replaced_by",
    "amends": "amended_by",
    "implements": "implemented_by",
    "forwarded_from": "forwarded_to",
    "forwarded_to": "forwarded_from",
    "related": "related",
}
VOTE_KEYS = ("yes", "no", "abstain", "invalid")
SECTIONS = ("Beschlusstext", "Begründung", "Protokollnotiz")
FIELDS = (
    "type", "title", "visibility", "tags", "id", "number", "body", "event", "agenda_item",
    "submitted", "decided", "initiators", "outcome", "outcome_detail", "referred_to", "votes",
    "validity", "valid_until", "topics", "links", "source",
)  # fmt: skip

ID_RE = re.compile(r"[0-9A-Za-zÄÖÜäöüß]+(?:-[0-9A-Za-zÄÖÜäöüß]+)*")
MAX_ID = 64
NUMBER_RE = re.compile(r"[0-9A-Za-zÄÖÜäöüß][0-9A-Za-zÄÖÜäöüß./ -]{0,31}")
URL_RE = re.compile(r"https?://[^\s<>\"']{1,2000}")
SECTION_RE = re.compile(r"^##[ \t]+(.+?)[ \t#]*$", re.M)
TEXT_LIMITS = {
    "title": 300,
    "body": 200,
    "event": 200,
    "agenda_item": 200,
    "outcome_detail": 1000,
    "referred_to": 200,
}
MAX_LIST = 100
MAX_ITEM = 200

#: Usual abbreviations of deciding bodies (for proposed ids); others use their initials.
BODY_ABBREVIATIONS = {
    "bundeskongress": "BuKo",
    "bundesvorstand": "BuVo",
    "landeskonferenz": "LaKo",
    "landeskongress": "LaKo",
    "landesmitgliederversammlung": "LMV",
    "landesvorstand": "LaVo",
    "landesausschuss": "LA",
    "landesrat": "LR",
    "kreismitgliederversammlung": "KMV",
    "kreisvorstand": "KV",
    "mitgliederversammlung": "MV",
    "ortsvorstand": "OV",
    "vorstand": "Vo",
}


def key_of(rid: str) -> str:
    """The comparison key of an id: two ids with the same key count as the same id
    (``LaKo-2022-Ä1`` and ``lako-2022-ae1`` would also share a page name)."""
    return slugify(rid)


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value).strip()
    return None


def _names(value: Any) -> list[str] | None:
    """A list of short texts (a single text counts as a list of one); None if malformed."""
    if value is None:
        return []
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_LIST:
        return None
    result = []
    for item in value:
        text = _text(item)
        if text is None or len(text) > MAX_ITEM:
            return None
        if text and text not in result:
            result.append(text)
    return result


def _votes(value: Any) -> tuple[dict[str, int] | None, bool] | None:
    """(counts, unanimous) or None if malformed."""
    if value is None:
        return None, False
    if isinstance(value, str) and value.strip().lower() in ("unanimous", "einstimmig"):
        return None, True
    if not isinstance(value, Mapping) or not value:
        return None
    if set(value) == {"unanimous"} and value["unanimous"] is True:
        return None, True
    counts = {}
    for key, count in value.items():
        # YAML 1.1 reads an unquoted ``yes:`` / ``no:`` as true / false.
        key = {True: "yes", False: "no"}.get(key, key) if isinstance(key, bool) else key
        if key not in VOTE_KEYS or isinstance(count, bool) or not isinstance(count, int):
            return None
        if not 0 <= count <= 1_000_000:
            return None
        counts[key] = count
    return counts, False


def _links(value: Any) -> dict[str, list[str]] | None:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return None
    result: dict[str, list[str]] = {}
    for kind, targets in value.items():
        if kind not in LINK_TYPES:
            return None
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, list) or len(targets) > MAX_LIST:
            return None
        ids = []
        for target in targets:
            if not isinstance(target, str) or not valid_id(target.strip()):
                return None
            if target.strip() not in ids:
                ids.append(target.strip())
        if ids:
            result[kind] = ids
    return result


def valid_id(rid: Any) -> bool:
    return isinstance(rid, str) and len(rid) <= MAX_ID and bool(ID_RE.fullmatch(rid))


def sections(body: str) -> dict[str, str]:
    """The ``## …`` sections of a body by heading (text before the first one under "")."""
    result: dict[str, str] = {}
    matches = list(SECTION_RE.finditer(body))
    result[""] = body[: matches[0].start()].strip() if matches else body.strip()
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        name = match.group(1).strip()
        text = body[match.end() : end].strip("\n")
        result[name] = (result[name] + "\n\n" + text) if name in result else text
    return result


def named_sections(body: str) -> dict[str, str]:
    """The ``## …`` sections of a body by heading, without the text before the first one."""
    return {name: text for name, text in sections(body).items() if name}


def section_heading_counts(body: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for match in SECTION_RE.finditer(body):
        name = match.group(1).strip()
        counts[name] = counts.get(name, 0) + 1
    return counts


def check(meta: Mapping, body: str) -> list[str]:
    """Every problem with a resolution's front matter and body (German, one per field)."""
    problems: list[str] = []
    rid = meta.get("id")
    if not valid_id(rid):
        problems.append(
            "„id“ muss eine Kennung aus Buchstaben, Ziffern und Bindestrichen sein "
            f"(höchstens {MAX_ID} Zeichen), z. B. LaKo-2022-A1."
        )
    number = meta.get("number")
    if number is not None and not (
        (text := _text(number)) is not None and NUMBER_RE.fullmatch(text)
    ):
        problems.append(
            "„number“ muss die Antragsnummer sein (z. B. A1, Ä3; höchstens 32 Zeichen)."
        )
    for name, limit in TEXT_LIMITS.items():
        value = meta.get(name)
        required = name in ("title", "body")
        text = _text(value)
        if value is None and not required:
            continue
        if text is None or (required and not text) or len(text) > limit:
            label = {"title": "der Titel", "body": "das beschließende Gremium"}.get(name)
            need = f" ({label})" if label else ""
            problems.append(f"„{name}“ muss ein Text mit höchstens {limit} Zeichen sein{need}.")
    submitted = meta.get("submitted")
    if submitted is not None and parse_datetime(submitted) is None:
        problems.append("„submitted“ muss ein Datum sein (JJJJ-MM-TT, optional mit HH:MM).")
    decided = meta.get("decided")
    if decided is not None and (parse_date(decided) is None or isinstance(decided, datetime)):
        problems.append("„decided“ muss ein Datum sein (JJJJ-MM-TT).")
    if year_of(meta) is None and not (
        (submitted is not None and parse_datetime(submitted) is None)
        or (decided is not None and parse_date(decided) is None)
    ):
        problems.append("Bitte „decided“ (Beschlussdatum) oder „submitted“ (Eingang) angeben.")
    day_decided, when_submitted = parse_date(decided), parse_datetime(submitted)
    if day_decided and when_submitted and day_decided < when_submitted.date():
        problems.append("„decided“ liegt vor „submitted“.")
    if _names(meta.get("initiators")) is None:
        problems.append("„initiators“ muss eine Liste von Namen sein (Personen oder Gliederungen).")
    if _names(meta.get("topics")) is None:
        problems.append("„topics“ muss eine Liste von Themen sein.")
    outcome = meta.get("outcome")
    if outcome not in OUTCOMES:
        problems.append("„outcome“ muss einer dieser Werte sein: " + ", ".join(OUTCOMES) + ".")
    if _votes(meta.get("votes")) is None:
        problems.append(
            "„votes“ muss „unanimous“ oder eine Zuordnung mit yes, no, abstain, invalid "
            "(ganze Zahlen ab 0) sein."
        )
    validity = meta.get("validity")
    if validity is not None and validity not in VALIDITIES:
        problems.append("„validity“ muss einer dieser Werte sein: " + ", ".join(VALIDITIES) + ".")
    elif outcome in ADOPTED and validity is None:
        problems.append("Ein angenommener Beschluss braucht „validity“ (z. B. in_kraft).")
    elif outcome in OUTCOMES and outcome not in ADOPTED and validity is not None:
        problems.append("„validity“ gibt es nur für angenommene Beschlüsse.")
    valid_until = meta.get("valid_until")
    if valid_until is not None and parse_date(valid_until) is None:
        problems.append("„valid_until“ muss ein Datum sein (JJJJ-MM-TT).")
    links = _links(meta.get("links"))
    if links is None:
        problems.append(
            "„links“ muss eine Zuordnung von Verknüpfungsarten ("
            + ", ".join(LINK_TYPES)
            + ") zu Listen von Beschluss-Kennungen sein."
        )
    elif valid_id(rid) and any(key_of(t) == key_of(rid) for ts in links.values() for t in ts):
        problems.append("Ein Beschluss kann nicht mit sich selbst verknüpft werden.")
    source = meta.get("source")
    if source is not None and not _valid_source(source):
        problems.append(
            "„source“ muss eine Zuordnung mit system, url (http/https) und id (Texte) sein."
        )
    unknown = sorted(str(k) for k in meta if k not in FIELDS)
    if unknown:
        problems.append("Unbekannte Felder: " + ", ".join(unknown) + ".")
    counts = section_heading_counts(body)
    if counts.get("Beschlusstext", 0) != 1:
        problems.append("Der Text braucht genau einen Abschnitt „## Beschlusstext“.")
    return problems


def _valid_source(source: Any) -> bool:
    if not isinstance(source, Mapping) or not source:
        return False
    for key, value in source.items():
        if key not in ("system", "url", "id") or _text(value) is None or len(str(value)) > 2000:
            return False
    url = source.get("url")
    return url is None or bool(URL_RE.fullmatch(str(url).strip()))


def year_of(meta: Mapping) -> int | None:
    """The year a resolution is filed under: of ``decided``, else of ``submitted``."""
    day = parse_date(meta.get("decided"))
    if day is None:
        when = parse_datetime(meta.get("submitted"))
        day = when.date() if when else None
    return day.year if day else None


@dataclass
class Resolution:
    """A validated resolution in normalised form (what the projection stores)."""

    path: str
    rid: str
    number: str
    title: str
    body: str
    event: str
    agenda_item: str
    submitted: datetime | None
    decided: date | None
    year: int | None
    initiators: list[str]
    outcome: str
    outcome_detail: str
    referred_to: str
    votes: dict[str, int] | None
    unanimous: bool
    validity: str | None
    valid_until: date | None
    topics: list[str]
    links: dict[str, list[str]] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return key_of(self.rid)


def normalise(path: str, meta: Mapping, body: str) -> Resolution | None:
    """The resolution of a page, or None if its front matter does not validate."""
    if check(meta, body):
        return None
    votes, unanimous = _votes(meta.get("votes"))
    return Resolution(
        path=path,
        rid=meta["id"],
        number=_text(meta.get("number")) or "",
        title=_text(meta.get("title")) or "",
        body=_text(meta.get("body")) or "",
        event=_text(meta.get("event")) or "",
        agenda_item=_text(meta.get("agenda_item")) or "",
        submitted=parse_datetime(meta.get("submitted")),
        decided=parse_date(meta.get("decided")),
        year=year_of(meta),
        initiators=_names(meta.get("initiators")) or [],
        outcome=meta["outcome"],
        outcome_detail=_text(meta.get("outcome_detail")) or "",
        referred_to=_text(meta.get("referred_to")) or "",
        votes=votes,
        unanimous=unanimous,
        validity=meta.get("validity"),
        valid_until=parse_date(meta.get("valid_until")),
        topics=_names(meta.get("topics")) or [],
        links=_links(meta.get("links")) or {},
        source={k: str(v).strip() for k, v in (meta.get("source") or {}).items()},
    )


# -- proposals for new resolutions ------------------------------------------------------------


def body_abbreviation(body: str) -> str:
    """A short form of a body's name: the usual one, else its initials (``Landesarbeitskreis
    Umwelt`` → ``LU``), else its first letters."""
    text = (body or "").strip()
    known = BODY_ABBREVIATIONS.get(text.lower())
    if known:
        return known
    words = [w for w in re.split(r"[^0-9A-Za-zÄÖÜäöüß]+", text) if w]
    if len(words) > 1:
        return "".join(w[0].upper() for w in words)[:8]
    if words:
        return words[0][:4].capitalize()
    return "B"


def id_part(text: str) -> str:
    """``text`` reduced to id characters (spaces and others become ``-``)."""
    return "-".join(p for p in re.split(r"[^0-9A-Za-zÄÖÜäöüß]+", text or "") if p)


def propose_id(code: str | None, body: str, year: int | None, number: str,
               session: str | None = None) -> str:  # fmt: skip
    """``[<code>-]<body abbreviation>-<year>[-<session>]-<number>``."""
    parts = [id_part(code or ""), body_abbreviation(body), str(year or ""), id_part(session or ""),
             id_part(number)]  # fmt: skip
    return "-".join(p for p in parts if p)[:MAX_ID].strip("-")


def propose_path(space: str | None, year: int | None, rid: str) -> str:
    """``<space>/beschluesse/<year>/<id slug>`` (without a space: ``beschluesse/…``)."""
    parts = [space] if space else []
    parts.append("beschluesse")
    if year:
        parts.append(str(year))
    parts.append(key_of(rid) or "beschluss")
    return "/".join(parts)


def page_text(meta: Mapping, texts: Mapping[str, str]) -> str:
    """Page text from front matter and the section texts (Beschlusstext, Begründung, …)."""
    from wiki.api import join_front_matter

    ordered = {"type": TYPE}
    for name in FIELDS:
        value = meta.get(name)
        if name != "type" and value not in (None, "", [], {}):
            ordered[name] = value
    body = []
    for name in SECTIONS:
        text = (texts.get(name) or "").replace("\r\n", "\n").strip("\n")
        if text or name == "Beschlusstext":
            body.append(f"## {name}\n\n{text}\n")
    for name, text in texts.items():
        if name not in SECTIONS and name and text.strip():
            body.append(f"## {name}\n\n{text.strip()}\n")
    return join_front_matter(ordered, "\n" + "\n".join(body))

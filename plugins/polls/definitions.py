"""The definition of a poll or form: the YAML body of a ```` ```poll ```` / ```` ```form ```` block.

:func:`parse` checks every field and returns a normalised, frozen :class:`Definition` (or the
problems, German and translatable). No Flask: the validator inside the commit lock, the sync and
the views all use it. Field names are German (what authors type), attributes English.

```poll
id: sommerfest-2026          # stable, unique in the wiki: votes are keyed by it
titel: Sommerfest
frage: Wann feiern wir?
typ: einfach                 # ja-nein | einfach | mehrfach | rangfolge | termin | punkte
optionen:                    # key: label (keys stay, labels may change)
  fr: Freitag
  sa: Samstag
wer: mitglieder              # alle | angemeldet | mitglieder | vorstand | token
geheim: nein                 # nein | verborgen | ja
ergebnis: nach-abgabe        # immer | nach-abgabe | nach-schluss
schluss: 2026-06-01 18:00    # Europe/Berlin
```
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wiki.api import DATETIME_RE, N_, parse_date, slugify

KINDS = ("poll", "form")
ID_RE = re.compile(r"[a-z0-9-]{1,64}")
KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
TYPES = ("ja-nein", "einfach", "mehrfach", "rangfolge", "termin", "punkte")
METHODS = ("schulze", "irv", "stv")
WHO = ("alle", "angemeldet", "mitglieder", "vorstand", "token")
SECRECY = ("nein", "verborgen", "ja")
RESULTS = ("immer", "nach-abgabe", "nach-schluss")
#: The fixed options of ``typ: ja-nein`` (labels translated where shown).
YES_NO = {"ja": N_("Ja"), "nein": N_("Nein"), "enthaltung": N_("Enthaltung")}
#: Answers per slot of a date poll.
SLOT_ANSWERS = ("ja", "vielleicht", "nein")
MAX_SCORE = 5
MAX_OPTIONS = 100
MAX_LABEL = 300
MAX_TEXT = 2000
TIMEZONE = "Europe/Berlin"
#: Fields of a poll block; a form has its own questions (``fragen``, see ``forms.py``).
POLL_FIELDS = (
    "id", "titel", "frage", "typ", "optionen", "min", "max", "methode", "sitze", "wer",
    "geheim", "ergebnis", "schluss",
)  # fmt: skip
FORM_FIELDS = ("id", "titel", "frage", "beschreibung", "wer", "geheim", "ergebnis", "schluss",
               "fragen", "mehrfach_antworten")  # fmt: skip
#: Fields locked by the first vote (``PollState.frozen``).
FROZEN = ("type", "options", "who", "secret", "results")
SLOT_SPLIT_RE = re.compile(r"\s*(?:–|—|\s-\s|\sbis\s)\s*")
TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class Definition:
    """A poll or form as its block defines it, normalised (defaults filled in)."""

    id: str
    kind: str = "poll"
    title: str = ""
    question: str = ""
    type: str = "einfach"
    options: dict[str, str] = field(default_factory=dict)
    #: Date polls: option key → (start, end or None), timezone-aware.
    slots: dict[str, tuple[datetime, datetime | None]] = field(default_factory=dict)
    min: int = 1
    max: int = 1
    method: str = "schulze"
    seats: int = 1
    who: str = "angemeldet"
    secret: str = "nein"
    results: str = "nach-abgabe"
    #: Aware UTC datetime, or None (open until closed by hand).
    closes_at: datetime | None = None
    #: Forms: the questions (``forms.Question``), and whether one person may answer again.
    questions: tuple = ()
    multiple_answers: bool = False

    @property
    def closes_at_naive(self) -> datetime | None:
        """``closes_at`` as naive UTC (what the tables store and ``format_dt`` shows)."""
        return self.closes_at.replace(tzinfo=None) if self.closes_at else None

    def frozen_fields(self) -> dict:
        """What the first vote locks: type, option keys, who, secrecy, result rule."""
        return {
            "type": self.type,
            "options": sorted(self.options),
            "who": self.who,
            "secret": self.secret,
            "results": self.results,
        }

    def to_json(self) -> str:
        """The normalised definition as JSON (stored in ``PollDef.definition``)."""
        data = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "question": self.question,
            "type": self.type,
            "options": [[key, label] for key, label in self.options.items()],
            "slots": {
                key: [start.isoformat(), end.isoformat() if end else None]
                for key, (start, end) in self.slots.items()
            },
            "min": self.min,
            "max": self.max,
            "method": self.method,
            "seats": self.seats,
            "who": self.who,
            "secret": self.secret,
            "results": self.results,
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
            "questions": [_plain(q) for q in self.questions],
            "multiple_answers": self.multiple_answers,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Definition:
        """The definition :meth:`to_json` wrote."""
        data = json.loads(text)
        slots = {
            key: (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
            for key, (start, end) in data.get("slots", {}).items()
        }
        closes_at = data.get("closes_at")
        return cls(
            id=data["id"],
            kind=data["kind"],
            title=data["title"],
            question=data["question"],
            type=data["type"],
            options={key: label for key, label in data["options"]},
            slots=slots,
            min=data["min"],
            max=data["max"],
            method=data["method"],
            seats=data["seats"],
            who=data["who"],
            secret=data["secret"],
            results=data["results"],
            closes_at=datetime.fromisoformat(closes_at) if closes_at else None,
            questions=tuple(_question(q) for q in data.get("questions", ())),
            multiple_answers=data.get("multiple_answers", False),
        )


def _plain(value):
    """A JSON-ready form of a question (a dataclass becomes a dict)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__question__": True, **dataclasses.asdict(value)}
    return value


def _question(value):
    """A question back from JSON (``forms.Question`` when the forms module defines it)."""
    if isinstance(value, dict) and value.get("__question__"):
        from plugins.polls import forms

        values = {
            key: tuple(item) if isinstance(item, list) else item
            for key, item in value.items()
            if key != "__question__"
        }
        return forms.Question(**values)
    return value


def parse(kind: str, data: Any, tz: str = TIMEZONE) -> tuple[Definition | None, list[str]]:
    """Check a block's YAML ``data``; return the definition, or None and every problem."""
    if kind not in KINDS:
        return None, [N_("Unbekannte Blockart „%(kind)s“.", kind=str(kind))]
    if not isinstance(data, Mapping):
        return None, [
            N_("Der Block muss aus Feldern der Form „name: wert“ bestehen (z. B. „id: umfrage“).")
        ]
    problems: list[str] = []
    allowed = POLL_FIELDS if kind == "poll" else FORM_FIELDS
    for name in data:
        if str(name) not in allowed:
            problems.append(N_("Unbekanntes Feld „%(name)s“.", name=str(name)))
    poll_id = data.get("id")
    if poll_id is None:
        problems.append(N_("Das Feld „id“ fehlt (eine feste Kennung wie „sommerfest-2026“)."))
        poll_id = ""
    else:
        poll_id = str(poll_id)
        if not ID_RE.fullmatch(poll_id):
            problems.append(
                N_(
                    "„id“ darf nur Kleinbuchstaben a–z, Ziffern und „-“ enthalten "
                    "(1 bis 64 Zeichen)."
                )
            )
    title = _text(data, "titel", MAX_LABEL, problems)
    question = _text(data, "frage", MAX_TEXT, problems)
    if kind == "poll" and not (title or question):
        problems.append(N_("Bitte eine Frage („frage:“) oder einen Titel („titel:“) angeben."))
    values: dict[str, Any] = {
        "id": poll_id,
        "kind": kind,
        "title": title or question or poll_id,
        "question": question,
        "who": _choice(data, "wer", WHO, "angemeldet", problems),
        "secret": _secrecy(data, problems),
        "results": _choice(data, "ergebnis", RESULTS, "nach-abgabe", problems),
        "closes_at": _closing(data, tz, problems),
    }
    if kind == "poll":
        values.update(_poll_fields(data, tz, problems))
    else:
        values.update(_form_fields(data, problems))
    if problems:
        return None, problems
    return Definition(**values), []


def _poll_fields(data: Mapping, tz: str, problems: list[str]) -> dict:
    """Type, options, bounds and method of a poll."""
    kind = _choice(data, "typ", TYPES, "einfach", problems)
    values: dict[str, Any] = {"type": kind}
    if kind == "ja-nein":
        if data.get("optionen") is not None:
            problems.append(N_("„typ: ja-nein“ hat feste Optionen (Ja, Nein, Enthaltung)."))
        values["options"] = dict(YES_NO)
    else:
        options = _options(data.get("optionen"), problems)
        values["options"] = options
        if kind == "termin":
            values["slots"] = _slots(options, tz, problems)
    count = len(values["options"])
    low, high = (1, 1)
    if kind == "mehrfach":
        low = _integer(data, "min", 1, 0, count, problems)
        high = _integer(data, "max", count, 1, count, problems)
        if low is not None and high is not None and low > high:
            problems.append(N_("„min“ darf nicht größer als „max“ sein."))
    else:
        for name in ("min", "max"):
            if name in data:
                problems.append(N_("„%(name)s“ gibt es nur bei „typ: mehrfach“.", name=name))
    values["min"], values["max"] = low or 0, high or 0
    method = "schulze"
    seats = 1
    if kind == "rangfolge":
        method = _choice(data, "methode", METHODS, "schulze", problems)
        if method == "stv":
            seats = _integer(data, "sitze", 1, 1, max(count - 1, 1), problems) or 1
        elif "sitze" in data:
            problems.append(N_("„sitze“ gibt es nur bei „methode: stv“."))
    else:
        for name in ("methode", "sitze"):
            if name in data:
                problems.append(N_("„%(name)s“ gibt es nur bei „typ: rangfolge“.", name=name))
    values["method"], values["seats"] = method, seats
    if count < 2 and data.get("optionen") is not None:
        problems.append(N_("Bitte mindestens zwei Optionen angeben („optionen:“)."))
    return values


def _form_fields(data: Mapping, problems: list[str]) -> dict:
    """The questions of a form (parsed by ``forms.parse_questions``, which gets the block)."""
    from plugins.polls import forms

    questions, found = forms.parse_questions(data)
    problems.extend(found)
    multiple = data.get("mehrfach_antworten", False)
    if isinstance(multiple, str):
        multiple = multiple.strip().lower()
        if multiple not in ("ja", "nein"):
            problems.append(N_("„mehrfach_antworten“ muss „ja“ oder „nein“ sein."))
        multiple = multiple == "ja"
    elif not isinstance(multiple, bool):
        problems.append(N_("„mehrfach_antworten“ muss „ja“ oder „nein“ sein."))
        multiple = False
    values = {"type": "form", "questions": tuple(questions or ()), "multiple_answers": multiple}
    # A form's introduction (``beschreibung``, markdown) is its ``question``.
    if description := _text(data, "beschreibung", MAX_TEXT, problems):
        values["question"] = description
    return values


def _text(data: Mapping, name: str, limit: int, problems: list[str]) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(N_("„%(name)s“ muss ein Text sein.", name=name))
        return ""
    text = str(value).strip()
    if len(text) > limit:
        problems.append(
            N_("„%(name)s“ ist zu lang (höchstens %(limit)s Zeichen).", name=name, limit=limit)
        )
    return text


def _choice(data: Mapping, name: str, allowed: tuple, default: str, problems: list[str]) -> str:
    value = data.get(name)
    if value is None:
        return default
    value = str(value).strip().lower()
    if value not in allowed:
        problems.append(
            N_(
                "„%(name)s“ muss eines von %(allowed)s sein (nicht „%(value)s“).",
                name=name,
                allowed=", ".join(allowed),
                value=value[:40],
            )
        )
        return default
    return value


def _secrecy(data: Mapping, problems: list[str]) -> str:
    """``geheim``: YAML reads ``yes``/``no`` as booleans; accept them as ja/nein."""
    value = data.get("geheim")
    if isinstance(value, bool):
        return "ja" if value else "nein"
    return _choice(data, "geheim", SECRECY, "nein", problems)


def _integer(data, name, default, low, high, problems) -> int | None:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(
            N_(
                "„%(name)s“ muss eine ganze Zahl von %(low)s bis %(high)s sein.",
                name=name,
                low=low,
                high=high,
            )
        )
        return None
    return value


def _options(raw: Any, problems: list[str]) -> dict[str, str]:
    """``optionen`` as ``key: label`` (or a list of labels, keys made from them)."""
    if raw is None:
        problems.append(N_("Das Feld „optionen“ fehlt (Einträge „schluessel: Beschriftung“)."))
        return {}
    if isinstance(raw, list):
        pairs = [(slugify(str(item))[:40].strip("-") or str(n + 1), item)
                 for n, item in enumerate(raw)]  # fmt: skip
    elif isinstance(raw, Mapping):
        pairs = [(str(key), label) for key, label in raw.items()]
    else:
        problems.append(N_("„optionen“ muss eine Liste „schluessel: Beschriftung“ sein."))
        return {}
    if len(pairs) > MAX_OPTIONS:
        problems.append(N_("Höchstens %(count)s Optionen.", count=MAX_OPTIONS))
    options: dict[str, str] = {}
    for key, label in pairs:
        if not KEY_RE.fullmatch(key):
            problems.append(
                N_(
                    "Der Schlüssel „%(key)s“ ist ungültig (Kleinbuchstaben, Ziffern, „-“, „_“; "
                    "höchstens 40 Zeichen).",
                    key=key[:60],
                )
            )
            continue
        if key in options:
            problems.append(N_("Die Option „%(key)s“ kommt doppelt vor.", key=key))
            continue
        if isinstance(label, date | datetime):
            label = label.isoformat(sep=" ") if isinstance(label, datetime) else label.isoformat()
        if isinstance(label, bool) or not isinstance(label, str | int | float):
            problems.append(N_("Die Beschriftung von „%(key)s“ muss ein Text sein.", key=key))
            continue
        label = str(label).strip()
        if not label or len(label) > MAX_LABEL:
            problems.append(N_("Die Beschriftung von „%(key)s“ fehlt oder ist zu lang.", key=key))
            continue
        options[key] = label
    return options


def _local(value: str | datetime, tz: str) -> datetime | None:
    """A local date-time (naive, or aware from YAML) as aware UTC."""
    if isinstance(value, str):
        match = DATETIME_RE.fullmatch(value.strip())
        if not match:
            return None
        try:
            value = datetime(*(int(g) for g in match.groups(default="0")))
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)


def _slots(options: dict[str, str], tz: str, problems: list[str]) -> dict:
    """Date poll options: ``JJJJ-MM-TT HH:MM`` with an optional end (``- HH:MM`` or a full
    date-time), or a whole day ``JJJJ-MM-TT``."""
    slots = {}
    for key, raw in options.items():
        start_text, _sep, end_text = _split_slot(raw)
        start = _local(start_text, tz)
        end = None
        if start is None:
            day = parse_date(start_text)
            if day is not None and not end_text:
                start = _local(datetime(day.year, day.month, day.day), tz)
        if start is not None and end_text:
            time = TIME_RE.fullmatch(end_text)
            if time:
                local = start.astimezone(ZoneInfo(tz))
                try:
                    end = _local(local.replace(hour=int(time[1]), minute=int(time[2]),
                                               tzinfo=None), tz)  # fmt: skip
                except ValueError:
                    end = None
            else:
                end = _local(end_text, tz)
            if end is None or end <= start:
                start = None
        if start is None:
            problems.append(
                N_(
                    "Der Termin „%(key)s“ ist kein gültiges Datum (JJJJ-MM-TT HH:MM, "
                    "optional „- HH:MM“ als Ende).",
                    key=key,
                )
            )
            continue
        slots[key] = (start, end)
    return slots


def _split_slot(raw: str) -> tuple[str, str, str]:
    parts = SLOT_SPLIT_RE.split(raw.strip(), maxsplit=1)
    return (parts[0], "-", parts[1]) if len(parts) == 2 else (parts[0], "", "")


def _closing(data: Mapping, tz: str, problems: list[str]) -> datetime | None:
    """``schluss``: local date-time; a plain date means the end of that day."""
    value = data.get("schluss")
    if value is None:
        return None
    result = None
    if isinstance(value, datetime):
        result = _local(value, tz)
    elif isinstance(value, date):
        end = datetime(value.year, value.month, value.day) + timedelta(days=1)
        result = _local(end, tz)
    elif isinstance(value, str):
        result = _local(value, tz)
        if result is None:
            day = parse_date(value.strip())
            if day is not None:
                result = _local(datetime(day.year, day.month, day.day) + timedelta(days=1), tz)
    if result is None:
        problems.append(
            N_("„schluss“ muss ein Datum mit Uhrzeit sein (JJJJ-MM-TT HH:MM, Ortszeit).")
        )
    return result


def frozen_problems(definition: Definition, frozen: dict) -> list[str]:
    """Why ``definition`` may not replace one whose first vote locked ``frozen``."""
    problems = []
    now = definition.frozen_fields()
    names = {"type": "typ", "who": "wer", "secret": "geheim"}
    for attr, name in names.items():
        if frozen.get(attr) is not None and now[attr] != frozen[attr]:
            problems.append(
                N_(
                    "„%(name)s“ kann nach der ersten Stimmabgabe nicht mehr geändert werden "
                    "(bisher „%(old)s“).",
                    name=name,
                    old=str(frozen[attr]),
                )
            )
    if frozen.get("options") is not None and now["options"] != sorted(frozen["options"]):
        problems.append(
            N_(
                "Die Schlüssel der Optionen können nach der ersten Stimmabgabe nicht mehr "
                "geändert werden (bisher: %(keys)s); die Beschriftungen schon.",
                keys=", ".join(frozen["options"]),
            )
        )
    if frozen.get("results") == "nach-schluss" and now["results"] != "nach-schluss":
        problems.append(
            N_(
                "„ergebnis: nach-schluss“ kann nach der ersten Stimmabgabe nicht mehr gelockert "
                "werden."
            )
        )
    return problems

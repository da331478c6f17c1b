"""The forms "Neuer Beschluss" and "Metadaten bearbeiten": a resolution's fields as proper inputs
instead of YAML.

Both forms share one template and one parser. The form carries what the user typed (a *draft*:
input name → text); :func:`build` turns a draft into front matter and lists every problem. When
editing, the draft is compared with the draft of the page at the base revision: a field whose
inputs still show what the page had keeps its original value (and YAML spelling), untouched
sections keep their text, and fields the form does not show (``source``, ``tags``, …) are never
touched — so a save without changes writes the same text, and concurrent edits of other parts of
the page merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from plugins.resolutions import schema as S
from plugins.resolutions.models import ResolutionRow, ResolutionTopic
from wiki import api as A
from wiki import api as P
from wiki.api import (
    REV_RE,
    BadQuery,
    Conflict,
    Forbidden,
    NotAvailable,
    PageRow,
    SearchUnavailable,
    ValidationFailed,
    can,
    content,
    current_principal,
    get_db,
    require,
    valid_path_or_404,
)
from wiki.api import state as wiki

#: At most this many similar resolutions are shown while drafting.
SIMILAR_LIMIT = 8
#: Significant words of the draft title that go into the similarity query.
QUERY_WORDS = 8
MIN_WORD = 4
#: Suggestions per datalist (bodies, events, topics).
DATALIST_LIMIT = 300
#: The plugin whose spaces a resolution can belong to.
SPACES_PLUGIN = "plugins.spaces"

TEXT_FIELDS = ("title", "body", "event", "agenda_item", "number", "outcome_detail", "referred_to")
VOTE_INPUTS = {
    "yes": "votes_yes",
    "no": "votes_no",
    "abstain": "votes_abstain",
    "invalid": "votes_invalid",
}
#: Body section → its textarea.
SECTION_INPUTS = {
    "Beschlusstext": "beschlusstext",
    "Begründung": "begruendung",
    "Protokollnotiz": "protokollnotiz",
}


def link_input(kind: str) -> str:
    return f"link_{kind}"


#: Front matter field → the inputs that show it (the form's fields, in form order).
INPUTS: dict[str, tuple[str, ...]] = {
    "visibility": ("visibility",),
    "title": ("title",),
    "number": ("number",),
    "initiators": ("initiators",),
    "submitted": ("submitted_date", "submitted_time"),
    "body": ("body",),
    "event": ("event",),
    "agenda_item": ("agenda_item",),
    "decided": ("decided",),
    "outcome": ("outcome",),
    "outcome_detail": ("outcome_detail",),
    "referred_to": ("referred_to",),
    "votes": (*VOTE_INPUTS.values(), "unanimous"),
    "validity": ("validity",),
    "valid_until": ("valid_until",),
    "topics": ("topics",),
    "links": tuple(link_input(kind) for kind in S.LINK_TYPES),
}
DRAFT_KEYS = (
    "space",
    "rid",
    "proposed",
    "message",
    *(name for inputs in INPUTS.values() for name in inputs),
    *SECTION_INPUTS.values(),
)

DATE_DE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
TIME_RE = re.compile(r"(\d{1,2})[:.](\d{2})(?::\d{2})?")
COUNT_RE = re.compile(r"\d{1,7}")
ID_SPLIT_RE = re.compile(r"[\s,;]+")
TOPIC_SPLIT_RE = re.compile(r"[,\n]+")
WORD_RE = re.compile(r"[^\W\d_]+")
QUOTED_KEY_RE = re.compile(r"„([a-z_]+)“")
#: Words that say nothing about a resolution's subject (the similarity query skips them).
STOPWORDS = frozenset(
    """aber alle allen aller alles als auch auf aus bei beim bis dass dem den der des die dies
    diese diesem diesen dieser dieses durch ein eine einem einen einer eines für gegen haben hat
    ihre ihrer im in ins ist mit nach nicht noch oder ohne sich sie sind so sowie über um und
    uns unter vom von vor wie wir wird werden zu zum zur zwischen""".split()
)


def field_labels() -> dict[str, str]:
    """Front matter field → the label of its input (for messages)."""
    return {
        "id": _("Kennung"),
        "number": _("Antragsnummer"),
        "title": _("Titel"),
        "body": _("Beschluss durch"),
        "event": _("Veranstaltung"),
        "agenda_item": _("Tagesordnungspunkt"),
        "submitted": _("Eingereicht"),
        "decided": _("Beschlossen am"),
        "initiators": _("Antragsteller*innen"),
        "outcome": _("Ergebnis"),
        "outcome_detail": _("Details zum Ergebnis"),
        "referred_to": _("Überwiesen an"),
        "votes": _("Abstimmung"),
        "validity": _("Gültigkeit"),
        "valid_until": _("Gültig bis"),
        "topics": _("Themen"),
        "links": _("Verknüpfungen"),
        "source": _("Quelle"),
        "visibility": _("Sichtbarkeit"),
    }


# -- drafts: what the inputs show -------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _norm(text: str) -> str:
    """Input text compared without line-end and trailing-space differences."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "\n".join(line.rstrip() for line in lines)


def empty_draft() -> dict[str, str]:
    return dict.fromkeys(DRAFT_KEYS, "")


def draft_of(meta: dict, body: str) -> dict[str, str]:
    """The inputs prefilled from a page's front matter and sections."""
    draft = empty_draft()
    for name in TEXT_FIELDS:
        draft[name] = _show(meta.get(name))
    draft["rid"] = _show(meta.get("id"))
    draft["visibility"] = _show(meta.get("visibility"))
    draft["outcome"] = _show(meta.get("outcome"))
    draft["validity"] = _show(meta.get("validity"))
    submitted = meta.get("submitted")
    when = S.parse_datetime(submitted)
    if when is not None:
        draft["submitted_date"] = when.date().isoformat()
        has_time = isinstance(submitted, str) and S.DATETIME_RE.fullmatch(submitted.strip())
        if has_time or (hasattr(submitted, "hour") and hasattr(submitted, "minute")):
            draft["submitted_time"] = when.strftime("%H:%M")
    else:
        draft["submitted_date"] = _show(submitted)
    for name in ("decided", "valid_until"):
        day = S.parse_date(meta.get(name))
        draft[name] = day.isoformat() if day else _show(meta.get(name))
    for name, sep in (("initiators", "\n"), ("topics", ", ")):
        value = meta.get(name)
        items = value if isinstance(value, list) else ([] if value is None else [value])
        draft[name] = sep.join(_show(item) for item in items)
    votes = S._votes(meta.get("votes"))
    if votes is not None:
        counts, unanimous = votes
        draft["unanimous"] = "1" if unanimous else ""
        for key, name in VOTE_INPUTS.items():
            draft[name] = str((counts or {}).get(key, ""))
    links = meta.get("links")
    if isinstance(links, dict):
        for kind in S.LINK_TYPES:
            targets = links.get(kind) or []
            targets = targets if isinstance(targets, list) else [targets]
            draft[link_input(kind)] = ", ".join(_show(t) for t in targets)
    texts = S.sections(body)
    for section, name in SECTION_INPUTS.items():
        draft[name] = texts.get(section, "")
    return draft


def draft_from(form) -> dict[str, str]:
    """The inputs of a submitted form (missing ones empty)."""
    draft = empty_draft()
    for name in DRAFT_KEYS:
        draft[name] = str(form.get(name, "")).replace("\r\n", "\n")
    draft["unanimous"] = "1" if form.get("unanimous") else ""
    return draft


# -- from a draft to front matter -------------------------------------------------------------


@dataclass
class Built:
    """Front matter and section texts of a draft, with the problems found on the way."""

    meta: dict
    texts: dict[str, str]
    problems: list[str] = field(default_factory=list)
    #: Input name → message (shown next to the input).
    errors: dict[str, str] = field(default_factory=dict)
    #: Front matter fields with a problem of their own (the schema's messages for them are
    #: left out, they would only repeat it).
    bad: set[str] = field(default_factory=set)

    def add(self, name: str, key: str, message: str) -> None:
        self.problems.append(message)
        self.errors.setdefault(name, message)
        self.bad.add(key)


_INVALID = object()


def parse_day(text: str):
    """A date from ``JJJJ-MM-TT`` or ``TT.MM.JJJJ``; None if empty, ``_INVALID`` otherwise."""
    text = text.strip()
    if not text:
        return None
    match = S.DATE_RE.fullmatch(text)
    if match:
        year, month, day = match[1], match[2], match[3]
    elif match := DATE_DE_RE.fullmatch(text):
        day, month, year = match[1], match[2], match[3]
    else:
        return _INVALID
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return _INVALID


def _parse(key: str, draft: dict[str, str], out: Built) -> Any:
    """The front matter value of ``key`` from the draft (None: leave the field out)."""
    labels = field_labels()
    if key in TEXT_FIELDS:
        value = draft[key].strip()
        if not value and key in ("title", "body"):
            message = {
                "title": _("Bitte einen Titel angeben."),
                "body": _("Bitte angeben, wer beschlossen hat („Beschluss durch“)."),
            }[key]
            out.add(key, key, message)
        return value or None
    if key in ("decided", "valid_until"):
        day = parse_day(draft[key])
        if day is _INVALID:
            out.add(key, key, _not_a_date(labels[key], draft[key]))
            return None
        return day
    if key == "submitted":
        day = parse_day(draft["submitted_date"])
        clock = draft["submitted_time"].strip()
        if day is _INVALID:
            out.add("submitted_date", key, _not_a_date(labels[key], draft["submitted_date"]))
            return None
        match = TIME_RE.fullmatch(clock) if clock else None
        if clock and (not match or int(match[1]) > 23 or int(match[2]) > 59):
            message = _(
                "„%(label)s“: „%(value)s“ ist keine Uhrzeit (HH:MM).",
                label=labels[key],
                value=clock,
            )
            out.add("submitted_time", key, message)
            return None
        if clock and day is None:
            out.add("submitted_date", key, _("„%(label)s“: Zur Uhrzeit fehlt das Datum.",
                                              label=labels[key]))  # fmt: skip
            return None
        if day is None:
            return None
        if match:
            return f"{day.isoformat()} {int(match[1]):02d}:{match[2]}"
        return day
    if key == "initiators":
        return list(dict.fromkeys(x.strip() for x in draft[key].split("\n") if x.strip())) or None
    if key == "topics":
        topics = (x.strip() for x in TOPIC_SPLIT_RE.split(draft[key]))
        return list(dict.fromkeys(x for x in topics if x)) or None
    if key == "outcome":
        value = draft[key].strip()
        if not value:
            out.add(key, key, _("Bitte das Ergebnis auswählen."))
        elif value not in S.OUTCOMES:
            out.add(key, key, _("Unbekanntes Ergebnis „%(value)s“.", value=value))
        return value or None
    if key == "validity":
        value = draft[key].strip()
        if value and value not in S.VALIDITIES:
            out.add(key, key, _("Unbekannte Gültigkeit „%(value)s“.", value=value))
            return None
        return value or None
    if key == "visibility":
        value = draft[key].strip()
        if value and value not in P.VISIBILITIES:
            out.add(key, key, _("Unbekannte Sichtbarkeit „%(value)s“.", value=value))
            return None
        return value or None
    if key == "votes":
        return _parse_votes(draft, out)
    if key == "links":
        links = {}
        for kind in S.LINK_TYPES:
            name = link_input(kind)
            ids = list(dict.fromkeys(t for t in ID_SPLIT_RE.split(draft[name]) if t))
            wrong = [t for t in ids if not S.valid_id(t)]
            if wrong:
                message = _(
                    "„%(label)s“: „%(value)s“ ist keine gültige Beschluss-Kennung.",
                    label=link_labels().get(kind, kind),
                    value=wrong[0],
                )
                out.add(name, key, message)
            elif ids:
                links[kind] = ids
        return links or None
    raise KeyError(key)


def _not_a_date(label: str, value: str) -> str:
    return _(
        "„%(label)s“: „%(value)s“ ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT).",
        label=label,
        value=value.strip(),
    )


def _parse_votes(draft: dict[str, str], out: Built):
    names = {
        "yes": _("Ja"),
        "no": _("Nein"),
        "abstain": _("Enthaltung"),
        "invalid": _("Ungültig"),
    }
    counts = {}
    for key, name in VOTE_INPUTS.items():
        text = draft[name].strip()
        if not text:
            continue
        if not COUNT_RE.fullmatch(text) or int(text) > 1_000_000:
            message = _(
                "„%(label)s“: bitte eine ganze Zahl ab 0 eintragen (nicht „%(value)s“).",
                label=names[key],
                value=text,
            )
            out.add(name, "votes", message)
            continue
        counts[key] = int(text)
    if draft["unanimous"]:
        if counts:
            message = _(
                "Bitte entweder „einstimmig“ ankreuzen oder Stimmen eintragen, nicht beides."
            )
            out.add("unanimous", "votes", message)
            return None
        return "unanimous"
    return counts or None


def build(draft: dict[str, str], original: P.Page | None = None) -> Built:
    """Front matter (without ``id`` for a new page) and section texts of ``draft``.

    With ``original`` (the page at the base revision) a field whose inputs still show the
    original's value keeps that value unchanged, as does every field the form does not show.
    """
    before = draft_of(original.meta, original.body) if original is not None else None
    out = Built(meta=dict(original.meta) if original is not None else {}, texts={})
    for key, inputs in INPUTS.items():
        if before is not None and all(_norm(draft[i]) == _norm(before[i]) for i in inputs):
            continue
        value = _parse(key, draft, out)
        if value is None:
            out.meta.pop(key, None)
        else:
            out.meta[key] = value
    outcome = out.meta.get("outcome")
    if outcome in S.ADOPTED:
        out.meta.setdefault("validity", "in_kraft")
    elif outcome in S.OUTCOMES:
        out.meta.pop("validity", None)
    if original is not None:
        out.meta = ordered(out.meta, list(original.meta))
    for section, name in SECTION_INPUTS.items():
        out.texts[section] = draft[name].replace("\r\n", "\n").strip("\n")
    text = out.texts["Beschlusstext"]
    was = before["beschlusstext"] if before is not None else None
    if not text.strip() and (was is None or _norm(was)):
        message = _("Bitte den Beschlusstext angeben.")
        out.problems.append(message)
        out.errors["beschlusstext"] = message
    return out


def ordered(meta: dict, keys: list[str]) -> dict:
    """``meta`` in the order of ``keys`` (the original's), new fields placed by ``S.FIELDS``."""
    order = [k for k in keys if k in meta]
    for key in meta:
        if key in order:
            continue
        rank = S.FIELDS.index(key) if key in S.FIELDS else len(S.FIELDS)
        at = len(order)
        for i, other in enumerate(order):
            if other in S.FIELDS and S.FIELDS.index(other) > rank:
                at = i
                break
        order.insert(at, key)
    return {k: meta[k] for k in order}


def check_problems(meta: dict, body: str, bad: set[str]) -> list[str]:
    """The schema's problems with ``meta`` in the form's words (fields the form already
    complained about left out)."""
    result = []
    for message in S.check(meta, body):
        if any(f"„{key}“" in message for key in bad):
            continue
        result.append(relabel(message))
    return result


def relabel(message: str) -> str:
    """A message about front matter with the field names replaced by the form's labels."""
    labels = field_labels()
    return QUOTED_KEY_RE.sub(
        lambda m: f"„{labels[m[1]]}“" if m[1] in labels else m[0], str(message)
    )


# -- body sections ----------------------------------------------------------------------------


def replace_sections(body: str, texts: dict[str, str]) -> str:
    """``body`` with those standard sections whose text differs from ``texts`` rewritten in
    place; everything else (text before the first heading, other sections, spacing) is kept."""
    old = S.sections(body)
    changed = {
        name for name in SECTION_INPUTS if _norm(texts.get(name, "")) != _norm(old.get(name, ""))
    }
    if not changed:
        return body
    matches = list(S.SECTION_RE.finditer(body))
    pieces, pos, done = [], 0, set()
    for i, match in enumerate(matches):
        name = match.group(1).strip()
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        if name not in changed:
            continue
        pieces.append(body[pos : match.start()])
        pos = end
        text = texts.get(name, "").strip("\n")
        if name in done or (not text.strip() and name != "Beschlusstext"):
            continue  # a repeated heading (merged into the first) or a section now empty
        done.add(name)
        segment = body[match.end() : end]
        core = segment.strip("\n")
        lead = segment[: len(segment) - len(segment.lstrip("\n"))] if core else "\n\n"
        trail = segment[len(segment.rstrip("\n")) :] if core else ""
        if end < len(body):
            trail = trail if trail.count("\n") >= 2 else "\n\n"
        elif not trail:
            trail = "\n"
        pieces.append(body[match.start() : match.end()] + (lead or "\n\n") + text + trail)
    pieces.append(body[pos:])
    result = "".join(pieces)
    for name in SECTION_INPUTS:
        text = texts.get(name, "").strip("\n")
        if name in changed and name not in done and text.strip():
            result = _insert_section(result, name, text)
    return result.rstrip("\n") + "\n" if body.endswith("\n") else result


def _insert_section(body: str, name: str, text: str) -> str:
    """``body`` with a new section ``name`` before the next standard section, else at the end."""
    later = list(SECTION_INPUTS)[list(SECTION_INPUTS).index(name) + 1 :]
    block = f"## {name}\n\n{text}\n"
    for match in S.SECTION_RE.finditer(body):
        if match.group(1).strip() in later:
            return body[: match.start()] + block + "\n" + body[match.start() :]
    return body.rstrip("\n") + "\n\n" + block if body.strip() else block


def edited_text(raw: str, original: P.Page, meta: dict, body: str) -> str:
    """The page text after the form: the original front matter text if no field changed."""
    if meta == original.meta and not original.broken:
        match = P.FRONT_MATTER_RE.match(raw)
        if match:
            return raw[: match.end()] + body
    return P.join_front_matter(meta, body)


# -- lookups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpaceChoice:
    """A place for a new resolution: a space ("" for none) and its code for ids."""

    path: str
    label: str
    code: str | None


def spaces_enabled() -> bool:
    return wiki().pm.has_plugin(SPACES_PLUGIN)


def space_choices() -> list[SpaceChoice]:
    """The spaces where the current user may create pages, then "ohne Gliederung" if allowed
    at the top level. A top-level space (no enclosing space) contributes no code to ids."""
    db = get_db()
    choices = []
    if spaces_enabled():
        from plugins.spaces.models import Space

        for space in db.scalars(select(Space).order_by(Space.path)):
            prospective = S.propose_path(space.path, None, "neu")
            if can(A.EDIT, content().ref_for(db, prospective, None)):
                code = (space.code or None) if space.parent else None
                choices.append(SpaceChoice(space.path, f"{space.name} ({space.path})", code))
    if can(A.EDIT, content().ref_for(db, S.propose_path(None, None, "neu"), None)):
        choices.append(SpaceChoice("", _("ohne Gliederung"), None))
    return choices


def space_exists(path: str) -> bool:
    if not path:
        return True
    if not spaces_enabled():
        return False
    from plugins.spaces.models import Space

    return get_db().get(Space, path) is not None


def space_label(path: str | None) -> str:
    if not path:
        return _("ohne Gliederung")
    if spaces_enabled():
        from plugins.spaces.models import Space

        space = get_db().get(Space, path)
        if space is not None:
            return f"{space.name} ({space.path})"
    return path


def id_taken(rid: str) -> bool:
    """Whether a resolution with this id (key) exists, at HEAD, readable or not."""
    state = wiki()
    state.syncer.ensure_current()
    with state.sessions() as session:
        found = session.scalar(
            select(ResolutionRow.path).where(ResolutionRow.rid_key == S.key_of(rid)).limit(1)
        )
    return found is not None


def id_taken_message(rid: str) -> str:
    return _("Die Kennung „%(id)s“ ist nicht verfügbar.", id=rid)


def datalists() -> dict[str, list[str]]:
    """Bodies, events and topics of the resolutions the user may read (suggestions)."""
    from plugins.resolutions.archive import Archive

    db = get_db()
    archive = Archive(db, wiki().acl.read_filter(current_principal()))
    result = {}
    for name, column in (("bodies", ResolutionRow.body), ("events", ResolutionRow.event)):
        query = archive.base(column).where(column != "").distinct().order_by(column)
        result[name] = list(db.scalars(query.limit(DATALIST_LIMIT)))
    topics = (
        select(ResolutionTopic.topic)
        .join(ResolutionRow, ResolutionRow.path == ResolutionTopic.path)
        .where(archive.permitted)
        .distinct()
        .order_by(ResolutionTopic.topic)
        .limit(DATALIST_LIMIT)
    )
    result["topics"] = list(db.scalars(topics))
    return result


def similar_query(text: str) -> str:
    """The significant words of ``text`` joined with OR (no quotes, colons or minus signs, so
    the query language is never triggered); "" if there are none."""
    words, seen = [], set()
    for word in WORD_RE.findall(text or ""):
        key = word.lower()
        if len(word) < MIN_WORD or key in STOPWORDS or key in seen:
            continue
        seen.add(key)
        words.append(word)
        if len(words) == QUERY_WORDS:
            break
    return " OR ".join(words)


def similar_resolutions(plugin, draft: dict[str, str], exclude: str | None = None) -> list:
    """Up to SIMILAR_LIMIT readable resolutions (any outcome) whose title or text resemble the
    draft's title, best first (ResolutionRow objects)."""
    from plugins.resolutions.archive import Archive

    query = similar_query(draft.get("title", ""))
    if not query:
        return []
    principal = current_principal()
    try:
        scores = plugin.state.search.scores(principal, query, page_type=S.TYPE)
    except (BadQuery, SearchUnavailable):
        return []
    ranked = sorted((p for p in scores if p != exclude), key=lambda p: (-scores[p], p))
    archive = Archive(get_db(), wiki().acl.read_filter(principal))
    rows = archive.rows(ranked[: SIMILAR_LIMIT * 4])
    return [row for row, _page in rows][:SIMILAR_LIMIT]


def link_labels() -> dict:
    from plugins.resolutions.labels import LINK_LABELS

    return LINK_LABELS


def choices_for_template() -> dict:
    """Options of the selects."""
    from plugins.resolutions.labels import OUTCOME_LABELS, VALIDITY_LABELS

    links = link_labels()
    return {
        "outcomes": [("", _("– bitte auswählen –"))]
        + [(o, OUTCOME_LABELS.get(o, o)) for o in S.OUTCOMES],
        "validities": [("", _("automatisch: in Kraft"))]
        + [(v, VALIDITY_LABELS.get(v, v)) for v in S.VALIDITIES],
        "visibilities": [
            ("", _("Standard der Gliederung")),
            ("public", _("Öffentlich – für alle, auch ohne Anmeldung")),
            ("internal", _("Intern – für alle Angemeldeten")),
            ("members", _("Mitglieder der Gliederung")),
            ("board", _("Vorstand der Gliederung")),
        ],
        "link_kinds": [(kind, links.get(kind, kind)) for kind in S.LINK_TYPES],
    }


# -- views ------------------------------------------------------------------------------------


def render_form(mode: str, draft: dict[str, str], status: int = 200, **context):
    context.setdefault("problems", [])
    context.setdefault("errors", {})
    context.setdefault("similar", None)
    context.setdefault("notice", None)
    if "choices" in context:
        context["space_options"] = [(c.path, c.label) for c in context["choices"]]
    body = render_template(
        "resolutions/form.html",
        mode=mode,
        draft=draft,
        lists=datalists(),
        **choices_for_template(),
        **context,
    )
    return body, status


def register(bp, plugin) -> None:
    """Add the form routes to the plugin's blueprint."""

    @bp.route("/new", methods=["GET", "POST"])
    @login_required
    def new():
        """Neuer Beschluss: "check" proposes id and path and lists similar resolutions,
        "save" creates the page."""
        choices = space_choices()
        by_path = {c.path: c for c in choices}
        if request.method == "GET":
            draft = empty_draft()
            wanted = request.args.get("space", request.args.get("gliederung", ""))
            if wanted in by_path:
                draft["space"] = wanted
            elif choices:
                draft["space"] = choices[0].path
            if not choices:
                problems = [_("Du darfst nirgends Beschlüsse anlegen.")]
                return render_form("new", draft, 403, choices=choices, problems=problems)
            return render_form("new", draft, choices=choices)

        draft = draft_from(request.form)
        out = build(draft)
        meta = out.meta
        status = 400
        space = draft["space"].strip()
        choice = by_path.get(space)
        if choice is None:
            if space_exists(space):
                message = _("Keine Berechtigung, in dieser Gliederung Beschlüsse anzulegen.")
                status = 403
            else:
                message = _("Unbekannte Gliederung „%(space)s“.", space=space)
            out.problems.insert(0, message)
            out.errors["space"] = message
        year = S.year_of(meta)
        proposed = S.propose_id(
            choice.code if choice else None, _show(meta.get("body")), year,
            _show(meta.get("number")),
        )  # fmt: skip
        rid = draft["rid"].strip()
        auto = not rid or rid == draft["proposed"].strip()
        if auto:
            rid = proposed
        meta["id"] = rid
        path = S.propose_path(space or None, year, rid)
        text = S.page_text(meta, out.texts)
        page = P.Page.parse(path, text)
        draft["rid"], draft["proposed"] = rid, (proposed if auto else "")
        shown = {"choices": choices, "path": path}
        valid_path = P.is_valid_path(path)
        taken = S.valid_id(rid) and id_taken(rid)
        if "check" in request.form:
            notice = out.errors.get("space")
            if notice is None and taken:
                notice = id_taken_message(rid)
            elif notice is None and not valid_path:
                notice = _("Aus dieser Kennung entsteht kein gültiger Seitenname.")
            similar = similar_resolutions(plugin, draft)
            return render_form("new", draft, notice=notice, similar=similar, **shown)

        problems = list(out.problems) + check_problems(meta, page.body, out.bad)
        if not valid_path and S.valid_id(rid):
            problems.append(
                _("Aus dieser Kennung entsteht kein gültiger Seitenname; bitte kürzer fassen.")
            )
        if taken:
            problems.append(id_taken_message(rid))
            out.errors.setdefault("rid", id_taken_message(rid))
        if problems:
            return render_form(
                "new", draft, status, problems=problems, errors=out.errors,
                similar=similar_resolutions(plugin, draft), **shown,
            )  # fmt: skip
        message = _("Beschluss %(id)s angelegt", id=rid)
        try:
            content().save(current_principal(), path, text, None, message, create=True)
        except ValidationFailed as exc:
            problems, status = [relabel(p) for p in exc.problems], 400
        except (NotAvailable, Conflict):
            problems, status = [_("Der Seitenname „%(path)s“ ist nicht verfügbar.", path=path)], 409
        except Forbidden as exc:
            problems, status = [str(exc)], 403
        else:
            flash(_("Beschluss %(id)s angelegt.", id=rid), "success")
            return redirect(url_for("pages.view", path=path))
        return render_form(
            "new", draft, status, problems=problems, errors=out.errors,
            similar=similar_resolutions(plugin, draft), **shown,
        )  # fmt: skip

    @bp.route("/edit/<path:path>", methods=["GET", "POST"])
    @login_required
    def edit(path):
        """Metadaten bearbeiten: the fields and texts of an existing resolution; the id stays."""
        valid_path_or_404(path)
        db = get_db()
        ref = content().ref(db, path)
        if ref is None:
            abort(404)
        require(A.EDIT, ref)
        store = wiki().store
        filename = P.page_file(path)
        row = db.get(PageRow, path)
        shown = {"path": path, "space_name": space_label(row.space if row else None)}

        if request.method == "GET":
            base = store.head()
            raw = store.read(filename, base)
            if raw is None:
                abort(404)
            page = P.Page.parse(path, raw)
            from plugins.resolutions import resolution_of

            if resolution_of(page) is None:
                return redirect(url_for("pages.edit", path=path, quelltext=1))
            draft = draft_of(page.meta, page.body)
            return render_form(
                "edit", draft, base=base, rid=page.meta.get("id"), title=page.title, **shown
            )

        draft = draft_from(request.form)
        base = request.form.get("base", "").strip()
        raw = None
        if REV_RE.fullmatch(base):
            try:
                raw = store.read(filename, base)
                # Only a base the reader may read (judged where and when it was): its title
                # and texts are shown and merged.
                sha = store.resolve(base)
                if not wiki().revisions.base_readable(db, current_principal(), path, sha):
                    raw = None
            except ValueError:
                raw = None
        if raw is None:
            # No usable base: start over from the current text.
            current = content().page(path)
            problems = [_("Ungültige Ausgangsversion. Bitte das Formular neu laden.")]
            status = 400
            if REV_RE.fullmatch(base):
                problems = [_("Die Seite gab es in dieser Fassung nicht. Bitte neu laden.")]
                status = 409
            return render_form(
                "edit", draft, status, problems=problems, base=store.head(),
                rid=current.meta.get("id") if current else None,
                title=current.title if current else path, **shown,
            )  # fmt: skip
        original = P.Page.parse(path, raw)
        rid = original.meta.get("id")
        shown.update(base=base, rid=rid, title=original.title)
        draft["rid"] = _show(rid)  # never changed by the form
        out = build(draft, original)
        body = replace_sections(original.body, out.texts)
        text = edited_text(raw.decode("utf-8", "replace"), original, out.meta, body)
        if "check" in request.form:
            similar = similar_resolutions(plugin, draft, exclude=path)
            return render_form("edit", draft, similar=similar, **shown)
        problems = list(out.problems) + check_problems(out.meta, body, out.bad)
        if problems:
            similar = similar_resolutions(plugin, draft, exclude=path)
            return render_form(
                "edit", draft, 400, problems=problems, errors=out.errors, similar=similar, **shown
            )
        message = draft["message"].strip()[:200] or _("Beschluss %(id)s bearbeitet", id=rid)
        try:
            content().save(current_principal(), path, text, base, message)
        except Conflict as conflict:
            from wiki.api import conflict_page

            return conflict_page(conflict, path, text, message)
        except (ValidationFailed, NotAvailable, Forbidden) as exc:
            status = {ValidationFailed: 400, NotAvailable: 409, Forbidden: 403}[type(exc)]
            problems = [relabel(p) for p in getattr(exc, "problems", None) or [str(exc)]]
            return render_form("edit", draft, status, problems=problems, errors=out.errors, **shown)
        flash(_("Gespeichert."), "success")
        return redirect(url_for("pages.view", path=path))

"""Forms (```` ```form ```` blocks): their questions, checking answers, the widget on the page and
storing a submission.

```form
id: mitgliederbefragung-2026
titel: Mitgliederbefragung
beschreibung: Zwei Minuten für deine Meinung.
wer: mitglieder              # as polls: alle | angemeldet | mitglieder | vorstand | token
geheim: ja                   # nein | verborgen | ja (anonymous: no user, no time stored)
mehrfach_antworten: nein     # ja: several submissions per person
fragen:
  - key: themen
    frage: Welche Themen sind dir wichtig?
    typ: mehrfach            # text | langtext | einfach | mehrfach | zahl | datum | skala
    optionen: {klima: Klima, bildung: Bildung}
    max: 2
  - key: zufrieden
    frage: Wie zufrieden bist du?
    typ: skala               # min/max (default 1–5), min_text/max_text label the ends
    min_text: gar nicht
    max_text: sehr
    pflicht: ja
```

A submission follows the poll rules: ``geheim: ja`` stores the answers only — no user, no time;
that someone has answered goes into the voter roll in the same transaction. One submission per
person or token unless ``mehrfach_antworten: ja``, enforced by the database: the unique
``once_key`` of named forms, the roll's key for anonymous ones.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from plugins.polls import definitions
from plugins.polls.forms_check import TEXT_LIMITS, Checked
from wiki.api import N_, render_markdown, utcnow

QUESTION_TYPES = ("text", "langtext", "einfach", "mehrfach", "zahl", "datum", "skala")
CHOICE_TYPES = ("einfach", "mehrfach")
#: YAML fields of one question.
QUESTION_FIELDS = ("key", "frage", "typ", "optionen", "min", "max", "pflicht", "hilfe",
                   "min_text", "max_text")  # fmt: skip
KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
MAX_QUESTIONS = 50
MAX_LABEL = definitions.MAX_LABEL
MAX_END_LABEL = 100
SCALE_DEFAULT = (1, 5)
MAX_SCALE_STEPS = 11
MAX_NUMBER = 10**15
#: Prefix of the form field of each question (keeps ``csrf_token`` and ``token`` free).
FIELD_PREFIX = "q-"
FLAGS = {True: True, False: False, "ja": True, "nein": False}


@dataclass(frozen=True)
class Question:
    """One question of a form, normalised from its YAML."""

    key: str
    label: str
    type: str
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (key, label) in the order of the block
    min: int | float | None = None
    max: int | float | None = None
    min_text: str = ""
    max_text: str = ""
    help: str = ""

    def __post_init__(self):
        # Definition.from_json hands the pairs back as lists.
        object.__setattr__(self, "options", tuple(tuple(pair) for pair in self.options))

    @property
    def field(self) -> str:
        """The name of the question's form field."""
        return FIELD_PREFIX + self.key

    @property
    def choices(self) -> dict[str, str]:
        """Option key → label."""
        return dict(self.options)

    @property
    def scale(self) -> range:
        """The points of a ``skala`` question."""
        return range(int(self.min), int(self.max) + 1)

    def point_label(self, point: int) -> str:
        """A point of the scale, with the label of its end (``1 – gar nicht``)."""
        end = self.min_text if point == self.min else self.max_text if point == self.max else ""
        return f"{point} – {end}" if end else str(point)


# -- parsing the block ---------------------------------------------------------------------------


def _label(value: Any) -> str | None:
    """A text from YAML (strings and numbers), stripped; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()


def _number(value: Any, whole: bool) -> int | float | None:
    """A finite number from YAML (bools are not numbers); ``whole``: integers only."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or abs(value) >= MAX_NUMBER:
        return None
    if value == int(value):
        return int(value)
    return None if whole else value


def _bounds(item: dict, key: str, qtype: str, count: int, problems: list):
    """``min``/``max`` of a question: numbers, or counts of choices for ``mehrfach``."""
    default = SCALE_DEFAULT if qtype == "skala" else (None, None)
    whole = qtype in ("skala", "mehrfach")
    bounds = []
    for name, fallback in zip(("min", "max"), default, strict=True):
        raw = item.get(name, fallback)
        value = None if raw is None else _number(raw, whole)
        if raw is not None and value is None:
            problems.append(
                N_("Frage „%(key)s“: „%(name)s“ muss eine ganze Zahl sein.", key=key, name=name)
                if whole
                else N_("Frage „%(key)s“: „%(name)s“ muss eine Zahl sein.", key=key, name=name)
            )
        bounds.append(value)
    low, high = bounds
    if low is not None and high is not None and low > high:
        problems.append(N_("Frage „%(key)s“: „min“ ist größer als „max“.", key=key))
    elif qtype == "skala" and None not in bounds and not 2 <= high - low + 1 <= MAX_SCALE_STEPS:
        problems.append(
            N_("Frage „%(key)s“: Eine Skala hat 2 bis %(n)s Stufen.", key=key, n=MAX_SCALE_STEPS)
        )
    elif qtype == "mehrfach" and ((high is not None and high > count) or (low or 0) < 0):
        problems.append(
            N_(
                "Frage „%(key)s“: „min“ und „max“ zählen gewählte Optionen (0 bis %(n)s).",
                key=key,
                n=count,
            )
        )
    return low, high


def _extras(item: dict, key: str, qtype: str, problems: list) -> dict:
    """``hilfe`` and, for scales, the labels of both ends."""
    values = {"help": "", "min_text": "", "max_text": ""}
    for name, attr, limit in (
        ("hilfe", "help", MAX_LABEL),
        ("min_text", "min_text", MAX_END_LABEL),
        ("max_text", "max_text", MAX_END_LABEL),
    ):
        if item.get(name) is None:
            continue
        if attr != "help" and qtype != "skala":
            problems.append(
                N_("Frage „%(key)s“: „%(name)s“ gibt es nur bei „typ: skala“.", key=key, name=name)
            )
            continue
        text = _label(item[name])
        if text is None or len(text) > limit:
            problems.append(
                N_(
                    "Frage „%(key)s“: „%(name)s“ ist ein Text (höchstens %(n)s Zeichen).",
                    key=key,
                    name=name,
                    n=limit,
                )
            )
            continue
        values[attr] = text
    return values


def _question(item: Any, number: int, seen: set, problems: list) -> Question | None:
    """One entry of ``fragen``, or None (its problems added)."""
    key = item.get("key") if isinstance(item, dict) else None
    key = str(key) if isinstance(key, str | int) and not isinstance(key, bool) else ""
    if not KEY_RE.fullmatch(key):
        problems.append(
            N_(
                "Frage %(n)s: „key“ fehlt oder ist ungültig (Kleinbuchstaben a–z, Ziffern und „-“, "
                "höchstens 40 Zeichen).",
                n=number,
            )
        )
        return None
    if key in seen:
        problems.append(N_("Frage „%(key)s“: Der Schlüssel kommt doppelt vor.", key=key))
        return None
    seen.add(key)
    before = len(problems)
    unknown = [str(name) for name in item if name not in QUESTION_FIELDS]
    if unknown:
        problems.append(
            N_("Frage „%(key)s“: Unbekanntes Feld „%(names)s“.", key=key, names=", ".join(unknown))
        )
    label = _label(item.get("frage"))
    if not label or len(label) > MAX_LABEL:
        problems.append(
            N_(
                "Frage „%(key)s“: „frage“ fehlt oder ist zu lang (höchstens %(n)s Zeichen).",
                key=key,
                n=MAX_LABEL,
            )
        )
    qtype = item.get("typ")
    if qtype not in QUESTION_TYPES:
        problems.append(
            N_(
                "Frage „%(key)s“: „typ“ muss eines von %(types)s sein.",
                key=key,
                types=", ".join(QUESTION_TYPES),
            )
        )
        return None
    required = FLAGS.get(item.get("pflicht", False))
    if required is None:
        problems.append(N_("Frage „%(key)s“: „pflicht“ muss „ja“ oder „nein“ sein.", key=key))
    options: dict[str, str] = {}
    if qtype in CHOICE_TYPES:
        found: list = []
        options = definitions._options(item.get("optionen"), found)
        problems.extend(
            N_("Frage „%(key)s“: %(problem)s", key=key, problem=problem) for problem in found
        )
        if not found and len(options) < 2:
            problems.append(N_("Frage „%(key)s“: Bitte mindestens zwei Optionen angeben.", key=key))
    elif "optionen" in item:
        problems.append(
            N_(
                "Frage „%(key)s“: „optionen“ gibt es nur bei „typ: einfach“ und „mehrfach“.",
                key=key,
            )
        )
    low = high = None
    if qtype in ("zahl", "skala", "mehrfach"):
        low, high = _bounds(item, key, qtype, len(options), problems)
    elif "min" in item or "max" in item:
        problems.append(
            N_(
                "Frage „%(key)s“: „min“ und „max“ gibt es nur bei zahl, skala und mehrfach.",
                key=key,
            )
        )
    extras = _extras(item, key, qtype, problems)
    if len(problems) > before:
        return None
    return Question(
        key=key,
        label=label,
        type=qtype,
        required=bool(required),
        options=tuple(options.items()),
        min=low,
        max=high,
        **extras,
    )


def parse_questions(data: Any) -> tuple[tuple[Question, ...], list]:
    """The questions of a ``form`` block (``data["fragen"]``) and every problem (German)."""
    raw = data.get("fragen") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        return (), [N_("Das Feld „fragen“ fehlt: eine Liste mit mindestens einer Frage.")]
    problems: list = []
    if len(raw) > MAX_QUESTIONS:
        problems.append(N_("Höchstens %(n)s Fragen.", n=MAX_QUESTIONS))
    seen: set[str] = set()
    questions = [_question(item, n, seen, problems) for n, item in enumerate(raw, 1)]
    return tuple(q for q in questions if q is not None), problems


# -- storing -------------------------------------------------------------------------------------


class Refused(Exception):
    """A submission that is not accepted; ``str()`` is the German message, ``status`` the HTTP
    status."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


def is_anonymous(view) -> bool:
    """``geheim: ja``: neither a user nor a time is stored with a submission."""
    return view.definition.secret == "ja"


def submission_count(session, poll_id: str) -> int:
    """How many submissions the form has."""
    from plugins.polls.models import Submission

    return session.scalar(select(func.count()).where(Submission.poll_id == poll_id)) or 0


#: ``access.eligibility`` speaks of votes; the same reasons for a form.
FORM_WORDING = {
    "Bitte melde dich zum Abstimmen an.": N_("Bitte melde dich an, um das Formular auszufüllen."),
    "Abstimmen dürfen nur Mitglieder dieser Gliederung.": N_(
        "Ausfüllen dürfen nur Mitglieder dieser Gliederung."
    ),
    "Abstimmen darf nur der Vorstand dieser Gliederung.": N_(
        "Ausfüllen darf nur der Vorstand dieser Gliederung."
    ),
}


def translated(message) -> str:
    """A German ``N_`` message in the reader's language."""
    msgid = getattr(message, "msgid", None)
    return _(msgid, **message.params) if msgid else str(message)


def closed_message() -> str:
    return _("Dieses Formular ist geschlossen.")


def already_message() -> str:
    return _("Du hast dieses Formular bereits beantwortet.")


def account_problem(session, view, principal) -> tuple[str | None, bool]:
    """Why ``principal`` cannot submit with their account now (None: can), and whether that is
    because they already did. Token forms are answered with a code instead."""
    from plugins.polls import access

    if access.is_closed(view):
        return closed_message(), False
    if view.definition.who == "token":
        return None, False
    if not view.definition.multiple_answers and access.has_voted(session, view, principal):
        return already_message(), True
    if not principal.logged_in and view.definition.who == "alle":
        if view.definition.multiple_answers:
            return None, False  # nothing to count once: anyone may answer, as often as they like
        message = _(
            "Bitte melde dich an oder nutze einen Zugangscode: Jede Person kann dieses "
            "Formular nur einmal ausfüllen."
        )
        return message, False
    reason = access.eligibility(principal, view)
    if reason is None:
        return None, False
    return translated(FORM_WORDING.get(getattr(reason, "msgid", None), reason)), False


def store(session, view, principal, answers: dict, raw_token: str = "") -> None:
    """Store one submission and commit; :class:`Refused` (nothing stored) when it is not
    accepted: closed, not eligible, a code unknown or used, or already answered.

    With a code (``raw_token``) the submission counts for the code, else for the account. Once-
    only forms record the respondent in the voter roll (and named ones in ``once_key``) in the
    same transaction; the unique keys turn a second or concurrent submission away.
    """
    from plugins.polls import access, tokens
    from plugins.polls.models import Submission, Voter

    poll_id = view.id
    once = not view.definition.multiple_answers
    if raw_token or view.definition.who == "token":
        if access.is_closed(view):
            raise Refused(closed_message(), 409)
        token = tokens.consume(session, poll_id, raw_token) if raw_token else None
        if token is None:
            session.rollback()
            raise Refused(_("Dieser Zugangscode ist ungültig oder wurde schon benutzt."), 400)
        user_id, voter = token.user_id, access.voter_key(token_id=token.id)
    else:
        reason, done = account_problem(session, view, principal)
        if reason:
            raise Refused(reason, 409 if done or access.is_closed(view) else 403)
        user_id = principal.user_id
        voter = access.voter_key(user_id) if user_id is not None else None
    anonymous = is_anonymous(view)
    if once:
        session.add(Voter(poll_id=poll_id, voter=voter))
    session.add(
        Submission(
            id=str(uuid.uuid4()),
            poll_id=poll_id,
            user_id=None if anonymous else user_id,
            once_key=voter if once and not anonymous else None,
            answers=json.dumps(answers, ensure_ascii=False),
            created_at=None if anonymous else utcnow(),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Refused(already_message(), 409) from None
    access.bump_version(session, poll_id)
    session.commit()


# -- the widget ----------------------------------------------------------------------------------


def widget_context(session, view, principal, checked: Checked | None = None, **extra) -> dict:
    """What ``polls/form_widget.html`` shows (``extra``: ``problem``, ``token``)."""
    from plugins.polls import access

    definition = view.definition
    reason, done = account_problem(session, view, principal)
    closed = access.is_closed(view)
    organiser = access.is_organiser(principal, view)
    once = not definition.multiple_answers
    visitor = not principal.logged_in and definition.who == "alle" and once
    description = definition.question if definition.question != definition.title else ""
    return {
        "view": view,
        "definition": definition,
        "questions": definition.questions,
        "description": render_markdown(description, view.row.path) if description else "",
        "checked": checked or Checked(),
        "problem": None,
        "token": "",
        "reason": reason,
        "done": done,
        "logged_in": principal.logged_in,
        "organiser": organiser,
        "count": submission_count(session, view.id) if organiser else None,
        "anonymous": is_anonymous(view),
        "limits": TEXT_LIMITS,
        # A code counts once where an account cannot: slips, and visitors of "wer: alle".
        "token_field": not closed and (definition.who == "token" or visitor),
    } | extra


def render_widget(view, principal, session) -> Markup:
    """The form on its page (plain HTML form, no JavaScript)."""
    context = widget_context(session, view, principal)
    return Markup(render_template("polls/form_widget.html", **context))

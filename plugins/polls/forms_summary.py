"""What the organisers of a form see: every submission summarised per question, and the CSV.

Names appear only where the form promised them: ``geheim: nein`` shows who answered what,
``verborgen`` only who took part (sorted by name, never linked to an answer), ``ja`` nobody.
Anonymous submissions are listed in the order of their random keys, so no order of arrival shows.
Answers to questions or options removed from the block since are kept in the database but not
shown; an option whose key is no longer defined shows its key.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import fmean

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from plugins.polls import charts
from plugins.polls.models import Submission
from wiki.api import User, format_day, format_dt


@dataclass(frozen=True)
class Entry:
    """One stored submission: its answers, and the respondent's name and time where kept."""

    answers: dict
    name: str | None
    created_at: datetime | None


@dataclass
class Summary:
    """The answers to one question."""

    question: object  # forms.Question
    answered: int = 0
    chart: Markup | None = None
    stats: list[tuple[str, str]] = field(default_factory=list)  # (label, figure)
    texts: list[tuple[str, str | None]] = field(default_factory=list)  # (answer, name)


def entries(session, view) -> list[Entry]:
    """Every submission of the form (names only for ``geheim: nein``)."""
    named = view.definition.secret == "nein"
    query = (
        select(Submission.answers, User.display_name, Submission.created_at)
        .outerjoin(User, User.id == Submission.user_id)
        .where(Submission.poll_id == view.id)
        # Only named forms show the order of arrival; others the order of the random keys.
        .order_by(*((Submission.created_at,) if named else ()), Submission.id)
    )
    return [
        Entry(json.loads(text), (name or _("ohne Konto")) if named else None, created)
        for text, name, created in session.execute(query)
    ]


def respondents(session, view) -> list[str]:
    """Who took part in a ``geheim: verborgen`` form, by name (each once)."""
    rows = session.scalars(
        select(User.display_name)
        .join(Submission, Submission.user_id == User.id)
        .where(Submission.poll_id == view.id)
        .distinct()
        .order_by(User.display_name)
    )
    return list(rows)


def number(value) -> str:
    """A figure in the reader's locale (two decimals at most)."""
    return format_decimal(round(value, 2) if isinstance(value, float) else value)


def option_label(question, key) -> str:
    """The label of an option (or of a point of a scale)."""
    if question.type == "skala":
        return question.point_label(key)
    return question.choices.get(key, key)


def answer_text(question, value) -> str:
    """One answer as text (CSV cells, text lists)."""
    if value is None:
        return ""
    if question.type == "einfach":
        return option_label(question, value)
    if question.type == "mehrfach":
        return ", ".join(option_label(question, key) for key in value)
    if question.type in ("zahl", "skala"):
        return number(value)
    return str(value)


def _counts_chart(question, counts: Counter, answered: int, keys) -> Markup:
    bars, rows = [], []
    for key in keys:
        label, count = option_label(question, key), counts.get(key, 0)
        share = count / answered if answered else 0.0
        figure = f"{count} ({number(share * 100)} %)"
        bars.append(charts.Bar(str(label), (share,), figure))
        rows.append((label, count, f"{number(share * 100)} %"))
    return charts.bar_chart(
        f"form-{question.key}", question.label, bars, [_("Antwort"), _("Anzahl"), _("Anteil")], rows
    )


def summarise(questions, items: list[Entry]) -> list[Summary]:
    """One :class:`Summary` per question of the block."""
    result = []
    for question in questions:
        values = [item.answers.get(question.key) for item in items]
        given = [
            (value, item.name)
            for value, item in zip(values, items, strict=True)
            if value is not None
        ]
        summary = Summary(question, answered=len(given))
        if question.type in ("einfach", "mehrfach"):
            counts = Counter()
            for value, _name in given:
                counts.update(value if isinstance(value, list) else [value])
            keys = list(question.choices) + sorted(k for k in counts if k not in question.choices)
            summary.chart = _counts_chart(question, counts, len(given), keys)
        elif question.type in ("zahl", "skala"):
            numbers = [value for value, _name in given if isinstance(value, int | float)]
            if numbers:
                summary.stats = [
                    (_("Mittelwert"), number(fmean(numbers))),
                    (_("Kleinster Wert"), number(min(numbers))),
                    (_("Größter Wert"), number(max(numbers))),
                ]
            if question.type == "skala":
                counts = Counter(numbers)
                summary.chart = _counts_chart(question, counts, len(numbers), list(question.scale))
        elif question.type == "datum":
            counts = Counter(value for value, _name in given)
            summary.texts = [
                (f"{format_day(date.fromisoformat(day))} ({n})", None)
                for day, n in sorted(counts.items())
            ]
        else:
            summary.texts = [(str(value), name) for value, name in given]
        result.append(summary)
    return result


def csv_table(view, items: list[Entry]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the CSV export (name and time columns only for ``geheim: nein``)."""
    questions = view.definition.questions
    named = view.definition.secret == "nein"
    header = ([_("Name"), _("Zeitpunkt")] if named else []) + [q.label for q in questions]
    rows = []
    for item in items:
        row = [item.name or "", format_dt(item.created_at)] if named else []
        row += [answer_text(q, item.answers.get(q.key)) for q in questions]
        rows.append(row)
    return header, rows

"""Checking what a respondent typed into a form: required answers, option keys, number
ranges, dates, length limits. Every answer is normalised (``zahl`` a number, ``datum`` an ISO
date, ``mehrfach`` option keys in the block's order); what was typed is kept to show again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from wiki.api import parse_form_date

NUMBER_RE = re.compile(r"[+-]?\d{1,15}(?:[.,]\d{1,6})?")
#: Longest answer (characters) per text type.
TEXT_LIMITS = {"text": 500, "langtext": 5000}


@dataclass
class Checked:
    """Answers from a submitted form: the clean values, what was typed, and the errors."""

    answers: dict[str, Any] = field(default_factory=dict)
    draft: dict[str, Any] = field(default_factory=dict)  # field name → text or list of keys
    errors: dict[str, str] = field(default_factory=dict)  # question key → message


def _number_answer(question, text: str) -> tuple[Any, str | None]:
    if not NUMBER_RE.fullmatch(text):
        return None, _("Bitte eine Zahl angeben (z. B. 12 oder 3,5).")
    value = Decimal(text.replace(",", "."))  # the pattern admits only plain numbers
    value = int(value) if value == value.to_integral_value() else float(value)
    return _range_check(question, value)


def number_text(value) -> str:
    """A number as Germans write it (decimal comma)."""
    return str(value).replace(".", ",")


def _range_check(question, value) -> tuple[Any, str | None]:
    low, high = question.min, question.max
    if low is not None and high is not None and not low <= value <= high:
        return None, _(
            "Bitte einen Wert von %(min)s bis %(max)s angeben.",
            min=number_text(low),
            max=number_text(high),
        )
    if low is not None and value < low:
        return None, _("Bitte mindestens %(min)s angeben.", min=number_text(low))
    if high is not None and value > high:
        return None, _("Bitte höchstens %(max)s angeben.", max=number_text(high))
    return value, None


def _answer(question, form) -> tuple[Any, Any, str | None]:
    """(clean value or None if empty, draft, error) of one question."""
    if question.type == "mehrfach":
        picked = [value for value in form.getlist(question.field) if isinstance(value, str)]
        keys = [key for key, _label in question.options if key in picked]
        if len(keys) != len(set(picked)):
            return None, keys, _("Bitte nur die angebotenen Optionen wählen.")
        if not keys:
            return None, keys, None
        if question.min is not None and len(keys) < question.min:
            return None, keys, _("Bitte mindestens %(n)d Optionen wählen.", n=question.min)
        if question.max is not None and len(keys) > question.max:
            return None, keys, _("Bitte höchstens %(n)d Optionen wählen.", n=question.max)
        return keys, keys, None
    text = form.get(question.field, "")
    text = text if isinstance(text, str) else ""
    if question.type == "text":
        text = " ".join(text.split())
    elif question.type == "langtext":
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    else:
        text = text.strip()
    if "\x00" in text:
        return None, "", _("Die Antwort enthält unzulässige Zeichen.")
    if not text:
        return None, "", None
    if question.type in TEXT_LIMITS:
        limit = TEXT_LIMITS[question.type]
        if len(text) > limit:
            return None, text, _("Bitte höchstens %(n)d Zeichen.", n=limit)
        return text, text, None
    if question.type == "einfach":
        if text not in question.choices:
            return None, "", _("Bitte eine der angebotenen Optionen wählen.")
        return text, text, None
    if question.type == "zahl":
        value, error = _number_answer(question, text)
        return value, text, error
    if question.type == "skala":
        if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 4:
            return None, "", _("Bitte einen Punkt der Skala wählen.")
        value, error = _range_check(question, int(text))
        return value, text, error and _("Bitte einen Punkt der Skala wählen.")
    try:  # datum
        day = parse_form_date(text)
    except ValueError:
        return None, text, _("Bitte ein gültiges Datum angeben (JJJJ-MM-TT oder TT.MM.JJJJ).")
    return day.isoformat(), text, None


def check_answers(questions, form) -> Checked:
    """Validate a submitted form (a werkzeug ``MultiDict``) against the questions."""
    checked = Checked()
    for question in questions:
        value, draft, error = _answer(question, form)
        checked.draft[question.field] = draft
        if error is None and value is None and question.required:
            error = _("Bitte beantworte diese Frage.")
        if error:
            checked.errors[question.key] = error
        elif value is not None:
            checked.answers[question.key] = value
    return checked

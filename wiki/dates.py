"""Dates from front matter and forms: ISO (``YYYY-MM-DD[ HH:MM[:SS]]``) and German ``TT.MM.JJJJ``.

Pure functions (no Flask), shared by the core and plugins through :mod:`wiki.api`. Formatting for
display is in :mod:`wiki.web` (``format_dt``, ``format_day``), which knows the locale.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")
DATE_DE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def parse_date(value: Any) -> date | None:
    """A date from YAML (a date, a datetime or ``YYYY-MM-DD``); None if it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = DATE_RE.fullmatch(text) or DATETIME_RE.fullmatch(text)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def parse_datetime(value: Any) -> datetime | None:
    """A naive date and time (``YYYY-MM-DD HH:MM``) or a plain date (midnight); None otherwise."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, str):
        match = DATETIME_RE.fullmatch(value.strip())
        if match:
            try:
                return datetime(
                    int(match[1]), int(match[2]), int(match[3]), int(match[4]), int(match[5]),
                    int(match[6] or 0),
                )  # fmt: skip
            except ValueError:
                return None
    day = parse_date(value)
    return datetime(day.year, day.month, day.day) if day else None


def parse_form_date(text: str) -> date | None:
    """A date typed into a form, ``JJJJ-MM-TT`` or ``TT.MM.JJJJ``; None if empty.

    Raises ``ValueError`` for anything else (including impossible dates like 31.02.2024), so a
    form can tell "left empty" from "mistyped".
    """
    text = (text or "").strip()
    if not text:
        return None
    if match := DATE_RE.fullmatch(text):
        year, month, day = match[1], match[2], match[3]
    elif match := DATE_DE_RE.fullmatch(text):
        day, month, year = match[1], match[2], match[3]
    else:
        raise ValueError(f"not a date: {text!r}")
    return date(int(year), int(month), int(day))

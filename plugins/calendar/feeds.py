"""iCalendar feeds (public and personal) and the .ics of one event; subscription help."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/calendar``."""
    return Blueprint("calendar_feeds", __name__, url_prefix="/-/calendar")

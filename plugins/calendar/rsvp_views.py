"""RSVPs per occurrence, the organisers' attendee list and CSV, joining the video room."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/calendar``."""
    return Blueprint("calendar_rsvp", __name__, url_prefix="/-/calendar")

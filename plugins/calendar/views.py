"""Calendar pages: everything the reader may see, per chapter; month grid and agenda."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/calendar``."""
    return Blueprint("calendar", __name__, url_prefix="/-/calendar")

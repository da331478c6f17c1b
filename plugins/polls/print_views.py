"""QR code for a projector, printable single-use ballot slips, per-member tokens, poll to event."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    return Blueprint("polls_print", __name__, url_prefix="/-/polls")

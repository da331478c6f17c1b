"""Forms: submitting answers, the organisers' summary and its CSV export."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    return Blueprint("polls_forms", __name__, url_prefix="/-/polls")

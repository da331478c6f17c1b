"""Results exports of a poll: CSV, JSON and .blt (ranked ballots)."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    return Blueprint("polls_exports", __name__, url_prefix="/-/polls")

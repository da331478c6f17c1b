"""Poll pages: the list, one poll with its form and results, voting (account or token), closing."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    return Blueprint("polls", __name__, url_prefix="/-/polls")

"""The JSON API of polls."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint() -> Blueprint:
    """Routes under ``/-/api/v1/polls``."""
    return Blueprint("polls_api", __name__, url_prefix="/-/api/v1/polls")

"""JSON API of polls under ``/-/api/v1/polls``, with the permissions of the pages.

``GET /-/api/v1/polls`` lists the polls and forms on pages the caller may read (``page`` and
``per_page`` paginate; ``offen=1`` only open ones); ``GET /-/api/v1/polls/<id>`` answers one: its
definition, state, counts and — when the poll's ``ergebnis`` rule lets the caller see them — its
results. A poll on a page the caller may not read is 404, exactly like a missing one. Reads work
with a session or ``Authorization: Bearer <token>``, like the core API; errors are JSON.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint, jsonify, request
from sqlalchemy import func, select

from plugins.polls import access, results, tokens
from plugins.polls.models import PollDef
from wiki.api import (
    PageRow,
    content,
    current_principal,
    external_url,
    get_db,
    read_clause,
    state,
)

MAX_PER_PAGE = 200


def number_arg(name: str, default: int, high: int) -> int | None:
    """A positive integer query argument up to ``high`` (None if malformed)."""
    text = request.args.get(name, str(default))
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not 1 <= int(text) <= high:
        return None
    return int(text)


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def summary(view: access.PollView) -> dict:
    """What the list shows of a poll."""
    definition = view.definition
    return {
        "id": view.id,
        "kind": definition.kind,
        "title": definition.title,
        "type": definition.type,
        "who": definition.who,
        "secret": definition.secret,
        "results": definition.results,
        "closes_at": iso(definition.closes_at),
        "closed": access.is_closed(view),
        "page": view.row.path,
        "url": external_url("polls.poll", poll_id=view.id),
        "page_url": external_url("pages.view", path=view.row.path),
    }


def definition_json(view: access.PollView) -> dict:
    """The definition's fields (forms: their questions)."""
    definition = view.definition
    data = {
        "question": definition.question,
        "options": [{"key": key, "label": label} for key, label in definition.options.items()],
    }
    if definition.type == "termin":
        data["slots"] = {
            key: {"start": iso(start), "end": iso(end)}
            for key, (start, end) in definition.slots.items()
        }
    if definition.type == "mehrfach":
        data["min"], data["max"] = definition.min, definition.max
    if definition.type == "rangfolge":
        data["method"] = definition.method
        if definition.method == "stv":
            data["seats"] = definition.seats
    if definition.kind == "form":
        data["multiple_answers"] = definition.multiple_answers
        data["questions"] = [plain(q) for q in definition.questions]
    return data


def plain(value):
    """A JSON-ready copy of a value (dataclasses, tuples, dates)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def results_json(session, view: access.PollView) -> tuple[dict, bool]:
    """The poll's figures as the JSON export has them (nothing per ballot), and whether the
    per-option figures are withheld (a secret poll with too few ballots, not yet closed)."""
    computed = results.for_poll(session, view)
    return computed.to_dict(), computed.withheld


def make_blueprint() -> Blueprint:
    """Routes under ``/-/api/v1/polls``."""
    bp = Blueprint("polls_api", __name__, url_prefix="/-/api/v1/polls")

    @bp.get("")
    def list_polls():
        """The polls and forms on pages the caller may read, newest page change first."""
        page = number_arg("page", 1, 100000)
        per_page = number_arg("per_page", 50, MAX_PER_PAGE)
        if page is None or per_page is None:
            message = f"page und per_page (1 bis {MAX_PER_PAGE}) müssen ganze Zahlen sein."
            return jsonify({"error": message}), 400
        session = get_db()
        allowed = read_clause(
            state().acl.read_filter(current_principal()),
            PageRow.effective_visibility,
            PageRow.space,
        )
        query = select(PollDef, PageRow).join(PageRow, PageRow.path == PollDef.path).where(allowed)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(
            query.order_by(PageRow.updated_at.desc(), PollDef.id)
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        ).all()
        items = [
            summary(access.view_of(session, row, content().ref_of(page_row)))
            for row, page_row in rows[:per_page]
        ]
        return jsonify(
            {
                "total": total,
                "page": page,
                "per_page": per_page,
                "has_next": len(rows) > per_page,
                "polls": items,
            }
        )

    @bp.get("/<poll_id>")
    def get_poll(poll_id):
        """One poll: definition, state, counts, and results when the caller may see them."""
        view = access.load(poll_id)
        session = get_db()
        principal = current_principal()
        organiser = access.is_organiser(principal, view)
        item = summary(view) | definition_json(view)
        item["organiser"] = organiser
        if view.definition.kind == "poll" and principal.logged_in:
            item["may_vote"] = access.may_vote(principal, view, session) is None
            item["voted"] = access.has_voted(session, view, principal)
        if organiser:
            issued, used = tokens.counts(session, view.id)
            item["tokens"] = {"issued": issued, "used": used}
        visible = view.definition.kind == "poll" and access.results_visible(
            principal, view, session
        )
        item["results_visible"] = visible
        if visible:
            item["result"], withheld = results_json(session, view)
            if item["result"]["ballots"] and not withheld:
                access.mark_results_shown(session, view)
        return jsonify(item)

    return bp

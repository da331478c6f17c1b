"""Results exports of a poll: CSV, JSON and .blt (ranked ballots).

- ``GET /-/polls/<id>/export.csv``: the aggregate results as German spreadsheets expect them
  (UTF-8 with BOM, ``;``, formulas neutralised: :func:`wiki.api.csv_text`).
- ``GET /-/polls/<id>/export.json``: the same figures as JSON.
- ``GET /-/polls/<id>/export.blt``: ranked ballots for an external recount (OpenSTV/ERS
  format); 404 for polls that are not ranked.

Every route goes through :func:`access.load` (404 for unknown polls and unreadable pages alike)
and :func:`access.results_visible` (403 while the reader may not see results yet). A secret
poll with too few ballots (``Results.withheld``) exports only the number of ballots, and no
``.blt``. Per-ballot rows with names exist only for organisers of named polls
(``geheim: nein``); ``verborgen`` and ``ja`` polls never export a name, and nothing of a secret
ballot links it to a person or to the order of voting (``.blt`` lines are sorted).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from flask import Blueprint, Response, abort
from flask_babel import gettext as _
from sqlalchemy import select

from plugins.polls import access, results, tally
from plugins.polls.models import Vote
from wiki.api import User, csv_text, current_principal, get_db


def number(value) -> str:
    """A figure for a German spreadsheet: decimal comma, no thousands separator."""
    if isinstance(value, float):
        value = f"{value:.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, Decimal):
        value = results.decimal_text(value)
    return str(value).replace(".", ",")


def results_json(view, computed: results.Results) -> dict:
    """The aggregate results of ``view`` as JSON data (also the API's ``result``)."""
    definition = view.definition
    return {
        "id": definition.id,
        "title": definition.title,
        "question": definition.question,
        "secret": definition.secret,
        **computed.to_dict(),
    }


def may_see_ballots(principal, view) -> bool:
    """Per-ballot rows with names: organisers of named (``geheim: nein``) polls only."""
    return view.definition.secret == "nein" and access.is_organiser(principal, view)


def named_ballots(session, view) -> list[tuple[str, dict]]:
    """``(name, answer)`` of every counted vote of a named poll, sorted by name (token
    votes have no name: ``Stimmzettel``)."""
    rows = session.execute(
        select(User.display_name, Vote.answer)
        .select_from(Vote)
        .outerjoin(User, User.id == Vote.user_id)
        .where(Vote.poll_id == view.id)
    ).all()
    found = [(name or _("Stimmzettel"), json.loads(answer)) for name, answer in rows]
    return sorted(found, key=lambda item: (item[0].casefold(), json.dumps(item[1])))


def ballot_columns(definition) -> list[str]:
    """Header of the per-ballot rows after ``Name``."""
    if definition.type in ("ja-nein", "einfach"):
        return [_("Antwort")]
    return list(definition.options.values())


def ballot_cells(definition, answer: dict) -> list:
    """One vote as cells under :func:`ballot_columns`."""
    options = definition.options
    kind = definition.type
    if kind in ("ja-nein", "einfach"):
        return [options.get(answer.get("choice"), "")]
    if kind == "mehrfach":
        chosen = set(answer.get("choices") or ())
        return ["x" if key in chosen else "" for key in options]
    if kind == "rangfolge":
        ranking = list(answer.get("ranking") or ())
        return [ranking.index(key) + 1 if key in ranking else "" for key in options]
    if kind == "termin":
        slots = answer.get("slots") or {}
        return [slots.get(key, "") for key in options]
    if kind == "punkte":
        scores = answer.get("scores") or {}
        return [scores.get(key, "") for key in options]
    return []


def aggregate_table(computed: results.Results) -> tuple[list[str], list[list]]:
    """Header and rows of the aggregate results in a spreadsheet."""
    label = computed.label
    total_row = [_("Stimmzettel gesamt"), "", computed.total]
    if computed.withheld:
        note = _(
            "Ergebnisse je Option werden bei geheimen Abstimmungen erst ab %(min)s Stimmen "
            "oder nach dem Schluss gezeigt.",
            min=results.MIN_SECRET_BALLOTS,
        )
        return [_("Option"), _("Schlüssel"), _("Stimmen")], [total_row, [note, "", ""]]
    kind = computed.type
    if kind in results.CHOICE_TYPES:
        header = [_("Option"), _("Schlüssel"), _("Stimmen"), _("Anteil (%)")]
        rows = [[label(c.key), c.key, c.count, number(c.percent)] for c in computed.choices]
        rows.append([*total_row, ""])
        if computed.yes_share is not None:
            rows.append([_("Ja-Anteil ohne Enthaltungen (%)"), "", "", number(computed.yes_share)])
        return header, rows
    if kind == "punkte":
        header = [_("Option"), _("Schlüssel"), _("Summe"), _("Durchschnitt"), _("Bewertungen")]
        rows = [[label(s.key), s.key, s.total, number(s.mean), s.count] for s in computed.scores]
        return header, [*rows, [*total_row, "", ""]]
    if kind == "termin":
        header = [_("Termin"), _("Schlüssel"), _("Ja"), _("Vielleicht"), _("Nein"), _("Beste Wahl")]
        best = set(computed.best_slots)
        rows = [
            [label(s.key), s.key, s.yes, s.maybe, s.no, _("ja") if s.key in best else ""]
            for s in computed.slots
        ]
        return header, [*rows, [_("Stimmzettel gesamt"), "", computed.total, "", "", ""]]
    if computed.schulze is not None:
        keys = list(computed.labels)
        d = computed.schulze.d
        header = [_("Rang"), _("Option"), _("Schlüssel")]
        header += [_("vorgezogen gegenüber %(option)s", option=label(y)) for y in keys]
        rows = []
        for rank, tier in enumerate(computed.schulze.tiers, 1):
            for x in tier:
                rows.append([rank, label(x), x, *("" if x == y else d[x][y] for y in keys)])
        return header, [*rows, [_("Stimmzettel gesamt"), "", computed.total]]
    if computed.irv is not None:
        rounds = computed.irv.rounds
        header = [_("Option"), _("Schlüssel")]
        header += [_("Runde %(n)s", n=n) for n in range(1, len(rounds) + 1)]
        rows = [[label(k), k, *(r.counts.get(k, "") for r in rounds)] for k in computed.labels]
        rows.append([_("Erschöpfte Stimmzettel"), "", *(r.exhausted for r in rounds)])
        rows.append([_("Scheidet aus"), "", *(r.eliminated or "" for r in rounds)])
        winner = computed.irv.winner
        rows.append([_("Gewonnen hat"), winner or "", *("" for _r in rounds)])
        return header, [*rows, [_("Stimmzettel gesamt"), "", computed.total]]
    if computed.stv is not None:
        stv = computed.stv
        header = [_("Option"), _("Schlüssel"), _("Gewählt")]
        header += [_("Runde %(n)s", n=n) for n in range(1, len(stv.rounds) + 1)]
        order = {key: n for n, key in enumerate(stv.elected, 1)}
        rows = [
            [label(k), k, order.get(k, ""), *(number(r.votes.get(k, "")) for r in stv.rounds)]
            for k in computed.labels
        ]
        rows.append([_("Erschöpfte Stimmen"), "", "", *(number(r.exhausted) for r in stv.rounds)])
        rows.append([_("Quote (Droop)"), "", stv.quota])
        return header, [*rows, [_("Stimmzettel gesamt"), "", computed.total]]
    return [_("Stimmzettel gesamt")], [[computed.total]]


def attachment(text: str, mimetype: str, poll_id: str, suffix: str) -> Response:
    response = Response(text, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="abstimmung-{poll_id}.{suffix}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def readable_results(poll_id: str, ranked: bool = False):
    """``(view, results, principal, session)`` of a poll whose results the reader may see:
    404 for unknown polls, forms, unreadable pages (and with ``ranked`` polls that are not
    ranked), 403 while results are hidden."""
    view = access.load(poll_id)
    if view.definition.kind != "poll" or (ranked and view.definition.type != "rangfolge"):
        abort(404)
    session = get_db()
    principal = current_principal()
    if not access.results_visible(principal, view, session):
        abort(403, _("Die Ergebnisse dieser Abstimmung sind noch nicht sichtbar."))
    computed = results.for_poll(session, view)
    if not computed.withheld:
        access.mark_results_shown(session, view)
    return view, computed, principal, session


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    bp = Blueprint("polls_exports", __name__, url_prefix="/-/polls")

    @bp.get("/<poll_id>/export.csv")
    def export_csv(poll_id):
        """The results as CSV (German spreadsheet conventions); organisers of named polls
        also get one row per ballot with the voter's name."""
        view, computed, principal, session = readable_results(poll_id)
        header, rows = aggregate_table(computed)
        if not computed.withheld and may_see_ballots(principal, view):
            definition = view.definition
            rows.append([])
            rows.append([_("Name"), *ballot_columns(definition)])
            for name, answer in named_ballots(session, view):
                rows.append([name, *ballot_cells(definition, answer)])
        return attachment(csv_text(header, rows), "text/csv", view.id, "csv")

    @bp.get("/<poll_id>/export.json")
    def export_json(poll_id):
        """The results as JSON (with the named ballots for organisers of named polls)."""
        view, computed, principal, session = readable_results(poll_id)
        data = results_json(view, computed)
        data["generated_at"] = datetime.now(UTC).replace(microsecond=0).isoformat()
        if not computed.withheld and may_see_ballots(principal, view):
            data["votes"] = [
                {"name": name, "answer": answer} for name, answer in named_ballots(session, view)
            ]
        text = json.dumps(data, ensure_ascii=False, indent=1)
        return attachment(text, "application/json", view.id, "json")

    @bp.get("/<poll_id>/export.blt")
    def export_blt(poll_id):
        """Ranked ballots in the ``.blt`` format for an external recount (ranked polls only;
        one line per ballot, sorted, without names)."""
        view, computed, _principal, _session = readable_results(poll_id, ranked=True)
        if computed.withheld:
            abort(
                403,
                _(
                    "Die Stimmzettel einer geheimen Abstimmung gibt es erst ab %(min)s Stimmen "
                    "oder nach dem Schluss.",
                    min=results.MIN_SECRET_BALLOTS,
                ),
            )
        definition = view.definition
        text = tally.blt(
            list(definition.options),
            definition.options,
            computed.rankings,
            computed.seats,
            definition.title,
        )
        return attachment(text, "text/plain", view.id, "blt")

    return bp

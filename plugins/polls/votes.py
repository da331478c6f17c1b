"""Casting a vote, on every path: an account, a slip or member token, a secret ballot.

Exactly one counted vote per person or token is enforced by the database, not by a check before
the insert: ``polls_votes`` is unique per (poll, user) and (poll, token), the voter roll
``polls_voters`` per (poll, voter), and a token is consumed by one conditional UPDATE in the same
transaction as the vote. Whatever races past the checks fails on a constraint and gets the German
"bereits abgestimmt" message (409); the transaction is rolled back, so a token stays unused.

Secret ballots (``geheim: ja``) write the roll entry and a detached ballot (random UUID key, the
answer, nothing else) in one transaction and cannot be changed. Named and hidden votes
(``nein``/``verborgen``) can be changed until the poll closes (account votes; a token is spent).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from plugins.polls import access, tokens
from plugins.polls.definitions import MAX_SCORE, SLOT_ANSWERS, Definition
from plugins.polls.models import SecretBallot, Vote, Voter
from wiki.api import N_, Principal, utcnow

ALREADY = N_("Du hast bereits abgestimmt.")


class VoteError(Exception):
    """A vote that is not counted: ``str()`` is the German message, ``status`` the HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def answer_from_form(definition: Definition, form) -> dict:
    """The answer of the vote form (works without JavaScript); ``VoteError`` if malformed."""
    kind = definition.type
    if kind in ("ja-nein", "einfach"):
        return validate(definition, {"choice": form.get("choice", "")})
    if kind == "mehrfach":
        return validate(definition, {"choices": form.getlist("choices")})
    if kind == "rangfolge":
        ranks = {}
        for key in definition.options:
            value = (form.get(f"rank-{key}") or "").strip()
            if value:
                if not value.isdigit() or not 1 <= int(value) <= len(definition.options):
                    raise VoteError(N_("Bitte für jede Option einen Rang aus der Liste wählen."))
                ranks[key] = int(value)
        if len(set(ranks.values())) != len(ranks):
            raise VoteError(N_("Jeder Rang darf nur einmal vergeben werden."))
        ranking = sorted(ranks, key=ranks.get)
        return validate(definition, {"ranking": ranking})
    if kind == "termin":
        slots = {key: form.get(f"slot-{key}") or "nein" for key in definition.options}
        return validate(definition, {"slots": slots})
    if kind == "punkte":
        scores = {}
        for key in definition.options:
            value = (form.get(f"score-{key}") or "0").strip()
            if not value.isdigit():
                raise VoteError(N_("Punkte sind ganze Zahlen von 0 bis 5."))
            scores[key] = int(value)
        return validate(definition, {"scores": scores})
    raise VoteError(N_("Dieses Formular nimmt keine Stimmen an."))


def validate(definition: Definition, answer) -> dict:
    """The answer in its normal form for the poll's type (also for JSON from the API);
    ``VoteError`` (400) with the problem named when it does not fit."""
    options = definition.options
    if not isinstance(answer, Mapping):
        raise VoteError(N_("Die Antwort fehlt."))
    kind = definition.type
    if kind in ("ja-nein", "einfach"):
        choice = answer.get("choice")
        if choice not in options:
            raise VoteError(N_("Bitte genau eine der Optionen wählen."))
        return {"choice": choice}
    if kind == "mehrfach":
        choices = answer.get("choices")
        if not _key_list(choices, options):
            raise VoteError(N_("Bitte nur Optionen der Abstimmung wählen, jede höchstens einmal."))
        if not definition.min <= len(choices) <= definition.max:
            raise VoteError(
                N_(
                    "Bitte mindestens %(min)s und höchstens %(max)s Optionen wählen.",
                    min=definition.min,
                    max=definition.max,
                )
            )
        return {"choices": [key for key in options if key in choices]}
    if kind == "rangfolge":
        ranking = answer.get("ranking")
        if not _key_list(ranking, options):
            raise VoteError(N_("Jede Option darf in der Rangfolge nur einmal vorkommen."))
        if not ranking:
            raise VoteError(N_("Bitte mindestens eine Option auf einen Rang setzen."))
        return {"ranking": list(ranking)}
    if kind == "termin":
        slots = answer.get("slots")
        if not isinstance(slots, Mapping) or not set(slots) <= set(options):
            raise VoteError(N_("Bitte nur Termine der Umfrage beantworten."))
        if any(value not in SLOT_ANSWERS for value in slots.values()):
            raise VoteError(N_("Für jeden Termin bitte „ja“, „vielleicht“ oder „nein“ wählen."))
        return {"slots": {key: slots.get(key, "nein") for key in options}}
    if kind == "punkte":
        scores = answer.get("scores")
        if not isinstance(scores, Mapping) or not set(scores) <= set(options):
            raise VoteError(N_("Bitte nur Optionen der Abstimmung bewerten."))
        if any(
            isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_SCORE
            for v in scores.values()
        ):
            raise VoteError(N_("Punkte sind ganze Zahlen von 0 bis 5."))
        return {"scores": {key: scores.get(key, 0) for key in options}}
    raise VoteError(N_("Dieses Formular nimmt keine Stimmen an."))


def _key_list(value, options) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(key, str) and key in options for key in value)
        and len(set(value)) == len(value)
    )


def cast(
    session, view: access.PollView, principal: Principal, answer: dict, token: str | None = None
) -> bool:
    """Count ``answer`` (already validated) for the principal's account, or for ``token`` when
    given; commit. Returns True if an earlier vote was changed. ``VoteError`` when not counted
    (closed 403, not eligible 403, unknown token 403, already voted 409)."""
    definition = view.definition
    if definition.kind != "poll":
        raise VoteError(N_("Dieses Formular nimmt keine Stimmen an."))
    if access.is_closed(view):
        raise VoteError(N_("Die Abstimmung ist beendet."), 403)
    if token is None:
        reason = access.may_vote(principal, view, session)
        if reason:
            status = 409 if access.has_voted(session, view, principal) else 403
            raise VoteError(reason, status)
    poll_id = view.id
    text = json.dumps(answer, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # End the read transaction of the checks: the next statement is a write, so SQLite takes
    # the write lock (waiting its turn) instead of failing to upgrade a stale snapshot.
    session.commit()
    try:
        if token is not None:
            changed = _cast_token(session, poll_id, definition, token, text)
        elif definition.secret == "ja":
            _secret(session, poll_id, access.voter_key(principal.user_id), text)
            changed = False
        else:
            changed = _named(session, poll_id, principal.user_id, None, text)
        access.bump_version(session, poll_id)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise VoteError(ALREADY, 409) from None
    except VoteError:
        session.rollback()
        raise
    return changed


def _cast_token(session, poll_id, definition, raw, text) -> bool:
    row = tokens.consume(session, poll_id, raw)
    if row is None:
        known = tokens.find(session, poll_id, raw)
        if known is not None and known.used:
            raise VoteError(N_("Dieser Code wurde schon benutzt."), 409)
        raise VoteError(N_("Diesen Code kennen wir für diese Abstimmung nicht."), 403)
    # A member's own token counts as that member: it cannot vote again by account.
    if definition.secret == "ja":
        voter = access.voter_key(row.user_id) if row.user_id else access.voter_key(token_id=row.id)
        _secret(session, poll_id, voter, text)
        return False
    session.add(
        Vote(
            poll_id=poll_id, user_id=row.user_id, token_id=row.id, answer=text, updated_at=utcnow()
        )
    )
    session.flush()
    return False


def _secret(session, poll_id: str, voter: str, text: str) -> None:
    """The roll entry and the detached ballot, in the caller's transaction."""
    session.add(Voter(poll_id=poll_id, voter=voter))
    session.flush()  # the roll's primary key refuses a second vote before any ballot exists
    session.add(SecretBallot(id=str(uuid.uuid4()), poll_id=poll_id, answer=text))
    session.flush()


def _named(session, poll_id: str, user_id: int, token_id, text: str) -> bool:
    """Change the account's vote, or add it; True if it was changed."""
    result = session.execute(
        update(Vote)
        .where(Vote.poll_id == poll_id, Vote.user_id == user_id)
        .values(answer=text, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        return True
    session.add(Vote(poll_id=poll_id, user_id=user_id, token_id=token_id, answer=text))
    session.flush()
    return False

"""Who may see, vote in and organise a poll, and its live state.

A poll inherits its page's permission: :func:`load` answers 404 for an unknown poll and for one
on a page the reader may not read, exactly alike. Organisers are whoever may edit the page, and
the board of its space (:data:`wiki.api.MANAGE`). Eligibility (``wer``) and result visibility
(``ergebnis``) are decided here only, for the views, the widget and the API alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort
from flask import session as cookie
from sqlalchemy import exists, select, update

from plugins.polls.definitions import Definition
from plugins.polls.models import PollDef, PollState, SecretBallot, Vote, Voter
from wiki.api import (
    EDIT,
    MANAGE,
    N_,
    READ,
    PageRef,
    Principal,
    content,
    get_db,
    readable_ref,
    state,
    utcnow,
)

#: Flask session key: polls this browser voted in with a token (for ``ergebnis: nach-abgabe``).
VOTED_KEY = "polls_voted"


@dataclass(frozen=True)
class PollView:
    """A poll as one request sees it: projection row, definition, live state, page."""

    row: PollDef
    definition: Definition
    state: PollState | None
    ref: PageRef

    @property
    def id(self) -> str:
        return self.row.id


def view_of(session, row: PollDef, ref: PageRef) -> PollView:
    """The view of a projected poll whose page ``ref`` was already checked."""
    return PollView(
        row=row,
        definition=Definition.from_json(row.definition),
        state=session.get(PollState, row.id),
        ref=ref,
    )


def load(poll_id: str) -> PollView:
    """The poll ``poll_id`` for the current reader; 404 if unknown or its page is unreadable."""
    session = get_db()
    row = session.get(PollDef, poll_id) if isinstance(poll_id, str) else None
    if row is None:
        abort(404)
    ref = readable_ref(row.path)
    return view_of(session, row, ref)


def may_read(principal: Principal, path: str, session) -> PageRef | None:
    """The page's permission view if ``principal`` may read it, else None."""
    ref = content().ref(session, path)
    if ref is None or not state().acl.can(principal, READ, ref):
        return None
    return ref


def is_organiser(principal: Principal, view: PollView) -> bool:
    """May edit the poll's page, or manages its space."""
    if not principal.logged_in:
        return False
    acl = state().acl
    return acl.can(principal, EDIT, view.ref) or acl.can(principal, MANAGE, view.ref)


def is_closed(view: PollView, now: datetime | None = None) -> bool:
    """Closed by hand, or its ``schluss`` has passed."""
    if view.state is not None and view.state.closed_at is not None:
        return True
    closes_at = view.definition.closes_at
    if closes_at is None:
        return False
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return closes_at <= now


def eligibility(principal: Principal, view: PollView) -> str | None:
    """Why ``principal`` may not vote with an account under ``wer`` (None: may)."""
    who = view.definition.who
    if who == "token":
        return N_("Für diese Abstimmung brauchst du einen Stimmzettel-Code.")
    if not principal.logged_in:
        if who == "alle":
            return N_(
                "Bitte melde dich an oder nutze einen Stimmzettel-Code: nur so zählt jede "
                "Stimme genau einmal."
            )
        return N_("Bitte melde dich zum Abstimmen an.")
    space = view.ref.space
    role = principal.memberships.get(space) if space else None
    if who == "mitglieder" and role not in ("member", "board"):
        return N_("Abstimmen dürfen nur Mitglieder dieser Gliederung.")
    if who == "vorstand" and role != "board":
        return N_("Abstimmen darf nur der Vorstand dieser Gliederung.")
    return None


def voter_key(user_id: int | None = None, token_id: int | None = None) -> str:
    """The voter roll's key of a person (``u<id>``) or a slip (``t<id>``)."""
    return f"u{int(user_id)}" if user_id is not None else f"t{int(token_id)}"


def has_voted(session, view: PollView, principal: Principal) -> bool:
    """Whether the principal's account has a counted vote in the poll."""
    if not principal.logged_in:
        return False
    if view.definition.secret == "ja" or view.definition.kind == "form":
        query = exists().where(
            Voter.poll_id == view.id, Voter.voter == voter_key(principal.user_id)
        )
    else:
        query = exists().where(Vote.poll_id == view.id, Vote.user_id == principal.user_id)
    return bool(session.scalar(select(query)))


def own_vote(session, view: PollView, principal: Principal) -> dict | None:
    """The principal's own non-secret answer (to show and change it), or None."""
    if not principal.logged_in or view.definition.secret == "ja":
        return None
    text = session.scalar(
        select(Vote.answer).where(Vote.poll_id == view.id, Vote.user_id == principal.user_id)
    )
    return json.loads(text) if text else None


def may_vote(principal: Principal, view: PollView, session) -> str | None:
    """None when the principal may vote now with their account, else a German reason."""
    if is_closed(view):
        return N_("Die Abstimmung ist beendet.")
    reason = eligibility(principal, view)
    if reason:
        return reason
    if view.definition.secret == "ja" and has_voted(session, view, principal):
        return N_("Du hast bereits abgestimmt. Eine geheime Stimme kann nicht geändert werden.")
    return None


def voted_here(poll_id: str) -> bool:
    """Whether this browser voted in the poll with a token (kept in the session cookie)."""
    return poll_id in cookie.get(VOTED_KEY, ())


def remember_vote(poll_id: str) -> None:
    """Note in the session that this browser voted in ``poll_id`` (for ``nach-abgabe``)."""
    voted = [p for p in cookie.get(VOTED_KEY, ()) if p != poll_id][-49:]
    cookie[VOTED_KEY] = [*voted, poll_id]


def results_visible(principal: Principal, view: PollView, session) -> bool:
    """``ergebnis``: ``immer``; ``nach-abgabe`` after one's own vote (organisers always);
    ``nach-schluss`` after the close, for everyone. Closed polls show results to all readers."""
    rule = view.definition.results
    if rule == "immer" or is_closed(view):
        return True
    if rule == "nach-schluss":
        return False
    if is_organiser(principal, view):
        return True
    return has_voted(session, view, principal) or voted_here(view.id)


def answers(session, poll_id: str, secret: bool) -> list[dict]:
    """Every counted answer of the poll (secret ballots in the order of their random keys)."""
    if secret:
        rows = session.scalars(
            select(SecretBallot.answer)
            .where(SecretBallot.poll_id == poll_id)
            .order_by(SecretBallot.id)
        )
    else:
        rows = session.scalars(select(Vote.answer).where(Vote.poll_id == poll_id).order_by(Vote.id))
    return [json.loads(text) for text in rows]


def ensure_state(session, poll_id: str) -> None:
    """Create the poll's state row if it is missing (the projection creates it normally)."""
    if session.get(PollState, poll_id) is None:
        with session.begin_nested():
            session.add(PollState(poll_id=poll_id, version=0, results_shown=False))


def mark_results_shown(session, view: PollView) -> None:
    """Record that results were shown (a poll can be reopened only before that). Only counts
    once there are votes (an empty result reveals nothing); writes in its own short
    transaction, and only the first time."""
    if view.state is None or view.state.results_shown or not view.state.version:
        return
    with state().sessions() as own:
        own.execute(
            update(PollState)
            .where(
                PollState.poll_id == view.id,
                PollState.results_shown.is_(False),
                PollState.version > 0,
            )
            .values(results_shown=True)
        )
        own.commit()


def bump_version(session, poll_id: str) -> None:
    """Count a change of the poll's votes (the key of cached tallies); the first one also
    freezes the definition's locked fields (type, option keys, who, secrecy, result rule)."""
    result = session.execute(
        update(PollState)
        .where(PollState.poll_id == poll_id)
        .values(version=PollState.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        session.add(PollState(poll_id=poll_id, version=1, results_shown=False))
        session.flush()
    if session.scalar(select(PollState.frozen).where(PollState.poll_id == poll_id)) is None:
        row = session.get(PollDef, poll_id)
        if row is not None:
            frozen = Definition.from_json(row.definition).frozen_fields()
            session.execute(
                update(PollState)
                .where(PollState.poll_id == poll_id, PollState.frozen.is_(None))
                .values(frozen=json.dumps(frozen, ensure_ascii=False))
                .execution_options(synchronize_session=False)
            )


def close(session, view: PollView) -> None:
    """Close the poll now (the caller commits)."""
    ensure_state(session, view.id)
    session.execute(
        update(PollState)
        .where(PollState.poll_id == view.id, PollState.closed_at.is_(None))
        .values(closed_at=utcnow())
    )


def reopen_problem(view: PollView) -> str | None:
    """Why the poll cannot be reopened (None: it can)."""
    if view.state is None or view.state.closed_at is None:
        if is_closed(view):
            return N_("Der Abstimmungsschluss ist erreicht; ändere „schluss“ auf der Seite.")
        return N_("Die Abstimmung ist nicht geschlossen.")
    if view.state.results_shown:
        return N_("Die Ergebnisse wurden schon gezeigt; die Abstimmung bleibt geschlossen.")
    return None


def reopen(session, view: PollView) -> bool:
    """Reopen if the results were never shown (checked again in the UPDATE); True if done."""
    result = session.execute(
        update(PollState)
        .where(PollState.poll_id == view.id, PollState.results_shown.is_(False))
        .values(closed_at=None)
    )
    return result.rowcount == 1

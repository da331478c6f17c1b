"""Single-use voting tokens: printed slips and per-member codes.

A token is 20 characters of Crockford's base32 (no I, L, O, U: nothing to confuse when typed from
paper), 100 random bits, shown in groups of four. Only an HMAC of it is stored, keyed with the
app's ``SECRET_KEY`` and the poll id (a token of one poll is worthless for another). A token is
consumed by one conditional ``UPDATE … WHERE used = false``: of any number of concurrent
attempts exactly one changes the row. Per-member tokens are derived from the poll id and the
user id with the same key, so the member's dashboard can show the code again without storing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import func, select, update

from plugins.polls.models import PollToken
from wiki.api import state

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20  # 100 bits
GROUP = 4
#: What people type for the characters the alphabet leaves out.
LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_token() -> str:
    """A fresh random token, grouped for reading (``ABCD-EFGH-…``)."""
    return _grouped("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


def _grouped(text: str) -> str:
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))


def normalise(raw: str | None) -> str | None:
    """The token's characters as typed (spaces, dashes, case and look-alikes forgiven), or
    None if it cannot be a token."""
    text = "".join(ch for ch in (raw or "").upper() if ch not in " -\t\r\n")
    text = text.translate(LOOK_ALIKES)
    if len(text) != LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def _key() -> bytes:
    return str(state().config["SECRET_KEY"]).encode()


def digest(poll_id: str, raw: str) -> str | None:
    """The stored HMAC of a token of ``poll_id`` (None for text that is no token)."""
    text = normalise(raw)
    if text is None:
        return None
    message = f"polls-token\0{poll_id}\0{text}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def member_token(poll_id: str, user_id: int) -> str:
    """The token of member ``user_id`` for ``poll_id`` (derived, so it can be shown again)."""
    message = f"polls-member\0{poll_id}\0{int(user_id)}".encode()
    number = int.from_bytes(hmac.new(_key(), message, hashlib.sha256).digest(), "big")
    chars = []
    for _ in range(LENGTH):
        number, rest = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[rest])
    return _grouped("".join(chars))


def issue(session, poll_id: str, n: int, user_id: int | None = None) -> list[str]:
    """Issue ``n`` slips (or, with ``user_id``, the member's one token) and return the raw
    tokens; only their HMACs are stored. Issuing a member's token twice keeps one row."""
    if user_id is not None:
        raw = member_token(poll_id, user_id)
        hashed = digest(poll_id, raw)
        if session.scalar(select(PollToken.id).where(PollToken.hash == hashed)) is None:
            session.add(PollToken(poll_id=poll_id, hash=hashed, user_id=user_id))
            session.flush()
        return [raw]
    tokens = [new_token() for _ in range(n)]
    session.add_all(PollToken(poll_id=poll_id, hash=digest(poll_id, raw)) for raw in tokens)
    session.flush()
    return tokens


def find(session, poll_id: str, raw: str) -> PollToken | None:
    """The token row of ``raw`` for ``poll_id`` (used or not), or None."""
    hashed = digest(poll_id, raw)
    if hashed is None:
        return None
    return session.scalar(
        select(PollToken).where(PollToken.hash == hashed, PollToken.poll_id == poll_id)
    )


def consume(session, poll_id: str, raw: str) -> PollToken | None:
    """Mark the token used with one conditional UPDATE; the row, or None if it is unknown or
    was used already. Runs in the caller's transaction (roll back and it is unused again)."""
    hashed = digest(poll_id, raw)
    if hashed is None:
        return None
    result = session.execute(
        update(PollToken)
        .where(
            PollToken.hash == hashed,
            PollToken.poll_id == poll_id,
            PollToken.used.is_(False),
        )
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return session.scalar(select(PollToken).where(PollToken.hash == hashed))


def counts(session, poll_id: str) -> tuple[int, int]:
    """(issued, used) tokens of a poll."""
    issued, used = session.execute(
        select(func.count(), func.count().filter(PollToken.used.is_(True))).where(
            PollToken.poll_id == poll_id
        )
    ).one()
    return int(issued), int(used or 0)

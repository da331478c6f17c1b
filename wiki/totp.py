"""Two-factor login: TOTP codes (RFC 6238), recovery codes, the pending login and the QR code.

The secret lives in ``users.totp_secret``; the second factor is required once the setup was
confirmed with a code (``users.totp_enabled_at``). A code is accepted at most once: the 30-second
step it belongs to is remembered in ``users.totp_last_step`` and codes of that step or earlier
are refused afterwards. Recovery codes are single-use ``tokens`` rows of kind ``recovery``
(only their hashes are stored).

Between the password and the code the session holds only a pending login
(:data:`PENDING_KEY`): the account's session id, an expiry, the "remember me" choice and where
to go afterwards. Nobody is logged in until the code is right.
"""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
from sqlalchemy import delete, func, or_, select, update

from wiki.auth import token_hash
from wiki.db import Token, User, utcnow

#: Session key of the pending login and how long it stays valid.
PENDING_KEY = "wiki_2fa_pending"
PENDING_SECONDS = 300
#: Session flag: True if the current login used a second factor.
SESSION_FLAG = "wiki_2fa"

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_COUNT = 8
RECOVERY_KIND = "recovery"
#: Letters and digits that cannot be mistaken for each other (no 0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10

# Results of :func:`check_second_factor`.
TOTP_OK = "totp"
RECOVERY_OK = "recovery"
INVALID = "invalid"
REPLAYED = "replayed"
MISSING = "missing"


def now() -> float:
    """The current Unix time (one place, so tests can move the clock)."""
    return time.time()


def new_secret() -> str:
    """A fresh random base32 secret (160 bits)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four characters, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- codes ----------------------------------------------------------------------------------


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The 30-second step ``code`` belongs to (current, previous or next one), or None."""
    if len(code) != DIGITS or not code.isdigit() or not secret:
        return None
    when = now() if at is None else at
    totp = pyotp.TOTP(secret)
    if not totp.verify(code, for_time=when, valid_window=1):
        return None
    for offset in (0, -1, 1):
        moment = when + offset * STEP_SECONDS
        if hmac.compare_digest(totp.at(moment), code):
            return int(moment) // STEP_SECONDS
    return None


def accept_code(session, user: User, code: str) -> str:
    """Check a TOTP code for ``user`` and use it up: TOTP_OK, INVALID or REPLAYED.

    The step is recorded with an atomic update (the caller commits), so the same code, or an
    older one, is refused even when two requests race.
    """
    step = matching_step(user.totp_secret or "", code)
    if step is None:
        return INVALID
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["totp_last_step"])
    return TOTP_OK if result.rowcount == 1 else REPLAYED


def normalise_recovery(raw: str) -> str:
    """Recovery codes ignore case, spaces and hyphens."""
    return "".join(ch for ch in raw.lower() if ch not in " \t-")


def new_recovery_codes(session, user: User) -> list[str]:
    """Replace ``user``'s recovery codes with fresh ones and return them (shown only once)."""
    session.execute(delete(Token).where(Token.user_id == user.id, Token.kind == RECOVERY_KIND))
    codes = []
    for _i in range(RECOVERY_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        session.add(Token(user_id=user.id, kind=RECOVERY_KIND, token_hash=token_hash(raw)))
        half = RECOVERY_LENGTH // 2
        codes.append(f"{raw[:half]}-{raw[half:]}")
    return codes


def use_recovery_code(session, user: User, raw: str) -> bool:
    """Use up one of ``user``'s recovery codes (atomic; the caller commits)."""
    code = normalise_recovery(raw)
    if len(code) != RECOVERY_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in code):
        return False
    result = session.execute(
        update(Token)
        .where(
            Token.token_hash == token_hash(code),
            Token.user_id == user.id,
            Token.kind == RECOVERY_KIND,
            Token.used_at.is_(None),
            Token.revoked_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def recovery_codes_left(session, user: User) -> int:
    """How many unused recovery codes ``user`` has."""
    return session.scalar(
        select(func.count()).where(
            Token.user_id == user.id,
            Token.kind == RECOVERY_KIND,
            Token.used_at.is_(None),
            Token.revoked_at.is_(None),
        )
    )


def check_second_factor(session, user: User, raw: str, allow_recovery: bool = True) -> str:
    """Check what the user typed: a TOTP code or (if allowed) a recovery code.

    Returns TOTP_OK, RECOVERY_OK, INVALID, REPLAYED or MISSING. A used code is recorded in the
    session's transaction; the caller commits.
    """
    code = "".join(raw.split())[:64]
    if not code:
        return MISSING
    if code.isdigit() and len(code) <= DIGITS:
        return accept_code(session, user, code)
    if allow_recovery and use_recovery_code(session, user, code):
        return RECOVERY_OK
    return INVALID


def enable(session, user: User) -> list[str]:
    """Switch the second factor on (after a confirmed code) and return new recovery codes."""
    user.totp_enabled_at = utcnow()
    return new_recovery_codes(session, user)


def disable(session, user: User) -> None:
    """Switch the second factor off and forget the secret and the recovery codes."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(Token).where(Token.user_id == user.id, Token.kind == RECOVERY_KIND))


# --- the pending login ----------------------------------------------------------------------


def start_pending(flask_session, user: User, remember: bool, next_url: str) -> None:
    """Remember that ``user`` gave the right password and still owes the code."""
    flask_session[PENDING_KEY] = {
        "id": user.get_id(),
        "until": int(now()) + PENDING_SECONDS,
        "remember": bool(remember),
        "next": next_url,
    }


def pending_login(flask_session) -> dict | None:
    """The pending login if it exists and has not expired."""
    pending = flask_session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        if float(pending.get("until", 0)) < now():
            return None
    except (TypeError, ValueError):
        return None
    return pending


def pending_user(session, pending: dict) -> User | None:
    """The account of a pending login, if it still exists, is active and still needs a code.

    The session id includes a fingerprint of the password hash: a password change in between
    ends the pending login too.
    """
    session_id = str(pending.get("id", ""))
    public_id = session_id.partition(":")[0]
    user = session.scalar(select(User).where(User.public_id == public_id))
    if user is None or not user.is_active or not user.has_totp:
        return None
    if not hmac.compare_digest(user.get_id(), session_id):
        return None
    return user

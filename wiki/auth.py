"""Accounts: flask-login wiring, password hashing, tokens and login rate limiting."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import LoginManager, current_user
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from wiki.acl import ANONYMOUS, Principal
from wiki.db import LoginAttempt, Token, User, get_db, utcnow

HANDLE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_."
TOKEN_KINDS = ("api", "feed", "reset", "verify", "recovery")
#: Handles of deleted accounts are ``deleted-<public id>``; nobody else may take such a name.
DELETED_HANDLE_PREFIX = "deleted-"


def init_app(app) -> None:
    """Wire flask-login into ``app``."""
    manager = LoginManager()
    manager.login_view = "account.login"
    manager.login_message = None
    manager.session_protection = "basic"
    manager.user_loader(load_user)
    manager.request_loader(load_user_from_bearer)
    manager.init_app(app)


def load_user(session_id: str) -> User | None:
    """Session id ``<public id>:<password fingerprint>`` → active user or None."""
    public_id, _, fingerprint = session_id.partition(":")
    user = get_db().scalar(select(User).where(User.public_id == public_id))
    if user is None or not user.is_active or user.get_id() != session_id:
        return None
    return user


def load_user_from_bearer(req) -> User | None:
    """``Authorization: Bearer <token>`` for the JSON API."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not req.path.startswith("/-/api/"):
        return None
    token = find_token(get_db(), header[7:].strip(), "api")
    if token is None:
        return None
    user = get_db().get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    token.last_used_at = utcnow()
    get_db().commit()
    g.wiki_bearer = True
    return user


def hash_password(password: str) -> str:
    """A werkzeug hash with the configured method."""
    return generate_password_hash(password, method=current_app.config["WIKI_PASSWORD_METHOD"])


def check_password(user: User, password: str) -> bool:
    """True if ``password`` matches ``user``'s hash."""
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def password_problems(password: str) -> list[str]:
    """Reasons a new password is not acceptable."""
    minimum = int(current_app.config["WIKI_PASSWORD_MIN_LENGTH"])
    if len(password) < minimum:
        return [_("Das Passwort muss mindestens %(n)s Zeichen lang sein.", n=minimum)]
    return []


def normalise_handle(handle: str) -> str:
    """Handles are case-insensitive."""
    return handle.strip().lower()


def handle_problems(handle: str) -> list[str]:
    """Reasons a user name is not acceptable."""
    if not 2 <= len(handle) <= 64 or any(c not in HANDLE_CHARS for c in handle):
        return ["Der Benutzername darf nur a–z, 0–9, „-“, „_“ und „.“ enthalten (2–64 Zeichen)."]
    if handle.startswith(DELETED_HANDLE_PREFIX):
        return [f"Benutzernamen, die mit „{DELETED_HANDLE_PREFIX}“ beginnen, sind reserviert."]
    return []


def token_hash(raw: str) -> str:
    """Tokens are stored only as SHA-256 hashes."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(session, user: User, kind: str, name: str = "", hours: float | None = None) -> str:
    """Create a token of ``kind`` for ``user`` and return the raw secret (shown once)."""
    if kind not in TOKEN_KINDS:
        raise ValueError(kind)
    raw = secrets.token_urlsafe(32)
    session.add(
        Token(
            user_id=user.id,
            kind=kind,
            name=name[:128],
            token_hash=token_hash(raw),
            expires_at=utcnow() + timedelta(hours=hours) if hours else None,
        )
    )
    return raw


def find_token(session, raw: str, kind: str) -> Token | None:
    """The valid (unexpired, unused, unrevoked) token of ``kind`` with secret ``raw``."""
    if not raw or len(raw) > 200:
        return None
    token = session.scalar(select(Token).where(Token.token_hash == token_hash(raw)))
    if token is None or not hmac.compare_digest(token.kind, kind):
        return None
    now = utcnow()
    if token.revoked_at or token.used_at or (token.expires_at and token.expires_at < now):
        return None
    return token


def consume_token(session, raw: str, kind: str) -> Token | None:
    """Use a single-use token exactly once (atomic against concurrent use)."""
    from sqlalchemy import update

    token = find_token(session, raw, kind)
    if token is None:
        return None
    result = session.execute(
        update(Token)
        .where(Token.id == token.id, Token.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    session.refresh(token)
    return token


class AmbiguousEmail(LookupError):
    """More than one active account has the same verified address (data from before addresses
    were unique); a lookup by address must then not pick one."""


def email_taken(session, address: str, user_id: int | None = None) -> bool:
    """True if an active account other than ``user_id`` uses ``address`` (case-insensitive)."""
    query = select(User.id).where(
        func.lower(User.email) == address.strip().lower(), User.deleted_at.is_(None)
    )
    if user_id is not None:
        query = query.where(User.id != user_id)
    return session.scalar(query.limit(1)) is not None


def user_by_email(session, address: str) -> User | None:
    """The active account whose *verified* address is ``address``; ``AmbiguousEmail`` if several.

    Unverified and pending addresses never match: only a verified address shows that the
    account's owner receives mail there.
    """
    users = session.scalars(
        select(User)
        .where(
            func.lower(User.email) == address.strip().lower(),
            User.email_verified_at.is_not(None),
            User.deleted_at.is_(None),
        )
        .limit(2)
    ).all()
    if len(users) > 1:
        raise AmbiguousEmail(address)
    return users[0] if users else None


def revoke_tokens(session, user: User, kind: str) -> None:
    """Revoke ``user``'s outstanding (unused, unrevoked) tokens of ``kind``."""
    session.execute(
        update(Token)
        .where(
            Token.user_id == user.id,
            Token.kind == kind,
            Token.used_at.is_(None),
            Token.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def end_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie of ``user`` (the caller commits; call
    ``login_user`` again afterwards to keep the current session)."""
    user.session_generation = (user.session_generation or 0) + 1


def login_keys(handle: str) -> list[str]:
    """Rate limiting counts failures per account and per client address."""
    return [f"user:{normalise_handle(handle)}", f"addr:{request.remote_addr or '-'}"]


def account_keys(user: User) -> list[str]:
    """Every rate-limit key that names ``user`` (logins by handle or e-mail, reset requests)."""
    email = (user.email or "").strip().lower()
    return [f"user:{user.handle}", f"user:{email}", f"reset:{email}"]


def too_many_failures(session, keys: list[str]) -> bool:
    """True if any key exceeded the allowed failures within the window."""
    window = utcnow() - timedelta(minutes=int(current_app.config["WIKI_LOGIN_WINDOW_MINUTES"]))
    limit = int(current_app.config["WIKI_LOGIN_MAX_FAILURES"])
    for key in keys:
        count = session.scalar(
            select(func.count()).where(LoginAttempt.key == key, LoginAttempt.at >= window)
        )
        if count >= limit:
            return True
    return False


def record_failure(session, keys: list[str]) -> None:
    """Note one failed login for each key (and forget old ones)."""
    window = utcnow() - timedelta(minutes=int(current_app.config["WIKI_LOGIN_WINDOW_MINUTES"]))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < window))
    for key in keys:
        session.add(LoginAttempt(key=key))
    session.commit()


def clear_failures(session, keys: list[str]) -> None:
    """A successful login forgives the account's failures."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[0]))
    session.commit()


def principal_for(user) -> Principal:
    """The permission principal of ``user`` (anonymous if not logged in)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    memberships: dict[str, str] = {}
    state = current_app.extensions["wiki"]
    for part in state.pm.hook.wiki_memberships(user_id=user.id, session=get_db()):
        for space, role in (part or {}).items():
            if memberships.get(space) != "board":
                memberships[space] = role
    return Principal(
        user_id=user.id,
        public_id=user.public_id,
        is_admin=bool(user.is_admin),
        memberships=memberships,
    )


def current_principal() -> Principal:
    """The principal of the current request (computed once)."""
    if "wiki_principal" not in g:
        g.wiki_principal = principal_for(current_user)
    return g.wiki_principal

"""SQLAlchemy 2 engine and session per app, the declarative ``Base`` and the core tables.

Member data (accounts, tokens, mail) lives only here, never in git. The ``pages``, ``links``,
``redirects``, ``documents`` and ``changes`` tables are projections of git kept by ``wiki.sync``.
Dates are naive UTC throughout.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import current_app, g
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

#: Compiled statements kept per engine. Listings with filters (the resolutions archive) build
#: many statement shapes; SQLAlchemy's default of 500 made them recompile again and again.
QUERY_CACHE_SIZE = 5000


def utcnow() -> datetime:
    """The current time as naive UTC (what every table stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_public_id() -> str:
    """A random, never reused public id for an account (used as the git author pseudonym)."""
    return secrets.token_hex(8)


class Base(DeclarativeBase):
    """Declarative base for core and plugin tables."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(254), index=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Two-factor login: the TOTP secret (set when setup starts), the time the setup was confirmed
    # with a code (only then is the second factor required) and the last 30-second step a code
    # was accepted for (a code is never accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # A new address waits here until its verification link is used; ``email`` (the address in
    # force) changes only then.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    # Part of the session id: raising it (logout, e-mail change, password reset) ends every
    # session and remember-me cookie issued before.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def has_totp(self) -> bool:
        """True if logging in needs a second factor."""
        return bool(self.totp_secret) and self.totp_enabled_at is not None

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The session stores the public id plus a fingerprint of the password hash and of the
        # second factor, so that changing either ends every other session (and remember-me),
        # and the session generation (generation 0 adds nothing: ids issued before it existed
        # stay valid until the first logout).
        second = ":2" if self.has_totp else ""
        generation = f":g{self.session_generation}" if self.session_generation else ""
        return f"{self.public_id}:{self.password_hash[-12:]}{second}{generation}"


class Token(Base):
    """Secrets handed to users (API, feed, password reset, e-mail verification, recovery codes
    for the second factor); only hashes."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginAttempt(Base):
    """Failed logins per key (account or address), for rate limiting."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PageRow(Base):
    """Projection of one page at the synced commit."""

    __tablename__ = "pages"

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    type: Mapped[str] = mapped_column(String(64), default="page", index=True)
    space: Mapped[str | None] = mapped_column(String(255), index=True)
    visibility: Mapped[str | None] = mapped_column(String(16))
    effective_visibility: Mapped[str] = mapped_column(String(16), index=True)
    tags: Mapped[str] = mapped_column(Text, default="")
    blob: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    author: Mapped[str] = mapped_column(String(64), default="")
    problems: Mapped[str] = mapped_column(Text, default="")


class Link(Base):
    """A wikilink from page ``src`` to page ``dst`` (which may not exist)."""

    __tablename__ = "links"

    src: Mapped[str] = mapped_column(String(255), primary_key=True)
    dst: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class Redirect(Base):
    """An old page path that was renamed; kept so old links and printed QR codes work."""

    __tablename__ = "redirects"

    old_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    new_path: Mapped[str] = mapped_column(String(255))
    commit: Mapped[str] = mapped_column(String(40))


class Document(Base):
    """Projection of one page document (``<path>/_files/<name>``)."""

    __tablename__ = "documents"

    page: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    blob: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(64), default="")


class Change(Base):
    """One page touched by one commit, for recent changes and feeds."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commit: Mapped[str] = mapped_column(String(40), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(1))
    old_path: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512), default="")
    space: Mapped[str | None] = mapped_column(String(255))
    visibility: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime)


class SyncState(Base):
    """The last commit each projection reflects."""

    __tablename__ = "sync_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    commit: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MailMessage(Base):
    """One outgoing message in the queue."""

    __tablename__ = "mail_queue"
    __table_args__ = (Index("ix_mail_queue_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(998))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)  # optional HTML alternative of ``body``
    headers: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


def make_engine(url: str):
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            query_cache_size=QUERY_CACHE_SIZE,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, query_cache_size=QUERY_CACHE_SIZE)


def make_sessionmaker(engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_db() -> Session:
    """The request's database session (opened on first use, closed at teardown)."""
    if "wiki_db" not in g:
        g.wiki_db = current_app.extensions["wiki"].sessions()
    return g.wiki_db


def close_db(_exc=None) -> None:
    """Teardown: close the request's session, rolling back anything uncommitted."""
    session = g.pop("wiki_db", None)
    if session is not None:
        session.close()

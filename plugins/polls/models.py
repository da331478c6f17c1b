"""Tables of the polls plugin (``polls_*``).

``polls_polls`` is a projection of the ``poll`` and ``form`` blocks in pages (rebuilt from git by
``verbandswiki reindex``). Everything else is member data that exists only here, never in git, and
survives a reindex: it is keyed by the block's stable ``id``, so renames and moves keep it.

Secret ballots (``geheim: ja``) are detached: ``polls_secret_ballots`` has no user, no token, no
time and no sequential key (a random UUID, and on SQLite a table WITHOUT ROWID, so even the
physical order is that of the random keys, not of the votes). Who has voted is recorded in
``polls_voters`` only. One counted vote per person or token is enforced by unique constraints.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wiki.api import Base, utcnow


class PollDef(Base):
    """One ``poll`` or ``form`` block as committed (projection). ``definition`` is the normalised
    definition as JSON; ``space`` and ``visibility`` copy the page's core row for listings."""

    __tablename__ = "polls_polls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # poll | form
    path: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    type: Mapped[str] = mapped_column(String(16))  # ja-nein, einfach, …, form
    definition: Mapped[str] = mapped_column(Text)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC, naive
    space: Mapped[str | None] = mapped_column(String(255), index=True)
    visibility: Mapped[str] = mapped_column(String(16))
    commit: Mapped[str] = mapped_column(String(40))


class PollState(Base):
    """What happened to a poll that git does not know: closed early, results shown, the
    definition frozen by the first vote, and a counter bumped on every counted change (the key
    of cached tallies)."""

    __tablename__ = "polls_state"

    poll_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    results_shown: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen: Mapped[str | None] = mapped_column(Text)  # JSON of the fields locked by the 1st vote
    version: Mapped[int] = mapped_column(Integer, default=0)


class PollToken(Base):
    """A single-use voting token (printed slip or per member). Only an HMAC of the token is
    stored; it is consumed with one conditional UPDATE (``used`` from False to True)."""

    __tablename__ = "polls_tokens"
    __table_args__ = (Index("ix_polls_tokens_poll", "poll_id", "used"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Vote(Base):
    """A counted, non-secret ballot (``geheim: nein`` or ``verborgen``): one per user or token,
    changeable until the poll closes. ``answer`` is JSON (choices, ranking, scores, slots)."""

    __tablename__ = "polls_votes"
    __table_args__ = (
        UniqueConstraint("poll_id", "user_id", name="uq_polls_votes_user"),
        UniqueConstraint("poll_id", "token_id", name="uq_polls_votes_token"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("polls_tokens.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SecretBallot(Base):
    """A detached secret ballot: the answer and a random key, nothing else."""

    __tablename__ = "polls_secret_ballots"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4, random
    poll_id: Mapped[str] = mapped_column(String(64), index=True)
    answer: Mapped[str] = mapped_column(Text)


class Voter(Base):
    """The voter roll of secret ballots and anonymous forms: only that someone has voted. No
    time, no sequential key (the key is the poll and the voter; a token stands in for a voter)."""

    __tablename__ = "polls_voters"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    voter: Mapped[str] = mapped_column(String(40), primary_key=True)  # "u<user id>" | "t<token id>"


class Submission(Base):
    """One answer to a ``form``. ``user_id`` only when the form is not anonymous; one per person
    or token unless the form allows several (``mehrfach_antworten``), checked through
    ``polls_voters`` (anonymous) or the unique ``once_key``."""

    __tablename__ = "polls_submissions"
    __table_args__ = (
        UniqueConstraint("poll_id", "once_key", name="uq_polls_submissions_once"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4
    poll_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    once_key: Mapped[str | None] = mapped_column(String(40))  # "u<id>"/"t<id>" if one only, named
    answers: Mapped[str] = mapped_column(Text)  # JSON {question key: value}
    created_at: Mapped[datetime | None] = mapped_column(DateTime)  # None for anonymous forms

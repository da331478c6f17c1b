"""Tables of the spaces plugin (``spaces_*``). Memberships and contact data live only here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wiki.api import Base, utcnow


class Space(Base):
    """Projection of a space definition page (``<path>.md`` with ``type: space``)."""

    __tablename__ = "spaces_spaces"

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(16), default="")
    kind: Mapped[str] = mapped_column(String(32))
    default_visibility: Mapped[str] = mapped_column(String(16))
    edit: Mapped[str] = mapped_column(String(16), default="members")
    contact: Mapped[str] = mapped_column(String(254), default="")
    parent: Mapped[str | None] = mapped_column(String(255), index=True)
    #: ``ok``; ``stale``: the definition at HEAD does not validate, the last valid one still
    #: applies; ``closed``: it never validated, so only admins may use the space (fail closed).
    state: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")


class Membership(Base):
    """A user's role in a space: ``member`` or ``board`` (a board role may end)."""

    __tablename__ = "spaces_memberships"
    __table_args__ = (UniqueConstraint("user_id", "space", name="uq_spaces_membership"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    space: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    term_ends: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Profile(Base):
    """A member's contact data and choices (never in git)."""

    __tablename__ = "spaces_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str] = mapped_column(String(64), default="")
    show_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    mail_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), default="", index=True)


class AuditEntry(Base):
    """Who looked at or exported which member directory, and when."""

    __tablename__ = "spaces_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))
    space: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class Announcement(Base):
    """A board's message to the members (or the board) of a space."""

    __tablename__ = "spaces_announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space: Mapped[str] = mapped_column(String(255), index=True)
    audience: Mapped[str] = mapped_column(String(16), default="members")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Delivery(Base):
    """One recipient of an announcement: inbox entry and mail status."""

    __tablename__ = "spaces_deliveries"
    __table_args__ = (UniqueConstraint("announcement_id", "user_id", name="uq_spaces_delivery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("spaces_announcements.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mail_id: Mapped[int | None] = mapped_column(Integer)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class Invitation(Base):
    """A personal invitation (single use) or a join link (multi-use); only token hashes."""

    __tablename__ = "spaces_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # personal | link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class JoinRequest(Base):
    """A request to join a space, filed through a join link; the board decides."""

    __tablename__ = "spaces_join_requests"
    __table_args__ = (UniqueConstraint("user_id", "space", name="uq_spaces_join_request"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    space: Mapped[str] = mapped_column(String(255), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces_invitations.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

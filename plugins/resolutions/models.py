"""Tables of the resolutions plugin (``resolutions_*``): a projection of the resolution pages.

Nothing here is the truth: every row is derived from git by the sync hooks and rebuilt by
``verbandswiki reindex``. Duplicate ids can arrive by ``git push``, so ``rid_key`` is indexed but
not unique (the validator refuses duplicates on save; ``/-/problems`` lists pushed ones).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wiki.api import Base


class ResolutionRow(Base):
    """One resolution page. ``space`` and ``visibility`` copy the core ``pages`` row (the
    chapter and the effective visibility), so the archive counts without a join."""

    __tablename__ = "resolutions_resolutions"
    __table_args__ = (
        Index("ix_resolutions_sort", "decided", "rid_key"),
        Index("ix_resolutions_source", "source_system", "source_id"),
    )

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    rid: Mapped[str] = mapped_column(String(64))
    rid_key: Mapped[str] = mapped_column(String(64), index=True)
    space: Mapped[str | None] = mapped_column(String(255), index=True)
    visibility: Mapped[str] = mapped_column(String(16), index=True)
    number: Mapped[str] = mapped_column(String(32), default="", index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(String(200), default="", index=True)
    event: Mapped[str] = mapped_column(String(200), default="", index=True)
    agenda_item: Mapped[str] = mapped_column(String(200), default="")
    submitted: Mapped[datetime | None] = mapped_column(DateTime)
    decided: Mapped[date | None] = mapped_column(Date)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    outcome_detail: Mapped[str] = mapped_column(Text, default="")
    referred_to: Mapped[str] = mapped_column(String(200), default="")
    votes_yes: Mapped[int | None] = mapped_column(Integer)
    votes_no: Mapped[int | None] = mapped_column(Integer)
    votes_abstain: Mapped[int | None] = mapped_column(Integer)
    votes_invalid: Mapped[int | None] = mapped_column(Integer)
    unanimous: Mapped[bool] = mapped_column(Boolean, default=False)
    validity: Mapped[str | None] = mapped_column(String(32), index=True)
    valid_until: Mapped[date | None] = mapped_column(Date)
    source_system: Mapped[str] = mapped_column(String(64), default="")
    source_url: Mapped[str] = mapped_column(Text, default="")
    source_id: Mapped[str] = mapped_column(String(200), default="")
    blob: Mapped[str] = mapped_column(String(40))


class ResolutionLink(Base):
    """A typed link ``src`` → ``dst`` (ids; the target need not exist)."""

    __tablename__ = "resolutions_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    src_key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dst: Mapped[str] = mapped_column(String(64))
    dst_key: Mapped[str] = mapped_column(String(64), index=True)


class ResolutionTopic(Base):
    """A topic of a resolution (multi-valued facet)."""

    __tablename__ = "resolutions_topics"

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order as written


class ResolutionInitiator(Base):
    """An initiator of a resolution (multi-valued facet)."""

    __tablename__ = "resolutions_initiators"

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order as written

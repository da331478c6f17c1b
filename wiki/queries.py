"""Translate the read allow-set (:class:`wiki.acl.ReadFilter`) into SQL."""

from __future__ import annotations

from sqlalchemy import and_, false, or_, true

from wiki.acl import ReadFilter


def read_clause(read_filter: ReadFilter, visibility_col, space_col):
    """A SQL condition true exactly for the rows ``read_filter`` allows."""
    if read_filter.everything:
        return true()
    parts = []
    if read_filter.visibilities:
        parts.append(visibility_col.in_(sorted(read_filter.visibilities)))
    for visibility, spaces in sorted(read_filter.spaces.items()):
        if spaces:
            parts.append(and_(visibility_col == visibility, space_col.in_(sorted(spaces))))
    return or_(*parts) if parts else false()


#: Largest value of a SQL ``INTEGER`` (SQLite and PostgreSQL ``BIGINT``).
MAX_ROW_ID = 2**63 - 1


def row_id(value: str | None) -> int | None:
    """A row id from form or query text: ASCII digits that fit a SQL integer, else None (never
    an exception: ``int("²")`` fails, and huge numbers overflow the database driver)."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None

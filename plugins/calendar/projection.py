"""``termin`` blocks → ``calendar_events`` (sync, reindex, check) and SEQUENCE bookkeeping.

An event row carries its page's space and effective visibility (from the core's ``pages``
row, projected just before the plugins are called). ``calendar_state`` keeps each event's
SEQUENCE: it grows by one whenever the digest of the normalised definition changes, and it is
never dropped by a reindex (feed readers must see every later edit as newer).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from plugins.calendar.definitions import EventDef, parse
from plugins.calendar.models import EventRow, EventState
from wiki.api import PageRow, utcnow

KIND = "termin"
#: Columns compared by ``check`` (``commit`` only says when the row was written).
COMPARED = (
    "path", "space", "visibility", "title", "start", "end", "all_day", "tz", "first_utc",
    "last_utc", "rrule", "exdates", "location", "online", "description", "rsvp", "rsvp_max",
    "definition", "digest",
)  # fmt: skip


def blocks(state, page) -> list:
    """The ``termin`` widget blocks of a page (kind, data, error), in order."""
    if page is None or f"```{KIND}" not in page.body:
        return []
    return [w for w in state.syncer.render(page).widgets if w.kind == KIND]


def events_of(state, page) -> list[EventDef]:
    """The valid events of a page, first definition of an id wins."""
    out, seen = [], set()
    for widget in blocks(state, page):
        if widget.error:
            continue
        event, problems = parse(widget.data)
        if event is not None and event.id not in seen:
            seen.add(event.id)
            out.append(event)
    return out


def row_values(event: EventDef, page_row: PageRow) -> dict:
    """Every column of the event's row (but ``commit``)."""
    return event.to_row_values() | {
        "path": page_row.path,
        "space": page_row.space,
        "visibility": page_row.effective_visibility,
    }


def bump(session, event: EventDef) -> EventState:
    """Create the event's state, or count one more SEQUENCE if its definition changed."""
    digest = event.digest()
    row = session.get(EventState, event.id)
    now = utcnow().replace(microsecond=0)
    if row is None:
        row = EventState(
            event_id=event.id, sequence=0, digest=digest, created_at=now, modified_at=now
        )
        session.add(row)
    elif row.digest != digest:
        row.sequence += 1
        row.digest = digest
        row.modified_at = now
    return row


def page_changed(state, session, page, old_path, commit) -> None:
    """Replace the page's events (and those of its old path after a move)."""
    for path in {page.path, old_path} - {None}:
        session.execute(delete(EventRow).where(EventRow.path == path))
    session.flush()
    events = events_of(state, page)
    if not events:
        return
    page_row = session.get(PageRow, page.path)
    if page_row is None:
        return
    taken = set(session.scalars(select(EventRow.id).where(EventRow.id.in_([e.id for e in events]))))
    for event in events:
        if event.id in taken:
            continue  # a pushed duplicate of an id used elsewhere: the first page keeps it
        session.add(EventRow(**row_values(event, page_row), commit=commit or ""))
        bump(session, event)
    session.flush()


def page_deleted(session, path) -> None:
    session.execute(delete(EventRow).where(EventRow.path == path))


def reindex(session) -> None:
    """Drop the projection; SEQUENCE state stays (it is not derived from git)."""
    session.execute(delete(EventRow))


def check(state, session) -> list[str]:
    """Differences between ``calendar_events`` (and SEQUENCE digests) and the pages in git."""
    expected: dict[str, dict] = {}
    problems = []
    content = state.content
    for page_row in session.scalars(select(PageRow).order_by(PageRow.path)):
        page = content.cached_page(page_row.path, page_row.blob)
        for event in events_of(state, page):
            if event.id in expected:
                problems.append(
                    f"event {event.id}: defined on {expected[event.id]['path']} "
                    f"and on {page_row.path}"
                )
                continue
            expected[event.id] = row_values(event, page_row)
    actual = {row.id: row for row in session.scalars(select(EventRow))}
    states = {row.event_id: row for row in session.scalars(select(EventState))}
    for ident in sorted(set(expected) | set(actual)):
        if ident not in actual:
            problems.append(f"event {ident} is in git but not in the projection")
            continue
        if ident not in expected:
            problems.append(f"event {ident} is in the projection but not in git")
            continue
        row, values = actual[ident], expected[ident]
        for name in COMPARED:
            if getattr(row, name) != values[name]:
                problems.append(f"event {ident}: {name} differs from git")
        if ident not in states or states[ident].digest != values["digest"]:
            problems.append(f"event {ident}: SEQUENCE state does not match its definition")
    return problems

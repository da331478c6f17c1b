"""The member directory: who belongs to a space and its sub-spaces, exports, membership changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from plugins.spaces import rules
from plugins.spaces.models import Membership, Profile
from wiki.api import AmbiguousEmail, User, csv_text, row_id, utcnow

#: A lookup by address that several accounts share (possible only in data from before
#: addresses were unique) must not pick one of them.
AMBIGUOUS_EMAIL = "Mehrere Zugänge haben diese E-Mail-Adresse. Bitte gib den Benutzernamen an."


@dataclass
class Entry:
    """One person in a directory."""

    user: User
    role: str
    chapter: str
    phone: str
    term_ends: datetime | None


def in_subtree(column, space: str):
    """SQL: ``column`` is ``space`` or lies below it."""
    return or_(column == space, column.like(f"{space}/%"))


def entries(db, plugin, space: str, query: str = "", role: str = "") -> list[Entry]:
    """Members of ``space`` and its sub-spaces, one entry per person, filtered and sorted."""
    rows = db.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(in_subtree(Membership.space, space), User.deleted_at.is_(None))
    ).all()
    now = utcnow()
    people: dict[int, Entry] = {}
    for membership, user in rows:
        is_board_here = (
            membership.space == space
            and membership.role == "board"
            and (membership.term_ends is None or membership.term_ends >= now)
        )
        entry = people.get(user.id)
        if entry is None:
            entry = people[user.id] = Entry(user, "member", membership.space, "", None)
        if is_board_here:
            entry.role = "board"
            entry.term_ends = membership.term_ends
        if len(membership.space) > len(entry.chapter):
            entry.chapter = membership.space
    profiles = {
        p.user_id: p for p in db.scalars(select(Profile).where(Profile.user_id.in_(list(people))))
    }
    for entry in people.values():
        profile = profiles.get(entry.user.id)
        entry.phone = profile.phone if profile else ""
    result = list(people.values())
    if role in rules.ROLES:
        result = [e for e in result if e.role == role]
    if query:
        needle = query.lower()
        result = [
            e
            for e in result
            if needle in e.user.display_name.lower()
            or needle in e.user.email.lower()
            or needle in e.chapter.lower()
        ]
    return sorted(result, key=lambda e: (e.user.display_name.lower(), e.user.id))


def board_members(db, space: str) -> list[tuple[User, Profile | None]]:
    """The current board of exactly ``space`` with their profiles."""
    now = utcnow()
    return [
        (user, db.get(Profile, user.id))
        for user in db.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.space == space,
                Membership.role == "board",
                or_(Membership.term_ends.is_(None), Membership.term_ends >= now),
                User.deleted_at.is_(None),
            )
            .order_by(User.display_name)
        )
    ]


def contacts(db, space: str):
    """(board with profiles, members of the subtree who chose to share their contact data)."""
    board = board_members(db, space)
    shared = db.execute(
        select(User, Profile)
        .join(Profile, Profile.user_id == User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Profile.show_contact.is_(True),
            in_subtree(Membership.space, space),
            User.deleted_at.is_(None),
        )
        .distinct()
        .order_by(User.display_name)
    ).all()
    return board, shared


def change_membership(db, plugin, space: str, form) -> list[str]:
    """Apply one change from the directory form; returns problems (nothing applied then)."""
    from plugins.spaces.views import user_lookup

    action = form.get("action")
    if action == "add":
        try:
            user = user_lookup(db, form.get("user", ""))
        except AmbiguousEmail:
            return [AMBIGUOUS_EMAIL]
        if user is None:
            return [
                "Kein Zugang mit diesem Benutzernamen oder dieser bestätigten E-Mail-Adresse. "
                "Eine E-Mail-Adresse zählt erst, wenn die Person sie bestätigt hat."
            ]
        role = form.get("role", "member")
        if role not in rules.ROLES:
            return ["Unbekannte Rolle."]
        term = parse_date(form.get("term_ends", ""))
        if term is False:
            return ["Das Ende der Amtszeit muss ein Datum (JJJJ-MM-TT) sein."]
        add_member(db, user.id, space, role, term)
        return []
    if action in ("remove", "role"):
        user_id = row_id(form.get("user_id"))
        if user_id is None:
            return ["Unbekanntes Mitglied."]
        row = db.scalar(
            select(Membership).where(Membership.user_id == user_id, Membership.space == space)
        )
        if row is None:
            return ["Diese Person ist nicht direkt Mitglied dieser Gliederung."]
        if action == "remove":
            db.delete(row)
            return []
        role = form.get("role", "member")
        if role not in rules.ROLES:
            return ["Unbekannte Rolle."]
        term = parse_date(form.get("term_ends", ""))
        if term is False:
            return ["Das Ende der Amtszeit muss ein Datum (JJJJ-MM-TT) sein."]
        row.role = role
        row.term_ends = term if role == "board" else None
        return []
    return ["Unbekannte Aktion."]


def add_member(db, user_id: int, space: str, role: str = "member", term_ends=None) -> Membership:
    """Add or update a direct membership."""
    row = db.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.space == space)
    )
    if row is None:
        row = Membership(user_id=user_id, space=space, role=role)
        db.add(row)
    row.role = role
    row.term_ends = term_ends if role == "board" else None
    db.flush()
    return row


def parse_date(text: str):
    """``None`` for empty, a datetime (end of that day) for ``YYYY-MM-DD``, False otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return day.replace(hour=23, minute=59, second=59)


def to_csv(people: list[Entry]) -> str:
    """UTF-8 with BOM, ``;`` separated, formula injection neutralised."""
    header = ["Name", "E-Mail", "Telefon", "Gliederung", "Rolle", "Amtszeit bis"]
    return csv_text(
        header,
        (
            [
                e.user.display_name,
                e.user.email,
                e.phone,
                e.chapter,
                "Vorstand" if e.role == "board" else "Mitglied",
                e.term_ends.date().isoformat() if e.term_ends else "",
            ]
            for e in people
        ),
    )


def _vcard_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace("\n", "\\n")
        .replace("\r", "")
        .replace(",", "\\,")
        .replace(";", "\\;")
    )


def to_vcard(people: list[Entry]) -> str:
    """vCard 4.0, one card per person."""
    cards = []
    for e in people:
        lines = [
            "BEGIN:VCARD",
            "VERSION:4.0",
            f"FN:{_vcard_escape(e.user.display_name)}",
            f"EMAIL:{_vcard_escape(e.user.email)}",
        ]
        if e.phone:
            lines.append(f"TEL:{_vcard_escape(e.phone)}")
        lines.append(f"ORG:{_vcard_escape(e.chapter)}")
        lines.append("END:VCARD")
        cards.append("\r\n".join(lines))
    return "\r\n".join(cards) + ("\r\n" if cards else "")


def member_count(db, space: str) -> int:
    """Distinct people in ``space`` and below."""
    return db.scalar(
        select(func.count(func.distinct(Membership.user_id))).where(
            in_subtree(Membership.space, space)
        )
    )

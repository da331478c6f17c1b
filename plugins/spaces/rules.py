"""The spaces' permission rules and definition checks (pure: no Flask, no database).

| action on a page in space S | who may |
|---|---|
| read ``public`` / ``internal`` | everyone / every logged-in user |
| read ``members`` | members of S (membership in a space inside S implies membership of S) |
| read ``board`` | board of S |
| edit | whoever may read it and is a member (``edit: members``) or board member
|      | (``edit: board``) of S |
| widen visibility, move out of S | board of S or of a space enclosing S |
| manage S (members, invitations, announcements, directory) | board of S or of an enclosing space |

Admins may do everything; the core decides that before asking plugins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from wiki import api as A
from wiki.api import VISIBILITIES, Page, parent_paths

KINDS = ("landesverband", "kreisverband", "ortsverband", "gremium", "arbeitskreis")
KIND_LABELS = {
    "landesverband": "Landesverband",
    "kreisverband": "Kreisverband",
    "ortsverband": "Ortsverband",
    "gremium": "Gremium",
    "arbeitskreis": "Arbeitskreis",
}
EDIT_MODES = ("members", "board")
ROLES = ("member", "board")
CODE_RE = re.compile(r"[A-Za-zÄÖÜäöü0-9-]{1,16}")
EMAIL_RE = re.compile(r"[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+")
DEFINITION_FIELDS = ("type", "name", "code", "kind", "default_visibility", "edit", "contact")


@dataclass(frozen=True)
class SpaceInfo:
    """What the rules need to know about a space."""

    path: str
    edit: str = "members"
    default_visibility: str = "members"
    #: No valid definition yet (a broken push): only admins may do anything in the space.
    closed: bool = False


def check_definition(meta: Mapping) -> list[str]:
    """Problems with a space definition's front matter (German, one per field)."""
    problems = []
    name = meta.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        problems.append("„name“ muss der Name der Gliederung sein (höchstens 200 Zeichen).")
    code = meta.get("code")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        problems.append("„code“ muss ein Kürzel aus Buchstaben, Ziffern und „-“ sein (1–16).")
    if meta.get("kind") not in KINDS:
        problems.append("„kind“ muss einer dieser Werte sein: " + ", ".join(KINDS) + ".")
    if meta.get("default_visibility") not in VISIBILITIES:
        problems.append(
            "„default_visibility“ muss einer dieser Werte sein: " + ", ".join(VISIBILITIES) + "."
        )
    if meta.get("edit", "members") not in EDIT_MODES:
        problems.append("„edit“ muss „members“ oder „board“ sein.")
    contact = meta.get("contact")
    if contact not in (None, "") and not (isinstance(contact, str) and EMAIL_RE.fullmatch(contact)):
        problems.append("„contact“ muss eine E-Mail-Adresse sein (die des Vorstands).")
    return problems


def definition_changed(new: Mapping, old: Mapping | None) -> bool:
    """True if any definition field differs (a body-only edit is not a definition change)."""
    if old is None:
        return True
    return any(new.get(key) != old.get(key) for key in DEFINITION_FIELDS)


def enclosing_spaces(path: str, spaces: Iterable[str] | Mapping) -> list[str]:
    """The spaces strictly enclosing ``path``, nearest first."""
    return [p for p in reversed(parent_paths(path)) if p in spaces]


def nearest_space(path: str, spaces: Mapping) -> str | None:
    """The space a page belongs to: ``path`` itself if it defines one, else the nearest above."""
    if path in spaces:
        return path
    found = enclosing_spaces(path, spaces)
    return found[0] if found else None


def effective_memberships(
    rows: Iterable[tuple[str, str, datetime | date | None]], now: datetime
) -> dict[str, str]:
    """``{space: role}`` with expired board terms as member and enclosing spaces implied."""
    result: dict[str, str] = {}
    for space, role, term_ends in rows:
        if role == "board" and term_ends is not None and _as_datetime(term_ends) < now:
            role = "member"
        if result.get(space) != "board":
            result[space] = role if role in ROLES else "member"
        for ancestor in parent_paths(space):
            result.setdefault(ancestor, "member")
    return result


def _as_datetime(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def is_member(principal: A.Principal, space: str) -> bool:
    """Member (or board member) of ``space``."""
    return principal.memberships.get(space) in ROLES


def is_board(principal: A.Principal, space: str) -> bool:
    """Board member of exactly ``space``."""
    return principal.memberships.get(space) == "board"


def is_board_of_or_above(principal: A.Principal, space: str, spaces: Mapping) -> bool:
    """Board member of ``space`` or of a space enclosing it."""
    return is_board(principal, space) or any(
        is_board(principal, outer) for outer in enclosing_spaces(space, spaces)
    )


def can(principal: A.Principal, action: str, page: A.PageRef | None, spaces: Mapping):
    """The spaces' answer for pages in a space; None (no opinion) outside spaces."""
    if page is None or page.space is None or page.space not in spaces:
        return None
    info = spaces[page.space]
    space = page.space
    if info.closed:
        return False  # fail closed: admins only (they are decided before the plugins)
    if action == A.READ:
        return may_read(principal, page.visibility, space)
    if action == A.EDIT:
        if not principal.logged_in or not may_read(principal, page.visibility, space):
            return False
        if page.path == space and is_board_of_or_above(principal, space, spaces):
            return True  # the definition page: its space's managers may change it
        return is_board(principal, space) if info.edit == "board" else is_member(principal, space)
    if action in (A.WIDEN, A.MANAGE):
        return principal.logged_in and is_board_of_or_above(principal, space, spaces)
    if action == A.MOVE:
        if page.path == space:
            # Moving or deleting a definition dissolves the space: the board above decides.
            outer = enclosing_spaces(space, spaces)
            return principal.logged_in and any(is_board(principal, s) for s in outer)
        return can(principal, A.EDIT, page, spaces)
    return None


def may_read(principal: A.Principal, visibility: str, space: str) -> bool:
    """The read rule for a page of ``visibility`` in ``space``."""
    if visibility == "public":
        return True
    if visibility == "internal":
        return principal.logged_in
    if visibility == "members":
        return is_member(principal, space)
    if visibility == "board":
        return is_board(principal, space)
    return False


def read_filter(principal: A.Principal, closed: Iterable[str] = ()) -> A.ReadFilter:
    """The spaces' part of the read allow-set; ``closed`` spaces grant nothing (their pages are
    projected as ``board``, so public and internal do not reach them either)."""
    closed = frozenset(closed)
    return A.ReadFilter(
        visibilities=frozenset(),
        spaces={
            "members": frozenset(
                s for s, r in principal.memberships.items() if r in ROLES and s not in closed
            ),
            "board": frozenset(
                s for s, r in principal.memberships.items() if r == "board" and s not in closed
            ),
        },
    )


#: A definition file that does not parse but says ``type: space`` (fail closed, see below).
BROKEN_SPACE_RE = re.compile(r"^type:\s*[\"']?space\b", re.M)


def claims_space(page: Page, known: bool = False) -> bool:
    """True if ``page`` is (meant as) a space definition: ``type: space``, or front matter that
    does not parse but says so, or does not parse on a path that is a space (``known``)."""
    if page.broken:
        return known or bool(BROKEN_SPACE_RE.search(page.body))
    return page.type == "space"


def definition_problems(page: Page) -> list[str]:
    """Why a (claimed) space definition does not count; empty when it is valid."""
    if page.broken:
        return list(page.problems)
    return check_definition(page.meta)


def scope_at(path: str, read: Callable[[str], bytes | None]) -> tuple[str, str] | None:
    """``(space, default visibility)`` of ``path`` from the definition files ``read`` returns
    (``read(p)``: the text of page ``p`` at one commit, or None), nearest space first.

    A definition that does not validate counts as a board-only space: a past revision is never
    shown more widely because its space's definition was broken at the time.
    """
    for candidate in [path, *reversed(parent_paths(path))]:
        data = read(candidate)
        if data is None:
            continue
        page = Page.parse(candidate, data)
        if page.broken:
            if BROKEN_SPACE_RE.search(page.body):
                return candidate, "board"
            continue
        if page.type != "space":
            continue
        if check_definition(page.meta):
            return candidate, "board"
        return candidate, page.meta["default_visibility"]
    return None

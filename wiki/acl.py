"""The one permission decision (no Flask).

``Acl.can(principal, action, page)`` decides every action; ``Acl.read_filter(principal)`` states
the same read rule as an allow-set that SQL listings and the search index translate. Plugins take
part through ``wiki_permission`` (first non-None answer wins) and ``wiki_read_filter``.

Core rules (spaces add theirs through the hooks):

- admins may do everything (operators; the README says so);
- ``read``: ``public`` pages everyone, ``internal`` pages every logged-in user; ``members`` and
  ``board`` pages only admins unless a plugin grants more;
- ``edit`` (create, change, rename, delete, revert, upload): logged-in users who may read the page,
  if ``WIKI_EDIT`` is ``users``;
- ``widen`` (make a page more visible): whoever may edit it, outside spaces;
- ``move`` (rename or delete): whoever may edit it, unless a plugin says otherwise (a space's
  definition page moves only with the board above it);
- ``admin``: admins only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

READ = "read"
EDIT = "edit"
WIDEN = "widen"
ADMIN = "admin"
MANAGE = "manage"
#: Rename or delete a page (offered in the interface only to whoever may do it).
MOVE = "move"
ACTIONS = (READ, EDIT, WIDEN, ADMIN, MANAGE, MOVE)
VISIBILITY_RANK = {"public": 0, "internal": 1, "members": 2, "board": 3}


@dataclass(frozen=True)
class Principal:
    """Who asks: user id, public id, admin flag and preloaded memberships (space → role)."""

    user_id: int | None = None
    public_id: str | None = None
    is_admin: bool = False
    memberships: Mapping[str, str] = field(default_factory=dict)

    @property
    def logged_in(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class PageRef:
    """What a decision needs to know about a page: path, effective visibility and space."""

    path: str
    visibility: str
    space: str | None = None
    exists: bool = True


@dataclass(frozen=True)
class ReadFilter:
    """Allow-set: readable everywhere by visibility, plus per-visibility sets of spaces."""

    everything: bool = False
    visibilities: frozenset[str] = frozenset({"public"})
    spaces: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def allows(self, visibility: str, space: str | None) -> bool:
        """True if a page with this visibility in this space is readable."""
        if self.everything or visibility in self.visibilities:
            return True
        return space is not None and space in self.spaces.get(visibility, ())

    def key(self) -> tuple:
        """A hashable identity of the allow-set: readers with equal keys may read the same
        pages, so caches of what they see can be shared between them."""
        return (
            self.everything,
            tuple(sorted(self.visibilities)),
            tuple(sorted((v, tuple(sorted(s))) for v, s in self.spaces.items())),
        )

    def union(self, other: ReadFilter | None) -> ReadFilter:
        """The allow-set permitting what either permits."""
        if other is None:
            return self
        spaces = {k: frozenset(v) for k, v in self.spaces.items()}
        for key, value in other.spaces.items():
            spaces[key] = spaces.get(key, frozenset()) | frozenset(value)
        return ReadFilter(
            everything=self.everything or other.everything,
            visibilities=self.visibilities | other.visibilities,
            spaces=spaces,
        )


def core_can(principal: Principal, action: str, page: PageRef | None, edit_policy: str) -> bool:
    """The core rules, used when no plugin has an opinion."""
    if principal.is_admin:
        return True
    if action == READ:
        return page is not None and core_read_filter(principal).allows(page.visibility, page.space)
    if action in (EDIT, WIDEN, MOVE):
        return (
            principal.logged_in
            and edit_policy == "users"
            and page is not None
            and core_read_filter(principal).allows(page.visibility, page.space)
        )
    return False


def core_read_filter(principal: Principal) -> ReadFilter:
    """The core's allow-set for ``principal``."""
    if principal.is_admin:
        return ReadFilter(everything=True)
    if principal.logged_in:
        return ReadFilter(visibilities=frozenset({"public", "internal"}))
    return ReadFilter()


def is_wider(new: str, old: str) -> bool:
    """True if visibility ``new`` lets more people read than ``old``."""
    return VISIBILITY_RANK.get(new, 0) < VISIBILITY_RANK.get(old, 0)


class Acl:
    """Permission decisions for one app: the core rules plus the plugins' hooks."""

    def __init__(self, pm, edit_policy: str = "users"):
        self.pm = pm
        self.edit_policy = edit_policy

    def can(self, principal: Principal, action: str, page: PageRef | None = None) -> bool:
        """Decide whether ``principal`` may do ``action`` on ``page``."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if principal.is_admin:
            return True
        answer = self.pm.hook.wiki_permission(principal=principal, action=action, page=page)
        if answer is not None:
            return bool(answer)
        return core_can(principal, action, page, self.edit_policy)

    def read_filter(self, principal: Principal) -> ReadFilter:
        """The read rule for ``principal`` as an allow-set (agrees with ``can(…, "read", …)``)."""
        result = core_read_filter(principal)
        for part in self.pm.hook.wiki_read_filter(principal=principal):
            result = result.union(part)
        return result

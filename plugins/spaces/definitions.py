"""Which definition applies to a space when its definition page does not validate (fail closed).

A space definition that arrives by ``git push`` and does not validate must never make its pages
more visible. The rule, shared by the sync, ``verbandswiki reindex`` and ``verbandswiki check``:

- the definition at HEAD validates → it applies (state ``ok``);
- it does not, but an earlier version of the file did (since the file last appeared) → the last
  valid version applies (state ``stale``);
- no version ever validated → the space is ``closed``: every page in it counts as ``board`` and
  only admins may read or change anything there.

In both failure cases the definition page itself is projected as ``board`` and is listed on
``/-/problems`` with a note saying which rule applies.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugins.spaces import rules
from wiki.api import Page, page_file, path_of_file

OK, STALE, CLOSED = "ok", "stale", "closed"
#: How far back the history of a broken definition is searched for its last valid version.
HISTORY_LIMIT = 50
#: The values of a space without a valid definition (its pages are forced to ``board`` too).
CLOSED_VALUES = {
    "code": "",
    "kind": "gremium",
    "default_visibility": "board",
    "edit": "board",
    "contact": "",
}
STALE_NOTE = (
    "Bis zur Korrektur gilt die letzte gültige Festlegung dieser Gliederung weiter; diese Seite "
    "selbst ist nur für den Vorstand sichtbar."
)
CLOSED_NOTE = (
    "Diese Gliederung hatte noch nie eine gültige Festlegung: bis zur Korrektur sind alle ihre "
    "Seiten nur für Administrator*innen sichtbar."
)


def values_of(meta: Mapping, parent: str | None) -> dict:
    """The ``spaces_spaces`` columns of a valid definition."""
    return {
        "name": str(meta["name"]).strip(),
        "code": str(meta["code"]),
        "kind": meta["kind"],
        "default_visibility": meta["default_visibility"],
        "edit": meta.get("edit", "members"),
        "contact": meta.get("contact") or "",
        "parent": parent,
    }


def closed_values(path: str, parent: str | None) -> dict:
    """The columns of a space that never had a valid definition."""
    return {"name": path[:200], **CLOSED_VALUES, "parent": parent}


def last_valid(store, path: str, head: str) -> Mapping | None:
    """The front matter of the newest valid version of ``path``'s definition before ``head``,
    searching back until the file did not exist (a dissolved space is not revived)."""
    for revision in store.history(page_file(path), limit=HISTORY_LIMIT, rev=head):
        data = store.read(revision.path or page_file(path), revision.sha)
        if data is None:
            return None  # deleted here: older versions belong to an earlier, dissolved space
        page = Page.parse(path, data)
        if page.type == "space" and not rules.definition_problems(page):
            return page.meta
    return None


def failed_definition(store, path: str, head: str, parent: str | None) -> tuple[str, dict]:
    """(state, columns) of a space whose definition at ``head`` does not validate."""
    meta = last_valid(store, path, head)
    if meta is None:
        return CLOSED, closed_values(path, parent)
    return STALE, values_of(meta, parent)


def note(state: str) -> str | None:
    """The line ``/-/problems`` adds to a failed definition's problems."""
    return {STALE: STALE_NOTE, CLOSED: CLOSED_NOTE}.get(state)


def expected(store, head: str) -> dict[str, tuple[str, dict]]:
    """Every space at ``head`` as the rule above projects it: path → (state, columns)."""
    claims: dict[str, Page] = {}
    for filename, blob in store.files(head).items():
        path = path_of_file(filename)
        if path is None:
            continue
        page = Page.parse(path, store.read_blob(blob))
        # Unreadable front matter on a path that was a space: the sync knows it as one.
        if rules.claims_space(page) or (page.broken and last_valid(store, path, head)):
            claims[path] = page
    result: dict[str, tuple[str, dict]] = {}
    for path in sorted(claims, key=lambda p: p.count("/")):
        outer = rules.enclosing_spaces(path, result)
        parent = outer[0] if outer else None
        page = claims[path]
        if rules.definition_problems(page):
            result[path] = failed_definition(store, path, head, parent)
        else:
            result[path] = (OK, values_of(page.meta, parent))
    return result

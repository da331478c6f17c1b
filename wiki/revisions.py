"""Who may read a past revision of a page (no Flask).

The rule, used by every view of a past revision (``?rev=``, raw, diff, history, the JSON API,
revert, the resolutions page's versions and the resolution form's base): a revision is readable
only if the reader could read it at the path and time it had —

- the reader may read the page as it is now (a deleted page has no "now" and is skipped), and
- the reader may read the page as it was at that commit, judged at the name it had then (before a
  rename: its old name, found through the history, which follows ``Wiki-Renamed-From``) with the
  space and default visibility of that commit (the space definitions in git at that commit, asked
  through ``wiki_page_space_at``; not today's projection).

So moving a members-only page to a public path, or widening a space later, publishes only what is
committed from then on. A commit that deletes a page (or moves it away) is judged by the version
just before it. Unreadable revisions look exactly like missing ones to the callers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wiki import acl as A
from wiki import pages as P
from wiki.markup import RenderCache
from wiki.storage import Revision

#: How far back a revision from before a rename is looked for (as the history view shows it).
HISTORY_SCAN = 500
#: History entries read per step when a page of readable entries is collected.
BATCH = 100
SCOPE_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Entry:
    """One version in a page's history and whether the reader may see it."""

    revision: Revision
    #: The page's name at that revision.
    path: str
    #: The page at that revision; None where the commit deleted the page or moved it away.
    page: P.Page | None
    readable: bool


class Revisions:
    """The read rule for past revisions of one app's pages."""

    def __init__(self, state):
        self.state = state
        self._scopes = RenderCache(SCOPE_CACHE_SIZE)

    # -- the rule -----------------------------------------------------------------------------

    def scope_at(self, path: str, commit: str) -> tuple[str | None, str]:
        """(space, default visibility) of ``path`` as the definitions at ``commit`` say."""
        key = (commit, path)
        found = self._scopes.get(key)
        if found is None:
            answer = self.state.pm.hook.wiki_page_space_at(
                path=path, commit=commit, store=self.state.store
            )
            found = (
                tuple(answer) if answer else (None, self.state.config["WIKI_DEFAULT_VISIBILITY"])
            )
            self._scopes.put(key, found)
        return found

    def ref_at(self, path: str, page: P.Page, commit: str) -> A.PageRef:
        """The permission view of ``page`` as it was at ``path`` and ``commit``."""
        space, default = self.scope_at(path, commit)
        return A.PageRef(path=path, visibility=page.effective_visibility(default), space=space)

    def may_read(self, principal, current, then_path: str, page: P.Page, commit: str) -> bool:
        """The rule: ``current`` (the page now, None if deleted) and the page at ``commit``
        under the name ``then_path`` are both readable."""
        acl = self.state.acl
        if current is not None and not acl.can(principal, A.READ, current):
            return False
        return acl.can(principal, A.READ, self.ref_at(then_path, page, commit))

    # -- one revision -------------------------------------------------------------------------

    def locate(self, path: str, sha: str) -> tuple[str, P.Page] | None:
        """(name then, page) of page ``path`` at commit ``sha``: under ``path``, else under the
        name it had before a rename (as its history shows it); None if it did not exist."""
        content = self.state.content
        page = content.page(path, sha)
        if page is not None:
            return path, page
        for revision in self.state.store.history(P.page_file(path), limit=HISTORY_SCAN):
            if revision.sha == sha:
                old = P.path_of_file(revision.path)
                page = content.page(old, sha) if old and old != path else None
                return (old, page) if page is not None else None
        return None

    def readable(self, session, principal, path: str, sha: str) -> P.Page | None:
        """Page ``path`` at commit ``sha`` (named ``path``) if ``principal`` may read it there;
        None if it is missing or unreadable (callers answer both alike)."""
        found = self.locate(path, sha)
        if found is None:
            return None
        then_path, page = found
        current = self.state.content.ref(session, path)
        if not self.may_read(principal, current, then_path, page, sha):
            return None
        return page if then_path == path else replace(page, path=path)

    def base_readable(self, session, principal, path: str, sha: str) -> bool:
        """Whether ``principal`` may use commit ``sha`` as the base of a save of ``path``.

        A save merges with the file at ``path`` at its base, and the conflict page (or the
        resolution form) shows what comes out of it; so that text must be readable, or absent.
        """
        page = self.state.content.page(path, sha)
        if page is None:
            return True
        current = self.state.content.ref(session, path)
        return self.may_read(principal, current, path, page, sha)

    def conflict_texts(self, session, principal, path: str, conflict) -> tuple[str, str | None]:
        """(the other version, the merge attempt) of a :class:`wiki.storage.Conflict` on
        ``path``; ("", None) if the reader may not read the page as it is at the conflict's
        HEAD (it may have been narrowed meanwhile). The base was checked before the save."""
        item = conflict.items[0]
        if not conflict.head or not self.base_readable(session, principal, path, conflict.head):
            return "", None
        theirs = (item.theirs or b"").decode("utf-8", "replace")
        return theirs, item.merged.decode("utf-8", "replace") if item.merged else None

    # -- history ------------------------------------------------------------------------------

    def entry(self, principal, current, path: str, revision: Revision) -> Entry:
        """``revision`` of page ``path`` (whose current permission view is ``current``) judged
        for ``principal``; a deletion or move away is judged by the version before it."""
        content = self.state.content
        then_path = P.path_of_file(revision.path) or path
        page = content.page(then_path, revision.sha)
        if page is not None:
            ok = self.may_read(principal, current, then_path, page, revision.sha)
            return Entry(revision, then_path, page, ok)
        parents = self.state.store.parents(revision.sha)
        before = content.page(then_path, parents[0]) if parents else None
        ok = before is not None and self.may_read(principal, current, then_path, before, parents[0])
        return Entry(revision, then_path, None, ok)

    def history(
        self, session, principal, path: str, offset: int, count: int
    ) -> tuple[list[Entry], bool]:
        """``count`` readable entries of page ``path``'s history after skipping ``offset``
        readable ones (newest first), and whether more readable entries follow.

        Unreadable versions are left out entirely (not shown as gaps), so pages stay full.
        """
        store = self.state.store
        current = self.state.content.ref(session, path)
        found: list[Entry] = []
        skipped = raw_offset = 0
        while True:
            chunk = store.history(P.page_file(path), limit=BATCH, offset=raw_offset)
            for revision in chunk:
                entry = self.entry(principal, current, path, revision)
                if not entry.readable:
                    continue
                if skipped < offset:
                    skipped += 1
                elif len(found) == count:
                    return found, True
                else:
                    found.append(entry)
            if len(chunk) < BATCH:
                return found, False
            raw_offset += BATCH

    def commit_readable(self, principal, path: str, sha: str) -> bool:
        """Whether ``principal`` could read page ``path`` as commit ``sha`` left it (or, if the
        commit removed it, as it was just before); used to withhold commit messages."""
        content = self.state.content
        page = content.page(path, sha)
        commit = sha
        if page is None:
            parents = self.state.store.parents(sha)
            commit = parents[0] if parents else sha
            page = content.page(path, commit) if parents else None
        if page is None:
            return bool(principal.is_admin)
        return self.state.acl.can(principal, A.READ, self.ref_at(path, page, commit))

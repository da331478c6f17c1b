"""Page and document operations with permission checks and validation (no Flask).

Views, the API and the CLI call these; each operation is one ``GitStore.commit`` whose
``validate`` callback re-checks permissions and front matter against HEAD inside the write lock,
followed by a sync of the projections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from wiki import acl as A
from wiki import pages as P
from wiki.db import Link, PageRow
from wiki.markup import RenderCache
from wiki.messages import N_
from wiki.storage import Author, CommitResult, Conflict


class OperationError(Exception):
    """Base of the errors an operation reports to the user (``str()`` is the German message)."""


class ValidationFailed(OperationError):
    """The content does not validate; ``problems`` lists every problem."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class Forbidden(OperationError):
    """The principal may not do this."""


class NotAvailable(OperationError):
    """A page name is taken (or hidden); the message never says which."""


class NotFound(OperationError):
    """The page or document does not exist (or may not be read)."""


class TooLarge(OperationError):
    """A document is larger than ``WIKI_MAX_UPLOAD_MB``."""


@dataclass
class ValidationContext:
    """What a page type validator may use: who saves, HEAD, the store and a database session."""

    principal: A.Principal
    head: str | None
    store: object
    session: object
    #: Every file this commit writes (bytes) or removes (None), e.g. the old names of a move.
    changes: dict = field(default_factory=dict)


class Content:
    """Operations on pages and documents of one app."""

    def __init__(self, state):
        self.state = state
        self._pages = RenderCache(int(state.config["WIKI_RENDER_CACHE_SIZE"]))

    def cached_page(self, path: str, blob: str) -> P.Page:
        """The parsed page of ``blob`` (from the projection), parsed once per process.

        Callers treat the result as read-only; it is shared between requests.
        """
        key = (path, blob)
        page = self._pages.get(key)
        if page is None:
            page = P.Page.parse(path, self.state.store.read_blob(blob), blob=blob)
            self._pages.put(key, page)
        return page

    # -- lookups ------------------------------------------------------------------------------

    def author(self, principal: A.Principal) -> Author:
        """The pseudonymous git author of ``principal``."""
        public_id = principal.public_id or "system"
        domain = self.state.config["WIKI_NOREPLY_DOMAIN"]
        return Author(name=f"u-{public_id}", email=f"{public_id}@{domain}")

    def ref_for(self, session, path: str, page: P.Page | None) -> A.PageRef:
        """The permission view of ``page`` at ``path`` (a prospective page if ``page`` is new)."""
        space, default = self.state.syncer.page_scope(session, path)
        visibility = page.effective_visibility(default) if page else default
        return A.PageRef(path=path, visibility=visibility, space=space, exists=page is not None)

    def ref(self, session, path: str) -> A.PageRef | None:
        """The permission view of an existing page, from the projection."""
        return self.ref_of(session.get(PageRow, path))

    @staticmethod
    def ref_of(row: PageRow | None) -> A.PageRef | None:
        """The permission view of a projection row."""
        if row is None:
            return None
        return A.PageRef(path=row.path, visibility=row.effective_visibility, space=row.space)

    def can(self, principal, action, ref) -> bool:
        """Shorthand for the one decision."""
        return self.state.acl.can(principal, action, ref)

    def page(self, path: str, rev: str | None = None) -> P.Page | None:
        """The parsed page at ``rev`` (HEAD if None), or None; read-only like
        :meth:`cached_page` (a history judges every version it lists, again on every view)."""
        blob = self.state.store.blob_id(P.page_file(path), rev)
        return None if blob is None else self.cached_page(path, blob)

    # -- the commit step ----------------------------------------------------------------------

    def _commit(self, principal, changes, base, message, trailers=None, moves=None) -> CommitResult:
        """Commit ``changes`` after validating every touched page against HEAD."""
        store = self.state.store
        moves = moves or {}

        def validate(merged, head):
            with self.state.sessions() as session:
                self._validate(session, principal, merged, head, moves)

        if not message.strip():
            raise ValidationFailed([N_("Bitte eine Beschreibung der Änderung angeben.")])
        result = store.commit(
            changes,
            base=base,
            author=self.author(principal),
            message=message.strip(),
            validate=validate,
            trailers=trailers,
        )
        self.state.syncer.sync()
        return result

    def _validate(self, session, principal, merged, head, moves) -> None:
        store = self.state.store
        types = self.state.syncer.page_types()
        problems: list[str] = []
        sources = {old: new for new, old in moves.items()}
        ctx = ValidationContext(
            principal=principal, head=head, store=store, session=session, changes=merged
        )
        for filename, data in merged.items():
            path = P.path_of_file(filename)
            document = None if path else P.document_of_file(filename)
            if path is None and document is None:
                raise ValidationFailed([N_("Ungültiger Dateiname: %(name)s", name=filename)])
            if document:
                owner = document[0]
                owner_page = self._head_page(owner, head, merged if data is not None else {})
                if owner_page is None:
                    if data is None:
                        continue  # the page goes away with its documents (rename, purge)
                    raise NotFound(N_("Die Seite gibt es nicht."))
                if not self.can(principal, A.EDIT, self.ref_for(session, owner, owner_page)):
                    raise Forbidden(N_("Keine Berechtigung, Dokumente dieser Seite zu ändern."))
                continue
            old_data = store.read(filename, head) if head else None
            old_page = P.Page.parse(path, old_data) if old_data is not None else None
            old_ref = self.ref_for(session, path, old_page) if old_page else None
            if old_ref and not self.can(principal, A.EDIT, old_ref):
                raise Forbidden(N_("Keine Berechtigung, diese Seite zu ändern."))
            if data is None:
                if (
                    old_ref
                    and path in sources
                    and not self._may_move(session, principal, old_ref, sources[path], merged)
                ):
                    raise Forbidden(N_("Keine Berechtigung, die Seite dorthin zu verschieben."))
                problems.extend(self._leaving_type(types, None, old_page, ctx))
                problems.extend(self._page_checks(None, old_page, ctx))
                continue
            new_page = P.Page.parse(path, data)
            new_ref = self.ref_for(session, path, new_page)
            # Front matter with problems counts as board; whether a page may be created here at
            # all is judged on the place then, so the author gets the problems (400), not 403.
            place = self.ref_for(session, path, None) if new_page.problems else new_ref
            if old_ref is None and path not in moves and not self.can(principal, A.EDIT, place):
                raise Forbidden(N_("Keine Berechtigung, hier eine Seite anzulegen."))
            if old_ref and A.is_wider(new_ref.visibility, old_ref.visibility):
                if not self.can(principal, A.WIDEN, old_ref):
                    raise Forbidden(N_("Keine Berechtigung, die Sichtbarkeit zu erweitern."))
            problems.extend(new_page.problems)
            validator = types.get(new_page.type)
            if validator is None:
                problems.append(N_("Unbekannter Seitentyp „%(type)s“.", type=new_page.type))
            elif not new_page.problems:
                problems.extend(validator(new_page, old_page, ctx) or [])
            problems.extend(self._leaving_type(types, new_page, old_page, ctx))
            if not new_page.problems:
                problems.extend(self._page_checks(new_page, old_page, ctx))
        if problems:
            raise ValidationFailed(problems)

    def _page_checks(self, new_page, old_page, ctx) -> list[str]:
        """What the plugins say about any page (``wiki_validate_page``: widget definitions)."""
        answers = self.state.pm.hook.wiki_validate_page(new=new_page, old=old_page, ctx=ctx)
        return [problem for answer in answers if answer for problem in answer]

    @staticmethod
    def _leaving_type(types, new_page, old_page, ctx) -> list[str]:
        """A page that stops being of its type (deleted, moved away or retyped) asks the old
        type's validator too: leaving a type can matter as much as entering it (a space
        definition that disappears takes its members-only protection with it)."""
        if old_page is None or (new_page is not None and new_page.type == old_page.type):
            return []
        validator = types.get(old_page.type)
        return list(validator(new_page, old_page, ctx) or []) if validator else []

    def _may_move(self, session, principal, old_ref, new_path, merged) -> bool:
        """A move needs edit rights on both ends and widen rights when it leaves the space."""
        data = merged.get(P.page_file(new_path))
        new_ref = self.ref_for(session, new_path, P.Page.parse(new_path, data) if data else None)
        if not self.can(principal, A.EDIT, new_ref):
            return False
        if new_ref.space != old_ref.space or A.is_wider(new_ref.visibility, old_ref.visibility):
            return self.can(principal, A.WIDEN, old_ref)
        return True

    def _head_page(self, path, head, merged):
        filename = P.page_file(path)
        if filename in merged:
            data = merged[filename]
        else:
            data = self.state.store.read(filename, head) if head else None
        return P.Page.parse(path, data) if data is not None else None

    # -- operations ---------------------------------------------------------------------------

    def save(
        self, principal, path, text, base, message, create=False, documents=None
    ) -> CommitResult:
        """Save page text from ``base``; ``create`` refuses an existing name.

        ``documents`` ({name: bytes}) are committed with the page in the same commit (replacing
        documents of the same name). A page that comes into existence starts without documents:
        files left below its ``_files/`` (from a page deleted before documents went with their
        page, or pushed there) are removed in the same commit, so they never take the new
        page's visibility.
        """
        P.check_path(path)
        limit = int(self.state.config["WIKI_MAX_PAGE_KB"]) * 1024
        data = text.replace("\r\n", "\n").encode("utf-8")
        if len(data) > limit:
            raise ValidationFailed([N_("Der Text ist länger als %(kb)s KB.", kb=limit // 1024)])
        head = self.state.store.head()
        exists = self.state.store.blob_id(P.page_file(path), head) is not None
        if create and exists:
            raise NotAvailable(N_("Dieser Seitenname ist nicht verfügbar."))
        if create:
            base = None
        if base and not self._base_readable(principal, path, base):
            # The merge with an unreadable base would show its text on the conflict page.
            raise ValidationFailed([N_("Ungültige Ausgangsversion.")])
        changes: dict[str, bytes | None] = {P.page_file(path): data}
        if not exists:
            # A new page starts from the HEAD just looked at: one created meanwhile is a
            # conflict, and the removals below count (from no base, an untouched file keeps
            # HEAD's version). A stale base stays: editing a page deleted meanwhile conflicts.
            base = base or head
            changes.update(dict.fromkeys(self._documents(path, head), None))
        changes.update(self._document_changes(path, documents or {}))
        return self._commit(principal, changes, base, message)

    def _base_readable(self, principal, path: str, base: str) -> bool:
        """Whether ``principal`` may read ``path`` at ``base`` (wiki.revisions); an unknown
        base is left to the commit to report."""
        try:
            sha = self.state.store.resolve(base)
        except ValueError:  # BadRevision
            return True
        with self.state.sessions() as session:
            return self.state.revisions.base_readable(session, principal, path, sha)

    def _documents(self, path: str, rev: str | None = None) -> dict[str, str]:
        """The document files of page ``path`` at ``rev`` (HEAD if None) → blob sha."""
        return self.state.store.files(rev, prefix=P.file_dir(path))

    def _document_changes(self, path: str, documents: dict[str, bytes]) -> dict[str, bytes]:
        """``documents`` ({name: bytes}) as repository changes, names and sizes checked."""
        mb = self.state.config["WIKI_MAX_UPLOAD_MB"]
        changes = {}
        for name, data in documents.items():
            P.check_filename(name)
            if len(data) > float(mb) * 1024 * 1024:
                raise TooLarge(
                    N_("Die Datei %(name)s ist zu groß (höchstens %(mb)s MB).", name=name, mb=mb)
                )
            changes[P.document_file(path, name)] = data
        return changes

    def delete(self, principal, path, base, message) -> CommitResult:
        """Delete a page and its documents in one commit (its subpages stay).

        A document's visibility is always its page's: without the page only admins may read
        it, and a page created again at the same path must not inherit it.
        """
        P.check_path(path)
        if self.state.store.blob_id(P.page_file(path)) is None:
            raise NotFound(N_("Die Seite gibt es nicht."))
        changes: dict[str, bytes | None] = {P.page_file(path): None}
        changes.update(dict.fromkeys(self._documents(path), None))
        return self._commit(principal, changes, base, message)

    def revert(self, principal, path, rev, message) -> CommitResult:
        """Restore the page text of revision ``rev`` as a new commit.

        Restoring a deleted page restores its documents as they were at ``rev`` too (files left
        below its ``_files/`` that were not there at ``rev`` go); an existing page keeps its
        current documents, which have versions of their own.
        """
        P.check_path(path)
        store = self.state.store
        sha = store.resolve(rev)
        # A revision from before a rename: the text the page had then under its old name.
        found = self.state.revisions.locate(path, sha)
        data = store.read(P.page_file(found[0]), sha) if found else None
        if data is None:
            raise NotFound(N_("Diese Version der Seite gibt es nicht."))
        head = store.head()
        changes: dict[str, bytes | None] = {P.page_file(path): data}
        if store.blob_id(P.page_file(path), head) is None:
            changes.update(dict.fromkeys(self._documents(path, head), None))
            for filename, blob in self._documents(path, sha).items():
                changes[filename] = store.read_blob(blob)
        return self._commit(principal, changes, head, message)

    def rename(self, principal, old, new, message, update_links=False) -> CommitResult:
        """Move a page with its documents and subpages; optionally rewrite links to it."""
        P.check_path(old)
        P.check_path(new)
        store = self.state.store
        head = store.head()
        if old == new or new.startswith(old + "/"):
            raise ValidationFailed([N_("Eine Seite kann nicht in sich selbst verschoben werden.")])
        if store.blob_id(P.page_file(old), head) is None:
            raise NotFound(N_("Die Seite gibt es nicht."))
        moving = {P.page_file(old): store.blob_id(P.page_file(old), head)}
        moving.update(store.files(head, prefix=old + "/"))
        changes: dict[str, bytes | None] = {}
        moves: dict[str, str] = {}
        for filename in moving:
            target = new + filename[len(old) :]
            if store.blob_id(target, head) is not None:
                raise NotAvailable(N_("Dieser Seitenname ist nicht verfügbar."))
            changes[filename] = None
            changes[target] = store.read(filename, head)
            page_old, page_new = P.path_of_file(filename), P.path_of_file(target)
            if page_old and page_new:
                moves[page_new] = page_old
        if update_links:
            changes.update(self._relinked(old, new, head, changes))
        trailers = [("Wiki-Renamed-From", f"{old} => {new}")]
        return self._commit(principal, changes, head, message, trailers=trailers, moves=moves)

    def _relinked(self, old, new, head, changes) -> dict[str, bytes]:
        """Pages linking to ``old`` (or below it) with their wikilinks rewritten."""
        from wiki.linkedit import rewrite_links

        store = self.state.store
        result = {}
        with self.state.sessions() as session:
            sources = session.scalars(
                select(Link.src).where((Link.dst == old) | Link.dst.like(f"{old}/%")).distinct()
            ).all()
        for src in sources:
            moved_src = new + src[len(old) :] if src == old or src.startswith(old + "/") else src
            filename = P.page_file(moved_src)
            data = changes.get(filename) or store.read(P.page_file(src), head)
            if data is None:
                continue
            text = data.decode("utf-8", "replace")
            updated = rewrite_links(text, src, old, new)
            if updated != text:
                result[filename] = updated.encode("utf-8")
        return result

    def upload(self, principal, path, name, data: bytes, message) -> CommitResult:
        """Add or replace document ``name`` of page ``path``."""
        P.check_path(path)
        P.check_filename(name)
        if self.state.store.blob_id(P.page_file(path)) is None:
            raise NotFound(N_("Die Seite gibt es nicht."))
        return self._commit_at_head(principal, {P.document_file(path, name): data}, message)

    def _commit_at_head(self, principal, changes, message) -> CommitResult:
        """Commit document changes on top of the newest HEAD.

        A document is replaced as a whole, so two uploads of one name commit one after the
        other (the later one wins) instead of conflicting; only a HEAD that keeps moving under
        binary changes ends in :class:`Conflict`.
        """
        for attempt in range(3):
            try:
                return self._commit(principal, changes, self.state.store.head(), message)
            except Conflict:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def delete_document(self, principal, path, name, message) -> CommitResult:
        """Delete document ``name`` of page ``path`` (old versions stay in the history)."""
        P.check_path(path)
        P.check_filename(name)
        filename = P.document_file(path, name)
        if self.state.store.blob_id(filename) is None:
            raise NotFound(N_("Das Dokument gibt es nicht."))
        head = self.state.store.head()
        return self._commit(principal, {filename: None}, head, message)

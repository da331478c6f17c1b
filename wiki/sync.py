"""Bring the projections (pages, links, documents, redirects, changes, plugins) up to HEAD.

One sync runs at a time across processes (``<instance>/sync.lock``). It reads the commit the
projections reflect from ``sync_state``, walks the commits from there to HEAD, parses each changed
page once, fires ``wiki_page_changed`` / ``wiki_page_deleted`` and advances ``sync_state`` only
from the commit it started at. A crash in between loses nothing: the next sync starts again from
the recorded commit.
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from wiki import pages as P
from wiki.db import Change, Document, Link, PageRow, Redirect, SyncState, utcnow
from wiki.linkedit import extract_links
from wiki.messages import N_
from wiki.storage import Revision

LOG = logging.getLogger(__name__)
STATE_KEY = "core"
#: Extend the commit-graph after this many new commits (history walks stay fast).
GRAPH_EVERY = 50
#: ``session.info`` key where plugins put path prefixes whose pages need re-projecting.
REPROJECT_KEY = "wiki_reproject"
#: ``session.info`` flag of the sync's own session (plugins then read their tables through it
#: instead of a per-process cache, which may not yet reflect this sync's changes).
SYNC_SESSION_KEY = "wiki_sync"
RENAME_TRAILER = "Wiki-Renamed-From"
#: A full run (reindex, first sync) reads the blobs of this many pages with one git call.
BLOB_BATCH = 500
#: ``session.info`` key of the rows a full run wrote (strong references, see project_page).
FRESH_ROWS_KEY = "wiki_fresh_rows"


@dataclass
class Touch:
    """The last commit that touched a path during one sync run."""

    revision: Revision
    status: str
    old_path: str | None


def parse_rename(value: str) -> tuple[str, str] | None:
    """``"old => new"`` from a rename trailer, or None if malformed."""
    old, sep, new = value.partition(" => ")
    if not sep or not P.is_valid_path(old.strip()) or not P.is_valid_path(new.strip()):
        return None
    return old.strip(), new.strip()


def author_id(revision: Revision) -> str:
    """The public id from a pseudonymous author name ``u-<id>`` (else the name as is)."""
    name = revision.author_name
    return name[2:] if name.startswith("u-") else name


class Syncer:
    """Keeps the projections of one app in step with its git repository."""

    def __init__(self, state):
        self.state = state
        self.lock_path = state.instance / "sync.lock"
        self._synced_head: str | None = None
        self._mutex = threading.Lock()
        self._graph_due = GRAPH_EVERY  # write a commit-graph on this process's first sync
        self._graph_thread: threading.Thread | None = None

    @property
    def synced_head(self) -> str | None:
        """The commit this process last synced to (a cache key for derived per-process data)."""
        return self._synced_head

    # -- entry points -------------------------------------------------------------------------

    def ensure_current(self) -> None:
        """Sync if HEAD moved since this process last synced (a cheap ref-file read)."""
        head = self.state.store.head()
        if head is not None and head != self._synced_head:
            self.sync()

    def sync(self) -> str | None:
        """Sync from the recorded commit to HEAD; returns the commit now reflected."""
        with self._mutex, open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._sync_locked()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def reindex(self, progress=None) -> str | None:
        """Drop every projection and rebuild it from HEAD."""
        with self._mutex, open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with self.state.sessions() as session:
                    session.info[SYNC_SESSION_KEY] = True
                    for table in (Change, Link, Document, Redirect, PageRow):
                        session.execute(delete(table))
                    session.execute(delete(SyncState).where(SyncState.name == STATE_KEY))
                    self.state.pm.hook.wiki_reindex(session=session)
                    session.commit()
                self.state.render_cache.clear()
                return self._sync_locked(progress=progress)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- the work -----------------------------------------------------------------------------

    def _sync_locked(self, progress=None) -> str | None:
        store = self.state.store
        head = store.head()
        with self.state.sessions() as session:
            session.info[SYNC_SESSION_KEY] = True
            row = session.get(SyncState, STATE_KEY)
            start = row.commit if row and row.commit else None
            if head is None or start == head:
                self._synced_head = head
                return head
            if start is not None and not store.is_ancestor(start, head):
                # History was rewritten (purge): rebuild from scratch.
                for table in (Change, Link, Document, Redirect, PageRow):
                    session.execute(delete(table))
                self.state.pm.hook.wiki_reindex(session=session)
                start = None
            full = start is None
            if full:
                # A full run projects every page afresh: no per-page deletes, no merges.
                for table in (Link, Redirect, PageRow):
                    session.execute(delete(table))
            commits = store.commits_between(start, head)
            touched: dict[str, Touch] = {}
            renames: list[tuple[str, str, str]] = []
            for revision, changes in commits:
                for key, value in revision.trailers():
                    pair = parse_rename(value) if key == RENAME_TRAILER else None
                    if pair:
                        renames.append((*pair, revision.sha))
                for change in changes:
                    touched[change.path] = Touch(revision, change.status, change.old_path)
                    if change.status == "R" and change.old_path:
                        touched[change.old_path] = Touch(revision, "D", None)
            renamed_to = {new: old for old, new, _ in renames}
            self._apply(session, head, touched, renamed_to, progress, full)
            self._reproject(session, head, touched)
            self._record_redirects(session, renames)
            self._record_changes(session, commits, renamed_to)
            if start is None:
                session.merge(SyncState(name=STATE_KEY, commit=head, updated_at=utcnow()))
            else:
                result = session.execute(
                    update(SyncState)
                    .where(SyncState.name == STATE_KEY, SyncState.commit == start)
                    .values(commit=head, updated_at=utcnow())
                )
                if result.rowcount != 1:
                    session.rollback()
                    return self._synced_head
            self.state.pm.hook.wiki_sync_done(head=head, session=session)
            session.commit()
        self._synced_head = head
        self._graph_due += len(commits)
        if self._graph_due >= GRAPH_EVERY:
            self._update_graph_in_background()
        return head

    def _update_graph_in_background(self) -> None:
        """Keep ``git log -- path`` fast: extend the commit-graph now and then, off the request."""
        if self._graph_thread is not None and self._graph_thread.is_alive():
            return
        self._graph_due = 0
        self._graph_thread = threading.Thread(
            target=self.state.store.update_commit_graph, name="wiki-commit-graph", daemon=True
        )
        self._graph_thread.start()

    def _apply(self, session, head, touched, renamed_to, progress, full=False) -> None:
        store = self.state.store
        total = len(touched)
        items = sorted(touched.items())
        blobs: dict[str, bytes] = {}
        for index, (filename, touch) in enumerate(items):
            if progress and index % 500 == 0:
                progress(index, total)
            if full and index % BLOB_BATCH == 0:
                batch = items[index : index + BLOB_BATCH]
                blobs = self._read_blobs(
                    [store.blob_id(f, head) for f, _ in batch if P.path_of_file(f)]
                )
            page_path = P.path_of_file(filename)
            if page_path is not None:
                blob = store.blob_id(filename, head)
                if blob is None:
                    self._delete_page(session, page_path, head)
                else:
                    old_path = renamed_to.get(page_path)
                    self.project_page(
                        session,
                        page_path,
                        blob,
                        touch.revision,
                        old_path,
                        head,
                        data=blobs.get(blob),
                        fresh=full,
                    )
                continue
            document = P.document_of_file(filename)
            if document is not None:
                blob = store.blob_id(filename, head)
                page, name = document
                if blob is None:
                    session.execute(
                        delete(Document).where(Document.page == page, Document.name == name)
                    )
                else:
                    session.merge(
                        Document(
                            page=page,
                            name=name,
                            blob=blob,
                            size=len(store.read_blob(blob)),
                            updated_at=touch.revision.date,
                            author=author_id(touch.revision),
                        )
                    )
        if progress:
            progress(total, total)

    def _reproject(self, session, head, touched) -> None:
        """Re-project pages below prefixes a plugin marked (e.g. a changed space definition).

        Their blobs did not change, but their effective space and visibility may have.
        """
        prefixes = session.info.pop(REPROJECT_KEY, set())
        done = {P.path_of_file(f) for f in touched}
        for prefix in sorted(prefixes):
            rows = session.scalars(select(PageRow).where(PageRow.path.like(f"{prefix}/%"))).all()
            for row in rows:
                if row.path in done:
                    continue
                done.add(row.path)
                page = P.Page.parse(row.path, self.state.store.read_blob(row.blob), blob=row.blob)
                space, default_visibility = self.page_scope(session, row.path)
                row.space = space
                row.effective_visibility = page.effective_visibility(default_visibility)
                self.state.pm.hook.wiki_page_changed(
                    page=page, old_path=None, commit=head, session=session
                )

    def type_problems(self, session, page: P.Page, head: str) -> list[str]:
        """What the page type's validator says about a page (for pushed content)."""
        from wiki.acl import Principal
        from wiki.content import ValidationContext

        validator = self.page_types().get(page.type)
        if validator is None:
            return [f"Unbekannter Seitentyp „{page.type}“."]
        # Pushes come from administrators; who-may checks do not apply, content checks do.
        ctx = ValidationContext(
            principal=Principal(public_id="system", is_admin=True),
            head=head,
            store=self.state.store,
            session=session,
        )
        try:
            return list(validator(page, None, ctx) or [])
        except Exception:  # a validator's bug must not stop the sync (and so every route)
            LOG.exception("validator of type %s failed on %s", page.type, page.path)
            return [
                N_(
                    "Die Seite konnte nicht geprüft werden (Fehler im Seitentyp „%(type)s“).",
                    type=page.type,
                )
            ]

    def page_scope(self, session, path: str) -> tuple[str | None, str]:
        """(space, default visibility) of a page path, asking the plugins."""
        answer = self.state.pm.hook.wiki_page_space(path=path, session=session)
        if answer:
            return answer
        return None, self.state.config["WIKI_DEFAULT_VISIBILITY"]

    def _read_blobs(self, blobs) -> dict[str, bytes]:
        """Blob id → content of ``blobs`` (ids from git), read with one ``git cat-file``."""
        blobs = [b for b in blobs if b]
        if not blobs:
            return {}
        out = self.state.store._run(
            ["cat-file", "--batch"], input="".join(b + "\n" for b in blobs).encode()
        ).stdout
        found: dict[str, bytes] = {}
        pos = 0
        while pos < len(out):
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) < 3:  # "<id> missing"
                pos = end + 1
                continue
            size = int(header[2])
            if header[1] == b"blob":
                found[header[0].decode()] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return found

    def project_page(
        self, session, path, blob, revision, old_path, head, data=None, fresh=False
    ) -> None:
        """Write the projection of one page and tell the plugins (``fresh``: in a full run,
        whose start emptied the page, link and redirect tables; ``data``: the blob, if read)."""
        if data is None:
            data = self.state.store.read_blob(blob)
        page = P.Page.parse(path, data, blob=blob)
        space, default_visibility = self.page_scope(session, path)
        problems = list(page.problems) or self.type_problems(session, page, head)
        row = PageRow(
            path=path,
            title=page.title[:512],
            type=page.type,
            space=space,
            visibility=page.visibility,
            effective_visibility=page.effective_visibility(default_visibility),
            tags=json.dumps(page.tags, ensure_ascii=False),
            blob=blob,
            updated_at=revision.date,
            author=author_id(revision),
            problems=json.dumps(problems, ensure_ascii=False) if problems else "",
        )
        if fresh:
            session.add(row)
            # The session's identity map holds rows weakly: keep them for the rest of the run
            # (the search index and the change log look each page up again).
            session.info.setdefault(FRESH_ROWS_KEY, []).append(row)
        else:
            session.merge(row)
        if not fresh:
            session.execute(delete(Link).where(Link.src == path))
            session.execute(delete(Redirect).where(Redirect.old_path == path))
        for dst in sorted(extract_links(page.body, path) - {path}):
            session.add(Link(src=path, dst=dst))
        self.state.pm.hook.wiki_page_changed(
            page=page, old_path=old_path, commit=head, session=session
        )

    def _delete_page(self, session, path, head) -> None:
        session.execute(delete(PageRow).where(PageRow.path == path))
        session.execute(delete(Link).where(Link.src == path))
        self.state.pm.hook.wiki_page_deleted(path=path, commit=head, session=session)

    def _record_redirects(self, session, renames) -> None:
        for old, new, sha in renames:
            # Earlier redirects to the old name now lead to the new one.
            session.execute(
                update(Redirect).where(Redirect.new_path == old).values(new_path=new, commit=sha)
            )
            for sub in session.scalars(select(PageRow.path).where(PageRow.path.like(f"{new}/%"))):
                suffix = sub[len(new) :]
                if session.get(PageRow, old + suffix) is None:
                    session.merge(Redirect(old_path=old + suffix, new_path=sub, commit=sha))
            if session.get(PageRow, old) is None:
                session.merge(Redirect(old_path=old, new_path=new, commit=sha))

    def _record_changes(self, session, commits, renamed_to) -> None:
        for revision, changes in commits:
            for change in changes:
                page_path = P.path_of_file(change.path)
                document = None if page_path else P.document_of_file(change.path)
                target = page_path or (document[0] if document else None)
                if target is None:
                    continue
                if change.status == "R" and page_path:
                    action = "R"
                    old = P.path_of_file(change.old_path or "")
                elif document:
                    action, old = "F", None
                else:
                    action, old = change.status[:1], None
                row = session.get(PageRow, target)
                title = row.title if row else target
                if document:
                    title = f"{title}: {document[1]}"
                session.add(
                    Change(
                        commit=revision.sha,
                        path=target,
                        action=action,
                        old_path=old,
                        title=title[:512],
                        space=row.space if row else None,
                        visibility=row.effective_visibility if row else "board",
                        author=author_id(revision),
                        message=revision.message.strip()[:2000],
                        at=revision.date,
                    )
                )

    # -- helpers ------------------------------------------------------------------------------

    def page_types(self) -> dict:
        """Every registered page type → validator."""
        types = {}
        for group in self.state.pm.hook.wiki_page_types():
            types.update(group)
        return types

    def render(self, page: P.Page):
        """The rendered body of ``page`` (cached by blob sha)."""
        from wiki.markup import Renderer

        cache = self.state.render_cache
        key = (page.path, page.blob, Renderer.VERSION)
        rendered = cache.get(key) if page.blob else None
        if rendered is None:
            rendered = self.state.renderer.render(page.body, page.path)
            if page.blob:
                cache.put(key, rendered)
        return rendered

    def check(self) -> list[str]:
        """Differences between the projections and git at HEAD (empty when all agree)."""
        store = self.state.store
        head = store.head()
        problems = []
        with self.state.sessions() as session:
            row = session.get(SyncState, STATE_KEY)
            if (row.commit if row else None) != head:
                problems.append(f"sync_state is {row.commit if row else None}, HEAD is {head}")
            files = store.files(head) if head else {}
            in_git = {P.path_of_file(f): b for f, b in files.items() if P.path_of_file(f)}
            in_db = {r.path: r.blob for r in session.scalars(select(PageRow))}
            for path in sorted(set(in_git) | set(in_db)):
                if path not in in_db:
                    problems.append(f"page {path} is in git but not in the projection")
                elif path not in in_git:
                    problems.append(f"page {path} is in the projection but not in git")
                elif in_git[path] != in_db[path]:
                    problems.append(f"page {path}: projection blob {in_db[path]} != {in_git[path]}")
            docs_git = {d: b for f, b in files.items() if (d := P.document_of_file(f))}
            docs_db = {(d.page, d.name): d.blob for d in session.scalars(select(Document))}
            for key in sorted(set(docs_git) | set(docs_db)):
                if docs_git.get(key) != docs_db.get(key):
                    problems.append(
                        f"document {key[0]}/{key[1]} differs between git and projection"
                    )
            if head:
                for group in self.state.pm.hook.wiki_check(head=head, session=session):
                    problems.extend(group or [])
        return problems

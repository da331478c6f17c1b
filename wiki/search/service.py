"""The search service of one app: keeps the index in step with git and answers queries.

It is registered as a plugin object (``wiki.search``): the sync fires ``wiki_page_changed`` and
``wiki_page_deleted`` per page, which are buffered per thread for the sync run, and
``wiki_sync_done``, which writes the buffer once under the index lock and records the commit
the index now reflects. A write that fails (lock timeout, crash) leaves the recorded commit
behind; the next query notices and catches up from git. A missing, unreadable or outdated
(schema fingerprint) index is rebuilt from git and the ``pages`` projection.

Every answer is computed from documents the principal may read: the read filter is applied to
the matched set before anything is counted, ranked, excerpted or suggested.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import pickle
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.filedb.filestore import StorageError
from whoosh.filedb.filetables import FileFormatError
from whoosh.reading import ReaderClosed
from whoosh.support.levenshtein import distance

from wiki import acl as A
from wiki import pages as P
from wiki.db import PageRow, SyncState
from wiki.hookspecs import hookimpl
from wiki.search.analysis import clear_word_caches, folded_words
from wiki.search.engine import Engine, first_members, members
from wiki.search.querylang import BadQuery, Parsed, QueryBuilder, replace_word
from wiki.search.readers import Readers
from wiki.search.schema import (
    NO_SPACE,
    TITLE_BOOST,
    core_document,
    fingerprint,
    full_document,
    make_schema,
    plugin_fields,
)
from wiki.search.snippets import Highlighter
from wiki.search.store import IndexBusy, IndexStore, Snapshot, merge_tiers

log = logging.getLogger(__name__)

#: How long a sync waits for the index lock before leaving the work to a later catch-up.
WRITE_LOCK_TIMEOUT = 60.0
#: How long a query waits for another process that is updating or rebuilding the index.
QUERY_LOCK_TIMEOUT = 10.0
#: Results per page.
PER_PAGE = 20
#: Furthest result page (20 × 500 = 10,000 results).
MAX_PAGE = 500
#: "Meinten Sie …?" is offered when a query finds fewer than this many pages.
SUGGEST_BELOW = 3
#: Facets: (name in the query language, index field).
FACETS = (("typ", "type"), ("in", "space"), ("jahr", "year"))
#: Seconds without a query after which a process closes its searchers and drops its search
#: caches, giving the memory back (the next query is answered with cold caches).
IDLE_SECONDS = 20.0
#: An index update of at least this many pages forgets the cached word forms afterwards, as a
#: full build does (see :func:`wiki.search.analysis.clear_word_caches`).
BULK_UPDATE_PAGES = 500
#: What a damaged index raises while it is opened or read.
DAMAGE = (OSError, EOFError, ValueError, struct.error, zlib.error, pickle.UnpicklingError,
          whoosh_index.IndexError, ReaderClosed, FileFormatError, StorageError)  # fmt: skip

_UNKNOWN = object()


class SearchUnavailable(RuntimeError):
    """The index is being rebuilt by another process right now; try again shortly."""


@dataclass
class Hit:
    """One result."""

    path: str
    title: str
    title_html: Markup
    snippet: Markup
    type: str
    space: str | None
    visibility: str
    updated: datetime | None
    tags: list[str]
    score: float


@dataclass
class Facet:
    """One value of a facet with its count among the readable matches."""

    value: str
    count: int
    active: bool


@dataclass
class Results:
    """One page of results."""

    query: str
    total: int
    hits: list[Hit]
    page: int
    per_page: int
    sort: str
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    suggestion: str | None = None
    ignored: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total and self.page < MAX_PAGE

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, (self.total + self.per_page - 1) // self.per_page)


@dataclass
class _Run:
    """What one sync run changed (buffered per thread until ``wiki_sync_done``)."""

    head: str
    start: object  # the commit the run started from, None for a full run, or _UNKNOWN
    complete: bool
    pages: dict[str, object] = field(default_factory=dict)  # path → Page, None if deleted


def _malloc_trim() -> None:
    """Return freed heap memory to the system (glibc; elsewhere nothing happens).

    ``ctypes`` is imported with this module: imported here, its modules would be the first
    long-lived objects of an idle worker to land among freed memory."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def read_query(read_filter: A.ReadFilter) -> Q.Query:
    """The read allow-set as a whoosh query on the ``visibility`` and ``space`` fields."""
    if read_filter.everything:
        return Q.Every()
    parts: list[Q.Query] = [Q.Term("visibility", v) for v in sorted(read_filter.visibilities)]
    for visibility, spaces in sorted(read_filter.spaces.items()):
        for space in sorted(spaces):
            parts.append(Q.And([Q.Term("visibility", visibility), Q.Term("space", space)]))
    return Q.Or(parts) if parts else Q.NullQuery


class SearchService:
    """Index maintenance and queries for one app (see the module docstring)."""

    def __init__(self, state):
        self.state = state
        self.extra_fields = plugin_fields(state.pm)
        self.schema = make_schema(self.extra_fields)
        plugin_names = [
            name
            for name, plugin in state.pm.list_name_plugin()
            if name not in ("wiki.search",) and plugin is not None
        ]
        self.fingerprint = fingerprint(self.extra_fields, plugin_names)
        self.store = IndexStore(state.instance / "search", state.instance / "search.lock")
        self.builder = QueryBuilder(self.schema, self.extra_fields)
        self.engine = Engine(
            scored_fields=("title", "title_raw", "body", "parts", *self.builder.text_fields)
        )
        self.readers = Readers(IndexStore.open)
        self._local = threading.local()
        self._broken: set = set()
        self._background_lock = threading.Lock()
        self._background: threading.Thread | None = None
        self._background_pending = False
        self._pending_runs: list[_Run] = []
        self.idle_seconds = IDLE_SECONDS
        self._idle_lock = threading.Lock()
        self._idle_thread: threading.Thread | None = None
        self._last_query = 0.0

    # -- hooks: the sync ---------------------------------------------------------------------

    def _run(self, commit: str, session) -> _Run:
        run = getattr(self._local, "run", None)
        if run is None or run.head != commit:
            row = session.get(SyncState, "core")
            start = row.commit if row is not None and row.commit else None
            rebuild = getattr(self._local, "rebuild", False)
            self._local.rebuild = False
            run = _Run(head=commit, start=start, complete=start is None or rebuild)
            self._local.run = run
        return run

    @hookimpl(trylast=True)
    def wiki_page_changed(self, page, old_path, commit, session):
        # The page is kept and turned into a document at the end of the run, from the
        # projection row as the run leaves it (plugins may still change its space).
        try:
            run = self._run(commit, session)
            if old_path and old_path not in run.pages:
                run.pages[old_path] = None
            run.pages[page.path] = page
        except Exception:  # noqa: BLE001 - the index must never break a save
            log.exception("search: could not note %s", page.path)
            self._distrust_run(commit)

    @hookimpl(trylast=True)
    def wiki_page_deleted(self, path, commit, session):
        try:
            self._run(commit, session).pages[path] = None
        except Exception:  # noqa: BLE001
            log.exception("search: could not note the deletion of %s", path)
            self._distrust_run(commit)

    def _distrust_run(self, commit: str) -> None:
        """After a failure the run's notes are incomplete: let the flush diff git instead."""
        run = getattr(self._local, "run", None)
        if run is None or run.head != commit:
            run = self._local.run = _Run(head=commit, start=_UNKNOWN, complete=False)
        run.start = _UNKNOWN
        run.complete = False

    @hookimpl
    def wiki_reindex(self, session):
        self._local.run = None
        self._local.rebuild = True

    @hookimpl(trylast=True)
    def wiki_sync_done(self, head, session):
        run = getattr(self._local, "run", None)
        self._local.run = None
        if run is not None and run.head != head:
            run = None
        if run is None or not run.complete:
            # An edit: bring the index up in the background, so a save does not wait for
            # whoosh. A query never sees it stale: ensure_fresh() catches up first. The run's
            # notes go along, so that the update need not ask git again what changed.
            self._schedule_catch_up(run)
            return
        try:
            with self.store.locked(WRITE_LOCK_TIMEOUT):
                self._flush_locked(run, head, session)
        except Exception:  # noqa: BLE001 - a later query catches up from git
            log.exception("search: index update to %s failed; it will catch up later", head)

    def _schedule_catch_up(self, run: _Run | None = None) -> None:
        """Run (or re-run) the background index update of this process."""
        with self._background_lock:
            self._background_pending = True
            if run is not None:
                self._pending_runs.append(run)
            else:
                self._pending_runs = []
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(
                target=self._catch_up_loop, name="wiki-search-index", daemon=True
            )
            self._background.start()

    def _catch_up_loop(self) -> None:
        while True:
            with self._background_lock:
                if not self._background_pending:
                    self._background = None
                    return
                self._background_pending = False
                runs, self._pending_runs = self._pending_runs, []
            try:
                with self.store.locked(WRITE_LOCK_TIMEOUT), self.state.sessions() as session:
                    row = session.get(SyncState, "core")
                    target = row.commit if row is not None and row.commit else None
                    snap = self.store.snapshot()
                    if not self._fresh(snap, target):
                        self._catch_up_locked(session, snap, target, runs)
            except Exception:  # noqa: BLE001 - the next query or save catches up again
                log.exception("search: background index update failed")

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the background index update is done (benchmarks, tests, shutdown)."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    def _document(self, session, page) -> dict | None:
        """The index document of ``page`` from its projection row (None if it has none)."""
        row = session.get(PageRow, page.path)
        if row is None:
            return None
        try:
            return full_document(page, row, self.state.pm, self.extra_fields, session)
        except Exception:  # noqa: BLE001 - a plugin's fields must not keep the page out
            log.exception("search: plugin fields of %s failed", page.path)
            return core_document(page, row)

    def _flush_locked(self, run: _Run | None, head: str, session) -> None:
        snap = self.store.snapshot()
        if run is not None and run.complete:
            docs = (self._document(session, p) for p in run.pages.values() if p is not None)
            self.store.build(self.schema, (d for d in docs if d), head, self.fingerprint)
            self._forget_broken()
            return
        ix = self._open_for_write(snap)
        if ix is None:
            self._rebuild_locked(session, head)
            return
        if snap.commit == head:
            return
        changes = {
            path: None if page is None else self._document(session, page)
            for path, page in (run.pages.items() if run is not None else ())
        }
        if run is None or run.start is _UNKNOWN or snap.commit != run.start:
            if not self._is_ancestor(snap.commit, head):
                self._rebuild_locked(session, head)
                return
            for path in self._changed_pages(snap.commit, head):
                if path not in changes:
                    changes[path] = self._document_from_row(session, path)
        self._apply_locked(ix, snap, changes, head)

    # -- writing ----------------------------------------------------------------------------

    def _open_for_write(self, snap: Snapshot | None):
        if snap is None or snap.fingerprint != self.fingerprint or snap.folder in self._broken:
            return None
        try:
            return IndexStore.open(snap.folder)
        except Exception:  # noqa: BLE001 - unreadable: rebuild
            log.warning("search: index in %s is unreadable; rebuilding", snap.folder)
            return None

    def _apply_locked(self, ix, snap: Snapshot, changes: dict, commit: str | None) -> None:
        if changes:
            writer = self.store.writer(ix)
            try:
                for path, doc in changes.items():
                    if doc is None:
                        writer.delete_by_term("path", path)
                    else:
                        writer.update_document(**doc)
            except BaseException:
                writer.cancel()
                raise
            writer.commit(mergetype=merge_tiers)
            if len(changes) >= BULK_UPDATE_PAGES:  # a large push: its words are not needed again
                clear_word_caches()
        self.store.write_state(snap.folder, commit, self.fingerprint)

    def _rebuild_locked(self, session, commit: str | None) -> None:
        """A new index of every page in the ``pages`` projection (reflecting ``commit``)."""
        try:
            self.store.build(self.schema, self._all_documents(session), commit, self.fingerprint)
        finally:
            clear_word_caches()
        self._forget_broken()

    def _all_documents(self, session):
        paths = session.scalars(select(PageRow.path).order_by(PageRow.path)).all()
        for path in paths:
            doc = self._document_from_row(session, path)
            if doc is not None:
                yield doc

    def _document_from_row(self, session, path: str) -> dict | None:
        row = session.get(PageRow, path)
        if row is None or not row.blob:
            return None
        data = self.state.store.read_blob(row.blob)
        return self._document(session, P.Page.parse(path, data, blob=row.blob))

    def _changed_pages(self, old: str | None, new: str) -> set[str]:
        paths = set()
        for change in self.state.store.changed_files(old, new):
            for filename in (change.path, change.old_path):
                path = P.path_of_file(filename) if filename else None
                if path:
                    paths.add(path)
        return paths

    def _is_ancestor(self, old: str | None, new: str | None) -> bool:
        if old is None or new is None:
            return False
        if old == new:
            return True
        try:
            return self.state.store.is_ancestor(old, new)
        except Exception:  # noqa: BLE001 - a commit purged from history
            return False

    def _forget_broken(self) -> None:
        self._broken = set()

    # -- freshness --------------------------------------------------------------------------

    def _fresh(self, snap: Snapshot | None, commit) -> bool:
        return (
            snap is not None
            and snap.fingerprint == self.fingerprint
            and snap.commit == commit
            and snap.folder not in self._broken
        )

    def ensure_fresh(self) -> Snapshot:
        """The index, brought up to HEAD first if it is behind (or rebuilt if it is unusable)."""
        snap = self.store.snapshot()
        if self._fresh(snap, self.state.store.head()):
            return snap
        # The projections first (a sync writes the index through the hooks) …
        self.state.syncer.ensure_current()
        snap = self.store.snapshot()
        if self._fresh(snap, self.state.store.head()):
            return snap
        # … then the index itself, from the commit the projections reflect.
        try:
            with self.store.locked(QUERY_LOCK_TIMEOUT), self.state.sessions() as session:
                row = session.get(SyncState, "core")
                target = row.commit if row is not None and row.commit else None
                snap = self.store.snapshot()
                if not self._fresh(snap, target):
                    self._catch_up_locked(session, snap, target)
                    snap = self.store.snapshot()
        except IndexBusy:
            raise SearchUnavailable("search index is being updated") from None
        if snap is None:
            raise SearchUnavailable("search index could not be built")
        return snap

    def _catch_up_locked(
        self, session, snap: Snapshot | None, target: str | None, runs: list[_Run] = ()
    ) -> None:
        ix = self._open_for_write(snap)
        if ix is None:
            self._rebuild_locked(session, target)
            return
        changes = self._changes_of_runs(session, snap, target, runs)
        if changes is None:
            if not self._is_ancestor(snap.commit, target):
                self._rebuild_locked(session, target)
                return
            changes = {
                path: self._document_from_row(session, path)
                for path in self._changed_pages(snap.commit, target)
            }
        self._apply_locked(ix, snap, changes, target)

    def _changes_of_runs(self, session, snap: Snapshot, target, runs: list[_Run]) -> dict | None:
        """path → document (None: delete) from the notes of the sync runs that led from the
        index's commit to ``target`` one after the other; None unless they do exactly that."""
        commit = snap.commit
        pages: dict[str, object] = {}
        for run in runs:
            if commit is None or run.start is _UNKNOWN or run.start != commit:
                return None
            pages.update(run.pages)
            commit = run.head
        if not runs or commit != target:
            return None
        return {
            path: None if page is None else self._document(session, page)
            for path, page in pages.items()
        }

    def rebuild(self) -> None:
        """Build a new index from the projection and swap it in (``verbandswiki reindex``)."""
        self.state.syncer.ensure_current()
        with self.store.locked(WRITE_LOCK_TIMEOUT), self.state.sessions() as session:
            row = session.get(SyncState, "core")
            self._rebuild_locked(session, row.commit if row is not None else None)

    def optimize(self) -> None:
        """Merge the index into one segment (``verbandswiki maintain``)."""
        self.ensure_fresh()
        with self.store.locked(600):
            snap = self.store.snapshot()
            ix = self._open_for_write(snap)
            if ix is None:
                return
            writer = self.store.writer(ix)
            writer.commit(optimize=True)
            self.store.remove_retired()

    # -- reading ----------------------------------------------------------------------------

    def _with_view(self, work):
        """Run ``work(view)`` on a fresh index; a damaged index is reopened, then rebuilt.

        The searcher is this thread's one of the newest generation (:mod:`.readers`); not
        ``searcher.refresh()``: it reuses the reader of a segment whose id is unchanged, and so
        misses documents deleted from that segment since (whoosh compares segments by id only).
        """
        self._note_query()
        for attempt in range(3):
            snap = self.ensure_fresh()
            try:
                with self.readers.searcher(snap.folder) as searcher:
                    return work(self.engine.view(searcher, str(snap.folder)))
            except DAMAGE:
                log.warning(
                    "search: reading %s failed (attempt %d)",
                    snap.folder,
                    attempt + 1,
                    exc_info=True,
                )
                self.readers.discard()
                if attempt >= 1:
                    self._broken.add(snap.folder)
        raise SearchUnavailable("search index is damaged")

    def close(self) -> None:
        """Close the searchers of this process that are not answering a query right now."""
        self.readers.close_idle()

    def _note_query(self) -> None:
        """Remember the time of this query; make sure an idle watcher runs."""
        with self._idle_lock:
            self._last_query = time.monotonic()
            if self._idle_thread is None:
                self._idle_thread = threading.Thread(
                    target=self._watch_idle, name="wiki-search-idle", daemon=True
                )
                self._idle_thread.start()

    def _watch_idle(self) -> None:
        """Once no query came for ``idle_seconds``: close the searchers, drop the caches and
        give the freed memory back to the system; then end (the next query starts anew)."""
        while True:
            with self._idle_lock:
                last = self._last_query
            wait = last + self.idle_seconds - time.monotonic()
            if wait > 0:
                time.sleep(wait + 0.01)
                continue
            try:
                self.readers.close_idle()
                self.engine.clear()
                clear_word_caches()
                gc.collect()
                _malloc_trim()
            except Exception:  # noqa: BLE001 - never let the watcher die with the lock held
                log.exception("search: releasing idle memory failed")
            with self._idle_lock:
                if self._last_query == last:
                    self._idle_thread = None
                    return

    def _allow(self, view, principal) -> int:
        read_filter = self.state.acl.read_filter(principal)
        return view.allow_mask(read_filter.key(), lambda: read_query(read_filter))

    def search(
        self, principal, text: str, page: int = 1, sort: str = "relevance", per_page=PER_PAGE
    ) -> Results:
        """One page of results for ``text`` as ``principal`` may see them (BadQuery if
        malformed, SearchUnavailable while another process rebuilds the index)."""
        parsed = self.builder.parse(text)
        page = max(1, min(int(page), MAX_PAGE))
        sort = "date" if sort == "date" else "relevance"
        return self._with_view(
            lambda view: self._search(view, principal, parsed, page, sort, per_page)
        )

    def scores(self, principal, text: str, page_type: str | None = None) -> dict[str, float]:
        """Path → score of every page matching ``text`` that ``principal`` may read (of
        ``page_type`` if given): the full-text part of a plugin's own listing, which counts
        and pages in SQL. Raises BadQuery and SearchUnavailable like :meth:`search`."""
        parsed = self.builder.parse(text)

        def work(view):
            mask, leaves = view.match_scored(parsed.query)
            mask &= self._allow(view, principal)
            if page_type is not None:
                mask &= view.facet_masks("type").get(page_type, 0)
            if not parsed.scored:
                return dict.fromkeys((view.path(doc) for doc in members(mask)), 0.0)
            return {view.path(doc): score for doc, score in view.scores(mask, leaves).items()}

        return self._with_view(work)

    def _search(self, view, principal, parsed: Parsed, page, sort, per_page) -> Results:
        allow = self._allow(view, principal)
        mask, leaves = view.match_scored(parsed.query)
        mask &= allow
        total = mask.bit_count()
        offset = (page - 1) * per_page
        if sort == "date" or not parsed.scored:
            ranked = [(doc, 0.0) for doc in self._by_date(view, mask, offset, per_page)]
        else:
            ranked = view.top(mask, leaves, offset + per_page, view.path)[offset:]
        highlighter = Highlighter(parsed.stems, parsed.prefixes)
        hits = []
        for doc, score in ranked:
            stored = view.searcher.stored_fields(doc)
            hit = self._hit(stored, score, highlighter)
            ref = A.PageRef(hit.path, hit.visibility, hit.space)
            if not self.state.acl.can(principal, A.READ, ref):
                log.error("search: read filter and permission disagree on %s", hit.path)
                continue
            hits.append(hit)
        facets = {}
        active = set(parsed.filters)
        for name, fieldname in FACETS:
            values = []
            for value, value_mask in view.facet_masks(fieldname).items():
                count = (mask & value_mask).bit_count()
                if count and value != NO_SPACE:
                    values.append(Facet(value, count, (name, value) in active))
            if name == "jahr":
                values.sort(key=lambda f: f.value, reverse=True)
            else:
                values.sort(key=lambda f: (-f.count, f.value))
            facets[name] = values
        suggestion = None
        if total < SUGGEST_BELOW and parsed.words:
            suggestion = self._suggest(view, parsed, allow, total)
        return Results(
            query=parsed.text,
            total=total,
            hits=hits,
            page=page,
            per_page=per_page,
            sort=sort,
            facets=facets,
            suggestion=suggestion,
            ignored=list(parsed.ignored),
        )

    @staticmethod
    def _by_date(view, mask: int, offset: int, count: int) -> list[int]:
        if mask.bit_count() <= 2000:
            rank = view.date_rank()
            docs = sorted(members(mask), key=rank.__getitem__)
            return docs[offset : offset + count]
        return first_members(mask, view.date_order(), count, offset)

    @staticmethod
    def _hit(stored: dict, score: float, highlighter: Highlighter) -> Hit:
        title = stored.get("title") or stored["path"]
        return Hit(
            path=stored["path"],
            title=title,
            title_html=highlighter.mark(title),
            snippet=highlighter.snippet(stored.get("content") or ""),
            type=stored.get("type") or "page",
            space=stored.get("space") or None,
            visibility=stored.get("visibility") or "board",
            updated=stored.get("updated"),
            tags=list(stored.get("tags") or []),
            score=score,
        )

    # -- spelling ---------------------------------------------------------------------------

    def _word_mask(self, view, term: str) -> int:
        return view.term("title", term).mask | view.term("body", term).mask

    def _suggest(self, view, parsed: Parsed, allow: int, total: int) -> str | None:
        """A corrected query that finds more readable pages, or None.

        whoosh's corrector would offer any word of the index, also one that occurs only in
        pages the reader may not see; candidates are therefore only words of readable pages
        (their bit set is intersected with ``allow``), and the corrected query is only offered
        if it finds something the reader may see."""
        replacements = []
        for clause, term in parsed.words:
            if self._word_mask(view, term) & allow:
                continue
            # One edit first (cheap automaton); two only for long words without a match.
            candidates: set[str] = set()
            for maxdist in (1, 2) if len(term) >= 8 else (1,):
                candidates = view.terms_within("body", term, maxdist, prefix=1)
                candidates |= view.terms_within("title", term, maxdist, prefix=1)
                candidates.discard(term)
                if candidates:
                    break
            ranked = []
            for candidate in candidates:
                visible = self._word_mask(view, candidate) & allow
                if visible:
                    ranked.append((distance(term, candidate), -visible.bit_count(), candidate))
            if not ranked:
                continue
            ranked.sort()
            candidate = ranked[0][2]
            form = self._written_form(view, candidate, self._word_mask(view, candidate) & allow)
            if form:
                replacements.append((clause, form))
        if not replacements:
            return None
        text = parsed.text
        for clause, form in sorted(replacements, key=lambda r: r[0].start, reverse=True):
            text = replace_word(text, clause, form)
        try:
            corrected = self.builder.parse(text)
        except BadQuery:
            return None
        found = (view.match(corrected.query) & allow).bit_count()
        return text if found > total else None

    @staticmethod
    def _written_form(view, stem_text: str, visible: int) -> str | None:
        """How the word with this stem is written in a page the reader may see."""
        highlighter = Highlighter({stem_text}, ())
        for doc in members(visible)[:5]:
            stored = view.searcher.stored_fields(doc)
            for text in (stored.get("title") or "", stored.get("content") or ""):
                found = highlighter.matches(text)
                if found:
                    start, end, _ = found[0]
                    return text[start:end].lower() if text[start:end].isupper() else text[start:end]
        return None

    # -- titles -----------------------------------------------------------------------------

    def titles(self, principal, text: str, limit: int = 10) -> list[dict]:
        """Readable pages whose title words start with the words of ``text`` (autocomplete)."""
        text = (text or "").strip()[:100]
        words = folded_words(text)
        if len(text) < 2 or not words:
            return []
        return self._with_view(lambda view: self._titles(view, principal, text, words, limit))

    def _titles(self, view, principal, text, words, limit) -> list[dict]:
        allow = self._allow(view, principal)
        parts = [Q.Or([Q.Prefix("title_raw", w), Q.Term("title_raw", w, boost=2.0)]) for w in words]
        q: Q.Query = parts[0] if len(parts) == 1 else Q.And(parts)
        path = text.lower().strip("/")
        if "/" in path and P.is_valid_path(path.rstrip("-")):
            q = Q.Or([q, Q.ConstantScoreQuery(Q.Prefix("path", path), TITLE_BOOST)])
        mask, leaves = view.match_scored(q)
        mask &= allow
        if not mask and len(words[-1]) >= 4:
            close = view.terms_within("title_raw", words[-1], 1, prefix=1)
            if close:
                fuzzy = Q.Or([Q.Term("title_raw", t) for t in sorted(close)])
                q = Q.And([*parts[:-1], fuzzy]) if len(parts) > 1 else fuzzy
                mask, leaves = view.match_scored(q)
                mask &= allow
        best = view.top(mask, leaves, limit, lambda d: (len(view.path(d)), view.path(d)))
        result = []
        for doc, _ in best:
            stored = view.searcher.stored_fields(doc)
            ref = A.PageRef(stored["path"], stored.get("visibility"), stored.get("space") or None)
            if self.state.acl.can(principal, A.READ, ref):
                result.append({"path": stored["path"], "title": stored.get("title") or ""})
        return result

    # -- information -----------------------------------------------------------------------

    def status(self) -> dict:
        """Commit, document count and size of the current index (for checks and benchmarks)."""
        snap = self.ensure_fresh()
        ix = IndexStore.open(snap.folder)
        with ix.searcher() as searcher:
            count = searcher.doc_count()
            segments = len(searcher.reader().leaf_readers())
        return {
            "commit": snap.commit,
            "documents": count,
            "segments": segments,
            "bytes": self.store.size(),
            "folder": str(snap.folder),
        }

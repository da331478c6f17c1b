"""The open whoosh searchers of one process: at most one per thread, of the newest generation.

A whoosh searcher is not safe to share between threads: its segment files are read with
``seek`` + ``read`` on shared file objects (invariant 8). So each thread that queries keeps one
searcher, but every searcher is registered here, and as soon as any thread opens a newer index
generation (after a save, or a rebuild that swapped folders) every searcher of an older
generation is closed: idle ones at once, the ones answering a query right now when that query
is done. A process therefore never holds more than one searcher per thread, and superseded
segment files are released right away instead of when the garbage collector gets round to them.

The index is opened without ``mmap`` (see :meth:`wiki.search.store.IndexStore.open`): mapped
segment files count in the worker's resident memory once per mapping, and whoosh could not
unmap a segment while any buffer of it was still referenced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


class _Entry:
    """One thread's searcher of one index generation."""

    __slots__ = ("folder", "generation", "ix", "searcher", "busy", "closed")

    def __init__(self, folder: Path, ix, searcher):
        self.folder = folder
        self.ix = ix
        self.searcher = searcher
        self.generation = searcher.reader().generation()
        self.busy = 0
        self.closed = False

    @property
    def key(self) -> tuple[Path, int]:
        return (self.folder, self.generation)


class Readers:
    """The searchers of one process (see the module docstring).

    ``open_index(folder)`` returns a whoosh index object for ``folder``."""

    def __init__(self, open_index: Callable[[Path], object]):
        self._open_index = open_index
        self._lock = threading.Lock()
        self._entries: set[_Entry] = set()
        self._newest: tuple[Path, int] | None = None
        self._local = threading.local()

    @contextmanager
    def searcher(self, folder: Path) -> Iterator[object]:
        """This thread's searcher of the newest generation of the index in ``folder``."""
        entry = self._acquire(Path(folder))
        try:
            yield entry.searcher
        finally:
            self._release(entry)

    def _acquire(self, folder: Path) -> _Entry:
        local = self._local
        entry: _Entry | None = getattr(local, "entry", None)
        if entry is not None:
            with self._lock:
                usable = not entry.closed and entry.folder == folder
                if usable:
                    entry.busy += 1
            if usable:
                try:
                    current = entry.ix.latest_generation() == entry.generation
                except Exception:  # noqa: BLE001 - the folder went away: open anew
                    current = False
                if current:
                    return entry
                self._release(entry, stale=True)
        ix = entry.ix if entry is not None and entry.folder == folder else None
        if ix is None:
            ix = self._open_index(folder)
        fresh = _Entry(folder, ix, ix.searcher())
        fresh.busy = 1
        with self._lock:
            self._entries.add(fresh)
            newest = self._newest
            if newest is None or newest[0] != folder or newest[1] <= fresh.generation:
                self._newest = fresh.key
            stale = [e for e in self._entries if e.key != self._newest and not e.busy]
            for old in stale:
                self._entries.discard(old)
                old.closed = True
        local.entry = fresh
        for old in stale:
            _close(old)
        return fresh

    def _release(self, entry: _Entry, stale: bool = False) -> None:
        with self._lock:
            entry.busy -= 1
            close = (
                not entry.busy
                and not entry.closed
                and (
                    stale
                    or entry.key != self._newest
                    or getattr(self._local, "entry", None) is not entry
                )
            )
            if close:
                entry.closed = True
                self._entries.discard(entry)
        if close:
            if getattr(self._local, "entry", None) is entry:
                self._local.entry = None
            _close(entry)

    def discard(self) -> None:
        """Close this thread's searcher (its index looked damaged)."""
        entry = getattr(self._local, "entry", None)
        self._local.entry = None
        if entry is None:
            return
        with self._lock:
            close = not entry.busy and not entry.closed
            if close:
                entry.closed = True
                self._entries.discard(entry)
        if close:
            _close(entry)

    def close_idle(self) -> None:
        """Close every searcher that is not answering a query right now (all threads')."""
        self._local.entry = None
        with self._lock:
            idle = [e for e in self._entries if not e.busy]
            for entry in idle:
                entry.closed = True
                self._entries.discard(entry)
        for entry in idle:
            _close(entry)

    def open_generations(self) -> list[tuple[Path, int]]:
        """(folder, generation) of every open searcher, one item per searcher."""
        with self._lock:
            return sorted((e.key for e in self._entries), key=lambda k: (str(k[0]), k[1]))


def _close(entry: _Entry) -> None:
    """Close the searcher of ``entry`` and let it go: another thread's local may still name the
    closed entry until that thread's next query, and a closed whoosh searcher keeps its
    segments' buffers."""
    searcher, entry.searcher = entry.searcher, None
    try:
        searcher.close()
    except Exception:  # noqa: BLE001 - closing a damaged reader must not fail a query
        log.debug("search: closing a searcher of %s failed", entry.folder, exc_info=True)

"""Search readers are shared per index generation and closed as soon as a newer one replaces
them: after many saves a process holds at most one searcher per querying thread, all of the
newest generation, and never maps a segment file into memory (issue 13)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import save
from wiki.acl import ANONYMOUS
from wiki.search.analysis import fold, stem

THREADS = 4
#: Words put into the word caches before a test expects them emptied (other threads of the test
#: process may add a few meanwhile, never this many).
WORDS = 1000


def fill_word_caches() -> None:
    for number in range(WORDS):
        stem(f"Probewort{number}"), fold(f"Probewort{number}")
    assert stem.cache_info().currsize >= WORDS


def search_files(folder: Path) -> tuple[list[str], list[str]]:
    """(open file descriptors, memory mappings) of this process into ``folder``."""
    prefix = str(folder.resolve())
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(prefix):
            fds.append(target)
    with open("/proc/self/maps") as maps:
        mapped = [line.split()[-1] for line in maps if prefix in line]
    return fds, mapped


def test_superseded_searchers_are_closed(app, login):
    state = app.extensions["wiki"]
    service = state.search
    client = login("user")
    folder = state.instance / "search"
    barrier_lock = threading.Lock()
    seen_threads: set[int] = set()

    def query(word: str) -> int:
        with barrier_lock:
            seen_threads.add(threading.get_ident())
        with app.app_context():
            return service.search(ANONYMOUS, word).total

    with ThreadPoolExecutor(THREADS) as pool:
        # Every thread opens a searcher of the first generation.
        list(pool.map(query, ["start"] * THREADS * 4))
        assert len(service.readers.open_generations()) <= THREADS
        for number in range(6):
            response = save(
                client, f"generationen/seite-{number}", f"# Seite {number}\n\nwort{number}"
            )
            assert response.status_code == 302
            service.wait_idle()
            # Only one query after this save: the other threads stay idle on an old searcher.
            assert pool.submit(query, f"wort{number}").result() == 1

        open_now = service.readers.open_generations()
        assert len(seen_threads) > 1
        # Only the thread that asked last holds a searcher, and it is of the newest generation.
        assert len(open_now) == 1, open_now
        with app.app_context():
            status = service.status()
        assert open_now[0][0] == Path(status["folder"])
        fds, mapped = search_files(folder)
        assert mapped == [], mapped
        assert not [fd for fd in fds if fd.endswith("(deleted)")], fds
        # One handle per segment of the one open searcher (a compound segment is one file).
        assert len(fds) <= status["segments"], (fds, status)

        # All threads again: never more than one searcher per thread.
        assert all(pool.map(query, ["wort5"] * THREADS * 4))
        open_now = service.readers.open_generations()
        assert 1 <= len(open_now) <= THREADS
        assert len(set(open_now)) == 1
        fds, mapped = search_files(folder)
        assert mapped == []
        assert len(fds) <= THREADS * status["segments"]

    service.close()
    assert service.readers.open_generations() == []
    assert search_files(folder) == ([], [])


def test_a_rebuild_closes_the_searchers_of_the_old_folder(app):
    state = app.extensions["wiki"]
    service = state.search
    with app.app_context():
        assert service.search(ANONYMOUS, "start").total >= 1
        old = service.readers.open_generations()
        assert len(old) == 1
        service.rebuild()
        assert service.search(ANONYMOUS, "start").total >= 1
        new = service.readers.open_generations()
    assert len(new) == 1
    assert new[0][0] != old[0][0]
    fds, mapped = search_files(state.instance / "search")
    assert mapped == []
    assert all(fd.startswith(str(new[0][0].resolve())) for fd in fds), fds


def test_an_idle_process_gives_its_search_memory_back(app):
    state = app.extensions["wiki"]
    service = state.search
    service.idle_seconds = 1.0
    fill_word_caches()
    with app.app_context():
        assert service.search(ANONYMOUS, "start").total >= 1
        assert service.engine.cached()
        assert len(service.readers.open_generations()) == 1
        deadline = time.monotonic() + 10
        while service.engine.cached() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not service.engine.cached()
        assert service.readers.open_generations() == []
        assert search_files(state.instance / "search") == ([], [])
        assert stem.cache_info().currsize < WORDS // 2  # the cached word forms go too
        # The next query opens and caches again.
        assert service.search(ANONYMOUS, "start").total >= 1
        assert service.engine.cached()


def test_closed_searchers_are_let_go_while_their_threads_live_on(app):
    """Closing from another thread (the idle watcher) must free the searchers: a thread that
    queried keeps naming its closed entry until its next query, and a closed whoosh searcher
    still holds its segments' buffers."""
    import gc
    import weakref

    service = app.extensions["wiki"].search

    def query(word: str) -> int:
        with app.app_context():
            return service.search(ANONYMOUS, word).total

    with ThreadPoolExecutor(THREADS) as pool:
        assert all(pool.map(query, ["start"] * THREADS * 4))
        entries = list(service.readers._entries)
        assert entries
        searchers = [weakref.ref(entry.searcher) for entry in entries]
        readers = [weakref.ref(entry.searcher.reader()) for entry in entries]
        service.close()  # from this thread, while the pool's threads live on
        gc.collect()
        assert [ref() for ref in searchers + readers] == [None] * (2 * len(entries))
        # The threads open new searchers on their next query.
        assert all(pool.map(query, ["start"] * THREADS * 4))
        assert service.readers.open_generations()


def test_full_builds_and_bulk_updates_forget_the_cached_word_forms(app, login, monkeypatch):
    """A full build stems every word of every page: the cache of word forms it fills would
    stay with the worker (up to 200,000 words each), so it is emptied afterwards."""
    import wiki.search.service as service_module

    service = app.extensions["wiki"].search
    fill_word_caches()
    with app.app_context():
        service.rebuild()
    assert stem.cache_info().currsize < WORDS // 2 and fold.cache_info().currsize < WORDS // 2
    # An index update of at least BULK_UPDATE_PAGES pages does the same.
    monkeypatch.setattr(service_module, "BULK_UPDATE_PAGES", 1)
    client = login("user")
    fill_word_caches()
    assert save(client, "wortformen", "# Wortformen\n\nWortformenprobe").status_code == 302
    service.wait_idle()
    assert stem.cache_info().currsize < WORDS // 2
    with app.app_context():
        assert service.search(ANONYMOUS, "Wortformenprobe").total == 1

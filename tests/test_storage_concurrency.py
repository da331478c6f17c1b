"""GitStore under concurrent writers (processes and threads) and readers."""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import subprocess
import threading
import time

import pytest

from wiki.storage import Author, Conflict, GitStore

pytestmark = pytest.mark.slow

SPAWN = multiprocessing.get_context("spawn")
JOIN_TIMEOUT = 120


def collect(procs, out) -> list:
    """One result per process; fails fast if a process dies without reporting."""
    results = []
    deadline = time.monotonic() + JOIN_TIMEOUT
    while len(results) < len(procs) and time.monotonic() < deadline:
        try:
            results.append(out.get(timeout=0.2))
        except queue.Empty:
            if not any(p.is_alive() for p in procs) and out.empty():
                break
    for p in procs:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
    assert [p.exitcode for p in procs] == [0] * len(procs)
    assert len(results) == len(procs)
    return results


def git(store: GitStore, *args: str) -> str:
    proc = subprocess.run(
        ["git", "--git-dir", store.repo_path, *args], capture_output=True, check=True
    )
    return proc.stdout.decode()


def _writer(repo_path: str, worker: int, commits: int, start, out) -> None:
    store = GitStore(repo_path)
    author = Author(f"u-worker{worker}", f"u-worker{worker}@noreply.invalid")
    start.wait(timeout=60)
    made = 0
    for i in range(commits):
        path = f"bereich-{worker}/seite-{i}.md"
        result = store.commit({path: f"worker {worker} commit {i}\n".encode()}, None, author, path)
        made += result.changed
    store.close()
    out.put((worker, made))


def _same_page_saver(repo_path: str, worker: int, line: int, base: str, start, out) -> None:
    store = GitStore(repo_path)
    text = store.read("seite.md", base).decode().splitlines()
    text[line] = f"edited by worker {worker}"
    author = Author(f"u-worker{worker}", f"u-worker{worker}@noreply.invalid")
    start.wait(timeout=60)
    try:
        result = store.commit(
            {"seite.md": ("\n".join(text) + "\n").encode()}, base, author, f"worker {worker}"
        )
    except Conflict as exc:
        out.put((worker, line, "conflict", exc.head))
    else:
        out.put((worker, line, "merged" if result.merged_paths else "direct", result.sha))
    store.close()


def test_many_processes_commit_to_different_pages(tmp_path):
    store = GitStore(tmp_path / "content.git")
    store.init({"start.md": b"start\n"})
    start = SPAWN.Barrier(8)
    out = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=_writer, args=(store.repo_path, w, 25, start, out)) for w in range(8)
    ]
    for p in procs:
        p.start()
    made = dict(collect(procs, out))
    assert made == dict.fromkeys(range(8), 25)
    assert git(store, "rev-list", "--count", "main").strip() == "201"
    files = store.files()
    assert len(files) == 201
    assert store.read("bereich-7/seite-24.md") == b"worker 7 commit 24\n"
    store.fsck()
    store.close()


def test_same_page_from_same_base_merges_or_conflicts(tmp_path):
    store = GitStore(tmp_path / "content.git")
    # edited lines are four lines apart so that git merges them cleanly; two pairs share a line
    base = store.init({"seite.md": "".join(f"line {i}\n" for i in range(24)).encode()})
    edits = {0: 0, 1: 4, 2: 8, 3: 12, 4: 0, 5: 4}  # worker -> line
    start = SPAWN.Barrier(len(edits))
    out = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=_same_page_saver, args=(store.repo_path, w, line, base, start, out))
        for w, line in edits.items()
    ]
    for p in procs:
        p.start()
    results = collect(procs, out)
    saved = [r for r in results if r[2] != "conflict"]
    refused = [r for r in results if r[2] == "conflict"]
    assert len(saved) + len(refused) == len(edits)
    # exactly one save per edited line wins; the other save of a shared line is refused
    assert sorted(r[1] for r in saved) == [0, 4, 8, 12]
    assert sorted(r[1] for r in refused) == [0, 4]
    assert sum(r[2] == "direct" for r in saved) == 1  # the first one needed no merge
    final = store.read("seite.md").decode().splitlines()
    for worker, line, _how, _sha in saved:
        assert final[line] == f"edited by worker {worker}"
    assert git(store, "rev-list", "--count", "main").strip() == str(1 + len(saved))
    store.fsck()
    store.close()


def test_threads_read_while_threads_commit(tmp_path):
    store = GitStore(tmp_path / "content.git")
    seed = {f"bereich-{i % 10}/seite-{i}.md": f"seed {i}\n".encode() for i in range(200)}
    store.init(seed)
    paths = sorted(seed)
    errors: list[BaseException] = []
    stop = threading.Event()
    reads = [0] * 16

    def reader(n: int) -> None:
        rnd = random.Random(n)
        try:
            while not stop.is_set():
                path = rnd.choice(paths)
                head = store.head()
                data = store.read(path, head)
                assert data is not None and data.endswith(b"\n")
                assert store.blob_id(path, head) is not None
                if reads[n] % 50 == 0:
                    assert len(store.files(head)) >= len(paths)
                reads[n] += 1
        except BaseException as exc:  # collected and re-raised by the test
            errors.append(exc)

    def committer(n: int) -> None:
        author = Author(f"u-writer{n}", f"u-writer{n}@noreply.invalid")
        try:
            for i in range(15):
                path = paths[n + 4 * i]  # each writer edits its own pages
                base = store.head()
                store.commit({path: f"writer {n} edit {i}\n".encode()}, base, author, "edit")
                store.commit({f"neu/{n}-{i}.md": b"new\n"}, store.head(), author, "new")
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(16)]
    writers = [threading.Thread(target=committer, args=(n,), daemon=True) for n in range(4)]
    for t in readers + writers:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in writers:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    stop.set()
    for t in readers:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    alive = [t.name for t in readers + writers if t.is_alive()]
    assert not alive, f"threads still running (hang?): {alive}"
    assert not errors, errors
    assert all(reads), reads
    assert git(store, "rev-list", "--count", "main").strip() == str(1 + 4 * 15 * 2)
    store.fsck()
    store.close()


def _cat_file_parent(store: GitStore) -> int:
    """Parent pid of the cat-file process that this thread's Repo talks to."""
    proc = store._repo().git.cat_file_all.proc
    with open(f"/proc/{proc.pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


def _fork_child_read(store: GitStore, out) -> None:
    data = store.read("a.md")
    out.put((data, _cat_file_parent(store) == os.getpid()))


def test_forked_child_does_not_share_the_parents_pipes(tmp_path):
    store = GitStore(tmp_path / "content.git")
    store.init({"a.md": b"a\n"})
    assert store.read("a.md") == b"a\n"  # the parent opened its cat-file processes
    fork = multiprocessing.get_context("fork")
    out = fork.Queue()
    child = fork.Process(target=_fork_child_read, args=(store, out))
    child.start()
    assert collect([child], out) == [(b"a\n", True)]
    assert _cat_file_parent(store) == os.getpid()
    for _ in range(20):
        assert store.read("a.md") == b"a\n"
    store.close()

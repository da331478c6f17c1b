"""GitStore: commits, merges, history, injection defence, purge and tree format."""

from __future__ import annotations

import gc
import os
import subprocess
import threading

import pytest

from wiki.storage import (
    Author,
    BadPath,
    BadRevision,
    Conflict,
    FileChange,
    GitStore,
    StaleRef,
)

ALICE = Author("u-1a2b3c", "u-1a2b3c@noreply.invalid")
BOB = Author("u-4d5e6f", "u-4d5e6f@noreply.invalid")
RENAME = "Wiki-Renamed-From"


@pytest.fixture
def store(tmp_path):
    s = GitStore(tmp_path / "content.git")
    s.init()
    yield s
    s.close()


def git(store: GitStore, *args: str, check: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", LC_ALL="C")
    proc = subprocess.run(
        ["git", "--git-dir", store.repo_path, *args],
        capture_output=True,
        env=env,
        check=False,
    )
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode("utf-8", "replace")


def lines(n: int, edit: dict[int, str] | None = None) -> bytes:
    edit = edit or {}
    return "".join(f"{edit.get(i, f'line {i}')}\n" for i in range(n)).encode()


# ---- basics --------------------------------------------------------------------------------------


def test_commit_and_read_back(store):
    assert store.head() is None
    assert store.read("start.md") is None
    result = store.commit(
        {"start.md": b"# Start\n", "verein/satzung.md": "§ 1 Name\n".encode()},
        None,
        ALICE,
        "Seiten angelegt",
    )
    assert result.changed and result.parent is None and result.merged_paths == []
    assert store.head() == result.sha
    assert store.read("start.md") == b"# Start\n"
    assert store.read("verein/satzung.md", result.sha) == "§ 1 Name\n".encode()
    assert store.read("verein/satzung.md", result.sha[:8]) == "§ 1 Name\n".encode()
    assert store.blob_id("start.md") == git(store, "rev-parse", "main:start.md").strip()
    assert store.read_blob(store.blob_id("start.md")) == b"# Start\n"
    assert store.read("verein") is None  # a folder is not a file
    assert git(store, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s|%ad", "--date=raw", "main") == (
        "u-1a2b3c <u-1a2b3c@noreply.invalid>|u-1a2b3c <u-1a2b3c@noreply.invalid>|"
        "Seiten angelegt|" + git(store, "log", "-1", "--format=%at", "main").strip() + " +0000\n"
    )
    second = store.commit({"start.md": b"# Start\n\nHallo\n"}, result.sha, BOB, "Gruß")
    assert second.parent == result.sha
    assert store.read("start.md") == b"# Start\n\nHallo\n"
    assert store.read("start.md", result.sha) == b"# Start\n"
    store.fsck()


def test_commit_creates_and_deletes(store):
    first = store.commit({"a.md": b"a\n", "b/c.md": b"c\n"}, None, ALICE, "add")
    second = store.commit({"a.md": None, "b/c.md": None, "d.md": b"d\n"}, first.sha, ALICE, "rm")
    assert second.changed
    assert store.read("a.md") is None and store.read("b/c.md") is None
    assert store.files() == {"d.md": store.blob_id("d.md")}
    assert git(store, "ls-tree", "-r", "--name-only", "main") == "d.md\n"
    assert store.read("a.md", first.sha) == b"a\n"
    assert store.changed_files(first.sha, second.sha) == [
        FileChange("D", "a.md", None),
        FileChange("D", "b/c.md", None),
        FileChange("A", "d.md", None),
    ]
    # deleting everything leaves a commit with the empty tree
    third = store.commit({"d.md": None}, second.sha, ALICE, "empty")
    assert third.changed and store.files() == {}
    store.fsck()


def test_unchanged_content_makes_no_commit(store):
    first = store.commit({"a.md": b"a\n"}, None, ALICE, "add")
    again = store.commit({"a.md": b"a\n", "gone.md": None}, first.sha, ALICE, "same")
    assert again.changed is False and again.sha == first.sha
    assert git(store, "rev-list", "--count", "main").strip() == "1"


def test_init_is_idempotent(tmp_path):
    s = GitStore(tmp_path / "instance" / "content.git")
    assert not s.exists()
    head = s.init({"start.md": b"seed\n"})
    assert s.exists() and head == s.head()
    assert s.init({"start.md": b"other seed\n"}) == head
    assert s.read("start.md") == b"seed\n"
    assert os.path.exists(tmp_path / "instance" / "write.lock")
    s.close()


def test_head_after_pack_refs(store):
    sha = store.commit({"a.md": b"a\n"}, None, ALICE, "add").sha
    store.maintain()
    assert not os.path.exists(os.path.join(store.repo_path, "refs", "heads", "main"))
    assert store.head() == sha
    newer = store.commit({"a.md": b"b\n"}, sha, ALICE, "edit").sha
    assert store.head() == newer


# ---- compare-and-swap and merging ----------------------------------------------------------------


def test_cas_refuses_stale_ref(store):
    first = store.commit({"a.md": b"1\n"}, None, ALICE, "one").sha
    second = store.commit({"a.md": b"2\n"}, first, ALICE, "two").sha
    # the branch is at `second`; a publisher that still believes it is at `first` is refused
    with pytest.raises(StaleRef):
        store._update_ref(first, first)
    with pytest.raises(StaleRef):
        store._update_ref(first, None)  # "must not exist yet"
    assert store.head() == second
    # someone bypassing the lock moves the ref: the old expectation is refused too
    git(store, "update-ref", "refs/heads/main", first, second)
    with pytest.raises(StaleRef):
        store._update_ref(second, second)
    assert store.head() == first


def test_clean_three_way_merge(store):
    base = store.commit({"p.md": lines(10), "q.md": b"q\n"}, None, ALICE, "base").sha
    mine = store.commit({"p.md": lines(10, {1: "alice"})}, base, ALICE, "alice").sha
    theirs = store.commit({"p.md": lines(10, {8: "bob"}), "q.md": b"q\n"}, base, BOB, "bob")
    assert theirs.changed and theirs.parent == mine
    assert theirs.merged_paths == ["p.md"]
    assert store.read("p.md") == lines(10, {1: "alice", 8: "bob"})
    # a stale base whose change is already in HEAD makes no commit
    again = store.commit({"p.md": lines(10, {1: "alice"})}, base, ALICE, "again")
    assert again.changed is False and again.sha == theirs.sha


def test_conflict_on_same_line(store):
    base = store.commit({"p.md": lines(5)}, None, ALICE, "base").sha
    head = store.commit({"p.md": lines(5, {2: "alice"})}, base, ALICE, "alice").sha
    with pytest.raises(Conflict) as info:
        store.commit({"p.md": lines(5, {2: "bob"}), "other.md": b"x\n"}, base, BOB, "bob")
    conflict = info.value
    assert conflict.head == head
    assert "p.md" in str(conflict)
    [item] = conflict.items
    assert item.path == "p.md"
    assert item.base == lines(5)
    assert item.ours == lines(5, {2: "bob"})
    assert item.theirs == lines(5, {2: "alice"})
    assert b"<<<<<<< ours\nbob\n=======\nalice\n>>>>>>> theirs\n" in item.merged
    assert store.head() == head and store.read("other.md") is None


def test_conflicts_without_a_text_merge(store):
    base = store.commit({"doc.bin": b"\0\1\2", "p.md": b"p\n"}, None, ALICE, "base").sha
    store.commit({"doc.bin": b"\0\1\3", "p.md": None}, base, ALICE, "alice")
    head = store.head()
    with pytest.raises(Conflict) as binary:
        store.commit({"doc.bin": b"\0\1\4"}, base, BOB, "binary")
    assert binary.value.items[0].merged is None
    with pytest.raises(Conflict) as deleted:
        store.commit({"p.md": b"p changed\n"}, base, BOB, "modify vs delete")
    assert deleted.value.items[0].theirs is None
    store.commit({"new.md": b"alice\n"}, head, ALICE, "create")
    with pytest.raises(Conflict) as created:
        store.commit({"new.md": b"bob\n"}, head, BOB, "create too")
    assert created.value.items[0].base is None
    # both creating the same content is no conflict and no commit
    assert store.commit({"new.md": b"alice\n"}, head, BOB, "same").changed is False


def test_validate_failure_commits_nothing(store):
    base = store.commit({"a.md": b"a\n"}, None, ALICE, "add").sha
    seen = []

    def validate(changes, head):
        seen.append((changes, head))
        raise ValueError("refused by validation")

    with pytest.raises(ValueError, match="refused by validation"):
        store.commit({"a.md": b"b\n", "c.md": b"c\n"}, base, ALICE, "edit", validate=validate)
    assert seen == [({"a.md": b"b\n", "c.md": b"c\n"}, base)]
    assert store.head() == base and store.read("c.md") is None
    ok = store.commit({"a.md": b"b\n"}, base, ALICE, "edit", validate=lambda c, h: None)
    assert ok.changed


# ---- history -------------------------------------------------------------------------------------


def test_history_paginated(store):
    sha = None
    for i in range(7):
        sha = store.commit({"p.md": f"v{i}\n".encode()}, sha, ALICE, f"edit {i}").sha
        sha = store.commit({"other.md": f"o{i}\n".encode()}, sha, BOB, f"other {i}").sha
    expected = git(store, "log", "--format=%H", "main", "--", "p.md").split()
    assert len(expected) == 7
    pages = [store.history("p.md", limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    assert [r.sha for p in pages for r in p] == expected
    newest = pages[0][0]
    assert newest.summary == "edit 6" and newest.path == "p.md"
    assert newest.author_name == ALICE.name and newest.author_email == ALICE.email
    assert newest.date.tzinfo is None
    assert store.last_revision("p.md").sha == expected[0]
    assert store.history("p.md", rev=expected[2])[0].sha == expected[2]
    assert store.history("missing.md") == [] and store.last_revision("missing.md") is None


def test_history_follows_rename_trailer(store):
    sha = store.commit(
        {"alt/seite.md": b"1\n", "alt/seite/_files/a.pdf": b"%PDF-1\n", "alt/seite2.md": b"x\n"},
        None,
        ALICE,
        "create",
    ).sha
    sha = store.commit({"alt/seite.md": b"2\n"}, sha, BOB, "edit old").sha
    sha = store.commit(
        {
            "alt/seite.md": None,
            "alt/seite/_files/a.pdf": None,
            "neu/seite.md": b"2\n",
            "neu/seite/_files/a.pdf": b"%PDF-1\n",
            "neu/seite2.md": b"y\n",  # not part of the rename: "seite2" is not "seite" + rest
        },
        sha,
        ALICE,
        "Umbenannt",
        trailers=[(RENAME, "alt/seite => neu/seite")],
    ).sha
    sha = store.commit({"neu/seite.md": b"3\n"}, sha, ALICE, "edit new").sha

    entries = store.history("neu/seite.md")
    assert [(r.summary, r.path) for r in entries] == [
        ("edit new", "neu/seite.md"),
        ("Umbenannt", "neu/seite.md"),
        ("edit old", "alt/seite.md"),
        ("create", "alt/seite.md"),
    ]
    assert entries[1].trailers() == [(RENAME, "alt/seite => neu/seite")]
    # pagination across the rename, including an offset that skips the whole new segment
    assert [r.summary for r in store.history("neu/seite.md", limit=2, offset=1)] == [
        "Umbenannt",
        "edit old",
    ]
    assert [(r.summary, r.path) for r in store.history("neu/seite.md", limit=5, offset=3)] == [
        ("create", "alt/seite.md")
    ]
    assert [r.path for r in store.history("neu/seite/_files/a.pdf")] == [
        "neu/seite/_files/a.pdf",
        "alt/seite/_files/a.pdf",
    ]
    assert [r.summary for r in store.history("neu/seite2.md")] == ["Umbenannt"]


def test_message_cannot_forge_rename_trailer(store):
    sha = store.commit({"secret.md": b"s\n"}, None, ALICE, "secret").sha
    sha = store.commit(
        {"public.md": b"p\n"}, sha, BOB, "hi\n\nWiki-Renamed-From: secret => public"
    ).sha
    [entry] = store.history("public.md")
    assert entry.trailers() == []
    assert "Wiki-Renamed-From" in entry.message  # kept as text, just not as a trailer


def test_diff(store):
    old = store.commit({"p.md": lines(4)}, None, ALICE, "base").sha
    new = store.commit({"p.md": lines(4, {2: "changed"})}, old, ALICE, "edit").sha
    text = store.diff("p.md", old, new)
    assert "--- a/p.md\n+++ b/p.md\n" in text
    assert "-line 2\n+changed\n" in text
    assert store.diff("p.md", new, new) == ""


def test_commits_between_and_renames(store):
    first = store.commit({"a.md": b"alpha " * 20 + b"\n"}, None, ALICE, "one").sha
    second = store.commit(
        {"a.md": None, "b.md": b"alpha " * 20 + b"\n"},
        first,
        BOB,
        "move",
        trailers=[(RENAME, "a => b")],
    ).sha
    third = store.commit({"c.md": b"c\n"}, second, ALICE, "three").sha
    assert store.changed_files(first, second) == [FileChange("R", "b.md", "a.md")]
    assert store.changed_files(None, first) == [FileChange("A", "a.md", None)]
    got = store.commits_between(first, third)
    assert [(r.sha, r.summary, r.path) for r, _ in got] == [
        (second, "move", ""),
        (third, "three", ""),
    ]
    assert got[0][0].trailers() == [(RENAME, "a => b")]
    assert got[0][1] == [FileChange("R", "b.md", "a.md")]
    assert got[1][1] == [FileChange("A", "c.md", None)]
    assert [r.summary for r, _ in store.commits_between(None, third)] == ["one", "move", "three"]


def test_delete_then_restore(store):
    created = store.commit({"p.md": b"keep me\n"}, None, ALICE, "create").sha
    deleted = store.commit({"p.md": None}, created, BOB, "delete").sha
    assert store.read("p.md") is None
    [last] = store.history("p.md", limit=1)
    assert last.sha == deleted
    old = store.read("p.md", created)
    restored = store.commit({"p.md": old}, deleted, ALICE, "restore")
    assert restored.changed and store.read("p.md") == b"keep me\n"
    assert [r.summary for r in store.history("p.md")] == ["restore", "delete", "create"]


# ---- argument injection --------------------------------------------------------------------------

BAD_REVISIONS = ["--output=x", "-n1", "HEAD", "main", "main~1", "HEAD^", "abc", "", "g" * 40]
BAD_PATHS = [
    "--output=x",
    "-rf",
    "../x",
    "a/../../x",
    "/etc/passwd",
    ".git/config",
    "a/.git/config",
    ".GIT/config",
    "a//b",
    "./a",
    "a\nb",
    "",
]


def test_bad_revisions_are_refused(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    head = store.commit({"p.md": b"p\n"}, None, ALICE, "create").sha

    def calls(rev):
        return (
            lambda: store.resolve(rev),
            lambda: store.read("p.md", rev),
            lambda: store.files(rev),
            lambda: store.history("p.md", rev=rev),
            lambda: store.diff("p.md", rev, head),
            lambda: store.diff("p.md", head, rev),
            lambda: store.changed_files(rev, head),
            lambda: store.commits_between(rev, head),
            lambda: store.commit({"p.md": b"q\n"}, rev, ALICE, "x"),
        )

    for rev in BAD_REVISIONS:
        for call in calls(rev):
            with pytest.raises(BadRevision):
                call()
    tree = git(store, "rev-parse", "main^{tree}").strip()
    with pytest.raises(BadRevision):
        store.resolve(tree)  # an object, but not a commit
    with pytest.raises(BadRevision):
        store.resolve(tree[:10])
    assert store.head() == head
    assert sorted(os.listdir(tmp_path)) == ["content.git", "write.lock"]


def test_bad_paths_are_refused(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    head = store.commit({"p.md": b"p\n"}, None, ALICE, "create").sha

    def calls(path):
        return (
            lambda: store.read(path),
            lambda: store.blob_id(path),
            lambda: store.files(prefix=path + "/"),
            lambda: store.commit({path: b"x\n"}, head, ALICE, "x"),
            lambda: store.commit({"ok.md": b"x\n", path: None}, head, ALICE, "x"),
            lambda: store.history(path),
            lambda: store.diff(path, head, head),
            lambda: store.purge(path),
        )

    for path in BAD_PATHS:
        for call in calls(path):
            with pytest.raises(BadPath):
                call()
    assert store.head() == head
    assert store.read("ok.md") is None
    assert sorted(os.listdir(tmp_path)) == ["content.git", "write.lock"]


def test_file_and_folder_cannot_swap(store):
    head = store.commit({"a/b.md": b"b\n", "c.md": b"c\n"}, None, ALICE, "create").sha
    with pytest.raises(BadPath):
        store.commit({"a": b"file over folder\n"}, head, ALICE, "x")
    with pytest.raises(BadPath):
        store.commit({"c.md/d.md": b"folder below file\n"}, head, ALICE, "x")
    assert store.head() == head


# ---- purge, listing, tree format -----------------------------------------------------------------


def test_purge_removes_content_from_all_history(store):
    git(store, "config", "core.logAllRefUpdates", "always")  # reflogs must be expired too
    secret = b"IBAN DE02 1203 0000 0000 2020 51\n"
    sha = store.commit({"keep.md": b"keep\n", "geheim.md": secret}, None, ALICE, "one").sha
    sha = store.commit({"geheim.md": secret + b"more\n"}, sha, ALICE, "two").sha
    sha = store.commit({"keep.md": b"keep 2\n"}, sha, BOB, "three").sha
    sha = store.commit(
        {"ordner/x.md": b"GEHEIMORDNER\n", "ordner/sub/y.md": b"GEHEIMORDNER 2\n"}, sha, BOB, "four"
    ).sha
    sha = store.commit({"geheim.md": None}, sha, ALICE, "five").sha
    secret_blob = git(store, "rev-parse", "main~1:geheim.md").strip()
    assert secret.decode() in git(store, "log", "--all", "-p")

    assert store.purge("geheim.md") == 5
    assert store.purge("ordner") == 2
    assert store.purge("nothing/here.md") == 0

    log = git(store, "log", "--all", "-p")
    assert "IBAN" not in log and "GEHEIMORDNER" not in log
    objects = git(store, "rev-list", "--objects", "--all")
    assert "geheim.md" not in objects and "ordner" not in objects
    assert secret_blob not in objects
    assert (
        subprocess.run(
            ["git", "--git-dir", store.repo_path, "cat-file", "-e", secret_blob],
            capture_output=True,
        ).returncode
        != 0
    )
    store.fsck()
    assert [r.summary for r in store.history("keep.md")] == ["three", "one"]
    assert store.read("keep.md") == b"keep 2\n"
    assert git(store, "rev-list", "--count", "main").strip() == "5"
    assert store.files() == {"keep.md": store.blob_id("keep.md")}
    with pytest.raises(BadRevision):
        store.resolve(sha)  # the old head no longer exists
    store.commit({"after.md": b"ok\n"}, store.head(), ALICE, "after purge")
    store.fsck()


def test_purge_is_seen_by_other_open_stores(store):
    old = store.commit({"geheim.md": b"secret\n", "a.md": b"a\n"}, None, ALICE, "one").sha
    blob = store.blob_id("geheim.md")
    git(store, "gc", "--quiet")  # packed: a running cat-file keeps the old pack mapped
    other = GitStore(store.repo_path)  # e.g. another worker process
    assert other.read("geheim.md", old) == b"secret\n"
    assert other.read_blob(blob) == b"secret\n"
    store.purge("geheim.md")
    with pytest.raises(BadRevision):
        other.read_blob(blob)
    with pytest.raises(BadRevision):
        other.resolve(old)
    assert other.read("geheim.md") is None and other.read("a.md") == b"a\n"
    other.close()


def test_close_releases_the_repos_of_all_threads(store):
    store.commit({"a.md": b"a\n"}, None, ALICE, "one")
    threads = [threading.Thread(target=store.read, args=("a.md",)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert store.read("a.md") == b"a\n"
    gc.collect()
    assert len(store._registry) == 1  # the finished threads' Repos went away with them
    repo = store._repo()
    store.close()
    assert store._registry == {} and repo.git.cat_file_all is None
    assert store.read("a.md") == b"a\n"  # usable again


def test_files_with_prefix(store):
    sha = store.commit(
        {
            "start.md": b"s",
            "verein.md": b"v",
            "verein/satzung.md": b"1",
            "verein/vorstand/protokoll.md": b"2",
            "verein/vorstand/_files/a.pdf": b"3",
            "verein-alt/x.md": b"4",
        },
        None,
        ALICE,
        "create",
    ).sha
    below = store.files(prefix="verein/")
    assert sorted(below) == [
        "verein/satzung.md",
        "verein/vorstand/_files/a.pdf",
        "verein/vorstand/protokoll.md",
    ]
    assert below["verein/satzung.md"] == store.blob_id("verein/satzung.md")
    assert sorted(store.files(sha, "verein/vorstand")) == [
        "verein/vorstand/_files/a.pdf",
        "verein/vorstand/protokoll.md",
    ]
    assert len(store.files()) == 6
    assert store.files(prefix="nichts/") == {}
    assert store.files(prefix="start.md/") == {}


def test_tree_matches_git_and_fsck_is_strict_clean(store):
    names = [
        "a.md",
        "a-b",
        "a-b.md",
        "a/x.md",
        "a/b/c.md",
        "a0.md",
        "ab/x.md",
        "a.b/z.md",
        "a-c/y.md",
        "Z.md",
        "_files/f.pdf",
        "ä.md",
    ]
    first = store.commit({n: n.encode() + b"\n" for n in names}, None, ALICE, "create").sha
    listing = git(store, "ls-tree", "-r", "-z", "main")
    shown = {}
    for record in filter(None, listing.split("\0")):
        meta, path = record.split("\t", 1)
        shown[path] = meta.split()[2]
    assert shown == store.files()
    assert set(shown) == set(names)
    store.fsck()
    # adding, changing and deleting entries next to each other keeps the order correct
    store.commit(
        {"a/a.md": b"new\n", "a-a.md": b"new\n", "a/x.md": b"changed\n", "a0.md": None, "a.c": b""},
        first,
        BOB,
        "mix",
    )
    store.fsck()
    for tree in git(store, "rev-list", "--objects", "main").split("\n"):
        sha = tree.split(" ")[0]
        if sha and git(store, "cat-file", "-t", sha).strip() == "tree":
            # git's own serialisation of the same entries yields the same object
            entries = git(store, "ls-tree", sha)
            proc = subprocess.run(
                ["git", "--git-dir", store.repo_path, "mktree"],
                input=entries.encode(),
                capture_output=True,
                check=True,
            )
            assert proc.stdout.decode().strip() == sha
    assert store.read("a/x.md") == b"changed\n"
    assert store.read("a0.md") is None


def test_tree_cache_is_bounded_and_shares_modes(store, monkeypatch):
    """Parsed trees stay cached up to a bound; reads of evicted revisions parse them again."""
    import wiki.storage as storage

    monkeypatch.setattr(storage, "_TREE_CACHE_ENTRIES", 40)
    shas = []
    base = None
    for number in range(12):
        changes = {f"f{number}/p{i}.md": f"{number}-{i}\n".encode() for i in range(5)}
        base = store.commit(changes, base, ALICE, f"c{number}").sha
        shas.append(base)
    for number, sha in enumerate(shas):
        assert store.read(f"f{number}/p3.md", sha) == f"{number}-3\n".encode()
        assert store.read(f"f{number + 1}/p0.md", sha) is None
    assert store._tree_entries <= 40
    assert store._tree_entries == sum(len(t) + 1 for t in store._trees.values())
    # older revisions were evicted and are read correctly again
    assert store.read("f0/p4.md", shas[0]) == b"0-4\n"
    assert store.read("f11/p4.md", shas[0]) is None
    modes = {id(mode) for tree in store._trees.values() for mode, _sha, _raw in tree.values()}
    assert len(modes) <= 2  # one shared object per mode, not one per entry

"""Git-backed content store (no Flask).

The content lives in a BARE repository (``<instance>/content.git``, branch ``main``). There is no
work tree and no index:

* Reads resolve a commit sha and walk tree objects through GitPython's persistent ``cat-file``
  processes (one :class:`git.Repo` per thread, because the persistent pipes of a shared Repo
  interleave between threads). Parsed trees are cached by sha; they are immutable.
* Commits are built in-process: only the tree objects along the touched paths are read, new
  blob/tree/commit objects are written as loose objects, and the branch is published with
  ``git update-ref <ref> <new> <old>`` (compare-and-swap) while holding an exclusive ``flock`` on
  the write lock file. Concurrent edits from an older base are merged three-way per file by
  :func:`wiki.merge.merge3` (diff3 rules with a 0-line context: edits on adjacent lines merge);
  overlapping edits raise :class:`Conflict`.
* Every git subprocess gets user-derived values only after ``--`` / ``--end-of-options``;
  revisions must be hexadecimal object names and paths are checked by :func:`check_path`.
"""

from __future__ import annotations

import fcntl
import hashlib
import operator
import os
import re
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import git

from wiki.merge import merge3

__all__ = [
    "Author",
    "BadPath",
    "BadRevision",
    "CommitResult",
    "Conflict",
    "ConflictItem",
    "FileChange",
    "GitError",
    "GitStore",
    "Revision",
    "StaleRef",
    "SYSTEM_AUTHOR",
    "RENAME_TRAILER",
    "check_path",
    "parse_trailers",
]

ZERO_SHA = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
RENAME_TRAILER = "Wiki-Renamed-From"
REV_RE = re.compile(r"[0-9a-f]{7,40}")
FULL_SHA_RE = re.compile(r"[0-9a-f]{40}")
BRANCH_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
TRAILER_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
TRAILER_LINE_RE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*):[ \t]*(.*?)[ \t]*")
# Lines of a caller's message that would read as one of our own trailers.
_SPOOFED_TRAILER_RE = re.compile(r"^(wiki-[a-z0-9-]*[ \t]*:)", re.I | re.M)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PATH_BAD_RE = re.compile(r"[\x00-\x1f\x7f\\]")
_IDENT_BAD_RE = re.compile(r"[\x00-\x1f\x7f<>]")
_BINARY_SNIFF = 8000
_TREE_MODE = b"40000"
_FILE_MODE = b"100644"
_TREE_MODES = frozenset({b"40000", b"040000"})
_BLOB_MODES = frozenset({b"100644", b"100755", b"100664", b"120000"})
_MODES = {mode: mode for mode in (*_TREE_MODES, *_BLOB_MODES, b"160000")}
_TREE_ENTRY_RE = re.compile(rb"([0-7]{5,6}) ([^\0/]+)\0(.{20})", re.S)
# Parsed trees cost under 300 bytes an entry: 60,000 entries (about 18 MB) hold every tree of a
# 10,000-page head several times over and bound what old revisions' trees can take.
_TREE_CACHE_ENTRIES = 60_000
_COMMIT_CACHE_SIZE = 4096
_TIMEOUT = 300

# Repo objects inherited through fork() belong to the parent's cat-file processes; they are
# parked here instead of being closed or garbage collected in the child.
_FORK_LEFTOVERS: list[git.Repo] = []


class GitError(RuntimeError):
    """A git command failed; the message includes git's stderr."""


class BadRevision(ValueError):
    """A revision that is not ``^[0-9a-f]{7,40}$`` or does not name a commit."""


class BadPath(ValueError):
    """A path that must not reach git (absolute, ``..``, ``.git``, option-like, ...)."""


class StaleRef(GitError):
    """``update-ref`` refused the compare-and-swap: the branch moved behind our back."""


@dataclass
class ConflictItem:
    path: str
    base: bytes | None
    ours: bytes | None
    theirs: bytes | None
    merged: bytes | None  # merge with git-style conflict markers; None if binary/deleted


class Conflict(Exception):
    """Concurrent edits that cannot be merged; nothing was committed."""

    def __init__(self, items: list[ConflictItem], head: str | None):
        self.items = list(items)
        self.head = head
        paths = ", ".join(item.path for item in self.items)
        super().__init__(f"Edit conflict in {paths}")


@dataclass(frozen=True)
class Author:
    name: str
    email: str


SYSTEM_AUTHOR = Author("verbandswiki", "system@noreply.invalid")


def parse_trailers(message: str) -> list[tuple[str, str]]:
    """Trailers (``Key: value`` lines) of the last paragraph of a commit message.

    The subject paragraph never holds trailers, and the last paragraph counts only if every
    non-empty line in it is a trailer line.
    """
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:
        return []
    out: list[tuple[str, str]] = []
    for line in paragraphs[-1].splitlines():
        if not line.strip():
            continue
        m = TRAILER_LINE_RE.fullmatch(line)
        if not m:
            return []
        out.append((m.group(1), m.group(2)))
    return out


@dataclass(frozen=True)
class Revision:
    sha: str
    author_name: str
    author_email: str
    date: datetime  # naive UTC
    message: str
    path: str  # the file's path in this revision ("" where not applicable)

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0]

    def trailers(self) -> list[tuple[str, str]]:
        return parse_trailers(self.message)


@dataclass
class CommitResult:
    sha: str  # the new commit, or HEAD if nothing changed
    parent: str | None  # first parent of ``sha``
    changed: bool
    merged_paths: list[str]  # paths whose content came out of a clean three-way merge


@dataclass(frozen=True)
class FileChange:
    status: str  # 'A', 'M', 'D' or 'R'
    path: str
    old_path: str | None


# --------------------------------------------------------------------------------------------
# helpers


def check_path(path: str) -> str:
    """Return ``path`` if it may be handed to git, else raise :class:`BadPath`."""
    if not isinstance(path, str) or not path:
        raise BadPath("empty path")
    if path.startswith(("/", "-")):
        raise BadPath(f"path must be relative and must not start with '-': {path!r}")
    if _PATH_BAD_RE.search(path):
        raise BadPath(f"control character or backslash in path: {path!r}")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise BadPath(f"empty, '.' or '..' segment in path: {path!r}")
        folded = segment.lower().rstrip(". ")
        if folded == ".git" or folded == "git~1":
            raise BadPath(f"'.git' segment in path: {path!r}")
    return path


def _check_rev(rev: str) -> str:
    if not isinstance(rev, str) or not REV_RE.fullmatch(rev):
        raise BadRevision(f"not a revision: {rev!r}")
    return rev


def _parts(path: str) -> tuple[bytes, ...]:
    return tuple(path.encode("utf-8", "surrogateescape").split(b"/"))


def _name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _is_tree(mode: bytes) -> bool:
    return mode in _TREE_MODES


def _is_blob(mode: bytes) -> bool:
    return mode in _BLOB_MODES


def _blob_sha(data: bytes) -> str:
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def _is_binary(data: bytes | None) -> bool:
    return data is not None and b"\0" in data[:_BINARY_SNIFF]


# A parsed tree maps name -> (mode, binsha, serialised entry) in git's order (dicts keep
# insertion order), so an unchanged order can be serialised again by joining the entries.
TreeEntries = dict[bytes, tuple[bytes, bytes, bytes]]
_entry_bytes = operator.itemgetter(2)


def _parse_tree(data: bytes) -> TreeEntries:
    """Raw tree object -> {name: (mode, binsha, raw entry)}, in the object's order.

    Known modes are shared objects rather than one bytes object per entry (the parsed trees
    stay in the cache)."""
    entries: TreeEntries = {}
    covered = 0
    shared = _MODES.get
    for m in _TREE_ENTRY_RE.finditer(data):
        raw = m.group(0)
        mode = m.group(1)
        entries[m.group(2)] = (shared(mode, mode), m.group(3), raw)
        covered += len(raw)
    if covered != len(data):
        raise GitError("malformed tree object")
    return entries


def _tree_entry(name: bytes, mode: bytes, sha: bytes) -> tuple[bytes, bytes, bytes]:
    return (mode, sha, mode + b" " + name + b"\0" + sha)


def _tree_sort_key(item: tuple[bytes, tuple[bytes, bytes, bytes]]) -> bytes:
    """Git's tree order: byte order of names, with folders compared as ``name/``."""
    name, (mode, _sha, _raw) = item
    return name + b"/" if mode in _TREE_MODES else name


def _serialise_tree(entries: TreeEntries) -> bytes:
    """Serialise entries that are already in git's order."""
    return b"".join(map(_entry_bytes, entries.values()))


def _clean_ident(value: str, fallback: str) -> str:
    value = _IDENT_BAD_RE.sub("", value or "").strip()
    return value or fallback


def _clean_message(message: str) -> str:
    message = (message or "").replace("\r\n", "\n").replace("\r", "\n")
    message = _CONTROL_RE.sub("", message)
    message = _SPOOFED_TRAILER_RE.sub(r" \1", message)
    lines = [line.rstrip() for line in message.split("\n")]
    text = "\n".join(lines).strip("\n")
    return text or "(no message)"


def _map_renamed(path: str, trailers: list[tuple[str, str]]) -> str | None:
    """Old name of ``path`` according to ``Wiki-Renamed-From: <old> => <new>`` trailers."""
    best: tuple[int, str] | None = None
    for key, value in trailers:
        if key.lower() != RENAME_TRAILER.lower():
            continue
        old, sep, new = value.partition(" => ")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new or not path.startswith(new):
            continue
        rest = path[len(new) :]
        if rest and rest[0] not in "./":
            continue
        if best is None or len(new) > best[0]:
            best = (len(new), old + rest)
    if best is None:
        return None
    try:
        return check_path(best[1])
    except BadPath:
        return None


def _git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_TERMINAL_PROMPT="0",
        GIT_LITERAL_PATHSPECS="1",
        GIT_NO_REPLACE_OBJECTS="1",
        LC_ALL="C",
        LANGUAGE="C",
    )
    if extra:
        env.update(extra)
    return env


class _Local(threading.local):
    repo: git.Repo | None = None
    key: tuple | None = None
    pid: int = 0
    locked: bool = False


# --------------------------------------------------------------------------------------------


class GitStore:
    """The wiki's content repository. Thread-safe and multi-process-safe."""

    def __init__(self, repo_path, lock_path=None, branch: str = "main"):
        if not BRANCH_RE.fullmatch(branch) or ".." in branch or branch.endswith(".lock"):
            raise ValueError(f"invalid branch name: {branch!r}")
        self.repo_path = os.path.abspath(os.fspath(repo_path))
        if lock_path is None:
            lock_path = os.path.join(os.path.dirname(self.repo_path), "write.lock")
        self.lock_path = os.path.abspath(os.fspath(lock_path))
        self.branch = branch
        self.ref = f"refs/heads/{branch}"
        self._objects = os.path.join(self.repo_path, "objects")
        self._generation_file = os.path.join(self.repo_path, "wiki-generation")
        self._local = _Local()
        # id(Repo) -> (weak reference, pid that opened it). Weak, so that the Repo (and its
        # cat-file processes) of a finished thread goes away with the thread. Keyed by id
        # because Repo objects of the same path compare equal.
        self._registry: dict[int, tuple[weakref.ref, int]] = {}
        self._registry_lock = threading.Lock()
        self._closed = 0
        self._cache_lock = threading.Lock()
        self._trees: OrderedDict[bytes, TreeEntries] = OrderedDict()
        self._tree_entries = 0
        self._commits: OrderedDict[str, tuple[bytes, tuple[str, ...]]] = OrderedDict()
        self._cache_generation: tuple | None = None

    def __repr__(self) -> str:
        return f"GitStore({self.repo_path!r}, branch={self.branch!r})"

    # ---- plumbing ---------------------------------------------------------------------------

    def _run(
        self,
        args: list[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        config: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
        timeout: float | None = _TIMEOUT,
    ) -> subprocess.CompletedProcess:
        cmd = ["git"]
        for item in config:
            cmd += ["-c", item]
        cmd += ["--git-dir", self.repo_path, *args]
        cwd = self.repo_path if os.path.isdir(self.repo_path) else None
        try:
            proc = subprocess.run(
                cmd,
                input=input,
                capture_output=True,
                env=_git_env(env),
                cwd=cwd,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitError(f"git {args[0]} timed out after {timeout} s") from exc
        if check and proc.returncode != 0:
            raise GitError(
                f"git {args[0]} failed with exit code {proc.returncode}: "
                + proc.stderr.decode("utf-8", "replace").strip()
            )
        return proc

    def _disk_generation(self) -> tuple | None:
        try:
            st = os.stat(self._generation_file)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _bump_generation(self) -> None:
        tmp = f"{self._generation_file}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(uuid.uuid4().hex + "\n")
        os.replace(tmp, self._generation_file)

    def _refresh(self) -> tuple | None:
        """Drop the caches if a purge (in any process) rewrote history since they were filled."""
        generation = self._disk_generation()
        if generation != self._cache_generation:
            self._clear_caches(generation)
        return generation

    def _repo(self) -> git.Repo:
        """This thread's Repo (persistent cat-file pipes must not be shared between threads).

        A Repo is reopened after a purge (its cat-file processes may still map the old packs)
        and in a forked child (the inherited pipes belong to the parent).
        """
        loc = self._local
        pid = os.getpid()
        key = (self._closed, self._refresh())
        repo = loc.repo
        if repo is not None and loc.pid == pid and loc.key == key:
            return repo
        if repo is not None:
            if loc.pid == pid:
                self._unregister(repo)
                repo.close()
            else:
                _FORK_LEFTOVERS.append(repo)
        loc.repo = None
        repo = git.Repo(self.repo_path, odbt=git.GitCmdObjectDB)
        repo.git.update_environment(
            GIT_DIR=self.repo_path,
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL="/dev/null",
            GIT_TERMINAL_PROMPT="0",
            GIT_NO_REPLACE_OBJECTS="1",
            LC_ALL="C",
        )
        loc.repo, loc.pid, loc.key = repo, pid, key
        with self._registry_lock:
            registry, rid = self._registry, id(repo)
            registry[rid] = (weakref.ref(repo, lambda _ref: registry.pop(rid, None)), pid)
        return repo

    def _unregister(self, repo: git.Repo) -> None:
        with self._registry_lock:
            self._registry.pop(id(repo), None)

    def _clear_caches(self, generation: tuple | None = None) -> None:
        with self._cache_lock:
            self._trees.clear()
            self._tree_entries = 0
            self._commits.clear()
            self._cache_generation = generation

    def close(self) -> None:
        """Close the Repo objects (and their cat-file processes) opened by this process.

        Meant for shutdown: other threads must not be reading at the same time. The store stays
        usable; the next read opens a new Repo.
        """
        pid = os.getpid()
        with self._registry_lock:
            mine = [ref() for ref, p in list(self._registry.values()) if p == pid]
            self._registry.clear()
            self._closed += 1
        for repo in mine:
            if repo is None:
                continue
            try:
                repo.close()
            except Exception:  # best effort at shutdown
                pass
        self._local.repo = None

    def _object(self, hexsha: str) -> tuple[bytes, bytes]:
        """(type, data) of a full 40-hex object name; KeyError if missing."""
        try:
            _sha, kind, _size, data = self._repo().git.get_object_data(hexsha)
        except ValueError as exc:
            raise KeyError(hexsha) from exc
        return kind, data

    def _tree(self, binsha: bytes) -> TreeEntries:
        with self._cache_lock:
            entries = self._trees.get(binsha)
            if entries is not None:
                self._trees.move_to_end(binsha)
                return entries
        hexsha = binsha.hex()
        if hexsha == EMPTY_TREE:
            entries = {}
        else:
            try:
                kind, data = self._object(hexsha)
            except KeyError as exc:
                raise GitError(f"missing tree object {hexsha}") from exc
            if kind != b"tree":
                raise GitError(f"object {hexsha} is a {kind.decode()}, not a tree")
            entries = _parse_tree(data)
        self._remember_tree(binsha, entries)
        return entries

    def _remember_tree(self, binsha: bytes, entries: TreeEntries) -> None:
        with self._cache_lock:
            if binsha not in self._trees:
                self._trees[binsha] = entries
                self._tree_entries += len(entries) + 1
                while self._tree_entries > _TREE_CACHE_ENTRIES and len(self._trees) > 1:
                    _key, old = self._trees.popitem(last=False)
                    self._tree_entries -= len(old) + 1

    def _commit_info(self, sha: str) -> tuple[bytes, tuple[str, ...]]:
        """(tree binsha, parent shas) of a full commit sha."""
        self._refresh()
        with self._cache_lock:
            info = self._commits.get(sha)
            if info is not None:
                return info
        try:
            kind, data = self._object(sha)
        except KeyError as exc:
            raise BadRevision(f"unknown commit {sha}") from exc
        if kind != b"commit":
            raise BadRevision(f"{sha} is not a commit")
        header = data.split(b"\n\n", 1)[0]
        tree = b""
        parents: list[str] = []
        for line in header.split(b"\n"):
            if line.startswith(b"tree "):
                tree = bytes.fromhex(line[5:].decode())
            elif line.startswith(b"parent "):
                parents.append(line[7:].decode())
            elif line.startswith(b"author "):
                break
        info = (tree, tuple(parents))
        with self._cache_lock:
            self._commits[sha] = info
            if len(self._commits) > _COMMIT_CACHE_SIZE:
                self._commits.popitem(last=False)
        return info

    def _commit_message(self, sha: str) -> tuple[bytes, bytes]:
        kind, data = self._object(sha)
        if kind != b"commit":
            raise BadRevision(f"{sha} is not a commit")
        header, _sep, message = data.partition(b"\n\n")
        return header, message

    def _entry(self, tree: bytes, parts: tuple[bytes, ...]) -> tuple[bytes, ...] | None:
        """(mode, binsha, ...) at ``parts`` below the tree ``tree``, or None."""
        current: tuple[bytes, ...] = (_TREE_MODE, tree)
        for name in parts:
            if not _is_tree(current[0]):
                return None
            found = self._tree(current[1]).get(name)
            if found is None:
                return None
            current = found
        return current

    def _write_object(self, kind: bytes, data: bytes) -> bytes:
        """Write a loose object (if it is not there yet) and return its binary sha."""
        header = b"%s %d\0" % (kind, len(data))
        h = hashlib.sha1(header)
        h.update(data)
        binsha = h.digest()
        hexsha = h.hexdigest()
        directory = os.path.join(self._objects, hexsha[:2])
        final = os.path.join(directory, hexsha[2:])
        if os.path.exists(final):
            return binsha
        os.makedirs(directory, exist_ok=True)
        # Large trees are mostly binary shas that barely compress; storing them (level 0, still
        # a valid zlib stream) is 20 times faster. ``gc`` packs them later anyway.
        compressor = zlib.compressobj(0 if kind == b"tree" and len(data) > 65536 else 1)
        payload = compressor.compress(header) + compressor.compress(data) + compressor.flush()
        fd, tmp = tempfile.mkstemp(prefix="tmp_obj_", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return binsha

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive write lock across threads and processes (flock on a per-call open file)."""
        if self._local.locked:
            raise RuntimeError("the write lock is not re-entrant")
        os.makedirs(os.path.dirname(self.lock_path), exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.locked = True
            try:
                yield
            finally:
                self._local.locked = False
        finally:
            os.close(fd)  # releases the flock

    def _update_ref(self, new: str, old: str | None) -> None:
        """Compare-and-swap the branch from ``old`` (None: must not exist) to ``new``."""
        expected = old or ZERO_SHA
        proc = self._run(["update-ref", "-m", "wiki", "--", self.ref, new, expected], check=False)
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace").strip()
            if self.head() != old:
                raise StaleRef(f"{self.ref} moved (expected {expected}): {stderr}")
            raise GitError(f"git update-ref failed: {stderr}")

    # ---- repository -------------------------------------------------------------------------

    def exists(self) -> bool:
        return os.path.isfile(os.path.join(self.repo_path, "HEAD")) and os.path.isdir(self._objects)

    def init(
        self,
        files: dict[str, bytes] | None = None,
        author: Author = SYSTEM_AUTHOR,
        message: str = "Initial content",
    ) -> str | None:
        """Create the bare repository if missing; commit ``files`` if the branch is still empty.

        Idempotent: on a repository that already has commits the files are not written again.
        """
        if not self.exists():
            with self._locked():
                if not self.exists():
                    os.makedirs(os.path.dirname(self.repo_path), exist_ok=True)
                    proc = subprocess.run(
                        ["git", "init", "--bare", "-q", "-b", self.branch, "--", self.repo_path],
                        capture_output=True,
                        env=_git_env(),
                        timeout=_TIMEOUT,
                        check=False,
                    )
                    if proc.returncode != 0:
                        raise GitError(
                            "git init failed: " + proc.stderr.decode("utf-8", "replace").strip()
                        )
                    self._run(["config", "gc.autoDetach", "false"])
        if files and self.head() is None:
            self.commit(dict(files), None, author, message)
        return self.head()

    def head(self) -> str | None:
        """Current commit of the branch, read from the ref files (no subprocess)."""
        loose = os.path.join(self.repo_path, "refs", "heads", *self.branch.split("/"))
        for _attempt in range(3):
            try:
                with open(loose, "rb") as fh:
                    value = fh.read().strip()
            except (FileNotFoundError, NotADirectoryError):
                value = None
            if value:
                text = value.decode("ascii", "replace")
                if FULL_SHA_RE.fullmatch(text):
                    return text
                raise GitError(f"unexpected content in {self.ref}: {text[:80]!r}")
            packed = self._packed_ref()
            if packed is not None:
                return packed
            if value is None and not os.path.exists(loose):
                return None
        return None

    def _packed_ref(self) -> str | None:
        try:
            with open(os.path.join(self.repo_path, "packed-refs"), "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        target = b" " + self.ref.encode()
        for line in data.split(b"\n"):
            if line.endswith(target) and not line.startswith((b"#", b"^")):
                sha = line[:40].decode("ascii", "replace")
                if FULL_SHA_RE.fullmatch(sha):
                    return sha
        return None

    def resolve(self, rev: str) -> str:
        """Full sha of the commit ``rev`` (hex, 7-40 digits); BadRevision otherwise."""
        _check_rev(rev)
        if len(rev) == 40:
            self._commit_info(rev)  # raises BadRevision unless it is a commit
            return rev
        proc = self._run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"],
            check=False,
        )
        sha = proc.stdout.decode("ascii", "replace").strip()
        if proc.returncode != 0 or not FULL_SHA_RE.fullmatch(sha):
            raise BadRevision(f"unknown or ambiguous revision: {rev}")
        return sha

    def parents(self, rev: str) -> tuple[str, ...]:
        """Full shas of the parents of commit ``rev`` (empty for the root commit)."""
        return self._commit_info(self.resolve(rev))[1]

    def _at(self, rev: str | None) -> str | None:
        return self.head() if rev is None else self.resolve(rev)

    def _root(self, rev: str | None) -> bytes | None:
        commit = self._at(rev)
        return None if commit is None else self._commit_info(commit)[0]

    # ---- reading ----------------------------------------------------------------------------

    def blob_id(self, path: str, rev: str | None = None) -> str | None:
        parts = _parts(check_path(path))
        root = self._root(rev)
        if root is None:
            return None
        entry = self._entry(root, parts)
        if entry is None or not _is_blob(entry[0]):
            return None
        return entry[1].hex()

    def read(self, path: str, rev: str | None = None) -> bytes | None:
        sha = self.blob_id(path, rev)
        return None if sha is None else self.read_blob(sha)

    def read_blob(self, sha: str) -> bytes:
        if not isinstance(sha, str) or not FULL_SHA_RE.fullmatch(sha):
            raise BadRevision(f"not a blob id: {sha!r}")
        try:
            kind, data = self._object(sha)
        except KeyError as exc:
            raise BadRevision(f"unknown blob {sha}") from exc
        if kind != b"blob":
            raise BadRevision(f"{sha} is not a blob")
        return data

    def files(self, rev: str | None = None, prefix: str = "") -> dict[str, str]:
        """Every file below ``prefix`` (a folder; "" = everything) -> blob sha."""
        root = self._root(rev)
        if root is None:
            return {}
        if prefix:
            prefix = check_path(prefix[:-1] if prefix.endswith("/") else prefix)
            entry = self._entry(root, _parts(prefix))
            if entry is None or not _is_tree(entry[0]):
                return {}
            start, base = entry[1], prefix.encode("utf-8", "surrogateescape") + b"/"
        else:
            start, base = root, b""
        out: dict[str, str] = {}
        stack = [(start, base)]
        while stack:
            tree, dirname = stack.pop()
            for name, (mode, sha, _raw) in self._tree(tree).items():
                if _is_tree(mode):
                    stack.append((sha, dirname + name + b"/"))
                elif _is_blob(mode):
                    out[_name(dirname + name)] = sha.hex()
        return dict(sorted(out.items()))

    # ---- writing ----------------------------------------------------------------------------

    def _apply(
        self,
        tree: bytes | None,
        changes: Mapping[tuple[bytes, ...], bytes | None],
        strict: bool = True,
    ) -> bytes | None:
        """Write the tree ``tree`` with ``changes`` applied ({parts: blob binsha or None}).

        Only trees along the changed paths are read and rewritten. Returns the new tree's binsha,
        or None if the tree became empty. A None value deletes whatever is at that path.
        """
        entries = dict(self._tree(tree)) if tree is not None else {}
        ordered = True  # replacing or removing entries keeps git's order; adding breaks it
        nested: dict[bytes, dict[tuple[bytes, ...], bytes | None]] = {}
        for parts, blob in changes.items():
            name, rest = parts[0], parts[1:]
            if rest:
                nested.setdefault(name, {})[rest] = blob
                continue
            current = entries.get(name)
            if blob is None:
                entries.pop(name, None)
                continue
            if current is None:
                ordered = False
            elif _is_tree(current[0]):
                raise BadPath(f"{_name(name)!r} is a folder")
            mode = current[0] if current is not None and current[0] == b"100755" else _FILE_MODE
            entries[name] = _tree_entry(name, mode, blob)
        for name, sub in nested.items():
            current = entries.get(name)
            deletes_only = all(v is None for v in sub.values())
            if current is not None and not _is_tree(current[0]):
                if strict and not deletes_only:
                    raise BadPath(f"{_name(name)!r} is a file, not a folder")
                continue  # nothing to delete below a file
            if current is None and deletes_only:
                continue
            new = self._apply(current[1] if current is not None else None, sub, strict)
            if new is None:
                entries.pop(name, None)
            else:
                if current is None:
                    ordered = False
                entries[name] = _tree_entry(name, _TREE_MODE, new)
        if not entries:
            return None
        if not ordered:
            entries = dict(sorted(entries.items(), key=_tree_sort_key))
        binsha = self._write_object(b"tree", _serialise_tree(entries))
        self._remember_tree(binsha, entries)
        return binsha

    @staticmethod
    def _merge_file(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, bool]:
        """Three-way merge of one text file (:func:`wiki.merge.merge3`: only overlapping changes
        conflict, adjacent ones merge); a conflict comes back with ``git merge-file``'s markers."""
        result = merge3(base, ours, theirs)
        if result.clean:
            return result.text(), True
        return result.with_markers(), False

    def commit(
        self,
        changes: dict[str, bytes | None],
        base: str | None,
        author: Author,
        message: str,
        validate: Callable[[dict[str, bytes | None], str | None], object] | None = None,
        trailers: list[tuple[str, str]] | None = None,
    ) -> CommitResult:
        """Commit ``changes`` ({path: content, or None to delete}) made on top of ``base``.

        Under the write lock, paths that changed between ``base`` and HEAD are merged three-way;
        overlapping edits raise :class:`Conflict`. ``validate(final_changes, head)`` sees the
        effective changes (paths whose content differs from HEAD) and may raise to abort. If no
        path changes, nothing is committed (``changed == False``). Lines of ``message`` that look
        like ``Wiki-…:`` trailers are indented, so only ``trailers`` can set them.
        """
        if not isinstance(changes, Mapping):
            raise TypeError("changes must be a mapping")
        prepared: dict[str, bytes | None] = {}
        for path, content in changes.items():
            check_path(path)
            if content is not None and not isinstance(content, bytes | bytearray | memoryview):
                raise TypeError(f"content of {path!r} must be bytes or None")
            prepared[path] = None if content is None else bytes(content)
        if base is not None:
            base = self.resolve(base)
        trailer_lines = []
        for key, value in trailers or []:
            if not TRAILER_KEY_RE.fullmatch(key) or _CONTROL_RE.search(value) or "\n" in value:
                raise ValueError(f"invalid trailer {key!r}: {value!r}")
            trailer_lines.append(f"{key}: {value.strip()}")
        text = _clean_message(message)
        if trailer_lines:
            text += "\n\n" + "\n".join(trailer_lines)
        name = _clean_ident(author.name, "unknown")
        email = _clean_ident(author.email, "unknown@noreply.invalid")

        with self._locked():
            head = self.head()
            head_root = self._commit_info(head)[0] if head else None
            base_root = self._commit_info(base)[0] if base else None
            final: dict[str, bytes | None] = {}
            merged_paths: list[str] = []
            conflicts: list[ConflictItem] = []
            for path, ours in prepared.items():
                parts = _parts(path)
                head_entry = self._entry(head_root, parts) if head_root else None
                if head_entry is not None and _is_tree(head_entry[0]):
                    raise BadPath(f"{path!r} is a folder")
                head_id = head_entry[1].hex() if head_entry else None
                ours_id = None if ours is None else _blob_sha(ours)
                if ours_id == head_id:
                    continue
                if base is not None and base == head:
                    final[path] = ours
                    continue
                base_entry = self._entry(base_root, parts) if base_root else None
                if base_entry is not None and not _is_blob(base_entry[0]):
                    base_entry = None
                base_id = base_entry[1].hex() if base_entry else None
                if base_id == head_id:
                    final[path] = ours
                    continue
                if ours_id == base_id:
                    continue  # we did not touch it; HEAD's version stays
                base_data = self.read_blob(base_id) if base_id else None
                theirs = self.read_blob(head_id) if head_id else None
                if (
                    base_data is None
                    or ours is None
                    or theirs is None
                    or _is_binary(base_data)
                    or _is_binary(ours)
                    or _is_binary(theirs)
                ):
                    conflicts.append(ConflictItem(path, base_data, ours, theirs, None))
                    continue
                merged, clean = self._merge_file(ours, base_data, theirs)
                if not clean:
                    conflicts.append(ConflictItem(path, base_data, ours, theirs, merged))
                    continue
                merged_paths.append(path)
                if _blob_sha(merged) != head_id:
                    final[path] = merged
            if conflicts:
                raise Conflict(conflicts, head)
            if not final:
                parent = self._commit_info(head)[1] if head else ()
                return CommitResult(head or "", parent[0] if parent else None, False, [])
            if validate is not None:
                validate(dict(final), head)

            tree_changes = {
                _parts(path): None if data is None else self._write_object(b"blob", data)
                for path, data in final.items()
            }
            root = self._apply(head_root, tree_changes)
            if root is None:
                root = self._write_object(b"tree", b"")
            now = int(time.time())
            ident = f"{name} <{email}> {now} +0000"
            lines = [f"tree {root.hex()}"]
            if head:
                lines.append(f"parent {head}")
            lines += [f"author {ident}", f"committer {ident}", "", text, ""]
            sha = self._write_object(b"commit", "\n".join(lines).encode("utf-8")).hex()
            self._update_ref(sha, head)
        with self._cache_lock:
            self._commits[sha] = (root, (head,) if head else ())
        return CommitResult(sha, head, True, merged_paths)

    # ---- history ----------------------------------------------------------------------------

    @staticmethod
    def _revision(sha: bytes, name: bytes, email: bytes, ts: bytes, msg: bytes, path: str):
        return Revision(
            sha=sha.decode("ascii"),
            author_name=name.decode("utf-8", "replace"),
            author_email=email.decode("utf-8", "replace"),
            date=datetime.fromtimestamp(int(ts or b"0"), UTC).replace(tzinfo=None),
            message=msg.decode("utf-8", "replace").rstrip("\n"),
            path=path,
        )

    def _log(self, start: str, path: str, skip: int, count: int) -> list[Revision]:
        proc = self._run(
            [
                "log",
                "-z",
                "--no-color",
                "--format=%H%x00%an%x00%ae%x00%at%x00%B",
                f"--skip={skip}",
                f"-n{count}",
                "--end-of-options",
                start,
                "--",
                path,
            ]
        )
        tokens = proc.stdout.split(b"\0")
        return [
            self._revision(*tokens[i : i + 5], path)
            for i in range(0, len(tokens) - 4, 5)
            if FULL_SHA_RE.fullmatch(tokens[i].decode("ascii", "replace"))
        ]

    def history(
        self, path: str, limit: int = 50, offset: int = 0, rev: str | None = None
    ) -> list[Revision]:
        """Revisions that touched ``path``, newest first, following wiki renames."""
        check_path(path)
        limit, offset = max(0, int(limit)), max(0, int(offset))
        start = self._at(rev)
        out: list[Revision] = []
        skip = offset
        seen: set[tuple[str, str]] = set()
        while start is not None and len(out) < limit and (start, path) not in seen:
            seen.add((start, path))
            want = limit - len(out)
            entries = self._log(start, path, skip, want)
            out.extend(entries)
            if len(entries) >= want:
                break
            if entries:
                skip = 0
                oldest_sha = entries[-1].sha
                oldest_msg = entries[-1].message
            else:
                shas = self._run(["rev-list", "--end-of-options", start, "--", path]).stdout.split()
                if not shas:
                    break
                skip -= len(shas)
                oldest_sha = shas[-1].decode("ascii")
                oldest_msg = self._commit_message(oldest_sha)[1].decode("utf-8", "replace")
            old_path = _map_renamed(path, parse_trailers(oldest_msg))
            parents = self._commit_info(oldest_sha)[1]
            if old_path is None or not parents:
                break
            parent_root = self._commit_info(parents[0])[0]
            if self._entry(parent_root, _parts(path)) is not None:
                break  # not where ``path`` was created
            if self._entry(parent_root, _parts(old_path)) is None:
                break  # the trailer names nothing that existed
            start, path = parents[0], old_path
        return out

    def last_revision(self, path: str, rev: str | None = None) -> Revision | None:
        found = self.history(path, limit=1, rev=rev)
        return found[0] if found else None

    def revision(self, sha: str) -> Revision:
        """Author, date and message of commit ``sha`` (a full sha; BadRevision otherwise)."""
        if not FULL_SHA_RE.fullmatch(sha or ""):
            raise BadRevision(f"not a full commit id: {sha!r}")
        try:
            header, message = self._commit_message(sha)
        except KeyError as exc:
            raise BadRevision(f"unknown commit {sha}") from exc
        for line in header.split(b"\n"):
            if line.startswith(b"author "):
                who, _sep, stamp = line[7:].rpartition(b"> ")
                name, _sep, email = who.partition(b" <")
                return self._revision(sha.encode(), name, email, stamp.split(b" ")[0], message, "")
        raise BadRevision(f"{sha} has no author")

    @staticmethod
    def _parse_name_status(tokens: list[bytes]) -> list[FileChange]:
        out: list[FileChange] = []
        i = 0
        while i < len(tokens):
            status = tokens[i].lstrip(b"\n")
            if not status:
                i += 1
                continue
            letter = chr(status[0])
            if letter in "RC" and i + 2 < len(tokens):
                old, new = _name(tokens[i + 1]), _name(tokens[i + 2])
                if letter == "R":
                    out.append(FileChange("R", new, old))
                else:
                    out.append(FileChange("A", new, None))
                i += 3
            elif i + 1 < len(tokens):
                path = _name(tokens[i + 1])
                out.append(FileChange({"T": "M"}.get(letter, letter), path, None))
                i += 2
            else:
                break
        return out

    def changed_files(self, old: str | None, new: str) -> list[FileChange]:
        """Files changed from commit ``old`` (None: the empty tree) to commit ``new``."""
        new = self.resolve(new)
        old = EMPTY_TREE if old is None else self.resolve(old)
        proc = self._run(
            [
                "diff-tree",
                "-r",
                "-M",
                "-z",
                "--name-status",
                "--no-commit-id",
                "--end-of-options",
                old,
                new,
            ]
        )
        return self._parse_name_status(proc.stdout.split(b"\0"))

    def commits_between(self, old: str | None, new: str) -> list[tuple[Revision, list[FileChange]]]:
        """Commits reachable from ``new`` but not from ``old``, oldest first, with their files."""
        new = self.resolve(new)
        span = new if old is None else f"{self.resolve(old)}..{new}"
        proc = self._run(
            [
                "log",
                "-z",
                "-M",
                "--name-status",
                "--reverse",
                "--no-color",
                "--format=%x1e%H%x00%an%x00%ae%x00%at%x00%B",
                "--end-of-options",
                span,
                "--",
            ]
        )
        tokens = proc.stdout.split(b"\0")
        out: list[tuple[Revision, list[FileChange]]] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.startswith(b"\x1e") and FULL_SHA_RE.fullmatch(token[1:].decode("latin-1")):
                revision = self._revision(token[1:], *tokens[i + 1 : i + 5], "")
                i += 5
                j = i
                while j < len(tokens) and not tokens[j].startswith(b"\x1e"):
                    j += 1
                out.append((revision, self._parse_name_status(tokens[i:j])))
                i = j
            else:
                i += 1
        return out

    def diff(self, path: str, old: str, new: str) -> str:
        """Unified diff of ``path`` between two commits."""
        check_path(path)
        old, new = self.resolve(old), self.resolve(new)
        proc = self._run(
            [
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--end-of-options",
                old,
                new,
                "--",
                path,
            ]
        )
        return proc.stdout.decode("utf-8", "replace")

    # ---- maintenance ------------------------------------------------------------------------

    def purge(self, path: str) -> int:
        """Remove a file or folder from ALL history (legal erasure); returns rewritten commits.

        Every commit is rewritten in-process without ``path``; all branches are moved with one
        compare-and-swap transaction, reflogs expire and unreachable objects are pruned.
        """
        parts = _parts(check_path(path))
        with self._locked():
            refs = []
            listing = self._run(
                ["for-each-ref", "--format=%(objectname) %(objecttype) %(refname)"]
            ).stdout.decode("utf-8", "surrogateescape")
            for line in listing.splitlines():
                sha, kind, ref = line.split(" ", 2)
                if kind != "commit":
                    raise GitError(f"cannot purge: {ref} points to a {kind}")
                refs.append((ref, sha))
            if not refs:
                return 0
            commits = self._run(["rev-list", "--reverse", "--topo-order", "--all"]).stdout.split()
            new_of: dict[bytes, bytes] = {}
            tree_of: dict[bytes, bytes] = {}
            rewritten = 0
            for raw_sha in commits:
                sha = raw_sha.decode("ascii")
                kind, data = self._object(sha)
                header, sep, message = data.partition(b"\n\n")
                lines = []
                for line in header.split(b"\n"):
                    if line.startswith(b"tree ") and len(line) == 45:
                        old_tree = bytes.fromhex(line[5:].decode())
                        new_tree = tree_of.get(old_tree)
                        if new_tree is None:
                            new_tree = self._apply(old_tree, {parts: None}, strict=False)
                            if new_tree is None:
                                new_tree = self._write_object(b"tree", b"")
                            tree_of[old_tree] = new_tree
                        line = b"tree " + new_tree.hex().encode()
                    elif line.startswith(b"parent ") and len(line) == 47:
                        line = b"parent " + new_of.get(line[7:], line[7:])
                    lines.append(line)
                new_data = b"\n".join(lines) + sep + message
                if new_data == data:
                    new_of[raw_sha] = raw_sha
                else:
                    new_of[raw_sha] = self._write_object(b"commit", new_data).hex().encode()
                    rewritten += 1
            updates = [
                f"update {ref}\0{new_of[sha.encode()].decode()}\0{sha}\0".encode()
                for ref, sha in refs
                if new_of.get(sha.encode(), sha.encode()).decode() != sha
            ]
            if updates:
                proc = self._run(
                    ["update-ref", "-z", "--stdin"], input=b"".join(updates), check=False
                )
                if proc.returncode != 0:
                    raise StaleRef(
                        "purge: refs moved: " + proc.stderr.decode("utf-8", "replace").strip()
                    )
            self._run(["reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all"])
            self._run(
                ["gc", "--prune=now", "--quiet"], config=("gc.autoDetach=false",), timeout=None
            )
            self._bump_generation()
            self._clear_caches(self._disk_generation())
        return rewritten

    def maintain(self) -> None:
        """Commit-graph with changed-path filters, packed refs, ``gc --auto``."""
        with self._locked():
            self._run(["commit-graph", "write", "--reachable", "--changed-paths"], timeout=None)
            self._run(["pack-refs", "--all"])
            self._run(["gc", "--auto", "--quiet"], config=("gc.autoDetach=false",), timeout=None)

    def update_commit_graph(self) -> bool:
        """Add new commits to the commit-graph (split, incremental; history stays fast).

        Needs no write lock: git guards the graph with its own lock file, and a concurrent run
        simply makes this one a no-op. Returns whether git succeeded.
        """
        proc = self._run(
            ["commit-graph", "write", "--reachable", "--changed-paths", "--split"],
            check=False,
            timeout=None,
        )
        return proc.returncode == 0

    def is_ancestor(self, old: str, new: str) -> bool:
        """True if commit ``old`` is in the history of ``new`` (false once purged away)."""
        try:
            old, new = self.resolve(old), self.resolve(new)
        except BadRevision:
            return False
        proc = self._run(["merge-base", "--is-ancestor", old, new], check=False)
        return proc.returncode == 0

    def fsck(self) -> str:
        """Output of ``git fsck --full --strict``; GitError if it reports a problem."""
        proc = self._run(["fsck", "--full", "--strict", "--no-progress"], check=False, timeout=None)
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        if proc.returncode != 0:
            raise GitError(f"git fsck failed with exit code {proc.returncode}: {output.strip()}")
        return output

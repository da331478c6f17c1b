"""The index folder ``<instance>/search/``: index generations, the current pointer, the lock.

Layout::

    search/CURRENT            name of the index folder in use (replaced atomically)
    search/index-<id>/        a whoosh index plus .wiki-state.json (commit, fingerprint)
    search/building-<id>/     an index being built (renamed to index-<id> when complete)
    search.lock               (next to the folder) held by whoever writes

Only one process writes at a time: every writer holds ``fcntl.flock`` on ``search.lock`` (and a
thread lock), so whoosh's own write lock is always free and no ``LockError`` reaches a user.
A rebuild writes a complete index into ``building-<id>``, renames it and then replaces
``CURRENT``; readers that still use the old folder switch on their next query. Old folders are
removed a while after they were replaced (a reader in another process may still be using one).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pickle
import secrets
import shutil
import sys
import threading
import time
import zlib
from array import array, typecodes
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3PerDocReader,
    W3PostingsWriter,
    _lenfield,
)
from whoosh.columns import NumericColumn, TranslatingColumnReader
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import delta_encode

STATE_FILE = ".wiki-state.json"
RETIRED_FILE = ".wiki-retired"
POINTER = "CURRENT"
#: Seconds an index folder is kept after it was replaced.
RETIRED_GRACE = 120
#: Memory for whoosh's posting pool (MB), as whoosh counts it, of updates and of full builds.
#: An update of one page needs a fraction of a megabyte. A merge of small segments puts every
#: posting of them in the pool, one tuple of small objects each: with a large pool a merge of a
#: few hundred pages held 16 MB of them at once. Freed afterwards, they still left the worker's
#: allocator arenas pinned by the long-lived objects other threads made meanwhile. With 2 MB the
#: pool writes sorted runs to disk instead, which costs a merge a few milliseconds. A full
#: build keeps a large pool: spilling would cost it a third of its time.
WRITER_MB = 2
BUILD_MB = 1024


#: Segments of about the same size (same power of MERGE_FACTOR documents) are merged once there
#: are MERGE_FACTOR of them; bigger ones are left to ``optimize`` (``verbandswiki maintain``).
MERGE_FACTOR = 4
MERGE_LIMIT = 5000
#: Compound segment files up to this size are read into memory when a reader opens them.
SMALL_SEGMENT_BYTES = 1024 * 1024
#: The file name ending of a compound segment (whoosh's W3Segment).
COMPOUND_EXT = ".seg"


def merge_tiers(writer, segments):
    """whoosh merge policy: merge a tier of small segments when it is full.

    A single-page update writes a one-document segment; whoosh's default policy (MERGE_SMALL)
    merges ever larger groups of segments on later commits, which made one save in twenty take
    ten times as long. Here a merge only takes segments of about the same size, so its cost is
    proportional to what it merges and each document is merged about log4(n) times.
    """
    from whoosh.reading import SegmentReader

    tiers: dict[int, list] = {}
    for segment in segments:
        live = max(1, segment.doc_count())
        tier = 0
        while live >= MERGE_FACTOR ** (tier + 1):
            tier += 1
        tiers.setdefault(tier, []).append(segment)
    keep = []
    for _tier, group in sorted(tiers.items()):
        docs = sum(s.doc_count_all() for s in group)
        if len(group) >= MERGE_FACTOR and docs <= MERGE_LIMIT:
            for segment in group:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)
                reader.close()
        else:
            keep.extend(group)
    return keep


#: Length byte → field length (whoosh stores lengths as one byte each; 0 means none).
_LENGTH_OF_BYTE = [None] + [byte_to_length(b) for b in range(1, 256)]


def column_values(column, count: int) -> list:
    """The values of a whoosh column reader for documents ``0 … count - 1``.

    whoosh reads a column value by value, one ``seek`` + ``read`` each (10,000 reads for one
    field of a 10,000-page segment); a numeric column is one block of fixed-size numbers, read
    here at once."""
    translate = None
    if isinstance(column, TranslatingColumnReader):
        column, translate = column.raw_column(), column._translate
    values = None
    if isinstance(column, NumericColumn.Reader):
        size = column._fixedlen
        code = column._typecode
        stored = min(column._count, count)
        if code in typecodes and array(code).itemsize == size:
            values = array(code, column._dbfile.get(column._basepos, stored * size))
            if size > 1 and sys.byteorder == "little":
                values.byteswap()  # whoosh writes numbers big-endian ("!")
            values = values.tolist() + [column._default] * (count - stored)
    if values is None:
        values = [column[d] for d in range(count)]
    return [translate(v) for v in values] if translate else values


class IndexBusy(RuntimeError):
    """The write lock could not be had in time (another process is rebuilding)."""


class _PerDocReader(W3PerDocReader):
    """whoosh's per-document reader asks the file system whether a length column exists for
    every posting it writes (one ``stat`` per posting of a field without lengths); the columns
    of a written segment never change, so remember the answer."""

    def has_column(self, fieldname):
        known = self.__dict__.setdefault("_wiki_columns", {})
        found = known.get(fieldname)
        if found is None:
            found = known[fieldname] = W3PerDocReader.has_column(self, fieldname)
        return found

    def doc_field_length(self, docnum, fieldname, default=0):
        # whoosh decodes the length byte anew for every posting it writes or scores; a
        # segment's lengths never change, so decode each field's column once.
        known = self.__dict__.setdefault("_wiki_lengths", {})
        lengths = known.get(fieldname)
        if lengths is None:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            lengths = known[fieldname] = (
                ()
                if reader is None
                else [_LENGTH_OF_BYTE[b] for b in column_values(reader, self._doccount)]
            )
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        if not lengths:
            return W3PerDocReader.doc_field_length(self, docnum, fieldname, default)
        return lengths[docnum]


class WikiCodec(W3Codec):
    """whoosh's default codec with the cached column check above."""

    def per_document_reader(self, storage, segment):
        return _PerDocReader(storage, segment)


def _little_endian(values: array) -> array:
    """``values`` in little-endian byte order (swapped in place on a big-endian machine)."""
    if sys.byteorder == "big":
        values.byteswap()
    return values


def pack_numbers(values) -> bytes:
    """Non-negative integers as one type letter and a little-endian array of the smallest
    fitting item size."""
    packed = array("I", values)
    top = max(packed, default=0)
    if top < 1 << 8:
        packed = array("B", packed)
    elif top < 1 << 16:
        packed = array("H", packed)
    return packed.typecode.encode() + _little_endian(packed).tobytes()


def unpack_numbers(data) -> array:
    """The array :func:`pack_numbers` packed."""
    values = array(chr(data[0]))
    values.frombytes(memoryview(data)[1:])
    return _little_endian(values)


def pack_weights(weights) -> bytes | float | None:
    """A block's weights: ``None`` if all are 1.0, the one value if all are equal, else a
    little-endian float array."""
    first = weights[0]
    if all(w == first for w in weights):
        return None if first == 1.0 else first
    return _little_endian(array("f", weights)).tobytes()


def block_weights(data, count: int) -> array:
    """The ``count`` weights of a block from what :func:`pack_weights` (or whoosh, which
    writes a tuple where this writes bytes) stored."""
    if data is None or isinstance(data, float):
        return array("f", [1.0 if data is None else data]) * count
    if isinstance(data, bytes | bytearray):
        weights = array("f")
        weights.frombytes(data)
        return _little_endian(weights)
    return array("f", data)


class _PackedPostingsWriter(W3PostingsWriter):
    """whoosh's posting blocks with the document numbers and weights packed into arrays and the
    block data pickled with the newest protocol (whoosh pickles a tuple of numbers with
    protocol 2, where every position list costs a function call to unpickle): blocks are
    half the size and decode three times as fast. The framing (length, block info, data) and
    the block statistics stay whoosh's."""

    def _write_block(self, last=False):
        if self._byteids:  # term vectors: whoosh's own blocks
            return super()._write_block(last)
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        data = (pack_numbers(delta_encode(ids)), pack_weights(self._weights), self._mini_values())
        data = pickle.dumps(data, 5)
        if self._compression:
            data = zlib.compress(data, self._compression)
        info = pickle.dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                self._compression,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        length = len(info) + len(data)
        self._postfile.write_int(-length if last else length)
        self._postfile.write(info)
        self._postfile.write(data)
        self._blockcount += 1
        self._new_block()


class _PackedLeafMatcher(W3LeafMatcher):
    """Reads the blocks :class:`_PackedPostingsWriter` writes."""

    def _read_ids(self):
        if self._data is None:
            self._read_data()
        self._ids = tuple(accumulate(unpack_numbers(self._data[0])))

    def _read_weights(self):
        if self._data is None:
            self._read_data()
        self._weights = block_weights(self._data[1], self._blocklength)


class PackedCodec(WikiCodec):
    """The codec of new indexes: :class:`WikiCodec` with packed posting blocks. (Indexes
    written before name ``WikiCodec`` in their table of contents and are read as written.)"""

    def postings_writer(self, dbfile, byteids=False):
        return _PackedPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return _PackedLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class _Storage(FileStorage):
    """whoosh's file storage without ``mmap`` (see :meth:`IndexStore.open`); the compound file
    of a small segment (the ones single-page updates write and merges read) is read into memory
    at once, so that whoosh reads it from a buffer instead of by ``seek`` + ``read`` calls."""

    def __init__(self, path: str):
        super().__init__(path, supports_mmap=False)

    def open_file(self, name, **kwargs):
        if name.endswith(COMPOUND_EXT):
            path = self._fpath(name)
            if os.path.getsize(path) <= SMALL_SEGMENT_BYTES:
                with open(path, "rb") as fh:
                    return BufferFile(fh.read(), name=name)
        return super().open_file(name, **kwargs)


@dataclass(frozen=True)
class Snapshot:
    """The index in use: its folder and what its state file says."""

    folder: Path
    commit: str | None
    fingerprint: str | None


class IndexStore:
    """Folders, pointer, state and lock of one search index."""

    def __init__(self, root: Path, lock_path: Path):
        self.root = Path(root)
        self.lock_path = Path(lock_path)
        self._mutex = threading.RLock()
        self._cached: tuple | None = None

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        """The current index folder and its recorded state, or None if there is none."""
        pointer = self.root / POINTER
        try:
            pointer_stat = pointer.stat()
        except FileNotFoundError:
            return None
        cached = self._cached
        if cached is not None and cached[0] == _stamp(pointer_stat):
            folder = cached[1]
            try:
                state_stamp = _stamp((folder / STATE_FILE).stat())
            except FileNotFoundError:
                state_stamp = None
            if state_stamp == cached[2]:
                return cached[3]
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not name.startswith("index-") or "/" in name:
            return None
        folder = self.root / name
        state_path = folder / STATE_FILE
        try:
            state_stamp = _stamp(state_path.stat())
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            state, state_stamp = {}, None
        if not folder.is_dir():
            return None
        snap = Snapshot(folder, state.get("commit"), state.get("fingerprint"))
        self._cached = (_stamp(pointer_stat), folder, state_stamp, snap)
        return snap

    @staticmethod
    def open(folder: Path):
        """The whoosh index in ``folder`` (raises if it is missing or unreadable).

        Without ``mmap``: a mapped segment counts in the resident memory of the process once
        per mapping (every searcher and writer maps it anew), and whoosh cannot unmap it while
        a buffer of it is still referenced, so superseded generations stayed resident until the
        garbage collector freed them. Read through file handles, the index lives in the page
        cache, which the worker processes share."""
        return _Storage(str(folder)).open_index()

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def locked(self, timeout: float):
        """Hold the write lock (``IndexBusy`` after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        if not self._mutex.acquire(timeout=max(timeout, 0.001)):
            raise IndexBusy("search index is locked")
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.lock_path, "a+") as handle:
                while True:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES):
                            raise
                        if time.monotonic() >= deadline:
                            raise IndexBusy("search index is locked") from None
                        time.sleep(0.02)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            self._mutex.release()

    def writer(self, ix, limitmb: int = WRITER_MB):
        """A whoosh writer (call only while holding :meth:`locked`)."""
        return ix.writer(codec=PackedCodec(), limitmb=limitmb, timeout=5.0, delay=0.05)

    def build(self, schema, documents, commit: str | None, fingerprint: str) -> Path:
        """Write a complete new index of ``documents`` and make it current (under the lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_unfinished()
        ident = secrets.token_hex(6)
        building = self.root / f"building-{ident}"
        building.mkdir()
        try:
            storage = _Storage(str(building))
            ix = storage.create_index(schema)
            writer = self.writer(ix, limitmb=BUILD_MB)
            try:
                for doc in documents:
                    writer.add_document(**doc)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            self.write_state(building, commit, fingerprint)
            folder = self.root / f"index-{ident}"
            os.rename(building, folder)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        self.swap(folder)
        return folder

    def swap(self, folder: Path) -> None:
        """Point ``CURRENT`` at ``folder`` atomically; retire the folder it pointed at."""
        old = self.snapshot()
        tmp = self.root / f".{POINTER}.{secrets.token_hex(4)}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(folder.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / POINTER)
        _fsync_dir(self.root)
        self._cached = None
        if old is not None and old.folder != folder and old.folder.exists():
            (old.folder / RETIRED_FILE).write_text(str(time.time()), encoding="utf-8")
        self.remove_retired()

    def write_state(self, folder: Path, commit: str | None, fingerprint: str) -> None:
        """Record the commit the index in ``folder`` reflects (after its whoosh commit)."""
        # No fsync: after a crash an older (or unreadable) state only means the index
        # catches up again (or is rebuilt); it never claims more than it holds.
        data = {"commit": commit, "fingerprint": fingerprint, "written": time.time()}
        tmp = folder / f"{STATE_FILE}.{secrets.token_hex(4)}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, folder / STATE_FILE)
        self._cached = None

    def remove_retired(self, grace: float = RETIRED_GRACE) -> None:
        """Delete index folders replaced more than ``grace`` seconds ago (under the lock)."""
        current = self.snapshot()
        for folder in self.root.glob("index-*"):
            if current is not None and folder == current.folder:
                continue
            marker = folder / RETIRED_FILE
            try:
                retired = float(marker.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                # Not current and never marked: left over from a crash between rename and swap.
                retired = folder.stat().st_mtime if folder.exists() else 0
                if current is None:
                    continue
            if time.time() - retired > grace:
                shutil.rmtree(folder, ignore_errors=True)

    def _remove_unfinished(self) -> None:
        # Builds happen only under the lock, so any building-* folder is a crashed one.
        for folder in self.root.glob("building-*"):
            shutil.rmtree(folder, ignore_errors=True)

    def size(self) -> int:
        """Bytes used by the current index folder."""
        snap = self.snapshot()
        if snap is None:
            return 0
        return sum(f.stat().st_size for f in snap.folder.iterdir() if f.is_file())


def _stamp(stat) -> tuple:
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

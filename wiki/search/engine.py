"""A fast evaluator of whoosh queries over a whoosh index.

whoosh's own collectors walk a tree of matcher objects document by document; with a term that
occurs in most pages that costs 10–20 µs per document, 40–130 ms for one query over 10,000
pages once a permission filter, exact totals and facet counts are asked for. This module
evaluates the same query objects (``Term``, ``And``, ``Or``, ``AndNot``, ``Not``, ``Prefix``,
``Phrase``, ``Every``, ``ConstantScoreQuery``; anything else through whoosh's ``docs()``) with
document sets as Python integers used as bit sets, so that ``and``/``or``/``not``, counts and
facet counts are single C operations, and scores documents with BM25 (whoosh's defaults,
K1 = 1.2, B = 0.75) from posting lists read block by block.

Caches (process wide, shared by the threads of a worker; their values are never changed after
they are stored, so readers need no lock):

- per segment (immutable once written): posting lists and field lengths;
- per index generation (one committed state): term bit sets and scores, the allow-set of each
  read filter, facet bit sets and the date order.
"""

from __future__ import annotations

import heapq
import io
import math
import pickle
import struct
import threading
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from itertools import accumulate, compress, islice

from whoosh import formats
from whoosh import query as Q
from whoosh.automata import lev
from whoosh.codec.base import Automata
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo, W3TermsReader
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from .store import block_weights, column_values, unpack_numbers

K1 = 1.2
_OLDEST = datetime(1970, 1, 1)
B = 0.75
#: Memory (bytes, estimated) for cached posting lists per process, shared by all indexes.
MAX_CACHED_POSTINGS = 24 * 2**20
#: … for decoded positions (phrases) and, per index generation, for the bit sets and the scores
#: of terms. Decoded positions are a dict of small objects: kept in large numbers, they spread
#: over allocator arenas that stay pinned by the few long-lived objects allocated among them,
#: so the worker kept about 25 MB after its caches were dropped. One MB holds the rare and
#: medium terms, which is where reuse pays; the bench shows no slower query. Scores are two
#: arrays per term (12 bytes a document), so one MB holds those of about 80,000 postings.
MAX_CACHED_POSITIONS = 2**20
MAX_CACHED_TERMS = 8 * 2**20
MAX_CACHED_SCORES = 2**20
#: A term's scores are computed for the documents asked for only (and not cached) when the
#: term is in this many times more documents.
PARTIAL_SCORES_BELOW = 4


class TermScores:
    """A term's BM25 score of each live document that contains it: the documents ascending
    (index-wide numbers) and their scores alongside, two arrays rather than a dict of two small
    objects per document (they would pin allocator arenas, see ``MAX_CACHED_POSITIONS``)."""

    __slots__ = ("ids", "values")

    def __init__(self, ids: array, values: array):
        self.ids = ids
        self.values = values

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, doc: int, default: float = 0.0) -> float:
        """The score of ``doc`` (``default`` if it does not contain the term)."""
        ids = self.ids
        i = bisect_left(ids, doc)
        if i < len(ids) and ids[i] == doc:
            return self.values[i]
        return default

    def items(self) -> Iterable[tuple[int, float]]:
        """(document, score) pairs, ascending by document."""
        return zip(self.ids, self.values, strict=True)

    @property
    def size(self) -> int:
        """Estimated bytes."""
        return 12 * len(self.ids) + 200


class BoundedCache:
    """A dict that forgets its older half when the summed ``weight`` of its entries passes
    ``limit``. Reads take no lock (values are never changed once stored)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.data: dict = {}
        self.weights: dict = {}
        self.weight = 0
        self._lock = threading.Lock()

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value, weight: int = 1):
        with self._lock:
            self.weight += weight - self.weights.get(key, 0)
            self.data[key] = value
            self.weights[key] = weight
            if self.weight > self.limit:
                keep = list(self.data)[len(self.data) // 2 :]
                self.weights = {k: self.weights[k] for k in keep}
                self.data = {k: self.data[k] for k in keep}
                self.weight = sum(self.weights.values())
        return value


@lru_cache(maxsize=256)
def _levenshtein_dfa(text: str, maxdist: int, prefix: int):
    return lev.levenshtein_automaton(text, maxdist, prefix).to_dfa()


def mask_of(ids: Iterable[int]) -> int:
    """A bit set with the bits ``ids`` set (``ids`` ascending or not)."""
    ids = list(ids)
    if not ids:
        return 0
    data = bytearray((max(ids) >> 3) + 1)
    for i in ids:
        data[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(data, "little")


_BITS = bytes.maketrans(b"01", b"\x00\x01")


def members(mask: int) -> list[int]:
    """The positions of the set bits of ``mask``, ascending."""
    if not mask:
        return []
    if mask.bit_count() < 64:
        result = []
        while mask:
            low = mask & -mask
            result.append(low.bit_length() - 1)
            mask ^= low
        return result
    bits = bin(mask)[:1:-1].encode("ascii").translate(_BITS)  # bit i at index i, as 0/1
    return list(compress(range(len(bits)), bits))


def first_members(mask: int, order: Iterable[int], limit: int, skip: int = 0) -> list[int]:
    """The first ``limit`` documents of ``order`` in ``mask`` after skipping ``skip`` of them."""
    result = []
    for doc in order:
        if mask >> doc & 1:
            if skip:
                skip -= 1
                continue
            result.append(doc)
            if len(result) >= limit:
                break
    return result


class Postings:
    """One term's posting list in one segment (segment-local document numbers)."""

    __slots__ = ("ids", "tfs", "mask")

    def __init__(self, ids: array, tfs: array):
        self.ids = ids
        self.tfs = tfs
        self.mask = mask_of(ids)

    @property
    def size(self) -> int:
        """Estimated bytes."""
        return 8 * len(self.ids) + self.mask.bit_length() // 8 + 150


EMPTY = Postings(array("I"), array("f"))


_BLOCK_LENGTH = struct.Struct("!i")


def read_postings(reader, fieldname: str, btext: bytes, positions: bool = False):
    """(ids, weights[, encoded positions]) of a term in a segment reader, deleted documents
    included (positions stay encoded: a phrase decodes only those of the documents it checks);
    ``None`` if the segment does not have the term.

    whoosh's matcher reads a posting list block by block with a dozen small reads each (its
    block headers are unpickled straight from the file); here the whole list is read at once
    and its blocks are taken apart in memory."""
    terms = getattr(reader, "_terms", None)
    if not isinstance(terms, W3TermsReader):  # another codec: the generic (slower) way
        return _read_postings_generic(reader, fieldname, btext, positions)
    try:
        info = terms.term_info(fieldname, btext)
    except TermNotFound:
        return None
    return _read_term_info(reader, terms, info, fieldname, btext, positions)


def _read_term_info(reader, terms, info, fieldname: str, btext: bytes, positions: bool):
    if info.is_inlined():
        ids, weights, values = info.inlined_postings()
        return array("I", ids), array("f", weights), list(values) if positions else []
    offset, length = info.extent()
    if isinstance(length, tuple):  # whoosh's W3TermInfo.from_bytes keeps the unpacked tuple
        length = length[0]
    raw = terms._postfile.get(offset, length)
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"damaged posting list of {fieldname}:{btext!r}")
    fixedsize = reader.schema[fieldname].format.fixed_value_size() if positions else None
    ids, tfs, poses = array("I"), array("f"), []
    stream = io.BytesIO(raw)
    at = 4
    while True:
        size = _BLOCK_LENGTH.unpack_from(raw, at)[0]
        at += 4
        end = at + abs(size)
        stream.seek(at)
        count, _maxid, _maxweight, compression, _minlength, _maxlength = pickle.load(stream)
        data = raw[stream.tell() : end]
        block_ids, weights, values = pickle.loads(zlib.decompress(data) if compression else data)
        packed = isinstance(block_ids, bytes)  # PackedCodec's blocks (else whoosh's tuples)
        ids.extend(accumulate(unpack_numbers(block_ids) if packed else block_ids))
        tfs.extend(block_weights(weights, count))
        if positions:
            if fixedsize is None or fixedsize < 0:
                poses.extend(values)
            elif fixedsize == 0:
                poses.extend([None] * count)
            else:
                poses.extend(values[i : i + fixedsize] for i in range(0, len(values), fixedsize))
        if size < 0:  # a negative length marks the last block
            return ids, tfs, poses
        at = end


def _read_postings_generic(reader, fieldname: str, btext: bytes, positions: bool):
    if (fieldname, btext) not in reader:
        return None
    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    ids, tfs, poses = array("I"), array("f"), []
    while matcher.is_active():
        ids.append(matcher.id())
        tfs.append(matcher.weight())
        if positions:
            poses.append(matcher.value())
        matcher.next()
    return ids, tfs, poses


class SegmentData:
    """Process-wide cache for one immutable segment."""

    def __init__(self, cache: BoundedCache, positions: BoundedCache):
        self.cache = cache
        self.positions_cache = positions
        self.lengths: dict[str, array] = {}

    def postings(self, reader, key, fieldname, btext) -> Postings:
        found = self.cache.get(key)
        if found is not None:
            return found
        read = read_postings(reader, fieldname, btext)
        if read is None:
            return self.cache.put(key, EMPTY)
        return self._keep_postings(key, read[0], read[1])

    def _keep_postings(self, key, ids, tfs) -> Postings:
        postings = Postings(ids, tfs)
        return self.cache.put(key, postings, weight=postings.size)

    def positions(self, reader, key, fieldname, btext) -> dict[int, bytes]:
        """Document → its encoded positions of the term (decode with the field's format).

        The same read yields the posting list: kept too, so that a phrase decodes each block
        of its words once, not once for the documents and again for the positions."""
        found = self.positions_cache.get(key)
        if found is None:
            read = read_postings(reader, fieldname, btext, positions=True)
            if read is None:
                return {}
            ids, tfs, poses = read
            found = dict(zip(ids, poses, strict=False))
            weight = 100 * len(ids) + sum(map(len, filter(None, poses)))
            self.positions_cache.put(key, found, weight=weight)
            if self.cache.get(key) is None:
                self._keep_postings(key, ids, tfs)
        return found

    def prefix_postings(self, reader, segment_id, fieldname, prefix: bytes, limit: int):
        """The posting lists of the segment's terms of ``fieldname`` that start with ``prefix``
        (at most ``limit``), read in term order straight from the term index (no second
        look-up per term, no look-ups of terms the segment lacks)."""
        terms = getattr(reader, "_terms", None)
        if not isinstance(terms, W3TermsReader):
            words = islice(reader.expand_prefix(fieldname, prefix), limit)
            return [self.postings(reader, (segment_id, fieldname, w), fieldname, w) for w in words]
        start = terms._keycoder(fieldname, prefix)
        coded = len(start) - len(prefix)  # the field number in front of every key
        found = []
        for keybytes, infobytes in terms._tindex.items_from(start):
            if len(found) >= limit or not keybytes.startswith(start):
                break
            btext = keybytes[coded:]
            key = (segment_id, fieldname, btext)
            postings = self.cache.get(key)
            if postings is None:
                info = W3TermInfo.from_bytes(infobytes)
                ids, tfs, _ = _read_term_info(reader, terms, info, fieldname, btext, False)
                postings = self._keep_postings(key, ids, tfs)
            found.append(postings)
        return found

    def column(self, reader, fieldname: str) -> list:
        """Every value of a sortable column of the segment (paths, dates), cached."""
        found = self.lengths.get(("column", fieldname))
        if found is None:
            values = column_values(reader.column_reader(fieldname), reader.doc_count_all())
            found = [v.decode("utf-8") if isinstance(v, bytes) else v for v in values]
            self.lengths[("column", fieldname)] = found
        return found

    def field_lengths(self, reader, fieldname: str) -> array:
        found = self.lengths.get(fieldname)
        if found is None:
            dfl = reader.doc_field_length
            found = array("f", (dfl(d, fieldname, 0) or 0 for d in range(reader.doc_count_all())))
            self.lengths[fieldname] = found
        return found


def _decode_whoosh_positions(raw: bytes | None):
    """The positions of whoosh's ``Positions`` format: a count, then a pickled list of
    gaps (its trailing STOP byte may be cut off)."""
    if not raw:
        return ()
    if raw[-1] != 46:  # "."
        raw += b"."
    return accumulate(pickle.loads(memoryview(raw)[4:]))


def _positions_decoder(fmt):
    if type(fmt) is formats.Positions:
        return _decode_whoosh_positions
    return lambda raw: fmt.decode_positions(raw) if raw else ()


class Term:
    """A term over the whole index at one generation: bit set, document frequency, scores."""

    __slots__ = ("mask", "parts")

    def __init__(self, mask: int, parts):
        self.mask = mask
        self.parts = parts  # [(offset, Postings, SegmentData, reader index)]


class Generation:
    """Everything derived from one committed state of the index (shared by threads)."""

    def __init__(self, key, live: int, count: int, deleted: frozenset, size: int):
        self.key = key
        self.live = live
        self.deleted = deleted
        self.count = count
        self.size = size  # document numbers, deleted ones included
        self.terms = BoundedCache(MAX_CACHED_TERMS)
        self.scores = BoundedCache(MAX_CACHED_SCORES)
        self.allow: dict = {}
        self.facets: dict[str, dict[str, int]] = {}
        self.avgdl: dict[str, float] = {}
        self.date_order: array | None = None  # live documents, newest first ('I')
        self.date_rank: array | None = None  # document number → place in date_order ('I')
        self.segments: dict[str, SegmentData] = {}
        self.lock = threading.Lock()


class Engine:
    """Caches of one search index across generations; ``view(searcher)`` evaluates queries."""

    def __init__(self, scored_fields: Iterable[str] = ("title", "body", "tags")):
        self.scored_fields = set(scored_fields)
        self.postings_cache = BoundedCache(MAX_CACHED_POSTINGS)
        self.positions_cache = BoundedCache(MAX_CACHED_POSITIONS)
        self.segments: dict[str, SegmentData] = {}
        self.generations: dict = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cache (an idle process gives its memory back); views in use keep
        the caches of their generation until they are done."""
        with self._lock:
            self.postings_cache = BoundedCache(MAX_CACHED_POSTINGS)
            self.positions_cache = BoundedCache(MAX_CACHED_POSITIONS)
            self.segments = {}
            self.generations = {}

    def cached(self) -> bool:
        """Whether anything is cached."""
        return bool(self.generations or self.segments)

    def view(self, searcher, ident: str) -> View:
        """A view of ``searcher`` (one thread's) with the shared caches of its generation."""
        leaves = searcher.reader().leaf_readers()
        key = (
            ident,
            searcher.reader().generation(),
            tuple(r.segment().segment_id() for r, _ in leaves),
        )
        generation = self.generations.get(key)
        if generation is None:
            with self._lock:
                generation = self.generations.get(key)
                if generation is None:
                    generation = self._new_generation(key, leaves)
        return View(self, generation, searcher, leaves)

    def _new_generation(self, key, leaves) -> Generation:
        live = 0
        count = 0
        size = 0
        deleted: set[int] = set()
        for reader, offset in leaves:
            n = reader.doc_count_all()
            size = max(size, offset + n)
            segment_mask = (1 << n) - 1
            if reader.has_deletions():
                segment_mask &= ~mask_of(reader.deleted_docs_set)
                deleted.update(d + offset for d in reader.deleted_docs_set)
            live |= segment_mask << offset
            count += reader.doc_count()
        generation = Generation(key, live, count, frozenset(deleted), size)
        ids = {reader.segment().segment_id() for reader, _ in leaves}
        for segment_id in list(self.segments):
            if segment_id not in ids:
                del self.segments[segment_id]
        for segment_id in ids:
            generation.segments[segment_id] = self.segments.setdefault(
                segment_id, SegmentData(self.postings_cache, self.positions_cache)
            )
        # Keep the two newest generations (threads may still answer from the previous one).
        self.generations = {k: v for k, v in list(self.generations.items())[-1:]}
        self.generations[key] = generation
        return generation


class View:
    """Query evaluation for one thread's searcher."""

    def __init__(self, engine: Engine, generation: Generation, searcher, leaves):
        self.engine = engine
        self.gen = generation
        self.searcher = searcher
        self.leaves = [
            (
                reader,
                offset,
                generation.segments[reader.segment().segment_id()],
                reader.segment().segment_id(),
            )
            for reader, offset in leaves
        ]
        self.schema = searcher.schema

    # -- terms ------------------------------------------------------------------------------

    def _btext(self, fieldname: str, text) -> bytes | None:
        field = self.schema[fieldname] if fieldname in self.schema else None
        if field is None:
            return None
        if isinstance(text, bytes):
            return text
        try:
            return field.to_bytes(text)
        except Exception:  # noqa: BLE001 - a value the field cannot hold matches nothing
            return None

    def term(self, fieldname: str, text, positions: bool = False) -> Term:
        """The term over every segment; ``positions``: a phrase will ask for its positions, so
        segments not read yet are read with them in one pass."""
        btext = self._btext(fieldname, text)
        key = (fieldname, btext)
        found = self.gen.terms.get(key)
        if found is not None:
            return found
        mask = 0
        parts = []
        if btext is not None:
            for index, (reader, offset, data, segment_id) in enumerate(self.leaves):
                segment_key = (segment_id, fieldname, btext)
                if positions and data.cache.get(segment_key) is None:
                    data.positions(reader, segment_key, fieldname, btext)
                postings = data.postings(reader, segment_key, fieldname, btext)
                if postings.ids:
                    mask |= postings.mask << offset
                    parts.append((offset, postings, data, index))
        mask &= self.gen.live
        return self.gen.terms.put(key, Term(mask, parts), weight=mask.bit_length() // 8 + 200)

    def term_scores(self, fieldname: str, text) -> TermScores:
        """BM25 score of each live document containing the term (cached per generation)."""
        key = (fieldname, self._btext(fieldname, text))
        found = self.gen.scores.get(key)
        if found is not None:
            return found
        term = self.term(fieldname, text)
        df = term.mask.bit_count()
        k, a, b = self._bm25(fieldname, df)
        ids, values = array("I"), array("d")
        for offset, postings, data, index in term.parts:  # ascending offsets
            lengths = data.field_lengths(self.leaves[index][0], fieldname)
            values.extend(
                k * tf / (tf + a + b * lengths[d])
                for d, tf in zip(postings.ids, postings.tfs, strict=True)
            )
            if offset:
                ids.extend(d + offset for d in postings.ids)
            else:
                ids.extend(postings.ids)
        if len(ids) != df:  # some of them are deleted
            deleted = self.gen.deleted
            keep = [i for i, d in enumerate(ids) if d not in deleted]
            ids = array("I", [ids[i] for i in keep])
            values = array("d", [values[i] for i in keep])
        scores = TermScores(ids, values)
        return self.gen.scores.put(key, scores, weight=scores.size)

    def _bm25(self, fieldname: str, df: int) -> tuple[float, float, float]:
        """(k, a, b) of a term with document frequency ``df``: the score of a document is
        ``k * tf / (tf + a + b * length)``."""
        n = max(self.gen.count, 1)
        idf = 1.0 + math.log(n / (1.0 + df))
        avgdl = self.avgdl(fieldname) or 1.0
        return idf * (K1 + 1.0), K1 * (1.0 - B), K1 * B / avgdl

    def term_scores_of(self, fieldname: str, text, docs: list[int]) -> TermScores:
        """BM25 scores of the term for ``docs`` (live, each containing the term): the cached
        scores of every document, or, when the term is in many more documents than asked
        for and not cached yet, only those of ``docs`` (a phrase of common words)."""
        found = self.gen.scores.get((fieldname, self._btext(fieldname, text)))
        if found is not None:
            return found
        term = self.term(fieldname, text)
        df = term.mask.bit_count()
        if len(docs) * PARTIAL_SCORES_BELOW >= df:
            return self.term_scores(fieldname, text)
        k, a, b = self._bm25(fieldname, df)
        scored, values = array("I"), array("d")
        parts = term.parts[::-1]
        for doc in docs:
            for offset, postings, data, index in parts:
                if doc >= offset:  # the segment of doc, if it has the term at all
                    local = doc - offset
                    ids = postings.ids
                    i = bisect_left(ids, local)
                    if i < len(ids) and ids[i] == local:
                        tf = postings.tfs[i]
                        length = data.field_lengths(self.leaves[index][0], fieldname)[local]
                        scored.append(doc)
                        values.append(k * tf / (tf + a + b * length))
                    break
        return TermScores(scored, values)

    def avgdl(self, fieldname: str) -> float:
        found = self.gen.avgdl.get(fieldname)
        if found is None:
            total = 0.0
            for reader, _offset, data, _ in self.leaves:
                lengths = data.field_lengths(reader, fieldname)
                total += sum(lengths)
                if reader.has_deletions():
                    total -= sum(lengths[d] for d in reader.deleted_docs_set)
            found = total / max(self.gen.count, 1)
            self.gen.avgdl[fieldname] = found
        return found

    def prefix_mask(self, fieldname: str, prefix: str, limit: int = 2000) -> int:
        """The bit set of the documents with a term of ``fieldname`` starting with ``prefix``
        (at most ``limit`` terms per segment), cached per generation."""
        btext = self._btext(fieldname, prefix)
        key = ("prefix", fieldname, btext)
        found = self.gen.terms.get(key)
        if found is not None:
            return found.mask
        mask = 0
        if btext is not None:
            for reader, offset, data, segment_id in self.leaves:
                for postings in data.prefix_postings(reader, segment_id, fieldname, btext, limit):
                    mask |= postings.mask << offset
        mask &= self.gen.live
        self.gen.terms.put(key, Term(mask, []), weight=mask.bit_length() // 8 + 200)
        return mask

    def terms_within(self, fieldname: str, text: str, maxdist: int, prefix: int) -> set[str]:
        """Terms within ``maxdist`` edits of ``text`` (sharing its first ``prefix`` letters).

        One Levenshtein automaton is built per word and run over every segment's terms."""
        dfa = _levenshtein_dfa(text, maxdist, prefix)
        found: set[str] = set()
        for reader, _, _, _ in self.leaves:
            if fieldname not in reader.schema:
                continue
            cursor = reader.cursor(fieldname)
            found.update(Automata.find_matches(dfa, cursor))
        return found

    # -- queries ----------------------------------------------------------------------------

    def match(self, q) -> int:
        """The bit set of live documents matching ``q``."""
        return self._match(q, None)

    def match_scored(self, q) -> tuple[int, list]:
        """The bit set of ``q`` and its scoring leaves ``[(kind, field, text/mask, boost)]``."""
        leaves: list = []
        return self._match(q, leaves), leaves

    def _match(self, q, leaves: list | None) -> int:
        live = self.gen.live
        if isinstance(q, Q.Term):
            mask = self.term(q.fieldname, q.text).mask
            if leaves is not None and mask and q.fieldname in self.engine.scored_fields:
                leaves.append(("term", q.fieldname, q.text, q.boost))
            return mask
        if isinstance(q, Q.And):
            mask = live
            for sub in q.subqueries:
                mask &= self._match(sub, leaves)
                if not mask:
                    break
            return mask
        if isinstance(q, Q.Or):
            mask = 0
            for sub in q.subqueries:
                mask |= self._match(sub, leaves)
            return mask
        if isinstance(q, Q.AndNot):
            positive = self._match(q.a, leaves)
            return positive & ~self._match(q.b, None) if positive else 0
        if isinstance(q, Q.Not):
            return live & ~self._match(q.query, None)
        if isinstance(q, Q.Every):
            return live
        if isinstance(q, Q.ConstantScoreQuery):
            mask = self._match(q.child, None)
            if leaves is not None and mask and q.score:
                leaves.append(("constant", None, mask, q.score))
            return mask
        if isinstance(q, Q.Prefix):
            mask = self.prefix_mask(q.fieldname, q.text)
            if leaves is not None and mask:
                leaves.append(("constant", None, mask, q.boost))
            return mask
        if isinstance(q, Q.Phrase):
            return self._phrase(q, leaves)
        if isinstance(q, Q.NullQuery.__class__):
            return 0
        # Anything else (ranges on plugin fields …): whoosh's own evaluation.
        return mask_of(q.docs(self.searcher)) & live

    def _phrase(self, q, leaves) -> int:
        words = list(q.words)
        if not words:
            return 0
        terms = [self.term(q.fieldname, w, positions=len(words) > 1) for w in words]
        mask = self.gen.live
        for term in terms:
            mask &= term.mask
        if not mask or len(words) == 1:
            if leaves is not None and mask:
                leaves.append(("term", q.fieldname, words[0], q.boost))
            return mask
        btexts = [self._btext(q.fieldname, w) for w in words]
        found = 0
        for reader, offset, data, segment_id in self.leaves:
            local = mask >> offset & ((1 << reader.doc_count_all()) - 1)
            if local:
                found |= (
                    self._phrase_in_segment(reader, data, segment_id, q.fieldname, btexts, local)
                    << offset
                )
        mask = found
        if leaves is not None and mask:
            for w in words:
                leaves.append(("term", q.fieldname, w, q.boost))
        return mask

    @staticmethod
    def _phrase_in_segment(reader, data, segment_id, fieldname, btexts, local: int) -> int:
        """The documents of ``local`` (segment-local bit set, each has every word) in which the
        words follow one another."""
        tables = [data.positions(reader, (segment_id, fieldname, b), fieldname, b) for b in btexts]
        decode = _positions_decoder(reader.schema[fieldname].format)
        first, rest = tables[0], list(enumerate(tables[1:], 1))
        hits = []
        for doc in members(local):
            starts = set(decode(first.get(doc)))
            for i, table in rest:
                starts.intersection_update(map((-i).__add__, decode(table.get(doc))))
                if not starts:
                    break
            else:
                hits.append(doc)
        return mask_of(hits)

    # -- ranking ----------------------------------------------------------------------------

    def scores(self, mask: int, leaves: list) -> dict[int, float]:
        """The score of every document in ``mask`` (sum of its leaves' contributions)."""
        docs, acc = self._accumulate(mask, leaves)
        return {d: acc[d] for d in docs}

    def _accumulate(self, mask: int, leaves: list) -> tuple[list[int], array]:
        """The documents of ``mask`` ascending, and the scores by document number (an array
        over every document, so that summing the leaves makes no object per document; only
        the entries of ``mask``'s documents are meaningful)."""
        docs = members(mask)
        acc = array("d", [0.0]) * self.gen.size
        for kind, fieldname, value, boost in leaves:
            if kind == "constant":
                hit = value & mask
                for d in docs if hit == mask else members(hit):
                    acc[d] += boost
                continue
            scores = self.term_scores_of(fieldname, value, docs)
            if len(scores) <= 2 * len(docs):  # walk the term's documents (one add each)
                for d, s in scores.items():
                    acc[d] += s * boost
            else:  # look the few documents up in the term's many
                get = scores.get
                for d in docs:
                    s = get(d)
                    if s:
                        acc[d] += s * boost
        return docs, acc

    def top(self, mask: int, leaves: list, count: int, tiebreak) -> list[tuple[int, float]]:
        """The ``count`` best documents of ``mask`` as (docnum, score), ties by ``tiebreak``."""
        if all(kind == "constant" for kind, *_ in leaves) and len(leaves) <= 8:
            best = self._top_constant(mask, leaves, count + 10)
        else:
            docs, acc = self._accumulate(mask, leaves)
            best = [(d, acc[d]) for d in heapq.nlargest(count + 10, docs, key=acc.__getitem__)]
        best.sort(key=lambda item: (-round(item[1], 6), tiebreak(item[0])))
        return best[:count]

    @staticmethod
    def _top_constant(mask: int, leaves: list, count: int) -> list[tuple[int, float]]:
        """What ``nlargest(count, scores(mask, leaves))`` gives when every leaf adds a constant
        (prefixes, filters): documents with the same leaves share a score, so the documents
        are split into those groups (bit sets) and only the best groups are listed."""
        groups = [(mask, 0.0)]
        for _kind, _field, leaf, boost in leaves:
            split = []
            for group, score in groups:
                inside = group & leaf
                if inside:
                    split.append((inside, score + boost))
                if inside != group:
                    split.append((group & ~leaf, score))
            groups = split
        by_score: dict[float, int] = {}
        for group, score in groups:
            by_score[score] = by_score.get(score, 0) | group
        best: list[tuple[int, float]] = []
        for score in sorted(by_score, reverse=True):
            group = by_score[score]
            while group and len(best) < count:  # ascending documents, as nlargest keeps ties
                low = group & -group
                best.append((low.bit_length() - 1, score))
                group ^= low
            if len(best) >= count:
                break
        return best

    # -- per-generation helpers -------------------------------------------------------------

    def allow_mask(self, key, build) -> int:
        """The bit set of a read filter (``build()`` gives its whoosh query), cached."""
        found = self.gen.allow.get(key)
        if found is None:
            found = self.gen.allow[key] = self.match(build())
        return found

    def facet_masks(self, fieldname: str) -> dict[str, int]:
        """Value → bit set for a single-valued field (type, space, year), cached."""
        found = self.gen.facets.get(fieldname)
        if found is None:
            values: set[str] = set()
            for reader, _, _, _ in self.leaves:
                values.update(
                    v.decode("utf-8") if isinstance(v, bytes) else v
                    for v in reader.lexicon(fieldname)
                )
            found = {}
            for value in sorted(values):
                mask = self.term(fieldname, value).mask
                if mask:
                    found[value] = mask
            self.gen.facets[fieldname] = found
        return found

    def date_order(self) -> array:
        """Live documents, newest first (ties by path), cached as an array (4 bytes each)."""
        found = self.gen.date_order
        if found is None:
            keyed = []
            live = self.gen.live
            for reader, offset, data, _ in self.leaves:
                dates = data.column(reader, "updated")
                paths = data.column(reader, "path")
                for local in range(reader.doc_count_all()):
                    doc = local + offset
                    if live >> doc & 1:
                        keyed.append((dates[local] or _OLDEST, paths[local], doc))
            keyed.sort(key=lambda item: item[1])
            keyed.sort(key=lambda item: item[0], reverse=True)
            found = self.gen.date_order = array("I", [doc for _, _, doc in keyed])
        return found

    def date_rank(self) -> array:
        """Document number → its place in :meth:`date_order` (deleted ones: 0), cached as
        an array indexed by document number."""
        found = self.gen.date_rank
        if found is None:
            found = array("I", [0]) * self.gen.size
            for place, doc in enumerate(self.date_order()):
                found[doc] = place
            self.gen.date_rank = found
        return found

    def path(self, doc: int) -> str:
        """The path of document ``doc`` (from the sortable path column)."""
        for reader, offset, data, _ in reversed(self.leaves):
            if doc >= offset:
                return data.column(reader, "path")[doc - offset]
        return ""

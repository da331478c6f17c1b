"""German text analysis for the search index: folding, stemming, stop words, field types.

Every word goes through :func:`fold` (lower case, ``ß`` → ``ss``, ``ä``/``ae`` → ``a``, ``ö``/``oe``
→ ``o``, ``ü``/``ue`` → ``u``, accents dropped) so that ``Beschlüsse``, ``Beschluesse`` and
``BESCHLÜSSE`` are the same word. ``ue`` between vowels (``neue``, ``Steuer``) and after ``q``
(``Quelle``) is left alone, as in Snowball's "german2" variant. Stemmed fields then apply the
Snowball German stemmer, so ``beschluss``/``beschlusse`` → ``beschluss`` and ``Mitgliedern`` →
``mitglied``.
Before Snowball, :func:`stem` applies a small table of irregular forms (``Konten`` → ``konto``),
the Latin ``-um`` plurals and the feminine ``-in``/``-innen`` forms; a few stems keep their
umlaut so that ``Förderung`` and ``Forderung`` stay apart. Compounds also put the stems of their
known parts into the field ``parts`` (:mod:`wiki.search.compounds`).

Indexing is the hot path: the field types below compute their postings directly from
:func:`stems` and :func:`folded_words` (plain lists, cached per word) instead of pushing every
token through whoosh's generator chain. Their ``analyzer`` (used by whoosh where it analyses
text itself) applies exactly the same functions.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh import fields, formats
from whoosh.analysis import Token, Tokenizer
from whoosh.lang.snowball.german import GermanStemmer
from whoosh.system import pack_uint

from wiki.search.compounds import split as split_compound

#: Changing anything that alters the indexed terms must change this (it is part of the schema
#: fingerprint, so existing indexes are rebuilt).
ANALYSIS_VERSION = "de-fold-2"

WORD_RE = re.compile(r"\w+")
_VOWELS = "aeiouyäöü"
_U_BETWEEN_VOWELS = re.compile(f"(?<=[{_VOWELS}])u(?=[{_VOWELS}])")
_DIGRAPHS = re.compile(r"ae|oe|(?<!q)ue")
_DIGRAPH_MARK = {"ae": "ä", "oe": "ö", "ue": "ü"}
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
_KEEP_UMLAUTS = str.maketrans({"ä": "\x01", "ö": "\x02", "ü": "\x03"})
_RESTORE_UMLAUTS = str.maketrans({"\x01": "ä", "\x02": "ö", "\x03": "ü"})

#: Word as :func:`marked` gives it (umlauts kept) → stem, for what Snowball does not
#: bring together: irregular plurals (Latin and Greek ones above all), participles, and words
#: that must not meet a different word (``Rate`` is not ``Rat``).
STEM_EXCEPTIONS = {
    **dict.fromkeys(("konto", "konten", "kontos"), "konto"),
    **dict.fromkeys(("thema", "themen", "themas"), "thema"),
    **dict.fromkeys(("gremium", "gremien", "gremiums"), "gremium"),
    **dict.fromkeys(("zentrum", "zentren", "zentrums"), "zentrum"),
    **dict.fromkeys(("museum", "museen", "museums"), "museum"),
    **dict.fromkeys(("datum", "daten", "datums"), "datum"),
    **dict.fromkeys(("studium", "studien"), "studium"),
    **dict.fromkeys(("stadium", "stadien"), "stadium"),
    **dict.fromkeys(("kriterium", "kriterien"), "kriterium"),
    **dict.fromkeys(("ministerium", "ministerien"), "ministerium"),
    **dict.fromkeys(("praktikum", "praktika"), "praktikum"),
    **dict.fromkeys(("firma", "firmen"), "firma"),
    **dict.fromkeys(("schema", "schemata"), "schema"),
    **dict.fromkeys(("büro", "büros", "buro", "buros"), "buro"),
    **dict.fromkeys(("auto", "autos"), "auto"),
    **dict.fromkeys(("foto", "fotos"), "foto"),
    **dict.fromkeys(("info", "infos"), "info"),
    **dict.fromkeys(("gewählt", "gewählte", "gewählten", "wählt", "gewahlt"), "wahl"),
    **dict.fromkeys(("rate", "raten"), "rate"),
    **dict.fromkeys(("wähler", "wählers", "wählern", "wählerin", "wählerinnen"), "wähler"),
}
#: Word endings before which ``-in``/``-innen`` is the feminine form (``Prüferin``, ``Referentin``,
#: ``Kandidatin``); other words ending in ``-in`` (``Termin``, ``Berlin``) are left alone.
FEMININE_BASES = ("er", "or", "ent", "at", "ant", "ist", "eur", "loge")
#: Latin nouns in ``-um`` (plural ``-en``/``-ien``; not ``-tum``, not after a vowel or an umlaut,
#: so ``Eigentum``, ``Baum`` and ``Kostüm`` are left alone): the stem is the word without
#: ``-um``, as Snowball stems the plurals (``Gremien`` → ``gremi``, ``Foren`` → ``for``).
_LATIN_UM = re.compile(r"([a-z]*[bcdfghklmnprsvwxz]i?)ums?")
#: Stems that keep their umlaut (``förder``: ``Förderung`` is not ``Forderung``). A query typed
#: without umlauts or digraphs (``Forderung``) finds only the word without the umlaut.
UMLAUT_STEMS = frozenset({"förder", "lösung"})

#: Function words left out of the stemmed fields (folded forms). Deliberately short: words
#: such as "nicht", "gegen" or "ohne" carry meaning in resolutions and stay searchable.
STOP_WORDS = frozenset(
    """
    der die das des dem den ein eine einer eines einem einen und oder sowie als auch
    am an auf aus bei im in ins mit nach vom von vor zu zum zur fur uber um bis durch
    es er sie ihr ihre ihrem ihren ihrer ihres sich wir uns unser unsere unserer unseren
    ich du man sein seine seinem seinen seiner seines dass das da so wie wenn weil
    ist sind war waren wird werden wurde wurden hat haben hatte hatten sei seien
    dies diese dieser dieses diesem diesen jene jener jenes welche welcher welches
    """.split()
)

_stemmer = GermanStemmer()


@lru_cache(maxsize=200_000)
def marked(word: str) -> str:
    """``word`` in lower case with umlauts kept and the digraphs ``ae``/``oe``/``ue`` turned into
    them (same rules as :func:`fold`), ``ß`` → ``ss``, other accents dropped. It has exactly as
    many characters as ``fold(word)``, which is it with the umlauts folded."""
    word = word.lower()
    if "e" in word and ("ae" in word or "oe" in word or "ue" in word):
        word = _U_BETWEEN_VOWELS.sub("U", word)
        word = _DIGRAPHS.sub(lambda m: _DIGRAPH_MARK[m.group(0)], word).replace("U", "u")
    if not word.isascii():
        word = word.replace("ß", "ss").replace("ẞ", "ss")
        if not word.isascii() and word.strip("abcdefghijklmnopqrstuvwxyzäöü0123456789_"):
            decomposed = unicodedata.normalize("NFKD", word.translate(_KEEP_UMLAUTS))
            word = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
            word = word.translate(_RESTORE_UMLAUTS)
    return word


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """The folded form of one word (see the module docstring). Umlauts and digraphs are folded
    exactly once: ``Europäer`` and ``Europaeer`` both become ``europaer``."""
    folded = marked(word)
    return folded if folded.isascii() else folded.translate(_UMLAUTS)


def _feminine_base(folded: str) -> str:
    """``prueferinnen``/``pruferin`` → ``prufer``, ``referentin`` → ``referent`` (see
    :data:`FEMININE_BASES`); anything else unchanged."""
    if folded.endswith("innen"):
        base = folded[:-5]
    elif folded.endswith("in"):
        base = folded[:-2]
    else:
        return folded
    if len(base) >= 4 and base.endswith(FEMININE_BASES):
        return base
    return folded


@lru_cache(maxsize=200_000)
def stem(word: str) -> str | None:
    """The folded stem of one word, or None for a stop word.

    Before Snowball: :data:`STEM_EXCEPTIONS` (irregular plurals and participles) and the
    feminine ``-in``/``-innen`` forms. After it, a stem listed in :data:`UMLAUT_STEMS` keeps its
    umlaut when the word had one (or its digraph), so ``Förderung`` and ``Forderung`` stay
    apart."""
    mark = marked(word)
    folded = mark if mark.isascii() else mark.translate(_UMLAUTS)
    if folded in STOP_WORDS:
        return None
    if len(folded) < 4 or folded.isdigit():
        return folded
    special = STEM_EXCEPTIONS.get(mark)
    if special:
        return special
    latin = _LATIN_UM.fullmatch(mark)
    if latin:  # Gremium/Gremien, Forum/Foren, Datum/Daten: the stem of the plural
        return latin.group(1)
    result = _stemmer.stem(_feminine_base(folded))
    if mark != folded and folded.startswith(result):
        kept = mark[: len(result)]
        if kept in UMLAUT_STEMS:
            return kept
    return result


def words(text: str) -> list[str]:
    """The words of ``text`` as written (no case change)."""
    return WORD_RE.findall(text)


#: The last text split by :func:`_lower_words` and its words: ``body`` and ``parts`` get the same
#: string object, so the second field reuses the first one's words.
_last_split: tuple[str, list[str]] = ("", [])


def _lower_words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (the result must not be changed)."""
    global _last_split
    last = _last_split
    if last[0] is text:
        return last[1]
    found = WORD_RE.findall(text.lower())
    _last_split = (text, found)
    return found


def stems(text: str) -> list[str]:
    """The stems of ``text`` in order, stop words left out (positions count only the rest)."""
    result = []
    append = result.append
    for word in _lower_words(text):
        s = stem(word)
        if s is not None:
            append(s)
    return result


def folded_words(text: str) -> list[str]:
    """The folded, unstemmed words of ``text`` in order (stop words kept)."""
    return [fold(w) for w in WORD_RE.findall(text.lower())]


@lru_cache(maxsize=200_000)
def part_stems(word: str) -> tuple[str, ...]:
    """The stems of the known parts of the compound ``word`` (see :mod:`wiki.search.compounds`),
    or ``()``."""
    parts = split_compound(fold(word))
    return tuple(s for p in parts if (s := stem(p)) is not None) if parts else ()


def clear_word_caches() -> None:
    """Forget the cached forms of single words.

    They hold up to 200,000 words each, which a full index build over a large wiki fills (every
    word of every page, stemmed millions of times); a worker afterwards needs only the words of
    its queries and saves. Called after a full build, after a bulk update and when the process
    is idle (:mod:`wiki.search.service`)."""
    for cached in (marked, fold, stem, part_stems, split_compound):
        cached.cache_clear()


def compound_parts(text: str) -> list[str]:
    """The part stems of the compounds in ``text``, once per occurrence (no positions)."""
    result: list[str] = []
    for word in _lower_words(text):
        if len(word) >= 8:
            found = part_stems(word)
            if found:
                result.extend(found)
    return result


def fold_phrase(text: str) -> str:
    """A whole value folded word by word, keeping what separates the words (tags, names)."""
    return " ".join(folded_words(text))


# -- whoosh analyzers (query-time and whoosh-internal use) -------------------------------------


class _FunctionTokenizer(Tokenizer):
    """A whoosh tokenizer that yields the terms of ``function(text)``."""

    kind = ""

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self).__name__)

    def terms(self, text: str) -> list[str]:
        raise NotImplementedError

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if tokenize:
            terms = self.terms(value)
        else:
            terms = [fold(value)] if value else []
        for pos, term in enumerate(terms):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = term
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token

    def has_morph(self):
        return self.kind == "stem"


class StemTokenizer(_FunctionTokenizer):
    """Folded stems, stop words removed."""

    kind = "stem"

    def terms(self, text: str) -> list[str]:
        return stems(text)


class FoldTokenizer(_FunctionTokenizer):
    """Folded words."""

    kind = "fold"

    def terms(self, text: str) -> list[str]:
        return folded_words(text)


class PartsTokenizer(_FunctionTokenizer):
    """Stems of the parts of compounds."""

    kind = "parts"

    def terms(self, text: str) -> list[str]:
        return compound_parts(text)


class FoldedValueTokenizer(_FunctionTokenizer):
    """Comma-separated values (tags), each folded as a whole."""

    kind = "values"

    def terms(self, text: str) -> list[str]:
        return values_of(text)


def values_of(value) -> list[str]:
    """Folded values from a list or a comma-separated string."""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    result = []
    for item in items:
        folded = fold_phrase(str(item))
        if folded and folded not in result:
            result.append(folded)
    return result


# -- field types --------------------------------------------------------------------------------


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


class StemmedText(fields.TEXT):
    """Stemmed German text with positions (phrases). Postings are computed without tokens."""

    def __init__(self, stored=False, field_boost=1.0, phrase=True):
        super().__init__(
            analyzer=StemTokenizer(), phrase=phrase, stored=stored, field_boost=field_boost
        )

    def _terms(self, value) -> list[str]:
        return stems(value if isinstance(value, str) else " ".join(value))

    def index(self, value, **kwargs):
        positions: dict[str, list[int]] = {}
        for pos, term in enumerate(self._terms(value)):
            got = positions.get(term)
            if got is None:
                positions[term] = [pos]
            else:
                got.append(pos)
        fmt = self.format
        boost = fmt.field_boost
        if isinstance(fmt, formats.Positions):
            encode = fmt.encode
            return [(_utf8(t), len(p), len(p) * boost, encode(p)) for t, p in positions.items()]
        return [(_utf8(t), len(p), len(p) * boost, pack_uint(len(p))) for t, p in positions.items()]


class FoldedText(StemmedText):
    """Folded, unstemmed words (title copy for prefix and fuzzy matching)."""

    def __init__(self, stored=False, field_boost=1.0, phrase=False):
        fields.TEXT.__init__(
            self, analyzer=FoldTokenizer(), phrase=phrase, stored=stored, field_boost=field_boost
        )

    def _terms(self, value) -> list[str]:
        return folded_words(value if isinstance(value, str) else " ".join(value))


class CompoundParts(StemmedText):
    """The stems of the parts of compounds (``Mitgliederversammlung`` → ``mitglied``,
    ``versamml``), without positions: a part finds the compound, counted low by the query."""

    def __init__(self, stored=False, field_boost=1.0, phrase=False):
        fields.TEXT.__init__(
            self, analyzer=PartsTokenizer(), phrase=phrase, stored=stored, field_boost=field_boost
        )

    def _terms(self, value) -> list[str]:
        return compound_parts(value if isinstance(value, str) else " ".join(value))


class FoldedKeywords(fields.KEYWORD):
    """A list of values (tags), each folded as a whole; searchable with ``tag:…``."""

    def __init__(self, stored=False, scorable=True):
        super().__init__(stored=stored, scorable=scorable, commas=True)
        self.analyzer = FoldedValueTokenizer()

    def index(self, value, **kwargs):
        boost = self.format.field_boost
        return [(_utf8(v), 1, boost, pack_uint(1)) for v in values_of(value)]

"""German text analysis for the search index: folding, stemming, stop words, field types.

Every word goes through :func:`fold` (lower case, ``ß`` → ``ss``, ``ä``/``ae`` → ``a``, ``ö``/``oe``
→ ``o``, ``ü``/``ue`` → ``u``, accents dropped) so that ``Beschlüsse``, ``Beschluesse`` and
``BESCHLÜSSE`` are the same word. ``ue`` between vowels (``neue``, ``Steuer``) and after ``q``
(``Quelle``) is left alone, as in Snowball's "german2" variant. Stemmed fields then apply the
Snowball German stemmer, so ``beschluss``/``beschlusse`` → ``beschluss`` and ``Mitgliedern`` →
``mitglied``.

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

#: Changing anything that alters the indexed terms must change this (it is part of the schema
#: fingerprint, so existing indexes are rebuilt).
ANALYSIS_VERSION = "de-fold-1"

WORD_RE = re.compile(r"\w+")
_VOWELS = "aeiouyäöü"
_U_BETWEEN_VOWELS = re.compile(f"(?<=[{_VOWELS}])u(?=[{_VOWELS}])")
_DIGRAPHS = re.compile(r"ae|oe|(?<!q)ue")
_DIGRAPH_MAP = {"ae": "a", "oe": "o", "ue": "u"}
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "ẞ": "ss"})

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
def fold(word: str) -> str:
    """The folded form of one word (see the module docstring)."""
    word = word.lower()
    if word.isascii():
        if "e" in word and ("ae" in word or "oe" in word or "ue" in word):
            word = _U_BETWEEN_VOWELS.sub("U", word)
            word = _DIGRAPHS.sub(lambda m: _DIGRAPH_MAP[m.group(0)], word).replace("U", "u")
        return word
    word = word.translate(_UMLAUTS)
    word = _U_BETWEEN_VOWELS.sub("U", word)
    word = _DIGRAPHS.sub(lambda m: _DIGRAPH_MAP[m.group(0)], word).replace("U", "u")
    if not word.isascii():
        decomposed = unicodedata.normalize("NFKD", word)
        word = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return word


@lru_cache(maxsize=200_000)
def stem(word: str) -> str | None:
    """The folded stem of one word, or None for a stop word."""
    folded = fold(word)
    if folded in STOP_WORDS:
        return None
    if len(folded) < 4 or folded.isdigit():
        return folded
    return _stemmer.stem(folded)


def words(text: str) -> list[str]:
    """The words of ``text`` as written (no case change)."""
    return WORD_RE.findall(text)


def stems(text: str) -> list[str]:
    """The stems of ``text`` in order, stop words left out (positions count only the rest)."""
    result = []
    append = result.append
    for word in WORD_RE.findall(text.lower()):
        s = stem(word)
        if s is not None:
            append(s)
    return result


def folded_words(text: str) -> list[str]:
    """The folded, unstemmed words of ``text`` in order (stop words kept)."""
    return [fold(w) for w in WORD_RE.findall(text.lower())]


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


class FoldedKeywords(fields.KEYWORD):
    """A list of values (tags), each folded as a whole; searchable with ``tag:…``."""

    def __init__(self, stored=False, scorable=True):
        super().__init__(stored=stored, scorable=scorable, commas=True)
        self.analyzer = FoldedValueTokenizer()

    def index(self, value, **kwargs):
        boost = self.format.field_boost
        return [(_utf8(v), 1, boost, pack_uint(1)) for v in values_of(value)]

"""Splitting German compounds into known parts for the search index.

``Mitgliederversammlung`` is indexed (in the field ``parts``, see :mod:`wiki.search.schema`) with
the stems of ``Mitglied`` and ``Versammlung``, so a search for ``Versammlung`` finds it, ranked
below pages that contain the word itself (``parts`` counts little, see
:data:`wiki.search.querylang.PART_BOOST`).

A word is split only when every part is in :data:`PARTS`, a list of association vocabulary
(folded, singular), with the linking elements ``s``/``es``/``n``/``en``/``er``/``e`` allowed after
a part that is not the last. A fixed list keeps the index the same whatever order pages are
indexed in, and avoids nonsense splits (``Verbraucher`` is not ``verb`` + ``raucher``).
"""

from __future__ import annotations

from functools import lru_cache

from whoosh.lang.snowball.german import GermanStemmer

#: Shortest part and shortest word that is split (folded characters).
MIN_PART = 4
MIN_WORD = 8
#: Shortest first part before a linking element (``Orts`` in ``Ortsverband``).
MIN_HEAD = 3
#: Linking elements between parts, longest first.
LINKS = ("es", "en", "er", "s", "n", "e")

#: Known parts (folded with :func:`wiki.search.analysis.fold`, singular).
PARTS = frozenset(
    """
    abend abstimmung aktion amt anderung antrag arbeit arbeitskreis aufgabe ausschuss
    beitrag bericht beschluss bildung buro burger bundnis bund delegierte delegierter
    demokratie digital dienst energie entwurf ergebnis fahrrad familie finanz flache
    fonds frau frauen frieden frist gemeinde gericht gesetz gesundheit gleichstellung gremium
    gruppe grundsatz haushalt heimat hilfe jahr jugend kampagne kandidat kasse kinder klima
    kommission kommune konferenz konto kreis kultur land leitung liste mitglied
    mittel mobilitat nachhaltigkeit natur netz ordnung organisation ort partei person plan
    politik presse programm projekt protokoll prufer prufung rat recht rede referent region
    satzung schule schutz senior sitzung sozial spende sport sprecher stadt stelle stimme
    strategie tag tagung teilnehmer termin thema umwelt verband verein verkehr versammlung
    verwaltung vorsitz vorstand wahl wahlkampf wende werk wirtschaft wohnung zeit ziel zukunft
    """.split()
)

_stemmer = GermanStemmer()
_PART_STEMS = frozenset(_stemmer.stem(p) for p in PARTS)


def _is_part(text: str, last: bool) -> str | None:
    """The part ``text`` names (itself or, before the last part, without a linking element)."""
    if text in PARTS:
        return text
    if last:
        for feminine in ("innen", "in"):  # Kassenprüferin: the part is Prüfer
            if text.endswith(feminine) and text[: -len(feminine)] in PARTS:
                return text[: -len(feminine)]
        stemmed = _stemmer.stem(text)
        return text if stemmed in _PART_STEMS else None
    for link in LINKS:
        if text.endswith(link) and len(text) - len(link) >= MIN_HEAD:
            base = text[: -len(link)]
            if base in PARTS:
                return base
    return None


@lru_cache(maxsize=200_000)
def split(folded: str) -> tuple[str, ...]:
    """The parts of the folded word ``folded`` (at least two), or ``()`` if it is not a compound
    of known parts."""
    if len(folded) < MIN_WORD or not folded.isalpha():
        return ()
    return _split(folded) or ()


def _split(word: str) -> tuple[str, ...] | None:
    for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
        head = _is_part(word[:cut], last=False)
        if head is None:
            continue
        rest = word[cut:]
        tail = _is_part(rest, last=True)
        if tail is not None:
            return (head, tail)
        if len(rest) >= MIN_WORD:
            more = _split(rest)
            if more:
                return (head, *more)
    return None

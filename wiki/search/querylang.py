"""The search query language, parsed into whoosh queries.

Syntax (see the README's "Suche" section)::

    wort wort            every word must occur (in the title, the text or the tags)
    "genaue phrase"      words in this order
    -wort  -"phrase"     must not occur
    a OR b               either (binds tighter than the implicit AND: ``x a OR b`` = x und (a|b))
    präfix*              words beginning with …
    typ:beschluss        page type            tag:haushalt     tag (quotes for several words)
    in:bereich           below a page or in a space   jahr:2024 / jahr:2020-2023   last change
    titel:wort           only in titles       <feld>:wert      a field a plugin adds

Malformed input raises :class:`BadQuery` with a code the views turn into a German message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import fields as F
from whoosh import query as Q

from wiki.search.analysis import fold, fold_phrase, folded_words, stem, stems
from wiki.search.schema import TITLE_BOOST

#: Filter keys (and their aliases) → canonical key.
FILTER_KEYS = {
    "typ": "typ",
    "type": "typ",
    "tag": "tag",
    "tags": "tag",
    "schlagwort": "tag",
    "in": "in",
    "bereich": "in",
    "unter": "in",
    "jahr": "jahr",
    "year": "jahr",
    "titel": "titel",
    "title": "titel",
}
#: German names of page types for ``typ:`` (the stored type names are English).
TYPE_ALIASES = {"seite": "page", "gliederung": "space", "beschluss": "resolution"}
MAX_QUERY_LENGTH = 500
MAX_CLAUSES = 30
MIN_PREFIX = 2
#: Weight of a word found only as part of a compound (field ``parts``): below every exact hit.
PART_BOOST = 0.2

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<neg>-)?
      (?:(?P<key>[^\W\d][\w]*):)?
      (?: "(?P<phrase>[^"]*)(?P<close>")?
        | (?P<word>[^\s"]+)
      )
    """,
    re.X,
)
_YEAR_RANGE_RE = re.compile(r"(\d{4})\s*(?:-|\.\.|–)\s*(\d{4})")


class BadQuery(ValueError):
    """A query that cannot be run; ``code`` and ``params`` select the message."""

    MESSAGES = {
        "too_long": "Die Suchanfrage ist zu lang (höchstens {limit} Zeichen).",
        "too_many": "Die Suchanfrage hat zu viele Teile (höchstens {limit}).",
        "unclosed_quote": "Ein Anführungszeichen wird nicht geschlossen.",
        "or_position": "„OR“ muss zwischen zwei Suchbegriffen stehen.",
        "or_negated": (
            "Ein ausgeschlossener Begriff (mit „-“) kann nicht mit „OR“ verbunden werden."
        ),
        "lone_minus": "Nach „-“ fehlt der auszuschließende Begriff.",
        "empty_filter": "Nach „{key}:“ fehlt ein Wert.",
        "unknown_field": "Unbekanntes Suchfeld „{key}:“. Möglich sind: {known}.",
        "short_prefix": "Vor dem „*“ müssen mindestens {limit} Buchstaben stehen.",
        "inner_star": "Der Stern „*“ ist nur am Ende eines Wortes erlaubt.",
        "bad_year": "„jahr:“ erwartet eine Jahreszahl wie 2024 oder einen Bereich wie 2020-2023.",
        "bad_value": "Der Wert „{value}“ passt nicht zum Feld „{key}:“.",
        "nothing": "Bitte mindestens einen Suchbegriff angeben.",
    }

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(self.MESSAGES[code].format(**params))


@dataclass
class Clause:
    """One part of a query as typed."""

    start: int
    end: int
    negated: bool = False
    key: str | None = None  # canonical filter key or plugin field name
    raw_key: str | None = None
    value: str = ""
    phrase: bool = False
    prefix: bool = False


@dataclass
class Parsed:
    """A parsed query: the whoosh query (no permission filter) and what results need."""

    text: str
    query: Q.Query
    stems: set[str] = field(default_factory=set)  # highlight these (stemmed forms)
    prefixes: list[str] = field(default_factory=list)  # and words starting with these (folded)
    words: list[tuple[Clause, str]] = field(default_factory=list)  # plain words (for spelling)
    filters: list[tuple[str, str]] = field(default_factory=list)  # active (key, value)
    ignored: list[str] = field(default_factory=list)  # stop words left out
    scored: bool = True  # False when only filters and exclusions were given


def tokenize(text: str) -> list[Clause | str]:
    """Clauses and ``"OR"`` markers of ``text`` (raises :class:`BadQuery`)."""
    items: list[Clause | str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:  # cannot happen: every character is space or part of a word
            break
        pos = match.end()
        if match.group("space"):
            continue
        negated = bool(match.group("neg"))
        raw_key = match.group("key")
        phrase = match.group("phrase")
        word = match.group("word")
        if phrase is not None and match.group("close") is None:
            raise BadQuery("unclosed_quote")
        if phrase is None and word is None:
            if raw_key:
                raise BadQuery("empty_filter", key=raw_key)
            raise BadQuery("lone_minus")
        if word is not None and not raw_key:
            if set(word) <= {"-"}:
                raise BadQuery("lone_minus")
            if re.fullmatch(r"[^\W\d]\w*:", word):
                raise BadQuery("empty_filter", key=word[:-1])
        if word is not None and not negated and not raw_key and word in ("OR", "|", "ODER"):
            items.append("OR")
            continue
        if word is not None and not raw_key and word in ("AND", "UND", "&"):
            continue
        clause = Clause(start=match.start(), end=match.end(), negated=negated, raw_key=raw_key)
        if raw_key:
            clause.key = raw_key.lower()
        if phrase is not None:
            clause.value = phrase.strip()
            clause.phrase = True
        else:
            value = word.strip("()[]{},;")
            if value.endswith("*"):
                value = value.rstrip("*")
                clause.prefix = True
            if "*" in value:
                raise BadQuery("inner_star")
            clause.value = value
        if not clause.value:
            if clause.key:
                raise BadQuery("empty_filter", key=raw_key)
            if clause.prefix:
                raise BadQuery("short_prefix", limit=MIN_PREFIX)
            continue  # only brackets or punctuation
        items.append(clause)
    return items


def groups(items: list[Clause | str]) -> list[list[Clause]]:
    """Clauses joined by ``OR`` into groups (every group must match)."""
    result: list[list[Clause]] = []
    joining = False
    for item in items:
        if item == "OR":
            if not result or joining:
                raise BadQuery("or_position")
            joining = True
            continue
        if joining:
            result[-1].append(item)
            joining = False
        else:
            result.append([item])
    if joining:
        raise BadQuery("or_position")
    for group in result:
        if len(group) > 1 and any(c.negated for c in group):
            raise BadQuery("or_negated")
    return result


class QueryBuilder:
    """Turns clauses into whoosh queries for one schema (core plus plugin fields)."""

    def __init__(self, schema: F.Schema, plugin_fields: dict[str, F.FieldType]):
        self.schema = schema
        self.plugin_fields = plugin_fields
        self.text_fields = [
            name for name, f in plugin_fields.items() if isinstance(f, F.TEXT) and f.scorable
        ]

    def known_keys(self) -> str:
        return ", ".join(
            [f"{k}:" for k in ("typ", "tag", "in", "jahr", "titel")]
            + [f"{k}:" for k in sorted(self.plugin_fields)]
        )

    def parse(self, text: str) -> Parsed:
        text = (text or "").strip()
        if len(text) > MAX_QUERY_LENGTH:
            raise BadQuery("too_long", limit=MAX_QUERY_LENGTH)
        clause_groups = groups(tokenize(text))
        if sum(len(g) for g in clause_groups) > MAX_CLAUSES:
            raise BadQuery("too_many", limit=MAX_CLAUSES)
        parsed = Parsed(text=text, query=Q.NullQuery)
        positive: list[Q.Query] = []
        negative: list[Q.Query] = []
        stop_only: list[Q.Query] = []
        for group in clause_groups:
            built = []
            for clause in group:
                q = self.clause(clause, parsed, stop_only)
                if q is not None:
                    built.append(q)
            if not built:
                continue
            q = built[0] if len(built) == 1 else Q.Or(built)
            (negative if group[0].negated else positive).append(q)
        scored_positive = [q for q in positive if not isinstance(q, Q.ConstantScoreQuery)]
        if not scored_positive and stop_only:
            # Only very common words ("über uns"): look for them in titles.
            positive.extend(stop_only)
            parsed.ignored = []
            scored_positive = stop_only
        if not positive and not negative:
            raise BadQuery("nothing")
        parsed.scored = bool(scored_positive)
        base = Q.And(positive) if len(positive) > 1 else positive[0] if positive else Q.Every()
        parsed.query = Q.AndNot(base, Q.Or(negative)) if negative else base
        return parsed

    # -- clauses ----------------------------------------------------------------------------

    def clause(self, clause: Clause, parsed: Parsed, stop_only: list) -> Q.Query | None:
        if clause.key is None:
            return self.text_clause(clause, parsed, stop_only)
        key = FILTER_KEYS.get(clause.key)
        if key == "titel":
            return self.text_clause(clause, parsed, stop_only, title_only=True)
        if key is None:
            if clause.key in self.plugin_fields:
                q = self.plugin_clause(clause)
            else:
                raise BadQuery("unknown_field", key=clause.raw_key, known=self.known_keys())
        else:
            q = self.filter_clause(key, clause)
        if not clause.negated:
            parsed.filters.append((key or clause.key, clause.value))
        return Q.ConstantScoreQuery(q, 0.0)

    def text_clause(
        self, clause, parsed, stop_only, title_only=False, record=True
    ) -> Q.Query | None:
        value = clause.value
        if clause.prefix:
            return self.prefix_clause(value, clause, parsed, title_only)
        terms = stems(value)
        if not terms:
            words = folded_words(value)
            if words and not clause.negated:
                parsed.ignored.append(value)
                stop_only.append(_all([Q.Term("title_raw", w) for w in words]))
            return None
        if not clause.negated:
            parsed.stems.update(terms)
            if record and not clause.phrase and len(terms) == 1 and not title_only:
                parsed.words.append((clause, terms[0]))
        fields = [("title", TITLE_BOOST)]
        if not title_only:
            fields.append(("body", 1.0))
        if len(terms) == 1:
            parts: list[Q.Query] = [Q.Term(f, terms[0], boost=b) for f, b in fields]
            if not title_only:
                parts.append(Q.Term("parts", terms[0], boost=PART_BOOST))
        else:
            parts = [Q.Phrase(f, terms, boost=b) for f, b in fields]
        if not title_only:
            for name in self.text_fields:
                field_terms = list(self.schema[name].process_text(value, mode="query"))
                if len(field_terms) == 1:
                    parts.append(Q.Term(name, field_terms[0]))
                elif field_terms:
                    parts.append(_all([Q.Term(name, t) for t in field_terms]))
        return Q.Or(parts)

    def prefix_clause(self, value, clause, parsed, title_only) -> Q.Query:
        words = folded_words(value)
        if not words or len(words[-1]) < MIN_PREFIX and len(words) == 1:
            raise BadQuery("short_prefix", limit=MIN_PREFIX)
        head, last = words[:-1], words[-1]
        if len(last) < MIN_PREFIX:
            raise BadQuery("short_prefix", limit=MIN_PREFIX)
        if not clause.negated:
            parsed.prefixes.append(last)
        last_stem = stem(last) or last
        title = Q.Prefix("title_raw", last, boost=TITLE_BOOST)
        body_parts = [Q.Prefix("body", last)]
        if last_stem != last:
            body_parts.append(Q.Prefix("body", last_stem))
        if head:
            # "protokoll vorst*": the earlier words as words, the last one as a prefix.
            head_q = [
                self.text_clause(Clause(0, 0, value=w), parsed, [], record=False) for w in head
            ]
            head_q = [q for q in head_q if q is not None]
            title = _all([*head_q, title]) if head_q else title
        if title_only:
            return title
        return Q.Or([title, *body_parts])

    def filter_clause(self, key: str, clause: Clause) -> Q.Query:
        value = clause.value.strip()
        if key == "typ":
            value = value.lower()
            return Q.Term("type", TYPE_ALIASES.get(value, value))
        if key == "tag":
            folded = fold_phrase(value)
            if clause.prefix:
                return Q.Prefix("tags", folded)
            return Q.Term("tags", folded)
        if key == "in":
            target = value.strip("/").lower()
            if clause.prefix:
                return Q.Prefix("within", target)
            return Q.Term("within", target)
        if key == "jahr":
            match = _YEAR_RANGE_RE.fullmatch(value)
            if match:
                first, last = sorted((int(match.group(1)), int(match.group(2))))
                if last - first > 200:
                    raise BadQuery("bad_year")
                return Q.Or([Q.Term("year", str(y)) for y in range(first, last + 1)])
            if not re.fullmatch(r"\d{4}", value):
                raise BadQuery("bad_year")
            return Q.Term("year", value)
        raise BadQuery("unknown_field", key=clause.raw_key, known=self.known_keys())

    def plugin_clause(self, clause: Clause) -> Q.Query:
        name = clause.key
        field_obj = self.plugin_fields[name]
        value = clause.value
        try:
            if field_obj.self_parsing():
                return field_obj.parse_query(name, value)
            if clause.prefix:
                return Q.Prefix(name, fold(value) if isinstance(field_obj, F.TEXT) else value)
            terms = list(field_obj.process_text(value, mode="query"))
        except Exception:  # noqa: BLE001 - whatever the field refuses is a bad value
            raise BadQuery("bad_value", key=clause.raw_key, value=value[:40]) from None
        if not terms:
            raise BadQuery("bad_value", key=clause.raw_key, value=value[:40])
        return _all([Q.Term(name, t) for t in terms])


def _all(parts: list[Q.Query]) -> Q.Query:
    return parts[0] if len(parts) == 1 else Q.And(parts)


# -- editing a query string (facet links) ---------------------------------------------------


def _quote(value: str) -> str:
    return f'"{value}"' if re.search(r'[\s"]', value) or not value else value


def with_filter(text: str, key: str, value: str) -> str:
    """``text`` with the filter ``key:value`` added (unless it is there already)."""
    if has_filter(text, key, value):
        return text
    return f"{text.strip()} {key}:{_quote(value)}".strip()


def without_filter(text: str, key: str, value: str) -> str:
    """``text`` with every positive ``key:value`` filter (any alias of ``key``) removed."""
    try:
        items = tokenize(text)
    except BadQuery:
        return text
    spans = [
        (c.start, c.end)
        for c in items
        if isinstance(c, Clause) and _is_filter(c, key, value) and not c.negated
    ]
    for start, end in reversed(spans):
        text = text[:start] + text[end:]
    return " ".join(text.split())


def has_filter(text: str, key: str, value: str) -> bool:
    """True if ``text`` has the positive filter ``key:value``."""
    try:
        items = tokenize(text)
    except BadQuery:
        return False
    return any(isinstance(c, Clause) and _is_filter(c, key, value) and not c.negated for c in items)


def _is_filter(clause: Clause, key: str, value: str) -> bool:
    if clause.key is None:
        return False
    canonical = FILTER_KEYS.get(clause.key, clause.key)
    if canonical != key:
        return False
    if key == "tag":
        return fold_phrase(clause.value) == fold_phrase(value)
    return clause.value.strip().lower() == value.strip().lower()


def replace_word(text: str, clause: Clause, word: str) -> str:
    """``text`` with the word of ``clause`` replaced by ``word`` (spelling suggestions)."""
    prefix = "-" if clause.negated else ""
    key = f"{clause.raw_key}:" if clause.raw_key else ""
    return text[: clause.start] + prefix + key + word + text[clause.end :]

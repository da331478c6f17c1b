"""The archive query: filters from the URL, permitted rows, facets counted in SQL (no Flask).

Every count and every listed row comes from one SQL base: the resolutions the principal may
read (the read filter of :mod:`wiki.acl` translated by :func:`wiki.queries.read_clause` on the
core ``pages`` row), intersected with the full-text hits when there is a query. Each facet is
counted with every *other* active filter applied (so the values one could switch to keep their
counts); values within one facet are alternatives (OR), facets combine with AND.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import (
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from plugins.resolutions import schema as S
from plugins.resolutions.models import (
    ResolutionInitiator,
    ResolutionRow,
    ResolutionTopic,
)
from wiki.api import PageRow, read_clause

PER_PAGE = 25
MAX_PAGE = 1000
MAX_VALUES = 20  # per filter
FACET_LIMIT = 12
#: Full-text hits passed to SQL as bound parameters up to this many (SQLite allows 32,766).
MAX_BOUND = 30_000
#: Facet name → URL parameter (the same names serve the archive, the exports and the API).
FACETS = ("year", "chapter", "body", "event", "outcome", "validity", "topic", "initiator")
SORTS = ("date", "number", "relevance")
#: The chapter value of resolutions outside every space.
NO_CHAPTER = "-"
NUMBER_YEAR_RE = re.compile(
    r"\s*(?:(?P<year1>\d{4})\s+(?P<num1>[^\s\d][^\s]{0,31})"
    r"|(?P<num2>[^\s\d][^\s]{0,31})\s+(?P<year2>\d{4}))\s*"
)


class BadFilter(ValueError):
    """A filter value that cannot be used; ``str()`` is a German message, ``code`` its kind."""

    def __init__(self, code: str, value: str = ""):
        super().__init__(code)
        self.code = code
        self.value = value


@dataclass(frozen=True)
class Filters:
    """Everything that selects and orders archive rows; lives in the URL."""

    q: str = ""
    year: tuple[int, ...] = ()
    chapter: tuple[str, ...] = ()
    sub: bool = True  # a chapter includes its sub-chapters
    body: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    validity: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    initiator: tuple[str, ...] = ()
    everything: bool = False  # False: the current position ("geltende Beschlusslage")
    sort: str = "date"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read filters from request arguments (a MultiDict); raise BadFilter."""

        def many(name: str) -> tuple[str, ...]:
            values = [v.strip() for v in args.getlist(name) if v.strip()]
            if len(values) > MAX_VALUES:
                raise BadFilter("too_many", name)
            if any(len(v) > 200 for v in values):
                raise BadFilter("too_long", name)
            return tuple(dict.fromkeys(values))

        years = []
        for value in many("year"):
            if not re.fullmatch(r"\d{4}", value):
                raise BadFilter("year", value)
            years.append(int(value))
        for value in many("outcome"):
            if value not in S.OUTCOMES:
                raise BadFilter("outcome", value)
        for value in many("validity"):
            if value not in S.VALIDITIES:
                raise BadFilter("validity", value)
        sort = args.get("sort", "").strip() or (
            "relevance" if args.get("q", "").strip() else "date"
        )
        if sort not in SORTS:
            raise BadFilter("sort", sort)
        page = args.get("page", "1").strip() or "1"
        if (
            not (page.isascii() and page.isdigit() and len(page) <= 9)
            or not 1 <= int(page) <= MAX_PAGE
        ):
            raise BadFilter("page", page)
        scope = args.get("scope", "").strip()
        if scope not in ("", "current", "all"):
            raise BadFilter("scope", scope)
        q = args.get("q", "").strip()
        if len(q) > 500:
            raise BadFilter("too_long", "q")
        return cls(
            q=q,
            year=tuple(years),
            chapter=many("chapter"),
            sub=args.get("sub", "1") != "0",
            body=many("body"),
            event=many("event"),
            outcome=many("outcome"),
            validity=many("validity"),
            topic=many("topic"),
            initiator=many("initiator"),
            everything=scope == "all",
            sort=sort,
            page=int(page),
        )

    @property
    def current_only(self) -> bool:
        """The default view: only what is in force or provisional, unless a validity, an
        outcome or "everything" was asked for."""
        return not (self.everything or self.validity or self.outcome)

    def active(self) -> bool:
        return any(getattr(self, name) for name in FACETS) or bool(self.q)

    def args(self, **changes) -> dict:
        """URL arguments of these filters with ``changes`` applied (page resets to 1)."""
        changes.setdefault("page", 1)
        new = replace(self, **changes)
        result: dict = {}
        if new.q:
            result["q"] = new.q
        for name in FACETS:
            values = getattr(new, name)
            if values:
                result[name] = [str(v) for v in values]
        if new.chapter and not new.sub:
            result["sub"] = "0"
        if new.everything:
            result["scope"] = "all"
        default_sort = "relevance" if new.q else "date"
        if new.sort != default_sort:
            result["sort"] = new.sort
        if new.page != 1:
            result["page"] = new.page
        return result

    def toggle(self, name: str, value) -> dict:
        """Arguments with ``value`` of facet ``name`` switched on or off."""
        values = getattr(self, name)
        if value in values:
            values = tuple(v for v in values if v != value)
        else:
            values = (*values, value)
        return self.args(**{name: values})


@dataclass
class FacetValue:
    value: str
    count: int
    active: bool
    label: str = ""
    depth: int = 0  # chapter tree
    total: int = 0  # chapter including sub-chapters


@dataclass
class Result:
    total: int
    rows: list  # (ResolutionRow, PageRow) of the requested page
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, (self.total + self.per_page - 1) // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _chapter_clause(chapters, sub: bool):
    parts = []
    for chapter in chapters:
        if chapter == NO_CHAPTER:
            parts.append(ResolutionRow.space.is_(None))
        elif sub:
            parts.append(
                or_(ResolutionRow.space == chapter, ResolutionRow.space.like(_like(chapter) + "/%"))
            )
        else:
            parts.append(ResolutionRow.space == chapter)
    return or_(*parts)


def _like(value: str) -> str:
    """``value`` for a LIKE pattern (page paths have no ``%`` or ``_``; kept safe anyway)."""
    return re.sub(r"[%_\\]", "", value)


def _conditions(filters: Filters, without: str | None = None) -> list:
    """SQL conditions of every active filter except facet ``without``."""
    conds = []
    if filters.year and without != "year":
        conds.append(ResolutionRow.year.in_(filters.year))
    if filters.chapter and without != "chapter":
        conds.append(_chapter_clause(filters.chapter, filters.sub))
    for name, column in (
        ("body", ResolutionRow.body),
        ("event", ResolutionRow.event),
        ("outcome", ResolutionRow.outcome),
        ("validity", ResolutionRow.validity),
    ):
        values = getattr(filters, name)
        if values and without != name:
            conds.append(column.in_(values))
    if filters.current_only and without != "validity":
        conds.append(ResolutionRow.validity.in_(S.CURRENT))
    if filters.topic and without != "topic":
        conds.append(
            ResolutionRow.path.in_(
                select(ResolutionTopic.path).where(ResolutionTopic.topic.in_(filters.topic))
            )
        )
    if filters.initiator and without != "initiator":
        conds.append(
            ResolutionRow.path.in_(
                select(ResolutionInitiator.path).where(
                    ResolutionInitiator.name.in_(filters.initiator)
                )
            )
        )
    return conds


class Archive:
    """Queries over the projection for one principal's read filter."""

    def __init__(self, session, read_filter, hits: Mapping[str, float] | None = None):
        self.session = session
        self.permitted = read_clause(read_filter, ResolutionRow.visibility, ResolutionRow.space)
        self.hits = hits

    def base(self, *columns, uses: int = 1) -> Select:
        """The permitted resolutions (and full-text hits); joined with the core ``pages`` row
        when ``PageRow`` is among the columns (listings need its title and date). ``uses``:
        how often the statement repeats this base (its bound parameters count that often)."""
        query = select(*columns).select_from(ResolutionRow)
        if any(c is PageRow for c in columns):
            query = query.join(PageRow, PageRow.path == ResolutionRow.path)
        query = query.where(self.permitted)
        if self.hits is not None:
            query = query.where(self._hit_clause(uses))
        return query

    def _hit_clause(self, uses: int = 1):
        if not self.hits:
            return literal(False)
        # Beyond SQLite's limit of bound parameters the values are written into the SQL.
        values = bindparam(
            "fulltext_hits",
            sorted(self.hits),
            expanding=True,
            literal_execute=len(self.hits) * uses > MAX_BOUND,
        )
        return ResolutionRow.path.in_(values)

    # -- rows ---------------------------------------------------------------------------------

    def order(self, filters: Filters):
        newest = [
            ResolutionRow.decided.is_(None),
            ResolutionRow.decided.desc(),
            ResolutionRow.submitted.desc(),
            ResolutionRow.event,
            func.length(ResolutionRow.number),
            ResolutionRow.number,
            ResolutionRow.rid_key,
        ]
        if filters.sort == "number":
            return [
                ResolutionRow.year.is_(None),
                ResolutionRow.year.desc(),
                ResolutionRow.event,
                func.length(ResolutionRow.number),
                ResolutionRow.number,
                ResolutionRow.rid_key,
            ]
        return newest

    def count(self, filters: Filters) -> int:
        """How many permitted resolutions match ``filters``."""
        return self.session.scalar(self.base(func.count()).where(*_conditions(filters))) or 0

    def query(self, filters: Filters, per_page: int = PER_PAGE, facets: bool = True) -> Result:
        conds = _conditions(filters)
        if facets:
            total, counted = self.facets_and_total(filters)
        else:
            total, counted = self.count(filters), None
        offset = (filters.page - 1) * per_page
        if filters.sort == "relevance" and self.hits:
            paths = self.session.scalars(self.base(ResolutionRow.path).where(*conds)).all()
            ranked = sorted(paths, key=lambda p: (-round(self.hits.get(p, 0.0), 6), p))
            chosen = ranked[offset : offset + per_page]
            rows = self.rows(chosen)
        else:
            query = self.base(ResolutionRow, PageRow).where(*conds).order_by(*self.order(filters))
            rows = list(self.session.execute(query.limit(per_page).offset(offset)))
        result = Result(total=total, rows=rows, page=filters.page, per_page=per_page)
        if counted is not None:
            result.facets = counted
        return result

    def rows(self, paths: list[str]) -> list:
        """(ResolutionRow, PageRow) for ``paths`` in that order (permitted ones only)."""
        if not paths:
            return []
        found = {
            r.path: (r, p)
            for r, p in self.session.execute(
                self.base(ResolutionRow, PageRow).where(ResolutionRow.path.in_(paths))
            )
        }
        return [found[p] for p in paths if p in found]

    def all_rows(self, filters: Filters, limit: int | None = None):
        """Every matching (ResolutionRow, PageRow), in the filter's order (exports)."""
        query = self.base(ResolutionRow, PageRow).where(*_conditions(filters))
        if filters.sort == "relevance" and self.hits:
            rows = list(self.session.execute(query))
            rows.sort(key=lambda rp: (-round(self.hits.get(rp[0].path, 0.0), 6), rp[0].path))
            return rows[:limit] if limit else rows
        query = query.order_by(*self.order(filters))
        if limit:
            query = query.limit(limit)
        return list(self.session.execute(query))

    # -- facets -------------------------------------------------------------------------------

    def facets_and_total(self, filters: Filters) -> tuple[int, dict[str, list[FacetValue]]]:
        """The number of matching resolutions and every facet's values with their counts.

        One statement: the total and each facet's ``GROUP BY`` (under every other active
        filter) joined with ``UNION ALL``, so SQLite does the counting in one round trip."""
        uses = len(FACETS) + 1
        space = case((ResolutionRow.space.is_(None), NO_CHAPTER), else_=ResolutionRow.space)
        simple = {
            "year": ResolutionRow.year,
            "body": ResolutionRow.body,
            "event": ResolutionRow.event,
            "outcome": ResolutionRow.outcome,
            "validity": ResolutionRow.validity,
        }
        parts = [
            self.base(literal("", String).label("facet"), null(), func.count(), uses=uses).where(
                *_conditions(filters)
            )
        ]
        for name, column in simple.items():
            parts.append(
                self.base(literal(name, String), column, func.count(), uses=uses)
                .where(*_conditions(filters, without=name), column.is_not(None), column != "")
                .group_by(column)
            )
        for name, table, column in (
            ("topic", ResolutionTopic, ResolutionTopic.topic),
            ("initiator", ResolutionInitiator, ResolutionInitiator.name),
        ):
            parts.append(
                self.base(literal(name, String), column, func.count(), uses=uses)
                .join(table, table.path == ResolutionRow.path)
                .where(*_conditions(filters, without=name))
                .group_by(column)
            )
        parts.append(
            self.base(literal("chapter", String), space, func.count(), uses=uses)
            .where(*_conditions(filters, without="chapter"))
            .group_by(space)
        )
        grouped: dict[str, list] = {name: [] for name in FACETS}
        total = 0
        for facet, value, number in self.session.execute(union_all(*parts)):
            if facet:
                grouped[facet].append((value, number))
            else:
                total = number
        result = {
            name: self._values(name, grouped[name], getattr(filters, name), filters)
            for name in (*simple, "topic", "initiator")
        }
        result["chapter"] = chapter_tree(grouped["chapter"], filters.chapter)
        return total, result

    @staticmethod
    def _values(name, counts, active, filters: Filters) -> list[FacetValue]:
        chosen = {str(v) for v in active}
        if name == "validity" and filters.current_only:
            chosen = set(S.CURRENT)
        values = [FacetValue(str(v), n, str(v) in chosen) for v, n in counts]
        if name == "year":
            values.sort(key=lambda f: f.value, reverse=True)
        elif name in ("outcome", "validity"):
            order = S.OUTCOMES if name == "outcome" else S.VALIDITIES
            values.sort(key=lambda f: order.index(f.value) if f.value in order else 99)
        else:
            values.sort(key=lambda f: (-f.count, f.value.lower()))
        # Chosen values stay visible even when they count nothing under the other filters.
        for value in sorted(chosen - {f.value for f in values}):
            if name != "validity" or not filters.current_only:
                values.append(FacetValue(value, 0, True))
        return values

    # -- lookups ------------------------------------------------------------------------------

    def by_id(self, text: str) -> list:
        """Permitted (ResolutionRow, PageRow) whose id is ``text`` (``LaKo-2022-A1``), or whose
        number and year are given as ``A1 2022`` / ``2022 A1``."""
        text = text.strip()
        if S.valid_id(text) and "-" in text:
            found = self.rows_where(ResolutionRow.rid_key == S.key_of(text))
            if found:
                return found
        match = NUMBER_YEAR_RE.fullmatch(text)
        if match:
            number = match["num1"] or match["num2"]
            year = int(match["year1"] or match["year2"])
            return self.rows_where(
                and_(func.lower(ResolutionRow.number) == number.lower(), ResolutionRow.year == year)
            )
        return []

    def rows_where(self, condition, limit: int | None = 50) -> list:
        """Permitted (ResolutionRow, PageRow) meeting ``condition``, by id."""
        query = self.base(ResolutionRow, PageRow).where(condition).order_by(ResolutionRow.rid_key)
        if limit:
            query = query.limit(limit)
        return list(self.session.execute(query))


def chapter_tree(counts, active) -> list[FacetValue]:
    """Chapter counts as a tree in path order: each node's own count and, in ``total``, the
    count including every chapter below it (parents without own resolutions appear too)."""
    own = {str(space): n for space, n in counts}
    totals: dict[str, int] = {}
    for space, n in own.items():
        if space == NO_CHAPTER:
            continue
        parts = space.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            totals[prefix] = totals.get(prefix, 0) + n
    chosen = set(active)
    values = [
        FacetValue(path, own.get(path, 0), path in chosen, depth=path.count("/"), total=total)
        for path, total in sorted(totals.items())
    ]
    if NO_CHAPTER in own:
        values.append(FacetValue(NO_CHAPTER, own[NO_CHAPTER], NO_CHAPTER in chosen,
                                 total=own[NO_CHAPTER]))  # fmt: skip
    for path in sorted(chosen - {v.value for v in values}):
        values.append(FacetValue(path, 0, True, depth=path.count("/")))
    return values

"""The results of a poll: :func:`compute` (pure) and :func:`for_poll` (cached).

:func:`compute` turns a definition and its answers into a :class:`Results` with the figures
of the poll's type (counts and percentages, scores, date slots, or a ranked count by Schulze,
IRV or STV; see :mod:`plugins.polls.tally`). Secret ballots (``geheim: ja``) with fewer than
:data:`MIN_SECRET_BALLOTS` ballots are *withheld* until the poll closes: only the number of
ballots is known, every per-option figure is left out of the object itself, so no template or
export can show it by mistake.

:func:`for_poll` caches per app and process, keyed by the poll id, ``PollState.version`` (bumped
with every counted change), a digest of the definition and whether the poll is closed; so a
results page of 10,000 ballots costs a dictionary lookup once counted. The cache is bounded
(least recently used entries go) and thread-safe.

The methods ``chart``, ``percent_text`` and ``number_text`` are for the template
``polls/_results.html`` (they translate and format for the reader's locale).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup

from plugins.polls import charts, tally

#: a secret poll shows per-option figures from this many ballots on (or after its close)
MIN_SECRET_BALLOTS = 5
#: results kept per app and process
CACHE_SIZE = 256
CHOICE_TYPES = ("ja-nein", "einfach", "mehrfach")


@dataclass(frozen=True)
class Results:
    """What a poll's answers add up to (see the module docstring)."""

    poll_id: str
    type: str
    total: int
    closed: bool
    withheld: bool
    labels: dict[str, str]
    method: str | None = None
    seats: int = 1
    choices: tuple[tally.ChoiceCount, ...] = ()
    #: ja-nein: share of "ja" among "ja" and "nein" (abstentions left out), percent
    yes_share: float | None = None
    scores: tuple[tally.ScoreRow, ...] = ()
    slots: tuple[tally.SlotRow, ...] = ()
    #: date polls: keys of the best slots (most ja, then most ja + vielleicht)
    best_slots: tuple[str, ...] = ()
    schulze: tally.Schulze | None = None
    irv: tally.Irv | None = None
    stv: tally.Stv | None = None
    #: ranked polls: identical rankings grouped (for the ``.blt`` export); empty if withheld
    rankings: Counter = field(default_factory=Counter)

    @property
    def ranked(self) -> bool:
        return self.type == "rangfolge"

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    @property
    def ranking(self) -> tuple[tuple[str, ...], ...]:
        """Ranked polls: the order of the options in tiers (equals share a tier)."""
        if self.schulze is not None:
            return self.schulze.tiers
        if self.irv is not None:
            return irv_order(self.irv)
        if self.stv is not None:
            return tuple((key,) for key in self.stv.elected)
        return ()

    @property
    def winners(self) -> tuple[str, ...]:
        if self.schulze is not None:
            return self.schulze.winners
        if self.irv is not None:
            return (self.irv.winner,) if self.irv.winner else ()
        if self.stv is not None:
            return self.stv.elected
        return ()

    @property
    def ties_broken(self) -> bool:
        """IRV/STV: whether a tie had to be broken (history, then definition order)."""
        rounds = (self.irv.rounds if self.irv else ()) + (self.stv.rounds if self.stv else ())
        return any(r.tie_broken for r in rounds)

    # -- for the template -------------------------------------------------------------------

    def percent_text(self, value: float) -> str:
        from flask_babel import format_decimal

        return f"{format_decimal(round(value, 1), format='#,##0.#')}\u00a0%"

    def number_text(self, value) -> str:
        from flask_babel import format_decimal

        return format_decimal(value, format="#,##0.#####")

    def chart(self) -> Markup:
        """The bar chart with its data table (choice, score and date polls)."""
        from flask_babel import gettext as _

        cid = f"poll-{self.poll_id}-chart"
        if self.withheld:
            return Markup("")
        if self.type in CHOICE_TYPES:
            bars = [
                charts.Bar(
                    self.label(c.key),
                    (c.count / self.total if self.total else 0.0,),
                    f"{c.count} · {self.percent_text(c.percent)}",
                )
                for c in self.choices
            ]
            rows = [
                (self.label(c.key), c.count, self.percent_text(c.percent)) for c in self.choices
            ]
            headers = (_("Option"), _("Stimmen"), _("Anteil"))
            return charts.bar_chart(
                cid, _("Stimmen je Option"), bars, headers, rows, table_summary=_("Als Tabelle")
            )
        if self.type == "punkte":
            bars = [
                charts.Bar(
                    self.label(s.key),
                    (s.mean / 5,),
                    _("Ø %(mean)s · Summe %(sum)s", mean=self.number_text(round(s.mean, 2)),
                      sum=s.total),
                )
                for s in self.scores
            ]  # fmt: skip
            rows = [
                (self.label(s.key), s.total, self.number_text(round(s.mean, 2)), s.count)
                for s in self.scores
            ]
            headers = (_("Option"), _("Summe"), _("Durchschnitt (0–5)"), _("Bewertungen"))
            return charts.bar_chart(
                cid, _("Punkte je Option"), bars, headers, rows, table_summary=_("Als Tabelle")
            )
        if self.type == "termin":
            total = self.total or 1
            bars = [
                charts.Bar(
                    self.label(s.key),
                    (s.yes / total, s.maybe / total),
                    _("%(yes)s ja · %(maybe)s vielleicht", yes=s.yes, maybe=s.maybe),
                )
                for s in self.slots
            ]
            rows = [(self.label(s.key), s.yes, s.maybe, s.no) for s in self.slots]
            headers = (_("Termin"), _("Ja"), _("Vielleicht"), _("Nein"))
            legend = (_("Ja"), _("Vielleicht"))
            return charts.bar_chart(
                cid, _("Antworten je Termin"), bars, headers, rows, legend, _("Als Tabelle")
            )
        return Markup("")

    # -- exports ---------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The figures as JSON-ready data (nothing per ballot)."""
        data: dict = {
            "poll": self.poll_id,
            "type": self.type,
            "ballots": self.total,
            "closed": self.closed,
            "withheld": self.withheld,
            "options": [{"key": k, "label": v} for k, v in self.labels.items()],
        }
        if self.withheld:
            return data
        if self.type in CHOICE_TYPES:
            data["counts"] = [
                {"key": c.key, "votes": c.count, "percent": round(c.percent, 2)}
                for c in self.choices
            ]
            if self.yes_share is not None:
                data["yes_share_percent"] = round(self.yes_share, 2)
        elif self.type == "punkte":
            data["scores"] = [
                {"key": s.key, "sum": s.total, "count": s.count, "mean": round(s.mean, 4)}
                for s in self.scores
            ]
        elif self.type == "termin":
            data["slots"] = [
                {"key": s.key, "yes": s.yes, "maybe": s.maybe, "no": s.no} for s in self.slots
            ]
            data["best_slots"] = list(self.best_slots)
        elif self.ranked:
            data["method"] = self.method
            data["winners"] = list(self.winners)
            data["ranking"] = [list(tier) for tier in self.ranking]
            if self.schulze is not None:
                data["pairwise"] = self.schulze.d
                data["strongest_paths"] = self.schulze.p
            if self.irv is not None:
                data["rounds"] = [
                    {
                        "counts": r.counts,
                        "exhausted": r.exhausted,
                        "eliminated": r.eliminated,
                        "tie_broken": r.tie_broken,
                    }
                    for r in self.irv.rounds
                ]
            if self.stv is not None:
                data["seats"] = self.stv.seats
                data["quota"] = self.stv.quota
                data["rounds"] = [stv_round_dict(r) for r in self.stv.rounds]
        return data


def stv_round_dict(r: tally.StvRound) -> dict:
    return {
        "votes": {k: decimal_text(v) for k, v in r.votes.items()},
        "elected": list(r.elected),
        "excluded": r.excluded,
        "transfers": [
            {"from": a, "to": b, "votes": decimal_text(v)} for (a, b), v in r.transfers.items()
        ],
        "exhausted": decimal_text(r.exhausted),
        "tie_broken": r.tie_broken,
        "no_competition": r.no_competition,
    }


def irv_order(result: tally.Irv) -> tuple[tuple[str, ...], ...]:
    """IRV: the winner, then the others in reverse order of elimination (the last round's
    other options by their votes)."""
    if not result.rounds:
        return ()
    last = result.rounds[-1]
    rest = sorted((k for k in last.counts if k != result.winner), key=lambda k: -last.counts[k])
    order = ([result.winner] if result.winner else []) + rest
    order += [r.eliminated for r in reversed(result.rounds) if r.eliminated]
    return tuple((key,) for key in order)


def compute(definition, answers: list[dict], closed: bool) -> Results:
    """The results of ``answers`` (dicts as stored) to the poll ``definition``."""
    options = list(definition.options)
    total = len(answers)
    withheld = definition.secret == "ja" and total < MIN_SECRET_BALLOTS and not closed
    base = {
        "poll_id": definition.id,
        "type": definition.type,
        "total": total,
        "closed": closed,
        "withheld": withheld,
        "labels": dict(definition.options),
    }
    if definition.type == "rangfolge":
        base["method"] = definition.method
        base["seats"] = definition.seats if definition.method == "stv" else 1
    if withheld:
        return Results(**base)
    kind = definition.type
    if kind in CHOICE_TYPES:
        _, counts = tally.choice_counts(options, answers)
        share = None
        if kind == "ja-nein":
            by_key = {c.key: c.count for c in counts}
            share = tally.percent(by_key["ja"], by_key["ja"] + by_key["nein"])
        return Results(**base, choices=tuple(counts), yes_share=share)
    if kind == "punkte":
        _, rows = tally.score_rows(options, answers)
        return Results(**base, scores=tuple(rows))
    if kind == "termin":
        _, rows = tally.slot_rows(options, answers)
        return Results(**base, slots=tuple(rows), best_slots=tuple(tally.best_slots(rows)))
    if kind == "rangfolge":
        grouped = tally.rankings(options, answers)
        extra: dict = {"rankings": grouped}
        if definition.method == "irv":
            extra["irv"] = tally.irv(options, grouped)
        elif definition.method == "stv":
            extra["stv"] = tally.stv(options, grouped, definition.seats)
        else:
            extra["schulze"] = tally.schulze(options, grouped)
        return Results(**base, **extra)
    return Results(**base)


class ResultsCache:
    """A bounded, thread-safe LRU mapping of cache keys to :class:`Results`."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def cache() -> ResultsCache:
    """The results cache of the current app (in ``state().extra``, never a module global:
    tests build many apps in one process)."""
    from wiki.api import state

    extra = state().extra
    found = extra.get("polls_results_cache")
    if found is None:
        found = extra.setdefault("polls_results_cache", ResultsCache())
    return found


def cache_key(view, closed: bool) -> tuple:
    digest = hashlib.sha256(view.row.definition.encode()).hexdigest()
    version = view.state.version if view.state is not None else 0
    return (view.id, version, digest, closed)


def for_poll(session, view) -> Results:
    """The results of the poll ``view`` (a ``PollView`` of ``access``), cached."""
    from plugins.polls import access

    closed = access.is_closed(view)
    key = cache_key(view, closed)  # the version is read before the answers
    store = cache()
    found = store.get(key)
    if found is None:
        secret = view.definition.secret == "ja"
        found = compute(view.definition, access.answers(session, view.id, secret), closed)
        store.put(key, found)
    return found


def decimal_text(value: Decimal) -> str:
    """An STV vote figure as plain text (no exponent, trailing zeros dropped)."""
    return format(value.normalize(), "f") if value else "0"

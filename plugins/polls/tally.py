"""Counting ballots (pure: no Flask, no database).

Every function takes the option keys in the order of the definition and the answers as the
plugin stores them (see POLLS.md): ``{"choice": key}``, ``{"choices": [keys]}``,
``{"ranking": [keys, best first]}``, ``{"slots": {key: "ja"|"vielleicht"|"nein"}}``,
``{"scores": {key: 0..5}}``. Keys that are not options are ignored, so a malformed answer can
never break a count. Identical ballots are grouped first (``Counter``), so 10,000 ranked
ballots of five options are a few hundred distinct rankings.

Ranked methods:

- **Schulze**: ``d[x][y]`` is the number of voters who rank x above y (an option missing from a
  ranking is below every ranked one, tied with the other missing ones); strongest paths by the
  Floyd–Warshall variant (widest paths); x beats y when ``p[x][y] > p[y][x]``. Winners are the
  options nobody beats; the full ranking is in tiers (options of one tier are not ordered by the
  method).
- **IRV** (instant runoff): each ballot counts for its best continuing option; an option with
  more than half of the continuing (not exhausted) ballots wins, else the one with the fewest
  votes is eliminated. Ties for elimination are broken deterministically: the tied option
  with fewer votes in the latest earlier round where they differ goes; if they never differ,
  the option listed last in the definition goes. Every broken tie is recorded in its round.
- **STV** (several seats): the Scottish STV as the PyPI package ``stvpoll`` counts it, so an
  independent implementation checks ours (tests): Droop quota ``floor(valid / (seats + 1)) + 1``
  of the non-empty ballots; everyone at or above the quota is elected (most votes first) and
  their surpluses are transferred serially with the weighted inclusive Gregory method (every
  ballot of the candidate continues at ``value × surplus / votes``, rounded to five decimals);
  otherwise the candidate with the fewest votes is excluded (ties: history of earlier rounds,
  then the option listed last); when only as many candidates as free seats remain, all are
  elected. Deviation from ``stvpoll``: its last resort for ties is a random draw, ours the
  definition order (reproducible; the round says that a tie was broken).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

YES, MAYBE, NO = "ja", "vielleicht", "nein"

# ---------------------------------------------------------------- simple counts


def percent(part: int | float, whole: int | float) -> float:
    """``part`` of ``whole`` in percent (0 for an empty whole)."""
    return 100.0 * part / whole if whole else 0.0


@dataclass(frozen=True)
class ChoiceCount:
    """Votes of one option (ja-nein, einfach, mehrfach) and their share of the ballots."""

    key: str
    count: int
    percent: float


def choice_counts(options: Sequence[str], answers: Iterable[dict]) -> tuple[int, list[ChoiceCount]]:
    """``(ballots, counts)`` for single (``choice``) and multiple (``choices``) choice answers.

    Percentages are of the ballots, so with several choices they may add up to more than 100.
    """
    known = set(options)
    counts: Counter = Counter()
    total = 0
    for answer in answers:
        total += 1
        picked = answer.get("choices")
        if picked is None:
            picked = [answer.get("choice")]
        if isinstance(picked, list):
            counts.update({k for k in picked if isinstance(k, str) and k in known})
    return total, [ChoiceCount(k, counts[k], percent(counts[k], total)) for k in options]


@dataclass(frozen=True)
class ScoreRow:
    """Scores (0–5) of one option: sum, number of scores and mean."""

    key: str
    total: int
    count: int
    mean: float


def score_rows(options: Sequence[str], answers: Iterable[dict]) -> tuple[int, list[ScoreRow]]:
    """``(ballots, rows)`` of a ``punkte`` poll; the mean is over the ballots that scored it."""
    known = set(options)
    sums: Counter = Counter()
    counts: Counter = Counter()
    ballots = 0
    for answer in answers:
        ballots += 1
        scores = answer.get("scores")
        if not isinstance(scores, dict):
            continue
        for key, value in scores.items():
            if key in known and type(value) is int and 0 <= value <= 5:
                sums[key] += value
                counts[key] += 1
    rows = [
        ScoreRow(k, sums[k], counts[k], sums[k] / counts[k] if counts[k] else 0.0) for k in options
    ]
    return ballots, rows


@dataclass(frozen=True)
class SlotRow:
    """Answers for one slot of a date poll."""

    key: str
    yes: int
    maybe: int
    no: int

    @property
    def yes_or_maybe(self) -> int:
        return self.yes + self.maybe


def slot_rows(options: Sequence[str], answers: Iterable[dict]) -> tuple[int, list[SlotRow]]:
    """``(ballots, rows)`` of a ``termin`` poll (a slot without an answer counts for nobody)."""
    known = set(options)
    tally = {k: Counter() for k in options}
    ballots = 0
    for answer in answers:
        ballots += 1
        slots = answer.get("slots")
        if not isinstance(slots, dict):
            continue
        for key, value in slots.items():
            if key in known and value in (YES, MAYBE, NO):
                tally[key][value] += 1
    rows = [SlotRow(k, tally[k][YES], tally[k][MAYBE], tally[k][NO]) for k in options]
    return ballots, rows


def best_slots(rows: Sequence[SlotRow]) -> list[str]:
    """The slots with the most "ja", among them those with the most "ja" + "vielleicht"
    (several when they are equal; none while nobody said ja or vielleicht)."""
    if not rows:
        return []
    best = max((r.yes, r.yes_or_maybe) for r in rows)
    if best == (0, 0):
        return []
    return [r.key for r in rows if (r.yes, r.yes_or_maybe) == best]


# ---------------------------------------------------------------- rankings


def rankings(options: Sequence[str], answers: Iterable[dict]) -> Counter:
    """Identical rankings grouped: ``Counter({(key, …): ballots})``, unknown and repeated keys
    dropped (an empty tuple is a ballot that ranks nothing)."""
    known = set(options)
    grouped: Counter = Counter()
    for answer in answers:
        ranking = answer.get("ranking")
        seen: list[str] = []
        if isinstance(ranking, list):
            for key in ranking:
                if isinstance(key, str) and key in known and key not in seen:
                    seen.append(key)
        grouped[tuple(seen)] += 1
    return grouped


def pairwise(options: Sequence[str], ballots: Counter) -> dict[str, dict[str, int]]:
    """``d[x][y]``: voters who prefer x to y (unranked options below all ranked, tied)."""
    d = {x: dict.fromkeys(options, 0) for x in options}
    for ranking, n in ballots.items():
        ranked = set(ranking)
        unranked = [o for o in options if o not in ranked]
        for i, x in enumerate(ranking):
            row = d[x]
            for y in ranking[i + 1 :]:
                row[y] += n
            for y in unranked:
                row[y] += n
    return d


@dataclass(frozen=True)
class Schulze:
    """The Schulze method's result: matrices, winners and the ranking in tiers."""

    d: dict[str, dict[str, int]]
    p: dict[str, dict[str, int]]
    winners: tuple[str, ...]
    tiers: tuple[tuple[str, ...], ...]

    def beats(self, x: str, y: str) -> bool:
        return self.p[x][y] > self.p[y][x]


def strongest_paths(options: Sequence[str], d: dict[str, dict[str, int]]) -> dict:
    """Widest path strengths ``p[x][y]`` (links are ``d[x][y]`` where it beats ``d[y][x]``)."""
    p = {x: dict.fromkeys(options, 0) for x in options}
    for x in options:
        for y in options:
            if x != y and d[x][y] > d[y][x]:
                p[x][y] = d[x][y]
    for i in options:
        for j in options:
            if i == j:
                continue
            pji = p[j][i]
            if not pji:
                continue
            for k in options:
                if k != i and k != j:
                    via = min(pji, p[i][k])
                    if via > p[j][k]:
                        p[j][k] = via
    return p


def schulze(options: Sequence[str], ballots: Counter) -> Schulze:
    """Schulze winners and full ranking of grouped ``ballots`` (see :func:`rankings`)."""
    d = pairwise(options, ballots)
    p = strongest_paths(options, d)
    tiers: list[tuple[str, ...]] = []
    left = list(options)
    while left:
        top = tuple(x for x in left if not any(p[y][x] > p[x][y] for y in left if y != x))
        tiers.append(top)
        left = [x for x in left if x not in top]
    winners = tiers[0] if tiers and ballots else ()
    return Schulze(d, p, winners, tuple(tiers))


# ---------------------------------------------------------------- instant runoff


@dataclass(frozen=True)
class IrvRound:
    """One round: votes of the continuing options, exhausted ballots, who went out."""

    counts: dict[str, int]
    exhausted: int
    eliminated: str | None = None
    tie_broken: bool = False


@dataclass(frozen=True)
class Irv:
    winner: str | None
    rounds: tuple[IrvRound, ...]


def _lowest(tied: list[str], history: Sequence[dict], options: Sequence[str]) -> tuple[str, bool]:
    """The one of ``tied`` (equal fewest votes) that goes: alone, or the one with fewer votes in
    the latest earlier round that separates them, else the last in definition order. Returns
    ``(option, tie_broken)``."""
    if len(tied) == 1:
        return tied[0], False
    for counts in reversed(history):
        values = [counts.get(c, 0) for c in tied]
        tied = [c for c, v in zip(tied, values, strict=True) if v == min(values)]
        if len(tied) == 1:
            return tied[0], True
    return sorted(tied, key=options.index)[-1], True


def irv(options: Sequence[str], ballots: Counter) -> Irv:
    """Instant runoff of grouped ``ballots``."""
    continuing = list(options)
    rounds: list[IrvRound] = []
    history: list[dict] = []
    while continuing:
        alive = set(continuing)
        counts = dict.fromkeys(continuing, 0)
        exhausted = 0
        for ranking, n in ballots.items():
            top = next((k for k in ranking if k in alive), None)
            if top is None:
                exhausted += n
            else:
                counts[top] += n
        active = sum(counts.values())
        leader = max(continuing, key=lambda k: counts[k])
        if active == 0:
            rounds.append(IrvRound(counts, exhausted))
            return Irv(None, tuple(rounds))
        if 2 * counts[leader] > active or len(continuing) == 1:
            rounds.append(IrvRound(counts, exhausted))
            return Irv(leader, tuple(rounds))
        fewest = min(counts.values())
        out, broken = _lowest([k for k in continuing if counts[k] == fewest], history, options)
        rounds.append(IrvRound(counts, exhausted, out, broken))
        history.append(counts)
        continuing.remove(out)
    return Irv(None, tuple(rounds))


# ---------------------------------------------------------------- single transferable vote


def _round5(value: Decimal) -> Decimal:
    return round(value, 5).normalize()


@dataclass(frozen=True)
class StvRound:
    """One step of the count: the votes of the standing candidates when it was taken, who was
    elected or excluded, the transfers that followed (``{(from, to): votes}``) and the
    exhausted votes so far."""

    votes: dict[str, Decimal]
    elected: tuple[str, ...] = ()
    excluded: str | None = None
    transfers: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    exhausted: Decimal = Decimal(0)
    tie_broken: bool = False
    no_competition: bool = False


@dataclass(frozen=True)
class Stv:
    seats: int
    quota: int
    valid: int
    elected: tuple[str, ...]
    rounds: tuple[StvRound, ...]


def droop_quota(valid: int, seats: int) -> int:
    """The smallest whole number of votes that only ``seats`` candidates can reach."""
    return valid // (seats + 1) + 1


class _Ballot:
    __slots__ = ("prefs", "count", "multiplier")

    def __init__(self, prefs: tuple[str, ...], count: int):
        self.prefs = prefs
        self.count = count
        self.multiplier = Decimal(1)

    @property
    def value(self) -> Decimal:
        return self.multiplier * self.count

    def next_in(self, among) -> str | None:
        return next((c for c in self.prefs if c in among), None)


def stv(options: Sequence[str], ballots: Counter, seats: int) -> Stv:
    """Scottish STV of grouped ``ballots`` for ``seats`` seats (see the module docstring)."""
    seats = max(1, min(seats, len(options)))
    papers = [_Ballot(r, n) for r, n in ballots.items() if r]
    valid = sum(b.count for b in papers)
    quota = droop_quota(valid, seats)
    if not valid:
        return Stv(seats, quota, 0, (), ())
    standing = list(options)
    elected: list[str] = []
    rounds: list[StvRound] = []
    exhausted = Decimal(0)

    def current_votes() -> dict[str, Decimal]:
        alive = set(standing)
        votes = {c: Decimal(0) for c in standing}
        for b in papers:
            top = b.next_in(alive)
            if top is not None:
                votes[top] += b.value
        return votes

    def transfer(queue: list[str], votes: dict, surplus: bool) -> dict:
        nonlocal exhausted
        log: Counter = Counter()
        queue = list(queue)
        while queue:
            candidate = queue.pop(0)
            total = votes[candidate]
            factor = (total - quota) / total if surplus else Decimal(1)
            scope = set(standing) | {candidate}
            onward = set(standing) | set(queue)
            moved: Counter = Counter()
            for b in papers:
                if b.next_in(scope) != candidate:
                    continue
                b.multiplier = _round5(b.multiplier * factor)
                target = b.next_in(onward)
                if target is None:
                    exhausted += b.value
                else:
                    moved[target] += b.value
            for target, value in moved.items():
                log[(candidate, target)] += value
                votes[target] = votes.get(target, Decimal(0)) + value
        return dict(log)

    while standing and len(elected) < seats:
        votes = current_votes()
        if len(standing) <= seats - len(elected):
            order = tuple(sorted(standing, key=lambda c: votes[c], reverse=True))
            elected.extend(order)
            rounds.append(StvRound(votes, elected=order, exhausted=exhausted, no_competition=True))
            break
        above = tuple(
            sorted((c for c in standing if votes[c] >= quota), key=lambda c: votes[c], reverse=True)
        )
        snapshot = dict(votes)
        if above:
            elected.extend(above)
            for c in above:
                standing.remove(c)
            log = transfer(list(above), dict(votes), surplus=True)
            rounds.append(StvRound(snapshot, elected=above, transfers=log, exhausted=exhausted))
        else:
            fewest = min(votes.values())
            out, broken = _lowest(
                [c for c in standing if votes[c] == fewest], [r.votes for r in rounds], options
            )
            standing.remove(out)
            log = transfer([out], dict(votes), surplus=False)
            rounds.append(
                StvRound(
                    snapshot, excluded=out, transfers=log, exhausted=exhausted, tie_broken=broken
                )
            )
    return Stv(seats, quota, valid, tuple(elected), tuple(rounds))


# ---------------------------------------------------------------- .blt


def _blt_quote(text: str) -> str:
    clean = " ".join(str(text).replace('"', "'").split())
    return f'"{clean}"'


def blt(
    options: Sequence[str], labels: dict[str, str], ballots: Counter, seats: int, title: str
) -> str:
    """The ballots in the ``.blt`` format of OpenSTV and the ERS (one line ``1 a b c 0`` per
    ballot with 1-based option numbers, sorted so that nothing tells the order of voting;
    ``"`` in names becomes ``'``)."""
    number = {key: i for i, key in enumerate(options, 1)}
    lines = [f"{len(options)} {max(1, seats)}"]
    encoded = sorted(tuple(number[k] for k in r if k in number) for r in ballots.elements())
    for ranking in encoded:
        lines.append(" ".join(["1", *map(str, ranking), "0"]))
    lines.append("0")
    lines.extend(_blt_quote(labels.get(k, k)) for k in options)
    lines.append(_blt_quote(title))
    return "\n".join(lines) + "\n"


def parse_blt(text: str) -> tuple[list[str], int, Counter, str]:
    """``(names, seats, Counter({(names…): weight}), title)`` from ``.blt`` text (for tests and
    recounts; withdrawn candidates, ``-n`` lines, are accepted and ignored)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    n, seats = map(int, lines[0].split())
    i = 1
    while lines[i].startswith("-"):
        i += 1
    raw: list[tuple[int, tuple[int, ...]]] = []
    while lines[i] != "0":
        parts = [int(p) for p in lines[i].split()]
        if parts[-1] != 0:
            raise ValueError(f"ballot line without closing 0: {lines[i]}")
        raw.append((parts[0], tuple(parts[1:-1])))
        i += 1
    names = [line.strip('"') for line in lines[i + 1 : i + 1 + n]]
    title = lines[i + 1 + n].strip('"') if len(lines) > i + 1 + n else ""
    grouped: Counter = Counter()
    for weight, ranking in raw:
        grouped[tuple(names[k - 1] for k in ranking)] += weight
    return names, seats, grouped, title

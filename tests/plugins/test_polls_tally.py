"""The polls plugin's counting (``plugins/polls/tally.py``), checked against independent oracles:
the Wikipedia example of the Schulze method, a brute-force Schulze under hypothesis, the PyPI
packages ``pyrankvote`` (IRV) and ``stvpoll`` (Scottish STV), and a ``.blt`` round trip."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.polls import tally

# ---------------------------------------------------------------- Schulze

#: https://en.wikipedia.org/wiki/Schulze_method#Example — 45 voters, 5 candidates
WIKIPEDIA = [
    (5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"),
    (7, "CAEBD"), (2, "CBADE"), (7, "DCEBA"), (8, "EBADC"),
]  # fmt: skip
WIKIPEDIA_D = {
    "A": {"B": 20, "C": 26, "D": 30, "E": 22},
    "B": {"A": 25, "C": 16, "D": 33, "E": 18},
    "C": {"A": 19, "B": 29, "D": 17, "E": 24},
    "D": {"A": 15, "B": 12, "C": 28, "E": 14},
    "E": {"A": 23, "B": 27, "C": 21, "D": 31},
}
WIKIPEDIA_P = {
    "A": {"B": 28, "C": 28, "D": 30, "E": 24},
    "B": {"A": 25, "C": 28, "D": 33, "E": 24},
    "C": {"A": 25, "B": 29, "D": 29, "E": 24},
    "D": {"A": 25, "B": 28, "C": 28, "E": 24},
    "E": {"A": 25, "B": 28, "C": 28, "D": 31},
}


def wikipedia_answers() -> list[dict]:
    return [{"ranking": list(order)} for n, order in WIKIPEDIA for _ in range(n)]


def test_schulze_wikipedia_example():
    ballots = tally.rankings("ABCDE", wikipedia_answers())
    assert sum(ballots.values()) == 45
    result = tally.schulze(list("ABCDE"), ballots)
    for x, row in WIKIPEDIA_D.items():
        for y, value in row.items():
            assert result.d[x][y] == value, (x, y)
            assert result.p[x][y] == WIKIPEDIA_P[x][y], (x, y)
    assert result.winners == ("E",)
    assert result.tiers == (("E",), ("A",), ("C",), ("B",), ("D",))


def test_unranked_options_rank_below_ranked_ones_and_tie():
    # 3 voters rank only A; 2 rank B then C. D is never ranked.
    answers = [{"ranking": ["a"]}] * 3 + [{"ranking": ["b", "c"]}] * 2
    ballots = tally.rankings(["a", "b", "c", "d"], answers)
    result = tally.schulze(["a", "b", "c", "d"], ballots)
    d = result.d
    assert d["a"]["b"] == 3 and d["b"]["a"] == 2
    assert d["b"]["c"] == 2 and d["c"]["b"] == 0  # A-voters leave b and c tied
    assert d["a"]["d"] == 3 and d["d"]["a"] == 0
    assert d["c"]["d"] == 2 and d["d"]["c"] == 0
    assert result.winners == ("a",)
    assert result.tiers == (("a",), ("b",), ("c",), ("d",))


def test_schulze_tie_gives_several_winners_and_a_shared_tier():
    answers = [{"ranking": ["x", "y", "z"]}, {"ranking": ["y", "x", "z"]}]
    result = tally.schulze(["x", "y", "z"], tally.rankings(["x", "y", "z"], answers))
    assert result.winners == ("x", "y")
    assert result.tiers == (("x", "y"), ("z",))


def test_rankings_ignore_unknown_and_repeated_keys():
    answers = [{"ranking": ["a", "zz", "a", "b"]}, {"ranking": "a"}, {}, {"ranking": [1, "b"]}]
    grouped = tally.rankings(["a", "b"], answers)
    assert grouped == Counter({("a", "b"): 1, (): 2, ("b",): 1})


def brute_force_schulze(options: list[str], ballots: list[tuple[str, ...]]):
    """An independent Schulze: pairwise counts from rank positions, strongest paths by
    enumerating every simple path, tiers by the longest chain of options that beat one."""
    n = len(options)

    def position(ballot, option):
        return ballot.index(option) if option in ballot else n

    d = {
        (x, y): sum(1 for b in ballots if position(b, x) < position(b, y))
        for x in options
        for y in options
        if x != y
    }

    def link(x, y):
        return d[(x, y)] if d[(x, y)] > d[(y, x)] else 0

    p = {}
    for x, y in d:
        best = 0
        others = [o for o in options if o not in (x, y)]
        for k in range(len(others) + 1):
            for middle in itertools.permutations(others, k):
                path = (x, *middle, y)
                best = max(best, min(link(a, b) for a, b in itertools.pairwise(path)))
        p[(x, y)] = best

    def beats(x, y):
        return p[(x, y)] > p[(y, x)]

    winners = {x for x in options if all(not beats(y, x) for y in options if y != x)}
    depth: dict[str, int] = {}

    def depth_of(x):
        if x not in depth:
            above = [depth_of(y) for y in options if y != x and beats(y, x)]
            depth[x] = 1 + max(above) if above else 0
        return depth[x]

    tiers: dict[int, set] = {}
    for x in options:
        tiers.setdefault(depth_of(x), set()).add(x)
    return d, p, winners, [tiers[k] for k in sorted(tiers)]


partial_rankings = st.integers(min_value=2, max_value=5).flatmap(
    lambda k: st.tuples(
        st.just(k),
        st.lists(
            st.permutations([f"o{i}" for i in range(k)]).flatmap(
                lambda perm: st.integers(0, len(perm)).map(lambda cut: tuple(perm[:cut]))
            ),
            min_size=1,
            max_size=25,
        ),
    )
)


@settings(max_examples=150, deadline=None)
@given(partial_rankings)
def test_schulze_agrees_with_a_brute_force_oracle(case):
    k, ballots = case
    options = [f"o{i}" for i in range(k)]
    result = tally.schulze(
        options, tally.rankings(options, [{"ranking": list(b)} for b in ballots])
    )
    d, p, winners, tiers = brute_force_schulze(options, ballots)
    for (x, y), value in d.items():
        assert result.d[x][y] == value
        assert result.p[x][y] == p[(x, y)]
    assert set(result.winners) == winners
    assert [set(t) for t in result.tiers] == tiers


# ---------------------------------------------------------------- IRV against pyrankvote


def random_election(rng: random.Random, k_low=2, k_high=6, n_high=60):
    k = rng.randint(k_low, k_high)
    options = [f"o{i}" for i in range(k)]
    ballots: Counter = Counter()
    for _ in range(rng.randint(1, n_high)):
        ballots[tuple(rng.sample(options, rng.randint(0, k)))] += 1
    return options, ballots


def test_irv_agrees_with_pyrankvote_on_tie_free_elections():
    from pyrankvote import Ballot, Candidate
    from pyrankvote.single_seat_ranking_methods import instant_runoff_voting

    rng = random.Random(20261204)
    compared = 0
    for _ in range(400):
        options, ballots = random_election(rng)
        mine = tally.irv(options, ballots)
        if mine.winner is None or any(r.tie_broken for r in mine.rounds):
            continue  # ties: pyrankvote breaks them by later preferences or at random
        last = mine.rounds[-1].counts
        if sorted(last.values())[-2:] == [last[mine.winner]] * 2:
            continue  # a final tie (pyrankvote elects at exactly half)
        candidates = {o: Candidate(o) for o in options}
        papers = [Ballot([candidates[o] for o in r]) for r, n in ballots.items() for _ in range(n)]
        theirs = instant_runoff_voting(list(candidates.values()), papers)
        assert [c.name for c in theirs.get_winners()] == [mine.winner], dict(ballots)
        compared += 1
    assert compared > 150


def test_irv_rounds_record_counts_exhausted_and_eliminated():
    answers = (
        [{"ranking": ["a"]}] * 4
        + [{"ranking": ["b", "a"]}] * 3
        + [{"ranking": ["c", "b"]}] * 2
        + [{"ranking": ["c"]}] * 1
    )
    result = tally.irv(["a", "b", "c"], tally.rankings(["a", "b", "c"], answers))
    first, second = result.rounds
    assert first.counts == {"a": 4, "b": 3, "c": 3} and first.exhausted == 0
    # b and c tie at 3 in round 1 with no earlier round: c (listed last) goes, recorded
    assert first.eliminated == "c" and first.tie_broken
    assert second.counts == {"a": 4, "b": 5} and second.exhausted == 1
    assert result.winner == "b" and second.eliminated is None


def test_irv_tie_broken_by_the_latest_earlier_round():
    # Round 1: a 5, b 4, c 3, d 1 → d out (its ballot goes to c). Round 2: a 5, b 4, c 4:
    # b and c tie; in round 1 c had fewer → c goes, not b (which is listed before c).
    answers = (
        [{"ranking": ["a"]}] * 5
        + [{"ranking": ["b"]}] * 4
        + [{"ranking": ["c", "b"]}] * 3
        + [{"ranking": ["d", "c", "b"]}]
    )
    options = ["a", "b", "c", "d"]
    result = tally.irv(options, tally.rankings(options, answers))
    assert [r.eliminated for r in result.rounds[:2]] == ["d", "c"]
    assert result.rounds[1].tie_broken and not result.rounds[0].tie_broken
    assert result.winner == "b"  # 4 + 4 of 13 against a's 5


# ---------------------------------------------------------------- STV against stvpoll


def stvpoll_tie_free(result) -> bool:
    from stvpoll.types import SelectionMethod

    plain = (SelectionMethod.Direct, SelectionMethod.NoCompetition)
    if not result.complete or any(r.selection_method not in plain for r in result.rounds):
        return False
    # equal votes among candidates selected together: their order is a tie as well
    return all(len({r.votes[c] for c in r.selected}) == len(r.selected) for r in result.rounds)


def test_stv_agrees_with_stvpoll_scottish_stv_on_tie_free_elections():
    from stvpoll.scottish_stv import calculate_scottish_stv
    from stvpoll.types import CandidateStatus

    rng = random.Random(4711)
    compared = 0
    for _ in range(400):
        options, ballots = random_election(rng, k_low=3, k_high=7, n_high=80)
        seats = rng.randint(1, len(options) - 1)
        theirs = calculate_scottish_stv(
            tuple(options), [(list(r), n) for r, n in ballots.items()], seats, allow_random=False
        )
        if not stvpoll_tie_free(theirs):
            continue
        mine = tally.stv(options, ballots, seats)
        assert mine.quota == theirs.quota
        assert mine.elected == tuple(theirs), dict(ballots)
        assert len(mine.rounds) == len(theirs.rounds)
        for ours, their in zip(mine.rounds, theirs.rounds, strict=True):
            if their.status == CandidateStatus.Elected:
                assert ours.elected == their.selected
            else:
                assert ours.excluded == their.selected[0]
            assert ours.votes == {c: Decimal(v) for c, v in their.votes.items()}
        compared += 1
    assert compared > 150


def test_stv_two_seats_with_surplus_transfer():
    # 9 valid ballots, 2 seats: quota 9 // 3 + 1 = 4. a has 6 → elected, its surplus 2 of 6
    # moves on at 0.33333 per ballot (five decimals) to b, who stays just under the quota
    # (3.99998); c is excluded and b is elected as the last one standing.
    answers = [{"ranking": ["a", "b"]}] * 6 + [{"ranking": ["b"]}] * 2 + [{"ranking": ["c"]}] * 1
    options = ["a", "b", "c"]
    result = tally.stv(options, tally.rankings(options, answers), 2)
    assert result.quota == 4 and result.valid == 9
    assert result.rounds[0].elected == ("a",)
    assert result.rounds[0].transfers == {("a", "b"): Decimal("1.99998")}
    assert result.rounds[1].votes == {"b": Decimal("3.99998"), "c": Decimal(1)}
    assert result.rounds[1].excluded == "c"
    assert result.rounds[2].no_competition and result.elected == ("a", "b")


def test_stv_without_ballots_elects_nobody():
    result = tally.stv(["a", "b"], Counter({(): 3}), 1)
    assert result.elected == () and result.valid == 0


# ---------------------------------------------------------------- other types


def test_choice_counts_and_percentages():
    answers = [{"choice": "ja"}] * 3 + [{"choice": "nein"}] + [{"choice": "unbekannt"}]
    total, counts = tally.choice_counts(["ja", "nein", "enthaltung"], answers)
    assert total == 5
    assert [(c.key, c.count, c.percent) for c in counts] == [
        ("ja", 3, 60.0),
        ("nein", 1, 20.0),
        ("enthaltung", 0, 0.0),
    ]
    total, counts = tally.choice_counts(
        ["a", "b"], [{"choices": ["a", "b"]}, {"choices": ["a", "a"]}, {"choices": []}]
    )
    assert total == 3 and [c.count for c in counts] == [2, 1]


def test_scores_sum_and_mean():
    answers = [{"scores": {"a": 5, "b": 0}}, {"scores": {"a": 3, "b": 9}}, {"scores": {"a": 1}}]
    total, rows = tally.score_rows(["a", "b"], answers)
    assert total == 3
    assert (rows[0].total, rows[0].count, rows[0].mean) == (9, 3, 3.0)
    assert (rows[1].total, rows[1].count, rows[1].mean) == (0, 1, 0.0)  # 9 is out of range


def test_best_slots_most_yes_then_most_yes_or_maybe():
    answers = [
        {"slots": {"mo": "ja", "di": "ja", "mi": "vielleicht"}},
        {"slots": {"mo": "ja", "di": "ja", "mi": "ja"}},
        {"slots": {"mo": "nein", "di": "vielleicht", "mi": "ja"}},
    ]
    _total, rows = tally.slot_rows(["mo", "di", "mi"], answers)
    assert [(r.yes, r.maybe, r.no) for r in rows] == [(2, 0, 1), (2, 1, 0), (2, 1, 0)]
    assert tally.best_slots(rows) == ["di", "mi"]
    assert tally.best_slots(tally.slot_rows(["mo"], [{"slots": {"mo": "nein"}}])[1]) == []


# ---------------------------------------------------------------- .blt


def test_blt_round_trip_and_format():
    options = ["anna", "ben", "cem"]
    labels = {"anna": 'Anna "die Erste"', "ben": "Ben", "cem": "Cem Ö."}
    ballots = Counter({("ben", "anna"): 2, ("cem",): 1, ("anna", "ben", "cem"): 3, (): 1})
    text = tally.blt(options, labels, ballots, 2, "Vorstandswahl 2026")
    lines = text.splitlines()
    assert lines[0] == "3 2"
    assert "1 1 2 3 0" in lines and "1 2 1 0" in lines and "1 3 0" in lines and "1 0" in lines
    body = lines[1 : lines.index("0")]
    assert body == sorted(body, key=lambda line: [int(p) for p in line.split()][1:])
    assert lines[-1] == '"Vorstandswahl 2026"'
    assert "\"Anna 'die Erste'\"" in lines
    names, seats, parsed, title = tally.parse_blt(text)
    assert seats == 2 and title == "Vorstandswahl 2026"
    assert names == ["Anna 'die Erste'", "Ben", "Cem Ö."]
    by_key = dict(zip(names, options, strict=True))
    assert Counter({tuple(by_key[n] for n in r): w for r, w in parsed.items()}) == ballots


def test_blt_recount_with_stvpoll_gives_our_result():
    from stvpoll.scottish_stv import calculate_scottish_stv

    rng = random.Random(99)
    options, ballots = random_election(rng, k_low=5, k_high=5, n_high=200)
    text = tally.blt(options, {o: o.upper() for o in options}, ballots, 2, "Wahl")
    names, seats, parsed, _title = tally.parse_blt(text)
    theirs = calculate_scottish_stv(tuple(names), [(list(r), n) for r, n in parsed.items()], seats)
    mine = tally.stv(options, ballots, 2)
    if not theirs.randomized:
        assert tuple(o.upper() for o in mine.elected) == tuple(theirs)


# ---------------------------------------------------------------- 10,000 ballots


def test_ten_thousand_ballots_tally_correctly():
    rng = random.Random(10_000)
    options = ["a", "b", "c", "d", "e"]
    answers = []
    for _ in range(10_000):
        order = options[:]
        rng.shuffle(order)
        answers.append({"ranking": order[: rng.randint(1, 5)]})
    grouped = tally.rankings(options, answers)
    assert sum(grouped.values()) == 10_000
    result = tally.schulze(options, grouped)
    for x in options:
        for y in options:
            if x != y:
                expected = 0
                for a in answers:
                    r = a["ranking"]
                    px = r.index(x) if x in r else 5
                    py = r.index(y) if y in r else 5
                    expected += px < py
                assert result.d[x][y] == expected
    total, counts = tally.choice_counts(options, [{"choice": a["ranking"][0]} for a in answers])
    firsts = Counter(a["ranking"][0] for a in answers)
    assert total == 10_000 and {c.key: c.count for c in counts} == firsts

"""Polls results: the withheld rule, charts (escaped, accessible), the results fragment, the
per-app cache, and the exports (CSV as German spreadsheets expect it, JSON, .blt) with their
permissions: 404 for unreadable pages, 403 while results are hidden, names only for organisers
of named polls."""

from __future__ import annotations

import json
import random
import uuid
import xml.etree.ElementTree as ET

import pytest
from conftest import Spaces, make_polls_app, page_text
from flask import render_template
from sqlalchemy import func, select

from plugins.polls import access, charts, results, tally
from plugins.polls.definitions import parse
from plugins.polls.models import SecretBallot, Vote, Voter

PUBLIC = "lv/kv-a/umfragen"  # public page in kv-a: members of kv-a edit it (organisers)
MEMBERS = "lv/kv-a/interna"  # members-only page of kv-a


def definition(**fields):
    data = {"id": "t", "frage": "Frage?", "optionen": {"a": "A", "b": "B"}} | fields
    found, problems = parse("poll", data)
    assert not problems, problems
    return found


# ---------------------------------------------------------------- compute (pure)


def test_secret_poll_withholds_per_option_results_below_five_ballots():
    secret = definition(geheim="ja")
    four = [{"choice": "a"}] * 3 + [{"choice": "b"}]
    result = results.compute(secret, four, closed=False)
    assert result.withheld and result.total == 4
    assert result.choices == () and "counts" not in result.to_dict()
    assert result.to_dict()["ballots"] == 4
    # after the close, or from five ballots on, the figures are there
    closed = results.compute(secret, four, closed=True)
    assert not closed.withheld and [c.count for c in closed.choices] == [3, 1]
    five = results.compute(secret, [*four, {"choice": "b"}], closed=False)
    assert not five.withheld and [c.count for c in five.choices] == [3, 2]
    # only detached secret ballots are withheld; hidden names (verborgen) are not secret counts
    hidden = results.compute(definition(geheim="verborgen"), four[:1], closed=False)
    assert not hidden.withheld and hidden.choices[0].count == 1


def test_withheld_ranked_poll_keeps_no_ballots():
    ranked = definition(typ="rangfolge", geheim="ja")
    result = results.compute(ranked, [{"ranking": ["a", "b"]}] * 2, closed=False)
    assert result.withheld and not result.rankings and result.schulze is None


def test_compute_per_type():
    yes_no = results.compute(
        definition(typ="ja-nein", optionen=None),
        [{"choice": "ja"}] * 3 + [{"choice": "nein"}] + [{"choice": "enthaltung"}] * 4,
        closed=False,
    )
    assert [(c.key, c.count, c.percent) for c in yes_no.choices] == [
        ("ja", 3, 37.5),
        ("nein", 1, 12.5),
        ("enthaltung", 4, 50.0),
    ]
    assert yes_no.yes_share == 75.0
    slots = definition(typ="termin", optionen={"di": "2030-03-05 18:00", "mi": "2030-03-06 18:00"})
    dates = results.compute(
        slots, [{"slots": {"di": "vielleicht", "mi": "ja"}}, {"slots": {"di": "ja"}}], False
    )
    assert dates.best_slots == ("di",)  # one ja each; di has one vielleicht more
    irv = results.compute(
        definition(typ="rangfolge", methode="irv", optionen={"a": "A", "b": "B", "c": "C"}),
        [{"ranking": ["a"]}] * 2 + [{"ranking": ["b"]}] * 2 + [{"ranking": ["c", "b"]}],
        closed=True,
    )
    assert irv.winners == ("b",) and irv.ranking[0] == ("b",)
    stv = results.compute(
        definition(
            typ="rangfolge", methode="stv", sitze=2, optionen={"a": "A", "b": "B", "c": "C"}
        ),
        [{"ranking": ["a", "b"]}] * 6 + [{"ranking": ["b"]}] * 2 + [{"ranking": ["c"]}],
        closed=True,
    )
    assert stv.winners == ("a", "b") and stv.to_dict()["quota"] == 4


# ---------------------------------------------------------------- charts

NASTY = '<script>alert("x")</script> & O\'Neil "zitiert"'


def test_chart_escapes_everything_and_is_accessible():
    bars = [
        charts.Bar(NASTY, (0.6,), '12 · 60 % <b>"'),
        charts.Bar("B" * 80, (0.4, 0.2), "8"),
    ]
    html = charts.bar_chart(
        'poll-"x"<y>-chart', NASTY, bars, ["Option", "Stimmen <i>"], [(NASTY, 12), ("B" * 80, 8)]
    )
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html
    assert " style=" not in html and "<style" not in html
    root = ET.fromstring(str(html))  # well-formed: every attribute and text escaped
    svg = root.find("{http://www.w3.org/2000/svg}svg")
    assert svg.get("role") == "img"
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    title_id = svg.get("aria-labelledby")
    assert title_id in ids
    described = svg.get("aria-describedby").split()
    assert all(i in ids for i in described)
    table = next(el for el in root.iter("table"))
    assert table.get("id") in described
    desc = svg.find("{http://www.w3.org/2000/svg}desc").text
    assert desc.startswith(NASTY)  # read aloud unescaped (the XML parser decoded it)
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "B" * 39 + "…" in texts  # long labels shortened, in full in the table
    assert ["B" * 80] == [t.text for t in table.iter("th") if t.text and t.text.startswith("BBB")]
    widths = [r.get("width") for r in svg.iter("{http://www.w3.org/2000/svg}rect")]
    assert "37.2%" in widths  # 0.6 of the 62 % bar span: percent, so it fits any width


# ---------------------------------------------------------------- the fragment


@pytest.fixture(scope="module")
def spaces(tmp_path_factory):
    app = make_polls_app(tmp_path_factory.mktemp("polls-results"), calendar=False)
    helper = Spaces(app)
    yield helper
    state = helper.state
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def fragment(spaces, result) -> str:
    with spaces.app.test_request_context("/"):
        return render_template("polls/_results.html", results=result, view=None)


def test_fragment_shows_schulze_winner_ranking_and_matrix(spaces):
    from test_polls_tally import wikipedia_answers

    ranked = definition(typ="rangfolge", optionen={k: f"Option {k}" for k in "abcde"}, id="wiki")
    answers = [{"ranking": [k.lower() for k in a["ranking"]]} for a in wikipedia_answers()]
    html = fragment(spaces, results.compute(ranked, answers, closed=True))
    assert "45 Stimmen abgegeben" in html
    assert "Gewonnen hat:</strong> Option e" in html
    ranking = html[html.index('<ol class="poll-ranking">') :]
    positions = [ranking.index(f"<li>Option {k}</li>") for k in "eacbd"]
    assert positions == sorted(positions)
    assert "<strong>31</strong>" in html  # d[E][D] = 31 beats d[D][E] = 14
    assert " style=" not in html


def test_fragment_withheld_shows_only_the_total(spaces):
    secret = definition(geheim="ja", optionen={"a": "Alpha", "b": "Beta"})
    html = fragment(spaces, results.compute(secret, [{"choice": "a"}] * 4, closed=False))
    assert "4 Stimmen abgegeben" in html and "ab 5 Stimmen" in html
    assert "Alpha" not in html and "<svg" not in html


def test_fragment_per_type_and_escaping(spaces):
    nasty = definition(optionen={"a": NASTY, "b": "B"})
    html = fragment(spaces, results.compute(nasty, [{"choice": "a"}] * 3, closed=False))
    assert "<script" not in html and "&lt;script&gt;" in html and 'role="img"' in html
    assert "3 · 100" in html and "(vorläufig)" in html
    dates = definition(typ="termin", optionen={"di": "2030-03-05 18:00", "mi": "2030-03-06"})
    html = fragment(spaces, results.compute(dates, [{"slots": {"mi": "ja"}}], closed=True))
    assert "Bester Termin:</strong>" in html and "poll-legend" in html
    stv = definition(
        typ="rangfolge", methode="stv", sitze=2, optionen={"a": "A", "b": "B", "c": "C"}
    )
    answers = [{"ranking": ["a", "b"]}] * 6 + [{"ranking": ["b"]}] * 2 + [{"ranking": ["c"]}]
    html = fragment(spaces, results.compute(stv, answers, closed=True))
    assert "Gewählt (2 Sitze):</strong>" in html and "Quote (Droop): 4 von 9" in html
    assert "1,99998" in html  # a's surplus to b, in the reader's locale
    scores = definition(typ="punkte")
    html = fragment(spaces, results.compute(scores, [{"scores": {"a": 4, "b": 1}}], closed=True))
    assert "Ø 4 · Summe 4" in html


@pytest.mark.parametrize("locale", ["de", "en"])
def test_fragment_renders_every_type_in_every_language(spaces, locale):
    """Each type's fragment renders in both languages (a stray ``%`` in a message once broke
    the multiple-choice results)."""
    yes_no, problems = parse("poll", {"id": "jn", "frage": "Einverstanden?", "typ": "ja-nein"})
    assert not problems
    cases = [
        (yes_no, [{"choice": "ja"}, {"choice": "enthaltung"}]),
        (definition(typ="mehrfach", max=2), [{"choices": ["a", "b"]}, {"choices": ["a"]}]),
        (definition(), [{"choice": "b"}]),
        (
            definition(typ="rangfolge", methode="irv", optionen={"a": "A", "b": "B", "c": "C"}),
            [{"ranking": ["a", "b"]}, {"ranking": ["b", "a"]}, {"ranking": ["c", "b"]}],
        ),
    ]
    for poll, answers in cases:
        with spaces.app.test_request_context("/", headers={"Accept-Language": locale}):
            html = render_template(
                "polls/_results.html", results=results.compute(poll, answers, closed=True)
            )
        assert 'class="poll-results"' in html, poll.type
        if poll.type == "mehrfach":  # the note on shares over 100 percent, translated
            assert ("100 Prozent" in html) == (locale == "de")
            assert ("100 percent" in html) == (locale == "en")


# ---------------------------------------------------------------- exports over HTTP

BLOCKS = """
```poll
id: named
frage: Wohin fahren wir?
typ: einfach
optionen:
  a: "=SUMME(A1:A9)"
  b: "@Berlin"
wer: alle
ergebnis: immer
```

```poll
id: hidden
frage: Verborgene Namen?
typ: mehrfach
optionen: {a: Alpha, b: Beta}
wer: angemeldet
geheim: verborgen
ergebnis: immer
```

```poll
id: secret-rank
frage: Geheime Wahl
typ: rangfolge
optionen: {anna: Anna, bert: Bert, cem: Cem}
wer: angemeldet
geheim: ja
ergebnis: immer
```

```poll
id: later
frage: Erst nach Schluss
typ: ja-nein
wer: angemeldet
ergebnis: nach-schluss
```
"""

INTERNAL = """
```poll
id: inside
frage: Nur für Mitglieder
typ: rangfolge
optionen: {x: X, y: Y}
wer: mitglieder
ergebnis: immer
```
"""


@pytest.fixture(scope="module")
def polls(spaces):
    spaces.commit(
        {
            f"{PUBLIC}.md": page_text("Umfragen", "Hier wird abgestimmt.\n" + BLOCKS, "public"),
            f"{MEMBERS}.md": page_text("Interna", "Intern.\n" + INTERNAL),
        },
        "Umfragen",
    )
    return spaces


def add_votes(spaces, poll_id, answers, users=(), secret=False):
    """Counted answers straight into the tables (as the vote route stores them)."""
    with spaces.state.sessions() as session:
        for n, answer in enumerate(answers):
            text = json.dumps(answer)
            if secret:
                session.add(SecretBallot(id=str(uuid.uuid4()), poll_id=poll_id, answer=text))
                session.add(Voter(poll_id=poll_id, voter=f"t{uuid.uuid4().int % 10**9}"))
            else:
                user = spaces.user_id(users[n]) if n < len(users) else None
                session.add(Vote(poll_id=poll_id, user_id=user, answer=text))
        access.bump_version(session, poll_id)
        session.commit()


def get(spaces, role, url):
    return spaces.login(role).get(url)


def csv_rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return [line.split(";") for line in text[1:].split("\r\n") if line]


def test_csv_follows_the_german_spreadsheet_conventions(polls):
    add_votes(polls, "named", [{"choice": "a"}] * 2 + [{"choice": "b"}], users=("member_a",))
    response = get(polls, "user", "/-/polls/named/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    rows = csv_rows(response)
    assert rows[0] == ["Option", "Schlüssel", "Stimmen", "Anteil (%)"]
    assert rows[1] == ["'=SUMME(A1:A9)", "a", "2", "66,67"]  # formula neutralised, comma
    assert rows[2] == ["'@Berlin", "b", "1", "33,33"]
    assert rows[3][:3] == ["Stimmzettel gesamt", "", "3"]
    # no names for someone who is not an organiser
    assert "Mia Mitglied A" not in response.get_data(as_text=True)


def test_organisers_of_named_polls_get_one_row_per_ballot(polls):
    add_votes(polls, "named", [{"choice": "b"}], users=("member_b",))
    rows = csv_rows(get(polls, "board_a", "/-/polls/named/export.csv"))
    start = rows.index(["Name", "Antwort"])
    ballots = rows[start + 1 :]
    assert ["Max Mitglied B", "'@Berlin"] in ballots and [
        "Mia Mitglied A",
        "'=SUMME(A1:A9)",
    ] in ballots
    assert sum(1 for r in ballots if r[0] == "Stimmzettel") == 2  # votes without an account
    data = json.loads(get(polls, "board_a", "/-/polls/named/export.json").get_data(as_text=True))
    assert {b["name"] for b in data["votes"]} == {
        "Max Mitglied B",
        "Mia Mitglied A",
        "Stimmzettel",
    }
    assert data["counts"][1] == {"key": "b", "votes": 2, "percent": 50.0}
    plain = json.loads(get(polls, "user", "/-/polls/named/export.json").get_data(as_text=True))
    assert "votes" not in plain and plain["ballots"] == 4


def test_hidden_names_are_never_exported(polls):
    add_votes(polls, "hidden", [{"choices": ["a", "b"]}, {"choices": ["b"]}], ("member_a", "user"))
    for role in ("board_a", "member_a", "user"):
        text = get(polls, role, "/-/polls/hidden/export.csv").get_data(as_text=True)
        assert "Mia Mitglied A" not in text and "Alice Mitglied" not in text
        assert "Name;" not in text
        assert "Beta;b;2;100" in text
        data = get(polls, role, "/-/polls/hidden/export.json").get_json(force=True)
        assert "votes" not in data and data["counts"][0]["votes"] == 1


def test_secret_ranked_poll_withheld_then_blt_for_a_recount(polls):
    rankings = [["anna", "bert"], ["cem"], ["bert", "anna", "cem"]]
    add_votes(polls, "secret-rank", [{"ranking": r} for r in rankings], secret=True)
    text = get(polls, "board_a", "/-/polls/secret-rank/export.csv").get_data(as_text=True)
    assert "Stimmzettel gesamt;;3" in text and "Anna" not in text and "ab 5 Stimmen" in text
    data = get(polls, "board_a", "/-/polls/secret-rank/export.json").get_json(force=True)
    assert data["withheld"] and "winners" not in data and "pairwise" not in data
    response = get(polls, "board_a", "/-/polls/secret-rank/export.blt")
    assert response.status_code == 403 and "ab 5 Stimmen" in response.get_data(as_text=True)
    more = [["cem", "anna"], ["anna", "bert"]]
    add_votes(polls, "secret-rank", [{"ranking": r} for r in more], secret=True)
    response = get(polls, "user", "/-/polls/secret-rank/export.blt")
    assert response.status_code == 200
    blt = response.get_data(as_text=True)
    names, seats, parsed, title = tally.parse_blt(blt)
    assert names == ["Anna", "Bert", "Cem"] and seats == 1 and title == "Geheime Wahl"
    back = {"Anna": "anna", "Bert": "bert", "Cem": "cem"}
    expected = tally.rankings(["anna", "bert", "cem"], [{"ranking": r} for r in rankings + more])
    assert {tuple(back[n] for n in r): w for r, w in parsed.items()} == dict(expected)
    lines = blt.splitlines()[1:6]
    assert lines == sorted(lines, key=lambda line: [int(p) for p in line.split()])
    data = get(polls, "user", "/-/polls/secret-rank/export.json").get_json(force=True)
    assert data["winners"] == ["anna"] and data["pairwise"]["anna"]["bert"] == 3
    assert "votes" not in data  # never per ballot for secret polls


def test_blt_only_for_ranked_polls(polls):
    assert get(polls, "admin", "/-/polls/named/export.blt").status_code == 404
    assert get(polls, "admin", "/-/polls/gibt-es-nicht/export.blt").status_code == 404


def test_unreadable_poll_is_404_and_hidden_results_403(polls):
    add_votes(polls, "inside", [{"ranking": ["y", "x"]}], users=("member_a",))
    for role in ("anon", "user", "member_b"):
        for suffix in ("csv", "json", "blt"):
            response = get(polls, role, f"/-/polls/inside/export.{suffix}")
            assert response.status_code == 404, (role, suffix)
    assert get(polls, "member_a", "/-/polls/inside/export.blt").status_code == 200
    add_votes(polls, "later", [{"choice": "ja"}], users=("user",))
    for role in ("user", "board_a", "admin"):
        assert get(polls, role, "/-/polls/later/export.csv").status_code == 403
    with polls.state.sessions() as session:
        from plugins.polls.models import PollState

        assert not session.get(PollState, "later").results_shown
    with polls.app.test_request_context("/"):
        from wiki.api import get_db

        view = access.load("later")
        access.close(get_db(), view)
        get_db().commit()
    rows = csv_rows(get(polls, "user", "/-/polls/later/export.csv"))
    assert rows[1] == ["Ja", "ja", "1", "100"]
    with polls.state.sessions() as session:
        from plugins.polls.models import PollState

        assert session.get(PollState, "later").results_shown  # no reopening after an export


def test_for_poll_is_cached_per_version_and_counts_ten_thousand_ballots(polls):
    from plugins.polls.models import PollDef
    from wiki.api import content, get_db

    def current():
        with polls.app.test_request_context("/"):
            session = get_db()
            row = session.get(PollDef, "inside")  # a members' page: no reader in this request
            view = access.view_of(session, row, content().ref(session, row.path))
            return results.for_poll(session, view)

    first = current()
    assert current() is first  # a cache hit
    rng = random.Random(5)
    answers = []
    for _ in range(10_000):
        order = ["x", "y"]
        rng.shuffle(order)
        answers.append({"ranking": order[: rng.randint(1, 2)]})
    add_votes(polls, "inside", answers)
    fresh = current()
    assert fresh is not first and fresh.total == first.total + 10_000
    x_first = sum(1 for a in answers if a["ranking"][0] == "x")
    assert fresh.schulze.d["x"]["y"] == first.schulze.d["x"]["y"] + x_first
    assert fresh.schulze.d["y"]["x"] == first.schulze.d["y"]["x"] + 10_000 - x_first
    assert current() is fresh
    cache = polls.state.extra["polls_results_cache"]
    assert len(cache) <= results.CACHE_SIZE
    with polls.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) >= 10_000
    # a new label (keys stay) changes the definition's digest: counted again, new label
    polls.commit({f"{MEMBERS}.md": page_text("Interna", INTERNAL.replace("x: X", "x: Ix"))})
    relabelled = current()
    assert relabelled is not fresh and relabelled.label("x") == "Ix"
    assert relabelled.schulze.d == fresh.schulze.d


def test_results_cache_is_thread_safe():
    import threading

    store = results.ResultsCache(size=16)
    errors = []

    def work(n):
        try:
            for i in range(2000):
                store.put((n, i % 40), i)
                store.get((n, (i * 7) % 40))
        except Exception as exc:  # pragma: no cover - the failure case
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(store) == 16


def test_results_cache_is_bounded():
    store = results.ResultsCache(size=3)
    for n in range(5):
        store.put(n, str(n))
    assert len(store) == 3 and store.get(0) is None and store.get(4) == "4"
    store.get(2)
    store.put(5, "5")
    assert store.get(2) == "2" and store.get(3) is None

"""Secret ballots (``geheim: ja``): after a secret poll, a full dump of the SQLite database
shows no column, row or order that links a ballot to a person, a token or the order of votes."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3

import pytest
from conftest import Spaces, make_polls_app, page_text, poll_block, save
from sqlalchemy import select

from plugins.polls import tokens
from plugins.polls.models import PollToken, SecretBallot, Vote, Voter
from wiki.db import User

PAGE = "lv/kv-a/wahl"
OPTIONS = "{a: Anna, b: Ben, c: Cem, d: Dana}"
VOTERS = 8
UUID4_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def app(tmp_path):
    app = make_polls_app(tmp_path, calendar=False)
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def dump(app) -> list[str]:
    """Every SQL statement of a full dump of the instance's database file."""
    path = app.extensions["wiki"].engine.url.database
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def inserts(lines: list[str], table: str) -> list[str]:
    return [line for line in lines if line.startswith(f'INSERT INTO "{table}"')]


def test_database_dump_links_no_ballot_to_a_voter_or_to_the_order(app):
    spaces = Spaces(app)
    board = spaces.login("board_a")
    block = poll_block("wahl", typ="rangfolge", optionen=OPTIONS, wer="mitglieder", geheim="ja")
    assert save(board, PAGE, page_text("Wahl", block)).status_code == 302
    page = board.get("/-/polls/wahl").get_data(as_text=True)
    assert "Wer den Server betreibt, könnte Stimmen grundsätzlich" in page
    # Voters with distinct ballots (each a different ranking), voting in a known order that is
    # neither the order of their account ids nor of their handles.
    handles = [f"wähler{n}".replace("ä", "ae") for n in range(VOTERS)]
    ids = [spaces.create_user(h, f"Person {n}", "lv/kv-a") for n, h in enumerate(handles)]
    rankings = list(itertools.permutations("abcd"))[:: 24 // VOTERS][:VOTERS]
    order = [5, 2, 7, 0, 3, 6, 1, 4]
    with app.app_context(), spaces.state.sessions() as session:
        (slip,) = tokens.issue(session, "wahl", 1)
        session.commit()
    voted = []
    for n in order:
        client = spaces.login(handles[n])
        data = {f"rank-{key}": str(rank + 1) for rank, key in enumerate(rankings[n])}
        response = client.form("/-/polls/wahl/vote", data)
        assert response.status_code == 302, response.get_data(as_text=True)[:800]
        voted.append(json.dumps({"ranking": list(rankings[n])}, separators=(",", ":")))
        if n == 0:
            # A second vote, or a change of vote, is refused: a secret ballot cannot be changed.
            again = client.form("/-/polls/wahl/vote", {"rank-a": "1"})
            assert again.status_code == 409
            assert "bereits abgestimmt" in again.get_data(as_text=True)
    # A slip votes too (as the ninth ballot); its token row stays, linked to nothing.
    response = spaces.login("anon").form(
        "/-/polls/wahl/vote", {"rank-d": "1", "token": slip}
    )  # the page is members-only: an outsider holding a slip cannot even see the poll
    assert response.status_code == 404
    assert (
        spaces.login("member_a")
        .form("/-/polls/wahl/vote", {"rank-d": "1", "rank-c": "2", "token": slip})
        .status_code
        == 302
    )
    voted.append(json.dumps({"ranking": ["d", "c"]}, separators=(",", ":")))

    lines = dump(app)
    create = next(
        line for line in lines if re.match(r'CREATE TABLE "?polls_secret_ballots\b', line)
    )
    columns = set(re.findall(r"^\s*([a-z_]+) [A-Z]", create.split("(", 1)[1], re.M))
    assert columns == {"id", "poll_id", "answer"}, create
    assert "WITHOUT ROWID" in create  # no hidden sequential rowid either
    ballots = inserts(lines, "polls_secret_ballots")
    assert len(ballots) == VOTERS + 1
    pattern = re.compile(r"INSERT INTO \"polls_secret_ballots\" VALUES\('([^']*)','wahl','(.*)'\);")
    rows = [pattern.fullmatch(line) for line in ballots]
    assert all(rows), ballots
    keys = [row[1] for row in rows]
    answers = [row[2] for row in rows]
    assert all(UUID4_RE.fullmatch(key) for key in keys)
    assert sorted(answers) == sorted(voted)
    # The dump follows the random keys, and so not the order of the votes.
    assert keys == sorted(keys)
    assert answers != voted
    # No ballot row carries a user id, a public id, a handle, a token id or a time.
    with spaces.state.sessions() as session:
        people = session.execute(select(User.id, User.public_id, User.handle)).all()
        token_ids = session.scalars(select(PollToken.id)).all()
    for line, key in zip(ballots, keys, strict=True):
        # (the random key was checked above; a handle like "bea" may occur in its hex digits)
        ballot = line.split("VALUES", 1)[1].replace(key, "")
        for _user_id, public_id, handle in people:
            assert public_id not in ballot and handle not in ballot
        assert not re.search(r"\d{4}-\d{2}-\d{2}", ballot)
        assert not re.search(r"'(?:u|t)\d+'", ballot)
    assert token_ids and all(f"'t{t}'" not in "".join(ballots) for t in token_ids)
    # The roll says who voted, in the order of its keys, and nothing about what or when.
    roll = inserts(lines, "polls_voters")
    # (a slip stands in for its holder: the roll knows the slip, not the person)
    expected_roll = sorted([f"u{ids[n]}" for n in range(VOTERS)] + [f"t{token_ids[0]}"])
    assert [re.search(r"'(u\d+|t\d+)'", line)[1] for line in roll] == expected_roll
    assert [re.search(r"'(u\d+|t\d+)'", line)[1] for line in roll] != [f"u{ids[n]}" for n in order]
    # Nothing else in the database holds a ballot's answer.
    elsewhere = [line for line in lines if any(a in line for a in voted) and line not in ballots]
    assert elsewhere == []
    with spaces.state.sessions() as session:
        assert session.scalars(select(Vote)).all() == []
        assert len(session.scalars(select(Voter)).all()) == VOTERS + 1
        assert len(session.scalars(select(SecretBallot)).all()) == VOTERS + 1


def test_own_data_holds_only_that_one_voted(app):
    spaces = Spaces(app)
    board = spaces.login("board_a")
    block = poll_block("wahl", wer="mitglieder", geheim="ja")
    assert save(board, PAGE, page_text("Wahl", block)).status_code == 302
    assert spaces.login("member_a").form("/-/polls/wahl/vote", {"choice": "sa"}).status_code == 302
    state = spaces.state
    with state.sessions() as session:
        answers = state.pm.hook.wiki_user_data(user_id=spaces.user_id("member_a"), session=session)
    (data,) = [a["polls"] for a in answers if a and "polls" in a]
    assert data["voted_in"] == ["wahl"] and data["votes"] == []
    assert '"sa"' not in json.dumps(data)

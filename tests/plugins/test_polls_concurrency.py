"""Polls under concurrency: 40 parallel attempts of one person, and 40 replays of one token,
spread over 4 worker processes (threads inside each) on the same instance folder and SQLite
file, count exactly one vote each. The database constraints decide, not a check before."""

from __future__ import annotations

import json
import multiprocessing
import queue
import time

import pytest
from conftest import PASSWORD, Spaces, make_polls_app, page_text, poll_block, save
from polls_worker import PER_WORKER, vote_worker
from sqlalchemy import func, select

from plugins.polls import tokens
from plugins.polls.models import PollState, PollToken, SecretBallot, Vote, Voter

pytestmark = pytest.mark.slow

SPAWN = multiprocessing.get_context("spawn")
WORKERS = 4
JOIN_TIMEOUT = 180


def collect(procs, out) -> list:
    results = []
    deadline = time.monotonic() + JOIN_TIMEOUT
    while len(results) < len(procs) and time.monotonic() < deadline:
        try:
            results.append(out.get(timeout=0.2))
        except queue.Empty:
            if not any(p.is_alive() for p in procs) and out.empty():
                break
    for p in procs:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
    assert [p.exitcode for p in procs] == [0] * len(procs)
    assert len(results) == len(procs)
    return [code for codes in results for code in codes]


def test_parallel_double_votes_and_token_replays_count_once(tmp_path):
    app = make_polls_app(tmp_path, calendar=False)
    spaces = Spaces(app)
    state = app.extensions["wiki"]
    board = spaces.login("board_a")
    body = (
        poll_block("geheim", wer="mitglieder", geheim="ja")
        + "\n"
        + poll_block("offen", wer="token")
    )
    assert (
        save(board, "lv/kv-a/oeffentlich", page_text("Abstimmung", body, "public")).status_code
        == 302
    )
    with app.app_context(), state.sessions() as session:
        (token,) = tokens.issue(session, "offen", 1)
        session.commit()
    config = {
        key: app.config[key]
        for key in (
            "TESTING", "SECRET_KEY", "WIKI_INSTANCE", "WIKI_PASSWORD_METHOD", "WIKI_MAIL_WORKER",
            "WIKI_BASE_URL", "WIKI_PLUGINS", "SPACES_DIRECTORY_REQUIRES_2FA",
        )
    }  # fmt: skip
    config["WTF_CSRF_ENABLED"] = False  # the constraints are under test here, not CSRF
    state.search.wait_idle()
    start, out = SPAWN.Barrier(WORKERS), SPAWN.Queue()
    procs = [
        SPAWN.Process(target=vote_worker, args=(config, PASSWORD, token, start, out))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    codes = collect(procs, out)

    for poll_id in ("geheim", "offen"):
        statuses = sorted(code for pid, code in codes if pid == poll_id)
        assert len(statuses) == WORKERS * PER_WORKER
        assert statuses == [302] + [409] * (WORKERS * PER_WORKER - 1), poll_id
    with state.sessions() as session:
        ballots = session.scalars(select(SecretBallot.answer)).all()
        assert [json.loads(a) for a in ballots] == [{"choice": "fr"}]
        assert session.scalars(select(Voter.voter).where(Voter.poll_id == "geheim")).all() == [
            f"u{spaces.user_id('member_a')}"
        ]
        votes = session.scalars(select(Vote)).all()
        assert [(v.poll_id, json.loads(v.answer)) for v in votes] == [("offen", {"choice": "sa"})]
        assert session.scalar(select(func.count()).where(PollToken.used.is_(True))) == 1
        # Exactly one counted change per poll: the cached tallies' key moved once.
        assert session.get(PollState, "geheim").version == 1
        assert session.get(PollState, "offen").version == 1
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()

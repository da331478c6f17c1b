"""The demo polls: every block valid and projected, in the demo chapters, with votes on every
path (accounts, slips, a secret ballot) so that results show; added once only."""

from __future__ import annotations

import pytest
from conftest import make_test_app
from sqlalchemy import func, select

from plugins.polls.demo import VOTES, add_demo
from plugins.polls.models import PollDef, PollToken, SecretBallot, Vote, Voter


@pytest.fixture
def demo_app(tmp_path):
    app = make_test_app(
        tmp_path, WIKI_PLUGINS=["plugins.spaces", "plugins.polls"], WIKI_MAIL_WORKER=False
    )
    state = app.extensions["wiki"]
    lines: list[str] = []
    with app.app_context():
        from plugins.spaces.demo import create

        create(state, lines.append)
        add_demo(state, lines.append)
    app.demo_lines = lines
    yield app
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def count(session, table, *where) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*where))


def test_the_demo_polls_are_valid_and_have_votes(demo_app):
    state = demo_app.extensions["wiki"]
    with state.sessions() as session:
        rows = {row.id: row for row in session.scalars(select(PollDef))}
        assert set(rows) == set(VOTES) | {"demo-rueckmeldung"}
        assert rows["demo-rueckmeldung"].kind == "form"
        assert rows["demo-sommerfest-draussen"].path == "thueringen/umfragen"
        assert rows["demo-sprecherinnen-wahl"].space == "thueringen/erfurt"
        assert rows["demo-sprecherinnen-wahl"].visibility == "members"
        # accounts and slips: every demo vote counted
        for poll_id in ("demo-sommerfest-draussen", "demo-sommerfest-termin"):
            assert count(session, Vote, Vote.poll_id == poll_id) == len(VOTES[poll_id])
        assert count(session, Vote, Vote.poll_id == "demo-sprecherinnen-wahl") == 7
        # the secret ballot: detached ballots only, slips partly used
        assert count(session, Vote, Vote.poll_id == "demo-antrag-a1") == 0
        assert count(session, SecretBallot, SecretBallot.poll_id == "demo-antrag-a1") == 7
        assert count(session, Voter, Voter.poll_id == "demo-antrag-a1") == 7
        assert count(session, PollToken, PollToken.poll_id == "demo-antrag-a1") == 12
    assert any("Demo-Umfragen" in line for line in demo_app.demo_lines)
    # results show on the public page, to visitors too
    html = demo_app.test_client().get("/-/polls/demo-sommerfest-draussen").get_data(as_text=True)
    assert 'class="poll-chart"' in html
    # the members' election stays hidden from visitors
    assert demo_app.test_client().get("/-/polls/demo-sprecherinnen-wahl").status_code == 404


def test_the_demo_is_added_once(demo_app):
    state = demo_app.extensions["wiki"]
    head = state.store.head()
    with demo_app.app_context():
        add_demo(state, lambda line: None)
    assert state.store.head() == head
    with state.sessions() as session:
        assert count(session, Vote, Vote.poll_id == "demo-sommerfest-draussen") == 9

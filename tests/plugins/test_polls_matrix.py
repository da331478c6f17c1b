"""The permission matrix of the polls plugin: every route of its five blueprints × role.

The app has the spaces and polls plugins and the space tree of ``conftest.py`` with poll blocks
on a public page of ``lv/kv-a`` (``oeffentlich``, a date poll ``termin-a``, a slip-only poll
``zettel-a``), on its members-only page (``intern-a`` and the form ``umfrage-a``) and on its
board page (``vorstand-a``, and ``schluss-a`` that only the close/reopen cases touch). Roles as
in ``test_spaces_matrix.py``.

Each entry of ``CASES`` is (endpoint, request, expected status per role in ``ROLES`` order[,
form data]). The request is a path (GET) or ``"METHOD path"``; a POST is sent as a browser form
would (with a valid CSRF token) and with the form data, if given. POST cases use input that is
refused (or changes nothing that later cases see), so one app serves the whole matrix: the
answer of a role that may act is then the refusal (400), of others 403 or 404. Every endpoint of
the blueprints ``polls``, ``polls_exports``, ``polls_forms``, ``polls_print`` and ``polls_api``
needs at least one case: ``test_every_polls_route_is_in_the_matrix`` fails until it is here.
"""

from __future__ import annotations

import pytest
from conftest import PAGES, Spaces, make_spaces_app, page_text
from matrix_support import (
    cases_of,
    csrf_problems,
    matrix_problems,
    misrouted,
    missing_routes,
    page_problems,
    stale_endpoints,
)
from sqlalchemy import func, select
from test_spaces_matrix import (
    BOARD_A,
    EDIT_BOARD_A,
    EDIT_MEMBERS_A,
    EDIT_PUBLIC_IN_A,
    EVERYONE,
    MEMBERS_A,
    NO_GET,
    NOBODY,
    ROLES,
)

from wiki.db import MailMessage

BLUEPRINTS = ("polls", "polls_exports", "polls_forms", "polls_print", "polls_api")
PUBLIC_IN_A = "lv/kv-a/oeffentlich"
MEMBERS_PAGE = "lv/kv-a/protokoll"
BOARD_PAGE = "lv/kv-a/vorstand"

#: Organisers (editors of the page, board of its space, admins) act; the refusal of bad input
#: is their answer (400). Others: login first, 404 if the page is hidden, else 403.
REFUSED_PUBLIC_IN_A = (302, 403, 400, 400, 403, 403, 400)
REFUSED_MEMBERS_A = (302, 404, 400, 400, 404, 404, 400)
REFUSED_BOARD_A = (302, 404, 404, 400, 404, 404, 400)
LOGIN_OR_MISSING = (302, 404, 404, 404, 404, 404, 404)
#: Bad input refused (400) for those who may read the page (no login needed first).
REFUSED_READ_A = (404, 404, 400, 400, 404, 404, 400)
REFUSED_READ_BOARD_A = (404, 404, 404, 400, 404, 404, 400)

BLOCKS = {
    PUBLIC_IN_A: """
```poll
id: oeffentlich
titel: Öffentliche Frage
frage: Soll das Sommerfest draußen stattfinden?
typ: ja-nein
wer: alle
ergebnis: immer
```

```poll
id: termin-a
titel: Wann treffen wir uns?
typ: termin
optionen:
  di: 2030-03-05 18:00 - 20:00
  mi: 2030-03-06 18:00 - 20:00
wer: angemeldet
ergebnis: immer
```

```poll
id: zettel-a
titel: Wahl auf der Versammlung
typ: einfach
optionen:
  anna: Anna
  bert: Bert
wer: token
ergebnis: nach-schluss
```
""",
    MEMBERS_PAGE: """
```poll
id: intern-a
titel: Interne Frage
typ: einfach
optionen:
  ja: Dafür
  nein: Dagegen
wer: mitglieder
ergebnis: nach-abgabe
```

```form
id: umfrage-a
titel: Mitgliederbefragung A
wer: mitglieder
fragen:
  - key: wunsch
    frage: Was wünschst du dir?
    typ: text
```
""",
    BOARD_PAGE: """
```poll
id: vorstand-a
titel: Vorstandsbeschluss
typ: ja-nein
wer: vorstand
ergebnis: immer
```

```poll
id: schluss-a
titel: Nur zum Schließen und Öffnen
typ: ja-nein
wer: vorstand
```
""",
}

CASES = [
    # -- CORE: list, poll page, slip landing page, voting, closing
    ("polls.index", "/-/polls", EVERYONE),
    ("polls.index", "/-/polls/?page=2", EVERYONE),
    ("polls.poll", "/-/polls/oeffentlich", EVERYONE),
    ("polls.poll", "/-/polls/zettel-a", EVERYONE),
    ("polls.poll", "/-/polls/termin-a", EVERYONE),
    ("polls.poll", "/-/polls/intern-a", MEMBERS_A),
    ("polls.poll", "/-/polls/vorstand-a", BOARD_A),
    ("polls.poll", "/-/polls/gibt-es-nicht", NOBODY),
    ("polls.token", "/-/polls/zettel-a/token", EVERYONE),
    ("polls.token", "/-/polls/intern-a/token", MEMBERS_A),
    ("polls.token", "/-/polls/gibt-es-nicht/token", NOBODY),
    ("polls.static", "/-/polls/static/print.css", EVERYONE),
    # a vote with an answer the poll does not offer: refused (400) for those who may read
    ("polls.vote", "POST /-/polls/oeffentlich/vote", (400,) * 7, {"choice": "vielleicht"}),
    ("polls.vote", "POST /-/polls/intern-a/vote", REFUSED_READ_A, {"choice": "vielleicht"}),
    ("polls.vote", "POST /-/polls/vorstand-a/vote", REFUSED_READ_BOARD_A, {"choice": "x"}),
    ("polls.vote", "POST /-/polls/gibt-es-nicht/vote", NOBODY, {"choice": "ja"}),
    ("polls.vote", "/-/polls/oeffentlich/vote", NO_GET),
    # close a board poll and reopen it (no other case touches it: no result was ever shown)
    ("polls.close", "POST /-/polls/schluss-a/close", (404, 404, 404, 302, 404, 404, 302)),
    ("polls.reopen", "POST /-/polls/schluss-a/reopen", (404, 404, 404, 302, 404, 404, 302)),
    ("polls.reopen", "POST /-/polls/intern-a/reopen", (404, 404, 409, 409, 404, 404, 409)),
    # -- PRINT: projector QR code (readers of the page)
    ("polls_print.qr", "/-/polls/oeffentlich/qr", EVERYONE),
    ("polls_print.qr", "/-/polls/intern-a/qr", MEMBERS_A),
    ("polls_print.qr", "/-/polls/umfrage-a/qr", MEMBERS_A),
    ("polls_print.qr", "/-/polls/vorstand-a/qr", BOARD_A),
    ("polls_print.qr", "/-/polls/gibt-es-nicht/qr", NOBODY),
    # -- PRINT: slips (organisers: editors of the page, board of the space)
    ("polls_print.slips", "/-/polls/oeffentlich/slips", EDIT_PUBLIC_IN_A),
    ("polls_print.slips", "/-/polls/intern-a/slips", EDIT_MEMBERS_A),
    ("polls_print.slips", "/-/polls/vorstand-a/slips", EDIT_BOARD_A),
    ("polls_print.slips", "/-/polls/gibt-es-nicht/slips", LOGIN_OR_MISSING),
    ("polls_print.slips", "POST /-/polls/zettel-a/slips", REFUSED_PUBLIC_IN_A, {"anzahl": "0"}),
    ("polls_print.slips", "POST /-/polls/intern-a/slips", REFUSED_MEMBERS_A, {"anzahl": "501"}),
    ("polls_print.slips", "POST /-/polls/vorstand-a/slips", REFUSED_BOARD_A, {"anzahl": "x"}),
    # -- PRINT: personal codes (only for wer: token / mitglieder; here refused for wer: alle)
    ("polls_print.member_tokens", "/-/polls/zettel-a/member-tokens", NO_GET),
    ("polls_print.member_tokens", "POST /-/polls/oeffentlich/member-tokens", REFUSED_PUBLIC_IN_A),
    ("polls_print.member_tokens", "POST /-/polls/vorstand-a/member-tokens", REFUSED_BOARD_A),
    ("polls_print.member_tokens", "POST /-/polls/gibt-es-nicht/member-tokens", LOGIN_OR_MISSING),
    # -- PRINT: date poll → calendar event: no calendar plugin here, so 404 for everyone
    ("polls_print.event", "POST /-/polls/termin-a/event", NOBODY, {"termin": "di"}),
    ("polls_print.event", "/-/polls/termin-a/event", NO_GET),
    # -- API (JSON; the same permissions as the pages)
    ("polls_api.list_polls", "/-/api/v1/polls", EVERYONE),
    ("polls_api.list_polls", "/-/api/v1/polls?per_page=0", (400,) * 7),
    ("polls_api.get_poll", "/-/api/v1/polls/oeffentlich", EVERYONE),
    ("polls_api.get_poll", "/-/api/v1/polls/zettel-a", EVERYONE),
    ("polls_api.get_poll", "/-/api/v1/polls/intern-a", MEMBERS_A),
    ("polls_api.get_poll", "/-/api/v1/polls/umfrage-a", MEMBERS_A),
    ("polls_api.get_poll", "/-/api/v1/polls/vorstand-a", BOARD_A),
    ("polls_api.get_poll", "/-/api/v1/polls/gibt-es-nicht", NOBODY),
    # -- TALLY: exports (readers who may see results; 403 while hidden, 404 if unreadable)
    ("polls_exports.export_csv", "/-/polls/oeffentlich/export.csv", EVERYONE),
    ("polls_exports.export_csv", "/-/polls/zettel-a/export.csv", (403,) * 7),
    ("polls_exports.export_csv", "/-/polls/intern-a/export.csv", MEMBERS_A),
    ("polls_exports.export_csv", "/-/polls/vorstand-a/export.csv", BOARD_A),
    ("polls_exports.export_csv", "/-/polls/umfrage-a/export.csv", NOBODY),
    ("polls_exports.export_csv", "/-/polls/gibt-es-nicht/export.csv", NOBODY),
    ("polls_exports.export_json", "/-/polls/termin-a/export.json", EVERYONE),
    ("polls_exports.export_json", "/-/polls/zettel-a/export.json", (403,) * 7),
    ("polls_exports.export_json", "/-/polls/intern-a/export.json", MEMBERS_A),
    ("polls_exports.export_json", "/-/polls/gibt-es-nicht/export.json", NOBODY),
    ("polls_exports.export_blt", "/-/polls/oeffentlich/export.blt", NOBODY),  # not ranked
    ("polls_exports.export_blt", "/-/polls/intern-a/export.blt", NOBODY),
    ("polls_exports.export_blt", "/-/polls/gibt-es-nicht/export.blt", NOBODY),
    # -- FORMS: answering (eligible readers: the refusal of a too long answer, 400; admins are
    #    no members of lv/kv-a, 403), the organisers' summary and CSV
    (
        "polls_forms.submit",
        "POST /-/polls/umfrage-a/submit",
        (404, 404, 400, 400, 404, 404, 403),
        {"q-wunsch": "x" * 501},
    ),
    ("polls_forms.submit", "POST /-/polls/gibt-es-nicht/submit", NOBODY, {"q-wunsch": "x"}),
    ("polls_forms.submit", "POST /-/polls/intern-a/submit", (404, 404, 404, 404, 404, 404, 404)),
    ("polls_forms.submit", "/-/polls/umfrage-a/submit", NO_GET),
    ("polls_forms.answers", "/-/polls/umfrage-a/answers", EDIT_MEMBERS_A),
    ("polls_forms.answers", "/-/polls/intern-a/answers", LOGIN_OR_MISSING),
    ("polls_forms.answers", "/-/polls/gibt-es-nicht/answers", LOGIN_OR_MISSING),
    ("polls_forms.answers_csv", "/-/polls/umfrage-a/answers.csv", EDIT_MEMBERS_A),
    ("polls_forms.answers_csv", "/-/polls/vorstand-a/answers.csv", LOGIN_OR_MISSING),
]


@pytest.fixture(scope="module")
def spaces(tmp_path_factory):
    """One app for the module (the cases change nothing that other cases see)."""
    app = make_spaces_app(
        tmp_path_factory.mktemp("polls-matrix"),
        WIKI_PLUGINS=["plugins.spaces", "plugins.polls"],
    )
    helper = Spaces(app)
    files = {}
    for path, blocks in BLOCKS.items():
        visibility, title, body = PAGES[path]
        files[f"{path}.md"] = page_text(title, body + "\n" + blocks, visibility)
    helper.commit(files, "Umfragen")
    with helper.state.sessions() as session:
        from plugins.polls.models import PollDef

        assert session.scalar(select(func.count()).select_from(PollDef)) == 7
    yield helper
    state = helper.state
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture(scope="module")
def clients(spaces):
    """A logged-in client per role."""
    return {role: spaces.login(role) for role in ROLES}


def polls_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in BLUEPRINTS]


MATRIX = cases_of(CASES)


def test_every_polls_route_is_in_the_matrix(spaces):
    missing = missing_routes(polls_rules(spaces.app), MATRIX)
    assert not missing, (
        f"{len(missing)} polls route(s) missing from the permission matrix; add a case with "
        "the expected status per role to CASES in tests/plugins/test_polls_matrix.py:\n"
        + "\n".join(missing)
    )


def test_the_matrix_names_only_existing_routes(spaces):
    stale = stale_endpoints(spaces.app, MATRIX)
    assert not stale, f"CASES name endpoints that no longer exist: {stale}"


def test_each_case_reaches_its_endpoint(spaces):
    """A case must test the route it is filed under (not another one matching the URL)."""
    wrong = misrouted(spaces.app, MATRIX)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(spaces, clients, role):
    before = spaces.head()
    problems = matrix_problems(clients[role], MATRIX, ROLES.index(role))
    assert not problems, f"{role}:\n" + "\n".join(problems)
    assert spaces.head() == before


@pytest.mark.parametrize("role", ["board_a", "admin"])
def test_pages_have_csrf_tokens_and_no_inline_code(spaces, clients, role):
    """Every POST form carries a CSRF token; no inline scripts, styles or event handlers."""
    problems = page_problems(clients[role], MATRIX)
    assert not problems, "\n".join(problems)


def db_counts(spaces) -> dict:
    """Rows of every polls table (member data must not change on a refused request)."""
    from plugins.polls import models

    tables = (models.PollToken, models.Vote, models.SecretBallot, models.Voter, models.Submission)
    with spaces.state.sessions() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table))
            for table in tables
        } | {"mails": session.scalar(select(func.count()).select_from(MailMessage))}


def test_every_post_route_refuses_a_missing_csrf_token(spaces, clients):
    """Every state-changing polls route refuses a POST without the CSRF token (400), with
    data that would otherwise be accepted; git and the database stay unchanged."""
    before, rows = spaces.head(), db_counts(spaces)
    posting = sorted(
        rule.endpoint
        for rule in polls_rules(spaces.app)
        if "POST" in rule.methods and not rule.endpoint.startswith("polls_api.")
    )
    assert "polls_print.slips" in posting and "polls_print.member_tokens" in posting
    data = {"anzahl": "3", "termin": "di", "antwort": "ja", "choice": "ja", "token": "x"}
    problems = csrf_problems(clients["board_a"], MATRIX, posting, data)
    assert not problems, "\n".join(problems)
    assert spaces.head() == before
    assert db_counts(spaces) == rows

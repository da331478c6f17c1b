"""Fuzz every GET route: odd path values and query parameters never give a 5xx (issue 9).

One app per module (every plugin of the demo and the demo content). Path parameters are filled
with existing values (pages, spaces, resolution, poll and event ids) and odd ones; query
parameters come from the names the views read (found in the source) plus random names, with
huge, negative, empty, unicode, ``../`` and NUL values. Requests go out as an anonymous
visitor, a logged-in user and an admin (who reaches the most code).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from conftest import PASSWORD, make_test_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
ARG_RE = re.compile(r"""(?:args|form)\.(?:get|getlist)\(\s*["']([a-z_]+)["']|many\(["']([a-z_]+)""")
ROLES = ("anon", "user", "admin")
ODD_VALUES = [
    "",
    "0",
    "-1",
    "-99999999999999999999",
    "9" * 25,
    "9" * 5000,
    "1e308",
    "²",
    "١٢",
    "../../etc/passwd",
    "..",
    "%00",
    "\x00",
    "a\x00b",
    "ä/ö",
    "<script>",
    "' OR 1=1 --",
    "x" * 3000,
    "2022-13-45",
    "true",
    "[]",
]
ODD_PATHS = [
    "..",
    "a/../start",
    "-/x",
    "x" * 300,
    "a/" * 20 + "b",
    "start/_files/x",
    "ä",
    "%2e%2e/start",
    "start/",
    "_files",
    "9" * 30,
    "0",
]
ODD_INTS = ["0", "1", "999999", "9" * 30]


def known_params() -> list[str]:
    """Every query or form field name a view reads (from the source)."""
    names: set[str] = set()
    for folder in ("wiki", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in ARG_RE.finditer(path.read_text(encoding="utf-8")):
                names.add(match.group(1) or match.group(2))
    return sorted(names | {"per_page", "token_id", "a", "b", "format", "limit", "offset"})


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    """The app, clients per role, the GET rules and existing values for path parameters."""
    from plugins.calendar.models import EventRow
    from plugins.polls.models import PollDef
    from plugins.resolutions.models import ResolutionRow
    from plugins.spaces.models import Invitation, Space
    from wiki.db import Document, PageRow

    app = make_test_app(
        tmp_path_factory.mktemp("fuzz"),
        WIKI_PLUGINS=["plugins.spaces", "plugins.resolutions", "plugins.polls", "plugins.calendar"],
        SPACES_DIRECTORY_REQUIRES_2FA=False,
    )
    state = app.extensions["wiki"]
    with app.app_context():
        state.pm.hook.wiki_demo(state=state, say=lambda line: None)
    with state.sessions() as session:
        pages = sorted(session.scalars(select(PageRow.path)))[:40]
        spaces = sorted(session.scalars(select(Space.path)))
        rids = sorted(session.scalars(select(ResolutionRow.rid)))[:10]
        documents = [f"{d.page}/{d.name}" for d in session.scalars(select(Document))][:5]
        invitations = [str(i) for i in session.scalars(select(Invitation.id))][:3]
        polls = sorted(session.scalars(select(PollDef.id)))
        events = sorted(session.scalars(select(EventRow.id)))
    assert polls and events  # the demo has them
    clients = {"anon": app.test_client()}
    for role, handle in (("user", "alice"), ("admin", "admin")):
        client = app.test_client()
        response = client.form("/-/login", {"handle": handle, "password": PASSWORD})
        assert response.status_code == 302
        clients[role] = client
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static"
    ]
    values = {
        "path": pages + ["start", *spaces, *ODD_PATHS],
        "space": spaces + ODD_PATHS,
        "rest": pages[:5] + documents + ODD_PATHS,
        "rid": rids + ODD_VALUES[:8] + ["../x"],
        "name": ["protokoll.pdf", "x", "..", "a" * 200, "ä.png"],
        "token": ["x", "a" * 64, "..", "%00"],
        "filename": ["css/wiki.css", "../config.py", "x"],
        "int": invitations + ODD_INTS,
        "poll_id": polls + ODD_VALUES[:8],
        "event_id": events + ODD_VALUES[:8],
    }
    yield app, clients, rules, values, known_params()
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def build_url(rule, path_values: dict[str, str], query: list[tuple[str, str]]) -> str:
    """The URL of ``rule`` with raw path values (quoted, ``/`` kept) and ``query``."""
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", quote(path_values[name], safe="/"), url)
    return url + ("?" + urlencode(query) if query else "")


def path_value(draw, rule, name, values) -> str:
    converter = type(rule._converters[name]).__name__
    if converter == "IntegerConverter":
        return draw(st.sampled_from(values["int"]))
    pool = values.get(name, values["path"])
    return draw(st.one_of(st.sampled_from(pool), st.text(min_size=1, max_size=20)))


def check(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code < 500, f"{response.status_code} for GET {url!r}"


def test_every_route_with_every_known_parameter_at_once(fuzz):
    """A deterministic sweep: each route, existing path values, all known parameters odd."""
    app, clients, rules, values, params = fuzz
    for rule in rules:
        path_values = {
            name: values["int"][0]
            if type(rule._converters[name]).__name__ == "IntegerConverter"
            else values.get(name, values["path"])[0]
            for name in rule.arguments
        }
        for odd, role in (("9" * 5000, "anon"), ("-1\x00../²", "user"), ("", "admin")):
            check(clients[role], build_url(rule, path_values, [(name, odd) for name in params]))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(data=st.data())
def test_random_requests_never_give_a_5xx(fuzz, data):
    app, clients, rules, values, params = fuzz
    rule = data.draw(st.sampled_from(rules), label="rule")
    path_values = {name: path_value(data.draw, rule, name, values) for name in rule.arguments}
    name = st.one_of(st.sampled_from(params), st.text(min_size=1, max_size=8))
    value = st.one_of(
        st.sampled_from(ODD_VALUES),
        st.integers().map(str),
        st.text(max_size=30),
    )
    query = data.draw(st.lists(st.tuples(name, value), max_size=5), label="query")
    role = data.draw(st.sampled_from(ROLES), label="role")
    check(clients[role], build_url(rule, path_values, query))

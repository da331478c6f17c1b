"""Canary: secrets of chapter A never show up where a role may not read them.

In chapter A a members-only page, a board-only page, a document, an announcement, two
resolutions (members-only, board-only; the marker in the title, text, topic, initiator and
event, so facets, exports and typed links are covered too), a poll and a form, an event (on the
members-only page) and a board-only event each carry a random marker. Every
GET route in ``url_map`` is requested with real arguments (and the query strings that matter:
past revisions, diffs, searches, filters) by anonymous, a logged-in non-member, member of B,
board of B and member of A; the marker may appear only where the role may read it — in bodies,
headers, feeds, API responses and error pages alike.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import date

import pytest
from conftest import make_resolutions_app, resolution_text
from werkzeug.routing import Rule

SPACE = "lv/kv-a"
MEMBERS_PAGE = "lv/kv-a/kanarie-mitglieder"
BOARD_PAGE = "lv/kv-a/kanarie-vorstand"
PUBLIC_RESOLUTION = "lv/beschluesse/2024/lv-kanarie-oeffentlich"


@pytest.fixture
def app(tmp_path):
    """The spaces test app with every plugin of the demo, so their routes are visited too."""
    app = make_resolutions_app(
        tmp_path,
        WIKI_PLUGINS=["plugins.spaces", "plugins.resolutions", "plugins.polls", "plugins.calendar"],
    )
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def secret_resolution(rid: str, mark: str, visibility: str, link: str) -> str:
    return resolution_text(
        rid,
        title=f"Beschluss {mark}",
        text=f"Geheimer Beschlusstext {mark}",
        visibility=visibility,
        decided="2024-05-01",
        event=f"Sitzung {mark}",
        topics=[f"Thema {mark}"],
        initiators=[f"Person {mark}"],
        links={"related": [link]},
    )


@pytest.fixture
def canary(spaces, login):
    """Create the four secrets; return their markers and the values to fill routes with."""
    kinds = (
        "members", "board", "document", "news", "res_members", "res_board",
        "poll", "form", "event", "board_event",
    )  # fmt: skip
    marks = {kind: secrets.token_hex(8) for kind in kinds}
    board_a = login("board_a")
    doc_name = "kanarie-dokument.txt"
    spaces.commit(
        {
            f"{MEMBERS_PAGE}.md": (
                f"---\ntitle: Mitglieder {marks['members']}\nvisibility: members\n---\n"
                f"Nur Mitglieder: {marks['members']} [[{BOARD_PAGE}]]\n\n"
                f"```poll\nid: kanarie-umfrage\ntitel: Umfrage {marks['poll']}\n"
                f"typ: einfach\noptionen: {{a: Option {marks['poll']}, b: B}}\n"
                "wer: mitglieder\nergebnis: immer\n```\n\n"
                f"```form\nid: kanarie-formular\ntitel: Formular {marks['form']}\n"
                f"wer: mitglieder\nfragen:\n  - key: f\n    frage: Frage {marks['form']}\n"
                "    typ: text\n```\n\n"
                f"```termin\nid: kanarie-termin\ntitel: Termin {marks['event']}\n"
                f"beginn: {date.today():%Y-%m-%d} 19:00\nende: 21:00\n"
                f"ort: Ort {marks['event']}\nwiederholung: wöchentlich\nanmeldung: ja\n```\n"
            ),
            f"{BOARD_PAGE}.md": (
                f"---\ntitle: Vorstand {marks['board']}\nvisibility: board\n---\n"
                f"Nur Vorstand: {marks['board']} [[{MEMBERS_PAGE}]] [[hilfe]]\n\n"
                f"```termin\nid: kanarie-vorstand\ntitel: Sitzung {marks['board_event']}\n"
                f"beginn: {date.today():%Y-%m-%d}\nwiederholung: wöchentlich\n```\n"
            ),
            f"{MEMBERS_PAGE}/_files/{doc_name}": f"Dokument {marks['document']}".encode(),
            "lv/kv-a/beschluesse/2024/kva-kanarie-m.md": secret_resolution(
                "KVA-Kanarie-M", marks["res_members"], "members", "KVA-Kanarie-V"
            ),
            "lv/kv-a/beschluesse/2024/kva-kanarie-v.md": secret_resolution(
                "KVA-Kanarie-V", marks["res_board"], "board", "KVA-Kanarie-M"
            ),
            f"{PUBLIC_RESOLUTION}.md": resolution_text(
                "LV-Kanarie-O",
                title="Öffentlicher Beschluss",
                visibility="public",
                decided="2024-05-01",
                links={"related": ["KVA-Kanarie-M", "KVA-Kanarie-V"]},
            ),
        },
        message=f"Kanarienvögel {marks['members']} {marks['board']}",
    )
    response = board_a.form(
        f"/-/spaces/{SPACE}/announcements",
        {
            "audience": "members",
            "subject": f"Mitteilung {marks['news']}",
            "body": f"Inhalt {marks['news']}",
            "action": "send",
        },
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:300]
    from plugins.spaces.models import Announcement

    with spaces.state.sessions() as session:
        announcement = session.query(Announcement).one()
    head = spaces.head()
    values = {
        "path": [
            MEMBERS_PAGE,
            BOARD_PAGE,
            PUBLIC_RESOLUTION,
            "lv/kv-a/beschluesse/2024/kva-kanarie-m",
        ],  # fmt: skip
        "rid": ["KVA-Kanarie-M", "KVA-Kanarie-V", "LV-Kanarie-O"],
        "rest": [MEMBERS_PAGE, f"{MEMBERS_PAGE}/{doc_name}", BOARD_PAGE],
        "space": [SPACE],
        "name": [doc_name],
        "announcement_id": [announcement.id],
        "token": ["nicht-gueltig"],
        "user_id": [1],
        "invitation_id": [1],
        "request_id": [1],
        "id": [1],
        "poll_id": ["kanarie-umfrage", "kanarie-formular"],
        "event_id": ["kanarie-termin", "kanarie-vorstand"],
    }
    queries = [
        "",
        f"?rev={head}",
        f"?to={head}",
        # Searches by a prefix of each marker: results would carry the whole marker, while
        # the echo of the query (search box, login link) carries only the prefix.
        *(f"?q={mark[:12]}*" for mark in marks.values()),
        "?q=kanarie*&sort=date",
        f"?prefix={SPACE}",
        "?scope=all",
        "?scope=all&chapter=lv/kv-a&sort=number",
        "?zeilen=1",
        "?ansicht=liste",
    ]
    return marks, values, queries


def urls(app, values, queries):
    """Every GET route filled with each combination of real arguments and query strings."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        out.extend(build(app, rule, values, queries))
    return out


def build(app, rule: Rule, values, queries):
    names = sorted(rule.arguments)
    choices = [values.get(name, [1]) for name in names]
    found = []
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for combo in itertools.product(*choices):
            try:
                url = adapter.build(rule.endpoint, dict(zip(names, combo, strict=True)))
            except Exception:  # noqa: BLE001 - a value that does not fit this rule
                continue
            found.extend(url + query for query in queries)
    return found


#: role → the markers it may see somewhere (never the others).
ALLOWED = {
    "anon": set(),
    "user": set(),
    "member_b": set(),
    "board_b": set(),
    "member_a": {"members", "document", "news", "res_members", "poll", "form", "event"},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_markers_appear_only_where_the_role_may_read(spaces, login, canary, role):
    marks, values, queries = canary
    client = login(role)
    seen: dict[str, list[str]] = {kind: [] for kind in marks}
    requested = urls(spaces.app, values, queries)
    assert len(requested) > 300
    for url in requested:
        response = client.get(url)
        assert response.status_code < 500, url
        text = response.get_data(as_text=True) + "\n".join(
            f"{k}: {v}" for k, v in response.headers.items()
        )
        for kind, mark in marks.items():
            if mark in text:
                seen[kind].append(url)
    leaked = {
        kind: urls_[:5] for kind, urls_ in seen.items() if urls_ and kind not in ALLOWED[role]
    }
    assert not leaked, f"{role} saw markers it may not read: {leaked}"
    for kind in ALLOWED[role]:
        assert seen[kind], f"{role} should see the {kind} marker somewhere (the test has teeth)"

"""The spaces plugin end to end: definitions, nesting, memberships, visibility in every view,
widening and moves, re-projection, the member directory with its exports and audit log, the
two-factor requirement, the command line, profiles and the dashboard.

Fixtures (``tests/plugins/conftest.py``): ``spaces`` (helpers around the app), ``login(role)``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from plugins.spaces import rules
from plugins.spaces.models import AuditEntry, Membership, Profile, Space
from wiki.db import PageRow, User, utcnow

MEMBERS_PAGE = "lv/kv-a/protokoll"
BOARD_PAGE = "lv/kv-a/vorstand"
TITLES = {MEMBERS_PAGE: "Protokoll Kreisverband A", BOARD_PAGE: "Vorstandsnotizen A"}
#: Who may read the restricted pages of Kreisverband A (member_ov: by its Ortsverband).
READERS = {
    MEMBERS_PAGE: {"member_a", "board_a", "member_ov", "admin"},
    BOARD_PAGE: {"board_a", "admin"},
}
ALL_ROLES = (
    "anon",
    "user",
    "member_a",
    "board_a",
    "member_b",
    "board_b",
    "board_lv",
    "member_ov",
    "admin",
)
BOARD_ONLY_MESSAGE = (
    "Gliederungen anlegen, ändern, verschieben oder auflösen darf nur der Vorstand einer "
    "übergeordneten Gliederung oder ein*e Administrator*in."
)


# -- helpers ----------------------------------------------------------------------------------


def text_of(response) -> str:
    return response.get_data(as_text=True)


def raw(spaces, path: str) -> str:
    """The page file at HEAD."""
    data = spaces.state.store.read(path + ".md")
    return data.decode("utf-8") if data is not None else ""


def edit(spaces, client, path: str, text: str, message: str = "Test"):
    """Save through the editor form (new page if it does not exist)."""
    exists = spaces.state.store.blob_id(path + ".md") is not None
    base = spaces.head() if exists else ""
    return client.form(f"/-/edit/{path}", {"text": text, "base": base, "message": message})


def space_page(**fields) -> str:
    """A space definition; ``None`` leaves a field out."""
    meta = {
        "type": "space",
        "name": "Arbeitskreis Umwelt",
        "code": "AK-U",
        "kind": "arbeitskreis",
        "default_visibility": "members",
        "edit": "members",
        "visibility": "public",
    }
    meta.update(fields)
    lines = "".join(f"{key}: {value}\n" for key, value in meta.items() if value is not None)
    return f"---\n{lines}---\n# {meta.get('name') or 'Gliederung'}\n"


def with_meta(text: str, **fields) -> str:
    """``text`` with front matter fields replaced or added (``None`` removes a field)."""
    head, body = text.split("\n---\n", 1)
    lines = [line for line in head.splitlines()[1:] if line.split(":", 1)[0] not in fields]
    lines += [f"{key}: {value}" for key, value in fields.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def space_row(spaces, path: str) -> Space | None:
    with spaces.state.sessions() as session:
        row = session.get(Space, path)
        if row is not None:
            session.expunge(row)
        return row


def page_row(spaces, path: str) -> PageRow | None:
    with spaces.state.sessions() as session:
        row = session.get(PageRow, path)
        if row is not None:
            session.expunge(row)
        return row


def set_user(spaces, role: str, **values) -> None:
    with spaces.state.sessions() as session:
        user = session.get(User, spaces.user_id(role))
        for key, value in values.items():
            setattr(user, key, value)
        session.commit()


def audit_actions(spaces, space: str) -> list[tuple[int | None, str]]:
    with spaces.state.sessions() as session:
        return [
            (row.user_id, row.action)
            for row in session.scalars(
                select(AuditEntry).where(AuditEntry.space == space).order_by(AuditEntry.id)
            )
        ]


# -- space definitions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"name": None}, "„name“ muss der Name der Gliederung sein"),
        ({"name": "''"}, "„name“ muss der Name der Gliederung sein"),
        ({"name": "x" * 201}, "„name“ muss der Name der Gliederung sein"),
        ({"code": None}, "„code“ muss ein Kürzel aus Buchstaben, Ziffern und „-“ sein"),
        ({"code": "AK U"}, "„code“ muss ein Kürzel aus Buchstaben, Ziffern und „-“ sein"),
        ({"code": "X" * 17}, "„code“ muss ein Kürzel aus Buchstaben, Ziffern und „-“ sein"),
        ({"kind": "verein"}, "„kind“ muss einer dieser Werte sein: landesverband"),
        ({"kind": None}, "„kind“ muss einer dieser Werte sein"),
        ({"default_visibility": "geheim"}, "„default_visibility“ muss einer dieser Werte sein"),
        ({"default_visibility": None}, "„default_visibility“ muss einer dieser Werte sein"),
        ({"edit": "alle"}, "„edit“ muss „members“ oder „board“ sein."),
        ({"contact": "vorstand"}, "„contact“ muss eine E-Mail-Adresse sein"),
        ({"contact": "a@b.de, c@d.de"}, "„contact“ muss eine E-Mail-Adresse sein"),
    ],
)
def test_space_definition_fields_are_validated(spaces, login, fields, message):
    before = spaces.head()
    response = edit(spaces, login("admin"), "lv/ak-umwelt", space_page(**fields))
    assert response.status_code == 400
    assert message in text_of(response)
    assert spaces.head() == before
    assert space_row(spaces, "lv/ak-umwelt") is None


def test_check_definition_lists_every_problem_once():
    problems = rules.check_definition(
        {"type": "space", "name": "", "code": "", "kind": "x", "default_visibility": "y"}
    )
    assert [p.split("“", 1)[0] for p in problems] == [
        "„name",
        "„code",
        "„kind",
        "„default_visibility",
    ]
    valid = {"name": "A", "code": "A-1", "kind": "gremium", "default_visibility": "board"}
    assert rules.check_definition(valid) == []
    assert rules.check_definition(valid | {"contact": "vorstand@example.org"}) == []


def test_admin_creates_and_changes_a_space(spaces, login):
    admin = login("admin")
    response = edit(spaces, admin, "lv/ak-umwelt", space_page(contact="ak@example.org"))
    assert response.status_code == 302
    row = space_row(spaces, "lv/ak-umwelt")
    assert (row.name, row.code, row.kind, row.parent) == (
        "Arbeitskreis Umwelt",
        "AK-U",
        "arbeitskreis",
        "lv",
    )
    assert row.contact == "ak@example.org"
    text = with_meta(raw(spaces, "lv/ak-umwelt"), name="Arbeitskreis Klima", edit="board")
    assert edit(spaces, admin, "lv/ak-umwelt", text).status_code == 302
    row = space_row(spaces, "lv/ak-umwelt")
    assert (row.name, row.edit) == ("Arbeitskreis Klima", "board")


def test_board_of_the_lv_creates_a_kv_below(spaces, login):
    board_lv = login("board_lv")
    page = space_page(name="Kreisverband C", code="KVC", kind="kreisverband")
    assert edit(spaces, board_lv, "lv/kv-c", page).status_code == 302
    assert space_row(spaces, "lv/kv-c").parent == "lv"
    # ... and may manage it (add members) although it is no member there.
    assert board_lv.get("/-/spaces/lv/kv-c/members").status_code == 200


def test_only_the_board_of_an_enclosing_space_creates_or_changes_one(spaces, login):
    # A member of the enclosing space may create pages there, but no space.
    before = spaces.head()
    response = edit(spaces, login("member_a"), "lv/kv-a/ak", space_page())
    assert response.status_code == 400
    assert BOARD_ONLY_MESSAGE in text_of(response)
    # The board of a space does not enclose it: it may not change its own definition ...
    board_a = login("board_a")
    text = with_meta(raw(spaces, "lv/kv-a"), default_visibility="public")
    response = edit(spaces, board_a, "lv/kv-a", text)
    assert response.status_code == 400
    assert BOARD_ONLY_MESSAGE in text_of(response)
    # ... nor may a member turn a page into a space ...
    response = edit(spaces, login("member_a"), "lv/kv-a/oeffentlich", space_page())
    assert response.status_code == 400
    assert BOARD_ONLY_MESSAGE in text_of(response)
    # ... and the board of a sibling may not even edit it.
    response = edit(spaces, login("board_b"), "lv/kv-a", with_meta(text, name="Übernommen"))
    assert response.status_code == 403
    assert spaces.head() == before
    assert space_row(spaces, "lv/kv-a").default_visibility == "members"
    # The board of A encloses the pages below A: it may turn one into a sub-space.
    response = edit(spaces, board_a, "lv/kv-a/oeffentlich", space_page(name="AG Öffentlich"))
    assert response.status_code == 302
    assert space_row(spaces, "lv/kv-a/oeffentlich").parent == "lv/kv-a"
    # The board of the LV, once also a member of the KV (to edit its page), may change it.
    spaces.add_member("board_lv", "lv/kv-a")
    assert edit(spaces, login("board_lv"), "lv/kv-a", text).status_code == 302
    assert space_row(spaces, "lv/kv-a").default_visibility == "public"


def test_a_member_may_edit_the_body_of_the_space_page(spaces, login):
    text = raw(spaces, "lv/kv-a") + "\nNächstes Treffen: Dienstag.\n"
    response = edit(spaces, login("member_a"), "lv/kv-a", text)
    assert response.status_code == 302
    assert "Nächstes Treffen" in raw(spaces, "lv/kv-a")
    assert space_row(spaces, "lv/kv-a").name == "Kreisverband A"


def test_a_member_cannot_dissolve_the_space_by_removing_its_type(spaces, login):
    text = with_meta(raw(spaces, "lv/kv-a"), type=None)
    edit(spaces, login("member_a"), "lv/kv-a", text)
    assert space_row(spaces, "lv/kv-a") is not None
    assert login("member_b").get(f"/{MEMBERS_PAGE}").status_code == 404


def test_a_member_cannot_dissolve_the_space_by_deleting_its_page(spaces, login):
    login("member_a").form("/-/delete/lv/kv-a", {"base": spaces.head(), "message": "weg"})
    assert space_row(spaces, "lv/kv-a") is not None
    assert login("member_b").get(f"/{MEMBERS_PAGE}").status_code == 404


# -- nesting and memberships ------------------------------------------------------------------


def test_nested_spaces_and_their_parents(spaces, login):
    parents = {path: space_row(spaces, path).parent for path in ("lv", "lv/kv-a", "lv/kv-a/ov")}
    assert parents == {"lv": None, "lv/kv-a": "lv", "lv/kv-a/ov": "lv/kv-a"}
    # A plain folder between two spaces is skipped.
    spaces.commit({"lv/kv-b/gruppen/ak.md": space_page(name="AK in B")})
    assert space_row(spaces, "lv/kv-b/gruppen/ak").parent == "lv/kv-b"
    # Every page belongs to the nearest space; a definition page to its own space.
    assert page_row(spaces, "lv/kv-a/ov/treffen").space == "lv/kv-a/ov"
    assert page_row(spaces, MEMBERS_PAGE).space == "lv/kv-a"
    assert page_row(spaces, "lv/kv-a").space == "lv/kv-a"
    assert page_row(spaces, "lv").space == "lv"
    assert page_row(spaces, "hilfe").space is None


def test_a_definition_page_takes_its_own_default_visibility(spaces, login):
    spaces.commit({"lv/kv-c.md": space_page(name="Kreisverband C", visibility=None)})
    row = page_row(spaces, "lv/kv-c")
    assert (row.space, row.effective_visibility) == ("lv/kv-c", "members")
    spaces.add_member("member_b", "lv/kv-c")
    assert login("member_b").get("/lv/kv-c").status_code == 200
    assert login("member_a").get("/lv/kv-c").status_code == 404
    # Hidden spaces are not listed; the board of the LV still manages it.
    assert "Kreisverband C" not in text_of(login("anon").get("/-/spaces/"))
    assert "Kreisverband C" in text_of(login("member_b").get("/-/spaces/"))
    assert login("board_lv").get("/-/spaces/lv/kv-c/members").status_code == 200
    assert login("board_lv").get("/lv/kv-c").status_code == 404


def test_membership_in_a_sub_space_implies_the_enclosing_ones(spaces, login):
    principal = spaces.principal("member_ov")
    assert dict(principal.memberships) == {
        "lv/kv-a/ov": "member",
        "lv/kv-a": "member",
        "lv": "member",
    }
    client = login("member_ov")
    assert client.get(f"/{MEMBERS_PAGE}").status_code == 200
    assert client.get("/lv/rundbrief").status_code == 200
    assert client.get(f"/{BOARD_PAGE}").status_code == 404
    assert client.get("/lv/kv-b/protokoll").status_code == 404
    # Membership goes up, never down: the LV board is no member of the KV.
    assert "lv/kv-a" not in spaces.principal("board_lv").memberships
    assert login("board_lv").get(f"/{MEMBERS_PAGE}").status_code == 404


def test_a_board_role_falls_back_to_member_after_its_term(spaces, login):
    spaces.add_member("board_a", "lv/kv-a", "board", utcnow() - timedelta(days=1))
    assert spaces.principal("board_a").memberships["lv/kv-a"] == "member"
    client = spaces.login("board_a")
    assert client.get(f"/{BOARD_PAGE}").status_code == 404
    assert client.get(f"/{MEMBERS_PAGE}").status_code == 200
    assert client.get("/-/spaces/lv/kv-a/members").status_code == 403
    me = text_of(client.get("/-/me"))
    assert "Amtszeit im Vorstand endete am" in me
    spaces.add_member("board_a", "lv/kv-a", "board", utcnow() + timedelta(days=30))
    assert spaces.principal("board_a").memberships["lv/kv-a"] == "board"
    assert spaces.login("board_a").get(f"/{BOARD_PAGE}").status_code == 200


def test_effective_memberships_rules():
    now = utcnow()
    rows = [
        ("lv/kv-a/ov", "member", None),
        ("lv/kv-b", "board", now - timedelta(seconds=1)),
        ("lv/kv-c", "board", now + timedelta(days=1)),
        ("lv", "board", None),
    ]
    assert rules.effective_memberships(rows, now) == {
        "lv/kv-a/ov": "member",
        "lv/kv-a": "member",
        "lv": "board",
        "lv/kv-b": "member",
        "lv/kv-c": "board",
    }
    # A term given as a date ends with that day.
    assert rules.effective_memberships([("s", "board", now.date())], now) == {"s": "member"}


# -- visibility in every view -----------------------------------------------------------------


def add_problem_pages(spaces) -> None:
    """A members page and a board page of A that show up on /-/problems."""
    spaces.commit(
        {
            "lv/kv-a/kaputt.md": "---\ntitle: Kaputte Seite A\ntype: unbekannt\n---\nx\n",
            "lv/kv-a/kaputt-vorstand.md": (
                "---\ntitle: Kaputte Vorstandsseite A\ntype: unbekannt\nvisibility: board\n---\nx\n"
            ),
        }
    )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_members_and_board_pages_per_role_in_every_view(spaces, role):
    add_problem_pages(spaces)
    first = spaces.head()
    spaces.commit(
        {
            f"{MEMBERS_PAGE}.md": raw(spaces, MEMBERS_PAGE) + "\nNachtrag.\n",
            f"{BOARD_PAGE}.md": raw(spaces, BOARD_PAGE) + "\nNachtrag.\n",
        }
    )
    client = spaces.login(role)
    problems = []

    def expect(url, status):
        got = client.get(url).status_code
        if got != status:
            problems.append(f"{url}: {got}, expected {status}")

    for page, readers in READERS.items():
        status = 200 if role in readers else 404
        for url in (
            f"/{page}",
            f"/{page}?rev={first}",
            f"/-/raw/{page}",
            f"/-/raw/{page}?rev={first}",
            f"/-/history/{page}",
            f"/-/diff/{page}",
            f"/-/diff/{page}?from={first}",
            f"/-/backlinks/{page}",
            f"/-/files/{page}",
            f"/-/api/v1/pages/{page}",
            f"/-/api/v1/pages/{page}?rev={first}",
        ):
            expect(url, status)
    member_status = 200 if role in READERS[MEMBERS_PAGE] else 404
    expect(f"/-/files/{MEMBERS_PAGE}/protokoll.pdf", member_status)
    expect(f"/-/files/{MEMBERS_PAGE}/protokoll.pdf?rev={first}", member_status)
    expect(f"/-/file-history/{MEMBERS_PAGE}/protokoll.pdf", member_status)

    listings = {
        "index": text_of(client.get("/-/pages?prefix=lv/kv-a")),
        "changes": text_of(client.get("/-/changes")),
        "feed": text_of(client.get("/-/changes.atom")),
        "space overview": text_of(client.get("/lv/kv-a")),
        "api pages": text_of(client.get("/-/api/v1/pages?prefix=lv")),
        "api changes": text_of(client.get("/-/api/v1/changes")),
        "backlinks of a public page": text_of(client.get("/-/backlinks/hilfe")),
        "backlinks of a public page in A": text_of(client.get("/-/backlinks/lv/kv-a/oeffentlich")),
        "space documents": text_of(client.get("/-/spaces/lv/kv-a/documents")),
    }
    for page, readers in READERS.items():
        readable = role in readers
        for name, html in listings.items():
            if name.startswith("api"):
                shown = f'"{page}"' in html
            elif name.startswith("backlinks") or name == "space documents":
                if page != MEMBERS_PAGE:
                    continue
                shown = TITLES[page] in html or (
                    name == "space documents" and "protokoll.pdf" in html
                )
            else:
                shown = TITLES[page] in html
            if shown != readable:
                problems.append(f"{name}: {TITLES[page]} shown={shown}, readable={readable}")
    # The document is listed on the space's overview only for those who may read its page.
    if ("protokoll.pdf" in listings["space overview"]) != (role in READERS[MEMBERS_PAGE]):
        problems.append("space overview: document listed although hidden (or missing)")
    # Search: hidden pages never show up; readable ones do.
    for page, query in ((MEMBERS_PAGE, "Geheime"), (BOARD_PAGE, "Vorstandsnotizen")):
        found = "".join(
            text_of(client.get(url))
            for url in (
                f"/-/search?q={query}",
                f"/-/search/titles?q={TITLES[page][:6]}",
                f"/-/api/v1/search?q={query}",
            )
        )
        shown = TITLES[page] in found or page in found
        if shown != (role in READERS[page]):
            problems.append(f"search: {TITLES[page]} shown={shown}")
    problem_list = text_of(client.get("/-/problems"))
    for title, readers in (
        ("Kaputte Seite A", READERS[MEMBERS_PAGE]),
        ("Kaputte Vorstandsseite A", READERS[BOARD_PAGE]),
    ):
        if (title in problem_list) != (role in readers):
            problems.append(f"/-/problems: {title} shown={title in problem_list}")
    assert not problems, f"{role}:\n" + "\n".join(problems)


def test_personal_feed_shows_what_its_owner_may_read(spaces):
    from wiki.auth import issue_token

    with spaces.state.sessions() as session:
        user = session.get(User, spaces.user_id("member_a"))
        token = issue_token(session, user, "feed", "Feed")
        session.commit()
    feed = text_of(spaces.login("anon").get(f"/-/changes.atom?token={token}"))
    assert TITLES[MEMBERS_PAGE] in feed
    assert TITLES[BOARD_PAGE] not in feed
    assert TITLES[MEMBERS_PAGE] not in text_of(spaces.login("anon").get("/-/changes.atom"))


def test_a_past_revision_needs_read_rights_now_and_then(spaces, login):
    board_a, member_a = login("board_a"), login("member_a")
    # Board-only first, then opened to the members: the board-only version stays hidden.
    assert (
        edit(spaces, board_a, "lv/kv-a/plan", "---\nvisibility: board\n---\nGeheim\n").status_code
        == 302
    )
    secret = spaces.head()
    opened = "---\nvisibility: members\n---\nFür alle Mitglieder\n"
    assert edit(spaces, board_a, "lv/kv-a/plan", opened).status_code == 302
    now = spaces.head()
    assert member_a.get("/lv/kv-a/plan").status_code == 200
    for url in (
        f"/lv/kv-a/plan?rev={secret}",
        f"/-/raw/lv/kv-a/plan?rev={secret}",
        f"/-/diff/lv/kv-a/plan?from={secret}&to={now}",
        f"/-/api/v1/pages/lv/kv-a/plan?rev={secret}",
        f"/-/revert/lv/kv-a/plan?rev={secret}",
    ):
        assert member_a.get(url).status_code == 404, url
        assert board_a.get(url).status_code == 200, url
    history = text_of(member_a.get("/-/history/lv/kv-a/plan"))
    assert now[:10] in history and secret[:10] not in history
    assert secret[:10] in text_of(board_a.get("/-/history/lv/kv-a/plan"))
    # Members first, then closed to the board: the old members version is hidden now.
    closed = "---\nvisibility: board\n---\nNur Vorstand\n"
    assert edit(spaces, member_a, "lv/kv-a/plan", closed).status_code == 302
    assert member_a.get(f"/lv/kv-a/plan?rev={now}").status_code == 404
    assert member_a.get(f"/-/raw/lv/kv-a/plan?rev={now}").status_code == 404
    assert member_a.get("/-/history/lv/kv-a/plan").status_code == 404


# -- widening and moving ----------------------------------------------------------------------


@pytest.mark.parametrize("wider", ["public", "internal"])
def test_widening_a_members_page_needs_board_rights(spaces, login, wider):
    text = with_meta(raw(spaces, MEMBERS_PAGE), visibility=wider)
    before = spaces.head()
    response = edit(spaces, login("member_a"), MEMBERS_PAGE, text)
    assert response.status_code == 403
    assert "Keine Berechtigung, die Sichtbarkeit zu erweitern." in text_of(response)
    assert spaces.head() == before
    assert login("anon").get(f"/{MEMBERS_PAGE}").status_code == 404
    assert edit(spaces, login("board_a"), MEMBERS_PAGE, text).status_code == 302
    reader = "anon" if wider == "public" else "user"
    assert spaces.login(reader).get(f"/{MEMBERS_PAGE}").status_code == 200


def test_narrowing_needs_only_edit_rights(spaces, login):
    text = with_meta(raw(spaces, MEMBERS_PAGE), visibility="board")
    assert edit(spaces, login("member_a"), MEMBERS_PAGE, text).status_code == 302
    assert login("member_a").get(f"/{MEMBERS_PAGE}").status_code == 404


def test_moving_a_page_out_of_the_space_needs_board_rights(spaces, login):
    before = spaces.head()
    form = {"new_path": "lv/protokoll-a", "message": "raus"}
    response = login("member_a").form(f"/-/rename/{MEMBERS_PAGE}", form)
    assert response.status_code == 400
    assert "Keine Berechtigung, die Seite dorthin zu verschieben." in text_of(response)
    assert spaces.head() == before
    # Within the space a member may move it.
    form_within = {"new_path": "lv/kv-a/protokoll-2024", "message": "umbenannt"}
    assert login("member_a").form(f"/-/rename/{MEMBERS_PAGE}", form_within).status_code == 302
    assert page_row(spaces, "lv/kv-a/protokoll-2024").effective_visibility == "members"
    # The board may move it out; it then takes the LV's default (internal).
    response = login("board_a").form("/-/rename/lv/kv-a/protokoll-2024", form)
    assert response.status_code == 302
    row = page_row(spaces, "lv/protokoll-a")
    assert (row.space, row.effective_visibility) == ("lv", "internal")
    assert login("member_b").get("/lv/protokoll-a").status_code == 200


def test_a_move_needs_edit_rights_on_both_ends(spaces, login):
    before = spaces.head()
    # The board of A may widen A's pages but may not edit in B.
    form = {"new_path": "lv/kv-b/aus-a", "message": "nach B"}
    response = login("board_a").form("/-/rename/lv/kv-a/oeffentlich", form)
    assert response.status_code == 400
    assert "Keine Berechtigung, die Seite dorthin zu verschieben." in text_of(response)
    # A member of B reads A's public page but may not edit (so not move) it.
    assert login("member_b").get("/-/rename/lv/kv-a/oeffentlich").status_code == 403
    assert login("member_b").form("/-/rename/lv/kv-a/oeffentlich", form).status_code == 403
    assert spaces.head() == before
    # Someone who is board of A and member of B may.
    spaces.add_member("board_a", "lv/kv-b")
    assert spaces.login("board_a").form("/-/rename/lv/kv-a/oeffentlich", form).status_code == 302
    assert page_row(spaces, "lv/kv-b/aus-a").space == "lv/kv-b"


# -- re-projection ----------------------------------------------------------------------------


def test_changing_the_default_visibility_reprojects_the_pages_below(spaces, login):
    admin, anon = login("admin"), login("anon")
    text = with_meta(raw(spaces, "lv/kv-a"), default_visibility="public")
    assert edit(spaces, admin, "lv/kv-a", text).status_code == 302
    assert page_row(spaces, MEMBERS_PAGE).effective_visibility == "public"
    assert anon.get(f"/{MEMBERS_PAGE}").status_code == 200
    assert TITLES[MEMBERS_PAGE] in text_of(anon.get("/-/pages?prefix=lv/kv-a"))
    assert f'"{MEMBERS_PAGE}"' in text_of(anon.get("/-/api/v1/pages?prefix=lv"))
    # Pages with their own visibility, and the pages of sub-spaces, keep theirs.
    assert anon.get(f"/{BOARD_PAGE}").status_code == 404
    assert anon.get("/lv/kv-a/ov/treffen").status_code == 404
    # And back, narrower than before: the members page is now for the board only.
    text = with_meta(raw(spaces, "lv/kv-a"), default_visibility="board")
    assert edit(spaces, admin, "lv/kv-a", text).status_code == 302
    member_a = login("member_a")
    assert member_a.get(f"/{MEMBERS_PAGE}").status_code == 404
    assert TITLES[MEMBERS_PAGE] not in text_of(member_a.get("/-/pages?prefix=lv/kv-a"))
    assert f'"{MEMBERS_PAGE}"' not in text_of(member_a.get("/-/api/v1/pages?prefix=lv"))
    assert login("board_a").get(f"/{MEMBERS_PAGE}").status_code == 200


def test_renaming_a_space_keeps_its_memberships(spaces, login):
    form = {"new_path": "lv/kv-nord", "message": "Neuer Name"}
    assert login("admin").form("/-/rename/lv/kv-a", form).status_code == 302
    assert space_row(spaces, "lv/kv-a") is None
    assert space_row(spaces, "lv/kv-nord/ov").parent == "lv/kv-nord"
    with spaces.state.sessions() as session:
        moved = {
            (m.user_id, m.space, m.role)
            for m in session.scalars(select(Membership).where(Membership.space.like("lv/kv-%")))
        }
    assert (spaces.user_id("member_a"), "lv/kv-nord", "member") in moved
    assert (spaces.user_id("board_a"), "lv/kv-nord", "board") in moved
    assert (spaces.user_id("member_ov"), "lv/kv-nord/ov", "member") in moved
    assert not any(space.startswith("lv/kv-a") for _, space, _ in moved)
    assert spaces.login("member_a").get("/lv/kv-nord/protokoll").status_code == 200
    assert spaces.login("member_b").get("/lv/kv-nord/protokoll").status_code == 404
    assert spaces.login("member_ov").get("/lv/kv-nord/ov/treffen").status_code == 200
    directory = spaces.login("board_a").get("/-/spaces/lv/kv-nord/members")
    assert directory.status_code == 200 and "Mia Mitglied A" in text_of(directory)


def test_renaming_a_plain_page_moves_the_memberships_of_the_spaces_below(spaces, login):
    ak = space_page(name="AK Gruppen", visibility=None)
    spaces.commit({"lv/gruppen.md": "# Gruppen\n", "lv/gruppen/ak.md": ak})
    spaces.commit({"lv/gruppen/ak/notiz.md": "# Notiz AK\n"})
    spaces.add_member("member_b", "lv/gruppen/ak")
    assert login("member_b").get("/lv/gruppen/ak/notiz").status_code == 200
    form = {"new_path": "lv/teams", "message": "Neuer Name"}
    assert login("admin").form("/-/rename/lv/gruppen", form).status_code == 302
    assert "lv/teams/ak" in spaces.principal("member_b").memberships
    assert "lv/gruppen/ak" not in spaces.principal("member_b").memberships
    assert spaces.login("member_b").get("/lv/teams/ak/notiz").status_code == 200


# -- the member directory ---------------------------------------------------------------------


def test_directory_shows_the_space_and_its_sub_spaces_to_their_boards(spaces, login):
    html = text_of(login("board_a").get("/-/spaces/lv/kv-a/members"))
    for name in ("Mia Mitglied A", "Bea Vorstand A", "Otto Ortsverband"):
        assert name in html
    for name in ("Max Mitglied B", "Ben Vorstand B", "Alice Mitglied"):
        assert name not in html
    # The board of A also manages the Ortsverband below; there only its members are listed.
    html = text_of(login("board_a").get("/-/spaces/lv/kv-a/ov/members"))
    assert "Otto Ortsverband" in html and "Mia Mitglied A" not in html
    # The board of the LV sees everyone below it.
    html = text_of(login("board_lv").get("/-/spaces/lv/members"))
    assert "Max Mitglied B" in html and "Otto Ortsverband" in html
    # Filters.
    html = text_of(login("board_a").get("/-/spaces/lv/kv-a/members?role=board"))
    assert "Bea Vorstand A" in html and "Mia Mitglied A" not in html
    html = text_of(login("board_a").get("/-/spaces/lv/kv-a/members?q=ortsverband"))
    assert "Otto Ortsverband" in html and "Mia Mitglied A" not in html


@pytest.mark.parametrize(
    "role,status",
    [("anon", 302), ("user", 403), ("member_a", 403), ("member_ov", 403), ("board_b", 403)],
)
def test_directory_is_closed_to_everyone_else(spaces, role, status):
    client = spaces.login(role)
    for suffix in ("members", "members.csv", "members.vcf", "audit"):
        response = client.get(f"/-/spaces/lv/kv-a/{suffix}")
        assert response.status_code == status, suffix
        assert "bea@example.org" not in text_of(response)
    assert client.get("/-/spaces/lv/kv-a/ov/members").status_code == status
    assert audit_actions(spaces, "lv/kv-a") == []


def test_directory_of_a_missing_space_is_404(login):
    assert login("admin").get("/-/spaces/lv/nirgends/members").status_code == 404
    assert login("admin").get("/-/spaces/hilfe/members").status_code == 404


def test_every_view_and_export_is_audited_and_the_board_reads_the_log(spaces, login):
    board_a = login("board_a")
    assert board_a.get("/-/spaces/lv/kv-a/members?q=mia").status_code == 200
    assert board_a.get("/-/spaces/lv/kv-a/members.csv").status_code == 200
    assert board_a.get("/-/spaces/lv/kv-a/members.vcf").status_code == 200
    assert login("admin").get("/-/spaces/lv/kv-a/members").status_code == 200
    board_id, admin_id = spaces.user_id("board_a"), spaces.user_id("admin")
    assert audit_actions(spaces, "lv/kv-a") == [
        (board_id, "view"),
        (board_id, "export-csv"),
        (board_id, "export-vcard"),
        (admin_id, "view"),
    ]
    with spaces.state.sessions() as session:
        detail = session.scalar(select(AuditEntry.detail).order_by(AuditEntry.id).limit(1))
    assert "q=mia" in detail
    log = text_of(board_a.get("/-/spaces/lv/kv-a/audit"))
    for text in ("Bea Vorstand A", "Ada Admin", "als CSV exportiert", "als vCard exportiert"):
        assert text in log
    # Reading the log is no directory view.
    assert len(audit_actions(spaces, "lv/kv-a")) == 4


def test_csv_export(spaces, login):
    set_user(spaces, "member_a", display_name="=cmd|' /C calc'!A0")
    set_user(spaces, "member_ov", display_name='Otto "O"; Ortsverband')
    with spaces.state.sessions() as session:
        session.add(Profile(user_id=spaces.user_id("board_a"), phone="+49 361 12345"))
        session.commit()
    response = login("board_a").get("/-/spaces/lv/kv-a/members.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "mitglieder-lv-kv-a.csv" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0] == ["Name", "E-Mail", "Telefon", "Gliederung", "Rolle", "Amtszeit bis"]
    people = {row[1]: row for row in rows[1:]}
    assert set(people) == {"mia@example.org", "bea@example.org", "otto@example.org"}
    assert people["mia@example.org"][0] == "'=cmd|' /C calc'!A0"
    assert people["otto@example.org"][0] == 'Otto "O"; Ortsverband'
    assert people["otto@example.org"][3] == "lv/kv-a/ov"
    assert people["bea@example.org"][2] == "'+49 361 12345"
    assert people["bea@example.org"][4] == "Vorstand"
    assert people["mia@example.org"][4] == "Mitglied"
    for row in rows[1:]:
        assert len(row) == 6
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_vcard_export_has_one_card_per_member(spaces, login):
    set_user(spaces, "member_a", display_name="Mia; Mitglied, A")
    response = login("board_a").get("/-/spaces/lv/kv-a/members.vcf")
    assert response.status_code == 200
    assert response.mimetype == "text/vcard"
    body = response.get_data(as_text=True)
    cards = re.findall(r"BEGIN:VCARD\r\n(.*?)END:VCARD\r\n", body, re.S)
    assert len(cards) == 3 == body.count("BEGIN:VCARD") == body.count("END:VCARD")
    names = sorted(re.search(r"^FN:(.*)\r$", card, re.M).group(1) for card in cards)
    assert names == ["Bea Vorstand A", "Mia\\; Mitglied\\, A", "Otto Ortsverband"]
    assert all("VERSION:4.0" in card for card in cards)


def test_the_board_changes_memberships_in_the_directory(spaces, login):
    board_a = login("board_a")
    url = "/-/spaces/lv/kv-a/members"
    assert login("user").get(f"/{MEMBERS_PAGE}").status_code == 404
    assert (
        board_a.form(url, {"action": "add", "user": "alice", "role": "member"}).status_code == 302
    )
    assert spaces.login("user").get(f"/{MEMBERS_PAGE}").status_code == 200
    alice = spaces.user_id("user")
    form = {"action": "role", "user_id": alice, "role": "board", "term_ends": "2999-12-31"}
    assert board_a.form(url, form).status_code == 302
    assert spaces.principal("user").memberships["lv/kv-a"] == "board"
    response = board_a.form(url, form | {"term_ends": "31.12.2999"})
    assert response.status_code == 400
    assert "Das Ende der Amtszeit muss ein Datum" in text_of(response)
    response = board_a.form(url, {"action": "add", "user": "niemand", "role": "member"})
    assert response.status_code == 400
    assert "Kein Zugang mit diesem Benutzernamen" in text_of(response)
    assert board_a.form(url, {"action": "remove", "user_id": alice}).status_code == 302
    assert "lv/kv-a" not in spaces.principal("user").memberships
    # Others may not, and nothing changes.
    for role in ("member_a", "board_b"):
        response = login(role).form(url, {"action": "add", "user": "bob", "role": "board"})
        assert response.status_code == 403
    assert "lv/kv-a" not in spaces.principal("other").memberships
    # Without a CSRF token the form is refused.
    response = board_a.post(url, data={"action": "add", "user": "bob"})
    assert response.status_code == 400
    assert "lv/kv-a" not in spaces.principal("other").memberships


def test_directory_requires_a_second_factor_when_configured(spaces, login):
    from config import DefaultConfig

    assert DefaultConfig.SPACES_DIRECTORY_REQUIRES_2FA is True
    spaces.app.config["SPACES_DIRECTORY_REQUIRES_2FA"] = True
    board_a = login("board_a")
    for suffix in ("members", "members.csv", "members.vcf"):
        response = board_a.get(f"/-/spaces/lv/kv-a/{suffix}")
        assert response.status_code == 403, suffix
        html = text_of(response)
        assert "Zwei-Faktor-Anmeldung nötig" in html
        assert "mit zwei Faktoren angemeldet" in html
        assert "Mia Mitglied A" not in html
    assert audit_actions(spaces, "lv/kv-a") == []
    # Members still get 403 for lacking the role, not the two-factor page.
    response = login("member_a").get("/-/spaces/lv/kv-a/members")
    assert response.status_code == 403 and "Zwei-Faktor" not in text_of(response)
    with board_a.session_transaction() as session:
        session["wiki_2fa"] = True
    response = board_a.get("/-/spaces/lv/kv-a/members")
    assert response.status_code == 200 and "Mia Mitglied A" in text_of(response)
    assert board_a.get("/-/spaces/lv/kv-a/members.csv").status_code == 200


# -- command line -----------------------------------------------------------------------------


@pytest.fixture
def cli_instance(tmp_path, monkeypatch):
    """An instance made by ``verbandswiki init`` with the spaces plugin and the space tree."""
    from wiki.cli import cli, make_app
    from wiki.plugins import make_plugin_manager
    from wiki.storage import Author

    monkeypatch.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    path = tmp_path / "inst"
    runner = CliRunner()
    result = runner.invoke(cli, ["init", "--instance", str(path)])
    assert result.exit_code == 0, result.output
    with (path / "config.py").open("a", encoding="utf-8") as config:
        config.write('WIKI_PLUGINS = ["plugins.spaces"]\n')
    make_plugin_manager(["plugins.spaces"]).hook.wiki_cli(cli=cli)
    assert runner.invoke(cli, ["upgrade", "--instance", str(path)]).exit_code == 0
    app = make_app(str(path))
    state = app.extensions["wiki"]
    state.store.commit(
        {
            "lv.md": space_page(name="Landesverband", code="LV", kind="landesverband").encode(),
            "lv/kv-a.md": space_page(
                name="Kreisverband A", code="KVA", kind="kreisverband"
            ).encode(),
        },
        base=state.store.head(),
        author=Author("u-system", "system@noreply.invalid"),
        message="Gliederungen",
    )
    with app.app_context():
        state.syncer.sync()
    state.store.close()
    state.engine.dispose()
    for handle in ("carla", "dora"):
        args = ["user", "add", handle, "--email", f"{handle}@example.org", "--verified"]
        assert runner.invoke(cli, [*args, "--instance", str(path)]).exit_code == 0

    def run(*args):
        return runner.invoke(cli, [*args, "--instance", str(path)])

    return run


def test_cli_space_commands(cli_instance):
    run = cli_instance
    result = run("space", "list")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "lv\tLV\tlandesverband\tLandesverband\t0 Mitglieder",
        "lv/kv-a\tKVA\tkreisverband\tKreisverband A\t0 Mitglieder",
    ]
    result = run("space", "add-member", "lv/kv-a", "carla", "--board", "--until", "2999-12-31")
    assert result.exit_code == 0 and "Gespeichert." in result.output
    assert run("space", "add-member", "lv", "dora@example.org").exit_code == 0
    assert run("space", "members", "lv/kv-a").output.splitlines() == [
        "carla\tcarla\tVorstand\tlv/kv-a"
    ]
    assert sorted(run("space", "members", "lv").output.splitlines()) == [
        "carla\tcarla\tMitglied\tlv/kv-a",
        "dora\tdora\tMitglied\tlv",
    ]
    assert "2 Mitglieder" in run("space", "list").output.splitlines()[0]
    # Adding again changes the role.
    assert run("space", "add-member", "lv/kv-a", "carla").exit_code == 0
    assert "Mitglied" in run("space", "members", "lv/kv-a").output
    result = run("space", "remove-member", "lv/kv-a", "carla")
    assert result.exit_code == 0 and "Entfernt." in result.output
    assert run("space", "members", "lv/kv-a").output == ""
    # Errors are explained and change nothing.
    result = run("space", "remove-member", "lv/kv-a", "carla")
    assert result.exit_code != 0 and "Keine solche Mitgliedschaft" in result.output
    result = run("space", "add-member", "lv/kv-x", "carla")
    assert result.exit_code != 0 and "Keine Gliederung „lv/kv-x“" in result.output
    result = run("space", "add-member", "lv", "niemand")
    assert result.exit_code != 0 and "Unbekannter Zugang" in result.output
    result = run("space", "add-member", "lv", "carla", "--board", "--until", "morgen")
    assert result.exit_code != 0 and "JJJJ-MM-TT" in result.output
    assert run("space", "members", "lv/kv-x").exit_code != 0


# -- profile, contacts and dashboard ----------------------------------------------------------


def test_contact_sharing_is_off_by_default(spaces, login):
    member_a, member_ov = login("member_a"), login("member_ov")
    form = text_of(member_a.get("/-/spaces/profile"))
    assert re.search(r'id="f-show-contact"', form)
    assert not re.search(r'id="f-show-contact"[^>]*checked', form)
    contacts = text_of(member_ov.get("/-/spaces/lv/kv-a/contacts"))
    assert "Bea Vorstand A" in contacts  # the board is named
    assert "mia@example.org" not in contacts and "bea@example.org" not in contacts
    response = member_a.form(
        "/-/spaces/profile", {"phone": "0361 1234", "show_contact": "1", "mail_opt_out": ""}
    )
    assert response.status_code == 302
    assert re.search(r'id="f-show-contact"[^>]*checked', text_of(member_a.get("/-/spaces/profile")))
    contacts = text_of(member_ov.get("/-/spaces/lv/kv-a/contacts"))
    assert "mia@example.org" in contacts and "0361 1234" in contacts
    # Only members see the contacts of a space.
    assert login("member_b").get("/-/spaces/lv/kv-a/contacts").status_code == 404
    assert login("user").get("/-/spaces/lv/kv-a/contacts").status_code == 404
    # Switching it off again hides the data.
    assert member_a.form("/-/spaces/profile", {"phone": "0361 1234"}).status_code == 302
    assert "mia@example.org" not in text_of(member_ov.get("/-/spaces/lv/kv-a/contacts"))


def test_profile_refuses_a_broken_phone_number(login):
    response = login("member_a").form("/-/spaces/profile", {"phone": "<script>"})
    assert response.status_code == 400
    assert "Bitte eine gültige Telefonnummer angeben." in text_of(response)


def test_my_area_lists_my_spaces(spaces, login):
    html = text_of(login("member_a").get("/-/me"))
    assert "Meine Gliederungen" in html
    assert "Kreisverband A" in html and "Kreisverband B" not in html
    assert "/-/spaces/lv/kv-a/members" not in html
    html = text_of(login("board_a").get("/-/me"))
    assert "Kreisverband A" in html and "/-/spaces/lv/kv-a/members" in html
    html = text_of(login("member_ov").get("/-/me"))
    assert "Ortsverband A-Nord" in html
    assert "noch in keiner Gliederung" in text_of(login("user").get("/-/me"))


def test_space_overview_offers_the_directory_to_the_board_only(login):
    html = text_of(login("board_a").get("/lv/kv-a"))
    assert "/-/spaces/lv/kv-a/members" in html and "3 Personen" in html
    html = text_of(login("member_a").get("/lv/kv-a"))
    assert "/-/spaces/lv/kv-a/members" not in html
    assert "/-/spaces/lv/kv-a/contacts" in html
    assert "Bea Vorstand A" in html  # the board is named on the space page
    html = text_of(login("anon").get("/lv/kv-a"))
    assert "/-/spaces/lv/kv-a/contacts" not in html
    assert "Bea Vorstand A" not in html  # names of the board only for members
    assert "Bea Vorstand A" not in text_of(login("member_b").get("/lv/kv-a"))


def test_space_index_is_a_tree_of_visible_spaces(login):
    html = text_of(login("anon").get("/-/spaces/"))
    positions = [html.index(name) for name in ("Landesverband Beispiel", "Kreisverband A")]
    assert positions == sorted(positions)
    assert "Ortsverband A-Nord" in html and "Kreisverband B" in html
    assert "/-/spaces/lv/kv-a/members" not in html
    assert "/-/spaces/lv/kv-a/members" in text_of(login("board_lv").get("/-/spaces/"))


def test_the_board_of_an_enclosing_space_changes_a_definition(spaces, login):
    """Board of LV is no member of KV A, yet manages it: it may change A's definition page."""
    text = with_meta(raw(spaces, "lv/kv-a"), name="Kreisverband A (neu)")
    assert edit(spaces, login("board_lv"), "lv/kv-a", text).status_code == 302
    assert space_row(spaces, "lv/kv-a").name == "Kreisverband A (neu)"
    # …but not the pages inside it that are for A's members.
    response = edit(spaces, login("board_lv"), "lv/kv-a/protokoll", "geändert")
    assert response.status_code in (403, 404)

"""Past revisions are judged at the path and time they had (wiki.revisions, issue 9 items 3, 4, 9).

Moving a members-only page out of its space, or widening the space later, must not publish the
earlier revisions through ``?rev=``, raw, diff, history, the JSON API or the resolutions page;
the resolution form and the conflict page show no text the reader may not read; restoring a
version from before a rename works.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _spaces_conftest():
    """tests/plugins/conftest.py (the spaces tree), loaded under its own module name."""
    name = "_wiki_spaces_conftest"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent / "plugins" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


S = _spaces_conftest()
SECRET = "GEHEIMER-ALTER-STAND"
PATH = "lv/kv-a/antrag"  # in lv/kv-a, whose default visibility is ``members``
NEW_PATH = "antrag-oeffentlich"  # outside every space: the site default (public)


def _close(app):
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture
def spaces(tmp_path):
    app = S.make_spaces_app(tmp_path)
    yield S.Spaces(app)
    _close(app)


@pytest.fixture
def moved(spaces):
    """A members-only page with a secret revision, moved by its board to a public path and
    edited there: ``(spaces, secret sha, rename sha, head)``."""
    secret = spaces.commit({f"{PATH}.md": S.page_text("Antrag", SECRET)}, "Entwurf")
    board = spaces.login("board_a")
    response = board.form(f"/-/rename/{PATH}", {"new_path": NEW_PATH, "message": "Veröffentlicht"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    renamed = spaces.head()
    spaces.commit({f"{NEW_PATH}.md": S.page_text("Antrag", "Die öffentliche Fassung.")})
    return spaces, secret, renamed, spaces.head()


READ_URLS = [
    "/{path}?rev={sha}",
    "/-/raw/{path}?rev={sha}",
    "/-/diff/{path}?from={sha}&to={head}",
    "/-/diff/{path}?to={sha}",
    "/-/api/v1/pages/{path}?rev={sha}",
]


@pytest.mark.parametrize("url", READ_URLS)
@pytest.mark.parametrize("role", ["anon", "user", "member_b"])
def test_a_moved_page_does_not_publish_its_members_revisions(moved, url, role):
    spaces, secret, _renamed, head = moved
    client = spaces.login(role)
    assert client.get(f"/{NEW_PATH}").status_code == 200  # the page itself is public now
    response = client.get(url.format(path=NEW_PATH, sha=secret, head=head))
    assert response.status_code == 404
    assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", READ_URLS)
def test_members_still_read_the_old_revisions_after_the_move(moved, url):
    spaces, secret, _renamed, head = moved
    response = spaces.login("member_a").get(url.format(path=NEW_PATH, sha=secret, head=head))
    assert response.status_code == 200
    assert SECRET in response.get_data(as_text=True)


def test_history_leaves_out_the_revisions_a_reader_may_not_read(moved):
    spaces, secret, renamed, head = moved
    anon = spaces.login("anon").get(f"/-/history/{NEW_PATH}").get_data(as_text=True)
    assert head in anon and renamed in anon
    assert secret not in anon and PATH not in anon  # neither the version nor its old name
    member = spaces.login("member_a").get(f"/-/history/{NEW_PATH}").get_data(as_text=True)
    assert secret in member and head in member
    # The old path (now a redirect) has no readable history for outsiders.
    assert spaces.login("anon").get(f"/-/history/{PATH}").status_code == 404
    assert spaces.login("member_a").get(f"/-/history/{PATH}").status_code == 200


def test_the_default_diff_of_the_move_shows_no_members_text(moved):
    spaces, secret, renamed, _head = moved
    response = spaces.login("anon").get(f"/-/diff/{NEW_PATH}?to={renamed}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The move published the text as it was then (its board decided so): shown as created,
    # without the members version before it or a link to that.
    assert SECRET in page
    assert secret not in page


def test_history_pagination_counts_only_readable_versions(spaces):
    spaces.app.config["WIKI_PAGE_SIZE"] = 2
    spaces.commit({f"{PATH}.md": S.page_text("Antrag", "eins")})
    spaces.commit({f"{PATH}.md": S.page_text("Antrag", "zwei")})
    spaces.commit({f"{PATH}.md": S.page_text("Antrag", "drei")})
    board = spaces.login("board_a")
    assert board.form(f"/-/rename/{PATH}", {"new_path": NEW_PATH}).status_code == 302
    public = []
    for text in ("vier", "fuenf"):
        spaces.commit({f"{NEW_PATH}.md": S.page_text("Antrag", text)})
        public.append(spaces.head())
    anon = spaces.login("anon")
    first = anon.get(f"/-/history/{NEW_PATH}").get_data(as_text=True)
    second = anon.get(f"/-/history/{NEW_PATH}?page=2")
    # Page 1: the two public edits; page 2: the move; nothing after it.
    assert public[0] in first and public[1] in first
    assert "page=2" in first
    assert second.status_code == 200
    body = second.get_data(as_text=True)
    assert "page=3" not in body
    assert body.count('name="to"') == 1  # only the move; "eins" to "drei" are members-only


def test_widening_a_space_later_does_not_publish_earlier_revisions(spaces):
    first = spaces.head()  # lv/kv-b/protokoll, members-only by its space's default
    spaces.commit({"lv/kv-b.md": S.space_text("lv/kv-b", default_visibility="public")})
    anon = spaces.login("anon")
    assert anon.get("/lv/kv-b/protokoll").status_code == 200  # public now
    assert anon.get(f"/lv/kv-b/protokoll?rev={first}").status_code == 404
    assert anon.get(f"/-/raw/lv/kv-b/protokoll?rev={first}").status_code == 404
    assert first not in anon.get("/-/history/lv/kv-b/protokoll").get_data(as_text=True)
    member = spaces.login("member_b")
    assert member.get(f"/lv/kv-b/protokoll?rev={first}").status_code == 200
    assert first in member.get("/-/history/lv/kv-b/protokoll").get_data(as_text=True)


def test_scope_at_reads_the_space_definitions_of_that_commit(spaces):
    state = spaces.state
    first = spaces.head()
    spaces.commit({"lv/kv-b.md": S.space_text("lv/kv-b", default_visibility="public")})
    spaces.commit({"lv/kv-b.md": "---\ntype: space\nname: [kaputt\n---\n"})
    broken = spaces.head()
    revisions = state.revisions
    assert revisions.scope_at("lv/kv-b/protokoll", first) == ("lv/kv-b", "members")
    assert revisions.scope_at("lv/kv-b/protokoll", spaces.head()) == ("lv/kv-b", "board")
    assert revisions.scope_at("lv/kv-b/protokoll", broken) == ("lv/kv-b", "board")
    assert revisions.scope_at("lv/kv-a/ov/treffen", first) == ("lv/kv-a/ov", "members")
    assert revisions.scope_at("hilfe", first) == (None, "public")


def test_a_deleted_page_keeps_its_old_revisions_for_its_readers_only(spaces):
    before = spaces.head()
    spaces.commit({"lv/kv-a/protokoll.md": None, "lv/kv-a/protokoll/_files/protokoll.pdf": None})
    url = f"/-/api/v1/pages/lv/kv-a/protokoll?rev={before}"
    response = spaces.login("member_a").get(url)
    assert response.status_code == 200  # used to be a 500: a deleted page has no projection row
    data = response.get_json()
    assert data["deleted"] is True and data["visibility"] == "members"
    assert "Geheime Beschlüsse von A." in data["markdown"]
    assert spaces.login("member_b").get(url).status_code == 404
    assert spaces.login("anon").get(url).status_code == 404
    assert spaces.login("anon").get("/-/history/lv/kv-a/protokoll").status_code == 404


def test_restoring_a_version_from_before_a_rename(moved):
    spaces, secret, _renamed, head = moved
    board = spaces.login("board_a")
    form = board.get(f"/-/revert/{NEW_PATH}?rev={secret}")
    assert form.status_code == 200
    response = board.form(f"/-/revert/{NEW_PATH}", {"rev": secret})
    assert response.status_code == 302  # used to be a 500 (no file under the new name)
    assert spaces.head() != head
    restored = spaces.state.store.read(f"{NEW_PATH}.md", spaces.head()).decode()
    assert SECRET in restored


def test_restoring_an_unreadable_version_is_refused_and_changes_nothing(moved):
    spaces, secret, _renamed, head = moved
    client = spaces.login("user")  # may edit the public page, may not read the old version
    assert client.get(f"/-/revert/{NEW_PATH}?rev={secret}").status_code == 404
    assert client.form(f"/-/revert/{NEW_PATH}", {"rev": secret}).status_code == 404
    assert spaces.head() == head


def test_the_editor_refuses_an_unreadable_base(spaces):
    path = "lv/kv-a/protokoll"
    spaces.commit({f"{path}.md": S.page_text("Protokoll", SECRET, "board")})
    secret = spaces.head()
    spaces.commit({f"{path}.md": S.page_text("Protokoll", "Für alle Mitglieder.", "members")})
    head = spaces.head()
    client = spaces.login("member_a")  # may edit the page now, may not read the board version
    data = {"text": "Mein Text", "base": secret, "message": "x"}
    response = client.form(f"/-/edit/{path}", data)
    assert response.status_code == 400  # was a merge with the board version (409)
    assert "Ungültige Ausgangsversion" in response.get_data(as_text=True)
    assert SECRET not in response.get_data(as_text=True)
    assert spaces.head() == head


def test_the_conflict_page_withholds_a_version_the_reader_may_not_read(spaces):
    from wiki.storage import Conflict, ConflictItem
    from wiki.views.pages import conflict_page

    base = spaces.head()
    spaces.commit({"lv/kv-a/protokoll.md": S.page_text("Protokoll", "VORSTANDSGEHEIMNIS", "board")})
    narrowed = spaces.state.store.read("lv/kv-a/protokoll.md", spaces.head())
    item = ConflictItem(
        "lv/kv-a/protokoll.md",
        b"alt",
        b"meins",
        narrowed,
        b"<<<<<<< ours\nmeins\n=======\nVORSTANDSGEHEIMNIS\n>>>>>>> theirs\n",
    )
    conflict = Conflict([item], spaces.head())
    with spaces.app.test_request_context("/"):
        from flask import g

        g.wiki_principal = spaces.principal("member_a")
        body, status = conflict_page(conflict, "lv/kv-a/protokoll", "meins", "x")
        assert status == 409
        assert "VORSTANDSGEHEIMNIS" not in body and "meins" in body
    with spaces.app.test_request_context("/"):
        from flask import g

        g.wiki_principal = spaces.principal("board_a")
        body, _status = conflict_page(conflict, "lv/kv-a/protokoll", "meins", "x")
        assert "VORSTANDSGEHEIMNIS" in body
    assert base != spaces.head()


# -- resolutions ----------------------------------------------------------------------------------

RES_PATH = "lv/kv-a/beschluesse/2024/kva-kmv-2024-a1"


@pytest.fixture
def resolutions(tmp_path):
    app = S.make_resolutions_app(tmp_path)
    yield S.Spaces(app)
    _close(app)


def _board_resolution(spaces):
    """A board-only resolution with a secret title, later widened to members: (old sha, head)."""
    text = S.resolution_text("KVA-KMV-2024-A1", title="Geheimer Vorstandstitel", visibility="board")
    spaces.commit({f"{RES_PATH}.md": text})
    secret = spaces.head()
    widened = S.resolution_text("KVA-KMV-2024-A1", title="Mitgliederfassung", visibility="members")
    spaces.commit({f"{RES_PATH}.md": widened})
    return secret, spaces.head()


def test_resolution_form_refuses_an_unreadable_base(resolutions):
    secret, head = _board_resolution(resolutions)
    client = resolutions.login("member_a")
    form = client.get(f"/-/resolutions/edit/{RES_PATH}")
    assert form.status_code == 200
    assert "Geheimer Vorstandstitel" not in form.get_data(as_text=True)
    data = {"base": secret, "check": "1", "title": "x"}
    response = client.form(f"/-/resolutions/edit/{RES_PATH}", data)
    assert response.status_code == 409
    assert "Geheimer Vorstandstitel" not in response.get_data(as_text=True)
    response = client.form(f"/-/resolutions/edit/{RES_PATH}", {"base": secret, "title": "x"})
    assert response.status_code == 409
    assert "Geheimer Vorstandstitel" not in response.get_data(as_text=True)
    assert resolutions.head() == head
    # The board may use it.
    board = resolutions.login("board_a").form(f"/-/resolutions/edit/{RES_PATH}", data)
    assert board.status_code == 200
    assert "Geheimer Vorstandstitel" in board.get_data(as_text=True)


def test_resolution_versions_leave_out_unreadable_revisions(resolutions):
    path = "lv/kv-b/beschluesse/2024/kvb-kmv-2024-a1"
    resolutions.commit({f"{path}.md": S.resolution_text("KVB-KMV-2024-A1", text=SECRET)})
    secret = resolutions.head()  # members-only: lv/kv-b's default then
    resolutions.commit({"lv/kv-b.md": S.space_text("lv/kv-b", default_visibility="public")})
    changed = S.resolution_text("KVB-KMV-2024-A1", text="Öffentlicher Text.")
    resolutions.commit({f"{path}.md": changed})
    head = resolutions.head()
    page = resolutions.login("anon").get(f"/{path}")
    assert page.status_code == 200
    assert head in page.get_data(as_text=True)
    assert secret not in page.get_data(as_text=True)
    assert secret in resolutions.login("member_b").get(f"/{path}").get_data(as_text=True)


def test_document_versions_from_before_a_widening_are_left_out(spaces):
    path, name = "lv/kv-b/protokoll", "plan.pdf"
    spaces.commit({f"{path}/_files/{name}": b"%PDF-1.4\n% alt\n%%EOF\n"}, "Plan alt")
    old = spaces.head()
    spaces.commit({"lv/kv-b.md": S.space_text("lv/kv-b", default_visibility="public")})
    spaces.commit({f"{path}/_files/{name}": b"%PDF-1.4\n% neu\n%%EOF\n"}, "Plan neu")
    new = spaces.head()
    anon = spaces.login("anon")
    body = anon.get(f"/-/file-history/{path}/{name}").get_data(as_text=True)
    assert new in body and old not in body
    assert anon.get(f"/-/files/{path}/{name}?rev={old}").status_code == 404
    member = spaces.login("member_b").get(f"/-/file-history/{path}/{name}")
    assert old in member.get_data(as_text=True)


def test_commit_messages_are_judged_at_the_time_of_the_commit(spaces):
    """After a widening and a rebuild of the projections (which records today's visibility
    for old commits), a members-only commit's message still stays hidden."""
    spaces.commit(
        {"lv/kv-b/protokoll.md": S.page_text("Protokoll B", "Zweite Fassung.")},
        "Geheime Nachricht an B",
    )
    spaces.commit({"lv/kv-b.md": S.space_text("lv/kv-b", default_visibility="public")})
    with spaces.app.app_context():
        spaces.state.syncer.reindex()
    anon = spaces.login("anon")
    assert "Geheime Nachricht an B" not in anon.get("/-/changes").get_data(as_text=True)
    assert "Geheime Nachricht an B" not in anon.get("/-/changes.atom").get_data(as_text=True)
    member = spaces.login("member_b").get("/-/changes").get_data(as_text=True)
    assert "Geheime Nachricht an B" in member

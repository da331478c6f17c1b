"""Space definitions fail closed: a pushed definition that does not validate never widens access.

A broken definition over a valid space keeps the last valid definition; a space that never had a
valid definition is admins-only. Sync, reindex and check follow the same rule
(``plugins/spaces/definitions.py``), and ``/-/problems`` lists the definition with a note.
"""

from __future__ import annotations

from conftest import page_text, space_text

from plugins.spaces import definitions
from plugins.spaces.models import Space

BROKEN_KIND = space_text("lv/kv-a", kind="verein")  # validates as YAML, not as a definition
UNREADABLE = "---\ntype: space\nname: [Kreisverband B\n---\n# B\n"


def status(spaces, role, path):
    return spaces.login(role).get(f"/{path}").status_code


def space_state(spaces, path):
    with spaces.state.sessions() as session:
        row = session.get(Space, path)
        return None if row is None else (row.state, row.default_visibility)


def check_and_reindex_agree(spaces):
    with spaces.app.app_context():
        assert spaces.state.syncer.check() == []
        spaces.state.syncer.reindex()
        assert spaces.state.syncer.check() == []


def test_a_broken_definition_keeps_the_last_valid_one(spaces):
    assert status(spaces, "user", "lv/kv-a/protokoll") == 404
    spaces.commit({"lv/kv-a.md": BROKEN_KIND}, "kaputte Definition gepusht")

    assert space_state(spaces, "lv/kv-a") == (definitions.STALE, "members")
    for role in ("anon", "user", "member_b"):
        assert status(spaces, role, "lv/kv-a/protokoll") == 404, role
        assert status(spaces, role, "lv/kv-a/vorstand") == 404, role
    assert status(spaces, "member_a", "lv/kv-a/protokoll") == 200
    assert status(spaces, "anon", "lv/kv-a/oeffentlich") == 200  # declared public stays public
    # The broken definition page itself is board-only until it is fixed.
    assert status(spaces, "anon", "lv/kv-a") == 404
    assert status(spaces, "member_a", "lv/kv-a") == 404
    assert status(spaces, "board_a", "lv/kv-a") == 200

    problems = spaces.login("admin").get("/-/problems").get_data(as_text=True)
    assert "lv/kv-a" in problems and "„kind“" in problems
    assert "letzte gültige Festlegung" in problems
    check_and_reindex_agree(spaces)
    assert space_state(spaces, "lv/kv-a") == (definitions.STALE, "members")
    assert status(spaces, "user", "lv/kv-a/protokoll") == 404
    assert status(spaces, "member_a", "lv/kv-a/protokoll") == 200

    spaces.commit({"lv/kv-a.md": space_text("lv/kv-a")}, "repariert")
    assert space_state(spaces, "lv/kv-a") == (definitions.OK, "members")
    assert status(spaces, "anon", "lv/kv-a") == 200
    assert status(spaces, "user", "lv/kv-a/protokoll") == 404
    assert "lv/kv-a" not in spaces.login("admin").get("/-/problems").get_data(as_text=True)
    check_and_reindex_agree(spaces)


def test_unreadable_front_matter_over_a_space_keeps_it_too(spaces):
    spaces.commit({"lv/kv-b.md": UNREADABLE})
    assert space_state(spaces, "lv/kv-b") == (definitions.STALE, "members")
    assert status(spaces, "user", "lv/kv-b/protokoll") == 404
    assert status(spaces, "member_b", "lv/kv-b/protokoll") == 200
    check_and_reindex_agree(spaces)


def test_a_new_space_without_valid_definition_is_admins_only(spaces):
    spaces.commit(
        {
            "neu.md": space_text("neu", default_visibility="public", kind="verein"),
            "neu/seite.md": page_text("Neue Seite", "Interna."),
            "neu/offen.md": page_text("Offene Seite", "Soll öffentlich sein.", "public"),
            "neu/sub.md": "---\ntitle: Sub\nvisibility: internal\n---\nx\n",
        },
        "neue Gliederung mit Fehler",
    )
    assert space_state(spaces, "neu") == (definitions.CLOSED, "board")
    for path in ("neu", "neu/seite", "neu/offen", "neu/sub"):
        for role in ("anon", "user", "member_a", "board_lv"):
            assert status(spaces, role, path) == 404, (role, path)
        assert status(spaces, "admin", path) == 200, path
    assert b"neu/offen" not in spaces.login("anon").get("/-/changes").data
    assert b"Offene Seite" not in spaces.login("user").get("/-/pages").data
    # Nobody but an admin may fix it.
    editor = spaces.login("board_lv")
    assert editor.get("/-/edit/neu/offen").status_code == 404
    problems = spaces.login("admin").get("/-/problems").get_data(as_text=True)
    assert "nur für Administrator*innen" in problems
    assert "neu" not in spaces.login("user").get("/-/problems").get_data(as_text=True)
    check_and_reindex_agree(spaces)
    assert status(spaces, "anon", "neu/offen") == 404

    spaces.commit({"neu.md": space_text("neu", default_visibility="members")}, "repariert")
    assert space_state(spaces, "neu") == (definitions.OK, "members")
    assert status(spaces, "anon", "neu/offen") == 200
    assert status(spaces, "user", "neu/sub") == 200
    assert status(spaces, "user", "neu/seite") == 404
    check_and_reindex_agree(spaces)


def test_a_broken_push_after_a_dissolution_does_not_revive_the_old_definition(spaces):
    spaces.commit({"lv/kv-b.md": None, "lv/kv-b/protokoll.md": None}, "aufgelöst")
    assert space_state(spaces, "lv/kv-b") is None
    spaces.commit(
        {
            "lv/kv-b.md": space_text("lv/kv-b", code="!!"),
            "lv/kv-b/neu.md": page_text("Neu", "x", "public"),
        }
    )
    assert space_state(spaces, "lv/kv-b") == (definitions.CLOSED, "board")
    assert status(spaces, "anon", "lv/kv-b/neu") == 404
    check_and_reindex_agree(spaces)

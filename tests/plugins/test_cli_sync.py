"""CLI commands that read projections first catch up with git, as the server does: a space or a
resolution committed straight to the repository (a push, no sync) is known to the next command;
``check`` still sees the difference (it must not sync first)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from wiki.cli import make_app
from wiki.storage import Author

ANTRAGSGRUEN = Path(__file__).resolve().parent.parent / "fixtures" / "antragsgruen"
PUSHER = Author("u-admin", "admin@example.org")

SPACE = (
    "---\ntitle: Kreisverband Gepusht\ntype: space\nname: Kreisverband Gepusht\ncode: KVG\n"
    "kind: kreisverband\ndefault_visibility: members\nedit: members\nvisibility: public\n---\n"
    "Frisch gepusht.\n"
)

RESOLUTION = (
    "---\ntitle: Gepushter Beschluss\ntype: resolution\nid: KVG-2024-A1\nnumber: A1\n"
    "body: Kreismitgliederversammlung\ndecided: 2024-05-04\noutcome: angenommen\n"
    "validity: in_kraft\nsource:\n  system: antragsgruen\n  id: '310'\n---\n"
    "## Beschlusstext\n\nWir beschließen etwas.\n"
)


def push(path: Path, files: dict[str, str | None]) -> None:
    """Commit ``files`` with the GitStore directly, bypassing the sync (like a ``git push``)."""
    app = make_app(str(path))
    store = app.extensions["wiki"].store
    try:
        changes = {name: text and text.encode() for name, text in files.items()}
        store.commit(changes, store.head(), PUSHER, "gepusht")
    finally:
        store.close()
        app.extensions["wiki"].engine.dispose()


def memberships(path: Path) -> list[tuple[str, str]]:
    from plugins.spaces.models import Membership

    app = make_app(str(path))
    state = app.extensions["wiki"]
    try:
        with state.sessions() as session:
            return [(m.space, m.role) for m in session.scalars(select(Membership))]
    finally:
        state.store.close()
        state.engine.dispose()


def test_space_pushed_without_sync_is_known_to_space_commands(fresh_instance):
    push(fresh_instance.path, {"kv-gepusht.md": SPACE})
    assert fresh_instance("check").exit_code == 1  # check sees the unsynced push (it does not sync)

    added = fresh_instance("space", "add-member", "kv-gepusht", "alice", "--board")
    assert added.exit_code == 0, added.output
    assert memberships(fresh_instance.path) == [("kv-gepusht", "board")]
    listed = fresh_instance("space", "list")
    assert listed.exit_code == 0
    assert "kv-gepusht\tKVG\tkreisverband\tKreisverband Gepusht\t1 Mitglied" in listed.output
    members = fresh_instance("space", "members", "kv-gepusht")
    assert members.exit_code == 0 and "alice" in members.output
    assert fresh_instance("check").exit_code == 0  # the commands left the projections in step


def test_space_deleted_by_a_push_is_gone_for_space_commands(fresh_instance):
    push(fresh_instance.path, {"kv-gepusht.md": SPACE})
    assert fresh_instance("space", "add-member", "kv-gepusht", "alice").exit_code == 0
    push(fresh_instance.path, {"kv-gepusht.md": None})
    refused = fresh_instance("space", "add-member", "kv-gepusht", "alice", "--board")
    assert refused.exit_code == 1
    assert "Keine Gliederung „kv-gepusht“" in refused.output
    assert memberships(fresh_instance.path) == [("kv-gepusht", "member")]  # unchanged
    assert "kv-gepusht" not in fresh_instance("space", "list").output


def test_resolution_pushed_without_sync_is_found_by_the_import(fresh_instance):
    push(fresh_instance.path, {"beschluesse/2024/kvg-2024-a1.md": RESOLUTION})
    result = fresh_instance("resolutions", "import", str(ANTRAGSGRUEN / "motion_b1.json"))
    assert result.exit_code == 0, result.output
    # the item (Antragsgrün id 310) is the pushed resolution: updated in place, not created anew
    assert "Angelegt: 0" in result.output
    assert "Aktualisiert: 1" in result.output
    assert "beschluesse/2024/kvg-2024-a1" in result.output

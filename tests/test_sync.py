"""Projections follow git: after commits, after a crash, after an external push; reindex, check."""

import subprocess

from sqlalchemy import select

from wiki.db import Document, Link, PageRow, Redirect, SyncState
from wiki.storage import Author

AUTHOR = Author("u-test", "test@noreply.invalid")


def rows(app, model):
    with app.extensions["wiki"].sessions() as session:
        return session.scalars(select(model)).all()


def page_paths(app):
    return {row.path for row in rows(app, PageRow)}


def test_initial_sync_projects_starter_pages(app):
    paths = page_paths(app)
    assert {"start", "hilfe", "impressum", "datenschutz"} <= paths
    assert app.extensions["wiki"].syncer.check() == []


def test_commit_without_sync_is_caught_up_later(app):
    """A crash between commit and projection update loses nothing."""
    state = app.extensions["wiki"]
    state.store.commit(
        {"neu.md": b"# Neu\n\n[[start]]\n"},
        base=state.store.head(),
        author=AUTHOR,
        message="ohne Sync",
    )
    assert "neu" not in page_paths(app)
    assert state.syncer.check() != []
    state.syncer.sync()
    assert "neu" in page_paths(app)
    assert ("neu", "start") in {(link.src, link.dst) for link in rows(app, Link)}
    assert state.syncer.check() == []


def test_external_push_appears_in_the_ui(app, tmp_path):
    state = app.extensions["wiki"]
    clone = tmp_path / "clone"
    env = {
        "GIT_AUTHOR_NAME": "x",
        "GIT_AUTHOR_EMAIL": "x@x",
        "GIT_COMMITTER_NAME": "x",
        "GIT_COMMITTER_EMAIL": "x@x",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    subprocess.run(
        ["git", "clone", "-q", str(state.store.repo_path), str(clone)], check=True, env=env
    )
    (clone / "gepusht.md").write_text("---\ntitle: Von außen\n---\nHallo\n", encoding="utf-8")
    (clone / "kaputt.md").write_text("---\ntitle: [offen\n---\nx\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(clone), "add", "."], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "commit", "-qm", "push"], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "main"], check=True, env=env)
    client = app.test_client()
    response = client.get("/gepusht")
    assert response.status_code == 200
    assert "Von außen" in response.get_data(as_text=True)
    assert "kaputt" not in client.get("/-/problems").get_data(as_text=True)
    from conftest import log_in

    problems = log_in(app, "admin").get("/-/problems").get_data(as_text=True)
    assert "kaputt" in problems and "fehlerhaft" in problems


def test_sync_state_advances_only_from_its_start(app):
    state = app.extensions["wiki"]
    with state.sessions() as session:
        before = session.get(SyncState, "core").commit
    assert before == state.store.head()


def test_reindex_equals_incremental(app):
    state = app.extensions["wiki"]
    head = state.store.head()
    state.store.commit(
        {"a.md": b"# A\n[[b]]", "a/_files/x.txt": b"x"}, base=head, author=AUTHOR, message="a"
    )
    state.syncer.sync()
    state.store.commit({"b.md": b"# B\n[[a]]"}, base=state.store.head(), author=AUTHOR, message="b")
    state.syncer.sync()

    def snapshot():
        return (
            sorted((r.path, r.title, r.blob, r.effective_visibility) for r in rows(app, PageRow)),
            sorted((r.src, r.dst) for r in rows(app, Link)),
            sorted((r.page, r.name, r.blob) for r in rows(app, Document)),
        )

    incremental = snapshot()
    state.syncer.reindex()
    assert snapshot() == incremental
    assert state.syncer.check() == []


def test_rename_leaves_redirect_and_purge_rebuilds(app):
    state = app.extensions["wiki"]
    head = state.store.head()
    state.store.commit({"alt.md": b"# Alt"}, base=head, author=AUTHOR, message="x")
    head = state.store.head()
    state.store.commit(
        {"alt.md": None, "neu-name.md": b"# Alt"},
        base=head,
        author=AUTHOR,
        message="mv",
        trailers=[("Wiki-Renamed-From", "alt => neu-name")],
    )
    state.syncer.sync()
    redirects = {(r.old_path, r.new_path) for r in rows(app, Redirect)}
    assert ("alt", "neu-name") in redirects
    assert app.test_client().get("/alt").status_code == 301
    state.store.purge("neu-name.md")
    state.syncer.sync()
    assert "neu-name" not in page_paths(app)
    assert state.syncer.check() == []


def test_pushed_page_with_broken_front_matter_is_never_exposed(app):
    """Unreadable front matter may have said `visibility: board`: treat it as the strictest."""
    state = app.extensions["wiki"]
    state.store.commit(
        {"kaputt.md": b"---\nvisibility: board\ntitle: [offen\n---\ngeheim\n"},
        base=state.store.head(),
        author=AUTHOR,
        message="push",
    )
    state.syncer.sync()
    client = app.test_client()
    assert client.get("/kaputt").status_code == 404
    assert "kaputt" not in client.get("/-/problems").get_data(as_text=True)
    with state.sessions() as session:
        assert session.get(PageRow, "kaputt").effective_visibility == "board"


def test_pushed_page_failing_its_type_validator_is_listed(tmp_path):
    import sample_plugin
    from conftest import make_test_app

    app = make_test_app(tmp_path, WIKI_PLUGINS=["sample_plugin"])
    state = app.extensions["wiki"]
    state.store.commit(
        {"zaehler.md": b"---\ntype: counter\nstart: -5\n---\n"},
        base=state.store.head(),
        author=AUTHOR,
        message="push",
    )
    state.syncer.sync()
    problems = app.test_client().get("/-/problems").get_data(as_text=True)
    assert "zaehler" in problems and "nicht negative" in problems
    sample_plugin.PROJECTION.clear()

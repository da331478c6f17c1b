"""Page views: edit, conflicts, validation, new pages, rename, delete, revert, history, diff."""

import re
import time

import pytest
from conftest import PASSWORD, head, save
from sqlalchemy import select

from wiki.db import PageRow


def text_of(response):
    return response.get_data(as_text=True)


def commit_count(app):
    store = app.extensions["wiki"].store
    return len(store.history("start.md", limit=1000)), store.head()


def test_view_start_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "<main" in text_of(response)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_edit_and_view(login):
    client = login("user")
    response = save(client, "neu/seite", "# Hallo Welt\n\nText mit [[start]] und [[fehlt]].")
    assert response.status_code == 302
    page = text_of(client.get("/neu/seite"))
    assert "Hallo Welt" in page
    assert 'href="/start"' in page
    assert re.search(r'class="wikilink new"[^>]*href="/-/edit/fehlt"', page) or re.search(
        r'href="/-/edit/fehlt"[^>]*class="wikilink new"', page
    )


def test_anonymous_cannot_edit(client, app):
    before = head(app)
    response = client.get("/-/edit/start")
    assert response.status_code == 302 and "/-/login" in response.headers["Location"]
    assert head(app) == before


def test_stale_base_conflict_keeps_text(login, app):
    alice, bob = login("user"), login("other")
    base = head(app)
    assert save(alice, "start", "Zeile eins\nAlice\n", base=base).status_code == 302
    after_alice = head(app)
    response = save(bob, "start", "Zeile eins\nBob\n", base=base)
    assert response.status_code == 409
    body = text_of(response)
    assert "Bob" in body and "Alice" in body
    assert head(app) == after_alice


def test_clean_merge_from_stale_base(login, app):
    alice, bob = login("user"), login("other")
    save(alice, "merge-test", "a\nb\nc\nd\ne\nf\n", base="")
    base = head(app)
    assert save(alice, "merge-test", "A\nb\nc\nd\ne\nf\n", base=base).status_code == 302
    assert save(bob, "merge-test", "a\nb\nc\nd\ne\nF\n", base=base).status_code == 302
    raw = text_of(bob.get("/-/raw/merge-test"))
    assert raw.startswith("A\n") and raw.endswith("F\n")


def test_invalid_front_matter_is_refused_with_every_problem(login, app):
    client = login("user")
    before = head(app)
    response = save(client, "start", "---\nvisibility: geheim\ntags: x\n---\nText")
    assert response.status_code == 400
    body = text_of(response)
    assert "visibility" in body and "tags" in body
    assert "geheim" in body  # the user's text is kept in the form
    assert head(app) == before


def test_unknown_page_type_is_refused(login, app):
    before = head(app)
    response = save(login("user"), "x", "---\ntype: gibtsnicht\n---\nText")
    assert response.status_code == 400
    assert head(app) == before


@pytest.mark.parametrize("name", ["../x", "A", "-rf", "a/_files/x", "x" * 300])
def test_bad_names_on_edit(login, app, name):
    before = head(app)
    response = login("user").form(f"/-/edit/{name}", {"text": "x", "base": ""})
    assert response.status_code in (400, 404)
    assert head(app) == before


def test_new_page_from_title(login, app):
    client = login("user")
    response = client.form("/-/new", {"title": "Beschlüsse 2024"})
    assert response.status_code == 302
    assert "/-/edit/beschluesse-2024" in response.headers["Location"]
    save(client, "beschluesse-2024", "# Beschlüsse 2024")
    taken = client.form("/-/new", {"title": "Beschlüsse 2024"})
    assert taken.status_code == 400
    assert "nicht verfügbar" in text_of(taken)


def test_create_refuses_existing_name(login, app):
    before = head(app)
    response = save(login("user"), "start", "überschreiben", base="")
    assert response.status_code == 409
    assert head(app) == before


def test_internal_page_hidden_from_anonymous(login, client):
    save(login("user"), "intern", "---\nvisibility: internal\n---\nGeheimnis")
    assert client.get("/intern").status_code == 404
    assert client.get("/-/raw/intern").status_code == 404
    assert client.get("/-/history/intern").status_code == 404
    assert "Geheimnis" in text_of(login("user").get("/intern"))
    assert "intern" not in text_of(client.get("/-/pages"))


def test_history_diff_and_past_revision(login, app):
    client = login("user")
    save(client, "verlauf", "eins zwei drei", base="")
    first = head(app)
    save(client, "verlauf", "eins vier drei")
    history = text_of(client.get("/-/history/verlauf"))
    assert first[:7] in history
    diff = client.get(f"/-/diff/verlauf?from={first}&to={head(app)}")
    assert diff.status_code == 200
    assert "<del>zwei</del>" in text_of(diff) and "<ins>vier</ins>" in text_of(diff)
    old = text_of(client.get(f"/verlauf?rev={first}"))
    assert "zwei" in old
    assert client.get("/verlauf?rev=--output=x").status_code == 404
    assert client.get("/-/diff/verlauf?from=HEAD&to=main").status_code == 404


def test_past_revision_needs_both_permissions(login, client, app):
    user = login("user")
    save(user, "wechsel", "---\nvisibility: internal\n---\nfrüher intern", base="")
    internal_rev = head(app)
    save(user, "wechsel", "---\nvisibility: public\n---\njetzt öffentlich")
    assert client.get("/wechsel").status_code == 200
    assert client.get(f"/wechsel?rev={internal_rev}").status_code == 404
    assert client.get(f"/-/raw/wechsel?rev={internal_rev}").status_code == 404
    assert "früher intern" not in text_of(client.get("/-/history/wechsel"))


def test_revert(login, app):
    client = login("user")
    save(client, "zurueck", "Version 1", base="")
    first = head(app)
    save(client, "zurueck", "Version 2")
    response = client.form("/-/revert/zurueck", {"rev": first})
    assert response.status_code == 302
    assert text_of(client.get("/-/raw/zurueck")) == "Version 1"


def test_delete_and_restore(login, app):
    client = login("user")
    save(client, "weg", "bleibt in der Historie", base="")
    created = head(app)
    response = client.form("/-/delete/weg", {"base": head(app), "message": "weg damit"})
    assert response.status_code == 302
    assert client.get("/weg").status_code == 404
    assert client.get("/-/history/weg").status_code == 200
    client.form("/-/revert/weg", {"rev": created})
    assert "bleibt in der Historie" in text_of(client.get("/weg"))


def test_rename_moves_subpages_documents_and_links(login, app):
    client = login("user")
    save(client, "alt", "# Alt", base="")
    save(client, "alt/unter", "# Unterseite", base="")
    save(client, "verweis", "Siehe [[alt]] und [[alt/unter|die Unterseite]].", base="")
    client.form(
        "/-/files/alt",
        {"file": (__import__("io").BytesIO(b"pdf"), "a.pdf")},
        content_type="multipart/form-data",
    )
    response = client.form(
        "/-/rename/alt", {"new_path": "neu", "update_links": "1", "message": "umbenannt"}
    )
    assert response.status_code == 302
    assert client.get("/neu").status_code == 200
    assert client.get("/neu/unter").status_code == 200
    assert client.get("/alt").status_code == 301
    assert client.get("/alt").headers["Location"].endswith("/neu")
    assert client.get("/alt/unter").headers["Location"].endswith("/neu/unter")
    assert client.get("/-/files/neu/a.pdf").status_code == 200
    raw = text_of(client.get("/-/raw/verweis"))
    assert "[[neu|alt]]" in raw and "[[neu/unter|die Unterseite]]" in raw
    history = text_of(client.get("/-/history/neu"))
    assert history.count("<tr") >= 3  # header + rename + creation under the old name


def test_rename_onto_existing_page_is_refused(login, app):
    client = login("user")
    save(client, "eins", "1", base="")
    save(client, "zwei", "2", base="")
    before = head(app)
    response = client.form("/-/rename/eins", {"new_path": "zwei"})
    assert response.status_code == 400
    assert "nicht verfügbar" in text_of(response)
    assert head(app) == before


def test_backlinks_index_and_changes(login, client):
    user = login("user")
    save(user, "ziel", "# Ziel", base="")
    save(user, "quelle", "[[ziel]]", base="")
    save(user, "geheim", "---\nvisibility: internal\n---\n[[ziel]] Geheimquelle", base="")
    backlinks = text_of(client.get("/-/backlinks/ziel"))
    assert "quelle" in backlinks and "geheim" not in backlinks
    assert "geheim" in text_of(user.get("/-/backlinks/ziel"))
    changes = text_of(client.get("/-/changes"))
    assert "quelle" in changes and "geheim" not in changes
    atom = client.get("/-/changes.atom")
    assert atom.mimetype == "application/atom+xml"
    assert b"geheim" not in atom.data


def test_feed_token_shows_internal_changes(login, client, app):
    user = login("user")
    save(user, "interna", "---\nvisibility: internal\n---\nx", base="")
    response = user.form("/-/account", {"action": "feed-token", "name": "Feed"})
    token = re.search(r"token=([A-Za-z0-9_\-]+)", text_of(response)).group(1)
    assert b"interna" in client.get(f"/-/changes.atom?token={token}").data
    assert client.get("/-/changes.atom?token=falsch").status_code == 404


def test_preview_renders_without_saving(login, app):
    client = login("user")
    before = head(app)
    response = client.form(
        "/-/edit/start", {"text": "# Vorschau-Test", "base": before, "preview": "1"}
    )
    assert response.status_code == 200
    assert "Vorschau-Test" in text_of(response)
    assert head(app) == before
    fragment = client.form("/-/preview", {"text": "**fett**", "path": "start"})
    assert "<strong>fett</strong>" in text_of(fragment)


def test_projection_row_after_save(login, app):
    save(login("user"), "proj", "---\ntitle: Projektion\ntags: [a]\n---\n", base="")
    with app.extensions["wiki"].sessions() as session:
        row = session.scalar(select(PageRow).where(PageRow.path == "proj"))
    assert row.title == "Projektion" and row.effective_visibility == "public"


def test_anonymous_page_cache_follows_every_commit(login, client):
    user = login("user")
    save(user, "gecacht", "Fassung eins", base="")
    assert "Fassung eins" in text_of(client.get("/gecacht"))
    assert "Fassung eins" in text_of(client.get("/gecacht"))  # served from the cache
    save(user, "gecacht", "Fassung zwei")
    assert "Fassung zwei" in text_of(client.get("/gecacht"))
    save(user, "gecacht", "---\nvisibility: internal\n---\nFassung drei")
    assert client.get("/gecacht").status_code == 404
    save(user, "ziel-neu", "da", base="")
    save(user, "verlinkt", "[[ziel-fehlt]]", base="")
    assert 'class="wikilink new"' in text_of(client.get("/verlinkt"))
    save(user, "ziel-fehlt", "jetzt da", base="")
    assert 'class="wikilink new"' not in text_of(client.get("/verlinkt"))


def test_anonymous_page_cache_drops_a_changed_author_name(login, client, app):
    user = login("user")
    save(user, "von-alice", "Text", base="")
    assert "Alice Mitglied" in text_of(client.get("/von-alice"))
    assert "Alice Mitglied" in text_of(client.get("/von-alice"))  # served from the cache
    response = user.form("/-/account", {"action": "profile", "display_name": "Alice Neu"})
    assert response.status_code == 302
    page = text_of(client.get("/von-alice"))
    assert "Alice Neu" in page and "Alice Mitglied" not in page
    user.form("/-/account/delete", {"password": PASSWORD, "confirm": "1"})
    page = text_of(client.get("/von-alice"))
    assert "ehemaliges Mitglied" in page and "Alice Neu" not in page


def test_anonymous_page_cache_entries_expire_with_cached_names(client, app):
    import wiki.views.pages as views

    assert client.get("/hilfe").status_code == 200
    with app.app_context():
        kept = views.anonymous_pages()
        key = ("hilfe", app.extensions["wiki"].syncer.synced_head, "de")
        found = kept.get(key)
        again = client.get("/hilfe")  # from the cache, as the first view said it
        assert found is not None and found[1] == again.get_data()
        assert again.content_type == "text/html; charset=utf-8"
        kept.put(key, (time.monotonic() + 60, b"aus dem Speicher"))
        assert text_of(client.get("/hilfe")) == "aus dem Speicher"
        kept.put(key, (time.monotonic() - 1, b"abgelaufen"))  # past its lifetime: built anew
    assert "abgelaufen" not in text_of(client.get("/hilfe"))


def test_page_frame_is_shared_by_equal_readers_and_keyed_by_rights(login, app, monkeypatch):
    import wiki.views.pages as views

    alice, bob = login("user"), login("other")
    save(alice, "rahmen", "# Rahmen\n\n## Eins\n\n## Zwei\n\n## Drei\n", base="")
    alice.get("/rahmen")  # shows the message of the save once
    with app.app_context():
        frames = views.cache_in(app.extensions["wiki"], "page_frames")
        frames.clear()
    first = text_of(alice.get("/rahmen"))
    assert "/-/edit/rahmen" in first and 'class="toc"' in first and "Umbenennen" in first
    assert main_of(text_of(bob.get("/rahmen"))) == main_of(first)
    assert len(frames) == 1  # one frame for both: same allow-set, same rights

    real_can = views.can
    monkeypatch.setattr(
        views, "can", lambda action, ref: action == "read" and real_can(action, ref)
    )
    restricted = text_of(bob.get("/rahmen"))
    assert "/-/edit/rahmen" not in restricted and "Umbenennen" not in restricted
    assert 'class="toc"' in restricted
    assert len(frames) == 2


def test_readers_share_the_page_text_unless_a_link_turns_red(login, client, app):
    """Every reader whose links all stay as they are keeps the same text object in the view
    caches (one copy a page, not one per allow-set); a reader for whom a link turns red gets
    its own."""
    import wiki.views.pages as views

    alice = login("user")
    save(alice, "geteilt", "# Geteilt\n\n[[Hilfe]] und [[geteilt/intern]]\n", base="")
    save(alice, "geteilt/intern", "---\nvisibility: internal\n---\n# Intern\n", base="")
    save(alice, "offen", "# Offen\n\nNur [[Hilfe]].\n", base="")
    for reader in (alice, client):
        for path in ("/geteilt", "/offen"):
            assert reader.get(path).status_code == 200
    with app.app_context():
        parts = views.cache_in(app.extensions["wiki"], "reader_parts")
        kept = {}
        for key, (html, _toc, _crumbs) in list(parts._data.items()):
            kept.setdefault(key[0], []).append(html)
    shared, split = kept["offen"], kept["geteilt"]
    assert len(shared) == 2 and shared[0] is shared[1]
    assert len(split) == 2 and split[0] is not split[1]
    assert sum("wikilink new" in html for html in split) == 1  # the anonymous reader's


def main_of(page: str) -> str:
    """Everything of a page view between the site header and the footer."""
    return page[
        page.index("</header>", page.index('class="site-header"')) : page.index(
            '<footer class="site-footer'
        )
    ]


def test_anonymous_readers_get_no_session_cookie(client):
    response = client.get("/hilfe")
    assert "Set-Cookie" not in response.headers


def test_tags_shown_as_badges_on_the_page_and_in_search(login, client):
    save(login("user"), "getaggt", "---\ntags: [alpha, beta]\n---\n# Getaggt\n\nText", base="")
    for page in (text_of(client.get("/getaggt")), text_of(client.get("/-/search?q=getaggt"))):
        assert 'class="tags" aria-label="Schlagwörter"' in page
        assert '<li class="tag badge">alpha</li>' in page
        assert '<li class="tag badge">beta</li>' in page

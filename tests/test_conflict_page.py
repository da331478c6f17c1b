"""The edit conflict page: both versions, a merge to edit, three buttons that work without JS."""

from __future__ import annotations

import html
import re
import subprocess

import pytest

from tests.conftest import head, save

PAGE = "konflikt"
BASE_TEXT = "# Sommerfest\n\nOrt: Stadtpark\nZeit: 15 Uhr\nEssen: Kuchen\nMusik: Band\n"
THEIRS = BASE_TEXT.replace("Ort: Stadtpark", "Ort: Marktplatz").replace("Band", "DJ")
MINE = BASE_TEXT.replace("Ort: Stadtpark", "Ort: Schlosshof")


def body(response) -> str:
    return response.get_data(as_text=True)


def field(page: str, name: str) -> str:
    """The value of a form field (hidden input or textarea) as the browser would send it."""
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    if found:
        return html.unescape(found.group(1))
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\n(.*?)</textarea>', page, re.S)
    assert found, f"no field {name}"
    return html.unescape(found.group(1))


def commits(app) -> int:
    store = app.extensions["wiki"].store
    out = subprocess.run(
        ["git", "--git-dir", store.repo_path, "rev-list", "--count", "main"],
        capture_output=True,
        check=True,
    )
    return int(out.stdout)


def raw(app) -> str:
    return app.extensions["wiki"].store.read(f"{PAGE}.md").decode()


@pytest.fixture
def conflict(app, login):
    """Alice saves first, Bob (from the same base) changes the same line: 409."""
    alice, bob = login("user"), login("other")
    assert save(alice, PAGE, BASE_TEXT, base="").status_code == 302
    base = head(app)
    assert save(alice, PAGE, THEIRS, base=base).status_code == 302
    after_alice = head(app)
    response = save(bob, PAGE, MINE, base=base, message="Ort von Bob")
    assert response.status_code == 409
    assert head(app) == after_alice
    return bob, body(response), after_alice


def test_same_line_conflict_shows_both_versions_and_three_buttons(conflict, app):
    bob, page, after_alice = conflict
    assert "<<<<<<<" not in page and ">>>>>>>" not in page and "=======" not in page
    assert "Meine Fassung" in page
    assert "Die andere Fassung (von" in page and "Alice Mitglied" in page
    mine = re.search(r'<pre[^>]*id="conflict-mine"[^>]*>(.*?)</pre>', page, re.S).group(1)
    theirs = re.search(r'<pre[^>]*id="conflict-theirs"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert "Schlosshof" in mine and "Marktplatz" not in mine
    assert "Marktplatz" in theirs and "Schlosshof" not in theirs
    # the clash is marked on both sides; Alice's other change is highlighted as a clean one
    assert re.search(r'<mark class="conflict-clash">.*Ort: Schlosshof', mine, re.S)
    assert re.search(r'<mark class="conflict-clash">.*Ort: Marktplatz', theirs, re.S)
    assert re.search(r'<mark class="conflict-change">Musik: DJ', theirs)
    for label in ("Meine Fassung übernehmen", "Die andere übernehmen", "Zusammenführen"):
        assert label in page
    buttons = re.findall(r'<button type="submit" name="resolve" value="(\w+)"', page)
    assert sorted(buttons) == ["merge", "mine", "theirs"]
    # one form carries both texts, the new base (HEAD) and the message
    assert page.count('name="csrf_token"') >= 1
    assert field(page, "base") == after_alice
    assert field(page, "mine") == MINE
    assert field(page, "text") == MINE.replace("Band", "DJ")  # Alice's clean change, my clash
    assert 'value="Ort von Bob"' in page


def post(client, form: dict, choice: str):
    data = {k: form[k] for k in ("base", "mine", "text", "message") if k in form}
    data["resolve"] = choice
    return client.form(f"/-/edit/{PAGE}", data)


def form_of(page: str) -> dict:
    out = {"base": field(page, "base"), "mine": field(page, "mine"), "message": "Ort von Bob"}
    if 'name="text"' in page:
        out["text"] = field(page, "text")
    return out


def test_take_mine_saves_my_text_in_one_commit(conflict, app):
    bob, page, after_alice = conflict
    before = commits(app)
    response = post(bob, form_of(page), "mine")
    assert response.status_code == 302
    assert raw(app) == MINE
    assert commits(app) == before + 1
    assert app.extensions["wiki"].store.parents(head(app)) == (after_alice,)


def test_take_theirs_keeps_the_page_and_commits_nothing(conflict, app):
    bob, page, after_alice = conflict
    response = post(bob, form_of(page), "theirs")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/{PAGE}")
    assert head(app) == after_alice and raw(app) == THEIRS
    assert "deine Änderung wurde verworfen" in body(bob.get(f"/{PAGE}"))


def test_merge_saves_the_edited_text(conflict, app):
    bob, page, after_alice = conflict
    form = form_of(page)
    form["text"] = form["text"].replace("Ort: Schlosshof", "Ort: Schlosshof, sonst Marktplatz")
    before = commits(app)
    response = post(bob, form, "merge")
    assert response.status_code == 302
    expected = THEIRS.replace("Ort: Marktplatz", "Ort: Schlosshof, sonst Marktplatz")
    assert raw(app) == expected
    assert commits(app) == before + 1
    log = app.extensions["wiki"].store.last_revision(f"{PAGE}.md")
    assert log.sha == head(app) and log.message == "Ort von Bob"


def test_merge_unedited_takes_my_lines_at_the_clash_and_theirs_elsewhere(conflict, app):
    bob, page, _after_alice = conflict
    assert post(bob, form_of(page), "merge").status_code == 302
    assert raw(app) == MINE.replace("Band", "DJ")


def test_a_button_after_yet_another_change_conflicts_again(conflict, app, login):
    bob, page, _after_alice = conflict
    alice = login("user")
    assert save(alice, PAGE, THEIRS.replace("Ort: Marktplatz", "Ort: Rathaus")).status_code == 302
    latest = head(app)
    response = post(bob, form_of(page), "mine")
    assert response.status_code == 409
    again = body(response)
    assert "Rathaus" in again and field(again, "mine") == MINE
    assert head(app) == latest


def test_buttons_need_the_csrf_token(conflict, app):
    bob, page, after_alice = conflict
    data = form_of(page) | {"resolve": "mine", "csrf_token": "forged"}
    response = bob.post(f"/-/edit/{PAGE}", data=data)
    assert response.status_code == 400
    assert head(app) == after_alice


def test_take_mine_without_my_text_is_refused(conflict, app):
    bob, page, after_alice = conflict
    form = form_of(page)
    del form["mine"]
    assert post(bob, form, "mine").status_code == 400
    assert head(app) == after_alice and raw(app) == THEIRS


def test_adjacent_line_edits_merge_without_a_conflict_page(app, login):
    alice, bob = login("user"), login("other")
    save(alice, PAGE, BASE_TEXT, base="")
    base = head(app)
    assert save(alice, PAGE, BASE_TEXT.replace("15 Uhr", "16 Uhr"), base=base).status_code == 302
    response = save(bob, PAGE, BASE_TEXT.replace("Kuchen", "Waffeln"), base=base)
    assert response.status_code == 302
    assert raw(app) == BASE_TEXT.replace("15 Uhr", "16 Uhr").replace("Kuchen", "Waffeln")


def test_conflict_page_escapes_script(app, login):
    alice, bob = login("user"), login("other")
    save(alice, PAGE, BASE_TEXT, base="")
    base = head(app)
    evil = "<script>alert('andere')</script>"
    save(alice, PAGE, BASE_TEXT.replace("Ort: Stadtpark", evil), base=base)
    mine = BASE_TEXT.replace("Ort: Stadtpark", "<script>alert('meins')</script>")
    response = save(bob, PAGE, mine, base=base, message='"><script>x</script>')
    assert response.status_code == 409
    page = body(response)
    assert "<script>alert(" not in page and "<script>x" not in page
    assert "&lt;script&gt;alert(" in page
    assert field(page, "mine") == mine


def test_a_clash_of_documents_only_shows_the_current_page(app, login):
    """The page text merged but a document saved with it clashes: the page's HEAD is shown."""
    from io import BytesIO

    from wiki.storage import Author

    alice, bob = login("user"), login("other")
    save(alice, PAGE, BASE_TEXT, base="")
    base = head(app)
    store = app.extensions["wiki"].store
    store.commit({f"{PAGE}/_files/plan.txt": b"von Alice\n"}, base, Author("u-x", "x@x"), "doc")
    latest = head(app)
    data = {"text": MINE, "base": base, "message": "m", "csrf_token": bob.csrf_token()}
    data["documents"] = (BytesIO(b"von Bob\n"), "plan.txt")
    response = bob.post(f"/-/edit/{PAGE}", data=data, content_type="multipart/form-data")
    assert response.status_code == 409
    page = body(response)
    assert "<<<<<<<" not in page and "von Alice" not in page
    assert field(page, "mine").startswith(MINE)
    assert "Stadtpark" in re.search(r'id="conflict-theirs"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert head(app) == latest

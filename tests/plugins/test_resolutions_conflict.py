"""A conflict in the resolution form ("Metadaten bearbeiten") leads to the core's conflict page,
whose texts are whole files with front matter; its buttons save them through the editor."""

from __future__ import annotations

import html
import re

import pytest
from conftest import Spaces, make_resolutions_app
from test_resolutions_forms import EDIT, HANDWRITTEN, KMV_PATH, FormFields

from wiki.pages import split_front_matter


@pytest.fixture
def app(tmp_path):
    app = make_resolutions_app(tmp_path)
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def field(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    if found:
        return html.unescape(found.group(1))
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\n(.*?)</textarea>', page, re.S)
    assert found, f"no field {name}"
    return html.unescape(found.group(1))


def text_at(spaces: Spaces) -> str:
    return spaces.state.store.read(f"{KMV_PATH}.md").decode("utf-8")


@pytest.fixture
def conflict(app):
    """Mia edits the title in the form while Bea changes it in git: 409."""
    spaces = Spaces(app)
    spaces.commit({f"{KMV_PATH}.md": HANDWRITTEN})
    client = spaces.login("member_a")
    data = FormFields(client.get(EDIT).get_data(as_text=True)).data
    theirs = HANDWRITTEN.replace("title: Sichere Radwege im Kreis", "title: Von Bea").replace(
        "Liste der Straßen.", "Liste der Straßen und Plätze."
    )
    spaces.commit({f"{KMV_PATH}.md": theirs})
    other = spaces.head()
    response = client.form(EDIT, data | {"title": "Von Mia", "save": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409, page
    assert spaces.head() == other
    return spaces, client, page, other


def test_the_conflict_page_shows_both_whole_files(conflict):
    _spaces, _client, page, other = conflict
    assert "<<<<<<<" not in page and ">>>>>>>" not in page
    mine = field(page, "mine")
    assert mine.startswith("---\n") and "title: Von Mia" in mine
    assert "Von Bea" in page  # the other version, side by side
    assert field(page, "base") == other
    for label in ("Meine Fassung übernehmen", "Die andere übernehmen", "Zusammenführen"):
        assert label in page
    # the proposal is a valid page: my title at the clash, Bea's other change kept
    merged = field(page, "text")
    meta, body = split_front_matter(merged)
    assert meta["title"] == "Von Mia" and "Liste der Straßen und Plätze." in body


@pytest.mark.parametrize("choice", ["mine", "merge"])
def test_the_buttons_save_the_whole_file(conflict, choice):
    spaces, client, page, other = conflict
    form = {name: field(page, name) for name in ("base", "mine", "text")}
    response = client.form(f"/-/edit/{KMV_PATH}", form | {"resolve": choice, "message": "x"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert spaces.state.store.parents(spaces.head()) == (other,)
    meta, body = split_front_matter(text_at(spaces))
    assert meta["title"] == "Von Mia" and meta["id"] == "KVA-KMV-2023-A2"
    assert ("Liste der Straßen und Plätze." in body) == (choice == "merge")


def test_keeping_the_other_version_commits_nothing(conflict):
    spaces, client, page, other = conflict
    form = {name: field(page, name) for name in ("base", "mine", "text")}
    response = client.form(f"/-/edit/{KMV_PATH}", form | {"resolve": "theirs"})
    assert response.status_code == 302
    assert spaces.head() == other and "title: Von Bea" in text_at(spaces)

"""Layout and naming: versions are named by date and author, headings show page titles, the
page frame opens no empty band, the history fits a phone and the archive folds its filters."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import pytest
from conftest import head, save

ROOT = Path(__file__).resolve().parent.parent
CSS = (ROOT / "wiki" / "static" / "wiki.css").read_text(encoding="utf-8")
TITLE = "Sommerfest Planung"
PATH = "sommerfest"
#: "Version vom 4. 12. 2026, 15:50 von Alice Mitglied" (German interface, author's name).
VERSION_RE = re.compile(r"Version vom \d{1,2}\. \d{1,2}\. \d{4}, \d{2}:\d{2} von Alice Mitglied")


def text_of(html: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()).replace(" ,", ",")


def h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "no <h1>"
    return text_of(match.group(1))


@pytest.fixture
def page(app, login):
    """A page with two versions by Alice; returns (client, first sha, second sha)."""
    client = login("user")
    assert save(client, PATH, f"---\ntitle: {TITLE}\n---\nErste Fassung\n").status_code == 302
    first = head(app)
    assert save(client, PATH, f"---\ntitle: {TITLE}\n---\nZweite Fassung\n").status_code == 302
    return client, first, head(app)


def test_revision_banner_names_the_version_by_date_and_author(page):
    client, first, _second = page
    html = client.get(f"/{PATH}?rev={first}").get_data(as_text=True)
    banner = re.search(r'<div class="alert old-revision".*?</p>', html, re.S).group(0)
    assert VERSION_RE.search(text_of(banner)), text_of(banner)
    assert first[:10] in banner  # the short id stays as a detail


def test_diff_names_both_versions_and_shows_the_title(page):
    client, first, second = page
    html = client.get(f"/-/diff/{PATH}?from={first}&to={second}").get_data(as_text=True)
    assert h1(html) == f"Änderungen an „{TITLE}“"
    assert f"<title>Änderungen: {TITLE}" in html
    summary = text_of(re.search(r'<p class="diff-range">.*?</p>', html, re.S).group(0))
    assert len(VERSION_RE.findall(summary)) == 2, summary


def test_revert_confirmation_names_the_version(page):
    client, first, _second = page
    html = client.get(f"/-/revert/{PATH}?rev={first}").get_data(as_text=True)
    assert VERSION_RE.fullmatch(h1(html).split(" (")[0]), h1(html)
    assert h1(html).endswith("wiederherstellen?")
    assert f"„{TITLE}“" in html and f"„{PATH}“" not in html


def test_revert_description_names_the_version_by_date(app, page):
    client, first, _second = page
    response = client.form(f"/-/revert/{PATH}", {"rev": first, "message": ""})
    assert response.status_code == 302
    summary = app.extensions["wiki"].store.revision(head(app)).summary
    assert re.fullmatch(
        r"Version vom \d{1,2}\. \d{1,2}\. \d{4}, \d{2}:\d{2} wiederhergestellt", summary
    )
    assert first[:7] not in summary


@pytest.mark.parametrize(
    "url, heading",
    [
        (f"/-/history/{PATH}", f"Versionen von „{TITLE}“"),
        (f"/-/edit/{PATH}", f"Bearbeiten: {TITLE}"),
        (f"/-/backlinks/{PATH}", f"Was verlinkt auf „{TITLE}“?"),
        (f"/-/files/{PATH}", f"Dokumente von „{TITLE}“"),
        (f"/-/rename/{PATH}", f"„{TITLE}“ umbenennen oder verschieben"),
        (f"/-/delete/{PATH}", f"„{TITLE}“ löschen?"),
    ],
)
def test_headings_show_the_title_not_the_path(page, url, heading):
    client = page[0]
    response = client.get(url)
    assert response.status_code == 200
    assert h1(response.get_data(as_text=True)) == heading


def test_history_names_date_and_author(page):
    client, first, _second = page
    html = client.get(f"/-/history/{PATH}").get_data(as_text=True)
    assert html.count("Alice Mitglied") >= 2
    assert f'rev={first}">' in html and "<time" in html


def test_document_history_names_versions_and_the_page_title(page):
    client = page[0]
    form = {"file": (io.BytesIO(b"eins"), "plan.txt")}
    client.form(f"/-/files/{PATH}", form, content_type="multipart/form-data")
    html = client.get(f"/-/file-history/{PATH}/plan.txt").get_data(as_text=True)
    assert VERSION_RE.search(text_of(html))
    crumbs = text_of(re.search(r'<div class="page-breadcrumbs">.*?</div>', html, re.S).group(0))
    assert TITLE in crumbs


def test_unreadable_revision_label_is_never_shown(page):
    """A bogus rev is a 404, not a label built from whatever the id resolves to."""
    client = page[0]
    assert client.get(f"/{PATH}?rev={'0' * 40}").status_code == 404


def test_new_page_heading_uses_the_requested_title(login):
    client = login("user")
    html = client.get("/-/edit/neues-treffen?title=Neues%20Treffen").get_data(as_text=True)
    assert h1(html) == "Neue Seite anlegen: Neues Treffen"


# --- CSS: the frame, the phone history and the archive filters -----------------------------


def css_rule(selector: str, within: str = CSS) -> str:
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", within)
    assert match, f"no rule for {selector}"
    return match.group(1)


def test_page_frame_does_not_stretch_its_rows():
    """The frame fills the viewport (flex: 1); its grid rows must not share the extra height,
    or an empty band opens above a short page's content."""
    rule = css_rule(".page-frame")
    assert "flex: 1" in rule
    assert "align-content: start" in rule


def test_history_table_stacks_on_phones():
    """On a 390 px phone a version is a stacked grid row: nothing scrolls sideways."""
    phone = re.search(r"@media \(max-width: 40em\) \{\n  table\.history,(.*?)\n\}", CSS, re.S)
    assert phone, "no phone rules for table.history"
    rows = re.search(r"table\.history tbody tr \{([^}]*)\}", phone.group(1))
    assert rows and "display: grid" in rows.group(1)
    assert "grid-column: 3" in phone.group(1)


@pytest.fixture
def archive_app(tmp_path):
    from conftest import make_test_app

    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.spaces", "plugins.resolutions"])
    yield app
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


def test_archive_filters_fold_into_a_disclosure_before_the_results(archive_app):
    html = archive_app.test_client().get("/-/resolutions/").get_data(as_text=True)
    aside = re.search(r'<aside class="page-aside">(.*?)</aside>', html, re.S)
    assert aside, "the filters are in the side column"
    assert re.match(r'\s*<details class="filter-disclosure">\s*<summary>Filter', aside.group(1))
    assert 'class="search-facets resolutions-facets"' in aside.group(1)
    # On phones the side column (the folded filters) is placed above the results.
    rule = re.search(r"\.page-frame:has\(\.filter-disclosure\) \{([^}]*)\}", CSS)
    assert rule, "no phone order for the archive"
    assert CSS[: rule.start()].rsplit("@media", 1)[1].startswith(" (max-width: 55.99em)")
    assert rule.group(1).index('"aside"') < rule.group(1).index('"main"')


def test_store_revision_reads_author_and_date_and_refuses_bad_ids(app):
    from wiki.storage import BadRevision

    store = app.extensions["wiki"].store
    revision = store.revision(head(app))
    assert revision.sha == head(app) and revision.author_name == "u-system"
    assert revision.date.year >= 2024
    for bad in ("zz", head(app)[:10], "0" * 40, "--all"):
        with pytest.raises(BadRevision):
            store.revision(bad)

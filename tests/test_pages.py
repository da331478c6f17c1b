"""Page path grammar, file names, slugs and front matter."""

import pytest

from wiki import pages as P

BAD_NAMES = [
    "../x",
    "a/../b",
    ".git/config",
    "-rf",
    "--output=x",
    "Start",
    "a//b",
    "/abs",
    "a/",
    "nul\x00byte",
    "x" * 300,
    "seg/" * 9 + "x",
    "a" * 64,
    "stаrt",  # Cyrillic а, a look-alike
    "ｓtart",  # full-width s
    "start.md",
    "a b",
    "_files",
    "a/_files/x",
    "",
    "ä",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_page_names_are_refused(name):
    with pytest.raises(P.BadName) as info:
        P.check_path(name)
    assert str(info.value)


@pytest.mark.parametrize("name", ["start", "a/b", "a-b/c-1", "0", "a" * 63, "/".join("a" * 8)])
def test_good_page_names(name):
    assert P.check_path(name) == name


@pytest.mark.parametrize(
    "name", ["../x", "..", "a..b", ".hidden", "-x", "a/b", "x" * 129, "a b", "ä.pdf", "a\x00"]
)
def test_bad_file_names(name):
    with pytest.raises(P.BadName):
        P.check_filename(name)


@pytest.mark.parametrize("name", ["Protokoll_2024-01.pdf", "a", "Bild.PNG", "x" * 128])
def test_good_file_names(name):
    assert P.check_filename(name) == name


@pytest.mark.parametrize(
    "title,slug",
    [
        ("Beschlüsse 2024", "beschluesse-2024"),
        ("Straße & Öffentlichkeit", "strasse-oeffentlichkeit"),
        ("  Über uns!  ", "ueber-uns"),
        ("Café", "cafe"),
        ("ÄÖÜ ẞ", "aeoeue-ss"),
        ("---", ""),
    ],
)
def test_slugify(title, slug):
    assert P.slugify(title) == slug


def test_resolve_relative_targets():
    assert P.resolve_target("./unterseite", "a/b") == "a/b/unterseite"
    assert P.resolve_target("../geschwister", "a/b") == "a/geschwister"
    assert P.resolve_target("Beschlüsse", "a/b") == "beschluesse"


def test_front_matter_roundtrip():
    page = P.Page.parse("a", "---\ntitle: Über\ntags: [x, y]\nvisibility: internal\n---\nText\n")
    assert page.title == "Über"
    assert page.tags == ["x", "y"]
    assert page.visibility == "internal"
    again = P.Page.parse("a", page.text())
    assert again.meta == page.meta and again.body == page.body


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("---\ntitle: [unclosed\n---\n", "fehlerhaft"),
        ("---\n- a\n- b\n---\n", "Schlüssel-Wert"),
        ("---\nvisibility: secret\n---\n", "visibility"),
        ("---\ntags: nope\n---\n", "tags"),
        ("---\ntype: Bad Type\n---\n", "type"),
        ("---\n!!python/object/apply:os.system ['true']\n---\n", "fehlerhaft"),
    ],
)
def test_invalid_front_matter_is_a_problem_not_an_exception(text, fragment):
    page = P.Page.parse("a", text)
    assert any(fragment in problem for problem in page.problems)


def test_title_fallbacks():
    assert P.Page.parse("a/mein-titel", "# Überschrift\n").title == "Überschrift"
    assert P.Page.parse("a/mein-titel", "Text").title == "Mein titel"


def test_document_paths():
    assert P.document_of_file("a/b/_files/x.pdf") == ("a/b", "x.pdf")
    assert P.document_of_file("a/_files/../x") is None
    assert P.path_of_file("a/b.md") == "a/b"
    assert P.path_of_file("a/_files/b.md") is None

"""Language hardening: the document's lang is the content language, visitors switch the
interface language with a cookie, and core error messages reach readers in their language."""

from __future__ import annotations

import pickle

import pytest
from conftest import log_in, make_test_app
from test_i18n import catalog_path, compiled_catalogs, read_catalog  # noqa: F401 (fixture)

from wiki import pages as P
from wiki.content import ValidationFailed
from wiki.messages import N_, Message, message_of


@pytest.fixture(scope="module")
def lang_app(tmp_path_factory, compiled_catalogs):  # noqa: F811
    app = make_test_app(tmp_path_factory.mktemp("lang"))
    yield app
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


@pytest.fixture(scope="module")
def english():
    return read_catalog(catalog_path("en"))


def english_of(catalog, msgid: str) -> str:
    message = catalog.get(msgid)
    assert message is not None and message.string, f"no English translation of {msgid!r}"
    return message.string


# --- the core's messages -------------------------------------------------------------------


def test_core_message_is_german_text_and_keeps_msgid_and_params():
    message = N_("Der Text ist länger als %(kb)s KB.", kb=512)
    assert message == "Der Text ist länger als 512 KB."
    assert isinstance(message, str) and isinstance(message, Message)
    assert (message.msgid, message.params) == ("Der Text ist länger als %(kb)s KB.", {"kb": 512})
    copy = pickle.loads(pickle.dumps(message))
    assert (copy, copy.msgid, copy.params) == (message, message.msgid, message.params)


def test_core_errors_carry_marked_messages():
    with pytest.raises(P.BadName) as info:
        P.check_path("A b")
    assert isinstance(message_of(info.value), Message)
    page = P.Page.parse("x", "---\ntitle: [1, 2]\n---\ntext")
    assert page.problems and all(isinstance(p, Message) for p in page.problems)
    broken = P.Page.parse("x", "---\ntitle: [\n---\ntext")
    assert isinstance(broken.problems[0], Message)
    assert broken.problems[0].msgid == "Die Metadaten (YAML) sind fehlerhaft (Zeile %(line)s)."
    failed = ValidationFailed(page.problems)
    assert str(failed) == "„title“ muss ein Text sein."


def test_core_stays_free_of_flask():
    """The marker lives in a module the Flask-free core can import."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "wiki"
    for name in ("messages.py", "pages.py", "content.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not imported & {"flask", "flask_babel"}, name


def test_english_user_gets_english_core_error(lang_app, english):
    """NotAvailable raised by wiki/content.py, shown in the editor in English."""
    client = log_in(lang_app, "user")
    client.form("/-/account", {"action": "profile", "display_name": "Alice", "locale": "en"})
    store = lang_app.extensions["wiki"].store
    before = store.head()
    response = client.form(
        "/-/edit/start", {"text": "# Neu\n", "base": "", "message": "Neu angelegt"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert english_of(english, "Dieser Seitenname ist nicht verfügbar.") in html
    assert "Dieser Seitenname ist nicht verfügbar." not in html
    assert store.head() == before


def test_english_user_gets_english_front_matter_problem(lang_app, english):
    """ValidationFailed with a page problem from wiki/pages.py, shown in English."""
    client = log_in(lang_app, "user")
    client.form("/-/account", {"action": "profile", "display_name": "Alice", "locale": "en"})
    store = lang_app.extensions["wiki"].store
    before = store.head()
    response = client.form(
        "/-/edit/neu-en", {"text": "---\ntitle: [1]\n---\nx\n", "base": "", "message": "x"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert english_of(english, "„title“ muss ein Text sein.") in html
    assert "muss ein Text sein" not in html
    assert store.head() == before


def test_german_user_still_gets_german_core_error(lang_app):
    client = log_in(lang_app, "other")
    response = client.form(
        "/-/edit/neu-de",
        {"text": "---\ntitle: [1]\n---\nx\n", "base": "", "message": "x"},
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 400
    assert "„title“ muss ein Text sein." in response.get_data(as_text=True)


# --- the document language and the language switch -----------------------------------------


def test_document_lang_is_the_content_language_for_english_readers(lang_app):
    html = lang_app.test_client().get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in html
    assert '<footer class="site-footer" lang="en">' in html


def test_content_language_is_configurable(tmp_path):
    app = make_test_app(tmp_path, WIKI_CONTENT_LANGUAGE="de-AT")
    try:
        html = app.test_client().get("/").get_data(as_text=True)
        assert '<html lang="de-AT">' in html
    finally:
        app.extensions["wiki"].store.close()
        app.extensions["wiki"].engine.dispose()


def test_visitor_switches_language_with_a_cookie(lang_app):
    client = lang_app.test_client()
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "/-/language?lang=en" in html  # the switch is offered without logging in
    response = client.get("/-/language?lang=en&next=/-/changes")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/-/changes")
    cookie = response.headers["Set-Cookie"]
    assert "wiki_locale=en" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The cookie wins over the browser's language.
    html = client.get("/-/changes", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Recent changes" in html
    assert '<html lang="de">' in html
    assert "/-/language?lang=de" in html  # and the way back
    client.get("/-/language?lang=de&next=/")
    html = client.get("/-/changes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Letzte Änderungen" in html


def test_account_setting_wins_over_the_cookie(lang_app):
    client = log_in(lang_app, "admin")
    client.form("/-/account", {"action": "profile", "display_name": "Ada", "locale": "de"})
    client.get("/-/language?lang=en&next=/")
    html = client.get("/-/changes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Letzte Änderungen" in html


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "http:evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
def test_language_switch_refuses_open_redirects(lang_app, target):
    response = lang_app.test_client().get(
        "/-/language", query_string={"lang": "en", "next": target}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert "\n" not in location and "\r" not in location


@pytest.mark.parametrize("lang", ["", "fr", "en-US", "../de"])
def test_language_switch_refuses_unknown_languages(lang_app, lang):
    response = lang_app.test_client().get("/-/language", query_string={"lang": lang, "next": "/"})
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers or "wiki_locale" not in response.headers.get(
        "Set-Cookie", ""
    )


def test_unknown_cookie_value_is_ignored(lang_app):
    client = lang_app.test_client()
    client.set_cookie("wiki_locale", "xx")
    html = client.get("/-/changes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Recent changes" in html

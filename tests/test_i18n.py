"""Interface translations: complete English catalogs, catalogs in step with the code, locale choice.

German is the source language (the msgids). There is one catalog for the core
(``wiki/translations``: messages of ``wiki/`` and ``templates/``) and one per plugin
(``plugins/<name>/translations``: messages of its folder the core does not have); each has its
``messages.pot`` template, ``en`` (the shipped translation) and ``de`` (explicit, untranslated).
``tools/update_catalogs.py`` (``make catalogs-update``) extracts and updates them all.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest import log_in, make_test_app

from tools import update_catalogs as catalogs

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "wiki" / "translations"
LOCALES = catalogs.LOCALES
#: Every catalog: the core's, then one per plugin.
SPECS = catalogs.catalog_specs()
#: The extraction keywords (ngettext: singular and plural; N_: the Flask-free core).
KEYWORDS = catalogs.KEYWORDS
EXTRACT_HINT = (
    "update every catalog with `make catalogs-update` (tools/update_catalogs.py) and translate "
    "the new messages in <catalog>/en/LC_MESSAGES/messages.po"
)
#: printf-style conversions: %(name)s, %s, %d, %%, … (flags, width and precision allowed).
PLACEHOLDER_RE = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]")


def catalog_path(locale: str, spec=catalogs.CORE) -> Path:
    return spec.po(locale)


def read_catalog(path: Path):
    with path.open("rb") as fileobj:
        return read_po(fileobj)


def key(message_id, context=None):
    """A comparable message key: the msgid (with its plural form) and the context."""
    msgid = message_id if isinstance(message_id, str) else tuple(message_id)
    return (context, msgid)


def catalog_keys(catalog) -> set:
    return {key(m.id, m.context) for m in catalog if m.id}


def describe(keys) -> str:
    return "\n".join(f"  {msgid!r}" + (f" (context {ctx!r})" if ctx else "") for ctx, msgid in keys)


def placeholders(text: str) -> Counter:
    """The printf-style placeholders of ``text``; a lone ``%`` counts as an error."""
    found = Counter(m.group(0) for m in PLACEHOLDER_RE.finditer(text))
    stray = PLACEHOLDER_RE.sub("", text).count("%")
    if stray:
        found["<stray %>"] += stray
    return found


@pytest.fixture(scope="module", params=SPECS, ids=lambda spec: spec.name)
def spec(request):
    """One catalog (the tests below run once per catalog)."""
    return request.param


@pytest.fixture(scope="module")
def template(spec):
    return read_catalog(spec.template)


@pytest.fixture(scope="module")
def english(spec):
    return read_catalog(spec.po("en"))


@pytest.fixture(scope="module")
def all_code_messages() -> dict:
    """``{catalog name: {key: (message, locations, context)}}`` as the update tool extracts."""
    return catalogs.code_messages()


@pytest.fixture(scope="module")
def code_messages(spec, all_code_messages) -> dict:
    """Every message the catalog's sources mark for translation: key → first location."""
    return {k: files[0] for k, (_m, files, _c) in all_code_messages[spec.name].items()}


@pytest.fixture(scope="module")
def compiled_catalogs():
    """The .mo files Flask-Babel loads, compiled from the .po if missing or older (the same
    compile step as ``make catalogs``, which is therefore not needed before the tests)."""
    catalogs.compile_all(SPECS, stale_only=True)
    return TRANSLATIONS


@pytest.fixture(scope="module")
def i18n_app(tmp_path_factory, compiled_catalogs):
    app = make_test_app(tmp_path_factory.mktemp("i18n"))
    yield app
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


# --- (a) the English catalog is complete and well-formed -------------------------------------


def test_every_message_has_an_english_translation(template, english):
    untranslated = []
    for message in template:
        if not message.id:
            continue
        translated = english.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        if isinstance(strings, str):
            strings = (strings,)
        if not strings or not all(s.strip() for s in strings):
            untranslated.append(key(message.id, message.context))
    assert not untranslated, (
        f"{len(untranslated)} message(s) without English translation:\n"
        f"{describe(untranslated)}\n{EXTRACT_HINT}"
    )


def test_english_translations_keep_the_placeholders(english):
    problems = []
    plural_forms = english.num_plurals
    for message in english:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, str):
            pairs = [(message.id, message.string)]
        else:
            singular, plural = message.id[0], message.id[1]
            assert len(message.string) == plural_forms, f"{message.id!r}: wrong number of forms"
            pairs = [(singular if i == 0 else plural, s) for i, s in enumerate(message.string)]
        for msgid, msgstr in pairs:
            if placeholders(msgid) != placeholders(msgstr):
                problems.append(
                    f"  {msgid!r}\n    → {msgstr!r}\n"
                    f"    {dict(placeholders(msgid))} ≠ {dict(placeholders(msgstr))}"
                )
    assert not problems, "placeholders differ between msgid and msgstr:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_pass_babels_checks(spec, locale):
    """The checks ``pybabel compile`` warns about (python-format placeholders, plural forms)."""
    catalog = read_catalog(spec.po(locale))
    errors = [
        f"  {message.id!r}: {'; '.join(str(e) for e in errs)}" for message, errs in catalog.check()
    ]
    assert not errors, f"{locale} catalog:\n" + "\n".join(errors)
    assert not [m.id for m in catalog if m.id and m.fuzzy], f"{locale}: fuzzy entries are ignored"


# --- (b) the catalogs hold exactly the messages of the code ----------------------------------


@pytest.mark.parametrize(
    "name", ["messages.pot", "en/LC_MESSAGES/messages.po", "de/LC_MESSAGES/messages.po"]
)
def test_catalog_matches_the_code(spec, code_messages, name):
    """Each catalog holds exactly the messages of its own sources (a plugin's: those of its
    folder that the core catalog does not already have)."""
    in_catalog = catalog_keys(read_catalog(spec.directory / name))
    in_code = set(code_messages)
    missing = sorted(in_code - in_catalog, key=str)
    stale = sorted(in_catalog - in_code, key=str)
    report = []
    if missing:
        report.append(
            f"{len(missing)} message(s) in the code but not in {name}:\n"
            + "\n".join(f"  {k[1]!r}  ({code_messages[k]})" for k in missing)
        )
    if stale:
        report.append(
            f"{len(stale)} message(s) in {name} no longer in the code:\n{describe(stale)}"
        )
    assert not report, "\n".join(report) + f"\n{EXTRACT_HINT}"


def test_extraction_finds_python_and_template_messages(all_code_messages):
    """The method map covers both source kinds (a broken babel.cfg would find nothing)."""
    core = all_code_messages["core"]
    places = {files[0].split("/", 1)[0] for _m, files, _c in core.values()}
    assert {"wiki", "templates"} <= places
    assert key(("%(num)d Unterseite", "%(num)d Unterseiten")) in core
    for name in ("spaces", "resolutions"):
        files = {f for _m, found, _c in all_code_messages[name].values() for f in found}
        assert all(f.startswith(f"plugins/{name}/") for f in files)
        assert any(f.endswith(".py") for f in files) and any(f.endswith(".html") for f in files)


def test_each_plugin_has_its_own_catalog_without_the_cores_messages():
    """Plugin messages live in the plugin's catalog; one used by the core too stays in the core."""
    core = catalog_keys(read_catalog(catalogs.CORE.template))
    assert key("Beschlüsse") not in core  # used only by the resolutions plugin
    for spec in SPECS[1:]:
        assert spec.directory == ROOT / "plugins" / spec.name / "translations"
        assert not core & catalog_keys(read_catalog(spec.template)), spec.name
    resolutions = {s.name: s for s in SPECS}["resolutions"]
    english = read_catalog(resolutions.po("en"))
    assert english.get("Beschlüsse").string == "Resolutions"


def test_plugin_catalogs_are_loaded(compiled_catalogs, tmp_path):
    """A plugin's strings are translated from its own catalog (``wiki_translation_dirs``)."""
    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.spaces", "plugins.resolutions"])
    try:
        status, html = page_text(app.test_client(), "/-/resolutions/", "en")
        assert status == 200
        assert "Resolutions" in html and "Beschlüsse" not in html
        assert "Recent changes" in html  # the core's catalog still applies
    finally:
        app.extensions["wiki"].store.close()
        app.extensions["wiki"].engine.dispose()


def test_a_third_party_plugin_ships_its_catalog(tmp_path, monkeypatch):
    """Any plugin can add a catalog folder through the hook; the core's stays in effect."""
    import sample_plugin
    from babel.messages.catalog import Catalog
    from flask_babel import gettext

    folder = tmp_path / "translations"
    (folder / "en" / "LC_MESSAGES").mkdir(parents=True)
    catalog = Catalog(locale="en")
    catalog.add("Zählerstand", "Counter reading")
    with (folder / "en" / "LC_MESSAGES" / "messages.mo").open("wb") as fileobj:
        write_mo(fileobj, catalog)
    monkeypatch.setattr(sample_plugin, "TRANSLATION_DIRS", [folder])
    app = make_test_app(tmp_path, WIKI_PLUGINS=["sample_plugin"])
    try:
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            assert gettext("Zählerstand") == "Counter reading"
            assert gettext("Letzte Änderungen") == "Recent changes"
        with app.test_request_context("/", headers={"Accept-Language": "de"}):
            assert gettext("Zählerstand") == "Zählerstand"
    finally:
        app.extensions["wiki"].store.close()
        app.extensions["wiki"].engine.dispose()


# --- (c) the interface follows the chosen language -------------------------------------------


def page_text(client, url, language=None):
    headers = {"Accept-Language": language} if language else {}
    response = client.get(url, headers=headers)
    return response.status_code, response.get_data(as_text=True)


def test_english_browser_gets_english_interface(i18n_app):
    status, html = page_text(i18n_app.test_client(), "/-/changes", "en-GB,en;q=0.8")
    assert status == 200
    # The document keeps the content language; the interface chrome says it is English.
    assert '<html lang="de"' in html
    assert '<header class="site-header" lang="en">' in html
    assert "Recent changes" in html
    assert "Letzte Änderungen" not in html
    assert "Log in" in html


def test_german_browser_gets_german_interface(i18n_app):
    status, html = page_text(i18n_app.test_client(), "/-/changes", "de-DE,de;q=0.9,en;q=0.5")
    assert status == 200
    assert '<html lang="de"' in html
    assert "Letzte Änderungen" in html
    assert "Recent changes" not in html


def test_default_language_is_german(i18n_app):
    status, html = page_text(i18n_app.test_client(), "/-/changes")
    assert status == 200
    assert "Letzte Änderungen" in html


def test_messages_from_python_are_translated(i18n_app):
    """Error titles (lazy) and messages (gettext in the view code) follow the language too."""
    client = i18n_app.test_client()
    status, html = page_text(client, "/-/history/no-such-page", "en")
    assert status == 404
    assert "Not found" in html
    assert "Nicht gefunden" not in html
    status, html = page_text(client, "/-/history/no-such-page", "de")
    assert status == 404
    assert "Nicht gefunden" in html


def test_account_language_beats_the_browser(compiled_catalogs, app):
    client = log_in(app, "user")
    response = client.form(
        "/-/account", {"action": "profile", "display_name": "Alice Mitglied", "locale": "en"}
    )
    assert response.status_code == 302
    status, html = page_text(client, "/-/changes", "de")
    assert status == 200
    assert "Recent changes" in html
    assert "Letzte Änderungen" not in html


ALIAS_RE = re.compile(r"from flask_babel import [^\n]*\b(?:n?gettext|lazy_gettext) as (\w+)")


def test_translation_functions_keep_names_the_extraction_knows():
    """``lazy_gettext as _l`` would hide every message from the catalogs (and this test)."""
    allowed = set(KEYWORDS)
    found = []
    for path in sorted((ROOT / "wiki").rglob("*.py")) + sorted((ROOT / "plugins").rglob("*.py")):
        for alias in ALIAS_RE.findall(path.read_text(encoding="utf-8")):
            if alias not in allowed:
                found.append(f"{path.relative_to(ROOT)}: {alias}")
    assert not found, "translation functions under names babel.cfg does not extract:\n" + "\n".join(
        found
    )

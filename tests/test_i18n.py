"""Interface translations: complete English catalog, catalogs in step with the code, locale choice.

German is the source language (the msgids); ``wiki/translations/messages.pot`` is the template,
``en`` the shipped translation and ``de`` an explicit, untranslated catalog. The extraction
command is in ``babel.cfg``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest import log_in, make_test_app

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "wiki" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LOCALES = ("de", "en")
#: The keywords of the extraction command in babel.cfg (ngettext: singular and plural).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
#: Top-level folders that hold translatable sources (everything else is not walked).
SOURCE_DIRS = {"wiki", "plugins", "templates"}
EXTRACT_HINT = (
    "update the catalogs with the commands at the top of babel.cfg and translate the new "
    "messages in wiki/translations/en/LC_MESSAGES/messages.po"
)
#: printf-style conversions: %(name)s, %s, %d, %%, … (flags, width and precision allowed).
PLACEHOLDER_RE = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]")


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


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


@pytest.fixture(scope="module")
def template():
    return read_catalog(TEMPLATE)


@pytest.fixture(scope="module")
def english():
    return read_catalog(catalog_path("en"))


@pytest.fixture(scope="module")
def code_messages() -> dict:
    """Every message the code marks for translation: key → first location."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(ROOT / "babel.cfg"))

    def only_sources(dirpath: str) -> bool:
        parts = Path(dirpath).relative_to(ROOT).parts
        hidden = any(part.startswith((".", "_")) for part in parts)
        return not hidden and (not parts or parts[0] in SOURCE_DIRS)

    found: dict = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=only_sources,
    ):
        found.setdefault(key(message, context), f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def compiled_catalogs():
    """The .mo files Flask-Babel loads, compiled from the .po if missing or older.

    Written to a temporary file and moved into place, so a concurrent reader never sees half a
    catalog; ``make catalogs`` is not needed before the tests.
    """
    for locale in LOCALES:
        po = catalog_path(locale)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalog = read_catalog(po)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as fileobj:
                write_mo(fileobj, catalog)
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
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
def test_catalogs_pass_babels_checks(locale):
    """The checks ``pybabel compile`` warns about (python-format placeholders, plural forms)."""
    catalog = read_catalog(catalog_path(locale))
    errors = [
        f"  {message.id!r}: {'; '.join(str(e) for e in errs)}" for message, errs in catalog.check()
    ]
    assert not errors, f"{locale} catalog:\n" + "\n".join(errors)
    assert not [m.id for m in catalog if m.id and m.fuzzy], f"{locale}: fuzzy entries are ignored"


# --- (b) the catalogs hold exactly the messages of the code ----------------------------------


@pytest.mark.parametrize(
    "name", ["messages.pot", "en/LC_MESSAGES/messages.po", "de/LC_MESSAGES/messages.po"]
)
def test_catalog_matches_the_code(code_messages, name):
    in_catalog = catalog_keys(read_catalog(TRANSLATIONS / name))
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


def test_extraction_finds_python_and_template_messages(code_messages):
    """The method map covers both source kinds (a broken babel.cfg would find nothing)."""
    places = {where.split(":", 1)[0].split("/", 1)[0] for where in code_messages.values()}
    assert {"wiki", "templates"} <= places
    assert key(("%(num)d Unterseite", "%(num)d Unterseiten")) in code_messages


# --- (c) the interface follows the chosen language -------------------------------------------


def page_text(client, url, language=None):
    headers = {"Accept-Language": language} if language else {}
    response = client.get(url, headers=headers)
    return response.status_code, response.get_data(as_text=True)


def test_english_browser_gets_english_interface(i18n_app):
    status, html = page_text(i18n_app.test_client(), "/-/changes", "en-GB,en;q=0.8")
    assert status == 200
    assert '<html lang="en"' in html
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

"""Extract, update and compile every interface catalog: the core's and one per plugin.

    .venv/bin/python tools/update_catalogs.py          # extract, update, compile (catalogs-update)
    .venv/bin/python tools/update_catalogs.py compile  # .po → .mo only (make catalogs)

The core catalog (``wiki/translations``) holds the messages of ``wiki/`` and ``templates/``; each
plugin ``plugins/<name>/`` has its own (``plugins/<name>/translations``) with the messages of its
folder that the core does not already have (a message used by both stays in the core, which is
loaded first). Extraction follows ``babel.cfg`` and :data:`KEYWORDS`.

Idempotent: a second run changes nothing. Updating never guesses (no fuzzy matching); a message
that moved between catalogs (e.g. out of the core into a plugin) keeps its translation, taken from
whichever catalog had it. Messages the code no longer uses are dropped. German is the source
language: ``de`` stays untranslated, new messages need an English translation in
``<catalog>/en/LC_MESSAGES/messages.po`` (tests/test_i18n.py lists the missing ones).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
#: Extraction keywords (``ngettext``: singular and plural; ``N_``: messages of the Flask-free core).
KEYWORDS = {
    "_": None,
    "_l": None,  # lazy_gettext imported as _l
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "N_": None,
}
LOCALES = ("de", "en")
PROJECT = "Verbandswiki"
COPYRIGHT = "the Verbandswiki authors"
WIDTH = 76


@dataclass(frozen=True)
class CatalogSpec:
    """One catalog: its name, its translations folder and the source folders it covers."""

    name: str
    directory: Path
    sources: tuple[str, ...]  # folders relative to ROOT, e.g. ("wiki", "templates")

    @property
    def template(self) -> Path:
        return self.directory / "messages.pot"

    def po(self, locale: str) -> Path:
        return self.directory / locale / "LC_MESSAGES" / "messages.po"


CORE = CatalogSpec("core", ROOT / "wiki" / "translations", ("wiki", "templates"))


def catalog_specs() -> list[CatalogSpec]:
    """The core catalog, then one per plugin package under ``plugins/`` (alphabetically)."""
    plugins = sorted(
        p.parent
        for p in (ROOT / "plugins").glob("*/__init__.py")
        if not p.parent.name.startswith((".", "_"))
    )
    return [CORE] + [
        CatalogSpec(p.name, p / "translations", (f"plugins/{p.name}",)) for p in plugins
    ]


def key(message_id, context=None) -> tuple:
    """A comparable message key: the context and the msgid (with its plural form)."""
    return (context, message_id if isinstance(message_id, str) else tuple(message_id))


def _within(relative: str, sources: tuple[str, ...]) -> bool:
    return any(relative == s or relative.startswith(s + "/") for s in sources)


def _extract_raw(spec: CatalogSpec) -> Iterator[tuple]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(ROOT / "babel.cfg"))

    def walk(dirpath: str) -> bool:
        parts = Path(dirpath).relative_to(ROOT).parts
        if any(part.startswith((".", "_")) for part in parts):
            return False
        relative = "/".join(parts)
        # the folders of the catalog, and their ancestors on the way down to them
        return not parts or any(
            _within(relative, spec.sources) or s.startswith(relative + "/") for s in spec.sources
        )

    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=walk
    ):
        if _within(filename.replace(os.sep, "/"), spec.sources):
            yield filename.replace(os.sep, "/"), lineno, message, comments, context


def extract(spec: CatalogSpec, core_keys: set | None = None) -> dict:
    """``{key: (message, [filenames], context)}`` of the catalog's sources, in source order.

    For a plugin, messages the core catalog already has (``core_keys``) are left out.
    """
    found: dict = {}
    for filename, _lineno, message, _comments, context in _extract_raw(spec):
        k = key(message, context)
        if core_keys is not None and k in core_keys:
            continue
        entry = found.setdefault(k, (message, [], context))
        if filename not in entry[1]:
            entry[1].append(filename)
    return found


def code_messages() -> dict[str, dict]:
    """``{catalog name: extract(...)}`` for every catalog (plugins without the core's)."""
    core = extract(CORE)
    result = {CORE.name: core}
    for spec in catalog_specs()[1:]:
        result[spec.name] = extract(spec, set(core))
    return result


def _read(path: Path, locale: str | None = None) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def _render(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(
        out,
        catalog,
        width=WIDTH,
        include_lineno=False,
        ignore_obsolete=True,
        omit_header=False,
    )
    return out.getvalue()


def _write_if_changed(path: Path, catalog: Catalog, old: Catalog | None) -> bool:
    """Write ``catalog`` unless only its dates would change; atomically."""
    if old is not None:
        catalog.creation_date = old.creation_date
        if hasattr(old, "revision_date") and path.suffix == ".po":
            catalog.revision_date = old.revision_date
        if _render(catalog) == path.read_bytes():
            return False
        catalog.creation_date = datetime.now(UTC)
    data = _render(catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".messages-")
    with os.fdopen(fd, "wb") as fileobj:
        fileobj.write(data)
    os.replace(tmp, path)
    return True


def _template(messages: dict, old: Catalog | None) -> Catalog:
    template = Catalog(
        project=PROJECT,
        version=old.version if old else "VERSION",
        copyright_holder=COPYRIGHT,
        charset="utf-8",
        fuzzy=False,
    )
    if old is not None:
        template.header_comment = old.header_comment
        template.msgid_bugs_address = old.msgid_bugs_address
    for message, filenames, context in messages.values():
        template.add(message, None, [(f, None) for f in filenames], context=context)
    return template


def _translation_pool(specs: list[CatalogSpec]) -> dict[str, dict]:
    """``{locale: {key: msgstr}}`` from every existing catalog (moved messages keep theirs)."""
    pool: dict[str, dict] = {locale: {} for locale in LOCALES}
    for spec in specs:
        for locale in LOCALES:
            catalog = _read(spec.po(locale), locale)
            for message in catalog or ():
                strings = message.string
                filled = all(strings) if isinstance(strings, tuple | list) else bool(strings)
                if message.id and filled and not message.fuzzy:
                    pool[locale].setdefault(key(message.id, message.context), message.string)
    return pool


def _new_po(locale: str, template: Catalog) -> Catalog:
    """A fresh catalog for ``locale`` with the core catalog's header (translator, team)."""
    core = _read(CORE.po(locale), locale)
    catalog = Catalog(
        locale=locale,
        project=PROJECT,
        version=template.version,
        copyright_holder=COPYRIGHT,
        charset="utf-8",
        fuzzy=False,
    )
    if core is not None:
        catalog.header_comment = core.header_comment
        catalog.last_translator = core.last_translator
        catalog.language_team = core.language_team
    catalog.revision_date = datetime.now(UTC)
    return catalog


def update(
    specs: list[CatalogSpec] | None = None, say=print, only: set | None = None
) -> list[Path]:
    """Extract and update every catalog; return the files written.

    ``only`` restricts the catalogs to those message keys (``split`` uses it to move messages
    between catalogs without picking up new ones).
    """
    specs = specs or catalog_specs()
    pool = _translation_pool(specs)
    messages = code_messages()
    written = []
    for spec in specs:
        found = messages[spec.name]
        old_template = _read(spec.template)
        if only is not None:
            found = {k: v for k, v in found.items() if k in only}
            if spec == CORE and old_template is not None:
                # a split moves messages and adds or drops none: keep the stale ones too
                in_code = set().union(*messages.values())
                for m in old_template:
                    if m.id and key(m.id, m.context) in only - in_code:
                        found[key(m.id, m.context)] = (m.id, [f for f, _ in m.locations], m.context)
        if not found and not spec.directory.exists():
            continue  # a plugin without interface text needs no catalog
        template = _template(found, old_template)
        if _write_if_changed(spec.template, template, old_template):
            written.append(spec.template)
        for locale in LOCALES:
            path = spec.po(locale)
            old = _read(path, locale)
            catalog = _read(path, locale) or _new_po(locale, template)
            catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
            catalog.fuzzy = False
            for message in catalog:
                if not message.id:
                    continue
                message.flags.discard("fuzzy")
                strings = message.string
                empty = not all(strings) if isinstance(strings, tuple | list) else not strings
                if empty and locale != "de":
                    known = pool[locale].get(key(message.id, message.context))
                    if known is not None:
                        message.string = known
            if _write_if_changed(path, catalog, old):
                written.append(path)
    for path in written:
        say(f"updated {path.relative_to(ROOT)}")
    untranslated = [
        f"{spec.po('en').relative_to(ROOT)}: {m.id!r}"
        for spec in specs
        if spec.po("en").exists()
        for m in _read(spec.po("en"), "en")
        if m.id and not (all(m.string) if isinstance(m.string, tuple | list) else m.string)
    ]
    if untranslated:
        say(f"{len(untranslated)} message(s) still need an English translation:")
        for line in untranslated:
            say(f"  {line}")
    return written


def compile_all(specs: list[CatalogSpec] | None = None, stale_only: bool = False) -> list[Path]:
    """Compile every ``.po`` to the ``.mo`` Flask-Babel loads (atomically, so a concurrent
    reader never sees half a catalog; fuzzy ones skipped); ``stale_only``: only where the
    ``.mo`` is missing or older than its ``.po``."""
    written = []
    for spec in specs or catalog_specs():
        for locale in LOCALES:
            po = spec.po(locale)
            if not po.exists():
                continue
            mo = po.with_suffix(".mo")
            if stale_only and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            catalog = _read(po, locale)
            fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
            try:
                with os.fdopen(fd, "wb") as fileobj:
                    write_mo(fileobj, catalog)
                os.replace(tmp, mo)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(mo)
    return written


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command == "update":
        update()
        compile_all()
        return 0
    if command == "compile":
        compile_all()
        return 0
    if command == "split":
        # one-off: move the plugins' messages out of the core catalog, adding no new ones
        known = {
            key(m.id, m.context)
            for spec in catalog_specs()
            for m in _read(spec.template) or ()
            if m.id
        }
        update(only=known)
        compile_all()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

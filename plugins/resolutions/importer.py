"""Write parsed import items (Antragsgrün, CSV) as resolution pages (no Flask).

Every item becomes one ordinary page commit through :class:`wiki.content.Content`, so it is
validated and permission-checked like a save in the wiki. Re-importing is idempotent: an item is
matched to an existing page by its source (system and original id); unchanged items are left
alone, changed ones are updated (the id, the visibility and fields the import does not carry
stay as they are). The report lists what was created, updated, unchanged and skipped, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from plugins.resolutions import schema as S
from plugins.resolutions.models import ResolutionRow
from wiki import api as P
from wiki.api import OperationError, ValidationFailed


@dataclass
class Report:
    """What an import did, item by item: (label, path or reason)."""

    created: list[tuple[str, str]] = field(default_factory=list)
    updated: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for title, entries in (
            ("Angelegt", self.created),
            ("Aktualisiert", self.updated),
            ("Unverändert", self.unchanged),
            ("Übersprungen", self.skipped),
            ("Hinweise", self.warnings),
        ):
            out.append(f"{title}: {len(entries)}")
            out.extend(f"  {label}: {detail}" for label, detail in entries)
        return out


#: The command-line option that fills each front-matter field (named in the report).
OPTION_OF = {"decided": "--date", "body": "--body", "event": "--event"}


def from_options(filled: dict) -> str:
    """The report's note on what one item takes from the command-line options."""
    if not filled:
        return "nichts aus den Optionen"
    parts = [f"{OPTION_OF.get(key, key)} → {key}: {value}" for key, value in filled.items()]
    return "aus den Optionen: " + "; ".join(parts)


def source_of(item) -> dict[str, str]:
    source = {"system": item.system, "id": str(item.source_id)}
    if item.source_url:
        source["url"] = item.source_url
    return source


class Importer:
    """Imports items into one space (or the top level) as ``principal``."""

    def __init__(self, state, principal, space: str | None = None,
                 visibility: str | None = None, dry_run: bool = False,
                 defaults: dict | None = None):  # fmt: skip
        self.state = state
        #: Front-matter fields (``decided``, ``body``, ``event``) for items that do not carry
        #: them, e.g. the date and deciding body of a convention for a plainhtml export.
        self.defaults = {k: v for k, v in (defaults or {}).items() if v}
        self.principal = principal
        self.space = space
        self.visibility = visibility
        self.dry_run = dry_run
        self.report = Report()
        self._planned: set[str] = set()  # ids proposed in this run (for --dry-run)

    def run(self, items) -> Report:
        for item in items:
            label = item.label or str(item.source_id)
            for warning in item.warnings:
                self.report.warnings.append((label, warning))
            if item.problem:
                self.report.skipped.append((label, item.problem))
                continue
            event = self.defaults.get("event")
            if event and item.id_lacks_event and not item.meta.get("event"):
                # as if the source had named the event: ``event/A2`` (keeps conventions apart)
                item.source_id = f"{event}/{item.source_id}"
            try:
                self._one(item, label)
            except ValidationFailed as exc:
                self.report.skipped.append((label, " ".join(exc.problems) + self._hint(item)))
            except OperationError as exc:
                self.report.skipped.append((label, str(exc)))
        return self.report

    # -- one item -----------------------------------------------------------------------------

    def _existing(self, item) -> ResolutionRow | None:
        self.state.syncer.ensure_current()
        with self.state.sessions() as session:
            return session.scalars(
                select(ResolutionRow).where(
                    ResolutionRow.source_system == item.system,
                    ResolutionRow.source_id == str(item.source_id),
                )
            ).first()

    def _one(self, item, label: str) -> None:
        existing = self._existing(item)
        if existing is not None:
            self._update(item, label, existing.path)
            return
        meta = {k: v for k, v in item.meta.items() if v not in (None, "", [], {})}
        filled = {k: v for k, v in self.defaults.items() if k not in meta}
        meta = {**self.defaults, **meta}
        meta["source"] = source_of(item)
        if self.visibility:
            meta["visibility"] = self.visibility
        year = S.year_of(meta)
        if not meta.get("id"):
            meta["id"] = self._free_id(self._proposed_id(meta, year))
        path = S.propose_path(self.space, year, meta["id"])
        text = S.page_text(meta, item.texts)
        if self.state.store.blob_id(P.page_file(path)) is not None:
            self.report.skipped.append((label, f"Die Seite {path} gibt es schon."))
            return
        if self.dry_run:
            page = P.Page.parse(path, text)
            problems = [str(p) for p in page.problems] or S.check(page.meta, page.body)
            if problems:  # what the real run's validation would refuse
                self.report.skipped.append((label, " ".join(problems) + self._hint(item)))
                return
        else:
            self.state.content.save(
                self.principal, path, text, None, f"Beschluss {meta['id']} importiert",
                create=True,
            )  # fmt: skip
        if filled or (self.dry_run and self.defaults):
            path = f"{path} ({from_options(filled)})"
        self.report.created.append((label, path))

    def _hint(self, item) -> str:
        """Which options would supply what neither the source nor the options gave."""
        meta = {**self.defaults, **item.meta}
        missing = [] if meta.get("decided") or meta.get("submitted") else ["--date"]
        missing += [] if meta.get("body") else ["--body"]
        if not missing:
            return ""
        return f" Die Quelle nennt es nicht: bitte mit {' und '.join(missing)} angeben."

    def _update(self, item, label: str, path: str) -> None:
        page = self.state.content.page(path)
        if page is None:
            self.report.skipped.append((label, f"Die Seite {path} ist nicht lesbar."))
            return
        meta = dict(page.meta)
        for key, value in item.meta.items():
            if key in ("id", "visibility", "type"):
                continue
            if value not in (None, "", [], {}):
                meta[key] = value
        if meta.get("outcome") not in S.ADOPTED:
            meta.pop("validity", None)
        meta["source"] = {**(meta.get("source") or {}), **source_of(item)}
        texts = S.named_sections(page.body)
        texts.update({k: v for k, v in item.texts.items() if v.strip()})
        text = S.page_text(meta, texts)
        if P.Page.parse(path, text).text() == page.text():
            self.report.unchanged.append((label, path))
            return
        if not self.dry_run:
            self.state.content.save(
                self.principal, path, text, self.state.store.head(),
                f"Beschluss {meta.get('id')} aus dem Import aktualisiert",
            )  # fmt: skip
        self.report.updated.append((label, path))

    def _proposed_id(self, meta: dict, year: int | None) -> str:
        code = self._space_code()
        number = str(meta.get("number") or "")
        return S.propose_id(code, str(meta.get("body") or ""), year, number or "X")

    def _space_code(self) -> str | None:
        """The code of the target space, unless it is a top-level space."""
        if not self.space or "/" not in self.space:
            return None
        if not self.state.pm.has_plugin("plugins.spaces"):
            return None
        from plugins.spaces.models import Space

        with self.state.sessions() as session:
            row = session.get(Space, self.space)
            return row.code if row is not None and row.parent else None

    def _free_id(self, rid: str) -> str:
        """``rid``, or ``rid-2``, ``rid-3`` … when it is taken."""
        with self.state.sessions() as session:
            taken = set(
                session.scalars(
                    select(ResolutionRow.rid_key).where(
                        ResolutionRow.rid_key.like(S.key_of(rid) + "%")
                    )
                )
            )
        candidate, n = rid, 1
        while S.key_of(candidate) in taken or candidate in self._planned:
            n += 1
            candidate = f"{rid}-{n}"
        self._planned.add(candidate)
        return candidate

"""The resolutions database: structured resolution pages become a searchable, faceted archive.

A resolution is an ordinary wiki page with ``type: resolution`` (fields in
:mod:`plugins.resolutions.schema`). The plugin validates it inside the commit (unique, immutable
id), projects it into the ``resolutions_*`` tables, adds its fields to the search index, shows a
header table, line numbers and typed links on the page, offers forms instead of YAML, the archive
``/-/resolutions`` with facets, exports and an API, and imports Antragsgrün and CSV archives.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from plugins.resolutions import schema as S
from plugins.resolutions.models import (
    ResolutionInitiator,
    ResolutionLink,
    ResolutionRow,
    ResolutionTopic,
)
from wiki import api as P
from wiki.api import SYNC_SESSION_KEY, PageRow, hookimpl

HERE = Path(__file__).resolve().parent
TABLES = (ResolutionLink, ResolutionTopic, ResolutionInitiator, ResolutionRow)


def row_values(res: S.Resolution, page_row: PageRow) -> dict:
    """The ``resolutions_resolutions`` columns of a resolution and its core ``pages`` row
    (projection and check alike)."""
    votes = res.votes or {}
    return {
        "path": res.path,
        "rid": res.rid,
        "rid_key": res.key,
        "space": page_row.space,
        "visibility": page_row.effective_visibility,
        "number": res.number[:32],
        "title": res.title,
        "body": res.body,
        "event": res.event,
        "agenda_item": res.agenda_item,
        "submitted": res.submitted,
        "decided": res.decided,
        "year": res.year,
        "outcome": res.outcome,
        "outcome_detail": res.outcome_detail,
        "referred_to": res.referred_to,
        "votes_yes": votes.get("yes"),
        "votes_no": votes.get("no"),
        "votes_abstain": votes.get("abstain"),
        "votes_invalid": votes.get("invalid"),
        "unanimous": res.unanimous,
        "validity": res.validity,
        "valid_until": res.valid_until,
        "source_system": res.source.get("system", ""),
        "source_url": res.source.get("url", ""),
        "source_id": res.source.get("id", ""),
        "blob": page_row.blob,
    }


def related_values(res: S.Resolution) -> tuple[set, list, list]:
    """(links, topics, initiators) of a resolution, comparable (topics and people in order)."""
    links = {(kind, dst) for kind, targets in res.links.items() for dst in targets}
    return links, list(res.topics), list(res.initiators)


def resolution_of(page) -> S.Resolution | None:
    """The normalised resolution of a parsed page, or None (other type, invalid)."""
    if page is None or page.type != S.TYPE or page.problems:
        return None
    return S.normalise(page.path, page.meta, page.body)


class ResolutionsPlugin:
    """The per-app part of the plugin."""

    def __init__(self, state):
        self.state = state

    # -- the page type ------------------------------------------------------------------------

    @hookimpl
    def wiki_page_types(self):
        return {S.TYPE: self.validate}

    def validate(self, new, old, ctx):
        """Valid fields; an id that is unique across the wiki and never changes."""
        if new is None or new.type != S.TYPE:
            return []  # a resolution may be deleted or turned into a plain page
        problems = S.check(new.meta, new.body)
        if problems:
            return problems
        rid = new.meta["id"]
        old_id = old.meta.get("id") if old is not None and old.type == S.TYPE else None
        if S.valid_id(old_id) and old_id != rid:
            return [
                f"Die Kennung eines Beschlusses kann nicht geändert werden (bisher „{old_id}“)."
            ]
        if self._id_taken(ctx, new.path, S.key_of(rid)):
            return [f"Die Kennung „{rid}“ ist nicht verfügbar."]
        return []

    def _id_taken(self, ctx, path: str, key: str) -> bool:
        """Whether another resolution has this id key at HEAD (the projection brought up to
        HEAD first). Pages this commit writes are judged by their new text, pages it removes
        or moves away do not count."""
        for filename, data in ctx.changes.items():
            other = P.path_of_file(filename)
            if data is None or other in (None, path):
                continue
            other_page = P.Page.parse(other, data)
            if other_page.type == S.TYPE and S.key_of(str(other_page.meta.get("id"))) == key:
                return True
        query = select(ResolutionRow.path).where(
            ResolutionRow.rid_key == key, ResolutionRow.path != path
        )
        if ctx.session.info.get(SYNC_SESSION_KEY):
            paths = ctx.session.scalars(query).all()  # the sync's own view
        else:
            # Another process may have committed a resolution and not yet synced it.
            self.state.syncer.ensure_current()
            with self.state.sessions() as session:
                paths = session.scalars(query).all()
        return any(P.page_file(other) not in ctx.changes for other in paths)

    # -- projection ---------------------------------------------------------------------------

    @hookimpl
    def wiki_page_changed(self, page, old_path, commit, session):
        if old_path:
            self._drop(session, old_path)
        self._drop(session, page.path)
        res = resolution_of(page)
        page_row = session.get(PageRow, page.path)  # projected (or re-scoped) just before
        if res is None or page_row is None:
            return
        session.add(ResolutionRow(**row_values(res, page_row)))
        for kind, targets in res.links.items():
            for dst in targets:
                session.add(
                    ResolutionLink(
                        path=res.path, src_key=res.key, kind=kind, dst=dst, dst_key=S.key_of(dst)
                    )
                )
        for position, topic in enumerate(res.topics):
            session.add(ResolutionTopic(path=res.path, topic=topic, position=position))
        for position, name in enumerate(res.initiators):
            session.add(ResolutionInitiator(path=res.path, name=name, position=position))

    @hookimpl
    def wiki_page_deleted(self, path, commit, session):
        self._drop(session, path)

    @hookimpl
    def wiki_reindex(self, session):
        for table in TABLES:
            session.execute(delete(table))

    @staticmethod
    def _drop(session, path: str) -> None:
        for table in TABLES:
            session.execute(delete(table).where(table.path == path))
        session.flush()

    @hookimpl
    def wiki_check(self, head, session):
        """Compare every projected resolution with the page it comes from."""
        problems = []
        content = self.state.content
        expected = {}
        for row in session.scalars(select(PageRow).where(PageRow.type == S.TYPE)):
            res = resolution_of(content.cached_page(row.path, row.blob))
            if res is not None:
                expected[row.path] = (row_values(res, row), related_values(res))
        actual = {r.path: r for r in session.scalars(select(ResolutionRow))}
        related = {path: (set(), [], []) for path in actual}
        for link in session.scalars(select(ResolutionLink)):
            related.setdefault(link.path, (set(), [], []))[0].add((link.kind, link.dst))
        order = (ResolutionTopic.path, ResolutionTopic.position)
        for topic in session.scalars(select(ResolutionTopic).order_by(*order)):
            related.setdefault(topic.path, (set(), [], []))[1].append(topic.topic)
        order = (ResolutionInitiator.path, ResolutionInitiator.position)
        for initiator in session.scalars(select(ResolutionInitiator).order_by(*order)):
            related.setdefault(initiator.path, (set(), [], []))[2].append(initiator.name)
        for path in sorted(set(expected) | set(actual) | set(related)):
            if path not in actual:
                if path in expected:
                    problems.append(f"resolution {path} is in git but not in the projection")
                else:
                    problems.append(f"resolution {path}: links/topics without a resolution row")
                continue
            if path not in expected:
                problems.append(f"resolution {path} is in the projection but not in git")
                continue
            values, extra = expected[path]
            row = actual[path]
            for name, value in values.items():
                if getattr(row, name) != value:
                    problems.append(f"resolution {path}: {name} differs from git")
            if related[path] != extra:
                problems.append(f"resolution {path}: links, topics or initiators differ")
        return problems

    # -- search -------------------------------------------------------------------------------

    @hookimpl
    def wiki_search_fields(self):
        from whoosh import analysis, fields

        return {
            "kennung": fields.ID(analyzer=analysis.IDAnalyzer(lowercase=True)),
            "gremium": fields.KEYWORD(lowercase=True, commas=True),
            "ergebnis": fields.ID(),
        }

    @hookimpl
    def wiki_search_document(self, page, session):
        res = resolution_of(page)
        if res is None:
            return None
        return {"kennung": res.rid.lower(), "gremium": res.body.lower(), "ergebnis": res.outcome}

    @hookimpl
    def wiki_search_text(self, page, session):
        res = resolution_of(page)
        if res is None:
            return None
        parts = [res.rid, res.number, res.body, res.event, res.agenda_item, res.referred_to,
                 res.outcome_detail, *res.initiators, *res.topics]  # fmt: skip
        return "\n".join(p for p in parts if p)

    # -- page view and forms ------------------------------------------------------------------

    @hookimpl
    def wiki_page_sections(self, page, principal):
        if page.type != S.TYPE:
            return None
        from plugins.resolutions.page import sections

        return sections(self, page, principal)

    @hookimpl
    def wiki_page_body(self, page, principal, args):
        if page.type != S.TYPE or not args.get("zeilen"):
            return None
        from plugins.resolutions.page import numbered_body

        return numbered_body(self, page)

    @hookimpl
    def wiki_edit_form(self, page):
        if page.type != S.TYPE or resolution_of(page) is None:
            return None  # a broken resolution is repaired in the text editor
        from flask import url_for

        return url_for("resolutions.edit", path=page.path)

    @hookimpl
    def wiki_nav_items(self, principal):
        from flask_babel import gettext as _

        from wiki.api import NavItem

        return [NavItem(_("Beschlüsse"), "/-/resolutions/")]

    @hookimpl
    def wiki_blueprints(self):
        from plugins.resolutions.api import make_api_blueprint
        from plugins.resolutions.views import make_blueprint

        return [make_blueprint(self), make_api_blueprint(self)]


def make_plugin(state) -> ResolutionsPlugin:
    """The plugin object of one app."""
    return ResolutionsPlugin(state)


@hookimpl
def wiki_template_folders():
    return [HERE / "templates"]


@hookimpl
def wiki_translation_dirs():
    return [HERE / "translations"]


@hookimpl
def wiki_migration_folders():
    return [HERE / "migrations" / "versions"]


@hookimpl
def wiki_cli(cli):
    from plugins.resolutions.cli import register

    register(cli)


@hookimpl(trylast=True)
def wiki_demo(state, say):
    from plugins.resolutions.demo import create

    create(state, say)

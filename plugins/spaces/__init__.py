"""Chapter spaces: nested spaces with member-only and board-only pages.

A space is a folder whose index page has ``type: space`` (``thueringen.md`` for ``thueringen/``).
Memberships live only in SQL. The plugin answers the permission hooks for pages inside spaces,
projects space definitions, and offers the member directory, announcements and invitations.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy import delete, select, update

from plugins.spaces import definitions, rules
from plugins.spaces.models import (
    Announcement,
    Invitation,
    JoinRequest,
    Membership,
    Space,
)
from wiki.api import REPROJECT_KEY, SYNC_SESSION_KEY, PageRow, hookimpl, utcnow

HERE = Path(__file__).resolve().parent


class SpacesPlugin:
    """The per-app part of the plugin (it needs the app's database and sync state)."""

    def __init__(self, state):
        self.state = state
        self._lock = threading.Lock()
        self._cache: tuple[str | None, dict[str, rules.SpaceInfo]] | None = None

    # -- the space map ------------------------------------------------------------------------

    def spaces(self, session=None) -> dict[str, rules.SpaceInfo]:
        """Every space by path: read through the sync's session, else cached per HEAD."""
        if session is not None and session.info.get(SYNC_SESSION_KEY):
            return self._load(session)
        key = self.state.syncer.synced_head
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        # One loader at a time: each waiting request holds a connection of its own already, so
        # loaders in parallel could take every connection of the pool and wait for each other.
        with self._lock:
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            with self.state.sessions() as own:
                spaces = self._load(own)
            self._cache = (key, spaces)
        return spaces

    @staticmethod
    def _load(session) -> dict[str, rules.SpaceInfo]:
        return {
            row.path: rules.SpaceInfo(
                row.path, row.edit, row.default_visibility, row.state == definitions.CLOSED
            )
            for row in session.scalars(select(Space))
        }

    def rows(self, session) -> dict[str, Space]:
        """Every space row by path (for listings)."""
        return {row.path: row for row in session.scalars(select(Space).order_by(Space.path))}

    # -- permission hooks ---------------------------------------------------------------------

    @hookimpl
    def wiki_permission(self, principal, action, page):
        return rules.can(principal, action, page, self.spaces())

    @hookimpl
    def wiki_read_filter(self, principal):
        closed = [path for path, info in self.spaces().items() if info.closed]
        return rules.read_filter(principal, closed)

    @hookimpl
    def wiki_memberships(self, user_id, session):
        rows = session.execute(
            select(Membership.space, Membership.role, Membership.term_ends).where(
                Membership.user_id == user_id
            )
        )
        return rules.effective_memberships(rows, utcnow())

    @hookimpl
    def wiki_page_space(self, path, session):
        spaces = self.spaces(session)
        space = rules.nearest_space(path, spaces)
        if space is None:
            return None
        return space, spaces[space].default_visibility

    @hookimpl
    def wiki_page_space_at(self, path, commit, store):
        from wiki.api import page_file

        return rules.scope_at(path, lambda candidate: store.read(page_file(candidate), commit))

    # -- the space page type ------------------------------------------------------------------

    @hookimpl
    def wiki_page_types(self):
        return {"space": self.validate_space}

    def validate_space(self, new, old, ctx):
        """A space definition: valid fields; created, changed, moved or dissolved only by the
        board of an enclosing space or an admin."""
        leaving = new is None or new.type != "space"
        if not leaving:
            problems = rules.check_definition(new.meta)
            if problems:
                return problems
        old_meta = old.meta if old is not None and old.type == "space" else None
        if leaving or rules.definition_changed(new.meta, old_meta):
            path = (new or old).path
            principal = ctx.principal
            outer = rules.enclosing_spaces(path, self.spaces(ctx.session))
            if not (principal.is_admin or any(rules.is_board(principal, s) for s in outer)):
                return [
                    "Gliederungen anlegen, ändern, verschieben oder auflösen darf nur der "
                    "Vorstand einer übergeordneten Gliederung oder ein*e Administrator*in."
                ]
        return []

    # -- projection ---------------------------------------------------------------------------

    # tryfirst: the pages' projection rows are final (fail closed) before other plugins and
    # the search index copy their visibility.
    @hookimpl(tryfirst=True)
    def wiki_page_changed(self, page, old_path, commit, session):
        self._project_definition(page, old_path, commit, session)
        self._fail_closed(session, page)

    def _project_definition(self, page, old_path, commit, session) -> None:
        existing = session.get(Space, page.path)
        if old_path:
            # Also for a plain page: the spaces below it move with it.
            self._move_space_data(session, old_path, page.path)
        if not rules.claims_space(page, known=existing is not None):
            if existing is not None:  # retyped on purpose: the space is dissolved
                session.delete(existing)
                session.flush()
                self._reproject(session, page.path)
                self._rescope_definition(session, page)
            return
        spaces = self._load(session)
        outer = rules.enclosing_spaces(page.path, spaces)
        parent = outer[0] if outer else None
        if rules.definition_problems(page):
            # Fail closed: the last valid definition, or admins only (plugins/spaces/definitions).
            state, values = definitions.failed_definition(
                self.state.store, page.path, commit, parent
            )
        else:
            state, values = definitions.OK, definitions.values_of(page.meta, parent)
        if existing is None:
            session.add(Space(path=page.path, state=state, **values))
            session.flush()
            self._reproject(session, page.path)
            self._rescope_definition(session, page)
            return
        reproject = (existing.default_visibility, existing.state) != (
            values["default_visibility"],
            state,
        )
        for key, value in values.items():
            setattr(existing, key, value)
        existing.state = state
        session.flush()
        if reproject:
            self._reproject(session, page.path)
            self._rescope_definition(session, page)

    def _fail_closed(self, session, page) -> None:
        """Pages of a closed space, and a definition page that does not validate, are
        projected as ``board`` whatever they declare (and their problems say why)."""
        row = session.get(PageRow, page.path)
        if row is None or row.space is None:
            return
        space = session.get(Space, row.space)
        if space is None or space.state == definitions.OK:
            return
        if space.state == definitions.CLOSED or row.path == space.path:
            row.effective_visibility = "board"
        if row.path == space.path and row.problems:
            problems = json.loads(row.problems)
            line = definitions.note(space.state)
            if line and line not in problems:
                row.problems = json.dumps([*problems, line], ensure_ascii=False)

    @hookimpl
    def wiki_page_deleted(self, path, commit, session):
        existing = session.get(Space, path)
        if existing is not None:
            session.delete(existing)
            session.flush()
            self._reproject(session, path)

    @hookimpl
    def wiki_reindex(self, session):
        session.execute(delete(Space))

    @hookimpl
    def wiki_check(self, head, session):
        """Space rows and the pages of failed definitions against the fail-closed rule."""
        problems = []
        want = definitions.expected(self.state.store, head)
        have = self.rows(session)
        for path in sorted(set(want) | set(have)):
            if path not in have:
                problems.append(f"space {path} is in git but not in the projection")
                continue
            if path not in want:
                problems.append(f"space {path} is in the projection but not in git")
                continue
            state, values = want[path]
            row = have[path]
            got = {key: getattr(row, key) for key in values}
            if row.state != state or got != values:
                problems.append(f"space {path}: projection ({row.state}) != git ({state})")
        closed = [p for p, (state, _values) in want.items() if state != definitions.OK]
        for path in closed:
            rows = session.scalars(
                select(PageRow).where(
                    (PageRow.path == path) | PageRow.path.like(f"{path}/%"),
                    PageRow.effective_visibility != "board",
                )
            )
            for row in rows:
                if row.path == path or (row.space == path and want[path][0] == definitions.CLOSED):
                    problems.append(f"page {row.path}: must count as board (space {path})")
        return problems

    @staticmethod
    def _reproject(session, path: str) -> None:
        session.info.setdefault(REPROJECT_KEY, set()).add(path)

    def _rescope_definition(self, session, page) -> None:
        """The definition page belongs to the space it defines. The sync projected it before
        this space row was added, changed or removed (and re-projects only the pages below),
        so set its own space and effective visibility here."""
        row = session.get(PageRow, page.path)
        if row is None:
            return
        space, default_visibility = self.state.syncer.page_scope(session, page.path)
        row.space = space
        row.effective_visibility = page.effective_visibility(default_visibility)

    @staticmethod
    def _move_space_data(session, old: str, new: str) -> None:
        """A renamed space keeps its members, invitations, requests and announcements."""
        for model in (Membership, Invitation, JoinRequest, Announcement):
            column = model.space
            for row in session.scalars(
                select(model).where((column == old) | column.like(f"{old}/%"))
            ):
                row.space = new + row.space[len(old) :]
        session.execute(update(Space).where(Space.parent == old).values(parent=new))

    # -- pages, menu, routes ------------------------------------------------------------------

    @hookimpl
    def wiki_page_sections(self, page, principal):
        if page.type != "space" or page.path not in self.spaces():
            return None
        from plugins.spaces.views import overview_section

        return overview_section(self, page, principal)

    @hookimpl
    def wiki_dashboard_sections(self, principal):
        from plugins.spaces.views import dashboard_section

        return dashboard_section(self, principal)

    @hookimpl
    def wiki_nav_items(self, principal):
        from flask_babel import gettext as _

        from wiki.api import NavItem

        return [NavItem(_("Gliederungen"), "/-/spaces/")]

    @hookimpl
    def wiki_blueprints(self):
        from plugins.spaces.invite import make_public_blueprint
        from plugins.spaces.views import make_blueprint

        return [make_blueprint(self), make_public_blueprint(self)]

    @hookimpl
    def wiki_user_data(self, user_id, session):
        from plugins.spaces.data import user_data

        return user_data(session, user_id)

    @hookimpl
    def wiki_user_deleted(self, user_id, session):
        from plugins.spaces.data import delete_user_data

        delete_user_data(session, user_id)


@hookimpl
def wiki_demo(state, say):
    from plugins.spaces.demo import create

    create(state, say)


def make_plugin(state) -> SpacesPlugin:
    """The plugin object of one app."""
    return SpacesPlugin(state)


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
    from plugins.spaces.cli import register

    register(cli)

"""Polls and forms: ``poll`` and ``form`` blocks in pages become votes and surveys.

Definitions live in the page (git); votes, tokens and submissions only in the ``polls_*`` tables.
The blocks are checked inside the commit lock (``wiki_validate_page``): every field, ids unique
across the wiki, and after the first vote the locked fields (``PollState.frozen``) unchanged.
``polls_polls`` is their projection, keyed by the block's ``id``, so renames and moves keep the
votes; a reindex rebuilds it and never touches member data.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from plugins.polls import models  # noqa: F401  (the tables join the metadata)
from plugins.polls.definitions import KINDS, Definition, frozen_problems, parse
from plugins.polls.models import PollDef, PollState, PollToken, Submission, Vote, Voter
from wiki.api import (
    N_,
    SYNC_SESSION_KEY,
    Page,
    PageRow,
    hookimpl,
    page_file,
    path_of_file,
    utcnow,
)

HERE = Path(__file__).resolve().parent


class PollsPlugin:
    """The per-app part of the plugin."""

    def __init__(self, state):
        self.state = state

    @property
    def timezone(self) -> str:
        return self.state.config.get("WIKI_TIMEZONE") or "Europe/Berlin"

    def blocks(self, page) -> list:
        """The poll and form widget blocks of a parsed page."""
        return [w for w in self.state.syncer.render(page).widgets if w.kind in KINDS]

    def definitions(self, page) -> list[Definition]:
        """The valid definitions of a page's blocks (invalid ones are left out)."""
        found = []
        for block in self.blocks(page):
            if block.error:
                continue
            definition, problems = parse(block.kind, block.data, self.timezone)
            if definition is not None:
                found.append(definition)
        return found

    # -- validation inside the commit lock ----------------------------------------------------

    @hookimpl
    def wiki_widget_kinds(self):
        return list(KINDS)

    @hookimpl
    def wiki_validate_page(self, new, old, ctx):
        if new is None:
            return None  # a deleted or moved-away page takes its blocks; votes stay by id
        blocks = self.blocks(new)
        if not blocks:
            return None
        problems: list[str] = []
        seen: set[str] = set()
        for block in blocks:
            if block.error:
                problems.append(block.error)
                continue
            definition, found = parse(block.kind, block.data, self.timezone)
            if definition is None:
                problems.extend(found)
                continue
            if definition.id in seen:
                problems.append(
                    N_("Die Kennung „%(id)s“ kommt auf der Seite doppelt vor.", id=definition.id)
                )
                continue
            seen.add(definition.id)
            problems.extend(self._checks(definition, new, ctx))
        return problems

    def _checks(self, definition: Definition, page, ctx) -> list[str]:
        """Against current state: a unique id, the locked fields, a space for ``wer``."""
        problems = []
        if definition.who in ("mitglieder", "vorstand"):
            scope = self.state.pm.hook.wiki_page_space(path=page.path, session=ctx.session)
            if not scope:
                problems.append(
                    N_(
                        "„wer: %(who)s“ braucht eine Seite in einer Gliederung.",
                        who=definition.who,
                    )
                )
        if self._id_taken(ctx, page.path, definition.id):
            problems.append(N_("Die Kennung „%(id)s“ ist nicht verfügbar.", id=definition.id))
        frozen = self._frozen(ctx, definition.id)
        if frozen:
            problems.extend(frozen_problems(definition, frozen))
        if self._ended_and_shown(ctx, definition):
            problems.append(
                N_(
                    "Die Abstimmung „%(id)s“ ist beendet und ihr Ergebnis wurde gezeigt; "
                    "„schluss“ kann nicht mehr verlängert werden.",
                    id=definition.id,
                )
            )
        return problems

    def _ended_and_shown(self, ctx, definition: Definition) -> bool:
        """Whether the block would reopen a poll that ended at its ``schluss`` and whose
        results were shown (reopening is only allowed before results were shown)."""
        query = (
            select(PollState.results_shown, PollState.closed_at, PollDef.closes_at)
            .join(PollDef, PollDef.id == PollState.poll_id)
            .where(PollState.poll_id == definition.id)
        )
        rows = self._current(ctx, query)
        if not rows:
            return False
        shown, closed_at, closes_at = rows[0]
        now = utcnow()
        if not shown or closed_at is not None or closes_at is None or closes_at > now:
            return False
        new = definition.closes_at_naive
        return new is None or new > now

    def _current(self, ctx, query):
        """Run ``query`` on projections at HEAD (synced first unless this is the sync)."""
        if ctx.session.info.get(SYNC_SESSION_KEY):
            return ctx.session.execute(query).all()
        self.state.syncer.ensure_current()  # another process may have committed
        with self.state.sessions() as session:
            return session.execute(query).all()

    def _frozen(self, ctx, poll_id: str) -> dict | None:
        import json

        rows = self._current(ctx, select(PollState.frozen).where(PollState.poll_id == poll_id))
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    def _id_taken(self, ctx, path: str, poll_id: str) -> bool:
        """Another page has the id at HEAD or in this commit (pages this commit removes or
        rewrites are judged by their new text: a move keeps its id)."""
        for filename, data in ctx.changes.items():
            other = path_of_file(filename)
            if data is None or other in (None, path):
                continue
            if any(d.id == poll_id for d in self.definitions(Page.parse(other, data))):
                return True
        rows = self._current(ctx, select(PollDef.path).where(PollDef.id == poll_id))
        return any(other != path and page_file(other) not in ctx.changes for (other,) in rows)

    # -- projection ---------------------------------------------------------------------------

    @hookimpl
    def wiki_page_changed(self, page, old_path, commit, session):
        for path in {page.path, old_path} - {None}:
            session.execute(delete(PollDef).where(PollDef.path == path))
        session.flush()
        page_row = session.get(PageRow, page.path)
        if page_row is None:
            return
        for definition in self.definitions(page):
            if session.get(PollDef, definition.id) is not None:
                continue  # a pushed duplicate id: the first page keeps it (its widget says so)
            session.add(PollDef(**row_values(definition, page_row, commit)))
            if session.get(PollState, definition.id) is None:
                session.add(PollState(poll_id=definition.id, version=0, results_shown=False))
            session.flush()

    @hookimpl
    def wiki_page_deleted(self, path, commit, session):
        session.execute(delete(PollDef).where(PollDef.path == path))

    @hookimpl
    def wiki_reindex(self, session):
        session.execute(delete(PollDef))  # member data (votes, tokens, state) stays

    @hookimpl
    def wiki_check(self, head, session):
        """Compare ``polls_polls`` with the blocks of every page at HEAD."""
        expected = {}
        content = self.state.content
        for row in session.scalars(select(PageRow).order_by(PageRow.path)):
            page = content.cached_page(row.path, row.blob)
            if "```" not in page.body:
                continue
            for definition in self.definitions(page):
                expected.setdefault(definition.id, row_values(definition, row, None))
        actual = {row.id: row for row in session.scalars(select(PollDef))}
        problems = []
        for poll_id in sorted(set(expected) | set(actual)):
            if poll_id not in actual:
                problems.append(f"poll {poll_id} is in git but not in the projection")
            elif poll_id not in expected:
                problems.append(f"poll {poll_id} is in the projection but not in git")
            else:
                for name, value in expected[poll_id].items():
                    if name != "commit" and getattr(actual[poll_id], name) != value:
                        problems.append(f"poll {poll_id}: {name} differs from git")
        return problems

    # -- the page view ------------------------------------------------------------------------

    @hookimpl
    def wiki_render_widget(self, kind, data, page, principal, session):
        if kind not in KINDS:
            return None
        from plugins.polls.views import render_widget

        return render_widget(self, kind, data, page, principal, session)

    @hookimpl
    def wiki_nav_items(self, principal):
        from flask_babel import gettext as _

        from wiki.api import NavItem

        return [NavItem(_("Umfragen"), "/-/polls/")]

    @hookimpl
    def wiki_dashboard_sections(self, principal):
        from plugins.polls.views import dashboard_section

        return dashboard_section(principal)

    # -- personal data ------------------------------------------------------------------------

    @hookimpl
    def wiki_user_data(self, user_id, session):
        """Own named votes, own submissions, the polls one voted in secretly (only that) and
        the tokens issued to one. Secret ballots themselves are linked to nobody."""
        votes = session.scalars(select(Vote).where(Vote.user_id == user_id).order_by(Vote.id))
        submissions = session.scalars(select(Submission).where(Submission.user_id == user_id))
        secret = session.scalars(select(Voter.poll_id).where(Voter.voter == f"u{user_id}"))
        tokens = session.scalars(select(PollToken).where(PollToken.user_id == user_id))
        return {
            "polls": {
                "votes": [
                    {
                        "poll": v.poll_id,
                        "answer": v.answer,
                        "created_at": v.created_at.isoformat(),
                        "updated_at": v.updated_at.isoformat(),
                    }
                    for v in votes
                ],
                "submissions": [{"form": s.poll_id, "answers": s.answers} for s in submissions],
                "voted_in": sorted(secret),
                "tokens": [{"poll": t.poll_id, "used": t.used} for t in tokens],
            }
        }

    @hookimpl
    def wiki_user_deleted(self, user_id, session):
        """Votes and submissions stay counted but no longer name the person (a closed poll's
        result must not change); the roll entries and member tokens lose the link too."""
        from sqlalchemy import update

        session.execute(update(Vote).where(Vote.user_id == user_id).values(user_id=None))
        session.execute(
            update(Submission)
            .where(Submission.user_id == user_id)
            .values(user_id=None, once_key=None)
        )
        session.execute(update(PollToken).where(PollToken.user_id == user_id).values(user_id=None))
        session.execute(delete(Voter).where(Voter.voter == f"u{user_id}"))


def row_values(definition: Definition, page_row: PageRow, commit: str | None) -> dict:
    """The ``polls_polls`` columns of a definition on a page (projection and check alike)."""
    return {
        "id": definition.id,
        "kind": definition.kind,
        "path": page_row.path,
        "title": definition.title[:300],
        "type": definition.type,
        "definition": definition.to_json(),
        "closes_at": definition.closes_at_naive,
        "space": page_row.space,
        "visibility": page_row.effective_visibility,
        "commit": commit or "",
    }


def make_plugin(state) -> PollsPlugin:
    """The plugin object of one app."""
    return PollsPlugin(state)


@hookimpl
def wiki_migration_folders():
    return [HERE / "migrations" / "versions"]


@hookimpl
def wiki_blueprints():
    from plugins.polls import api, exports, forms_views, print_views, views

    return [
        views.make_blueprint(),
        exports.make_blueprint(),
        forms_views.make_blueprint(),
        print_views.make_blueprint(),
        api.make_blueprint(),
    ]


@hookimpl
def wiki_template_folders():
    return [HERE / "templates"]


@hookimpl
def wiki_translation_dirs():
    return [HERE / "translations"]


@hookimpl(trylast=True)
def wiki_demo(state, say):
    """Demo polls, votes, slips and a form (``demo.py``)."""
    from plugins.polls import demo

    demo.add_demo(state, say)
